//! Forward-only schema migrations, embedded from `migrations/` at build time.
//!
//! Each migration runs in its own IMMEDIATE transaction that also sets `user_version`, so a
//! crash leaves the database at the old or the new version, never in between.

use std::path::Path;

use rusqlite::{Connection, TransactionBehavior};

use super::{Result, StoreError};

/// One embedded migration file.
#[derive(Debug)]
pub(super) struct Migration {
    pub version: u32,
    pub name: &'static str,
    pub sql: &'static str,
}

/// Every migration, in order. Embedded at build time; `tests::migrations_match_the_directory`
/// fails if a file in `migrations/` is missing here or misnumbered.
pub(super) const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "initial",
        sql: include_str!("../../migrations/0001_initial.sql"),
    },
    Migration {
        version: 2,
        name: "contacts",
        sql: include_str!("../../migrations/0002_contacts.sql"),
    },
    Migration {
        version: 3,
        name: "folder_threads",
        sql: include_str!("../../migrations/0003_folder_threads.sql"),
    },
    Migration {
        version: 4,
        name: "folder_sync_errors",
        sql: include_str!("../../migrations/0004_folder_sync_errors.sql"),
    },
    Migration {
        version: 5,
        name: "message_ids_never_reused",
        sql: include_str!("../../migrations/0005_message_ids_never_reused.sql"),
    },
    Migration {
        version: 6,
        name: "outbox_lease",
        sql: include_str!("../../migrations/0006_outbox_lease.sql"),
    },
    Migration {
        version: 7,
        name: "pop3",
        sql: include_str!("../../migrations/0007_pop3.sql"),
    },
    Migration {
        version: 8,
        name: "pop3_failures",
        sql: include_str!("../../migrations/0008_pop3_failures.sql"),
    },
    Migration {
        version: 9,
        name: "pop3_doubtful",
        sql: include_str!("../../migrations/0009_pop3_doubtful.sql"),
    },
    Migration {
        version: 10,
        name: "account_keyring_key",
        sql: include_str!("../../migrations/0010_account_keyring_key.sql"),
    },
    Migration {
        version: 11,
        name: "account_cache_epoch",
        sql: include_str!("../../migrations/0011_account_cache_epoch.sql"),
    },
    Migration {
        version: 12,
        name: "preview_known",
        sql: include_str!("../../migrations/0012_preview_known.sql"),
    },
    Migration {
        version: 13,
        name: "fts_pending",
        sql: include_str!("../../migrations/0013_fts_pending.sql"),
    },
    Migration {
        version: 14,
        name: "message_date",
        sql: include_str!("../../migrations/0014_message_date.sql"),
    },
    Migration {
        version: 15,
        name: "outbox_raw_last",
        sql: include_str!("../../migrations/0015_outbox_raw_last.sql"),
    },
];

/// The schema version this build writes.
pub const LATEST_VERSION: u32 = MIGRATIONS.len() as u32;

/// Brings `conn` up to `LATEST_VERSION`.
pub(super) fn migrate(conn: &mut Connection, path: &Path) -> Result<()> {
    migrate_to(conn, path, LATEST_VERSION)
}

/// Brings `conn` up to `target` (tests use older targets to build old databases).
///
/// Foreign keys are off while migrations run (a migration that rebuilds a table must not
/// cascade its implicit delete into the tables that refer to it; SQLite ignores the pragma
/// inside a transaction, so it is set around them), and each migration checks them before its
/// commit.
pub(super) fn migrate_to(conn: &mut Connection, path: &Path, target: u32) -> Result<()> {
    let enforced: bool = conn
        .query_row("PRAGMA foreign_keys", [], |r| r.get(0))
        .map_err(StoreError::sqlite("Read the foreign key setting"))?;
    conn.pragma_update(None, "foreign_keys", false)
        .map_err(StoreError::sqlite(
            "Turn foreign keys off for the migrations",
        ))?;
    let result = run_migrations(conn, path, target);
    conn.pragma_update(None, "foreign_keys", enforced)
        .map_err(StoreError::sqlite("Turn foreign keys back on"))?;
    result
}

fn run_migrations(conn: &mut Connection, path: &Path, target: u32) -> Result<()> {
    for migration in MIGRATIONS.iter().filter(|m| m.version <= target) {
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(StoreError::sqlite("Begin a migration transaction"))?;
        // Read the version inside the transaction: another process may have migrated meanwhile.
        let current = user_version(&tx)?;
        if current > i64::from(LATEST_VERSION) {
            return Err(StoreError::TooNew {
                path: path.to_owned(),
                found: current,
                known: i64::from(LATEST_VERSION),
            });
        }
        if current >= i64::from(migration.version) {
            continue;
        }
        let failed = |source| StoreError::Migration {
            path: path.to_owned(),
            version: migration.version,
            name: migration.name,
            source,
        };
        tx.execute_batch(migration.sql).map_err(failed)?;
        let violations: i64 = tx
            .query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| {
                r.get(0)
            })
            .map_err(failed)?;
        if violations > 0 {
            return Err(StoreError::Corrupt(format!(
                "migration {} of {} would leave {violations} broken references; the database was not changed",
                migration.version,
                path.display()
            )));
        }
        tx.pragma_update(None, "user_version", migration.version)
            .map_err(failed)?;
        tx.commit().map_err(failed)?;
    }
    let current = user_version(conn)?;
    if current > i64::from(LATEST_VERSION) {
        return Err(StoreError::TooNew {
            path: path.to_owned(),
            found: current,
            known: i64::from(LATEST_VERSION),
        });
    }
    Ok(())
}

pub(super) fn user_version(conn: &Connection) -> Result<i64> {
    conn.query_row("PRAGMA user_version", [], |row| row.get(0))
        .map_err(StoreError::sqlite("Read the schema version"))
}
