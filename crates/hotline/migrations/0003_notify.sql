-- Hotline notifications: the in-app inbox, the outbox of deliveries (webhooks, SMS, e-mail)
-- written in the same transaction as the ticket event, the webhooks, the editable templates,
-- what the logging sender "sent", and the sender settings.

-- One row per recipient inbox: a role, narrowed to a department (dept_id) or, for region-wide
-- roles, to the ticket's region (region_code).
CREATE TABLE hotline_notifications (
    id INTEGER PRIMARY KEY,
    event TEXT NOT NULL,
    ticket_id BIGINT REFERENCES hotline_tickets (id),
    ticket_number TEXT,
    role TEXT NOT NULL,
    dept_id BIGINT,
    region_code TEXT,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX hotline_notifications_inbox ON hotline_notifications (role, dept_id, id);

-- Read receipts are per user: colleagues sharing an inbox each keep their own unread count.
CREATE TABLE hotline_notification_reads (
    notification_id BIGINT NOT NULL REFERENCES hotline_notifications (id),
    user_id BIGINT NOT NULL,
    read_at BIGINT NOT NULL,
    PRIMARY KEY (notification_id, user_id)
);
CREATE INDEX hotline_notification_reads_user ON hotline_notification_reads (user_id, notification_id);

-- events: JSON array of event codes; an empty array means every event. Deleting only sets
-- deleted_at, so the delivery log stays readable.
CREATE TABLE hotline_webhooks (
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
CREATE TABLE hotline_deliveries (
    id INTEGER PRIMARY KEY,
    uuid TEXT NOT NULL UNIQUE,
    channel TEXT NOT NULL,
    webhook_id BIGINT REFERENCES hotline_webhooks (id),
    event TEXT NOT NULL,
    ticket_id BIGINT,
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
CREATE INDEX hotline_deliveries_due ON hotline_deliveries (status, next_attempt_at);
CREATE INDEX hotline_deliveries_webhook ON hotline_deliveries (webhook_id, id);

CREATE TABLE hotline_delivery_attempts (
    id INTEGER PRIMARY KEY,
    delivery_id BIGINT NOT NULL REFERENCES hotline_deliveries (id),
    attempt BIGINT NOT NULL,
    at BIGINT NOT NULL,
    worker TEXT NOT NULL,
    ok BIGINT NOT NULL,
    status_code BIGINT,
    error TEXT,
    duration_ms BIGINT NOT NULL
);
CREATE INDEX hotline_delivery_attempts_delivery ON hotline_delivery_attempts (delivery_id, attempt);

-- What the logging sender would have sent (no SMS gateway yet; e-mail until SMTP is set up).
CREATE TABLE hotline_outbound_messages (
    id INTEGER PRIMARY KEY,
    channel TEXT NOT NULL,
    recipient TEXT NOT NULL,
    subject TEXT,
    body TEXT NOT NULL,
    event TEXT,
    ticket_id BIGINT,
    delivery_uuid TEXT,
    at BIGINT NOT NULL
);
CREATE INDEX hotline_outbound_messages_at ON hotline_outbound_messages (at);

-- channel: inapp (subject = title), sms (subject unused), email.
CREATE TABLE hotline_notify_templates (
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
CREATE TABLE hotline_notify_settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

INSERT INTO hotline_notify_templates (event, channel, enabled, subject, body, updated_at, updated_by) VALUES
('ticket.created', 'inapp', 1, '新工单待受理：{编号}', '市民诉求“{标题}”已登记（工单编号 {编号}），请及时受理。', 0, 'system'),
('ticket.created', 'sms', 1, '', '【12345】您的诉求已登记，工单编号 {编号}。可凭工单编号和本手机号查询办理进度。', 0, 'system'),
('ticket.dispatched', 'inapp', 1, '新派工单：{编号}', '工单“{标题}”（{编号}）已派至{单位}，请于 {签收时限} 前签收，{时限} 前答复。', 0, 'system'),
('ticket.dispatched', 'email', 1, '【12345 派单】{编号} {标题}', '{单位}：

工单“{标题}”（编号 {编号}）已派至贵单位办理。
签收时限：{签收时限}
答复时限：{时限}

请登录一网平台签收办理。本邮件由系统自动发送，请勿回复。', 0, 'system'),
('ticket.acknowledged', 'inapp', 1, '工单已签收：{编号}', '{单位}已签收工单“{标题}”（{编号}），答复时限 {时限}。', 0, 'system'),
('ticket.overdue', 'inapp', 1, '工单超时红牌：{编号}', '工单“{标题}”（{编号}）已超过办理时限，承办单位：{单位}，答复时限：{时限}。请立即办理。', 0, 'system'),
('ticket.overdue', 'email', 1, '【12345 超时红牌】{编号} {标题}', '{单位}：

工单“{标题}”（编号 {编号}）已超过办理时限（签收时限 {签收时限}，答复时限 {时限}），已亮红牌，请立即办理。

本邮件由系统自动发送，请勿回复。', 0, 'system'),
('ticket.replied', 'sms', 1, '', '【12345】您反映的问题（工单编号 {编号}）已由{单位}答复，可凭工单编号和本手机号查询答复内容，稍后我们将回访听取您的意见。', 0, 'system'),
('ticket.reopened', 'inapp', 1, '工单重办：{编号}', '工单“{标题}”（{编号}）需重新办理，请于 {签收时限} 前签收，{时限} 前答复。', 0, 'system'),
('ticket.reopened', 'email', 1, '【12345 重办】{编号} {标题}', '{单位}：

工单“{标题}”（编号 {编号}）经回访需重新办理。
签收时限：{签收时限}
答复时限：{时限}

请登录一网平台签收办理。本邮件由系统自动发送，请勿回复。', 0, 'system'),
('ticket.callback_due', 'inapp', 1, '待回访：{编号}', '工单“{标题}”（{编号}）已由{单位}答复，请回访市民。', 0, 'system');
