//! Sending: composing into the outbox, and flushing an account's outbox over SMTP submission.
//!
//! `queue_message` builds the message (`mail::compose`) and stores it in the outbox in one
//! transaction; nothing else has happened yet. `flush_outbox` then works through the account's
//! rows on one connection (see `store::outbox` for the states):
//!
//! - a row left in `sending` by a stop becomes `unknown` and is not resent;
//! - a row in `sent` (accepted, Sent copy missing) gets its Sent copy without being resent;
//! - due `queued` rows are sent: `sending` is recorded just before the final dot, `sent` right
//!   after the 250, then the Sent copy, \Answered/$Forwarded and the removal in one transaction.
//!   IMAP accounts queue the copy's APPEND (the next replay uploads it), unless the server saves
//!   sent mail itself; POP3 accounts keep it in a local Sent folder.
//! - Temporary failures are retried with backoff (1 min doubling to 1 h); permanent ones are
//!   marked failed with the server's reason; an outcome lost after the final dot is `unknown`.

use crate::account::credentials::Secret;
use crate::account::{Account, Protocol};
use crate::engine::EngineError;
use crate::engine::lease::Lease;
use crate::mail::compose::{self, Draft, Identity};
use crate::mail::folder::FolderRole;
use crate::mail::parse;
use crate::protocol::Endpoint;
use crate::protocol::smtp::{Envelope, SendError, SmtpClient};
use crate::protocol::tls::Trust;
use crate::protocol::{ErrorKind, ProtocolError};
use crate::store::{LeasePurpose, NewFolder, Outgoing, SentCopy, Store, flag, now_seconds};

/// Longest wait between attempts after temporary failures.
pub const MAX_RETRY_DELAY: i64 = 3600;

/// What one flush did, per outbox id.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct FlushReport {
    /// Accepted by the server: (outbox id, the server's reply).
    pub sent: Vec<(i64, String)>,
    /// Will be tried again later: (id, reason).
    pub deferred: Vec<(i64, String)>,
    /// Refused for good: (id, reason).
    pub failed: Vec<(i64, String)>,
    /// Outcome unknown, not resent: (id, reason).
    pub unknown: Vec<(i64, String)>,
    /// Sent copies stored (their upload is queued for IMAP accounts).
    pub sent_copies: usize,
    /// Things the user should know that are not failures (e.g. no Sent folder).
    pub warnings: Vec<String>,
    /// Another Tern process is sending this account's outbox; nothing was done here.
    pub busy: bool,
}

/// Where the account's submission server is.
pub fn smtp_endpoint(account: &Account) -> Endpoint {
    let s = &account.settings;
    Endpoint {
        host: s.outgoing.host.clone(),
        port: s.outgoing.port,
        security: s.outgoing_security,
        trust: Trust {
            ca_file: s.ca_file.clone(),
            pinned_sha256: s.cert_sha256.clone(),
        },
    }
}

/// The account's From identity.
pub fn identity(account: &Account) -> Identity {
    Identity {
        name: account.settings.display_name.clone(),
        address: account.settings.email.clone(),
    }
}

/// Builds `draft` as the account's message and puts it in the outbox. `in_reply_to` and
/// `forwarded` are the store ids of the originals (they get \Answered / $Forwarded once sent).
/// Returns the outbox id.
pub fn queue_message(
    store: &Store,
    account: &Account,
    draft: &Draft,
    in_reply_to: Option<i64>,
    forwarded: Option<i64>,
) -> Result<i64, EngineError> {
    let built = compose::build(&identity(account), draft, now_seconds())?;
    Ok(store.queue_outgoing(&Outgoing {
        account_id: account.id,
        raw: &built.raw,
        mail_from: &built.mail_from,
        recipients: &built.recipients,
        subject: &draft.subject,
        in_reply_to_message: in_reply_to,
        forwarded_message: forwarded,
    })?)
}

/// How soon to look at the outbox again while another Tern process is sending it.
pub const BUSY_RETRY: std::time::Duration = std::time::Duration::from_secs(15);

/// How long until the next queued outbox message is due (at most `limit`, at least 1 s).
pub fn until_next_send(
    store: &Store,
    account: &Account,
    limit: std::time::Duration,
) -> std::time::Duration {
    let now = crate::store::now_seconds();
    store
        .outbox_in_state(account.id, "queued", None)
        .ok()
        .and_then(|rows| rows.iter().map(|r| r.next_attempt_at).min())
        .map(|at| std::time::Duration::from_secs(u64::try_from(at - now).unwrap_or(0).max(1)))
        .map_or(limit, |due| due.min(limit))
}

/// The folder with `role` of an account, created locally when the account is POP3 (whose
/// folders are all local).
fn role_folder(
    store: &Store,
    account: &Account,
    role: FolderRole,
    name: &str,
) -> Result<Option<i64>, EngineError> {
    if let Some(folder) = store
        .folders(account.id)?
        .into_iter()
        .find(|f| f.role == Some(role))
    {
        return Ok(Some(folder.id));
    }
    if account.settings.protocol == Protocol::Pop3 {
        let id = store.upsert_folder(
            account.id,
            &NewFolder {
                path: name.to_owned(),
                server_path: name.to_owned(),
                delimiter: Some("/".to_owned()),
                role: Some(role),
                attributes: 0,
                subscribed: true,
            },
        )?;
        return Ok(Some(id));
    }
    Ok(None)
}

/// Where Sent copies go for this flush.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SentTarget {
    /// This folder.
    Folder(i64),
    /// Nowhere: the server files sent mail itself, or has no Sent folder.
    None,
    /// Not known yet (the folder list could not be read): accepted messages wait in `sent`.
    Unknown,
}

/// Finds (for IMAP, learning the folder list first if needed) where Sent copies go.
async fn sent_target(
    store: &Store,
    account: &Account,
    password: &Secret,
    report: &mut FlushReport,
) -> Result<SentTarget, EngineError> {
    let imap = account.settings.protocol == Protocol::Imap;
    if imap && account.server_saves_sent {
        return Ok(SentTarget::None);
    }
    if let Some(id) = role_folder(store, account, FolderRole::Sent, "Sent")? {
        return Ok(SentTarget::Folder(id));
    }
    // IMAP, never synced: learn the folders so the copy has somewhere to go.
    if let Err(e) = super::imap::refresh_folders(store, account, password).await {
        report.warnings.push(format!(
            "cannot read the folder list to file the Sent copy ({e}); it is filed later"
        ));
        return Ok(SentTarget::Unknown);
    }
    match role_folder(store, account, FolderRole::Sent, "Sent")? {
        Some(id) => Ok(SentTarget::Folder(id)),
        None => {
            report.warnings.push(
                "the server has no Sent folder (none is marked \\Sent); sent messages are not copied"
                    .to_owned(),
            );
            Ok(SentTarget::None)
        }
    }
}

/// Files the Sent copy of outbox message `id` and completes it (it waits while the target is
/// unknown).
fn finish(
    store: &Store,
    account: &Account,
    id: i64,
    target: SentTarget,
    report: &mut FlushReport,
) -> Result<(), EngineError> {
    let imap = account.settings.protocol == Protocol::Imap;
    let copy = match target {
        SentTarget::Unknown => return Ok(()),
        SentTarget::None => None,
        SentTarget::Folder(folder) => {
            // One copy of the source is held; each parse of it is dropped before the next.
            let raw = store.outbox_raw(id)?;
            Some(SentCopy {
                message: super::local::new_message_row(folder, &raw, flag::SEEN),
                body_text: parse::body_text(&raw).unwrap_or_default(),
                raw,
                upload: imap,
            })
        }
    };
    store.outbox_finish(id, copy.as_ref(), imap)?;
    if copy.is_some() {
        report.sent_copies += 1;
    }
    Ok(())
}

/// Delay before attempt number `attempts + 1` after a temporary failure.
pub fn retry_delay(attempts: i64) -> i64 {
    let shift = u32::try_from(attempts.clamp(0, 6)).unwrap_or(6);
    (60_i64 << shift).min(MAX_RETRY_DELAY)
}

/// Sends the account's due messages (all queued ones when `force`, as for an explicit
/// "send now") on one connection. Connection and login failures are returned after the due
/// messages have been deferred; failures of single messages are in the report.
///
/// Only one process at a time works an account's outbox: the flush holds the account's lease
/// (renewed before each message) and every state change is a compare-and-set, so the window
/// and `tern sync` on one data directory never send a message twice. When another process
/// holds the lease, nothing is done and the report says `busy`.
pub async fn flush_outbox(
    store: &Store,
    account: &Account,
    password: &Secret,
    force: bool,
) -> Result<FlushReport, EngineError> {
    let now = now_seconds();
    let anything = |state: &str, due: Option<i64>| -> Result<bool, EngineError> {
        Ok(!store.outbox_in_state(account.id, state, due)?.is_empty())
    };
    if !(anything("sending", None)?
        || anything("sent", None)?
        || anything("queued", (!force).then_some(now))?)
    {
        return Ok(FlushReport::default());
    }
    let Some(lease) = Lease::take(store, account.id, LeasePurpose::Outbox)? else {
        return Ok(FlushReport {
            busy: true,
            ..FlushReport::default()
        });
    };
    // The lease is renewed in the background while this runs, and released when it ends.
    flush_leased(store, account, password, force, &lease).await
}

async fn flush_leased(
    store: &Store,
    account: &Account,
    password: &Secret,
    force: bool,
    lease: &Lease,
) -> Result<FlushReport, EngineError> {
    let mut report = FlushReport::default();
    // Under the lease, a row still `sending` belongs to a process that stopped mid-send.
    store.outbox_mark_interrupted(account.id)?;
    let accepted = store.outbox_in_state(account.id, "sent", None)?;
    let now = now_seconds();
    let due = store.outbox_in_state(account.id, "queued", (!force).then_some(now))?;
    if accepted.is_empty() && due.is_empty() {
        return Ok(report);
    }
    let target = sent_target(store, account, password, &mut report).await?;
    for row in accepted {
        finish(store, account, row.id, target, &mut report)?;
    }
    if due.is_empty() {
        return Ok(report);
    }
    let endpoint = smtp_endpoint(account);
    let mut client: Option<SmtpClient> = None;
    for (index, row) in due.iter().enumerate() {
        if !client.as_ref().is_some_and(SmtpClient::is_usable) {
            match connect(&endpoint, account, password).await {
                Ok(c) => client = Some(c),
                Err(e) => {
                    // Nothing of the rest can go now: all wait for the next attempt.
                    for rest in due.iter().skip(index) {
                        let at = now + retry_delay(rest.attempts);
                        store.outbox_defer(rest.id, &e.to_string(), at)?;
                        report.deferred.push((rest.id, e.to_string()));
                    }
                    return Err(e.into());
                }
            }
        }
        let Some(smtp) = client.as_mut() else {
            continue;
        };
        if !lease.renew()? {
            // Lost to another process (this one stalled past the lease): it sends the rest.
            report.busy = true;
            break;
        }
        let raw = store.outbox_raw(row.id)?;
        let envelope = Envelope {
            from: row.mail_from.clone(),
            to: row.recipients.clone(),
        };
        let mut taken = false;
        let outcome = smtp
            .send(&envelope, &raw, || {
                store
                    .outbox_set_sending(row.id, &lease.holder)
                    .map_err(|e| {
                        // Not queued any more, or the lease is gone: someone else has it.
                        taken = true;
                        e.to_string()
                    })
            })
            .await;
        // The Sent copy reads the source again: only one copy is held at a time.
        drop(raw);
        if taken {
            // Nothing went out for it here, and its state is another process's to change.
            continue;
        }
        match outcome {
            Ok(reply) => {
                // Recorded first and on its own: an accepted message is never sent again.
                store.outbox_set_sent(row.id)?;
                finish(store, account, row.id, target, &mut report)?;
                report.sent.push((row.id, reply));
            }
            Err(SendError::Temporary(e)) => {
                let at = now_seconds() + retry_delay(row.attempts);
                store.outbox_defer(row.id, &e.to_string(), at)?;
                report.deferred.push((row.id, e.to_string()));
            }
            Err(SendError::Permanent(e)) => {
                store.outbox_fail(row.id, "failed", &e.to_string())?;
                report.failed.push((row.id, e.to_string()));
            }
            Err(SendError::Unknown(e)) => {
                store.outbox_fail(row.id, "unknown", &e.to_string())?;
                report.unknown.push((row.id, e.to_string()));
            }
        }
    }
    if let Some(smtp) = client {
        smtp.quit().await;
    }
    Ok(report)
}

async fn connect(
    endpoint: &Endpoint,
    account: &Account,
    password: &Secret,
) -> Result<SmtpClient, ProtocolError> {
    let mut client = SmtpClient::connect(endpoint).await?;
    client.login(&account.settings.login, password).await?;
    Ok(client)
}

/// Saves a draft: stored in the Drafts folder at once (uploaded by the next replay for IMAP
/// accounts), replacing `replaces` (an earlier copy of the same draft) if given. Returns the
/// draft's message id.
pub fn save_draft(
    store: &Store,
    account: &Account,
    draft: &Draft,
    replaces: Option<i64>,
) -> Result<i64, EngineError> {
    let mut draft = draft.clone();
    if draft.to.is_empty() && draft.cc.is_empty() && draft.bcc.is_empty() {
        // A draft may have no recipient yet; the message still needs a valid header.
        draft.to = vec![account.settings.email.clone()];
    }
    let built = compose::build(&identity(account), &draft, now_seconds())?;
    let Some(folder) = role_folder(store, account, FolderRole::Drafts, "Drafts")? else {
        return Err(EngineError::Protocol(ProtocolError::new(
            ErrorKind::Protocol,
            format!(
                "account {} has no Drafts folder; run `tern sync` or create one",
                account.settings.name
            ),
        )));
    };
    let imap = account.settings.protocol == Protocol::Imap;
    let flags = flag::SEEN | flag::DRAFT;
    let id = if imap {
        super::local::queue_append(store, folder, &built.raw, flags)?
    } else {
        store.store_local(
            account.id,
            &super::local::new_message_row(folder, &built.raw, flags),
            &built.raw,
            &parse::body_text(&built.raw).unwrap_or_default(),
        )?
    };
    if let Some(old) = replaces {
        if imap {
            store.queue_expunge(old)?;
        } else {
            store.delete_local(old)?;
        }
    }
    Ok(id)
}
