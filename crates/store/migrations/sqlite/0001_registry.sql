-- Registry: divisions, agencies, workers, bindings, service points, accounts.
-- Times are UTC text (RFC 3339); booleans are 0/1.

CREATE TABLE divisions (
    code TEXT PRIMARY KEY CHECK (length(code) = 12),
    name TEXT NOT NULL,
    level TEXT NOT NULL CHECK (level IN ('province', 'city', 'district', 'street', 'community')),
    parent_code TEXT REFERENCES divisions (code),
    unit_type TEXT CHECK (unit_type IN ('community', 'village_committee', 'other')),
    urban_rural_code TEXT
);
CREATE INDEX divisions_parent ON divisions (parent_code, code);

CREATE TABLE agencies (
    id INTEGER PRIMARY KEY,
    uscc TEXT NOT NULL UNIQUE CHECK (length(uscc) = 18),
    name TEXT NOT NULL,
    brand_name TEXT,
    legal_representative TEXT NOT NULL,
    address TEXT NOT NULL,
    street_code TEXT NOT NULL REFERENCES divisions (code),
    district_code TEXT NOT NULL REFERENCES divisions (code),
    phone TEXT NOT NULL,
    business_model TEXT NOT NULL CHECK (business_model IN ('employee', 'intermediary', 'mixed')),
    status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended', 'closed')),
    version INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX agencies_district ON agencies (district_code, id);
CREATE INDEX agencies_name ON agencies (name);

CREATE TABLE workers (
    id INTEGER PRIMARY KEY,
    id_hash BLOB NOT NULL UNIQUE,
    id_cipher BLOB NOT NULL,
    id_masked TEXT NOT NULL,
    phone_hash BLOB NOT NULL,
    phone_cipher BLOB NOT NULL,
    phone_masked TEXT NOT NULL,
    name TEXT NOT NULL,
    birth_date TEXT NOT NULL,
    sex TEXT NOT NULL CHECK (sex IN ('male', 'female')),
    ethnicity TEXT NOT NULL,
    education_level TEXT NOT NULL,
    education_major TEXT,
    education_related INTEGER NOT NULL CHECK (education_related IN (0, 1)),
    home_street TEXT NOT NULL REFERENCES divisions (code),
    district_code TEXT NOT NULL REFERENCES divisions (code),
    services INTEGER NOT NULL CHECK (services > 0),
    registered_by INTEGER REFERENCES agencies (id),
    version INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
-- Services ride along so that district + service searches and counts read only the index.
CREATE INDEX workers_district ON workers (district_code, id, services);

-- Unigrams and bigrams of each name, so a name fragment finds its workers through an index.
-- District, services and the name are copied in, so a search with any filters is answered
-- from this table alone and only the shown page of workers is read.
CREATE TABLE worker_name_grams (
    gram TEXT NOT NULL,
    district_code TEXT NOT NULL,
    worker_id INTEGER NOT NULL REFERENCES workers (id),
    services INTEGER NOT NULL,
    name TEXT NOT NULL,
    PRIMARY KEY (gram, district_code, worker_id)
) WITHOUT ROWID;

CREATE TABLE bindings (
    id INTEGER PRIMARY KEY,
    worker_id INTEGER NOT NULL REFERENCES workers (id),
    agency_id INTEGER NOT NULL REFERENCES agencies (id),
    kind TEXT NOT NULL CHECK (kind IN ('employee', 'intermediary')),
    status TEXT NOT NULL CHECK (status IN ('pending', 'active', 'rejected', 'cancelled', 'ended')),
    requested_by TEXT NOT NULL CHECK (requested_by IN ('agency', 'worker')),
    end_requested_by TEXT CHECK (end_requested_by IN ('agency', 'worker')),
    requested_at TEXT NOT NULL,
    started_at TEXT,
    ended_at TEXT
);
CREATE UNIQUE INDEX bindings_open ON bindings (worker_id, agency_id) WHERE status IN ('pending', 'active');
CREATE INDEX bindings_agency ON bindings (agency_id, status, kind, worker_id);

CREATE TABLE service_points (
    id INTEGER PRIMARY KEY,
    agency_id INTEGER NOT NULL REFERENCES agencies (id),
    name TEXT NOT NULL,
    community_code TEXT NOT NULL REFERENCES divisions (code),
    district_code TEXT NOT NULL REFERENCES divisions (code),
    address TEXT NOT NULL,
    opening_hours TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'closed')),
    created_at TEXT NOT NULL
);
CREATE INDEX service_points_district ON service_points (district_code, id);
CREATE INDEX service_points_agency ON service_points (agency_id);

CREATE TABLE service_point_communities (
    point_id INTEGER NOT NULL REFERENCES service_points (id),
    community_code TEXT NOT NULL REFERENCES divisions (code),
    PRIMARY KEY (point_id, community_code)
);
CREATE INDEX service_point_communities_code ON service_point_communities (community_code);

CREATE TABLE accounts (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('resident', 'worker', 'agency_admin', 'community_staff', 'school',
                                       'evaluator', 'regulator', 'bank', 'system_admin')),
    agency_id INTEGER REFERENCES agencies (id),
    district_code TEXT REFERENCES divisions (code),
    worker_id INTEGER REFERENCES workers (id),
    disabled INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    CHECK (role <> 'agency_admin' OR agency_id IS NOT NULL),
    CHECK (role <> 'worker' OR worker_id IS NOT NULL)
);

CREATE TABLE sessions (
    token_hash BLOB PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts (id),
    csrf_token TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX sessions_account ON sessions (account_id);

CREATE TABLE access_log (
    id INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts (id),
    subject_kind TEXT NOT NULL,
    subject_id INTEGER NOT NULL,
    fields TEXT NOT NULL,
    purpose TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX access_log_subject ON access_log (subject_kind, subject_id, at);
