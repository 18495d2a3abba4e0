//! Header sync for one folder: new mail (UIDs from the UIDNEXT of the last complete pass), the
//! exact difference between the server's UID list and the cache (newest first, one transaction
//! per batch), and recovery of messages whose FETCH answer could not be parsed.
//!
//! Recovery: a UID the server did not answer for (its response was set aside as unparseable) is
//! asked again without BODYSTRUCTURE (the item most often malformed); if that fails too, with only
//! UID, size and date, and stored as a placeholder row the user can still open (the source is
//! fetched whole). A UID that does not answer even that was expunged meanwhile.

use std::collections::HashMap;

use imap_codec::imap_types::command::CommandBody;
use imap_codec::imap_types::core::Vec1;
use imap_codec::imap_types::fetch::MessageDataItemName;
use imap_codec::imap_types::response::Data;
use imap_codec::imap_types::search::SearchKey;
use imap_codec::imap_types::sequence::SequenceSet;

use super::sync::{BATCH, FolderSync, protocol_error, since_date, uid_set};
use crate::engine::{EngineError, Event, Kind};
use crate::mail::parse;
use crate::protocol::imap::PreviewItem;
use crate::protocol::imap::fetch::{self, Fetched};
use crate::store::{NewMessage, flag};

/// Subject of a placeholder row for a message whose description could not be read.
pub const UNREADABLE_SUBJECT: &str = "(unreadable message: open it to fetch its source)";

impl FolderSync<'_> {
    /// The search key for the messages Tern mirrors: not marked \Deleted (a message marked
    /// \Deleted counts as gone, see ARCHITECTURE.md), within the account's sync window
    /// (`--sync-days`) if it has one.
    fn window(&self) -> SearchKey<'static> {
        match self.account.sync_days.and_then(since_date) {
            Some(since) => and(SearchKey::Undeleted, SearchKey::Since(since)),
            None => SearchKey::Undeleted,
        }
    }

    /// Fetches the headers of every message whose UID is `first` or above: new mail, where
    /// `first` is the UIDNEXT the server reported at the end of the last complete pass. What is
    /// new is decided by what the server said, never by what happens to be cached, so a UID
    /// that Tern itself put into the cache out of order (a move, an upload, a server search)
    /// cannot hide another client's message below it.
    pub(super) async fn fetch_new(&mut self, first: u32) -> Result<(), EngineError> {
        let range = parse_set(&format!("{first}:*"))?;
        let key = and(self.window(), SearchKey::Uid(range));
        // "n:*" always includes the last message, even when it is older than n.
        let mut uids: Vec<u32> = self
            .search(key)
            .await?
            .into_iter()
            .filter(|uid| *uid >= first)
            .collect();
        if let Some(next) = self.uidnext_at_select {
            self.arrived_since_select +=
                uids.iter().filter(|u| i64::from(**u) >= next).count() as i64;
        }
        // Already cached (Tern's own upload or move, a server search): nothing to fetch.
        let cached = self.store.cached_uids(self.folder.id, &uids)?;
        uids.retain(|uid| !cached.contains(&i64::from(*uid)));
        uids.sort_unstable_by(|a, b| b.cmp(a));
        self.fetch_headers(&uids).await
    }

    /// Fetches headers of every UID on the server (in the sync window) that the cache lacks,
    /// newest first, one transaction per batch. The UIDs to fetch are the exact difference
    /// between the server's list and the cache, so a pass cut off anywhere, or a cache with
    /// UIDs inserted out of order, resumes without losing or refetching a message.
    pub(super) async fn fetch_missing_headers(&mut self) -> Result<(), EngineError> {
        let mut server_uids = self.search(self.window()).await?;
        server_uids.sort_unstable();
        server_uids.dedup();
        let mut missing = self.store.uncached_uids(self.folder.id, &server_uids)?;
        missing.reverse();
        self.fetch_headers(&missing).await
    }

    /// Fetches and stores the headers of `uids` (newest first), in batches of `BATCH`, each
    /// one transaction, reporting progress.
    async fn fetch_headers(&mut self, uids: &[u32]) -> Result<(), EngineError> {
        let folder = self.folder;
        let total = uids.len() as u64;
        let mut done_count = 0u64;
        for batch in uids.chunks(BATCH) {
            let mut sorted = batch.to_vec();
            sorted.sort_unstable();
            let preview = self.preview.then_some(PreviewItem::Lazy);
            let items = fetch::header_items(self.condstore, true);
            let fetched = match self.fetch_items_with(&sorted, items.clone(), preview).await {
                Err(e) if preview.is_some() && e.kind() == Kind::Refused => {
                    // Asked again without PREVIEW: if that works, the server advertises PREVIEW
                    // but does not do it, and it is not asked again in this session.
                    self.preview = false;
                    let fetched = self.fetch_items(&sorted, items).await?;
                    self.preview_refused = true;
                    self.session.refuse_capability("PREVIEW");
                    self.report.set_aside(format!(
                        "{}: the server refused PREVIEW ({e}); previews come from the bodies instead",
                        folder.path
                    ));
                    fetched
                }
                result => result?,
            };
            let messages = self
                .rows_with_recovery(fetched, batch, self.preview)
                .await?;
            self.report.new_messages += messages.len();
            self.store.insert_messages(folder.account_id, &messages)?;
            done_count += batch.len() as u64;
            (self.on_event)(Event::SyncProgress {
                account: folder.account_id,
                folder: folder.id,
                done: done_count,
                total,
            });
            (self.on_event)(Event::FolderChanged {
                account: folder.account_id,
                folder: folder.id,
            });
        }
        Ok(())
    }

    /// `UID SEARCH key`, the UIDs found.
    /// An answer that could not be read (too long, or malformed) is an error: taken for "no
    /// such UIDs", it would make the folder look empty or complete.
    pub(super) async fn search(&mut self, key: SearchKey<'_>) -> Result<Vec<u32>, EngineError> {
        self.search_lenient(key).await?.ok_or_else(|| {
            protocol_error(format!(
                "the server's answer to UID SEARCH in {} could not be read",
                self.folder.path
            ))
            .into()
        })
    }

    /// `UID SEARCH key`; None when an answer was set aside as unreadable meanwhile.
    pub(super) async fn search_lenient(
        &mut self,
        key: SearchKey<'_>,
    ) -> Result<Option<Vec<u32>>, EngineError> {
        let search = CommandBody::search(None, Vec1::from(key), true);
        let set_aside = self.session.unparsed_count;
        let done = self.session.run_ok("UID SEARCH", search).await?;
        if self.session.unparsed_count > set_aside {
            return Ok(None);
        }
        Ok(Some(
            done.data
                .iter()
                .flat_map(|d| match d {
                    Data::Search(uids, ..) => uids.iter().map(|u| u.get()).collect(),
                    _ => Vec::new(),
                })
                .collect(),
        ))
    }

    /// `UID FETCH <sorted UIDs> items`: the answers that could be parsed, one per asked UID
    /// (answers for UIDs not asked, or repeated, are dropped, so a server cannot make one batch
    /// hold more than it asked for).
    pub(super) async fn fetch_items(
        &mut self,
        sorted: &[u32],
        items: Vec<MessageDataItemName<'static>>,
    ) -> Result<Vec<Fetched>, EngineError> {
        self.fetch_items_with(sorted, items, None).await
    }

    /// `fetch_items` with PREVIEW (RFC 8970) added when `preview` says so.
    pub(super) async fn fetch_items_with(
        &mut self,
        sorted: &[u32],
        items: Vec<MessageDataItemName<'static>>,
        preview: Option<PreviewItem>,
    ) -> Result<Vec<Fetched>, EngineError> {
        let body = CommandBody::fetch(parse_set(&uid_set(sorted))?, items, true)
            .map_err(|e| protocol_error(format!("cannot build FETCH: {e:?}")))?;
        let mut fetched = Vec::new();
        let mut answered = std::collections::HashSet::new();
        let asked_preview = preview.is_some();
        let mut keep = |data: Data<'static>, preview: Option<Option<String>>| {
            // With PREVIEW asked, an answer without it (a FETCH the server sent of its own
            // accord, flags only) is not the answer: the real one follows.
            if let Some(mut f) = fetch::from_data(data)
                && let Some(uid) = f.uid
                && sorted.binary_search(&uid).is_ok()
                && (!asked_preview || preview.is_some())
                && answered.insert(uid)
            {
                f.preview = preview.flatten();
                fetched.push(f);
            }
        };
        let what = format!("FETCH in {}", self.folder.path);
        match preview {
            Some(item) => {
                self.session
                    .fetch_with_preview(&what, body, item, keep)
                    .await?;
            }
            None => {
                self.session
                    .run_streaming_ok(&what, body, |data| keep(data, None))
                    .await?;
            }
        }
        Ok(fetched)
    }

    /// Rows for the `asked` UIDs (in that order), recovering the ones whose answer was set aside
    /// or incomplete: asked again without PREVIEW (when `with_preview`: the item may be what made
    /// the answer unreadable), then without BODYSTRUCTURE, then as placeholders. A UID that does
    /// not answer at all was expunged meanwhile.
    pub(super) async fn rows_with_recovery(
        &mut self,
        fetched: Vec<Fetched>,
        asked: &[u32],
        with_preview: bool,
    ) -> Result<Vec<NewMessage>, EngineError> {
        let (mut rows, mut unanswered) = self.rows_from(fetched, asked);
        if unanswered.is_empty() {
            return Ok(rows);
        }
        if with_preview {
            let mut sorted = unanswered.clone();
            sorted.sort_unstable();
            let fetched = self
                .fetch_items(&sorted, fetch::header_items(self.condstore, true))
                .await?;
            let (recovered, still) = self.rows_from(fetched, &unanswered);
            rows.extend(recovered);
            unanswered = still;
            if unanswered.is_empty() {
                return Ok(rows);
            }
        }
        let mut sorted = unanswered.clone();
        sorted.sort_unstable();
        let fetched = self
            .fetch_items(&sorted, fetch::header_items(self.condstore, false))
            .await?;
        let (recovered, unanswered) = self.rows_from(fetched, &unanswered);
        for row in &recovered {
            self.report.set_aside(format!(
                "{} UID {}: its MIME structure could not be read; stored without it (the whole source is fetched when it is opened)",
                self.folder.path,
                row.uid.unwrap_or(0)
            ));
        }
        rows.extend(recovered);
        if unanswered.is_empty() {
            return Ok(rows);
        }
        let mut sorted = unanswered.clone();
        sorted.sort_unstable();
        let items = vec![
            MessageDataItemName::Uid,
            MessageDataItemName::Rfc822Size,
            MessageDataItemName::InternalDate,
        ];
        let fetched = self.fetch_items(&sorted, items).await?;
        for f in fetched {
            let Some(uid) = f.uid.filter(|uid| unanswered.contains(uid)) else {
                continue;
            };
            self.report.set_aside(format!(
                "{} UID {uid}: the server's description of it could not be read; stored as a placeholder (open it to fetch its source)",
                self.folder.path
            ));
            rows.push(NewMessage {
                folder_id: self.folder.id,
                uid: Some(i64::from(uid)),
                subject: UNREADABLE_SUBJECT.to_owned(),
                date: f.internal_date.unwrap_or(0),
                internal_date: f.internal_date,
                size: i64::from(f.size.unwrap_or(0)),
                ..NewMessage::default()
            });
        }
        Ok(rows)
    }

    /// Turns FETCH results into rows, in the order asked, and returns the UIDs whose answer was
    /// missing (set aside as unparseable, or expunged meanwhile) or had no header fields.
    fn rows_from(&self, fetched: Vec<Fetched>, asked: &[u32]) -> (Vec<NewMessage>, Vec<u32>) {
        let mut by_uid: HashMap<u32, Fetched> = HashMap::new();
        for f in fetched {
            if let Some(uid) = f.uid {
                by_uid.insert(uid, f);
            }
        }
        let mut out = Vec::with_capacity(asked.len());
        let mut unanswered = Vec::new();
        for uid in asked {
            let Some(f) = by_uid.remove(uid) else {
                unanswered.push(*uid);
                continue;
            };
            let Some(header) = f.header.as_deref() else {
                unanswered.push(*uid);
                continue;
            };
            let (bits, keywords) = flag::from_names(f.flags.as_deref().unwrap_or_default());
            if bits & flag::DELETED != 0 {
                // Marked \Deleted between the SEARCH and the FETCH: it counts as gone.
                continue;
            }
            let summary = parse::summarize(header);
            let structure = f.structure.as_ref();
            out.push(NewMessage {
                folder_id: self.folder.id,
                uid: Some(i64::from(*uid)),
                uidl: None,
                modseq: f.modseq.and_then(|m| i64::try_from(m).ok()),
                message_id: summary.message_id,
                in_reply_to: summary.in_reply_to,
                references: summary.references,
                subject: summary.subject,
                from_name: summary.from_name,
                from_addr: summary.from_addr,
                to: summary.to,
                cc: summary.cc,
                date: summary.date.or(f.internal_date).unwrap_or(0),
                internal_date: f.internal_date,
                size: i64::from(f.size.unwrap_or(0)),
                flags: bits,
                keywords,
                has_attachments: structure.is_some_and(|s| s.has_attachments()),
                // Settled unless PREVIEW may still give it (NIL under LAZY).
                preview_known: f.preview.is_some() || !self.preview,
                preview: f.preview.unwrap_or_default(),
                structure: structure.and_then(|s| serde_json::to_string(s).ok()),
            });
        }
        (out, unanswered)
    }
}

/// Both keys (SEARCH's implicit AND).
fn and(a: SearchKey<'static>, b: SearchKey<'static>) -> SearchKey<'static> {
    match Vec1::try_from(vec![a, b]) {
        Ok(both) => SearchKey::And(both),
        // Two elements always make a Vec1; keep the narrower key if not.
        Err(_) => SearchKey::Undeleted,
    }
}

fn parse_set(set: &str) -> Result<SequenceSet, EngineError> {
    SequenceSet::try_from(set).map_err(|e| {
        EngineError::from(protocol_error(format!(
            "cannot build a UID set {set:?}: {e}"
        )))
    })
}
