//! Per-account sync engines and the command/event types between them and the UI or CLI.
//!
//! An engine owns one account's connections and its state machine
//! (`Disconnected{retry} → Connecting → Syncing → Idle`). It receives `Command`s and emits
//! `Event`s that say *what* changed; the UI then re-reads what it shows from the store.
//! `imap` and `pop3` sync an account's incoming mail; `send` works its outbox.

pub mod discover;
pub mod imap;
pub mod lease;
pub mod local;
pub mod pop3;
pub mod send;
pub mod verify;

use crate::protocol::{ErrorKind, ProtocolError};
use crate::store::StoreError;

/// Where an account's incoming (IMAP or POP3) server is and how to trust it.
pub fn incoming_endpoint(account: &crate::account::Account) -> crate::protocol::Endpoint {
    let s = &account.settings;
    crate::protocol::Endpoint {
        host: s.incoming.host.clone(),
        port: s.incoming.port,
        security: s.incoming_security,
        trust: crate::protocol::tls::Trust {
            ca_file: s.ca_file.clone(),
            pinned_sha256: s.cert_sha256.clone(),
        },
    }
}

/// For a running engine: when `account_replaced`, says so (the window reloads the accounts,
/// which starts an engine with what is stored, and this one is offline) and returns true: stop.
pub fn stop_if_replaced(
    store: &crate::store::Store,
    account: &crate::account::Account,
    emit: &dyn Fn(Event),
) -> bool {
    if !account_replaced(store, account) {
        return false;
    }
    emit(Event::FoldersChanged {
        account: account.id,
    });
    emit(Event::Connectivity {
        account: account.id,
        state: Connectivity::Offline,
    });
    true
}

/// Whether the account `account` was loaded from is no longer what the store holds: removed
/// (its id may now name another account), its settings changed, or its cache started over
/// (`cache_epoch`). A running engine then stops, and the window reloads the accounts and starts
/// a new one with what is stored, so it never keeps reading the old mailbox into the new cache.
pub fn account_replaced(store: &crate::store::Store, account: &crate::account::Account) -> bool {
    match store.account(account.id) {
        Ok(stored) => {
            stored.keyring_key != account.keyring_key
                || stored.cache_epoch != account.cache_epoch
                || stored.settings != account.settings
        }
        Err(StoreError::NotFound(_)) => true,
        // Unreadable now: the pass that follows says why.
        Err(_) => false,
    }
}

/// What removing `account` would lose for good, in words for the user (the window asks with
/// them, `tern account remove` wants `--yes`); None when everything it holds is on the server.
pub fn removal_warning(
    store: &crate::store::Store,
    account: i64,
) -> Result<Option<String>, EngineError> {
    let (local, queued, outbox) = store.account_losses(account)?;
    let plural = |n: i64, one: &str, many: &str| {
        if n == 1 {
            format!("1 {one}")
        } else {
            format!("{n} {many}")
        }
    };
    let mut lost = Vec::new();
    if local > 0 {
        lost.push(format!(
            "{} stored only on this computer",
            plural(local, "message", "messages")
        ));
    }
    if queued > 0 {
        lost.push(format!(
            "{} not yet on the server",
            plural(queued, "change", "changes")
        ));
    }
    if outbox > 0 {
        lost.push(format!(
            "{} in the outbox, not sent",
            plural(outbox, "message", "messages")
        ));
    }
    Ok((!lost.is_empty()).then(|| format!("this loses {}", lost.join(", "))))
}

/// Removes the OS keyring entry of `account` (removed, or switched to a password command):
/// its own, and the one of earlier versions (login@host) unless another account still uses that
/// login and server. An account with a password command never put one there.
pub fn forget_password(
    store: &crate::store::Store,
    account: &crate::account::Account,
) -> Result<(), crate::account::credentials::CredentialError> {
    if account.settings.password_cmd.is_some() {
        return Ok(());
    }
    let s = &account.settings;
    let shared = store.accounts().map_or(true, |all| {
        all.iter().any(|other| {
            other.id != account.id
                && other.settings.login == s.login
                && other
                    .settings
                    .incoming
                    .host
                    .eq_ignore_ascii_case(&s.incoming.host)
        })
    });
    crate::account::credentials::delete_from_keyring(account, !shared)
}

/// What the UI or CLI asks an engine to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Run a sync pass now (Get Mail).
    SyncNow,
    /// Replay queued offline actions and flush the outbox.
    Flush,
    /// Close connections and stop.
    Shutdown,
}

/// The state of an account's connection, as the status bar shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Connectivity {
    Offline,
    Connecting,
    Online,
    /// Reconnecting after `retry_in_secs` because of `reason`.
    Disconnected {
        reason: String,
        retry_in_secs: u64,
    },
    /// Needs the user (e.g. wrong password); no automatic retry.
    Failed {
        reason: String,
    },
}

/// What changed; consumers re-read the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    FolderChanged {
        account: i64,
        folder: i64,
    },
    FoldersChanged {
        account: i64,
    },
    MessageChanged {
        account: i64,
        message: i64,
    },
    OutboxChanged {
        account: i64,
    },
    Connectivity {
        account: i64,
        state: Connectivity,
    },
    SyncProgress {
        account: i64,
        folder: i64,
        done: u64,
        total: u64,
    },
}

/// An engine failure, with the kind the scheduler branches on.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Protocol(#[from] ProtocolError),
    #[error(transparent)]
    Storage(#[from] StoreError),
    #[error(transparent)]
    Credentials(#[from] crate::account::credentials::CredentialError),
    /// Something the user wrote cannot be used (a bad address, a line break in a header).
    #[error(transparent)]
    Invalid(#[from] crate::mail::compose::ComposeError),
}

/// The coarse kind of an engine error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Auth,
    Tls,
    Network,
    Protocol,
    /// The server refused a command: that command or folder fails, the rest goes on.
    Refused,
    Storage,
    /// Bad input from the user: fix it, do not retry.
    Invalid,
}

impl EngineError {
    pub fn kind(&self) -> Kind {
        match self {
            EngineError::Protocol(e) => match e.kind {
                ErrorKind::Auth => Kind::Auth,
                ErrorKind::Tls => Kind::Tls,
                ErrorKind::Network => Kind::Network,
                ErrorKind::Protocol => Kind::Protocol,
                ErrorKind::Refused => Kind::Refused,
            },
            EngineError::Storage(_) => Kind::Storage,
            EngineError::Credentials(_) => Kind::Auth,
            EngineError::Invalid(_) => Kind::Invalid,
        }
    }

    /// The certificate that could not be verified, when that is the error.
    pub fn certificate(&self) -> Option<&crate::protocol::tls::CertificateInfo> {
        match self {
            EngineError::Protocol(e) => e.certificate.as_deref(),
            _ => None,
        }
    }
}
