//! Downloading a pass's new mail: RETR or TOP pipelined, the messages stored in batches (one
//! transaction each, every message with its UIDL row), a TOP the server refuses retried as
//! RETR, and a message whose answer fails (stalls, is cut, breaks the size limit) recorded, so
//! the next pass takes it last and with headers only instead of failing at it again.

use std::collections::{HashMap, HashSet};

use super::{Listed, Pop3Report, blamed};
use crate::account::Account;
use crate::engine::{EngineError, Event};
use crate::mail::parse;
use crate::protocol::ErrorKind;
use crate::protocol::pop3::{Fetch, MAX_MESSAGE, Pop3Client};
use crate::protocol::tls::sha256_hex;
use crate::store::{Pop3Download, Pop3Stored, Store};

/// Most messages stored in one transaction.
const BATCH_MESSAGES: usize = 200;

/// Most bytes of mail held before they are stored (a larger message is stored on its own).
const BATCH_BYTES: usize = 16 * 1024 * 1024;

/// What a download works in.
struct Target<'a> {
    store: &'a Store,
    account: &'a Account,
    inbox: i64,
    now: i64,
    listed: &'a HashSet<&'a str>,
}

/// Downloads `plan` in its order and stores it. Returns the message numbers read in this
/// session (their content is known; no check is needed before deleting them).
#[allow(clippy::too_many_arguments)]
pub(super) async fn run(
    store: &Store,
    account: &Account,
    client: &mut Pop3Client,
    inbox: i64,
    now: i64,
    plan: &[(&Listed, Fetch)],
    listed: &HashSet<&str>,
    report: &mut Pop3Report,
    progress: &mut (dyn FnMut(Event) + Send),
) -> Result<HashSet<u32>, EngineError> {
    let target = Target {
        store,
        account,
        inbox,
        now,
        listed,
    };
    let mut read = HashSet::new();
    if plan.is_empty() {
        return Ok(read);
    }
    let total = plan.len() as u64;
    let mut done = 0u64;
    let refused_top = fetch(
        &target, client, plan, &mut read, &mut done, total, report, progress,
    )
    .await?;
    if !refused_top.is_empty() {
        // TOP is optional (RFC 1939): what it was refused for comes whole.
        let again: Vec<(&Listed, Fetch)> = refused_top
            .into_iter()
            .map(|e| (e, Fetch::Retr(e.number)))
            .collect();
        let refused = fetch(
            &target, client, &again, &mut read, &mut done, total, report, progress,
        )
        .await?;
        debug_assert!(refused.is_empty());
    }
    Ok(read)
}

/// One pipelined exchange of `requests`; returns the entries whose TOP was refused.
#[allow(clippy::too_many_arguments)]
async fn fetch<'a>(
    target: &Target<'_>,
    client: &mut Pop3Client,
    requests: &[(&'a Listed, Fetch)],
    read: &mut HashSet<u32>,
    done: &mut u64,
    total: u64,
    report: &mut Pop3Report,
    progress: &mut (dyn FnMut(Event) + Send),
) -> Result<Vec<&'a Listed>, EngineError> {
    let by_number: HashMap<u32, (&Listed, Fetch)> =
        requests.iter().map(|(e, f)| (e.number, (*e, *f))).collect();
    let sizes: HashMap<u32, Option<u64>> =
        requests.iter().map(|(e, _)| (e.number, e.size)).collect();
    let fetches: Vec<Fetch> = requests.iter().map(|(_, f)| *f).collect();
    let mut refused_top = Vec::new();
    let mut batch: Vec<Pop3Download> = Vec::new();
    let mut batch_bytes = 0usize;
    let fetched = client
        .fetch_many(
            &fetches,
            MAX_MESSAGE,
            &|n| sizes.get(&n).copied().flatten(),
            |number, answer| -> Result<(), EngineError> {
                let Some((entry, request)) = by_number.get(&number).copied() else {
                    return Ok(());
                };
                match (answer, request) {
                    (Err(_), Fetch::Top(..)) => refused_top.push(entry),
                    (Err(text), Fetch::Retr(_)) => {
                        *done += 1;
                        report.set_aside.push(format!(
                            "message {number} (UIDL {}): the server did not send it ({text}); it stays on the server",
                            entry.key
                        ));
                    }
                    (Ok(raw), request) => {
                        *done += 1;
                        report.downloaded += 1;
                        read.insert(number);
                        let item = prepare(entry, raw, matches!(request, Fetch::Top(..)), target.inbox);
                        batch_bytes += item.raw.len();
                        batch.push(item);
                    }
                }
                if batch.len() >= BATCH_MESSAGES || batch_bytes >= BATCH_BYTES {
                    store_batch(target, &mut batch, report)?;
                    batch_bytes = 0;
                    progress(Event::FolderChanged {
                        account: target.account.id,
                        folder: target.inbox,
                    });
                }
                progress(Event::SyncProgress {
                    account: target.account.id,
                    folder: target.inbox,
                    done: *done,
                    total,
                });
                Ok(())
            },
        )
        .await;
    // What arrived before a failure is kept (nothing has been deleted on the server).
    if !batch.is_empty() {
        store_batch(target, &mut batch, report)?;
        progress(Event::FolderChanged {
            account: target.account.id,
            folder: target.inbox,
        });
    }
    if let Err(EngineError::Protocol(error)) = &fetched
        && matches!(error.kind, ErrorKind::Network | ErrorKind::Protocol)
        && let Some((entry, _)) = blamed(client).and_then(|n| by_number.get(&n))
    {
        // The answer that failed, after its +OK, was this message's: the next pass takes it
        // last, and after another failure with headers only, so it cannot stop every pass. (A
        // cut between answers blames no message.)
        target.store.pop3_record_failure(
            target.account.id,
            &entry.key,
            &error.message,
            target.now,
        )?;
    }
    fetched?;
    Ok(refused_top)
}

/// A downloaded message, summarised for the Inbox.
fn prepare(entry: &Listed, raw: Vec<u8>, partial: bool, inbox: i64) -> Pop3Download {
    let (summary, text) = parse::summarize_with_text(&raw);
    let mut message = crate::engine::local::row_from_summary(inbox, summary, raw.len(), 0);
    message.uidl = Some(entry.key.clone());
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
    // LIST sizes may be estimates (some servers count differently), but not by half.
    let doubtful = !partial && (raw.len() as u64).saturating_mul(2) < entry.size.unwrap_or(0);
    Pop3Download {
        doubtful,
        uidl: entry.key.clone(),
        list_size,
        digest: sha256_hex(&raw),
        raw,
        partial,
        message,
        body_text,
    }
}

/// Stores and empties `batch` (one transaction), noting what was not new.
fn store_batch(
    target: &Target<'_>,
    batch: &mut Vec<Pop3Download>,
    report: &mut Pop3Report,
) -> Result<(), EngineError> {
    let listed = target.listed;
    let outcomes = target.store.pop3_store(
        target.account,
        batch,
        &|uidl| listed.contains(uidl),
        target.now,
    )?;
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
