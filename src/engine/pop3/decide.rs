//! What a pass downloads (`plan`) and what the account's options send off the server
//! (`wants_off_server`, `may_delete`), decided from the listing and the store's rows alone.

use std::collections::HashMap;

use super::{Listed, Pop3Report, size_changed};
use crate::account::Account;
use crate::protocol::pop3::{Fetch, MAX_MESSAGE, Pop3Client};
use crate::store::{Pop3Failure, Pop3Seen};

/// Failures after which a message is asked for with headers only (and last), and after which
/// the check before deleting it waits a day.
pub(super) const FAILURES_BEFORE_HEADERS_ONLY: i64 = 2;

/// Failures after which a message is set aside for a day.
const FAILURES_BEFORE_SET_ASIDE: i64 = 4;

/// A day, in seconds.
pub(super) const DAY: i64 = 86_400;

/// The moment before which mail counts as older than the account's "delete after N days".
pub(super) fn cutoff(account: &Account, now: i64) -> Option<i64> {
    account
        .pop3_delete_after_days
        .map(|days| now.saturating_sub(days.saturating_mul(DAY)))
}

/// Whether the account's options say a stored message should leave the server now.
pub(super) fn wants_off_server(account: &Account, row: &Pop3Seen, cutoff: Option<i64>) -> bool {
    !account.pop3_leave_on_server
        || (row.deleted_here && account.pop3_delete_when_deleted)
        || cutoff.is_some_and(|cutoff| row.first_seen_at <= cutoff)
}

/// Whether the server's copy may go, whatever the options: not while only the headers are
/// here and a local copy exists (moved to Trash is not gone: it can be restored and opened;
/// purged, it may go), and not when what was stored may be cut short.
pub(super) fn may_delete(row: &Pop3Seen) -> bool {
    // A headers-only row matched to a whole copy (`matched_whole`) is read whole first.
    !(row.maybe_cut() || (row.partial && (row.has_copy || row.digest.is_some())))
}

/// Whether a server lets Tern use TOP (RFC 1939 makes it optional; without CAPA, it is tried).
pub(super) fn has_top(client: &Pop3Client) -> bool {
    client.capabilities().is_empty() || client.has_capability("TOP")
}

/// What to download, in order: new mail (and known UIDLs whose size changed, that left the
/// server and are listed again, or that are headers only matched to a whole copy and should
/// now leave the server), newest first, whole or (over the account's size limit) headers
/// only; a message the server failed to send before comes last, with headers only, and after
/// repeated failures is set aside for a day.
#[allow(clippy::too_many_arguments)]
pub(super) fn plan<'a>(
    account: &Account,
    client: &Pop3Client,
    entries: &'a [Listed],
    known: &HashMap<String, Pop3Seen>,
    failures: &HashMap<String, Pop3Failure>,
    cutoff: Option<i64>,
    now: i64,
    report: &mut Pop3Report,
) -> Vec<(&'a Listed, Fetch)> {
    let limit = account
        .pop3_max_message_size
        .and_then(|n| u64::try_from(n).ok())
        .unwrap_or(MAX_MESSAGE)
        .min(MAX_MESSAGE);
    let top = has_top(client);
    // (entry, failures so far, to be read whole whatever its size)
    let mut wanted: Vec<(&Listed, i64, bool)> = Vec::new();
    for entry in entries {
        let row = known.get(&entry.key);
        let whole = row.is_some_and(|r| {
            !r.removed && r.matched_whole() && wants_off_server(account, r, cutoff)
        });
        let new = entry.ambiguous
            || whole
            || row.is_none_or(|r| r.removed || size_changed(r, entry.size));
        if !new {
            continue;
        }
        let failed = failures.get(&entry.key);
        let times = failed.map_or(0, |f| f.failures);
        if let Some(failed) = failed.filter(|f| {
            f.failures >= FAILURES_BEFORE_SET_ASIDE && now.saturating_sub(f.last_failed_at) < DAY
        }) {
            report.set_aside.push(format!(
                "message {} (UIDL {}): the server failed to send it {} times (last: {}); it stays on the server, and Tern tries again in a day",
                entry.number, entry.key, failed.failures, failed.last_error
            ));
            continue;
        }
        // A whole copy read again is compared byte for byte (TOP could not tell new mail
        // under a reused UIDL and Message-ID from the old).
        let compare = row.is_some_and(|r| !r.partial && r.digest.is_some());
        wanted.push((entry, times, whole || compare || entry.ambiguous));
    }
    // Newest first; what failed before goes last.
    wanted.sort_by_key(|(e, times, _)| (*times > 0, std::cmp::Reverse(e.number)));
    wanted
        .into_iter()
        .map(|(entry, times, whole)| {
            let big = entry.size.is_some_and(|size| size > limit);
            let headers_only = !whole && top && (big || times >= FAILURES_BEFORE_HEADERS_ONLY);
            let fetch = if headers_only {
                Fetch::Top(entry.number, 0)
            } else {
                Fetch::Retr(entry.number)
            };
            (entry, fetch)
        })
        .collect()
}
