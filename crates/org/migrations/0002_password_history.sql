-- Each password a user had (its hash), so that the last ones are not reused and their age
-- is known (expiry).
CREATE TABLE org_password_history (
    id INTEGER PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES org_users (id),
    password_hash TEXT NOT NULL,
    set_at BIGINT NOT NULL
);
CREATE INDEX org_password_history_user ON org_password_history (user_id, set_at);
