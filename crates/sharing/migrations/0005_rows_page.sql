-- Rows of one resource in id order (the gateway's pages, streamed downloads): without it the
-- planner takes the (resource_id, row_key) index and sorts the whole resource for every page,
-- so a million-row download read its table two hundred times.
CREATE INDEX sharing_rows_page ON sharing_rows (resource_id, id);
