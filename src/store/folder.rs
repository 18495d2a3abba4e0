//! Folders (mailboxes) of an account, with their sync state and cached counts.

use rusqlite::{OptionalExtension, Row, params};
use serde::Serialize;

use super::{Result, Store, StoreError};
pub use crate::mail::folder::{FolderRole, attr};

/// A folder as the store keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Folder {
    pub id: i64,
    pub account_id: i64,
    pub path: String,
    pub server_path: String,
    pub delimiter: Option<String>,
    pub role: Option<FolderRole>,
    pub attributes: i64,
    pub subscribed: bool,
    pub uidvalidity: Option<i64>,
    pub uidnext: Option<i64>,
    pub highestmodseq: Option<i64>,
    pub total: i64,
    pub unread: i64,
    /// Whether every message the server had at the last full pass is cached (headers backfill
    /// done); resyncs can then skip listing all UIDs.
    pub backfill_complete: bool,
    /// The server's counts at the last STATUS, if any.
    pub server_total: Option<i64>,
    pub server_unread: Option<i64>,
    /// Why the last pass could not sync this folder (the server's words); None when it did.
    pub sync_error: Option<String>,
}

impl Folder {
    /// The folder's own name: the last part of its path ("Sent" for "INBOX.Sent").
    pub fn name(&self) -> &str {
        self.delimiter
            .as_deref()
            .and_then(|d| self.path.rsplit(d).next())
            .unwrap_or(&self.path)
    }

    /// (total, unread) as the folder list shows them: the cache's own counts, which follow
    /// local changes at once, unless the server holds more than is cached (a sync window, or a
    /// backfill still running); then the server's counts from STATUS.
    pub fn counts(&self) -> (i64, i64) {
        match (self.server_total, self.server_unread) {
            (Some(total), Some(unread)) if total > self.total => (total, unread.max(self.unread)),
            _ => (self.total, self.unread),
        }
    }
}

/// A folder to create or update (as seen in LIST).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewFolder {
    pub path: String,
    pub server_path: String,
    pub delimiter: Option<String>,
    pub role: Option<FolderRole>,
    pub attributes: i64,
    pub subscribed: bool,
}

const FOLDER_COLUMNS: &str =
    "id, account_id, path, server_path, delimiter, role, attributes, subscribed,
    uidvalidity, uidnext, highestmodseq, total, unread, backfill_uid = 1, server_total,
    server_unread, sync_error";

fn folder_from_row(row: &Row<'_>) -> rusqlite::Result<Folder> {
    let role: Option<String> = row.get(5)?;
    Ok(Folder {
        id: row.get(0)?,
        account_id: row.get(1)?,
        path: row.get(2)?,
        server_path: row.get(3)?,
        delimiter: row.get(4)?,
        role: role.as_deref().and_then(FolderRole::parse),
        attributes: row.get(6)?,
        subscribed: row.get(7)?,
        uidvalidity: row.get(8)?,
        uidnext: row.get(9)?,
        highestmodseq: row.get(10)?,
        total: row.get(11)?,
        unread: row.get(12)?,
        backfill_complete: row.get::<_, Option<bool>>(13)?.unwrap_or(false),
        server_total: row.get(14)?,
        server_unread: row.get(15)?,
        sync_error: row.get(16)?,
    })
}

impl Store {
    /// Records the server's message and unread counts (from STATUS).
    pub fn set_folder_status(&self, folder_id: i64, total: i64, unread: i64) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "UPDATE folder SET server_total = ?2, server_unread = ?3 WHERE id = ?1",
                params![folder_id, total, unread],
            )
            .map_err(StoreError::sqlite("Record the folder's counts"))?;
            Ok(())
        })
    }

    /// Renames a folder and its subfolders in the cache after the server renamed them, keeping
    /// their ids, so their messages keep their ids and cached bodies. `to_server` is the new
    /// name as the server spells it. Returns how many folders were renamed.
    pub fn rename_folder(
        &self,
        account_id: i64,
        from: &str,
        to: &str,
        to_server: &str,
    ) -> Result<usize> {
        let folder = self.find_folder(account_id, from)?;
        self.write(|tx| {
            let delimiter = folder.delimiter.clone().unwrap_or_default();
            let children = format!("{}{delimiter}", folder.path);
            let renamed = tx
                .execute(
                    "UPDATE folder SET
                         path = ?3 || substr(path, length(?2) + 1),
                         server_path = ?5 || substr(server_path, length(?4) + 1)
                     WHERE account_id = ?1
                       AND (path = ?2 OR (?6 <> '' AND substr(path, 1, length(?7)) = ?7))",
                    params![
                        account_id,
                        folder.path,
                        to,
                        folder.server_path,
                        to_server,
                        delimiter,
                        children,
                    ],
                )
                .map_err(StoreError::sqlite("Rename the folder"))?;
            Ok(renamed)
        })
    }

    /// Records why a folder could not be synced, or (None) that it was.
    pub fn set_folder_error(&self, folder_id: i64, error: Option<&str>) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "UPDATE folder SET sync_error = ?2 WHERE id = ?1 AND sync_error IS NOT ?2",
                params![folder_id, error],
            )
            .map_err(StoreError::sqlite("Record the folder's sync error"))?;
            Ok(())
        })
    }

    /// Creates the folder, or updates its LIST data if it exists. Returns its id.
    pub fn upsert_folder(&self, account_id: i64, folder: &NewFolder) -> Result<i64> {
        self.write(|tx| upsert_folder(tx, account_id, folder))
    }

    /// An account's folders, INBOX first, then by path.
    pub fn folders(&self, account_id: i64) -> Result<Vec<Folder>> {
        self.read(|conn| {
            let mut stmt = conn
                .prepare(&format!(
                    "SELECT {FOLDER_COLUMNS} FROM folder WHERE account_id = ?1
                     ORDER BY role IS NOT 'inbox', path"
                ))
                .map_err(StoreError::sqlite("Prepare the folder list"))?;
            let rows = stmt
                .query_map([account_id], folder_from_row)
                .map_err(StoreError::sqlite("List folders"))?;
            rows.collect::<rusqlite::Result<Vec<_>>>()
                .map_err(StoreError::sqlite("Read a folder"))
        })
    }

    /// A folder by id.
    pub fn folder(&self, id: i64) -> Result<Folder> {
        self.read(|conn| {
            conn.query_row(
                &format!("SELECT {FOLDER_COLUMNS} FROM folder WHERE id = ?1"),
                [id],
                folder_from_row,
            )
            .optional()
            .map_err(StoreError::sqlite("Read the folder"))?
            .ok_or_else(|| StoreError::NotFound(format!("there is no folder with id {id}")))
        })
    }

    /// A folder by its path (case-insensitive for INBOX, as IMAP requires).
    pub fn find_folder(&self, account_id: i64, path: &str) -> Result<Folder> {
        let path = if path.eq_ignore_ascii_case("inbox") {
            "INBOX"
        } else {
            path
        };
        self.read(|conn| {
            conn.query_row(
                &format!("SELECT {FOLDER_COLUMNS} FROM folder WHERE account_id = ?1 AND path = ?2"),
                params![account_id, path],
                folder_from_row,
            )
            .optional()
            .map_err(StoreError::sqlite("Find the folder"))?
            .ok_or_else(|| {
                StoreError::NotFound(format!(
                    "there is no folder {path:?}; `tern folders` lists the folders"
                ))
            })
        })
    }

    /// Creates a local folder (POP3 accounts), and its missing parents, with `/` between
    /// levels. Returns its id. Fails with `Conflict` when it exists.
    pub fn create_local_folder(&self, account_id: i64, path: &str) -> Result<i64> {
        let path = path.trim_matches('/');
        if path.is_empty()
            || path.split('/').any(|part| part.trim().is_empty())
            || path.chars().any(char::is_control)
        {
            return Err(StoreError::Conflict(format!(
                "bad folder name {path:?}: give a name without control characters (use / between levels)"
            )));
        }
        if path.eq_ignore_ascii_case("INBOX") {
            return Err(StoreError::Conflict("the Inbox exists already".into()));
        }
        self.write(|tx| {
            let exists: bool = tx
                .query_row(
                    "SELECT EXISTS (SELECT 1 FROM folder WHERE account_id = ?1 AND path = ?2)",
                    params![account_id, path],
                    |r| r.get(0),
                )
                .map_err(StoreError::sqlite("Look for the folder"))?;
            if exists {
                return Err(StoreError::Conflict(format!(
                    "there is a folder {path:?} already"
                )));
            }
            let mut id = 0;
            let mut prefix = String::new();
            for part in path.split('/') {
                if !prefix.is_empty() {
                    prefix.push('/');
                }
                prefix.push_str(part);
                id = tx
                    .query_row(
                        "INSERT INTO folder (account_id, path, server_path, delimiter)
                         VALUES (?1, ?2, ?2, '/')
                         ON CONFLICT (account_id, path) DO UPDATE SET path = path
                         RETURNING id",
                        params![account_id, prefix],
                        |r| r.get(0),
                    )
                    .map_err(StoreError::sqlite("Create the folder"))?;
            }
            Ok(id)
        })
    }

    /// Deletes a local folder (POP3 accounts) with its subfolders and the mail in them (for
    /// good: their UIDLs are marked deleted here, as deleting a message does). Folders with a
    /// role (Inbox, Sent, Drafts, Trash, Archive, Junk) stay: Tern files mail in them. Returns
    /// how many messages went.
    pub fn delete_local_folder(&self, account_id: i64, path: &str) -> Result<usize> {
        let folder = self.find_folder(account_id, path)?;
        if let Some(role) = folder.role {
            return Err(StoreError::Conflict(format!(
                "{} is the account's {} folder, which Tern needs; it cannot be deleted",
                folder.path,
                role.as_str()
            )));
        }
        let children = format!("{}/", folder.path);
        self.write(|tx| {
            let within = "account_id = ?1 AND (path = ?2 OR substr(path, 1, length(?3)) = ?3)";
            let roles: i64 = tx
                .query_row(
                    &format!("SELECT count(*) FROM folder WHERE {within} AND role IS NOT NULL"),
                    params![account_id, folder.path, children],
                    |r| r.get(0),
                )
                .map_err(StoreError::sqlite("Look for special subfolders"))?;
            if roles > 0 {
                return Err(StoreError::Conflict(format!(
                    "{} holds a folder Tern needs (Sent, Drafts, Trash, ...); move that out first",
                    folder.path
                )));
            }
            let folders = format!("SELECT id FROM folder WHERE {within}");
            tx.execute(
                &format!(
                    "UPDATE pop3_uidl SET deleted_here = 1
                     WHERE account_id = ?1 AND uidl IN
                         (SELECT uidl FROM message WHERE uidl IS NOT NULL AND folder_id IN ({folders}))"
                ),
                params![account_id, folder.path, children],
            )
            .map_err(StoreError::sqlite("Mark the folder's mail as deleted here"))?;
            let messages = tx
                .execute(
                    &format!("DELETE FROM message WHERE folder_id IN ({folders})"),
                    params![account_id, folder.path, children],
                )
                .map_err(StoreError::sqlite("Delete the folder's mail"))?;
            tx.execute(
                &format!("DELETE FROM folder WHERE {within}"),
                params![account_id, folder.path, children],
            )
            .map_err(StoreError::sqlite("Delete the folder"))?;
            Ok(messages)
        })
    }

    /// Records the server's sync state of a folder.
    pub fn set_folder_sync_state(
        &self,
        folder_id: i64,
        uidvalidity: Option<i64>,
        uidnext: Option<i64>,
        highestmodseq: Option<i64>,
    ) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "UPDATE folder SET uidvalidity = ?2, uidnext = ?3, highestmodseq = ?4, synced_at = unixepoch()
                 WHERE id = ?1",
                params![folder_id, uidvalidity, uidnext, highestmodseq],
            )
            .map_err(StoreError::sqlite("Save the folder's sync state"))?;
            Ok(())
        })
    }
}

/// Creates a folder or updates its LIST data, inside the caller's transaction; returns its id.
pub(super) fn upsert_folder(
    tx: &rusqlite::Transaction<'_>,
    account_id: i64,
    folder: &NewFolder,
) -> Result<i64> {
    tx.query_row(
        "INSERT INTO folder (account_id, path, server_path, delimiter, role, attributes, subscribed)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (account_id, path) DO UPDATE SET
             server_path = excluded.server_path, delimiter = excluded.delimiter,
             role = excluded.role, attributes = excluded.attributes,
             subscribed = excluded.subscribed
         RETURNING id",
        params![
            account_id,
            folder.path,
            folder.server_path,
            folder.delimiter,
            folder.role.map(FolderRole::as_str),
            folder.attributes,
            folder.subscribed,
        ],
        |row| row.get(0),
    )
    .map_err(StoreError::sqlite("Save the folder"))
}
