-- A revoked card stays revoked for ever: a worker may hold a series of cards, each with its own
-- number, and at most one not revoked. A revocation can bar any further card.
CREATE TABLE certificates_cards (
    id INTEGER PRIMARY KEY,
    number TEXT NOT NULL UNIQUE,
    worker_id INTEGER NOT NULL REFERENCES workers (id),
    card INTEGER NOT NULL DEFAULT 1 CHECK (card >= 1),
    issued_at TEXT NOT NULL,
    valid_until TEXT NOT NULL,
    issued_seq INTEGER NOT NULL REFERENCES credit_ledger (seq),
    revoked_seq INTEGER REFERENCES credit_ledger (seq),
    reissue_barred INTEGER NOT NULL DEFAULT 0 CHECK (reissue_barred IN (0, 1)),
    CHECK (reissue_barred = 0 OR revoked_seq IS NOT NULL)
);
INSERT INTO certificates_cards (id, number, worker_id, card, issued_at, valid_until, issued_seq, revoked_seq)
    SELECT id, number, worker_id, 1, issued_at, valid_until, issued_seq, revoked_seq FROM certificates;
DROP TABLE certificates;
ALTER TABLE certificates_cards RENAME TO certificates;
CREATE UNIQUE INDEX certificates_card ON certificates (worker_id, card);
CREATE UNIQUE INDEX certificates_current ON certificates (worker_id) WHERE revoked_seq IS NULL;
-- A revoked card is never un-revoked.
CREATE TRIGGER certificates_stay_revoked BEFORE UPDATE OF revoked_seq, reissue_barred ON certificates
WHEN OLD.revoked_seq IS NOT NULL
BEGIN SELECT RAISE(ABORT, 'a revoked certificate stays revoked'); END;

-- The review queue and the grade look entries up by what they correct.
CREATE INDEX credit_ledger_corrects ON credit_ledger (corrects) WHERE corrects IS NOT NULL;

-- INSERT OR REPLACE deletes the old row without firing delete triggers: refuse any insert
-- onto a sequence number or checkpoint that exists.
CREATE TRIGGER credit_ledger_no_replace BEFORE INSERT ON credit_ledger
WHEN EXISTS (SELECT 1 FROM credit_ledger WHERE seq = NEW.seq)
BEGIN SELECT RAISE(ABORT, 'the credit ledger is append-only'); END;
CREATE TRIGGER credit_checkpoints_no_replace BEFORE INSERT ON credit_checkpoints
WHEN EXISTS (SELECT 1 FROM credit_checkpoints WHERE upto_seq = NEW.upto_seq)
BEGIN SELECT RAISE(ABORT, 'checkpoints are append-only'); END;

-- Banks (信易贷): a report is released to one of these, and only that bank's accounts read it.
CREATE TABLE banks (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 100),
    created_at TEXT NOT NULL
);
ALTER TABLE accounts ADD COLUMN bank_id INTEGER REFERENCES banks (id);
ALTER TABLE credit_reports ADD COLUMN bank_id INTEGER REFERENCES banks (id);

-- Wrong tries against a worker's one-time consent codes; at five the codes are dead.
ALTER TABLE consents ADD COLUMN failed_attempts INTEGER NOT NULL DEFAULT 0;

-- "Already registered" answers each agency got per Beijing day about people it does not employ:
-- they tell who is on the register, so they are limited and the regulator sees who hit the limit.
CREATE TABLE registered_answers (
    agency_id INTEGER NOT NULL REFERENCES agencies (id),
    day TEXT NOT NULL,
    answers INTEGER NOT NULL CHECK (answers >= 0),
    PRIMARY KEY (agency_id, day)
);

-- Every exam result a school entered, in order: a retake adds a result, it never replaces one.
-- The training record keeps the latest, which the rules read.
CREATE TABLE exam_results (
    id INTEGER PRIMARY KEY,
    record_id INTEGER NOT NULL REFERENCES training_records (id),
    completed_on TEXT NOT NULL,
    exam_passed INTEGER NOT NULL,
    exam_score INTEGER CHECK (exam_score BETWEEN 0 AND 100),
    entry_seq INTEGER REFERENCES credit_ledger (seq),
    created_at TEXT NOT NULL
);
CREATE INDEX exam_results_record ON exam_results (record_id, id);
INSERT INTO exam_results (record_id, completed_on, exam_passed, exam_score, created_at)
    SELECT id, completed_on, exam_passed, exam_score, created_at FROM training_records
    WHERE source = 'provider' AND completed_on IS NOT NULL AND exam_passed IS NOT NULL;

-- Sealed values are now bound to their row and column (associated data). Rows sealed before are
-- queued here and re-sealed once by the next start; a health result keeps its old ciphertext,
-- which the ledger's digest of it was computed over.
CREATE TABLE reseal_queue (
    table_name TEXT NOT NULL CHECK (table_name IN ('workers', 'health_checks')),
    row_id INTEGER NOT NULL,
    PRIMARY KEY (table_name, row_id)
);
INSERT INTO reseal_queue (table_name, row_id) SELECT 'workers', id FROM workers;
INSERT INTO reseal_queue (table_name, row_id) SELECT 'health_checks', id FROM health_checks;
ALTER TABLE health_checks ADD COLUMN legacy_cipher BLOB;

-- The review queue walks only agency-entered worker records, in order (the predicate is the
-- queue's own, word for word, so both engines use the index).
CREATE INDEX credit_ledger_reviewable ON credit_ledger (seq)
    WHERE subject_kind = 'worker' AND source LIKE 'agency:%'
      AND kind IN ('identity_verified', 'training', 'certificate', 'health_check', 'insurance');
