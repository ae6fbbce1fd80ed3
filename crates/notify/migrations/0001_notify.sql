-- Notifications for every module: the events modules raise, the in-app inbox, the outbox of
-- deliveries (webhooks, SMS, e-mail) written in the same transaction as the change that caused
-- them, the webhooks, the editable templates, what the logging sender "sent", and the sender
-- settings. Modules register their events and default templates with rows of their own
-- migrations (notify_events, notify_templates).

-- source: the module raising the event (hotline, services); placeholders: JSON array of the
-- placeholder names its templates may use; position orders the events in lists.
CREATE TABLE notify_events (
    code TEXT PRIMARY KEY,
    source TEXT NOT NULL,
    label TEXT NOT NULL,
    placeholders TEXT NOT NULL DEFAULT '[]',
    position BIGINT NOT NULL DEFAULT 0
);

-- One row per recipient inbox: a role, narrowed to a department (dept_id) or, for region-wide
-- roles, to the subject's region (region_code); or one user (user_id, role NULL).
-- subject_id/subject_number: the ticket, case … the notification is about, in its source module.
CREATE TABLE notify_notifications (
    id INTEGER PRIMARY KEY,
    source TEXT NOT NULL,
    event TEXT NOT NULL,
    subject_id BIGINT,
    subject_number TEXT,
    role TEXT,
    dept_id BIGINT,
    region_code TEXT,
    user_id BIGINT,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX notify_notifications_inbox ON notify_notifications (role, dept_id, id);
CREATE INDEX notify_notifications_user ON notify_notifications (user_id, id);

-- Read receipts are per user: colleagues sharing an inbox each keep their own unread count.
CREATE TABLE notify_notification_reads (
    notification_id BIGINT NOT NULL REFERENCES notify_notifications (id),
    user_id BIGINT NOT NULL,
    read_at BIGINT NOT NULL,
    PRIMARY KEY (notification_id, user_id)
);
CREATE INDEX notify_notification_reads_user ON notify_notification_reads (user_id, notification_id);

-- events: JSON array of event codes; an empty array means every event. Deleting only sets
-- deleted_at, so the delivery log stays readable.
CREATE TABLE notify_webhooks (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    url TEXT NOT NULL,
    secret TEXT NOT NULL,
    events TEXT NOT NULL DEFAULT '[]',
    active BIGINT NOT NULL DEFAULT 1,
    max_attempts BIGINT NOT NULL DEFAULT 8,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    deleted_at BIGINT
);

-- The outbox. status: pending, delivered, failed (gave up), cancelled (webhook deleted or
-- disabled). A worker claims a row by setting claimed_by and a lease (claimed_until).
CREATE TABLE notify_deliveries (
    id INTEGER PRIMARY KEY,
    uuid TEXT NOT NULL UNIQUE,
    channel TEXT NOT NULL,
    webhook_id BIGINT REFERENCES notify_webhooks (id),
    source TEXT NOT NULL,
    event TEXT NOT NULL,
    subject_id BIGINT,
    recipient TEXT NOT NULL,
    subject TEXT,
    body TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    max_attempts BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    claimed_by TEXT,
    claimed_until BIGINT,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    delivered_at BIGINT
);
CREATE INDEX notify_deliveries_due ON notify_deliveries (status, next_attempt_at);
CREATE INDEX notify_deliveries_webhook ON notify_deliveries (webhook_id, id);

CREATE TABLE notify_delivery_attempts (
    id INTEGER PRIMARY KEY,
    delivery_id BIGINT NOT NULL REFERENCES notify_deliveries (id),
    attempt BIGINT NOT NULL,
    at BIGINT NOT NULL,
    worker TEXT NOT NULL,
    ok BIGINT NOT NULL,
    status_code BIGINT,
    error TEXT,
    duration_ms BIGINT NOT NULL
);
CREATE INDEX notify_delivery_attempts_delivery ON notify_delivery_attempts (delivery_id, attempt);

-- What the logging sender would have sent (no SMS gateway yet; e-mail until SMTP is set up).
CREATE TABLE notify_outbound_messages (
    id INTEGER PRIMARY KEY,
    channel TEXT NOT NULL,
    recipient TEXT NOT NULL,
    subject TEXT,
    body TEXT NOT NULL,
    source TEXT,
    event TEXT,
    subject_id BIGINT,
    delivery_uuid TEXT,
    at BIGINT NOT NULL
);
CREATE INDEX notify_outbound_messages_at ON notify_outbound_messages (at);

-- channel: inapp (subject = title), sms (subject unused), email. Only the event/channel pairs
-- that have recipients exist; the module raising the event inserts them.
CREATE TABLE notify_templates (
    event TEXT NOT NULL,
    channel TEXT NOT NULL,
    enabled BIGINT NOT NULL DEFAULT 1,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    updated_by TEXT NOT NULL,
    PRIMARY KEY (event, channel)
);

-- Sender settings until configuration is plumbed: email.sender (log|smtp), smtp.host,
-- smtp.port, smtp.tls (none|starttls|tls), smtp.username, smtp.password, smtp.from,
-- delivery.max_attempts, dept_email.<department id> (comma-separated addresses).
CREATE TABLE notify_settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
