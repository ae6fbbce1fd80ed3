-- Audit retention: one row per archive of old records (written to files by `yiwang audit
-- archive`, then removed from kernel_audit). The chain in the table continues from the last
-- archive's last_hash; `sm3` is the digest of the archive's records file.
CREATE TABLE kernel_audit_archives (
    id INTEGER PRIMARY KEY,
    first_seq BIGINT NOT NULL,
    last_seq BIGINT NOT NULL UNIQUE,
    last_hash TEXT NOT NULL,
    records BIGINT NOT NULL,
    file TEXT NOT NULL,
    sm3 TEXT NOT NULL,
    archived_at BIGINT NOT NULL
);
