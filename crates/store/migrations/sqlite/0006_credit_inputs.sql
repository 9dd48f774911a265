-- Credit inputs and the regulator's work on them: services that happened (confirmed by the
-- resident), one rating per service, complaints, reviews of agency-entered records, red/black
-- list decisions reviewed before listing, appeals, and credit reports released for loans.
-- Every outcome that affects credit is also a ledger entry (ledger_seq), written in the same
-- transaction.

CREATE TABLE service_records (
    id INTEGER PRIMARY KEY,
    agency_id INTEGER NOT NULL REFERENCES agencies (id),
    worker_id INTEGER NOT NULL REFERENCES workers (id),
    resident_account_id INTEGER NOT NULL REFERENCES accounts (id),
    service TEXT NOT NULL,
    performed_on TEXT NOT NULL,
    recorded_by INTEGER NOT NULL REFERENCES accounts (id),
    recorded_at TEXT NOT NULL,
    confirmed_at TEXT,
    ledger_seq INTEGER REFERENCES credit_ledger (seq)
);
CREATE INDEX service_records_resident ON service_records (resident_account_id, id);
CREATE INDEX service_records_worker ON service_records (worker_id);
CREATE INDEX service_records_agency ON service_records (agency_id);

CREATE TABLE ratings (
    id INTEGER PRIMARY KEY,
    service_id INTEGER NOT NULL UNIQUE REFERENCES service_records (id),
    quality INTEGER NOT NULL CHECK (quality BETWEEN 1 AND 5),
    punctuality INTEGER NOT NULL CHECK (punctuality BETWEEN 1 AND 5),
    attitude INTEGER NOT NULL CHECK (attitude BETWEEN 1 AND 5),
    communication INTEGER NOT NULL CHECK (communication BETWEEN 1 AND 5),
    comment TEXT NOT NULL,
    rated_at TEXT NOT NULL,
    ledger_seq INTEGER NOT NULL REFERENCES credit_ledger (seq)
);

CREATE TABLE complaints (
    id INTEGER PRIMARY KEY,
    resident_account_id INTEGER NOT NULL REFERENCES accounts (id),
    subject_kind TEXT NOT NULL CHECK (subject_kind IN ('worker', 'agency')),
    subject_id INTEGER NOT NULL,
    service_id INTEGER REFERENCES service_records (id),
    body TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('filed', 'acknowledged', 'investigating', 'upheld', 'dismissed')),
    filed_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    handled_by INTEGER REFERENCES accounts (id),
    decision_reason TEXT,
    ledger_seq INTEGER REFERENCES credit_ledger (seq),
    CHECK (status NOT IN ('upheld', 'dismissed') OR decision_reason IS NOT NULL),
    CHECK (status <> 'upheld' OR ledger_seq IS NOT NULL)
);
CREATE INDEX complaints_status ON complaints (status, id);
CREATE INDEX complaints_subject ON complaints (subject_kind, subject_id);

-- One decision per agency-entered entry; a return withdraws the entry by a correction.
CREATE TABLE entry_reviews (
    entry_seq INTEGER PRIMARY KEY REFERENCES credit_ledger (seq),
    decision TEXT NOT NULL CHECK (decision IN ('approved', 'returned')),
    reason TEXT NOT NULL,
    false_entry INTEGER NOT NULL DEFAULT 0,
    decided_by INTEGER NOT NULL REFERENCES accounts (id),
    decided_at TEXT NOT NULL,
    ledger_seq INTEGER REFERENCES credit_ledger (seq)
);

CREATE TABLE list_decisions (
    id INTEGER PRIMARY KEY,
    subject_kind TEXT NOT NULL CHECK (subject_kind IN ('worker', 'agency')),
    subject_id INTEGER NOT NULL,
    list TEXT NOT NULL CHECK (list IN ('red', 'black', 'removed')),
    reason TEXT NOT NULL,
    document TEXT NOT NULL,
    proposed_by INTEGER NOT NULL REFERENCES accounts (id),
    proposed_at TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('proposed', 'listed', 'rejected')),
    reviewed_by INTEGER REFERENCES accounts (id),
    reviewed_at TEXT,
    review_note TEXT,
    ledger_seq INTEGER REFERENCES credit_ledger (seq),
    CHECK (reviewed_by IS NULL OR reviewed_by <> proposed_by)
);
CREATE INDEX list_decisions_subject ON list_decisions (subject_kind, subject_id, id);
CREATE UNIQUE INDEX list_decisions_one_open ON list_decisions (subject_kind, subject_id) WHERE status = 'proposed';

CREATE TABLE appeals (
    id INTEGER PRIMARY KEY,
    entry_seq INTEGER NOT NULL REFERENCES credit_ledger (seq),
    appellant_account_id INTEGER NOT NULL REFERENCES accounts (id),
    reason TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('filed', 'granted', 'denied')),
    filed_at TEXT NOT NULL,
    decided_by INTEGER REFERENCES accounts (id),
    decided_at TEXT,
    decision_reason TEXT,
    ledger_seq INTEGER REFERENCES credit_ledger (seq)
);
CREATE UNIQUE INDEX appeals_one_open ON appeals (entry_seq) WHERE status = 'filed';

-- An agency's consent to release its credit report to a bank, and the signed digest of what was released.
CREATE TABLE credit_reports (
    id INTEGER PRIMARY KEY,
    agency_id INTEGER NOT NULL REFERENCES agencies (id),
    bank TEXT NOT NULL,
    purpose TEXT NOT NULL,
    -- The signed content (canonical JSON), so the bank can compare it with the PDF.
    content TEXT NOT NULL,
    consented_by INTEGER NOT NULL REFERENCES accounts (id),
    consented_at TEXT NOT NULL,
    digest BLOB NOT NULL,
    key_id INTEGER NOT NULL REFERENCES credit_keys (id),
    signature BLOB NOT NULL
);
