-- Workforce: schools and training bases, courses, training records, certificates, health
-- checks, insurance, social insurance, education evidence, the reminder outbox and rate snapshots.
-- Dates are 'YYYY-MM-DD' text; times UTC text; booleans 0/1.

CREATE TABLE training_providers (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('college', 'training_base', 'practice_base')),
    name TEXT NOT NULL,
    code TEXT NOT NULL UNIQUE,
    district_code TEXT NOT NULL REFERENCES divisions (code),
    teaches TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX training_providers_district ON training_providers (district_code, id);

ALTER TABLE accounts ADD COLUMN provider_id INTEGER REFERENCES training_providers (id);

CREATE TABLE courses (
    id INTEGER PRIMARY KEY,
    provider_id INTEGER NOT NULL REFERENCES training_providers (id),
    name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('pre_job', 'retraining', 'skill_upgrade', 'management')),
    mode TEXT NOT NULL CHECK (mode IN ('in_person', 'online')),
    hours INTEGER NOT NULL CHECK (hours > 0),
    trade TEXT CHECK (trade IN ('housekeeping', 'maternity', 'home_care')),
    created_at TEXT NOT NULL
);
CREATE INDEX courses_provider ON courses (provider_id, id);

-- Who wrote a record: a provider of its own course, an agency for its worker, the regulator.
-- Records from different sources about the same course are all kept; the rules decide which
-- one counts.
CREATE TABLE training_records (
    id INTEGER PRIMARY KEY,
    worker_id INTEGER NOT NULL REFERENCES workers (id),
    course_id INTEGER REFERENCES courses (id),
    course_kind TEXT NOT NULL CHECK (course_kind IN ('pre_job', 'retraining', 'skill_upgrade', 'management')),
    course_name TEXT NOT NULL,
    provider_name TEXT NOT NULL,
    mode TEXT NOT NULL CHECK (mode IN ('in_person', 'online')),
    hours INTEGER NOT NULL CHECK (hours > 0),
    started_on TEXT NOT NULL,
    completed_on TEXT,
    exam_passed INTEGER CHECK (exam_passed IN (0, 1)),
    exam_score INTEGER CHECK (exam_score BETWEEN 0 AND 100),
    source TEXT NOT NULL CHECK (source IN ('provider', 'agency', 'regulator', 'worker')),
    source_id INTEGER,
    recorded_by INTEGER REFERENCES accounts (id),
    created_at TEXT NOT NULL,
    CHECK (completed_on IS NULL OR completed_on >= started_on)
);
CREATE INDEX training_records_worker ON training_records (worker_id);
CREATE UNIQUE INDEX training_records_enrolment ON training_records (course_id, worker_id) WHERE source = 'provider';

CREATE TABLE skill_certificates (
    id INTEGER PRIMARY KEY,
    worker_id INTEGER NOT NULL REFERENCES workers (id),
    kind TEXT NOT NULL CHECK (kind IN ('occupational', 'one_plus_x', 'childcare', 'elderly_care', 'other')),
    trade TEXT CHECK (trade IN ('housekeeping', 'maternity', 'home_care')),
    level TEXT CHECK (level IN ('level5', 'level4', 'level3', 'level2')),
    issuer TEXT NOT NULL,
    number TEXT NOT NULL,
    issued_on TEXT NOT NULL,
    valid_until TEXT,
    source TEXT NOT NULL CHECK (source IN ('provider', 'agency', 'regulator', 'worker')),
    source_id INTEGER,
    recorded_by INTEGER REFERENCES accounts (id),
    created_at TEXT NOT NULL,
    CHECK (valid_until IS NULL OR valid_until >= issued_on),
    CHECK (kind <> 'occupational' OR (trade IS NOT NULL AND level IS NOT NULL))
);
CREATE INDEX skill_certificates_worker ON skill_certificates (worker_id);

-- The result (pass/fail and notes) is sealed; only the date, place and category are clear.
CREATE TABLE health_checks (
    id INTEGER PRIMARY KEY,
    worker_id INTEGER NOT NULL REFERENCES workers (id),
    checked_on TEXT NOT NULL,
    expires_on TEXT NOT NULL,
    institution TEXT NOT NULL,
    category TEXT NOT NULL CHECK (category IN ('general', 'in_home', 'elderly_care', 'maternity')),
    result_cipher BLOB NOT NULL,
    source TEXT NOT NULL CHECK (source IN ('provider', 'agency', 'regulator', 'worker')),
    source_id INTEGER,
    recorded_by INTEGER REFERENCES accounts (id),
    created_at TEXT NOT NULL,
    CHECK (expires_on > checked_on)
);
CREATE INDEX health_checks_worker ON health_checks (worker_id);

-- A policy covers one worker, or (worker_id NULL) every worker bound to the agency.
CREATE TABLE insurance_policies (
    id INTEGER PRIMARY KEY,
    worker_id INTEGER REFERENCES workers (id),
    agency_id INTEGER REFERENCES agencies (id),
    kind TEXT NOT NULL CHECK (kind IN ('accident', 'liability', 'employer_liability')),
    insurer TEXT NOT NULL,
    policy_number TEXT NOT NULL,
    starts_on TEXT NOT NULL,
    ends_on TEXT NOT NULL,
    sum_insured_fen INTEGER NOT NULL CHECK (sum_insured_fen >= 0),
    source TEXT NOT NULL CHECK (source IN ('provider', 'agency', 'regulator', 'worker')),
    source_id INTEGER,
    recorded_by INTEGER REFERENCES accounts (id),
    created_at TEXT NOT NULL,
    CHECK (ends_on >= starts_on),
    CHECK (worker_id IS NOT NULL OR agency_id IS NOT NULL)
);
CREATE INDEX insurance_policies_worker ON insurance_policies (worker_id) WHERE worker_id IS NOT NULL;
CREATE INDEX insurance_policies_agency ON insurance_policies (agency_id) WHERE worker_id IS NULL;

CREATE TABLE social_insurance (
    worker_id INTEGER NOT NULL REFERENCES workers (id),
    agency_id INTEGER NOT NULL REFERENCES agencies (id),
    enrolled INTEGER NOT NULL CHECK (enrolled IN (0, 1)),
    since TEXT,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (worker_id, agency_id)
);

ALTER TABLE workers ADD COLUMN education_school TEXT;
ALTER TABLE workers ADD COLUMN education_evidence TEXT;

-- The outbox: one row per recipient and event, so a job that runs twice writes nothing twice.
CREATE TABLE notifications (
    id INTEGER PRIMARY KEY,
    recipient_kind TEXT NOT NULL CHECK (recipient_kind IN ('worker', 'agency')),
    recipient_id INTEGER NOT NULL,
    worker_id INTEGER NOT NULL REFERENCES workers (id),
    condition TEXT NOT NULL,
    event_key TEXT NOT NULL,
    due_on TEXT NOT NULL,
    overdue INTEGER NOT NULL CHECK (overdue IN (0, 1)),
    channel TEXT NOT NULL,
    created_at TEXT NOT NULL,
    delivered_at TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    read_at TEXT,
    UNIQUE (recipient_kind, recipient_id, worker_id, event_key)
);
CREATE INDEX notifications_inbox ON notifications (recipient_kind, recipient_id, id);
CREATE INDEX notifications_pending ON notifications (id) WHERE delivered_at IS NULL;

-- What the daily job found for the city ('220100000000') and each district.
CREATE TABLE workforce_rates (
    area_code TEXT NOT NULL,
    as_of TEXT NOT NULL,
    active_workers INTEGER NOT NULL,
    pre_job_trained INTEGER NOT NULL,
    retraining_current INTEGER NOT NULL,
    health_valid INTEGER NOT NULL,
    insured INTEGER NOT NULL,
    certified INTEGER NOT NULL,
    education_related INTEGER NOT NULL,
    compliant INTEGER NOT NULL,
    computed_at TEXT NOT NULL,
    PRIMARY KEY (area_code, as_of)
);

CREATE TABLE job_runs (
    id INTEGER PRIMARY KEY,
    job TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    summary TEXT
);
