-- Consent: a resident sees a worker's full record only while the worker's consent lasts.
-- A request is approved by the worker; a one-time code (stored hashed) is claimed by the viewer.
CREATE TABLE consents (
    id INTEGER PRIMARY KEY,
    worker_id INTEGER NOT NULL REFERENCES workers (id),
    viewer_account_id INTEGER REFERENCES accounts (id),
    via TEXT NOT NULL CHECK (via IN ('request', 'code')),
    code_hash BLOB,
    status TEXT NOT NULL CHECK (status IN ('pending', 'granted', 'denied', 'used')),
    created_at TEXT NOT NULL,
    decided_at TEXT,
    expires_at TEXT NOT NULL,
    CHECK (via <> 'request' OR viewer_account_id IS NOT NULL),
    CHECK (via <> 'code' OR code_hash IS NOT NULL)
);
CREATE INDEX consents_worker ON consents (worker_id, status);
CREATE UNIQUE INDEX consents_one_pending ON consents (worker_id, viewer_account_id) WHERE status = 'pending';
CREATE UNIQUE INDEX consents_code ON consents (code_hash) WHERE code_hash IS NOT NULL;
