-- 统一身份认证: registered client systems, their users' remembered consents, authorization
-- codes, grants (one per code exchange: the family of its refresh tokens), tokens and the
-- ID-token signing keys. Tokens and codes are stored only as SM3 hashes.

CREATE TABLE sso_clients (
    id INTEGER PRIMARY KEY,
    client_id TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    -- The tile on the 统一门户: one or two characters on a colour.
    icon_text TEXT NOT NULL,
    icon_color TEXT NOT NULL,
    launch_url TEXT NOT NULL,
    redirect_uris TEXT NOT NULL,
    post_logout_redirect_uris TEXT NOT NULL,
    scopes TEXT NOT NULL,
    -- JSON array of department ids whose users (and their sub-departments') may log in; [] = all staff.
    dept_ids TEXT NOT NULL,
    public_client BIGINT NOT NULL,
    secret_hash TEXT,
    enabled BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE sso_consents (
    user_id BIGINT NOT NULL,
    client_id BIGINT NOT NULL REFERENCES sso_clients (id),
    scopes TEXT NOT NULL,
    granted_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, client_id)
);

CREATE TABLE sso_grants (
    id INTEGER PRIMARY KEY,
    client_id BIGINT NOT NULL REFERENCES sso_clients (id),
    user_id BIGINT NOT NULL,
    scopes TEXT NOT NULL,
    sid TEXT NOT NULL,
    auth_time BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT,
    revoked_reason TEXT
);
CREATE INDEX sso_grants_sid ON sso_grants (sid);

CREATE TABLE sso_codes (
    code_hash TEXT PRIMARY KEY,
    client_id BIGINT NOT NULL REFERENCES sso_clients (id),
    user_id BIGINT NOT NULL,
    redirect_uri TEXT NOT NULL,
    scopes TEXT NOT NULL,
    nonce TEXT,
    code_challenge TEXT,
    sid TEXT NOT NULL,
    auth_time BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT,
    grant_id BIGINT
);

CREATE TABLE sso_refresh_tokens (
    token_hash TEXT PRIMARY KEY,
    grant_id BIGINT NOT NULL REFERENCES sso_grants (id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);
CREATE INDEX sso_refresh_tokens_grant ON sso_refresh_tokens (grant_id);

CREATE TABLE sso_access_tokens (
    token_hash TEXT PRIMARY KEY,
    grant_id BIGINT NOT NULL REFERENCES sso_grants (id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sso_access_tokens_grant ON sso_access_tokens (grant_id);

CREATE TABLE sso_keys (
    kid TEXT PRIMARY KEY,
    alg TEXT NOT NULL,
    -- The public JWK (JSON); the private key as PKCS#8 sealed with SM4-GCM under the master key.
    public_jwk TEXT NOT NULL,
    sealed_private TEXT NOT NULL,
    active BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    retired_at BIGINT
);
