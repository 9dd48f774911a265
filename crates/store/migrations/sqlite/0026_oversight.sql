-- Oversight: the audit of regulator and evaluator writes, brand recognition, the running counts
-- behind target 1 (employee-based share per agency) and the monthly series of the plan's figures.

CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,
    actor_account_id INTEGER NOT NULL REFERENCES accounts (id),
    action TEXT NOT NULL CHECK (length(action) BETWEEN 1 AND 60),
    subject_kind TEXT NOT NULL CHECK (length(subject_kind) BETWEEN 1 AND 30),
    subject_id INTEGER NOT NULL,
    subject_label TEXT NOT NULL CHECK (length(subject_label) <= 200),
    value_before TEXT,
    value_after TEXT,
    at TEXT NOT NULL
);
CREATE INDEX audit_log_at ON audit_log (at, id);
CREATE INDEX audit_log_actor ON audit_log (actor_account_id, id);
CREATE INDEX audit_log_subject ON audit_log (subject_kind, subject_id, id);
CREATE INDEX audit_log_action ON audit_log (action, id);

-- A brand the city recognises (品牌认定); target 1 counts recognised brands only.
CREATE TABLE brand_recognitions (
    id INTEGER PRIMARY KEY,
    agency_id INTEGER NOT NULL REFERENCES agencies (id),
    brand_name TEXT NOT NULL CHECK (length(brand_name) BETWEEN 1 AND 50),
    document TEXT NOT NULL CHECK (length(document) BETWEEN 1 AND 100),
    recognised_on TEXT NOT NULL,
    recognised_by INTEGER NOT NULL REFERENCES accounts (id),
    recognised_at TEXT NOT NULL,
    withdrawn_by INTEGER REFERENCES accounts (id),
    withdrawn_at TEXT,
    withdraw_reason TEXT CHECK (length(withdraw_reason) <= 300),
    CHECK ((withdrawn_at IS NULL) = (withdraw_reason IS NULL))
);
CREATE UNIQUE INDEX brand_recognitions_live ON brand_recognitions (agency_id) WHERE withdrawn_at IS NULL;

-- Active bindings per agency, kept by triggers on every write to bindings so that the target
-- reads 5,000 rows instead of grouping a million; a test compares it with a recount.
CREATE TABLE agency_binding_counts (
    agency_id INTEGER PRIMARY KEY REFERENCES agencies (id),
    active INTEGER NOT NULL CHECK (active >= 0),
    active_employee INTEGER NOT NULL CHECK (active_employee BETWEEN 0 AND active)
);
INSERT INTO agency_binding_counts (agency_id, active, active_employee)
    SELECT agency_id, COUNT(*), SUM(CASE WHEN kind = 'employee' THEN 1 ELSE 0 END)
    FROM bindings WHERE status = 'active' GROUP BY agency_id;

CREATE TRIGGER bindings_count_in AFTER INSERT ON bindings WHEN NEW.status = 'active'
BEGIN
    INSERT INTO agency_binding_counts (agency_id, active, active_employee)
        VALUES (NEW.agency_id, 1, CASE WHEN NEW.kind = 'employee' THEN 1 ELSE 0 END)
        ON CONFLICT (agency_id) DO UPDATE SET active = active + 1,
            active_employee = active_employee + excluded.active_employee;
END;
CREATE TRIGGER bindings_count_out AFTER DELETE ON bindings WHEN OLD.status = 'active'
BEGIN
    UPDATE agency_binding_counts SET active = active - 1,
        active_employee = active_employee - CASE WHEN OLD.kind = 'employee' THEN 1 ELSE 0 END
        WHERE agency_id = OLD.agency_id;
END;
-- An update takes the old row out and puts the new one in; both steps see the same row.
CREATE TRIGGER bindings_count_change AFTER UPDATE ON bindings
    WHEN OLD.status = 'active' OR NEW.status = 'active'
BEGIN
    UPDATE agency_binding_counts SET active = active - 1,
        active_employee = active_employee - CASE WHEN OLD.kind = 'employee' THEN 1 ELSE 0 END
        WHERE agency_id = OLD.agency_id AND OLD.status = 'active';
    INSERT INTO agency_binding_counts (agency_id, active, active_employee)
        SELECT NEW.agency_id, 1, CASE WHEN NEW.kind = 'employee' THEN 1 ELSE 0 END WHERE NEW.status = 'active'
        ON CONFLICT (agency_id) DO UPDATE SET active = active + 1,
            active_employee = active_employee + excluded.active_employee;
END;

-- The plan's figures month by month: the daily job writes the current month's row; a month that
-- has ended is never written again.
CREATE TABLE kpi_monthly (
    area_code TEXT NOT NULL REFERENCES divisions (code),
    month TEXT NOT NULL CHECK (length(month) = 7),
    metric TEXT NOT NULL,
    numerator INTEGER NOT NULL,
    denominator INTEGER NOT NULL,
    as_of TEXT NOT NULL,
    PRIMARY KEY (area_code, month, metric)
);
CREATE INDEX kpi_monthly_month ON kpi_monthly (month, metric);
