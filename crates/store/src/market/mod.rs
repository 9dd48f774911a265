//! The market's records: residents who sign in by phone, agencies' menus and their price
//! history, workers' shifts and bookings, and orders with every step taken on them.

pub mod assignment;
pub mod availability;
pub mod bulk;
pub mod contracts;
pub mod menus;
pub mod orders;
pub mod payments;
pub mod residents;
pub mod sandbox;
pub mod search;
pub mod subsidies;

use chrono::{DateTime, Utc};

/// Opens a write transaction that reads before it writes: SQLite takes the write lock at BEGIN so
/// that what was read stays true until commit (the single writer is the overlap check), and
/// PostgreSQL relies on its constraints.
pub(crate) trait WritePool {
    type Db: sqlx::Database;
    async fn begin_write(&self) -> std::result::Result<sqlx::Transaction<'static, Self::Db>, sqlx::Error>;
}

impl WritePool for sqlx::SqlitePool {
    type Db = sqlx::Sqlite;
    async fn begin_write(&self) -> std::result::Result<sqlx::Transaction<'static, sqlx::Sqlite>, sqlx::Error> {
        self.begin_with("BEGIN IMMEDIATE").await
    }
}

impl WritePool for sqlx::PgPool {
    type Db = sqlx::Postgres;
    async fn begin_write(&self) -> std::result::Result<sqlx::Transaction<'static, sqlx::Postgres>, sqlx::Error> {
        self.begin().await
    }
}

/// Runs `$body` (which uses `$tx` and returns `Result<T>`) in one write transaction; commits on
/// success, rolls back on error.
macro_rules! write_tx {
    ($store:expr, $tx:ident => $body:expr) => {{
        use $crate::market::WritePool as _;
        let _turn = $store.write_turn().await;
        $crate::on_pool!($store, p => async {
            let mut $tx = p.begin_write().await?;
            let value = { let body: $crate::Result<_> = $body; body }?;
            $tx.commit().await?;
            ::std::result::Result::<_, $crate::StoreError>::Ok(value)
        }.await)
    }};
}
pub(crate) use write_tx;

/// Takes a worker's time inside an open write transaction `$tx`: refuses a range that meets
/// another booking or leave of the worker (SQLite's check; PostgreSQL's exclusion constraint
/// refuses it too, for writers that raced past the look). Evaluates to `Result<i64>`.
macro_rules! take_time_in {
    ($tx:ident, $worker:expr, $kind:expr, $order:expr, $slot:expr, $note:expr, $by:expr) => {
        async {
            let slot: &jiazheng_core::market::slot::Slot = $slot;
            let clash: Option<(chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>)> = sqlx::query_as(
                "SELECT starts_at, ends_at FROM worker_bookings
                 WHERE worker_id = $1 AND starts_at < $2 AND ends_at > $3 ORDER BY starts_at LIMIT 1",
            )
            .bind($worker)
            .bind(slot.end)
            .bind(slot.start)
            .fetch_optional(&mut *$tx)
            .await?;
            if let Some((start, end)) = clash {
                return Err($crate::StoreError::Overlap { start, end });
            }
            let (id,): (i64,) = sqlx::query_as(
                "INSERT INTO worker_bookings (worker_id, kind, order_id, starts_at, ends_at, note, entered_by, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
            )
            .bind($worker)
            .bind($kind)
            .bind($order)
            .bind(slot.start)
            .bind(slot.end)
            .bind($note)
            .bind($by)
            .bind($crate::now())
            .fetch_one(&mut *$tx)
            .await
            .map_err($crate::market::overlap_or)?;
            ::std::result::Result::<i64, $crate::StoreError>::Ok(id)
        }
        .await
    };
}
pub(crate) use take_time_in;

/// PostgreSQL's exclusion violation (23P01) as an overlap whose range is looked up afterwards.
pub(crate) fn overlap_or(error: sqlx::Error) -> crate::StoreError {
    match &error {
        sqlx::Error::Database(db) if db.code().as_deref() == Some("23P01") => {
            crate::StoreError::Overlap { start: DateTime::<Utc>::MIN_UTC, end: DateTime::<Utc>::MIN_UTC }
        }
        _ => crate::StoreError::Database(error),
    }
}

impl crate::Store {
    /// Fills in the range of an overlap the database refused without naming it.
    pub(crate) async fn name_overlap(
        &self,
        error: crate::StoreError,
        worker_id: i64,
        slot: &jiazheng_core::market::slot::Slot,
    ) -> crate::StoreError {
        match error {
            crate::StoreError::Overlap { start, .. } if start == DateTime::<Utc>::MIN_UTC => {
                let clash: Option<(DateTime<Utc>, DateTime<Utc>)> = crate::on_pool!(self, p => sqlx::query_as(
                    "SELECT starts_at, ends_at FROM worker_bookings
                     WHERE worker_id = $1 AND starts_at < $2 AND ends_at > $3 ORDER BY starts_at LIMIT 1",
                ).bind(worker_id).bind(slot.end).bind(slot.start).fetch_optional(p).await.ok().flatten());
                let (start, end) = clash.unwrap_or((slot.start, slot.end));
                crate::StoreError::Overlap { start, end }
            }
            other => other,
        }
    }
}
