-- 一网共享. Times are BIGINT UTC milliseconds, JSON is TEXT, flags are BIGINT 0/1.

-- Which department is the bureau that reviews the catalog and gives the last approval of
-- conditional requests (one row).
CREATE TABLE sharing_settings (
    id INTEGER PRIMARY KEY,
    bureau_dept_id BIGINT
);
INSERT INTO sharing_settings (id, bureau_dept_id) VALUES (1, NULL);

-- 政务信息资源目录: an entry keeps its code and provider; its metadata lives in versions.
CREATE TABLE sharing_entries (
    id INTEGER PRIMARY KEY,
    -- 资源代码: 分类码 + '-' + 顺序码.
    code TEXT NOT NULL UNIQUE,
    class_code TEXT NOT NULL,
    seq BIGINT NOT NULL,
    provider_dept_id BIGINT NOT NULL,
    -- 0 until a version is published.
    published_version BIGINT NOT NULL DEFAULT 0,
    published_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (class_code, seq)
);
CREATE INDEX sharing_entries_provider ON sharing_entries (provider_dept_id);

-- A version: draft → submitted → published (or returned with a reason, then changed and
-- submitted again). A published version never changes.
CREATE TABLE sharing_entry_versions (
    id INTEGER PRIMARY KEY,
    entry_id BIGINT NOT NULL REFERENCES sharing_entries (id),
    version BIGINT NOT NULL,
    status TEXT NOT NULL,
    content TEXT NOT NULL,
    return_reason TEXT NOT NULL DEFAULT '',
    submitted_at BIGINT,
    reviewed_at BIGINT,
    created_at BIGINT NOT NULL,
    UNIQUE (entry_id, version)
);
CREATE INDEX sharing_entry_versions_status ON sharing_entry_versions (status);

-- 挂接: a resource of a published entry. Kind 'table': rows held in sharing_rows.
CREATE TABLE sharing_resources (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    entry_id BIGINT NOT NULL REFERENCES sharing_entries (id),
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    -- The 信息项 the table was created from (the entry version at mount time).
    fields TEXT NOT NULL,
    entry_version BIGINT NOT NULL,
    -- 'full' keeps the response hash and row count; 'metadata' the same without field values
    -- (the log never holds values, either way).
    log_mode TEXT NOT NULL DEFAULT 'full',
    row_count BIGINT NOT NULL DEFAULT 0,
    last_update_at BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX sharing_resources_entry ON sharing_resources (entry_id);

-- The rows of mounted tables, one per record, values as a JSON object of canonical strings
-- (see mount/domain.rs). `row_key` is the primary-key value, so a re-upload updates in place.
CREATE TABLE sharing_rows (
    id INTEGER PRIMARY KEY,
    resource_id BIGINT NOT NULL REFERENCES sharing_resources (id),
    row_key TEXT NOT NULL,
    data TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (resource_id, row_key)
);

-- Each upload or push: counts and the bad rows (line, column, why).
CREATE TABLE sharing_loads (
    id INTEGER PRIMARY KEY,
    resource_id BIGINT NOT NULL,
    source TEXT NOT NULL,
    actor TEXT NOT NULL,
    accepted BIGINT NOT NULL,
    rejected BIGINT NOT NULL,
    errors TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX sharing_loads_resource ON sharing_loads (resource_id, at);

-- 申请用数: one resource per request; requests sent together share a batch.
CREATE TABLE sharing_requests (
    id INTEGER PRIMARY KEY,
    batch TEXT NOT NULL,
    resource_id BIGINT NOT NULL,
    provider_dept_id BIGINT NOT NULL,
    consumer_dept_id BIGINT NOT NULL,
    requester TEXT NOT NULL,
    system TEXT NOT NULL,
    purpose TEXT NOT NULL,
    legal_basis TEXT NOT NULL,
    fields TEXT NOT NULL,
    period_from BIGINT NOT NULL,
    period_until BIGINT NOT NULL,
    share_kind TEXT NOT NULL,
    status TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    decided_at BIGINT
);
CREATE INDEX sharing_requests_consumer ON sharing_requests (consumer_dept_id, status);
CREATE INDEX sharing_requests_provider ON sharing_requests (provider_dept_id, status);

-- The approval chain of a request, one row per level, each with its deadline.
CREATE TABLE sharing_request_steps (
    id INTEGER PRIMARY KEY,
    request_id BIGINT NOT NULL REFERENCES sharing_requests (id),
    seq BIGINT NOT NULL,
    level TEXT NOT NULL,
    status TEXT NOT NULL,
    due_at BIGINT NOT NULL,
    decided_by TEXT,
    decided_at BIGINT,
    reason TEXT NOT NULL DEFAULT '',
    UNIQUE (request_id, seq)
);
CREATE INDEX sharing_request_steps_open ON sharing_request_steps (status, level);

-- A grant: what a consuming department's system may read of one resource, until when.
CREATE TABLE sharing_grants (
    id INTEGER PRIMARY KEY,
    request_id BIGINT NOT NULL UNIQUE,
    resource_id BIGINT NOT NULL,
    provider_dept_id BIGINT NOT NULL,
    consumer_dept_id BIGINT NOT NULL,
    system TEXT NOT NULL,
    -- [{"field": …, "mask": …}]
    fields TEXT NOT NULL,
    -- [{"field": …, "op": …, "values": […]}]
    row_filter TEXT NOT NULL,
    rate_per_minute BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    -- The end of the approved period: no renewal goes beyond it.
    approved_until BIGINT NOT NULL,
    status TEXT NOT NULL,
    revoke_reason TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX sharing_grants_consumer ON sharing_grants (consumer_dept_id, system);
CREATE INDEX sharing_grants_resource ON sharing_grants (resource_id);

-- Consuming systems and the API token bound to each (its SM3 hash, never the token).
CREATE TABLE sharing_systems (
    id INTEGER PRIMARY KEY,
    dept_id BIGINT NOT NULL,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    UNIQUE (dept_id, name)
);

-- The gateway's call log, an SM3 chain like the audit log: hash = SM3(prev_hash ‖ canonical
-- call). `month` (YYYYMM, China time) is indexed so that a month can be archived and removed
-- as a block; the chain carries across months (the first call of a month names the last
-- hash of the previous one).
CREATE TABLE sharing_calls (
    seq BIGINT PRIMARY KEY,
    month BIGINT NOT NULL,
    at BIGINT NOT NULL,
    caller TEXT NOT NULL,
    consumer_dept_id BIGINT,
    system TEXT NOT NULL,
    grant_id BIGINT,
    resource_id BIGINT,
    resource_code TEXT NOT NULL,
    fields TEXT NOT NULL,
    row_count BIGINT NOT NULL,
    request_hash TEXT NOT NULL,
    response_hash TEXT NOT NULL,
    result TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX sharing_calls_month ON sharing_calls (month, seq);
CREATE INDEX sharing_calls_resource ON sharing_calls (resource_id, at);
CREATE INDEX sharing_calls_grant ON sharing_calls (grant_id, at);

CREATE TABLE sharing_call_head (
    id INTEGER PRIMARY KEY,
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO sharing_call_head (id, seq, hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
