-- Hits on public lookups per key (a client's address) and fixed window, shared by every
-- instance of the server.
CREATE TABLE kernel_throttle (
    bucket TEXT NOT NULL,
    key TEXT NOT NULL,
    window_start BIGINT NOT NULL,
    hits BIGINT NOT NULL,
    PRIMARY KEY (bucket, key, window_start)
);
CREATE INDEX kernel_throttle_window ON kernel_throttle (window_start);
