-- Agencies' subsidy claims (plan tasks 1, 5, 27, 32) and rectification orders (task 25).
-- Dates are 'YYYY-MM-DD' text; times UTC text; booleans 0/1.

-- The amount per unit of each kind, set by the city's regulator.
CREATE TABLE claim_standards (
    kind TEXT PRIMARY KEY CHECK (kind IN ('social_insurance', 'training', 'appraisal', 'point_rent')),
    amount_fen INTEGER NOT NULL CHECK (amount_fen > 0 AND amount_fen <= 10000000),
    set_by INTEGER NOT NULL REFERENCES accounts (id),
    set_at TEXT NOT NULL
);

CREATE TABLE subsidy_claims (
    id INTEGER PRIMARY KEY,
    agency_id INTEGER NOT NULL REFERENCES agencies (id),
    -- The agency's district when it claimed: the regulator who decides.
    district_code TEXT NOT NULL REFERENCES divisions (code),
    kind TEXT NOT NULL CHECK (kind IN ('social_insurance', 'training', 'appraisal', 'point_rent')),
    period_from TEXT NOT NULL,
    period_to TEXT NOT NULL,
    note TEXT CHECK (length(note) <= 500),
    status TEXT NOT NULL CHECK (status IN ('submitted', 'approved', 'partly_approved', 'rejected')),
    lines INTEGER NOT NULL CHECK (lines > 0),
    matching INTEGER NOT NULL CHECK (matching >= 0 AND matching <= lines),
    claimed_fen INTEGER NOT NULL CHECK (claimed_fen > 0),
    approved_fen INTEGER CHECK (approved_fen >= 0 AND approved_fen <= claimed_fen),
    approved_lines INTEGER CHECK (approved_lines >= 0 AND approved_lines <= lines),
    submitted_by INTEGER NOT NULL REFERENCES accounts (id),
    submitted_at TEXT NOT NULL,
    decided_by INTEGER REFERENCES accounts (id),
    decided_at TEXT,
    decision_reason TEXT CHECK (length(decision_reason) <= 1000),
    CHECK (period_from <= period_to),
    CHECK ((status = 'submitted') = (decided_at IS NULL))
);
CREATE INDEX subsidy_claims_agency ON subsidy_claims (agency_id, id);
CREATE INDEX subsidy_claims_district ON subsidy_claims (district_code, status, id);
CREATE INDEX subsidy_claims_status ON subsidy_claims (status, id);

-- The evidence file, sealed; kept apart so that lists never read it.
CREATE TABLE subsidy_claim_evidence (
    claim_id INTEGER PRIMARY KEY REFERENCES subsidy_claims (id),
    mime TEXT NOT NULL CHECK (mime IN ('image/jpeg', 'image/png', 'application/pdf')),
    sealed BLOB NOT NULL,
    sha256 TEXT NOT NULL
);

-- One line claims one unit: a worker-month (social insurance), a worker's course kind in a year
-- (training), a worker's certificate kind, trade and level (appraisal), a point-month (rent).
-- `problems` are the codes of what does not match the platform's records ('' matches).
CREATE TABLE subsidy_claim_lines (
    id INTEGER PRIMARY KEY,
    claim_id INTEGER NOT NULL REFERENCES subsidy_claims (id),
    kind TEXT NOT NULL CHECK (kind IN ('social_insurance', 'training', 'appraisal', 'point_rent')),
    -- A worker, or a service point for rent.
    subject_id INTEGER NOT NULL,
    unit TEXT NOT NULL,
    -- The training record or certificate picked.
    record_id INTEGER,
    amount_fen INTEGER NOT NULL CHECK (amount_fen > 0),
    problems TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected'))
);
CREATE INDEX subsidy_claim_lines_claim ON subsidy_claim_lines (claim_id, id);
-- No unit claimed twice: a live line (waiting or approved) that matches the records holds its
-- unit; rejecting the line frees it in the same transaction. A line that does not match holds
-- nothing (and is never approved), so an agency merely tied to a worker cannot block the employer.
CREATE UNIQUE INDEX subsidy_claim_lines_live ON subsidy_claim_lines (kind, subject_id, unit)
    WHERE status <> 'rejected' AND problems = '';

-- When a point closed, so a month's rent is checked against the days it was open.
ALTER TABLE service_points ADD COLUMN closed_at TEXT;

CREATE TABLE rectification_orders (
    id INTEGER PRIMARY KEY,
    agency_id INTEGER NOT NULL REFERENCES agencies (id),
    district_code TEXT NOT NULL REFERENCES divisions (code),
    source_kind TEXT NOT NULL CHECK (source_kind IN ('penalty', 'complaint')),
    -- The penalty's ledger entry (seq) or the complaint's id.
    source_id INTEGER NOT NULL,
    requirement TEXT NOT NULL CHECK (length(requirement) <= 2000),
    deadline TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('open', 'reported', 'accepted')),
    -- The Beijing date of the latest report.
    reported_on TEXT,
    opened_by INTEGER NOT NULL REFERENCES accounts (id),
    opened_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    closed_by INTEGER REFERENCES accounts (id),
    closed_at TEXT,
    CHECK ((status = 'accepted') = (closed_at IS NOT NULL)),
    UNIQUE (source_kind, source_id)
);
CREATE INDEX rectification_orders_agency ON rectification_orders (agency_id, id);
CREATE INDEX rectification_orders_district ON rectification_orders (district_code, status, deadline);
CREATE INDEX rectification_orders_open ON rectification_orders (deadline) WHERE status <> 'accepted';

CREATE TABLE rectification_steps (
    id INTEGER PRIMARY KEY,
    order_id INTEGER NOT NULL REFERENCES rectification_orders (id),
    step TEXT NOT NULL CHECK (step IN ('opened', 'reported', 'returned', 'extended', 'accepted')),
    body TEXT CHECK (length(body) <= 2000),
    deadline_before TEXT,
    deadline_after TEXT,
    evidence_mime TEXT CHECK (evidence_mime IN ('image/jpeg', 'image/png', 'application/pdf')),
    evidence_sealed BLOB,
    evidence_sha256 TEXT,
    by_account INTEGER NOT NULL REFERENCES accounts (id),
    at TEXT NOT NULL,
    CHECK ((evidence_mime IS NULL) = (evidence_sealed IS NULL))
);
CREATE INDEX rectification_steps_order ON rectification_steps (order_id, id);

-- A claim reads the agency's social insurance records at once.
CREATE INDEX social_insurance_agency ON social_insurance (agency_id, worker_id);
