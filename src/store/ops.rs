//! Offline actions: each user action changes the cache at once and records a `pending_op` row
//! in the same transaction; the engine replays the rows in order and deletes each one together
//! with the cache update that completes it.

use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};

use super::message::flag;
use super::{FolderRole, Result, Store, StoreError, now};

/// What a queued action does, as stored in `pending_op.args`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum OpArgs {
    /// Add and remove flags (IMAP names).
    Flags {
        add: Vec<String>,
        remove: Vec<String>,
    },
    /// Move to another folder; `target` is a folder id, `message_id_header` finds the copy again.
    Move {
        target: i64,
        message_id_header: Option<String>,
    },
    /// Mark \Deleted and expunge.
    Expunge,
}

/// A queued action with the identity of the message it applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingOp {
    pub id: i64,
    pub account_id: i64,
    pub folder_id: Option<i64>,
    pub message_id: Option<i64>,
    pub uidvalidity: Option<i64>,
    pub uid: Option<i64>,
    pub args: OpArgs,
    pub state: String,
    pub error: Option<String>,
}

fn kind(args: &OpArgs) -> &'static str {
    match args {
        OpArgs::Flags { .. } => "flags",
        OpArgs::Move { .. } => "move",
        OpArgs::Expunge => "expunge",
    }
}

impl Store {
    fn queue(&self, tx: &rusqlite::Transaction<'_>, message_id: i64, args: &OpArgs) -> Result<()> {
        let json = serde_json::to_string(args).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        tx.execute(
            "INSERT INTO pending_op (account_id, kind, folder_id, message_id, uidvalidity, uid, args, created_at)
             SELECT m.account_id, ?2, m.folder_id, m.id, f.uidvalidity, m.uid, ?3, ?4
             FROM message m JOIN folder f ON f.id = m.folder_id WHERE m.id = ?1",
            params![message_id, kind(args), json, now()],
        )
        .map_err(StoreError::sqlite("Queue the action"))?;
        Ok(())
    }

    /// Sets and clears flags on a message now and queues the same change for the server.
    pub fn queue_flags(&self, message_id: i64, add: &[String], remove: &[String]) -> Result<()> {
        let (add_bits, add_kw) = flag::from_names(add);
        let (remove_bits, remove_kw) = flag::from_names(remove);
        self.write(|tx| {
            let (bits, keywords): (i64, String) = tx
                .query_row(
                    "SELECT flags, keywords FROM message WHERE id = ?1",
                    [message_id],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()
                .map_err(StoreError::sqlite("Read the message's flags"))?
                .ok_or_else(|| {
                    StoreError::NotFound(format!("there is no message with id {message_id}"))
                })?;
            let mut words: Vec<&str> = keywords.split_whitespace().collect();
            words.retain(|w| !remove_kw.split_whitespace().any(|r| r == *w));
            words.extend(
                add_kw
                    .split_whitespace()
                    .filter(|a| !keywords.split_whitespace().any(|w| w == *a)),
            );
            words.sort_unstable();
            let new_bits = (bits | add_bits) & !remove_bits;
            tx.execute(
                "UPDATE message SET flags = ?2, keywords = ?3 WHERE id = ?1",
                params![message_id, new_bits, words.join(" ")],
            )
            .map_err(StoreError::sqlite("Change the message's flags"))?;
            self.queue(
                tx,
                message_id,
                &OpArgs::Flags {
                    add: add.to_vec(),
                    remove: remove.to_vec(),
                },
            )
        })
    }

    /// Moves a message to another folder of its account now (its UID there is not known yet) and
    /// queues the move for the server.
    pub fn queue_move(&self, message_id: i64, target_folder: i64) -> Result<()> {
        self.write(|tx| {
            let (account, folder, header_id): (i64, i64, Option<String>) = tx
                .query_row(
                    "SELECT account_id, folder_id, message_id FROM message WHERE id = ?1",
                    [message_id],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()
                .map_err(StoreError::sqlite("Read the message"))?
                .ok_or_else(|| {
                    StoreError::NotFound(format!("there is no message with id {message_id}"))
                })?;
            let target_account: Option<i64> = tx
                .query_row(
                    "SELECT account_id FROM folder WHERE id = ?1",
                    [target_folder],
                    |r| r.get(0),
                )
                .optional()
                .map_err(StoreError::sqlite("Read the target folder"))?;
            if target_account != Some(account) {
                return Err(StoreError::NotFound(
                    "the target folder is not in the message's account".into(),
                ));
            }
            if folder == target_folder {
                return Ok(());
            }
            self.queue(
                tx,
                message_id,
                &OpArgs::Move {
                    target: target_folder,
                    message_id_header: header_id,
                },
            )?;
            tx.execute(
                "UPDATE message SET folder_id = ?2, uid = NULL, modseq = NULL WHERE id = ?1",
                params![message_id, target_folder],
            )
            .map_err(StoreError::sqlite("Move the message"))?;
            Ok(())
        })
    }

    /// Deletes a message the way mail clients do: moves it to Trash, or, when it is in Trash
    /// already (or there is no Trash), removes it for good. Returns true when it went to Trash.
    pub fn queue_delete(&self, message_id: i64) -> Result<bool> {
        let message = self.message(message_id)?;
        let folder = self.folder(message.folder_id)?;
        let trash = self
            .folders(message.account_id)?
            .into_iter()
            .find(|f| f.role == Some(FolderRole::Trash));
        match trash {
            Some(trash) if trash.id != folder.id => {
                self.queue_move(message_id, trash.id)?;
                Ok(true)
            }
            _ => {
                self.write(|tx| {
                    self.queue(tx, message_id, &OpArgs::Expunge)?;
                    tx.execute("DELETE FROM message WHERE id = ?1", [message_id])
                        .map_err(StoreError::sqlite("Remove the message"))?;
                    Ok(())
                })?;
                Ok(false)
            }
        }
    }

    /// An account's actions waiting for the server, oldest first.
    pub fn pending_ops(&self, account_id: i64) -> Result<Vec<PendingOp>> {
        self.read(|conn| {
            let mut stmt = conn
                .prepare(
                    "SELECT id, account_id, folder_id, message_id, uidvalidity, uid, args, state, error
                     FROM pending_op WHERE account_id = ?1 ORDER BY id",
                )
                .map_err(StoreError::sqlite("Prepare the queued actions"))?;
            let rows = stmt
                .query_map([account_id], |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, i64>(1)?,
                        r.get::<_, Option<i64>>(2)?,
                        r.get::<_, Option<i64>>(3)?,
                        r.get::<_, Option<i64>>(4)?,
                        r.get::<_, Option<i64>>(5)?,
                        r.get::<_, String>(6)?,
                        r.get::<_, String>(7)?,
                        r.get::<_, Option<String>>(8)?,
                    ))
                })
                .map_err(StoreError::sqlite("Read the queued actions"))?;
            let mut ops = Vec::new();
            for row in rows {
                let (id, account_id, folder_id, message_id, uidvalidity, uid, args, state, error) =
                    row.map_err(StoreError::sqlite("Read a queued action"))?;
                let args: OpArgs = serde_json::from_str(&args)
                    .map_err(|e| StoreError::Corrupt(format!("queued action {id}: {e}")))?;
                ops.push(PendingOp { id, account_id, folder_id, message_id, uidvalidity, uid, args, state, error });
            }
            Ok(ops)
        })
    }

    /// Completes an action: deletes its row and, for a move whose new UID is known, records it.
    pub fn complete_op(&self, op_id: i64, moved: Option<(i64, i64)>) -> Result<()> {
        self.write(|tx| {
            if let Some((message_id, new_uid)) = moved {
                // The UID may already be cached if a sync fetched the copy first; keep one row.
                let folder: Option<i64> = tx
                    .query_row(
                        "SELECT folder_id FROM message WHERE id = ?1",
                        [message_id],
                        |r| r.get(0),
                    )
                    .optional()
                    .map_err(StoreError::sqlite("Read the moved message"))?;
                if let Some(folder) = folder {
                    tx.execute(
                        "DELETE FROM message WHERE folder_id = ?1 AND uid = ?2 AND id != ?3",
                        params![folder, new_uid, message_id],
                    )
                    .map_err(StoreError::sqlite("Drop a second copy"))?;
                    tx.execute(
                        "UPDATE message SET uid = ?2 WHERE id = ?1",
                        params![message_id, new_uid],
                    )
                    .map_err(StoreError::sqlite("Record the moved message's UID"))?;
                }
            }
            tx.execute("DELETE FROM pending_op WHERE id = ?1", [op_id])
                .map_err(StoreError::sqlite("Complete the queued action"))?;
            Ok(())
        })
    }

    /// Marks an action as failed with the reason; it stays for the user to see.
    pub fn fail_op(&self, op_id: i64, reason: &str) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "UPDATE pending_op SET state = 'failed', error = ?2, attempts = attempts + 1 WHERE id = ?1",
                params![op_id, reason],
            )
            .map_err(StoreError::sqlite("Record the failed action"))?;
            Ok(())
        })
    }
}
