//! What the database has committed, as a mark that changes whenever anyone commits a write: this
//! server, another server on the same PostgreSQL, or a command run beside the server on the same
//! SQLite file. A value computed from the database and stamped with the mark read *before* it was
//! computed is current for as long as the mark stays the same; that is what lets the server keep
//! hot pages in memory without ever showing one older than an acknowledged write.

use std::sync::{Arc, Mutex};

use crate::{Pool, Result, Store, StoreError};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CommitMark {
    /// SQLite's `data_version` as seen by a connection that never writes: it moves whenever
    /// another connection, in this process or another, commits.
    Sqlite(i64),
    /// PostgreSQL's current snapshot (`xmin:xmax:in-progress`): a commit of any transaction that
    /// wrote either takes it off the in-progress list or moves `xmax`.
    Postgres(String),
    /// No mark can be read (an in-memory SQLite database): nothing stamped with it is current.
    Unknown,
}

impl CommitMark {
    /// True when a value stamped with `self` is still current under `now`.
    pub fn still(&self, now: &CommitMark) -> bool {
        !matches!(self, CommitMark::Unknown) && self == now
    }
}

/// A read-only SQLite connection kept only to read `data_version`; a pooled connection would
/// miss the commits it made itself.
#[derive(Clone)]
pub(crate) struct Watcher(Option<Arc<Mutex<rusqlite::Connection>>>);

impl Watcher {
    pub(crate) fn none() -> Self {
        Self(None)
    }

    pub(crate) fn open(path: &std::path::Path) -> Result<Self> {
        let name = path.to_string_lossy();
        if name.is_empty() || name == ":memory:" {
            return Ok(Self(None));
        }
        use rusqlite::OpenFlags;
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI;
        let connection = rusqlite::Connection::open_with_flags(path, flags).map_err(watch_error)?;
        // The mark is read on the request's thread: wait briefly for a lock, then answer busy.
        connection.busy_timeout(std::time::Duration::from_millis(500)).map_err(watch_error)?;
        Ok(Self(Some(Arc::new(Mutex::new(connection)))))
    }

    fn data_version(&self) -> Result<CommitMark> {
        let Some(connection) = &self.0 else { return Ok(CommitMark::Unknown) };
        let connection = connection.lock().unwrap_or_else(|e| e.into_inner());
        let version = connection
            .prepare_cached("PRAGMA data_version")
            .and_then(|mut s| s.query_row([], |row| row.get::<_, i64>(0)))
            .map_err(watch_error)?;
        Ok(CommitMark::Sqlite(version))
    }
}

fn watch_error(e: rusqlite::Error) -> StoreError {
    StoreError::Mark(e.to_string())
}

impl Store {
    /// The database's commit mark now. On SQLite this is a read of shared memory (no statement
    /// goes to a pooled connection's thread); on PostgreSQL one round trip.
    pub async fn commit_mark(&self) -> Result<CommitMark> {
        match &self.pool {
            Pool::Sqlite(_) => self.watcher.data_version(),
            Pool::Postgres(p) => {
                let (snapshot,): (String,) = sqlx::query_as("SELECT pg_current_snapshot()::text").fetch_one(p).await?;
                Ok(CommitMark::Postgres(snapshot))
            }
        }
    }
}
