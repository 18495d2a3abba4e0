//! Messages this client adds to a folder itself (drafts, sent copies, imports): summarised with
//! `mail::parse`, stored at once, and queued for upload (IMAP APPEND) in the same transaction.

use crate::engine::EngineError;
use crate::mail::parse;
use crate::store::{NewMessage, Store};

/// A row for `raw` in `folder_id`, from its own headers, with the flag bits `flags`.
pub fn new_message_row(folder_id: i64, raw: &[u8], flags: i64) -> NewMessage {
    row_from_summary(folder_id, parse::summarize(raw), raw.len(), flags)
}

/// A row for a message of `size` bytes in `folder_id` from its `summary`.
pub fn row_from_summary(
    folder_id: i64,
    summary: parse::Summary,
    size: usize,
    flags: i64,
) -> NewMessage {
    let now = crate::store::now_seconds();
    NewMessage {
        folder_id,
        message_id: summary.message_id,
        in_reply_to: summary.in_reply_to,
        references: summary.references,
        subject: summary.subject,
        from_name: summary.from_name,
        from_addr: summary.from_addr,
        to: summary.to,
        cc: summary.cc,
        date: summary.date.unwrap_or(now),
        internal_date: Some(now),
        size: i64::try_from(size).unwrap_or(i64::MAX),
        flags,
        has_attachments: summary.has_attachments,
        preview: summary.preview,
        preview_known: true,
        ..NewMessage::default()
    }
}

/// Stores `raw` in `folder_id` now, with the flag bits `flags` (see `store::flag`), and queues its
/// upload to the server. Returns the new message's id. The summary never fails: a message
/// mail-parser cannot read is still kept whole.
pub fn queue_append(
    store: &Store,
    folder_id: i64,
    raw: &[u8],
    flags: i64,
) -> Result<i64, EngineError> {
    let folder = store.folder(folder_id)?;
    let message = new_message_row(folder_id, raw, flags);
    let text = parse::body_text(raw).unwrap_or_default();
    Ok(store.queue_append(folder.account_id, &message, raw, &text)?)
}

/// `dir/name`, or `dir/stem (n).ext` for the first n that does not exist yet.
pub fn free_path(dir: &std::path::Path, name: &str) -> std::path::PathBuf {
    let candidate = dir.join(name);
    if !candidate.exists() {
        return candidate;
    }
    let (stem, ext) = match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => (stem, format!(".{ext}")),
        _ => (name, String::new()),
    };
    (1..)
        .map(|n| dir.join(format!("{stem} ({n}){ext}")))
        .find(|p| !p.exists())
        .unwrap_or(candidate)
}

/// Saves `data` under `dir` with the sanitised `name`, never overwriting a file. Returns the path.
pub fn save_file(
    dir: &std::path::Path,
    name: &str,
    data: &[u8],
) -> std::io::Result<std::path::PathBuf> {
    use std::io::Write as _;
    std::fs::create_dir_all(dir)?;
    let path = free_path(dir, &crate::mail::attachment::sanitize_filename(name));
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)?;
    file.write_all(data)?;
    file.sync_all()?;
    Ok(path)
}
