-- The regulator's review queue: agency-entered worker records neither reviewed nor withdrawn,
-- with the worker's district. Kept by triggers, so every way of writing the ledger keeps it;
-- reading it no longer walks the ledger (a district's desk at 10,000,000 entries took seconds).
CREATE TABLE review_queue (
    entry_seq BIGINT PRIMARY KEY,
    worker_id BIGINT NOT NULL,
    district_code TEXT NOT NULL
);
CREATE INDEX review_queue_district ON review_queue (district_code, entry_seq);
CREATE INDEX review_queue_worker ON review_queue (worker_id);

INSERT INTO review_queue (entry_seq, worker_id, district_code)
SELECT e.seq, w.id, w.district_code
FROM credit_ledger e JOIN workers w ON w.id = e.subject_id
WHERE e.subject_kind = 'worker' AND e.source LIKE 'agency:%'
  AND e.kind IN ('identity_verified', 'training', 'certificate', 'health_check', 'insurance')
  AND NOT EXISTS (SELECT 1 FROM entry_reviews r WHERE r.entry_seq = e.seq)
  AND NOT EXISTS (SELECT 1 FROM credit_ledger c WHERE c.corrects = e.seq);

CREATE FUNCTION review_queue_on_ledger() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.subject_kind = 'worker' AND NEW.source LIKE 'agency:%'
       AND NEW.kind IN ('identity_verified', 'training', 'certificate', 'health_check', 'insurance') THEN
        INSERT INTO review_queue (entry_seq, worker_id, district_code)
        SELECT NEW.seq, w.id, w.district_code FROM workers w WHERE w.id = NEW.subject_id;
    END IF;
    IF NEW.corrects IS NOT NULL THEN
        DELETE FROM review_queue WHERE entry_seq = NEW.corrects;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER review_queue_on_ledger AFTER INSERT ON credit_ledger
    FOR EACH ROW EXECUTE FUNCTION review_queue_on_ledger();

CREATE FUNCTION review_queue_on_review() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM review_queue WHERE entry_seq = NEW.entry_seq;
    RETURN NULL;
END $$;
CREATE TRIGGER review_queue_on_review AFTER INSERT ON entry_reviews
    FOR EACH ROW EXECUTE FUNCTION review_queue_on_review();

CREATE FUNCTION review_queue_on_worker() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        DELETE FROM review_queue WHERE worker_id = OLD.id;
    ELSIF NEW.district_code IS DISTINCT FROM OLD.district_code THEN
        UPDATE review_queue SET district_code = NEW.district_code WHERE worker_id = NEW.id;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER review_queue_on_worker AFTER UPDATE OR DELETE ON workers
    FOR EACH ROW EXECUTE FUNCTION review_queue_on_worker();
