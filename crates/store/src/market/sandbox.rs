//! The built-in sandbox payment provider's own records: its transactions and refunds, and the
//! notifications it owes the platform with their delivery attempts. They live in the database
//! (not in memory) so that a restart loses neither a payment nor a notification still to send.

use chrono::{DateTime, NaiveDate, Utc};
use jiazheng_core::FieldErrors;
use jiazheng_core::field::Invalid;
use jiazheng_core::market::payment::{BillLine, next_attempt};
use jiazheng_core::market::slot::day_start;
use serde_json::json;

use super::payments::BillRow;
use super::write_tx;
use crate::crypto::random_bytes;
use crate::{Result, Store, StoreError, now, on_pool};

row! {
    #[derive(Debug, Clone)]
    pub struct SandboxTransaction {
        pub id: i64,
        pub out_trade_no: String,
        pub transaction_id: String,
        pub amount_fen: i64,
        pub description: String,
        pub notify_url: String,
        pub trade_state: String,
        pub created_at: DateTime<Utc>,
        pub success_time: Option<DateTime<Utc>>,
    }
}

row! {
    #[derive(Debug, Clone)]
    pub struct SandboxRefund {
        pub id: i64,
        pub out_refund_no: String,
        pub refund_id: String,
        pub amount_fen: i64,
        pub status: String,
        pub created_at: DateTime<Utc>,
    }
}

row! {
    /// A notification due for delivery: its event and the resource before encryption.
    #[derive(Debug, Clone)]
    pub struct SandboxNotification {
        pub id: i64,
        pub event_type: String,
        pub resource: String,
        pub notify_url: String,
        pub attempts: i64,
        pub created_at: DateTime<Utc>,
    }
}

const SELECT_TXN: &str = "SELECT id, out_trade_no, transaction_id, amount_fen, description, notify_url, trade_state,
    created_at, success_time FROM sandbox_transactions";

fn invalid(field: &str, invalid: Invalid) -> StoreError {
    StoreError::Invalid(FieldErrors(vec![invalid.at(field)]))
}

/// A provider-side number: a prefix, the Beijing date and random digits, as WeChat's look.
fn provider_number(prefix: &str, at: DateTime<Utc>) -> String {
    let digits = u64::from_le_bytes(random_bytes::<8>()) % 10_u64.pow(16);
    format!("{prefix}{}{digits:016}", jiazheng_core::calendar::beijing_date(at).format("%Y%m%d"))
}

fn rfc3339_beijing(at: DateTime<Utc>) -> String {
    at.with_timezone(&jiazheng_core::calendar::beijing()).to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
}

impl Store {
    /// A payment order at the sandbox, idempotent on `out_trade_no` (the same number with another
    /// amount is refused, as WeChat refuses it).
    pub async fn sandbox_create(
        &self,
        out_trade_no: &str,
        amount_fen: i64,
        description: &str,
        notify_url: &str,
    ) -> Result<SandboxTransaction> {
        let at = now();
        on_pool!(self, p => sqlx::query(
            "INSERT INTO sandbox_transactions (out_trade_no, transaction_id, amount_fen, description, notify_url,
                 trade_state, created_at)
             VALUES ($1, $2, $3, $4, $5, 'NOTPAY', $6) ON CONFLICT (out_trade_no) DO NOTHING",
        ).bind(out_trade_no).bind(provider_number("4200", at)).bind(amount_fen).bind(description).bind(notify_url)
        .bind(at).execute(p).await.map(|_| ())?);
        let txn = self.sandbox_by_number(out_trade_no).await?;
        if txn.amount_fen != amount_fen {
            return Err(StoreError::Conflict { what: "out_trade_no_reused", existing_id: Some(txn.id) });
        }
        Ok(txn)
    }

    pub async fn sandbox_transaction(&self, id: i64) -> Result<SandboxTransaction> {
        let sql = format!("{SELECT_TXN} WHERE id = $1");
        on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(p).await?)
            .ok_or(StoreError::NotFound)
    }

    pub async fn sandbox_by_number(&self, out_trade_no: &str) -> Result<SandboxTransaction> {
        let sql = format!("{SELECT_TXN} WHERE out_trade_no = $1");
        on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(out_trade_no).fetch_optional(p).await?)
            .ok_or(StoreError::NotFound)
    }

    /// The payer pressed 支付: the transaction succeeds and its notification is queued, in one
    /// transaction. Paying again changes nothing.
    pub async fn sandbox_pay(&self, id: i64) -> Result<SandboxTransaction> {
        let txn = self.sandbox_transaction(id).await?;
        let at = now();
        let resource = json!({
            "mchid": "1900000001",
            "appid": "wxjiazhengsandbox",
            "out_trade_no": txn.out_trade_no,
            "transaction_id": txn.transaction_id,
            "trade_type": "NATIVE",
            "trade_state": "SUCCESS",
            "trade_state_desc": "支付成功",
            "success_time": rfc3339_beijing(at),
            "amount": { "total": txn.amount_fen, "payer_total": txn.amount_fen, "currency": "CNY", "payer_currency": "CNY" },
        })
        .to_string();
        write_tx!(self, tx => async {
            let moved = sqlx::query(
                "UPDATE sandbox_transactions SET trade_state = 'SUCCESS', success_time = $1
                 WHERE id = $2 AND trade_state = 'NOTPAY'",
            ).bind(at).bind(id).execute(&mut *tx).await?;
            if moved.rows_affected() == 1 {
                sqlx::query(
                    "INSERT INTO sandbox_notifications (event_type, resource, notify_url, next_attempt_at, created_at)
                     VALUES ('TRANSACTION.SUCCESS', $1, $2, $3, $3)",
                ).bind(&resource).bind(&txn.notify_url).bind(at).execute(&mut *tx).await?;
            }
            Ok(())
        }.await)?;
        self.sandbox_transaction(id).await
    }

    /// A refund at the sandbox, idempotent on `out_refund_no`; refunds of a transaction never add
    /// up to more than it. Like WeChat Pay, the refund is accepted as PROCESSING; it succeeds a
    /// little later (`sandbox_complete_refunds`), which queues the REFUND.SUCCESS notification.
    pub async fn sandbox_refund(
        &self,
        out_refund_no: &str,
        out_trade_no: &str,
        amount_fen: i64,
    ) -> Result<SandboxRefund> {
        let at = now();
        let refund_id = provider_number("5030", at);
        write_tx!(self, tx => async {
            let seen: Option<(i64,)> = sqlx::query_as("SELECT amount_fen FROM sandbox_refunds WHERE out_refund_no = $1")
                .bind(out_refund_no).fetch_optional(&mut *tx).await?;
            if let Some((amount,)) = seen {
                return if amount == amount_fen {
                    Ok(())
                } else {
                    Err(StoreError::Conflict { what: "out_refund_no_reused", existing_id: None })
                };
            }
            let found: Option<(i64, String, i64, i64)> = sqlx::query_as(
                "SELECT t.id, t.trade_state, t.amount_fen,
                    CAST(COALESCE((SELECT SUM(r.amount_fen) FROM sandbox_refunds r WHERE r.sandbox_transaction_id = t.id), 0) AS BIGINT)
                 FROM sandbox_transactions t WHERE t.out_trade_no = $1",
            ).bind(out_trade_no).fetch_optional(&mut *tx).await?;
            let Some((txn_id, state, total, refunded)) = found else { return Err(StoreError::NotFound) };
            if state != "SUCCESS" {
                return Err(invalid("out_trade_no", Invalid::new("not_paid", "订单未支付", "the order was not paid")));
            }
            if amount_fen <= 0 || refunded + amount_fen > total {
                return Err(invalid("amount", Invalid::new(
                    "refund_above_paid", "退款金额超过可退金额", "the refund is more than can be refunded",
                )));
            }
            sqlx::query(
                "INSERT INTO sandbox_refunds (out_refund_no, refund_id, sandbox_transaction_id, amount_fen, status, created_at)
                 VALUES ($1, $2, $3, $4, 'PROCESSING', $5)",
            ).bind(out_refund_no).bind(&refund_id).bind(txn_id).bind(amount_fen).bind(at).execute(&mut *tx).await?;
            Ok(())
        }.await)?;
        on_pool!(self, p => sqlx::query_as(
            "SELECT id, out_refund_no, refund_id, amount_fen, status, created_at FROM sandbox_refunds WHERE out_refund_no = $1",
        ).bind(out_refund_no).fetch_one(p).await.map_err(StoreError::from))
    }

    /// Refunds asked for before `asked_before` succeed now, each queuing its REFUND.SUCCESS
    /// notification to the payment's notify address. Returns how many succeeded.
    pub async fn sandbox_complete_refunds(&self, asked_before: DateTime<Utc>, limit: i64) -> Result<usize> {
        let at = now();
        write_tx!(self, tx => async {
            type Processing = (i64, String, String, i64, String, String, i64, String);
            let due: Vec<Processing> = sqlx::query_as(
                "SELECT r.id, r.out_refund_no, r.refund_id, r.amount_fen, t.out_trade_no, t.transaction_id,
                    t.amount_fen, t.notify_url
                 FROM sandbox_refunds r JOIN sandbox_transactions t ON t.id = r.sandbox_transaction_id
                 WHERE r.status = 'PROCESSING' AND r.created_at < $1 ORDER BY r.id LIMIT $2",
            ).bind(asked_before).bind(limit).fetch_all(&mut *tx).await?;
            for (id, out_refund_no, refund_id, amount, out_trade_no, transaction_id, total, notify_url) in &due {
                sqlx::query("UPDATE sandbox_refunds SET status = 'SUCCESS', success_time = $1 WHERE id = $2")
                    .bind(at).bind(id).execute(&mut *tx).await?;
                let resource = json!({
                    "mchid": "1900000001",
                    "out_trade_no": out_trade_no,
                    "transaction_id": transaction_id,
                    "out_refund_no": out_refund_no,
                    "refund_id": refund_id,
                    "refund_status": "SUCCESS",
                    "success_time": rfc3339_beijing(at),
                    "amount": { "total": total, "refund": amount, "payer_total": total, "payer_refund": amount },
                }).to_string();
                sqlx::query(
                    "INSERT INTO sandbox_notifications (event_type, resource, notify_url, next_attempt_at, created_at)
                     VALUES ('REFUND.SUCCESS', $1, $2, $3, $3)",
                ).bind(&resource).bind(notify_url).bind(at).execute(&mut *tx).await?;
            }
            Ok(due.len())
        }.await)
    }

    /// Notifications whose time has come, oldest first.
    pub async fn sandbox_due(&self, at: DateTime<Utc>, limit: i64) -> Result<Vec<SandboxNotification>> {
        Ok(on_pool!(self, p => sqlx::query_as(
            "SELECT id, event_type, resource, notify_url, attempts, created_at FROM sandbox_notifications
             WHERE delivered_at IS NULL AND gave_up_at IS NULL AND next_attempt_at <= $1
             ORDER BY next_attempt_at, id LIMIT $2",
        ).bind(at).bind(limit).fetch_all(p).await?))
    }

    /// How many notifications wait for delivery (given up ones aside).
    pub async fn sandbox_undelivered(&self) -> Result<i64> {
        let (n,): (i64,) = on_pool!(self, p => sqlx::query_as(
            "SELECT COUNT(*) FROM sandbox_notifications WHERE delivered_at IS NULL AND gave_up_at IS NULL",
        ).fetch_one(p).await?);
        Ok(n)
    }

    pub async fn sandbox_delivered(&self, id: i64) -> Result<()> {
        on_pool!(self, p => sqlx::query(
            "UPDATE sandbox_notifications SET delivered_at = $1, attempts = attempts + 1, next_attempt_at = NULL
             WHERE id = $2",
        ).bind(now()).bind(id).execute(p).await.map(|_| ())?);
        Ok(())
    }

    /// A delivery that got no 2xx: the next try by the schedule, or none once it is spent.
    pub async fn sandbox_failed(&self, note: &SandboxNotification, error: &str) -> Result<()> {
        let attempts = note.attempts + 1;
        let at = now();
        let next = u32::try_from(attempts).ok().and_then(next_attempt).and_then(|d| chrono::Duration::from_std(d).ok());
        let error: String = error.chars().take(200).collect();
        on_pool!(self, p => sqlx::query(
            "UPDATE sandbox_notifications SET attempts = $1, next_attempt_at = $2, gave_up_at = $3, last_error = $4
             WHERE id = $5",
        ).bind(attempts).bind(next.map(|d| at + d)).bind(next.is_none().then_some(at)).bind(error).bind(note.id)
        .execute(p).await.map(|_| ())?);
        Ok(())
    }

    /// The sandbox's trade bill for a Beijing day: payments that succeeded and refunds asked for.
    pub async fn sandbox_bill(&self, day: NaiveDate) -> Result<Vec<BillLine>> {
        let (from, to) = (day_start(day), day_start(day.succ_opt().unwrap_or(day)));
        let rows: Vec<BillRow> = on_pool!(self, p => sqlx::query_as(
            "SELECT success_time AS at, 'payment' AS kind, out_trade_no, transaction_id, '' AS out_refund_no,
                '' AS refund_id, amount_fen, 'SUCCESS' AS status, id
             FROM sandbox_transactions WHERE success_time >= $1 AND success_time < $2
             UNION ALL
             SELECT r.created_at AS at, 'refund' AS kind, t.out_trade_no, t.transaction_id, r.out_refund_no,
                r.refund_id, r.amount_fen, r.status, r.id
             FROM sandbox_refunds r JOIN sandbox_transactions t ON t.id = r.sandbox_transaction_id
             WHERE r.created_at >= $1 AND r.created_at < $2
             ORDER BY at, id",
        ).bind(from).bind(to).fetch_all(p).await?);
        Ok(rows.into_iter().map(BillRow::into_line).collect())
    }
}
