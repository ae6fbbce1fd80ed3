//! Use cases: [`enqueue`] (the outbox, in the caller's transaction) and [`NotifyService`]
//! (inbox reads and marks, webhooks, templates, settings, the delivery log and what the logging
//! sender recorded). Every method of the service checks the actor first.

use crate::domain::*;
use crate::senders::SmtpSettings;
use crate::store;
use kernel::error::{Checks, Error, Result};
use kernel::page::{Page, PageQuery};
use kernel::{audit, Actor, Db, Granted, Tx};
use serde_json::json;
use sqlx::AnyConnection;
use std::collections::BTreeMap;
use std::sync::Arc;

kernel::permission!(
    /// Reading the notification setup (webhooks, templates, settings, delivery log).
    pub ReadSetup = [SysAdmin], "hotline:read"
);
kernel::permission!(
    /// Changing the notification setup.
    pub WriteSetup = [SysAdmin], "hotline:write"
);
kernel::permission!(
    /// Reading what the logging sender recorded instead of sending.
    pub ReadOutbound = [Operator, Dispatcher, Supervisor, SysAdmin], "hotline:read"
);

/// The notification setup (settings, templates, active webhooks, event labels) as the outbox
/// uses it, kept per database and read again only when its stored generation moved (triggers
/// bump it on every write to those tables), so a message costs one small read, not four.
#[derive(Default)]
pub struct SetupCache {
    inner: std::sync::Mutex<Option<(i64, Arc<Setup>)>>,
}

struct Setup {
    settings: BTreeMap<String, String>,
    templates: Vec<NotifyTemplate>,
    webhooks: Vec<(i64, String, Vec<String>, i64)>,
    labels: BTreeMap<String, String>,
}

impl SetupCache {
    async fn get(&self, c: &mut AnyConnection) -> Result<Arc<Setup>> {
        let generation = store::setup_generation(&mut *c).await?;
        if let Some((g, s)) = &*self.lock() {
            if *g == generation {
                return Ok(s.clone());
            }
        }
        let s = Arc::new(Setup {
            settings: store::settings(&mut *c).await?,
            templates: store::templates(&mut *c).await?,
            webhooks: store::active_webhooks(&mut *c).await?,
            labels: store::event_labels(&mut *c).await?,
        });
        *self.lock() = Some((generation, s.clone()));
        Ok(s)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<(i64, Arc<Setup>)>> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The outbox of one database: [`Outbox::enqueue`] with the setup kept in memory. Modules hold
/// one in the observer that enqueues their messages.
#[derive(Clone)]
pub struct Outbox {
    setup: Arc<SetupCache>,
}

impl Outbox {
    pub fn of(db: &Db) -> Self {
        Outbox {
            setup: db.state::<SetupCache>(),
        }
    }

    /// Writes the in-app notifications and the deliveries (SMS, e-mail, webhooks) of one
    /// message, inside the caller's transaction (the outbox pattern): they commit with the
    /// change that caused them or vanish with it, so nothing acknowledged is lost and nothing
    /// is sent for a rolled-back change. Texts come from the enabled templates of
    /// `(m.event, channel)`; an event without templates or recipients writes nothing but its
    /// webhook calls.
    pub async fn enqueue(&self, tx: &mut Tx, m: &Message, now: i64) -> Result<()> {
        let c: &mut AnyConnection = tx;
        let setup = self.setup.get(&mut *c).await?;
        write(c, &setup, m, now).await
    }
}

/// [`Outbox::enqueue`] without a kept setup: reads it from the transaction (tools, tests).
pub async fn enqueue(tx: &mut Tx, m: &Message, now: i64) -> Result<()> {
    Outbox {
        setup: Default::default(),
    }
    .enqueue(tx, m, now)
    .await
}

async fn write(c: &mut AnyConnection, setup: &Setup, m: &Message, now: i64) -> Result<()> {
    let settings = &setup.settings;
    let template = |ch: &str| {
        setup
            .templates
            .iter()
            .find(|x| x.event == m.event && x.channel == ch && x.enabled)
    };
    if let Some(tp) = template("inapp") {
        let (title, body) = (render(&tp.subject, &m.vars), render(&tp.body, &m.vars));
        for r in &m.inbox {
            let (role, dept_id, user_id) = match r {
                Recipient::Role { role, dept } => (Some(*role), *dept, None),
                Recipient::User(u) => (None, None, Some(*u)),
            };
            let n = store::NewNotification {
                m,
                role,
                dept_id,
                user_id,
                title: &title,
                body: &body,
            };
            store::insert_notification(&mut *c, n, now).await?;
        }
    }
    let max_attempts = max_attempts_setting(settings);
    if let Some(tp) = template("sms") {
        let body = render(&tp.body, &m.vars);
        for phone in m.sms.iter().filter(|p| !p.trim().is_empty()) {
            let uuid = new_uuid();
            let d = store::NewDelivery {
                channel: "sms",
                webhook_id: None,
                m,
                recipient: phone,
                subject: None,
                body: &body,
                uuid: &uuid,
                max_attempts,
            };
            store::insert_delivery(&mut *c, d, now).await?;
        }
    }
    if let Some(tp) = template("email") {
        let (subject, body) = (render(&tp.subject, &m.vars), render(&tp.body, &m.vars));
        for dept in &m.email_depts {
            for addr in dept_emails(settings, *dept) {
                let uuid = new_uuid();
                let d = store::NewDelivery {
                    channel: "email",
                    webhook_id: None,
                    m,
                    recipient: &addr,
                    subject: Some(&subject),
                    body: &body,
                    uuid: &uuid,
                    max_attempts,
                };
                store::insert_delivery(&mut *c, d, now).await?;
            }
        }
    }
    let label = setup.labels.get(&m.event).cloned();
    for (id, url, filter, attempts) in &setup.webhooks {
        if !filter.is_empty() && !filter.contains(&m.event) {
            continue;
        }
        let uuid = new_uuid();
        let body = webhook_payload(&uuid, m, label.as_deref(), now).to_string();
        let d = store::NewDelivery {
            channel: "webhook",
            webhook_id: Some(*id),
            m,
            recipient: url,
            subject: None,
            body: &body,
            uuid: &uuid,
            max_attempts: *attempts,
        };
        store::insert_delivery(&mut *c, d, now).await?;
    }
    Ok(())
}

/// Inbox, webhooks, templates and settings.
#[derive(Clone, Debug)]
pub struct NotifyService {
    db: Db,
}

impl NotifyService {
    pub fn new(db: Db) -> Self {
        NotifyService { db }
    }

    async fn conn(&self) -> Result<sqlx::pool::PoolConnection<sqlx::Any>> {
        Ok(self.db.pool().acquire().await?)
    }

    /// The signed-in user whose inbox it is. Staff read their roles' inboxes; citizens the
    /// notifications addressed to them.
    fn inbox_user(actor: &Actor) -> Result<i64> {
        actor.require_scope("hotline:read")?;
        actor
            .user_id
            .ok_or_else(|| Error::forbidden("只有登录用户才有通知收件箱"))
    }

    /// The caller's notifications (addressed to them, or to their roles' inboxes in their
    /// department or region), newest first, with the unread count.
    pub async fn inbox(&self, actor: &Actor, q: &InboxQuery, page: &PageQuery) -> Result<Inbox> {
        let user = Self::inbox_user(actor)?;
        let (vis, vis_binds) = store::inbox_clause(actor, 1, 2);
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
        let items =
            store::inbox_page(&mut c, user, &cond, &binds, page.per_page(), page.offset()).await?;
        let total = store::inbox_count(&mut c, user, &cond, &binds).await?;
        // The unread count is of the whole inbox, whatever the filters.
        let unread = store::inbox_count(
            &mut c,
            user,
            &format!("{vis} AND r.notification_id IS NULL"),
            &vis_binds,
        )
        .await?;
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
        let (vis, binds) = store::inbox_clause(actor, 2, 3);
        let mut tx = self.db.begin().await?;
        if !store::in_inbox(&mut tx, id, user, &vis, &binds).await? {
            return Err(Error::not_found("notification", "通知不存在"));
        }
        store::mark_read(&mut tx, id, user, self.db.now()).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Marks everything in the caller's inboxes read; returns how many were unread.
    pub async fn mark_all_read(&self, actor: &Actor) -> Result<u64> {
        let user = Self::inbox_user(actor)?;
        let (vis, binds) = store::inbox_clause(actor, 1, 3);
        let mut tx = self.db.begin().await?;
        let n = store::mark_all_read(&mut tx, user, self.db.now(), &vis, &binds).await?;
        tx.commit().await?;
        Ok(n)
    }

    // ---- webhooks ----

    pub async fn webhooks(&self, actor: &Actor) -> Result<Vec<Webhook>> {
        actor.authorize::<ReadSetup>()?;
        store::webhooks(&mut *self.conn().await?).await
    }

    async fn webhook_in(c: &mut AnyConnection, id: i64) -> Result<Webhook> {
        store::webhook(c, id)
            .await?
            .ok_or_else(|| Error::not_found("webhook", "Webhook 不存在"))
    }

    pub async fn webhook(&self, actor: &Actor, id: i64) -> Result<Webhook> {
        actor.authorize::<ReadSetup>()?;
        Self::webhook_in(&mut *self.conn().await?, id).await
    }

    async fn known_events(c: &mut AnyConnection) -> Result<Vec<String>> {
        Ok(store::events(c)
            .await?
            .into_iter()
            .map(|e| e.code)
            .collect())
    }

    pub async fn create_webhook(&self, actor: &Actor, w: WebhookInput) -> Result<Webhook> {
        let g = actor.authorize::<WriteSetup>()?;
        w.validate(true, &Self::known_events(&mut *self.conn().await?).await?)?;
        self.write_webhook(g, None, w).await
    }

    pub async fn update_webhook(&self, actor: &Actor, id: i64, w: WebhookInput) -> Result<Webhook> {
        let g = actor.authorize::<WriteSetup>()?;
        w.validate(false, &Self::known_events(&mut *self.conn().await?).await?)?;
        self.write_webhook(g, Some(id), w).await
    }

    /// Creates (`id` None) or changes a webhook, with its audit record. The secret never goes
    /// into the audit chain.
    async fn write_webhook(
        &self,
        g: Granted<'_, WriteSetup>,
        id: Option<i64>,
        w: WebhookInput,
    ) -> Result<Webhook> {
        let now = self.db.now();
        let mut tx = self.db.begin().await?;
        let (id, action, detail) = match id {
            None => {
                let id = store::insert_webhook(&mut tx, &w, now).await?;
                let d = json!({"name": w.name.trim(), "url": w.url.trim(), "events": w.events, "active": w.active});
                (id, "create", d)
            }
            Some(id) => {
                let before = Self::webhook_in(&mut tx, id).await?;
                let max = w.max_attempts.unwrap_or(before.max_attempts);
                store::update_webhook(&mut tx, id, &w, max, now).await?;
                let d = json!({"name": w.name.trim(), "url": w.url.trim(), "events": w.events, "active": w.active,
                               "secret_changed": w.secret.is_some()});
                (id, "update", d)
            }
        };
        audit::record(
            &mut tx,
            now,
            &g.actor().audit_actor(),
            "webhook",
            id,
            action,
            detail,
        )
        .await?;
        let h = Self::webhook_in(&mut tx, id).await?;
        tx.commit().await?;
        Ok(h)
    }

    /// Removes a webhook from use; its pending deliveries are cancelled, its log is kept.
    pub async fn delete_webhook(&self, actor: &Actor, id: i64) -> Result<()> {
        let g = actor.authorize::<WriteSetup>()?;
        let now = self.db.now();
        let mut tx = self.db.begin().await?;
        Self::webhook_in(&mut tx, id).await?;
        store::delete_webhook(&mut tx, id, now).await?;
        audit::record(
            &mut tx,
            now,
            &g.actor().audit_actor(),
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
        actor.authorize::<ReadSetup>()?;
        let mut c = self.conn().await?;
        // Deleted webhooks keep their log.
        if !store::webhook_exists(&mut c, webhook_id).await? {
            return Err(Error::not_found("webhook", "Webhook 不存在"));
        }
        let (items, total) =
            store::deliveries(&mut c, webhook_id, page.per_page(), page.offset()).await?;
        Ok(Page::new(items, total, page))
    }

    // ---- templates ----

    /// Every template, in the order the events happen.
    pub async fn templates(&self, actor: &Actor) -> Result<Vec<NotifyTemplate>> {
        actor.authorize::<ReadSetup>()?;
        store::templates(&mut *self.conn().await?).await
    }

    /// Edits one template; takes effect for the next event. Only the event/channel pairs that
    /// have recipients exist (the module raising the event inserts them).
    pub async fn update_template(
        &self,
        actor: &Actor,
        event: &str,
        channel: &str,
        input: TemplateInput,
    ) -> Result<NotifyTemplate> {
        let g = actor.authorize::<WriteSetup>()?;
        let missing = || Error::not_found("notify_template", "没有这个事件和渠道的通知模板");
        let kind = store::event(&mut *self.conn().await?, event).await?;
        let Some(kind) = kind.filter(|_| channel_label(channel).is_some()) else {
            return Err(missing());
        };
        input.validate(channel, &kind.placeholders)?;
        let now = self.db.now();
        let who = g.actor().audit_actor();
        let mut tx = self.db.begin().await?;
        if store::update_template(&mut tx, event, channel, &input, now, &who.0).await? == 0 {
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
        let t = store::template(&mut tx, event, channel).await?;
        tx.commit().await?;
        Ok(t)
    }

    // ---- settings ----

    /// The sender settings; the SMTP password is shown as `******`.
    pub async fn settings(&self, actor: &Actor) -> Result<BTreeMap<String, String>> {
        actor.authorize::<ReadSetup>()?;
        Ok(mask_settings(
            store::settings(&mut *self.conn().await?).await?,
        ))
    }

    /// Sets the given keys; an empty value removes a key. The whole change is checked first, and
    /// `email.sender = smtp` needs a host and a From address.
    pub async fn update_settings(
        &self,
        actor: &Actor,
        changes: BTreeMap<String, String>,
    ) -> Result<BTreeMap<String, String>> {
        let g = actor.authorize::<WriteSetup>()?;
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
        let mut merged = store::settings(&mut tx).await?;
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
            store::set_setting(&mut tx, k, v).await?;
        }
        audit::record(
            &mut tx,
            now,
            &g.actor().audit_actor(),
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
        actor.authorize::<ReadOutbound>()?;
        let (items, total) =
            store::outbound(&mut *self.conn().await?, page.per_page(), page.offset()).await?;
        Ok(Page::new(items, total, page))
    }
}
