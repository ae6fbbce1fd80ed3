//! The delivery worker: claims due deliveries, sends them (webhooks signed, SMS and e-mail
//! through the [`Senders`]), logs every attempt and retries with back-off.

use crate::domain::*;
use crate::senders::{OutboundMessage, Senders};
use crate::store::{self, Claimed};
use kernel::error::Result;
use kernel::Db;
use std::time::Instant;

enum Outcome {
    Delivered {
        status_code: Option<u16>,
    },
    Failed {
        status_code: Option<u16>,
        error: String,
    },
    /// Not attempted: the webhook was deleted or disabled meanwhile.
    Cancelled(String),
}

async fn send_webhook(db: &Db, http: &reqwest::Client, d: &Claimed) -> Result<Outcome> {
    let hook = store::webhook_secret(&mut *db.pool().acquire().await?, d.webhook_id).await?;
    let Some((url, secret, live)) = hook else {
        return Ok(Outcome::Cancelled("Webhook 不存在".into()));
    };
    if !live {
        return Ok(Outcome::Cancelled("Webhook 已删除或已停用".into()));
    }
    // Signed at send time with the current secret, so a rotated secret applies to retries too.
    let body = d.body.as_bytes();
    let sent = http
        .post(&url)
        .header("Content-Type", "application/json; charset=utf-8")
        .header("X-Yiwang-Event", &d.event)
        .header("X-Yiwang-Delivery", &d.uuid)
        .header(
            "X-Yiwang-Signature",
            format!("sha256={}", sign_sha256(&secret, body)),
        )
        .header(
            "X-Yiwang-Signature-SM3",
            format!("sm3={}", sign_sm3(&secret, body)),
        )
        .body(d.body.clone())
        .send()
        .await;
    Ok(match sent {
        Ok(mut resp) => {
            let code = resp.status().as_u16();
            if resp.status().is_success() {
                Outcome::Delivered {
                    status_code: Some(code),
                }
            } else {
                // Keep the start of the answer: it usually says what the receiver disliked.
                let mut snippet = Vec::new();
                while let Ok(Some(chunk)) = resp.chunk().await {
                    snippet.extend_from_slice(&chunk);
                    if snippet.len() >= 500 {
                        break;
                    }
                }
                let text: String = String::from_utf8_lossy(&snippet)
                    .chars()
                    .take(300)
                    .collect();
                Outcome::Failed {
                    status_code: Some(code),
                    error: format!("接收方返回 HTTP {code}：{}", text.trim()),
                }
            }
        }
        Err(e) => Outcome::Failed {
            status_code: None,
            error: if e.is_timeout() {
                format!("请求超时（{} 秒）", SEND_TIMEOUT.as_secs())
            } else {
                format!("请求失败：{e}")
            },
        },
    })
}

async fn attempt(db: &Db, senders: &Senders, d: &Claimed) -> Result<Outcome> {
    let msg = || OutboundMessage {
        channel: d.channel.clone(),
        to: d.recipient.clone(),
        subject: d.subject.clone(),
        body: d.body.clone(),
        source: d.source.clone(),
        event: d.event.clone(),
        subject_id: d.subject_id,
        delivery_uuid: d.uuid.clone(),
    };
    let via = |r: std::result::Result<(), String>| match r {
        Ok(()) => Outcome::Delivered { status_code: None },
        Err(error) => Outcome::Failed {
            status_code: None,
            error,
        },
    };
    Ok(match d.channel.as_str() {
        "webhook" => send_webhook(db, &senders.http, d).await?,
        "sms" => via(senders.sms.send(&msg()).await),
        "email" => via(senders.email.send(&msg()).await),
        other => Outcome::Cancelled(format!("未知的发送渠道：{other}")),
    })
}

/// Logs the attempt and moves the delivery on: delivered, due again after the back-off, or
/// failed after its last attempt. Only the worker still holding the claim may move it.
async fn finish(
    db: &Db,
    worker: &str,
    d: &Claimed,
    outcome: &Outcome,
    now: i64,
    duration_ms: i64,
) -> Result<()> {
    let mut tx = db.begin().await?;
    let n = match outcome {
        Outcome::Cancelled(reason) => store::cancel_claimed(&mut tx, d.id, worker, reason).await?,
        Outcome::Delivered { status_code } | Outcome::Failed { status_code, .. } => {
            let error = match outcome {
                Outcome::Failed { error, .. } => Some(error.as_str()),
                _ => None,
            };
            let ok = error.is_none();
            let n_attempt = d.attempts + 1;
            let a = store::AttemptRow {
                delivery_id: d.id,
                attempt: n_attempt,
                at: now,
                worker,
                status_code: status_code.map(i64::from),
                error,
                duration_ms,
            };
            store::insert_attempt(&mut tx, a).await?;
            let (status, next) = if ok {
                ("delivered", now)
            } else if n_attempt >= d.max_attempts {
                ("failed", now)
            } else {
                ("pending", now + backoff_ms(n_attempt))
            };
            let delivered_at = ok.then_some(now);
            store::move_on(
                &mut tx,
                d.id,
                worker,
                n_attempt,
                status,
                next,
                error,
                delivered_at,
            )
            .await?
        }
    };
    if n == 0 {
        // The lease ran out and another worker took the row over; it decides what happens next.
        tracing::warn!(delivery = %d.uuid, "delivery claim lost before the attempt was recorded");
    }
    tx.commit().await?;
    Ok(())
}

/// Sends up to [`MAX_PER_RUN`] deliveries due at `now` (webhooks, SMS, e-mail) and returns how
/// many were delivered. Safe to run on several instances at once: each row is claimed before it
/// is sent.
pub async fn deliver_due(db: &Db, now: i64) -> Result<usize> {
    let senders = Senders::from_settings(db).await?;
    deliver_due_with(db, now, &senders).await
}

/// [`deliver_due`] with the given senders.
pub async fn deliver_due_with(db: &Db, now: i64, senders: &Senders) -> Result<usize> {
    let worker = format!("{}-{:08x}", std::process::id(), rand::random::<u32>());
    let mut delivered = 0;
    let mut handled = 0;
    loop {
        // Background delivery shares the one SQLite writer with intake: a bounded amount per run
        // keeps a burst of messages from starving the requests people are waiting on. What is
        // left stays due and goes in the next run.
        if handled >= MAX_PER_RUN {
            break;
        }
        let batch = store::claim(db, &worker, now).await?;
        if batch.is_empty() {
            break;
        }
        for d in &batch {
            let started = Instant::now();
            let outcome = attempt(db, senders, d).await?;
            let ms = started.elapsed().as_millis() as i64;
            if matches!(outcome, Outcome::Delivered { .. }) {
                delivered += 1;
            } else if let Outcome::Failed { error, .. } = &outcome {
                tracing::warn!(delivery = %d.uuid, channel = %d.channel, attempt = d.attempts + 1, %error, "delivery attempt failed");
            }
            finish(db, &worker, d, &outcome, now, ms).await?;
            handled += 1;
        }
    }
    Ok(delivered)
}
