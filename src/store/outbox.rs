//! The persistent outbox. "Send" is one transaction that stores the finished message; the
//! engine then moves each row through its states, each step its own transaction:
//!
//! `queued` → `sending` (recorded just before the final dot) → `sent` (the server said 250) →
//! done (the Sent copy and the original's \Answered/$Forwarded are stored, with their server
//! actions queued, and the row is deleted, all in one transaction).
//!
//! A row found in `sending` (Tern stopped between the final dot and the reply) becomes
//! `unknown`: never resent automatically, the user decides. A row in `sent` only lacks its Sent
//! copy, which is made without sending again. Temporary failures stay `queued` with a later
//! `next_attempt_at`; permanent ones become `failed` with the server's reason.

use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use super::message::{insert_with_source, read_blob, write_blob};
use super::ops::{OpArgs, queue_tx, set_flags_tx};
use super::{NewMessage, Result, Store, StoreError, now};

/// A message in the outbox, without its bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutboxRow {
    pub id: i64,
    pub account_id: i64,
    pub mail_from: String,
    pub recipients: Vec<String>,
    pub subject: String,
    /// queued, sending, sent, unknown or failed.
    pub state: String,
    pub error: Option<String>,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub in_reply_to_message: Option<i64>,
    pub forwarded_message: Option<i64>,
    pub created_at: i64,
    pub size: i64,
}

/// A message to put in the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing<'a> {
    pub account_id: i64,
    pub raw: &'a [u8],
    pub mail_from: &'a str,
    pub recipients: &'a [String],
    pub subject: &'a str,
    /// The message replied to (gets \Answered once sent).
    pub in_reply_to_message: Option<i64>,
    /// The message forwarded (gets $Forwarded once sent).
    pub forwarded_message: Option<i64>,
}

/// Where the Sent copy goes when a message has been sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentCopy {
    /// The copy's row (its folder is the Sent folder; no UID yet).
    pub message: NewMessage,
    pub body_text: String,
    /// The message's exact bytes: the outbox row's (`outbox_raw`), read once by the caller.
    pub raw: Vec<u8>,
    /// IMAP: queue an APPEND (and the flag changes on the originals) for the server.
    pub upload: bool,
}

const COLUMNS: &str = "id, account_id, mail_from, rcpt_to, subject, state, error, attempts,
    next_attempt_at, in_reply_to_message, forwarded_message, created_at, length(raw)";

fn row_from(r: &rusqlite::Row<'_>) -> rusqlite::Result<(OutboxRow, String)> {
    let rcpt: String = r.get(3)?;
    Ok((
        OutboxRow {
            id: r.get(0)?,
            account_id: r.get(1)?,
            mail_from: r.get(2)?,
            recipients: Vec::new(),
            subject: r.get(4)?,
            state: r.get(5)?,
            error: r.get(6)?,
            attempts: r.get(7)?,
            next_attempt_at: r.get(8)?,
            in_reply_to_message: r.get(9)?,
            forwarded_message: r.get(10)?,
            created_at: r.get(11)?,
            size: r.get(12)?,
        },
        rcpt,
    ))
}

fn finish_row((mut row, rcpt): (OutboxRow, String)) -> Result<OutboxRow> {
    row.recipients = serde_json::from_str(&rcpt)
        .map_err(|e| StoreError::Corrupt(format!("outbox message {}: recipients: {e}", row.id)))?;
    Ok(row)
}

impl Store {
    /// Puts a finished message in the outbox (one transaction). Returns its id.
    pub fn queue_outgoing(&self, message: &Outgoing<'_>) -> Result<i64> {
        let rcpt = serde_json::to_string(message.recipients)
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let length = i64::try_from(message.raw.len())
            .map_err(|_| StoreError::Unsupported("a message larger than 2^63 bytes".into()))?;
        self.write(|tx| {
            // No RETURNING: it would make SQLite build the row, zeroblob and all, in memory.
            tx.execute(
                "INSERT INTO outbox (account_id, raw, mail_from, rcpt_to, subject,
                     in_reply_to_message, forwarded_message, created_at)
                 VALUES (?1, zeroblob(?2), ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    message.account_id,
                    length,
                    message.mail_from,
                    rcpt,
                    message.subject,
                    message.in_reply_to_message,
                    message.forwarded_message,
                    now()
                ],
            )
            .map(|_| tx.last_insert_rowid())
            .map_err(StoreError::sqlite("Put the message in the outbox"))
            .and_then(|id| write_blob(tx, "outbox", id, message.raw).map(|()| id))
            .and_then(|id| {
                // Who we write to is who we most likely write to again.
                let mut stmt = tx
                    .prepare_cached(
                        "INSERT INTO contact (address, uses, last_used) VALUES (lower(?1), 5, ?2)
                         ON CONFLICT (address) DO UPDATE SET uses = uses + 5,
                             last_used = max(last_used, excluded.last_used)",
                    )
                    .map_err(StoreError::sqlite("Prepare the contact update"))?;
                for address in message.recipients {
                    stmt.execute(params![address, now()])
                        .map_err(StoreError::sqlite("Remember a recipient"))?;
                }
                Ok(id)
            })
        })
    }

    /// The outbox (all accounts, or one), oldest first.
    pub fn outbox(&self, account_id: Option<i64>) -> Result<Vec<OutboxRow>> {
        self.read(|conn| {
            let mut stmt = conn
                .prepare(&format!(
                    "SELECT {COLUMNS} FROM outbox WHERE ?1 IS NULL OR account_id = ?1 ORDER BY id"
                ))
                .map_err(StoreError::sqlite("Prepare the outbox list"))?;
            let rows = stmt
                .query_map([account_id], row_from)
                .map_err(StoreError::sqlite("Read the outbox"))?;
            rows.map(|r| finish_row(r.map_err(StoreError::sqlite("Read an outbox row"))?))
                .collect()
        })
    }

    /// One outbox message.
    pub fn outbox_row(&self, id: i64) -> Result<OutboxRow> {
        self.read(|conn| {
            conn.query_row(
                &format!("SELECT {COLUMNS} FROM outbox WHERE id = ?1"),
                [id],
                row_from,
            )
            .optional()
            .map_err(StoreError::sqlite("Read the outbox message"))?
            .ok_or_else(|| StoreError::NotFound(format!("there is no outbox message {id}")))
            .and_then(finish_row)
        })
    }

    /// The exact bytes of an outbox message.
    pub fn outbox_raw(&self, id: i64) -> Result<Vec<u8>> {
        self.read(|conn| {
            conn.query_row("SELECT 1 FROM outbox WHERE id = ?1", [id], |_| Ok(()))
                .optional()
                .map_err(StoreError::sqlite("Read the outbox message"))?
                .ok_or_else(|| StoreError::NotFound(format!("there is no outbox message {id}")))?;
            read_blob(conn, "outbox", id)
        })
    }

    /// Rows left in `sending` by a stop between the final dot and the reply become `unknown`.
    /// Returns how many. Call only while holding the account's lease (then a row in `sending`
    /// belongs to a process that stopped, or lost its lease mid-send).
    pub fn outbox_mark_interrupted(&self, account_id: i64) -> Result<usize> {
        self.write(|tx| {
            tx.execute(
                "UPDATE outbox SET state = 'unknown',
                     error = 'Tern stopped while the server was confirming this message, so it may or may not have been delivered; check before sending it again (tern outbox retry ID)'
                 WHERE account_id = ?1 AND state = 'sending'",
                [account_id],
            )
            .map_err(StoreError::sqlite("Mark interrupted sends"))
        })
    }

    /// Rows in `state` for an account (e.g. `queued` ones that are due), oldest first.
    pub fn outbox_in_state(
        &self,
        account_id: i64,
        state: &str,
        due_by: Option<i64>,
    ) -> Result<Vec<OutboxRow>> {
        Ok(self
            .outbox(Some(account_id))?
            .into_iter()
            .filter(|r| r.state == state && due_by.is_none_or(|t| r.next_attempt_at <= t))
            .collect())
    }

    fn outbox_update(
        &self,
        id: i64,
        sql: &str,
        what: &'static str,
        values: &[&dyn rusqlite::ToSql],
    ) -> Result<()> {
        self.write(|tx| {
            let mut all: Vec<&dyn rusqlite::ToSql> = vec![&id];
            all.extend_from_slice(values);
            let n = tx
                .execute(sql, all.as_slice())
                .map_err(StoreError::sqlite(what))?;
            if n == 0 {
                return Err(StoreError::NotFound(format!(
                    "outbox message {id} is gone or not in a state that allows this"
                )));
            }
            Ok(())
        })
    }

    /// Recorded just before the final dot: from now on the outcome may be uncertain.
    /// Compare-and-set: only a `queued` row, and only while `holder` holds the account's lease.
    pub fn outbox_set_sending(&self, id: i64, holder: &str) -> Result<()> {
        self.outbox_update(
            id,
            "UPDATE outbox SET state = 'sending', attempts = attempts + 1
             WHERE id = ?1 AND state = 'queued'
               AND EXISTS (SELECT 1 FROM account_lease l
                           WHERE l.account_id = outbox.account_id AND l.purpose = 'outbox'
                             AND l.holder = ?2 AND l.expires_at >= ?3)",
            "Record the send",
            &[&holder, &now()],
        )
    }

    /// The server accepted the message (250): it must never be sent again.
    pub fn outbox_set_sent(&self, id: i64) -> Result<()> {
        self.outbox_update(
            id,
            "UPDATE outbox SET state = 'sent', error = NULL, sent_at = ?2
             WHERE id = ?1 AND state IN ('sending', 'unknown')",
            "Record the accepted message",
            &[&now()],
        )
    }

    /// A temporary failure: stays queued, tried again at `next_attempt_at`.
    pub fn outbox_defer(&self, id: i64, reason: &str, next_attempt_at: i64) -> Result<()> {
        self.outbox_update(
            id,
            "UPDATE outbox SET state = 'queued', error = ?2, attempts = attempts + 1,
                 next_attempt_at = ?3 WHERE id = ?1 AND state IN ('queued', 'sending')",
            "Record the temporary failure",
            &[&reason, &next_attempt_at],
        )
    }

    /// A permanent failure (`failed`) or an uncertain outcome (`unknown`), with the reason.
    pub fn outbox_fail(&self, id: i64, state: &str, reason: &str) -> Result<()> {
        self.outbox_update(
            id,
            "UPDATE outbox SET state = ?2, error = ?3
             WHERE id = ?1 AND state IN ('queued', 'sending')",
            "Record the failure",
            &[&state, &reason],
        )
    }

    /// The user asks to send a failed, uncertain or waiting message again, now.
    pub fn outbox_retry(&self, id: i64) -> Result<()> {
        self.outbox_update(
            id,
            "UPDATE outbox SET state = 'queued', next_attempt_at = 0
             WHERE id = ?1 AND state IN ('queued', 'failed', 'unknown')",
            "Queue the message again",
            &[],
        )
    }

    /// The user removes a message from the outbox (not while it is being sent, and not once sent).
    pub fn outbox_drop(&self, id: i64) -> Result<()> {
        self.outbox_update(
            id,
            "DELETE FROM outbox WHERE id = ?1 AND state IN ('queued', 'failed', 'unknown')",
            "Remove the message from the outbox",
            &[],
        )
    }

    /// Completes a sent message in one transaction: stores the Sent copy (and, when `upload`,
    /// queues its APPEND), marks the original \Answered or $Forwarded (queued for the server
    /// when `queue_flag_ops`), and removes the outbox row. Returns the Sent copy's id.
    pub fn outbox_finish(
        &self,
        id: i64,
        copy: Option<&SentCopy>,
        queue_flag_ops: bool,
    ) -> Result<Option<i64>> {
        let row = self.outbox_row(id)?;
        self.write(|tx| {
            // Only an accepted message is finished, and only once.
            tx.query_row(
                "SELECT 1 FROM outbox WHERE id = ?1 AND state = 'sent'",
                [id],
                |_| Ok(()),
            )
            .optional()
            .map_err(StoreError::sqlite("Read the sent message"))?
            .ok_or_else(|| {
                StoreError::NotFound(format!("outbox message {id} was already filed"))
            })?;
            let copy_id = match copy {
                Some(copy) if i64::try_from(copy.raw.len()).ok() != Some(row.size) => {
                    return Err(StoreError::Corrupt(format!(
                        "the Sent copy of outbox message {id} is {} bytes, the message {}",
                        copy.raw.len(),
                        row.size
                    )));
                }
                Some(copy) => {
                    let mut message = copy.message.clone();
                    message.uid = None;
                    let copy_id = insert_with_source(
                        tx,
                        row.account_id,
                        &message,
                        &copy.raw,
                        &copy.body_text,
                    )?;
                    if copy.upload {
                        let flags = super::flag::names(message.flags, &message.keywords);
                        queue_tx(tx, copy_id, &OpArgs::Append { flags })?;
                    }
                    Some(copy_id)
                }
                None => None,
            };
            for (original, flag) in [
                (row.in_reply_to_message, "\\Answered"),
                (row.forwarded_message, "$Forwarded"),
            ] {
                if let Some(original) = original {
                    set_flags_tx(tx, original, &[flag.to_owned()], &[], queue_flag_ops)?;
                }
            }
            tx.execute("DELETE FROM outbox WHERE id = ?1", [id])
                .map_err(StoreError::sqlite(
                    "Remove the sent message from the outbox",
                ))?;
            Ok(copy_id)
        })
    }
}
