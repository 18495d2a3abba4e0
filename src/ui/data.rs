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
    credentials::password_for(account)
        .await
        .map_err(|e| e.to_string())
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

/// Builds the draft and puts it in the account's outbox (one transaction); the engine sends it.
/// A saved copy of the same draft (`replaces_draft`) is removed. Returns the outbox id.
pub async fn queue_message(
    store: Store,
    account: i64,
    draft: crate::mail::compose::Draft,
    in_reply_to: Option<i64>,
    forwarded: Option<i64>,
    replaces_draft: Option<i64>,
) -> Result<i64, String> {
    blocking(move || {
        let account = store.account(account).map_err(|e| e.to_string())?;
        let mut draft = draft;
        if !account.signature.is_empty() && !draft.text.contains("\n-- \n") {
            draft.text = format!("{}\n\n-- \n{}\n", draft.text.trim_end(), account.signature);
        }
        let id =
            crate::engine::send::queue_message(&store, &account, &draft, in_reply_to, forwarded)
                .map_err(|e| e.to_string())?;
        if let Some(old) = replaces_draft {
            store.queue_expunge(old).map_err(|e| e.to_string())?;
        }
        Ok(id)
    })
    .await
}

/// Saves a draft in the account's Drafts folder, replacing `replaces`. Returns its message id.
pub async fn save_draft(
    store: Store,
    account: i64,
    draft: crate::mail::compose::Draft,
    replaces: Option<i64>,
) -> Result<i64, String> {
    blocking(move || {
        let account = store.account(account).map_err(|e| e.to_string())?;
        crate::engine::send::save_draft(&store, &account, &draft, replaces)
            .map_err(|e| e.to_string())
    })
    .await
}

/// What the composer opens with for a reply, reply-all or forward of `message`.
#[derive(Debug, Clone)]
pub struct Prefill {
    pub account: i64,
    pub draft: crate::mail::compose::Draft,
    pub in_reply_to: Option<i64>,
    pub forwarded: Option<i64>,
}

/// How the composer starts from an existing message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Respond {
    Reply,
    ReplyAll,
    Forward,
}

/// The prefilled draft for responding to `message` (its source from the cache, or fetched).
pub async fn prefill(store: Store, message: i64, how: Respond) -> Result<Prefill, String> {
    let (row, account, raw) = blocking({
        let store = store.clone();
        move || {
            let row = store.message(message).map_err(|e| e.to_string())?;
            let account = store.account(row.account_id).map_err(|e| e.to_string())?;
            let raw = store.raw_message(message).map_err(|e| e.to_string())?;
            Ok((row, account, raw))
        }
    })
    .await?;
    let raw = match raw {
        Some(raw) => raw,
        None => {
            let password = password(&account).await?;
            crate::engine::imap::raw_source(&store, &account, &password, message)
                .await
                .map_err(|e| format!("cannot fetch the message to answer it: {e}"))?
        }
    };
    let own: Vec<String> = blocking({
        let store = store.clone();
        move || {
            Ok(store
                .accounts()
                .map_err(|e| e.to_string())?
                .into_iter()
                .map(|a| a.settings.email)
                .collect())
        }
    })
    .await?;
    let draft = match how {
        Respond::Reply => crate::mail::reply::reply(&raw, &own, false),
        Respond::ReplyAll => crate::mail::reply::reply(&raw, &own, true),
        Respond::Forward => crate::mail::reply::forward(&raw, false),
    }
    .ok_or_else(|| "the message cannot be read to answer it".to_owned())?;
    Ok(Prefill {
        account: row.account_id,
        draft,
        in_reply_to: (how != Respond::Forward).then_some(message),
        forwarded: (how == Respond::Forward).then_some(message),
    })
}

/// The open message's attachments (names, types, sizes) from the cache.
pub async fn attachment_list(
    store: Store,
    message: i64,
) -> Result<Vec<crate::engine::imap::AttachmentInfo>, String> {
    blocking(move || {
        crate::engine::imap::attachment_list(&store, message).map_err(|e| e.to_string())
    })
    .await
}

/// Where saved attachments go: the user's Downloads folder (else the home directory).
fn downloads() -> Result<std::path::PathBuf, String> {
    directories::UserDirs::new()
        .and_then(|d| {
            d.download_dir()
                .map(std::path::Path::to_path_buf)
                .or_else(|| Some(d.home_dir().to_path_buf()))
        })
        .ok_or_else(|| "cannot find a Downloads folder to save into".to_owned())
}

/// Saves attachment number `index` of `message` (fetched and cached if needed) into Downloads
/// under a sanitised name that never overwrites a file. Returns where it went.
pub async fn save_attachment(
    store: Store,
    message: i64,
    index: usize,
) -> Result<std::path::PathBuf, String> {
    let account = blocking({
        let store = store.clone();
        move || {
            let row = store.message(message).map_err(|e| e.to_string())?;
            store.account(row.account_id).map_err(|e| e.to_string())
        }
    })
    .await?;
    let password = password(&account).await.ok();
    let found = crate::engine::imap::attachments(&store, &account, password.as_ref(), message)
        .await
        .map_err(|e| e.to_string())?;
    let attachment = found
        .into_iter()
        .nth(index)
        .ok_or_else(|| "the attachment is no longer there".to_owned())?;
    let dir = downloads()?;
    blocking(move || {
        crate::engine::local::save_file(&dir, &attachment.name, &attachment.data)
            .map_err(|e| format!("cannot save {}: {e}", attachment.name))
    })
    .await
}

/// The raw source of a message (cached, or fetched whole).
pub async fn source(store: Store, message: i64) -> Result<String, String> {
    let (account, cached) = blocking({
        let store = store.clone();
        move || {
            let row = store.message(message).map_err(|e| e.to_string())?;
            let account = store.account(row.account_id).map_err(|e| e.to_string())?;
            Ok((
                account,
                store.raw_message(message).map_err(|e| e.to_string())?,
            ))
        }
    })
    .await?;
    let raw = match cached {
        Some(raw) => raw,
        None => {
            let password = password(&account).await?;
            crate::engine::imap::raw_source(&store, &account, &password, message)
                .await
                .map_err(|e| format!("The source is not available offline: {e}"))?
        }
    };
    Ok(String::from_utf8_lossy(&raw).into_owned())
}

/// Creates, renames or deletes a folder on the server (online), then refreshes the tree.
pub async fn manage_folder(
    store: Store,
    account: i64,
    action: crate::engine::imap::FolderAction,
) -> Result<(), String> {
    let account = blocking({
        let store = store.clone();
        move || store.account(account).map_err(|e| e.to_string())
    })
    .await?;
    let password = password(&account).await?;
    crate::engine::imap::manage_folder(&store, &account, &password, &action)
        .await
        .map_err(|e| e.to_string())
}

/// Marks a whole folder read (cache now, one command for the server).
pub async fn mark_folder_read(store: Store, folder: i64) -> Result<(), String> {
    blocking(move || {
        store
            .queue_mark_folder_read(folder)
            .map(|_| ())
            .map_err(|e| e.to_string())
    })
    .await
}

/// Moves messages to the account's folder with `role` (Archive, Junk), or to `folder` by id.
pub async fn move_messages(
    store: Store,
    messages: Vec<i64>,
    target: MoveTarget,
) -> Result<(), String> {
    blocking(move || {
        for id in messages {
            let row = store.message(id).map_err(|e| e.to_string())?;
            let folder = match target {
                MoveTarget::Folder(folder) => folder,
                MoveTarget::Role(role) => store
                    .folders(row.account_id)
                    .map_err(|e| e.to_string())?
                    .into_iter()
                    .find(|f| f.role == Some(role))
                    .map(|f| f.id)
                    .ok_or_else(|| format!("this account has no {} folder", role.as_str()))?,
            };
            store.queue_move(id, folder).map_err(|e| e.to_string())?;
        }
        Ok(())
    })
    .await
}

/// Where messages are moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MoveTarget {
    Folder(i64),
    Role(crate::mail::folder::FolderRole),
}

/// The other messages of a conversation, oldest first.
pub async fn conversation(store: Store, thread: i64) -> Result<Vec<MessageRow>, String> {
    blocking(move || store.thread_messages(thread).map_err(|e| e.to_string())).await
}

/// Sets and clears flags on several messages (one transaction each, in one background task).
pub async fn set_flags_all(
    store: Store,
    messages: Vec<i64>,
    add: Vec<String>,
    remove: Vec<String>,
) -> Result<(), String> {
    blocking(move || {
        for id in messages {
            store
                .queue_flags(id, &add, &remove)
                .map_err(|e| e.to_string())?;
        }
        Ok(())
    })
    .await
}

/// Deletes several messages (to Trash, or for good in Trash).
pub async fn delete_all(store: Store, messages: Vec<i64>) -> Result<(), String> {
    blocking(move || {
        for id in messages {
            store.queue_delete(id).map_err(|e| e.to_string())?;
        }
        Ok(())
    })
    .await
}

/// Saves an account's options from the settings screen.
pub async fn save_account_options(
    store: Store,
    options: super::settings::Options,
    sync_days: Option<i64>,
) -> Result<String, String> {
    blocking(move || {
        let account = store.account(options.account).map_err(|e| e.to_string())?;
        if options
            .signature
            .chars()
            .any(|c| c.is_control() && c != '\n')
        {
            return Err("The signature must not contain control characters.".into());
        }
        store
            .set_sending_options(account.id, &options.signature, options.server_saves_sent)
            .map_err(|e| e.to_string())?;
        store
            .set_sync_options(
                account.id,
                sync_days,
                options.download_bodies,
                account.download_days,
            )
            .map_err(|e| e.to_string())?;
        Ok(format!("Saved the settings of {}.", account.settings.name))
    })
    .await
}

/// Removes an account and everything cached for it (its password stays in the keyring).
pub async fn remove_account(store: Store, account: i64) -> Result<String, String> {
    blocking(move || {
        store.remove_account(account).map_err(|e| e.to_string())?;
        Ok("The account was removed.".to_owned())
    })
    .await
}

/// Adds an account from the form, keeping its password in the OS keyring.
pub async fn add_account(
    store: Store,
    settings: crate::account::AccountSettings,
    password: String,
) -> Result<String, String> {
    blocking(move || {
        let account = store.add_account(&settings).map_err(|e| e.to_string())?;
        let mut notice = format!("Added {}.", account.settings.name);
        if !password.is_empty() {
            let secret = Secret::new(password);
            if let Err(e) =
                credentials::save_to_keyring(&settings.login, &settings.incoming.host, &secret)
            {
                notice = format!(
                    "Added {}, but the password could not be kept: {e}",
                    account.settings.name
                );
            }
        }
        Ok(notice)
    })
    .await
}

/// New unread messages of a folder stored after message `after` (newest first, at most 20).
pub async fn new_unread(store: Store, folder: i64, after: i64) -> Result<Vec<MessageRow>, String> {
    blocking(move || {
        store
            .new_unread(folder, after, 20)
            .map_err(|e| e.to_string())
    })
    .await
}

/// The highest message id now (mail stored later is new).
pub async fn latest_message_id(store: Store) -> Result<i64, String> {
    blocking(move || store.latest_message_id().map_err(|e| e.to_string())).await
}

/// The folder a message is in.
pub async fn folder_of(store: Store, message: i64) -> Result<i64, String> {
    blocking(move || {
        store
            .message(message)
            .map(|m| m.folder_id)
            .map_err(|e| e.to_string())
    })
    .await
}

/// Opens a web or mail link with the system's handler (only http, https and mailto).
pub async fn open_link(link: String) -> Result<(), String> {
    if !crate::mail::links::is_safe_target(&link) {
        return Err(format!("Tern does not open links like {link:?}"));
    }
    blocking(move || {
        let mut command = if cfg!(target_os = "macos") {
            std::process::Command::new("open")
        } else if cfg!(target_os = "windows") {
            // explorer.exe takes the URL as one argument; no shell parses it.
            std::process::Command::new("explorer")
        } else {
            std::process::Command::new("xdg-open")
        };
        command
            .arg(&link)
            .spawn()
            .map(|_| ())
            .map_err(|e| format!("cannot open {link}: {e}"))
    })
    .await
}
