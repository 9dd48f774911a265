-- Payments (WeChat Pay API v3 in shape): the platform's payment orders and refunds, each with its
-- own number; a double-entry journal of every movement of money with balances kept beside it in
-- the same transaction; and the built-in sandbox provider's own records, so that a restart loses
-- neither a payment nor a notification still to be delivered.

ALTER TABLE agencies ADD COLUMN intermediary_fee_percent INTEGER NOT NULL DEFAULT 20
    CHECK (intermediary_fee_percent BETWEEN 0 AND 100);

CREATE TABLE payments (
    id INTEGER PRIMARY KEY,
    out_trade_no TEXT NOT NULL UNIQUE,
    order_id INTEGER NOT NULL REFERENCES orders (id),
    amount_fen INTEGER NOT NULL CHECK (amount_fen > 0),
    description TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'paid', 'closed')),
    transaction_id TEXT UNIQUE,
    pay_url TEXT,
    created_at TEXT NOT NULL,
    paid_at TEXT,
    CHECK ((status = 'paid') = (transaction_id IS NOT NULL))
);
-- One payment order at a time per order: paying twice is the same payment order again.
CREATE UNIQUE INDEX payments_one_live ON payments (order_id) WHERE status IN ('pending', 'paid');
CREATE INDEX payments_paid_at ON payments (paid_at) WHERE paid_at IS NOT NULL;

CREATE TABLE refunds (
    id INTEGER PRIMARY KEY,
    out_refund_no TEXT NOT NULL UNIQUE,
    payment_id INTEGER NOT NULL REFERENCES payments (id),
    order_id INTEGER NOT NULL REFERENCES orders (id),
    amount_fen INTEGER NOT NULL CHECK (amount_fen > 0),
    reason TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('processing', 'succeeded')),
    refund_id TEXT UNIQUE,
    created_at TEXT NOT NULL,
    submitted_at TEXT,
    succeeded_at TEXT
);
CREATE INDEX refunds_order ON refunds (order_id, id);
CREATE INDEX refunds_unsubmitted ON refunds (id) WHERE submitted_at IS NULL;
CREATE INDEX refunds_succeeded_at ON refunds (succeeded_at) WHERE succeeded_at IS NOT NULL;

CREATE TABLE journal_txns (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('payment', 'refund', 'settlement', 'cancel_fee')),
    order_id INTEGER NOT NULL REFERENCES orders (id),
    at TEXT NOT NULL
);
CREATE INDEX journal_txns_order ON journal_txns (order_id, id);

CREATE TABLE journal (
    id INTEGER PRIMARY KEY,
    txn_id INTEGER NOT NULL REFERENCES journal_txns (id),
    account TEXT NOT NULL,
    amount_fen INTEGER NOT NULL CHECK (amount_fen <> 0),
    order_id INTEGER NOT NULL REFERENCES orders (id),
    kind TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX journal_txn ON journal (txn_id);
CREATE INDEX journal_account ON journal (account, at);
CREATE TRIGGER journal_no_update BEFORE UPDATE ON journal
BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END;
CREATE TRIGGER journal_no_delete BEFORE DELETE ON journal
BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END;

CREATE TABLE account_balances (
    account TEXT PRIMARY KEY,
    balance_fen INTEGER NOT NULL
);

-- The sandbox provider's side, as a real provider would keep it.
CREATE TABLE sandbox_transactions (
    id INTEGER PRIMARY KEY,
    out_trade_no TEXT NOT NULL UNIQUE,
    transaction_id TEXT NOT NULL UNIQUE,
    amount_fen INTEGER NOT NULL CHECK (amount_fen > 0),
    description TEXT NOT NULL,
    notify_url TEXT NOT NULL,
    trade_state TEXT NOT NULL CHECK (trade_state IN ('NOTPAY', 'SUCCESS', 'CLOSED')),
    created_at TEXT NOT NULL,
    success_time TEXT
);
CREATE INDEX sandbox_transactions_success ON sandbox_transactions (success_time) WHERE success_time IS NOT NULL;

CREATE TABLE sandbox_refunds (
    id INTEGER PRIMARY KEY,
    out_refund_no TEXT NOT NULL UNIQUE,
    refund_id TEXT NOT NULL UNIQUE,
    sandbox_transaction_id INTEGER NOT NULL REFERENCES sandbox_transactions (id),
    amount_fen INTEGER NOT NULL CHECK (amount_fen > 0),
    status TEXT NOT NULL CHECK (status IN ('PROCESSING', 'SUCCESS')),
    created_at TEXT NOT NULL,
    success_time TEXT
);
CREATE INDEX sandbox_refunds_txn ON sandbox_refunds (sandbox_transaction_id);
CREATE INDEX sandbox_refunds_success ON sandbox_refunds (success_time) WHERE success_time IS NOT NULL;

CREATE TABLE sandbox_notifications (
    id INTEGER PRIMARY KEY,
    event_type TEXT NOT NULL CHECK (event_type IN ('TRANSACTION.SUCCESS', 'REFUND.SUCCESS')),
    resource TEXT NOT NULL,
    notify_url TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT,
    last_error TEXT,
    created_at TEXT NOT NULL,
    delivered_at TEXT,
    gave_up_at TEXT
);
CREATE INDEX sandbox_notifications_due ON sandbox_notifications (next_attempt_at)
    WHERE delivered_at IS NULL AND gave_up_at IS NULL;
