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
            let gone: Vec<(i64, String)> = cached
                .into_iter()
                .filter(|(_, path)| path != "INBOX" && !listed.iter().any(|f| f.path == *path))
                .collect();
            let gone_ids: Vec<i64> = gone.iter().map(|(id, _)| *id).collect();
            for (id, path) in &gone {
                remove_folder_tx(tx, *id, path, &gone_ids)?;
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

    /// How many of a folder's cached messages are on the server (have a UID).
    pub fn cached_count(&self, folder_id: i64) -> Result<i64> {
        self.read(|conn| {
            conn.query_row(
                "SELECT count(*) FROM message WHERE folder_id = ?1 AND uid IS NOT NULL",
                [folder_id],
                |r| r.get(0),
            )
            .map_err(StoreError::sqlite("Count the cached messages"))
        })
    }

    /// Which of `uids` a folder has cached.
    pub fn cached_uids(
        &self,
        folder_id: i64,
        uids: &[u32],
    ) -> Result<std::collections::HashSet<i64>> {
        self.read(|conn| {
            let mut stmt = conn
                .prepare_cached("SELECT 1 FROM message WHERE folder_id = ?1 AND uid = ?2")
                .map_err(StoreError::sqlite("Prepare the UID lookup"))?;
            let mut found = std::collections::HashSet::new();
            for uid in uids {
                if stmt
                    .exists(params![folder_id, uid])
                    .map_err(StoreError::sqlite("Look up a cached UID"))?
                {
                    found.insert(i64::from(*uid));
                }
            }
            Ok(found)
        })
    }

    /// The UIDs of `server_uids` (sorted ascending) that a folder has not cached, ascending:
    /// the exact difference, read from the cache in slices so a huge folder never sits in
    /// memory twice.
    pub fn uncached_uids(&self, folder_id: i64, server_uids: &[u32]) -> Result<Vec<u32>> {
        const SLICE: i64 = 50_000;
        let mut missing = Vec::new();
        let mut rest = server_uids;
        let mut after = 0i64;
        while !rest.is_empty() {
            let cached: Vec<i64> = self.read(|conn| {
                let mut stmt = conn
                    .prepare_cached(
                        "SELECT uid FROM message WHERE folder_id = ?1 AND uid > ?2 ORDER BY uid LIMIT ?3",
                    )
                    .map_err(StoreError::sqlite("Prepare the cached UIDs"))?;
                stmt.query_map(params![folder_id, after, SLICE], |r| r.get(0))
                    .map_err(StoreError::sqlite("Read the cached UIDs"))?
                    .collect::<rusqlite::Result<_>>()
                    .map_err(StoreError::sqlite("Read a cached UID"))
            })?;
            // Server UIDs up to the slice's last cached UID are decided by this slice; past a
            // short (final) slice, everything left is missing.
            let bound = match cached.last() {
                Some(last) if cached.len() as i64 == SLICE => *last,
                _ => i64::MAX,
            };
            let split = rest.partition_point(|uid| i64::from(*uid) <= bound);
            let (now, later) = rest.split_at(split);
            let mut c = cached.iter().peekable();
            for uid in now {
                let uid64 = i64::from(*uid);
                while c.next_if(|cached| **cached < uid64).is_some() {}
                if c.peek() != Some(&&uid64) {
                    missing.push(*uid);
                }
            }
            rest = later;
            after = bound;
        }
        Ok(missing)
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

    /// Applies flag changes and removes expunged UIDs, given as inclusive ranges (a VANISHED
    /// set is never expanded into single UIDs), in one transaction. Returns how many cached
    /// messages were removed.
    pub fn apply_server_changes(
        &self,
        folder_id: i64,
        flags: &[FlagUpdate],
        expunged: &[(i64, i64)],
    ) -> Result<usize> {
        self.write(|tx| {
            {
                let mut update = tx
                    .prepare_cached(
                        "UPDATE message SET flags = ?3, keywords = ?4, modseq = coalesce(?5, modseq)
                         WHERE folder_id = ?1 AND uid = ?2
                           AND (flags != ?3 OR keywords != ?4 OR modseq IS NOT coalesce(?5, modseq))",
                    )
                    .map_err(StoreError::sqlite("Prepare the flag update"))?;
                for (uid, bits, keywords, modseq) in flags {
                    update
                        .execute(params![folder_id, uid, bits, keywords, modseq])
                        .map_err(StoreError::sqlite("Update flags"))?;
                }
            }
            let mut delete = tx
                .prepare_cached(
                    "DELETE FROM message WHERE folder_id = ?1 AND uid BETWEEN ?2 AND ?3",
                )
                .map_err(StoreError::sqlite("Prepare the expunge"))?;
            let mut removed = 0;
            for (low, high) in expunged {
                removed += delete
                    .execute(params![folder_id, low, high])
                    .map_err(StoreError::sqlite("Remove an expunged message"))?;
            }
            Ok(removed)
        })
    }

    /// Makes the next pass of a folder compare the server's whole UID list with the cache (as
    /// after a failed action, or when the cache cannot match what the server reported).
    pub fn request_full_resync(&self, folder_id: i64) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "UPDATE folder SET backfill_uid = NULL WHERE id = ?1",
                [folder_id],
            )
            .map_err(StoreError::sqlite("Ask for a full resync of the folder"))?;
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
            // Only the actions on this folder's UIDs no longer apply; uploads (APPEND) and moves
            // or copies into it do not depend on its UIDs, and messages that exist only here
            // stay.
            for op in ops_touching(tx, folder_id, false)? {
                super::ops::fail_tx(
                    tx,
                    op,
                    "the folder was recreated on the server (UIDVALIDITY changed); the action no longer applies",
                    &[],
                )?;
            }
            tx.execute(
                "DELETE FROM message WHERE folder_id = ?1 AND uid IS NOT NULL",
                [folder_id],
            )
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

/// The not-yet-failed actions that act on a folder: with `all`, every one on its messages and
/// every move or copy into it; without, only those that use its UIDs (not uploads into it).
fn ops_touching(tx: &rusqlite::Transaction<'_>, folder_id: i64, all: bool) -> Result<Vec<i64>> {
    let mut stmt = tx
        .prepare_cached(
            "SELECT id FROM pending_op WHERE state != 'failed'
               AND ((folder_id = ?1 AND (?2 OR kind != 'append'))
                    OR (?2 AND kind IN ('move', 'copy') AND json_extract(args, '$.target') = ?1))
             ORDER BY id",
        )
        .map_err(StoreError::sqlite("Find the folder's queued actions"))?;
    stmt.query_map(params![folder_id, all], |r| r.get(0))
        .map_err(StoreError::sqlite("Find the folder's queued actions"))?
        .collect::<rusqlite::Result<_>>()
        .map_err(StoreError::sqlite("Read a queued action"))
}

/// Removes a folder the server no longer lists (another client deleted or renamed it). Its
/// queued actions, and moves and copies into it, fail with the reason and are undone in the
/// cache (a message waiting to move in goes back where it came from). A folder holding messages
/// that exist only here (uploads not done yet) is kept, with the reason, so nothing is lost.
fn remove_folder_tx(
    tx: &rusqlite::Transaction<'_>,
    folder_id: i64,
    path: &str,
    gone: &[i64],
) -> Result<()> {
    let reason = format!(
        "the folder {path} was deleted or renamed on the server; the action no longer applies"
    );
    for op in ops_touching(tx, folder_id, true)? {
        super::ops::fail_tx(tx, op, &reason, gone)?;
    }
    let local_only: i64 = tx
        .query_row(
            "SELECT count(*) FROM message WHERE folder_id = ?1 AND uid IS NULL",
            [folder_id],
            |r| r.get(0),
        )
        .map_err(StoreError::sqlite("Count the folder's local messages"))?;
    if local_only > 0 {
        // What was on the server is gone with the folder; what exists only here stays.
        tx.execute(
            "DELETE FROM message WHERE folder_id = ?1 AND uid IS NOT NULL",
            [folder_id],
        )
        .map_err(StoreError::sqlite("Drop the folder's server messages"))?;
        let error = format!(
            "the server no longer has this folder; {local_only} message(s) here exist only in Tern: move them to another folder"
        );
        tx.execute(
            "UPDATE folder SET sync_error = ?2 WHERE id = ?1",
            params![folder_id, error],
        )
        .map_err(StoreError::sqlite("Record the folder's sync error"))?;
        return Ok(());
    }
    tx.execute("DELETE FROM folder WHERE id = ?1", [folder_id])
        .map_err(StoreError::sqlite(
            "Remove a folder the server no longer has",
        ))?;
    Ok(())
}
