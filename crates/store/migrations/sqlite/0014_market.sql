-- The market, part 1: residents who sign in by phone, what agencies sell and at what price (with
-- every change kept), when workers work, and orders with their steps. A worker's bookings and
-- leave share one table so that no two of them overlap: PostgreSQL enforces it with an exclusion
-- constraint, SQLite inside the single writer's transaction.

ALTER TABLE accounts ADD COLUMN phone_hash BLOB;
CREATE UNIQUE INDEX accounts_phone ON accounts (phone_hash) WHERE phone_hash IS NOT NULL;

CREATE TABLE resident_profiles (
    account_id INTEGER PRIMARY KEY REFERENCES accounts (id),
    phone_cipher BLOB,
    phone_masked TEXT,
    community_code TEXT REFERENCES divisions (code),
    address_cipher BLOB,
    updated_at TEXT NOT NULL,
    erased_at TEXT
);

CREATE TABLE sms_codes (
    id INTEGER PRIMARY KEY,
    phone_hash BLOB NOT NULL,
    code_hash BLOB NOT NULL,
    address TEXT NOT NULL,
    sent_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    wrong_tries INTEGER NOT NULL DEFAULT 0,
    used_at TEXT
);
CREATE INDEX sms_codes_phone ON sms_codes (phone_hash, id);
CREATE INDEX sms_codes_address ON sms_codes (address, sent_at);

CREATE TABLE menu_items (
    id INTEGER PRIMARY KEY,
    agency_id INTEGER NOT NULL REFERENCES agencies (id),
    item TEXT NOT NULL,
    service_bit INTEGER NOT NULL,
    mode TEXT NOT NULL CHECK (mode IN ('per_item', 'per_hour', 'package')),
    amount INTEGER NOT NULL CHECK (amount > 0),
    level TEXT NOT NULL DEFAULT '',
    price_fen INTEGER NOT NULL CHECK (price_fen > 0 AND price_fen <= 10000000),
    description TEXT NOT NULL,
    free_cancel_hours INTEGER NOT NULL CHECK (free_cancel_hours >= 0),
    cancel_fee_percent INTEGER NOT NULL CHECK (cancel_fee_percent BETWEEN 0 AND 100),
    price_since TEXT NOT NULL,
    withdrawn_at TEXT,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL
);
CREATE UNIQUE INDEX menu_items_one ON menu_items (agency_id, item, mode, level) WHERE withdrawn_at IS NULL;
CREATE INDEX menu_items_item ON menu_items (item, agency_id) WHERE withdrawn_at IS NULL;

CREATE TABLE menu_prices (
    id INTEGER PRIMARY KEY,
    menu_item_id INTEGER NOT NULL REFERENCES menu_items (id),
    price_fen INTEGER NOT NULL CHECK (price_fen > 0 AND price_fen <= 10000000),
    previous_fen INTEGER,
    effective_from TEXT NOT NULL,
    set_by INTEGER NOT NULL REFERENCES accounts (id)
);
CREATE INDEX menu_prices_item ON menu_prices (menu_item_id, id);
CREATE INDEX menu_prices_rises ON menu_prices (effective_from) WHERE previous_fen IS NOT NULL;

CREATE TABLE worker_shifts (
    worker_id INTEGER NOT NULL REFERENCES workers (id),
    weekday INTEGER NOT NULL CHECK (weekday BETWEEN 1 AND 7),
    from_minute INTEGER NOT NULL CHECK (from_minute >= 0),
    to_minute INTEGER NOT NULL CHECK (to_minute > from_minute AND to_minute <= 1440),
    set_by INTEGER NOT NULL REFERENCES accounts (id),
    updated_at TEXT NOT NULL,
    PRIMARY KEY (worker_id, weekday)
) WITHOUT ROWID;

CREATE TABLE orders (
    id INTEGER PRIMARY KEY,
    resident_account_id INTEGER NOT NULL REFERENCES accounts (id),
    agency_id INTEGER NOT NULL REFERENCES agencies (id),
    menu_item_id INTEGER NOT NULL REFERENCES menu_items (id),
    price_id INTEGER NOT NULL REFERENCES menu_prices (id),
    item TEXT NOT NULL,
    mode TEXT NOT NULL,
    level TEXT NOT NULL,
    unit_price_fen INTEGER NOT NULL CHECK (unit_price_fen > 0),
    quantity INTEGER NOT NULL CHECK (quantity > 0),
    total_fen INTEGER NOT NULL CHECK (total_fen > 0),
    free_cancel_hours INTEGER NOT NULL,
    cancel_fee_percent INTEGER NOT NULL,
    starts_at TEXT NOT NULL,
    ends_at TEXT NOT NULL CHECK (ends_at > starts_at),
    requested_worker_id INTEGER REFERENCES workers (id),
    worker_id INTEGER REFERENCES workers (id),
    community_code TEXT NOT NULL REFERENCES divisions (code),
    address_cipher BLOB NOT NULL,
    note TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('requested', 'confirmed', 'assigned', 'in_service', 'completed',
                                           'rated', 'cancelled', 'disputed')),
    cancel_fee_fen INTEGER,
    service_id INTEGER REFERENCES service_records (id),
    version INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX orders_resident ON orders (resident_account_id, id);
CREATE INDEX orders_agency ON orders (agency_id, starts_at);
CREATE INDEX orders_worker ON orders (worker_id, resident_account_id);

CREATE TABLE order_events (
    id INTEGER PRIMARY KEY,
    order_id INTEGER NOT NULL REFERENCES orders (id),
    step TEXT NOT NULL,
    from_status TEXT,
    to_status TEXT NOT NULL,
    party TEXT NOT NULL,
    actor_account_id INTEGER NOT NULL REFERENCES accounts (id),
    reason TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX order_events_order ON order_events (order_id, id);

CREATE TABLE worker_bookings (
    id INTEGER PRIMARY KEY,
    worker_id INTEGER NOT NULL REFERENCES workers (id),
    kind TEXT NOT NULL CHECK (kind IN ('order', 'leave')),
    order_id INTEGER REFERENCES orders (id),
    starts_at TEXT NOT NULL,
    ends_at TEXT NOT NULL CHECK (ends_at > starts_at),
    note TEXT NOT NULL,
    entered_by INTEGER NOT NULL REFERENCES accounts (id),
    created_at TEXT NOT NULL,
    CHECK ((kind = 'order') = (order_id IS NOT NULL))
);
CREATE INDEX worker_bookings_worker ON worker_bookings (worker_id, starts_at, ends_at);
CREATE INDEX worker_bookings_order ON worker_bookings (order_id);

CREATE TABLE idempotency_keys (
    account_id INTEGER NOT NULL REFERENCES accounts (id),
    key TEXT NOT NULL,
    request_digest BLOB NOT NULL,
    order_id INTEGER NOT NULL REFERENCES orders (id),
    created_at TEXT NOT NULL,
    PRIMARY KEY (account_id, key)
);

ALTER TABLE service_records ADD COLUMN order_id INTEGER REFERENCES orders (id);
ALTER TABLE complaints ADD COLUMN order_id INTEGER REFERENCES orders (id);
CREATE UNIQUE INDEX service_records_order ON service_records (order_id) WHERE order_id IS NOT NULL;
