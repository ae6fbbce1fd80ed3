//! Notifications (热线通知): who hears about a ticket event, and how.
//!
//! Every ticket event passes through [`enqueue`], called by `HotlineService::record` inside the
//! event's own transaction (the outbox pattern): the rows it writes commit with the change or
//! vanish with it, so nothing acknowledged is lost and nothing is sent for a rolled-back change.
//! It writes
//! - in-app notifications (`hotline_notifications`), one row per recipient inbox: a role, narrowed
//!   to a department or, for region-wide roles, to the ticket's region; read receipts are per user;
//! - deliveries (`hotline_deliveries`): SMS to the caller, e-mail to departments, signed webhook
//!   calls. [`deliver_due`] sends those that are due, retrying with exponential back-off, and logs
//!   every attempt (`hotline_delivery_attempts`).
//!
//! Texts come from admin-editable templates per event and channel (`hotline_notify_templates`,
//! placeholders `{编号}` `{标题}` `{单位}` `{时限}` `{签收时限}` `{状态}` `{答复}`), rendered when
//! the event happens. Until configuration is plumbed, sender settings (SMTP relay, departments'
//! e-mail addresses, attempts) live in `hotline_notify_settings`, edited through the API.

use crate::domain::{Event, Status, Ticket};
use async_trait::async_trait;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use axum::Router;
use kernel::error::{Checks, Error, Result};
use kernel::page::{Page, PageQuery};
use kernel::{audit, Actor, Backend, Db, Role, Scope, Tx};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use utoipa::{OpenApi, ToSchema};
use webcore::{ApiActor, ApiResult, AppCtx, Json, Path, Query};

// ---- events ----

pub const CREATED: &str = "ticket.created";
pub const DISPATCHED: &str = "ticket.dispatched";
pub const ACKNOWLEDGED: &str = "ticket.acknowledged";
pub const OVERDUE: &str = "ticket.overdue";
pub const REPLIED: &str = "ticket.replied";
pub const REOPENED: &str = "ticket.reopened";
pub const CALLBACK_DUE: &str = "ticket.callback_due";

/// Every event a notification can be about, with its zh-CN label.
pub const EVENTS: &[(&str, &str)] = &[
    (CREATED, "工单登记"),
    (DISPATCHED, "派单"),
    (ACKNOWLEDGED, "签收"),
    (OVERDUE, "超时红牌"),
    (REPLIED, "答复市民"),
    (REOPENED, "重办"),
    (CALLBACK_DUE, "待回访"),
];

/// Template channels: in-app (subject is the title), SMS (body only), e-mail.
pub const CHANNELS: &[(&str, &str)] = &[("inapp", "站内通知"), ("sms", "短信"), ("email", "邮件")];

/// Placeholders a template may use, with what they stand for.
pub const PLACEHOLDERS: &[(&str, &str)] = &[
    ("编号", "工单编号"),
    ("标题", "工单标题"),
    ("单位", "承办单位"),
    ("时限", "答复时限"),
    ("签收时限", "签收时限"),
    ("状态", "工单状态"),
    ("答复", "答复内容"),
];

pub fn event_label(code: &str) -> Option<&'static str> {
    EVENTS.iter().find(|(c, _)| *c == code).map(|(_, l)| *l)
}

fn channel_label(code: &str) -> Option<&'static str> {
    CHANNELS.iter().find(|(c, _)| *c == code).map(|(_, l)| *l)
}

/// The notification events one ticket event raises (most raise none).
pub fn classify(e: &Event) -> Vec<&'static str> {
    let mut v = Vec::new();
    match e.action {
        "create" => v.push(CREATED),
        "dispatch" => v.push(DISPATCHED),
        "acknowledge" => v.push(ACKNOWLEDGED),
        // The card sweep writes `card` events; only red means a deadline has passed.
        "card" if e.data.get("card").and_then(|c| c.as_str()) == Some("red") => v.push(OVERDUE),
        // Merged tickets receive their parent's reply: their callers hear of it too.
        "reply" | "follow_parent" => v.push(REPLIED),
        "reopen" => v.push(REOPENED),
        // An unsatisfied callback may send the ticket back to the department.
        "callback" if e.to == Status::Dispatched => v.push(REOPENED),
        _ => {}
    }
    if e.to == Status::Replied && e.from != Status::Replied {
        v.push(CALLBACK_DUE);
    }
    v
}

/// In-app recipients: (role, department). Without a department the row is for every holder of
/// the role whose region covers the ticket.
fn inboxes(event: &str, t: &Ticket) -> Vec<(Role, Option<i64>)> {
    let dept_handlers = |with_co: bool| {
        let mut v: Vec<(Role, Option<i64>)> = t
            .main_dept_id
            .map(|d| (Role::Handler, Some(d)))
            .into_iter()
            .collect();
        if with_co {
            v.extend(t.co_dept_ids.iter().map(|d| (Role::Handler, Some(*d))));
        }
        v
    };
    match event {
        // A ticket an operator accepted while taking the call needs nobody's attention.
        CREATED if t.status == Status::Created => vec![(Role::Operator, None)],
        DISPATCHED => dept_handlers(true),
        ACKNOWLEDGED => vec![(Role::Dispatcher, None)],
        OVERDUE => {
            let mut v = dept_handlers(false);
            v.push((Role::Supervisor, None));
            v
        }
        REOPENED => dept_handlers(false),
        CALLBACK_DUE => vec![(Role::Operator, None)],
        _ => vec![],
    }
}

/// The caller's phone for an SMS, if this event goes to the caller.
fn sms_to(event: &str, t: &Ticket) -> Option<String> {
    let phone = t.caller.phone.clone().filter(|p| !p.trim().is_empty())?;
    match event {
        CREATED => Some(phone),
        // A caller who asked for no reply gets none.
        REPLIED if t.caller.wants_reply => Some(phone),
        _ => None,
    }
}

/// Departments that get an e-mail (at the addresses set for them) for this event.
fn email_depts(event: &str, t: &Ticket) -> Vec<i64> {
    match event {
        DISPATCHED => t
            .main_dept_id
            .into_iter()
            .chain(t.co_dept_ids.iter().copied())
            .collect(),
        OVERDUE | REOPENED => t.main_dept_id.into_iter().collect(),
        _ => vec![],
    }
}

// ---- templates ----

fn vars(t: &Ticket, dept_name: Option<&str>) -> Vec<(&'static str, String)> {
    let when = |m: Option<i64>| {
        m.map(kernel::clock::format_minute)
            .unwrap_or_else(|| "—".into())
    };
    vec![
        ("编号", t.number.clone()),
        ("标题", t.title.clone()),
        ("单位", dept_name.unwrap_or("—").to_owned()),
        ("时限", when(t.reply_due)),
        ("签收时限", when(t.ack_due)),
        ("状态", t.status.label().to_owned()),
        ("答复", t.reply.clone().unwrap_or_default()),
    ]
}

/// Replaces `{name}` placeholders in one pass, so a value that itself contains `{单位}` (a title
/// typed by a citizen) is never expanded again. Unknown names stay as written.
pub fn render(template: &str, vars: &[(&str, String)]) -> String {
    let mut out = String::with_capacity(template.len() + 64);
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        match after.find('}') {
            Some(end) => {
                let name = &after[..end];
                match vars.iter().find(|(n, _)| *n == name) {
                    Some((_, v)) => out.push_str(v),
                    None => out.push_str(&rest[start..start + 1 + end + 1]),
                }
                rest = &after[end + 1..];
            }
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// Placeholders in a template that [`render`] would not know.
pub fn unknown_placeholders(template: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        let after = &rest[start + 1..];
        let Some(end) = after.find('}') else { break };
        let name = &after[..end];
        if !PLACEHOLDERS.iter().any(|(p, _)| *p == name) {
            out.push(format!("{{{name}}}"));
        }
        rest = &after[end + 1..];
    }
    out
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NotifyTemplate {
    /// Event code, e.g. `ticket.dispatched`.
    pub event: String,
    pub event_label: String,
    /// `inapp`, `sms` or `email`.
    pub channel: String,
    pub channel_label: String,
    pub enabled: bool,
    /// Title (in-app) or subject (e-mail); unused for SMS.
    pub subject: String,
    pub body: String,
    pub updated_at: i64,
    pub updated_by: String,
}

fn template_row(r: &AnyRow) -> NotifyTemplate {
    let event: String = r.get("event");
    let channel: String = r.get("channel");
    NotifyTemplate {
        event_label: event_label(&event).unwrap_or("").into(),
        channel_label: channel_label(&channel).unwrap_or("").into(),
        event,
        channel,
        enabled: kernel::db::flag(r.get("enabled")),
        subject: r.get("subject"),
        body: r.get("body"),
        updated_at: r.get("updated_at"),
        updated_by: r.get("updated_by"),
    }
}

const TEMPLATE_COLS: &str = "event, channel, enabled, subject, body, updated_at, updated_by";

async fn templates_of(c: &mut AnyConnection, event: &str) -> Result<Vec<NotifyTemplate>> {
    let rows = sqlx::query(&format!(
        "SELECT {TEMPLATE_COLS} FROM hotline_notify_templates WHERE event = $1"
    ))
    .bind(event)
    .fetch_all(c)
    .await?;
    Ok(rows.iter().map(template_row).collect())
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplateInput {
    pub enabled: bool,
    #[serde(default)]
    pub subject: String,
    pub body: String,
}

impl TemplateInput {
    fn validate(&self, channel: &str) -> Result<()> {
        let mut c = Checks::new();
        if channel != "sms" {
            c.text("subject", "标题", &self.subject, 200);
        }
        c.text("body", "正文", &self.body, 2000);
        let allowed: Vec<String> = PLACEHOLDERS
            .iter()
            .map(|(p, _)| format!("{{{p}}}"))
            .collect();
        for (field, text) in [("subject", &self.subject), ("body", &self.body)] {
            let bad = unknown_placeholders(text);
            if !bad.is_empty() {
                c.add(
                    field,
                    "unknown_placeholder",
                    format!(
                        "未知的占位符 {}；可用的有 {}",
                        bad.join(" "),
                        allowed.join(" ")
                    ),
                );
            }
        }
        c.finish()
    }
}

// ---- the outbox ----

/// Default attempts per delivery when neither the webhook nor the settings say otherwise.
pub const DEFAULT_MAX_ATTEMPTS: i64 = 8;
/// First retry after one minute, then 2, 4, 8 … minutes.
pub const BACKOFF_BASE_MS: i64 = 60_000;
/// Deliveries one worker claims at a time; small so several instances share the work.
pub const CLAIM_BATCH: i64 = 10;
/// A claim lapses after this long, so a crashed worker's rows are taken up again.
pub const LEASE_MS: i64 = 10 * 60_000;
/// Longest wait for a webhook receiver or an SMTP relay.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(10);

/// The wait after failed attempt `attempt` (1-based): 1 min, 2 min, 4 min … capped at 2⁹ min.
pub fn backoff_ms(attempt: i64) -> i64 {
    BACKOFF_BASE_MS << (attempt - 1).clamp(0, 9)
}

/// A random UUID v4, the `X-Yiwang-Delivery` id receivers use to drop duplicates.
fn new_uuid() -> String {
    let mut b: [u8; 16] = rand::random();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

struct NewDelivery<'a> {
    channel: &'a str,
    webhook_id: Option<i64>,
    event: &'a str,
    ticket_id: i64,
    recipient: &'a str,
    subject: Option<&'a str>,
    body: &'a str,
    uuid: &'a str,
    max_attempts: i64,
}

async fn insert_delivery(c: &mut AnyConnection, d: NewDelivery<'_>, now: i64) -> Result<()> {
    sqlx::query(
        "INSERT INTO hotline_deliveries (uuid, channel, webhook_id, event, ticket_id, recipient, subject, body, status,
            attempts, max_attempts, next_attempt_at, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending', 0, $9, $10, $10)",
    )
    .bind(d.uuid)
    .bind(d.channel)
    .bind(d.webhook_id)
    .bind(d.event)
    .bind(d.ticket_id)
    .bind(d.recipient)
    .bind(d.subject)
    .bind(d.body)
    .bind(d.max_attempts)
    .bind(now)
    .execute(c)
    .await?;
    Ok(())
}

async fn settings_map(c: &mut AnyConnection) -> Result<BTreeMap<String, String>> {
    let rows = sqlx::query("SELECT key, value FROM hotline_notify_settings")
        .fetch_all(c)
        .await?;
    Ok(rows
        .iter()
        .map(|r| (r.get::<String, _>(0), r.get::<String, _>(1)))
        .collect())
}

fn max_attempts_setting(s: &BTreeMap<String, String>) -> i64 {
    s.get("delivery.max_attempts")
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_MAX_ATTEMPTS)
}

fn dept_emails(s: &BTreeMap<String, String>, dept: i64) -> Vec<String> {
    s.get(&format!("dept_email.{dept}"))
        .map(|v| {
            v.split([',', ';', '，'])
                .map(str::trim)
                .filter(|a| !a.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// What a webhook receiver gets: the event and the ticket without the caller's personal data.
fn webhook_payload(
    uuid: &str,
    event: &str,
    t: &Ticket,
    e: &Event,
    dept_name: Option<&str>,
    now: i64,
) -> serde_json::Value {
    // The card sweep records its event with the ticket as read before the change.
    let card = match e.action {
        "card" => e.data.get("card").and_then(|c| c.as_str()),
        _ => None,
    }
    .unwrap_or(t.card.code());
    json!({
        "id": uuid,
        "event": event,
        "event_label": event_label(event),
        "occurred_at": now,
        "occurred_at_text": kernel::clock::rfc3339(now),
        "action": e.action,
        "ticket": {
            "id": t.id,
            "number": t.number,
            "title": t.title,
            "kind": t.kind.code(),
            "urgency": t.urgency.code(),
            "status": t.status.code(),
            "status_label": t.status.label(),
            "main_dept_id": t.main_dept_id,
            "main_dept_name": dept_name,
            "co_dept_ids": t.co_dept_ids,
            "ack_due": t.ack_due,
            "reply_due": t.reply_due,
            "card": card,
            "region_code": t.location.region_code,
            "created_at": t.created_at,
        }
    })
}

/// Writes the notifications and deliveries a ticket event causes, inside the event's own
/// transaction. Called once per event by `HotlineService::record`.
pub async fn enqueue(tx: &mut Tx, t: &Ticket, e: &Event, now: i64) -> Result<()> {
    let events = classify(e);
    if events.is_empty() {
        return Ok(());
    }
    let c: &mut AnyConnection = tx;
    let dept_name: Option<String> = match t.main_dept_id {
        Some(d) => {
            sqlx::query_scalar("SELECT name FROM org_departments WHERE id = $1")
                .bind(d)
                .fetch_optional(&mut *c)
                .await?
        }
        None => None,
    };
    let vars = vars(t, dept_name.as_deref());
    let settings = settings_map(&mut *c).await?;
    let hooks = sqlx::query(
        "SELECT id, url, events, max_attempts FROM hotline_webhooks WHERE active = 1 AND deleted_at IS NULL ORDER BY id",
    )
    .fetch_all(&mut *c)
    .await?;
    for event in events {
        let templates = templates_of(&mut *c, event).await?;
        let template = |ch: &str| templates.iter().find(|x| x.channel == ch && x.enabled);
        if let Some(tp) = template("inapp") {
            let (title, body) = (render(&tp.subject, &vars), render(&tp.body, &vars));
            for (role, dept) in inboxes(event, t) {
                sqlx::query(
                    "INSERT INTO hotline_notifications (event, ticket_id, ticket_number, role, dept_id, region_code, title, body, created_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                )
                .bind(event)
                .bind(t.id)
                .bind(&t.number)
                .bind(role.code())
                .bind(dept)
                .bind(&t.location.region_code)
                .bind(&title)
                .bind(&body)
                .bind(now)
                .execute(&mut *c)
                .await?;
            }
        }
        if let (Some(tp), Some(phone)) = (template("sms"), sms_to(event, t)) {
            let body = render(&tp.body, &vars);
            let uuid = new_uuid();
            let d = NewDelivery {
                channel: "sms",
                webhook_id: None,
                event,
                ticket_id: t.id,
                recipient: &phone,
                subject: None,
                body: &body,
                uuid: &uuid,
                max_attempts: max_attempts_setting(&settings),
            };
            insert_delivery(&mut *c, d, now).await?;
        }
        if let Some(tp) = template("email") {
            let (subject, body) = (render(&tp.subject, &vars), render(&tp.body, &vars));
            for dept in email_depts(event, t) {
                for addr in dept_emails(&settings, dept) {
                    let uuid = new_uuid();
                    let d = NewDelivery {
                        channel: "email",
                        webhook_id: None,
                        event,
                        ticket_id: t.id,
                        recipient: &addr,
                        subject: Some(&subject),
                        body: &body,
                        uuid: &uuid,
                        max_attempts: max_attempts_setting(&settings),
                    };
                    insert_delivery(&mut *c, d, now).await?;
                }
            }
        }
        for h in &hooks {
            let filter: Vec<String> =
                serde_json::from_str(&h.get::<String, _>("events")).unwrap_or_default();
            if !filter.is_empty() && !filter.iter().any(|f| f == event) {
                continue;
            }
            let uuid = new_uuid();
            let body = webhook_payload(&uuid, event, t, e, dept_name.as_deref(), now).to_string();
            let url: String = h.get("url");
            let d = NewDelivery {
                channel: "webhook",
                webhook_id: Some(h.get("id")),
                event,
                ticket_id: t.id,
                recipient: &url,
                subject: None,
                body: &body,
                uuid: &uuid,
                max_attempts: h.get("max_attempts"),
            };
            insert_delivery(&mut *c, d, now).await?;
        }
    }
    Ok(())
}

// ---- signatures ----

type HmacSha256 = hmac::Hmac<sha2::Sha256>;
type HmacSm3 = hmac::Hmac<sm3::Sm3>;

/// Hex HMAC-SHA256 of `body` under `secret`: the `X-Yiwang-Signature: sha256=…` value.
pub fn sign_sha256(secret: &str, body: &[u8]) -> String {
    use hmac::Mac;
    let mut m = HmacSha256::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    m.update(body);
    hex::encode(m.finalize().into_bytes())
}

/// Hex HMAC-SM3 (GB/T 32905) of `body`: the `X-Yiwang-Signature-SM3: sm3=…` value, for
/// receivers that must use 国密 algorithms.
pub fn sign_sm3(secret: &str, body: &[u8]) -> String {
    use hmac::Mac;
    let mut m = HmacSm3::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    m.update(body);
    hex::encode(m.finalize().into_bytes())
}

// ---- senders ----

/// One SMS or e-mail to send.
#[derive(Debug, Clone)]
pub struct OutboundMessage {
    /// `sms` or `email`.
    pub channel: String,
    pub to: String,
    pub subject: Option<String>,
    pub body: String,
    pub event: String,
    pub ticket_id: Option<i64>,
    pub delivery_uuid: String,
}

/// Sends SMS or e-mail. An `Err` is a zh-CN reason, logged on the attempt; the delivery is
/// retried later.
#[async_trait]
pub trait Sender: Send + Sync {
    async fn send(&self, m: &OutboundMessage) -> std::result::Result<(), String>;
}

/// Sends nothing: writes the message to the log and to `hotline_outbound_messages`, so staff can
/// see what would have been sent. The SMS channel always uses it (no gateway yet).
pub struct LogSender {
    db: Db,
}

impl LogSender {
    pub fn new(db: Db) -> Self {
        LogSender { db }
    }
}

#[async_trait]
impl Sender for LogSender {
    async fn send(&self, m: &OutboundMessage) -> std::result::Result<(), String> {
        let to = if m.channel == "sms" {
            kernel::mask::phone(&m.to)
        } else {
            m.to.clone()
        };
        tracing::info!(channel = %m.channel, to = %to, subject = ?m.subject, body = %m.body, event = %m.event,
            delivery = %m.delivery_uuid, "outbound message logged, not sent");
        let write = async {
            let mut tx = self.db.begin().await?;
            sqlx::query(
                "INSERT INTO hotline_outbound_messages (channel, recipient, subject, body, event, ticket_id, delivery_uuid, at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(&m.channel)
            .bind(&m.to)
            .bind(&m.subject)
            .bind(&m.body)
            .bind(&m.event)
            .bind(m.ticket_id)
            .bind(&m.delivery_uuid)
            .bind(self.db.now())
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok::<(), Error>(())
        };
        write.await.map_err(|e| format!("记录外发消息失败：{e}"))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpTls {
    /// Plain SMTP, for relays on the intranet.
    None,
    /// Plain connection upgraded with STARTTLS (port 587); refuses to go on without it.
    StartTls,
    /// TLS from the first byte (port 465).
    Tls,
}

/// SMTP relay settings, from `hotline_notify_settings` (`smtp.*`) or built by the caller.
#[derive(Debug, Clone)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub tls: SmtpTls,
    pub username: Option<String>,
    pub password: Option<String>,
    /// The From address, e.g. `12345热线 <hotline@example.gov.cn>`.
    pub from: String,
}

impl SmtpSettings {
    pub fn from_settings(s: &BTreeMap<String, String>) -> Result<SmtpSettings> {
        let get = |k: &str| s.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
        let host = get("smtp.host")
            .ok_or_else(|| Error::field("smtp.host", "required", "请设置 SMTP 服务器地址"))?;
        let from = get("smtp.from")
            .ok_or_else(|| Error::field("smtp.from", "required", "请设置发件人地址"))?;
        let tls = match get("smtp.tls").unwrap_or("starttls") {
            "none" => SmtpTls::None,
            "starttls" => SmtpTls::StartTls,
            "tls" => SmtpTls::Tls,
            _ => {
                return Err(Error::field(
                    "smtp.tls",
                    "invalid_enum",
                    "smtp.tls 只能是 none、starttls 或 tls",
                ))
            }
        };
        let port = match get("smtp.port") {
            Some(p) => p.parse::<u16>().ok().filter(|p| *p > 0).ok_or_else(|| {
                Error::field("smtp.port", "out_of_range", "SMTP 端口应为 1–65535")
            })?,
            None => match tls {
                SmtpTls::None => 25,
                SmtpTls::StartTls => 587,
                SmtpTls::Tls => 465,
            },
        };
        Ok(SmtpSettings {
            host: host.into(),
            port,
            tls,
            username: get("smtp.username").map(str::to_owned),
            password: get("smtp.password").map(str::to_owned),
            from: from.into(),
        })
    }
}

/// Sends e-mail through an SMTP relay with lettre (tokio, rustls for STARTTLS/TLS).
pub struct SmtpSender {
    transport: lettre::AsyncSmtpTransport<lettre::Tokio1Executor>,
    from: lettre::message::Mailbox,
}

impl SmtpSender {
    pub fn new(s: &SmtpSettings) -> Result<SmtpSender> {
        use lettre::transport::smtp::authentication::Credentials;
        use lettre::AsyncSmtpTransport as T;
        let tls_err = |e: lettre::transport::smtp::Error| {
            Error::field("smtp.host", "invalid", format!("SMTP 设置无效：{e}"))
        };
        let builder = match s.tls {
            SmtpTls::None => T::<lettre::Tokio1Executor>::builder_dangerous(&s.host),
            SmtpTls::StartTls => {
                T::<lettre::Tokio1Executor>::starttls_relay(&s.host).map_err(tls_err)?
            }
            SmtpTls::Tls => T::<lettre::Tokio1Executor>::relay(&s.host).map_err(tls_err)?,
        };
        let mut builder = builder.port(s.port).timeout(Some(SEND_TIMEOUT));
        if let Some(u) = &s.username {
            builder = builder.credentials(Credentials::new(
                u.clone(),
                s.password.clone().unwrap_or_default(),
            ));
        }
        let from = s
            .from
            .parse()
            .map_err(|_| Error::field("smtp.from", "invalid_email", "发件人地址格式不正确"))?;
        Ok(SmtpSender {
            transport: builder.build(),
            from,
        })
    }
}

#[async_trait]
impl Sender for SmtpSender {
    async fn send(&self, m: &OutboundMessage) -> std::result::Result<(), String> {
        use lettre::message::header::{ContentTransferEncoding, ContentType};
        use lettre::message::{Body, SinglePart};
        use lettre::AsyncTransport;
        let to: lettre::message::Mailbox =
            m.to.parse()
                .map_err(|_| format!("收件人地址格式不正确：{}", m.to))?;
        // Base64 keeps Chinese text intact through any relay, 8BITMIME or not.
        let body = Body::new_with_encoding(m.body.clone(), ContentTransferEncoding::Base64)
            .map_err(|_| "邮件正文编码失败".to_owned())?;
        let msg = lettre::Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(m.subject.clone().unwrap_or_default())
            .singlepart(
                SinglePart::builder()
                    .header(ContentType::TEXT_PLAIN)
                    .body(body),
            )
            .map_err(|e| format!("邮件构造失败：{e}"))?;
        self.transport
            .send(msg)
            .await
            .map(|_| ())
            .map_err(|e| format!("SMTP 发送失败：{e}"))
    }
}

/// Refuses every message with the same reason: used when the SMTP settings are incomplete, so
/// the attempts log says why instead of the worker stopping.
struct Misconfigured(String);

#[async_trait]
impl Sender for Misconfigured {
    async fn send(&self, _m: &OutboundMessage) -> std::result::Result<(), String> {
        Err(self.0.clone())
    }
}

/// What the delivery worker sends with.
#[derive(Clone)]
pub struct Senders {
    pub sms: Arc<dyn Sender>,
    pub email: Arc<dyn Sender>,
    pub http: reqwest::Client,
}

impl Senders {
    /// SMS to the log; e-mail through SMTP when `email.sender` is `smtp`, else to the log.
    pub async fn from_settings(db: &Db) -> Result<Senders> {
        let s = settings_map(&mut *db.pool().acquire().await?).await?;
        let email: Arc<dyn Sender> = match s.get("email.sender").map(String::as_str) {
            Some("smtp") => match SmtpSettings::from_settings(&s).and_then(|x| SmtpSender::new(&x))
            {
                Ok(x) => Arc::new(x),
                Err(e) => Arc::new(Misconfigured(format!("邮件发送设置有误：{}", e.detail()))),
            },
            _ => Arc::new(LogSender::new(db.clone())),
        };
        Ok(Senders {
            sms: Arc::new(LogSender::new(db.clone())),
            email,
            http: webhook_client()?,
        })
    }
}

fn webhook_client() -> Result<reqwest::Client> {
    reqwest::Client::builder()
        // A redirect would carry the signed body somewhere the admin did not register.
        .redirect(reqwest::redirect::Policy::none())
        .timeout(SEND_TIMEOUT)
        .user_agent(concat!("yiwang-webhook/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| Error::internal(format!("http client: {e}")))
}

// ---- the delivery worker ----

struct Claimed {
    id: i64,
    uuid: String,
    channel: String,
    webhook_id: Option<i64>,
    event: String,
    ticket_id: Option<i64>,
    recipient: String,
    subject: Option<String>,
    body: String,
    attempts: i64,
    max_attempts: i64,
}

/// Claims up to [`CLAIM_BATCH`] due deliveries for `worker`, in one statement. The claim is a
/// lease (`claimed_until`) so rows of a crashed worker come back. PostgreSQL: the inner SELECT
/// takes the rows with `FOR UPDATE SKIP LOCKED`, so concurrent workers pass over each other's
/// rows instead of waiting, and the outer WHERE re-checks the claim. SQLite: one writer at a time,
/// so the same compare-and-set UPDATE runs serially.
async fn claim(db: &Db, worker: &str, now: i64) -> Result<Vec<Claimed>> {
    let lock = match db.backend() {
        Backend::Postgres => " FOR UPDATE SKIP LOCKED",
        Backend::Sqlite => "",
    };
    let due = "status = 'pending' AND next_attempt_at <= $3 AND (claimed_until IS NULL OR claimed_until < $3)";
    let sql = format!(
        "UPDATE hotline_deliveries SET claimed_by = $1, claimed_until = $2
         WHERE id IN (SELECT id FROM hotline_deliveries WHERE {due} ORDER BY next_attempt_at, id LIMIT $4{lock})
           AND {due}
         RETURNING id, uuid, channel, webhook_id, event, ticket_id, recipient, subject, body, attempts, max_attempts"
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
            event: r.get("event"),
            ticket_id: r.get("ticket_id"),
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
    let hook =
        sqlx::query("SELECT url, secret, active, deleted_at FROM hotline_webhooks WHERE id = $1")
            .bind(d.webhook_id)
            .fetch_optional(db.pool())
            .await?;
    let Some(h) = hook else {
        return Ok(Outcome::Cancelled("Webhook 不存在".into()));
    };
    if h.get::<Option<i64>, _>("deleted_at").is_some() || h.get::<i64, _>("active") == 0 {
        return Ok(Outcome::Cancelled("Webhook 已删除或已停用".into()));
    }
    // Signed at send time with the current secret, so a rotated secret applies to retries too.
    let (url, secret): (String, String) = (h.get("url"), h.get("secret"));
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
        event: d.event.clone(),
        ticket_id: d.ticket_id,
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
        Outcome::Cancelled(reason) => {
            sqlx::query(
                "UPDATE hotline_deliveries SET status = 'cancelled', last_error = $1, claimed_by = NULL, claimed_until = NULL
                 WHERE id = $2 AND claimed_by = $3",
            )
            .bind(reason)
            .bind(d.id)
            .bind(worker)
            .execute(&mut *tx)
            .await?
            .rows_affected()
        }
        Outcome::Delivered { status_code } | Outcome::Failed { status_code, .. } => {
            let error = match outcome {
                Outcome::Failed { error, .. } => Some(error.as_str()),
                _ => None,
            };
            let ok = error.is_none();
            let n_attempt = d.attempts + 1;
            sqlx::query(
                "INSERT INTO hotline_delivery_attempts (delivery_id, attempt, at, worker, ok, status_code, error, duration_ms)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(d.id)
            .bind(n_attempt)
            .bind(now)
            .bind(worker)
            .bind(ok as i64)
            .bind(status_code.map(i64::from))
            .bind(error)
            .bind(duration_ms)
            .execute(&mut *tx)
            .await?;
            let (status, next) = if ok {
                ("delivered", now)
            } else if n_attempt >= d.max_attempts {
                ("failed", now)
            } else {
                ("pending", now + backoff_ms(n_attempt))
            };
            sqlx::query(
                "UPDATE hotline_deliveries SET attempts = $1, status = $2, next_attempt_at = $3, last_error = $4,
                    delivered_at = $5, claimed_by = NULL, claimed_until = NULL
                 WHERE id = $6 AND claimed_by = $7",
            )
            .bind(n_attempt)
            .bind(status)
            .bind(next)
            .bind(error)
            .bind(ok.then_some(now))
            .bind(d.id)
            .bind(worker)
            .execute(&mut *tx)
            .await?
            .rows_affected()
        }
    };
    if n == 0 {
        // The lease ran out and another worker took the row over; it decides what happens next.
        tracing::warn!(delivery = %d.uuid, "delivery claim lost before the attempt was recorded");
    }
    tx.commit().await?;
    Ok(())
}

/// Deliveries one run of the worker handles at most (it runs every 15 s).
pub const MAX_PER_RUN: usize = 200;

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
        let batch = claim(db, &worker, now).await?;
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

// ---- the service behind the API ----

/// Inbox, webhooks, templates and settings. Like `HotlineService`, every method checks the actor.
#[derive(Clone, Debug)]
pub struct NotifyService {
    db: Db,
}

const ADMIN: &[Role] = &[Role::Admin];
const STAFF_DESK: &[Role] = &[
    Role::Operator,
    Role::Dispatcher,
    Role::Supervisor,
    Role::Admin,
];

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Notification {
    pub id: i64,
    pub event: String,
    pub event_label: String,
    pub ticket_id: Option<i64>,
    pub ticket_number: Option<String>,
    pub title: String,
    pub body: String,
    pub created_at: i64,
    pub read: bool,
}

/// One page of the caller's inbox, with the unread count of the whole inbox.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Inbox {
    pub items: Vec<Notification>,
    pub total: i64,
    pub unread: i64,
    pub page: i64,
    pub per_page: i64,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
pub struct InboxQuery {
    /// Only unread notifications.
    #[serde(default)]
    pub unread: bool,
    /// Only this event, e.g. `ticket.dispatched`.
    pub event: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Webhook {
    pub id: i64,
    pub name: String,
    pub url: String,
    /// Event codes; empty means every event.
    pub events: Vec<String>,
    pub active: bool,
    pub max_attempts: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookInput {
    pub name: String,
    /// `http://` address of the receiver.
    pub url: String,
    /// HMAC key, 16–200 characters. Required on creation; omitted on update keeps the old one.
    pub secret: Option<String>,
    /// Event codes to send; empty or omitted means every event.
    #[serde(default)]
    pub events: Vec<String>,
    #[serde(default = "yes")]
    pub active: bool,
    /// Attempts before giving up (1–20, default 8).
    pub max_attempts: Option<i64>,
}

fn yes() -> bool {
    true
}

impl WebhookInput {
    fn validate(&self, creating: bool) -> Result<()> {
        let mut c = Checks::new();
        c.text("name", "名称", &self.name, 100);
        match reqwest::Url::parse(self.url.trim()) {
            Ok(u) if u.scheme() == "http" && u.host_str().is_some() => {}
            Ok(u) if u.scheme() == "https" => c.add(
                "url",
                "https_unsupported",
                "当前版本的出站请求未启用 HTTPS，请填写 http:// 地址（如经内网网关转发）",
            ),
            _ => c.add("url", "invalid_url", "请填写完整的 http:// 地址"),
        }
        match self.secret.as_deref() {
            None if creating => c.add("secret", "required", "请填写签名密钥"),
            None => {}
            Some(s) => c.check(
                (16..=200).contains(&s.chars().count()),
                "secret",
                "out_of_range",
                "签名密钥应为 16–200 个字符",
            ),
        }
        for e in &self.events {
            if event_label(e).is_none() {
                let known: Vec<&str> = EVENTS.iter().map(|(c, _)| *c).collect();
                c.add(
                    "events",
                    "invalid_enum",
                    format!("未知的事件“{e}”；可用的有 {}", known.join("、")),
                );
            }
        }
        if let Some(n) = self.max_attempts {
            c.check(
                (1..=20).contains(&n),
                "max_attempts",
                "out_of_range",
                "最多尝试次数应为 1–20",
            );
        }
        c.finish()
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DeliveryAttempt {
    pub attempt: i64,
    pub at: i64,
    pub ok: bool,
    pub status_code: Option<i64>,
    pub error: Option<String>,
    pub duration_ms: i64,
    pub worker: String,
}

/// One delivery with every attempt made.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Delivery {
    pub id: i64,
    /// The `X-Yiwang-Delivery` id.
    pub uuid: String,
    pub event: String,
    pub ticket_id: Option<i64>,
    pub recipient: String,
    /// `pending`, `delivered`, `failed` (gave up) or `cancelled`.
    pub status: String,
    pub attempts: i64,
    pub max_attempts: i64,
    pub next_attempt_at: i64,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub delivered_at: Option<i64>,
    pub attempt_log: Vec<DeliveryAttempt>,
}

/// A message the logging sender recorded instead of sending.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OutboundRecord {
    pub id: i64,
    pub channel: String,
    pub recipient: String,
    pub subject: Option<String>,
    pub body: String,
    pub event: Option<String>,
    pub ticket_id: Option<i64>,
    pub delivery_uuid: Option<String>,
    pub at: i64,
}

/// Settings keys an admin may set; `dept_email.<部门 id>` besides.
pub const SETTING_KEYS: &[&str] = &[
    "email.sender",
    "smtp.host",
    "smtp.port",
    "smtp.tls",
    "smtp.username",
    "smtp.password",
    "smtp.from",
    "delivery.max_attempts",
];

fn check_setting(c: &mut Checks, key: &str, value: &str) {
    let v = value.trim();
    match key {
        "email.sender" => c.check(
            matches!(v, "log" | "smtp"),
            key,
            "invalid_enum",
            "email.sender 只能是 log（只记录）或 smtp",
        ),
        "smtp.tls" => c.check(
            matches!(v, "none" | "starttls" | "tls"),
            key,
            "invalid_enum",
            "smtp.tls 只能是 none、starttls 或 tls",
        ),
        "smtp.port" => c.check(
            v.parse::<u16>().is_ok_and(|p| p > 0),
            key,
            "out_of_range",
            "SMTP 端口应为 1–65535",
        ),
        "smtp.from" => c.check(
            v.parse::<lettre::message::Mailbox>().is_ok(),
            key,
            "invalid_email",
            "发件人地址格式不正确",
        ),
        "delivery.max_attempts" => c.check(
            v.parse::<i64>().is_ok_and(|n| (1..=20).contains(&n)),
            key,
            "out_of_range",
            "最多尝试次数应为 1–20",
        ),
        "smtp.host" | "smtp.username" | "smtp.password" => c.check(
            v.chars().count() <= 200,
            key,
            "too_long",
            "不能超过 200 个字符",
        ),
        k if k.starts_with("dept_email.") => {
            let id_ok = k["dept_email.".len()..].parse::<i64>().is_ok();
            c.check(id_ok, key, "invalid_key", "应为 dept_email.<部门 id>");
            let bad: Vec<&str> = v
                .split([',', ';', '，'])
                .map(str::trim)
                .filter(|a| !a.is_empty() && a.parse::<lettre::Address>().is_err())
                .collect();
            c.check(
                bad.is_empty(),
                key,
                "invalid_email",
                format!("邮箱地址格式不正确：{}", bad.join("、")),
            );
        }
        _ => c.add(
            key,
            "unknown_setting",
            format!(
                "未知的设置项；可用的有 {} 和 dept_email.<部门 id>",
                SETTING_KEYS.join("、")
            ),
        ),
    }
}

fn mask_settings(mut s: BTreeMap<String, String>) -> BTreeMap<String, String> {
    if let Some(p) = s.get_mut("smtp.password") {
        *p = "******".into();
    }
    s
}

/// The SQL condition (on `n`) for the notifications an actor's inboxes hold, with its binds from
/// `$first` on; `None` when the actor has no inbox.
fn inbox_clause(actor: &Actor, first: usize) -> Option<(String, Vec<String>)> {
    let roles: Vec<String> = actor
        .roles
        .iter()
        .filter(|r| **r != Role::Citizen)
        .map(|r| format!("'{}'", r.code()))
        .collect();
    if roles.is_empty() {
        return None;
    }
    let roles = format!("n.role IN ({})", roles.join(","));
    match &actor.scope {
        Scope::All => Some((roles, vec![])),
        Scope::Region { prefix } => Some((
            format!("{roles} AND (n.region_code IS NULL OR n.region_code LIKE ${first})"),
            vec![format!("{prefix}%")],
        )),
        Scope::Departments { ids } if !ids.is_empty() => {
            let ids: Vec<String> = ids.iter().map(i64::to_string).collect();
            Some((
                format!("{roles} AND n.dept_id IN ({})", ids.join(",")),
                vec![],
            ))
        }
        _ => None,
    }
}

const INBOX_FROM: &str = "FROM hotline_notifications n LEFT JOIN hotline_notification_reads r ON r.notification_id = n.id AND r.user_id = $1";

async fn inbox_count(
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

impl NotifyService {
    pub fn new(db: Db) -> Self {
        NotifyService { db }
    }

    async fn conn(&self) -> Result<sqlx::pool::PoolConnection<sqlx::Any>> {
        Ok(self.db.pool().acquire().await?)
    }

    fn inbox_user(actor: &Actor) -> Result<i64> {
        actor.require_scope("hotline:read")?;
        actor
            .user_id
            .ok_or_else(|| Error::forbidden("只有登录用户才有通知收件箱"))
    }

    /// The caller's notifications (their roles' inboxes, in their department or region), newest
    /// first, with the unread count.
    pub async fn inbox(&self, actor: &Actor, q: &InboxQuery, page: &PageQuery) -> Result<Inbox> {
        let user = Self::inbox_user(actor)?;
        let Some((vis, vis_binds)) = inbox_clause(actor, 2) else {
            return Ok(Inbox {
                items: vec![],
                total: 0,
                unread: 0,
                page: page.page(),
                per_page: page.per_page(),
            });
        };
        let mut binds = vis_binds.clone();
        let mut cond = vis.clone();
        if let Some(e) = q.event.as_deref().filter(|e| !e.is_empty()) {
            binds.push(e.to_owned());
            cond.push_str(&format!(" AND n.event = ${}", binds.len() + 1));
        }
        if q.unread {
            cond.push_str(" AND r.notification_id IS NULL");
        }
        let mut c = self.conn().await?;
        let sql = format!(
            "SELECT n.id, n.event, n.ticket_id, n.ticket_number, n.title, n.body, n.created_at, r.read_at {INBOX_FROM}
             WHERE {cond} ORDER BY n.id DESC LIMIT {} OFFSET {}",
            page.per_page(),
            page.offset()
        );
        let mut qy = sqlx::query(&sql).bind(user);
        for b in &binds {
            qy = qy.bind(b);
        }
        let rows = qy.fetch_all(&mut *c).await?;
        let total = inbox_count(&mut c, user, &cond, &binds).await?;
        // The unread count is of the whole inbox, whatever the filters.
        let unread = inbox_count(
            &mut c,
            user,
            &format!("{vis} AND r.notification_id IS NULL"),
            &vis_binds,
        )
        .await?;
        let items = rows
            .iter()
            .map(|r| {
                let event: String = r.get("event");
                Notification {
                    id: r.get("id"),
                    event_label: event_label(&event).unwrap_or("").into(),
                    event,
                    ticket_id: r.get("ticket_id"),
                    ticket_number: r.get("ticket_number"),
                    title: r.get("title"),
                    body: r.get("body"),
                    created_at: r.get("created_at"),
                    read: r.get::<Option<i64>, _>("read_at").is_some(),
                }
            })
            .collect();
        Ok(Inbox {
            items,
            total,
            unread,
            page: page.page(),
            per_page: page.per_page(),
        })
    }

    /// Marks one notification of the caller's inboxes read (for the caller only).
    pub async fn mark_read(&self, actor: &Actor, id: i64) -> Result<()> {
        let user = Self::inbox_user(actor)?;
        let not_found = || Error::not_found("notification", "通知不存在");
        let (vis, binds) = inbox_clause(actor, 2).ok_or_else(not_found)?;
        let mut tx = self.db.begin().await?;
        let sql = format!("SELECT n.id FROM hotline_notifications n WHERE n.id = $1 AND {vis}");
        let mut qy = sqlx::query_scalar::<_, i64>(&sql).bind(id);
        for b in &binds {
            qy = qy.bind(b);
        }
        qy.fetch_optional(&mut *tx).await?.ok_or_else(not_found)?;
        sqlx::query(
            "INSERT INTO hotline_notification_reads (notification_id, user_id, read_at) VALUES ($1, $2, $3)
             ON CONFLICT DO NOTHING",
        )
        .bind(id)
        .bind(user)
        .bind(self.db.now())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Marks everything in the caller's inboxes read; returns how many were unread.
    pub async fn mark_all_read(&self, actor: &Actor) -> Result<u64> {
        let user = Self::inbox_user(actor)?;
        let Some((vis, binds)) = inbox_clause(actor, 3) else {
            return Ok(0);
        };
        let sql = format!(
            "INSERT INTO hotline_notification_reads (notification_id, user_id, read_at)
             SELECT n.id, $1, $2 FROM hotline_notifications n
             WHERE {vis} AND NOT EXISTS (SELECT 1 FROM hotline_notification_reads r WHERE r.notification_id = n.id AND r.user_id = $1)
             ON CONFLICT DO NOTHING"
        );
        let mut tx = self.db.begin().await?;
        let mut qy = sqlx::query(&sql).bind(user).bind(self.db.now());
        for b in &binds {
            qy = qy.bind(b);
        }
        let n = qy.execute(&mut *tx).await?.rows_affected();
        tx.commit().await?;
        Ok(n)
    }

    // ---- webhooks ----

    fn admin(actor: &Actor, write: bool) -> Result<()> {
        actor.require_any_role(ADMIN)?;
        actor.require_scope(if write {
            "hotline:write"
        } else {
            "hotline:read"
        })
    }

    pub async fn webhooks(&self, actor: &Actor) -> Result<Vec<Webhook>> {
        Self::admin(actor, false)?;
        let rows = sqlx::query(&format!(
            "SELECT {WEBHOOK_COLS} FROM hotline_webhooks WHERE deleted_at IS NULL ORDER BY id"
        ))
        .fetch_all(&mut *self.conn().await?)
        .await?;
        Ok(rows.iter().map(webhook_row).collect())
    }

    async fn webhook_in(c: &mut AnyConnection, id: i64) -> Result<Webhook> {
        let r = sqlx::query(&format!(
            "SELECT {WEBHOOK_COLS} FROM hotline_webhooks WHERE id = $1 AND deleted_at IS NULL"
        ))
        .bind(id)
        .fetch_optional(c)
        .await?
        .ok_or_else(|| Error::not_found("webhook", "Webhook 不存在"))?;
        Ok(webhook_row(&r))
    }

    pub async fn webhook(&self, actor: &Actor, id: i64) -> Result<Webhook> {
        Self::admin(actor, false)?;
        Self::webhook_in(&mut *self.conn().await?, id).await
    }

    pub async fn create_webhook(&self, actor: &Actor, w: WebhookInput) -> Result<Webhook> {
        Self::admin(actor, true)?;
        w.validate(true)?;
        let now = self.db.now();
        let mut tx = self.db.begin().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO hotline_webhooks (name, url, secret, events, active, max_attempts, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id",
        )
        .bind(w.name.trim())
        .bind(w.url.trim())
        .bind(w.secret.as_deref().unwrap_or_default())
        .bind(serde_json::to_string(&w.events)?)
        .bind(w.active as i64)
        .bind(w.max_attempts.unwrap_or(DEFAULT_MAX_ATTEMPTS))
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        // The secret never goes into the audit chain.
        audit::record(
            &mut tx,
            now,
            &actor.audit_actor(),
            "webhook",
            id,
            "create",
            json!({"name": w.name.trim(), "url": w.url.trim(), "events": w.events, "active": w.active}),
        )
        .await?;
        let h = Self::webhook_in(&mut tx, id).await?;
        tx.commit().await?;
        Ok(h)
    }

    pub async fn update_webhook(&self, actor: &Actor, id: i64, w: WebhookInput) -> Result<Webhook> {
        Self::admin(actor, true)?;
        w.validate(false)?;
        let now = self.db.now();
        let mut tx = self.db.begin().await?;
        let before = Self::webhook_in(&mut tx, id).await?;
        sqlx::query(
            "UPDATE hotline_webhooks SET name = $1, url = $2, secret = COALESCE($3, secret), events = $4, active = $5,
                max_attempts = $6, updated_at = $7 WHERE id = $8",
        )
        .bind(w.name.trim())
        .bind(w.url.trim())
        .bind(w.secret.as_deref())
        .bind(serde_json::to_string(&w.events)?)
        .bind(w.active as i64)
        .bind(w.max_attempts.unwrap_or(before.max_attempts))
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        audit::record(
            &mut tx,
            now,
            &actor.audit_actor(),
            "webhook",
            id,
            "update",
            json!({"name": w.name.trim(), "url": w.url.trim(), "events": w.events, "active": w.active,
                   "secret_changed": w.secret.is_some()}),
        )
        .await?;
        let h = Self::webhook_in(&mut tx, id).await?;
        tx.commit().await?;
        Ok(h)
    }

    /// Removes a webhook from use; its pending deliveries are cancelled, its log is kept.
    pub async fn delete_webhook(&self, actor: &Actor, id: i64) -> Result<()> {
        Self::admin(actor, true)?;
        let now = self.db.now();
        let mut tx = self.db.begin().await?;
        Self::webhook_in(&mut tx, id).await?;
        sqlx::query("UPDATE hotline_webhooks SET deleted_at = $1, active = 0, updated_at = $1 WHERE id = $2")
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "UPDATE hotline_deliveries SET status = 'cancelled', last_error = 'Webhook 已删除'
             WHERE webhook_id = $1 AND status = 'pending' AND claimed_by IS NULL",
        )
        .bind(id)
        .execute(&mut *tx)
        .await?;
        audit::record(
            &mut tx,
            now,
            &actor.audit_actor(),
            "webhook",
            id,
            "delete",
            json!({}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// A webhook's deliveries, newest first, each with its attempts.
    pub async fn deliveries(
        &self,
        actor: &Actor,
        webhook_id: i64,
        page: &PageQuery,
    ) -> Result<Page<Delivery>> {
        Self::admin(actor, false)?;
        let mut c = self.conn().await?;
        // Deleted webhooks keep their log.
        sqlx::query_scalar::<_, i64>("SELECT id FROM hotline_webhooks WHERE id = $1")
            .bind(webhook_id)
            .fetch_optional(&mut *c)
            .await?
            .ok_or_else(|| Error::not_found("webhook", "Webhook 不存在"))?;
        let rows = sqlx::query(&format!(
            "SELECT id, uuid, event, ticket_id, recipient, status, attempts, max_attempts, next_attempt_at, last_error,
                created_at, delivered_at FROM hotline_deliveries WHERE webhook_id = $1 ORDER BY id DESC LIMIT {} OFFSET {}",
            page.per_page(),
            page.offset()
        ))
        .bind(webhook_id)
        .fetch_all(&mut *c)
        .await?;
        let total: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM hotline_deliveries WHERE webhook_id = $1")
                .bind(webhook_id)
                .fetch_one(&mut *c)
                .await?;
        let mut items = Vec::with_capacity(rows.len());
        for r in &rows {
            let id: i64 = r.get("id");
            let attempts = sqlx::query(
                "SELECT attempt, at, ok, status_code, error, duration_ms, worker FROM hotline_delivery_attempts
                 WHERE delivery_id = $1 ORDER BY attempt, id",
            )
            .bind(id)
            .fetch_all(&mut *c)
            .await?;
            items.push(Delivery {
                id,
                uuid: r.get("uuid"),
                event: r.get("event"),
                ticket_id: r.get("ticket_id"),
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
        Ok(Page::new(items, total, page))
    }

    // ---- templates ----

    pub async fn templates(&self, actor: &Actor) -> Result<Vec<NotifyTemplate>> {
        Self::admin(actor, false)?;
        let rows = sqlx::query(&format!(
            "SELECT {TEMPLATE_COLS} FROM hotline_notify_templates ORDER BY event, channel"
        ))
        .fetch_all(&mut *self.conn().await?)
        .await?;
        let mut v: Vec<NotifyTemplate> = rows.iter().map(template_row).collect();
        // In the order events happen, not alphabetical.
        let rank = |e: &str| {
            EVENTS
                .iter()
                .position(|(c, _)| *c == e)
                .unwrap_or(usize::MAX)
        };
        v.sort_by_key(|t| (rank(&t.event), t.channel.clone()));
        Ok(v)
    }

    /// Edits one template; takes effect for the next event. Only the event/channel pairs that
    /// have recipients exist (the migration seeds them).
    pub async fn update_template(
        &self,
        actor: &Actor,
        event: &str,
        channel: &str,
        input: TemplateInput,
    ) -> Result<NotifyTemplate> {
        Self::admin(actor, true)?;
        let missing = || Error::not_found("notify_template", "没有这个事件和渠道的通知模板");
        if event_label(event).is_none() || channel_label(channel).is_none() {
            return Err(missing());
        }
        input.validate(channel)?;
        let now = self.db.now();
        let who = actor.audit_actor();
        let mut tx = self.db.begin().await?;
        let n = sqlx::query(
            "UPDATE hotline_notify_templates SET enabled = $1, subject = $2, body = $3, updated_at = $4, updated_by = $5
             WHERE event = $6 AND channel = $7",
        )
        .bind(input.enabled as i64)
        .bind(input.subject.trim())
        .bind(input.body.trim())
        .bind(now)
        .bind(&who.0)
        .bind(event)
        .bind(channel)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 0 {
            return Err(missing());
        }
        audit::record(
            &mut tx,
            now,
            &who,
            "notify_template",
            format!("{event}:{channel}"),
            "update",
            json!({"enabled": input.enabled, "subject": input.subject.trim(), "body": input.body.trim()}),
        )
        .await?;
        let r = sqlx::query(&format!(
            "SELECT {TEMPLATE_COLS} FROM hotline_notify_templates WHERE event = $1 AND channel = $2"
        ))
        .bind(event)
        .bind(channel)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(template_row(&r))
    }

    // ---- settings ----

    /// The sender settings; the SMTP password is shown as `******`.
    pub async fn settings(&self, actor: &Actor) -> Result<BTreeMap<String, String>> {
        Self::admin(actor, false)?;
        Ok(mask_settings(settings_map(&mut *self.conn().await?).await?))
    }

    /// Sets the given keys; an empty value removes a key. The whole change is checked first, and
    /// `email.sender = smtp` needs a host and a From address.
    pub async fn update_settings(
        &self,
        actor: &Actor,
        changes: BTreeMap<String, String>,
    ) -> Result<BTreeMap<String, String>> {
        Self::admin(actor, true)?;
        let mut c = Checks::new();
        for (k, v) in &changes {
            // Removing a known key needs no check; an unknown key is refused either way.
            let known = SETTING_KEYS.contains(&k.as_str()) || k.starts_with("dept_email.");
            if !v.trim().is_empty() || !known {
                check_setting(&mut c, k, v);
            }
        }
        c.finish()?;
        let now = self.db.now();
        let mut tx = self.db.begin().await?;
        let mut merged = settings_map(&mut tx).await?;
        for (k, v) in &changes {
            if v.trim().is_empty() {
                merged.remove(k);
            } else {
                merged.insert(k.clone(), v.trim().to_owned());
            }
        }
        if merged.get("email.sender").map(String::as_str) == Some("smtp") {
            SmtpSettings::from_settings(&merged)?;
        }
        for (k, v) in &changes {
            sqlx::query("DELETE FROM hotline_notify_settings WHERE key = $1")
                .bind(k)
                .execute(&mut *tx)
                .await?;
            if !v.trim().is_empty() {
                sqlx::query("INSERT INTO hotline_notify_settings (key, value) VALUES ($1, $2)")
                    .bind(k)
                    .bind(v.trim())
                    .execute(&mut *tx)
                    .await?;
            }
        }
        audit::record(
            &mut tx,
            now,
            &actor.audit_actor(),
            "notify_settings",
            "hotline",
            "update",
            serde_json::to_value(mask_settings(changes))?,
        )
        .await?;
        tx.commit().await?;
        Ok(mask_settings(merged))
    }

    /// What the logging sender recorded instead of sending, newest first.
    pub async fn outbound_messages(
        &self,
        actor: &Actor,
        page: &PageQuery,
    ) -> Result<Page<OutboundRecord>> {
        actor.require_any_role(STAFF_DESK)?;
        actor.require_scope("hotline:read")?;
        let mut c = self.conn().await?;
        let rows = sqlx::query(&format!(
            "SELECT id, channel, recipient, subject, body, event, ticket_id, delivery_uuid, at
             FROM hotline_outbound_messages ORDER BY id DESC LIMIT {} OFFSET {}",
            page.per_page(),
            page.offset()
        ))
        .fetch_all(&mut *c)
        .await?;
        let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM hotline_outbound_messages")
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
                event: r.get("event"),
                ticket_id: r.get("ticket_id"),
                delivery_uuid: r.get("delivery_uuid"),
                at: r.get("at"),
            })
            .collect();
        Ok(Page::new(items, total, page))
    }
}

// ---- HTTP ----

fn svc(ctx: &AppCtx) -> NotifyService {
    NotifyService::new(ctx.db.clone())
}

pub fn routes() -> Router<AppCtx> {
    Router::new()
        .route("/api/v1/hotline/notifications", get(inbox))
        .route("/api/v1/hotline/notifications/read-all", post(read_all))
        .route("/api/v1/hotline/notifications/{id}/read", post(read_one))
        .route(
            "/api/v1/hotline/webhooks",
            get(webhooks).post(create_webhook),
        )
        .route(
            "/api/v1/hotline/webhooks/{id}",
            get(webhook).put(update_webhook).delete(delete_webhook),
        )
        .route("/api/v1/hotline/webhooks/{id}/deliveries", get(deliveries))
        .route("/api/v1/hotline/notification-templates", get(templates))
        .route(
            "/api/v1/hotline/notification-templates/{event}/{channel}",
            put(update_template),
        )
        .route(
            "/api/v1/hotline/notification-settings",
            get(settings).put(update_settings),
        )
        .route("/api/v1/hotline/outbound-messages", get(outbound))
}

#[derive(OpenApi)]
#[openapi(
    paths(inbox, read_one, read_all, webhooks, create_webhook, webhook, update_webhook, delete_webhook, deliveries,
          templates, update_template, settings, update_settings, outbound),
    components(schemas(Inbox, Notification, ReadAll, Webhook, WebhookInput, Delivery, DeliveryAttempt, NotifyTemplate,
                       TemplateInput, OutboundRecord, Page<Delivery>, Page<OutboundRecord>)),
    tags((name = "hotline-notify", description = "热线通知：站内通知、Webhook、短信与邮件、通知模板"))
)]
pub struct NotifyApi;

#[derive(Serialize, ToSchema)]
pub struct ReadAll {
    /// How many notifications were unread.
    pub marked: u64,
}

/// The caller's notifications: their roles' inboxes in their department or region, newest first,
/// with the unread count.
#[utoipa::path(get, path = "/api/v1/hotline/notifications", tag = "hotline-notify", params(InboxQuery, PageQuery),
    responses((status = 200, body = Inbox)))]
async fn inbox(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Query(q): Query<InboxQuery>,
    Query(p): Query<PageQuery>,
) -> ApiResult<axum::Json<Inbox>> {
    Ok(axum::Json(svc(&ctx).inbox(&a, &q, &p).await?))
}

/// Marks one notification read for the caller.
#[utoipa::path(post, path = "/api/v1/hotline/notifications/{id}/read", tag = "hotline-notify", params(("id" = i64, Path)),
    responses((status = 204), (status = 404, body = webcore::error::Problem)))]
async fn read_one(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    svc(&ctx).mark_read(&a, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Marks every notification in the caller's inboxes read.
#[utoipa::path(post, path = "/api/v1/hotline/notifications/read-all", tag = "hotline-notify",
    responses((status = 200, body = ReadAll)))]
async fn read_all(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
) -> ApiResult<axum::Json<ReadAll>> {
    Ok(axum::Json(ReadAll {
        marked: svc(&ctx).mark_all_read(&a).await?,
    }))
}

/// Registered webhooks (admins). Secrets are never returned.
#[utoipa::path(get, path = "/api/v1/hotline/webhooks", tag = "hotline-notify",
    responses((status = 200, body = Vec<Webhook>), (status = 403, body = webcore::error::Problem)))]
async fn webhooks(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
) -> ApiResult<axum::Json<Vec<Webhook>>> {
    Ok(axum::Json(svc(&ctx).webhooks(&a).await?))
}

/// Registers a webhook (admins). Each delivery is a POST of JSON with `X-Yiwang-Event`,
/// `X-Yiwang-Delivery`, `X-Yiwang-Signature: sha256=<hex HMAC-SHA256 of the body>` and
/// `X-Yiwang-Signature-SM3: sm3=<hex HMAC-SM3 of the body>`; a non-2xx answer is retried after
/// 1, 2, 4 … minutes.
#[utoipa::path(post, path = "/api/v1/hotline/webhooks", tag = "hotline-notify", request_body = WebhookInput,
    responses((status = 201, body = Webhook), (status = 422, body = webcore::error::Problem)))]
async fn create_webhook(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Json(w): Json<WebhookInput>,
) -> ApiResult<(StatusCode, axum::Json<Webhook>)> {
    Ok((
        StatusCode::CREATED,
        axum::Json(svc(&ctx).create_webhook(&a, w).await?),
    ))
}

/// One webhook (admins).
#[utoipa::path(get, path = "/api/v1/hotline/webhooks/{id}", tag = "hotline-notify", params(("id" = i64, Path)),
    responses((status = 200, body = Webhook), (status = 404, body = webcore::error::Problem)))]
async fn webhook(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
) -> ApiResult<axum::Json<Webhook>> {
    Ok(axum::Json(svc(&ctx).webhook(&a, id).await?))
}

/// Changes a webhook (admins); without `secret` the old secret is kept.
#[utoipa::path(put, path = "/api/v1/hotline/webhooks/{id}", tag = "hotline-notify", params(("id" = i64, Path)),
    request_body = WebhookInput, responses((status = 200, body = Webhook), (status = 422, body = webcore::error::Problem)))]
async fn update_webhook(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
    Json(w): Json<WebhookInput>,
) -> ApiResult<axum::Json<Webhook>> {
    Ok(axum::Json(svc(&ctx).update_webhook(&a, id, w).await?))
}

/// Deletes a webhook (admins): pending deliveries are cancelled, the delivery log is kept.
#[utoipa::path(delete, path = "/api/v1/hotline/webhooks/{id}", tag = "hotline-notify", params(("id" = i64, Path)),
    responses((status = 204), (status = 404, body = webcore::error::Problem)))]
async fn delete_webhook(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    svc(&ctx).delete_webhook(&a, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A webhook's deliveries with every attempt: time, status code, error, duration (admins).
#[utoipa::path(get, path = "/api/v1/hotline/webhooks/{id}/deliveries", tag = "hotline-notify",
    params(("id" = i64, Path), PageQuery), responses((status = 200, body = Page<Delivery>)))]
async fn deliveries(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
    Query(p): Query<PageQuery>,
) -> ApiResult<axum::Json<Page<Delivery>>> {
    Ok(axum::Json(svc(&ctx).deliveries(&a, id, &p).await?))
}

/// Notification templates per event and channel (admins). Placeholders: {编号} {标题} {单位}
/// {时限} {签收时限} {状态} {答复}.
#[utoipa::path(get, path = "/api/v1/hotline/notification-templates", tag = "hotline-notify",
    responses((status = 200, body = Vec<NotifyTemplate>)))]
async fn templates(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
) -> ApiResult<axum::Json<Vec<NotifyTemplate>>> {
    Ok(axum::Json(svc(&ctx).templates(&a).await?))
}

/// Edits a template (admins); used from the next event on.
#[utoipa::path(put, path = "/api/v1/hotline/notification-templates/{event}/{channel}", tag = "hotline-notify",
    params(("event" = String, Path, description = "e.g. ticket.dispatched"), ("channel" = String, Path, description = "inapp, sms or email")),
    request_body = TemplateInput,
    responses((status = 200, body = NotifyTemplate), (status = 404, body = webcore::error::Problem), (status = 422, body = webcore::error::Problem)))]
async fn update_template(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Path((event, channel)): Path<(String, String)>,
    Json(t): Json<TemplateInput>,
) -> ApiResult<axum::Json<NotifyTemplate>> {
    Ok(axum::Json(
        svc(&ctx).update_template(&a, &event, &channel, t).await?,
    ))
}

/// Sender settings (admins): `email.sender` (log|smtp), `smtp.host`, `smtp.port`, `smtp.tls`
/// (none|starttls|tls), `smtp.username`, `smtp.password` (shown as ******), `smtp.from`,
/// `delivery.max_attempts`, `dept_email.<部门 id>`.
#[utoipa::path(get, path = "/api/v1/hotline/notification-settings", tag = "hotline-notify",
    responses((status = 200, body = BTreeMap<String, String>)))]
async fn settings(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
) -> ApiResult<axum::Json<BTreeMap<String, String>>> {
    Ok(axum::Json(svc(&ctx).settings(&a).await?))
}

/// Sets sender settings (admins); an empty value removes a key.
#[utoipa::path(put, path = "/api/v1/hotline/notification-settings", tag = "hotline-notify",
    request_body = BTreeMap<String, String>,
    responses((status = 200, body = BTreeMap<String, String>), (status = 422, body = webcore::error::Problem)))]
async fn update_settings(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Json(s): Json<BTreeMap<String, String>>,
) -> ApiResult<axum::Json<BTreeMap<String, String>>> {
    Ok(axum::Json(svc(&ctx).update_settings(&a, s).await?))
}

/// SMS and e-mail the logging sender recorded instead of sending (operators, dispatchers,
/// supervisors, admins).
#[utoipa::path(get, path = "/api/v1/hotline/outbound-messages", tag = "hotline-notify", params(PageQuery),
    responses((status = 200, body = Page<OutboundRecord>)))]
async fn outbound(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Query(p): Query<PageQuery>,
) -> ApiResult<axum::Json<Page<OutboundRecord>>> {
    Ok(axum::Json(svc(&ctx).outbound_messages(&a, &p).await?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_replaces_known_placeholders_once() {
        let v = vec![
            ("编号", "A市12345-20260316-000001".to_owned()),
            ("标题", "噪音{单位}".to_owned()),
            ("单位", "住建局".to_owned()),
        ];
        assert_eq!(
            render("工单{编号}“{标题}”派至{单位}，{未知}{", &v),
            "工单A市12345-20260316-000001“噪音{单位}”派至住建局，{未知}{"
        );
        assert_eq!(unknown_placeholders("{编号}{时限}{xx}"), vec!["{xx}"]);
    }

    #[test]
    fn back_off_doubles_from_one_minute() {
        let waits: Vec<i64> = (1..=5).map(|n| backoff_ms(n) / 60_000).collect();
        assert_eq!(waits, vec![1, 2, 4, 8, 16]);
        assert_eq!(backoff_ms(30), backoff_ms(10));
    }

    #[test]
    fn signatures_match_known_vectors() {
        // RFC 4231 test case 2.
        assert_eq!(
            sign_sha256("Jefe", b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        let s = sign_sm3("Jefe", b"what do ya want for nothing?");
        assert_eq!(s.len(), 64);
        assert_ne!(s, sign_sm3("Jefe", b"what do ya want for nothing!"));
    }

    #[test]
    fn uuids_look_like_v4() {
        let u = new_uuid();
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
        assert_ne!(u, new_uuid());
    }

    #[test]
    fn events_map_to_notifications() {
        let ev = |action: &'static str, from: Status, to: Status, data: serde_json::Value| Event {
            action,
            from,
            to,
            note: None,
            dept_id: None,
            data,
        };
        use Status::*;
        let n = serde_json::Value::Null;
        assert_eq!(
            classify(&ev("create", Created, Created, n.clone())),
            vec![CREATED]
        );
        assert_eq!(
            classify(&ev("reply", InProgress, Replied, n.clone())),
            vec![REPLIED, CALLBACK_DUE]
        );
        assert_eq!(
            classify(&ev("reply", InProgress, Closed, n.clone())),
            vec![REPLIED]
        );
        assert_eq!(
            classify(&ev("card", Dispatched, Dispatched, json!({"card": "red"}))),
            vec![OVERDUE]
        );
        assert!(classify(&ev(
            "card",
            Dispatched,
            Dispatched,
            json!({"card": "yellow"})
        ))
        .is_empty());
        assert_eq!(
            classify(&ev("callback", Replied, Dispatched, n.clone())),
            vec![REOPENED]
        );
        assert!(classify(&ev("accept", Created, Accepted, n)).is_empty());
    }

    #[test]
    fn settings_are_checked() {
        let mut c = Checks::new();
        check_setting(&mut c, "smtp.tls", "ssl");
        check_setting(&mut c, "dept_email.3", "a@b.cn, nonsense");
        check_setting(&mut c, "dept_email.x", "a@b.cn");
        check_setting(&mut c, "what", "1");
        check_setting(&mut c, "smtp.port", "2525");
        let Err(Error::Validation(f)) = c.finish() else {
            panic!("expected errors")
        };
        assert_eq!(f.len(), 4);
    }
}
