//! Flag and expunge resync for one folder: from a QRESYNC SELECT, CONDSTORE `CHANGEDSINCE`, or
//! (without either) the full UID and FLAGS list.

use std::collections::HashMap;
use std::num::NonZeroU64;

use imap_codec::imap_types::command::{CommandBody, FetchModifier};
use imap_codec::imap_types::response::Data;
use imap_codec::imap_types::sequence::SequenceSet;

use super::sync::{FolderSync, expand_uid_set, protocol_error, sequence_set_text};
use crate::engine::EngineError;
use crate::protocol::imap::fetch;
use crate::store::flag;

/// Cached messages compared per FLAGS FETCH when resyncing without CONDSTORE.
const MIRROR_SLICE: usize = 50_000;

impl FolderSync<'_> {
    /// Applies the VANISHED and FETCH responses a QRESYNC SELECT returned.
    pub(super) fn apply_select_changes(
        &mut self,
        data: &[Data<'static>],
        cached_max: i64,
    ) -> Result<(), EngineError> {
        let mut expunged = Vec::new();
        let mut changes = Vec::new();
        for d in data {
            match d {
                Data::Vanished { known_uids, .. } => {
                    expunged.extend(expand_uid_set(&sequence_set_text(known_uids), cached_max));
                }
                Data::Fetch { .. } => {
                    if let Some(f) = fetch::from_data(d.clone())
                        && let (Some(uid), Some(flags)) = (f.uid, f.flags)
                    {
                        let (bits, keywords) = flag::from_names(&flags);
                        let modseq = f.modseq.and_then(|m| i64::try_from(m).ok());
                        changes.push((i64::from(uid), bits, keywords, modseq));
                    }
                }
                _ => {}
            }
        }
        self.report.flag_changes += changes.len();
        self.report.expunged += expunged.len();
        if !changes.is_empty() || !expunged.is_empty() {
            self.store
                .apply_server_changes(self.folder.id, &changes, &expunged)?;
        }
        Ok(())
    }

    /// CONDSTORE without QRESYNC: the flags changed since `modseq`.
    pub(super) async fn changed_flags_since(&mut self, modseq: i64) -> Result<(), EngineError> {
        let Some(since) = u64::try_from(modseq).ok().and_then(NonZeroU64::new) else {
            return Ok(());
        };
        let set = SequenceSet::try_from("1:*")
            .map_err(|e| protocol_error(format!("cannot build a UID set: {e}")))?;
        let body = CommandBody::Fetch {
            sequence_set: set,
            macro_or_item_names: fetch::flag_items(true).into(),
            uid: true,
            modifiers: vec![FetchModifier::ChangedSince(since)],
        };
        let mut changes = Vec::new();
        self.session
            .run_streaming_ok(
                &format!("FETCH CHANGEDSINCE in {}", self.folder.path),
                body,
                |data| {
                    if let Some(f) = fetch::from_data(data)
                        && let (Some(uid), Some(flags)) = (f.uid, f.flags)
                    {
                        let (bits, keywords) = flag::from_names(&flags);
                        changes.push((
                            i64::from(uid),
                            bits,
                            keywords,
                            f.modseq.and_then(|m| i64::try_from(m).ok()),
                        ));
                    }
                },
            )
            .await?;
        self.report.flag_changes += changes.len();
        if !changes.is_empty() {
            self.store
                .apply_server_changes(self.folder.id, &changes, &[])?;
        }
        Ok(())
    }

    /// Fetches UID and FLAGS of every message and mirrors changes and expunges into the cache,
    /// in slices of `MIRROR_SLICE` cached messages, so memory stays bounded on huge folders.
    pub(super) async fn mirror_flags_and_expunges(&mut self) -> Result<(), EngineError> {
        let folder = self.folder;
        let mut after = 0i64;
        loop {
            let cached = self.store.cached_flags(folder.id, after, MIRROR_SLICE)?;
            let Some(last) = cached.last().map(|(uid, ..)| *uid) else {
                return Ok(());
            };
            let set = SequenceSet::try_from(format!("{}:{last}", after + 1).as_str())
                .map_err(|e| protocol_error(format!("cannot build a UID set: {e}")))?;
            let body = CommandBody::fetch(set, fetch::flag_items(false), true)
                .map_err(|e| protocol_error(format!("cannot build FETCH: {e:?}")))?;
            let set_aside = self.session.unparsed.len();
            let mut server: HashMap<i64, (i64, String)> = HashMap::with_capacity(cached.len());
            self.session
                .run_streaming_ok(&format!("FETCH FLAGS in {}", folder.path), body, |data| {
                    if let Some(f) = fetch::from_data(data)
                        && let (Some(uid), Some(flags)) = (f.uid, f.flags)
                    {
                        server.insert(i64::from(uid), flag::from_names(&flags));
                    }
                })
                .await?;
            let mut changes = Vec::new();
            let mut expunged = Vec::new();
            // An answer set aside as unparseable would look like an expunge: keep the cache
            // this time.
            let trust_absence = self.session.unparsed.len() == set_aside;
            let full_slice = cached.len() == MIRROR_SLICE;
            for (uid, bits, keywords) in cached {
                match server.get(&uid) {
                    None if trust_absence => expunged.push(uid),
                    None => {}
                    Some((b, k)) if *b != bits || *k != keywords => {
                        changes.push((uid, *b, k.clone(), None))
                    }
                    Some(_) => {}
                }
            }
            self.report.flag_changes += changes.len();
            self.report.expunged += expunged.len();
            if !changes.is_empty() || !expunged.is_empty() {
                self.store
                    .apply_server_changes(folder.id, &changes, &expunged)?;
            }
            if !full_slice {
                return Ok(());
            }
            after = last;
        }
    }
}
