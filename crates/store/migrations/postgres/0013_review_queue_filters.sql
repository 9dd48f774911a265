-- The review queue also keeps each entry's kind and the agency that entered it, so the desk can
-- filter by them without reading the ledger row of every waiting entry.
ALTER TABLE review_queue ADD COLUMN kind TEXT NOT NULL DEFAULT '';
ALTER TABLE review_queue ADD COLUMN agency_id BIGINT NOT NULL DEFAULT 0;
UPDATE review_queue q SET kind = e.kind, agency_id = CAST(substr(e.source, 8) AS BIGINT)
FROM credit_ledger e WHERE e.seq = q.entry_seq;
CREATE INDEX review_queue_kind ON review_queue (kind, entry_seq);
CREATE INDEX review_queue_agency ON review_queue (agency_id, entry_seq);

CREATE OR REPLACE FUNCTION review_queue_on_ledger() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.subject_kind = 'worker' AND NEW.source LIKE 'agency:%'
       AND NEW.kind IN ('identity_verified', 'training', 'certificate', 'health_check', 'insurance') THEN
        INSERT INTO review_queue (entry_seq, worker_id, district_code, kind, agency_id)
        SELECT NEW.seq, w.id, w.district_code, NEW.kind, CAST(substr(NEW.source, 8) AS BIGINT)
        FROM workers w WHERE w.id = NEW.subject_id;
    END IF;
    IF NEW.corrects IS NOT NULL THEN
        DELETE FROM review_queue WHERE entry_seq = NEW.corrects;
    END IF;
    RETURN NULL;
END $$;
