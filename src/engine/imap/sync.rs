//! One IMAP sync pass for an account: folders, then headers newest first, then flags/expunges.

use std::collections::HashMap;

use imap_codec::imap_types::command::CommandBody;
use imap_codec::imap_types::core::Vec1;
use imap_codec::imap_types::response::{Code, Data};
use imap_codec::imap_types::search::SearchKey;
use imap_codec::imap_types::sequence::SequenceSet;

use super::endpoint;
use crate::account::Account;
use crate::account::credentials::Secret;
use crate::engine::{Connectivity, EngineError, Event};
use crate::mail::folder::attr;
use crate::mail::parse;
use crate::protocol::imap::Session;
use crate::protocol::imap::fetch::{self, Fetched};
use crate::protocol::imap::folders::{self, ListedFolder};
use crate::protocol::{ErrorKind, ProtocolError};
use crate::store::{Folder, NewFolder, NewMessage, Store, flag};

/// Headers fetched and committed per transaction.
pub const BATCH: usize = 500;

/// What a pass did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SyncReport {
    pub folders: usize,
    pub new_messages: usize,
    pub flag_changes: usize,
    pub expunged: usize,
    /// Responses or messages set aside because they could not be understood.
    pub skipped: Vec<String>,
    pub bytes_received: u64,
}

/// Runs one sync pass. Events report progress; the store holds the result.
pub async fn sync_account(
    store: &Store,
    account: &Account,
    password: &Secret,
    on_event: &mut (dyn FnMut(Event) + Send),
) -> Result<SyncReport, EngineError> {
    let account_id = account.id;
    on_event(Event::Connectivity {
        account: account_id,
        state: Connectivity::Connecting,
    });
    let mut session = Session::connect(&endpoint(account)).await?;
    session.login(&account.settings.login, password).await?;
    on_event(Event::Connectivity {
        account: account_id,
        state: Connectivity::Online,
    });

    let listed = list_folders(&mut session).await?;
    let folders = store.sync_folders(account_id, &listed)?;
    on_event(Event::FoldersChanged {
        account: account_id,
    });

    let mut report = SyncReport {
        folders: folders.len(),
        ..SyncReport::default()
    };
    for folder in folders
        .iter()
        .filter(|f| f.attributes & attr::NOSELECT == 0)
    {
        FolderSync {
            store,
            session: &mut session,
            folder,
            report: &mut report,
            on_event: &mut *on_event,
        }
        .run()
        .await?;
    }
    report.bytes_received = session.bytes_received;
    report.skipped.extend(
        session
            .unparsed
            .iter()
            .map(|raw| format!("unparseable response: {raw}")),
    );
    session.logout().await;
    Ok(report)
}

async fn list_folders(session: &mut Session) -> Result<Vec<NewFolder>, ProtocolError> {
    let body = CommandBody::list("", "*")
        .map_err(|e| ProtocolError::new(ErrorKind::Protocol, format!("cannot build LIST: {e}")))?;
    let done = session.run_ok("LIST", body).await?;
    let mut listed: Vec<ListedFolder> = done.data.iter().filter_map(folders::from_list).collect();
    folders::guess_roles(&mut listed);
    Ok(listed
        .into_iter()
        .map(|f| NewFolder {
            path: f.path,
            server_path: f.server_path,
            delimiter: f.delimiter.map(String::from),
            role: f.role,
            attributes: f.attributes,
            subscribed: true,
        })
        .collect())
}

/// Compresses sorted UIDs into an IMAP sequence set ("1:5,9,12:13").
pub fn uid_set(uids: &[u32]) -> String {
    let mut parts = Vec::new();
    let mut iter = uids.iter().copied().peekable();
    while let Some(start) = iter.next() {
        let mut end = start;
        while iter.peek() == Some(&(end + 1)) {
            end += 1;
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

struct FolderSync<'a> {
    store: &'a Store,
    session: &'a mut Session,
    folder: &'a Folder,
    report: &'a mut SyncReport,
    on_event: &'a mut (dyn FnMut(Event) + Send),
}

fn protocol_error(what: impl std::fmt::Display) -> ProtocolError {
    ProtocolError::new(ErrorKind::Protocol, what.to_string())
}

impl FolderSync<'_> {
    async fn run(mut self) -> Result<(), EngineError> {
        let folder = self.folder;
        let body = CommandBody::select(folder.server_path.as_str())
            .map_err(|e| protocol_error(format!("bad folder name {:?}: {e}", folder.path)))?;
        let selected = self
            .session
            .run_ok(&format!("SELECT {}", folder.path), body)
            .await?;
        let mut uidvalidity = None;
        let mut uidnext = None;
        let mut highestmodseq = None;
        for code in selected
            .codes
            .iter()
            .chain(selected.status.body.code.iter())
        {
            match code {
                Code::UidValidity(v) => uidvalidity = Some(i64::from(v.get())),
                Code::UidNext(v) => uidnext = Some(i64::from(v.get())),
                Code::HighestModSeq(v) => highestmodseq = i64::try_from(v.get()).ok(),
                _ => {}
            }
        }
        let exists = selected.data.iter().find_map(|d| {
            if let Data::Exists(n) = d {
                Some(*n)
            } else {
                None
            }
        });
        if let (Some(old), Some(new)) = (folder.uidvalidity, uidvalidity)
            && old != new
        {
            self.store.reset_folder(folder.id, new)?;
        }

        if exists.unwrap_or(0) > 0 {
            self.fetch_missing_headers().await?;
            self.mirror_flags_and_expunges().await?;
        } else {
            // An empty folder: everything cached is gone.
            let cached: Vec<i64> = self
                .store
                .cached_flags(folder.id)?
                .into_iter()
                .map(|(uid, ..)| uid)
                .collect();
            self.report.expunged += cached.len();
            self.store.apply_server_changes(folder.id, &[], &cached)?;
        }
        self.store
            .set_folder_sync_state(folder.id, uidvalidity, uidnext, highestmodseq)?;
        (self.on_event)(Event::FolderChanged {
            account: folder.account_id,
            folder: folder.id,
        });
        Ok(())
    }

    /// Fetches headers of every UID not cached: first those above the cached range (new mail),
    /// then those below it (backfill), newest first, one transaction per batch.
    async fn fetch_missing_headers(&mut self) -> Result<(), EngineError> {
        let folder = self.folder;
        let search = CommandBody::search(None, Vec1::from(SearchKey::All), true);
        let done = self.session.run_ok("UID SEARCH ALL", search).await?;
        let mut server_uids: Vec<u32> = done
            .data
            .iter()
            .flat_map(|d| match d {
                Data::Search(uids, ..) => uids.iter().map(|u| u.get()).collect(),
                _ => Vec::new(),
            })
            .collect();
        server_uids.sort_unstable();
        let (low, high) = self.store.uid_range(folder.id)?;
        let missing: Vec<u32> = server_uids
            .iter()
            .rev()
            .copied()
            .filter(|uid| match (low, high) {
                (Some(low), Some(high)) => i64::from(*uid) > high || i64::from(*uid) < low,
                _ => true,
            })
            .collect();
        let total = missing.len() as u64;
        let mut done_count = 0u64;
        for batch in missing.chunks(BATCH) {
            let mut sorted = batch.to_vec();
            sorted.sort_unstable();
            let set = SequenceSet::try_from(uid_set(&sorted).as_str())
                .map_err(|e| protocol_error(format!("cannot build a UID set: {e}")))?;
            let items = fetch::header_items(false);
            let body = CommandBody::fetch(set, items, true)
                .map_err(|e| protocol_error(format!("cannot build FETCH: {e:?}")))?;
            let mut fetched = Vec::with_capacity(batch.len());
            let (_, status) = self
                .session
                .run_streaming(body, |data| fetched.extend(fetch::from_data(data)))
                .await?;
            if status.body.kind != imap_codec::imap_types::response::StatusKind::Ok {
                return Err(protocol_error(format!(
                    "FETCH in {} failed: {}",
                    folder.path, status.body.text
                ))
                .into());
            }
            let messages = self.rows_from(fetched, batch);
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

    /// Turns FETCH results into rows, newest first as asked. A UID the server did not answer
    /// for, or answered without the needed items, is logged and skipped.
    fn rows_from(&mut self, fetched: Vec<Fetched>, asked: &[u32]) -> Vec<NewMessage> {
        let mut by_uid: HashMap<u32, Fetched> = HashMap::new();
        for f in fetched {
            if let Some(uid) = f.uid {
                by_uid.insert(uid, f);
            }
        }
        let mut out = Vec::with_capacity(asked.len());
        for uid in asked {
            let Some(f) = by_uid.remove(uid) else {
                // Expunged meanwhile, or a response we could not parse: the next pass retries.
                continue;
            };
            let Some(header) = f.header.as_deref() else {
                self.report.skipped.push(format!(
                    "{} UID {uid}: the server sent no header fields",
                    self.folder.path
                ));
                continue;
            };
            let summary = parse::summarize(header);
            let (bits, keywords) = flag::from_names(f.flags.as_deref().unwrap_or_default());
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
                preview: String::new(),
                structure: structure.and_then(|s| serde_json::to_string(s).ok()),
            });
        }
        out
    }

    /// Fetches UID and FLAGS of every message and mirrors changes and expunges into the cache.
    async fn mirror_flags_and_expunges(&mut self) -> Result<(), EngineError> {
        let folder = self.folder;
        let cached = self.store.cached_flags(folder.id)?;
        let Some(max) = cached.last().map(|(uid, ..)| *uid) else {
            return Ok(());
        };
        let set = SequenceSet::try_from(format!("1:{max}").as_str())
            .map_err(|e| protocol_error(format!("cannot build a UID set: {e}")))?;
        let body = CommandBody::fetch(set, fetch::flag_items(false), true)
            .map_err(|e| protocol_error(format!("cannot build FETCH: {e:?}")))?;
        let mut server: HashMap<i64, (i64, String)> = HashMap::new();
        let (_, status) = self
            .session
            .run_streaming(body, |data| {
                if let Some(f) = fetch::from_data(data)
                    && let (Some(uid), Some(flags)) = (f.uid, f.flags)
                {
                    server.insert(i64::from(uid), flag::from_names(&flags));
                }
            })
            .await?;
        if status.body.kind != imap_codec::imap_types::response::StatusKind::Ok {
            return Err(protocol_error(format!(
                "FETCH FLAGS in {} failed: {}",
                folder.path, status.body.text
            ))
            .into());
        }
        let mut changes = Vec::new();
        let mut expunged = Vec::new();
        for (uid, bits, keywords) in cached {
            match server.get(&uid) {
                None => expunged.push(uid),
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
    }
}
