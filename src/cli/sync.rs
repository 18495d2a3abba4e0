//! `tern sync`: per account, send the outbox, then one sync pass (IMAP: which also uploads the
//! Sent copies; POP3: download, then delete on the server what the account's options say);
//! progress on stderr, non-zero exit if anything failed.

use std::io::{IsTerminal as _, Write as _};

use anyhow::bail;

use crate::account::credentials::{self, CredentialError, Secret};
use crate::account::{Account, Protocol};
use crate::engine::{self, Event};
use crate::store::Store;

/// The account's password: from its password command, else from the OS keyring, else (on a
/// terminal) asked for.
pub(super) async fn password_for(account: &Account) -> Result<Secret, CredentialError> {
    match credentials::password_for(account).await {
        Err(CredentialError::NotInKeyring { .. } | CredentialError::Keyring(_))
            if account.settings.password_cmd.is_none()
                && std::io::stdin().is_terminal()
                && std::io::stderr().is_terminal() =>
        {
            prompt_password(account)
        }
        other => other,
    }
}

/// Asks for the password on the terminal (no echo) and offers to keep it in the keyring.
fn prompt_password(account: &Account) -> Result<Secret, CredentialError> {
    let s = &account.settings;
    let prompt = format!("Password for {} at {}: ", s.login, s.incoming.host);
    let password = rpassword::prompt_password(prompt).map_err(|e| {
        CredentialError::Keyring(format!("cannot read the password from the terminal: {e}"))
    })?;
    let secret = Secret::new(password);
    if let Err(e) = credentials::save_to_keyring(account, &secret) {
        eprintln!("tern: the password was not saved in the keyring ({e}); you will be asked again");
    }
    Ok(secret)
}

/// The password, asked on the terminal without echo, or one line of standard input when it is
/// not a terminal (for scripts).
pub(super) fn read_password(s: &crate::account::AccountSettings) -> anyhow::Result<String> {
    Ok(if std::io::stdin().is_terminal() {
        rpassword::prompt_password(format!("Password for {} at {}: ", s.login, s.incoming.host))?
    } else {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line)?;
        line.trim_end_matches(['\r', '\n']).to_owned()
    })
}

/// `tern account password N`: asks for the password (or reads one line from standard input
/// when it is not a terminal) and keeps it in the OS keyring.
pub(super) fn store_password(account: &Account) -> anyhow::Result<()> {
    let s = &account.settings;
    let password = read_password(s)?;
    if password.is_empty() {
        bail!("no password given; nothing was stored");
    }
    credentials::save_to_keyring(account, &Secret::new(password))?;
    eprintln!(
        "{}: the password is in the OS keyring (service tern, user {})",
        s.name,
        credentials::keyring_user(account)
    );
    Ok(())
}

pub(super) fn run(store: &Store, only: Option<&str>) -> anyhow::Result<()> {
    let accounts = match only {
        Some(name) => vec![store.find_account(name)?],
        None => store.accounts()?,
    };
    if accounts.is_empty() {
        bail!("there are no accounts to sync; add one with `tern account add`");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let mut failed = Vec::new();
    for account in &accounts {
        let name = account.settings.name.clone();
        let password = match runtime.block_on(password_for(account)) {
            Ok(password) => password,
            Err(err) => {
                eprintln!("tern: {name}: {err}");
                failed.push(name);
                continue;
            }
        };
        // The outbox goes first: sending is what the user waits for.
        let flushed = runtime.block_on(engine::send::flush_outbox(store, account, &password, true));
        match flushed {
            Ok(report) => {
                super::send::print_report(&name, &report);
                let earlier = store
                    .outbox(Some(account.id))?
                    .iter()
                    .filter(|r| {
                        matches!(r.state.as_str(), "failed" | "unknown")
                            && !report
                                .failed
                                .iter()
                                .chain(&report.unknown)
                                .any(|(id, _)| *id == r.id)
                    })
                    .count();
                if earlier > 0 {
                    let what = if earlier == 1 { "message" } else { "messages" };
                    eprintln!(
                        "{name}: {earlier} {what} in the outbox failed earlier; see `tern outbox`"
                    );
                }
                if !(report.failed.is_empty()
                    && report.deferred.is_empty()
                    && report.unknown.is_empty())
                {
                    failed.push(name.clone());
                }
            }
            Err(err) => {
                eprintln!("tern: {name}: cannot send the outbox: {err}");
                failed.push(name.clone());
            }
        }
        if account.settings.protocol == Protocol::Pop3 {
            if let Err(err) = runtime.block_on(sync_pop3(store, account, &password)) {
                eprintln!("\rtern: {name}: {err}");
                if !failed.contains(&name) {
                    failed.push(name);
                }
            }
            continue;
        }
        let result = runtime.block_on(async {
            let label = name.clone();
            let mut progress = move |event: Event| {
                if let Event::SyncProgress { done, total, .. } = event {
                    eprint!("\r{label}: {done} / {total} headers");
                    let _ = std::io::stderr().flush();
                }
            };
            engine::imap::sync_account(store, account, &password, &mut progress).await
        });
        match result {
            Ok(report) => {
                eprintln!(
                    "\r{name}: {} folders, {} new messages, {} flag changes, {} expunged",
                    report.folders, report.new_messages, report.flag_changes, report.expunged
                );
                for skipped in &report.skipped {
                    eprintln!("{name}: set aside: {skipped}");
                }
                if report.skipped_more > 0 {
                    eprintln!("{name}: set aside: {} more", report.skipped_more);
                }
                let failed_changes = store.failed_actions(Some(account.id))?.len();
                if failed_changes > 0 {
                    eprintln!(
                        "{name}: {failed_changes} change(s) did not reach the server; see `tern queue`"
                    );
                }
                for (folder, reason) in &report.failed_folders {
                    eprintln!("tern: {name}: folder {folder} was not synced: {reason}");
                }
                if !report.failed_folders.is_empty() {
                    failed.push(name.clone());
                }
            }
            Err(err) => {
                eprintln!("\rtern: {name}: {err}");
                if !failed.contains(&name) {
                    failed.push(name);
                }
            }
        }
    }
    failed.dedup();
    if !failed.is_empty() {
        bail!(
            "sync failed for {}; see the messages above",
            failed.join(", ")
        );
    }
    Ok(())
}

/// One POP3 pass for `tern sync`, with progress and a summary on stderr.
async fn sync_pop3(
    store: &Store,
    account: &Account,
    password: &Secret,
) -> Result<(), engine::EngineError> {
    let name = account.settings.name.clone();
    let label = name.clone();
    let mut progress = move |event: Event| {
        if let Event::SyncProgress { done, total, .. } = event {
            eprint!("\r{label}: {done} / {total} messages");
            let _ = std::io::stderr().flush();
        }
    };
    let report = engine::pop3::sync_account(store, account, password, &mut progress).await?;
    eprintln!(
        "\r{name}: {} on the server, {} new messages ({} headers only), {} deleted from the server",
        report.on_server, report.new_messages, report.headers_only, report.deleted_on_server
    );
    for note in &report.notes {
        eprintln!("{name}: {note}");
    }
    for skipped in &report.set_aside {
        eprintln!("{name}: set aside: {skipped}");
    }
    Ok(())
}
