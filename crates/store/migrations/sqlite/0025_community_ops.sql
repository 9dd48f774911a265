-- Community operations (issue 13, parts 5-7): a service point's weekly hours, staff on duty,
-- the shared tool kit and its loans, events at a point; 家政驿站 proposed by schools and
-- confirmed by community staff; volunteer and public-welfare projects, their events and the
-- agencies and schools that took part with the hours they gave.

CREATE TABLE point_hours (
    point_id INTEGER NOT NULL REFERENCES service_points (id),
    weekday INTEGER NOT NULL CHECK (weekday BETWEEN 1 AND 7),
    opens_minute INTEGER NOT NULL CHECK (opens_minute BETWEEN 0 AND 1439),
    closes_minute INTEGER NOT NULL CHECK (closes_minute <= 1440 AND closes_minute > opens_minute),
    PRIMARY KEY (point_id, weekday)
);

-- A worker on duty at a point. No two duties of one worker overlap (checked inside the single
-- writer's transaction here; PostgreSQL's exclusion constraint refuses it too).
CREATE TABLE point_duties (
    id INTEGER PRIMARY KEY,
    point_id INTEGER NOT NULL REFERENCES service_points (id),
    agency_id INTEGER NOT NULL REFERENCES agencies (id),
    worker_id INTEGER NOT NULL REFERENCES workers (id),
    starts_at TEXT NOT NULL,
    ends_at TEXT NOT NULL CHECK (ends_at > starts_at),
    entered_by INTEGER NOT NULL REFERENCES accounts (id),
    created_at TEXT NOT NULL
);
CREATE INDEX point_duties_point ON point_duties (point_id, starts_at);
CREATE INDEX point_duties_worker ON point_duties (worker_id, starts_at);

CREATE TABLE point_tools (
    id INTEGER PRIMARY KEY,
    point_id INTEGER NOT NULL REFERENCES service_points (id),
    name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 40),
    count INTEGER NOT NULL CHECK (count BETWEEN 1 AND 999),
    -- Units out now: a check-out takes one only while fewer than `count` are out.
    out_count INTEGER NOT NULL DEFAULT 0 CHECK (out_count >= 0 AND out_count <= count),
    created_at TEXT NOT NULL,
    UNIQUE (point_id, name)
);

CREATE TABLE tool_loans (
    id INTEGER PRIMARY KEY,
    tool_id INTEGER NOT NULL REFERENCES point_tools (id),
    point_id INTEGER NOT NULL REFERENCES service_points (id),
    worker_id INTEGER REFERENCES workers (id),
    volunteer_name TEXT CHECK (volunteer_name IS NULL OR length(volunteer_name) BETWEEN 1 AND 30),
    due_on TEXT NOT NULL,
    out_at TEXT NOT NULL,
    lent_by INTEGER NOT NULL REFERENCES accounts (id),
    returned_at TEXT,
    returned_by INTEGER REFERENCES accounts (id),
    CHECK ((worker_id IS NULL) <> (volunteer_name IS NULL))
);
CREATE INDEX tool_loans_point ON tool_loans (point_id, returned_at, due_on);
CREATE INDEX tool_loans_tool ON tool_loans (tool_id);

CREATE TABLE point_events (
    id INTEGER PRIMARY KEY,
    point_id INTEGER NOT NULL REFERENCES service_points (id),
    title TEXT NOT NULL CHECK (length(title) <= 60),
    starts_at TEXT NOT NULL,
    ends_at TEXT NOT NULL CHECK (ends_at > starts_at),
    description TEXT NOT NULL CHECK (length(description) <= 500),
    attendance INTEGER CHECK (attendance IS NULL OR attendance BETWEEN 0 AND 10000),
    entered_by INTEGER NOT NULL REFERENCES accounts (id),
    created_at TEXT NOT NULL
);
CREATE INDEX point_events_point ON point_events (point_id, starts_at);

-- 家政驿站: proposed by a school (its side confirmed by proposing), active once the staff of the
-- community's area confirm; either side ends it.
CREATE TABLE stations (
    id INTEGER PRIMARY KEY,
    provider_id INTEGER NOT NULL REFERENCES training_providers (id),
    name TEXT NOT NULL CHECK (length(name) <= 60),
    community_code TEXT NOT NULL REFERENCES divisions (code),
    address TEXT NOT NULL CHECK (length(address) <= 120),
    services TEXT NOT NULL CHECK (length(services) BETWEEN 1 AND 400),
    hours TEXT NOT NULL CHECK (length(hours) <= 100),
    status TEXT NOT NULL CHECK (status IN ('proposed', 'active', 'ended')),
    proposed_by INTEGER NOT NULL REFERENCES accounts (id),
    proposed_at TEXT NOT NULL,
    confirmed_by INTEGER REFERENCES accounts (id),
    confirmed_at TEXT,
    ended_by INTEGER REFERENCES accounts (id),
    ended_side TEXT CHECK (ended_side IN ('school', 'community')),
    ended_at TEXT,
    CHECK (status <> 'active' OR confirmed_at IS NOT NULL),
    CHECK ((status = 'ended') = (ended_at IS NOT NULL))
);
CREATE INDEX stations_community ON stations (community_code, status);
CREATE INDEX stations_provider ON stations (provider_id, id);

CREATE TABLE volunteer_projects (
    id INTEGER PRIMARY KEY,
    area_code TEXT NOT NULL REFERENCES divisions (code),
    kind TEXT NOT NULL CHECK (kind IN ('micro_venture', 'red', 'service')),
    title TEXT NOT NULL CHECK (length(title) <= 60),
    description TEXT NOT NULL CHECK (length(description) <= 500),
    created_by INTEGER NOT NULL REFERENCES accounts (id),
    created_at TEXT NOT NULL
);
CREATE INDEX volunteer_projects_area ON volunteer_projects (area_code, id);

CREATE TABLE volunteer_events (
    id INTEGER PRIMARY KEY,
    project_id INTEGER NOT NULL REFERENCES volunteer_projects (id),
    community_code TEXT NOT NULL REFERENCES divisions (code),
    starts_at TEXT NOT NULL,
    ends_at TEXT NOT NULL CHECK (ends_at > starts_at),
    description TEXT NOT NULL CHECK (length(description) <= 300),
    created_by INTEGER NOT NULL REFERENCES accounts (id),
    created_at TEXT NOT NULL
);
CREATE INDEX volunteer_events_project ON volunteer_events (project_id, starts_at);
CREATE INDEX volunteer_events_community ON volunteer_events (community_code, starts_at);

-- An agency or a school at an event: people sent and minutes each; counted once confirmed.
CREATE TABLE volunteer_participants (
    id INTEGER PRIMARY KEY,
    event_id INTEGER NOT NULL REFERENCES volunteer_events (id),
    agency_id INTEGER REFERENCES agencies (id),
    provider_id INTEGER REFERENCES training_providers (id),
    people INTEGER NOT NULL CHECK (people BETWEEN 1 AND 500),
    minutes_each INTEGER NOT NULL CHECK (minutes_each BETWEEN 1 AND 1440),
    status TEXT NOT NULL CHECK (status IN ('joined', 'confirmed')),
    joined_by INTEGER NOT NULL REFERENCES accounts (id),
    joined_at TEXT NOT NULL,
    confirmed_by INTEGER REFERENCES accounts (id),
    confirmed_at TEXT,
    CHECK ((agency_id IS NULL) <> (provider_id IS NULL))
);
CREATE UNIQUE INDEX volunteer_participants_agency ON volunteer_participants (event_id, agency_id) WHERE agency_id IS NOT NULL;
CREATE UNIQUE INDEX volunteer_participants_provider ON volunteer_participants (event_id, provider_id) WHERE provider_id IS NOT NULL;
CREATE INDEX volunteer_participants_by_agency ON volunteer_participants (agency_id, status) WHERE agency_id IS NOT NULL;
CREATE INDEX volunteer_participants_by_provider ON volunteer_participants (provider_id, status) WHERE provider_id IS NOT NULL;

-- The public community page lists the points serving a community and the completed orders there.
CREATE INDEX orders_community_agency ON orders (community_code, agency_id, resident_account_id) WHERE status IN ('completed', 'rated');
