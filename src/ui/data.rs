//! View data for the window: every `store` query (and every engine call that fetches a body)
//! runs on a blocking thread or the engine's tasks, never on the UI thread. The screens call these
//! through `Task::perform` and get plain values back.

use crate::account::Account;
use crate::account::credentials::{self, Secret};
use crate::store::{Folder, MessageRow, SortOrder, Store};

/// An account and its folders, as the folder pane shows them.
#[derive(Debug, Clone)]
pub struct AccountTree {
    pub account: Account,
    pub folders: Vec<Folder>,
}

/// Runs a store query off the UI thread; errors become text for the status bar.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, String> + Send + 'static,
) -> Result<T, String> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| format!("a background task stopped: {e}"))?
}

pub async fn open(data_dir: std::path::PathBuf) -> Result<Store, String> {
    blocking(move || Store::open_dir(&data_dir).map_err(|e| e.to_string())).await
}

/// Every account with its folders.
pub async fn tree(store: Store) -> Result<Vec<AccountTree>, String> {
    blocking(move || {
        let mut out = Vec::new();
        for account in store.accounts().map_err(|e| e.to_string())? {
            let folders = store.folders(account.id).map_err(|e| e.to_string())?;
            out.push(AccountTree { account, folders });
        }
        Ok(out)
    })
    .await
}

/// Rows `offset..offset + limit` of a folder in `order`.
pub async fn page(
    store: Store,
    folder: i64,
    order: SortOrder,
    offset: usize,
    limit: usize,
) -> Result<Vec<MessageRow>, String> {
    blocking(move || {
        store
            .folder_page_at(folder, order, offset, limit)
            .map_err(|e| e.to_string())
    })
    .await
}

/// A folder's current row (for its total after a change).
pub async fn folder(store: Store, folder: i64) -> Result<Folder, String> {
    blocking(move || store.folder(folder).map_err(|e| e.to_string())).await
}

/// Search results over all accounts (or one), newest first.
pub async fn search(
    store: Store,
    query: String,
    account: Option<i64>,
) -> Result<Vec<MessageRow>, String> {
    blocking(move || {
        store
            .search(&query, account, 500)
            .map_err(|e| e.to_string())
    })
    .await
}

/// The readable text of a message: from the cache, else fetched by the engine (only the part
/// needed). `None` means offline and not cached.
pub async fn body(store: Store, message: i64) -> Result<BodyText, String> {
    let (row, cached, account) = blocking({
        let store = store.clone();
        move || {
            let row = store.message(message).map_err(|e| e.to_string())?;
            let account = store.account(row.account_id).map_err(|e| e.to_string())?;
            let cached =
                crate::engine::imap::cached_text(&store, message).map_err(|e| e.to_string())?;
            Ok((row, cached, account))
        }
    })
    .await?;
    if let Some(cached) = cached.and_then(|c| c.text) {
        return Ok(BodyText {
            row,
            text: Some(cached),
            note: None,
        });
    }
    let password = match password(&account).await {
        Ok(p) => p,
        Err(e) => {
            return Ok(BodyText {
                row,
                text: None,
                note: Some(format!("Not downloaded yet, and {e}")),
            });
        }
    };
    match crate::engine::imap::fetch_text(&store, &account, &password, message).await {
        Ok(fetched) => Ok(BodyText {
            row,
            text: fetched.text,
            note: None,
        }),
        Err(e) => Ok(BodyText {
            row,
            text: None,
            note: Some(format!("This message is not available offline: {e}")),
        }),
    }
}

/// A message and its text for the reader.
#[derive(Debug, Clone)]
pub struct BodyText {
    pub row: MessageRow,
    pub text: Option<String>,
    /// Why there is no text (offline and not cached, fetch failed).
    pub note: Option<String>,
}

/// The account's password without asking (the desktop app never prompts on a terminal): its
/// password command, else the OS keyring.
pub async fn password(account: &Account) -> Result<Secret, String> {
    let s = &account.settings;
    match &s.password_cmd {
        Some(cmd) => credentials::password_from_command(&s.name, cmd)
            .await
            .map_err(|e| e.to_string()),
        None => credentials::password_from_keyring(&s.name, &s.login, &s.incoming.host)
            .map_err(|e| e.to_string()),
    }
}

/// Applies a flag change (cache now, server on the next replay).
pub async fn set_flags(
    store: Store,
    message: i64,
    add: Vec<String>,
    remove: Vec<String>,
) -> Result<(), String> {
    blocking(move || {
        store
            .queue_flags(message, &add, &remove)
            .map_err(|e| e.to_string())
    })
    .await
}

/// Deletes (to Trash, or for good in Trash).
pub async fn delete(store: Store, message: i64) -> Result<(), String> {
    blocking(move || {
        store
            .queue_delete(message)
            .map(|_| ())
            .map_err(|e| e.to_string())
    })
    .await
}

/// Counts of queued offline actions and outbox messages, for the status bar.
pub async fn queues(store: Store) -> Result<(usize, usize), String> {
    blocking(move || {
        let mut ops = 0;
        for account in store.accounts().map_err(|e| e.to_string())? {
            ops += store
                .pending_ops(account.id)
                .map_err(|e| e.to_string())?
                .len();
        }
        let outbox = store.outbox(None).map_err(|e| e.to_string())?.len();
        Ok((ops, outbox))
    })
    .await
}
