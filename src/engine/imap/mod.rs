//! The IMAP sync engine. The server is the authority; the store is its cache.
//!
//! One pass (`sync_account`): log in, mirror the folder list, replay queued actions, then per
//! folder: check UIDVALIDITY (a change drops that folder's cache), fetch headers of new mail
//! (from the UIDNEXT the last complete pass recorded) or of every UID the cache lacks, newest
//! first in batches (each batch one transaction), then mirror flag changes and expunges. A pass
//! interrupted at any point resumes without refetching or duplicating, and a folder the server
//! refuses is marked with the reason while the others sync.

mod body;
mod flags;
mod headers;
mod manage;
mod offline;
pub mod pool;
pub mod preview;
mod replay;
mod runner;
mod search;
mod status;
mod sync;

pub use crate::protocol::imap::structure::Part as MimePart;
pub use body::{
    Attachment, AttachmentInfo, BodyFetch, Pick, Prefer, attachment_list, attachments,
    cached_structure, cached_text, display_part, fetch_raw, fetch_text, raw_source,
};
pub use headers::UNREADABLE_SUBJECT;
pub use manage::{FolderAction, delete_needs_confirmation, delete_warning, manage_folder};
pub use replay::replay;
pub use runner::{IDLE_LIMIT, MAX_BACKOFF, run};
pub use search::{MAX_RESULTS, merge_results, server_search};
pub use sync::{SyncReport, connect, sync_account, sync_session};

use crate::account::Account;
use crate::account::credentials::Secret;
use crate::protocol::ProtocolError;
use crate::protocol::imap::Endpoint;
use crate::protocol::imap::Session;
use crate::store::Store;

/// Where an account's IMAP server is and how to trust it.
pub fn endpoint(account: &Account) -> Endpoint {
    crate::engine::incoming_endpoint(account)
}

/// Connects to the account's IMAP server and logs in.
pub async fn open_session(account: &Account, password: &Secret) -> Result<Session, ProtocolError> {
    let mut session = Session::connect(&endpoint(account)).await?;
    session.login(&account.settings.login, password).await?;
    Ok(session)
}

/// SELECTs (or, `read_only`, EXAMINEs) a cached folder and returns the server's UIDVALIDITY.
pub(crate) async fn open_folder(
    session: &mut Session,
    folder: &crate::store::Folder,
    read_only: bool,
) -> Result<i64, crate::engine::EngineError> {
    use imap_codec::imap_types::command::CommandBody;
    use imap_codec::imap_types::mailbox::Mailbox;
    use imap_codec::imap_types::response::Code;
    let bad = |what: String| ProtocolError::new(crate::protocol::ErrorKind::Protocol, what);
    let mailbox = Mailbox::try_from(folder.server_path.as_str())
        .map_err(|e| bad(format!("bad folder name {:?}: {e}", folder.path)))?;
    let (what, body) = if read_only {
        (
            "EXAMINE",
            CommandBody::Examine {
                mailbox,
                parameters: Vec::new(),
            },
        )
    } else {
        (
            "SELECT",
            CommandBody::Select {
                mailbox,
                parameters: Vec::new(),
            },
        )
    };
    let done = session
        .run_ok(&format!("{what} {}", folder.path), body)
        .await?;
    let uidvalidity = done
        .all_codes()
        .find_map(|c| {
            if let Code::UidValidity(v) = c {
                Some(i64::from(v.get()))
            } else {
                None
            }
        })
        .ok_or_else(|| {
            bad(format!(
                "the server sent no UIDVALIDITY for {}",
                folder.path
            ))
        })?;
    Ok(uidvalidity)
}

/// Connects and replays the account's queued actions only (e.g. to upload a Sent copy right
/// after sending). Returns how many were applied.
pub async fn replay_account(
    store: &Store,
    account: &Account,
    password: &Secret,
) -> Result<usize, crate::engine::EngineError> {
    let mut session = connect(account, password).await?;
    let applied = replay(store, &mut session, account.id).await?;
    session.logout().await;
    Ok(applied)
}

/// Refreshes the account's folder list only (LIST, LSUB), e.g. to learn the Sent folder before
/// the first send.
pub async fn refresh_folders(
    store: &Store,
    account: &Account,
    password: &Secret,
) -> Result<(), crate::engine::EngineError> {
    let mut session = connect(account, password).await?;
    let listed = sync::list_folders(&mut session).await?;
    store.sync_folders(account.id, &listed)?;
    session.logout().await;
    Ok(())
}
