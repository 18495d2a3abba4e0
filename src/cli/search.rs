//! `tern search`: the local full-text index (all accounts, one account, or one folder), and with
//! `--server` the IMAP server's own search of a folder, merged.

use anyhow::{Context as _, bail};

use super::output;
use crate::account::Protocol;
use crate::store::Store;

/// What `tern search` was asked.
#[derive(Debug)]
pub(super) struct Query {
    pub text: String,
    pub account: Option<String>,
    pub folder: Option<String>,
    pub server: bool,
    pub limit: usize,
}

pub(super) fn run(store: &Store, query: &Query, json: bool) -> anyhow::Result<()> {
    let account = match &query.account {
        Some(name) => Some(store.find_account(name)?),
        None if query.folder.is_some() || query.server => {
            let mut all = store.accounts()?;
            if all.len() != 1 {
                bail!("there are {} accounts; name one with --account", all.len());
            }
            all.pop()
        }
        None => None,
    };
    let folder = match (&account, &query.folder) {
        (Some(account), Some(path)) => Some(store.find_folder(account.id, path)?),
        (Some(account), None) if query.server => Some(store.find_folder(account.id, "INBOX")?),
        _ => None,
    };
    let mut rows = store.search_in(
        &query.text,
        account.as_ref().map(|a| a.id),
        folder.as_ref().map(|f| f.id),
        query.limit,
    )?;
    if query.server
        && let (Some(account), Some(folder)) = (&account, &folder)
    {
        if account.settings.protocol != Protocol::Imap {
            bail!(
                "--server searches an IMAP server; {} is a POP3 account",
                account.settings.name
            );
        }
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let password = runtime.block_on(super::sync::password_for(account))?;
        let found = runtime
            .block_on(crate::engine::imap::server_search(
                store,
                account,
                &password,
                folder.id,
                &query.text,
            ))
            .with_context(|| {
                format!(
                    "cannot search {} on {}",
                    folder.path, account.settings.incoming
                )
            })?;
        rows = crate::engine::imap::merge_results(rows, found, query.limit);
    }
    output::messages(store, &rows, json)
}
