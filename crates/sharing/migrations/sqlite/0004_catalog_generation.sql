-- The catalog's change counter: every write to entries, their versions or resources bumps it
-- (triggers below), so the open-data portal keeps its dataset list in memory and reads one
-- number per search instead of the whole catalog, and every server instance sees a change.
CREATE TABLE sharing_catalog_generation (
    id BIGINT PRIMARY KEY,
    generation BIGINT NOT NULL
);
INSERT INTO sharing_catalog_generation (id, generation) VALUES (1, 0);

CREATE TRIGGER sharing_entries_generation_ins AFTER INSERT ON sharing_entries
BEGIN
    UPDATE sharing_catalog_generation SET generation = generation + 1 WHERE id = 1;
END;
CREATE TRIGGER sharing_entries_generation_upd AFTER UPDATE ON sharing_entries
BEGIN
    UPDATE sharing_catalog_generation SET generation = generation + 1 WHERE id = 1;
END;
CREATE TRIGGER sharing_entries_generation_del AFTER DELETE ON sharing_entries
BEGIN
    UPDATE sharing_catalog_generation SET generation = generation + 1 WHERE id = 1;
END;
CREATE TRIGGER sharing_entry_versions_generation_ins AFTER INSERT ON sharing_entry_versions
BEGIN
    UPDATE sharing_catalog_generation SET generation = generation + 1 WHERE id = 1;
END;
CREATE TRIGGER sharing_entry_versions_generation_upd AFTER UPDATE ON sharing_entry_versions
BEGIN
    UPDATE sharing_catalog_generation SET generation = generation + 1 WHERE id = 1;
END;
CREATE TRIGGER sharing_entry_versions_generation_del AFTER DELETE ON sharing_entry_versions
BEGIN
    UPDATE sharing_catalog_generation SET generation = generation + 1 WHERE id = 1;
END;
CREATE TRIGGER sharing_resources_generation_ins AFTER INSERT ON sharing_resources
BEGIN
    UPDATE sharing_catalog_generation SET generation = generation + 1 WHERE id = 1;
END;
CREATE TRIGGER sharing_resources_generation_upd AFTER UPDATE ON sharing_resources
BEGIN
    UPDATE sharing_catalog_generation SET generation = generation + 1 WHERE id = 1;
END;
CREATE TRIGGER sharing_resources_generation_del AFTER DELETE ON sharing_resources
BEGIN
    UPDATE sharing_catalog_generation SET generation = generation + 1 WHERE id = 1;
END;
