-- An agency's completed orders by community and resident: its repeat-worker share on the agency page.
CREATE INDEX orders_agency_done ON orders (agency_id, community_code, resident_account_id) WHERE status IN ('completed', 'rated');
