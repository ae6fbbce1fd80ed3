-- 出件 results reported by the service hall: one row per delivered case of an item whose
-- result is a license type, with the license when it was delivered as 电子证照. The rows are
-- the denominator of 电子证照签发率 (cases delivered with an e-license ÷ all of them).
CREATE TABLE licenses_case_results (
    id INTEGER PRIMARY KEY,
    case_ref TEXT NOT NULL UNIQUE,
    type_id BIGINT NOT NULL REFERENCES licenses_types (id),
    dept_id BIGINT NOT NULL,
    license_id BIGINT,
    delivered_at BIGINT NOT NULL
);
CREATE INDEX licenses_case_results_type ON licenses_case_results (type_id, dept_id, delivered_at);

-- 到期提醒: one reminder per license version and expiry date, so a reminder is sent once.
CREATE TABLE licenses_reminders (
    id INTEGER PRIMARY KEY,
    license_id BIGINT NOT NULL,
    valid_until BIGINT NOT NULL,
    user_id BIGINT,
    sent_at BIGINT NOT NULL,
    UNIQUE (license_id, valid_until)
);

-- The expiry reminder as a notification event of the notify module, with its default templates.
INSERT INTO notify_events (code, source, label, placeholders, position) VALUES
('license.expiring', 'licenses', '证照到期提醒', '["证照","持证人","到期日","剩余天数","证照标识"]', 301);

INSERT INTO notify_templates (event, channel, enabled, subject, body, updated_at, updated_by) VALUES
('license.expiring', 'inapp', 1, '证照即将到期：{证照}', '您的“{证照}”（证照标识 {证照标识}）将于 {到期日} 到期，还有 {剩余天数} 天，请及时办理延续或换证。', 0, 'system');
