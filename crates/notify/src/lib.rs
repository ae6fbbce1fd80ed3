//! Notifications for every module (通知): the outbox written in the caller's transaction, the
//! in-app inbox, signed webhooks, SMS and e-mail senders, templates.
//!
//! A module that wants people to hear of a change builds a [`Message`] (its event code, the
//! record it is about, the recipients, the template values) and calls [`enqueue`] inside the
//! change's own transaction: the rows commit with the change or vanish with it. It writes
//! - in-app notifications (`notify_notifications`), one row per recipient inbox: a role, narrowed
//!   to a department or, for region-wide roles, to the record's region; or one user. Read
//!   receipts are per user;
//! - deliveries (`notify_deliveries`): SMS, e-mail to departments, signed webhook calls.
//!   [`deliver_due`] sends those that are due, retrying with exponential back-off, and logs every
//!   attempt (`notify_delivery_attempts`).
//!
//! A module registers its events (`notify_events`: code, label, placeholders) and their default
//! templates (`notify_templates`, one per event and channel, admin-editable) with rows its own
//! migration inserts; texts are rendered from them when the event happens. Until configuration is
//! plumbed, sender settings (SMTP relay, departments' e-mail addresses, attempts) live in
//! `notify_settings`, edited through the API.
//!
//! Layers: `domain` (message, recipients, rendering, back-off, signatures; pure) → `store` (SQL
//! on `notify_*`, private) → `service` ([`enqueue`], [`NotifyService`]) and `delivery` (the
//! worker) with `senders` → `http` (JSON API).

pub mod delivery;
pub mod domain;
pub mod http;
pub mod senders;
pub mod service;
mod store;

pub use delivery::{deliver_due, deliver_due_with};
pub use domain::*;
pub use http::{routes, NotifyApi};
pub use senders::{LogSender, OutboundMessage, Sender, Senders, SmtpSender, SmtpSettings, SmtpTls};
pub use service::{enqueue, NotifyService, Outbox};

/// This module's own migrations.
pub fn own_migrations() -> Vec<kernel::migrate::Migration> {
    vec![
        kernel::migration!("notify", 1, "0001_notify"),
        kernel::migration!("notify", 2, "0002_setup_generation", dialects),
    ]
}

/// Migrations this module needs, with those of the modules it stands on, in order (for tests
/// and tools that use the module alone).
pub fn migrations() -> Vec<kernel::migrate::Migration> {
    let mut m = org::migrations();
    m.extend(own_migrations());
    m
}

/// The module as the server sees it ([`webcore::Module`]).
pub fn module() -> webcore::Module {
    use std::time::Duration;
    use utoipa::OpenApi;
    webcore::Module::new("notify")
        .depends_on(&["org"])
        .audit_entity("notify_template", "通知模板", None)
        .audit_entity("notify_settings", "通知设置", None)
        .audit_entity("webhook", "推送地址", None)
        .migrations(own_migrations())
        .routes(http::routes())
        .openapi(http::NotifyApi::openapi())
        // The outbox: rows are claimed before sending, so several instances never send one
        // twice; failures wait out their back-off.
        .job(webcore::Job::new(
            "notification delivery",
            Duration::from_secs(15),
            |ctx| async move { deliver_due(&ctx.db, ctx.db.now()).await.map(|_| ()) },
        ))
}
