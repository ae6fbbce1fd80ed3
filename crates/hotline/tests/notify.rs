//! Hotline notifications (ticket events through the notify module) on SQLite and PostgreSQL: in-app inboxes per department and role, the
//! outbox written with the event (and rolled back with it), signed webhooks retried with
//! back-off on a manual clock, two workers sharing the outbox, SMTP mail to a tiny SMTP server,
//! template edits, and the HTTP API.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use hotline::domain::*;
use hotline::notices::{ACKNOWLEDGED, CALLBACK_DUE, CREATED, DISPATCHED, OVERDUE, REOPENED};
use kernel::{Actor, Db, Error, Role};
use notify::{InboxQuery, NotifyService, TemplateInput, WebhookInput};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

mod common;
use common::*;

testkit::on_both_backends!(migrations;
    events_reach_the_right_inboxes,
    a_rolled_back_change_notifies_nobody,
    webhooks_are_signed_retried_and_logged,
    two_workers_deliver_each_message_once,
    smtp_mail_follows_the_edited_templates,
    the_http_api_serves_inbox_webhooks_templates_and_settings,
);

struct W {
    notify: NotifyService,
    db: Db,
    admin: Actor,
    /// A second handler of 住建局.
    hx2: Actor,
    centre: Centre,
}
deref_to_centre!(W);

async fn world(db: Db) -> W {
    let city = testkit::city::hotline_centre()
        .user("admin_user", "数据局", Role::SysAdmin)
        .user("hx_other", "住建局", Role::Handler);
    let (db, city) = built_at(db, monday(), city).await;
    W {
        notify: NotifyService::new(db.clone()),
        admin: city.actor("admin_user").clone(),
        hx2: city.actor("hx_other").clone(),
        centre: Centre::of(&city),
        db,
    }
}

impl W {
    /// The admin adds the webhook `input`.
    async fn add_webhook(&self, input: WebhookInput) -> notify::Webhook {
        self.notify
            .create_webhook(&self.admin, input)
            .await
            .unwrap()
    }

    /// A local receiver, and the admin's webhook `name` to it for `events`; what it received.
    async fn receiving(&self, name: &str, events: Vec<&str>) -> Inbox {
        let (url, seen) = receiver().await;
        self.add_webhook(hook(name, &format!("{url}/ok"), events))
            .await;
        seen
    }

    /// The newest notification in `who`'s inbox.
    async fn newest_notification(&self, who: &Actor) -> notify::Notification {
        let q = InboxQuery::default();
        let inbox = self.notify.inbox(who, &q, &first_page()).await.unwrap();
        inbox.items.into_iter().next().unwrap()
    }
}

/// A call without a phone number: no SMS, so only webhooks and e-mail are in the outbox.
fn quiet(title: &str) -> NewTicket {
    NewTicket {
        caller_phone: None,
        wants_reply: false,
        ..call(title)
    }
}

/// The events in an actor's inbox, newest first, and the unread count.
async fn inbox(w: &W, a: &Actor) -> (Vec<String>, i64) {
    let i = w
        .notify
        .inbox(a, &InboxQuery::default(), &first_page())
        .await
        .unwrap();
    (i.items.into_iter().map(|n| n.event).collect(), i.unread)
}

async fn count(db: &Db, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(db.pool()).await.unwrap()
}

async fn events_reach_the_right_inboxes(db: Db) {
    let w = world(db).await;
    let seen = w.receiving("督办系统", vec!["ticket.overdue"]).await;
    // A ticket from the website waits for acceptance: operators hear of it.
    let web = NewTicket {
        channel: Channel::Web,
        accept: false,
        ..call("路灯不亮")
    };
    let t0 = w.create(web).await;
    assert_eq!(inbox(&w, &w.operator).await, (vec![CREATED.into()], 1));
    // A call the operator accepted at once needs nobody's attention; the dispatch goes to the
    // main and the co-handling department, not to others.
    let id = w.dispatched(call("夜间施工噪音"), w.x, vec![w.y]).await;
    assert_eq!(inbox(&w, &w.operator).await.0, vec![CREATED]);
    assert_eq!(inbox(&w, &w.hx).await, (vec![DISPATCHED.into()], 1));
    assert_eq!(inbox(&w, &w.hy).await, (vec![DISPATCHED.into()], 1));
    assert_eq!(inbox(&w, &w.hz).await, (vec![], 0));
    assert_eq!(inbox(&w, &w.dispatcher).await, (vec![], 0));
    let n = w.newest_notification(&w.hx).await;
    assert_eq!(n.title, "新派工单：A市12345-20260316-000002");
    assert!(
        n.body.contains("“夜间施工噪音”") && n.body.contains("已派至住建局"),
        "{}",
        n.body
    );
    assert_eq!((n.subject_id, n.read), (Some(id), false));

    // Past the acknowledge deadline the sweep turns the card red: the main department and the
    // supervisors hear of it, the co-handling department does not.
    w.db.clock.advance(5 * 3_600_000);
    assert_eq!(w.svc.sweep_cards().await.unwrap(), vec![(id, Card::Red)]);
    assert_eq!(inbox(&w, &w.hx).await.0, vec![OVERDUE, DISPATCHED]);
    assert_eq!(inbox(&w, &w.hy).await.0, vec![DISPATCHED]);
    assert_eq!(inbox(&w, &w.supervisor).await.0, vec![OVERDUE]);
    assert_eq!(notify::deliver_due(&w.db, w.db.now()).await.unwrap(), 3);
    let overdue: serde_json::Value =
        serde_json::from_str(&seen.lock().unwrap().last().unwrap().body).unwrap();
    assert_eq!(
        (&overdue["event"], &overdue["ticket"]["card"]),
        (
            &serde_json::json!("ticket.overdue"),
            &serde_json::json!("red")
        )
    );

    w.act(&w.hx, id, Action::Acknowledge).await;
    assert_eq!(inbox(&w, &w.dispatcher).await.0, vec![ACKNOWLEDGED]);
    w.act(&w.hx, id, reply("已责令施工单位22点后停工。")).await;
    assert_eq!(inbox(&w, &w.operator).await.0, vec![CALLBACK_DUE, CREATED]);
    w.call_back(id, CallbackResult::Unsatisfied, "仍有噪音", true)
        .await;
    assert_eq!(
        inbox(&w, &w.hx).await,
        (vec![REOPENED.into(), OVERDUE.into(), DISPATCHED.into()], 3)
    );

    // Read receipts are per user: a colleague in the same inbox keeps their unread count.
    let newest = w
        .notify
        .inbox(&w.hx, &InboxQuery::default(), &first_page())
        .await
        .unwrap()
        .items[0]
        .id;
    w.notify.mark_read(&w.hx, newest).await.unwrap();
    w.notify.mark_read(&w.hx, newest).await.unwrap();
    assert_eq!(inbox(&w, &w.hx).await.1, 2);
    assert_eq!(inbox(&w, &w.hx2).await.1, 3);
    let unread = w
        .notify
        .inbox(
            &w.hx,
            &InboxQuery {
                unread: true,
                event: None,
            },
            &first_page(),
        )
        .await
        .unwrap();
    assert_eq!((unread.total, unread.unread), (2, 2));
    assert!(unread.items.iter().all(|n| !n.read && n.id != newest));
    assert!(matches!(
        w.notify.mark_read(&w.hz, newest).await,
        Err(Error::NotFound { .. })
    ));
    assert_eq!(w.notify.mark_all_read(&w.hx).await.unwrap(), 2);
    assert_eq!(inbox(&w, &w.hx).await.1, 0);
    assert_eq!(inbox(&w, &w.hx2).await.1, 3);

    // SMS to the caller: the number on intake (both tickets) and the reply. The logging sender
    // records them for staff to see.
    let sql = "SELECT COUNT(*) FROM notify_deliveries WHERE channel = 'sms' AND recipient = '13912345678'";
    assert_eq!(count(&w.db, sql).await, 3);
    notify::deliver_due(&w.db, w.db.now()).await.unwrap();
    let sent = w
        .notify
        .outbound_messages(&w.operator, &first_page())
        .await
        .unwrap();
    assert_eq!(sent.total, 3);
    assert!(sent
        .items
        .iter()
        .any(|m| m.body.contains(&t0.number) && m.body.contains("已登记")));
    assert!(
        sent.items
            .iter()
            .any(|m| m.body.contains("已由住建局答复")
                && m.event.as_deref() == Some("ticket.replied"))
    );
    assert!(w
        .notify
        .outbound_messages(&w.hx, &first_page())
        .await
        .is_err());
    let sql = "SELECT COUNT(*) FROM notify_deliveries WHERE status <> 'delivered'";
    assert_eq!(count(&w.db, sql).await, 0);
}

async fn a_rolled_back_change_notifies_nobody(db: Db) {
    let w = world(db).await;
    let _rx = w.receiving("全部事件", vec![]).await;
    let id = w.dispatched(call("井盖缺失"), w.x, vec![]).await;
    let counts = |db: Db| async move {
        (
            count(&db, "SELECT COUNT(*) FROM notify_notifications").await,
            count(&db, "SELECT COUNT(*) FROM notify_deliveries").await,
        )
    };
    let before = counts(w.db.clone()).await;
    assert!(before.0 > 0 && before.1 > 0);
    // Refused actions write nothing.
    assert!(w.svc.act(&w.hy, id, Action::Acknowledge).await.is_err());
    assert!(w
        .svc
        .act(&w.supervisor, id, Action::Close { note: "".into() })
        .await
        .is_err());
    assert_eq!(counts(w.db.clone()).await, before);
    // The outbox rows are part of the event's transaction: visible inside it, gone with it.
    let t = w.ticket(&w.dispatcher, id).await;
    let e = Event {
        action: "acknowledge",
        from: Status::Dispatched,
        to: Status::Acknowledged,
        note: None,
        dept_id: Some(w.x),
        data: serde_json::Value::Null,
    };
    let mut tx = w.db.begin().await.unwrap();
    hotline::notices::enqueue(&notify::Outbox::of(&w.db), &mut tx, &t, &e, w.db.now())
        .await
        .unwrap();
    let inside: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM notify_deliveries")
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    assert_eq!(inside, before.1 + 1);
    tx.rollback().await.unwrap();
    assert_eq!(counts(w.db.clone()).await, before);
    assert_eq!(inbox(&w, &w.dispatcher).await, (vec![], 0));
}

// ---- a webhook receiver ----

#[derive(Clone, Debug)]
struct Received {
    path: String,
    headers: HeaderMap,
    body: String,
}

type Inbox = Arc<Mutex<Vec<Received>>>;

/// An HTTP server on 127.0.0.1:0: `/ok` answers 200, `/down` always 500, `/flaky` 500 to its
/// first two requests and 200 after. Every request is recorded.
async fn receiver() -> (String, Inbox) {
    async fn take(
        State(seen): State<Inbox>,
        uri: axum::http::Uri,
        headers: HeaderMap,
        body: String,
    ) -> (StatusCode, &'static str) {
        let path = uri.path().to_owned();
        let answer = {
            let mut seen = seen.lock().unwrap();
            seen.push(Received {
                path: path.clone(),
                headers,
                body,
            });
            let earlier = seen.iter().filter(|r| r.path == path).count();
            match path.as_str() {
                "/ok" => (StatusCode::OK, "ok"),
                "/flaky" if earlier > 2 => (StatusCode::OK, "ok"),
                _ => (StatusCode::INTERNAL_SERVER_ERROR, "暂时不可用"),
            }
        };
        // A little latency, as a real receiver has, so concurrent workers overlap.
        tokio::time::sleep(std::time::Duration::from_millis(3)).await;
        answer
    }
    let seen: Inbox = Arc::default();
    let app = axum::Router::new()
        .fallback(axum::routing::post(take))
        .with_state(seen.clone());
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    (format!("http://{addr}"), seen)
}

const SECRET: &str = "s3cr3t-0123456789abcdef";

fn hook(name: &str, url: &str, events: Vec<&str>) -> WebhookInput {
    WebhookInput {
        name: name.into(),
        url: url.into(),
        secret: Some(SECRET.into()),
        events: events.into_iter().map(str::to_owned).collect(),
        active: true,
        max_attempts: None,
    }
}

fn header<'a>(r: &'a Received, name: &str) -> &'a str {
    r.headers.get(name).unwrap().to_str().unwrap()
}

/// Checks both signatures the way a receiver would, with its own HMAC.
fn verify(r: &Received) {
    type Sha256 = hmac::Hmac<sha2::Sha256>;
    type Sm3 = hmac::Hmac<sm3::Sm3>;
    let sha = header(r, "x-yiwang-signature").strip_prefix("sha256=");
    let sha = sha.unwrap();
    let sm3 = header(r, "x-yiwang-signature-sm3").strip_prefix("sm3=");
    let secret = SECRET.as_bytes();
    assert!(
        signed_with::<Sha256>(secret, &r.body, sha),
        "HMAC-SHA256 verifies"
    );
    assert!(
        signed_with::<Sm3>(secret, &r.body, sm3.unwrap()),
        "HMAC-SM3 verifies"
    );
    assert!(!signed_with::<Sha256>(b"another secret", &r.body, sha));
}

/// Whether `signature` (hex) is the MAC `M` of `body` under `key`.
fn signed_with<M: hmac::Mac + hmac::digest::KeyInit>(
    key: &[u8],
    body: &str,
    signature: &str,
) -> bool {
    let mut m = <M as hmac::Mac>::new_from_slice(key).unwrap();
    m.update(body.as_bytes());
    m.verify_slice(&hex::decode(signature).unwrap()).is_ok()
}

async fn webhooks_are_signed_retried_and_logged(db: Db) {
    let w = world(db).await;
    let (url, seen) = receiver().await;
    assert!(matches!(
        w.notify
            .create_webhook(&w.operator, hook("x", &format!("{url}/ok"), vec![]))
            .await,
        Err(Error::Forbidden(_))
    ));
    let flaky = w
        .add_webhook(hook(
            "区网格中心",
            &format!("{url}/flaky"),
            vec!["ticket.dispatched"],
        ))
        .await;
    let down = w
        .add_webhook(WebhookInput {
            max_attempts: Some(2),
            ..hook("已下线的系统", &format!("{url}/down"), vec![])
        })
        .await;
    let id = w.dispatched(quiet("夜间施工噪音"), w.x, vec![]).await;
    let t0 = w.db.now();
    let flaky_calls = || {
        seen.lock()
            .unwrap()
            .iter()
            .filter(|r| r.path == "/flaky")
            .cloned()
            .collect::<Vec<_>>()
    };
    let run = || notify::deliver_due(&w.db, w.db.now());

    run().await.unwrap();
    assert_eq!(flaky_calls().len(), 1, "first attempt, answered 500");
    run().await.unwrap();
    w.db.clock.advance(59_000);
    run().await.unwrap();
    assert_eq!(flaky_calls().len(), 1, "not before the one-minute back-off");
    w.db.clock.advance(1_000);
    run().await.unwrap();
    assert_eq!(
        flaky_calls().len(),
        2,
        "second attempt after 1 min, answered 500"
    );
    w.db.clock.advance(119_000);
    run().await.unwrap();
    assert_eq!(flaky_calls().len(), 2, "not before the two-minute back-off");
    w.db.clock.advance(1_000);
    assert_eq!(run().await.unwrap(), 1);
    assert_eq!(
        flaky_calls().len(),
        3,
        "third attempt after 2 more min, answered 200"
    );
    w.db.clock.advance(3_600_000);
    assert_eq!(run().await.unwrap(), 0);
    assert_eq!(flaky_calls().len(), 3, "delivered once, never again");

    let calls = flaky_calls();
    let uuid = header(&calls[0], "x-yiwang-delivery").to_owned();
    for r in &calls {
        verify(r);
        assert_eq!(header(r, "x-yiwang-event"), "ticket.dispatched");
        assert_eq!(
            header(r, "x-yiwang-delivery"),
            uuid,
            "retries keep the delivery id"
        );
        assert_eq!(r.body, calls[0].body, "retries send the same body");
    }
    let body: serde_json::Value = serde_json::from_str(&calls[0].body).unwrap();
    assert_eq!(body["id"], uuid.as_str());
    assert_eq!(body["event"], "ticket.dispatched");
    assert_eq!(body["ticket"]["id"], id);
    assert_eq!(body["ticket"]["number"], "A市12345-20260316-000001");
    assert_eq!(body["ticket"]["main_dept_name"], "住建局");
    assert!(!calls[0].body.contains("李四"), "no personal data");

    let log = w
        .notify
        .deliveries(&w.admin, flaky.id, &first_page())
        .await
        .unwrap();
    assert_eq!(log.total, 1, "the filter left out the other events");
    let d = &log.items[0];
    assert_eq!(
        (d.uuid.as_str(), d.status.as_str(), d.attempts),
        (uuid.as_str(), "delivered", 3)
    );
    assert_eq!(d.delivered_at, Some(t0 + 180_000));
    let codes: Vec<_> = d.attempt_log.iter().map(|a| a.status_code).collect();
    assert_eq!(codes, vec![Some(500), Some(500), Some(200)]);
    let ats: Vec<_> = d.attempt_log.iter().map(|a| a.at - t0).collect();
    assert_eq!(ats, vec![0, 60_000, 180_000]);
    let oks: Vec<_> = d.attempt_log.iter().map(|a| a.ok).collect();
    assert_eq!(oks, vec![false, false, true]);
    assert!(d.attempt_log[0]
        .error
        .as_deref()
        .unwrap()
        .contains("HTTP 500"));
    assert!(d.attempt_log.iter().all(|a| a.duration_ms >= 0));
    assert!(w
        .notify
        .deliveries(&w.hx, flaky.id, &first_page())
        .await
        .is_err());

    // A receiver that never answers well: given up after its two attempts, every event.
    let log = w
        .notify
        .deliveries(&w.admin, down.id, &first_page())
        .await
        .unwrap();
    let mut events: Vec<_> = log.items.iter().map(|d| d.event.as_str()).collect();
    events.sort();
    assert_eq!(events, vec!["ticket.created", "ticket.dispatched"]);
    for d in &log.items {
        assert_eq!((d.status.as_str(), d.attempts), ("failed", 2));
        assert_eq!(d.attempt_log.len(), 2);
    }

    // A deleted webhook gets nothing more; its log stays readable.
    w.notify.delete_webhook(&w.admin, flaky.id).await.unwrap();
    w.dispatched(quiet("井盖缺失"), w.x, vec![]).await;
    run().await.unwrap();
    assert_eq!(flaky_calls().len(), 3);
    assert_eq!(
        w.notify
            .deliveries(&w.admin, flaky.id, &first_page())
            .await
            .unwrap()
            .total,
        1
    );
}

async fn two_workers_deliver_each_message_once(db: Db) {
    let w = world(db).await;
    let seen = w.receiving("数据中台", vec!["ticket.created"]).await;
    const N: usize = 30;
    for i in 0..N {
        w.svc
            .create(&w.operator, quiet(&format!("来电 {i}")))
            .await
            .unwrap();
    }
    // A second instance with its own connections on the same database.
    let other = Db::connect_with(w.db.url(), w.db.clock.clone())
        .await
        .unwrap()
        .with_sealer(w.db.sealer().clone());
    let now = w.db.now();
    let (a, b) = tokio::join!(
        notify::deliver_due(&w.db, now),
        notify::deliver_due(&other, now)
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    eprintln!("worker a delivered {a}, worker b {b}");
    assert_eq!(a + b, N, "worker a delivered {a}, worker b {b}");
    let seen = seen.lock().unwrap().clone();
    let mut ids: Vec<&str> = seen
        .iter()
        .map(|r| header(r, "x-yiwang-delivery"))
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!((seen.len(), ids.len()), (N, N), "each message exactly once");
    assert_eq!(
        count(
            &w.db,
            "SELECT COUNT(*) FROM notify_deliveries WHERE status = 'delivered' AND attempts = 1 AND claimed_by IS NULL"
        )
        .await,
        N as i64
    );
    assert_eq!(
        count(&w.db, "SELECT COUNT(*) FROM notify_delivery_attempts").await,
        N as i64
    );
    other.close().await;
}

// ---- a tiny SMTP server ----

#[derive(Clone, Debug, Default)]
struct Mail {
    from: String,
    rcpt: Vec<String>,
    data: String,
}

/// Speaks just enough SMTP (EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT) and records each
/// message.
async fn smtp_server() -> (u16, Arc<Mutex<Vec<Mail>>>) {
    let mails: Arc<Mutex<Vec<Mail>>> = Arc::default();
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    let store = mails.clone();
    tokio::spawn(async move {
        loop {
            let Ok((sock, _)) = l.accept().await else {
                return;
            };
            let store = store.clone();
            tokio::spawn(async move {
                let (r, mut w) = sock.into_split();
                let mut r = BufReader::new(r);
                let mut mail = Mail::default();
                let _ = w.write_all(b"220 smtp.test ESMTP\r\n").await;
                let mut line = String::new();
                loop {
                    line.clear();
                    if r.read_line(&mut line).await.unwrap_or(0) == 0 {
                        return;
                    }
                    let cmd = line.trim_end().to_owned();
                    let upper = cmd.to_ascii_uppercase();
                    let reply: &[u8] = if upper.starts_with("EHLO") {
                        b"250-smtp.test\r\n250 8BITMIME\r\n"
                    } else if upper.starts_with("HELO") || upper.starts_with("NOOP") {
                        b"250 smtp.test\r\n"
                    } else if upper.starts_with("MAIL FROM:") {
                        mail = Mail {
                            from: cmd[10..].trim().to_owned(),
                            ..Default::default()
                        };
                        b"250 OK\r\n"
                    } else if upper.starts_with("RCPT TO:") {
                        mail.rcpt.push(cmd[8..].trim().to_owned());
                        b"250 OK\r\n"
                    } else if upper == "DATA" {
                        let _ = w
                            .write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                            .await;
                        let mut data = String::new();
                        loop {
                            line.clear();
                            if r.read_line(&mut line).await.unwrap_or(0) == 0 {
                                return;
                            }
                            if line == ".\r\n" {
                                break;
                            }
                            data.push_str(&line);
                        }
                        mail.data = data;
                        store.lock().unwrap().push(std::mem::take(&mut mail));
                        b"250 OK queued\r\n"
                    } else if upper == "RSET" {
                        b"250 OK\r\n"
                    } else if upper == "QUIT" {
                        let _ = w.write_all(b"221 Bye\r\n").await;
                        return;
                    } else {
                        b"502 Command not implemented\r\n"
                    };
                    if w.write_all(reply).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (port, mails)
}

/// Decodes RFC 2047 `=?utf-8?b?…?=` words (lettre's encoding of a Chinese subject).
fn decode_words(v: &str) -> String {
    use base64::Engine;
    let mut out = String::new();
    let mut bytes = Vec::new();
    for word in v.split_whitespace() {
        let lower = word.to_ascii_lowercase();
        if lower.starts_with("=?utf-8?b?") && word.ends_with("?=") {
            bytes.extend(
                base64::engine::general_purpose::STANDARD
                    .decode(&word[10..word.len() - 2])
                    .unwrap(),
            );
        } else {
            out.push_str(&String::from_utf8(std::mem::take(&mut bytes)).unwrap());
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(word);
        }
    }
    out.push_str(&String::from_utf8(bytes).unwrap());
    out
}

/// Subject and body of a recorded message (body in base64, as `SmtpSender` writes it).
fn subject_and_body(m: &Mail) -> (String, String) {
    use base64::Engine;
    let (head, body) = m.data.split_once("\r\n\r\n").unwrap();
    let unfolded = head.replace("\r\n ", " ").replace("\r\n\t", " ");
    let subject = unfolded
        .lines()
        .find_map(|l| l.strip_prefix("Subject: "))
        .unwrap();
    assert!(unfolded
        .to_ascii_lowercase()
        .contains("content-transfer-encoding: base64"));
    let b64: String = body.lines().map(str::trim).collect();
    let body = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .unwrap();
    (
        decode_words(subject),
        String::from_utf8(body).unwrap().replace("\r\n", "\n"),
    )
}

async fn smtp_mail_follows_the_edited_templates(db: Db) {
    let w = world(db).await;
    let (port, mails) = smtp_server().await;
    let settings: BTreeMap<String, String> = [
        ("email.sender", "smtp".to_owned()),
        ("smtp.host", "127.0.0.1".to_owned()),
        ("smtp.port", port.to_string()),
        ("smtp.tls", "none".to_owned()),
        ("smtp.from", "12345热线 <hotline@yiwang.test>".to_owned()),
        (
            &format!("dept_email.{}", w.x),
            "zhujian@yiwang.test".to_owned(),
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    assert!(w
        .notify
        .update_settings(&w.hx, settings.clone())
        .await
        .is_err());
    let bad: BTreeMap<String, String> = [("smtp.tls".to_owned(), "ssl".to_owned())].into();
    assert!(matches!(
        w.notify.update_settings(&w.admin, bad).await,
        Err(Error::Validation(_))
    ));
    w.notify.update_settings(&w.admin, settings).await.unwrap();

    let id = w.dispatched(quiet("夜间施工噪音"), w.x, vec![w.y]).await;
    let t = w.ticket(&w.dispatcher, id).await;
    notify::deliver_due(&w.db, w.db.now()).await.unwrap();
    let first = mails.lock().unwrap().clone();
    assert_eq!(first.len(), 1, "城管局 has no address: one mail");
    assert_eq!(first[0].rcpt, vec!["<zhujian@yiwang.test>"]);
    assert!(first[0].from.contains("hotline@yiwang.test"));
    let (subject, body) = subject_and_body(&first[0]);
    assert_eq!(
        subject,
        "【12345 派单】A市12345-20260316-000001 夜间施工噪音"
    );
    assert!(body.starts_with("住建局：\n"), "{body}");
    assert!(body.contains(&format!(
        "签收时限：{}",
        kernel::clock::format_minute(t.ack_due.unwrap())
    )));
    assert!(body.contains(&format!(
        "答复时限：{}",
        kernel::clock::format_minute(t.reply_due.unwrap())
    )));

    // Edits are checked, and take effect with the next event.
    let edit = |subject: &str, body: &str| TemplateInput {
        enabled: true,
        subject: subject.into(),
        body: body.into(),
    };
    assert!(matches!(
        w.notify
            .update_template(&w.admin, DISPATCHED, "email", edit("{工单号}", "x"))
            .await,
        Err(Error::Validation(_))
    ));
    assert!(matches!(
        w.notify
            .update_template(&w.admin, CREATED, "email", edit("a", "b"))
            .await,
        Err(Error::NotFound { .. })
    ));
    assert!(w
        .notify
        .update_template(&w.hx, DISPATCHED, "email", edit("a", "b"))
        .await
        .is_err());
    let saved = w
        .notify
        .update_template(
            &w.admin,
            DISPATCHED,
            "email",
            edit("派单通知 {编号}", "请{单位}在 {时限} 前答复：{标题}"),
        )
        .await
        .unwrap();
    assert_eq!(
        saved.updated_by,
        format!("user:{}", w.admin.user_id.unwrap())
    );
    w.notify
        .update_template(
            &w.admin,
            DISPATCHED,
            "inapp",
            edit("派单 {编号}", "{标题} 已派至 {单位}"),
        )
        .await
        .unwrap();
    let id2 = w.dispatched(quiet("井盖缺失"), w.x, vec![]).await;
    let t2 = w.ticket(&w.dispatcher, id2).await;
    notify::deliver_due(&w.db, w.db.now()).await.unwrap();
    let all = mails.lock().unwrap().clone();
    assert_eq!(all.len(), 2);
    let (subject, body) = subject_and_body(&all[1]);
    assert_eq!(subject, "派单通知 A市12345-20260316-000002");
    assert_eq!(
        body,
        format!(
            "请住建局在 {} 前答复：井盖缺失",
            kernel::clock::format_minute(t2.reply_due.unwrap())
        )
    );
    let newest = w.newest_notification(&w.hx).await;
    assert_eq!(
        (newest.title.as_str(), newest.body.as_str()),
        ("派单 A市12345-20260316-000002", "井盖缺失 已派至 住建局")
    );
    let listed = w.notify.templates(&w.admin).await.unwrap();
    assert_eq!(listed.len(), 11);
    assert_eq!(listed[0].event, CREATED);

    // A disabled template sends nothing.
    w.notify
        .update_template(
            &w.admin,
            DISPATCHED,
            "email",
            TemplateInput {
                enabled: false,
                ..edit("停用", "停用")
            },
        )
        .await
        .unwrap();
    w.dispatched(quiet("占道经营"), w.x, vec![]).await;
    notify::deliver_due(&w.db, w.db.now()).await.unwrap();
    assert_eq!(mails.lock().unwrap().len(), 2);
    let sql =
        "SELECT COUNT(*) FROM notify_deliveries WHERE channel = 'email' AND status = 'delivered'";
    assert_eq!(count(&w.db, sql).await, 2);
}

// ---- the HTTP API ----

async fn the_http_api_serves_inbox_webhooks_templates_and_settings(db: Db) {
    let w = world(db).await;
    w.dispatched(call("夜间施工噪音"), w.x, vec![]).await;
    let base = serve_as_test_users(
        &w.db,
        &[("hx", &w.hx), ("admin", &w.admin), ("hz", &w.hz)],
        notify::routes(),
    )
    .await;
    let http = reqwest::Client::new();
    let req = |m: reqwest::Method, path: &str, user: &str| {
        http.request(m, format!("{base}{path}"))
            .header("x-test-user", user)
    };
    use reqwest::Method as M;
    // Sends a request as `user`, with an optional JSON body: the status and the JSON answer.
    let api = |m: reqwest::Method, path: &str, user: &str, json: Option<serde_json::Value>| {
        let r = req(m, path, user);
        let r = match json {
            Some(j) => r.json(&j),
            None => r,
        };
        async move {
            let r = r.send().await.unwrap();
            let s = r.status().as_u16();
            (s, r.json::<serde_json::Value>().await.unwrap_or_default())
        }
    };

    let (s, inbox) = api(M::GET, "/notifications", "hx", None).await;
    assert_eq!((s, inbox["unread"].as_i64()), (200, Some(1)));
    let nid = inbox["items"][0]["id"].as_i64().unwrap();
    assert_eq!(inbox["items"][0]["event_label"], "派单");
    let s = api(M::POST, &format!("/notifications/{nid}/read"), "hz", None)
        .await
        .0;
    assert_eq!(s, 404, "not in that department's inbox");
    let s = api(M::POST, &format!("/notifications/{nid}/read"), "hx", None)
        .await
        .0;
    assert_eq!(s, 204);
    let (_, inbox) = api(M::GET, "/notifications?unread=true", "hx", None).await;
    assert_eq!(
        (inbox["total"].as_i64(), inbox["unread"].as_i64()),
        (Some(0), Some(0))
    );
    let (s, r) = api(M::POST, "/notifications/read-all", "hx", None).await;
    assert_eq!((s, r["marked"].as_i64()), (200, Some(0)));
    let s = api(M::GET, "/notifications", "nobody", None).await.0;
    assert_eq!(s, 401);

    let body = serde_json::json!({"name": "区网格中心", "url": "http://127.0.0.1:9/hook", "secret": SECRET,
                                  "events": ["ticket.dispatched"]});
    let s = api(M::POST, "/webhooks", "hx", Some(body.clone())).await.0;
    assert_eq!(s, 403);
    let (s, created) = api(M::POST, "/webhooks", "admin", Some(body)).await;
    assert_eq!(s, 201);
    assert!(
        created.get("secret").is_none(),
        "secrets are never returned"
    );
    assert_eq!(created["max_attempts"], 8);
    let hid = created["id"].as_i64().unwrap();
    let (s, problem) = api(M::POST, "/webhooks", "admin", Some(serde_json::json!({"name": "x", "url": "ftp://a", "secret": "short", "events": ["ticket.nope"]}))).await;
    assert_eq!(s, 422);
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, vec!["url", "secret", "events"]);
    let (s, updated) = api(M::PUT, &format!("/webhooks/{hid}"), "admin", Some(serde_json::json!({"name": "区网格中心（新）", "url": "http://127.0.0.1:9/v2", "events": [],
                                      "active": false, "max_attempts": 3}))).await;
    assert_eq!(s, 200);
    assert_eq!(
        (
            &updated["name"],
            &updated["active"],
            &updated["max_attempts"]
        ),
        (
            &serde_json::json!("区网格中心（新）"),
            &serde_json::json!(false),
            &serde_json::json!(3)
        )
    );
    let (s, list) = api(M::GET, "/webhooks", "admin", None).await;
    assert_eq!((s, list.as_array().unwrap().len()), (200, 1));
    let (s, log) = api(
        M::GET,
        &format!("/webhooks/{hid}/deliveries"),
        "admin",
        None,
    )
    .await;
    assert_eq!((s, log["total"].as_i64()), (200, Some(0)));
    let s = api(M::DELETE, &format!("/webhooks/{hid}"), "admin", None)
        .await
        .0;
    assert_eq!(s, 204);
    let s = api(M::GET, &format!("/webhooks/{hid}"), "admin", None)
        .await
        .0;
    assert_eq!(s, 404);

    let (s, tpls) = api(M::GET, "/notification-templates", "admin", None).await;
    assert_eq!((s, tpls.as_array().unwrap().len()), (200, 11));
    let (s, t) = api(
        M::PUT,
        "/notification-templates/ticket.created/sms",
        "admin",
        Some(serde_json::json!({"enabled": true, "body": "【A市12345】已登记，编号 {编号}"})),
    )
    .await;
    assert_eq!(
        (s, &t["body"]),
        (200, &serde_json::json!("【A市12345】已登记，编号 {编号}"))
    );
    let s = api(
        M::PUT,
        "/notification-templates/ticket.created/fax",
        "admin",
        Some(serde_json::json!({"enabled": true, "body": "x"})),
    )
    .await
    .0;
    assert_eq!(s, 404);

    let (s, set) = api(
        M::PUT,
        "/notification-settings",
        "admin",
        Some(serde_json::json!({"smtp.password": "p@ss", "delivery.max_attempts": "5"})),
    )
    .await;
    assert_eq!(
        (s, &set["smtp.password"]),
        (200, &serde_json::json!("******"))
    );
    let (_, got) = api(M::GET, "/notification-settings", "admin", None).await;
    assert_eq!(got["delivery.max_attempts"], "5");
    assert_eq!(got["smtp.password"], "******");
    let s = api(M::GET, "/notification-settings", "hx", None).await.0;
    assert_eq!(s, 403);

    // The OpenAPI document names every route.
    use utoipa::OpenApi;
    let doc = serde_json::to_value(notify::NotifyApi::openapi()).unwrap();
    for p in [
        "/api/v1/hotline/notifications",
        "/api/v1/hotline/notifications/{id}/read",
        "/api/v1/hotline/notifications/read-all",
        "/api/v1/hotline/webhooks",
        "/api/v1/hotline/webhooks/{id}",
        "/api/v1/hotline/webhooks/{id}/deliveries",
        "/api/v1/hotline/notification-templates",
        "/api/v1/hotline/notification-templates/{event}/{channel}",
        "/api/v1/hotline/notification-settings",
        "/api/v1/hotline/outbound-messages",
    ] {
        assert!(doc["paths"].get(p).is_some(), "{p} in the OpenAPI document");
    }
}
