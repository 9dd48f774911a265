use jiazheng_core::FieldErrors;

/// What can go wrong in the store. Constraint violations become `Conflict` so callers can
/// answer 409 instead of 500; everything else is internal and logged, never shown.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    #[error("conflict: {what}")]
    Conflict { what: &'static str, existing_id: Option<i64> },
    #[error("the record changed since it was read")]
    Stale,
    #[error("invalid input")]
    Invalid(FieldErrors),
    #[error("not allowed: {0}")]
    Refused(String),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("crypto: {0}")]
    Crypto(&'static str),
    #[error("file: {0}")]
    File(String),
}

impl StoreError {
    /// Maps a unique or foreign-key violation to a conflict; other errors pass through.
    pub(crate) fn conflict_on(what: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
        move |error| match &error {
            sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict { what, existing_id: None },
            _ => StoreError::Database(error),
        }
    }
}
