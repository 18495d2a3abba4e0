//! The store layer's error type.

use std::path::PathBuf;

/// What went wrong in the store. Every variant says what failed and what the user can do.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database file could not be opened.
    #[error("cannot open the mail store at {}: {source}; check that the data directory is writable", path.display())]
    Open {
        path: PathBuf,
        source: rusqlite::Error,
    },
    /// The database was written by a newer Tern.
    #[error(
        "the mail store at {} has schema version {found}, newer than this Tern understands ({known}); install a newer Tern or use another --data-dir",
        path.display()
    )]
    TooNew {
        path: PathBuf,
        found: i64,
        known: i64,
    },
    /// A migration failed; the database is left at the previous version.
    #[error("cannot upgrade the mail store at {} to schema version {version} ({name}): {source}", path.display())]
    Migration {
        path: PathBuf,
        version: u32,
        name: &'static str,
        source: rusqlite::Error,
    },
    /// An SQLite statement failed.
    #[error("{context}: {source}")]
    Sqlite {
        context: &'static str,
        source: rusqlite::Error,
    },
    /// A file-system operation failed.
    #[error("{context}: {source}")]
    Io {
        context: String,
        source: std::io::Error,
    },
    /// The thing asked for does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The change would break a uniqueness rule (e.g. two accounts with one name).
    #[error("{0}")]
    Conflict(String),
    /// The environment cannot support the store.
    #[error("{0}")]
    Unsupported(String),
    /// A value in the database cannot be understood (written by a buggy or foreign program).
    #[error("the mail store holds a bad value: {0}")]
    Corrupt(String),
}

impl StoreError {
    /// Adapter for `map_err`: wraps an SQLite error with what was being done.
    pub(crate) fn sqlite(context: &'static str) -> impl FnOnce(rusqlite::Error) -> StoreError {
        move |source| StoreError::Sqlite { context, source }
    }
}
