//! What sends SMS and e-mail: the [`Sender`] trait, [`LogSender`] (records instead of sending;
//! the SMS channel until there is a gateway) and [`SmtpSender`] (lettre), chosen from the
//! settings by [`Senders::from_settings`].

use crate::domain::SEND_TIMEOUT;
use crate::store;
use async_trait::async_trait;
use kernel::error::{Error, Result};
use kernel::Db;
use std::collections::BTreeMap;
use std::sync::Arc;

/// One SMS or e-mail to send.
#[derive(Debug, Clone)]
pub struct OutboundMessage {
    /// `sms` or `email`.
    pub channel: String,
    pub to: String,
    pub subject: Option<String>,
    pub body: String,
    /// The module and event it is about, and the record (ticket, case).
    pub source: String,
    pub event: String,
    pub subject_id: Option<i64>,
    pub delivery_uuid: String,
}

/// Sends SMS or e-mail. An `Err` is a zh-CN reason, logged on the attempt; the delivery is
/// retried later.
#[async_trait]
pub trait Sender: Send + Sync {
    async fn send(&self, m: &OutboundMessage) -> std::result::Result<(), String>;
}

/// Sends nothing: writes the message to the log and to `notify_outbound_messages`, so staff can
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
            store::insert_outbound(
                &mut tx,
                store::OutboundRow {
                    channel: &m.channel,
                    to: &m.to,
                    subject: m.subject.as_deref(),
                    body: &m.body,
                    source: &m.source,
                    event: &m.event,
                    subject_id: m.subject_id,
                    delivery_uuid: &m.delivery_uuid,
                    at: self.db.now(),
                },
            )
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

/// SMTP relay settings, from `notify_settings` (`smtp.*`) or built by the caller.
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
        let s = store::settings(&mut *db.pool().acquire().await?).await?;
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
