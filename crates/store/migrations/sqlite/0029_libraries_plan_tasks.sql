-- Oversight (issue 14, parts 3 and 6): the key-agency and talent libraries (plan task 13) with
-- nominations, review, publication and removal kept in history; the plan's 34 tasks (tasks
-- 33-34) with their responsible units, unit accounts, dated progress reports with evidence,
-- status and deadlines.

-- The plan the tasks come from: one row.
CREATE TABLE plan_info (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    title TEXT NOT NULL CHECK (length(title) <= 200),
    document TEXT NOT NULL CHECK (length(document) <= 100),
    issued_on TEXT NOT NULL,
    starts_on TEXT NOT NULL,
    ends_on TEXT NOT NULL CHECK (ends_on >= starts_on),
    note TEXT NOT NULL CHECK (length(note) <= 1000),
    loaded_at TEXT NOT NULL
);

-- A responsible unit (责任单位). `oversees`: the units that lead the tracking of the whole plan
-- (task 34: 市发改委 and 市商务局); their city accounts set deadlines and decide the libraries.
CREATE TABLE plan_units (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE CHECK (length(code) BETWEEN 1 AND 40),
    name TEXT NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 60),
    name_en TEXT NOT NULL CHECK (length(name_en) BETWEEN 1 AND 120),
    aliases TEXT NOT NULL DEFAULT '' CHECK (length(aliases) <= 300),
    oversees INTEGER NOT NULL DEFAULT 0 CHECK (oversees IN (0, 1))
);

CREATE TABLE plan_tasks (
    number INTEGER PRIMARY KEY CHECK (number BETWEEN 1 AND 999),
    section TEXT NOT NULL CHECK (length(section) BETWEEN 1 AND 20),
    section_title TEXT NOT NULL CHECK (length(section_title) BETWEEN 1 AND 60),
    title TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND 100),
    body TEXT NOT NULL CHECK (length(body) <= 4000),
    -- The 责任单位 list as the plan writes it; NULL where the plan names none.
    units_as_written TEXT CHECK (units_as_written IS NULL OR length(units_as_written) <= 300),
    -- Why the units are what they are, where the plan does not say.
    units_note TEXT CHECK (units_note IS NULL OR length(units_note) <= 300),
    status TEXT NOT NULL DEFAULT 'not_started' CHECK (status IN ('not_started', 'in_progress', 'done', 'delayed')),
    deadline TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    updated_at TEXT NOT NULL
);
CREATE INDEX plan_tasks_open ON plan_tasks (status, deadline);

-- The units of a task, in the plan's order; position 0 is the lead.
CREATE TABLE plan_task_units (
    task_number INTEGER NOT NULL REFERENCES plan_tasks (number),
    unit_id INTEGER NOT NULL REFERENCES plan_units (id),
    position INTEGER NOT NULL CHECK (position >= 0),
    PRIMARY KEY (task_number, unit_id),
    UNIQUE (task_number, position)
);
CREATE INDEX plan_task_units_unit ON plan_task_units (unit_id, task_number);

-- A regulator account that acts for a unit (at most one unit per account).
CREATE TABLE plan_unit_accounts (
    account_id INTEGER PRIMARY KEY REFERENCES accounts (id),
    unit_id INTEGER NOT NULL REFERENCES plan_units (id),
    set_by INTEGER REFERENCES accounts (id),
    set_at TEXT NOT NULL
);
CREATE INDEX plan_unit_accounts_unit ON plan_unit_accounts (unit_id);

-- A unit's dated report on a task. `district_code`: the district of a district account (a
-- district government reporting its own part).
CREATE TABLE plan_progress (
    id INTEGER PRIMARY KEY,
    task_number INTEGER NOT NULL REFERENCES plan_tasks (number),
    unit_id INTEGER NOT NULL REFERENCES plan_units (id),
    district_code TEXT REFERENCES divisions (code),
    reported_on TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('in_progress', 'done', 'delayed')),
    body TEXT NOT NULL CHECK (length(body) BETWEEN 1 AND 2000),
    reported_by INTEGER NOT NULL REFERENCES accounts (id),
    created_at TEXT NOT NULL
);
CREATE INDEX plan_progress_task ON plan_progress (task_number, id);

-- The evidence file of a report, kept apart so that lists never read it.
CREATE TABLE plan_progress_files (
    progress_id INTEGER PRIMARY KEY REFERENCES plan_progress (id),
    name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 120),
    mime TEXT NOT NULL CHECK (mime IN ('image/jpeg', 'image/png', 'application/pdf')),
    bytes BLOB NOT NULL,
    sha256 TEXT NOT NULL
);

-- A nomination to a library, and (once decided) its entry. One live nomination or entry
-- (pending or published) per kind and subject; a removed entry stays, with the date and reason.
CREATE TABLE library_entries (
    id INTEGER PRIMARY KEY,
    library TEXT NOT NULL CHECK (library IN ('agency', 'talent')),
    kind TEXT NOT NULL CHECK (kind IN ('agency', 'skilled_worker', 'manager', 'trainer')),
    -- `agency:12`, `worker:34`, or `agency:12:name` / `provider:5:name` for a person without a record.
    subject_key TEXT NOT NULL CHECK (length(subject_key) <= 200),
    agency_id INTEGER REFERENCES agencies (id),
    provider_id INTEGER REFERENCES training_providers (id),
    worker_id INTEGER REFERENCES workers (id),
    person_name TEXT CHECK (person_name IS NULL OR length(person_name) BETWEEN 1 AND 40),
    person_role TEXT CHECK (person_role IS NULL OR length(person_role) BETWEEN 1 AND 40),
    district_code TEXT NOT NULL REFERENCES divisions (code),
    reason TEXT NOT NULL CHECK (length(reason) BETWEEN 1 AND 500),
    nominator TEXT NOT NULL CHECK (nominator IN ('agency', 'school', 'regulator')),
    nominated_by INTEGER NOT NULL REFERENCES accounts (id),
    nominated_at TEXT NOT NULL,
    -- The entry criteria as checked at nomination (JSON); review checks them again.
    criteria TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'published', 'rejected', 'removed')),
    decided_by INTEGER REFERENCES accounts (id),
    decided_at TEXT,
    decision_note TEXT CHECK (decision_note IS NULL OR length(decision_note) <= 500),
    removed_by INTEGER REFERENCES accounts (id),
    removed_at TEXT,
    removal_reason TEXT CHECK (removal_reason IS NULL OR length(removal_reason) BETWEEN 1 AND 500),
    CHECK ((library = 'agency') = (kind = 'agency')),
    CHECK (kind <> 'agency' OR agency_id IS NOT NULL),
    CHECK (kind <> 'skilled_worker' OR worker_id IS NOT NULL),
    CHECK (kind NOT IN ('manager', 'trainer') OR (person_name IS NOT NULL AND person_role IS NOT NULL)),
    CHECK (kind <> 'manager' OR agency_id IS NOT NULL),
    CHECK (kind <> 'trainer' OR provider_id IS NOT NULL),
    CHECK (status = 'pending' OR (decided_by IS NOT NULL AND decided_at IS NOT NULL)),
    CHECK (decided_by IS NULL OR decided_by <> nominated_by),
    CHECK (status <> 'removed' OR (removed_by IS NOT NULL AND removed_at IS NOT NULL AND removal_reason IS NOT NULL))
);
CREATE UNIQUE INDEX library_entries_live ON library_entries (kind, subject_key) WHERE status IN ('pending', 'published');
CREATE INDEX library_entries_status ON library_entries (status, kind, id);
CREATE INDEX library_entries_district ON library_entries (district_code, status, id);
CREATE INDEX library_entries_nominator ON library_entries (nominated_by, id);
