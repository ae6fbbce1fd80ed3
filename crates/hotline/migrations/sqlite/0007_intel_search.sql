-- Settings of the search, duplicate and weak-signal features, and the knowledge base's change
-- counter: every write to an article bumps `kb_generation` (triggers below), so each server
-- instance sees that its in-memory search index is stale before it answers.
CREATE TABLE hotline_intel_settings (
    id BIGINT PRIMARY KEY,
    kb_generation BIGINT NOT NULL,
    qa_min_score REAL NOT NULL,
    dup_window_days BIGINT NOT NULL,
    dup_min_similarity REAL NOT NULL
);
INSERT INTO hotline_intel_settings (id, kb_generation, qa_min_score, dup_window_days, dup_min_similarity)
VALUES (1, 0, 0.4, 14, 0.35);

CREATE TRIGGER hotline_kb_articles_generation_ins AFTER INSERT ON hotline_kb_articles
BEGIN
    UPDATE hotline_intel_settings SET kb_generation = kb_generation + 1 WHERE id = 1;
END;
CREATE TRIGGER hotline_kb_articles_generation_upd AFTER UPDATE ON hotline_kb_articles
BEGIN
    UPDATE hotline_intel_settings SET kb_generation = kb_generation + 1 WHERE id = 1;
END;
CREATE TRIGGER hotline_kb_articles_generation_del AFTER DELETE ON hotline_kb_articles
BEGIN
    UPDATE hotline_intel_settings SET kb_generation = kb_generation + 1 WHERE id = 1;
END;

-- The best open duplicate found when a ticket was registered ("可能重复: 编号…").
CREATE TABLE hotline_duplicate_suggestions (
    ticket_id BIGINT PRIMARY KEY REFERENCES hotline_tickets (id),
    candidate_id BIGINT NOT NULL REFERENCES hotline_tickets (id),
    similarity REAL NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX hotline_duplicate_suggestions_candidate ON hotline_duplicate_suggestions (candidate_id);
CREATE INDEX hotline_tickets_region_created ON hotline_tickets (region_code, created_at);

-- 研判告警: weak signals with their evidence. One alert per subject and window: a re-run
-- extends or refreshes the open alert instead of raising a second one.
CREATE TABLE hotline_alerts (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    dimension TEXT NOT NULL,
    subject TEXT NOT NULL,
    subject_label TEXT NOT NULL,
    window_from BIGINT NOT NULL,
    window_to BIGINT NOT NULL,
    score REAL NOT NULL,
    observed BIGINT NOT NULL,
    expected REAL NOT NULL,
    evidence TEXT NOT NULL,
    ticket_ids TEXT NOT NULL,
    region_code TEXT,
    status TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    acknowledged_at BIGINT,
    acknowledged_by TEXT,
    ack_note TEXT,
    UNIQUE (kind, dimension, subject, window_from)
);
CREATE INDEX hotline_alerts_status ON hotline_alerts (status, created_at);
