//! Offline actions: each user action changes the cache at once and records a `pending_op` row
//! in the same transaction; the engine replays the rows in order and deletes each one together
//! with the cache update that completes it.

use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};

use super::message::flag;
use super::{FolderRole, NewMessage, Result, Store, StoreError, now};

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
    /// Copy to another folder; `copy` is the row that stands for the copy until its UID is known.
    Copy {
        target: i64,
        copy: i64,
        message_id_header: Option<String>,
    },
    /// Upload the message row's cached source (`body.raw`) to its folder with these flags.
    Append { flags: Vec<String> },
    /// Add flags to the messages of the folder the user saw (Mark all read): one
    /// `UID STORE 1:through_uid`, so mail that arrived after the click keeps its flags.
    /// (`None` only in rows queued before this field existed: `1:*`.)
    FlagsAll {
        add: Vec<String>,
        #[serde(default)]
        through_uid: Option<i64>,
    },
}

/// Where a moved, copied or uploaded message landed on the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Landed {
    /// The cached row that stands for it.
    pub message_id: i64,
    pub uid: i64,
    /// The target folder's UIDVALIDITY the UID belongs to, when the server said.
    pub uidvalidity: Option<i64>,
}

/// A message's flags as the server reported them (after Tern's own STORE, or fetched after a
/// conflict), with its MODSEQ when the server has CONDSTORE.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlagState {
    pub bits: i64,
    pub keywords: String,
    pub modseq: Option<i64>,
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
        OpArgs::Copy { .. } => "copy",
        OpArgs::Append { .. } => "append",
        OpArgs::FlagsAll { .. } => "flags",
    }
}

/// Fails unless `folder` belongs to `account`.
fn check_same_account(tx: &rusqlite::Transaction<'_>, account: i64, folder: i64) -> Result<()> {
    let folder_account: Option<i64> = tx
        .query_row(
            "SELECT account_id FROM folder WHERE id = ?1",
            [folder],
            |r| r.get(0),
        )
        .optional()
        .map_err(StoreError::sqlite("Read the target folder"))?;
    if folder_account == Some(account) {
        Ok(())
    } else {
        Err(StoreError::NotFound(
            "the target folder is not in the message's account".into(),
        ))
    }
}

/// Records a queued action for `message_id` (its account, folder, UIDVALIDITY and UID).
///
/// A POP3 account's folders are local (the store is the authority): nothing is queued for a
/// server, except that deleting a message (to Trash, or for good) marks its UIDL
/// `deleted_here`, which the next connection carries out when the account deletes from the
/// server what is deleted here; taking it back out of Trash clears the mark.
pub(super) fn queue_tx(
    tx: &rusqlite::Transaction<'_>,
    message_id: i64,
    args: &OpArgs,
) -> Result<()> {
    let pop3: bool = tx
        .query_row(
            "SELECT a.protocol = 'pop3' FROM message m JOIN account a ON a.id = m.account_id
             WHERE m.id = ?1",
            [message_id],
            |r| r.get(0),
        )
        .optional()
        .map_err(StoreError::sqlite("Read the message's account"))?
        .unwrap_or(false);
    if pop3 {
        return mark_pop3_deletion(tx, message_id, args);
    }
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

/// For a POP3 account: deleting a message (into Trash or for good) marks its UIDL deleted here;
/// moving it from Trash to another folder takes the mark back (unless it left the server).
fn mark_pop3_deletion(
    tx: &rusqlite::Transaction<'_>,
    message_id: i64,
    args: &OpArgs,
) -> Result<()> {
    let is_trash = |folder: i64| -> Result<bool> {
        tx.query_row(
            "SELECT coalesce(role = 'trash', 0) FROM folder WHERE id = ?1",
            [folder],
            |r| r.get(0),
        )
        .optional()
        .map_err(StoreError::sqlite("Read the folder's role"))
        .map(|trash| trash.unwrap_or(false))
    };
    let deleted = match args {
        OpArgs::Expunge => Some(true),
        OpArgs::Move { target, .. } => {
            let from: i64 = tx
                .query_row(
                    "SELECT folder_id FROM message WHERE id = ?1",
                    [message_id],
                    |r| r.get(0),
                )
                .map_err(StoreError::sqlite("Read the message's folder"))?;
            match (is_trash(from)?, is_trash(*target)?) {
                (false, true) => Some(true),
                (true, false) => Some(false),
                _ => None,
            }
        }
        _ => None,
    };
    if let Some(deleted) = deleted {
        tx.execute(
            "UPDATE pop3_uidl SET deleted_here = ?2
             WHERE (account_id, uidl) = (SELECT account_id, uidl FROM message WHERE id = ?1)
               AND (?2 OR removed_at IS NULL)",
            params![message_id, deleted],
        )
        .map_err(StoreError::sqlite("Mark the message as deleted here"))?;
    }
    Ok(())
}

/// Flags `bits`/`keywords` after adding `add` and removing `remove` (IMAP names).
pub(super) fn apply_flag_change(
    bits: i64,
    keywords: &str,
    add: &[String],
    remove: &[String],
) -> (i64, String) {
    let (add_bits, add_kw) = flag::from_names(add);
    let (remove_bits, remove_kw) = flag::from_names(remove);
    let mut words: Vec<&str> = keywords.split_whitespace().collect();
    words.retain(|w| !remove_kw.split_whitespace().any(|r| r == *w));
    words.extend(
        add_kw
            .split_whitespace()
            .filter(|a| !keywords.split_whitespace().any(|w| w == *a)),
    );
    words.sort_unstable();
    words.dedup();
    ((bits | add_bits) & !remove_bits, words.join(" "))
}

/// Sets and clears flags on a cached message and, when `queue`, records the same change for
/// the server.
pub(super) fn set_flags_tx(
    tx: &rusqlite::Transaction<'_>,
    message_id: i64,
    add: &[String],
    remove: &[String],
    queue: bool,
) -> Result<()> {
    let (bits, keywords): (i64, String) = tx
        .query_row(
            "SELECT flags, keywords FROM message WHERE id = ?1",
            [message_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
        .map_err(StoreError::sqlite("Read the message's flags"))?
        .ok_or_else(|| StoreError::NotFound(format!("there is no message with id {message_id}")))?;
    let (new_bits, new_keywords) = apply_flag_change(bits, &keywords, add, remove);
    tx.execute(
        "UPDATE message SET flags = ?2, keywords = ?3 WHERE id = ?1",
        params![message_id, new_bits, new_keywords],
    )
    .map_err(StoreError::sqlite("Change the message's flags"))?;
    if queue {
        queue_tx(
            tx,
            message_id,
            &OpArgs::Flags {
                add: add.to_vec(),
                remove: remove.to_vec(),
            },
        )?;
    }
    Ok(())
}

impl Store {
    fn queue(&self, tx: &rusqlite::Transaction<'_>, message_id: i64, args: &OpArgs) -> Result<()> {
        queue_tx(tx, message_id, args)
    }

    /// Sets and clears flags on a message now and queues the same change for the server.
    pub fn queue_flags(&self, message_id: i64, add: &[String], remove: &[String]) -> Result<()> {
        self.write(|tx| set_flags_tx(tx, message_id, add, remove, true))
    }

    /// Moves a message to another folder of its account now (its UID there is not known yet) and
    /// queues the move for the server.
    pub fn queue_move(&self, message_id: i64, target_folder: i64) -> Result<()> {
        self.write(|tx| queue_move_tx(tx, message_id, target_folder))
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
                self.queue_expunge(message_id)?;
                Ok(false)
            }
        }
    }

    /// Removes a message for good now (no Trash) and queues \Deleted + EXPUNGE for the server.
    /// A message not uploaded yet (a draft replaced by its next autosave, say) just goes, with
    /// its queued upload: nothing is sent for it, so no action can fail. (An upload that may
    /// already have reached the server, `running`, is not cancelled this way.)
    pub fn queue_expunge(&self, message_id: i64) -> Result<()> {
        self.write(|tx| {
            // A message waiting to reach this folder (uid NULL) is not here on the server yet:
            // deleting it for good cancels or redirects what was queued for it.
            let waiting = "EXISTS (SELECT 1 FROM message WHERE id = ?1 AND uid IS NULL)";
            // An upload not sent yet: nothing to delete on the server.
            let cancelled = tx
                .execute(
                    &format!(
                        "DELETE FROM pending_op WHERE message_id = ?1 AND kind = 'append'
                           AND state = 'queued' AND {waiting}"
                    ),
                    [message_id],
                )
                .map_err(StoreError::sqlite("Cancel the queued upload"))?;
            // A copy not made yet: it is not made.
            let cancelled = cancelled
                + tx.execute(
                    &format!(
                        "DELETE FROM pending_op WHERE kind = 'copy' AND state = 'queued'
                           AND json_extract(args, '$.copy') = ?1 AND {waiting}"
                    ),
                    [message_id],
                )
                .map_err(StoreError::sqlite("Cancel the queued copy"))?;
            // A move not made yet (archived, then deleted for good): the original is deleted
            // for good where it still is.
            let expunge = serde_json::to_string(&OpArgs::Expunge)
                .map_err(|e| StoreError::Corrupt(e.to_string()))?;
            let redirected = tx
                .execute(
                    &format!(
                        "UPDATE pending_op SET kind = 'expunge', args = ?2
                         WHERE message_id = ?1 AND kind = 'move' AND state = 'queued'
                           AND uid IS NOT NULL AND {waiting}"
                    ),
                    params![message_id, expunge],
                )
                .map_err(StoreError::sqlite("Turn the move into a delete"))?;
            if cancelled + redirected == 0 {
                self.queue(tx, message_id, &OpArgs::Expunge)?;
            }
            tx.execute("DELETE FROM message WHERE id = ?1", [message_id])
                .map_err(StoreError::sqlite("Remove the message"))?;
            Ok(())
        })
    }

    /// Stores a message in a local folder (POP3 and local accounts, whose store is the
    /// authority): no server action is queued. Returns the new row's id.
    pub fn store_local(
        &self,
        account_id: i64,
        message: &NewMessage,
        raw: &[u8],
        body_text: &str,
    ) -> Result<i64> {
        self.write(|tx| {
            check_same_account(tx, account_id, message.folder_id)?;
            super::message::insert_with_source(tx, account_id, message, raw, body_text)
        })
    }

    /// Removes a message from a local folder (no server action).
    pub fn delete_local(&self, message_id: i64) -> Result<()> {
        self.write(|tx| {
            tx.execute("DELETE FROM message WHERE id = ?1", [message_id])
                .map_err(StoreError::sqlite("Remove the message"))?;
            Ok(())
        })
    }

    /// Copies a message to another folder of its account now (a new row without a UID, with the
    /// cached source if any) and queues the copy for the server. Returns the new row's id.
    pub fn queue_copy(&self, message_id: i64, target_folder: i64) -> Result<i64> {
        self.write(|tx| queue_copy_tx(tx, message_id, target_folder))
    }

    /// Stores a new message in a folder now (its source cached, its body text searchable) and
    /// queues the upload (IMAP APPEND) with `flags`. Returns the new row's id. Used for drafts,
    /// sent copies and imports.
    pub fn queue_append(
        &self,
        account_id: i64,
        message: &NewMessage,
        raw: &[u8],
        body_text: &str,
    ) -> Result<i64> {
        let flags = flag::names(message.flags, &message.keywords);
        self.write(|tx| {
            check_same_account(tx, account_id, message.folder_id)?;
            let mut message = message.clone();
            message.uid = None;
            message.modseq = None;
            let id = super::message::insert_with_source(tx, account_id, &message, raw, body_text)?;
            self.queue(tx, id, &OpArgs::Append { flags })?;
            Ok(id)
        })
    }

    /// Marks every message of a folder read now (one statement, served by the unread index) and
    /// queues one `UID STORE 1:<highest cached UID> +FLAGS (\Seen)` for the server: the mail the
    /// user saw, not what arrives after the click. Returns how many changed.
    pub fn queue_mark_folder_read(&self, folder_id: i64) -> Result<usize> {
        self.write(|tx| mark_folder_read_tx(tx, folder_id))
    }

    /// Marks an action as started: a replay that finds it still running must first check
    /// whether the server already applied it (a crash can fall between the command and its
    /// completion), so a copy or upload is never made twice.
    pub fn start_op(&self, op_id: i64) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "UPDATE pending_op SET state = 'running', attempts = attempts + 1 WHERE id = ?1",
                [op_id],
            )
            .map_err(StoreError::sqlite("Mark the action as started"))?;
            Ok(())
        })
    }

    /// One queued action, if it is still there.
    pub fn pending_op(&self, op_id: i64) -> Result<Option<PendingOp>> {
        Ok(self.read_ops("WHERE id = ?1", op_id)?.into_iter().next())
    }

    /// An account's actions waiting for the server, oldest first.
    pub fn pending_ops(&self, account_id: i64) -> Result<Vec<PendingOp>> {
        self.read_ops("WHERE account_id = ?1 ORDER BY id", account_id)
    }

    fn read_ops(&self, filter: &str, value: i64) -> Result<Vec<PendingOp>> {
        self.read(|conn| {
            let mut stmt = conn
                .prepare_cached(&format!(
                    "SELECT id, account_id, folder_id, message_id, uidvalidity, uid, args, state, error
                     FROM pending_op {filter}"
                ))
                .map_err(StoreError::sqlite("Prepare the queued actions"))?;
            let rows = stmt
                .query_map([value], |r| {
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

    /// Completes an action: deletes its row and, for a move, copy or upload whose new UID is
    /// known, records it (and the folder's UIDVALIDITY, if the folder was never synced).
    pub fn complete_op(&self, op_id: i64, landed: Option<Landed>) -> Result<()> {
        self.write(|tx| {
            if let Some(Landed {
                message_id,
                uid: new_uid,
                uidvalidity,
            }) = landed
            {
                // The UID belongs to the folder the action put the message in; a row that has
                // left it since (the user moved it meanwhile) does not take it.
                let (kind, op_folder, args): (String, Option<i64>, String) = tx
                    .query_row(
                        "SELECT kind, folder_id, args FROM pending_op WHERE id = ?1",
                        [op_id],
                        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                    )
                    .map_err(StoreError::sqlite("Read the completed action"))?;
                let landed_in = match serde_json::from_str::<OpArgs>(&args) {
                    Ok(OpArgs::Move { target, .. } | OpArgs::Copy { target, .. }) => Some(target),
                    _ if kind == "append" => op_folder,
                    _ => None,
                };
                // The UID may already be cached if a sync fetched the copy first; keep one row.
                let folder: Option<i64> = tx
                    .query_row(
                        "SELECT folder_id FROM message WHERE id = ?1",
                        [message_id],
                        |r| r.get(0),
                    )
                    .optional()
                    .map_err(StoreError::sqlite("Read the moved message"))?;
                if let (Some(now_in), Some(landed_in)) = (folder, landed_in)
                    && now_in != landed_in
                {
                    // The user moved it on meanwhile (archived, then deleted): the next action
                    // takes it from where this one put it, under this UID.
                    tx.execute(
                        "UPDATE pending_op SET uid = ?3, uidvalidity = coalesce(uidvalidity, ?4)
                         WHERE message_id = ?1 AND folder_id = ?2 AND uid IS NULL
                           AND state != 'failed'",
                        params![message_id, landed_in, new_uid, uidvalidity],
                    )
                    .map_err(StoreError::sqlite("Give the UID to the next action"))?;
                }
                let folder = folder.filter(|folder| landed_in.is_none_or(|target| target == *folder));
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
                    if let Some(validity) = uidvalidity {
                        tx.execute(
                            "UPDATE folder SET uidvalidity = ?2 WHERE id = ?1 AND uidvalidity IS NULL",
                            params![folder, validity],
                        )
                        .map_err(StoreError::sqlite("Record the folder's UIDVALIDITY"))?;
                    }
                }
            }
            tx.execute("DELETE FROM pending_op WHERE id = ?1", [op_id])
                .map_err(StoreError::sqlite("Complete the queued action"))?;
            Ok(())
        })
    }

    /// Completes a flag change: deletes its row and records the message's flags and MODSEQ as
    /// the server reported them, with the flag changes still queued after it laid on top (so
    /// the cache shows the user's latest intent while those wait). `state` is None when the
    /// server reported nothing for the message (it was expunged meanwhile: the sync removes it).
    pub fn complete_flags_op(&self, op: &PendingOp, state: Option<&FlagState>) -> Result<()> {
        self.write(|tx| {
            if let (Some(message_id), Some(state)) = (op.message_id, state) {
                let (mut bits, mut keywords) = (state.bits, state.keywords.clone());
                let later: Vec<String> = {
                    let mut stmt = tx
                        .prepare_cached(
                            "SELECT args FROM pending_op
                             WHERE message_id = ?1 AND id > ?2 AND kind = 'flags' AND state != 'failed'
                             ORDER BY id",
                        )
                        .map_err(StoreError::sqlite("Read the later flag changes"))?;
                    stmt.query_map(params![message_id, op.id], |r| r.get(0))
                        .map_err(StoreError::sqlite("Read the later flag changes"))?
                        .collect::<rusqlite::Result<_>>()
                        .map_err(StoreError::sqlite("Read a later flag change"))?
                };
                for args in later {
                    if let Ok(OpArgs::Flags { add, remove }) = serde_json::from_str(&args) {
                        (bits, keywords) = apply_flag_change(bits, &keywords, &add, &remove);
                    }
                }
                if bits & flag::DELETED != 0 {
                    // Marked \Deleted on the server: it counts as gone.
                    tx.execute("DELETE FROM message WHERE id = ?1", [message_id])
                        .map_err(StoreError::sqlite("Remove the deleted message"))?;
                } else {
                    tx.execute(
                        "UPDATE message SET flags = ?2, keywords = ?3, modseq = coalesce(?4, modseq)
                         WHERE id = ?1 AND (flags != ?2 OR keywords != ?3 OR modseq IS NOT coalesce(?4, modseq))",
                        params![message_id, bits, keywords, state.modseq],
                    )
                    .map_err(StoreError::sqlite("Record the server's flags"))?;
                }
            }
            tx.execute("DELETE FROM pending_op WHERE id = ?1", [op.id])
                .map_err(StoreError::sqlite("Complete the queued action"))?;
            Ok(())
        })
    }

    /// The actions that failed (of one account, or all), oldest first. They are shown until
    /// the user tries them again or dismisses them, and never count as queued.
    pub fn failed_actions(&self, account_id: Option<i64>) -> Result<Vec<FailedAction>> {
        self.read(|conn| {
            let mut stmt = conn
                .prepare_cached(
                    "SELECT p.id, p.account_id, p.kind, p.args, p.message_id, m.subject, f.path,
                            coalesce(p.error, ''), p.attempts, p.created_at
                     FROM pending_op p
                     LEFT JOIN message m ON m.id = p.message_id
                     LEFT JOIN folder f ON f.id = p.folder_id
                     WHERE p.state = 'failed' AND (?1 IS NULL OR p.account_id = ?1)
                     ORDER BY p.id",
                )
                .map_err(StoreError::sqlite("Prepare the failed actions"))?;
            let rows = stmt
                .query_map([account_id], |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, i64>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, Option<i64>>(4)?,
                        r.get::<_, Option<String>>(5)?,
                        r.get::<_, Option<String>>(6)?,
                        r.get::<_, String>(7)?,
                        r.get::<_, i64>(8)?,
                        r.get::<_, i64>(9)?,
                    ))
                })
                .map_err(StoreError::sqlite("Read the failed actions"))?;
            let mut out = Vec::new();
            for row in rows {
                let (
                    id,
                    account_id,
                    kind,
                    args,
                    message_id,
                    subject,
                    folder,
                    error,
                    attempts,
                    created_at,
                ) = row.map_err(StoreError::sqlite("Read a failed action"))?;
                let args = serde_json::from_str::<OpArgs>(&args).ok();
                let target = |id: i64| -> Option<String> {
                    conn.query_row("SELECT path FROM folder WHERE id = ?1", [id], |r| r.get(0))
                        .optional()
                        .ok()
                        .flatten()
                };
                let what = match &args {
                    Some(OpArgs::Flags { add, remove }) => {
                        let mut words: Vec<String> =
                            add.iter().map(|f| format!("add {f}")).collect();
                        words.extend(remove.iter().map(|f| format!("remove {f}")));
                        words.join(", ")
                    }
                    Some(OpArgs::FlagsAll { .. }) => "mark the folder read".to_owned(),
                    Some(OpArgs::Move { target: t, .. }) => format!(
                        "move to {}",
                        target(*t).unwrap_or_else(|| "a folder that is gone".into())
                    ),
                    Some(OpArgs::Copy { target: t, .. }) => format!(
                        "copy to {}",
                        target(*t).unwrap_or_else(|| "a folder that is gone".into())
                    ),
                    Some(OpArgs::Expunge) => "delete for good".to_owned(),
                    Some(OpArgs::Append { .. }) => "upload to the server".to_owned(),
                    None => kind.clone(),
                };
                let retryable = match &args {
                    Some(OpArgs::Expunge) | None => false,
                    Some(OpArgs::FlagsAll { .. }) => folder.is_some(),
                    Some(_) => subject.is_some(),
                };
                out.push(FailedAction {
                    id,
                    account_id,
                    kind,
                    what,
                    message_id: message_id.filter(|_| subject.is_some()),
                    subject,
                    folder,
                    error,
                    attempts,
                    created_at,
                    retryable,
                });
            }
            Ok(out)
        })
    }

    /// Tries a failed action again: it is done anew on the cache and queued (in one
    /// transaction), as if the user had just asked for it.
    pub fn retry_op(&self, op_id: i64) -> Result<()> {
        self.write(|tx| {
            let (message, folder, args, state): (Option<i64>, Option<i64>, String, String) = tx
                .query_row(
                    "SELECT message_id, folder_id, args, state FROM pending_op WHERE id = ?1",
                    [op_id],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
                )
                .optional()
                .map_err(StoreError::sqlite("Read the failed action"))?
                .ok_or_else(|| {
                    StoreError::NotFound(format!("there is no queued action {op_id}"))
                })?;
            if state != "failed" {
                return Err(StoreError::Conflict(format!(
                    "action {op_id} has not failed; it is still queued"
                )));
            }
            let args: OpArgs = serde_json::from_str(&args)
                .map_err(|e| StoreError::Corrupt(format!("queued action {op_id}: {e}")))?;
            let gone = || {
                StoreError::NotFound(format!(
                    "action {op_id} cannot be tried again: its message is no longer here"
                ))
            };
            if let OpArgs::Append { .. } = args {
                // An upload fails only when the server refused it (a crash mid-upload leaves it
                // `running`, not failed): it is not on the server, and goes again.
                tx.execute(
                    "UPDATE pending_op SET state = 'queued', error = NULL WHERE id = ?1",
                    [op_id],
                )
                .map_err(StoreError::sqlite("Queue the action again"))?;
                return Ok(());
            }
            tx.execute("DELETE FROM pending_op WHERE id = ?1", [op_id])
                .map_err(StoreError::sqlite("Remove the failed action"))?;
            match args {
                OpArgs::Flags { add, remove } => {
                    set_flags_tx(tx, message.ok_or_else(gone)?, &add, &remove, true)?
                }
                OpArgs::Move { target, .. } => {
                    queue_move_tx(tx, message.ok_or_else(gone)?, target)?
                }
                OpArgs::Copy { target, .. } => {
                    queue_copy_tx(tx, message.ok_or_else(gone)?, target).map(|_| ())?
                }
                OpArgs::FlagsAll { .. } => {
                    mark_folder_read_tx(tx, folder.ok_or_else(gone)?).map(|_| ())?
                }
                OpArgs::Expunge | OpArgs::Append { .. } => {
                    return Err(StoreError::NotFound(format!(
                        "action {op_id} cannot be tried again: the message was already deleted here"
                    )));
                }
            }
            Ok(())
        })
    }

    /// Forgets a failed action. For an upload that never reached the server, the message it
    /// would have uploaded goes too (it exists nowhere else; the window says so first).
    pub fn dismiss_op(&self, op_id: i64) -> Result<()> {
        self.write(|tx| {
            let row: Option<(Option<i64>, String)> = tx
                .query_row(
                    "SELECT message_id, kind FROM pending_op WHERE id = ?1 AND state = 'failed'",
                    [op_id],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()
                .map_err(StoreError::sqlite("Read the failed action"))?;
            let Some((message, kind)) = row else {
                return Err(StoreError::NotFound(format!(
                    "there is no failed action {op_id}; `tern queue` lists them"
                )));
            };
            tx.execute("DELETE FROM pending_op WHERE id = ?1", [op_id])
                .map_err(StoreError::sqlite("Remove the failed action"))?;
            if kind == "append"
                && let Some(message) = message
            {
                tx.execute(
                    "DELETE FROM message WHERE id = ?1 AND uid IS NULL",
                    [message],
                )
                .map_err(StoreError::sqlite(
                    "Remove the message that was not uploaded",
                ))?;
            }
            Ok(())
        })
    }

    /// Marks an action as failed with the reason (it stays for the user to see, retry or
    /// dismiss) and undoes its effect on the cache, so the cache goes on mirroring the server.
    pub fn fail_op(&self, op_id: i64, reason: &str) -> Result<()> {
        self.write(|tx| fail_tx(tx, op_id, reason, &[]))
    }
}

/// A queued action that failed, as the window's list and `tern queue` show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FailedAction {
    pub id: i64,
    pub account_id: i64,
    /// `flags`, `move`, `copy`, `expunge` or `append`.
    pub kind: String,
    /// What the action would have done, in words ("add \Flagged", "move to Archive").
    pub what: String,
    /// Tern's id of the message, while it is still cached.
    pub message_id: Option<i64>,
    pub subject: Option<String>,
    pub folder: Option<String>,
    pub error: String,
    pub attempts: i64,
    pub created_at: i64,
    /// Whether "try again" can redo it (an expunge cannot: the message is gone here).
    pub retryable: bool,
}

/// Marks an action failed and undoes what it did to the cache when it was queued (the server
/// never saw it): a moved message goes back to its folder with its UID (or, when that folder is
/// among `gone`, is dropped: the server has it elsewhere now), a copy's row is dropped, and a
/// folder whose flags or expunges did not reach the server is listed in full at its next pass.
/// An upload keeps its row: that message exists only here. An action already failed is left.
pub(super) fn fail_tx(
    tx: &rusqlite::Transaction<'_>,
    op_id: i64,
    reason: &str,
    gone: &[i64],
) -> Result<()> {
    type Row = (Option<i64>, Option<i64>, Option<i64>, String, String);
    let row: Option<Row> = tx
        .query_row(
            "SELECT folder_id, message_id, uid, args, state FROM pending_op WHERE id = ?1",
            [op_id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )
        .optional()
        .map_err(StoreError::sqlite("Read the failed action"))?;
    let Some((folder, message, uid, args, state)) = row else {
        return Ok(());
    };
    if state == "failed" {
        return Ok(());
    }
    let resync = |folder: Option<i64>| -> Result<()> {
        if let Some(folder) = folder {
            tx.execute(
                "UPDATE folder SET backfill_uid = NULL WHERE id = ?1",
                [folder],
            )
            .map_err(StoreError::sqlite("Ask for a full resync of the folder"))?;
        }
        Ok(())
    };
    match serde_json::from_str::<OpArgs>(&args) {
        Ok(OpArgs::Move { target, .. }) => {
            let source = folder.filter(|f| !gone.contains(f));
            let back = match (source, uid, message) {
                (Some(source), Some(uid), Some(_)) => {
                    let taken: bool = tx
                        .query_row(
                            "SELECT EXISTS (SELECT 1 FROM message WHERE folder_id = ?1 AND uid = ?2)",
                            params![source, uid],
                            |r| r.get(0),
                        )
                        .map_err(StoreError::sqlite("Look for the original"))?;
                    (!taken).then_some((source, uid))
                }
                _ => None,
            };
            if let Some(message) = message {
                match back {
                    Some((source, uid)) => tx.execute(
                        "UPDATE message SET folder_id = ?2, uid = ?3, modseq = NULL
                         WHERE id = ?1 AND folder_id = ?4 AND uid IS NULL",
                        params![message, source, uid, target],
                    ),
                    None => tx.execute(
                        "DELETE FROM message WHERE id = ?1 AND folder_id = ?2 AND uid IS NULL",
                        params![message, target],
                    ),
                }
                .map_err(StoreError::sqlite("Put the message back"))?;
            }
            resync(source)?;
        }
        Ok(OpArgs::Copy { copy, .. }) => {
            tx.execute("DELETE FROM message WHERE id = ?1 AND uid IS NULL", [copy])
                .map_err(StoreError::sqlite("Drop the copy"))?;
        }
        Ok(OpArgs::Expunge | OpArgs::Flags { .. } | OpArgs::FlagsAll { .. }) => {
            resync(folder.filter(|f| !gone.contains(f)))?;
        }
        Ok(OpArgs::Append { .. }) | Err(_) => {}
    }
    tx.execute(
        "UPDATE pending_op SET state = 'failed', error = ?2, attempts = attempts + 1 WHERE id = ?1",
        params![op_id, reason],
    )
    .map_err(StoreError::sqlite("Record the failed action"))?;
    Ok(())
}

pub(super) fn queue_move_tx(
    tx: &rusqlite::Transaction<'_>,
    message_id: i64,
    target_folder: i64,
) -> Result<()> {
    let (account, folder, header_id): (i64, i64, Option<String>) = tx
        .query_row(
            "SELECT account_id, folder_id, message_id FROM message WHERE id = ?1",
            [message_id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()
        .map_err(StoreError::sqlite("Read the message"))?
        .ok_or_else(|| StoreError::NotFound(format!("there is no message with id {message_id}")))?;
    check_same_account(tx, account, target_folder)?;
    if folder == target_folder {
        return Ok(());
    }
    // A message being uploaded right now cannot move: where it lands is not known yet.
    let uploading: bool = tx
        .query_row(
            "SELECT EXISTS (SELECT 1 FROM pending_op
                            WHERE message_id = ?1 AND kind = 'append' AND state = 'running')",
            [message_id],
            |r| r.get(0),
        )
        .map_err(StoreError::sqlite("Look for an upload in progress"))?;
    if uploading {
        return Err(StoreError::Conflict(
            "this message is being uploaded to the server right now; move it in a moment".into(),
        ));
    }
    // A message not uploaded yet (a draft, a Sent copy) moves by uploading it to the
    // other folder instead: its queued upload follows it (a failed one is tried again).
    let uploads = tx
        .execute(
            "UPDATE pending_op SET folder_id = ?2, state = 'queued', error = NULL
                 WHERE message_id = ?1 AND kind = 'append'
                   AND EXISTS (SELECT 1 FROM message WHERE id = ?1 AND uid IS NULL)",
            params![message_id, target_folder],
        )
        .map_err(StoreError::sqlite("Move the queued upload"))?;
    if uploads > 0 {
        tx.execute(
            "UPDATE message SET folder_id = ?2 WHERE id = ?1",
            params![message_id, target_folder],
        )
        .map_err(StoreError::sqlite("Move the message"))?;
        return Ok(());
    }
    queue_tx(
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
}

pub(super) fn queue_copy_tx(
    tx: &rusqlite::Transaction<'_>,
    message_id: i64,
    target_folder: i64,
) -> Result<i64> {
    let (account, header_id): (i64, Option<String>) = tx
        .query_row(
            "SELECT account_id, message_id FROM message WHERE id = ?1",
            [message_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
        .map_err(StoreError::sqlite("Read the message"))?
        .ok_or_else(|| StoreError::NotFound(format!("there is no message with id {message_id}")))?;
    check_same_account(tx, account, target_folder)?;
    let copy: i64 = tx
        .query_row(
            "INSERT INTO message (account_id, folder_id, message_id, in_reply_to, refs,
                     thread_id, subject, from_name, from_addr, to_addrs, cc_addrs, date,
                     internal_date, size, flags, keywords, has_attachments, preview, preview_known,
                     body_state, structure, sort_from, sort_subject)
                 SELECT account_id, ?2, message_id, in_reply_to, refs,
                     thread_id, subject, from_name, from_addr, to_addrs, cc_addrs, date,
                     internal_date, size, flags, keywords, has_attachments, preview, preview_known,
                     CASE WHEN EXISTS (SELECT 1 FROM body WHERE message_id = ?1) THEN 2 ELSE 0 END,
                     structure, sort_from, sort_subject
                 FROM message WHERE id = ?1
                 RETURNING id",
            params![message_id, target_folder],
            |r| r.get(0),
        )
        .map_err(StoreError::sqlite("Insert the copy"))?;
    // (SQLite holds the source once here: copied in SQL, it never passes through Rust.)
    tx.execute(
        "INSERT INTO body (message_id, raw) SELECT ?2, raw FROM body WHERE message_id = ?1",
        params![message_id, copy],
    )
    .map_err(StoreError::sqlite("Copy the cached source"))?;
    queue_tx(
        tx,
        message_id,
        &OpArgs::Copy {
            target: target_folder,
            copy,
            message_id_header: header_id,
        },
    )?;
    Ok(copy)
}

pub(super) fn mark_folder_read_tx(tx: &rusqlite::Transaction<'_>, folder_id: i64) -> Result<usize> {
    let changed = tx
        .execute(
            "UPDATE message SET flags = flags | 1 WHERE folder_id = ?1 AND (flags & 1) = 0",
            [folder_id],
        )
        .map_err(StoreError::sqlite("Mark the folder read"))?;
    let through_uid: Option<i64> = tx
        .query_row(
            "SELECT max(uid) FROM message WHERE folder_id = ?1",
            [folder_id],
            |r| r.get(0),
        )
        .map_err(StoreError::sqlite("Read the folder's highest UID"))?;
    let Some(through_uid) = through_uid else {
        // Nothing in the folder is on the server yet: nothing to mark there.
        return Ok(changed);
    };
    let json = serde_json::to_string(&OpArgs::FlagsAll {
        add: vec!["\\Seen".to_owned()],
        through_uid: Some(through_uid),
    })
    .map_err(|e| StoreError::Corrupt(e.to_string()))?;
    tx.execute(
        "INSERT INTO pending_op (account_id, kind, folder_id, uidvalidity, args, created_at)
             SELECT account_id, 'flags', id, uidvalidity, ?2, ?3 FROM folder WHERE id = ?1",
        params![folder_id, json, now()],
    )
    .map_err(StoreError::sqlite("Queue the action"))?;
    Ok(changed)
}
