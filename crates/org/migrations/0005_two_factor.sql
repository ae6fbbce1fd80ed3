-- Two-factor login (TOTP, RFC 6238). One row per user who has begun enrolment: the secret
-- sealed with SM4-GCM under the master key, `enabled_at` set once a valid code confirmed it,
-- and the last time step a code was accepted for (a code is never accepted twice).
CREATE TABLE org_two_factor (
    user_id BIGINT PRIMARY KEY REFERENCES org_users (id),
    secret_sealed TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    enabled_at BIGINT,
    last_step BIGINT NOT NULL DEFAULT 0
);
-- One-time recovery codes, only as SM3 hashes; `used_at` once spent.
CREATE TABLE org_recovery_codes (
    id INTEGER PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES org_users (id),
    code_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    used_at BIGINT
);
CREATE INDEX org_recovery_codes_user ON org_recovery_codes (user_id);
-- A password accepted, the second factor still owed: the login's second step, by the SM3 hash
-- of a short-lived random token.
CREATE TABLE org_login_challenges (
    id_hash TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES org_users (id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
-- A session of a user whom the policy requires a second factor of but who has none yet: it
-- reaches only the enrolment page.
ALTER TABLE org_sessions ADD COLUMN enrol_only BIGINT NOT NULL DEFAULT 0;
