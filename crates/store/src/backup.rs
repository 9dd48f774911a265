//! Online backups and restores. SQLite copies itself consistently while others write
//! (`VACUUM INTO`, the engine's own online copy); PostgreSQL uses `pg_dump` / `pg_restore` from
//! the server's packages. The master key is never in a backup: restore needs the same key.

use std::path::Path;
use std::process::Command;

use crate::{Pool, Result, Store, StoreError, on_pool};

impl Store {
    /// Writes a consistent copy of the whole database to `target` (which must not exist).
    pub async fn backup_to(&self, database_url: &str, target: &Path) -> Result<()> {
        if target.exists() {
            return Err(StoreError::File(format!("{} exists; choose a new file", target.display())));
        }
        match self.pool() {
            Pool::Sqlite(_) => {
                let path = target.to_str().ok_or_else(|| StoreError::File("the path is not UTF-8".into()))?;
                on_pool!(self, p => sqlx::query("VACUUM INTO $1").bind(path).execute(p).await.map(|_| ())?);
                Ok(())
            }
            Pool::Postgres(_) => run_tool(
                Command::new(pg_tool("pg_dump"))
                    .arg("--format=custom")
                    .arg("--no-owner")
                    .arg("--file")
                    .arg(target)
                    .arg(database_url),
            ),
        }
    }

    /// Restores a backup into an empty database at `database_url` (a SQLite file that does not
    /// exist yet, or an empty PostgreSQL database), then opens it with `crypto`.
    pub async fn restore_from(backup: &Path, database_url: &str, crypto: crate::Crypto) -> Result<Store> {
        if !backup.is_file() {
            return Err(StoreError::File(format!("{}: no such backup", backup.display())));
        }
        if let Some(path) = database_url.strip_prefix("sqlite://") {
            let path = Path::new(path.split('?').next().unwrap_or(path));
            if path.exists() {
                return Err(StoreError::File(format!("{} exists: restore only into a new place", path.display())));
            }
            std::fs::copy(backup, path).map_err(|e| StoreError::File(e.to_string()))?;
        } else {
            run_tool(
                Command::new(pg_tool("pg_restore"))
                    .arg("--no-owner")
                    .arg("--exit-on-error")
                    .arg("--dbname")
                    .arg(database_url)
                    .arg(backup),
            )?;
        }
        Store::open(database_url, crypto).await
    }
}

/// The newest installed PostgreSQL client tool of this name (Debian keeps them per version).
fn pg_tool(name: &str) -> std::path::PathBuf {
    let mut versions: Vec<std::path::PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|dir| dir.filter_map(|e| e.ok()).map(|e| e.path().join("bin").join(name)).filter(|p| p.exists()).collect())
        .unwrap_or_default();
    versions.sort();
    versions.pop().unwrap_or_else(|| name.into())
}

fn run_tool(command: &mut Command) -> Result<()> {
    let output =
        command.output().map_err(|e| StoreError::File(format!("cannot run {:?}: {e}", command.get_program())))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(StoreError::File(String::from_utf8_lossy(&output.stderr).trim().to_string()))
    }
}
