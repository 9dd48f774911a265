-- A worker's own bindings, for the per-worker look-ups of the workforce rules (active agencies,
-- agency-wide policies). The partial unique index covers only open bindings of a pair.
CREATE INDEX bindings_worker ON bindings (worker_id, status, agency_id);
