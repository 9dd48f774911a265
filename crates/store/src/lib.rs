//! Persistence for jiazheng: one API over SQLite (the embedded default) and PostgreSQL.
//! Every query is written once with `$n` parameters, which both engines accept, and run
//! on whichever pool the store holds.

#[macro_use]
mod rows;

pub mod accounts;
mod backup;
pub mod commits;
pub mod community;
pub mod credit;
pub mod crypto;
mod error;
pub mod excel;
pub mod market;
pub mod oversight;
pub mod registry;
mod reseal;
pub mod testing;
pub mod workforce;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};

pub use crypto::Crypto;
pub use error::StoreError;

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Runs `$body` with `$pool` bound to the store's SQLite or PostgreSQL pool; the body is
/// written once and compiled for each engine.
macro_rules! on_pool {
    ($store:expr, $pool:ident => $body:expr) => {
        match &$store.pool {
            $crate::Pool::Sqlite($pool) => $body,
            $crate::Pool::Postgres($pool) => $body,
        }
    };
}
pub(crate) use on_pool;

/// Runs one statement per chunk of a bulk write, building the next while the database runs this
/// one (building a statement of a few hundred rows costs about as much as SQLite's running it).
/// `$build` turns a chunk into its `QueryBuilder`; `$run` runs the builder bound to `$qb` and is
/// awaited with `?`. Evaluates to the results in chunk order.
macro_rules! each_chunk {
    ($chunks:expr, $build:expr, |$qb:ident| $run:expr) => {{
        let mut chunks = $chunks;
        let build = $crate::builder_for(&chunks, $build);
        let mut results = Vec::new();
        let mut next = chunks.next().map(&build);
        while let Some(mut $qb) = next.take() {
            let (done, built) = tokio::join!(biased; $run, async { chunks.next().map(&build) });
            results.push(done?);
            next = built;
        }
        results
    }};
}
pub(crate) use each_chunk;

/// Gives `each_chunk!`'s builder closure its argument type from the chunks it will be handed.
pub(crate) fn builder_for<I: Iterator, B, F: Fn(I::Item) -> B>(_: &I, build: F) -> F {
    build
}

/// How long a statement waits for a lock (or a pooled connection) before the store answers busy.
pub const LOCK_WAIT: Duration = Duration::from_secs(10);

/// The migration files of each engine, embedded by `build.rs`.
mod migrations {
    include!(concat!(env!("OUT_DIR"), "/migrations.rs"));
}

fn migrator(files: &'static [(i64, &'static str, &'static str)]) -> sqlx::migrate::Migrator {
    use sqlx::migrate::{Migration, MigrationType, Migrator};
    let migrations = files
        .iter()
        .map(|&(version, description, sql)| {
            let no_tx = sql.starts_with("-- no-transaction");
            Migration::new(version, description.into(), MigrationType::Simple, sqlx::SqlStr::from_static(sql), no_tx)
        })
        .collect();
    Migrator::with_migrations(migrations)
}

#[derive(Clone, Debug)]
pub enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// What a store is opened for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Workload {
    Serve,
    BulkLoad,
}

/// The engine behind a store, for the few places where SQL must differ.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

#[derive(Clone)]
pub struct Store {
    pool: Pool,
    crypto: Crypto,
    /// SQLite's write transactions queue here, in turn, rather than in SQLite's busy handler,
    /// which sleeps a millisecond and more before it looks again.
    writer: std::sync::Arc<tokio::sync::Mutex<()>>,
    watcher: commits::Watcher,
}

/// One page of a list, as every list in the platform is served.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub page: u32,
    pub per_page: u32,
    pub total: i64,
}

impl<T> Page<T> {
    pub fn pages(&self) -> u32 {
        (self.total.max(0) as u64).div_ceil(u64::from(self.per_page.max(1))).max(1) as u32
    }
}

/// Which slice of a list to read; `per_page` is capped so a client cannot ask for everything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    pub page: u32,
    pub per_page: u32,
}

impl PageRequest {
    pub const MAX_PER_PAGE: u32 = 100;

    pub fn new(page: Option<u32>, per_page: Option<u32>) -> Self {
        Self { page: page.unwrap_or(1).max(1), per_page: per_page.unwrap_or(20).clamp(1, Self::MAX_PER_PAGE) }
    }

    pub fn offset(self) -> i64 {
        i64::from(self.page - 1) * i64::from(self.per_page)
    }

    pub fn limit(self) -> i64 {
        i64::from(self.per_page)
    }

    /// The total when a page already tells it: a first page that is not full holds everything.
    pub fn total_if_known(self, items_on_page: usize) -> Option<i64> {
        (self.page == 1 && (items_on_page as u64) < u64::from(self.per_page)).then_some(items_on_page as i64)
    }

    pub fn wrap<T>(self, items: Vec<T>, total: i64) -> Page<T> {
        Page { items, page: self.page, per_page: self.per_page, total }
    }
}

impl Default for PageRequest {
    fn default() -> Self {
        Self::new(None, None)
    }
}

impl Store {
    /// Opens `database` (a `sqlite:` path or `postgres://` URL) and applies the migrations.
    pub async fn open(database: &str, crypto: Crypto) -> Result<Self> {
        Self::open_for(database, crypto, Workload::Serve).await
    }

    /// Opens the store tuned for a workload: a bulk load gives SQLite a large page cache and
    /// rarer checkpoints, which a server must not (its memory is shared by every connection).
    pub async fn open_for(database: &str, crypto: Crypto, workload: Workload) -> Result<Self> {
        // A server reads the file through a memory map (no copy per page read from the OS cache;
        // the mapped pages are the OS cache's, not the process's own memory).
        let (cache_kib, checkpoint_pages, mmap_bytes) = match workload {
            Workload::Serve => (16_000, 1000, 1_u64 << 40),
            Workload::BulkLoad => (512_000, 100_000, 0),
        };
        let (pool, watcher) = if database.starts_with("postgres://") || database.starts_with("postgresql://") {
            // A write waiting on a lock gives up like SQLite's busy timeout does (55P03, a 503
            // for the client) instead of holding a pooled connection for as long as the lock.
            let lock_timeout = format!("{}ms", LOCK_WAIT.as_millis());
            let options = quiet_for(
                workload,
                PgConnectOptions::from_str(database)?.options([("lock_timeout", lock_timeout.as_str())]),
            );
            let pool =
                PgPoolOptions::new().max_connections(16).acquire_timeout(LOCK_WAIT).connect_with(options).await?;
            migrator(migrations::POSTGRES).run(&pool).await?;
            (Pool::Postgres(pool), commits::Watcher::postgres())
        } else {
            let options = SqliteConnectOptions::from_str(database)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(LOCK_WAIT)
                .pragma("cache_size", format!("-{cache_kib}"))
                .pragma("wal_autocheckpoint", checkpoint_pages.to_string())
                .pragma("temp_store", "memory")
                .pragma("mmap_size", mmap_bytes.to_string());
            let options = quiet_for(workload, options);
            let file = options.get_filename().to_owned();
            let pool = SqlitePoolOptions::new()
                .max_connections(sqlite_connections())
                .acquire_timeout(LOCK_WAIT)
                .connect_with(options)
                .await?;
            migrator(migrations::SQLITE).run(&pool).await?;
            // Opened after the migrations: the file exists and is in WAL mode by now.
            (Pool::Sqlite(pool), commits::Watcher::open(&file)?)
        };
        let store = Self { pool, crypto, writer: Default::default(), watcher };
        let resealed = store.reseal_queued().await?;
        if resealed > 0 {
            tracing::info!(resealed, "re-sealed values bound to their rows");
        }
        Ok(store)
    }

    /// Opens a read-only copy of a PostgreSQL database (a streaming replica in hot standby) for
    /// reads. No migration runs (a standby cannot write): the copy must hold this build's schema
    /// already, which it does once the primary's migrations have been replayed.
    pub async fn open_replica(database: &str, crypto: Crypto) -> Result<Self> {
        let options = PgConnectOptions::from_str(database)?.options([("default_transaction_read_only", "on")]);
        let pool = PgPoolOptions::new().max_connections(16).acquire_timeout(LOCK_WAIT).connect_with(options).await?;
        let newest = migrations::POSTGRES.iter().map(|m| m.0).max();
        let (applied,): (Option<i64>,) =
            sqlx::query_as("SELECT MAX(version) FROM _sqlx_migrations WHERE success").fetch_one(&pool).await?;
        if applied != newest {
            return Err(StoreError::Refused(format!(
                "the replica holds schema version {applied:?}, this build needs {newest:?}"
            )));
        }
        Ok(Self {
            pool: Pool::Postgres(pool),
            crypto,
            writer: Default::default(),
            watcher: commits::Watcher::postgres(),
        })
    }

    /// The SQLite URL for a file in `data_dir`.
    pub fn sqlite_url(data_dir: &Path) -> String {
        format!("sqlite://{}", data_dir.join("jiazheng.db").display())
    }

    /// The turn to write on SQLite (held until the transaction ends); PostgreSQL needs none.
    pub(crate) async fn write_turn(&self) -> Option<tokio::sync::MutexGuard<'_, ()>> {
        match self.pool {
            Pool::Sqlite(_) => Some(self.writer.lock().await),
            Pool::Postgres(_) => None,
        }
    }

    pub fn engine(&self) -> Engine {
        match self.pool {
            Pool::Sqlite(_) => Engine::Sqlite,
            Pool::Postgres(_) => Engine::Postgres,
        }
    }

    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    pub fn crypto(&self) -> &Crypto {
        &self.crypto
    }

    /// True when the database answers; `/healthz` asks this.
    pub async fn ping(&self) -> bool {
        on_pool!(self, p => sqlx::query("SELECT 1").execute(p).await.is_ok())
    }

    pub async fn close(&self) {
        on_pool!(self, p => p.close().await)
    }
}

/// A bulk load's statements are long by design (thousands of rows each): timing them would only
/// print whole batches of SQL as "slow statement" warnings.
fn quiet_for<O: sqlx::ConnectOptions>(workload: Workload, options: O) -> O {
    match workload {
        Workload::Serve => options,
        Workload::BulkLoad => options.log_slow_statements(log::LevelFilter::Off, Duration::ZERO),
    }
}

/// SQLite connections: each runs on a thread of its own, so more than the cores only adds
/// context switches. `JIAZHENG_SQLITE_CONNECTIONS` overrides (for measuring).
fn sqlite_connections() -> u32 {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get() as u32);
    std::env::var("JIAZHENG_SQLITE_CONNECTIONS").ok().and_then(|v| v.parse().ok()).unwrap_or((cores * 2).clamp(2, 8))
}

/// Now, to the microsecond, as both engines store it.
pub(crate) fn now() -> chrono::DateTime<chrono::Utc> {
    let now = chrono::Utc::now();
    chrono::DateTime::from_timestamp_micros(now.timestamp_micros()).unwrap_or(now)
}

#[cfg(test)]
mod tests {
    use super::PageRequest;

    #[test]
    fn a_short_first_page_tells_the_total_and_nothing_else_does() {
        let first = PageRequest::new(Some(1), Some(20));
        assert_eq!(first.total_if_known(3), Some(3));
        assert_eq!(first.total_if_known(0), Some(0));
        assert_eq!(first.total_if_known(20), None);
        assert_eq!(PageRequest::new(Some(2), Some(20)).total_if_known(3), None);
        assert_eq!(PageRequest::new(Some(0), Some(500)).per_page, PageRequest::MAX_PER_PAGE);
        assert_eq!(PageRequest::new(Some(3), Some(10)).offset(), 20);
    }
}
