//! The POP3 engine. The store is the authority: once a message has left the server, Tern's
//! copy is the only one, so the order of every step is what keeps mail from being lost or
//! doubled.
//!
//! One pass (`sync_account`): log in; UIDL and LIST in one round trip; compare with the
//! store's `pop3_uidl` rows (UIDLs no longer listed are recorded as gone); download what is
//! new, newest first, RETR pipelined in batches (TOP for headers only above the account's size
//! limit), storing many messages per transaction, each with its UIDL row; then, only for
//! messages whose transaction has committed, DELE what the account's options say should leave
//! the server (not kept on the server; older than N days; deleted here), and QUIT. Only after
//! QUIT succeeds are those UIDLs recorded as removed. A pass cut off at any point deletes
//! nothing (the server deletes only at QUIT) and the next pass resumes: what was committed is
//! known, the rest is downloaded again.

mod runner;

use std::collections::{HashMap, HashSet};

use serde::Serialize;
use sha2::{Digest as _, Sha256};

pub use runner::run;

use crate::account::Account;
use crate::account::credentials::Secret;
use crate::engine::{EngineError, Event};
use crate::mail::folder::FolderRole;
use crate::mail::parse;
use crate::protocol::pop3::{Fetch, MAX_MESSAGE, Pop3Client};
use crate::protocol::{ErrorKind, ProtocolError};
use crate::store::{Pop3Download, Pop3Seen, Pop3Stored, Store};

/// Most messages stored in one transaction.
const BATCH_MESSAGES: usize = 200;

/// Most bytes of mail held before they are stored (a larger message is stored on its own).
const BATCH_BYTES: usize = 16 * 1024 * 1024;

/// Largest header block TOP may return.
const MAX_HEADERS: u64 = 16 * 1024 * 1024;

/// What a pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Pop3Report {
    /// Messages the server holds.
    pub on_server: usize,
    /// Messages read from the server (RETR or TOP) this pass.
    pub downloaded: usize,
    /// New messages stored (whole or headers only).
    pub new_messages: usize,
    /// Of those, stored with headers only (over the size limit; the rest comes when opened).
    pub headers_only: usize,
    /// Messages removed from the server (after QUIT confirmed it).
    pub deleted_on_server: usize,
    /// What was noticed and handled: the same mail under a new UIDL, a reused UIDL.
    pub notes: Vec<String>,
    /// Messages left on the server without a local copy this pass, and why.
    pub set_aside: Vec<String>,
    pub bytes_received: u64,
}

/// Connects to the account's POP3 server and logs in.
pub async fn connect(account: &Account, password: &Secret) -> Result<Pop3Client, ProtocolError> {
    let mut client = Pop3Client::connect(&crate::engine::incoming_endpoint(account)).await?;
    client.login(&account.settings.login, password).await?;
    Ok(client)
}

/// One pass now (see the module documentation).
pub async fn sync_account(
    store: &Store,
    account: &Account,
    password: &Secret,
    progress: &mut (dyn FnMut(Event) + Send),
) -> Result<Pop3Report, EngineError> {
    sync_account_at(
        store,
        account,
        password,
        crate::store::now_seconds(),
        progress,
    )
    .await
}

/// One pass as if it were `now` (Unix seconds; tests move the clock to age messages).
pub async fn sync_account_at(
    store: &Store,
    account: &Account,
    password: &Secret,
    now: i64,
    progress: &mut (dyn FnMut(Event) + Send),
) -> Result<Pop3Report, EngineError> {
    let (inbox, first_pass) = inbox(store, account)?;
    let mut client = connect(account, password).await?;
    let mut report = Pop3Report::default();
    let result = pass(
        store,
        account,
        &mut client,
        inbox,
        now,
        &mut report,
        progress,
    )
    .await;
    report.bytes_received = client.bytes_received;
    let deletions = match result {
        Ok(deletions) => deletions,
        // Dropping the connection without QUIT: the server deletes nothing.
        Err(e) => return Err(e),
    };
    if deletions.is_empty() {
        // Nothing to delete: whether QUIT is answered changes nothing.
        let _ = client.quit().await;
    } else {
        client.quit().await?;
        // QUIT succeeded: the server has removed them (RFC 1939's UPDATE state).
        store.pop3_reconcile(account.id, &deletions, &[], now)?;
        report.deleted_on_server = deletions.len();
    }
    if first_pass {
        // Everything the server had is here: from now on, new mail is news (notifications).
        store.set_backfill_complete(inbox)?;
    }
    if first_pass || !deletions.is_empty() {
        progress(Event::FolderChanged {
            account: account.id,
            folder: inbox,
        });
    }
    Ok(report)
}

/// The account's Inbox (created if it is missing), and whether no pass has completed yet.
fn inbox(store: &Store, account: &Account) -> Result<(i64, bool), EngineError> {
    if let Some(folder) = store
        .folders(account.id)?
        .into_iter()
        .find(|f| f.role == Some(FolderRole::Inbox))
    {
        return Ok((folder.id, !folder.backfill_complete));
    }
    let id = store.upsert_folder(
        account.id,
        &crate::store::NewFolder {
            path: "INBOX".to_owned(),
            server_path: "INBOX".to_owned(),
            delimiter: Some("/".to_owned()),
            role: Some(FolderRole::Inbox),
            attributes: 0,
            subscribed: true,
        },
    )?;
    Ok((id, true))
}

/// One message the server lists.
#[derive(Debug, Clone)]
struct Listed {
    number: u32,
    uidl: String,
    size: Option<u64>,
}

/// Whether the server's size for a known UIDL differs from the one recorded (then the UIDL may
/// have been reused for other mail, and the message is read again to tell).
fn size_changed(row: &Pop3Seen, size: Option<u64>) -> bool {
    match (row.size, size) {
        (Some(recorded), Some(size)) => i64::try_from(size).ok() != Some(recorded),
        _ => false,
    }
}

/// The pass up to QUIT: returns the UIDLs it marked for deletion (DELE accepted).
async fn pass(
    store: &Store,
    account: &Account,
    client: &mut Pop3Client,
    inbox: i64,
    now: i64,
    report: &mut Pop3Report,
    progress: &mut (dyn FnMut(Event) + Send),
) -> Result<Vec<String>, EngineError> {
    let listing = client.listing().await?;
    report.on_server = listing.len();
    // A UIDL given to two messages (a broken server) identifies neither: both stay on the
    // server, and only the first is downloaded.
    let mut count: HashMap<&str, usize> = HashMap::new();
    for (_, uidl, _) in &listing {
        *count.entry(uidl.as_str()).or_default() += 1;
    }
    let ambiguous: HashSet<String> = count
        .iter()
        .filter(|(_, n)| **n > 1)
        .map(|(uidl, _)| (*uidl).to_owned())
        .collect();
    let mut seen = HashSet::new();
    let mut entries = Vec::with_capacity(listing.len());
    for (number, uidl, size) in listing {
        if !seen.insert(uidl.clone()) {
            report.set_aside.push(format!(
                "message {number}: the server gave its UIDL {uidl:?} to another message too; it stays on the server"
            ));
            continue;
        }
        entries.push(Listed { number, uidl, size });
    }
    drop(seen);
    let uidls: Vec<&str> = entries.iter().map(|e| e.uidl.as_str()).collect();
    let listed: HashSet<&str> = uidls.iter().copied().collect();
    let known = store.pop3_known(account.id, &uidls)?;
    let gone: Vec<String> = known
        .values()
        .filter(|r| !r.removed && !listed.contains(r.uidl.as_str()))
        .map(|r| r.uidl.clone())
        .collect();
    let back: Vec<String> = entries
        .iter()
        .filter(|e| {
            known
                .get(&e.uidl)
                .is_some_and(|r| r.removed && !size_changed(r, e.size))
        })
        .map(|e| e.uidl.clone())
        .collect();
    store.pop3_reconcile(account.id, &gone, &back, now)?;

    // New mail (and known UIDLs whose size changed), newest first.
    let mut wanted: Vec<&Listed> = entries
        .iter()
        .filter(|e| known.get(&e.uidl).is_none_or(|r| size_changed(r, e.size)))
        .collect();
    wanted.sort_by_key(|e| std::cmp::Reverse(e.number));
    download(
        store, account, client, inbox, now, &wanted, &listed, report, progress,
    )
    .await?;

    pause_for_tests("stored").await;
    // Only now, with every download committed, may anything be marked for deletion.
    let fresh = store.pop3_known(account.id, &uidls)?;
    let cutoff = account
        .pop3_delete_after_days
        .map(|days| now.saturating_sub(days.saturating_mul(86_400)));
    let doomed: Vec<&Listed> = entries
        .iter()
        .filter(|e| !ambiguous.contains(&e.uidl))
        .filter(|e| {
            fresh.get(&e.uidl).is_some_and(|row| {
                !row.removed && !size_changed(row, e.size) && should_delete(account, row, cutoff)
            })
        })
        .collect();
    if doomed.is_empty() {
        return Ok(Vec::new());
    }
    let numbers: Vec<u32> = doomed.iter().map(|e| e.number).collect();
    let answers: HashMap<u32, bool> = client.dele_many(&numbers).await?.into_iter().collect();
    pause_for_tests("deleted").await;
    Ok(doomed
        .iter()
        .filter(|e| answers.get(&e.number).copied().unwrap_or(false))
        .map(|e| e.uidl.clone())
        .collect())
}

/// Whether the account's options say a stored message should leave the server now.
fn should_delete(account: &Account, row: &Pop3Seen, cutoff: Option<i64>) -> bool {
    if !account.pop3_leave_on_server {
        // Headers-only messages stay until they are whole here (or deleted here).
        return !row.partial || row.deleted_here;
    }
    (row.deleted_here && account.pop3_delete_when_deleted)
        || (!row.partial && cutoff.is_some_and(|cutoff| row.first_seen_at <= cutoff))
}

/// Downloads `wanted` (pipelined) and stores them in batches.
#[allow(clippy::too_many_arguments)]
async fn download(
    store: &Store,
    account: &Account,
    client: &mut Pop3Client,
    inbox: i64,
    now: i64,
    wanted: &[&Listed],
    listed: &HashSet<&str>,
    report: &mut Pop3Report,
    progress: &mut (dyn FnMut(Event) + Send),
) -> Result<(), EngineError> {
    if wanted.is_empty() {
        return Ok(());
    }
    let limit = account
        .pop3_max_message_size
        .and_then(|n| u64::try_from(n).ok())
        .unwrap_or(MAX_MESSAGE)
        .min(MAX_MESSAGE);
    let by_number: HashMap<u32, &Listed> = wanted.iter().map(|e| (e.number, *e)).collect();
    let requests: Vec<Fetch> = wanted
        .iter()
        .map(|e| match e.size {
            Some(size) if size > limit => Fetch::Top(e.number, 0),
            _ => Fetch::Retr(e.number),
        })
        .collect();
    let partial: HashSet<u32> = requests
        .iter()
        .filter_map(|r| match r {
            Fetch::Top(n, _) => Some(*n),
            Fetch::Retr(_) => None,
        })
        .collect();
    let total = wanted.len() as u64;
    let mut done = 0u64;
    let mut batch: Vec<Pop3Download> = Vec::new();
    let mut batch_bytes = 0usize;
    let max = MAX_MESSAGE.max(MAX_HEADERS);
    let fetched = client
        .fetch_many(&requests, max, &|n| by_number.get(&n).and_then(|e| e.size), |number, answer| -> Result<(), EngineError> {
            done += 1;
            let Some(entry) = by_number.get(&number) else {
                return Ok(());
            };
            match answer {
                Err(text) => report.set_aside.push(format!(
                    "message {number} (UIDL {}): the server did not send it ({text}); it stays on the server",
                    entry.uidl
                )),
                Ok(raw) => {
                    report.downloaded += 1;
                    let item = prepare(entry, raw, partial.contains(&number), inbox);
                    batch_bytes += item.raw.len();
                    batch.push(item);
                }
            }
            if batch.len() >= BATCH_MESSAGES || batch_bytes >= BATCH_BYTES {
                store_batch(store, account, &mut batch, listed, now, report)?;
                batch_bytes = 0;
                progress(Event::FolderChanged {
                    account: account.id,
                    folder: inbox,
                });
            }
            progress(Event::SyncProgress {
                account: account.id,
                folder: inbox,
                done,
                total,
            });
            Ok(())
        })
        .await;
    // What arrived whole before a failure is kept (nothing has been deleted on the server).
    if !batch.is_empty() {
        store_batch(store, account, &mut batch, listed, now, report)?;
        progress(Event::FolderChanged {
            account: account.id,
            folder: inbox,
        });
    }
    fetched
}

/// A downloaded message, summarised for the Inbox.
fn prepare(entry: &Listed, raw: Vec<u8>, partial: bool, inbox: i64) -> Pop3Download {
    let (summary, text) = parse::summarize_with_text(&raw);
    let mut message = crate::engine::local::row_from_summary(inbox, summary, raw.len(), 0);
    message.uidl = Some(entry.uidl.clone());
    let list_size = entry
        .size
        .and_then(|s| i64::try_from(s).ok())
        .unwrap_or(message.size);
    if partial {
        // The list shows the whole message's size, not that of its headers.
        message.size = list_size;
    }
    let body_text = if partial {
        String::new()
    } else {
        text.unwrap_or_default()
    };
    Pop3Download {
        uidl: entry.uidl.clone(),
        list_size,
        digest: hex(&Sha256::digest(&raw)),
        raw,
        partial,
        message,
        body_text,
    }
}

/// Lower-case hex of `bytes`.
fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// Stores and empties `batch` (one transaction), noting what was not new.
fn store_batch(
    store: &Store,
    account: &Account,
    batch: &mut Vec<Pop3Download>,
    listed: &HashSet<&str>,
    now: i64,
    report: &mut Pop3Report,
) -> Result<(), EngineError> {
    let outcomes = store.pop3_store(account.id, batch, &|uidl| listed.contains(uidl), now)?;
    for (item, outcome) in batch.iter().zip(outcomes) {
        match outcome {
            Pop3Stored::New(_) => {
                report.new_messages += 1;
                report.headers_only += usize::from(item.partial);
            }
            Pop3Stored::Same { earlier_uidl } if earlier_uidl == item.uidl => {}
            Pop3Stored::Same { earlier_uidl } => report.notes.push(format!(
                "UIDL {} is mail Tern already has (as UIDL {earlier_uidl}): the server changed its ids; no second copy was stored",
                item.uidl
            )),
            Pop3Stored::Reused(_) => {
                report.new_messages += 1;
                report.headers_only += usize::from(item.partial);
                report.notes.push(format!(
                    "the server reused UIDL {} for other mail: the new message was stored, the old one kept",
                    item.uidl
                ));
            }
        }
    }
    batch.clear();
    Ok(())
}

/// Downloads the rest of a message of which only the headers are here, and stores it in
/// every local copy. An error says so when the server no longer has it.
pub async fn fetch_rest(
    store: &Store,
    account: &Account,
    password: &Secret,
    message_id: i64,
) -> Result<u64, EngineError> {
    let message = store.message(message_id)?;
    let Some(uidl) = message.uidl.clone() else {
        return Err(missing(format!(
            "message {message_id} has no copy on the POP3 server to download"
        )));
    };
    let seen = store.pop3_seen(account.id, &uidl)?;
    let mut client = connect(account, password).await?;
    let listing = client.listing().await?;
    let Some((number, _, size)) = listing.into_iter().find(|(_, id, _)| *id == uidl) else {
        let _ = client.quit().await;
        return Err(missing(format!(
            "the rest of message {message_id} is no longer on the server (only its headers were downloaded)"
        )));
    };
    if let (Some(row), Some(size)) = (&seen, size)
        && size_changed(row, Some(size))
    {
        let _ = client.quit().await;
        return Err(missing(format!(
            "the server's message with UIDL {uidl} is no longer the one whose headers are here (its size changed); the next check for mail will download it as new"
        )));
    }
    let raw = client.retr(number, MAX_MESSAGE).await?;
    let received = client.bytes_received;
    let _ = client.quit().await;
    let text = parse::body_text(&raw).unwrap_or_default();
    store.pop3_complete(account.id, &uidl, &raw, &hex(&Sha256::digest(&raw)), &text)?;
    Ok(received)
}

/// In debug builds, `TERN_TEST_POP3_PAUSE=stored` (after the downloads are committed, before
/// any DELE) or `=deleted` (after DELE, before QUIT) stops the pass there for 30 s, saying so
/// on stderr, so the crash test can kill the process at exactly that point.
async fn pause_for_tests(point: &str) {
    if cfg!(debug_assertions)
        && std::env::var("TERN_TEST_POP3_PAUSE").is_ok_and(|wanted| wanted == point)
    {
        eprintln!("tern: paused at {point}");
        tokio::time::sleep(std::time::Duration::from_secs(30)).await;
    }
}

fn missing(text: String) -> EngineError {
    EngineError::Protocol(ProtocolError::new(ErrorKind::Refused, text))
}
