//! Download for offline reading: the whole source of every message in the account's window that
//! has none cached, newest first. One FETCH per batch (up to `BODY_BATCH` messages or
//! `BODY_BATCH_BYTES` by RFC822.SIZE, whichever comes first), and while the next batch comes in,
//! the last one is parsed for its text and written, in one cache transaction, on a blocking
//! thread: the network and the store each keep a core busy. At most two batches are held.

use std::collections::HashMap;

use imap_codec::imap_types::command::CommandBody;
use imap_codec::imap_types::fetch::MessageDataItemName;
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

/// A batch being parsed and written.
type Writing = JoinHandle<Result<(), StoreError>>;

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
        loop {
            let mut wanted = self
                .store
                .bodies_wanted(self.folder.id, since, after, BODY_BATCH)?;
            let mut bytes = 0i64;
            let fits = wanted
                .iter()
                .position(|w| {
                    bytes = bytes.saturating_add(w.size.max(0));
                    bytes > BODY_BATCH_BYTES
                })
                .map_or(wanted.len(), |over| over.max(1));
            wanted.truncate(fits);
            let Some(last) = wanted.last() else { break };
            after = Some((last.date, last.id));
            let mut bodies = self.fetch_bodies(&wanted).await?;
            finish(writing.take()).await?;
            let batch: Vec<(i64, Option<Vec<u8>>)> = wanted
                .iter()
                .map(|w| (w.id, bodies.remove(&w.uid)))
                .collect();
            for (w, (_, raw)) in wanted.iter().zip(&batch) {
                if raw.is_none() {
                    self.report.skipped.push(format!(
                        "{} UID {}: the server sent no body",
                        self.folder.path, w.uid
                    ));
                }
            }
            let store = self.store.clone();
            writing = Some(tokio::task::spawn_blocking(move || save(&store, batch)));
        }
        finish(writing).await
    }

    /// One `UID FETCH (UID BODY.PEEK[])` for `wanted`; the sources by UID. Only the UIDs asked
    /// for, once each, so a server cannot make a batch hold more than it asked.
    async fn fetch_bodies(
        &mut self,
        wanted: &[BodyWanted],
    ) -> Result<HashMap<i64, Vec<u8>>, EngineError> {
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
        self.session
            .run_streaming_ok(
                &format!("FETCH BODY in {}", self.folder.path),
                body,
                |data| {
                    if let Some(f) = fetch::from_data(data)
                        && let Some(uid) = f.uid
                        && uids.binary_search(&uid).is_ok()
                        && !bodies.contains_key(&i64::from(uid))
                        && let Some((_, _, raw)) =
                            f.sections.into_iter().find(|(s, ..)| s.is_empty())
                    {
                        bodies.insert(i64::from(uid), raw);
                    }
                },
            )
            .await?;
        Ok(bodies)
    }
}

/// Parses each source for its text (for search and the preview line) and writes the batch.
fn save(store: &Store, batch: Vec<(i64, Option<Vec<u8>>)>) -> Result<(), StoreError> {
    let rows: Vec<DownloadedBody> = batch
        .into_iter()
        .map(|(id, raw)| {
            let text = raw.as_deref().and_then(parse::body_text);
            DownloadedBody { id, raw, text }
        })
        .collect();
    store.save_bodies(&rows)
}

/// Waits for the batch being written, if any, and passes on its error.
async fn finish(writing: Option<Writing>) -> Result<(), EngineError> {
    let Some(handle) = writing else {
        return Ok(());
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
