-- Each worker's days of readiness per service they offer: spans [ready_from, ready_until) on
-- which the workforce rules pass (ready_until 9999-12-31 when nothing lapses). Health results are
-- sealed, so the spans are computed in Rust; triggers mark a worker stale whenever a fact the
-- rules read changes, and until the spans are recomputed the search assesses that worker itself.
CREATE TABLE worker_readiness (
    worker_id INTEGER NOT NULL,
    service TEXT NOT NULL,
    district_code TEXT NOT NULL,
    ready_from TEXT NOT NULL,
    ready_until TEXT NOT NULL
);
CREATE INDEX worker_readiness_district ON worker_readiness (service, district_code, worker_id, ready_from, ready_until);
CREATE INDEX worker_readiness_city ON worker_readiness (service, worker_id, ready_from, ready_until);
CREATE INDEX worker_readiness_worker ON worker_readiness (worker_id);

-- marks counts the changes, so a refresh that read older facts leaves the mark in place.
CREATE TABLE readiness_stale (
    worker_id INTEGER PRIMARY KEY,
    marks INTEGER NOT NULL DEFAULT 1
);
INSERT INTO readiness_stale (worker_id) SELECT id FROM workers;

CREATE TRIGGER readiness_training_insert AFTER INSERT ON training_records BEGIN
    INSERT INTO readiness_stale (worker_id) VALUES (NEW.worker_id) ON CONFLICT (worker_id) DO UPDATE SET marks = marks + 1;
END;
CREATE TRIGGER readiness_training_update AFTER UPDATE ON training_records BEGIN
    INSERT INTO readiness_stale (worker_id) VALUES (NEW.worker_id), (OLD.worker_id) ON CONFLICT (worker_id) DO UPDATE SET marks = marks + 1;
END;
CREATE TRIGGER readiness_training_delete AFTER DELETE ON training_records BEGIN
    INSERT INTO readiness_stale (worker_id) VALUES (OLD.worker_id) ON CONFLICT (worker_id) DO UPDATE SET marks = marks + 1;
END;

CREATE TRIGGER readiness_health_insert AFTER INSERT ON health_checks BEGIN
    INSERT INTO readiness_stale (worker_id) VALUES (NEW.worker_id) ON CONFLICT (worker_id) DO UPDATE SET marks = marks + 1;
END;
CREATE TRIGGER readiness_health_update AFTER UPDATE ON health_checks BEGIN
    INSERT INTO readiness_stale (worker_id) VALUES (NEW.worker_id), (OLD.worker_id) ON CONFLICT (worker_id) DO UPDATE SET marks = marks + 1;
END;
CREATE TRIGGER readiness_health_delete AFTER DELETE ON health_checks BEGIN
    INSERT INTO readiness_stale (worker_id) VALUES (OLD.worker_id) ON CONFLICT (worker_id) DO UPDATE SET marks = marks + 1;
END;

CREATE TRIGGER readiness_certificate_insert AFTER INSERT ON skill_certificates BEGIN
    INSERT INTO readiness_stale (worker_id) VALUES (NEW.worker_id) ON CONFLICT (worker_id) DO UPDATE SET marks = marks + 1;
END;
CREATE TRIGGER readiness_certificate_update AFTER UPDATE ON skill_certificates BEGIN
    INSERT INTO readiness_stale (worker_id) VALUES (NEW.worker_id), (OLD.worker_id) ON CONFLICT (worker_id) DO UPDATE SET marks = marks + 1;
END;
CREATE TRIGGER readiness_certificate_delete AFTER DELETE ON skill_certificates BEGIN
    INSERT INTO readiness_stale (worker_id) VALUES (OLD.worker_id) ON CONFLICT (worker_id) DO UPDATE SET marks = marks + 1;
END;

CREATE TRIGGER readiness_binding_insert AFTER INSERT ON bindings BEGIN
    INSERT INTO readiness_stale (worker_id) VALUES (NEW.worker_id) ON CONFLICT (worker_id) DO UPDATE SET marks = marks + 1;
END;
CREATE TRIGGER readiness_binding_update AFTER UPDATE ON bindings BEGIN
    INSERT INTO readiness_stale (worker_id) VALUES (NEW.worker_id), (OLD.worker_id) ON CONFLICT (worker_id) DO UPDATE SET marks = marks + 1;
END;
CREATE TRIGGER readiness_binding_delete AFTER DELETE ON bindings BEGIN
    INSERT INTO readiness_stale (worker_id) VALUES (OLD.worker_id) ON CONFLICT (worker_id) DO UPDATE SET marks = marks + 1;
END;

-- A policy without a worker covers every worker bound to the agency.
CREATE TRIGGER readiness_policy_insert AFTER INSERT ON insurance_policies BEGIN
    INSERT INTO readiness_stale (worker_id) SELECT NEW.worker_id WHERE NEW.worker_id IS NOT NULL ON CONFLICT (worker_id) DO UPDATE SET marks = marks + 1;
    INSERT INTO readiness_stale (worker_id) SELECT b.worker_id FROM bindings b
    WHERE NEW.worker_id IS NULL AND b.agency_id = NEW.agency_id AND b.status = 'active' ON CONFLICT (worker_id) DO UPDATE SET marks = marks + 1;
END;
CREATE TRIGGER readiness_policy_update AFTER UPDATE ON insurance_policies BEGIN
    INSERT INTO readiness_stale (worker_id) SELECT NEW.worker_id WHERE NEW.worker_id IS NOT NULL ON CONFLICT (worker_id) DO UPDATE SET marks = marks + 1;
    INSERT INTO readiness_stale (worker_id) SELECT b.worker_id FROM bindings b
    WHERE NEW.worker_id IS NULL AND b.agency_id = NEW.agency_id AND b.status = 'active' ON CONFLICT (worker_id) DO UPDATE SET marks = marks + 1;
    INSERT INTO readiness_stale (worker_id) SELECT OLD.worker_id WHERE OLD.worker_id IS NOT NULL ON CONFLICT (worker_id) DO UPDATE SET marks = marks + 1;
    INSERT INTO readiness_stale (worker_id) SELECT b.worker_id FROM bindings b
    WHERE OLD.worker_id IS NULL AND b.agency_id = OLD.agency_id AND b.status = 'active' ON CONFLICT (worker_id) DO UPDATE SET marks = marks + 1;
END;
CREATE TRIGGER readiness_policy_delete AFTER DELETE ON insurance_policies BEGIN
    INSERT INTO readiness_stale (worker_id) SELECT OLD.worker_id WHERE OLD.worker_id IS NOT NULL ON CONFLICT (worker_id) DO UPDATE SET marks = marks + 1;
    INSERT INTO readiness_stale (worker_id) SELECT b.worker_id FROM bindings b
    WHERE OLD.worker_id IS NULL AND b.agency_id = OLD.agency_id AND b.status = 'active' ON CONFLICT (worker_id) DO UPDATE SET marks = marks + 1;
END;

CREATE TRIGGER readiness_worker_insert AFTER INSERT ON workers BEGIN
    INSERT INTO readiness_stale (worker_id) VALUES (NEW.id) ON CONFLICT (worker_id) DO UPDATE SET marks = marks + 1;
END;
CREATE TRIGGER readiness_worker_update AFTER UPDATE OF district_code, services ON workers BEGIN
    INSERT INTO readiness_stale (worker_id) VALUES (NEW.id) ON CONFLICT (worker_id) DO UPDATE SET marks = marks + 1;
END;
