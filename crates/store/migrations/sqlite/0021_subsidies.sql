-- Subsidised service (plan task 7). A district sets a yearly budget; community staff register a
-- resident in need (by the phone they sign in with) with evidence and a yearly quota in money or
-- hours; the district pays for the orders booked against the quota. What an order took from the
-- quota and the budget is kept on the order, so a check at booking reads sums, not the journal.

CREATE TABLE subsidy_budgets (
    district_code TEXT NOT NULL REFERENCES divisions (code),
    year INTEGER NOT NULL,
    amount_fen INTEGER NOT NULL CHECK (amount_fen > 0),
    set_by INTEGER NOT NULL REFERENCES accounts (id),
    set_at TEXT NOT NULL,
    PRIMARY KEY (district_code, year)
);

CREATE TABLE subsidy_grants (
    id INTEGER PRIMARY KEY,
    district_code TEXT NOT NULL REFERENCES divisions (code),
    community_code TEXT NOT NULL REFERENCES divisions (code),
    year INTEGER NOT NULL,
    phone_hash BLOB NOT NULL,
    phone_masked TEXT NOT NULL,
    legal_name TEXT NOT NULL CHECK (length(legal_name) <= 30),
    id_cipher BLOB NOT NULL,
    -- A keyed hash of the ID number: one person, one live grant a year, whatever phone they give.
    id_hash BLOB NOT NULL,
    id_masked TEXT NOT NULL,
    category TEXT NOT NULL CHECK (category IN ('dibao', 'tekun', 'disabled_elder', 'semi_disabled_elder',
                                                'disability', 'entitled')),
    quota_kind TEXT NOT NULL CHECK (quota_kind IN ('money', 'hours')),
    quota_amount INTEGER NOT NULL CHECK (quota_amount > 0),
    evidence_note TEXT NOT NULL CHECK (length(evidence_note) <= 200),
    registered_by INTEGER NOT NULL REFERENCES accounts (id),
    registered_at TEXT NOT NULL,
    revoked_at TEXT,
    revoked_by INTEGER REFERENCES accounts (id),
    revoke_reason TEXT
);
-- One live grant per person (by ID number, and by phone) and year.
CREATE UNIQUE INDEX subsidy_grants_live ON subsidy_grants (phone_hash, year) WHERE revoked_at IS NULL;
CREATE UNIQUE INDEX subsidy_grants_live_person ON subsidy_grants (id_hash, year) WHERE revoked_at IS NULL;
CREATE INDEX subsidy_grants_person ON subsidy_grants (id_hash, year);
CREATE INDEX subsidy_grants_district ON subsidy_grants (district_code, year, id);

-- The evidence file, sealed; kept apart so that lists never read it.
CREATE TABLE subsidy_evidence (
    grant_id INTEGER PRIMARY KEY REFERENCES subsidy_grants (id),
    mime TEXT NOT NULL CHECK (mime IN ('image/jpeg', 'image/png', 'application/pdf')),
    sealed BLOB NOT NULL,
    sha256 TEXT NOT NULL
);

ALTER TABLE orders ADD COLUMN subsidy_grant_id INTEGER REFERENCES subsidy_grants (id);
ALTER TABLE orders ADD COLUMN subsidy_paid_fen INTEGER NOT NULL DEFAULT 0 CHECK (subsidy_paid_fen >= 0);
ALTER TABLE orders ADD COLUMN subsidy_returned_fen INTEGER NOT NULL DEFAULT 0 CHECK (subsidy_returned_fen >= 0);
ALTER TABLE orders ADD COLUMN subsidy_minutes INTEGER NOT NULL DEFAULT 0 CHECK (subsidy_minutes >= 0);
CREATE INDEX orders_subsidy ON orders (subsidy_grant_id) WHERE subsidy_grant_id IS NOT NULL;
