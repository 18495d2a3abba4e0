//! The local mail store: the only place that opens SQLite. One writer connection, a pool of readers.
//!
//! Invariants (see ARCHITECTURE.md):
//! - Every logical change is one transaction (`Store::write`), so a `kill -9` leaves a
//!   consistent database.
//! - The database runs in WAL mode with `foreign_keys=ON` and `synchronous=FULL`; only what a
//!   server can give again (the IMAP cache) commits with NORMAL (`Store::write_cache`).
//! - The API is typed methods; rusqlite types never leave this module.

mod account;
mod contact;
mod error;
mod folder;
mod lease;
mod message;
mod migrate;
mod ops;
mod outbox;
mod pages;
mod pop3;
mod sync;

#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, Transaction, TransactionBehavior};

pub use account::{AccountChange, POP3_FOLDERS, POP3_POLL_SECONDS};
pub use contact::Contact;
pub use error::StoreError;
pub use folder::{Folder, FolderRole, NewFolder, attr};
pub use lease::LeasePurpose;
pub use message::{
    BodyWanted, CachedPart, DownloadedBody, MessageRow, NewMessage, PageCursor, SortOrder,
    ThreadRow, flag,
};
pub use migrate::LATEST_VERSION;
pub use ops::{FailedAction, FlagState, Landed, OpArgs, PendingOp};
pub use outbox::{OutboxRow, Outgoing, SentCopy};
pub use pop3::{Pop3Download, Pop3Failure, Pop3Seen, Pop3Stored};
pub use sync::FlagUpdate;

/// Result type of the store layer.
pub type Result<T> = std::result::Result<T, StoreError>;

/// The file name of the database inside the data directory.
pub const DB_FILE: &str = "tern.db";

/// How many idle reader connections are kept.
const READER_POOL: usize = 4;

/// Handle to the mail store. Cheap to clone; all clones share the same connections.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.inner.path)
            .finish()
    }
}

impl Store {
    /// Opens (creating if needed) the store in `data_dir`, applying pending migrations.
    pub fn open_dir(data_dir: &Path) -> Result<Store> {
        std::fs::create_dir_all(data_dir).map_err(|source| StoreError::Io {
            context: format!("cannot create the data directory {}", data_dir.display()),
            source,
        })?;
        Store::open(&data_dir.join(DB_FILE))
    }

    /// Opens (creating if needed) the database file at `path`, applying pending migrations.
    pub fn open(path: &Path) -> Result<Store> {
        let mut writer = open_connection(path, false)?;
        migrate::migrate(&mut writer, path)?;
        Ok(Store {
            inner: Arc::new(Inner {
                path: path.to_owned(),
                writer: Mutex::new(writer),
                readers: Mutex::new(Vec::new()),
            }),
        })
    }

    /// The database file this store uses.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Runs `f` in one IMMEDIATE transaction on the writer connection and commits it.
    /// If `f` fails, nothing it did is kept.
    /// It commits with `synchronous=FULL`, set here every time, so no earlier `write_cache`
    /// (even one that panicked) can leave it relaxed.
    pub(crate) fn write<T>(&self, f: impl FnOnce(&Transaction<'_>) -> Result<T>) -> Result<T> {
        let mut conn = lock(&self.inner.writer);
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(StoreError::sqlite("Set synchronous for a durable write"))?;
        transact(&mut conn, f)
    }

    /// `write` for what a server can give again: the IMAP cache's headers, bodies and previews.
    /// It commits with `synchronous=NORMAL`, so a batch costs no fsync. In WAL mode the
    /// database stays consistent after any crash. A `kill -9` loses nothing, because the WAL is
    /// in the OS's cache. A power loss may roll back the last such transactions (never a
    /// `write` after them: the WAL is one ordered log, and a FULL commit syncs all of it); the
    /// next sync fetches them again. POP3 mail, the outbox and queued actions use `write`.
    pub(crate) fn write_cache<T>(
        &self,
        f: impl FnOnce(&Transaction<'_>) -> Result<T>,
    ) -> Result<T> {
        let mut conn = lock(&self.inner.writer);
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(StoreError::sqlite("Relax synchronous for a cache write"))?;
        let result = transact(&mut conn, f);
        // `write` sets FULL again anyway; restoring here keeps other pragma users honest. The
        // transaction's own result wins: it committed or not whatever this says.
        let _ = conn.pragma_update(None, "synchronous", "FULL");
        result
    }

    /// Runs `f` on a read-only connection, inside one read transaction so it sees one snapshot.
    pub(crate) fn read<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        let pooled = lock(&self.inner.readers).pop();
        let conn = match pooled {
            Some(conn) => conn,
            None => open_connection(&self.inner.path, true)?,
        };
        conn.execute_batch("BEGIN DEFERRED")
            .map_err(StoreError::sqlite("Begin a read transaction"))?;
        let result = f(&conn);
        // A failed COMMIT of a read transaction only means there was nothing to end.
        let ended = conn.execute_batch("COMMIT").is_ok() || conn.is_autocommit();
        if ended {
            let mut readers = lock(&self.inner.readers);
            if readers.len() < READER_POOL {
                readers.push(conn);
            }
        }
        result
    }
}

/// One IMMEDIATE transaction on `conn`: `f`, then commit; nothing is kept if `f` fails.
fn transact<T>(conn: &mut Connection, f: impl FnOnce(&Transaction<'_>) -> Result<T>) -> Result<T> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(StoreError::sqlite("Begin a write transaction"))?;
    let value = f(&tx)?;
    message::flush_search_index(&tx)?;
    tx.commit()
        .map_err(StoreError::sqlite("Commit a write transaction"))?;
    Ok(value)
}

/// Locks a mutex, recovering the guard if a panic poisoned it. A panic mid-transaction has
/// already rolled that transaction back, so the connection is still consistent.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn open_connection(path: &Path, read_only: bool) -> Result<Connection> {
    let flags = if read_only {
        OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI
    } else {
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI
    };
    let conn = Connection::open_with_flags(path, flags).map_err(|source| StoreError::Open {
        path: path.to_owned(),
        source,
    })?;
    conn.busy_timeout(Duration::from_secs(10))
        .map_err(StoreError::sqlite("Set the busy timeout"))?;
    // Storing a message runs about twenty statements; parsing them again for every message
    // cost more than the rest of a POP3 download together (measured with `peers --perf FILE --pop3`).
    conn.set_prepared_statement_cache_capacity(64);
    if !read_only {
        let mode: String = conn
            .query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))
            .map_err(StoreError::sqlite("Switch to WAL mode"))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Unsupported(format!(
                "the mail store at {} cannot use WAL mode (got {mode}); put the data directory on a local disk",
                path.display()
            )));
        }
    }
    conn.execute_batch(
        "PRAGMA foreign_keys = ON;
         PRAGMA synchronous = FULL;
         PRAGMA temp_store = MEMORY;
         PRAGMA cache_size = -16000;
         PRAGMA journal_size_limit = 67108864;",
    )
    .map_err(StoreError::sqlite("Set connection pragmas"))?;
    Ok(conn)
}

/// The current time as Unix seconds.
pub(crate) fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// The current time as Unix seconds (for callers outside the store).
pub fn now_seconds() -> i64 {
    now()
}
