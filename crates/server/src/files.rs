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

/// An evidence file as it was uploaded, shown inline but never run: a PDF or picture only, with
/// a policy that allows no script. `stem` names the download (`evidence-12`).
pub fn evidence_response(
    kind: jiazheng_core::market::subsidy::EvidenceType,
    bytes: Vec<u8>,
    stem: &str,
) -> axum::response::Response {
    use axum::http::header;
    use axum::response::IntoResponse;
    use jiazheng_core::market::subsidy::EvidenceType;
    // A browser will not show a PDF in a sandboxed document: PDFs are saved, pictures shown.
    let disposition = match kind {
        EvidenceType::Pdf => format!("attachment; filename=\"{stem}.pdf\""),
        EvidenceType::Jpeg => format!("inline; filename=\"{stem}.jpg\""),
        EvidenceType::Png => format!("inline; filename=\"{stem}.png\""),
    };
    (
        [
            (header::CONTENT_TYPE, kind.mime().to_string()),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CONTENT_SECURITY_POLICY, "default-src 'none'; img-src 'self'; object-src 'self'; sandbox".into()),
            (header::CACHE_CONTROL, "private, no-store".into()),
        ],
        bytes,
    )
        .into_response()
}
