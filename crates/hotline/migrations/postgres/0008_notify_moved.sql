-- Notifications are the notify module's now (notify_* tables, created by notify's 0001). This
-- registers the hotline's events there and moves what 0003_notify kept in hotline_* tables:
-- templates (as edited), settings, webhooks, deliveries with their attempts, the in-app
-- notifications with their read receipts and the logging sender's record, keeping their ids.

INSERT INTO notify_events (code, source, label, placeholders, position) VALUES
('ticket.created', 'hotline', '工单登记', '["编号","标题","单位","时限","签收时限","状态","答复"]', 101),
('ticket.dispatched', 'hotline', '派单', '["编号","标题","单位","时限","签收时限","状态","答复"]', 102),
('ticket.acknowledged', 'hotline', '签收', '["编号","标题","单位","时限","签收时限","状态","答复"]', 103),
('ticket.overdue', 'hotline', '超时红牌', '["编号","标题","单位","时限","签收时限","状态","答复"]', 104),
('ticket.replied', 'hotline', '答复市民', '["编号","标题","单位","时限","签收时限","状态","答复"]', 105),
('ticket.reopened', 'hotline', '重办', '["编号","标题","单位","时限","签收时限","状态","答复"]', 106),
('ticket.callback_due', 'hotline', '待回访', '["编号","标题","单位","时限","签收时限","状态","答复"]', 107);

INSERT INTO notify_templates (event, channel, enabled, subject, body, updated_at, updated_by)
SELECT event, channel, enabled, subject, body, updated_at, updated_by FROM hotline_notify_templates;

INSERT INTO notify_settings (key, value) SELECT key, value FROM hotline_notify_settings;

INSERT INTO notify_webhooks (id, name, url, secret, events, active, max_attempts, created_at, updated_at, deleted_at)
SELECT id, name, url, secret, events, active, max_attempts, created_at, updated_at, deleted_at FROM hotline_webhooks;

INSERT INTO notify_deliveries (id, uuid, channel, webhook_id, source, event, subject_id, recipient, subject, body, status,
    attempts, max_attempts, next_attempt_at, claimed_by, claimed_until, last_error, created_at, delivered_at)
SELECT id, uuid, channel, webhook_id, 'hotline', event, ticket_id, recipient, subject, body, status,
    attempts, max_attempts, next_attempt_at, claimed_by, claimed_until, last_error, created_at, delivered_at
FROM hotline_deliveries;

INSERT INTO notify_delivery_attempts (id, delivery_id, attempt, at, worker, ok, status_code, error, duration_ms)
SELECT id, delivery_id, attempt, at, worker, ok, status_code, error, duration_ms FROM hotline_delivery_attempts;

INSERT INTO notify_notifications (id, source, event, subject_id, subject_number, role, dept_id, region_code, user_id,
    title, body, created_at)
SELECT id, 'hotline', event, ticket_id, ticket_number, role, dept_id, region_code, NULL, title, body, created_at
FROM hotline_notifications;

INSERT INTO notify_notification_reads (notification_id, user_id, read_at)
SELECT notification_id, user_id, read_at FROM hotline_notification_reads;

INSERT INTO notify_outbound_messages (id, channel, recipient, subject, body, source, event, subject_id, delivery_uuid, at)
SELECT id, channel, recipient, subject, body, CASE WHEN event IS NULL THEN NULL ELSE 'hotline' END, event, ticket_id,
    delivery_uuid, at
FROM hotline_outbound_messages;

-- Rows came in with their ids: the identity sequences go on after the largest.
SELECT setval(pg_get_serial_sequence('notify_webhooks', 'id'), COALESCE((SELECT MAX(id) FROM notify_webhooks), 0) + 1, false);
SELECT setval(pg_get_serial_sequence('notify_deliveries', 'id'), COALESCE((SELECT MAX(id) FROM notify_deliveries), 0) + 1, false);
SELECT setval(pg_get_serial_sequence('notify_delivery_attempts', 'id'), COALESCE((SELECT MAX(id) FROM notify_delivery_attempts), 0) + 1, false);
SELECT setval(pg_get_serial_sequence('notify_notifications', 'id'), COALESCE((SELECT MAX(id) FROM notify_notifications), 0) + 1, false);
SELECT setval(pg_get_serial_sequence('notify_outbound_messages', 'id'), COALESCE((SELECT MAX(id) FROM notify_outbound_messages), 0) + 1, false);

DROP TABLE hotline_notification_reads;
DROP TABLE hotline_notifications;
DROP TABLE hotline_delivery_attempts;
DROP TABLE hotline_deliveries;
DROP TABLE hotline_webhooks;
DROP TABLE hotline_outbound_messages;
DROP TABLE hotline_notify_templates;
DROP TABLE hotline_notify_settings;
