//! What a notification is, pure: the message a module hands over, its recipients, template
//! rendering and placeholders, the retry back-off, webhook signatures, and the checks on what
//! admins enter (webhooks, templates, settings). No SQL, no HTTP.

use kernel::error::{Checks, Result};
use kernel::Role;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;

// ---- events and channels ----

/// An event a module raises notifications for, with its zh-CN label and the placeholders its
/// templates may use. A module registers its events (and default templates) with rows its own
/// migration inserts into `notify_events` and `notify_templates`; this type is how its code
/// names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventKind {
    pub code: &'static str,
    pub label: &'static str,
    pub placeholders: &'static [&'static str],
}

/// Template channels: in-app (subject is the title), SMS (body only), e-mail.
pub const CHANNELS: &[(&str, &str)] = &[("inapp", "站内通知"), ("sms", "短信"), ("email", "邮件")];

pub fn channel_label(code: &str) -> Option<&'static str> {
    CHANNELS.iter().find(|(c, _)| *c == code).map(|(_, l)| *l)
}

// ---- the message ----

/// One in-app inbox a notification goes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recipient {
    /// Every holder of `role`: in `dept` when given, else those whose region covers the
    /// message's region.
    Role { role: Role, dept: Option<i64> },
    /// One user (e.g. a citizen who applied online).
    User(i64),
}

/// What a module hands to [`crate::enqueue`] for one notification event: who hears of it and
/// the values its templates are rendered with. Which channels are used follows from the
/// recipients given and the templates enabled for `(event, channel)`.
#[derive(Debug, Clone, Default)]
pub struct Message {
    /// The module raising it, e.g. `hotline`.
    pub source: String,
    /// The event code, e.g. `ticket.replied`.
    pub event: String,
    /// The record it is about (ticket, case) in its module.
    pub subject_id: Option<i64>,
    pub subject_number: Option<String>,
    /// The record's region, narrowing region-wide in-app recipients.
    pub region_code: Option<String>,
    /// In-app inboxes.
    pub inbox: Vec<Recipient>,
    /// Phones that get an SMS.
    pub sms: Vec<String>,
    /// Departments that get an e-mail, at the addresses set for them (`dept_email.<id>`).
    pub email_depts: Vec<i64>,
    /// Template values: placeholder name → text.
    pub vars: Vec<(String, String)>,
    /// Fields a webhook receiver gets besides the event (`id`, `event`, `event_label`,
    /// `occurred_at`, `occurred_at_text` are added): no personal data.
    pub webhook: serde_json::Map<String, serde_json::Value>,
}

impl Message {
    pub fn new(source: &str, event: &str) -> Message {
        Message {
            source: source.into(),
            event: event.into(),
            ..Default::default()
        }
    }

    pub fn var(&self, name: &str) -> Option<&str> {
        self.vars
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

// ---- templates ----

/// Replaces `{name}` placeholders in one pass, so a value that itself contains `{单位}` (a title
/// typed by a citizen) is never expanded again. Unknown names stay as written.
pub fn render(template: &str, vars: &[(String, String)]) -> String {
    let mut out = String::with_capacity(template.len() + 64);
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        match after.find('}') {
            Some(end) => {
                let name = &after[..end];
                match vars.iter().find(|(n, _)| n == name) {
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

/// Placeholders in a template that are not among `known`.
pub fn unknown_placeholders(template: &str, known: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        let after = &rest[start + 1..];
        let Some(end) = after.find('}') else { break };
        let name = &after[..end];
        if !known.iter().any(|p| p == name) {
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

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplateInput {
    pub enabled: bool,
    #[serde(default)]
    pub subject: String,
    pub body: String,
}

impl TemplateInput {
    /// Checks lengths and that only the event's placeholders are used.
    pub fn validate(&self, channel: &str, placeholders: &[String]) -> Result<()> {
        let mut c = Checks::new();
        if channel != "sms" {
            c.text("subject", "标题", &self.subject, 200);
        }
        c.text("body", "正文", &self.body, 2000);
        let allowed: Vec<String> = placeholders.iter().map(|p| format!("{{{p}}}")).collect();
        for (field, text) in [("subject", &self.subject), ("body", &self.body)] {
            let bad = unknown_placeholders(text, placeholders);
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
pub const SEND_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);
/// Deliveries one run of the worker handles at most (it runs every 15 s).
pub const MAX_PER_RUN: usize = 200;

/// The wait after failed attempt `attempt` (1-based): 1 min, 2 min, 4 min … capped at 2⁹ min.
pub fn backoff_ms(attempt: i64) -> i64 {
    BACKOFF_BASE_MS << (attempt - 1).clamp(0, 9)
}

/// A random UUID v4, the `X-Yiwang-Delivery` id receivers use to drop duplicates.
pub fn new_uuid() -> String {
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

/// The body a webhook receiver gets: the delivery id, the event and the message's own fields.
pub fn webhook_payload(
    uuid: &str,
    m: &Message,
    event_label: Option<&str>,
    now: i64,
) -> serde_json::Value {
    let mut o = serde_json::Map::new();
    o.insert("id".into(), uuid.into());
    o.insert("event".into(), m.event.clone().into());
    o.insert("event_label".into(), event_label.into());
    o.insert("occurred_at".into(), now.into());
    o.insert(
        "occurred_at_text".into(),
        kernel::clock::rfc3339(now).into(),
    );
    for (k, v) in &m.webhook {
        o.insert(k.clone(), v.clone());
    }
    serde_json::Value::Object(o)
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

// ---- webhooks ----

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
    /// `known`: the registered event codes.
    pub fn validate(&self, creating: bool, known: &[String]) -> Result<()> {
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
            if !known.contains(e) {
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
#[schema(as = NotifyDelivery)]
pub struct Delivery {
    pub id: i64,
    /// The `X-Yiwang-Delivery` id.
    pub uuid: String,
    pub source: String,
    pub event: String,
    /// The ticket, case … it is about.
    pub subject_id: Option<i64>,
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
    pub source: Option<String>,
    pub event: Option<String>,
    pub subject_id: Option<i64>,
    pub delivery_uuid: Option<String>,
    pub at: i64,
}

// ---- the inbox ----

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Notification {
    pub id: i64,
    /// The module it comes from, e.g. `hotline`.
    pub source: String,
    pub event: String,
    pub event_label: String,
    /// The ticket, case … it is about, and its number.
    pub subject_id: Option<i64>,
    pub subject_number: Option<String>,
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

// ---- settings ----

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

pub fn check_setting(c: &mut Checks, key: &str, value: &str) {
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

pub fn mask_settings(mut s: BTreeMap<String, String>) -> BTreeMap<String, String> {
    if let Some(p) = s.get_mut("smtp.password") {
        *p = "******".into();
    }
    s
}

pub fn max_attempts_setting(s: &BTreeMap<String, String>) -> i64 {
    s.get("delivery.max_attempts")
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_MAX_ATTEMPTS)
}

pub fn dept_emails(s: &BTreeMap<String, String>, dept: i64) -> Vec<String> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use kernel::Error;

    #[test]
    fn render_replaces_known_placeholders_once() {
        let v = vec![
            ("编号".to_owned(), "A市12345-20260316-000001".to_owned()),
            ("标题".to_owned(), "噪音{单位}".to_owned()),
            ("单位".to_owned(), "住建局".to_owned()),
        ];
        assert_eq!(
            render("工单{编号}“{标题}”派至{单位}，{未知}{", &v),
            "工单A市12345-20260316-000001“噪音{单位}”派至住建局，{未知}{"
        );
        let known: Vec<String> = ["编号", "时限"].map(String::from).to_vec();
        assert_eq!(
            unknown_placeholders("{编号}{时限}{xx}", &known),
            vec!["{xx}"]
        );
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
