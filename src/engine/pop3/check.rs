//! The check before DELE: a message not read in this session is asked for again (`TOP n 0`
//! and its Message-ID, or, without TOP or Message-ID, RETR and its SHA-256) and compared with
//! what is stored under its UIDL, because a server may give a freed UIDL to new mail of the
//! same size. What does not match, or cannot be checked, stays on the server.

use std::collections::{HashMap, HashSet};

use super::decide::{DAY, FAILURES_BEFORE_HEADERS_ONLY, has_top};
use super::{Listed, Pop3Report, blamed};
use crate::account::Account;
use crate::engine::EngineError;
use crate::mail::parse;
use crate::protocol::ErrorKind;
use crate::protocol::pop3::{Fetch, MAX_MESSAGE, Pop3Client};
use crate::protocol::tls::sha256_hex;
use crate::store::{Pop3Failure, Pop3Seen, Store};

/// How one message is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum By {
    MessageId,
    Digest,
}

/// Returns those of `doomed` that may be deleted: read in this session (`downloaded`), or
/// checked just now. A mismatch marks the row to be read again (`Store::pop3_suspect`); an
/// answer that fails is recorded against its message, whose check then waits a day, so one
/// message cannot stop every pass's deletions.
#[allow(clippy::too_many_arguments)]
pub(super) async fn verify<'a>(
    store: &Store,
    account: &Account,
    client: &mut Pop3Client,
    doomed: Vec<&'a Listed>,
    rows: &HashMap<String, Pop3Seen>,
    downloaded: &HashSet<u32>,
    failures: &HashMap<String, Pop3Failure>,
    now: i64,
    report: &mut Pop3Report,
) -> Result<Vec<&'a Listed>, EngineError> {
    let top = has_top(client);
    let mut keep: HashSet<u32> = HashSet::new();
    let mut checks: Vec<(&Listed, By)> = Vec::new();
    for entry in &doomed {
        if downloaded.contains(&entry.number) {
            continue;
        }
        let Some(row) = rows.get(&entry.key) else {
            keep.insert(entry.number);
            continue;
        };
        if let Some(failed) = failures.get(&entry.key).filter(|f| {
            f.failures >= FAILURES_BEFORE_HEADERS_ONLY && now.saturating_sub(f.last_failed_at) < DAY
        }) {
            keep.insert(entry.number);
            report.notes.push(format!(
                "message {} (UIDL {}): the server failed to answer the check before deleting it ({}); it stays on the server for a day",
                entry.number, entry.key, failed.last_error
            ));
            continue;
        }
        let whole = !row.partial && row.digest.is_some();
        let by = match (top && row.message_id.is_some(), whole) {
            (true, _) => By::MessageId,
            (false, true) => By::Digest,
            (false, false) => {
                keep.insert(entry.number);
                report.notes.push(format!(
                    "message {} (UIDL {}) cannot be checked to be the mail stored under its UIDL (no Message-ID, and only its headers are here), so it stays on the server",
                    entry.number, entry.key
                ));
                continue;
            }
        };
        checks.push((entry, by));
    }
    let refused = run(
        store, account, client, &checks, rows, now, &mut keep, report,
    )
    .await?;
    // TOP refused (a server without CAPA may lack it): RETR, where there are bytes to compare.
    let mut again: Vec<(&Listed, By)> = Vec::new();
    for entry in refused {
        let whole = rows
            .get(&entry.key)
            .is_some_and(|r| !r.partial && r.digest.is_some());
        if whole {
            again.push((entry, By::Digest));
        } else {
            keep.insert(entry.number);
        }
    }
    run(store, account, client, &again, rows, now, &mut keep, report).await?;
    let checked: Vec<String> = checks
        .iter()
        .filter(|(e, _)| !keep.contains(&e.number) && failures.contains_key(&e.key))
        .map(|(e, _)| e.key.clone())
        .collect();
    store.pop3_forget_failures(account.id, &checked)?;
    Ok(doomed
        .into_iter()
        .filter(|e| !keep.contains(&e.number))
        .collect())
}

/// One pipelined exchange of checks; what fails to match (or is not sent) goes into `keep`.
/// Returns the entries whose TOP was refused (for `verify` to decide).
#[allow(clippy::too_many_arguments)]
async fn run<'a>(
    store: &Store,
    account: &Account,
    client: &mut Pop3Client,
    checks: &[(&'a Listed, By)],
    rows: &HashMap<String, Pop3Seen>,
    now: i64,
    keep: &mut HashSet<u32>,
    report: &mut Pop3Report,
) -> Result<Vec<&'a Listed>, EngineError> {
    if checks.is_empty() {
        return Ok(Vec::new());
    }
    let by_number: HashMap<u32, (&Listed, By)> =
        checks.iter().map(|(e, by)| (e.number, (*e, *by))).collect();
    let requests: Vec<Fetch> = checks
        .iter()
        .map(|(e, by)| match by {
            By::MessageId => Fetch::Top(e.number, 0),
            By::Digest => Fetch::Retr(e.number),
        })
        .collect();
    let sizes: HashMap<u32, Option<u64>> = checks.iter().map(|(e, _)| (e.number, e.size)).collect();
    let mut suspects: Vec<String> = Vec::new();
    let mut refused = Vec::new();
    let result = client
        .fetch_many(
            &requests,
            MAX_MESSAGE,
            &|n| sizes.get(&n).copied().flatten(),
            |number, answer| -> Result<(), EngineError> {
                let Some((entry, by)) = by_number.get(&number).copied() else {
                    return Ok(());
                };
                let row = rows.get(&entry.key);
                let same = match (&answer, by) {
                    (Ok(bytes), By::MessageId) => {
                        let found = parse::summarize(bytes).message_id;
                        let found = found.as_deref().filter(|m| !m.is_empty());
                        found.is_some() && found == row.and_then(|r| r.message_id.as_deref())
                    }
                    (Ok(bytes), By::Digest) => {
                        row.and_then(|r| r.digest.as_deref())
                            == Some(sha256_hex(bytes).as_str())
                    }
                    (Err(_), By::MessageId) => {
                        // TOP refused: `verify` tries RETR, or keeps the message.
                        refused.push(entry);
                        return Ok(());
                    }
                    (Err(_), By::Digest) => {
                        // Gone meanwhile: nothing is deleted unchecked.
                        keep.insert(number);
                        return Ok(());
                    }
                };
                if !same {
                    keep.insert(number);
                    suspects.push(entry.key.clone());
                    report.notes.push(format!(
                        "message {number} (UIDL {}) is not the mail Tern stored under that UIDL: it stays on the server and is downloaded as new at the next check",
                        entry.key
                    ));
                }
                Ok(())
            },
        )
        .await;
    if let Err(EngineError::Protocol(error)) = &result
        && matches!(error.kind, ErrorKind::Network | ErrorKind::Protocol)
        && let Some((entry, _)) = blamed(client).and_then(|n| by_number.get(&n))
    {
        store.pop3_record_failure(account.id, &entry.key, &error.message, now)?;
    }
    result?;
    for key in &suspects {
        store.pop3_suspect(account.id, key)?;
    }
    Ok(refused)
}
