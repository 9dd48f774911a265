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
    /// The commit mark could not be read (see `commits`).
    #[error("commit mark: {0}")]
    Mark(String),
    #[error("crypto: {0}")]
    Crypto(&'static str),
    #[error("file: {0}")]
    File(String),
    /// A daily limit was reached; try again after Beijing midnight.
    #[error("daily limit reached: {0}")]
    Limited(&'static str),
    /// The worker is booked (or on leave) for part of this time: the range that is taken.
    #[error("overlaps a booking")]
    Overlap { start: chrono::DateTime<chrono::Utc>, end: chrono::DateTime<chrono::Utc> },
    /// Asked again too soon; wait this many seconds.
    #[error("too soon")]
    TooSoon(u64),
    /// An uploaded sheet that cannot be read as one, said in both languages.
    #[error("sheet: {en}")]
    BadSheet { zh: String, en: String },
}

impl StoreError {
    /// A database that is busy rather than broken: SQLite's lock held by a long write past the
    /// busy timeout, or no pooled connection free in time. The client may simply retry.
    pub fn is_busy(&self) -> bool {
        match self {
            StoreError::Database(sqlx::Error::PoolTimedOut) | StoreError::Mark(_) => true,
            StoreError::Database(sqlx::Error::Database(db)) => {
                // SQLITE_BUSY (5) and SQLITE_LOCKED (6) with their extended codes; PostgreSQL's
                // lock_not_available (55P03); and a write sent to a read-only replica (25006),
                // which the primary will take.
                let code = db.code().unwrap_or_default();
                matches!(code.parse::<i64>().map(|c| c & 0xff), Ok(5 | 6)) || code == "55P03" || code == "25006"
            }
            _ => false,
        }
    }

    /// Maps a unique or foreign-key violation to a conflict; other errors pass through.
    pub(crate) fn conflict_on(what: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
        move |error| match &error {
            sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict { what, existing_id: None },
            _ => StoreError::Database(error),
        }
    }
}
