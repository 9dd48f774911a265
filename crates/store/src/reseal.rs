//! The one-time re-seal of values sealed before sealing bound them to their row and column:
//! migration 0008 queues every such row, and the first start afterwards works the queue off in
//! short transactions. A health result keeps its old ciphertext beside the new one, since the
//! ledger's digest was taken over it.

use chrono::NaiveDate;

use crate::workforce::health_place;
use crate::{Result, Store, on_pool};

const BATCH: i64 = 1_000;

impl Store {
    /// Re-seals the queued rows; returns how many. Safe to run again: a finished queue is empty.
    pub async fn reseal_queued(&self) -> Result<u64> {
        let mut done = 0u64;
        loop {
            let queued: Vec<(String, i64)> = on_pool!(self, p => sqlx::query_as(
                "SELECT table_name, row_id FROM reseal_queue ORDER BY table_name, row_id LIMIT $1",
            ).bind(BATCH).fetch_all(p).await?);
            if queued.is_empty() {
                return Ok(done);
            }
            let workers: Vec<i64> = queued.iter().filter(|(t, _)| t == "workers").map(|(_, id)| *id).collect();
            let checks: Vec<i64> = queued.iter().filter(|(t, _)| t == "health_checks").map(|(_, id)| *id).collect();
            let crypto = self.crypto().clone();
            on_pool!(self, p => {
                let mut tx = p.begin().await?;
                for id in &workers {
                    let row: Option<(Vec<u8>, Vec<u8>, Vec<u8>)> = sqlx::query_as(
                        "SELECT id_hash, id_cipher, phone_cipher FROM workers WHERE id = $1",
                    ).bind(id).fetch_optional(&mut *tx).await?;
                    if let Some((hash, id_cipher, phone_cipher)) = row {
                        let sealed = self.seal_worker_identifiers(&hash, &crypto.open(&id_cipher)?, &crypto.open(&phone_cipher)?);
                        sqlx::query("UPDATE workers SET id_cipher = $1, phone_cipher = $2 WHERE id = $3")
                            .bind(sealed.0).bind(sealed.1).bind(id).execute(&mut *tx).await?;
                    }
                    sqlx::query("DELETE FROM reseal_queue WHERE table_name = 'workers' AND row_id = $1")
                        .bind(id).execute(&mut *tx).await?;
                }
                for id in &checks {
                    let row: Option<(i64, NaiveDate, String, Vec<u8>)> = sqlx::query_as(
                        "SELECT worker_id, checked_on, category, result_cipher FROM health_checks WHERE id = $1",
                    ).bind(id).fetch_optional(&mut *tx).await?;
                    if let Some((worker, checked_on, category, cipher)) = row {
                        let plain = crypto.open(&cipher)?;
                        let bound = crypto.seal_at(&plain, &health_place(worker, checked_on, &category));
                        sqlx::query("UPDATE health_checks SET legacy_cipher = result_cipher, result_cipher = $1 WHERE id = $2")
                            .bind(bound).bind(id).execute(&mut *tx).await?;
                    }
                    sqlx::query("DELETE FROM reseal_queue WHERE table_name = 'health_checks' AND row_id = $1")
                        .bind(id).execute(&mut *tx).await?;
                }
                tx.commit().await?;
            });
            done += queued.len() as u64;
        }
    }
}
