//! Synthetic market data in bulk, for demos and benchmarks: menus for agencies, shifts for their
//! workers, residents, and orders with the bookings they hold. Each call is one transaction per
//! batch; nothing here checks the rules the live paths check (the generator keeps to them).

use chrono::{DateTime, Utc};
use jiazheng_core::market::OrderStatus;
use jiazheng_core::market::menu::MenuDraft;
use jiazheng_core::market::payment::{self, Account};
use jiazheng_core::market::slot::Shift;
use sqlx::QueryBuilder;

use crate::{Result, Store, now, on_pool};

/// One synthetic order; with a worker and a live status, it holds the worker's time.
#[derive(Debug, Clone)]
pub struct BulkOrder {
    pub resident: i64,
    pub menu_item_id: i64,
    pub quantity: i64,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub worker: Option<i64>,
    pub community: String,
    pub status: OrderStatus,
}

row! {
    /// What the generator needs to know of a menu item.
    #[derive(Debug, Clone)]
    pub struct MenuFacts {
        pub id: i64,
        pub agency_id: i64,
        pub item: String,
        pub mode: String,
        pub level: String,
        pub amount: i64,
        pub price_fen: i64,
        pub price_id: i64,
        pub service_bit: i64,
    }
}

const BATCH: usize = 1000;

impl Store {
    /// Publishes menu items at their first price.
    pub async fn bulk_menus(&self, menus: &[(i64, MenuDraft)], by: i64) -> Result<()> {
        let at = now();
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            for chunk in menus.chunks(BATCH) {
                let mut qb = QueryBuilder::new(
                    "INSERT INTO menu_items (agency_id, item, service_bit, mode, amount, level, price_fen, description,
                        free_cancel_hours, cancel_fee_percent, price_since, created_at) ",
                );
                qb.push_values(chunk, |mut row, (agency, d)| {
                    row.push_bind(*agency).push_bind(d.item.as_str()).push_bind(d.item.service().bit())
                        .push_bind(d.unit.mode().as_str()).push_bind(i64::from(d.unit.amount()))
                        .push_bind(d.level.map_or("", |l| l.as_str())).push_bind(d.price_fen)
                        .push_bind(d.description.clone()).push_bind(i64::from(d.terms.free_hours))
                        .push_bind(i64::from(d.terms.fee_percent)).push_bind(at).push_bind(at);
                });
                qb.push(" ON CONFLICT DO NOTHING");
                qb.build().execute(&mut *tx).await?;
            }
            sqlx::query(
                "INSERT INTO menu_prices (menu_item_id, price_fen, effective_from, set_by)
                 SELECT m.id, m.price_fen, m.price_since, $1 FROM menu_items m
                 WHERE NOT EXISTS (SELECT 1 FROM menu_prices p WHERE p.menu_item_id = m.id)",
            ).bind(by).execute(&mut *tx).await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// Every agency's id, in order.
    pub async fn agency_ids(&self) -> Result<Vec<i64>> {
        let rows: Vec<(i64,)> =
            on_pool!(self, p => sqlx::query_as("SELECT id FROM agencies ORDER BY id").fetch_all(p).await?);
        Ok(rows.into_iter().map(|(id,)| id).collect())
    }

    /// The account synthetic data is recorded by: a disabled system account, made once.
    pub async fn system_account(&self) -> Result<i64> {
        let found: Option<(i64,)> = on_pool!(self, p => sqlx::query_as(
            "SELECT id FROM accounts WHERE username = 'platform-generator'").fetch_optional(p).await?);
        if let Some((id,)) = found {
            return Ok(id);
        }
        let (id,): (i64,) = on_pool!(self, p => sqlx::query_as(
            "INSERT INTO accounts (username, display_name, password_hash, role, disabled, created_at)
             VALUES ('platform-generator', '演示数据生成', '!', 'system_admin', TRUE, $1) RETURNING id",
        ).bind(now()).fetch_one(p).await?);
        Ok(id)
    }

    /// Every menu item on sale, with its current price row.
    pub async fn menu_facts(&self) -> Result<Vec<MenuFacts>> {
        Ok(on_pool!(self, p => sqlx::query_as(
            "SELECT m.id, m.agency_id, m.item, m.mode, m.level, m.amount, m.price_fen,
                    (SELECT MAX(p.id) FROM menu_prices p WHERE p.menu_item_id = m.id) AS price_id, m.service_bit
             FROM menu_items m WHERE m.withdrawn_at IS NULL ORDER BY m.id",
        ).fetch_all(p).await?))
    }

    /// Workers with an active binding, with the agency and the services they offer, in id order
    /// from `after`, `limit` at a time.
    pub async fn bound_workers(&self, after: i64, limit: i64) -> Result<Vec<(i64, i64, i64)>> {
        Ok(on_pool!(self, p => sqlx::query_as(
            "SELECT w.id, MIN(b.agency_id), w.services FROM workers w JOIN bindings b ON b.worker_id = w.id
             WHERE b.status = 'active' AND w.id > $1 GROUP BY w.id, w.services ORDER BY w.id LIMIT $2",
        ).bind(after).bind(limit).fetch_all(p).await?))
    }

    /// Weekly shifts: (worker, weekday, shift).
    pub async fn bulk_shifts(&self, rows: &[(i64, u8, Shift)], by: i64) -> Result<()> {
        let at = now();
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            for chunk in rows.chunks(BATCH) {
                let mut qb = QueryBuilder::new(
                    "INSERT INTO worker_shifts (worker_id, weekday, from_minute, to_minute, set_by, updated_at) ",
                );
                qb.push_values(chunk, |mut row, (worker, day, shift)| {
                    row.push_bind(*worker).push_bind(i64::from(*day)).push_bind(i64::from(shift.from))
                        .push_bind(i64::from(shift.to)).push_bind(by).push_bind(at);
                });
                qb.push(" ON CONFLICT DO NOTHING");
                qb.build().execute(&mut *tx).await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// Resident accounts with a household, for orders to belong to; returns their ids.
    pub async fn bulk_residents(&self, households: &[(String, String, String)]) -> Result<Vec<i64>> {
        let at = now();
        let mut ids = Vec::with_capacity(households.len());
        for (username, community, address) in households {
            let (id,): (i64,) = on_pool!(self, p => sqlx::query_as(
                "INSERT INTO accounts (username, display_name, password_hash, role, disabled, created_at)
                 VALUES ($1, $2, '!', 'resident', FALSE, $3) RETURNING id",
            ).bind(username).bind(format!("居民{}", &username[username.len().saturating_sub(4)..])).bind(at)
            .fetch_one(p).await?);
            self.set_resident_address(id, community, address).await?;
            ids.push(id);
        }
        Ok(ids)
    }

    /// Orders, each with its request step and (with a worker and a status that holds time) its
    /// booking; answers their ids, in the order given. The caller keeps a worker's orders apart
    /// in time.
    pub async fn bulk_orders(
        &self,
        orders: &[BulkOrder],
        menus: &std::collections::HashMap<i64, MenuFacts>,
    ) -> Result<Vec<i64>> {
        let at = now();
        let sealed: Vec<Vec<u8>> = orders
            .iter()
            .map(|o| self.crypto().seal_at("演示小区1栋1单元101", &format!("orders.address:{}", o.resident)))
            .collect();
        let mut written = Vec::with_capacity(orders.len());
        on_pool!(self, p => {
            for (chunk, ciphers) in orders.chunks(BATCH).zip(sealed.chunks(BATCH)) {
                let mut tx = p.begin().await?;
                let mut qb = QueryBuilder::new(
                    "INSERT INTO orders (resident_account_id, agency_id, menu_item_id, price_id, item, mode, level,
                        unit_price_fen, quantity, total_fen, free_cancel_hours, cancel_fee_percent, starts_at, ends_at,
                        requested_worker_id, worker_id, community_code, address_cipher, note, status, created_at, updated_at) ",
                );
                qb.push_values(chunk.iter().zip(ciphers), |mut row, (o, cipher)| {
                    let m = &menus[&o.menu_item_id];
                    row.push_bind(o.resident).push_bind(m.agency_id).push_bind(m.id).push_bind(m.price_id)
                        .push_bind(m.item.clone()).push_bind(m.mode.clone()).push_bind(m.level.clone())
                        .push_bind(m.price_fen).push_bind(o.quantity).push_bind(m.price_fen * o.quantity)
                        .push_bind(24_i64).push_bind(20_i64).push_bind(o.start).push_bind(o.end)
                        .push_bind(None::<i64>).push_bind(o.worker).push_bind(o.community.clone())
                        .push_bind(cipher.clone()).push_bind("").push_bind(o.status.as_str()).push_bind(at).push_bind(at);
                });
                qb.push(" RETURNING id");
                let ids: Vec<(i64,)> = qb.build_query_as().fetch_all(&mut *tx).await?;
                let mut events = QueryBuilder::new(
                    "INSERT INTO order_events (order_id, step, from_status, to_status, party, actor_account_id, reason, at) ",
                );
                events.push_values(chunk.iter().zip(&ids), |mut row, (o, (id,))| {
                    row.push_bind(*id).push_bind("request").push_bind(None::<String>).push_bind(o.status.as_str())
                        .push_bind("resident").push_bind(o.resident).push_bind("").push_bind(at);
                });
                events.build().execute(&mut *tx).await?;
                let holding: Vec<(&BulkOrder, i64)> = chunk
                    .iter()
                    .zip(&ids)
                    .filter(|(o, _)| o.worker.is_some() && matches!(o.status, OrderStatus::Assigned | OrderStatus::InService | OrderStatus::Completed | OrderStatus::Rated))
                    .map(|(o, (id,))| (o, *id))
                    .collect();
                if !holding.is_empty() {
                    let mut bookings = QueryBuilder::new(
                        "INSERT INTO worker_bookings (worker_id, kind, order_id, starts_at, ends_at, note, entered_by, created_at) ",
                    );
                    bookings.push_values(&holding, |mut row, (o, id)| {
                        row.push_bind(o.worker).push_bind("order").push_bind(*id).push_bind(o.start).push_bind(o.end)
                            .push_bind("").push_bind(o.resident).push_bind(at);
                    });
                    bookings.build().execute(&mut *tx).await?;
                }
                tx.commit().await?;
                written.extend(ids.into_iter().map(|(id,)| id));
            }
        });
        Ok(written)
    }

    /// One payment order for each `(order, total in fen)`, for benchmarks. Without `paid` they
    /// wait for their notification (`pending`). With `paid`, each is paid at a moment spread over
    /// that range and carries what the live path would have written by then: the sandbox's
    /// successful transaction (so the day's bill reconciles), the payment's journal transaction
    /// and the order's held balance (so the journal audits clean).
    pub async fn bulk_payments(
        &self,
        orders: &[(i64, i64)],
        paid: Option<(DateTime<Utc>, DateTime<Utc>)>,
    ) -> Result<usize> {
        let at = now();
        let n = orders.len().max(1) as i64;
        let mut written = 0;
        on_pool!(self, p => {
            for (c, chunk) in orders.chunks(BATCH).enumerate() {
                let rows: Vec<BulkPayment> = chunk
                    .iter()
                    .enumerate()
                    .map(|(i, &(order, amount))| {
                        let k = (c * BATCH + i) as i64;
                        let paid_at = paid
                            .map(|(from, to)| from + chrono::Duration::milliseconds((to - from).num_milliseconds() * k / n));
                        BulkPayment {
                            order,
                            amount,
                            out_trade_no: payment::out_trade_no(order, 1),
                            transaction_id: paid_at.map(|t| bulk_transaction_id(t, order)),
                            paid_at,
                        }
                    })
                    .collect();
                let mut tx = p.begin().await?;
                let mut qb = QueryBuilder::new(
                    "INSERT INTO payments (out_trade_no, order_id, amount_fen, description, status, transaction_id,
                        created_at, paid_at) ",
                );
                qb.push_values(&rows, |mut row, r| {
                    row.push_bind(&r.out_trade_no).push_bind(r.order).push_bind(r.amount)
                        .push_bind(format!("演示订单 JZ{:08}", r.order))
                        .push_bind(if r.paid_at.is_some() { "paid" } else { "pending" })
                        .push_bind(&r.transaction_id).push_bind(r.paid_at.unwrap_or(at)).push_bind(r.paid_at);
                });
                qb.build().execute(&mut *tx).await?;
                let done: Vec<(&BulkPayment, DateTime<Utc>, &String)> = rows
                    .iter()
                    .filter_map(|r| Some((r, r.paid_at?, r.transaction_id.as_ref()?)))
                    .collect();
                if !done.is_empty() {
                    let mut provider = QueryBuilder::new(
                        "INSERT INTO sandbox_transactions (out_trade_no, transaction_id, amount_fen, description,
                            notify_url, trade_state, created_at, success_time) ",
                    );
                    provider.push_values(&done, |mut row, (r, paid_at, transaction_id)| {
                        row.push_bind(&r.out_trade_no).push_bind(*transaction_id).push_bind(r.amount)
                            .push_bind(format!("演示订单 JZ{:08}", r.order)).push_bind("")
                            .push_bind("SUCCESS").push_bind(*paid_at).push_bind(*paid_at);
                    });
                    provider.build().execute(&mut *tx).await?;
                    let mut txns = QueryBuilder::new("INSERT INTO journal_txns (kind, order_id, at) ");
                    txns.push_values(&done, |mut row, (r, paid_at, _)| {
                        row.push_bind("payment").push_bind(r.order).push_bind(*paid_at);
                    });
                    txns.push(" RETURNING id");
                    let ids: Vec<(i64,)> = txns.build_query_as().fetch_all(&mut *tx).await?;
                    // Each payment moves its amount from the clearing account to the order's held one.
                    let postings: Vec<(i64, String, i64, i64, DateTime<Utc>)> = done
                        .iter()
                        .zip(&ids)
                        .flat_map(|((r, paid_at, _), (txn,))| {
                            [
                                (*txn, Account::Clearing.key(), r.amount, r.order, *paid_at),
                                (*txn, Account::Held(r.order).key(), -r.amount, r.order, *paid_at),
                            ]
                        })
                        .collect();
                    let mut journal =
                        QueryBuilder::new("INSERT INTO journal (txn_id, account, amount_fen, order_id, kind, at) ");
                    journal.push_values(&postings, |mut row, (txn, account, amount, order, at)| {
                        row.push_bind(*txn).push_bind(account).push_bind(*amount).push_bind(*order)
                            .push_bind("payment").push_bind(*at);
                    });
                    journal.build().execute(&mut *tx).await?;
                    let mut held = QueryBuilder::new("INSERT INTO account_balances (account, balance_fen) ");
                    held.push_values(&done, |mut row, (r, _, _)| {
                        row.push_bind(Account::Held(r.order).key()).push_bind(-r.amount);
                    });
                    held.push(
                        " ON CONFLICT (account) DO UPDATE SET balance_fen = account_balances.balance_fen + excluded.balance_fen",
                    );
                    held.build().execute(&mut *tx).await?;
                    let cleared: i64 = done.iter().map(|(r, _, _)| r.amount).sum();
                    sqlx::query(
                        "INSERT INTO account_balances (account, balance_fen) VALUES ($1, $2)
                         ON CONFLICT (account) DO UPDATE SET balance_fen = account_balances.balance_fen + excluded.balance_fen",
                    ).bind(Account::Clearing.key()).bind(cleared).execute(&mut *tx).await?;
                }
                tx.commit().await?;
                written += rows.len();
            }
        });
        Ok(written)
    }

    /// Payments still waiting for their notification, oldest first from `after` (an id):
    /// (id, out_trade_no, amount in fen).
    pub async fn pending_payments(&self, after: i64, limit: i64) -> Result<Vec<(i64, String, i64)>> {
        Ok(on_pool!(self, p => sqlx::query_as(
            "SELECT id, out_trade_no, amount_fen FROM payments WHERE status = 'pending' AND id > $1 ORDER BY id LIMIT $2",
        ).bind(after).bind(limit).fetch_all(p).await?))
    }
}

/// A generated payment before it is written.
struct BulkPayment {
    order: i64,
    amount: i64,
    out_trade_no: String,
    transaction_id: Option<String>,
    paid_at: Option<DateTime<Utc>>,
}

/// A provider's transaction number as WeChat's look (4200, the Beijing date, 16 digits), unique
/// per order.
fn bulk_transaction_id(paid_at: DateTime<Utc>, order: i64) -> String {
    format!("4200{}{order:016}", jiazheng_core::calendar::beijing_date(paid_at).format("%Y%m%d"))
}
