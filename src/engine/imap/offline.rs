//! Download for offline reading: the whole source of every message in the account's window that
//! has none cached, newest first. One FETCH per batch (up to `BODY_BATCH` messages or
//! `BODY_BATCH_BYTES` by RFC822.SIZE, whichever comes first), and while the next batch comes in,
//! the last one is parsed for its text and written, in one cache transaction, on a blocking
//! thread: the network and the store each keep a core busy. At most two batches are held, each
//! of at most `BODY_BATCH_HELD` bytes as received (RFC822.SIZE is the server's word only; a
//! size of 0 counts as `UNKNOWN_SIZE`). After a batch had to drop bodies, the next asks for no
//! more messages than it kept, and the count grows back by doubling.
//!
//! A FETCH the server refuses (NO: one message it cannot serve) keeps what did arrive, and the
//! rest is asked for again in batches half the size, down to the one message, which is passed
//! over and reported (not marked: the next pass asks again): one bad message never holds back
//! the older ones. `REFUSED_IN_A_ROW` single messages refused with nothing received between
//! them end the folder's download for this pass: then the server refuses everything (a
//! bandwidth limit, an outage), and nothing is marked for it.

use std::collections::{HashMap, HashSet};

use imap_codec::imap_types::command::CommandBody;
use imap_codec::imap_types::fetch::MessageDataItemName;
use imap_codec::imap_types::response::StatusKind;
use imap_codec::imap_types::sequence::SequenceSet;
use tokio::task::JoinHandle;

use super::sync::{FolderSync, protocol_error, uid_set};
use crate::engine::EngineError;
use crate::mail::parse;
use crate::protocol::imap::fetch;
use crate::store::{BodyWanted, DownloadedBody, Store, StoreError};

/// Messages asked for per FETCH, at most.
pub const BODY_BATCH: usize = 500;

/// Bytes (by RFC822.SIZE) asked for per FETCH, at most (a larger message goes alone).
pub const BODY_BATCH_BYTES: i64 = 32 << 20;

/// Bytes of sources one batch holds, at most, counted as they arrive: a body past this (unless it
/// is the first) is dropped and asked for again in a later batch.
pub const BODY_BATCH_HELD: usize = 64 << 20;

/// Single messages refused in a row, with no body received between them, that end the
/// folder's download for the pass.
pub const REFUSED_IN_A_ROW: usize = 3;

/// What a message whose RFC822.SIZE is 0 (or missing) counts for in a batch's bytes.
pub const UNKNOWN_SIZE: i64 = 1 << 20;

/// What one FETCH of a batch brought.
#[derive(Debug, Default)]
struct Fetched {
    /// The sources by UID.
    bodies: HashMap<i64, Vec<u8>>,
    /// UIDs whose source came but was dropped to keep the batch under `BODY_BATCH_HELD`.
    deferred: HashSet<i64>,
    /// The server's words when it refused the FETCH (NO).
    refused: Option<String>,
}

/// A batch being parsed and written.
/// Its result: the messages whose text could not be read (kept whole, not indexed).
type Writing = JoinHandle<Result<Vec<i64>, StoreError>>;

impl FolderSync<'_> {
    /// Downloads whole messages for offline reading. A message the server sends no body for
    /// is marked unavailable (and reported), so it is not asked again every pass.
    pub(super) async fn download_bodies(&mut self) -> Result<(), EngineError> {
        let since = self
            .account
            .download_days
            .map(|days| crate::store::now_seconds() - days * 86_400);
        let mut after = None;
        let mut writing: Option<Writing> = None;
        let mut limit = BODY_BATCH;
        let mut refused_in_a_row = 0usize;
        loop {
            let mut wanted = self
                .store
                .bodies_wanted(self.folder.id, since, after, limit)?;
            let mut bytes = 0i64;
            let fits = wanted
                .iter()
                .position(|w| {
                    let size = if w.size > 0 { w.size } else { UNKNOWN_SIZE };
                    bytes = bytes.saturating_add(size);
                    bytes > BODY_BATCH_BYTES
                })
                .map_or(wanted.len(), |over| over.max(1));
            wanted.truncate(fits);
            let before = after;
            let Some(last) = wanted.last() else { break };
            after = Some((last.date, last.id));
            let fetched = match self.fetch_bodies(&wanted).await {
                Ok(fetched) => fetched,
                Err(e) => {
                    // The batch being written is still saved; its error would only repeat this.
                    let _ = finish(writing.take()).await;
                    return Err(e);
                }
            };
            let unreadable = finish(writing.take()).await?;
            self.note_unreadable(&unreadable);
            let Fetched {
                mut bodies,
                deferred,
                refused,
            } = fetched;
            // Asked again later (the next page starts before them; what is saved meanwhile is
            // no longer listed): bodies dropped for the memory bound, and, when the server
            // refused a batch of several, whatever it did not send.
            let again = |w: &BodyWanted| {
                deferred.contains(&w.uid)
                    || (refused.is_some() && wanted.len() > 1 && !bodies.contains_key(&w.uid))
            };
            if let Some(first) = wanted.iter().position(&again) {
                after = first
                    .checked_sub(1)
                    .and_then(|i| wanted.get(i))
                    .map(|w| (w.date, w.id))
                    .or(before);
            }
            let retry: HashSet<i64> = wanted.iter().filter(|w| again(w)).map(|w| w.uid).collect();
            limit = if !deferred.is_empty() {
                bodies.len().max(1)
            } else if !retry.is_empty() {
                (wanted.len() / 2).max(1)
            } else {
                limit.saturating_mul(2).min(BODY_BATCH)
            };
            if bodies.is_empty() && refused.is_some() && retry.is_empty() {
                refused_in_a_row += 1;
            } else if !bodies.is_empty() {
                refused_in_a_row = 0;
            }
            let mut batch: Vec<(i64, Option<Vec<u8>>)> = Vec::with_capacity(wanted.len());
            for w in wanted.iter().filter(|w| !retry.contains(&w.uid)) {
                let raw = bodies.remove(&w.uid);
                if raw.is_none() {
                    if let Some(text) = &refused {
                        // Passed over (the cursor is past it), not marked: asked again next pass.
                        self.report.set_aside(format!(
                            "{} UID {}: the server refused to send it ({text}); it is asked for again at the next sync",
                            self.folder.path, w.uid
                        ));
                        continue;
                    }
                    self.report.set_aside(format!(
                        "{} UID {}: the server sent no body",
                        self.folder.path, w.uid
                    ));
                }
                batch.push((w.id, raw));
            }
            if refused_in_a_row >= REFUSED_IN_A_ROW {
                // This batch was one refused message: there is nothing of it to save.
                return Err(protocol_error(format!(
                    "the server refused to send {REFUSED_IN_A_ROW} messages of {} in a row ({}); the download for offline reading goes on at the next sync",
                    self.folder.path,
                    refused.unwrap_or_default()
                ))
                .into());
            }
            let store = self.store.clone();
            let handle = tokio::task::spawn_blocking(move || save(&store, batch));
            if retry.is_empty() {
                writing = Some(handle);
            } else {
                // The next page is read from the store: this batch must be in it first.
                let unreadable = finish(Some(handle)).await?;
                self.note_unreadable(&unreadable);
            }
        }
        let unreadable = finish(writing).await?;
        self.note_unreadable(&unreadable);
        Ok(())
    }

    /// Reports messages whose source was saved but whose text the parser could not read.
    fn note_unreadable(&mut self, ids: &[i64]) {
        for id in ids {
            self.report.set_aside(format!(
                "{}: message {id} is saved whole but its text could not be read, so search \
                 does not find it by its body",
                self.folder.path
            ));
        }
    }

    /// One `UID FETCH (UID BODY.PEEK[])` for `wanted` (see `Fetched`). Only the UIDs asked
    /// for, once each, so a server cannot make a batch hold more than it asked. A BAD answer
    /// is an error: the command, not a message, is at fault.
    async fn fetch_bodies(&mut self, wanted: &[BodyWanted]) -> Result<Fetched, EngineError> {
        let mut uids: Vec<u32> = wanted
            .iter()
            .filter_map(|w| u32::try_from(w.uid).ok())
            .collect();
        uids.sort_unstable();
        let set = SequenceSet::try_from(uid_set(&uids).as_str())
            .map_err(|e| protocol_error(format!("cannot build a UID set: {e}")))?;
        let item = fetch::section_item("", None)
            .ok_or_else(|| protocol_error("cannot build BODY.PEEK[]"))?;
        let body = CommandBody::fetch(set, vec![MessageDataItemName::Uid, item], true)
            .map_err(|e| protocol_error(format!("cannot build FETCH: {e:?}")))?;
        let mut bodies: HashMap<i64, Vec<u8>> = HashMap::new();
        let mut deferred: HashSet<i64> = HashSet::new();
        let mut held = 0usize;
        let (_, status) = self
            .session
            .run_streaming(body, |data| {
                if let Some(f) = fetch::from_data(data)
                    && let Some(uid) = f.uid
                    && uids.binary_search(&uid).is_ok()
                    && !bodies.contains_key(&i64::from(uid))
                    && let Some((_, _, raw)) = f.sections.into_iter().find(|(s, ..)| s.is_empty())
                {
                    if held > 0 && held.saturating_add(raw.len()) > BODY_BATCH_HELD {
                        deferred.insert(i64::from(uid));
                    } else {
                        held = held.saturating_add(raw.len());
                        deferred.remove(&i64::from(uid));
                        bodies.insert(i64::from(uid), raw);
                    }
                }
            })
            .await?;
        let refused = match status.body.kind {
            StatusKind::Ok => None,
            StatusKind::No => Some(status.body.text.to_string()),
            StatusKind::Bad => {
                return Err(protocol_error(format!(
                    "FETCH BODY in {} failed: {}",
                    self.folder.path, status.body.text
                ))
                .into());
            }
        };
        Ok(Fetched {
            bodies,
            deferred,
            refused,
        })
    }
}

/// Parses each source for its text (for search and the preview line) and writes the batch.
fn save(store: &Store, batch: Vec<(i64, Option<Vec<u8>>)>) -> Result<Vec<i64>, StoreError> {
    let mut unreadable = Vec::new();
    let rows: Vec<DownloadedBody> = batch
        .into_iter()
        .map(|(id, raw)| {
            // A message the parser cannot take is kept whole, unindexed: one bad message never
            // stops the download.
            let text = raw.as_deref().and_then(|raw| {
                std::panic::catch_unwind(|| parse::body_text(raw)).unwrap_or_else(|_| {
                    unreadable.push(id);
                    None
                })
            });
            DownloadedBody { id, raw, text }
        })
        .collect();
    store.save_bodies(&rows)?;
    Ok(unreadable)
}

/// Waits for the batch being written, if any, and passes on its error.
async fn finish(writing: Option<Writing>) -> Result<Vec<i64>, EngineError> {
    let Some(handle) = writing else {
        return Ok(Vec::new());
    };
    match handle.await {
        Ok(result) => Ok(result?),
        Err(e) => Err(StoreError::Io {
            context: "Write downloaded messages".into(),
            source: std::io::Error::other(e.to_string()),
        }
        .into()),
    }
}
