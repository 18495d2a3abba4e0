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
use imap_codec::imap_types::core::Vec1;
use imap_codec::imap_types::extensions::uidplus::UidElement;
use imap_codec::imap_types::flag::{Flag, StoreResponse, StoreType};
use imap_codec::imap_types::mailbox::Mailbox;
use imap_codec::imap_types::response::{Code, Data, StatusKind};
use imap_codec::imap_types::search::SearchKey;
use imap_codec::imap_types::sequence::SequenceSet;

use crate::engine::EngineError;
use crate::protocol::imap::Session;
use crate::protocol::{ErrorKind, ProtocolError};
use crate::store::{Folder, OpArgs, PendingOp, Store};

/// Why one action could not be applied.
enum Outcome {
    Done(Option<(i64, i64)>),
    Refused(String),
}

fn build_error(what: impl std::fmt::Display) -> EngineError {
    EngineError::Protocol(ProtocolError::new(ErrorKind::Protocol, what.to_string()))
}

/// Replays the account's queued actions; returns how many were applied.
pub async fn replay(
    store: &Store,
    session: &mut Session,
    account_id: i64,
) -> Result<usize, EngineError> {
    let mut applied = 0;
    let mut selected: Option<(i64, i64)> = None; // (folder id, uidvalidity)
    for op in store
        .pending_ops(account_id)?
        .into_iter()
        .filter(|op| op.state != "failed")
    {
        let Some(folder) = op.folder_id.map(|id| store.folder(id)).transpose()? else {
            store.fail_op(op.id, "the folder no longer exists")?;
            continue;
        };
        let Some(uid) = op.uid.and_then(|u| u32::try_from(u).ok()) else {
            store.fail_op(op.id, "the message had no UID on the server")?;
            continue;
        };
        let uidvalidity = match selected {
            Some((id, validity)) if id == folder.id => validity,
            _ => {
                let validity = super::open_folder(session, &folder, false).await?;
                selected = Some((folder.id, validity));
                validity
            }
        };
        if op.uidvalidity != Some(uidvalidity) {
            store.fail_op(op.id, "the folder was recreated on the server (UIDVALIDITY changed); the action no longer applies")?;
            continue;
        }
        let outcome = match &op.args {
            OpArgs::Flags { add, remove } => flags(store, session, &op, uid, add, remove).await?,
            OpArgs::Expunge => expunge(session, uid).await?,
            OpArgs::Move {
                target,
                message_id_header,
            } => {
                let target = store.folder(*target)?;
                let outcome =
                    move_message(session, &op, uid, &target, message_id_header.as_deref()).await?;
                selected = None; // the search may have selected the target
                outcome
            }
        };
        match outcome {
            Outcome::Done(moved) => {
                store.complete_op(op.id, moved)?;
                applied += 1;
            }
            Outcome::Refused(reason) => store.fail_op(op.id, &reason)?,
        }
    }
    Ok(applied)
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

async fn flags(
    store: &Store,
    session: &mut Session,
    op: &PendingOp,
    uid: u32,
    add: &[String],
    remove: &[String],
) -> Result<Outcome, EngineError> {
    // Our last known MODSEQ of the message, for the conflict rule.
    let modseq = op
        .message_id
        .and_then(|id| store.message_modseq(id).ok().flatten());
    let modifiers: Vec<StoreModifier> = match modseq
        .and_then(|m| u64::try_from(m).ok())
        .and_then(NonZeroU64::new)
    {
        Some(m) if session.has_capability("CONDSTORE") => {
            vec![StoreModifier::UnchangedSince(m.get())]
        }
        _ => Vec::new(),
    };
    for (kind, names) in [(StoreType::Add, add), (StoreType::Remove, remove)] {
        let list = parse_flags(names);
        if list.is_empty() {
            continue;
        }
        let body = CommandBody::Store {
            sequence_set: uid_set(uid)?,
            kind,
            response: StoreResponse::Silent,
            flags: list,
            uid: true,
            modifiers: modifiers.clone(),
        };
        let done = session.run(body).await?;
        if done.status.body.kind != StatusKind::Ok {
            return Ok(Outcome::Refused(format!(
                "the server refused the flag change: {}",
                done.status.body.text
            )));
        }
        if matches!(done.status.body.code, Some(Code::Modified(_))) {
            // Another client changed the message since our last sync: its state wins.
            return Ok(Outcome::Done(None));
        }
    }
    Ok(Outcome::Done(None))
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
    let body = if session.has_capability("UIDPLUS") {
        CommandBody::ExpungeUid {
            sequence_set: uid_set(uid)?,
        }
    } else {
        // Without UIDPLUS, EXPUNGE also removes other messages marked \Deleted, as RFC 3501 intends.
        CommandBody::Expunge
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

fn first_destination_uid<'a>(mut codes: impl Iterator<Item = &'a Code<'static>>) -> Option<i64> {
    codes.find_map(|c| match c {
        Code::CopyUid { destination, .. } => destination.0.as_ref().first().map(|e| match e {
            UidElement::Single(u) | UidElement::Range(u, _) => i64::from(u.get()),
        }),
        _ => None,
    })
}

async fn move_message(
    session: &mut Session,
    op: &PendingOp,
    uid: u32,
    target: &Folder,
    header_id: Option<&str>,
) -> Result<Outcome, EngineError> {
    let mailbox = Mailbox::try_from(target.server_path.as_str())
        .map_err(|e| build_error(format!("bad folder name {:?}: {e}", target.path)))?;
    let sequence_set = uid_set(uid)?;
    let use_move = session.has_capability("MOVE");
    let done = if use_move {
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
    if !done.is_ok() {
        return Ok(Outcome::Refused(format!(
            "the server refused to move the message to {}: {}",
            target.path, done.status.body.text
        )));
    }
    if !use_move {
        // COPY then remove the original: the fallback for servers without MOVE.
        expunge(session, uid).await?;
    }
    let new_uid = match first_destination_uid(done.all_codes()) {
        Some(uid) => Some(uid),
        None => find_by_message_id(session, target, header_id).await?,
    };
    match (new_uid, op.message_id) {
        (Some(new_uid), Some(message)) => Ok(Outcome::Done(Some((message, new_uid)))),
        // Unknown: the next sync of the target fetches it and adopts the row by Message-ID.
        _ => Ok(Outcome::Done(None)),
    }
}

/// The highest UID in `folder` whose Message-ID header is `header_id`.
async fn find_by_message_id(
    session: &mut Session,
    folder: &Folder,
    header_id: Option<&str>,
) -> Result<Option<i64>, EngineError> {
    let Some(header_id) = header_id else {
        return Ok(None);
    };
    let mailbox = Mailbox::try_from(folder.server_path.as_str())
        .map_err(|e| build_error(format!("bad folder name {:?}: {e}", folder.path)))?;
    session
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
    Ok(done
        .data
        .iter()
        .flat_map(|d| match d {
            Data::Search(uids, ..) => uids.iter().map(|u| i64::from(u.get())).collect(),
            _ => Vec::new(),
        })
        .max())
}
