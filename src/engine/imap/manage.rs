//! Folder management on the server: create, rename, delete, subscribe, unsubscribe. Each runs
//! online and then mirrors the folder list into the store.

use imap_codec::imap_types::command::CommandBody;
use imap_codec::imap_types::mailbox::Mailbox;

use super::sync::{connect, list_folders};
use crate::account::Account;
use crate::account::credentials::Secret;
use crate::engine::EngineError;
use crate::protocol::imap::folders::encode_utf7;
use crate::protocol::{ErrorKind, ProtocolError};
use crate::store::Store;

/// A change to the folder tree. Paths are decoded (UTF-8), with the server's delimiter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FolderAction {
    Create(String),
    Rename(String, String),
    Delete(String),
    Subscribe(String),
    Unsubscribe(String),
}

fn mailbox(path: &str) -> Result<Mailbox<'static>, EngineError> {
    Mailbox::try_from(encode_utf7(path)).map_err(|e| {
        EngineError::Protocol(ProtocolError::new(
            ErrorKind::Protocol,
            format!("bad folder name {path:?}: {e}"),
        ))
    })
}

fn refuse(message: String) -> EngineError {
    EngineError::Protocol(ProtocolError::new(ErrorKind::Protocol, message))
}

/// Applies `action` on the server, then refreshes the account's folder list in the store.
pub async fn manage_folder(
    store: &Store,
    account: &Account,
    password: &Secret,
    action: &FolderAction,
) -> Result<(), EngineError> {
    if let FolderAction::Delete(path) | FolderAction::Rename(path, _) = action
        && path.eq_ignore_ascii_case("INBOX")
    {
        return Err(refuse("the INBOX cannot be deleted or renamed".to_owned()));
    }
    let mut session = connect(account, password).await?;
    // New top-level folders go inside the personal namespace (e.g. "INBOX." on Courier-style
    // servers), as the server expects; a path already inside it is left alone.
    let (prefix, _) = session.personal_namespace().await?;
    let placed = |path: &str| {
        if prefix.is_empty() || path.starts_with(&prefix) || path.eq_ignore_ascii_case("INBOX") {
            path.to_owned()
        } else {
            format!("{prefix}{path}")
        }
    };
    let action = &match action {
        FolderAction::Create(path) => FolderAction::Create(placed(path)),
        FolderAction::Rename(from, to) => FolderAction::Rename(from.clone(), placed(to)),
        other => other.clone(),
    };
    let (what, body) = match action {
        FolderAction::Create(path) => (
            format!("CREATE {path}"),
            CommandBody::Create {
                mailbox: mailbox(path)?,
            },
        ),
        FolderAction::Rename(from, to) => (
            format!("RENAME {from} {to}"),
            CommandBody::Rename {
                from: mailbox(from)?,
                to: mailbox(to)?,
            },
        ),
        FolderAction::Delete(path) => (
            format!("DELETE {path}"),
            CommandBody::Delete {
                mailbox: mailbox(path)?,
            },
        ),
        FolderAction::Subscribe(path) => (
            format!("SUBSCRIBE {path}"),
            CommandBody::Subscribe {
                mailbox: mailbox(path)?,
            },
        ),
        FolderAction::Unsubscribe(path) => (
            format!("UNSUBSCRIBE {path}"),
            CommandBody::Unsubscribe {
                mailbox: mailbox(path)?,
            },
        ),
    };
    let done = session.run(body).await?;
    if !done.is_ok() {
        return Err(refuse(format!(
            "the server refused {what}: {}",
            done.status.body.text
        )));
    }
    // New folders are subscribed, as users expect to see them.
    if let FolderAction::Create(path) | FolderAction::Rename(_, path) = action {
        let _ = session
            .run(CommandBody::Subscribe {
                mailbox: mailbox(path)?,
            })
            .await?;
    }
    let listed = list_folders(&mut session).await?;
    store.sync_folders(account.id, &listed)?;
    session.logout().await;
    Ok(())
}
