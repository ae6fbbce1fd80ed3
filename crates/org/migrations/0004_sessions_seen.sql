-- The last and the one-before-last login of each user (shown after login: 上次登录时间和地址),
-- and an index for listing one's own sessions and sweeping idle ones.
ALTER TABLE org_users ADD COLUMN last_login_at BIGINT;
ALTER TABLE org_users ADD COLUMN last_login_ip TEXT;
ALTER TABLE org_users ADD COLUMN prev_login_at BIGINT;
ALTER TABLE org_users ADD COLUMN prev_login_ip TEXT;
CREATE INDEX org_sessions_seen ON org_sessions (last_seen_at);
