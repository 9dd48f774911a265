//! Payments, refunds and the money journal. A payment order carries the platform's own number
//! (`out_trade_no`); the provider's notification is applied once, in one transaction that checks
//! the number, the amount and the status; every movement of money is a balanced journal
//! transaction written with the balances it changes. Each money step on an order first takes the
//! order's row (`lock_order_in!`), so a payment, a refund, a completion and a cancellation of one
//! order never read the same held amount at once.

use chrono::{DateTime, NaiveDate, Utc};
use jiazheng_core::FieldErrors;
use jiazheng_core::account::Principal;
use jiazheng_core::field::Invalid;
use jiazheng_core::market::order::{OrderStatus, Party};
use jiazheng_core::market::payment::{self, Account, BillKind, BillLine, Holding, PaymentStatus, RefundStatus};
use jiazheng_core::market::slot::day_start;
use serde::Serialize;

use super::write_tx;
use crate::{Result, Store, StoreError, now, on_pool};

pub const MAX_REASON_CHARS: usize = 80;

fn invalid(field: &str, invalid: Invalid) -> StoreError {
    StoreError::Invalid(FieldErrors(vec![invalid.at(field)]))
}

row! {
    #[derive(Debug, Clone, Serialize)]
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    pub struct PaymentRow {
        pub id: i64,
        pub out_trade_no: String,
        pub order_id: i64,
        pub amount_fen: i64,
        pub description: String,
        pub status: String,
        pub transaction_id: Option<String>,
        pub pay_url: Option<String>,
        pub created_at: DateTime<Utc>,
        pub paid_at: Option<DateTime<Utc>>,
    }
}

impl PaymentRow {
    pub fn status(&self) -> PaymentStatus {
        PaymentStatus::parse(&self.status).unwrap_or(PaymentStatus::Pending)
    }
}

row! {
    #[derive(Debug, Clone, Serialize)]
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    pub struct RefundRow {
        pub id: i64,
        pub out_refund_no: String,
        pub payment_id: i64,
        pub order_id: i64,
        pub amount_fen: i64,
        pub reason: String,
        pub status: String,
        pub refund_id: Option<String>,
        pub created_at: DateTime<Utc>,
        pub succeeded_at: Option<DateTime<Utc>>,
    }
}

impl RefundRow {
    pub fn status(&self) -> RefundStatus {
        RefundStatus::parse(&self.status).unwrap_or(RefundStatus::Processing)
    }
}

row! {
    /// A refund to send to the provider, with the payment it returns money from.
    #[derive(Debug, Clone)]
    pub struct RefundToSubmit {
        pub id: i64,
        pub out_refund_no: String,
        pub out_trade_no: String,
        pub amount_fen: i64,
        pub total_fen: i64,
    }
}

/// A provider's word that a payment succeeded (from a notification or a query).
#[derive(Debug, Clone)]
pub struct PaidNotice {
    pub out_trade_no: String,
    pub transaction_id: String,
    pub amount_fen: i64,
    pub paid_at: DateTime<Utc>,
}

/// A provider's word that a refund succeeded.
#[derive(Debug, Clone)]
pub struct RefundedNotice {
    pub out_refund_no: String,
    pub refund_id: String,
    pub amount_fen: i64,
    pub refunded_at: DateTime<Utc>,
}

/// What applying a notice did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    Now,
    /// It had been applied before: nothing changed, and the provider is answered OK all the same.
    Already,
}

/// The journal's own check: transactions that do not sum to zero, and balances that differ from
/// the sum of their account's journal rows.
#[derive(Debug, Clone, Default)]
pub struct JournalAudit {
    pub transactions: i64,
    pub unbalanced: Vec<(i64, i64)>,
    pub mismatched: Vec<(String, i64, i64)>,
}

impl JournalAudit {
    pub fn is_clean(&self) -> bool {
        self.unbalanced.is_empty() && self.mismatched.is_empty()
    }
}

row! {
    /// A bill line as both sides' queries read it.
    #[derive(Debug, Clone)]
    pub struct BillRow {
        pub at: DateTime<Utc>,
        pub kind: String,
        pub out_trade_no: String,
        pub transaction_id: String,
        pub out_refund_no: String,
        pub refund_id: String,
        pub amount_fen: i64,
        pub status: String,
    }
}

impl BillRow {
    pub fn into_line(self) -> BillLine {
        BillLine {
            at: self.at,
            kind: BillKind::parse(&self.kind).unwrap_or(BillKind::Payment),
            out_trade_no: self.out_trade_no,
            transaction_id: self.transaction_id,
            out_refund_no: self.out_refund_no,
            refund_id: self.refund_id,
            amount_fen: self.amount_fen,
            status: self.status,
        }
    }
}

row! {
    /// One movement on an agency's account, for its statement.
    #[derive(Debug, Clone, Serialize)]
    pub struct StatementLine {
        pub at: DateTime<Utc>,
        pub order_id: i64,
        pub kind: String,
        pub item: String,
        pub amount_fen: i64,
    }
}

/// Takes the order's row for the rest of the transaction (PostgreSQL waits here; SQLite's
/// writer is single already).
macro_rules! lock_order_in {
    ($tx:ident, $order:expr) => {
        sqlx::query("UPDATE orders SET version = version WHERE id = $1").bind($order).execute(&mut *$tx).await
    };
}

/// What has been paid (by the resident or the district), refunded and is still held for an
/// order, read inside `$tx`.
macro_rules! holding_in {
    ($tx:ident, $order:expr) => {
        async {
            let order: i64 = $order;
            let (paid, refunded, held): (i64, i64, i64) = sqlx::query_as(
                "SELECT CAST(COALESCE((SELECT SUM(amount_fen) FROM payments WHERE order_id = $1 AND status = 'paid'), 0)
                             + (SELECT subsidy_paid_fen FROM orders WHERE id = $1) AS BIGINT),
                        CAST(COALESCE((SELECT SUM(amount_fen) FROM refunds WHERE order_id = $1), 0)
                             + (SELECT subsidy_returned_fen FROM orders WHERE id = $1) AS BIGINT),
                        CAST(COALESCE((SELECT -balance_fen FROM account_balances WHERE account = $2), 0) AS BIGINT)",
            )
            .bind(order)
            .bind(::jiazheng_core::market::payment::Account::Held(order).key())
            .fetch_one(&mut *$tx)
            .await?;
            ::std::result::Result::<::jiazheng_core::market::payment::Holding, $crate::StoreError>::Ok(::jiazheng_core::market::payment::Holding {
                order_id: order,
                paid_fen: paid,
                refunded_fen: refunded,
                released_fen: paid - refunded - held,
            })
        }
        .await
    };
}
pub(crate) use holding_in;

/// Writes a balanced transaction and moves the balances it touches, inside `$tx`.
macro_rules! post_in {
    ($tx:ident, $txn:expr, $order:expr, $at:expr) => {
        async {
            let txn: &::jiazheng_core::market::payment::Transaction = $txn;
            if txn.is_empty() {
                return ::std::result::Result::<(), $crate::StoreError>::Ok(());
            }
            let at: ::chrono::DateTime<::chrono::Utc> = $at;
            let (id,): (i64,) =
                sqlx::query_as("INSERT INTO journal_txns (kind, order_id, at) VALUES ($1, $2, $3) RETURNING id")
                    .bind(txn.kind().as_str())
                    .bind($order)
                    .bind(at)
                    .fetch_one(&mut *$tx)
                    .await?;
            // All postings in one statement and all balances in another: each statement is a
            // round trip made while the write lock is held (SQLite's single writer).
            let postings: Vec<(String, i64)> = txn.postings().iter().map(|p| (p.account.key(), p.amount_fen)).collect();
            let mut journal = ::sqlx::QueryBuilder::new("INSERT INTO journal (txn_id, account, amount_fen, order_id, kind, at) ");
            journal.push_values(&postings, |mut row, (account, amount)| {
                row.push_bind(id).push_bind(account).push_bind(*amount).push_bind($order).push_bind(txn.kind().as_str()).push_bind(at);
            });
            journal.build().execute(&mut *$tx).await?;
            // One row per account (an upsert may not touch a row twice).
            let mut moves: ::std::collections::BTreeMap<&str, i64> = ::std::collections::BTreeMap::new();
            for (account, amount) in &postings {
                *moves.entry(account.as_str()).or_default() += amount;
            }
            let mut balances = ::sqlx::QueryBuilder::new("INSERT INTO account_balances (account, balance_fen) ");
            balances.push_values(&moves, |mut row, (account, amount)| {
                row.push_bind(*account).push_bind(*amount);
            });
            balances.push(" ON CONFLICT (account) DO UPDATE SET balance_fen = account_balances.balance_fen + excluded.balance_fen");
            balances.build().execute(&mut *$tx).await?;
            ::std::result::Result::<(), $crate::StoreError>::Ok(())
        }
        .await
    };
}
pub(crate) use post_in;

/// Records a refund (`$txn`, built by `Holding::refund` or `Holding::cancel`) of `$amount` from
/// the order's paid payment, inside `$tx`: the refund row and its journal transaction. The
/// provider is asked after commit (`refunds_to_submit`), so a crash in between loses nothing.
macro_rules! refund_in {
    ($tx:ident, $order:expr, $txn:expr, $amount:expr, $reason:expr, $at:expr) => {
        async {
            let order: i64 = $order;
            let at: ::chrono::DateTime<::chrono::Utc> = $at;
            let (payment_id, out_trade_no, earlier): (i64, String, i64) = sqlx::query_as(
                "SELECT p.id, p.out_trade_no, (SELECT COUNT(*) FROM refunds r WHERE r.payment_id = p.id)
                 FROM payments p WHERE p.order_id = $1 AND p.status = 'paid'",
            )
            .bind(order)
            .fetch_one(&mut *$tx)
            .await?;
            sqlx::query(
                "INSERT INTO refunds (out_refund_no, payment_id, order_id, amount_fen, reason, status, created_at)
                 VALUES ($1, $2, $3, $4, $5, 'processing', $6)",
            )
            .bind(::jiazheng_core::market::payment::out_refund_no(&out_trade_no, earlier + 1))
            .bind(payment_id)
            .bind(order)
            .bind($amount)
            .bind($reason)
            .bind(at)
            .execute(&mut *$tx)
            .await?;
            $crate::market::payments::post_in!($tx, $txn, order, at)
        }
        .await
    };
}
pub(crate) use refund_in;

/// Settles what an order holds to whom the split says, inside `$tx` (nothing held, nothing moves).
macro_rules! settle_in {
    ($tx:ident, $order:expr, $at:expr) => {
        $crate::market::payments::settle_part_in!(
            $tx,
            $order,
            |holding: &::jiazheng_core::market::payment::Holding| { holding.held_fen() },
            $at
        )
    };
}
pub(crate) use settle_in;

/// Settles the part of what an order holds that `$due` (given the holding) names, inside `$tx`.
macro_rules! settle_part_in {
    ($tx:ident, $order:expr, $due:expr, $at:expr) => {
        async {
            let order: i64 = $order;
            let mut holding = $crate::market::payments::holding_in!($tx, order)?;
            let amount: i64 = ($due)(&holding);
            if holding.held_fen() <= 0 || amount <= 0 {
                return ::std::result::Result::<(), $crate::StoreError>::Ok(());
            }
            let (agency, worker, fee_percent, kind): (i64, Option<i64>, i64, Option<String>) = sqlx::query_as(
                "SELECT o.agency_id, o.worker_id, a.intermediary_fee_percent,
                    (SELECT b.kind FROM bindings b WHERE b.worker_id = o.worker_id AND b.agency_id = o.agency_id
                     ORDER BY CASE WHEN b.status = 'active' THEN 0 ELSE 1 END, b.id DESC LIMIT 1)
                 FROM orders o JOIN agencies a ON a.id = o.agency_id WHERE o.id = $1",
            )
            .bind(order)
            .fetch_one(&mut *$tx)
            .await?;
            let split = match (worker, kind.as_deref().map(::jiazheng_core::registry::binding::BindingKind::parse)) {
                (Some(worker), Some(Ok(::jiazheng_core::registry::binding::BindingKind::Intermediary))) => {
                    ::jiazheng_core::market::payment::Split::Intermediary {
                        agency,
                        worker,
                        fee_percent: u32::try_from(fee_percent).unwrap_or(100),
                    }
                }
                _ => ::jiazheng_core::market::payment::Split::Agency { agency },
            };
            let txn = holding.settle_part(split, amount);
            $crate::market::payments::post_in!($tx, &txn, order, $at)
        }
        .await
    };
}
pub(crate) use settle_part_in;

/// A cancellation's money, inside `$tx`: the fee to the agency, the rest refunded to whoever
/// paid (the resident through the provider, or the district's budget).
macro_rules! cancel_money_in {
    ($tx:ident, $order:expr, $agency:expr, $fee:expr, $at:expr) => {
        async {
            let order: i64 = $order;
            let at: ::chrono::DateTime<::chrono::Utc> = $at;
            let mut holding = $crate::market::payments::holding_in!($tx, order)?;
            let district = $crate::market::payments::subsidy_district_in!($tx, order)?;
            if holding.held_fen() > 0 {
                let payer = district.as_deref().map_or(
                    ::jiazheng_core::market::payment::Account::Clearing,
                    $crate::market::subsidies::budget_account,
                );
                let (kept, refund) = holding.cancel($agency, $fee, payer);
                $crate::market::payments::post_in!($tx, &kept, order, at)?;
                match (refund, &district) {
                    (Some((txn, amount)), Some(_)) => {
                        $crate::market::payments::return_subsidy_in!($tx, order, &txn, amount, at)?;
                    }
                    (Some((txn, amount)), None) => {
                        $crate::market::payments::refund_in!(
                            $tx,
                            order,
                            &txn,
                            amount,
                            "取消订单退款 refund on cancellation",
                            at
                        )?;
                    }
                    (None, _) => {}
                }
            }
            if district.is_some() {
                // An hours quota keeps the share of the time the district still paid for (a late
                // cancellation's fee), rounded up; what came back gives its hours back.
                sqlx::query(
                    "UPDATE orders SET subsidy_minutes = CASE WHEN subsidy_paid_fen > 0
                         THEN (subsidy_minutes * (subsidy_paid_fen - subsidy_returned_fen) + subsidy_paid_fen - 1) / subsidy_paid_fen
                         ELSE 0 END
                     WHERE id = $1",
                )
                .bind(order)
                .execute(&mut *$tx)
                .await?;
            }
            ::std::result::Result::<(), $crate::StoreError>::Ok(())
        }
        .await
    };
}
pub(crate) use cancel_money_in;

/// The district whose budget paid for the order, if it is subsidised, read inside `$tx`.
macro_rules! subsidy_district_in {
    ($tx:ident, $order:expr) => {
        async {
            let row: Option<(String,)> = sqlx::query_as(
                "SELECT g.district_code FROM orders o JOIN subsidy_grants g ON g.id = o.subsidy_grant_id WHERE o.id = $1",
            )
            .bind($order)
            .fetch_optional(&mut *$tx)
            .await?;
            ::std::result::Result::<Option<String>, $crate::StoreError>::Ok(row.map(|r| r.0))
        }
        .await
    };
}
pub(crate) use subsidy_district_in;

/// Returns money of a subsidised order to the district (`$txn` from `Holding::refund_to`), inside
/// `$tx`: no provider is involved, so the journal and the order's own count are all.
macro_rules! return_subsidy_in {
    ($tx:ident, $order:expr, $txn:expr, $amount:expr, $at:expr) => {
        async {
            sqlx::query("UPDATE orders SET subsidy_returned_fen = subsidy_returned_fen + $1 WHERE id = $2")
                .bind($amount)
                .bind($order)
                .execute(&mut *$tx)
                .await?;
            $crate::market::payments::post_in!($tx, $txn, $order, $at)
        }
        .await
    };
}
pub(crate) use return_subsidy_in;

const SELECT_PAYMENT: &str = "SELECT id, out_trade_no, order_id, amount_fen, description, status, transaction_id,
    pay_url, created_at, paid_at FROM payments";
const SELECT_REFUND: &str = "SELECT id, out_refund_no, payment_id, order_id, amount_fen, reason, status, refund_id,
    created_at, succeeded_at FROM refunds";

impl Store {
    /// The resident's payment order for a booked order: the pending one again if there is one
    /// (paying twice is the same payment order), else a new one for the order's total.
    pub async fn open_payment(&self, order_id: i64, who: &Principal) -> Result<PaymentRow> {
        let (order, party) = self.order_for(order_id, who).await?;
        if party != Party::Resident {
            return Err(StoreError::Refused("only the resident pays".into()));
        }
        if order.is_subsidised() {
            return Err(invalid(
                "step",
                Invalid::new("paid_by_subsidy", "该订单由政府补贴支付，无需您付款", "the district pays for this order"),
            ));
        }
        if !matches!(order.status(), OrderStatus::Requested | OrderStatus::Confirmed | OrderStatus::Assigned) {
            return Err(invalid(
                "step",
                Invalid::new("not_payable", "该订单当前无需支付", "this order is not waiting for payment"),
            ));
        }
        let description = format!("{} {}", order.agency_name, order.number());
        let description: String = description.chars().take(120).collect();
        let at = now();
        let outcome = write_tx!(self, tx => async {
            lock_order_in!(tx, order_id)?;
            let live: Option<(i64, String)> = sqlx::query_as(
                "SELECT id, status FROM payments WHERE order_id = $1 AND status IN ('pending', 'paid')",
            ).bind(order_id).fetch_optional(&mut *tx).await?;
            match live {
                Some((_, status)) if status == "paid" => {
                    return Err(StoreError::Conflict { what: "already_paid", existing_id: None });
                }
                Some((id, _)) => return Ok(id),
                None => {}
            }
            let (earlier,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM payments WHERE order_id = $1")
                .bind(order_id).fetch_one(&mut *tx).await?;
            let (id,): (i64,) = sqlx::query_as(
                "INSERT INTO payments (out_trade_no, order_id, amount_fen, description, status, created_at)
                 VALUES ($1, $2, $3, $4, 'pending', $5) RETURNING id",
            ).bind(payment::out_trade_no(order_id, earlier + 1)).bind(order_id).bind(order.total_fen)
            .bind(&description).bind(at).fetch_one(&mut *tx).await
            .map_err(StoreError::conflict_on("payment_exists"))?;
            Ok(id)
        }.await)?;
        self.payment(outcome).await
    }

    pub async fn payment(&self, id: i64) -> Result<PaymentRow> {
        let sql = format!("{SELECT_PAYMENT} WHERE id = $1");
        on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(p).await?)
            .ok_or(StoreError::NotFound)
    }

    pub async fn payment_by_number(&self, out_trade_no: &str) -> Result<PaymentRow> {
        let sql = format!("{SELECT_PAYMENT} WHERE out_trade_no = $1");
        on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(out_trade_no).fetch_optional(p).await?)
            .ok_or(StoreError::NotFound)
    }

    /// The order's live payment (pending or paid), else its latest.
    pub async fn payment_of_order(&self, order_id: i64) -> Result<Option<PaymentRow>> {
        let sql = format!(
            "{SELECT_PAYMENT} WHERE order_id = $1 ORDER BY CASE WHEN status = 'closed' THEN 1 ELSE 0 END, id DESC LIMIT 1"
        );
        Ok(on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(order_id).fetch_optional(p).await?))
    }

    pub async fn refunds_of_order(&self, order_id: i64) -> Result<Vec<RefundRow>> {
        let sql = format!("{SELECT_REFUND} WHERE order_id = $1 ORDER BY id");
        Ok(on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(order_id).fetch_all(p).await?))
    }

    /// What the order holds now, in fen.
    pub async fn held_for_order(&self, order_id: i64) -> Result<Holding> {
        on_pool!(self, p => async {
            let mut tx = p.begin().await?;
            let holding = holding_in!(tx, order_id)?;
            tx.commit().await?;
            Ok(holding)
        }.await)
    }

    /// Keeps the provider's pay URL with the payment order.
    pub async fn set_pay_url(&self, payment_id: i64, url: &str) -> Result<()> {
        on_pool!(self, p => sqlx::query("UPDATE payments SET pay_url = $1 WHERE id = $2 AND status = 'pending'")
            .bind(url).bind(payment_id).execute(p).await.map(|_| ())?);
        Ok(())
    }

    /// Applies the provider's word that a payment succeeded, once: an unknown number is
    /// `NotFound`, a different amount is refused, a second notice of the same transaction changes
    /// nothing. Money paid for an order cancelled meanwhile is refunded at once, and money paid
    /// for one already completed is settled at once.
    pub async fn apply_payment(&self, notice: &PaidNotice) -> Result<Applied> {
        // A copy of a notification already applied is answered without the write lock: a paid
        // payment stays paid with its transaction, so what this read sees stays true.
        let seen: Option<(i64, String, Option<String>)> = on_pool!(self, p => sqlx::query_as(
            "SELECT amount_fen, status, transaction_id FROM payments WHERE out_trade_no = $1",
        ).bind(&notice.out_trade_no).fetch_optional(p).await?);
        match seen {
            None => return Err(StoreError::NotFound),
            Some((amount, status, Some(known)))
                if status == "paid" && known == notice.transaction_id && amount == notice.amount_fen =>
            {
                return Ok(Applied::Already);
            }
            Some(_) => {}
        }
        let at = now();
        write_tx!(self, tx => async {
            let found: Option<(i64, i64, i64, Option<String>)> = sqlx::query_as(
                "SELECT id, order_id, amount_fen, transaction_id FROM payments WHERE out_trade_no = $1",
            ).bind(&notice.out_trade_no).fetch_optional(&mut *tx).await?;
            let Some((id, order_id, amount, _)) = found else { return Err(StoreError::NotFound) };
            if amount != notice.amount_fen {
                return Err(invalid("amount", Invalid::new(
                    "amount_mismatch",
                    "通知金额与支付单金额不符",
                    "the notified amount differs from the payment order's",
                )));
            }
            // Takes the order's row (as `lock_order_in!`) and reads what happens to the money next.
            let (status, fee, agency): (String, Option<i64>, i64) = sqlx::query_as(
                "UPDATE orders SET version = version WHERE id = $1 RETURNING status, cancel_fee_fen, agency_id",
            ).bind(order_id).fetch_one(&mut *tx).await?;
            let mut holding = holding_in!(tx, order_id)?;
            let moved = sqlx::query(
                "UPDATE payments SET status = 'paid', transaction_id = $1, paid_at = $2 WHERE id = $3 AND status <> 'paid'",
            ).bind(&notice.transaction_id).bind(notice.paid_at).bind(id).execute(&mut *tx).await
            .map_err(StoreError::conflict_on("transaction_id"))?;
            if moved.rows_affected() == 0 {
                let (known,): (Option<String>,) = sqlx::query_as("SELECT transaction_id FROM payments WHERE id = $1")
                    .bind(id).fetch_one(&mut *tx).await?;
                return if known.as_deref() == Some(notice.transaction_id.as_str()) {
                    Ok(Applied::Already)
                } else {
                    Err(StoreError::Conflict { what: "paid_by_another_transaction", existing_id: Some(id) })
                };
            }
            let txn = holding.pay(amount).map_err(|e| invalid("amount", e))?;
            post_in!(tx, &txn, order_id, at)?;
            match OrderStatus::parse(&status) {
                Ok(OrderStatus::Cancelled) => {
                    cancel_money_in!(tx, order_id, agency, fee.unwrap_or(0), at)?;
                }
                Ok(OrderStatus::Completed | OrderStatus::Rated) => settle_in!(tx, order_id, at)?,
                _ => {}
            }
            Ok(Applied::Now)
        }.await)
    }

    /// Applies the provider's word that a refund succeeded, once.
    pub async fn apply_refund(&self, notice: &RefundedNotice) -> Result<Applied> {
        write_tx!(self, tx => async {
            let found: Option<(i64, i64)> = sqlx::query_as(
                "SELECT id, amount_fen FROM refunds WHERE out_refund_no = $1",
            ).bind(&notice.out_refund_no).fetch_optional(&mut *tx).await?;
            let Some((id, amount)) = found else { return Err(StoreError::NotFound) };
            if amount != notice.amount_fen {
                return Err(invalid("amount", Invalid::new(
                    "amount_mismatch",
                    "通知金额与退款单金额不符",
                    "the notified amount differs from the refund's",
                )));
            }
            let moved = sqlx::query(
                "UPDATE refunds SET status = 'succeeded', refund_id = $1, succeeded_at = $2
                 WHERE id = $3 AND status = 'processing'",
            ).bind(&notice.refund_id).bind(notice.refunded_at).bind(id).execute(&mut *tx).await
            .map_err(StoreError::conflict_on("refund_id"))?;
            if moved.rows_affected() == 0 {
                let (known,): (Option<String>,) = sqlx::query_as("SELECT refund_id FROM refunds WHERE id = $1")
                    .bind(id).fetch_one(&mut *tx).await?;
                return if known.as_deref() == Some(notice.refund_id.as_str()) {
                    Ok(Applied::Already)
                } else {
                    Err(StoreError::Conflict { what: "refunded_by_another_refund", existing_id: Some(id) })
                };
            }
            Ok(Applied::Now)
        }.await)
    }

    /// An agency (or a regulator) returns part or all of what was paid for an order to whoever
    /// paid, from what is still held first and then, for a service already settled, from the
    /// agency's account:
    /// the resident through the provider (the refund is returned), or for a subsidised order the
    /// district's budget (`None`: no provider is involved).
    pub async fn refund_order(
        &self,
        order_id: i64,
        who: &Principal,
        amount_fen: i64,
        reason: &str,
    ) -> Result<Option<RefundRow>> {
        let (_, party) = self.order_for(order_id, who).await?;
        if party == Party::Resident {
            return Err(StoreError::Refused("a resident asks the agency for a refund".into()));
        }
        let reason = jiazheng_core::field::required_text(reason, MAX_REASON_CHARS).map_err(|e| invalid("reason", e))?;
        let at = now();
        let to_provider = write_tx!(self, tx => async {
            lock_order_in!(tx, order_id)?;
            let mut holding = holding_in!(tx, order_id)?;
            if holding.paid_fen == 0 {
                return Err(invalid("amount_fen", Invalid::new("not_paid", "该订单尚未支付", "the order has not been paid")));
            }
            let (agency,): (i64,) = sqlx::query_as("SELECT agency_id FROM orders WHERE id = $1")
                .bind(order_id).fetch_one(&mut *tx).await?;
            match subsidy_district_in!(tx, order_id)? {
                Some(district) => {
                    let txn = holding
                        .refund_settled(crate::market::subsidies::budget_account(&district), agency, amount_fen)
                        .map_err(|e| invalid("amount_fen", e))?;
                    return_subsidy_in!(tx, order_id, &txn, amount_fen, at)?;
                    // No refund row (no provider): the reason and who gave it are kept with the order.
                    sqlx::query(
                        "INSERT INTO order_events (order_id, step, from_status, to_status, party, actor_account_id, reason, at)
                         SELECT id, 'refund', status, status, $2, $3, $4, $5 FROM orders WHERE id = $1",
                    ).bind(order_id).bind(party.as_str()).bind(who.account_id)
                    .bind(format!("{} {}", jiazheng_core::market::payment::yuan(amount_fen), reason))
                    .bind(at).execute(&mut *tx).await?;
                    Ok(false)
                }
                None => {
                    let txn = holding.refund_settled(Account::Clearing, agency, amount_fen)
                        .map_err(|e| invalid("amount_fen", e))?;
                    refund_in!(tx, order_id, &txn, amount_fen, &reason, at)?;
                    Ok(true)
                }
            }
        }.await)?;
        if !to_provider {
            return Ok(None);
        }
        self.refunds_of_order(order_id).await?.pop().map(Some).ok_or(StoreError::NotFound)
    }

    /// Settles the periods long services have run by `today` (Beijing): each whole week of a
    /// package in service releases its share of what is held; the rest is settled on completion.
    /// Returns how many orders had money released.
    pub async fn settle_periods(&self, today: NaiveDate) -> Result<usize> {
        use jiazheng_core::market::payment::{SETTLEMENT_PERIOD_DAYS, due_by_periods};
        let cutoff = day_start(today - chrono::Duration::days(SETTLEMENT_PERIOD_DAYS - 1));
        let due: Vec<(i64, DateTime<Utc>, DateTime<Utc>)> = on_pool!(self, p => sqlx::query_as(
            "SELECT id, starts_at, ends_at FROM orders WHERE status = 'in_service' AND mode = 'package'
               AND starts_at < $1 ORDER BY id",
        ).bind(cutoff).fetch_all(p).await?);
        let mut released = 0;
        for (order_id, starts_at, ends_at) in due {
            let total_days = (ends_at - starts_at).num_days();
            let elapsed = (today - jiazheng_core::calendar::beijing_date(starts_at)).num_days();
            let at = now();
            let moved = write_tx!(self, tx => async {
                lock_order_in!(tx, order_id)?;
                let (status,): (String,) = sqlx::query_as("SELECT status FROM orders WHERE id = $1")
                    .bind(order_id).fetch_one(&mut *tx).await?;
                if status != OrderStatus::InService.as_str() {
                    return Ok(false);
                }
                let before = holding_in!(tx, order_id)?.released_fen;
                settle_part_in!(tx, order_id, |h: &Holding| {
                    due_by_periods(h.paid_fen - h.refunded_fen, total_days, elapsed) - h.released_fen
                }, at)?;
                Ok(holding_in!(tx, order_id)?.released_fen > before)
            }.await)?;
            released += usize::from(moved);
        }
        Ok(released)
    }

    /// Refunds not yet sent to the provider, oldest first.
    pub async fn refunds_to_submit(&self, limit: i64) -> Result<Vec<RefundToSubmit>> {
        Ok(on_pool!(self, p => sqlx::query_as(
            "SELECT r.id, r.out_refund_no, p.out_trade_no, r.amount_fen, p.amount_fen AS total_fen
             FROM refunds r JOIN payments p ON p.id = r.payment_id
             WHERE r.submitted_at IS NULL ORDER BY r.id LIMIT $1",
        ).bind(limit).fetch_all(p).await?))
    }

    pub async fn mark_refund_submitted(&self, id: i64) -> Result<()> {
        on_pool!(self, p => sqlx::query("UPDATE refunds SET submitted_at = $1 WHERE id = $2 AND submitted_at IS NULL")
            .bind(now()).bind(id).execute(p).await.map(|_| ())?);
        Ok(())
    }

    /// Checks every journal transaction sums to zero and every balance equals its journal rows.
    pub async fn audit_journal(&self) -> Result<JournalAudit> {
        let (transactions,): (i64,) =
            on_pool!(self, p => sqlx::query_as("SELECT COUNT(*) FROM journal_txns").fetch_one(p).await?);
        let unbalanced: Vec<(i64, i64)> = on_pool!(self, p => sqlx::query_as(
            "SELECT txn_id, CAST(SUM(amount_fen) AS BIGINT) FROM journal GROUP BY txn_id HAVING SUM(amount_fen) <> 0",
        ).fetch_all(p).await?);
        let mismatched: Vec<(String, i64, i64)> = on_pool!(self, p => sqlx::query_as(
            "SELECT COALESCE(j.account, b.account), CAST(COALESCE(j.total, 0) AS BIGINT), COALESCE(b.balance_fen, 0)
             FROM (SELECT account, SUM(amount_fen) AS total FROM journal GROUP BY account) j
             FULL OUTER JOIN account_balances b ON b.account = j.account
             WHERE COALESCE(j.total, 0) <> COALESCE(b.balance_fen, 0)",
        ).fetch_all(p).await?);
        Ok(JournalAudit { transactions, unbalanced, mismatched })
    }

    /// A balance by account.
    pub async fn balance(&self, account: Account) -> Result<i64> {
        let row: Option<(i64,)> = on_pool!(self, p => sqlx::query_as(
            "SELECT balance_fen FROM account_balances WHERE account = $1",
        ).bind(account.key()).fetch_optional(p).await?);
        Ok(row.map_or(0, |r| r.0))
    }

    /// The platform's side of a Beijing day's bill: payments that succeeded that day and refunds
    /// asked for that day, with their status.
    pub async fn platform_bill(&self, day: NaiveDate) -> Result<Vec<BillLine>> {
        let (from, to) = (day_start(day), day_start(day.succ_opt().unwrap_or(day)));
        let rows: Vec<BillRow> = on_pool!(self, p => sqlx::query_as(
            "SELECT paid_at AS at, 'payment' AS kind, out_trade_no, COALESCE(transaction_id, '') AS transaction_id,
                '' AS out_refund_no, '' AS refund_id, amount_fen, 'SUCCESS' AS status, id
             FROM payments WHERE paid_at >= $1 AND paid_at < $2
             UNION ALL
             SELECT r.created_at AS at, 'refund' AS kind, p.out_trade_no, COALESCE(p.transaction_id, '') AS transaction_id,
                r.out_refund_no, COALESCE(r.refund_id, '') AS refund_id, r.amount_fen,
                CASE WHEN r.status = 'succeeded' THEN 'SUCCESS' ELSE 'PROCESSING' END AS status, r.id
             FROM refunds r JOIN payments p ON p.id = r.payment_id WHERE r.created_at >= $1 AND r.created_at < $2
             ORDER BY at, id",
        ).bind(from).bind(to).fetch_all(p).await?);
        Ok(rows.into_iter().map(BillRow::into_line).collect())
    }

    /// Movements on an agency's account in a Beijing month (`first` is the month's first day).
    pub async fn agency_statement(&self, agency: i64, first: NaiveDate) -> Result<Vec<StatementLine>> {
        let next = first.checked_add_months(chrono::Months::new(1)).unwrap_or(first);
        Ok(on_pool!(self, p => sqlx::query_as(
            "SELECT j.at, j.order_id, j.kind, o.item, -j.amount_fen AS amount_fen FROM journal j
             JOIN orders o ON o.id = j.order_id
             WHERE j.account = $1 AND j.at >= $2 AND j.at < $3 ORDER BY j.at, j.id",
        ).bind(Account::Agency(agency).key()).bind(day_start(first)).bind(day_start(next)).fetch_all(p).await?))
    }
}
