-- Model contracts: the filled text and the exact PDF each party signs, with one row per
-- signature. A contract is never edited: a change of worker voids it and a new one is drafted.

ALTER TABLE sms_codes ADD COLUMN purpose TEXT NOT NULL DEFAULT 'sign_in';

-- The resident's name and ID number as a contract states them (the number sealed, shown masked).
ALTER TABLE resident_profiles ADD COLUMN legal_name TEXT;
ALTER TABLE resident_profiles ADD COLUMN id_cipher BLOB;
ALTER TABLE resident_profiles ADD COLUMN id_masked TEXT;

CREATE TABLE contracts (
    id INTEGER PRIMARY KEY,
    number TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL CHECK (kind IN ('employee_service', 'intermediary_service', 'worker_agreement')),
    template_version TEXT NOT NULL,
    agency_id INTEGER NOT NULL REFERENCES agencies (id),
    worker_id INTEGER NOT NULL REFERENCES workers (id),
    order_id INTEGER REFERENCES orders (id),
    binding_id INTEGER REFERENCES bindings (id),
    resident_account_id INTEGER REFERENCES accounts (id),
    content TEXT NOT NULL,
    pdf BLOB NOT NULL,
    sha256 TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('signing', 'signed', 'void')),
    drafted_at TEXT NOT NULL,
    signed_at TEXT,
    voided_at TEXT,
    void_reason TEXT,
    ledger_seq INTEGER,
    CHECK ((order_id IS NULL) <> (binding_id IS NULL))
);
-- One live contract per order and per binding.
CREATE UNIQUE INDEX contracts_live_order ON contracts (order_id) WHERE order_id IS NOT NULL AND status <> 'void';
CREATE UNIQUE INDEX contracts_live_binding ON contracts (binding_id) WHERE binding_id IS NOT NULL AND status <> 'void';
CREATE INDEX contracts_sha256 ON contracts (sha256);
CREATE INDEX contracts_agency ON contracts (agency_id, status);
CREATE INDEX contracts_worker ON contracts (worker_id, status);

CREATE TABLE contract_signatures (
    id INTEGER PRIMARY KEY,
    contract_id INTEGER NOT NULL REFERENCES contracts (id),
    signer TEXT NOT NULL CHECK (signer IN ('resident', 'agency', 'worker')),
    account_id INTEGER NOT NULL REFERENCES accounts (id),
    name TEXT NOT NULL,
    method TEXT NOT NULL CHECK (method IN ('sms_code', 'account')),
    sha256 TEXT NOT NULL,
    signed_at TEXT NOT NULL,
    UNIQUE (contract_id, signer)
);
