//! `tern send` and `tern outbox`: compose into the outbox, then flush it (unless `--queue`);
//! list, retry or drop outbox messages.

use std::io::{IsTerminal as _, Read as _};
use std::path::Path;

use anyhow::{Context as _, bail};

use super::{OutboxCommand, SendArgs};
use crate::account::{Account, Protocol};
use crate::engine::send::{self, FlushReport};
use crate::mail::compose::{Attachment, Draft, content_type_for};
use crate::mail::reply;
use crate::store::Store;

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?)
}

/// The raw source of message `id`, from the cache or fetched from the server.
fn original(store: &Store, id: i64) -> anyhow::Result<(Account, Vec<u8>)> {
    let message = store.message(id)?;
    let account = store.account(message.account_id)?;
    if let Some(raw) = store.raw_message(id)? {
        return Ok((account, raw));
    }
    if account.settings.protocol != Protocol::Imap {
        bail!("the source of message {id} is not cached");
    }
    let raw = runtime()?
        .block_on(async {
            let password = super::sync::password_for(&account).await?;
            crate::engine::imap::raw_source(store, &account, &password, id).await
        })
        .with_context(|| format!("cannot fetch message {id} to reply to or forward it"))?;
    Ok((account, raw))
}

fn attachment(path: &Path) -> anyhow::Result<Attachment> {
    let data = std::fs::read(path)
        .with_context(|| format!("cannot read the attachment {}", path.display()))?;
    let filename = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .with_context(|| format!("{} is not a file name", path.display()))?;
    Ok(Attachment {
        content_type: content_type_for(&filename),
        filename,
        data,
    })
}

/// The body typed on standard input (a hint is shown on a terminal).
fn body_from_stdin() -> anyhow::Result<String> {
    let mut stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprintln!("Type the message; end it with Ctrl-D on a line of its own.");
    }
    let mut text = String::new();
    stdin
        .read_to_string(&mut text)
        .context("cannot read the message body from standard input (it must be UTF-8 text)")?;
    Ok(text)
}

pub(super) fn send(store: &Store, args: &SendArgs) -> anyhow::Result<()> {
    let account = store.find_account(&args.account)?;
    let own: Vec<String> = store
        .accounts()?
        .into_iter()
        .map(|a| a.settings.email)
        .collect();
    let (mut draft, in_reply_to, forwarded) =
        match (args.reply_to_id, args.reply_all_to_id, args.forward_id) {
            (Some(id), _, _) | (_, Some(id), _) => {
                let all = args.reply_all_to_id.is_some();
                let (_, raw) = original(store, id)?;
                let draft = reply::reply(&raw, &own, all)
                    .with_context(|| format!("message {id} cannot be read to reply to it"))?;
                (draft, Some(id), None)
            }
            (_, _, Some(id)) => {
                let (_, raw) = original(store, id)?;
                let draft = reply::forward(&raw, args.as_attachment)
                    .with_context(|| format!("message {id} cannot be read to forward it"))?;
                (draft, None, Some(id))
            }
            _ => (Draft::default(), None, None),
        };
    let mut text = body_from_stdin()?;
    if !account.signature.is_empty() {
        text = format!("{}\n\n-- \n{}\n", text.trim_end(), account.signature);
    }
    // What the user wrote goes above the quote or the forwarded message.
    draft.text = format!("{text}{}", draft.text);
    draft.to.extend(args.to.iter().cloned());
    draft.cc.extend(args.cc.iter().cloned());
    draft.bcc.extend(args.bcc.iter().cloned());
    draft.reply_to.extend(args.reply_to_header.iter().cloned());
    if let Some(subject) = &args.subject {
        draft.subject = subject.clone();
    } else if in_reply_to.is_none() && forwarded.is_none() {
        bail!("give the subject with --subject");
    }
    if let Some(path) = &args.html {
        draft.html = Some(
            std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the HTML body {}", path.display()))?,
        );
    }
    for path in &args.attach {
        draft.attachments.push(attachment(path)?);
    }

    if args.draft {
        let knows_drafts = store
            .folders(account.id)?
            .iter()
            .any(|f| f.role == Some(crate::mail::folder::FolderRole::Drafts));
        if account.settings.protocol == Protocol::Imap && !knows_drafts {
            // Not synced yet: learn the folders, so the draft has somewhere to go.
            runtime()?.block_on(async {
                let password = super::sync::password_for(&account).await?;
                crate::engine::imap::refresh_folders(store, &account, &password)
                    .await
                    .map_err(anyhow::Error::from)
            })?;
        }
        let id = send::save_draft(store, &account, &draft, args.replace_draft)?;
        println!("{id}");
        eprintln!("saved the draft as message {id}");
        if !args.queue && account.settings.protocol == Protocol::Imap {
            upload(store, &account);
        }
        return Ok(());
    }
    let id = send::queue_message(store, &account, &draft, in_reply_to, forwarded)?;
    // The outbox has it now: the attachments' bytes need not stay in memory while it is sent.
    drop(draft);
    if args.queue {
        eprintln!("queued as outbox message {id}; the next `tern sync` sends it");
        return Ok(());
    }
    flush_and_report(store, &account, Some(id))
}

/// How long `tern send` waits while another Tern process sends the account's outbox.
const BUSY_WAIT: std::time::Duration = std::time::Duration::from_secs(120);

/// Flushes the account's outbox now; with `wanted`, succeeds only if that message went out.
fn flush_and_report(store: &Store, account: &Account, wanted: Option<i64>) -> anyhow::Result<()> {
    let rt = runtime()?;
    let result = rt.block_on(async {
        let password = super::sync::password_for(account).await?;
        // While another Tern process (the window) sends this outbox, wait for it to finish, then
        // send what is left here; a message it sent is gone from the outbox.
        let deadline = std::time::Instant::now() + BUSY_WAIT;
        loop {
            let report = send::flush_outbox(store, account, &password, true).await?;
            if !report.busy || std::time::Instant::now() > deadline {
                return anyhow::Ok(report);
            }
            if let Some(id) = wanted
                && store.outbox_row(id).is_err()
            {
                return anyhow::Ok(send::FlushReport {
                    sent: vec![(id, "sent by another Tern process".to_owned())],
                    ..report
                });
            }
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        }
    });
    let report = match result {
        Ok(report) => report,
        Err(e) => {
            bail!(
                "{e}; the message stays in the outbox (`tern outbox`) and the next `tern sync` tries again"
            )
        }
    };
    print_report(&account.settings.name, &report);
    // The Sent copy and \Answered/$Forwarded on the original go to the server now.
    if account.settings.protocol == Protocol::Imap && !store.pending_ops(account.id)?.is_empty() {
        upload(store, account);
    }
    let Some(wanted) = wanted else {
        return Ok(());
    };
    if report.sent.iter().any(|(id, _)| *id == wanted) {
        return Ok(());
    }
    let reason = report
        .deferred
        .iter()
        .chain(&report.failed)
        .chain(&report.unknown)
        .find(|(id, _)| *id == wanted)
        .map(|(_, reason)| reason.clone())
        .unwrap_or_else(|| "it was not sent".to_owned());
    bail!("outbox message {wanted} was not sent: {reason}")
}

/// Uploads queued copies (Sent, Drafts) now; a failure is only a warning, the next sync retries.
fn upload(store: &Store, account: &Account) {
    let result = runtime().map_err(|e| e.to_string()).and_then(|rt| {
        rt.block_on(async {
            let password = super::sync::password_for(account)
                .await
                .map_err(|e| e.to_string())?;
            crate::engine::imap::replay_account(store, account, &password)
                .await
                .map_err(|e| e.to_string())
        })
    });
    if let Err(e) = result {
        eprintln!(
            "tern: {}: the copy is kept here and will be uploaded by the next `tern sync`: {e}",
            account.settings.name
        );
    }
}

pub(super) fn print_report(name: &str, report: &FlushReport) {
    for (id, reply) in &report.sent {
        eprintln!("{name}: sent outbox message {id} ({reply})");
    }
    for (id, reason) in &report.deferred {
        eprintln!("{name}: outbox message {id} will be tried again: {reason}");
    }
    for (id, reason) in &report.failed {
        eprintln!("{name}: outbox message {id} failed: {reason}");
    }
    for (id, reason) in &report.unknown {
        eprintln!("{name}: outbox message {id} may or may not have been sent: {reason}");
    }
    for warning in &report.warnings {
        eprintln!("{name}: {warning}");
    }
    if report.busy {
        eprintln!("{name}: another Tern process is sending this account's outbox");
    }
}

pub(super) fn outbox(
    store: &Store,
    action: Option<OutboxCommand>,
    account: Option<&str>,
    json: bool,
) -> anyhow::Result<()> {
    match action {
        None => {
            let rows = store.outbox(super::account_id(store, account)?)?;
            if json {
                return super::output::print_json(&rows);
            }
            for row in rows {
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}",
                    row.id,
                    row.state,
                    super::output::safe(&row.recipients.join(", ")),
                    super::output::safe(&row.subject),
                    row.attempts,
                    super::output::safe(&row.error.unwrap_or_default())
                );
            }
            Ok(())
        }
        Some(OutboxCommand::Drop { id }) => {
            store.outbox_drop(id)?;
            eprintln!("removed outbox message {id}");
            Ok(())
        }
        Some(OutboxCommand::Retry { id, queue }) => {
            let row = store.outbox_row(id)?;
            store.outbox_retry(id)?;
            if queue {
                eprintln!("outbox message {id} is queued again; the next `tern sync` sends it");
                return Ok(());
            }
            let account = store.account(row.account_id)?;
            flush_and_report(store, &account, Some(id))
        }
    }
}
