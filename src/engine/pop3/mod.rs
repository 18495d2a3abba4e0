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

mod check;
mod decide;
mod download;
mod runner;

use std::collections::{HashMap, HashSet};

use serde::Serialize;

pub use runner::run;

use crate::account::Account;
use crate::account::credentials::Secret;
use crate::engine::{EngineError, Event};
use crate::mail::folder::FolderRole;
use crate::mail::parse;
use crate::protocol::pop3::{MAX_MESSAGE, Pop3Client};
use crate::protocol::tls::sha256_hex;
use crate::protocol::{ErrorKind, ProtocolError};
use crate::store::{Pop3Seen, Store};

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
    // An error dropped the connection without QUIT: the server deleted nothing.
    let deletions = result?;
    if !deletions.is_empty() {
        // QUIT succeeded: the server has removed them (RFC 1939's UPDATE state).
        store.pop3_reconcile(account.id, &deletions, now)?;
        report.deleted_on_server = deletions.len();
    }
    // Mail left on the server without a copy here is shown on the Inbox (the window's ⚠ and
    // `tern folders`), like a folder IMAP could not sync; a clean pass clears it.
    let problem = report
        .set_aside
        .first()
        .map(|first| match report.set_aside.len() {
            1 => format!("not downloaded: {first}"),
            n => format!(
                "not downloaded: {first} (and {} more; `tern sync` lists them)",
                n - 1
            ),
        });
    let had = store
        .folder(inbox)
        .map(|f| f.sync_error)
        .unwrap_or_default();
    if had != problem {
        store.set_folder_error(inbox, problem.as_deref())?;
        progress(Event::FoldersChanged {
            account: account.id,
        });
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
    /// Its UIDL; for a UIDL the server gave to several messages, `"<uidl> #<number>"` (with a
    /// space, which no server can send), so that each of them is downloaded and kept (once, by
    /// its bytes), and none is deleted from the server.
    key: String,
    size: Option<u64>,
    ambiguous: bool,
}

/// The listing as `Listed` entries, noting what a broken server did.
fn entries_of(listing: Vec<(u32, String, Option<u64>)>, report: &mut Pop3Report) -> Vec<Listed> {
    let mut count: HashMap<&str, usize> = HashMap::new();
    for (_, uidl, _) in &listing {
        *count.entry(uidl.as_str()).or_default() += 1;
    }
    let ambiguous: HashSet<String> = count
        .iter()
        .filter(|(_, n)| **n > 1)
        .map(|(uidl, _)| (*uidl).to_owned())
        .collect();
    for uidl in &ambiguous {
        report.notes.push(format!(
            "the server gave UIDL {uidl:?} to several messages: each is read at every check and kept once, and none is deleted from the server"
        ));
    }
    listing
        .into_iter()
        .map(|(number, uidl, size)| {
            let ambiguous = ambiguous.contains(&uidl);
            Listed {
                number,
                key: if ambiguous {
                    format!("{uidl} #{number}")
                } else {
                    uidl
                },
                size,
                ambiguous,
            }
        })
        .collect()
}

/// Whether the server's size for a known UIDL differs from the one recorded (then the UIDL may
/// have been reused for other mail, and the message is read again to tell).
fn size_changed(row: &Pop3Seen, size: Option<u64>) -> bool {
    match (row.size, size) {
        (Some(recorded), Some(size)) => i64::try_from(size).ok() != Some(recorded),
        _ => false,
    }
}

/// The pass up to and with QUIT: returns the UIDLs the server removed (DELE accepted, and
/// QUIT answered).
async fn pass(
    store: &Store,
    account: &Account,
    client: &mut Pop3Client,
    inbox: i64,
    now: i64,
    report: &mut Pop3Report,
    progress: &mut (dyn FnMut(Event) + Send),
) -> Result<Vec<String>, EngineError> {
    client.unreadable_lines = 0;
    let listing = client.listing().await?;
    if client.unreadable_lines > 0 {
        report.set_aside.push(format!(
            "{} lines of the server's UIDL or LIST answer could not be read; their messages stay on the server",
            client.unreadable_lines
        ));
    }
    report.on_server = listing.len();
    let entries = entries_of(listing, report);
    let result = match steps(
        store, account, client, inbox, now, &entries, report, progress,
    )
    .await
    {
        // Nothing to delete: whether QUIT is answered changes nothing.
        Ok(deletions) if deletions.is_empty() => {
            let _ = client.finish().await;
            Ok(deletions)
        }
        Ok(deletions) => client
            .finish()
            .await
            .map(|()| deletions)
            .map_err(Into::into),
        Err(e) => Err(e),
    };
    if let Some(number) = client.framing_suspect.take()
        && let Some(entry) = entries.iter().find(|e| e.number == number)
    {
        // What followed this message's answer was not POP3: its end may have come early.
        store.pop3_doubt(account.id, &entry.key)?;
        report.notes.push(format!(
            "message {number} (UIDL {}) may be cut short (the server sent something that is not POP3 after it): it stays on the server",
            entry.key
        ));
    }
    result
}

/// The pass after the listing: download, check, DELE.
#[allow(clippy::too_many_arguments)]
async fn steps(
    store: &Store,
    account: &Account,
    client: &mut Pop3Client,
    inbox: i64,
    now: i64,
    entries: &[Listed],
    report: &mut Pop3Report,
    progress: &mut (dyn FnMut(Event) + Send),
) -> Result<Vec<String>, EngineError> {
    let keys: Vec<&str> = entries.iter().map(|e| e.key.as_str()).collect();
    let listed: HashSet<&str> = keys.iter().copied().collect();
    let known = store.pop3_known(account.id, &keys)?;
    let gone: Vec<String> = known
        .values()
        .filter(|r| !r.removed && !listed.contains(r.uidl.as_str()))
        .map(|r| r.uidl.clone())
        .collect();
    store.pop3_reconcile(account.id, &gone, now)?;
    let failures = store.pop3_failures(account.id)?;
    let stale: Vec<String> = failures
        .keys()
        .filter(|k| !listed.contains(k.as_str()))
        .cloned()
        .collect();
    store.pop3_forget_failures(account.id, &stale)?;

    let cutoff = decide::cutoff(account, now);
    let plan = decide::plan(
        account, client, entries, &known, &failures, cutoff, now, report,
    );
    let downloaded = download::run(
        store, account, client, inbox, now, &plan, &listed, report, progress,
    )
    .await?;

    pause_for_tests("stored").await;
    // Only now, with every download committed, may anything be marked for deletion.
    let fresh = store.pop3_known(account.id, &keys)?;
    let mut doomed: Vec<&Listed> = Vec::new();
    for entry in entries.iter().filter(|e| !e.ambiguous) {
        let Some(row) = fresh.get(&entry.key) else {
            continue;
        };
        if row.removed
            || size_changed(row, entry.size)
            || !decide::wants_off_server(account, row, cutoff)
        {
            continue;
        }
        if decide::may_delete(row) {
            doomed.push(entry);
        } else if row.maybe_cut() {
            report.notes.push(format!(
                "message {} (UIDL {}) may be cut short (the server sent something that is not POP3 after it): it stays on the server",
                entry.number, entry.key
            ));
        }
    }
    let doomed = check::verify(
        store,
        account,
        client,
        doomed,
        &fresh,
        &downloaded,
        &failures,
        now,
        report,
    )
    .await?;
    if doomed.is_empty() {
        return Ok(Vec::new());
    }
    let numbers: Vec<u32> = doomed.iter().map(|e| e.number).collect();
    let answers: HashMap<u32, bool> = client.dele_many(&numbers).await?.into_iter().collect();
    pause_for_tests("deleted").await;
    Ok(doomed
        .iter()
        .filter(|e| answers.get(&e.number).copied().unwrap_or(false))
        .map(|e| e.key.clone())
        .collect())
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
    let _ = client.finish().await;
    let short = size.is_some_and(|size| (raw.len() as u64).saturating_mul(2) < size);
    if client.framing_suspect.is_some() || short {
        // The answer may have ended early: the message stays headers only here (and so on
        // the server), rather than being completed with a cut body.
        return Err(missing(format!(
            "the server's answer for message {message_id} looks cut short (it broke POP3's framing or sent far less than it listed); the message stays on the server, try again later"
        )));
    }
    let fetched = parse::summarize(&raw);
    let fetched_id = fetched.message_id.as_deref().filter(|m| !m.is_empty());
    let stored_id = message.message_id.as_deref().filter(|m| !m.is_empty());
    // Without a Message-ID, the sender and subject must agree at least.
    let same = fetched_id == stored_id
        && (stored_id.is_some()
            || (fetched.subject == message.subject && fetched.from_addr == message.from_addr));
    if !same {
        // Same size, other mail (a reused UIDL): its body must not be glued to these headers.
        store.pop3_suspect(account.id, &uidl)?;
        return Err(missing(format!(
            "the server's message with UIDL {uidl} is no longer the one whose headers are here (its Message-ID differs); the next check for mail will download it as new"
        )));
    }
    let text = parse::body_text(&raw).unwrap_or_default();
    store.pop3_complete(account.id, &uidl, &raw, &sha256_hex(&raw), &text)?;
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

/// After `fetch_many` failed: the message whose answer it was awaiting or reading. (On a
/// flaky link this may blame an innocent message; it then only comes last, and after a second
/// failure with headers only, the rest when opened. Blaming none would let one message that
/// makes the server drop the connection stop every pass.)
fn blamed(client: &Pop3Client) -> Option<u32> {
    client.answering.map(|(number, _)| number)
}
