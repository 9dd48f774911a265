-- The regulator's review queue: agency-entered worker records neither reviewed nor withdrawn,
-- with the worker's district. Kept by triggers, so every way of writing the ledger keeps it;
-- reading it no longer walks the ledger (a district's desk at 10,000,000 entries took seconds).
CREATE TABLE review_queue (
    entry_seq INTEGER PRIMARY KEY,
    worker_id INTEGER NOT NULL,
    district_code TEXT NOT NULL
);
CREATE INDEX review_queue_district ON review_queue (district_code, entry_seq);
CREATE INDEX review_queue_worker ON review_queue (worker_id);

INSERT INTO review_queue (entry_seq, worker_id, district_code)
SELECT e.seq, w.id, w.district_code
FROM credit_ledger e INDEXED BY credit_ledger_reviewable JOIN workers w ON w.id = e.subject_id
WHERE e.subject_kind = 'worker' AND e.source LIKE 'agency:%'
  AND e.kind IN ('identity_verified', 'training', 'certificate', 'health_check', 'insurance')
  AND NOT EXISTS (SELECT 1 FROM entry_reviews r WHERE r.entry_seq = e.seq)
  AND NOT EXISTS (SELECT 1 FROM credit_ledger c WHERE c.corrects = e.seq);

CREATE TRIGGER review_queue_enter AFTER INSERT ON credit_ledger
WHEN NEW.subject_kind = 'worker' AND NEW.source LIKE 'agency:%'
  AND NEW.kind IN ('identity_verified', 'training', 'certificate', 'health_check', 'insurance')
BEGIN
    INSERT INTO review_queue (entry_seq, worker_id, district_code)
    SELECT NEW.seq, w.id, w.district_code FROM workers w WHERE w.id = NEW.subject_id;
END;

CREATE TRIGGER review_queue_corrected AFTER INSERT ON credit_ledger
WHEN NEW.corrects IS NOT NULL
BEGIN
    DELETE FROM review_queue WHERE entry_seq = NEW.corrects;
END;

CREATE TRIGGER review_queue_reviewed AFTER INSERT ON entry_reviews
BEGIN
    DELETE FROM review_queue WHERE entry_seq = NEW.entry_seq;
END;

CREATE TRIGGER review_queue_moved AFTER UPDATE OF district_code ON workers
BEGIN
    UPDATE review_queue SET district_code = NEW.district_code WHERE worker_id = NEW.id;
END;

CREATE TRIGGER review_queue_worker_removed AFTER DELETE ON workers
BEGIN
    DELETE FROM review_queue WHERE worker_id = OLD.id;
END;
