-- An agency that lets the nightly job assign the next day's orders names the admin whose name the
-- assignments carry (every order step has an accountable actor); NULL means the agency assigns by hand.
ALTER TABLE agencies ADD COLUMN auto_assign_by BIGINT REFERENCES accounts (id);
