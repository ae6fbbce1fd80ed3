-- Months of the gateway's call log written to archive files and then removed from
-- sharing_calls. The row with the highest last_seq is the boundary: verification of the table
-- starts after its last_seq, linking to its last_hash; the archive files are verified against
-- these rows (their manifests repeat them, with the file's SM3).
CREATE TABLE sharing_call_archives (
    month BIGINT PRIMARY KEY,
    row_count BIGINT NOT NULL,
    first_seq BIGINT NOT NULL,
    last_seq BIGINT NOT NULL,
    prev_hash TEXT NOT NULL,
    last_hash TEXT NOT NULL,
    file_name TEXT NOT NULL,
    file_sm3 TEXT NOT NULL,
    archived_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX sharing_call_archives_last ON sharing_call_archives (last_seq);
