//! Accounts and their server settings. Passwords are never stored here.

use std::path::PathBuf;

use rusqlite::{OptionalExtension, Row, params};

use super::{Result, Store, StoreError, now};
use crate::account::settings::{Account, AccountSettings, Pop3Options, Protocol, ServerAddr};

const ACCOUNT_COLUMNS: &str = "id, name, display_name, email, protocol,
    incoming_host, incoming_port, incoming_security,
    outgoing_host, outgoing_port, outgoing_security,
    login, password_cmd, ca_file, cert_sha256, signature,
    sync_days, download_bodies, download_days, poll_seconds, server_saves_sent,
    pop3_leave_on_server, pop3_delete_after_days, pop3_delete_when_deleted,
    pop3_max_message_size, keyring_key, cache_epoch";

/// What `Store::change_account` changes besides the settings; None leaves a part as it is.
#[derive(Debug, Default, Clone, Copy)]
pub struct AccountChange<'a> {
    /// The incoming server or login now names another mailbox: forget the old one's cache.
    pub reset_cache: bool,
    pub signature: Option<&'a str>,
    pub server_saves_sent: Option<bool>,
    /// (days to sync, download bodies, days of bodies).
    pub sync: Option<(Option<i64>, bool, Option<i64>)>,
    pub pop3: Option<&'a Pop3Options>,
}

/// The local folders every POP3 account has (path, role), as migration 0007 creates them.
pub const POP3_FOLDERS: [(&str, &str); 6] = [
    ("INBOX", "inbox"),
    ("Sent", "sent"),
    ("Drafts", "drafts"),
    ("Trash", "trash"),
    ("Archive", "archive"),
    ("Junk", "junk"),
];

/// How often a POP3 account checks for mail unless the user says otherwise.
pub const POP3_POLL_SECONDS: i64 = 600;

impl Store {
    /// Stores a new account with default options and creates its INBOX (for POP3, all its
    /// local folders, and a 10-minute check interval). Fails with `Conflict` when the name is
    /// taken.
    pub fn add_account(&self, settings: &AccountSettings) -> Result<Account> {
        settings
            .validate()
            .map_err(|e| StoreError::Conflict(e.to_string()))?;
        let id = self.write(|tx| {
            let taken: bool = tx
                .query_row("SELECT EXISTS (SELECT 1 FROM account WHERE name = ?1)", [&settings.name], |r| r.get(0))
                .map_err(StoreError::sqlite("Check the account name"))?;
            if taken {
                return Err(StoreError::Conflict(format!(
                    "an account named {:?} already exists; choose another --name or remove the old account",
                    settings.name
                )));
            }
            tx.execute(
                "INSERT INTO account (name, display_name, email, protocol,
                     incoming_host, incoming_port, incoming_security,
                     outgoing_host, outgoing_port, outgoing_security,
                     login, password_cmd, ca_file, cert_sha256, created_at, keyring_key)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15,
                         lower(hex(randomblob(16))))",
                params![
                    settings.name,
                    settings.display_name,
                    settings.email,
                    settings.protocol.as_str(),
                    settings.incoming.host,
                    settings.incoming.port,
                    settings.incoming_security.as_str(),
                    settings.outgoing.host,
                    settings.outgoing.port,
                    settings.outgoing_security.as_str(),
                    settings.login,
                    settings.password_cmd,
                    settings.ca_file.as_ref().map(|p| p.to_string_lossy().into_owned()),
                    settings.cert_sha256,
                    now(),
                ],
            )
            .map_err(StoreError::sqlite("Insert the account"))?;
            let id = tx.last_insert_rowid();
            let folders: &[(&str, &str)] = if settings.protocol == Protocol::Pop3 {
                tx.execute(
                    "UPDATE account SET poll_seconds = ?2 WHERE id = ?1",
                    params![id, POP3_POLL_SECONDS],
                )
                .map_err(StoreError::sqlite("Set the check interval"))?;
                &POP3_FOLDERS
            } else {
                &[("INBOX", "inbox")]
            };
            for (path, role) in folders {
                tx.execute(
                    "INSERT INTO folder (account_id, path, server_path, delimiter, role)
                     VALUES (?1, ?2, ?2, '/', ?3)",
                    params![id, path, role],
                )
                .map_err(StoreError::sqlite("Create the account's folders"))?;
            }
            Ok(id)
        })?;
        self.account(id)
    }

    /// All accounts, in the order they were added.
    pub fn accounts(&self) -> Result<Vec<Account>> {
        self.read(|conn| {
            let mut stmt = conn
                .prepare(&format!(
                    "SELECT {ACCOUNT_COLUMNS} FROM account ORDER BY id"
                ))
                .map_err(StoreError::sqlite("Prepare the account list"))?;
            let rows = stmt
                .query_map([], account_from_row)
                .map_err(StoreError::sqlite("List accounts"))?;
            let mut accounts = Vec::new();
            for row in rows {
                accounts.push(row.map_err(StoreError::sqlite("Read an account"))??);
            }
            Ok(accounts)
        })
    }

    /// One account by id.
    pub fn account(&self, id: i64) -> Result<Account> {
        self.read(|conn| {
            conn.query_row(
                &format!("SELECT {ACCOUNT_COLUMNS} FROM account WHERE id = ?1"),
                [id],
                account_from_row,
            )
            .optional()
            .map_err(StoreError::sqlite("Read the account"))?
            .ok_or_else(|| StoreError::NotFound(format!("there is no account with id {id}")))?
        })
    }

    /// Finds an account by name, falling back to its email address.
    pub fn find_account(&self, name_or_email: &str) -> Result<Account> {
        let found = self.read(|conn| {
            conn.query_row(
                &format!(
                    "SELECT {ACCOUNT_COLUMNS} FROM account WHERE name = ?1
                     UNION ALL
                     SELECT {ACCOUNT_COLUMNS} FROM account WHERE email = ?1 COLLATE NOCASE
                     LIMIT 1"
                ),
                [name_or_email],
                account_from_row,
            )
            .optional()
            .map_err(StoreError::sqlite("Find the account"))
        })?;
        match found {
            Some(account) => account,
            None => Err(StoreError::NotFound(format!(
                "there is no account named {name_or_email:?}; `tern account list` shows the accounts"
            ))),
        }
    }

    /// Sets the sync window and offline-body options of an account.
    pub fn set_sync_options(
        &self,
        account_id: i64,
        sync_days: Option<i64>,
        download_bodies: bool,
        download_days: Option<i64>,
    ) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "UPDATE account SET sync_days = ?2, download_bodies = ?3, download_days = ?4 WHERE id = ?1",
                params![account_id, sync_days, download_bodies, download_days],
            )
            .map_err(StoreError::sqlite("Save the sync options"))?;
            Ok(())
        })
    }

    /// Sets the POP3 options of an account: whether to leave messages on the server, delete
    /// them from it after some days, or when they are deleted here; the size over which only
    /// headers are downloaded; and how often to check (seconds).
    pub fn set_pop3_options(&self, account_id: i64, options: &Pop3Options) -> Result<()> {
        self.write(|tx| write_pop3_options(tx, account_id, options))
    }

    /// Sets the sending options of an account: its signature, and whether its server files sent
    /// mail in Sent itself (then Tern does not upload a copy).
    pub fn set_sending_options(
        &self,
        account_id: i64,
        signature: &str,
        server_saves_sent: bool,
    ) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "UPDATE account SET signature = ?2, server_saves_sent = ?3 WHERE id = ?1",
                params![account_id, signature, server_saves_sent],
            )
            .map_err(StoreError::sqlite("Save the sending options"))?;
            Ok(())
        })
    }

    /// Changes an account's identity, servers and trust (display name, address, login, incoming
    /// and outgoing server and security, password command, CA file, pinned certificate; never
    /// its name or protocol, which the cache belongs to) and, where
    /// `change` gives them, its signature, sync and mail options, in one transaction; with
    /// `change.reset_cache`, first forgets what the account knew of its old incoming server
    /// (see `reset_cache_in`). Returns how many cached messages were dropped.
    pub fn change_account(
        &self,
        account_id: i64,
        settings: &AccountSettings,
        change: &AccountChange<'_>,
    ) -> Result<i64> {
        settings
            .validate()
            .map_err(|e| StoreError::Conflict(e.to_string()))?;
        self.write(|tx| {
            let dropped = if change.reset_cache {
                reset_cache_in(tx, account_id)?
            } else {
                0
            };
            write_server_settings(tx, account_id, settings)?;
            if let Some(signature) = change.signature {
                tx.execute(
                    "UPDATE account SET signature = ?2 WHERE id = ?1",
                    params![account_id, signature],
                )
                .map_err(StoreError::sqlite("Save the signature"))?;
            }
            if let Some(saves) = change.server_saves_sent {
                tx.execute(
                    "UPDATE account SET server_saves_sent = ?2 WHERE id = ?1",
                    params![account_id, saves],
                )
                .map_err(StoreError::sqlite("Save the sending options"))?;
            }
            if let Some((sync_days, download_bodies, download_days)) = change.sync {
                tx.execute(
                    "UPDATE account SET sync_days = ?2, download_bodies = ?3, download_days = ?4 WHERE id = ?1",
                    params![account_id, sync_days, download_bodies, download_days],
                )
                .map_err(StoreError::sqlite("Save the sync options"))?;
            }
            if let Some(pop3) = change.pop3 {
                write_pop3_options(tx, account_id, pop3)?;
            }
            Ok(dropped)
        })
    }

    /// Removes an account and everything cached for it.
    /// What removing an account would lose for good: (messages that exist only here, queued
    /// actions not yet on the server, outbox messages not yet sent). For a POP3 account every
    /// stored message exists only here.
    pub fn account_losses(&self, id: i64) -> Result<(i64, i64, i64)> {
        self.read(|conn| {
            conn.query_row(
                "SELECT
                     (SELECT count(*) FROM message m WHERE m.account_id = a.id
                        AND (a.protocol = 'pop3' OR m.uid IS NULL)),
                     (SELECT count(*) FROM pending_op p WHERE p.account_id = a.id),
                     (SELECT count(*) FROM outbox o WHERE o.account_id = a.id)
                 FROM account a WHERE a.id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()
            .map_err(StoreError::sqlite("Count what the account holds"))?
            .ok_or_else(|| StoreError::NotFound(format!("there is no account with id {id}")))
        })
    }

    pub fn remove_account(&self, id: i64) -> Result<()> {
        self.write(|tx| {
            let n = tx
                .execute("DELETE FROM account WHERE id = ?1", [id])
                .map_err(StoreError::sqlite("Delete the account"))?;
            if n == 0 {
                return Err(StoreError::NotFound(format!(
                    "there is no account with id {id}"
                )));
            }
            Ok(())
        })
    }
}

fn write_pop3_options(
    tx: &rusqlite::Transaction<'_>,
    account_id: i64,
    options: &Pop3Options,
) -> Result<()> {
    if options.delete_after_days.is_some_and(|days| days < 1) {
        // Zero days would put the cutoff at now: every message would leave the server.
        return Err(StoreError::Conflict(
            "delete from the server after how many days: give at least 1".to_owned(),
        ));
    }
    tx.execute(
        "UPDATE account SET pop3_leave_on_server = ?2, pop3_delete_after_days = ?3,
             pop3_delete_when_deleted = ?4, pop3_max_message_size = ?5,
             poll_seconds = ?6
         WHERE id = ?1",
        params![
            account_id,
            options.leave_on_server,
            options.delete_after_days,
            options.delete_when_deleted,
            options.max_message_size,
            options.poll_seconds,
        ],
    )
    .map_err(StoreError::sqlite("Save the POP3 options"))?;
    Ok(())
}

fn write_server_settings(
    tx: &rusqlite::Transaction<'_>,
    account_id: i64,
    settings: &AccountSettings,
) -> Result<()> {
    tx.execute(
        "UPDATE account SET display_name = ?2, email = ?3, login = ?4,
             incoming_host = ?5, incoming_port = ?6, incoming_security = ?7,
             outgoing_host = ?8, outgoing_port = ?9, outgoing_security = ?10,
             password_cmd = ?11, ca_file = ?12, cert_sha256 = ?13
         WHERE id = ?1",
        params![
            account_id,
            settings.display_name,
            settings.email,
            settings.login,
            settings.incoming.host,
            settings.incoming.port,
            settings.incoming_security.as_str(),
            settings.outgoing.host,
            settings.outgoing.port,
            settings.outgoing_security.as_str(),
            settings.password_cmd,
            settings
                .ca_file
                .as_ref()
                .map(|p| p.to_string_lossy().into_owned()),
            settings.cert_sha256,
        ],
    )
    .map_err(StoreError::sqlite("Save the server settings"))?;
    Ok(())
}

/// Forgets what an account knew of its old incoming server (another mailbox now):
/// - IMAP: every cached folder and message goes (refused while changes wait for the server or
///   messages were never uploaded: they would be lost);
/// - POP3: the messages stay (this store holds them), but every UIDL row and each message's
///   UIDL move to a retired key (a UIDL with a space, which no server sends), so the new
///   server's messages are all downloaded while content already here is still recognised (no
///   duplicates); refused while messages are here as headers only (they could no longer be
///   completed).
///
/// The outbox, local drafts and contacts stay. Returns how many cached messages were dropped.
fn reset_cache_in(tx: &rusqlite::Transaction<'_>, account_id: i64) -> Result<i64> {
    let (protocol, pending, local): (String, i64, i64) = tx
        .query_row(
            "SELECT a.protocol,
                 (SELECT count(*) FROM pending_op p WHERE p.account_id = a.id),
                 (SELECT count(*) FROM message m WHERE m.account_id = a.id AND m.uid IS NULL)
             FROM account a WHERE a.id = ?1",
            [account_id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()
        .map_err(StoreError::sqlite("Read the account"))?
        .ok_or_else(|| StoreError::NotFound(format!("there is no account with id {account_id}")))?;
    // An engine that loaded the account before this reset stores nothing more (`pop3_store`).
    tx.execute(
        "UPDATE account SET cache_epoch = cache_epoch + 1 WHERE id = ?1",
        [account_id],
    )
    .map_err(StoreError::sqlite("Count the cache's new start"))?;
    if protocol == "pop3" {
        let partial: i64 = tx
            .query_row(
                "SELECT count(*) FROM pop3_uidl
                 WHERE account_id = ?1 AND partial = 1 AND removed_at IS NULL",
                [account_id],
                |r| r.get(0),
            )
            .map_err(StoreError::sqlite(
                "Count the messages here as headers only",
            ))?;
        if partial > 0 {
            return Err(StoreError::Conflict(format!(
                "{partial} messages are here as headers only and could not be completed from another server; open them (or `tern show ID`) first, or use --keep-cache"
            )));
        }
        // One key suffix for this reset (the time and a random part, so that two resets in one
        // second differ), the same for a message and its UIDL row, which must stay linked.
        let now = now();
        let nonce: String = tx
            .query_row("SELECT lower(hex(randomblob(4)))", [], |r| r.get(0))
            .map_err(StoreError::sqlite("Make a retired key"))?;
        let suffix = format!("{now}.{nonce}");
        tx.execute(
            "UPDATE message SET uidl = uidl || ' reset ' || ?2
             WHERE account_id = ?1 AND uidl IS NOT NULL AND instr(uidl, ' ') = 0",
            params![account_id, suffix],
        )
        .map_err(StoreError::sqlite("Retire the old server's UIDLs"))?;
        tx.execute(
            "UPDATE pop3_uidl SET uidl = uidl || ' reset ' || ?2,
                 removed_at = coalesce(removed_at, ?3)
             WHERE account_id = ?1 AND instr(uidl, ' ') = 0",
            params![account_id, suffix, now],
        )
        .map_err(StoreError::sqlite("Retire the old server's UIDLs"))?;
        tx.execute(
            "DELETE FROM pop3_failure WHERE account_id = ?1",
            [account_id],
        )
        .map_err(StoreError::sqlite("Forget the old server's failures"))?;
        return Ok(0);
    }
    if pending > 0 || local > 0 {
        return Err(StoreError::Conflict(format!(
            "the cache holds {pending} changes not yet on the server and {local} messages not yet uploaded; sync them first (or drop them with `tern queue drop`)"
        )));
    }
    let dropped = tx
        .query_row(
            "SELECT count(*) FROM message WHERE account_id = ?1",
            [account_id],
            |r| r.get(0),
        )
        .map_err(StoreError::sqlite("Count the cached messages"))?;
    tx.execute("DELETE FROM folder WHERE account_id = ?1", [account_id])
        .map_err(StoreError::sqlite("Drop the cached folders"))?;
    tx.execute("DELETE FROM thread WHERE account_id = ?1", [account_id])
        .map_err(StoreError::sqlite("Drop the cached threads"))?;
    Ok(dropped)
}

/// Maps a row to an account; the inner result reports values no Tern would have written.
fn account_from_row(row: &Row<'_>) -> rusqlite::Result<Result<Account>> {
    let id: i64 = row.get(0)?;
    let protocol: String = row.get(4)?;
    let incoming_security: String = row.get(7)?;
    let outgoing_security: String = row.get(10)?;
    let ca_file: Option<String> = row.get(13)?;
    let corrupt = |e: crate::account::settings::InvalidSetting| {
        StoreError::Corrupt(format!("account {id}: {e}"))
    };
    let (protocol, incoming_security, outgoing_security) = match (
        protocol.parse(),
        incoming_security.parse(),
        outgoing_security.parse(),
    ) {
        (Ok(p), Ok(i), Ok(o)) => (p, i, o),
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => return Ok(Err(corrupt(e))),
    };
    let settings = AccountSettings {
        name: row.get(1)?,
        display_name: row.get(2)?,
        email: row.get(3)?,
        protocol,
        incoming: ServerAddr {
            host: row.get(5)?,
            port: row.get(6)?,
        },
        incoming_security,
        outgoing: ServerAddr {
            host: row.get(8)?,
            port: row.get(9)?,
        },
        outgoing_security,
        login: row.get(11)?,
        password_cmd: row.get(12)?,
        ca_file: ca_file.map(PathBuf::from),
        cert_sha256: row.get(14)?,
    };
    Ok(Ok(Account {
        id,
        settings,
        signature: row.get(15)?,
        sync_days: row.get(16)?,
        download_bodies: row.get(17)?,
        download_days: row.get(18)?,
        poll_seconds: row.get(19)?,
        server_saves_sent: row.get(20)?,
        pop3_leave_on_server: row.get(21)?,
        pop3_delete_after_days: row.get(22)?,
        pop3_delete_when_deleted: row.get(23)?,
        pop3_max_message_size: row.get(24)?,
        keyring_key: row.get(25)?,
        cache_epoch: row.get(26)?,
    }))
}
