//! View data for the window: every `store` query (and every engine call that fetches a body)
//! runs on a blocking thread or the engine's tasks, never on the UI thread. The screens call these
//! through `Task::perform` and get plain values back.

mod files;
pub mod setup;

pub use files::{
    MAX_ATTACHMENT, attachment_list, image, open_attachment, open_link, pick_attachments,
    read_attachments, save_all_attachments, save_attachment, save_attachment_as,
};

use crate::account::Account;
use crate::account::credentials::{self, Secret};
use crate::engine::imap::Prefer;
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

/// The Unified Inbox's id in the folder pane (no real folder has a negative id).
pub const UNIFIED: i64 = -1;

/// The Unified Inbox as a folder row: every account's Inbox, counts summed.
pub fn unified(inboxes: &[&Folder]) -> Folder {
    let sum = |f: fn(&Folder) -> i64| inboxes.iter().map(|i| f(i)).sum::<i64>();
    Folder {
        id: UNIFIED,
        account_id: UNIFIED,
        path: "Unified Inbox".into(),
        server_path: String::new(),
        delimiter: None,
        role: Some(crate::mail::folder::FolderRole::Inbox),
        attributes: crate::mail::folder::attr::NOSELECT,
        subscribed: true,
        uidvalidity: None,
        uidnext: None,
        highestmodseq: None,
        total: sum(|f| f.total),
        unread: sum(|f| f.unread),
        backfill_complete: inboxes.iter().all(|f| f.backfill_complete),
        server_total: None,
        server_unread: None,
        sync_error: None,
    }
}

/// Every account's Inbox.
fn inboxes(store: &Store) -> Result<Vec<Folder>, String> {
    let mut out = Vec::new();
    for account in store.accounts().map_err(|e| e.to_string())? {
        let folders = store.folders(account.id).map_err(|e| e.to_string())?;
        out.extend(
            folders
                .into_iter()
                .filter(|f| f.role == Some(crate::mail::folder::FolderRole::Inbox)),
        );
    }
    Ok(out)
}

/// How many list pages the window has read from the store (tests check that opening a folder
/// costs one query).
static PAGE_QUERIES: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// The number of list pages read so far.
pub fn page_queries() -> usize {
    PAGE_QUERIES.load(std::sync::atomic::Ordering::Relaxed)
}

/// Rows `offset..offset + limit` of a folder (or of the Unified Inbox) in `order`.
pub async fn page(
    store: Store,
    folder: i64,
    order: SortOrder,
    offset: usize,
    limit: usize,
) -> Result<Vec<MessageRow>, String> {
    PAGE_QUERIES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    blocking(move || {
        if folder == UNIFIED {
            let ids: Vec<i64> = inboxes(&store)?.iter().map(|f| f.id).collect();
            return store
                .merged_page_at(&ids, order, offset, limit)
                .map_err(|e| e.to_string());
        }
        store
            .folder_page_at(folder, order, offset, limit)
            .map_err(|e| e.to_string())
    })
    .await
}

/// Up to `limit` rows of a folder that follow `cursor` (the row above them) in `order`: a keyset
/// page, which costs the same anywhere in the folder (an OFFSET counts the rows it skips).
pub async fn page_after(
    store: Store,
    folder: i64,
    order: SortOrder,
    cursor: crate::store::PageCursor,
    limit: usize,
) -> Result<Vec<MessageRow>, String> {
    PAGE_QUERIES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    blocking(move || {
        store
            .folder_page(folder, order, Some(&cursor), limit)
            .map_err(|e| e.to_string())
    })
    .await
}

/// Conversations `offset..offset + limit` of a folder (threaded view): each one's newest
/// message, and how many messages it has in the folder.
pub async fn thread_page(
    store: Store,
    folder: i64,
    offset: usize,
    limit: usize,
) -> Result<(Vec<MessageRow>, Vec<i64>), String> {
    PAGE_QUERIES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    blocking(move || {
        let threads = store
            .thread_page_at(folder, offset, limit)
            .map_err(|e| e.to_string())?;
        let counts = threads.iter().map(|t| t.messages).collect();
        Ok((threads.into_iter().map(|t| t.newest).collect(), counts))
    })
    .await
}

/// How many conversations a folder has.
pub async fn thread_count(store: Store, folder: i64) -> Result<usize, String> {
    blocking(move || {
        store
            .thread_count(folder)
            .map(|n| usize::try_from(n).unwrap_or(0))
            .map_err(|e| e.to_string())
    })
    .await
}

/// A folder's current row (for its total after a change).
pub async fn folder(store: Store, folder: i64) -> Result<Folder, String> {
    blocking(move || {
        if folder == UNIFIED {
            let inboxes = inboxes(&store)?;
            return Ok(unified(&inboxes.iter().collect::<Vec<_>>()));
        }
        store.folder(folder).map_err(|e| e.to_string())
    })
    .await
}

/// Search results over all accounts, or in one folder, newest first.
pub async fn search(
    store: Store,
    query: String,
    folder: Option<i64>,
) -> Result<Vec<MessageRow>, String> {
    blocking(move || {
        store
            .search_in(&query, None, folder, 500)
            .map_err(|e| e.to_string())
    })
    .await
}

/// The IMAP server's search of one folder (headers of matches not cached yet are fetched and
/// cached), merged with `local`.
pub async fn server_search(
    store: Store,
    folder: i64,
    query: String,
    local: Vec<MessageRow>,
) -> Result<Vec<MessageRow>, String> {
    let account = blocking({
        let store = store.clone();
        move || {
            let folder = store.folder(folder).map_err(|e| e.to_string())?;
            store.account(folder.account_id).map_err(|e| e.to_string())
        }
    })
    .await?;
    let password = password(&account).await?;
    let found = crate::engine::imap::server_search(&store, &account, &password, folder, &query)
        .await
        .map_err(|e| format!("Search on the server failed: {e}"))?;
    Ok(crate::engine::imap::merge_results(local, found, 1_000))
}

/// The readable text of a message: from the cache, else fetched by the engine (only the part
/// needed). With `Prefer::Html` an HTML body is sanitised and laid out at `columns` here, off the
/// UI thread. Offline and not cached, `note` says so.
pub async fn body(
    store: Store,
    message: i64,
    prefer: Prefer,
    columns: usize,
) -> Result<BodyText, String> {
    let (row, cached, account) = blocking({
        let store = store.clone();
        move || {
            let row = store.message(message).map_err(|e| e.to_string())?;
            let account = store.account(row.account_id).map_err(|e| e.to_string())?;
            let cached = crate::engine::imap::cached_text(&store, message, prefer)
                .map_err(|e| e.to_string())?;
            Ok((row, cached, account))
        }
    })
    .await?;
    let fetched = match cached.filter(|c| c.text.is_some() || c.html.is_some()) {
        Some(cached) => Ok(cached),
        None => match password(&account).await {
            Ok(password) => {
                crate::engine::imap::fetch_text(&store, &account, &password, message, prefer)
                    .await
                    .map_err(|e| format!("This message is not available offline: {e}"))
            }
            Err(e) => Err(format!("Not downloaded yet, and {e}")),
        },
    };
    match fetched {
        Ok(fetched) => {
            let html = match fetched.html {
                Some(html) => {
                    blocking(move || Ok(crate::mail::html::render(&html, columns))).await?
                }
                None => None,
            };
            Ok(BodyText {
                row,
                text: fetched.text,
                html,
                note: None,
            })
        }
        Err(note) => Ok(BodyText {
            row,
            text: None,
            html: None,
            note: Some(note),
        }),
    }
}

/// A message and its text for the reader.
#[derive(Debug, Clone)]
pub struct BodyText {
    pub row: MessageRow,
    pub text: Option<String>,
    /// The HTML body, sanitised and laid out (when the message has one and HTML is preferred).
    pub html: Option<crate::mail::html::Rendered>,
    /// Why there is no text (offline and not cached, fetch failed).
    pub note: Option<String>,
}

/// The account's password without asking (the desktop app never prompts on a terminal): its
/// password command, else the OS keyring, else the one given this run.
pub async fn password(account: &Account) -> Result<Secret, String> {
    credentials::password_for(account)
        .await
        .map_err(|e| e.to_string())
}

/// Counts of queued offline actions and outbox messages, for the status bar.
/// How much waits: changes queued for the servers, changes that failed, outbox messages.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Queues {
    pub queued: usize,
    pub failed: usize,
    pub outbox: usize,
}

pub async fn queues(store: Store) -> Result<Queues, String> {
    blocking(move || {
        let mut queues = Queues::default();
        for account in store.accounts().map_err(|e| e.to_string())? {
            for op in store.pending_ops(account.id).map_err(|e| e.to_string())? {
                if op.state == "failed" {
                    queues.failed += 1;
                } else {
                    queues.queued += 1;
                }
            }
        }
        queues.outbox = store.outbox(None).map_err(|e| e.to_string())?.len();
        Ok(queues)
    })
    .await
}

/// The changes that did not reach the servers.
pub async fn failed_actions(store: Store) -> Result<Vec<crate::store::FailedAction>, String> {
    blocking(move || store.failed_actions(None).map_err(|e| e.to_string())).await
}

/// Does a failed change again (queued; the engine is told to replay).
pub async fn retry_action(store: Store, id: i64) -> Result<(), String> {
    blocking(move || store.retry_op(id).map_err(|e| e.to_string())).await
}

/// Forgets a failed change.
pub async fn dismiss_action(store: Store, id: i64) -> Result<(), String> {
    blocking(move || store.dismiss_op(id).map_err(|e| e.to_string())).await
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
/// Address completions for what is typed in To, Cc or Bcc.
pub async fn complete_address(
    store: Store,
    prefix: String,
) -> Result<Vec<crate::store::Contact>, String> {
    blocking(move || {
        store
            .complete_address(&prefix, 6)
            .map_err(|e| e.to_string())
    })
    .await
}

/// The outbox, oldest first.
pub async fn outbox(store: Store) -> Result<Vec<crate::store::OutboxRow>, String> {
    blocking(move || store.outbox(None).map_err(|e| e.to_string())).await
}

/// Queues an outbox message to be sent now (the engine is told to flush).
pub async fn outbox_retry(store: Store, id: i64) -> Result<(), String> {
    blocking(move || store.outbox_retry(id).map_err(|e| e.to_string())).await
}

/// Deletes an outbox message that is not being sent.
pub async fn outbox_drop(store: Store, id: i64) -> Result<(), String> {
    blocking(move || store.outbox_drop(id).map_err(|e| e.to_string())).await
}

/// Takes a message out of the outbox to edit it: its draft (Bcc from the envelope) for the
/// composer; it leaves the outbox in the same step, so it is never sent while being edited.
pub async fn outbox_edit(store: Store, id: i64) -> Result<Prefill, String> {
    blocking(move || {
        let row = store.outbox_row(id).map_err(|e| e.to_string())?;
        let raw = store.outbox_raw(id).map_err(|e| e.to_string())?;
        let draft = crate::mail::compose::reopen(&raw, &row.recipients)
            .ok_or_else(|| "this outbox message cannot be read back to edit it".to_owned())?;
        store.outbox_drop(id).map_err(|e| e.to_string())?;
        Ok(Prefill {
            account: row.account_id,
            draft,
            in_reply_to: row.in_reply_to_message,
            forwarded: row.forwarded_message,
        })
    })
    .await
}

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
            let target = store.folder(folder).map_err(|e| e.to_string())?;
            if target.account_id != row.account_id {
                return Err(format!(
                    "Messages move within their own account; {} belongs to another one.",
                    target.path
                ));
            }
            if target.id == row.folder_id {
                continue;
            }
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

/// The newest `limit` messages of a conversation (newest first) and how many it has.
pub async fn conversation_newest(
    store: Store,
    thread: i64,
    limit: usize,
) -> Result<(Vec<MessageRow>, usize), String> {
    blocking(move || {
        store
            .thread_newest(thread, limit)
            .map_err(|e| e.to_string())
    })
    .await
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

/// Saves an account's options from the settings screen, in one transaction; `reset_cache`
/// when the new incoming host or login is another mailbox (see `Store::change_account`).
pub async fn save_account_options(
    store: Store,
    options: super::settings::Options,
    sync_days: Option<i64>,
    checks: crate::account::settings::Pop3Options,
    reset_cache: bool,
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
        let mut settings = account.settings.clone();
        settings.display_name = options.display_name.trim().to_owned();
        settings.email = options.email.trim().to_owned();
        settings.login = options.login.trim().to_owned();
        settings.incoming = crate::account::ServerAddr::parse(options.incoming.trim())
            .map_err(|e| format!("Incoming server: {e}"))?;
        settings.incoming_security = options.incoming_security;
        settings.outgoing = crate::account::ServerAddr::parse(options.outgoing.trim())
            .map_err(|e| format!("Outgoing server: {e}"))?;
        settings.outgoing_security = options.outgoing_security;
        let optional = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
        settings.password_cmd = optional(&options.password_cmd);
        settings.ca_file = match optional(&options.ca_file) {
            Some(path) => {
                let path = std::path::PathBuf::from(path);
                let path = std::path::absolute(&path).unwrap_or(path);
                crate::engine::verify::check_ca_file(&path).map_err(|e| format!("CA file: {e}."))?;
                Some(path)
            }
            None => None,
        };
        settings.cert_sha256 = optional(&options.cert_sha256)
            .map(|fp| crate::account::settings::normalize_fingerprint(&fp))
            .transpose()
            .map_err(|e| format!("Pinned certificate: {e}"))?;
        settings.validate().map_err(|e| e.to_string())?;
        // POP3 accounts keep their retention options as they were typed; IMAP ones only
        // take the check interval.
        let checks = if account.settings.protocol == crate::account::Protocol::Pop3 {
            checks
        } else {
            crate::account::settings::Pop3Options {
                poll_seconds: checks.poll_seconds,
                ..account.pop3_options()
            }
        };
        let change = crate::store::AccountChange {
            reset_cache,
            signature: Some(&options.signature),
            server_saves_sent: Some(options.server_saves_sent),
            sync: Some((sync_days, options.download_bodies, account.download_days)),
            pop3: Some(&checks),
        };
        let dropped = store
            .change_account(account.id, &settings, &change)
            .map_err(|e| e.to_string())?;
        let mut notice = if dropped > 0 {
            format!(
                "Saved the settings of {}; the {dropped} cached messages of the old mailbox were dropped.",
                account.settings.name
            )
        } else {
            format!("Saved the settings of {}.", account.settings.name)
        };
        if settings.password_cmd.is_some() {
            // The password comes from the command now: the keyring entry is no longer used
            // (and a password typed beside the command is not kept).
            if account.settings.password_cmd.is_none() {
                let _ = crate::engine::forget_password(&store, &account);
            }
        } else if !options.password.expose().is_empty() {
            let secret = options.password;
            if credentials::save_to_keyring(&account, &secret).is_err() {
                // No keyring here: kept for this run (asked again at the next start).
                credentials::remember_for_session(&account, secret);
                notice.push_str(" No system keyring can keep the password here, so Tern keeps it only while it runs; a password command keeps it for good.");
            }
        }
        Ok(notice)
    })
    .await
}

/// What removing an account would lose, in words (None: nothing).
pub async fn removal_warning(store: Store, account: i64) -> Result<Option<String>, String> {
    blocking(move || crate::engine::removal_warning(&store, account).map_err(|e| e.to_string()))
        .await
}

/// Removes an account, everything cached for it, and its password in the OS keyring.
pub async fn remove_account(store: Store, account: i64) -> Result<String, String> {
    blocking(move || {
        let removed = store.account(account).map_err(|e| e.to_string())?;
        store.remove_account(account).map_err(|e| e.to_string())?;
        if let Err(e) = crate::engine::forget_password(&store, &removed) {
            return Ok(format!(
                "The account was removed, but its password may still be in the OS keyring: {e}"
            ));
        }
        Ok("The account was removed.".to_owned())
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
