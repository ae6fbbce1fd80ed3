-- The notification setup's change counter: every write to events, templates, settings or
-- webhooks bumps it (triggers below), so the outbox keeps the setup in memory and reads one
-- number per message instead of the setup itself, and every server instance sees a change.
CREATE TABLE notify_setup_generation (
    id BIGINT PRIMARY KEY,
    generation BIGINT NOT NULL
);
INSERT INTO notify_setup_generation (id, generation) VALUES (1, 0);

CREATE TRIGGER notify_events_generation_ins AFTER INSERT ON notify_events
BEGIN
    UPDATE notify_setup_generation SET generation = generation + 1 WHERE id = 1;
END;
CREATE TRIGGER notify_events_generation_upd AFTER UPDATE ON notify_events
BEGIN
    UPDATE notify_setup_generation SET generation = generation + 1 WHERE id = 1;
END;
CREATE TRIGGER notify_events_generation_del AFTER DELETE ON notify_events
BEGIN
    UPDATE notify_setup_generation SET generation = generation + 1 WHERE id = 1;
END;
CREATE TRIGGER notify_templates_generation_ins AFTER INSERT ON notify_templates
BEGIN
    UPDATE notify_setup_generation SET generation = generation + 1 WHERE id = 1;
END;
CREATE TRIGGER notify_templates_generation_upd AFTER UPDATE ON notify_templates
BEGIN
    UPDATE notify_setup_generation SET generation = generation + 1 WHERE id = 1;
END;
CREATE TRIGGER notify_templates_generation_del AFTER DELETE ON notify_templates
BEGIN
    UPDATE notify_setup_generation SET generation = generation + 1 WHERE id = 1;
END;
CREATE TRIGGER notify_settings_generation_ins AFTER INSERT ON notify_settings
BEGIN
    UPDATE notify_setup_generation SET generation = generation + 1 WHERE id = 1;
END;
CREATE TRIGGER notify_settings_generation_upd AFTER UPDATE ON notify_settings
BEGIN
    UPDATE notify_setup_generation SET generation = generation + 1 WHERE id = 1;
END;
CREATE TRIGGER notify_settings_generation_del AFTER DELETE ON notify_settings
BEGIN
    UPDATE notify_setup_generation SET generation = generation + 1 WHERE id = 1;
END;
CREATE TRIGGER notify_webhooks_generation_ins AFTER INSERT ON notify_webhooks
BEGIN
    UPDATE notify_setup_generation SET generation = generation + 1 WHERE id = 1;
END;
CREATE TRIGGER notify_webhooks_generation_upd AFTER UPDATE ON notify_webhooks
BEGIN
    UPDATE notify_setup_generation SET generation = generation + 1 WHERE id = 1;
END;
CREATE TRIGGER notify_webhooks_generation_del AFTER DELETE ON notify_webhooks
BEGIN
    UPDATE notify_setup_generation SET generation = generation + 1 WHERE id = 1;
END;
