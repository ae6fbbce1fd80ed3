-- Attachments live in the database, so they share its transactions, backups and replicas.
CREATE TABLE hotline_attachments (
    id INTEGER PRIMARY KEY,
    ticket_id BIGINT NOT NULL REFERENCES hotline_tickets (id),
    name TEXT NOT NULL,
    mime TEXT NOT NULL,
    size BIGINT NOT NULL,
    sm3 TEXT NOT NULL,
    data BLOB NOT NULL,
    uploaded_by TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX hotline_attachments_ticket ON hotline_attachments (ticket_id);
