CREATE TABLE hotline_categories (
    id INTEGER PRIMARY KEY,
    parent_id BIGINT REFERENCES hotline_categories (id),
    level BIGINT NOT NULL,
    name TEXT NOT NULL,
    path TEXT NOT NULL UNIQUE,
    questions TEXT NOT NULL DEFAULT '[]',
    active BIGINT NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL
);
CREATE INDEX hotline_categories_parent ON hotline_categories (parent_id);

CREATE TABLE hotline_day_counters (
    day TEXT PRIMARY KEY,
    last BIGINT NOT NULL
);

CREATE TABLE hotline_tickets (
    id INTEGER PRIMARY KEY,
    number TEXT NOT NULL UNIQUE,
    channel TEXT NOT NULL,
    kind TEXT NOT NULL,
    urgency TEXT NOT NULL,
    status TEXT NOT NULL,
    caller_name TEXT,
    caller_phone TEXT,
    wants_reply BIGINT NOT NULL,
    anonymous BIGINT NOT NULL,
    address TEXT,
    region_code TEXT,
    lng REAL,
    lat REAL,
    title TEXT NOT NULL,
    content TEXT NOT NULL,
    category_id BIGINT REFERENCES hotline_categories (id),
    answers TEXT NOT NULL DEFAULT '{}',
    main_dept_id BIGINT REFERENCES org_departments (id),
    co_dept_ids TEXT NOT NULL DEFAULT '[]',
    ack_due BIGINT,
    reply_due BIGINT,
    paused_since BIGINT,
    card TEXT NOT NULL DEFAULT 'none',
    reply TEXT,
    replied_at BIGINT,
    resolution TEXT,
    kb_article_id BIGINT,
    satisfaction TEXT,
    callback_attempts BIGINT NOT NULL DEFAULT 0,
    reopen_count BIGINT NOT NULL DEFAULT 0,
    return_count BIGINT NOT NULL DEFAULT 0,
    pending_extension TEXT,
    supervised BIGINT NOT NULL DEFAULT 0,
    parent_id BIGINT REFERENCES hotline_tickets (id),
    split_from_id BIGINT REFERENCES hotline_tickets (id),
    external_id TEXT UNIQUE,
    created_at BIGINT NOT NULL,
    accepted_at BIGINT,
    dispatched_at BIGINT,
    acknowledged_at BIGINT,
    closed_at BIGINT,
    archived_at BIGINT,
    updated_at BIGINT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX hotline_tickets_status ON hotline_tickets (status);
CREATE INDEX hotline_tickets_created ON hotline_tickets (created_at);
CREATE INDEX hotline_tickets_phone ON hotline_tickets (caller_phone);
CREATE INDEX hotline_tickets_region ON hotline_tickets (region_code);
CREATE INDEX hotline_tickets_main_dept ON hotline_tickets (main_dept_id, status);
CREATE INDEX hotline_tickets_parent ON hotline_tickets (parent_id);

-- Who holds a ticket now (main and co-handling departments): the data-scope join.
CREATE TABLE hotline_ticket_depts (
    ticket_id BIGINT NOT NULL REFERENCES hotline_tickets (id),
    dept_id BIGINT NOT NULL REFERENCES org_departments (id),
    role TEXT NOT NULL,
    PRIMARY KEY (ticket_id, dept_id)
);
CREATE INDEX hotline_ticket_depts_dept ON hotline_ticket_depts (dept_id);

-- The timeline. Each row also has its record in the audit chain.
CREATE TABLE hotline_events (
    id INTEGER PRIMARY KEY,
    ticket_id BIGINT NOT NULL REFERENCES hotline_tickets (id),
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    actor_name TEXT NOT NULL,
    action TEXT NOT NULL,
    from_status TEXT NOT NULL,
    to_status TEXT NOT NULL,
    dept_id BIGINT,
    note TEXT,
    data TEXT NOT NULL DEFAULT 'null'
);
CREATE INDEX hotline_events_ticket ON hotline_events (ticket_id, id);
CREATE INDEX hotline_events_action ON hotline_events (action, at);

CREATE TABLE hotline_deadline_policies (
    kind TEXT NOT NULL,
    urgency TEXT NOT NULL,
    ack_minutes BIGINT NOT NULL,
    reply_days BIGINT NOT NULL,
    yellow_minutes BIGINT NOT NULL,
    PRIMARY KEY (kind, urgency)
);

CREATE TABLE hotline_kb_articles (
    id INTEGER PRIMARY KEY,
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    category_id BIGINT REFERENCES hotline_categories (id),
    dept_id BIGINT REFERENCES org_departments (id),
    valid_from TEXT,
    valid_until TEXT,
    status TEXT NOT NULL,
    version BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE hotline_kb_versions (
    article_id BIGINT NOT NULL REFERENCES hotline_kb_articles (id),
    version BIGINT NOT NULL,
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    category_id BIGINT,
    dept_id BIGINT,
    valid_from TEXT,
    valid_until TEXT,
    edited_by TEXT NOT NULL,
    edited_at BIGINT NOT NULL,
    PRIMARY KEY (article_id, version)
);

CREATE TABLE hotline_reply_templates (
    id INTEGER PRIMARY KEY,
    category_id BIGINT REFERENCES hotline_categories (id),
    status TEXT,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
