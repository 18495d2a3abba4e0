//! POP3 state: a `pop3_uidl` row per UIDL ever downloaded (with its LIST size, Message-ID,
//! SHA-256 and whether only its headers are here), written in the transaction that stores the
//! message. A message may be marked for deletion on the server only after that commit; a row
//! records the removal (`removed_at`) only after QUIT succeeded or the server stopped listing it.

use std::collections::HashMap;

use rusqlite::{OptionalExtension, Row, params};

use super::{NewMessage, Result, Store, StoreError};
use crate::account::Account;

/// What the store knows of one UIDL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pop3Seen {
    pub uidl: String,
    /// The LIST size when it was downloaded (None: not known).
    pub size: Option<i64>,
    pub message_id: Option<String>,
    pub digest: Option<String>,
    /// Only its headers are here (TOP); the rest comes when the message is opened.
    pub partial: bool,
    /// The user deleted it here (for "delete from the server when deleted here").
    pub deleted_here: bool,
    pub downloaded_at: i64,
    pub first_seen_at: i64,
    /// It has left the server (after a successful QUIT, or it was no longer listed).
    pub removed: bool,
    /// A local copy of it exists, in any folder (none: the user purged it, or its copy now
    /// stands for another UIDL).
    pub has_copy: bool,
    /// What the server sent after this message's answer was not POP3: the stored copy may be
    /// cut short, so the server's copy stays.
    pub doubtful: bool,
}

impl Pop3Seen {
    /// Whether the stored copy may be cut short (`doubtful`), so the server's copy must stay.
    pub fn maybe_cut(&self) -> bool {
        self.doubtful
    }

    /// Headers only here, matched to a whole copy of the same mail under an older UIDL (its
    /// digest is that copy's): to leave the server it is first read whole and compared.
    pub fn matched_whole(&self) -> bool {
        self.partial && self.digest.is_some()
    }
}

const SEEN_COLUMNS: &str = "uidl, size, message_id, digest, partial, deleted_here,
    downloaded_at, first_seen_at, removed_at IS NOT NULL,
    EXISTS (SELECT 1 FROM message m
            WHERE m.account_id = pop3_uidl.account_id AND m.uidl = pop3_uidl.uidl),
    doubtful";

fn seen_from_row(row: &Row<'_>) -> rusqlite::Result<Pop3Seen> {
    Ok(Pop3Seen {
        uidl: row.get(0)?,
        size: row.get(1)?,
        message_id: row.get(2)?,
        digest: row.get(3)?,
        partial: row.get(4)?,
        deleted_here: row.get(5)?,
        downloaded_at: row.get(6)?,
        first_seen_at: row.get(7)?,
        removed: row.get(8)?,
        has_copy: row.get(9)?,
        doubtful: row.get(10)?,
    })
}

/// A message the server failed to send (its answer stalled, was cut, or was too large).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pop3Failure {
    pub failures: i64,
    pub last_failed_at: i64,
    pub last_error: String,
}

/// A message downloaded in a pass, ready to be stored.
#[derive(Debug, Clone)]
pub struct Pop3Download {
    pub uidl: String,
    /// Its LIST size.
    pub list_size: i64,
    /// What RETR returned (when `partial`, what TOP returned: only read for the summary).
    pub raw: Vec<u8>,
    /// SHA-256 (hex) of `raw`.
    pub digest: String,
    pub partial: bool,
    /// Its summary, for the Inbox (`folder_id` is the Inbox, `uidl` set).
    pub message: NewMessage,
    pub body_text: String,
    /// It came whole but far shorter than its LIST size: the server may have cut it (the
    /// row is `doubtful`, so it never leaves the server).
    pub doubtful: bool,
}

/// What storing a downloaded message did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pop3Stored {
    /// A new message, with this id.
    New(i64),
    /// The same mail as what this (other, or the same) UIDL brought before: no second copy.
    Same { earlier_uidl: String },
    /// The server reused the UIDL of other mail: the new mail is kept as new, with this id,
    /// and the old copy keeps its place (no longer linked to the server).
    Reused(i64),
}

impl Store {
    /// The UIDL rows of `account` that are on the server as far as the store knows, together
    /// with the rows (in any state) of every UIDL in `listed`: what a pass compares with the
    /// server's list. (Rows of mail that left the server long ago are not read.)
    pub fn pop3_known(
        &self,
        account_id: i64,
        listed: &[&str],
    ) -> Result<HashMap<String, Pop3Seen>> {
        self.read(|conn| {
            let mut known = HashMap::new();
            let mut on_server = conn
                .prepare_cached(&format!(
                    "SELECT {SEEN_COLUMNS} FROM pop3_uidl
                     WHERE account_id = ?1 AND removed_at IS NULL"
                ))
                .map_err(StoreError::sqlite("Prepare the UIDL list"))?;
            let rows = on_server
                .query_map([account_id], seen_from_row)
                .map_err(StoreError::sqlite("Read the UIDL list"))?;
            for row in rows {
                let row = row.map_err(StoreError::sqlite("Read a UIDL"))?;
                known.insert(row.uidl.clone(), row);
            }
            let mut one = conn
                .prepare_cached(&format!(
                    "SELECT {SEEN_COLUMNS} FROM pop3_uidl WHERE account_id = ?1 AND uidl = ?2"
                ))
                .map_err(StoreError::sqlite("Prepare a UIDL lookup"))?;
            for uidl in listed {
                if known.contains_key(*uidl) {
                    continue;
                }
                if let Some(row) = one
                    .query_row(params![account_id, uidl], seen_from_row)
                    .optional()
                    .map_err(StoreError::sqlite("Look up a UIDL"))?
                {
                    known.insert(row.uidl.clone(), row);
                }
            }
            Ok(known)
        })
    }

    /// One UIDL's row.
    pub fn pop3_seen(&self, account_id: i64, uidl: &str) -> Result<Option<Pop3Seen>> {
        self.read(|conn| {
            conn.query_row(
                &format!(
                    "SELECT {SEEN_COLUMNS} FROM pop3_uidl WHERE account_id = ?1 AND uidl = ?2"
                ),
                params![account_id, uidl],
                seen_from_row,
            )
            .optional()
            .map_err(StoreError::sqlite("Look up a UIDL"))
        })
    }

    /// Stores downloaded messages in one transaction, each with its UIDL row, and says for
    /// each what happened. `listed(uidl)` says whether the server lists that UIDL in this
    /// session: the same mail under a new UIDL (same SHA-256; or same Message-ID and size while
    /// the old UIDL is gone) gets no second copy, and its local copy follows the new UIDL.
    /// `account` is the account as the engine loaded it: after a reset (the account now reads
    /// another mailbox, `cache_epoch`), or when it was removed and its id reused, an engine
    /// still on the old server stores nothing.
    pub fn pop3_store(
        &self,
        account: &Account,
        items: &[Pop3Download],
        listed: &dyn Fn(&str) -> bool,
        now: i64,
    ) -> Result<Vec<Pop3Stored>> {
        let account_id = account.id;
        self.write(|tx| {
            // The epoch, and the keyring key (random, never reused: the id is, after a removal).
            let current: Option<(i64, String)> = tx
                .query_row(
                    "SELECT cache_epoch, keyring_key FROM account WHERE id = ?1",
                    [account_id],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()
                .map_err(StoreError::sqlite("Read the account's cache epoch"))?;
            if current != Some((account.cache_epoch, account.keyring_key.clone())) {
                return Err(StoreError::Conflict(format!(
                    "account {account_id} was changed to another mailbox while it was being checked; nothing from the old server is stored, and the next check reads the new one"
                )));
            }
            items
                .iter()
                .map(|item| store_one(tx, account_id, item, listed, now))
                .collect()
        })
    }

    /// Records, after a successful QUIT or a listing without them, that these UIDLs have left
    /// the server. (One listed again is downloaded again and compared: a server may give a
    /// freed UIDL to other mail.)
    pub fn pop3_reconcile(&self, account_id: i64, removed: &[String], now: i64) -> Result<()> {
        if removed.is_empty() {
            return Ok(());
        }
        self.write(|tx| {
            for uidl in removed {
                tx.execute(
                    "UPDATE pop3_uidl SET removed_at = ?3
                     WHERE account_id = ?1 AND uidl = ?2 AND removed_at IS NULL",
                    params![account_id, uidl, now],
                )
                .map_err(StoreError::sqlite(
                    "Record a message as gone from the server",
                ))?;
            }
            Ok(())
        })
    }

    /// Marks a known UIDL as naming other mail than the copy here (the server's Message-ID for
    /// it differs): it is no longer deleted from the server, and the next pass downloads it
    /// again (its recorded size can match no LIST size), to be stored as new.
    pub fn pop3_suspect(&self, account_id: i64, uidl: &str) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "UPDATE pop3_uidl SET size = -1 WHERE account_id = ?1 AND uidl = ?2",
                params![account_id, uidl],
            )
            .map_err(StoreError::sqlite("Mark a UIDL for a second look"))?;
            Ok(())
        })
    }

    /// Records that what the server sent after `uidl`'s message was not POP3: the stored copy
    /// may be cut short, so it never leaves the server.
    pub fn pop3_doubt(&self, account_id: i64, uidl: &str) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "UPDATE pop3_uidl SET doubtful = 1 WHERE account_id = ?1 AND uidl = ?2",
                params![account_id, uidl],
            )
            .map_err(StoreError::sqlite("Mark a message as possibly cut"))?;
            Ok(())
        })
    }

    /// The messages the server failed to send, by UIDL.
    pub fn pop3_failures(&self, account_id: i64) -> Result<HashMap<String, Pop3Failure>> {
        self.read(|conn| {
            let mut statement = conn
                .prepare(
                    "SELECT uidl, failures, last_failed_at, last_error FROM pop3_failure
                     WHERE account_id = ?1",
                )
                .map_err(StoreError::sqlite("Prepare the failure list"))?;
            let rows = statement
                .query_map([account_id], |r| {
                    Ok((
                        r.get(0)?,
                        Pop3Failure {
                            failures: r.get(1)?,
                            last_failed_at: r.get(2)?,
                            last_error: r.get(3)?,
                        },
                    ))
                })
                .map_err(StoreError::sqlite("Read the failure list"))?;
            rows.collect::<rusqlite::Result<HashMap<String, Pop3Failure>>>()
                .map_err(StoreError::sqlite("Read a failure"))
        })
    }

    /// Records that the server failed to send `uidl`'s message, and how.
    pub fn pop3_record_failure(
        &self,
        account_id: i64,
        uidl: &str,
        error: &str,
        now: i64,
    ) -> Result<()> {
        let error: String = error.chars().take(500).collect();
        self.write(|tx| {
            tx.execute(
                "INSERT INTO pop3_failure (account_id, uidl, failures, last_failed_at, last_error)
                 VALUES (?1, ?2, 1, ?3, ?4)
                 ON CONFLICT (account_id, uidl) DO UPDATE
                 SET failures = failures + 1, last_failed_at = ?3, last_error = ?4",
                params![account_id, uidl, now, error],
            )
            .map_err(StoreError::sqlite(
                "Record a message the server failed to send",
            ))?;
            Ok(())
        })
    }

    /// Forgets the failures of these UIDLs (no longer listed, or answered well since).
    pub fn pop3_forget_failures(&self, account_id: i64, uidls: &[String]) -> Result<()> {
        if uidls.is_empty() {
            return Ok(());
        }
        self.write(|tx| {
            for uidl in uidls {
                tx.execute(
                    "DELETE FROM pop3_failure WHERE account_id = ?1 AND uidl = ?2",
                    params![account_id, uidl],
                )
                .map_err(StoreError::sqlite("Forget a message's failures"))?;
            }
            Ok(())
        })
    }

    /// The local copies of a UIDL's message (ids), in any folder.
    pub fn pop3_copies(&self, account_id: i64, uidl: &str) -> Result<Vec<i64>> {
        self.read(|conn| {
            let mut statement = conn
                .prepare("SELECT id FROM message WHERE account_id = ?1 AND uidl = ?2 ORDER BY id")
                .map_err(StoreError::sqlite("Prepare the copy lookup"))?;
            let rows = statement
                .query_map(params![account_id, uidl], |r| r.get(0))
                .map_err(StoreError::sqlite("Find the message's copies"))?;
            rows.collect::<rusqlite::Result<Vec<i64>>>()
                .map_err(StoreError::sqlite("Read a copy"))
        })
    }

    /// Completes a message that had only its headers: its whole source replaces them in every
    /// local copy, and its UIDL row is no longer partial. Returns how many copies it filled.
    pub fn pop3_complete(
        &self,
        account_id: i64,
        uidl: &str,
        raw: &[u8],
        digest: &str,
        body_text: &str,
    ) -> Result<usize> {
        self.write(|tx| {
            let filled = fill_copies(tx, account_id, uidl, raw, body_text)?;
            tx.execute(
                "UPDATE pop3_uidl SET partial = 0, digest = ?3 WHERE account_id = ?1 AND uidl = ?2",
                params![account_id, uidl, digest],
            )
            .map_err(StoreError::sqlite("Record the message as whole"))?;
            Ok(filled)
        })
    }
}

/// Puts the whole source `raw` into every local copy of `uidl`'s message (which had only its
/// headers). Returns how many copies there are.
fn fill_copies(
    tx: &rusqlite::Transaction<'_>,
    account_id: i64,
    uidl: &str,
    raw: &[u8],
    body_text: &str,
) -> Result<usize> {
    let copies: Vec<i64> = {
        let mut statement = tx
            .prepare("SELECT id FROM message WHERE account_id = ?1 AND uidl = ?2")
            .map_err(StoreError::sqlite("Prepare the copy lookup"))?;
        let rows = statement
            .query_map(params![account_id, uidl], |r| r.get(0))
            .map_err(StoreError::sqlite("Find the message's copies"))?;
        rows.collect::<rusqlite::Result<Vec<i64>>>()
            .map_err(StoreError::sqlite("Read a copy"))?
    };
    let summary = crate::mail::parse::summarize(raw);
    for id in &copies {
        super::message::save_source(tx, *id, raw)?;
        tx.prepare_cached(
            "UPDATE message SET body_state = 2, size = ?2, has_attachments = ?3, preview = ?4,
                 preview_known = 1
             WHERE id = ?1",
        )
        .and_then(|mut s| {
            s.execute(params![
                id,
                i64::try_from(raw.len()).unwrap_or(i64::MAX),
                summary.has_attachments,
                summary.preview
            ])
        })
        .map_err(StoreError::sqlite("Mark the body as cached"))?;
        super::message::index_body(tx, *id, body_text)?;
    }
    Ok(copies.len())
}

/// Stores one downloaded message (see `Store::pop3_store`).
///
/// The rows describe content under a UIDL. When a UIDL now names other content (the server
/// reused or renumbered its ids), its old row is retired: its local copies follow that content
/// to the UIDL that now carries it, or, until one does, to a retired key (a UIDL with a space,
/// which no server can send) that a later match picks up. So the outcome does not depend on
/// the order the messages are stored in, and no content is stored twice or dropped.
fn store_one(
    tx: &rusqlite::Transaction<'_>,
    account_id: i64,
    item: &Pop3Download,
    listed: &dyn Fn(&str) -> bool,
    now: i64,
) -> Result<Pop3Stored> {
    let message_id = item.message.message_id.as_deref().filter(|m| !m.is_empty());
    tx.prepare_cached("DELETE FROM pop3_failure WHERE account_id = ?1 AND uidl = ?2")
        .and_then(|mut s| s.execute(params![account_id, item.uidl]))
        .map_err(StoreError::sqlite("Clear a message's failures"))?;
    let mut reused = false;
    if let Some(row) = seen(tx, account_id, &item.uidl)? {
        if same_content(tx, account_id, &row, item, message_id)? {
            update_same(tx, account_id, &row, item)?;
            return Ok(Pop3Stored::Same {
                earlier_uidl: row.uidl,
            });
        }
        retire(tx, account_id, &row, listed, now)?;
        reused = true;
    }
    if let Some(twin) = twin(tx, account_id, item, message_id, listed)? {
        record_twin(tx, account_id, item, &twin, listed, now)?;
        return Ok(Pop3Stored::Same {
            earlier_uidl: twin.uidl,
        });
    }
    let id = if item.partial {
        // Only the headers came (TOP): the row is in the list, the source comes when opened.
        super::message::insert_message(tx, account_id, &item.message)?
    } else {
        super::message::insert_with_source(
            tx,
            account_id,
            &item.message,
            &item.raw,
            &item.body_text,
        )?
    };
    tx.prepare_cached(
        "INSERT INTO pop3_uidl (account_id, uidl, downloaded_at, first_seen_at, size, message_id,
             digest, partial, doubtful)
         VALUES (?1, ?2, ?3, ?3, ?4, ?5, ?6, ?7, ?8)",
    )
    .and_then(|mut s| {
        s.execute(params![
            account_id,
            item.uidl,
            now,
            item.list_size,
            message_id,
            (!item.partial).then_some(item.digest.as_str()),
            item.partial,
            item.doubtful
        ])
    })
    .map_err(StoreError::sqlite("Record the UIDL"))?;
    Ok(if reused {
        Pop3Stored::Reused(id)
    } else {
        Pop3Stored::New(id)
    })
}

/// A known UIDL read again (its size changed, it was listed again, or it was in doubt) brought
/// the same mail: its row takes the new size and bytes; headers only become whole.
fn update_same(
    tx: &rusqlite::Transaction<'_>,
    account_id: i64,
    row: &Pop3Seen,
    item: &Pop3Download,
) -> Result<()> {
    tx.prepare_cached(
        "UPDATE pop3_uidl SET size = ?3, digest = coalesce(?4, digest), removed_at = NULL,
             doubtful = doubtful OR ?5
         WHERE account_id = ?1 AND uidl = ?2",
    )
    .and_then(|mut s| {
        s.execute(params![
            account_id,
            item.uidl,
            item.list_size,
            (!item.partial).then_some(item.digest.as_str()),
            item.doubtful
        ])
    })
    .map_err(StoreError::sqlite("Update the UIDL"))?;
    if row.partial && !item.partial {
        fill_copies(tx, account_id, &item.uidl, &item.raw, &item.body_text)?;
        tx.prepare_cached("UPDATE pop3_uidl SET partial = 0 WHERE account_id = ?1 AND uidl = ?2")
            .and_then(|mut s| s.execute(params![account_id, item.uidl]))
            .map_err(StoreError::sqlite("Record the message as whole"))?;
    }
    Ok(())
}

/// The same mail as `twin`'s under another UIDL (the server lost or renumbered its ids, or
/// holds two identical copies): recorded under this UIDL too, not stored twice.
fn record_twin(
    tx: &rusqlite::Transaction<'_>,
    account_id: i64,
    item: &Pop3Download,
    twin: &Pop3Seen,
    listed: &dyn Fn(&str) -> bool,
    now: i64,
) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO pop3_uidl (account_id, uidl, downloaded_at, first_seen_at, size,
             message_id, digest, partial, deleted_here, doubtful)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )
    .and_then(|mut s| {
        s.execute(params![
            account_id,
            item.uidl,
            twin.downloaded_at,
            twin.first_seen_at,
            item.list_size,
            twin.message_id,
            // Headers only matched to a whole copy: the digest says so, and the next pass
            // that wants it off the server reads it whole to compare (`Pop3Seen::matched_whole`).
            if item.partial {
                twin.digest.clone()
            } else {
                Some(item.digest.clone())
            },
            item.partial,
            twin.deleted_here,
            item.doubtful || twin.doubtful
        ])
    })
    .map_err(StoreError::sqlite("Record the UIDL"))?;
    if !listed(&twin.uidl) {
        // The old UIDL is gone (or retired): the local copy now stands for this one.
        relink(tx, account_id, &twin.uidl, &item.uidl)?;
        tx.prepare_cached(
            "UPDATE pop3_uidl SET removed_at = coalesce(removed_at, ?3)
             WHERE account_id = ?1 AND uidl = ?2",
        )
        .and_then(|mut s| s.execute(params![account_id, twin.uidl, now]))
        .map_err(StoreError::sqlite("Record the old UIDL as gone"))?;
        if twin.partial && !item.partial {
            // Only the headers were here: now the whole message is.
            fill_copies(tx, account_id, &item.uidl, &item.raw, &item.body_text)?;
        }
    }
    Ok(())
}

fn seen(tx: &rusqlite::Transaction<'_>, account_id: i64, uidl: &str) -> Result<Option<Pop3Seen>> {
    tx.prepare_cached(&format!(
        "SELECT {SEEN_COLUMNS} FROM pop3_uidl WHERE account_id = ?1 AND uidl = ?2"
    ))
    .and_then(|mut s| s.query_row(params![account_id, uidl], seen_from_row))
    .optional()
    .map_err(StoreError::sqlite("Look up the UIDL"))
}

/// Whether `row` (of the same UIDL) describes the content of `item`. When both are whole:
/// the same bytes, or the same body and the same Message-ID (with none on either side, the
/// same sender and subject): a server that rewrote the headers, e.g. added `Status:`. With one
/// of them headers only: the same Message-ID and size. Unsure is "no": a second copy is
/// better than a message that is never stored (senders that reuse one Message-ID exist).
fn same_content(
    tx: &rusqlite::Transaction<'_>,
    account_id: i64,
    row: &Pop3Seen,
    item: &Pop3Download,
    message_id: Option<&str>,
) -> Result<bool> {
    let same_id = message_id.is_some() && row.message_id.as_deref() == message_id;
    let no_ids = message_id.is_none() && row.message_id.is_none();
    match (item.partial, row.digest.as_deref()) {
        (false, Some(digest)) if digest == item.digest => Ok(true),
        (false, Some(_)) if same_id || no_ids => {
            let Some(stored) = stored_copy(tx, account_id, &row.uidl)? else {
                return Ok(false);
            };
            let same_sender = stored.subject == item.message.subject
                && stored.from_addr == item.message.from_addr;
            Ok(stored.body_digest == body_digest(&item.raw) && (same_id || same_sender))
        }
        (false, Some(_)) => Ok(false),
        // One of them headers only: the same Message-ID, and the size it had (a size that
        // changed means other content, or a rewrite; unsure is "no").
        _ => Ok(same_id && row.size == Some(item.list_size)),
    }
}

/// SHA-256 (hex) of a message's body: the bytes after its header block.
fn body_digest(raw: &[u8]) -> String {
    use sha2::{Digest as _, Sha256};
    let body = crate::mail::parse::body_bytes(raw);
    Sha256::digest(body)
        .iter()
        .fold(String::with_capacity(64), |mut s, b| {
            use std::fmt::Write as _;
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// What a stored local copy says about its content.
struct StoredCopy {
    body_digest: String,
    subject: String,
    from_addr: String,
}

/// A stored local copy of `uidl`'s message, if one has its source.
fn stored_copy(
    tx: &rusqlite::Transaction<'_>,
    account_id: i64,
    uidl: &str,
) -> Result<Option<StoredCopy>> {
    let found: Option<(i64, String, String)> = tx
        .prepare_cached(
            "SELECT m.id, m.subject, m.from_addr FROM message m JOIN body b ON b.message_id = m.id
             WHERE m.account_id = ?1 AND m.uidl = ?2 LIMIT 1",
        )
        .and_then(|mut s| {
            s.query_row(params![account_id, uidl], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
        })
        .optional()
        .map_err(StoreError::sqlite("Read the stored copy"))?;
    let found = match found {
        Some((id, subject, from_addr)) => Some((
            super::message::read_blob(tx, "body", id)?,
            subject,
            from_addr,
        )),
        None => None,
    };
    Ok(found.map(|(raw, subject, from_addr)| StoredCopy {
        body_digest: body_digest(&raw),
        subject,
        from_addr,
    }))
}

/// Points the local copies of `from`'s message at `to`.
fn relink(tx: &rusqlite::Transaction<'_>, account_id: i64, from: &str, to: &str) -> Result<()> {
    tx.execute(
        // OR IGNORE: a folder that holds two copies of the mail keeps the second one's link.
        "UPDATE OR IGNORE message SET uidl = ?3 WHERE account_id = ?1 AND uidl = ?2",
        params![account_id, from, to],
    )
    .map_err(StoreError::sqlite("Relink the local copy"))?;
    Ok(())
}

/// Frees `row`'s UIDL, which now names other content: its local copies follow their content to
/// the listed UIDL that carries it already, else to a retired key until one does.
fn retire(
    tx: &rusqlite::Transaction<'_>,
    account_id: i64,
    row: &Pop3Seen,
    listed: &dyn Fn(&str) -> bool,
    now: i64,
) -> Result<()> {
    let home = rows_like(tx, account_id, row)?
        .into_iter()
        .find(|other| other.uidl != row.uidl && listed(&other.uidl));
    if let Some(home) = home {
        relink(tx, account_id, &row.uidl, &home.uidl)?;
        let left: i64 = tx
            .prepare_cached("SELECT count(*) FROM message WHERE account_id = ?1 AND uidl = ?2")
            .and_then(|mut s| s.query_row(params![account_id, row.uidl], |r| r.get(0)))
            .map_err(StoreError::sqlite("Count the copies left"))?;
        if left == 0 {
            tx.prepare_cached("DELETE FROM pop3_uidl WHERE account_id = ?1 AND uidl = ?2")
                .and_then(|mut s| s.execute(params![account_id, row.uidl]))
                .map_err(StoreError::sqlite("Drop the reused UIDL's old row"))?;
            return Ok(());
        }
        // A folder held a copy under both UIDLs: the one left must not stay under the UIDL
        // that now names other mail, so it goes with the row to a retired key.
    }
    // A space never occurs in a UIDL (RFC 1939: 0x21 to 0x7E), so no server can send this.
    let mut n: i64 = 0;
    let retired = loop {
        let key = format!("{} retired {now}.{n}", row.uidl);
        if seen(tx, account_id, &key)?.is_none() {
            break key;
        }
        n += 1;
    };
    tx.prepare_cached(
        "UPDATE pop3_uidl SET uidl = ?3, removed_at = coalesce(removed_at, ?4)
         WHERE account_id = ?1 AND uidl = ?2",
    )
    .and_then(|mut s| s.execute(params![account_id, row.uidl, retired, now]))
    .map_err(StoreError::sqlite("Retire the reused UIDL's old row"))?;
    relink(tx, account_id, &row.uidl, &retired)
}

/// Other rows for the same content as `row` (same SHA-256, or same Message-ID and size).
fn rows_like(
    tx: &rusqlite::Transaction<'_>,
    account_id: i64,
    row: &Pop3Seen,
) -> Result<Vec<Pop3Seen>> {
    let mut found = Vec::new();
    if let Some(digest) = &row.digest {
        let mut statement = tx
            .prepare_cached(&format!(
                "SELECT {SEEN_COLUMNS} FROM pop3_uidl INDEXED BY pop3_uidl_digest
                 WHERE account_id = ?1 AND digest = ?2 AND uidl != ?3"
            ))
            .map_err(StoreError::sqlite("Prepare the content lookup"))?;
        let rows = statement
            .query_map(params![account_id, digest, row.uidl], seen_from_row)
            .map_err(StoreError::sqlite("Look for the same content"))?;
        for other in rows {
            found.push(other.map_err(StoreError::sqlite("Read a UIDL"))?);
        }
        return Ok(found);
    }
    let Some(message_id) = &row.message_id else {
        return Ok(found);
    };
    let mut statement = tx
        .prepare_cached(&format!(
            "SELECT {SEEN_COLUMNS} FROM pop3_uidl INDEXED BY pop3_uidl_message_id
             WHERE account_id = ?1 AND message_id = ?2 AND size IS ?3 AND uidl != ?4"
        ))
        .map_err(StoreError::sqlite("Prepare the content lookup"))?;
    let rows = statement
        .query_map(
            params![account_id, message_id, row.size, row.uidl],
            seen_from_row,
        )
        .map_err(StoreError::sqlite("Look for the same content"))?;
    for other in rows {
        found.push(other.map_err(StoreError::sqlite("Read a UIDL"))?);
    }
    Ok(found)
}

/// An earlier UIDL row for the same mail as `item`: the same bytes (under any UIDL), or, when
/// one of the two is headers only, the same Message-ID and size under a UIDL the server no
/// longer lists (or a retired one).
fn twin(
    tx: &rusqlite::Transaction<'_>,
    account_id: i64,
    item: &Pop3Download,
    message_id: Option<&str>,
    listed: &dyn Fn(&str) -> bool,
) -> Result<Option<Pop3Seen>> {
    if !item.partial {
        let mut statement = tx
            .prepare_cached(&format!(
                // INDEXED BY: without statistics the planner walks the whole account instead.
                "SELECT {SEEN_COLUMNS} FROM pop3_uidl INDEXED BY pop3_uidl_digest
                 WHERE account_id = ?1 AND digest = ?2 AND uidl != ?3"
            ))
            .map_err(StoreError::sqlite("Prepare the digest lookup"))?;
        let rows = statement
            .query_map(params![account_id, item.digest, item.uidl], seen_from_row)
            .map_err(StoreError::sqlite("Look for the same message"))?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(StoreError::sqlite("Read a UIDL"))?;
        // Prefer a row whose UIDL is gone: its local copy is free to follow this UIDL.
        if let Some(row) = rows
            .iter()
            .find(|r| !listed(&r.uidl))
            .or_else(|| rows.first())
        {
            return Ok(Some(row.clone()));
        }
    }
    let Some(message_id) = message_id else {
        return Ok(None);
    };
    let mut statement = tx
        .prepare_cached(&format!(
            "SELECT {SEEN_COLUMNS} FROM pop3_uidl INDEXED BY pop3_uidl_message_id
             WHERE account_id = ?1 AND message_id = ?2 AND size = ?3 AND uidl != ?4"
        ))
        .map_err(StoreError::sqlite("Prepare the Message-ID lookup"))?;
    let rows = statement
        .query_map(
            params![account_id, message_id, item.list_size, item.uidl],
            seen_from_row,
        )
        .map_err(StoreError::sqlite("Look for the same Message-ID"))?;
    for row in rows {
        let row = row.map_err(StoreError::sqlite("Read a UIDL"))?;
        // Both whole with different bytes: other mail under a reused Message-ID.
        let comparable = item.partial || row.digest.is_none();
        if comparable && !listed(&row.uidl) {
            return Ok(Some(row));
        }
    }
    Ok(None)
}
