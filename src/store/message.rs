//! Cached messages: insertion in batches, single rows, threads, search and cached bodies (the
//! list views' pages are in `pages`).
//!
//! Every query here is served by an index (see `tests.rs`, which checks the query plans), so a
//! folder of 1,000,000 messages opens without a table scan and nothing loads a whole folder.

use rusqlite::{Connection, OptionalExtension, Row, Transaction, params};
use serde::Serialize;

use super::{Result, Store, StoreError};

/// Bits of `message.flags`. Other keywords live in `message.keywords`.
pub mod flag {
    pub const SEEN: i64 = 1;
    pub const ANSWERED: i64 = 2;
    pub const FLAGGED: i64 = 4;
    pub const DELETED: i64 = 8;
    pub const DRAFT: i64 = 16;
    pub const FORWARDED: i64 = 32;

    /// IMAP names of the bits, in bit order.
    pub const NAMES: [(i64, &str); 6] = [
        (SEEN, "\\Seen"),
        (ANSWERED, "\\Answered"),
        (FLAGGED, "\\Flagged"),
        (DELETED, "\\Deleted"),
        (DRAFT, "\\Draft"),
        (FORWARDED, "$Forwarded"),
    ];

    /// Splits IMAP flag names into bits and a space-separated keyword string (`\Recent` and
    /// unknown system flags are dropped).
    pub fn from_names<S: AsRef<str>>(names: &[S]) -> (i64, String) {
        let mut bits = 0;
        let mut keywords: Vec<&str> = Vec::new();
        for name in names {
            let name = name.as_ref();
            match NAMES.iter().find(|(_, n)| n.eq_ignore_ascii_case(name)) {
                Some((bit, _)) => bits |= bit,
                None if name.starts_with('\\') => {}
                None => keywords.push(name),
            }
        }
        keywords.sort_unstable();
        keywords.dedup();
        (bits, keywords.join(" "))
    }

    /// The IMAP names of `bits` followed by the keywords.
    pub fn names(bits: i64, keywords: &str) -> Vec<String> {
        NAMES
            .iter()
            .filter(|(bit, _)| bits & bit != 0)
            .map(|(_, name)| (*name).to_owned())
            .chain(keywords.split_whitespace().map(str::to_owned))
            .collect()
    }
}

/// A message header summary to insert (from IMAP FETCH or a downloaded POP3 message).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewMessage {
    pub folder_id: i64,
    pub uid: Option<i64>,
    pub uidl: Option<String>,
    pub modseq: Option<i64>,
    pub message_id: Option<String>,
    pub in_reply_to: Option<String>,
    /// References, oldest first.
    pub references: Vec<String>,
    pub subject: String,
    pub from_name: String,
    pub from_addr: String,
    pub to: String,
    pub cc: String,
    pub date: i64,
    pub internal_date: Option<i64>,
    pub size: i64,
    pub flags: i64,
    pub keywords: String,
    pub has_attachments: bool,
    pub preview: String,
    /// The preview is settled (the server said what it is, or it came from the body), even if
    /// empty; otherwise an empty one is asked for later (IMAP PREVIEW).
    pub preview_known: bool,
    /// MIME structure as JSON (IMAP BODYSTRUCTURE), for fetching parts on demand.
    pub structure: Option<String>,
}

/// A message row as views and the CLI see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MessageRow {
    pub id: i64,
    pub account_id: i64,
    pub folder_id: i64,
    pub uid: Option<i64>,
    pub uidl: Option<String>,
    pub message_id: Option<String>,
    pub in_reply_to: Option<String>,
    pub refs: String,
    pub thread_id: Option<i64>,
    pub subject: String,
    pub from_name: String,
    pub from_addr: String,
    pub to: String,
    pub cc: String,
    pub date: i64,
    pub size: i64,
    pub flags: i64,
    pub keywords: String,
    pub has_attachments: bool,
    pub preview: String,
    pub body_state: i64,
}

/// Sort orders of a folder view; each has its own index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortOrder {
    /// Newest first.
    #[default]
    DateDesc,
    /// By sender, then newest first within a sender.
    From,
    /// By subject (without Re:/Fwd:), then newest first.
    Subject,
}

/// A conversation in a folder's threaded view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreadRow {
    /// Its newest message in the folder (what the list shows).
    pub newest: MessageRow,
    pub messages: i64,
    pub unread: i64,
}

/// Where the previous page ended: the sort key, date and id of its last row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageCursor {
    pub key: String,
    pub date: i64,
    pub id: i64,
}

impl PageCursor {
    /// The cursor just after `row` in `order`.
    pub fn after(row: &MessageRow, order: SortOrder) -> PageCursor {
        let key = match order {
            SortOrder::DateDesc => String::new(),
            SortOrder::From => sort_from(&row.from_name, &row.from_addr),
            SortOrder::Subject => sort_subject(&row.subject),
        };
        PageCursor {
            key,
            date: row.date,
            id: row.id,
        }
    }
}

pub(super) const MESSAGE_COLUMNS: &str = "m.id, m.account_id, m.folder_id, m.uid, m.uidl, m.message_id, m.in_reply_to,
    m.refs, m.thread_id, m.subject, m.from_name, m.from_addr, m.to_addrs, m.cc_addrs, m.date, m.size,
    m.flags, m.keywords, m.has_attachments, m.preview, m.body_state";

pub(super) fn message_from_row(row: &Row<'_>) -> rusqlite::Result<MessageRow> {
    Ok(MessageRow {
        id: row.get(0)?,
        account_id: row.get(1)?,
        folder_id: row.get(2)?,
        uid: row.get(3)?,
        uidl: row.get(4)?,
        message_id: row.get(5)?,
        in_reply_to: row.get(6)?,
        refs: row.get(7)?,
        thread_id: row.get(8)?,
        subject: row.get(9)?,
        from_name: row.get(10)?,
        from_addr: row.get(11)?,
        to: row.get(12)?,
        cc: row.get(13)?,
        date: row.get(14)?,
        size: row.get(15)?,
        flags: row.get(16)?,
        keywords: row.get(17)?,
        has_attachments: row.get(18)?,
        preview: row.get(19)?,
        body_state: row.get(20)?,
    })
}

/// The sender as sorted: display name, else address, lower-cased.
pub(crate) fn sort_from(name: &str, addr: &str) -> String {
    let key = if name.trim().is_empty() { addr } else { name };
    key.trim().to_lowercase()
}

/// The subject as sorted: without any number of leading Re:/Fwd:/Fw:/Aw: prefixes, lower-cased.
pub(crate) fn sort_subject(subject: &str) -> String {
    let mut rest = subject.trim();
    loop {
        let lower = rest.to_ascii_lowercase();
        let stripped = ["re:", "fwd:", "fw:", "aw:", "wg:", "re :", "fwd :"]
            .iter()
            .find(|p| lower.starts_with(*p))
            .and_then(|p| rest.get(p.len()..));
        match stripped {
            Some(next) => rest = next.trim_start(),
            None => break,
        }
    }
    rest.to_lowercase()
}

/// From this many matches on, a search walks the messages by date instead of sorting its
/// matches: measured on 1,000,000 messages, sorting costs about 0.7 µs a match, and the walk
/// costs about 0.3 µs a match (to collect the set) plus 75 ns for each message it passes.
const COMMON_MATCHES: i64 = 10_000;

/// A search with few matches: each match joined to its message, sorted by date.
const SEARCH_BY_MATCH: &str =
    "SELECT {MESSAGE_COLUMNS} FROM message_fts f JOIN message m ON m.id = f.rowid
     WHERE message_fts MATCH ?1 AND (?2 IS NULL OR m.account_id = ?2)
       AND (?4 IS NULL OR m.folder_id = ?4)
     ORDER BY m.date DESC, m.id DESC LIMIT ?3";

/// A search with many matches: messages newest first through `message_date`, kept when in the
/// match set, until the page is full.
const SEARCH_BY_DATE: &str = "SELECT {MESSAGE_COLUMNS} FROM message m INDEXED BY message_date
     WHERE m.id IN (SELECT rowid FROM message_fts WHERE message_fts MATCH ?1)
       AND (?2 IS NULL OR m.account_id = ?2) AND (?4 IS NULL OR m.folder_id = ?4)
     ORDER BY m.date DESC, m.id DESC LIMIT ?3";

/// `SEARCH_BY_DATE` within one folder, through the folder's date index.
const SEARCH_FOLDER_BY_DATE: &str =
    "SELECT {MESSAGE_COLUMNS} FROM message m INDEXED BY message_folder_date
     WHERE m.folder_id = ?4 AND m.id IN (SELECT rowid FROM message_fts WHERE message_fts MATCH ?1)
       AND (?2 IS NULL OR m.account_id = ?2)
     ORDER BY m.date DESC, m.id DESC LIMIT ?3";

/// `Store::search_in` on `conn`, walking by date from `common` matches on.
pub(super) fn search_rows(
    conn: &Connection,
    query: &str,
    account_id: Option<i64>,
    folder_id: Option<i64>,
    limit: i64,
    common: i64,
) -> Result<Vec<MessageRow>> {
    let matches: i64 = conn
        .prepare_cached(
            "SELECT count(*) FROM
             (SELECT rowid FROM message_fts WHERE message_fts MATCH ?1 LIMIT ?2)",
        )
        .and_then(|mut s| s.query_row(params![query, common], |r| r.get(0)))
        .map_err(StoreError::sqlite("Count the search's matches"))?;
    let sql = if matches < common {
        SEARCH_BY_MATCH
    } else if folder_id.is_some() {
        SEARCH_FOLDER_BY_DATE
    } else {
        SEARCH_BY_DATE
    };
    let mut stmt = conn
        .prepare_cached(&sql.replace("{MESSAGE_COLUMNS}", MESSAGE_COLUMNS))
        .map_err(StoreError::sqlite("Prepare the search"))?;
    let rows = stmt
        .query_map(
            params![query, account_id, limit, folder_id],
            message_from_row,
        )
        .map_err(StoreError::sqlite("Search messages"))?;
    rows.collect::<rusqlite::Result<Vec<_>>>()
        .map_err(StoreError::sqlite("Read a search result"))
}

/// Turns what a user types into an FTS5 query: every word must match, as a prefix.
pub(crate) fn fts_query(text: &str) -> Option<String> {
    let terms: Vec<String> = text
        .split_whitespace()
        .map(|word| format!("\"{}\"*", word.replace('"', "\"\"")))
        .collect();
    if terms.is_empty() {
        None
    } else {
        Some(terms.join(" "))
    }
}

impl Store {
    /// Inserts a batch of messages in one transaction and returns their ids in order.
    /// A message whose (folder, uid) or (folder, uidl) is already cached is left as it is and its
    /// existing id returned, so replaying a batch after a crash duplicates nothing.
    /// These are IMAP cache rows (the server can give them again): `write_cache`.
    pub fn insert_messages(&self, account_id: i64, messages: &[NewMessage]) -> Result<Vec<i64>> {
        self.write_cache(|tx| {
            messages
                .iter()
                .map(|m| insert_message(tx, account_id, m))
                .collect()
        })
    }

    /// One message by id.
    pub fn message(&self, id: i64) -> Result<MessageRow> {
        self.read(|conn| {
            conn.query_row(
                &format!("SELECT {MESSAGE_COLUMNS} FROM message m WHERE m.id = ?1"),
                [id],
                message_from_row,
            )
            .optional()
            .map_err(StoreError::sqlite("Read the message"))?
            .ok_or_else(|| {
                StoreError::NotFound(format!(
                    "there is no message with id {id}; `tern list` shows ids"
                ))
            })
        })
    }

    /// The messages of a thread, oldest first.
    pub fn thread_messages(&self, thread_id: i64) -> Result<Vec<MessageRow>> {
        self.read(|conn| {
            let mut stmt = conn
                .prepare_cached(THREAD_SQL)
                .map_err(StoreError::sqlite("Prepare the thread query"))?;
            let rows = stmt
                .query_map([thread_id], message_from_row)
                .map_err(StoreError::sqlite("Read the thread"))?;
            rows.collect::<rusqlite::Result<Vec<_>>>()
                .map_err(StoreError::sqlite("Read a message row"))
        })
    }

    /// The newest `limit` messages of a thread (newest first), and how many it has in all.
    pub fn thread_newest(&self, thread_id: i64, limit: usize) -> Result<(Vec<MessageRow>, usize)> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.read(|conn| {
            let sql = THREAD_SQL.replace(
                "ORDER BY m.date, m.id",
                "ORDER BY m.date DESC, m.id DESC LIMIT ?2",
            );
            let mut stmt = conn
                .prepare_cached(&sql)
                .map_err(StoreError::sqlite("Prepare the thread query"))?;
            let rows = stmt
                .query_map(params![thread_id, limit], message_from_row)
                .map_err(StoreError::sqlite("Read the thread"))?
                .collect::<rusqlite::Result<Vec<_>>>()
                .map_err(StoreError::sqlite("Read a message row"))?;
            let total: i64 = conn
                .prepare_cached("SELECT count(*) FROM message WHERE thread_id = ?1")
                .and_then(|mut s| s.query_row([thread_id], |r| r.get(0)))
                .map_err(StoreError::sqlite("Count the thread"))?;
            Ok((rows, usize::try_from(total).unwrap_or(0)))
        })
    }

    /// Unread messages of a folder stored after message `after_id` (newest first), for new-mail
    /// notifications; and the folder's newest message id when `after_id` is None.
    pub fn new_unread(
        &self,
        folder_id: i64,
        after_id: i64,
        limit: usize,
    ) -> Result<Vec<MessageRow>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.read(|conn| {
            let sql = THREAD_SQL.replace(
                "WHERE m.thread_id = ?1 ORDER BY m.date, m.id",
                "WHERE m.id > ?2 AND m.folder_id = ?1 AND (m.flags & 1) = 0 ORDER BY m.id DESC LIMIT ?3",
            );
            let mut stmt = conn
                .prepare_cached(&sql)
                .map_err(StoreError::sqlite("Prepare the new-mail query"))?;
            let rows = stmt
                .query_map(params![folder_id, after_id, limit], message_from_row)
                .map_err(StoreError::sqlite("Read new mail"))?;
            rows.collect::<rusqlite::Result<Vec<_>>>()
                .map_err(StoreError::sqlite("Read a message row"))
        })
    }

    /// The highest message id in the store (new mail gets higher ids).
    pub fn latest_message_id(&self) -> Result<i64> {
        self.read(|conn| {
            conn.query_row("SELECT coalesce(max(id), 0) FROM message", [], |r| r.get(0))
                .map_err(StoreError::sqlite("Read the latest message id"))
        })
    }

    /// Counts a folder's unread messages from the partial index (the folder row caches it too).
    pub fn count_unread(&self, folder_id: i64) -> Result<i64> {
        self.read(|conn| {
            conn.query_row(UNREAD_SQL, [folder_id], |r| r.get(0))
                .map_err(StoreError::sqlite("Count unread messages"))
        })
    }

    /// Full-text search over subject, sender, recipients and body text, newest first.
    /// `account_id` None searches every account.
    pub fn search(
        &self,
        text: &str,
        account_id: Option<i64>,
        limit: usize,
    ) -> Result<Vec<MessageRow>> {
        self.search_in(text, account_id, None, limit)
    }

    /// `search` limited to one account and/or one folder.
    pub fn search_in(
        &self,
        text: &str,
        account_id: Option<i64>,
        folder_id: Option<i64>,
        limit: usize,
    ) -> Result<Vec<MessageRow>> {
        let Some(query) = fts_query(text) else {
            return Ok(Vec::new());
        };
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.read(|conn| search_rows(conn, &query, account_id, folder_id, limit, COMMON_MATCHES))
    }

    /// Records the readable text of a message's body for search (replacing any earlier text).
    pub fn index_body_text(&self, message_id: i64, text: &str) -> Result<()> {
        self.write(|tx| index_body(tx, message_id, text))
    }
}

pub(super) const THREAD_SQL: &str =
    "SELECT m.id, m.account_id, m.folder_id, m.uid, m.uidl, m.message_id,
    m.in_reply_to, m.refs, m.thread_id, m.subject, m.from_name, m.from_addr, m.to_addrs, m.cc_addrs,
    m.date, m.size, m.flags, m.keywords, m.has_attachments, m.preview, m.body_state
    FROM message m WHERE m.thread_id = ?1 ORDER BY m.date, m.id";

pub(super) const UNREAD_SQL: &str =
    "SELECT count(*) FROM message WHERE folder_id = ?1 AND (flags & 1) = 0";

/// Inserts a message whose whole source we hold (our own: drafts, sent copies, local mail): the
/// row, its source (`body_state` full) and its search entry with the body text.
pub(super) fn insert_with_source(
    tx: &Transaction<'_>,
    account_id: i64,
    message: &NewMessage,
    raw: &[u8],
    body_text: &str,
) -> Result<i64> {
    let id = insert_message(tx, account_id, message)?;
    save_source(tx, id, raw)?;
    tx.prepare_cached("UPDATE message SET body_state = 2 WHERE id = ?1")
        .and_then(|mut s| s.execute([id]))
        .map_err(StoreError::sqlite("Mark the body as cached"))?;
    index_body(tx, id, body_text)?;
    Ok(id)
}

/// Sources above this size are written with incremental blob I/O: bound as a parameter, SQLite
/// would copy the bytes twice more (the binding and the record), so a 50 MB message would sit
/// in memory three times.
const STREAMED_SOURCE: usize = 1024 * 1024;

/// Most body text indexed for search per message (a text body larger than this is searched by
/// its beginning; the message itself is kept whole).
pub const MAX_INDEXED_TEXT: usize = 4 * 1024 * 1024;

/// Stores (or replaces) a message's whole source.
pub(super) fn save_source(tx: &Transaction<'_>, message_id: i64, raw: &[u8]) -> Result<()> {
    if raw.len() <= STREAMED_SOURCE {
        tx.prepare_cached(
            "INSERT INTO body (message_id, raw) VALUES (?1, ?2)
             ON CONFLICT (message_id) DO UPDATE SET raw = excluded.raw",
        )
        .and_then(|mut s| s.execute(params![message_id, raw]))
        .map_err(StoreError::sqlite("Save the message source"))?;
        return Ok(());
    }
    let length = i64::try_from(raw.len())
        .map_err(|_| StoreError::Unsupported("a message source larger than 2^63 bytes".into()))?;
    tx.prepare_cached(
        "INSERT INTO body (message_id, raw) VALUES (?1, zeroblob(?2))
         ON CONFLICT (message_id) DO UPDATE SET raw = excluded.raw",
    )
    .and_then(|mut s| s.execute(params![message_id, length]))
    .map_err(StoreError::sqlite("Make room for the message source"))?;
    write_blob(tx, "body", message_id, raw)
}

/// Writes `raw` into the `raw` column of row `rowid` of `table`, which holds a zeroblob of its
/// length: incremental blob I/O, so SQLite holds no copy of it.
pub(super) fn write_blob(tx: &Transaction<'_>, table: &str, rowid: i64, raw: &[u8]) -> Result<()> {
    let mut blob = tx
        .blob_open(rusqlite::MAIN_DB, table, "raw", rowid, false)
        .map_err(StoreError::sqlite("Open the message source for writing"))?;
    blob.write_all_at(raw, 0)
        .map_err(StoreError::sqlite("Write the message source"))?;
    blob.close()
        .map_err(StoreError::sqlite("Finish writing the message source"))?;
    Ok(())
}

/// Reads the `raw` column of row `rowid` of `table` with incremental blob I/O (a plain SELECT
/// would have SQLite hold a second copy of a large source while it is handed over).
pub(super) fn read_blob(conn: &rusqlite::Connection, table: &str, rowid: i64) -> Result<Vec<u8>> {
    let blob = conn
        .blob_open(rusqlite::MAIN_DB, table, "raw", rowid, true)
        .map_err(StoreError::sqlite("Open the message source for reading"))?;
    let mut raw = vec![0u8; blob.len()];
    blob.read_at_exact(&mut raw, 0)
        .map_err(StoreError::sqlite("Read the message source"))?;
    Ok(raw)
}

/// Replaces a message's search entry with one that includes its body text.
pub(super) fn index_body(tx: &Transaction<'_>, message_id: i64, text: &str) -> Result<()> {
    let mut end = text.len().min(MAX_INDEXED_TEXT);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let text = text.get(..end).unwrap_or_default();
    // Written at commit (`flush_search_index`); a message inserted in this transaction is not
    // in the index yet, any other is and has its entry replaced.
    tx.prepare_cached(
        "INSERT INTO fts_pending (id, body, indexed) VALUES (?1, ?2, 1)
         ON CONFLICT (id) DO UPDATE SET body = excluded.body",
    )
    .and_then(|mut s| s.execute(params![message_id, text]))
    .map_err(StoreError::sqlite("Index the body text"))?;
    // The list's preview line, where the headers gave none (IMAP without PREVIEW).
    let missing: bool = tx
        .prepare_cached("SELECT preview = '' FROM message WHERE id = ?1")
        .and_then(|mut s| s.query_row([message_id], |r| r.get(0)))
        .optional()
        .map_err(StoreError::sqlite("Read the preview line"))?
        .unwrap_or(false);
    if missing {
        let preview = crate::mail::parse::preview_of_text(text);
        tx.prepare_cached("UPDATE message SET preview = ?2, preview_known = 1 WHERE id = ?1")
            .and_then(|mut s| s.execute(params![message_id, preview]))
            .map_err(StoreError::sqlite("Store the preview line"))?;
    }
    Ok(())
}

/// Writes the search entries noted in `fts_pending` during this transaction: replaced entries
/// are dropped one by one, then every entry is inserted by one statement (FTS5 flushes at each
/// statement, so this is one flush per transaction). Leaves `fts_pending` empty.
///
/// Only messages without an entry get one (after the replaced ones are dropped: those marked
/// `indexed` or given body text): a message noted again without new text is left alone. An older build
/// (before migration 0013) still running on the same data dir notes its messages through the
/// new trigger but indexes their bodies straight into `message_fts`, and never drains the
/// table; the next write here does, without giving any message a second entry. (A contentless
/// FTS5 table cannot be looked up by rowid; its `_docsize` shadow table, one row per entry,
/// can.)
pub(super) fn flush_search_index(tx: &Transaction<'_>) -> Result<()> {
    let pending: bool = tx
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM fts_pending)")
        .and_then(|mut s| s.query_row([], |r| r.get(0)))
        .map_err(StoreError::sqlite("Look for search entries to write"))?;
    if !pending {
        return Ok(());
    }
    let replaced: Vec<i64> = tx
        .prepare_cached(
            "SELECT p.id FROM fts_pending p
             WHERE (p.indexed = 1 OR p.body IS NOT NULL)
               AND EXISTS (SELECT 1 FROM message_fts_docsize d WHERE d.id = p.id)",
        )
        .and_then(|mut s| {
            s.query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<Vec<i64>>>()
        })
        .map_err(StoreError::sqlite("List the search entries to replace"))?;
    for id in replaced {
        tx.prepare_cached("DELETE FROM message_fts WHERE rowid = ?1")
            .and_then(|mut s| s.execute([id]))
            .map_err(StoreError::sqlite("Drop the old search entry"))?;
    }
    tx.execute_batch(
        "INSERT INTO message_fts (rowid, subject, sender, recipients, body)
         SELECT m.id, m.subject, m.from_name || ' ' || m.from_addr,
                m.to_addrs || ' ' || m.cc_addrs, coalesce(p.body, '')
         FROM fts_pending p JOIN message m ON m.id = p.id
         WHERE NOT EXISTS (SELECT 1 FROM message_fts_docsize d WHERE d.id = p.id);
         DELETE FROM fts_pending;",
    )
    .map_err(StoreError::sqlite("Write the search entries"))
}

pub(super) fn insert_message(tx: &Transaction<'_>, account_id: i64, m: &NewMessage) -> Result<i64> {
    let existing: Option<i64> = tx
        .prepare_cached("SELECT id FROM message WHERE folder_id = ?1 AND (uid = ?2 OR uidl = ?3)")
        .and_then(|mut s| s.query_row(params![m.folder_id, m.uid, m.uidl], |r| r.get(0)))
        .optional()
        .map_err(StoreError::sqlite("Look for a cached copy"))?;
    if let Some(id) = existing {
        return Ok(id);
    }
    // A message moved here offline waits without a UID; the server's copy adopts that row.
    if let (Some(uid), Some(header_id)) = (m.uid, &m.message_id) {
        let waiting: Option<i64> = tx.prepare_cached("SELECT id FROM message WHERE folder_id = ?1 AND uid IS NULL AND message_id = ?2 LIMIT 1")
        .and_then(|mut s| s.query_row(params![m.folder_id, header_id],
                |r| r.get(0)))
            .optional()
            .map_err(StoreError::sqlite("Look for a moved copy"))?;
        if let Some(id) = waiting {
            tx.prepare_cached("UPDATE message SET uid = ?2, modseq = ?3, size = ?4, structure = coalesce(?5, structure) WHERE id = ?1")
        .and_then(|mut s| s.execute(params![id, uid, m.modseq, m.size, m.structure]))
            .map_err(StoreError::sqlite("Adopt the moved copy"))?;
            return Ok(id);
        }
    }
    let thread_id = thread_for(tx, account_id, m)?;
    tx.prepare_cached("INSERT INTO message (account_id, folder_id, uid, uidl, modseq, message_id, in_reply_to, refs,
             thread_id, subject, from_name, from_addr, to_addrs, cc_addrs, date, internal_date, size,
             flags, keywords, has_attachments, preview, sort_from, sort_subject, structure,
             preview_known)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19,
                 ?20, ?21, ?22, ?23, ?24, ?25)
         RETURNING id")
        .and_then(|mut s| s.query_row(params![
            account_id,
            m.folder_id,
            m.uid,
            m.uidl,
            m.modseq,
            m.message_id,
            m.in_reply_to,
            m.references.join(" "),
            thread_id,
            m.subject,
            m.from_name,
            m.from_addr,
            m.to,
            m.cc,
            m.date,
            m.internal_date,
            m.size,
            m.flags,
            m.keywords,
            m.has_attachments,
            m.preview,
            sort_from(&m.from_name, &m.from_addr),
            sort_subject(&m.subject),
            m.structure,
            m.preview_known,
        ],
        |r| r.get(0)))
    .map_err(StoreError::sqlite("Insert the message"))
}

/// The thread a message belongs to: its parent's thread when the parent is cached, else the
/// thread of the root of its References chain (created if new).
fn thread_for(tx: &Transaction<'_>, account_id: i64, m: &NewMessage) -> Result<Option<i64>> {
    if let Some(parent) = m
        .in_reply_to
        .as_deref()
        .or(m.references.last().map(String::as_str))
    {
        let parent_thread: Option<Option<i64>> = tx
            .prepare_cached(
                "SELECT thread_id FROM message WHERE message_id = ?1 AND account_id = ?2 LIMIT 1",
            )
            .and_then(|mut s| s.query_row(params![parent, account_id], |r| r.get(0)))
            .optional()
            .map_err(StoreError::sqlite("Look up the parent's thread"))?;
        if let Some(Some(thread)) = parent_thread {
            return Ok(Some(thread));
        }
    }
    // Subject fallback: a "Re:" without In-Reply-To or References (some clients strip them)
    // joins the newest conversation in the folder with the same subject.
    if m.in_reply_to.is_none() && m.references.is_empty() {
        let base = sort_subject(&m.subject);
        if !base.is_empty() && base != m.subject.trim().to_lowercase() {
            let same: Option<Option<i64>> = tx
                .prepare_cached(
                    "SELECT thread_id FROM message WHERE folder_id = ?1 AND sort_subject = ?2
                     ORDER BY date DESC LIMIT 1",
                )
                .and_then(|mut s| s.query_row(params![m.folder_id, base], |r| r.get(0)))
                .optional()
                .map_err(StoreError::sqlite("Look for the conversation by subject"))?;
            if let Some(Some(thread)) = same {
                return Ok(Some(thread));
            }
        }
    }
    let root = m
        .references
        .first()
        .or(m.in_reply_to.as_ref())
        .or(m.message_id.as_ref());
    let Some(root) = root else { return Ok(None) };
    // Most roots exist already: a read, not an upsert that rewrites the row.
    let known: Option<i64> = tx
        .prepare_cached("SELECT id FROM thread WHERE account_id = ?1 AND root = ?2")
        .and_then(|mut s| s.query_row(params![account_id, root], |r| r.get(0)))
        .optional()
        .map_err(StoreError::sqlite("Find the thread"))?;
    if known.is_some() {
        return Ok(known);
    }
    let id = tx
        .prepare_cached(
            "INSERT INTO thread (account_id, root) VALUES (?1, ?2)
             ON CONFLICT (account_id, root) DO UPDATE SET root = excluded.root
             RETURNING id",
        )
        .and_then(|mut s| s.query_row(params![account_id, root], |r| r.get(0)))
        .map_err(StoreError::sqlite("Find or create the thread"))?;
    Ok(Some(id))
}

impl Store {
    /// The last MODSEQ seen for a message (CONDSTORE), if any.
    pub fn message_modseq(&self, message_id: i64) -> Result<Option<i64>> {
        self.read(|conn| {
            conn.query_row(
                "SELECT modseq FROM message WHERE id = ?1",
                [message_id],
                |r| r.get(0),
            )
            .optional()
            .map_err(StoreError::sqlite("Read the message's MODSEQ"))
            .map(Option::flatten)
        })
    }

    /// The cached raw RFC 5322 source of a message, if its whole body is cached.
    pub fn raw_message(&self, message_id: i64) -> Result<Option<Vec<u8>>> {
        self.read(|conn| {
            let cached = conn
                .query_row(
                    "SELECT 1 FROM body WHERE message_id = ?1",
                    [message_id],
                    |_| Ok(()),
                )
                .optional()
                .map_err(StoreError::sqlite("Read the cached message source"))?;
            match cached {
                Some(()) => read_blob(conn, "body", message_id).map(Some),
                None => Ok(None),
            }
        })
    }

    /// Caches the whole raw source of a message and marks its body as fully present.
    pub fn save_raw_message(&self, message_id: i64, raw: &[u8]) -> Result<()> {
        self.write(|tx| {
            save_source(tx, message_id, raw)?;
            tx.execute(
                "UPDATE message SET body_state = 2 WHERE id = ?1",
                [message_id],
            )
            .map_err(StoreError::sqlite("Mark the body as cached"))?;
            Ok(())
        })
    }
}

/// `Store::bodies_wanted`: keyset pages through the partial index of messages without a body.
pub(super) const BODIES_WANTED_SQL: &str =
    "SELECT id, uid, size, date FROM message INDEXED BY message_body_wanted
     WHERE folder_id = ?1 AND (date < ?3 OR (date = ?3 AND id < ?4))
       AND body_state < 2 AND uid IS NOT NULL
       AND (?2 IS NULL OR date >= ?2)
     ORDER BY date DESC, id DESC LIMIT ?5";

/// A message whose source a download for offline reading still wants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyWanted {
    pub id: i64,
    pub uid: i64,
    /// RFC822.SIZE, to bound how much one batch holds.
    pub size: i64,
    pub date: i64,
}

/// A whole source downloaded for offline reading, for `Store::save_bodies`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DownloadedBody {
    pub id: i64,
    /// None: the server sent no body; the message is marked so it is not asked for again.
    pub raw: Option<Vec<u8>>,
    /// The readable text, for search.
    pub text: Option<String>,
}

/// A cached MIME part of a message (fetched on demand).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedPart {
    pub section: String,
    pub data: Vec<u8>,
    /// False when only the first bytes of a very large part were fetched.
    pub complete: bool,
}

impl Store {
    /// The MIME structure (JSON) saved at header sync, if any.
    pub fn message_structure(&self, message_id: i64) -> Result<Option<String>> {
        self.read(|conn| {
            conn.query_row(
                "SELECT structure FROM message WHERE id = ?1",
                [message_id],
                |r| r.get(0),
            )
            .optional()
            .map_err(StoreError::sqlite("Read the message structure"))
            .map(Option::flatten)
        })
    }

    /// Caches a fetched part and marks the body as partly present (unless it is fully cached).
    pub fn save_body_part(&self, message_id: i64, part: &CachedPart) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO body_part (message_id, section, data, complete) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (message_id, section) DO UPDATE SET data = excluded.data, complete = excluded.complete",
                params![message_id, part.section, part.data, part.complete],
            )
            .map_err(StoreError::sqlite("Save a message part"))?;
            tx.execute("UPDATE message SET body_state = max(body_state, 1) WHERE id = ?1", [message_id])
                .map_err(StoreError::sqlite("Mark the body as partly cached"))?;
            Ok(())
        })
    }

    /// A cached part, if present.
    pub fn body_part(&self, message_id: i64, section: &str) -> Result<Option<CachedPart>> {
        self.read(|conn| {
            conn.query_row(
                "SELECT section, data, complete FROM body_part WHERE message_id = ?1 AND section = ?2",
                params![message_id, section],
                |r| Ok(CachedPart { section: r.get(0)?, data: r.get(1)?, complete: r.get(2)? }),
            )
            .optional()
            .map_err(StoreError::sqlite("Read a cached part"))
        })
    }
}

impl Store {
    /// Up to `limit` messages of a folder whose whole source is to be downloaded (in the sync
    /// window from `since`), newest first, after `after` (the `(date, id)` of the last one of the
    /// page before): keyset paging, so each page costs the same however many were downloaded,
    /// and a page being written meanwhile is not listed again.
    pub fn bodies_wanted(
        &self,
        folder_id: i64,
        since: Option<i64>,
        after: Option<(i64, i64)>,
        limit: usize,
    ) -> Result<Vec<BodyWanted>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let (date, id) = after.unwrap_or((i64::MAX, i64::MAX));
        self.read(|conn| {
            let mut stmt = conn
                .prepare_cached(BODIES_WANTED_SQL)
                .map_err(StoreError::sqlite("Prepare the bodies to download"))?;
            let rows = stmt
                .query_map(params![folder_id, since, date, id, limit], |r| {
                    Ok(BodyWanted {
                        id: r.get(0)?,
                        uid: r.get(1)?,
                        size: r.get(2)?,
                        date: r.get(3)?,
                    })
                })
                .map_err(StoreError::sqlite("List the bodies to download"))?;
            rows.collect::<rusqlite::Result<_>>()
                .map_err(StoreError::sqlite("Read a body to download"))
        })
    }

    /// Stores a batch of downloaded sources in one cache transaction: each with its body text
    /// indexed when given; `None` marks a body the server did not send as unavailable.
    pub fn save_bodies(&self, bodies: &[DownloadedBody]) -> Result<()> {
        self.write_cache(|tx| {
            for DownloadedBody { id, raw, text } in bodies {
                // A message expunged meanwhile (by another pass) is gone: nothing to save.
                let marked = tx
                    .prepare_cached("UPDATE message SET body_state = 2 WHERE id = ?1")
                    .and_then(|mut s| s.execute([id]))
                    .map_err(StoreError::sqlite("Mark the body as cached"))?;
                if marked == 0 {
                    continue;
                }
                if let Some(raw) = raw {
                    save_source(tx, *id, raw)?;
                }
                if let Some(text) = text {
                    index_body(tx, *id, text)?;
                }
            }
            Ok(())
        })
    }

    /// Up to `limit` messages of a folder whose preview line is not settled (IMAP PREVIEW left
    /// it out), highest UID (newest) first: (id, UID). Read through a partial index that holds
    /// only those, so it costs nothing once the folder is filled in.
    pub fn previews_pending(&self, folder_id: i64, limit: usize) -> Result<Vec<(i64, i64)>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.read(|conn| {
            let mut stmt = conn
                .prepare_cached(
                    "SELECT id, uid FROM message INDEXED BY message_preview_pending
                     WHERE folder_id = ?1 AND preview = '' AND preview_known = 0
                       AND uid IS NOT NULL
                     ORDER BY uid DESC LIMIT ?2",
                )
                .map_err(StoreError::sqlite("Prepare the previews to fetch"))?;
            let rows = stmt
                .query_map(params![folder_id, limit], |r| Ok((r.get(0)?, r.get(1)?)))
                .map_err(StoreError::sqlite("List the previews to fetch"))?;
            rows.collect::<rusqlite::Result<_>>()
                .map_err(StoreError::sqlite("Read a preview to fetch"))
        })
    }

    /// Settles the previews of these messages (id, text; empty when there is none), in one
    /// transaction. A preview already there (from a body fetched meanwhile) is kept.
    pub fn set_previews(&self, previews: &[(i64, String)]) -> Result<()> {
        self.write_cache(|tx| {
            let mut stmt = tx
                .prepare_cached(
                    "UPDATE message SET preview = ?2, preview_known = 1
                     WHERE id = ?1 AND preview = ''",
                )
                .map_err(StoreError::sqlite("Prepare to store previews"))?;
            for (id, text) in previews {
                stmt.execute(params![id, text])
                    .map_err(StoreError::sqlite("Store a preview"))?;
            }
            Ok(())
        })
    }

    /// Settles every pending preview of a folder as empty, in one statement (a server that
    /// refuses PREVIEW); a body indexed later still fills the line.
    pub fn settle_previews(&self, folder_id: i64) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "UPDATE message SET preview_known = 1
                 WHERE folder_id = ?1 AND preview = '' AND preview_known = 0 AND uid IS NOT NULL",
                [folder_id],
            )
            .map_err(StoreError::sqlite("Settle the previews"))?;
            Ok(())
        })
    }
}
