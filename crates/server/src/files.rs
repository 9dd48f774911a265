//! A directory of files the server keeps beside the database (import reports, photos). Without
//! a configured place, a directory of the server's own is made and removed with it, so tests
//! and throwaway servers leave nothing behind.

use std::path::PathBuf;

use crate::AppError;

pub struct Folder {
    dir: PathBuf,
    temporary: bool,
}

impl Folder {
    pub fn at(dir: PathBuf) -> Self {
        Self { dir, temporary: false }
    }

    pub fn temporary(what: &str) -> Self {
        let name = format!("jiazheng-{what}-{}-{}", std::process::id(), rand::random::<u64>());
        Self { dir: std::env::temp_dir().join(name), temporary: true }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// Writes under a temporary name, then renames: a reader never sees half a file.
    pub fn write(&self, name: &str, bytes: &[u8]) -> Result<(), AppError> {
        let internal = |e: std::io::Error| AppError::Internal(format!("{}: {e}", self.dir.display()));
        std::fs::create_dir_all(&self.dir).map_err(internal)?;
        let partial = self.dir.join(format!(".{name}.{}", rand::random::<u64>()));
        std::fs::write(&partial, bytes).map_err(internal)?;
        std::fs::rename(&partial, self.path(name)).map_err(internal)
    }

    pub fn read(&self, name: &str) -> Option<Vec<u8>> {
        std::fs::read(self.path(name)).ok()
    }

    pub fn remove(&self, name: &str) {
        let _ = std::fs::remove_file(self.path(name));
    }
}

impl Drop for Folder {
    fn drop(&mut self) {
        if self.temporary {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}
