-- Accounts managed from pages: a version, so that two admins changing one account cannot
-- overwrite each other unseen, and a log of every change an admin makes (who, when, what).
ALTER TABLE accounts ADD COLUMN version INTEGER NOT NULL DEFAULT 1;

-- The role and scope columns hold what the account had after the change (for `created` and
-- `access_changed`), so the log names the agency, district, school or bank as it is read.
CREATE TABLE account_events (
    id INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts (id),
    actor_account_id INTEGER REFERENCES accounts (id),
    kind TEXT NOT NULL CHECK (kind IN ('created', 'password_reset', 'disabled', 'enabled', 'access_changed')),
    role TEXT,
    agency_id INTEGER REFERENCES agencies (id),
    district_code TEXT REFERENCES divisions (code),
    worker_id INTEGER REFERENCES workers (id),
    provider_id INTEGER REFERENCES training_providers (id),
    bank_id INTEGER REFERENCES banks (id),
    at TEXT NOT NULL
);
CREATE INDEX account_events_account ON account_events (account_id, id);
