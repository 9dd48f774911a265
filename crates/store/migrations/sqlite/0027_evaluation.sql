-- Third-party evaluation (issue 14 part 2, task 12 of the plan): evaluator organisations and the
-- agencies they declare ties to; rounds opened by the city's regulator with published weights
-- over the plan's seven dimensions; the subjects of a round and the organisations assigned to
-- them; one score per round, subject, dimension and organisation with its evidence; scorecards
-- submitted (locked); the results frozen when the round is published, and the front-runners.

CREATE TABLE evaluator_orgs (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 100),
    uscc TEXT UNIQUE CHECK (uscc IS NULL OR length(uscc) = 18),
    contact TEXT NOT NULL CHECK (length(contact) BETWEEN 1 AND 100),
    created_by INTEGER REFERENCES accounts (id),
    created_at TEXT NOT NULL
);
ALTER TABLE accounts ADD COLUMN evaluator_id INTEGER REFERENCES evaluator_orgs (id);
ALTER TABLE account_events ADD COLUMN evaluator_id INTEGER REFERENCES evaluator_orgs (id);

-- An organisation's declared tie to an agency: it may not score that agency.
CREATE TABLE evaluator_conflicts (
    org_id INTEGER NOT NULL REFERENCES evaluator_orgs (id),
    agency_id INTEGER NOT NULL REFERENCES agencies (id),
    tie TEXT NOT NULL CHECK (length(tie) BETWEEN 1 AND 200),
    declared_by INTEGER NOT NULL REFERENCES accounts (id),
    declared_at TEXT NOT NULL,
    PRIMARY KEY (org_id, agency_id)
);
CREATE INDEX evaluator_conflicts_agency ON evaluator_conflicts (agency_id);

CREATE TABLE evaluation_rounds (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 60),
    year INTEGER NOT NULL CHECK (year BETWEEN 2000 AND 2100),
    period TEXT NOT NULL CHECK (period IN ('year', 'h1', 'h2', 'q1', 'q2', 'q3', 'q4')),
    -- What is evaluated, a bit mask over agency (1), provider (2), community (4).
    kinds INTEGER NOT NULL CHECK (kinds BETWEEN 1 AND 7),
    status TEXT NOT NULL CHECK (status IN ('open', 'published')),
    opened_by INTEGER NOT NULL REFERENCES accounts (id),
    opened_at TEXT NOT NULL,
    published_by INTEGER REFERENCES accounts (id),
    published_at TEXT,
    CHECK ((status = 'published') = (published_at IS NOT NULL))
);
CREATE INDEX evaluation_rounds_status ON evaluation_rounds (status, id);

-- The published weights, whole percents; the seven of a round sum to 100 (written together).
CREATE TABLE evaluation_weights (
    round_id INTEGER NOT NULL REFERENCES evaluation_rounds (id),
    dimension TEXT NOT NULL CHECK (dimension IN ('employment', 'community', 'brand', 'quality', 'training',
                                                 'integrity', 'standards')),
    weight INTEGER NOT NULL CHECK (weight BETWEEN 1 AND 100),
    PRIMARY KEY (round_id, dimension)
);

CREATE TABLE evaluation_subjects (
    id INTEGER PRIMARY KEY,
    round_id INTEGER NOT NULL REFERENCES evaluation_rounds (id),
    kind TEXT NOT NULL CHECK (kind IN ('agency', 'provider', 'community')),
    agency_id INTEGER REFERENCES agencies (id),
    provider_id INTEGER REFERENCES training_providers (id),
    community_code TEXT REFERENCES divisions (code),
    -- Where the subject is: a district regulator sees their district's subjects.
    district_code TEXT NOT NULL REFERENCES divisions (code),
    added_by INTEGER NOT NULL REFERENCES accounts (id),
    added_at TEXT NOT NULL,
    CHECK ((kind = 'agency') = (agency_id IS NOT NULL)),
    CHECK ((kind = 'provider') = (provider_id IS NOT NULL)),
    CHECK ((kind = 'community') = (community_code IS NOT NULL))
);
CREATE UNIQUE INDEX evaluation_subjects_agency ON evaluation_subjects (round_id, agency_id) WHERE agency_id IS NOT NULL;
CREATE UNIQUE INDEX evaluation_subjects_provider ON evaluation_subjects (round_id, provider_id) WHERE provider_id IS NOT NULL;
CREATE UNIQUE INDEX evaluation_subjects_community ON evaluation_subjects (round_id, community_code) WHERE community_code IS NOT NULL;
CREATE INDEX evaluation_subjects_round ON evaluation_subjects (round_id, kind, id);
CREATE INDEX evaluation_subjects_of_agency ON evaluation_subjects (agency_id) WHERE agency_id IS NOT NULL;

-- An organisation assigned to one subject of a round, or (subject_id NULL) to all of them.
CREATE TABLE evaluation_assignments (
    id INTEGER PRIMARY KEY,
    round_id INTEGER NOT NULL REFERENCES evaluation_rounds (id),
    org_id INTEGER NOT NULL REFERENCES evaluator_orgs (id),
    subject_id INTEGER REFERENCES evaluation_subjects (id),
    assigned_by INTEGER NOT NULL REFERENCES accounts (id),
    assigned_at TEXT NOT NULL
);
CREATE UNIQUE INDEX evaluation_assignments_whole ON evaluation_assignments (round_id, org_id) WHERE subject_id IS NULL;
CREATE UNIQUE INDEX evaluation_assignments_subject ON evaluation_assignments (round_id, org_id, subject_id) WHERE subject_id IS NOT NULL;
CREATE INDEX evaluation_assignments_org ON evaluation_assignments (org_id, round_id);

-- A file an organisation gave as evidence (PDF, JPEG or PNG, at most 5 MB).
CREATE TABLE evaluation_evidence (
    id INTEGER PRIMARY KEY,
    round_id INTEGER NOT NULL REFERENCES evaluation_rounds (id),
    org_id INTEGER NOT NULL REFERENCES evaluator_orgs (id),
    mime TEXT NOT NULL CHECK (mime IN ('application/pdf', 'image/jpeg', 'image/png')),
    bytes BLOB NOT NULL CHECK (length(bytes) BETWEEN 1 AND 5242880),
    sha256 TEXT NOT NULL CHECK (length(sha256) = 64),
    uploaded_by INTEGER NOT NULL REFERENCES accounts (id),
    uploaded_at TEXT NOT NULL
);
CREATE INDEX evaluation_evidence_round ON evaluation_evidence (round_id, org_id);

-- One score per round, subject, dimension and organisation; re-scoring before the scorecard is
-- submitted replaces it. Every score rests on a note, a file, or both.
CREATE TABLE evaluation_scores (
    id INTEGER PRIMARY KEY,
    round_id INTEGER NOT NULL REFERENCES evaluation_rounds (id),
    subject_id INTEGER NOT NULL REFERENCES evaluation_subjects (id),
    org_id INTEGER NOT NULL REFERENCES evaluator_orgs (id),
    dimension TEXT NOT NULL CHECK (dimension IN ('employment', 'community', 'brand', 'quality', 'training',
                                                 'integrity', 'standards')),
    score INTEGER NOT NULL CHECK (score BETWEEN 0 AND 100),
    note TEXT CHECK (note IS NULL OR length(note) BETWEEN 1 AND 1000),
    evidence_id INTEGER REFERENCES evaluation_evidence (id),
    scored_by INTEGER NOT NULL REFERENCES accounts (id),
    scored_at TEXT NOT NULL,
    CHECK (note IS NOT NULL OR evidence_id IS NOT NULL),
    UNIQUE (round_id, subject_id, dimension, org_id)
);
CREATE INDEX evaluation_scores_org ON evaluation_scores (org_id, round_id);

-- An organisation's scorecard of a subject, submitted: its scores are locked from then on.
CREATE TABLE evaluation_submissions (
    round_id INTEGER NOT NULL REFERENCES evaluation_rounds (id),
    subject_id INTEGER NOT NULL REFERENCES evaluation_subjects (id),
    org_id INTEGER NOT NULL REFERENCES evaluator_orgs (id),
    submitted_by INTEGER NOT NULL REFERENCES accounts (id),
    submitted_at TEXT NOT NULL,
    PRIMARY KEY (round_id, subject_id, org_id)
);

-- Frozen at publication: the weighted total in hundredths of a point (the mean of the submitted
-- cards, whose sum and count are kept so the ranking stays exact) and the rank within its kind.
CREATE TABLE evaluation_results (
    round_id INTEGER NOT NULL REFERENCES evaluation_rounds (id),
    subject_id INTEGER NOT NULL REFERENCES evaluation_subjects (id),
    total_hundredths INTEGER NOT NULL CHECK (total_hundredths BETWEEN 0 AND 10000),
    sum_hundredths INTEGER NOT NULL CHECK (sum_hundredths >= 0),
    cards INTEGER NOT NULL CHECK (cards >= 1),
    rank INTEGER NOT NULL CHECK (rank >= 1),
    PRIMARY KEY (round_id, subject_id)
);
CREATE INDEX evaluation_results_subject ON evaluation_results (subject_id);

-- 领跑: designated by the regulator from a published round.
CREATE TABLE evaluation_front_runners (
    round_id INTEGER NOT NULL REFERENCES evaluation_rounds (id),
    subject_id INTEGER NOT NULL REFERENCES evaluation_subjects (id),
    designated_by INTEGER NOT NULL REFERENCES accounts (id),
    designated_at TEXT NOT NULL,
    PRIMARY KEY (round_id, subject_id)
);

-- Each dimension's mean over the counted cards, in hundredths, frozen with the results.
CREATE TABLE evaluation_result_scores (
    round_id INTEGER NOT NULL REFERENCES evaluation_rounds (id),
    subject_id INTEGER NOT NULL REFERENCES evaluation_subjects (id),
    dimension TEXT NOT NULL CHECK (dimension IN ('employment', 'community', 'brand', 'quality', 'training',
                                                 'integrity', 'standards')),
    mean_hundredths INTEGER NOT NULL CHECK (mean_hundredths BETWEEN 0 AND 10000),
    PRIMARY KEY (round_id, subject_id, dimension)
);
