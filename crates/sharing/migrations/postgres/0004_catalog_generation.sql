-- The catalog's change counter: every write to entries, their versions or resources bumps it
-- (triggers below), so the open-data portal keeps its dataset list in memory and reads one
-- number per search instead of the whole catalog, and every server instance sees a change.
CREATE TABLE sharing_catalog_generation (
    id BIGINT PRIMARY KEY,
    generation BIGINT NOT NULL
);
INSERT INTO sharing_catalog_generation (id, generation) VALUES (1, 0);

CREATE FUNCTION sharing_catalog_generation_bump() RETURNS trigger AS $$
BEGIN
    UPDATE sharing_catalog_generation SET generation = generation + 1 WHERE id = 1;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER sharing_entries_generation AFTER INSERT OR UPDATE OR DELETE ON sharing_entries
FOR EACH STATEMENT EXECUTE FUNCTION sharing_catalog_generation_bump();
CREATE TRIGGER sharing_entry_versions_generation AFTER INSERT OR UPDATE OR DELETE ON sharing_entry_versions
FOR EACH STATEMENT EXECUTE FUNCTION sharing_catalog_generation_bump();
CREATE TRIGGER sharing_resources_generation AFTER INSERT OR UPDATE OR DELETE ON sharing_resources
FOR EACH STATEMENT EXECUTE FUNCTION sharing_catalog_generation_bump();
