-- 回流: scheduled pulls of provincial data into base-registry tables, from an HTTP endpoint
-- with paging or from files dropped into a folder; each run with its counts and errors.
CREATE TABLE sharing_backflows (
    id INTEGER PRIMARY KEY,
    resource_id BIGINT NOT NULL REFERENCES sharing_resources (id),
    name TEXT NOT NULL,
    -- http, folder
    source_kind TEXT NOT NULL,
    source TEXT NOT NULL,
    interval_minutes BIGINT NOT NULL,
    enabled BIGINT NOT NULL,
    next_run_at BIGINT NOT NULL,
    last_run_at BIGINT,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX sharing_backflows_due ON sharing_backflows (enabled, next_run_at);

CREATE TABLE sharing_backflow_runs (
    id INTEGER PRIMARY KEY,
    backflow_id BIGINT NOT NULL REFERENCES sharing_backflows (id),
    -- schedule, manual
    run_trigger TEXT NOT NULL,
    started_at BIGINT NOT NULL,
    finished_at BIGINT NOT NULL,
    -- ok, partial, failed
    status TEXT NOT NULL,
    fetched BIGINT NOT NULL,
    accepted BIGINT NOT NULL,
    added BIGINT NOT NULL,
    rejected BIGINT NOT NULL,
    skipped_files BIGINT NOT NULL,
    errors TEXT NOT NULL,
    message TEXT NOT NULL
);
CREATE INDEX sharing_backflow_runs_flow ON sharing_backflow_runs (backflow_id, started_at);

-- Files of a folder source already loaded, by content hash: a file dropped twice loads once.
CREATE TABLE sharing_backflow_files (
    backflow_id BIGINT NOT NULL REFERENCES sharing_backflows (id),
    sha TEXT NOT NULL,
    name TEXT NOT NULL,
    loaded_at BIGINT NOT NULL,
    PRIMARY KEY (backflow_id, sha)
);
