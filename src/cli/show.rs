//! `tern show ID`: headers from the cache, the body from the cache or fetched on demand (only the
//! part needed to show it), or a clear message when offline and not cached.

use std::io::Write as _;

use anyhow::{Context as _, bail};

use super::output::{self, AttachmentJson};
use super::sync::password_for;
use crate::engine::imap;
use crate::mail::parse;
use crate::store::Store;

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
}

fn not_cached(id: i64, why: &str) -> String {
    format!(
        "the body of message {id} is not cached and {why}; run `tern show {id}` again while online"
    )
}

pub(super) fn run(
    store: &Store,
    id: i64,
    raw: bool,
    json: bool,
    offline: bool,
) -> anyhow::Result<()> {
    let message = store.message(id)?;
    let account = store.account(message.account_id)?;
    // Online, a body not cached is fetched (IMAP: the part; POP3: the rest of a message of
    // which only the headers were downloaded).
    let online = !offline;
    if raw {
        if store.raw_message(id)?.is_none() {
            if !online {
                bail!(not_cached(id, "--offline was given"));
            }
            let rt = runtime()?;
            let password = rt.block_on(password_for(&account))?;
            rt.block_on(imap::fetch_raw(store, &account, &password, id))
                .with_context(|| format!("cannot fetch message {id}"))?;
        }
        let source = store.raw_message(id)?.unwrap_or_default();
        std::io::stdout()
            .lock()
            .write_all(&source)
            .context("cannot write to standard output")?;
        return Ok(());
    }

    let mut problem = None;
    let text = match imap::cached_text(store, id, imap::Prefer::Text)? {
        Some(cached) => cached.text,
        None if !online => {
            problem = Some(not_cached(id, "--offline was given"));
            None
        }
        None => {
            let fetched = runtime().and_then(|rt| {
                let password = rt.block_on(password_for(&account))?;
                Ok(rt.block_on(imap::fetch_text(
                    store,
                    &account,
                    &password,
                    id,
                    imap::Prefer::Text,
                ))?)
            });
            match fetched {
                Ok(fetched) => fetched.text,
                Err(e) => {
                    problem = Some(not_cached(id, &format!("fetching it failed: {e:#}")));
                    None
                }
            }
        }
    };
    let attachments = match store.raw_message(id)? {
        Some(raw) => output::attachments(&raw),
        None => imap::cached_structure(store, id)?
            .map(|s| structure_attachments(&s))
            .unwrap_or_default(),
    };
    output::show(store, &message, text, attachments, json)?;
    match problem {
        Some(problem) => bail!(problem),
        None => Ok(()),
    }
}

/// Attachments as the structure describes them (sizes are decoded estimates for base64).
fn structure_attachments(structure: &imap::MimePart) -> Vec<AttachmentJson> {
    structure
        .leaves()
        .into_iter()
        .filter(|p| p.is_attachment())
        .map(|p| AttachmentJson {
            name: p
                .filename
                .as_deref()
                .map(parse::decode_filename)
                .unwrap_or_else(|| "unnamed".to_owned()),
            size: if p.encoding.as_deref() == Some("base64") {
                // 76 characters and CRLF per line, 4 characters per 3 bytes.
                p.size as usize / 78 * 76 / 4 * 3
            } else {
                p.size as usize
            },
            content_type: p.mime.clone(),
        })
        .collect()
}

/// `tern save ID [--dir DIR]`: writes the message's attachments into DIR under sanitised names,
/// never overwriting a file (a " (1)" suffix is added instead). Prints each path.
pub(super) fn save(
    store: &Store,
    id: i64,
    dir: &std::path::Path,
    offline: bool,
) -> anyhow::Result<()> {
    let message = store.message(id)?;
    let account = store.account(message.account_id)?;
    let rt = runtime()?;
    let cached_whole = store.raw_message(id)?.is_some();
    let password = if offline || cached_whole {
        None
    } else {
        Some(rt.block_on(password_for(&account))?)
    };
    let found = rt
        .block_on(imap::attachments(
            store,
            &account,
            password.as_ref(),
            id,
            &imap::Pick::All,
        ))
        .with_context(|| format!("cannot get the attachments of message {id}"))?;
    if found.is_empty() {
        bail!("message {id} has no attachments");
    }
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    for attachment in found {
        let path = crate::engine::local::free_path(
            dir,
            &crate::mail::attachment::sanitize_filename(&attachment.name),
        );
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .with_context(|| format!("cannot create {}", path.display()))?;
        file.write_all(&attachment.data)
            .with_context(|| format!("cannot write {}", path.display()))?;
        println!("{}", path.display());
    }
    Ok(())
}
