-- Community (家政进社区): where service points are, declarations across a district line that wait
-- for the regulator, the distance a point reaches, and demand surveys with one answer per household.

ALTER TABLE service_points ADD COLUMN lng REAL;
ALTER TABLE service_points ADD COLUMN lat REAL;

-- A point may declare communities of its own district at once; one of another district waits for
-- a regulator of that district and counts for coverage only once approved.
ALTER TABLE service_point_communities ADD COLUMN status TEXT NOT NULL DEFAULT 'approved'
    CHECK (status IN ('approved', 'pending', 'refused'));
ALTER TABLE service_point_communities ADD COLUMN decided_by INTEGER REFERENCES accounts (id);
ALTER TABLE service_point_communities ADD COLUMN decided_at TEXT;
CREATE INDEX service_point_communities_pending ON service_point_communities (community_code) WHERE status = 'pending';

CREATE TABLE coverage_settings (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    radius_m INTEGER NOT NULL CHECK (radius_m BETWEEN 100 AND 10000),
    set_by INTEGER REFERENCES accounts (id),
    set_at TEXT NOT NULL
);
INSERT INTO coverage_settings (id, radius_m, set_by, set_at) VALUES (1, 1000, NULL, '2026-01-01T00:00:00Z');

CREATE TABLE surveys (
    id INTEGER PRIMARY KEY,
    area_code TEXT NOT NULL REFERENCES divisions (code),
    title TEXT NOT NULL CHECK (length(title) <= 60),
    intro TEXT NOT NULL CHECK (length(intro) <= 500),
    questions TEXT NOT NULL,
    opens_on TEXT NOT NULL,
    closes_on TEXT NOT NULL,
    link_token TEXT NOT NULL UNIQUE,
    closed_at TEXT,
    created_by INTEGER NOT NULL REFERENCES accounts (id),
    created_at TEXT NOT NULL,
    CHECK (opens_on <= closes_on)
);
CREATE INDEX surveys_area ON surveys (area_code, id);

-- Answers are flat columns (sets as bit masks) so that a million of them aggregate in one scan.
CREATE TABLE survey_answers (
    id INTEGER PRIMARY KEY,
    survey_id INTEGER NOT NULL REFERENCES surveys (id),
    household_hash BLOB NOT NULL,
    account_id INTEGER REFERENCES accounts (id),
    community_code TEXT NOT NULL REFERENCES divisions (code),
    services INTEGER NOT NULL DEFAULT 0,
    frequency TEXT,
    price_min_fen INTEGER,
    price_max_fen INTEGER,
    times INTEGER NOT NULL DEFAULT 0,
    care INTEGER NOT NULL DEFAULT 0,
    note TEXT CHECK (length(note) <= 300),
    answered_at TEXT NOT NULL,
    UNIQUE (survey_id, household_hash)
);
CREATE INDEX survey_answers_community ON survey_answers (survey_id, community_code);

-- Running totals per survey and community, added to in the answer's own transaction (answers are
-- never edited), so a demand list reads one row per community however many answers there are.
-- Columns: households; s0.. per catalog item, f0.. per frequency, t0.. per time of day, c0.. per
-- person cared for (in the choices' order); the prices named and their sums.
CREATE TABLE survey_tallies (
    survey_id INTEGER NOT NULL REFERENCES surveys (id),
    community_code TEXT NOT NULL REFERENCES divisions (code),
    households INTEGER NOT NULL DEFAULT 0,
    s0 INTEGER NOT NULL DEFAULT 0,
    s1 INTEGER NOT NULL DEFAULT 0,
    s2 INTEGER NOT NULL DEFAULT 0,
    s3 INTEGER NOT NULL DEFAULT 0,
    s4 INTEGER NOT NULL DEFAULT 0,
    s5 INTEGER NOT NULL DEFAULT 0,
    s6 INTEGER NOT NULL DEFAULT 0,
    s7 INTEGER NOT NULL DEFAULT 0,
    s8 INTEGER NOT NULL DEFAULT 0,
    s9 INTEGER NOT NULL DEFAULT 0,
    s10 INTEGER NOT NULL DEFAULT 0,
    s11 INTEGER NOT NULL DEFAULT 0,
    f0 INTEGER NOT NULL DEFAULT 0,
    f1 INTEGER NOT NULL DEFAULT 0,
    f2 INTEGER NOT NULL DEFAULT 0,
    f3 INTEGER NOT NULL DEFAULT 0,
    f4 INTEGER NOT NULL DEFAULT 0,
    t0 INTEGER NOT NULL DEFAULT 0,
    t1 INTEGER NOT NULL DEFAULT 0,
    t2 INTEGER NOT NULL DEFAULT 0,
    t3 INTEGER NOT NULL DEFAULT 0,
    c0 INTEGER NOT NULL DEFAULT 0,
    c1 INTEGER NOT NULL DEFAULT 0,
    c2 INTEGER NOT NULL DEFAULT 0,
    c3 INTEGER NOT NULL DEFAULT 0,
    c4 INTEGER NOT NULL DEFAULT 0,
    c5 INTEGER NOT NULL DEFAULT 0,
    priced INTEGER NOT NULL DEFAULT 0,
    price_min_sum_fen INTEGER NOT NULL DEFAULT 0,
    price_max_sum_fen INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (survey_id, community_code)
);
