//! One IMAP sync pass for an account: folders, then headers newest first, then flags/expunges.

use std::num::{NonZeroU32, NonZeroU64};

use imap_codec::imap_types::command::{CommandBody, SelectParameter};
use imap_codec::imap_types::mailbox::Mailbox;
use imap_codec::imap_types::response::{Code, Data};
use imap_codec::imap_types::search::SearchKey;

use super::endpoint;
use crate::account::Account;
use crate::account::credentials::Secret;
use crate::engine::{Connectivity, EngineError, Event, Kind};
use crate::mail::folder::attr;
use crate::protocol::imap::Session;
use crate::protocol::imap::fetch;
use crate::protocol::imap::folders::{self, ListedFolder};
use crate::protocol::{ErrorKind, ProtocolError};
use crate::store::{Folder, NewFolder, Store};

/// Headers fetched and committed per transaction.
pub const BATCH: usize = 500;

/// Flag changes from one SELECT or FETCH written to the cache per transaction.
pub(super) const CHANGES_BATCH: usize = 5_000;

/// Separate VANISHED ranges held before they are written to the cache.
const VANISHED_BATCH: usize = 50_000;

/// What a pass did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SyncReport {
    pub folders: usize,
    pub new_messages: usize,
    pub flag_changes: usize,
    pub expunged: usize,
    /// Responses or messages set aside because they could not be understood (the first
    /// `MAX_LISTED_SKIPPED`; `set_aside` counts the rest in `skipped_more`).
    pub skipped: Vec<String>,
    /// How many more were set aside than `skipped` lists.
    pub skipped_more: usize,
    /// Folders that STATUS showed unchanged, so they were not selected.
    pub unchanged_folders: usize,
    /// Offline actions replayed at the start of the pass.
    pub replayed: usize,
    /// Folders the server would not let this pass sync: (path, the reason).
    pub failed_folders: Vec<(String, String)>,
    pub bytes_received: u64,
    /// Commands sent, by name (e.g. "FETCH": 3).
    pub commands: std::collections::BTreeMap<String, u32>,
}

/// What a pass report lists of what it set aside, at most: a server that sends no body for a
/// million messages must not make the report grow with them.
pub const MAX_LISTED_SKIPPED: usize = 1_000;

impl SyncReport {
    /// Notes something set aside (listed while fewer than `MAX_LISTED_SKIPPED` are).
    pub fn set_aside(&mut self, what: String) {
        if self.skipped.len() < MAX_LISTED_SKIPPED {
            self.skipped.push(what);
        } else {
            self.skipped_more = self.skipped_more.saturating_add(1);
        }
    }
}

/// Connects, logs in and enables QRESYNC (before any SELECT, as RFC 7162 requires).
pub async fn connect(account: &Account, password: &Secret) -> Result<Session, EngineError> {
    let mut session = Session::connect(&endpoint(account)).await?;
    session.login(&account.settings.login, password).await?;
    session.identify().await?;
    session.compress().await?;
    session.enable_qresync().await?;
    Ok(session)
}

/// Runs one sync pass on its own connection. Events report progress; the store holds the result.
pub async fn sync_account(
    store: &Store,
    account: &Account,
    password: &Secret,
    on_event: &mut (dyn FnMut(Event) + Send),
) -> Result<SyncReport, EngineError> {
    on_event(Event::Connectivity {
        account: account.id,
        state: Connectivity::Connecting,
    });
    let mut session = connect(account, password).await?;
    on_event(Event::Connectivity {
        account: account.id,
        state: Connectivity::Online,
    });
    let report = sync_session(store, account, &mut session, on_event).await?;
    session.logout().await;
    Ok(report)
}

/// Runs one sync pass on an open, logged-in session.
pub async fn sync_session(
    store: &Store,
    account: &Account,
    session: &mut Session,
    on_event: &mut (dyn FnMut(Event) + Send),
) -> Result<SyncReport, EngineError> {
    let account_id = account.id;
    let bytes_before = session.bytes_received;
    let unparsed_before = session
        .unparsed_count
        .saturating_sub(session.unparsed.len() as u64);
    let commands_before = session.commands.clone();
    // The folder list first: an action on a folder another client deleted or renamed then
    // fails with the reason (and is undone in the cache) instead of being retried for ever.
    let listed = list_folders(session).await?;
    store.sync_folders(account_id, &listed)?;
    on_event(Event::FoldersChanged {
        account: account_id,
    });
    // Queued offline actions next, so the resync below sees their result.
    let replayed = super::replay(store, session, account_id).await?;
    let folders = store.folders(account_id)?;

    let qresync = session.qresync_enabled();
    let condstore = qresync || session.has_capability("CONDSTORE");
    let mut report = SyncReport {
        folders: folders.len(),
        replayed,
        ..SyncReport::default()
    };
    // A folder kept only because it holds messages not uploaded yet is not on the server.
    let selectable: Vec<&Folder> = folders
        .iter()
        .filter(|f| f.attributes & attr::NOSELECT == 0)
        .filter(|f| listed.iter().any(|l| l.path == f.path))
        .collect();
    let statuses = super::status::status_all(session, &selectable, condstore).await?;
    for folder in selectable {
        if let Some(status) = statuses.get(&folder.id) {
            let preview = session.has_capability("PREVIEW");
            let unchanged =
                condstore && super::status::unchanged(store, account, folder, status, preview)?;
            if let (Some(total), Some(unread)) = (status.total, status.unread) {
                store.set_folder_status(folder.id, total, unread)?;
            }
            if unchanged {
                report.unchanged_folders += 1;
                continue;
            }
        }
        let synced = FolderSync {
            store,
            account,
            qresync,
            condstore,
            preview: session.has_capability("PREVIEW"),
            preview_refused: session.was_refused("PREVIEW"),
            session: &mut *session,
            folder,
            report: &mut report,
            on_event: &mut *on_event,
            uidnext_at_select: None,
            arrived_since_select: 0,
        }
        .run()
        .await;
        match synced {
            Ok(()) => store.set_folder_error(folder.id, None)?,
            // The server refused this folder (or answered it with something unusable): it is
            // marked with the reason, and the other folders sync.
            Err(e) if matches!(e.kind(), Kind::Refused | Kind::Protocol) => {
                let reason = e.to_string();
                store.set_folder_error(folder.id, Some(&reason))?;
                report.failed_folders.push((folder.path.clone(), reason));
                on_event(Event::FolderChanged {
                    account: account_id,
                    folder: folder.id,
                });
            }
            Err(e) => return Err(e),
        }
    }
    report.bytes_received = session.bytes_received - bytes_before;
    report.commands = session
        .commands
        .iter()
        .map(|(k, v)| {
            (
                (*k).to_owned(),
                v - commands_before.get(k).copied().unwrap_or(0),
            )
        })
        .filter(|(_, n)| *n > 0)
        .collect();
    let kept = session.unparsed.len() as u64;
    for raw in session.unparsed.drain(..) {
        report.set_aside(format!("unparseable response: {raw}"));
    }
    let unparsed = session.unparsed_count.saturating_sub(unparsed_before);
    if unparsed > kept {
        report.set_aside(format!(
            "and {} more unparseable responses",
            unparsed - kept
        ));
    }
    Ok(report)
}

pub(super) async fn list_folders(session: &mut Session) -> Result<Vec<NewFolder>, ProtocolError> {
    let list = CommandBody::list("", "*")
        .map_err(|e| ProtocolError::new(ErrorKind::Protocol, format!("cannot build LIST: {e}")))?;
    let lsub = CommandBody::lsub("", "*")
        .map_err(|e| ProtocolError::new(ErrorKind::Protocol, format!("cannot build LSUB: {e}")))?;
    // LIST and LSUB in one write: one round trip.
    let mut listed: Vec<ListedFolder> = Vec::new();
    let mut subscribed: std::collections::HashSet<String> = std::collections::HashSet::new();
    let done = session
        .run_pipelined(vec![list, lsub], |d| {
            if let Data::Lsub { mailbox, .. } = &d {
                let name = String::from_utf8_lossy(&folders::mailbox_bytes(mailbox)).into_owned();
                subscribed.insert(name);
            } else {
                listed.extend(folders::from_list(&d));
            }
        })
        .await?;
    for (what, status) in ["LIST", "LSUB"].iter().zip(&done) {
        if status.body.kind != imap_codec::imap_types::response::StatusKind::Ok {
            return Err(ProtocolError::new(
                ErrorKind::Protocol,
                format!("{what} failed: {}", status.body.text),
            ));
        }
    }
    folders::guess_roles(&mut listed);
    Ok(listed
        .into_iter()
        .map(|f| NewFolder {
            subscribed: f.path == "INBOX" || subscribed.contains(&f.server_path),
            path: f.path,
            server_path: f.server_path,
            delimiter: f.delimiter.map(String::from),
            role: f.role,
            attributes: f.attributes,
        })
        .collect())
}

/// The IMAP date `days` ago (for SEARCH SINCE).
pub(super) fn since_date(days: i64) -> Option<imap_codec::imap_types::datetime::NaiveDate> {
    let date = chrono::Utc::now()
        .date_naive()
        .checked_sub_days(chrono::Days::new(u64::try_from(days).ok()?))?;
    imap_codec::imap_types::datetime::NaiveDate::try_from(date).ok()
}

/// Compresses sorted UIDs into an IMAP sequence set ("1:5,9,12:13").
pub fn uid_set(uids: &[u32]) -> String {
    let mut parts = Vec::new();
    let mut iter = uids.iter().copied().peekable();
    while let Some(start) = iter.next() {
        let mut end = start;
        // `checked_add`: UID 4294967295 is valid and has no successor.
        while let Some(next) = end.checked_add(1)
            && iter.peek() == Some(&next)
        {
            end = next;
            iter.next();
        }
        parts.push(if start == end {
            start.to_string()
        } else {
            format!("{start}:{end}")
        });
    }
    parts.join(",")
}

/// One folder's part of a pass; its steps live in `headers.rs`, `flags.rs` and here.
pub(super) struct FolderSync<'a> {
    pub(super) store: &'a Store,
    pub(super) account: &'a Account,
    pub(super) qresync: bool,
    pub(super) condstore: bool,
    pub(super) session: &'a mut Session,
    pub(super) folder: &'a Folder,
    pub(super) report: &'a mut SyncReport,
    pub(super) on_event: &'a mut (dyn FnMut(Event) + Send),
    /// The UIDNEXT the SELECT reported, and how many messages fetched this pass have a UID at
    /// or above it (they arrived after the SELECT counted the folder).
    pub(super) uidnext_at_select: Option<i64>,
    pub(super) arrived_since_select: i64,
    /// The server offers PREVIEW (RFC 8970): headers come with `PREVIEW (LAZY)` and the rest is
    /// filled in after them (`fill_previews`). A refusal turns it off for the rest of the session
    /// (`Session::refuse_capability`).
    pub(super) preview: bool,
    /// In this session the server refused PREVIEW where the same FETCH without it worked: the
    /// folder's pending previews are settled (empty) instead of asked for.
    pub(super) preview_refused: bool,
}

pub(super) fn protocol_error(what: impl std::fmt::Display) -> ProtocolError {
    ProtocolError::new(ErrorKind::Protocol, what.to_string())
}

impl FolderSync<'_> {
    async fn run(mut self) -> Result<(), EngineError> {
        let folder = self.folder;
        // An incremental pass needs the state a complete pass recorded: every header fetched,
        // and the UIDNEXT and HIGHESTMODSEQ the server reported then.
        let known = match (
            folder.backfill_complete,
            folder.uidvalidity,
            folder.uidnext,
            folder.highestmodseq,
        ) {
            (true, Some(v), Some(next), Some(m)) if self.condstore => {
                match (
                    u32::try_from(v).ok().and_then(NonZeroU32::new),
                    u32::try_from(next).ok(),
                    u64::try_from(m).ok().and_then(NonZeroU64::new),
                ) {
                    (Some(v), Some(next), Some(m)) => Some((v, next, m)),
                    _ => None,
                }
            }
            _ => None,
        };
        let parameters: Vec<SelectParameter> = match known {
            Some((uid_validity, _, mod_sequence_value)) if self.qresync => {
                vec![SelectParameter::QResync {
                    uid_validity,
                    mod_sequence_value,
                    known_uids: None,
                    seq_match_data: None,
                }]
            }
            _ if self.condstore => vec![SelectParameter::CondStore],
            _ => Vec::new(),
        };
        let mailbox = Mailbox::try_from(folder.server_path.as_str())
            .map_err(|e| protocol_error(format!("bad folder name {:?}: {e}", folder.path)))?;
        // The SELECT is streamed: under QRESYNC its answer carries every change since our
        // HIGHESTMODSEQ (VANISHED and FETCH, possibly for a whole large folder), which goes to
        // the cache in batches. (The server sends them only when our UIDVALIDITY matches.)
        let mut changes: Vec<crate::store::FlagUpdate> = Vec::new();
        let mut vanished = super::flags::RangeSet::default();
        let mut exists = None;
        let mut failed: Option<EngineError> = None;
        let set_aside = self.session.unparsed_count;
        let (codes, status) = {
            let mut flush = |changes: &mut Vec<crate::store::FlagUpdate>,
                             vanished: &mut super::flags::RangeSet,
                             report: &mut SyncReport| {
                let batch = std::mem::take(changes);
                let ranges = std::mem::take(vanished).into_vec();
                match super::flags::apply_changes(self.store, folder.id, batch, ranges) {
                    Ok((flagged, removed)) => {
                        report.flag_changes += flagged;
                        report.expunged += removed;
                    }
                    Err(e) => failed = Some(e),
                }
            };
            let report = &mut *self.report;
            self.session
                .run_streaming(
                    CommandBody::Select {
                        mailbox,
                        parameters,
                    },
                    |data| match data {
                        Data::Exists(n) => exists = Some(n),
                        Data::Vanished { known_uids, .. } => {
                            for (low, high) in super::flags::uid_ranges(&known_uids) {
                                vanished.insert(low, high);
                                if vanished.len() >= VANISHED_BATCH {
                                    flush(&mut changes, &mut vanished, report);
                                }
                            }
                        }
                        Data::Fetch { .. } => {
                            if let Some(f) = fetch::from_data(data)
                                && let (Some(uid), Some(flags)) = (f.uid, f.flags)
                            {
                                let (bits, keywords) = crate::store::flag::from_names(&flags);
                                let modseq = f.modseq.and_then(|m| i64::try_from(m).ok());
                                changes.push((i64::from(uid), bits, keywords, modseq));
                                if changes.len() >= CHANGES_BATCH {
                                    flush(&mut changes, &mut vanished, report);
                                }
                            }
                        }
                        _ => {}
                    },
                )
                .await?
        };
        if let Some(e) = failed {
            return Err(e);
        }
        if known.is_some() && self.qresync && self.session.unparsed_count > set_aside {
            // A change the server reported could not be read: recording this HIGHESTMODSEQ
            // would lose it for good. The folder fails this pass, and the next one compares
            // the whole folder instead (which copes with lines it cannot read).
            self.store.request_full_resync(folder.id)?;
            return Err(protocol_error(format!(
                "part of the server's answer to SELECT {} could not be read; the next pass compares the whole folder",
                folder.path
            ))
            .into());
        }
        if status.body.kind != imap_codec::imap_types::response::StatusKind::Ok {
            return Err(ProtocolError::new(
                ErrorKind::Refused,
                format!("SELECT {} failed: {}", folder.path, status.body.text),
            )
            .into());
        }
        let mut uidvalidity = None;
        let mut uidnext = None;
        let mut highestmodseq = None;
        for code in codes.iter().chain(status.body.code.iter()) {
            match code {
                Code::UidValidity(v) => uidvalidity = Some(i64::from(v.get())),
                Code::UidNext(v) => uidnext = Some(i64::from(v.get())),
                Code::HighestModSeq(v) => highestmodseq = i64::try_from(v.get()).ok(),
                _ => {}
            }
        }
        self.uidnext_at_select = uidnext;
        let mut known = known;
        if let (Some(old), Some(new)) = (folder.uidvalidity, uidvalidity)
            && old != new
        {
            self.store.reset_folder(folder.id, new)?;
            known = None;
        }

        // New mail: everything from the UIDNEXT of the last complete pass, when it moved.
        let new_mail =
            |next_known: u32| !matches!(uidnext, Some(now) if now <= i64::from(next_known));
        match known {
            Some((_, next_known, _)) if self.qresync => {
                // The rest of what changed since our HIGHESTMODSEQ, from the SELECT's answer.
                if !changes.is_empty() || !vanished.is_empty() {
                    self.apply(std::mem::take(&mut changes), vanished.into_vec())?;
                }
                if new_mail(next_known) {
                    self.fetch_new(next_known).await?;
                }
                if self.account.sync_days.is_none() {
                    self.check_count(exists, false).await?;
                }
            }
            Some((_, next_known, since)) => {
                if new_mail(next_known) {
                    self.fetch_new(next_known).await?;
                }
                self.changed_flags_since(since).await?;
                if self.account.sync_days.is_some() {
                    // Only part of the folder is cached, so counts cannot show an expunge:
                    // the UID list of what is cached can.
                    self.mirror_flags_and_expunges().await?;
                } else {
                    // An expunge shows as more cached than the server counts; the full UID
                    // list then tells which.
                    self.check_count(exists, true).await?;
                }
            }
            None => match exists {
                Some(0) => {
                    // An empty folder: everything cached is gone.
                    self.report.expunged += self.store.expunge_all(folder.id)?;
                    self.store.set_backfill_complete(folder.id)?;
                }
                Some(_) => {
                    self.fetch_missing_headers().await?;
                    self.mirror_flags_and_expunges().await?;
                    self.store.set_backfill_complete(folder.id)?;
                }
                None => {
                    return Err(protocol_error(format!(
                        "the server's answer to SELECT {} did not say how many messages it holds (EXISTS)",
                        folder.path
                    ))
                    .into());
                }
            },
        }
        if self.account.download_bodies {
            self.download_bodies().await?;
        }
        self.fill_previews().await?;
        // Recorded last: a pass cut short before this point is redone from the old state. The
        // UIDNEXT recorded is the server's at SELECT: mail that arrived since is fetched now or
        // by the next pass (it is recognised by its UID, never stored twice).
        self.store
            .set_folder_sync_state(folder.id, uidvalidity, uidnext, highestmodseq)?;
        (self.on_event)(Event::FolderChanged {
            account: folder.account_id,
            folder: folder.id,
        });
        Ok(())
    }

    /// After an incremental pass of a folder cached whole: the cache must hold exactly the
    /// messages the SELECT counted, less those marked \Deleted (which count as gone). More
    /// cached means something was expunged that this pass did not hear of: the full UID list
    /// tells which. Fewer (a server that reported a bogus VANISHED, say) makes the next pass
    /// list the folder in full and heal it. Costs one small `UID SEARCH DELETED`, only when
    /// the counts differ.
    ///
    /// `thorough`: count the \Deleted ones even when the totals agree (the CONDSTORE-only path,
    /// which has no VANISHED: an expunge and a message marked \Deleted could cancel out).
    async fn check_count(
        &mut self,
        exists: Option<u32>,
        thorough: bool,
    ) -> Result<(), EngineError> {
        let Some(exists) = exists.map(|n| i64::from(n) + self.arrived_since_select) else {
            return Ok(());
        };
        let cached = self.store.cached_count(self.folder.id)?;
        if cached == exists && !thorough {
            return Ok(());
        }
        // Advisory: an answer that cannot be read only skips the check this pass.
        let Some(deleted) = self.search_lenient(SearchKey::Deleted).await? else {
            self.report.set_aside(format!(
                "{}: the count check was skipped (the server's answer could not be read)",
                self.folder.path
            ));
            return Ok(());
        };
        let deleted = deleted.len() as i64;
        if cached + deleted > exists {
            self.mirror_flags_and_expunges().await?;
        }
        let cached = self.store.cached_count(self.folder.id)?;
        if cached + deleted < exists {
            self.report.set_aside(format!(
                "{}: {} of the server's {exists} messages are not cached; the next pass lists the folder in full",
                self.folder.path,
                exists - cached - deleted
            ));
            self.store.request_full_resync(self.folder.id)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::uid_set;

    #[test]
    fn uid_sets_compress_runs() {
        assert_eq!(uid_set(&[1, 2, 3, 5, 7, 8]), "1:3,5,7:8");
        assert_eq!(uid_set(&[42]), "42");
        assert_eq!(uid_set(&[]), "");
        assert_eq!(
            uid_set(&[4_294_967_294, 4_294_967_295]),
            "4294967294:4294967295"
        );
        assert_eq!(uid_set(&[u32::MAX]), "4294967295");
    }
}
