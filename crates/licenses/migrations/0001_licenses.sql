-- 电子证照. Times are BIGINT UTC milliseconds, JSON is TEXT, flags are BIGINT 0/1.

-- 证照类型: the GB/T 36904 type code and what stays the same across versions.
CREATE TABLE licenses_types (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    holder_kind TEXT NOT NULL,
    -- 0 until the first version is published.
    published_version BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- A type's versions: a draft may change, a published version never does.
CREATE TABLE licenses_type_versions (
    id INTEGER PRIMARY KEY,
    type_id BIGINT NOT NULL REFERENCES licenses_types (id),
    version BIGINT NOT NULL,
    content TEXT NOT NULL,
    published_at BIGINT,
    created_at BIGINT NOT NULL,
    UNIQUE (type_id, version)
);

-- Each issuing department's SM2 key pairs. The private key is sealed with SM4-GCM under the
-- configured master key; retired keys stay so that old licenses still verify.
CREATE TABLE licenses_keys (
    id INTEGER PRIMARY KEY,
    kid TEXT NOT NULL UNIQUE,
    dept_id BIGINT NOT NULL,
    public_key TEXT NOT NULL,
    -- NULL for a registered external key (the department signs elsewhere).
    private_sealed TEXT,
    active BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    retired_at BIGINT
);
CREATE INDEX licenses_keys_dept ON licenses_keys (dept_id, active);

-- The next 流水号 per (type, issuing department).
CREATE TABLE licenses_serials (
    type_id BIGINT NOT NULL,
    dept_id BIGINT NOT NULL,
    next_serial BIGINT NOT NULL,
    PRIMARY KEY (type_id, dept_id)
);

-- Bitstring status lists, one series per issuing department (signed with its key).
CREATE TABLE licenses_status_lists (
    id INTEGER PRIMARY KEY,
    dept_id BIGINT NOT NULL,
    size BIGINT NOT NULL,
    next_index BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX licenses_status_lists_dept ON licenses_status_lists (dept_id);

CREATE TABLE licenses_licenses (
    id INTEGER PRIMARY KEY,
    identifier TEXT NOT NULL UNIQUE,
    type_id BIGINT NOT NULL REFERENCES licenses_types (id),
    type_version BIGINT NOT NULL,
    dept_id BIGINT NOT NULL,
    serial BIGINT NOT NULL,
    version BIGINT NOT NULL,
    holder_kind TEXT NOT NULL,
    holder_id_no TEXT NOT NULL,
    holder_name TEXT NOT NULL,
    holder_user_id BIGINT,
    fields TEXT NOT NULL,
    valid_from BIGINT NOT NULL,
    valid_until BIGINT,
    status TEXT NOT NULL,
    status_reason TEXT NOT NULL DEFAULT '',
    status_at BIGINT NOT NULL,
    list_id BIGINT NOT NULL,
    list_index BIGINT NOT NULL,
    kid TEXT NOT NULL,
    credential TEXT NOT NULL,
    -- Where it came from ('case:…', 'import:…'), so that a repeated issuance adds nothing.
    source TEXT UNIQUE,
    previous_id BIGINT,
    issued_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (list_id, list_index)
);
CREATE INDEX licenses_licenses_holder ON licenses_licenses (holder_id_no);
CREATE INDEX licenses_licenses_holder_user ON licenses_licenses (holder_user_id);
CREATE INDEX licenses_licenses_type ON licenses_licenses (type_id, dept_id);

-- 用证记录: every presentation, verification, 免证办 use and API read.
CREATE TABLE licenses_usage (
    id INTEGER PRIMARY KEY,
    license_id BIGINT NOT NULL,
    at BIGINT NOT NULL,
    kind TEXT NOT NULL,
    actor TEXT NOT NULL,
    purpose TEXT NOT NULL DEFAULT ''
);
CREATE INDEX licenses_usage_license ON licenses_usage (license_id, at);
