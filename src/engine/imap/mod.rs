//! The IMAP sync engine. The server is the authority; the store is its cache.
//!
//! One pass (`sync_account`): log in, mirror the folder list, then per folder: check
//! UIDVALIDITY (a change drops that folder's cache), fetch headers of new mail and backfill older
//! mail newest first in batches (each batch one transaction), then mirror flag changes and
//! expunges. A pass interrupted at any point resumes without refetching or duplicating: the cache
//! always holds a contiguous top slice of the server's UIDs, so the next pass fetches what lies
//! above its highest and below its lowest cached UID.

mod body;
mod manage;
mod replay;
mod runner;
mod sync;

pub use body::{BodyFetch, cached_structure, cached_text, display_part, fetch_raw, fetch_text};
pub use manage::{FolderAction, manage_folder};
pub use replay::replay;
pub use runner::{IDLE_LIMIT, MAX_BACKOFF, run};
pub use sync::{SyncReport, connect, sync_account, sync_session};

use crate::account::Account;
use crate::account::credentials::Secret;
use crate::protocol::ProtocolError;
use crate::protocol::imap::Endpoint;
use crate::protocol::imap::Session;
use crate::protocol::tls::Trust;

/// Where an account's IMAP server is and how to trust it.
pub fn endpoint(account: &Account) -> Endpoint {
    let s = &account.settings;
    Endpoint {
        host: s.incoming.host.clone(),
        port: s.incoming.port,
        security: s.incoming_security,
        trust: Trust {
            ca_file: s.ca_file.clone(),
            pinned_sha256: s.cert_sha256.clone(),
        },
    }
}

/// Connects to the account's IMAP server and logs in.
pub async fn open_session(account: &Account, password: &Secret) -> Result<Session, ProtocolError> {
    let mut session = Session::connect(&endpoint(account)).await?;
    session.login(&account.settings.login, password).await?;
    Ok(session)
}
