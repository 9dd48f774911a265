-- A resident's orders waiting for agencies are counted at every booking (at most a few may wait).
CREATE INDEX orders_resident_status ON orders (resident_account_id, status);
