-- 开放数据: what the portal itself keeps. The datasets are the catalog's open entries (sharing);
-- here are only their use (views, downloads, API calls), the public's applications for
-- 有条件开放 datasets, and 开放需求 (asks for data not yet open).

CREATE TABLE opendata_usage (
    id INTEGER PRIMARY KEY,
    -- view | download | api
    kind TEXT NOT NULL,
    -- 资源代码 of the entry ('' for API calls not about one dataset)
    entry_code TEXT NOT NULL,
    -- the format downloaded or the CKAN action called
    detail TEXT NOT NULL,
    provider_dept_id BIGINT,
    at BIGINT NOT NULL
);
CREATE INDEX opendata_usage_entry ON opendata_usage (entry_code, kind);
CREATE INDEX opendata_usage_at ON opendata_usage (at);

CREATE TABLE opendata_applications (
    id INTEGER PRIMARY KEY,
    entry_code TEXT NOT NULL,
    provider_dept_id BIGINT NOT NULL,
    user_id BIGINT NOT NULL,
    applicant TEXT NOT NULL,
    purpose TEXT NOT NULL,
    -- pending | approved | refused
    status TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    decided_by TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    decided_at BIGINT
);
CREATE INDEX opendata_applications_user ON opendata_applications (user_id, entry_code);
CREATE INDEX opendata_applications_provider ON opendata_applications (provider_dept_id, status);

CREATE TABLE opendata_demands (
    id INTEGER PRIMARY KEY,
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    contact TEXT NOT NULL,
    -- open | answered
    status TEXT NOT NULL,
    answer TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    answered_at BIGINT
);
