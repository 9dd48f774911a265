-- One dispute per order: the complaint it files is the order's only one.
CREATE UNIQUE INDEX complaints_order ON complaints (order_id) WHERE order_id IS NOT NULL;
