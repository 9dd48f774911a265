-- A worker's photo. The image lives in the data directory under its SHA-256 (re-encoded by the
-- server, without metadata); a row says which photo is the worker's and who put it there. Rows
-- are never rewritten: the latest is current, and who changed the face on a card stays known.
CREATE TABLE worker_photos (
    id INTEGER PRIMARY KEY,
    worker_id INTEGER NOT NULL REFERENCES workers (id),
    digest TEXT NOT NULL CHECK (length(digest) = 64),
    uploaded_by INTEGER NOT NULL REFERENCES accounts (id),
    uploaded_at TEXT NOT NULL
);
CREATE INDEX worker_photos_by_worker ON worker_photos (worker_id, id);
