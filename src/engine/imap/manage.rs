//! Folder management on the server: create, rename, delete, subscribe, unsubscribe. Each runs
//! online and then mirrors the folder list into the store. A POP3 account's folders are local:
//! the same actions change only the store.

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
    EngineError::Protocol(ProtocolError::new(ErrorKind::Refused, message))
}

/// Why deleting `path` should be confirmed first, in words for the user; None when it holds no
/// mail and has no special role. The window asks with this text; the CLI wants `--yes`.
pub fn delete_needs_confirmation(
    store: &Store,
    account: &Account,
    path: &str,
) -> Result<Option<String>, EngineError> {
    if path.eq_ignore_ascii_case("INBOX") {
        return Err(refuse("the INBOX cannot be deleted or renamed".to_owned()));
    }
    let folder = store.find_folder(account.id, path)?;
    Ok(delete_warning(&folder))
}

/// `delete_needs_confirmation` for a folder row the caller already has (the window's tree).
pub fn delete_warning(folder: &crate::store::Folder) -> Option<String> {
    let messages = folder.counts().0.max(folder.total);
    let mut why = Vec::new();
    if let Some(role) = folder.role {
        why.push(format!("it is the account's {} folder", role.as_str()));
    }
    if messages > 0 {
        why.push(format!(
            "its {messages} message{} will be deleted from the server for good",
            if messages == 1 { "" } else { "s" }
        ));
    }
    (!why.is_empty()).then(|| format!("{}: {}", folder.path, why.join(", and ")))
}

/// Applies `action` on the server, then refreshes the account's folder list in the store. A
/// renamed folder keeps its id in the store (and its messages their ids and cached bodies).
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
    if let FolderAction::Delete(path) = action
        && let Ok(folder) = store.find_folder(account.id, path)
        && folder.attributes & crate::mail::folder::attr::NOSELECT != 0
    {
        // A name that only holds subfolders: the server deletes it with its last subfolder.
        let children: Vec<String> = store
            .folders(account.id)?
            .into_iter()
            .filter(|f| {
                folder
                    .delimiter
                    .as_deref()
                    .is_some_and(|d| f.path.starts_with(&format!("{}{d}", folder.path)))
            })
            .map(|f| f.path)
            .collect();
        if !children.is_empty() {
            return Err(refuse(format!(
                "{path} is not a folder of its own, only the parent of {}; delete those first and {path} goes with them",
                children.join(", ")
            )));
        }
    }
    if account.settings.protocol == crate::account::Protocol::Pop3 {
        return manage_local_folder(store, account, action);
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
    if let FolderAction::Rename(from, to) = action {
        store.rename_folder(account.id, from, to, &encode_utf7(to))?;
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

/// `manage_folder` for a POP3 account, whose folders are local: no server is involved.
fn manage_local_folder(
    store: &Store,
    account: &Account,
    action: &FolderAction,
) -> Result<(), EngineError> {
    match action {
        FolderAction::Create(path) => {
            store.create_local_folder(account.id, path)?;
        }
        FolderAction::Rename(from, to) => {
            let to = to.trim_matches('/');
            if to.is_empty() || to.chars().any(char::is_control) {
                return Err(refuse(format!("bad folder name {to:?}")));
            }
            if store.find_folder(account.id, to).is_ok() {
                return Err(refuse(format!("there is a folder {to:?} already")));
            }
            store.rename_folder(account.id, from, to, to)?;
        }
        FolderAction::Delete(path) => {
            store.delete_local_folder(account.id, path)?;
        }
        FolderAction::Subscribe(_) | FolderAction::Unsubscribe(_) => {
            return Err(refuse(
                "a POP3 account's folders are local; subscriptions are for IMAP folders".into(),
            ));
        }
    }
    Ok(())
}
