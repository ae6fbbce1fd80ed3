//! SQL on `notify_*`. Private to the crate: other modules go through [`crate::enqueue`] and
//! [`crate::NotifyService`].

use crate::domain::*;
use kernel::error::Result;
use kernel::{Actor, Backend, Db, Role, Scope};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use std::collections::BTreeMap;

// ---- events ----

/// A registered event: label, placeholders, list position.
pub(crate) struct EventRow {
    pub code: String,
    pub label: String,
    pub placeholders: Vec<String>,
}

pub(crate) async fn events(c: &mut AnyConnection) -> Result<Vec<EventRow>> {
    let rows = sqlx::query(
        "SELECT code, label, placeholders FROM notify_events ORDER BY position, source, code",
    )
    .fetch_all(c)
    .await?;
    Ok(rows
        .iter()
        .map(|r| EventRow {
            code: r.get("code"),
            label: r.get("label"),
            placeholders: serde_json::from_str(&r.get::<String, _>("placeholders"))
                .unwrap_or_default(),
        })
        .collect())
}

pub(crate) async fn event(c: &mut AnyConnection, code: &str) -> Result<Option<EventRow>> {
    Ok(events(c).await?.into_iter().find(|e| e.code == code))
}

pub(crate) async fn event_labels(c: &mut AnyConnection) -> Result<BTreeMap<String, String>> {
    Ok(events(c)
        .await?
        .into_iter()
        .map(|e| (e.code, e.label))
        .collect())
}

// ---- templates ----

const TEMPLATE_COLS: &str = "t.event, t.channel, t.enabled, t.subject, t.body, t.updated_at, t.updated_by, e.label AS event_label, e.position";
const TEMPLATE_FROM: &str = "FROM notify_templates t LEFT JOIN notify_events e ON e.code = t.event";

fn template_row(r: &AnyRow) -> NotifyTemplate {
    let channel: String = r.get("channel");
    NotifyTemplate {
        event: r.get("event"),
        event_label: r
            .get::<Option<String>, _>("event_label")
            .unwrap_or_default(),
        channel_label: channel_label(&channel).unwrap_or("").into(),
        channel,
        enabled: kernel::db::flag(r.get("enabled")),
        subject: r.get("subject"),
        body: r.get("body"),
        updated_at: r.get("updated_at"),
        updated_by: r.get("updated_by"),
    }
}

/// Every template, in the order events were registered (the order they happen), then channel.
pub(crate) async fn templates(c: &mut AnyConnection) -> Result<Vec<NotifyTemplate>> {
    let rows = sqlx::query(&format!(
        "SELECT {TEMPLATE_COLS} {TEMPLATE_FROM} ORDER BY e.position, t.event, t.channel"
    ))
    .fetch_all(c)
    .await?;
    Ok(rows.iter().map(template_row).collect())
}

pub(crate) async fn template(
    c: &mut AnyConnection,
    event: &str,
    channel: &str,
) -> Result<NotifyTemplate> {
    let r = sqlx::query(&format!(
        "SELECT {TEMPLATE_COLS} {TEMPLATE_FROM} WHERE t.event = $1 AND t.channel = $2"
    ))
    .bind(event)
    .bind(channel)
    .fetch_one(c)
    .await?;
    Ok(template_row(&r))
}

pub(crate) async fn update_template(
    c: &mut AnyConnection,
    event: &str,
    channel: &str,
    input: &TemplateInput,
    now: i64,
    by: &str,
) -> Result<u64> {
    Ok(sqlx::query(
        "UPDATE notify_templates SET enabled = $1, subject = $2, body = $3, updated_at = $4, updated_by = $5
         WHERE event = $6 AND channel = $7",
    )
    .bind(input.enabled as i64)
    .bind(input.subject.trim())
    .bind(input.body.trim())
    .bind(now)
    .bind(by)
    .bind(event)
    .bind(channel)
    .execute(c)
    .await?
    .rows_affected())
}

// ---- settings ----

/// The setup's change counter (bumped by triggers on events, templates, settings, webhooks).
pub(crate) async fn setup_generation(c: &mut AnyConnection) -> Result<i64> {
    Ok(
        sqlx::query_scalar("SELECT generation FROM notify_setup_generation WHERE id = 1")
            .fetch_one(c)
            .await?,
    )
}

pub(crate) async fn settings(c: &mut AnyConnection) -> Result<BTreeMap<String, String>> {
    let rows = sqlx::query("SELECT key, value FROM notify_settings")
        .fetch_all(c)
        .await?;
    Ok(rows
        .iter()
        .map(|r| (r.get::<String, _>(0), r.get::<String, _>(1)))
        .collect())
}

pub(crate) async fn set_setting(c: &mut AnyConnection, key: &str, value: &str) -> Result<()> {
    sqlx::query("DELETE FROM notify_settings WHERE key = $1")
        .bind(key)
        .execute(&mut *c)
        .await?;
    if !value.trim().is_empty() {
        sqlx::query("INSERT INTO notify_settings (key, value) VALUES ($1, $2)")
            .bind(key)
            .bind(value.trim())
            .execute(&mut *c)
            .await?;
    }
    Ok(())
}

// ---- the outbox ----

pub(crate) struct NewNotification<'a> {
    pub m: &'a Message,
    pub role: Option<Role>,
    pub dept_id: Option<i64>,
    pub user_id: Option<i64>,
    pub title: &'a str,
    pub body: &'a str,
}

pub(crate) async fn insert_notification(
    c: &mut AnyConnection,
    n: NewNotification<'_>,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO notify_notifications (source, event, subject_id, subject_number, role, dept_id, region_code, user_id,
            title, body, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(&n.m.source)
    .bind(&n.m.event)
    .bind(n.m.subject_id)
    .bind(&n.m.subject_number)
    .bind(n.role.map(|r| r.code()))
    .bind(n.dept_id)
    .bind(&n.m.region_code)
    .bind(n.user_id)
    .bind(n.title)
    .bind(n.body)
    .bind(now)
    .execute(c)
    .await?;
    Ok(())
}

pub(crate) struct NewDelivery<'a> {
    pub channel: &'a str,
    pub webhook_id: Option<i64>,
    pub m: &'a Message,
    pub recipient: &'a str,
    pub subject: Option<&'a str>,
    pub body: &'a str,
    pub uuid: &'a str,
    pub max_attempts: i64,
}

pub(crate) async fn insert_delivery(
    c: &mut AnyConnection,
    d: NewDelivery<'_>,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO notify_deliveries (uuid, channel, webhook_id, source, event, subject_id, recipient, subject, body, status,
            attempts, max_attempts, next_attempt_at, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'pending', 0, $10, $11, $11)",
    )
    .bind(d.uuid)
    .bind(d.channel)
    .bind(d.webhook_id)
    .bind(&d.m.source)
    .bind(&d.m.event)
    .bind(d.m.subject_id)
    .bind(d.recipient)
    .bind(d.subject)
    .bind(d.body)
    .bind(d.max_attempts)
    .bind(now)
    .execute(c)
    .await?;
    Ok(())
}

/// Active webhooks: (id, url, event filter, max attempts).
pub(crate) async fn active_webhooks(
    c: &mut AnyConnection,
) -> Result<Vec<(i64, String, Vec<String>, i64)>> {
    let rows = sqlx::query(
        "SELECT id, url, events, max_attempts FROM notify_webhooks WHERE active = 1 AND deleted_at IS NULL ORDER BY id",
    )
    .fetch_all(c)
    .await?;
    Ok(rows
        .iter()
        .map(|h| {
            (
                h.get("id"),
                h.get("url"),
                serde_json::from_str(&h.get::<String, _>("events")).unwrap_or_default(),
                h.get("max_attempts"),
            )
        })
        .collect())
}

// ---- the delivery worker ----

pub(crate) struct Claimed {
    pub id: i64,
    pub uuid: String,
    pub channel: String,
    pub webhook_id: Option<i64>,
    pub source: String,
    pub event: String,
    pub subject_id: Option<i64>,
    pub recipient: String,
    pub subject: Option<String>,
    pub body: String,
    pub attempts: i64,
    pub max_attempts: i64,
}

/// Claims up to [`CLAIM_BATCH`] due deliveries for `worker`, in one statement. The claim is a
/// lease (`claimed_until`) so rows of a crashed worker come back. PostgreSQL: the inner SELECT
/// takes the rows with `FOR UPDATE SKIP LOCKED`, so concurrent workers pass over each other's
/// rows instead of waiting, and the outer WHERE re-checks the claim. SQLite: one writer at a time,
/// so the same compare-and-set UPDATE runs serially.
pub(crate) async fn claim(db: &Db, worker: &str, now: i64) -> Result<Vec<Claimed>> {
    let lock = match db.backend() {
        Backend::Postgres => " FOR UPDATE SKIP LOCKED",
        Backend::Sqlite => "",
    };
    let due = "status = 'pending' AND next_attempt_at <= $3 AND (claimed_until IS NULL OR claimed_until < $3)";
    let sql = format!(
        "UPDATE notify_deliveries SET claimed_by = $1, claimed_until = $2
         WHERE id IN (SELECT id FROM notify_deliveries WHERE {due} ORDER BY next_attempt_at, id LIMIT $4{lock})
           AND {due}
         RETURNING id, uuid, channel, webhook_id, source, event, subject_id, recipient, subject, body, attempts, max_attempts"
    );
    let mut tx = db.begin().await?;
    let rows = sqlx::query(&sql)
        .bind(worker)
        .bind(now + LEASE_MS)
        .bind(now)
        .bind(CLAIM_BATCH)
        .fetch_all(&mut *tx)
        .await?;
    tx.commit().await?;
    let mut out: Vec<Claimed> = rows
        .iter()
        .map(|r| Claimed {
            id: r.get("id"),
            uuid: r.get("uuid"),
            channel: r.get("channel"),
            webhook_id: r.get("webhook_id"),
            source: r.get("source"),
            event: r.get("event"),
            subject_id: r.get("subject_id"),
            recipient: r.get("recipient"),
            subject: r.get("subject"),
            body: r.get("body"),
            attempts: r.get("attempts"),
            max_attempts: r.get("max_attempts"),
        })
        .collect();
    out.sort_by_key(|d| d.id);
    Ok(out)
}

/// A webhook's url and secret, and whether it is still in use.
pub(crate) async fn webhook_secret(
    c: &mut AnyConnection,
    id: Option<i64>,
) -> Result<Option<(String, String, bool)>> {
    let h =
        sqlx::query("SELECT url, secret, active, deleted_at FROM notify_webhooks WHERE id = $1")
            .bind(id)
            .fetch_optional(c)
            .await?;
    Ok(h.map(|h| {
        let live =
            h.get::<Option<i64>, _>("deleted_at").is_none() && h.get::<i64, _>("active") != 0;
        (h.get("url"), h.get("secret"), live)
    }))
}

pub(crate) async fn cancel_claimed(
    c: &mut AnyConnection,
    id: i64,
    worker: &str,
    reason: &str,
) -> Result<u64> {
    Ok(sqlx::query(
        "UPDATE notify_deliveries SET status = 'cancelled', last_error = $1, claimed_by = NULL, claimed_until = NULL
         WHERE id = $2 AND claimed_by = $3",
    )
    .bind(reason)
    .bind(id)
    .bind(worker)
    .execute(c)
    .await?
    .rows_affected())
}

pub(crate) struct AttemptRow<'a> {
    pub delivery_id: i64,
    pub attempt: i64,
    pub at: i64,
    pub worker: &'a str,
    pub status_code: Option<i64>,
    pub error: Option<&'a str>,
    pub duration_ms: i64,
}

pub(crate) async fn insert_attempt(c: &mut AnyConnection, a: AttemptRow<'_>) -> Result<()> {
    sqlx::query(
        "INSERT INTO notify_delivery_attempts (delivery_id, attempt, at, worker, ok, status_code, error, duration_ms)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(a.delivery_id)
    .bind(a.attempt)
    .bind(a.at)
    .bind(a.worker)
    .bind(a.error.is_none() as i64)
    .bind(a.status_code)
    .bind(a.error)
    .bind(a.duration_ms)
    .execute(c)
    .await?;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
pub(crate) async fn move_on(
    c: &mut AnyConnection,
    id: i64,
    worker: &str,
    attempts: i64,
    status: &str,
    next: i64,
    error: Option<&str>,
    delivered_at: Option<i64>,
) -> Result<u64> {
    Ok(sqlx::query(
        "UPDATE notify_deliveries SET attempts = $1, status = $2, next_attempt_at = $3, last_error = $4,
            delivered_at = $5, claimed_by = NULL, claimed_until = NULL
         WHERE id = $6 AND claimed_by = $7",
    )
    .bind(attempts)
    .bind(status)
    .bind(next)
    .bind(error)
    .bind(delivered_at)
    .bind(id)
    .bind(worker)
    .execute(c)
    .await?
    .rows_affected())
}

pub(crate) struct OutboundRow<'a> {
    pub channel: &'a str,
    pub to: &'a str,
    pub subject: Option<&'a str>,
    pub body: &'a str,
    pub source: &'a str,
    pub event: &'a str,
    pub subject_id: Option<i64>,
    pub delivery_uuid: &'a str,
    pub at: i64,
}

pub(crate) async fn insert_outbound(c: &mut AnyConnection, m: OutboundRow<'_>) -> Result<()> {
    sqlx::query(
        "INSERT INTO notify_outbound_messages (channel, recipient, subject, body, source, event, subject_id, delivery_uuid, at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(m.channel)
    .bind(m.to)
    .bind(m.subject)
    .bind(m.body)
    .bind(m.source)
    .bind(m.event)
    .bind(m.subject_id)
    .bind(m.delivery_uuid)
    .bind(m.at)
    .execute(c)
    .await?;
    Ok(())
}

pub(crate) async fn outbound(
    c: &mut AnyConnection,
    limit: i64,
    offset: i64,
) -> Result<(Vec<OutboundRecord>, i64)> {
    let rows = sqlx::query(&format!(
        "SELECT id, channel, recipient, subject, body, source, event, subject_id, delivery_uuid, at
         FROM notify_outbound_messages ORDER BY id DESC LIMIT {limit} OFFSET {offset}"
    ))
    .fetch_all(&mut *c)
    .await?;
    let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM notify_outbound_messages")
        .fetch_one(&mut *c)
        .await?;
    let items = rows
        .iter()
        .map(|r| OutboundRecord {
            id: r.get("id"),
            channel: r.get("channel"),
            recipient: r.get("recipient"),
            subject: r.get("subject"),
            body: r.get("body"),
            source: r.get("source"),
            event: r.get("event"),
            subject_id: r.get("subject_id"),
            delivery_uuid: r.get("delivery_uuid"),
            at: r.get("at"),
        })
        .collect();
    Ok((items, total))
}

// ---- the inbox ----

/// The SQL condition (on `n`) for the notifications an actor's inboxes hold: those addressed to
/// the user (`$user_param`), and those of their staff roles in their department or region, with
/// the binds from `$first` on.
pub(crate) fn inbox_clause(
    actor: &Actor,
    user_param: usize,
    first: usize,
) -> (String, Vec<String>) {
    let mine = format!("n.user_id = ${user_param}");
    let roles: Vec<String> = actor
        .roles
        .iter()
        .filter(|r| **r != Role::Citizen)
        .map(|r| format!("'{}'", r.code()))
        .collect();
    if roles.is_empty() {
        return (mine, vec![]);
    }
    let roles = format!("n.role IN ({})", roles.join(","));
    let (cond, binds) = match &actor.scope {
        Scope::All => (roles, vec![]),
        Scope::Region { prefix } => (
            format!("{roles} AND (n.region_code IS NULL OR n.region_code LIKE ${first})"),
            vec![format!("{prefix}%")],
        ),
        Scope::Departments { ids } if !ids.is_empty() => {
            let ids: Vec<String> = ids.iter().map(i64::to_string).collect();
            (
                format!("{roles} AND n.dept_id IN ({})", ids.join(",")),
                vec![],
            )
        }
        _ => return (mine, vec![]),
    };
    (format!("({mine} OR ({cond}))"), binds)
}

const INBOX_FROM: &str = "FROM notify_notifications n LEFT JOIN notify_notification_reads r ON r.notification_id = n.id AND r.user_id = $1";

pub(crate) async fn inbox_count(
    c: &mut AnyConnection,
    user: i64,
    cond: &str,
    binds: &[String],
) -> Result<i64> {
    let sql = format!("SELECT COUNT(*) {INBOX_FROM} WHERE {cond}");
    let mut qy = sqlx::query_scalar::<_, i64>(&sql).bind(user);
    for b in binds {
        qy = qy.bind(b);
    }
    Ok(qy.fetch_one(c).await?)
}

/// One page of notifications matching `cond` (binds from `$2`; `$1` is the user).
pub(crate) async fn inbox_page(
    c: &mut AnyConnection,
    user: i64,
    cond: &str,
    binds: &[String],
    limit: i64,
    offset: i64,
) -> Result<Vec<Notification>> {
    let labels = event_labels(&mut *c).await?;
    let sql = format!(
        "SELECT n.id, n.source, n.event, n.subject_id, n.subject_number, n.title, n.body, n.created_at, r.read_at {INBOX_FROM}
         WHERE {cond} ORDER BY n.id DESC LIMIT {limit} OFFSET {offset}"
    );
    let mut qy = sqlx::query(&sql).bind(user);
    for b in binds {
        qy = qy.bind(b);
    }
    let rows = qy.fetch_all(&mut *c).await?;
    Ok(rows
        .iter()
        .map(|r| {
            let event: String = r.get("event");
            Notification {
                id: r.get("id"),
                source: r.get("source"),
                event_label: labels.get(&event).cloned().unwrap_or_default(),
                event,
                subject_id: r.get("subject_id"),
                subject_number: r.get("subject_number"),
                title: r.get("title"),
                body: r.get("body"),
                created_at: r.get("created_at"),
                read: r.get::<Option<i64>, _>("read_at").is_some(),
            }
        })
        .collect())
}

/// Whether notification `id` is in the inboxes `cond` describes (`$1` id, `$2` user, binds
/// from `$3`).
pub(crate) async fn in_inbox(
    c: &mut AnyConnection,
    id: i64,
    user: i64,
    cond: &str,
    binds: &[String],
) -> Result<bool> {
    let sql = format!("SELECT n.id FROM notify_notifications n WHERE n.id = $1 AND {cond}");
    let mut qy = sqlx::query_scalar::<_, i64>(&sql).bind(id).bind(user);
    for b in binds {
        qy = qy.bind(b);
    }
    Ok(qy.fetch_optional(c).await?.is_some())
}

pub(crate) async fn mark_read(c: &mut AnyConnection, id: i64, user: i64, now: i64) -> Result<()> {
    sqlx::query(
        "INSERT INTO notify_notification_reads (notification_id, user_id, read_at) VALUES ($1, $2, $3)
         ON CONFLICT DO NOTHING",
    )
    .bind(id)
    .bind(user)
    .bind(now)
    .execute(c)
    .await?;
    Ok(())
}

/// Marks read every notification matching `cond` (`$1` user, `$2` now, binds from `$3`).
pub(crate) async fn mark_all_read(
    c: &mut AnyConnection,
    user: i64,
    now: i64,
    cond: &str,
    binds: &[String],
) -> Result<u64> {
    let sql = format!(
        "INSERT INTO notify_notification_reads (notification_id, user_id, read_at)
         SELECT n.id, $1, $2 FROM notify_notifications n
         WHERE {cond} AND NOT EXISTS (SELECT 1 FROM notify_notification_reads r WHERE r.notification_id = n.id AND r.user_id = $1)
         ON CONFLICT DO NOTHING"
    );
    let mut qy = sqlx::query(&sql).bind(user).bind(now);
    for b in binds {
        qy = qy.bind(b);
    }
    Ok(qy.execute(c).await?.rows_affected())
}

// ---- webhooks ----

fn webhook_row(r: &AnyRow) -> Webhook {
    Webhook {
        id: r.get("id"),
        name: r.get("name"),
        url: r.get("url"),
        events: serde_json::from_str(&r.get::<String, _>("events")).unwrap_or_default(),
        active: kernel::db::flag(r.get("active")),
        max_attempts: r.get("max_attempts"),
        created_at: r.get("created_at"),
        updated_at: r.get("updated_at"),
    }
}

const WEBHOOK_COLS: &str = "id, name, url, events, active, max_attempts, created_at, updated_at";

pub(crate) async fn webhooks(c: &mut AnyConnection) -> Result<Vec<Webhook>> {
    let rows = sqlx::query(&format!(
        "SELECT {WEBHOOK_COLS} FROM notify_webhooks WHERE deleted_at IS NULL ORDER BY id"
    ))
    .fetch_all(c)
    .await?;
    Ok(rows.iter().map(webhook_row).collect())
}

/// A webhook in use (not deleted).
pub(crate) async fn webhook(c: &mut AnyConnection, id: i64) -> Result<Option<Webhook>> {
    let r = sqlx::query(&format!(
        "SELECT {WEBHOOK_COLS} FROM notify_webhooks WHERE id = $1 AND deleted_at IS NULL"
    ))
    .bind(id)
    .fetch_optional(c)
    .await?;
    Ok(r.as_ref().map(webhook_row))
}

/// Whether a webhook ever existed (deleted ones keep their log).
pub(crate) async fn webhook_exists(c: &mut AnyConnection, id: i64) -> Result<bool> {
    Ok(
        sqlx::query_scalar::<_, i64>("SELECT id FROM notify_webhooks WHERE id = $1")
            .bind(id)
            .fetch_optional(c)
            .await?
            .is_some(),
    )
}

pub(crate) async fn insert_webhook(
    c: &mut AnyConnection,
    w: &WebhookInput,
    now: i64,
) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO notify_webhooks (name, url, secret, events, active, max_attempts, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id",
    )
    .bind(w.name.trim())
    .bind(w.url.trim())
    .bind(w.secret.as_deref().unwrap_or_default())
    .bind(serde_json::to_string(&w.events)?)
    .bind(w.active as i64)
    .bind(w.max_attempts.unwrap_or(DEFAULT_MAX_ATTEMPTS))
    .bind(now)
    .fetch_one(c)
    .await?)
}

pub(crate) async fn update_webhook(
    c: &mut AnyConnection,
    id: i64,
    w: &WebhookInput,
    max_attempts: i64,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "UPDATE notify_webhooks SET name = $1, url = $2, secret = COALESCE($3, secret), events = $4, active = $5,
            max_attempts = $6, updated_at = $7 WHERE id = $8",
    )
    .bind(w.name.trim())
    .bind(w.url.trim())
    .bind(w.secret.as_deref())
    .bind(serde_json::to_string(&w.events)?)
    .bind(w.active as i64)
    .bind(max_attempts)
    .bind(now)
    .bind(id)
    .execute(c)
    .await?;
    Ok(())
}

/// Marks a webhook deleted and cancels its pending, unclaimed deliveries.
pub(crate) async fn delete_webhook(c: &mut AnyConnection, id: i64, now: i64) -> Result<()> {
    sqlx::query(
        "UPDATE notify_webhooks SET deleted_at = $1, active = 0, updated_at = $1 WHERE id = $2",
    )
    .bind(now)
    .bind(id)
    .execute(&mut *c)
    .await?;
    sqlx::query(
        "UPDATE notify_deliveries SET status = 'cancelled', last_error = 'Webhook 已删除'
         WHERE webhook_id = $1 AND status = 'pending' AND claimed_by IS NULL",
    )
    .bind(id)
    .execute(&mut *c)
    .await?;
    Ok(())
}

/// A webhook's deliveries, newest first, each with its attempts, and the total.
pub(crate) async fn deliveries(
    c: &mut AnyConnection,
    webhook_id: i64,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Delivery>, i64)> {
    let rows = sqlx::query(&format!(
        "SELECT id, uuid, source, event, subject_id, recipient, status, attempts, max_attempts, next_attempt_at, last_error,
            created_at, delivered_at FROM notify_deliveries WHERE webhook_id = $1 ORDER BY id DESC LIMIT {limit} OFFSET {offset}"
    ))
    .bind(webhook_id)
    .fetch_all(&mut *c)
    .await?;
    let total: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM notify_deliveries WHERE webhook_id = $1")
            .bind(webhook_id)
            .fetch_one(&mut *c)
            .await?;
    let mut items = Vec::with_capacity(rows.len());
    for r in &rows {
        let id: i64 = r.get("id");
        let attempts = sqlx::query(
            "SELECT attempt, at, ok, status_code, error, duration_ms, worker FROM notify_delivery_attempts
             WHERE delivery_id = $1 ORDER BY attempt, id",
        )
        .bind(id)
        .fetch_all(&mut *c)
        .await?;
        items.push(Delivery {
            id,
            uuid: r.get("uuid"),
            source: r.get("source"),
            event: r.get("event"),
            subject_id: r.get("subject_id"),
            recipient: r.get("recipient"),
            status: r.get("status"),
            attempts: r.get("attempts"),
            max_attempts: r.get("max_attempts"),
            next_attempt_at: r.get("next_attempt_at"),
            last_error: r.get("last_error"),
            created_at: r.get("created_at"),
            delivered_at: r.get("delivered_at"),
            attempt_log: attempts
                .iter()
                .map(|a| DeliveryAttempt {
                    attempt: a.get("attempt"),
                    at: a.get("at"),
                    ok: kernel::db::flag(a.get("ok")),
                    status_code: a.get("status_code"),
                    error: a.get("error"),
                    duration_ms: a.get("duration_ms"),
                    worker: a.get("worker"),
                })
                .collect(),
        });
    }
    Ok((items, total))
}
