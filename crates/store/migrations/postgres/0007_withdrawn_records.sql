-- A record the regulator returned (or an appeal withdrew) stops counting for the workforce rules:
-- the correction that withdrew it is named here; the record itself stays.
ALTER TABLE training_records ADD COLUMN withdrawn_seq BIGINT REFERENCES credit_ledger (seq);
ALTER TABLE health_checks ADD COLUMN withdrawn_seq BIGINT REFERENCES credit_ledger (seq);
ALTER TABLE insurance_policies ADD COLUMN withdrawn_seq BIGINT REFERENCES credit_ledger (seq);
ALTER TABLE skill_certificates ADD COLUMN withdrawn_seq BIGINT REFERENCES credit_ledger (seq);
