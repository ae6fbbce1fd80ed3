-- A license's status-list slot: looked up on every 查证 (one slot, not the whole list), and the
-- set bits of one list read without scanning every license when the list is served.
CREATE UNIQUE INDEX licenses_licenses_slot ON licenses_licenses (list_id, list_index);
CREATE INDEX licenses_licenses_list_status ON licenses_licenses (list_id, status);
