//! Which photo is a worker's. The image itself lives in the data directory under its digest;
//! the database keeps who put each photo there and when, and the latest one is current.

use chrono::{DateTime, Utc};

use crate::{Result, Store, now, on_pool};

row! {
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Photo {
        /// SHA-256 of the stored JPEG, hex.
        pub digest: String,
        pub uploaded_by_name: String,
        pub uploaded_at: DateTime<Utc>,
    }
}

impl Store {
    /// Makes the photo with this digest the worker's current one.
    pub async fn set_photo(&self, worker_id: i64, digest: &str, by: i64) -> Result<()> {
        self.worker(worker_id).await?;
        on_pool!(self, p => sqlx::query(
            "INSERT INTO worker_photos (worker_id, digest, uploaded_by, uploaded_at) VALUES ($1, $2, $3, $4)",
        ).bind(worker_id).bind(digest).bind(by).bind(now()).execute(p).await.map(|_| ())?);
        Ok(())
    }

    /// The worker's current photo, if any.
    pub async fn photo(&self, worker_id: i64) -> Result<Option<Photo>> {
        Ok(on_pool!(self, p => sqlx::query_as(
            "SELECT ph.digest, a.display_name AS uploaded_by_name, ph.uploaded_at
             FROM worker_photos ph JOIN accounts a ON a.id = ph.uploaded_by
             WHERE ph.worker_id = $1 ORDER BY ph.id DESC LIMIT 1",
        ).bind(worker_id).fetch_optional(p).await?))
    }
}
