//! "Search on server": IMAP `UID SEARCH TEXT` in one folder, for mail the cache does not hold
//! (outside the sync window, or not downloaded yet). Matches missing from the cache get their
//! headers fetched and stored like any synced message; the answer is the matching rows, newest
//! first, at most `MAX_RESULTS`.

use imap_codec::imap_types::command::CommandBody;
use imap_codec::imap_types::core::{AString, Charset, Vec1};
use imap_codec::imap_types::response::Data;
use imap_codec::imap_types::search::SearchKey;

use super::open_session;
use super::sync::{BATCH, FolderSync, SyncReport, protocol_error};
use crate::account::Account;
use crate::account::credentials::Secret;
use crate::engine::{EngineError, Event};
use crate::protocol::imap::fetch;
use crate::store::{MessageRow, Store};

/// At most this many server matches are returned (the newest).
pub const MAX_RESULTS: usize = 500;

/// Searches `folder_id` on the server for `text` (in headers and body, as the server decides),
/// caches the headers of matches the cache lacks, and returns the matching rows.
pub async fn server_search(
    store: &Store,
    account: &Account,
    password: &Secret,
    folder_id: i64,
    text: &str,
) -> Result<Vec<MessageRow>, EngineError> {
    let text = text.trim();
    // A POP3 account's mail is all here: the local search has found everything there is.
    if text.is_empty()
        || text.chars().any(char::is_control)
        || account.settings.protocol == crate::account::Protocol::Pop3
    {
        return Ok(Vec::new());
    }
    let folder = store.folder(folder_id)?;
    let mut session = open_session(account, password).await?;
    let uidvalidity = super::open_folder(&mut session, &folder, true).await?;
    if Some(uidvalidity) != folder.uidvalidity {
        return Err(EngineError::Protocol(protocol_error(format!(
            "the folder {} changed on the server; get mail first, then search again",
            folder.path
        ))));
    }
    let condstore = session.has_capability("CONDSTORE");
    let key = AString::try_from(text.to_owned())
        .map_err(|e| protocol_error(format!("cannot search for {text:?}: {e}")))?;
    let charset = (!text.is_ascii())
        .then(|| Charset::try_from(b"UTF-8".as_slice()).ok())
        .flatten();
    // A message marked \Deleted counts as gone (see ARCHITECTURE.md).
    let keys = Vec1::try_from(vec![SearchKey::Undeleted, SearchKey::Text(key)])
        .map_err(|_| protocol_error("cannot build SEARCH"))?;
    let search = CommandBody::search(charset, keys, true);
    let done = session.run_ok("UID SEARCH", search).await?;
    let mut uids: Vec<u32> = done
        .data
        .iter()
        .flat_map(|d| match d {
            Data::Search(uids, ..) => uids.iter().map(|u| u.get()).collect(),
            _ => Vec::new(),
        })
        .collect();
    uids.sort_unstable();
    uids.dedup();
    // The newest matches (highest UIDs).
    let keep = uids.len().saturating_sub(MAX_RESULTS);
    let uids: Vec<u32> = uids.into_iter().skip(keep).collect();
    let cached = store.messages_by_uid(folder.id, &uids)?;
    let missing: Vec<u32> = uids
        .iter()
        .copied()
        .filter(|uid| !cached.iter().any(|r| r.uid == Some(i64::from(*uid))))
        .collect();
    if !missing.is_empty() {
        let mut report = SyncReport::default();
        let mut quiet = |_: Event| {};
        let mut sync = FolderSync {
            store,
            account,
            qresync: false,
            condstore,
            preview: false,
            preview_refused: false,
            session: &mut session,
            folder: &folder,
            report: &mut report,
            on_event: &mut quiet,
            uidnext_at_select: None,
            arrived_since_select: 0,
        };
        for batch in missing.chunks(BATCH) {
            let fetched = sync
                .fetch_items(batch, fetch::header_items(condstore, true))
                .await?;
            let rows = sync.rows_with_recovery(fetched, batch, false).await?;
            store.insert_messages(folder.account_id, &rows)?;
        }
    }
    session.logout().await;
    Ok(store.messages_by_uid(folder.id, &uids)?)
}

/// Local and server results together: one row per message, newest first.
pub fn merge_results(
    local: Vec<MessageRow>,
    server: Vec<MessageRow>,
    limit: usize,
) -> Vec<MessageRow> {
    let mut all = local;
    for row in server {
        if !all.iter().any(|r| r.id == row.id) {
            all.push(row);
        }
    }
    all.sort_by_key(|r| std::cmp::Reverse((r.date, r.id)));
    all.truncate(limit);
    all
}
