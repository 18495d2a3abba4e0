//! Replays queued offline actions in order, exactly once in effect.
//!
//! - Flags: `UID STORE +FLAGS/-FLAGS`, idempotent. Under CONDSTORE with a known MODSEQ the store
//!   is conditional (`UNCHANGEDSINCE`): if another client changed the message since our last
//!   sync, the server's state wins and our change is dropped (the conflict rule in
//!   ARCHITECTURE.md).
//! - Move: `UID MOVE` (or COPY + STORE \Deleted + UID EXPUNGE/EXPUNGE); the new UID comes from
//!   COPYUID, or, when unknown (no UIDPLUS, or a replay after a crash that already moved it), by
//!   searching the target folder for the Message-ID. So a replay never moves twice or duplicates.
//! - Expunge: STORE \Deleted, then `UID EXPUNGE` (UIDPLUS) or `EXPUNGE`.
//!
//! A network failure stops the replay with the actions still queued; a refusal by the server
//! marks that action failed with the server's reason and the replay goes on.

use std::num::NonZeroU64;

use imap_codec::imap_types::command::{CommandBody, StoreModifier};
use imap_codec::imap_types::core::{Literal, LiteralMode, Vec1};
use imap_codec::imap_types::extensions::binary::{Literal8, LiteralOrLiteral8};
use imap_codec::imap_types::extensions::uidplus::UidElement;
use imap_codec::imap_types::flag::{Flag, StoreResponse, StoreType};
use imap_codec::imap_types::mailbox::Mailbox;
use imap_codec::imap_types::response::{Code, Data, StatusKind};
use imap_codec::imap_types::search::SearchKey;
use imap_codec::imap_types::sequence::SequenceSet;

use crate::engine::lease::Lease;
use crate::engine::{EngineError, Kind};
use crate::protocol::imap::Session;
use crate::protocol::imap::fetch;
use crate::protocol::{ErrorKind, ProtocolError};
use crate::store::{
    FlagState, Folder, Landed, LeasePurpose, OpArgs, PendingOp, Store, StoreError, flag,
};

/// Why one action could not be applied.
enum Outcome {
    Done(Option<Landed>),
    /// A flag change went through (or lost a conflict); the server's flags now, if it said.
    Flags(Option<FlagState>),
    Refused(String),
}

fn build_error(what: impl std::fmt::Display) -> EngineError {
    EngineError::Protocol(ProtocolError::new(ErrorKind::Protocol, what.to_string()))
}

/// Replays the account's queued actions; returns how many were applied. An action the server
/// refuses (a NO to its SELECT or its command: the folder was deleted, or is not ours to change)
/// fails with the server's reason and the replay goes on; a network failure stops it with the
/// queue intact.
///
/// One process at a time replays an account's queue (the window and `tern sync` may share a
/// data directory): the replay holds the account's replay lease, renewed while it runs.
/// When another process holds it, nothing is replayed here (that process does it).
pub async fn replay(
    store: &Store,
    session: &mut Session,
    account_id: i64,
) -> Result<usize, EngineError> {
    if store
        .pending_ops(account_id)?
        .iter()
        .all(|op| op.state == "failed")
    {
        return Ok(0);
    }
    let Some(lease) = Lease::take(store, account_id, LeasePurpose::Replay)? else {
        return Ok(0);
    };
    // Renewed in the background while the replay runs, released when it ends.
    replay_leased(store, session, account_id, &lease).await
}

async fn replay_leased(
    store: &Store,
    session: &mut Session,
    account_id: i64,
    lease: &Lease,
) -> Result<usize, EngineError> {
    let mut applied = 0;
    let mut selected: Option<(i64, i64)> = None; // (folder id, uidvalidity)
    for op in store
        .pending_ops(account_id)?
        .into_iter()
        .filter(|op| op.state != "failed")
    {
        if !lease.renew()? {
            // Another process took over (this one stalled past the lease): it goes on.
            break;
        }
        // Re-read: another process may have completed or failed it meanwhile.
        let Some(op) = store.pending_op(op.id)?.filter(|op| op.state != "failed") else {
            continue;
        };
        let outcome = match replay_one(store, session, &op, &mut selected).await {
            Ok(Some(outcome)) => outcome,
            Ok(None) => continue,
            // Refused, or answered with something unusable: this action fails with the
            // reason, the others go on (the session read the command's answer to its end).
            Err(e) if matches!(e.kind(), Kind::Refused | Kind::Protocol) => {
                selected = None;
                Outcome::Refused(e.to_string())
            }
            Err(e) => return Err(e),
        };
        match outcome {
            Outcome::Done(moved) => {
                store.complete_op(op.id, moved)?;
                applied += 1;
            }
            Outcome::Flags(state) => {
                store.complete_flags_op(&op, state.as_ref())?;
                applied += 1;
            }
            Outcome::Refused(reason) => store.fail_op(op.id, &reason)?,
        }
    }
    Ok(applied)
}

/// Sends one action. None when it was settled without the server (marked failed: no UID, the
/// folder is gone or was recreated).
async fn replay_one(
    store: &Store,
    session: &mut Session,
    op: &PendingOp,
    selected: &mut Option<(i64, i64)>,
) -> Result<Option<Outcome>, EngineError> {
    let folder = match op.folder_id.map(|id| store.folder(id)) {
        Some(Ok(folder)) => folder,
        None | Some(Err(StoreError::NotFound(_))) => {
            store.fail_op(op.id, "the folder no longer exists")?;
            return Ok(None);
        }
        Some(Err(e)) => return Err(e.into()),
    };
    let outcome = match &op.args {
        // A folder-wide change and an upload need no UID of their own.
        OpArgs::FlagsAll { add, through_uid } => {
            let validity = super::open_folder(session, &folder, false).await?;
            *selected = Some((folder.id, validity));
            if op.uidvalidity.or(folder.uidvalidity) != Some(validity) {
                store.fail_op(op.id, RECREATED)?;
                return Ok(None);
            }
            mark_all(store, session, &folder, add, *through_uid).await?
        }
        OpArgs::Append { flags } => {
            *selected = None; // a retry may have examined the folder
            append(store, session, op, &folder, flags).await?
        }
        OpArgs::Flags { add, remove } => {
            let Some(uid) = checked_uid(store, session, op, &folder, selected).await? else {
                return Ok(None);
            };
            flags(store, session, op, uid, add, remove).await?
        }
        OpArgs::Expunge => {
            let Some(uid) = checked_uid(store, session, op, &folder, selected).await? else {
                return Ok(None);
            };
            expunge(session, uid).await?
        }
        OpArgs::Move {
            target,
            message_id_header,
        }
        | OpArgs::Copy {
            target,
            message_id_header,
            ..
        } => {
            let target = match store.folder(*target) {
                Ok(target) => target,
                Err(StoreError::NotFound(_)) => {
                    store.fail_op(op.id, "the target folder no longer exists")?;
                    return Ok(None);
                }
                Err(e) => return Err(e.into()),
            };
            let Some(uid) = checked_uid(store, session, op, &folder, selected).await? else {
                return Ok(None);
            };
            // A move carries its own row over; a copy has a row of its own waiting.
            let (row, remove_original) = match &op.args {
                OpArgs::Copy { copy, .. } => (Some(*copy), false),
                _ => (op.message_id, true),
            };
            store.start_op(op.id)?;
            let to = CopyTo {
                source: &folder,
                target: &target,
                header_id: message_id_header.as_deref(),
                row,
                retry: op.state == "running",
            };
            *selected = None; // the search may select the target
            let (outcome, original_kept) = copy_message(session, uid, to, remove_original).await?;
            if original_kept {
                // The message is in both folders on the server: the source's next pass finds
                // the original again.
                store.request_full_resync(folder.id)?;
            }
            outcome
        }
    };
    Ok(Some(outcome))
}

/// The message's UID for an action, with its folder selected; None (the action marked failed)
/// when it has no UID or the folder was recreated since the action was queued.
async fn checked_uid(
    store: &Store,
    session: &mut Session,
    op: &PendingOp,
    folder: &Folder,
    selected: &mut Option<(i64, i64)>,
) -> Result<Option<u32>, EngineError> {
    // A message that had no UID when the action was queued (e.g. a Sent copy not yet
    // uploaded) may have one now.
    // Only while the message is still in the action's folder: a move undone since (refused)
    // took it back to its source, and its UID there names another message here.
    let current_uid = match op.uid {
        Some(uid) => Some(uid),
        None => op
            .message_id
            .and_then(|m| store.message(m).ok())
            .filter(|m| op.folder_id.is_none_or(|f| f == m.folder_id))
            .and_then(|m| m.uid),
    };
    let Some(uid) = current_uid.and_then(|u| u32::try_from(u).ok()) else {
        store.fail_op(op.id, "the message had no UID on the server")?;
        return Ok(None);
    };
    let uidvalidity = match *selected {
        Some((id, validity)) if id == folder.id => validity,
        _ => {
            let validity = super::open_folder(session, folder, false).await?;
            *selected = Some((folder.id, validity));
            validity
        }
    };
    // The UIDVALIDITY the UID belongs to: recorded with the action, or, when the folder
    // was not synced then, the one recorded since.
    if op.uidvalidity.or(folder.uidvalidity) != Some(uidvalidity) {
        store.fail_op(op.id, RECREATED)?;
        return Ok(None);
    }
    Ok(Some(uid))
}

/// Why an action queued before its folder was recreated on the server fails.
const RECREATED: &str =
    "the folder was recreated on the server (UIDVALIDITY changed); the action no longer applies";

/// Flag changes the server reported, applied to the cache this many at a time.
const APPLY_BATCH: usize = 5_000;

/// Adds flags to the messages of the selected folder up to `through_uid` (Mark all read). The
/// server's answers (FLAGS and MODSEQ per message) go to the cache as they stream in, so the
/// cached MODSEQs stay current and later changes do not conflict with this one.
async fn mark_all(
    store: &Store,
    session: &mut Session,
    folder: &Folder,
    add: &[String],
    through_uid: Option<i64>,
) -> Result<Outcome, EngineError> {
    let range = match through_uid.and_then(|u| u32::try_from(u).ok()) {
        Some(last) => format!("1:{}", last.max(1)),
        None => "1:*".to_owned(),
    };
    let body = CommandBody::Store {
        sequence_set: SequenceSet::try_from(range.as_str())
            .map_err(|e| build_error(format!("{e}")))?,
        kind: StoreType::Add,
        response: StoreResponse::Answer,
        flags: parse_flags(add),
        uid: true,
        modifiers: Vec::new(),
    };
    let mut changes: Vec<crate::store::FlagUpdate> = Vec::new();
    let mut failed: Option<StoreError> = None;
    let (_, status) = session
        .run_streaming(body, |data| {
            if let Some(f) = fetch::from_data(data)
                && let (Some(uid), Some(flags)) = (f.uid, f.flags)
            {
                let (bits, keywords) = flag::from_names(&flags);
                let modseq = f.modseq.and_then(|m| i64::try_from(m).ok());
                changes.push((i64::from(uid), bits, keywords, modseq));
            }
            if changes.len() >= APPLY_BATCH && failed.is_none() {
                failed = store.apply_server_changes(folder.id, &changes, &[]).err();
                changes.clear();
            }
        })
        .await?;
    if let Some(e) = failed {
        return Err(e.into());
    }
    if !changes.is_empty() {
        store.apply_server_changes(folder.id, &changes, &[])?;
    }
    Ok(if status.body.kind == StatusKind::Ok {
        Outcome::Done(None)
    } else {
        Outcome::Refused(format!(
            "the server refused to mark the folder: {}",
            status.body.text
        ))
    })
}

fn uid_set(uid: u32) -> Result<SequenceSet, EngineError> {
    SequenceSet::try_from(uid).map_err(|e| build_error(format!("bad UID {uid}: {e}")))
}

fn parse_flags(names: &[String]) -> Vec<Flag<'_>> {
    names
        .iter()
        .filter_map(|n| Flag::try_from(n.as_str()).ok())
        .collect()
}

/// Sends a flag change and returns the message's flags as the server then holds them.
///
/// Under CONDSTORE the STORE is conditional on our last MODSEQ of the message. The STORE is not
/// `.SILENT`, so the server answers with the message's FLAGS (and MODSEQ): each of Tern's own
/// changes moves the cached MODSEQ forward, and the next change never conflicts with it. When
/// the server reports MODIFIED (another client changed the message since), the other client's
/// state wins and is fetched at once, so cache and server agree after the pass either way.
async fn flags(
    store: &Store,
    session: &mut Session,
    op: &PendingOp,
    uid: u32,
    add: &[String],
    remove: &[String],
) -> Result<Outcome, EngineError> {
    let condstore = session.has_capability("CONDSTORE");
    // Our last known MODSEQ of the message, for the conflict rule.
    let mut modseq = if condstore {
        op.message_id
            .and_then(|id| store.message_modseq(id).ok().flatten())
            .and_then(|m| u64::try_from(m).ok())
            .and_then(NonZeroU64::new)
    } else {
        None
    };
    let mut state: Option<FlagState> = None;
    for (kind, names) in [(StoreType::Add, add), (StoreType::Remove, remove)] {
        let list = parse_flags(names);
        if list.is_empty() {
            continue;
        }
        let modifiers: Vec<StoreModifier> = modseq
            .map(|m| vec![StoreModifier::UnchangedSince(m.get())])
            .unwrap_or_default();
        let body = CommandBody::Store {
            sequence_set: uid_set(uid)?,
            kind,
            response: StoreResponse::Answer,
            flags: list,
            uid: true,
            modifiers,
        };
        let done = session.run(body).await?;
        if done.status.body.kind != StatusKind::Ok {
            return Ok(Outcome::Refused(format!(
                "the server refused the flag change: {}",
                done.status.body.text
            )));
        }
        if let Some(reported) = reported_state(&done.data, uid) {
            modseq = reported
                .modseq
                .and_then(|m| u64::try_from(m).ok())
                .and_then(NonZeroU64::new)
                .or(modseq);
            state = Some(reported);
        }
        if done.all_codes().any(|c| matches!(c, Code::Modified(_))) {
            // Another client changed the message since our last sync: its state wins, and
            // is read back now.
            state = None;
            break;
        }
    }
    if state.is_none() {
        state = fetch_state(session, uid, condstore).await?;
    }
    Ok(Outcome::Flags(state))
}

/// The flags (and MODSEQ) an untagged FETCH in `data` reports for `uid`, the last one if several.
fn reported_state(data: &[Data<'static>], uid: u32) -> Option<FlagState> {
    data.iter()
        .rev()
        .filter_map(|d| fetch::from_data(d.clone()))
        .filter(|f| f.uid == Some(uid))
        .filter_map(|f| {
            let (bits, keywords) = flag::from_names(f.flags.as_deref()?);
            Some(FlagState {
                bits,
                keywords,
                modseq: f.modseq.and_then(|m| i64::try_from(m).ok()),
            })
        })
        .next()
}

/// `UID FETCH uid (FLAGS [MODSEQ])`: the message's flags as the server holds them now; None
/// when the message is gone.
async fn fetch_state(
    session: &mut Session,
    uid: u32,
    condstore: bool,
) -> Result<Option<FlagState>, EngineError> {
    let body = CommandBody::fetch(uid_set(uid)?, fetch::flag_items(condstore), true)
        .map_err(|e| build_error(format!("cannot build FETCH: {e:?}")))?;
    let done = session.run(body).await?;
    Ok(reported_state(&done.data, uid))
}

async fn expunge(session: &mut Session, uid: u32) -> Result<Outcome, EngineError> {
    let body = CommandBody::Store {
        sequence_set: uid_set(uid)?,
        kind: StoreType::Add,
        response: StoreResponse::Silent,
        flags: vec![Flag::Deleted],
        uid: true,
        modifiers: Vec::new(),
    };
    let done = session.run(body).await?;
    if done.status.body.kind != StatusKind::Ok {
        return Ok(Outcome::Refused(format!(
            "the server refused to delete the message: {}",
            done.status.body.text
        )));
    }
    if !session.has_capability("UIDPLUS") {
        // Without UIDPLUS, EXPUNGE would also remove the messages other clients marked
        // \Deleted (and meant to keep until they expunge). The message stays marked \Deleted
        // on the server, which Tern counts as gone (see ARCHITECTURE.md).
        return Ok(Outcome::Done(None));
    }
    let body = CommandBody::ExpungeUid {
        sequence_set: uid_set(uid)?,
    };
    let done = session.run(body).await?;
    if done.status.body.kind != StatusKind::Ok {
        return Ok(Outcome::Refused(format!(
            "the server refused to expunge: {}",
            done.status.body.text
        )));
    }
    Ok(Outcome::Done(None))
}

/// The first destination UID and the destination UIDVALIDITY of a COPYUID code.
fn first_destination_uid<'a>(
    mut codes: impl Iterator<Item = &'a Code<'static>>,
) -> Option<(i64, Option<i64>)> {
    codes.find_map(|c| match c {
        Code::CopyUid {
            destination,
            uid_validity,
            ..
        } => destination.0.as_ref().first().map(|e| match e {
            UidElement::Single(u) | UidElement::Range(u, _) => {
                (i64::from(u.get()), Some(i64::from(uid_validity.get())))
            }
        }),
        _ => None,
    })
}

/// Where a copy or move goes, and how to recognise a copy made by an interrupted replay.
struct CopyTo<'a> {
    source: &'a Folder,
    target: &'a Folder,
    header_id: Option<&'a str>,
    /// The cached row that stands for the copy (gets the new UID).
    row: Option<i64>,
    /// The action was started before (a crash or cut came between the command and its
    /// completion): look for the copy in the target before copying again.
    retry: bool,
}

/// Copies (or moves, when `remove_original`) one message. Uses MOVE when offered, else COPY then
/// \Deleted + expunge of the original. The new UID comes from COPYUID, else from a search of the
/// target by Message-ID; a retried action searches first, so the copy is never made twice. An
/// OK that left no copy in the target (the message was gone from the source) is a refusal.
/// Also says whether the original stayed although it was to be removed (the server refused).
async fn copy_message(
    session: &mut Session,
    uid: u32,
    to: CopyTo<'_>,
    remove_original: bool,
) -> Result<(Outcome, bool), EngineError> {
    let done = |new_uid: Option<(i64, Option<i64>)>| match (new_uid, to.row) {
        (Some((uid, uidvalidity)), Some(row)) => Outcome::Done(Some(Landed {
            message_id: row,
            uid,
            uidvalidity,
        })),
        // Unknown: the next sync of the target fetches it and adopts the row by Message-ID.
        _ => Outcome::Done(None),
    };
    let use_move = remove_original && session.has_capability("MOVE");
    if to.retry
        && !use_move
        && let Some(found) = find_by_message_id(session, to.target, to.header_id).await?
    {
        let mut kept = false;
        if remove_original {
            // The copy exists; only the original may be left to remove.
            super::open_folder(session, to.source, false).await?;
            kept = matches!(expunge(session, uid).await?, Outcome::Refused(_));
        }
        return Ok((done(Some(found)), kept));
    }
    let mailbox = Mailbox::try_from(to.target.server_path.as_str())
        .map_err(|e| build_error(format!("bad folder name {:?}: {e}", to.target.path)))?;
    let sequence_set = uid_set(uid)?;
    let reply = if use_move {
        session
            .run(CommandBody::Move {
                sequence_set,
                mailbox,
                uid: true,
            })
            .await?
    } else {
        session
            .run(CommandBody::Copy {
                sequence_set,
                mailbox,
                uid: true,
            })
            .await?
    };
    if !reply.is_ok() {
        let verb = if remove_original { "move" } else { "copy" };
        return Ok((
            Outcome::Refused(format!(
                "the server refused to {verb} the message to {}: {}",
                to.target.path, reply.status.body.text
            )),
            false,
        ));
    }
    let mut kept = false;
    if remove_original && !use_move {
        // COPY then remove the original: the fallback for servers without MOVE. If the
        // server refuses to remove it, the message is in both folders now.
        kept = matches!(expunge(session, uid).await?, Outcome::Refused(_));
    }
    let new_uid = match first_destination_uid(reply.all_codes()) {
        Some(uid) => Some(uid),
        None => find_by_message_id(session, to.target, to.header_id).await?,
    };
    if new_uid.is_none() && to.header_id.is_some() {
        // OK, yet no copy is in the target: the message had left the source (another client
        // expunged or moved it first). Undone here, the cache then follows the server, rather
        // than keep a copy that exists nowhere.
        let verb = if remove_original { "move" } else { "copy" };
        return Ok((
            Outcome::Refused(format!(
                "the message was no longer in {} when Tern tried to {verb} it to {} (another client deleted or moved it)",
                to.source.path, to.target.path
            )),
            false,
        ));
    }
    Ok((done(new_uid), kept))
}
/// Uploads a stored message (a draft, a sent copy) with APPEND. The UID comes from APPENDUID,
/// else from a search by Message-ID; a retried upload searches first, so it is never stored twice.
async fn append(
    store: &Store,
    session: &mut Session,
    op: &PendingOp,
    folder: &Folder,
    flags: &[String],
) -> Result<Outcome, EngineError> {
    let refused = |why: &str| {
        Ok(Outcome::Refused(format!(
            "cannot store the message in {}: {why}",
            folder.path
        )))
    };
    let Some(row) = op.message_id else {
        return refused("it was deleted here before it was uploaded");
    };
    let message = match store.message(row) {
        Ok(message) => message,
        Err(StoreError::NotFound(_)) => {
            return refused("it was deleted here before it was uploaded");
        }
        Err(e) => return Err(e.into()),
    };
    if message.uid.is_some() {
        // A sync already found the server's copy and adopted the row.
        return Ok(Outcome::Done(None));
    }
    let header_id = message.message_id.as_deref();
    if op.state == "running"
        && let Some(found) = find_by_message_id(session, folder, header_id).await?
    {
        return Ok(Outcome::Done(Some(Landed {
            message_id: row,
            uid: found.0,
            uidvalidity: found.1,
        })));
    }
    let Some(raw) = store.raw_message(row)? else {
        return refused("its source is no longer cached");
    };
    let mailbox = Mailbox::try_from(folder.server_path.as_str())
        .map_err(|e| build_error(format!("bad folder name {:?}: {e}", folder.path)))?;
    let mode = if session.has_capability("LITERAL+")
        || (session.has_capability("LITERAL-") && raw.len() <= 4096)
    {
        LiteralMode::NonSync
    } else {
        LiteralMode::Sync
    };
    let message = match Literal::try_from(raw.as_slice()) {
        Ok(mut literal) => {
            literal.set_mode(mode);
            LiteralOrLiteral8::Literal(literal)
        }
        Err(_) if session.has_capability("BINARY") => LiteralOrLiteral8::Literal8(Literal8 {
            data: raw.as_slice().into(),
            mode,
        }),
        Err(_) => return refused("it contains NUL bytes and the server does not offer BINARY"),
    };
    let body = CommandBody::Append {
        mailbox,
        flags: parse_flags(flags)
            .into_iter()
            .filter(|f| !matches!(f, Flag::Deleted))
            .collect(),
        date: None,
        message,
    };
    store.start_op(op.id)?;
    let reply = session.run(body).await?;
    if !reply.is_ok() {
        return refused(&format!("the server said: {}", reply.status.body.text));
    }
    let uid = reply.all_codes().find_map(|c| match c {
        Code::AppendUid { uid, uid_validity } => {
            Some((i64::from(uid.get()), Some(i64::from(uid_validity.get()))))
        }
        _ => None,
    });
    // The message is on the server now: a failure to learn its UID must not fail the upload
    // (tried again, it would be stored twice); the folder's next pass adopts the row.
    let uid = match uid {
        Some(uid) => Some(uid),
        None => find_by_message_id(session, folder, header_id)
            .await
            .ok()
            .flatten(),
    };
    Ok(Outcome::Done(uid.map(|(uid, uidvalidity)| Landed {
        message_id: row,
        uid,
        uidvalidity,
    })))
}

/// The highest UID in `folder` whose Message-ID header is `header_id`, and the folder's
/// UIDVALIDITY.
async fn find_by_message_id(
    session: &mut Session,
    folder: &Folder,
    header_id: Option<&str>,
) -> Result<Option<(i64, Option<i64>)>, EngineError> {
    let Some(header_id) = header_id else {
        return Ok(None);
    };
    let mailbox = Mailbox::try_from(folder.server_path.as_str())
        .map_err(|e| build_error(format!("bad folder name {:?}: {e}", folder.path)))?;
    let examined = session
        .run_ok(
            &format!("EXAMINE {}", folder.path),
            CommandBody::Examine {
                mailbox,
                parameters: Vec::new(),
            },
        )
        .await?;
    let key = SearchKey::Header(
        "Message-ID"
            .try_into()
            .map_err(|e| build_error(format!("{e:?}")))?,
        format!("<{header_id}>")
            .try_into()
            .map_err(|e| build_error(format!("{e:?}")))?,
    );
    let done = session
        .run_ok(
            "UID SEARCH HEADER Message-ID",
            CommandBody::search(None, Vec1::from(key), true),
        )
        .await?;
    let uidvalidity = examined.all_codes().find_map(|c| match c {
        Code::UidValidity(v) => Some(i64::from(v.get())),
        _ => None,
    });
    Ok(done
        .data
        .iter()
        .flat_map(|d| match d {
            Data::Search(uids, ..) => uids.iter().map(|u| i64::from(u.get())).collect(),
            _ => Vec::new(),
        })
        .max()
        .map(|uid| (uid, uidvalidity)))
}
