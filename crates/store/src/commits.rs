//! What the database has committed, as a mark that changes whenever anyone commits a write: this
//! server, another server on the same PostgreSQL, or a command run beside the server on the same
//! SQLite file. A value computed from the database and stamped with the mark read *before* it was
//! computed is current for as long as the mark stays the same; that is what lets the server keep
//! hot pages in memory without ever showing one older than an acknowledged write.

use std::sync::atomic::{AtomicU64, Ordering};
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

/// How the mark is read. SQLite: a read-only connection kept only to read `data_version` (a
/// pooled connection would miss the commits it made itself). PostgreSQL: one snapshot query at
/// a time, shared by every request that arrived before it started.
#[derive(Clone)]
pub(crate) enum Watcher {
    None,
    Sqlite(Arc<Mutex<rusqlite::Connection>>),
    Postgres(Arc<Snapshots>),
}

/// Reads of `pg_current_snapshot()`, one at a time: under load, the requests waiting for a
/// mark share the next read instead of each taking a pooled connection for its own. A request
/// may use only a snapshot read after it arrived, since an older one can predate a write
/// acknowledged before the request came.
#[derive(Default)]
pub(crate) struct Snapshots {
    turn: tokio::sync::Mutex<()>,
    /// Reads started so far; a read takes its number before its query is sent.
    started: AtomicU64,
    /// The number and snapshot of the newest read that finished.
    newest: Mutex<(u64, String)>,
}

impl Snapshots {
    async fn mark(&self, pool: &sqlx::PgPool) -> Result<CommitMark> {
        let arrived = self.started.load(Ordering::SeqCst);
        let _turn = self.turn.lock().await;
        {
            let newest = self.newest.lock().unwrap_or_else(|e| e.into_inner());
            if newest.0 > arrived {
                return Ok(CommitMark::Postgres(newest.1.clone()));
            }
        }
        let number = self.started.fetch_add(1, Ordering::SeqCst) + 1;
        let (snapshot,): (String,) = sqlx::query_as("SELECT pg_current_snapshot()::text").fetch_one(pool).await?;
        *self.newest.lock().unwrap_or_else(|e| e.into_inner()) = (number, snapshot.clone());
        Ok(CommitMark::Postgres(snapshot))
    }
}

impl Watcher {
    pub(crate) fn postgres() -> Self {
        Self::Postgres(Arc::default())
    }

    pub(crate) fn open(path: &std::path::Path) -> Result<Self> {
        let name = path.to_string_lossy();
        if name.is_empty() || name == ":memory:" {
            return Ok(Self::None);
        }
        use rusqlite::OpenFlags;
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI;
        let connection = rusqlite::Connection::open_with_flags(path, flags).map_err(watch_error)?;
        // The mark is read on the request's thread: wait briefly for a lock, then answer busy.
        connection.busy_timeout(std::time::Duration::from_millis(500)).map_err(watch_error)?;
        Ok(Self::Sqlite(Arc::new(Mutex::new(connection))))
    }

    fn data_version(connection: &Mutex<rusqlite::Connection>) -> Result<CommitMark> {
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
    /// goes to a pooled connection's thread); on PostgreSQL a round trip shared with the
    /// requests waiting beside this one.
    pub async fn commit_mark(&self) -> Result<CommitMark> {
        match (&self.watcher, &self.pool) {
            (Watcher::Sqlite(connection), _) => Watcher::data_version(connection),
            (Watcher::Postgres(snapshots), Pool::Postgres(p)) => snapshots.mark(p).await,
            _ => Ok(CommitMark::Unknown),
        }
    }
}
