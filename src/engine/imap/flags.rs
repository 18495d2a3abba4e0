//! Flag and expunge resync for one folder: from a QRESYNC SELECT, CONDSTORE `CHANGEDSINCE`, or
//! (without either) the full UID and FLAGS list.

use std::collections::HashMap;
use std::num::NonZeroU64;

use imap_codec::imap_types::command::{CommandBody, FetchModifier};
use imap_codec::imap_types::sequence::{SeqOrUid, Sequence, SequenceSet};

use super::sync::{CHANGES_BATCH, FolderSync, protocol_error};
use crate::engine::EngineError;
use crate::protocol::imap::fetch;
use crate::store::flag;

/// Cached messages compared per FLAGS FETCH when resyncing without CONDSTORE.
const MIRROR_SLICE: usize = 50_000;

impl FolderSync<'_> {
    /// Writes flag changes and expunges to the cache. A message now marked \Deleted counts as
    /// gone (see ARCHITECTURE.md): it leaves the cache like an expunged one.
    pub(super) fn apply(
        &mut self,
        changes: Vec<crate::store::FlagUpdate>,
        expunged: Vec<(i64, i64)>,
    ) -> Result<(), EngineError> {
        let (flagged, removed) = apply_changes(self.store, self.folder.id, changes, expunged)?;
        self.report.flag_changes += flagged;
        self.report.expunged += removed;
        Ok(())
    }

    /// CONDSTORE without QRESYNC: the flags changed since `modseq`.
    pub(super) async fn changed_flags_since(
        &mut self,
        since: NonZeroU64,
    ) -> Result<(), EngineError> {
        let set = SequenceSet::try_from("1:*")
            .map_err(|e| protocol_error(format!("cannot build a UID set: {e}")))?;
        let body = CommandBody::Fetch {
            sequence_set: set,
            macro_or_item_names: fetch::flag_items(true).into(),
            uid: true,
            modifiers: vec![FetchModifier::ChangedSince(since)],
        };
        // Written to the cache in batches as the answers stream in: a big change (another
        // client marked a large folder read) never sits in memory whole.
        let (store, folder_id) = (self.store, self.folder.id);
        let mut changes = Vec::new();
        let mut totals = (0usize, 0usize);
        let mut failed: Option<EngineError> = None;
        let mut flush = |changes: &mut Vec<crate::store::FlagUpdate>| match apply_changes(
            store,
            folder_id,
            std::mem::take(changes),
            Vec::new(),
        ) {
            Ok((flagged, removed)) => {
                totals.0 += flagged;
                totals.1 += removed;
            }
            Err(e) => failed = Some(e),
        };
        let set_aside = self.session.unparsed_count;
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
                        if changes.len() >= CHANGES_BATCH {
                            flush(&mut changes);
                        }
                    }
                },
            )
            .await?;
        flush(&mut changes);
        if let Some(e) = failed {
            return Err(e);
        }
        if self.session.unparsed_count > set_aside {
            // A change that could not be read would be lost once this HIGHESTMODSEQ is
            // recorded: the next pass compares the whole folder instead.
            self.store.request_full_resync(folder_id)?;
            return Err(protocol_error(format!(
                "part of the server's answer to FETCH CHANGEDSINCE in {} could not be read; the next pass compares the whole folder",
                self.folder.path
            ))
            .into());
        }
        self.report.flag_changes += totals.0;
        self.report.expunged += totals.1;
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
            // The cached UIDs of this slice: with a sync window the range between them can hold
            // many messages that are not cached, and need not be asked for.
            let uids: Vec<u32> = cached
                .iter()
                .filter_map(|(uid, ..)| u32::try_from(*uid).ok())
                .collect();
            // (A scattered set would make a command line longer than servers take: then the
            // range, filtered below.)
            let listed = super::sync::uid_set(&uids);
            let listed = if listed.len() <= 8 * 1024 {
                listed
            } else {
                format!("{}:{last}", after + 1)
            };
            let set = SequenceSet::try_from(listed.as_str())
                .map_err(|e| protocol_error(format!("cannot build a UID set: {e}")))?;
            let body = CommandBody::fetch(set, fetch::flag_items(false), true)
                .map_err(|e| protocol_error(format!("cannot build FETCH: {e:?}")))?;
            let set_aside = self.session.unparsed_count;
            let mut server: HashMap<i64, (i64, String)> = HashMap::with_capacity(cached.len());
            self.session
                .run_streaming_ok(&format!("FETCH FLAGS in {}", folder.path), body, |data| {
                    // Only the UIDs asked for: at most MIRROR_SLICE answers are kept.
                    if let Some(f) = fetch::from_data(data)
                        && let (Some(uid), Some(flags)) = (f.uid, f.flags)
                        && uids.binary_search(&uid).is_ok()
                    {
                        server.insert(i64::from(uid), flag::from_names(&flags));
                    }
                })
                .await?;
            let mut changes = Vec::new();
            let mut expunged = Vec::new();
            // An answer set aside as unparseable would look like an expunge: keep the cache
            // this time.
            let trust_absence = self.session.unparsed_count == set_aside;
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
            self.apply(changes, expunged.iter().map(|uid| (*uid, *uid)).collect())?;
            if !full_slice {
                return Ok(());
            }
            after = last;
        }
    }
}

/// Writes flag changes and expunges (inclusive UID ranges) to a folder's cache in one
/// transaction; a message now marked \Deleted leaves the cache like an expunged one. Returns
/// (flag changes, messages removed).
pub(super) fn apply_changes(
    store: &crate::store::Store,
    folder_id: i64,
    changes: Vec<crate::store::FlagUpdate>,
    mut expunged: Vec<(i64, i64)>,
) -> Result<(usize, usize), EngineError> {
    let (deleted, changes): (Vec<_>, Vec<_>) = changes
        .into_iter()
        .partition(|(_, bits, ..)| bits & flag::DELETED != 0);
    expunged.extend(deleted.iter().map(|(uid, ..)| (*uid, *uid)));
    if changes.is_empty() && expunged.is_empty() {
        return Ok((0, 0));
    }
    let removed = store.apply_server_changes(folder_id, &changes, &merge_ranges(expunged))?;
    Ok((changes.len(), removed))
}

/// The inclusive UID ranges of a sequence set as a server sent it (`*` is the largest UID).
/// Nothing is expanded, so `1:*,1:*,…` costs one pair per range, not one entry per UID.
pub(super) fn uid_ranges(set: &SequenceSet) -> Vec<(i64, i64)> {
    let value = |v: &SeqOrUid| match v {
        SeqOrUid::Value(n) => i64::from(n.get()),
        SeqOrUid::Asterisk => i64::from(u32::MAX),
    };
    set.0
        .as_ref()
        .iter()
        .map(|s| match s {
            Sequence::Single(v) => (value(v), value(v)),
            Sequence::Range(a, b) => (value(a).min(value(b)), value(a).max(value(b))),
        })
        .collect()
}

/// Sorts ranges and merges the overlapping and adjacent ones.
pub(super) fn merge_ranges(ranges: Vec<(i64, i64)>) -> Vec<(i64, i64)> {
    let mut set = RangeSet::default();
    for (low, high) in ranges {
        set.insert(low, high);
    }
    set.into_vec()
}

/// Disjoint, non-adjacent inclusive ranges, merged as they are inserted: memory follows the
/// number of separate ranges, never the number of UIDs or of the ranges a server repeats.
#[derive(Debug, Default)]
pub(super) struct RangeSet(std::collections::BTreeMap<i64, i64>);

impl RangeSet {
    pub(super) fn insert(&mut self, low: i64, high: i64) {
        let (mut low, mut high) = (low.min(high), low.max(high));
        // Swallow every range that overlaps or touches [low, high].
        while let Some((&start, &end)) = self
            .0
            .range(..=high.saturating_add(1))
            .next_back()
            .filter(|(_, end)| **end >= low.saturating_sub(1))
        {
            low = low.min(start);
            high = high.max(end);
            self.0.remove(&start);
        }
        self.0.insert(low, high);
    }

    pub(super) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// How many separate ranges it holds.
    pub(super) fn len(&self) -> usize {
        self.0.len()
    }

    pub(super) fn into_vec(self) -> Vec<(i64, i64)> {
        self.0.into_iter().collect()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::{merge_ranges, uid_ranges};
    use imap_codec::imap_types::sequence::SequenceSet;

    #[test]
    fn vanished_sets_become_merged_ranges_without_expansion() {
        let set = SequenceSet::try_from("7,1:3,4,9:*,2").unwrap();
        assert_eq!(
            merge_ranges(uid_ranges(&set)),
            vec![(1, 4), (7, 7), (9, i64::from(u32::MAX))]
        );
        // A hostile repetition of 1:* is one range, however often it repeats.
        let hostile = vec!["1:*"; 100_000].join(",");
        let set = SequenceSet::try_from(hostile.as_str()).unwrap();
        assert_eq!(
            merge_ranges(uid_ranges(&set)),
            vec![(1, i64::from(u32::MAX))]
        );
        assert_eq!(
            merge_ranges(uid_ranges(&SequenceSet::try_from("4294967295").unwrap())),
            vec![(4_294_967_295, 4_294_967_295)]
        );
    }
}

#[cfg(test)]
mod range_tests {
    use super::RangeSet;

    #[test]
    fn ranges_merge_whatever_the_order() {
        let mut set = RangeSet::default();
        for (a, b) in [
            (10, 12),
            (1, 3),
            (5, 5),
            (4, 4),
            (13, 20),
            (30, 25),
            (2, 11),
        ] {
            set.insert(a, b);
        }
        assert_eq!(set.into_vec(), vec![(1, 20), (25, 30)]);
    }
}
