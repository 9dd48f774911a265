-- Credit: signing keys, the append-only hash-chained ledger, signed checkpoints, certificates.

-- Ed25519 keys; the secret half is sealed with the data key.
CREATE TABLE credit_keys (
    id INTEGER PRIMARY KEY CHECK (id BETWEEN 1 AND 65535),
    public_key BLOB NOT NULL,
    secret_cipher BLOB NOT NULL,
    created_at TEXT NOT NULL,
    retired_at TEXT
);

-- recorded_at is kept as the exact text that was hashed.
CREATE TABLE credit_ledger (
    seq INTEGER PRIMARY KEY,
    subject_kind TEXT NOT NULL CHECK (subject_kind IN ('worker', 'agency')),
    subject_id INTEGER NOT NULL,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    source TEXT NOT NULL,
    recorded_by INTEGER,
    recorded_at TEXT NOT NULL,
    corrects INTEGER REFERENCES credit_ledger (seq),
    prev_hash BLOB NOT NULL,
    hash BLOB NOT NULL
);
CREATE INDEX credit_ledger_subject ON credit_ledger (subject_kind, subject_id, seq);
CREATE TRIGGER credit_ledger_no_update BEFORE UPDATE ON credit_ledger
BEGIN SELECT RAISE(ABORT, 'the credit ledger is append-only'); END;
CREATE TRIGGER credit_ledger_no_delete BEFORE DELETE ON credit_ledger
BEGIN SELECT RAISE(ABORT, 'the credit ledger is append-only'); END;

CREATE TABLE credit_checkpoints (
    upto_seq INTEGER PRIMARY KEY REFERENCES credit_ledger (seq),
    head_hash BLOB NOT NULL,
    signed_at TEXT NOT NULL,
    key_id INTEGER NOT NULL REFERENCES credit_keys (id),
    signature BLOB NOT NULL
);
CREATE TRIGGER credit_checkpoints_no_update BEFORE UPDATE ON credit_checkpoints
BEGIN SELECT RAISE(ABORT, 'checkpoints are append-only'); END;
CREATE TRIGGER credit_checkpoints_no_delete BEFORE DELETE ON credit_checkpoints
BEGIN SELECT RAISE(ABORT, 'checkpoints are append-only'); END;

-- One person, one certificate, one number; issuing and revoking are ledger entries.
CREATE TABLE certificates (
    id INTEGER PRIMARY KEY,
    number TEXT NOT NULL UNIQUE,
    worker_id INTEGER NOT NULL UNIQUE REFERENCES workers (id),
    issued_at TEXT NOT NULL,
    valid_until TEXT NOT NULL,
    issued_seq INTEGER NOT NULL REFERENCES credit_ledger (seq),
    revoked_seq INTEGER REFERENCES credit_ledger (seq)
);
