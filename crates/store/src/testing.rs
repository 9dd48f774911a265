//! Fresh databases for tests. `JIAZHENG_TEST_DATABASE` picks the engine: unset or `sqlite`
//! for a temporary SQLite file, or a PostgreSQL server URL, on which each test gets a new
//! database of its own. The whole suite runs once per engine.

use std::path::PathBuf;

use crate::crypto::random_bytes;
use crate::{Crypto, Result, Store};

/// A store on a new, migrated database with the Changchun divisions loaded.
pub struct TestDb {
    pub store: Store,
    pub url: String,
    dir: Option<PathBuf>,
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(dir) = &self.dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// The URL of a new empty database on the engine under test.
pub async fn fresh_database_url() -> Result<(String, Option<PathBuf>)> {
    let name = format!("jz_test_{}", hex::encode(random_bytes::<6>()));
    match std::env::var("JIAZHENG_TEST_DATABASE").ok().filter(|v| !v.is_empty() && v != "sqlite") {
        Some(server) => {
            use sqlx::Connection;
            let mut admin = sqlx::PgConnection::connect(&server).await?;
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&mut admin).await?;
            admin.close().await?;
            let base = server.rsplit_once('/').map_or(server.as_str(), |(base, _)| base).to_string();
            Ok((format!("{base}/{name}"), None))
        }
        None => {
            let dir = std::env::temp_dir().join(name);
            std::fs::create_dir_all(&dir).map_err(|e| crate::StoreError::File(e.to_string()))?;
            Ok((Store::sqlite_url(&dir), Some(dir)))
        }
    }
}

impl TestDb {
    pub async fn new() -> Self {
        let (url, dir) = fresh_database_url().await.expect("a test database");
        let store = Store::open(&url, Crypto::ephemeral()).await.expect("open the test database");
        store.ensure_default_divisions().await.expect("load divisions");
        Self { store, url, dir }
    }
}
