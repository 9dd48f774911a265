-- Each worker's days of readiness per service they offer: spans [ready_from, ready_until) on
-- which the workforce rules pass (ready_until 9999-12-31 when nothing lapses). Health results are
-- sealed, so the spans are computed in Rust; triggers mark a worker stale whenever a fact the
-- rules read changes, and until the spans are recomputed the search assesses that worker itself.
CREATE TABLE worker_readiness (
    worker_id BIGINT NOT NULL,
    service TEXT NOT NULL,
    district_code TEXT NOT NULL,
    ready_from DATE NOT NULL,
    ready_until DATE NOT NULL
);
CREATE INDEX worker_readiness_district ON worker_readiness (service, district_code, worker_id, ready_from, ready_until);
CREATE INDEX worker_readiness_city ON worker_readiness (service, worker_id, ready_from, ready_until);
CREATE INDEX worker_readiness_worker ON worker_readiness (worker_id);

-- marks counts the changes, so a refresh that read older facts leaves the mark in place.
CREATE TABLE readiness_stale (
    worker_id BIGINT PRIMARY KEY,
    marks BIGINT NOT NULL DEFAULT 1
);
INSERT INTO readiness_stale (worker_id) SELECT id FROM workers;

CREATE FUNCTION readiness_mark(worker BIGINT) RETURNS void LANGUAGE sql AS $$
    INSERT INTO readiness_stale (worker_id) VALUES (worker) ON CONFLICT (worker_id) DO UPDATE SET marks = readiness_stale.marks + 1;
$$;

CREATE FUNCTION readiness_on_fact() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'DELETE' THEN
        PERFORM readiness_mark(NEW.worker_id);
    END IF;
    IF TG_OP <> 'INSERT' THEN
        PERFORM readiness_mark(OLD.worker_id);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER readiness_on_training AFTER INSERT OR UPDATE OR DELETE ON training_records
    FOR EACH ROW EXECUTE FUNCTION readiness_on_fact();
CREATE TRIGGER readiness_on_health AFTER INSERT OR UPDATE OR DELETE ON health_checks
    FOR EACH ROW EXECUTE FUNCTION readiness_on_fact();
CREATE TRIGGER readiness_on_certificate AFTER INSERT OR UPDATE OR DELETE ON skill_certificates
    FOR EACH ROW EXECUTE FUNCTION readiness_on_fact();
CREATE TRIGGER readiness_on_binding AFTER INSERT OR UPDATE OR DELETE ON bindings
    FOR EACH ROW EXECUTE FUNCTION readiness_on_fact();

-- A policy without a worker covers every worker bound to the agency.
CREATE FUNCTION readiness_policy_covers(worker BIGINT, agency BIGINT) RETURNS void LANGUAGE sql AS $$
    INSERT INTO readiness_stale (worker_id)
    SELECT worker WHERE worker IS NOT NULL
    UNION
    SELECT b.worker_id FROM bindings b WHERE worker IS NULL AND b.agency_id = agency AND b.status = 'active'
    ON CONFLICT (worker_id) DO UPDATE SET marks = readiness_stale.marks + 1;
$$;
CREATE FUNCTION readiness_on_policy() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'DELETE' THEN
        PERFORM readiness_policy_covers(NEW.worker_id, NEW.agency_id);
    END IF;
    IF TG_OP <> 'INSERT' THEN
        PERFORM readiness_policy_covers(OLD.worker_id, OLD.agency_id);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER readiness_on_policy AFTER INSERT OR UPDATE OR DELETE ON insurance_policies
    FOR EACH ROW EXECUTE FUNCTION readiness_on_policy();

CREATE FUNCTION readiness_on_worker() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM readiness_mark(NEW.id);
    RETURN NULL;
END $$;
CREATE TRIGGER readiness_on_worker_insert AFTER INSERT ON workers
    FOR EACH ROW EXECUTE FUNCTION readiness_on_worker();
CREATE TRIGGER readiness_on_worker_update AFTER UPDATE OF district_code, services ON workers
    FOR EACH ROW EXECUTE FUNCTION readiness_on_worker();
