//! The notify module on its own, on SQLite and PostgreSQL: a message from any module reaches
//! the inboxes it names (role in a department, role in a region, one user) rendered from its
//! templates, SMS and e-mail go to the outbox, read receipts are per user, and a rolled-back
//! transaction leaves nothing behind.

use kernel::clock::Clock;
use kernel::page::PageQuery;
use kernel::{Actor, Db, Role};
use notify::{InboxQuery, Message, NotifyService, Recipient};

fn migrations() -> Vec<kernel::migrate::Migration> {
    notify::migrations()
}

testkit::on_both_backends!(migrations;
    a_message_reaches_the_inboxes_it_names,
    a_rolled_back_transaction_notifies_nobody,
    the_kept_setup_follows_every_change_of_it,
);

struct W {
    db: Db,
    notify: NotifyService,
    x: i64,
    hx: Actor,
    hy: Actor,
    op_city: Actor,
    op_district: Actor,
    citizen: Actor,
}

async fn world(db: Db) -> W {
    let mut db = db;
    db.clock = Clock::manual(1_773_624_600_000);
    let c = testkit::city::empty()
        .dept("住建局", "690100")
        .dept("城管局", "690100")
        .dept("A1区中心", "690102")
        .user("hx_user", "住建局", Role::Handler)
        .user("hy_user", "城管局", Role::Handler)
        .user("op_city", "住建局", Role::Operator)
        .user("op_district", "A1区中心", Role::Operator)
        .user_with("citizen", None, &[Role::Citizen], None)
        .build(db.clone())
        .await;
    // A module registers its event and templates with rows of its own migration.
    for sql in [
        "INSERT INTO notify_events (code, source, label, placeholders, position) VALUES
         ('thing.happened', 'demo', '发生了', '[\"编号\",\"名称\"]', 1)",
        "INSERT INTO notify_templates (event, channel, enabled, subject, body, updated_at, updated_by) VALUES
         ('thing.happened', 'inapp', 1, '事项 {编号}', '“{名称}”已处理 {未知}', 0, 'system'),
         ('thing.happened', 'sms', 1, '', '您的{名称}（{编号}）已处理', 0, 'system')",
    ] {
        sqlx::query(sql).execute(db.pool()).await.unwrap();
    }
    W {
        notify: NotifyService::new(db.clone()),
        x: c.dept("住建局"),
        hx: c.actor("hx_user").clone(),
        hy: c.actor("hy_user").clone(),
        op_city: c.actor("op_city").clone(),
        op_district: c.actor("op_district").clone(),
        citizen: c.actor("citizen").clone(),
        db,
    }
}

fn page() -> PageQuery {
    PageQuery {
        page: None,
        per_page: None,
    }
}

fn message(w: &W, region: &str) -> Message {
    Message {
        subject_id: Some(7),
        subject_number: Some("D-0007".into()),
        region_code: Some(region.into()),
        inbox: vec![
            Recipient::Role {
                role: Role::Handler,
                dept: Some(w.x),
            },
            Recipient::Role {
                role: Role::Operator,
                dept: None,
            },
            Recipient::User(w.citizen.user_id.unwrap()),
        ],
        sms: vec!["13800138000".into(), " ".into()],
        vars: vec![
            ("编号".into(), "D-0007".into()),
            ("名称".into(), "{编号}申请".into()),
        ],
        ..Message::new("demo", "thing.happened")
    }
}

async fn count(db: &Db, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(db.pool()).await.unwrap()
}

async fn a_message_reaches_the_inboxes_it_names(db: Db) {
    let w = world(db).await;
    let mut tx = w.db.begin().await.unwrap();
    notify::enqueue(&mut tx, &message(&w, "690102"), w.db.now())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let inbox = |a: Actor| {
        let n = w.notify.clone();
        async move { n.inbox(&a, &InboxQuery::default(), &page()).await.unwrap() }
    };
    // Department, region (the city operator's region covers the district), the user.
    for a in [&w.hx, &w.op_city, &w.op_district, &w.citizen] {
        let i = inbox(a.clone()).await;
        assert_eq!((i.total, i.unread), (1, 1), "{}", a.username);
        let n = &i.items[0];
        assert_eq!(
            (n.source.as_str(), n.event.as_str(), n.event_label.as_str()),
            ("demo", "thing.happened", "发生了")
        );
        assert_eq!(
            (n.subject_id, n.subject_number.as_deref()),
            (Some(7), Some("D-0007"))
        );
        // Rendered once: a value holding a placeholder is not expanded again.
        assert_eq!(
            (n.title.as_str(), n.body.as_str()),
            ("事项 D-0007", "“{编号}申请”已处理 {未知}")
        );
    }
    assert_eq!(inbox(w.hy.clone()).await.total, 0, "another department");
    // Read receipts are per user.
    let id = inbox(w.citizen.clone()).await.items[0].id;
    w.notify.mark_read(&w.citizen, id).await.unwrap();
    assert_eq!(inbox(w.citizen.clone()).await.unread, 0);
    assert_eq!(inbox(w.hx.clone()).await.unread, 1);
    assert!(w.notify.mark_read(&w.hy, id).await.is_err());
    assert_eq!(w.notify.mark_all_read(&w.hx).await.unwrap(), 1);
    // One SMS: blank phones are skipped; no e-mail template, no e-mail.
    assert_eq!(
        count(&w.db, "SELECT COUNT(*) FROM notify_deliveries WHERE channel = 'sms' AND recipient = '13800138000' AND source = 'demo' AND subject_id = 7").await,
        1
    );
    assert_eq!(
        count(&w.db, "SELECT COUNT(*) FROM notify_deliveries").await,
        1
    );
    // The logging sender records it for staff.
    assert_eq!(notify::deliver_due(&w.db, w.db.now()).await.unwrap(), 1);
    let sent = w
        .notify
        .outbound_messages(&w.op_city, &page())
        .await
        .unwrap();
    assert_eq!(sent.total, 1);
    assert_eq!(sent.items[0].body, "您的{编号}申请（D-0007）已处理");
    assert_eq!(sent.items[0].source.as_deref(), Some("demo"));
    assert!(w
        .notify
        .outbound_messages(&w.citizen, &page())
        .await
        .is_err());
}

async fn a_rolled_back_transaction_notifies_nobody(db: Db) {
    let w = world(db).await;
    let mut tx = w.db.begin().await.unwrap();
    notify::enqueue(&mut tx, &message(&w, "690100"), w.db.now())
        .await
        .unwrap();
    let inside: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM notify_notifications")
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    assert_eq!(inside, 3);
    tx.rollback().await.unwrap();
    assert_eq!(
        count(&w.db, "SELECT COUNT(*) FROM notify_notifications").await,
        0
    );
    assert_eq!(
        count(&w.db, "SELECT COUNT(*) FROM notify_deliveries").await,
        0
    );
    // The district operator does not see a city-wide message outside their region.
    let i = w
        .notify
        .inbox(&w.op_district, &InboxQuery::default(), &page())
        .await
        .unwrap();
    assert_eq!(i.total, 0);
}

/// The outbox keeps the setup in memory; a change through the service, a row written by
/// another instance or a migration, and a rolled-back change are all seen by the next message.
async fn the_kept_setup_follows_every_change_of_it(db: Db) {
    let w = world(db).await;
    let outbox = notify::Outbox::of(&w.db);
    let sms_bodies = |db: Db| async move {
        sqlx::query_scalar::<_, String>(
            "SELECT body FROM notify_deliveries WHERE channel = 'sms' ORDER BY id",
        )
        .fetch_all(db.pool())
        .await
        .unwrap()
    };
    let send = |outbox: notify::Outbox, db: Db, m: Message| async move {
        let mut tx = db.begin().await.unwrap();
        outbox.enqueue(&mut tx, &m, db.now()).await.unwrap();
        tx.commit().await.unwrap();
    };
    send(outbox.clone(), w.db.clone(), message(&w, "690102")).await;
    // Through the service (an admin edits the template).
    let admin = Actor {
        roles: vec![Role::SysAdmin],
        ..w.op_city.clone()
    };
    w.notify
        .update_template(
            &admin,
            "thing.happened",
            "sms",
            notify::TemplateInput {
                enabled: true,
                subject: String::new(),
                body: "第二版：{编号}".into(),
            },
        )
        .await
        .unwrap();
    send(outbox.clone(), w.db.clone(), message(&w, "690102")).await;
    // A row written by another instance (or a migration) straight into the table.
    sqlx::query("UPDATE notify_templates SET body = '第三版：{编号}' WHERE event = 'thing.happened' AND channel = 'sms'")
        .execute(w.db.pool())
        .await
        .unwrap();
    send(outbox.clone(), w.db.clone(), message(&w, "690102")).await;
    // A change rolled back leaves the kept setup as it was.
    let mut tx = w.db.begin().await.unwrap();
    sqlx::query("UPDATE notify_templates SET enabled = 0")
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.rollback().await.unwrap();
    send(outbox.clone(), w.db.clone(), message(&w, "690102")).await;
    // Disabled: no SMS at all.
    sqlx::query("UPDATE notify_templates SET enabled = 0 WHERE channel = 'sms'")
        .execute(w.db.pool())
        .await
        .unwrap();
    send(outbox.clone(), w.db.clone(), message(&w, "690102")).await;
    assert_eq!(
        sms_bodies(w.db.clone()).await,
        [
            "您的{编号}申请（D-0007）已处理",
            "第二版：D-0007",
            "第三版：D-0007",
            "第三版：D-0007",
        ]
    );
}
