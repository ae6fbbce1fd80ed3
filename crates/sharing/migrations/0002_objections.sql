-- 数据异议: a department holds a value of a base registry differently; the registry's source
-- department checks it (核实) before a deadline: confirms the registry or corrects it.
CREATE TABLE sharing_objections (
    id INTEGER PRIMARY KEY,
    resource_id BIGINT NOT NULL REFERENCES sharing_resources (id),
    row_key TEXT NOT NULL,
    field TEXT NOT NULL,
    registry_value TEXT NOT NULL,
    claimed_value TEXT NOT NULL,
    reason TEXT NOT NULL,
    raised_by_dept BIGINT NOT NULL,
    raised_by TEXT NOT NULL,
    source_dept BIGINT NOT NULL,
    -- open, confirmed, corrected
    status TEXT NOT NULL,
    answer TEXT NOT NULL DEFAULT '',
    corrected_value TEXT,
    answered_by TEXT,
    answered_at BIGINT,
    deadline_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX sharing_objections_source ON sharing_objections (source_dept, status, deadline_at);
CREATE INDEX sharing_objections_raiser ON sharing_objections (raised_by_dept, created_at);
