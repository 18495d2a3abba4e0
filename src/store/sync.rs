//! Sync-state queries and updates used by the engines: folder lists from the server, UID ranges,
//! flag changes and expunges, and the cache reset after a UIDVALIDITY change. Each method is one
//! transaction.

use rusqlite::params;

use super::folder::{NewFolder, upsert_folder};
use super::{Folder, Result, Store, StoreError};

/// A flag change seen on the server: (uid, flag bits, keywords, modseq).
pub type FlagUpdate = (i64, i64, String, Option<i64>);

impl Store {
    /// Makes the account's folder list match the server's: creates and updates the listed
    /// folders and removes cached folders the server no longer has (INBOX is always kept).
    pub fn sync_folders(&self, account_id: i64, listed: &[NewFolder]) -> Result<Vec<Folder>> {
        self.write(|tx| {
            for folder in listed {
                upsert_folder(tx, account_id, folder)?;
            }
            let mut stmt = tx
                .prepare("SELECT id, path FROM folder WHERE account_id = ?1")
                .map_err(StoreError::sqlite("List cached folders"))?;
            let cached: Vec<(i64, String)> = stmt
                .query_map([account_id], |r| Ok((r.get(0)?, r.get(1)?)))
                .map_err(StoreError::sqlite("List cached folders"))?
                .collect::<rusqlite::Result<_>>()
                .map_err(StoreError::sqlite("Read a cached folder"))?;
            for (id, path) in cached {
                if path != "INBOX" && !listed.iter().any(|f| f.path == path) {
                    tx.execute("DELETE FROM folder WHERE id = ?1", [id])
                        .map_err(StoreError::sqlite(
                            "Remove a folder the server no longer has",
                        ))?;
                }
            }
            Ok(())
        })?;
        self.folders(account_id)
    }

    /// The lowest and highest cached UID of a folder.
    pub fn uid_range(&self, folder_id: i64) -> Result<(Option<i64>, Option<i64>)> {
        self.read(|conn| {
            conn.query_row(
                "SELECT min(uid), max(uid) FROM message WHERE folder_id = ?1 AND uid IS NOT NULL",
                [folder_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(StoreError::sqlite("Read the cached UID range"))
        })
    }

    /// Up to `limit` cached (uid, flags, keywords) of a folder with UIDs above `after_uid`, by UID.
    pub fn cached_flags(
        &self,
        folder_id: i64,
        after_uid: i64,
        limit: usize,
    ) -> Result<Vec<(i64, i64, String)>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.read(|conn| {
            let mut stmt = conn
                .prepare_cached(
                    "SELECT uid, flags, keywords FROM message
                     WHERE folder_id = ?1 AND uid > ?2 ORDER BY uid LIMIT ?3",
                )
                .map_err(StoreError::sqlite("Prepare the cached flags"))?;
            let rows = stmt
                .query_map(params![folder_id, after_uid, limit], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                })
                .map_err(StoreError::sqlite("Read the cached flags"))?;
            rows.collect::<rusqlite::Result<_>>()
                .map_err(StoreError::sqlite("Read a cached flag row"))
        })
    }

    /// Removes every message of a folder that the server has (all but those still waiting for
    /// an upload or move): the server reported the folder empty. Returns how many.
    pub fn expunge_all(&self, folder_id: i64) -> Result<usize> {
        self.write(|tx| {
            tx.execute(
                "DELETE FROM message WHERE folder_id = ?1 AND uid IS NOT NULL",
                [folder_id],
            )
            .map_err(StoreError::sqlite("Remove the folder's messages"))
        })
    }

    /// Applies flag changes and removes expunged UIDs, in one transaction.
    pub fn apply_server_changes(
        &self,
        folder_id: i64,
        flags: &[FlagUpdate],
        expunged: &[i64],
    ) -> Result<()> {
        self.write(|tx| {
            {
                let mut update = tx
                    .prepare_cached(
                        "UPDATE message SET flags = ?3, keywords = ?4, modseq = coalesce(?5, modseq)
                         WHERE folder_id = ?1 AND uid = ?2 AND (flags != ?3 OR keywords != ?4)",
                    )
                    .map_err(StoreError::sqlite("Prepare the flag update"))?;
                for (uid, bits, keywords, modseq) in flags {
                    update
                        .execute(params![folder_id, uid, bits, keywords, modseq])
                        .map_err(StoreError::sqlite("Update flags"))?;
                }
            }
            let mut delete = tx
                .prepare_cached("DELETE FROM message WHERE folder_id = ?1 AND uid = ?2")
                .map_err(StoreError::sqlite("Prepare the expunge"))?;
            for uid in expunged {
                delete
                    .execute(params![folder_id, uid])
                    .map_err(StoreError::sqlite("Remove an expunged message"))?;
            }
            Ok(())
        })
    }

    /// Records that the headers of every message on the server are cached (backfill done).
    pub fn set_backfill_complete(&self, folder_id: i64) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "UPDATE folder SET backfill_uid = 1 WHERE id = ?1",
                [folder_id],
            )
            .map_err(StoreError::sqlite("Record the completed backfill"))?;
            Ok(())
        })
    }

    /// Drops a folder's cache after its UIDVALIDITY changed and records the new value. Queued
    /// offline actions for the folder are kept, marked failed with the reason.
    pub fn reset_folder(&self, folder_id: i64, uidvalidity: i64) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "UPDATE pending_op SET state = 'failed',
                     error = 'the folder was recreated on the server (UIDVALIDITY changed); the action no longer applies'
                 WHERE folder_id = ?1 AND state != 'failed'",
                [folder_id],
            )
            .map_err(StoreError::sqlite("Fail the folder's queued actions"))?;
            tx.execute("DELETE FROM message WHERE folder_id = ?1", [folder_id])
                .map_err(StoreError::sqlite("Drop the folder's cache"))?;
            tx.execute(
                "UPDATE folder SET uidvalidity = ?2, uidnext = NULL, highestmodseq = NULL, backfill_uid = NULL
                 WHERE id = ?1",
                params![folder_id, uidvalidity],
            )
            .map_err(StoreError::sqlite("Record the new UIDVALIDITY"))?;
            Ok(())
        })
    }
}
