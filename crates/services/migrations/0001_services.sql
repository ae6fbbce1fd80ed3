-- 一网通办. Items are versioned: services_items names the item, services_item_versions holds
-- every version's full content (JSON); a published version is never updated.
CREATE TABLE services_items (
    id INTEGER PRIMARY KEY,
    impl_code TEXT NOT NULL UNIQUE,
    dept_id BIGINT NOT NULL REFERENCES org_departments (id),
    region_code TEXT NOT NULL,
    latest_version BIGINT NOT NULL,
    published_version BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX services_items_dept ON services_items (dept_id);

CREATE TABLE services_item_versions (
    item_id BIGINT NOT NULL REFERENCES services_items (id),
    version BIGINT NOT NULL,
    status TEXT NOT NULL,
    name TEXT NOT NULL,
    -- name, codes, department, conditions and materials: what the public search looks in.
    search_text TEXT NOT NULL,
    content TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    published_at BIGINT,
    PRIMARY KEY (item_id, version)
);
CREATE INDEX services_item_versions_status ON services_item_versions (status);

CREATE TABLE services_bundles (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    content TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE services_day_counters (
    kind TEXT NOT NULL,
    day TEXT NOT NULL,
    last BIGINT NOT NULL,
    PRIMARY KEY (kind, day)
);

CREATE TABLE services_bundle_cases (
    id INTEGER PRIMARY KEY,
    number TEXT NOT NULL UNIQUE,
    bundle_id BIGINT NOT NULL REFERENCES services_bundles (id),
    applicant_user_id BIGINT,
    applicant_id_no TEXT NOT NULL,
    applicant_phone TEXT NOT NULL,
    data TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- The case as JSON in `data`, with the columns lists, scope and reports filter on.
CREATE TABLE services_cases (
    id INTEGER PRIMARY KEY,
    number TEXT NOT NULL UNIQUE,
    item_id BIGINT NOT NULL REFERENCES services_items (id),
    item_version BIGINT NOT NULL,
    dept_id BIGINT NOT NULL REFERENCES org_departments (id),
    region_code TEXT NOT NULL,
    bundle_case_id BIGINT REFERENCES services_bundle_cases (id),
    applicant_user_id BIGINT,
    applicant_id_no TEXT NOT NULL,
    applicant_phone TEXT NOT NULL,
    channel TEXT NOT NULL,
    status TEXT NOT NULL,
    card TEXT NOT NULL,
    immediate BIGINT NOT NULL,
    legal_days BIGINT NOT NULL,
    promised_days BIGINT NOT NULL,
    accepted_at BIGINT,
    due_at BIGINT,
    closed_at BIGINT,
    delivered_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    data TEXT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX services_cases_dept ON services_cases (dept_id, status);
CREATE INDEX services_cases_user ON services_cases (applicant_user_id);
CREATE INDEX services_cases_bundle ON services_cases (bundle_case_id);
CREATE INDEX services_cases_accepted ON services_cases (accepted_at);

CREATE TABLE services_events (
    id INTEGER PRIMARY KEY,
    case_id BIGINT NOT NULL REFERENCES services_cases (id),
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    actor_name TEXT NOT NULL,
    action TEXT NOT NULL,
    label TEXT NOT NULL,
    from_status TEXT NOT NULL,
    to_status TEXT NOT NULL,
    note TEXT,
    data TEXT NOT NULL
);
CREATE INDEX services_events_case ON services_events (case_id, id);

-- One evaluation per case number, applicant and round: ratings cannot be stuffed.
CREATE TABLE services_evaluations (
    id INTEGER PRIMARY KEY,
    case_id BIGINT,
    case_number TEXT NOT NULL,
    dept_id BIGINT NOT NULL,
    item_id BIGINT NOT NULL,
    applicant_id_no TEXT NOT NULL,
    round BIGINT NOT NULL,
    level TEXT NOT NULL,
    tags TEXT NOT NULL,
    text TEXT NOT NULL,
    channel TEXT NOT NULL,
    staff TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (case_number, applicant_id_no, round)
);
CREATE INDEX services_evaluations_dept ON services_evaluations (dept_id, created_at);

CREATE TABLE services_rectifications (
    id INTEGER PRIMARY KEY,
    evaluation_id BIGINT NOT NULL UNIQUE REFERENCES services_evaluations (id),
    case_number TEXT NOT NULL,
    dept_id BIGINT NOT NULL,
    status TEXT NOT NULL,
    due_at BIGINT NOT NULL,
    reply TEXT,
    replied_at BIGINT,
    review_note TEXT,
    reviewed_at BIGINT,
    created_at BIGINT NOT NULL
);

CREATE TABLE services_feedback (
    id INTEGER PRIMARY KEY,
    number TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    phone TEXT NOT NULL,
    item_id BIGINT,
    dept_id BIGINT,
    text TEXT NOT NULL,
    status TEXT NOT NULL,
    answer TEXT,
    answered_by BIGINT,
    created_at BIGINT NOT NULL,
    answered_at BIGINT
);
