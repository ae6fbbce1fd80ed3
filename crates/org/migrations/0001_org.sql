CREATE TABLE org_regions (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    level TEXT NOT NULL,
    parent_id BIGINT REFERENCES org_regions (id),
    created_at BIGINT NOT NULL
);
CREATE INDEX org_regions_parent ON org_regions (parent_id);

CREATE TABLE org_departments (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    short_name TEXT NOT NULL,
    region_id BIGINT NOT NULL REFERENCES org_regions (id),
    parent_id BIGINT REFERENCES org_departments (id),
    credit_code TEXT UNIQUE,
    phone TEXT,
    active BIGINT NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX org_departments_parent ON org_departments (parent_id);
CREATE INDEX org_departments_region ON org_departments (region_id);

CREATE TABLE org_users (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    dept_id BIGINT REFERENCES org_departments (id),
    phone TEXT,
    id_card TEXT,
    active BIGINT NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX org_users_dept ON org_users (dept_id);

CREATE TABLE org_user_roles (
    user_id BIGINT NOT NULL REFERENCES org_users (id),
    role TEXT NOT NULL,
    PRIMARY KEY (user_id, role)
);

CREATE TABLE org_sessions (
    id_hash TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES org_users (id),
    csrf TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    ip TEXT NOT NULL,
    user_agent TEXT NOT NULL
);
CREATE INDEX org_sessions_user ON org_sessions (user_id);

CREATE TABLE org_api_tokens (
    id INTEGER PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES org_users (id),
    name TEXT NOT NULL,
    prefix TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    scopes TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT,
    revoked_at BIGINT,
    last_used_at BIGINT
);
CREATE INDEX org_api_tokens_user ON org_api_tokens (user_id);

CREATE TABLE org_login_failures (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL,
    ip TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX org_login_failures_user ON org_login_failures (username, at);
CREATE INDEX org_login_failures_ip ON org_login_failures (ip, at);
