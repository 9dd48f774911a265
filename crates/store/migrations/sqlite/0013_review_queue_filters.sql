-- The review queue also keeps each entry's kind and the agency that entered it, so the desk can
-- filter by them without reading the ledger row of every waiting entry.
ALTER TABLE review_queue ADD COLUMN kind TEXT NOT NULL DEFAULT '';
ALTER TABLE review_queue ADD COLUMN agency_id INTEGER NOT NULL DEFAULT 0;
UPDATE review_queue SET
    kind = (SELECT e.kind FROM credit_ledger e WHERE e.seq = review_queue.entry_seq),
    agency_id = (SELECT CAST(substr(e.source, 8) AS INTEGER) FROM credit_ledger e WHERE e.seq = review_queue.entry_seq);
CREATE INDEX review_queue_kind ON review_queue (kind, entry_seq);
CREATE INDEX review_queue_agency ON review_queue (agency_id, entry_seq);

DROP TRIGGER review_queue_enter;
CREATE TRIGGER review_queue_enter AFTER INSERT ON credit_ledger
WHEN NEW.subject_kind = 'worker' AND NEW.source LIKE 'agency:%'
  AND NEW.kind IN ('identity_verified', 'training', 'certificate', 'health_check', 'insurance')
BEGIN
    INSERT INTO review_queue (entry_seq, worker_id, district_code, kind, agency_id)
    SELECT NEW.seq, w.id, w.district_code, NEW.kind, CAST(substr(NEW.source, 8) AS INTEGER)
    FROM workers w WHERE w.id = NEW.subject_id;
END;
