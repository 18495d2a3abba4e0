//! One pipelined STATUS for every folder: the server's counts for the folder list, and, with
//! CONDSTORE, which folders have not changed since the last pass, so those are not even
//! selected. An unchanged account then costs LIST, LSUB and one STATUS round trip.

use std::collections::HashMap;

use imap_codec::imap_types::command::CommandBody;
use imap_codec::imap_types::mailbox::Mailbox;
use imap_codec::imap_types::response::Data;
use imap_codec::imap_types::status::{StatusDataItem, StatusDataItemName};

use crate::account::Account;
use crate::engine::EngineError;
use crate::protocol::imap::Session;
use crate::protocol::imap::folders;
use crate::store::{Folder, Store};

/// A folder's STATUS answer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct ServerStatus {
    pub total: Option<i64>,
    pub unread: Option<i64>,
    pub uidnext: Option<i64>,
    pub uidvalidity: Option<i64>,
    pub highestmodseq: Option<i64>,
}

/// Asks STATUS of all `folders` in one write; returns the answers by folder id. A folder the
/// server refuses is left out (its SELECT reports why).
pub(super) async fn status_all(
    session: &mut Session,
    folders: &[&Folder],
    condstore: bool,
) -> Result<HashMap<i64, ServerStatus>, EngineError> {
    let mut items = vec![
        StatusDataItemName::Messages,
        StatusDataItemName::Unseen,
        StatusDataItemName::UidNext,
        StatusDataItemName::UidValidity,
    ];
    if condstore {
        items.push(StatusDataItemName::HighestModSeq);
    }
    let mut commands = Vec::new();
    let mut by_path: HashMap<Vec<u8>, i64> = HashMap::new();
    for folder in folders {
        // A name the grammar cannot carry is skipped here; its SELECT reports it.
        let Ok(mailbox) = Mailbox::try_from(folder.server_path.as_str()) else {
            continue;
        };
        by_path.insert(folders::mailbox_bytes(&mailbox), folder.id);
        commands.push(CommandBody::Status {
            mailbox,
            item_names: items.clone().into(),
        });
    }
    let mut answers = HashMap::new();
    session
        .run_pipelined(commands, |data| {
            if let Data::Status { mailbox, items } = data
                && let Some(id) = by_path.get(&folders::mailbox_bytes(&mailbox))
            {
                let mut status = ServerStatus::default();
                for item in items.iter() {
                    match item {
                        StatusDataItem::Messages(n) => status.total = Some(i64::from(*n)),
                        StatusDataItem::Unseen(n) => status.unread = Some(i64::from(*n)),
                        StatusDataItem::UidNext(n) => status.uidnext = Some(i64::from(n.get())),
                        StatusDataItem::UidValidity(n) => {
                            status.uidvalidity = Some(i64::from(n.get()));
                        }
                        StatusDataItem::HighestModSeq(n) => {
                            status.highestmodseq = i64::try_from(*n).ok();
                        }
                        _ => {}
                    }
                }
                answers.insert(*id, status);
            }
        })
        .await?;
    Ok(answers)
}

/// Whether a folder can be skipped this pass: the last pass synced it, the server says nothing
/// changed since (same UIDVALIDITY, UIDNEXT and HIGHESTMODSEQ, and as many messages as the last STATUS
/// counted, which also catches an expunge on a server whose MODSEQ does not count expunges),
/// its headers are complete, and it has no bodies left to download nor (where the server offers
/// PREVIEW) previews left to fill in.
pub(super) fn unchanged(
    store: &Store,
    account: &Account,
    folder: &Folder,
    status: &ServerStatus,
    previews: bool,
) -> Result<bool, EngineError> {
    // A folder the last pass could not sync is selected again, to find out whether it can now.
    let same = folder.sync_error.is_none()
        && folder.backfill_complete
        && folder.uidvalidity.is_some()
        && status.uidvalidity == folder.uidvalidity
        && status.uidnext == folder.uidnext
        && status.highestmodseq.is_some()
        && status.highestmodseq == folder.highestmodseq
        && status.total.is_some()
        && status.total == folder.server_total;
    if !same {
        return Ok(false);
    }
    if account.download_bodies {
        let since = account
            .download_days
            .map(|days| crate::store::now_seconds() - days * 86_400);
        if !store.bodies_wanted(folder.id, since, None, 1)?.is_empty() {
            return Ok(false);
        }
    }
    if previews && !store.previews_pending(folder.id, 1)?.is_empty() {
        return Ok(false);
    }
    Ok(true)
}
