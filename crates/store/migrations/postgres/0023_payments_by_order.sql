-- An order's payments by the order: what it holds (every money step reads it under the order's
-- lock) and its page's payment. The partial unique index on live payments cannot serve these on
-- SQLite, which does not prove `status = 'paid'` implies `status IN ('pending', 'paid')`: without
-- this, each notification read the whole payments table (216 notifications/s at 40,000 payments).
CREATE INDEX payments_order ON payments (order_id, status);
