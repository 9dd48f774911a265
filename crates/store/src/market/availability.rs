//! When workers work: weekly shifts kept by the employing agency, and leave (entered by the
//! agency or the worker). Leave and bookings share `worker_bookings`, so neither overlaps the other.

use chrono::{DateTime, Utc};
use jiazheng_core::market::slot::{Shift, Slot};
use serde::Serialize;

use super::{take_time_in, write_tx};
use crate::{Result, Store, StoreError, now, on_pool};

pub const MAX_NOTE_CHARS: usize = 200;

row! {
    /// A stretch of a worker's time that is taken.
    #[derive(Debug, Clone, Serialize)]
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    pub struct BookingRow {
        pub id: i64,
        pub worker_id: i64,
        /// `order` or `leave`.
        pub kind: String,
        pub order_id: Option<i64>,
        /// The catalog item of the order, when it is one.
        pub item: Option<String>,
        pub starts_at: DateTime<Utc>,
        pub ends_at: DateTime<Utc>,
        pub note: String,
    }
}

impl BookingRow {
    pub fn slot(&self) -> Slot {
        Slot { start: self.starts_at, end: self.ends_at }
    }
}

impl Store {
    /// Whether `agency_id` employs the worker now (an active binding, both sides confirmed).
    pub async fn employs(&self, agency_id: i64, worker_id: i64) -> Result<bool> {
        let (n,): (i64,) = on_pool!(self, p => sqlx::query_as(
            "SELECT COUNT(*) FROM bindings WHERE worker_id = $1 AND agency_id = $2 AND status = 'active'",
        ).bind(worker_id).bind(agency_id).fetch_one(p).await?);
        Ok(n > 0)
    }

    /// Replaces a worker's weekly shifts; a weekday without one is a day off.
    pub async fn set_shifts(&self, worker_id: i64, shifts: &[(u8, Shift)], by: i64) -> Result<()> {
        let at = now();
        write_tx!(self, tx => async {
            sqlx::query("DELETE FROM worker_shifts WHERE worker_id = $1").bind(worker_id).execute(&mut *tx).await?;
            for (weekday, shift) in shifts {
                sqlx::query(
                    "INSERT INTO worker_shifts (worker_id, weekday, from_minute, to_minute, set_by, updated_at)
                     VALUES ($1, $2, $3, $4, $5, $6)",
                ).bind(worker_id).bind(i64::from(*weekday)).bind(i64::from(shift.from)).bind(i64::from(shift.to))
                .bind(by).bind(at).execute(&mut *tx).await?;
            }
            Ok(())
        }.await)
    }

    /// A worker's shifts by weekday (1 = Monday).
    pub async fn shifts(&self, worker_id: i64) -> Result<Vec<(u8, Shift)>> {
        let rows: Vec<(i64, i64, i64)> = on_pool!(self, p => sqlx::query_as(
            "SELECT weekday, from_minute, to_minute FROM worker_shifts WHERE worker_id = $1 ORDER BY weekday",
        ).bind(worker_id).fetch_all(p).await?);
        Ok(rows.into_iter().map(|(d, from, to)| (d as u8, Shift { from: from as u32, to: to as u32 })).collect())
    }

    /// Takes leave for a worker; refused where it meets a booking (reassign that order first).
    pub async fn add_leave(&self, worker_id: i64, slot: &Slot, note: &str, by: i64) -> Result<i64> {
        let note = note.trim();
        if note.chars().count() > MAX_NOTE_CHARS {
            return Err(StoreError::Invalid(jiazheng_core::FieldErrors(vec![
                jiazheng_core::field::Invalid::too_long(MAX_NOTE_CHARS).at("note"),
            ])));
        }
        let taken = write_tx!(self, tx => take_time_in!(tx, worker_id, "leave", None::<i64>, slot, note, by));
        match taken {
            Err(e) => Err(self.name_overlap(e, worker_id, slot).await),
            ok => ok,
        }
    }

    /// Cancels leave not yet over; with `entered_by`, only leave that account entered (a worker
    /// removes their own leave, not leave the agency put in).
    pub async fn remove_leave(&self, worker_id: i64, id: i64, entered_by: Option<i64>) -> Result<()> {
        let done = on_pool!(self, p => sqlx::query(
            "DELETE FROM worker_bookings WHERE id = $1 AND worker_id = $2 AND kind = 'leave' AND ends_at > $3
                 AND ($4 = 0 OR entered_by = $4)",
        ).bind(id).bind(worker_id).bind(now()).bind(entered_by.unwrap_or(0)).execute(p).await?.rows_affected());
        if done == 0 { Err(StoreError::NotFound) } else { Ok(()) }
    }

    /// A worker's bookings and leave that end after `from`, soonest first.
    /// The worker's time taken from `from` on. Seen by an agency (`seen_by`), another agency's
    /// orders and leave it did not enter show as busy time only: no order, item or note.
    pub async fn calendar(&self, worker_id: i64, from: DateTime<Utc>, seen_by: Option<i64>) -> Result<Vec<BookingRow>> {
        Ok(on_pool!(self, p => sqlx::query_as(
            "SELECT k.id, k.worker_id, k.kind,
                 CASE WHEN $3 = 0 OR o.agency_id = $3 THEN k.order_id END AS order_id,
                 CASE WHEN $3 = 0 OR o.agency_id = $3 THEN o.item END AS item,
                 k.starts_at, k.ends_at,
                 CASE WHEN $3 = 0 OR o.agency_id = $3 OR (k.kind = 'leave' AND (a.agency_id = $3 OR a.worker_id = k.worker_id))
                      THEN k.note ELSE '' END AS note
             FROM worker_bookings k LEFT JOIN orders o ON o.id = k.order_id LEFT JOIN accounts a ON a.id = k.entered_by
             WHERE k.worker_id = $1 AND k.ends_at > $2 ORDER BY k.starts_at LIMIT 200",
        ).bind(worker_id).bind(from).bind(seen_by.unwrap_or(0)).fetch_all(p).await?))
    }
}
