//! `tern flag|move|delete`: change the cache at once and queue the action; without `--offline`
//! the account is then synced, which replays the queue first.

use anyhow::bail;

use crate::store::Store;

/// Parses `+seen`, `-flagged`, `+$Label` into (add, remove) IMAP flag names.
pub(super) fn parse_flag_changes(changes: &[String]) -> anyhow::Result<(Vec<String>, Vec<String>)> {
    let mut add = Vec::new();
    let mut remove = Vec::new();
    for change in changes {
        let (list, name) = match (change.strip_prefix('+'), change.strip_prefix('-')) {
            (Some(name), _) => (&mut add, name),
            (_, Some(name)) => (&mut remove, name),
            _ => bail!(
                "bad flag change {change:?}: write +seen, -seen, +flagged, +answered, +deleted, +draft or +KEYWORD"
            ),
        };
        let imap = match name.to_ascii_lowercase().as_str() {
            "seen" | "read" => "\\Seen".to_owned(),
            "flagged" | "star" | "starred" => "\\Flagged".to_owned(),
            "answered" | "replied" => "\\Answered".to_owned(),
            "deleted" => "\\Deleted".to_owned(),
            "draft" => "\\Draft".to_owned(),
            "forwarded" => "$Forwarded".to_owned(),
            _ if !name.is_empty()
                && !name.starts_with(['\\', '-', '+'])
                && name
                    .chars()
                    .all(|c| c.is_ascii_graphic() && !"(){%*\"\\]".contains(c)) =>
            {
                name.to_owned()
            }
            _ => bail!("bad flag {name:?}: a keyword is letters, digits and $-_. without spaces"),
        };
        list.push(imap);
    }
    if add.is_empty() && remove.is_empty() {
        bail!("no flag change given: write e.g. `tern flag 12 +seen -flagged`");
    }
    Ok((add, remove))
}

fn account_name(store: &Store, message_id: i64) -> anyhow::Result<String> {
    let message = store.message(message_id)?;
    Ok(store.account(message.account_id)?.settings.name)
}

fn after_queue(store: &Store, account: &str, offline: bool, what: &str) -> anyhow::Result<()> {
    let found = store.find_account(account)?;
    if found.settings.protocol == crate::account::Protocol::Pop3 {
        // Local folders: done. A deletion reaches the server at the next check, when the
        // account deletes there what is deleted here.
        eprintln!("{what}");
        return Ok(());
    }
    if offline {
        eprintln!("{what}; queued for {account}'s server (the next `tern sync` sends it)");
        return Ok(());
    }
    eprintln!("{what}");
    super::sync::run(store, Some(account))
}

pub(super) fn flag(
    store: &Store,
    id: i64,
    changes: &[String],
    offline: bool,
) -> anyhow::Result<()> {
    // `-seen` needs clap's hyphen values, which also swallow a trailing `--offline`.
    let offline = offline || changes.iter().any(|c| c == "--offline");
    let changes: Vec<String> = changes
        .iter()
        .filter(|c| *c != "--offline")
        .cloned()
        .collect();
    let (add, remove) = parse_flag_changes(&changes)?;
    let account = account_name(store, id)?;
    store.queue_flags(id, &add, &remove)?;
    after_queue(
        store,
        &account,
        offline,
        &format!("changed the flags of message {id}"),
    )
}

pub(super) fn move_to(store: &Store, id: i64, folder: &str, offline: bool) -> anyhow::Result<()> {
    let message = store.message(id)?;
    let account = account_name(store, id)?;
    let target = store.find_folder(message.account_id, folder)?;
    store.queue_move(id, target.id)?;
    after_queue(
        store,
        &account,
        offline,
        &format!("moved message {id} to {}", target.path),
    )
}

pub(super) fn copy_to(store: &Store, id: i64, folder: &str, offline: bool) -> anyhow::Result<()> {
    let message = store.message(id)?;
    let account = account_name(store, id)?;
    let target = store.find_folder(message.account_id, folder)?;
    let copy = store.queue_copy(id, target.id)?;
    after_queue(
        store,
        &account,
        offline,
        &format!("copied message {id} to {} as message {copy}", target.path),
    )
}

pub(super) fn delete(store: &Store, id: i64, offline: bool) -> anyhow::Result<()> {
    let account = account_name(store, id)?;
    let to_trash = store.queue_delete(id)?;
    let what = if to_trash {
        format!("moved message {id} to Trash")
    } else {
        format!("deleted message {id}")
    };
    let found = store.find_account(&account)?;
    if found.settings.protocol == crate::account::Protocol::Pop3
        && !offline
        && (found.pop3_delete_when_deleted || !found.pop3_leave_on_server)
    {
        // The account deletes on the server what is deleted here: do it now.
        eprintln!("{what}");
        return super::sync::run(store, Some(&account));
    }
    after_queue(store, &account, offline, &what)
}

/// `tern folder ...`: applies the change on the server (online only) and refreshes the list.
pub(super) fn folder(store: &Store, command: super::FolderCommand) -> anyhow::Result<()> {
    use super::FolderCommand as F;
    use crate::engine::imap::FolderAction as A;
    let (name, action) = match command {
        F::Create { account, path } => (account, A::Create(path)),
        F::Rename {
            account,
            path,
            new_path,
        } => (account, A::Rename(path, new_path)),
        F::Delete { account, path, yes } => {
            let found = store.find_account(&account)?;
            if !yes
                && let Some(why) =
                    crate::engine::imap::delete_needs_confirmation(store, &found, &path)?
            {
                bail!("not deleted: {why}; add --yes to delete it anyway");
            }
            (account, A::Delete(path))
        }
        F::Subscribe { account, path } => (account, A::Subscribe(path)),
        F::Unsubscribe { account, path } => (account, A::Unsubscribe(path)),
    };
    let account = store.find_account(&name)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        // A POP3 account's folders are local: no password, no server.
        let password = if account.settings.protocol == crate::account::Protocol::Pop3 {
            crate::account::credentials::Secret::new(String::new())
        } else {
            super::sync::password_for(&account).await?
        };
        crate::engine::imap::manage_folder(store, &account, &password, &action).await?;
        anyhow::Ok(())
    })?;
    let done = match &action {
        A::Create(path) => format!("created {path}"),
        A::Rename(from, to) => format!("renamed {from} to {to}"),
        A::Delete(path) => format!("deleted {path}"),
        A::Subscribe(path) => format!("subscribed to {path}"),
        A::Unsubscribe(path) => format!("unsubscribed from {path}"),
    };
    eprintln!("{name}: {done}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::parse_flag_changes;

    #[test]
    fn flag_changes_parse_and_reject_bad_names() {
        let changes: Vec<String> = ["+seen", "-Flagged", "+$Todo"]
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        let (add, remove) = parse_flag_changes(&changes).unwrap_or_default();
        assert_eq!(add, vec!["\\Seen".to_owned(), "$Todo".to_owned()]);
        assert_eq!(remove, vec!["\\Flagged".to_owned()]);
        for bad in ["seen", "+", "+a b", "--offline", "+\\Recent", "+(x"] {
            assert!(parse_flag_changes(&[bad.to_owned()]).is_err(), "{bad}");
        }
    }
}
