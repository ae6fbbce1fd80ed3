CREATE TABLE kernel_meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- The audit chain. seq is assigned from kernel_audit_head under its row lock, so it has no gaps.
CREATE TABLE kernel_audit (
    seq BIGINT PRIMARY KEY,
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    entity TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    action TEXT NOT NULL,
    payload TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX kernel_audit_entity ON kernel_audit (entity, entity_id);

CREATE TABLE kernel_audit_head (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO kernel_audit_head (id, seq, hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
