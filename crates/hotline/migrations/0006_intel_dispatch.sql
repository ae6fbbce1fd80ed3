-- Classification models trained from the bureau's own tickets. One row per version; at most
-- one is active (the one serving suggestions).
CREATE TABLE hotline_models (
    version INTEGER PRIMARY KEY,
    created_at BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    n_labeled BIGINT NOT NULL,
    n_unlabeled BIGINT NOT NULL,
    n_seeds BIGINT NOT NULL,
    n_holdout BIGINT NOT NULL,
    -- {"candidate": Evaluation|null, "active": {"version", "evaluation"}|null}
    metrics TEXT NOT NULL DEFAULT 'null',
    -- Why it was or was not activated (zh-CN).
    decision TEXT NOT NULL,
    bytes BLOB NOT NULL,
    active BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX hotline_models_active ON hotline_models (active);

-- Routing rules (派单规则), evaluated by position, first match wins.
CREATE TABLE hotline_routing_rules (
    id INTEGER PRIMARY KEY,
    position BIGINT NOT NULL,
    name TEXT NOT NULL,
    enabled BIGINT NOT NULL,
    conditions TEXT NOT NULL,
    main_dept_id BIGINT NOT NULL REFERENCES org_departments (id),
    co_dept_ids TEXT NOT NULL DEFAULT '[]',
    valid_from TEXT,
    valid_until TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- The dispatch suggestion stored with a ticket; fingerprint = the inputs it was computed from.
CREATE TABLE hotline_suggestions (
    ticket_id BIGINT PRIMARY KEY REFERENCES hotline_tickets (id),
    computed_at BIGINT NOT NULL,
    fingerprint TEXT NOT NULL,
    model_version BIGINT,
    dept_id BIGINT,
    source TEXT,
    confidence REAL NOT NULL,
    body TEXT NOT NULL,
    auto_dispatched BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX hotline_suggestions_dept ON hotline_suggestions (dept_id);

-- Dispatchers' corrections and departments' returns, kept for training and for the report:
-- kind is category (the category was changed), department (dispatched elsewhere than
-- suggested) or return (退单).
CREATE TABLE hotline_dispatch_feedback (
    id INTEGER PRIMARY KEY,
    ticket_id BIGINT NOT NULL REFERENCES hotline_tickets (id),
    at BIGINT NOT NULL,
    kind TEXT NOT NULL,
    before_id BIGINT,
    after_id BIGINT,
    actor TEXT NOT NULL
);
CREATE INDEX hotline_dispatch_feedback_ticket ON hotline_dispatch_feedback (ticket_id);
CREATE INDEX hotline_dispatch_feedback_kind ON hotline_dispatch_feedback (kind, at);
