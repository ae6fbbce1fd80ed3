-- The notification setup's change counter: every write to events, templates, settings or
-- webhooks bumps it (triggers below), so the outbox keeps the setup in memory and reads one
-- number per message instead of the setup itself, and every server instance sees a change.
CREATE TABLE notify_setup_generation (
    id BIGINT PRIMARY KEY,
    generation BIGINT NOT NULL
);
INSERT INTO notify_setup_generation (id, generation) VALUES (1, 0);

CREATE FUNCTION notify_setup_generation_bump() RETURNS trigger AS $$
BEGIN
    UPDATE notify_setup_generation SET generation = generation + 1 WHERE id = 1;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER notify_events_generation AFTER INSERT OR UPDATE OR DELETE ON notify_events
FOR EACH STATEMENT EXECUTE FUNCTION notify_setup_generation_bump();
CREATE TRIGGER notify_templates_generation AFTER INSERT OR UPDATE OR DELETE ON notify_templates
FOR EACH STATEMENT EXECUTE FUNCTION notify_setup_generation_bump();
CREATE TRIGGER notify_settings_generation AFTER INSERT OR UPDATE OR DELETE ON notify_settings
FOR EACH STATEMENT EXECUTE FUNCTION notify_setup_generation_bump();
CREATE TRIGGER notify_webhooks_generation AFTER INSERT OR UPDATE OR DELETE ON notify_webhooks
FOR EACH STATEMENT EXECUTE FUNCTION notify_setup_generation_bump();
