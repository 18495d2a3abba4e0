//! Bodies on demand: opening a message fetches only the part needed to show it (by its
//! BODYSTRUCTURE section, capped for very large parts); `--raw` fetches the whole message.

use std::num::NonZeroU32;

use imap_codec::imap_types::command::CommandBody;
use imap_codec::imap_types::fetch::MessageDataItemName;
use imap_codec::imap_types::sequence::SequenceSet;

use super::pool::{Conn, Connector, Priority};
use crate::account::Account;
use crate::account::credentials::Secret;
use crate::engine::EngineError;
use crate::mail::parse;
use crate::protocol::imap::Session;
use crate::protocol::imap::fetch;
use crate::protocol::imap::structure::Part;
use crate::protocol::{ErrorKind, ProtocolError};
use crate::store::{CachedPart, MessageRow, Store};

/// At most this much of one text part is fetched to show it.
pub const TEXT_LIMIT: u32 = 4 * 1024 * 1024;

/// The outcome of fetching a message's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BodyFetch {
    /// The readable text, when the message has a text part.
    pub text: Option<String>,
    /// The message's own HTML body, when the part shown is text/html (not sanitised yet).
    pub html: Option<String>,
    /// Bytes received from the server (0 when served from the cache).
    pub bytes_received: u64,
    /// False when the part was larger than `TEXT_LIMIT` and only its start was fetched.
    pub complete: bool,
}

fn error(message: String) -> EngineError {
    EngineError::Protocol(ProtocolError::new(ErrorKind::Protocol, message))
}

/// Which body of a multipart/alternative message to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Prefer {
    /// text/plain, else text/html turned into text (the CLI, replies, search).
    #[default]
    Text,
    /// text/html (to be sanitised and drawn as rich text), else text/plain.
    Html,
}

/// The parts that could be shown, in the order `prefer` wants them: the first text/plain and
/// the first text/html that are not attachments.
fn readable_parts(structure: &Part, prefer: Prefer) -> Vec<&Part> {
    let leaves = structure.leaves();
    let readable = |mime: &str| {
        leaves
            .iter()
            .copied()
            .find(|p| p.mime == mime && p.disposition.as_deref() != Some("attachment"))
    };
    let (plain, html) = (readable("text/plain"), readable("text/html"));
    match prefer {
        Prefer::Text => [plain, html],
        Prefer::Html => [html, plain],
    }
    .into_iter()
    .flatten()
    .collect()
}

/// The part to show: the first text/plain that is not an attachment, else the first text/html.
pub fn display_part(structure: &Part) -> Option<&Part> {
    readable_parts(structure, Prefer::Text).into_iter().next()
}

fn decode(part: &Part, data: &[u8]) -> Option<String> {
    parse::decode_part_text(
        &part.mime,
        part.charset.as_deref(),
        part.encoding.as_deref(),
        data,
    )
}

/// The text (and, for a text/html part, the HTML) of a fetched part.
fn shown(part: &Part, data: &[u8], bytes_received: u64, complete: bool) -> BodyFetch {
    let html = (part.mime == "text/html")
        .then(|| {
            parse::decode_part_html(
                &part.mime,
                part.charset.as_deref(),
                part.encoding.as_deref(),
                data,
            )
        })
        .flatten();
    BodyFetch {
        text: decode(part, data),
        html,
        bytes_received,
        complete,
    }
}

/// The text and HTML of a whole raw message.
fn shown_raw(raw: &[u8], prefer: Prefer, bytes_received: u64) -> BodyFetch {
    BodyFetch {
        text: parse::body_text(raw),
        html: (prefer == Prefer::Html)
            .then(|| parse::body_html(raw))
            .flatten(),
        bytes_received,
        complete: true,
    }
}

/// SELECTs (read-only) the message's folder and checks that its UIDs still mean what we cached.
async fn examine(
    session: &mut Session,
    store: &Store,
    message: &MessageRow,
) -> Result<u32, EngineError> {
    let folder = store.folder(message.folder_id)?;
    let uid = message
        .uid
        .and_then(|u| u32::try_from(u).ok())
        .ok_or_else(|| error(format!("message {} has no IMAP UID", message.id)))?;
    let uidvalidity = Some(super::open_folder(session, &folder, true).await?);
    if uidvalidity.is_some() && uidvalidity != folder.uidvalidity {
        return Err(error(format!(
            "the folder {} was recreated on the server; run `tern sync` and open the message again",
            folder.path
        )));
    }
    Ok(uid)
}

/// Fetches `BODY.PEEK[section]<range>` of one message; None when the server sent no such section.
async fn fetch_section(
    session: &mut Session,
    uid: u32,
    section: &str,
    range: Option<(u32, NonZeroU32)>,
) -> Result<Option<Vec<u8>>, EngineError> {
    if let Some(range) = range {
        return Ok(fetch_range(session, uid, section, range)
            .await?
            .map(|(_, bytes)| bytes));
    }
    // Whole: in pieces, so that no answer nears the most a session holds (64 MiB); a section
    // smaller than a piece comes in one FETCH, as it would whole.
    let mut whole: Option<Vec<u8>> = None;
    loop {
        let have = whole.as_ref().map_or(0, Vec::len);
        let offset = u32::try_from(have).map_err(|_| {
            error(format!(
                "UID {uid} is larger than 4 GiB; Tern cannot fetch it"
            ))
        })?;
        let Some((origin, piece)) =
            fetch_range(session, uid, section, (offset, WHOLE_PIECE)).await?
        else {
            // NIL at once: the server has no such section. Later, an answer without the
            // section is not its end: nothing half is kept as if it were whole.
            return match whole {
                None => Ok(None),
                Some(_) => Err(error(format!(
                    "the server stopped sending UID {uid} after {have} bytes; try again later"
                ))),
            };
        };
        let asked = WHOLE_PIECE.get() as usize;
        if piece.len() > asked || (offset > 0 && origin != Some(offset)) {
            // A server that ignores the range sends the whole section: taken as such at the
            // start, an error later (appending it would repeat the message).
            if offset == 0 && origin.is_none() {
                return Ok(Some(piece));
            }
            return Err(error(format!(
                "the server sent a different part of UID {uid} than asked for (at {have} bytes); try again later"
            )));
        }
        let short = piece.len() < asked;
        let total = have.saturating_add(piece.len());
        if total > MAX_WHOLE {
            return Err(error(format!(
                "UID {uid} is larger than {} MiB, the most Tern fetches of one message",
                MAX_WHOLE >> 20
            )));
        }
        match whole.as_mut() {
            Some(bytes) => bytes.extend_from_slice(&piece),
            None => whole = Some(piece),
        }
        if short {
            return Ok(whole);
        }
    }
}

/// How much of a section one FETCH asks for when the whole is wanted (16 MiB).
const WHOLE_PIECE: NonZeroU32 = match NonZeroU32::new(16 << 20) {
    Some(n) => n,
    None => NonZeroU32::MIN,
};

/// The most of one section fetched whole (1 GiB): a server cannot make it grow further.
const MAX_WHOLE: usize = 1 << 30;

/// `range` of `section` of UID `uid` (`BODY.PEEK[section]<offset.length>`): the origin the
/// server gave and the bytes, or None when its answer did not hold the section (NIL). Only a
/// FETCH answer that holds the section counts: an unsolicited FETCH of the same UID (a flag
/// change, QRESYNC names the UID) neither replaces nor hides it.
async fn fetch_range(
    session: &mut Session,
    uid: u32,
    section: &str,
    range: (u32, NonZeroU32),
) -> Result<Option<(Option<u32>, Vec<u8>)>, EngineError> {
    let item = fetch::section_item(section, Some(range))
        .ok_or_else(|| error(format!("bad section {section:?}")))?;
    let set = SequenceSet::try_from(uid).map_err(|e| error(format!("bad UID {uid}: {e}")))?;
    let body = CommandBody::fetch(set, vec![MessageDataItemName::Uid, item], true)
        .map_err(|e| error(format!("cannot build FETCH: {e:?}")))?;
    let mut seen = false;
    let mut data = None;
    session
        .run_streaming_ok(&format!("FETCH of UID {uid}"), body, |answer| {
            if let Some(f) = fetch::from_data(answer)
                && f.uid == Some(uid)
            {
                seen = true;
                if let Some((_, origin, bytes)) =
                    f.sections.into_iter().find(|(s, ..)| s == section)
                {
                    data = Some((origin, bytes));
                }
            }
        })
        .await?;
    if !seen {
        return Err(error(format!(
            "the message (UID {uid}) is no longer on the server; run `tern sync`"
        )));
    }
    Ok(data)
}

/// The message's MIME structure as saved at header sync.
pub fn cached_structure(store: &Store, message_id: i64) -> Result<Option<Part>, EngineError> {
    Ok(store
        .message_structure(message_id)?
        .and_then(|json| serde_json::from_str(&json).ok()))
}

/// The readable text if it can be shown without the network (whole message or its text part
/// cached); None when it must be fetched.
/// With `Prefer::Html`, a cached text/plain alternative is used when the HTML is not cached.
pub fn cached_text(
    store: &Store,
    message_id: i64,
    prefer: Prefer,
) -> Result<Option<BodyFetch>, EngineError> {
    if let Some(raw) = store.raw_message(message_id)? {
        return Ok(Some(shown_raw(&raw, prefer, 0)));
    }
    let Some(structure) = cached_structure(store, message_id)? else {
        return Ok(None);
    };
    let parts = readable_parts(&structure, prefer);
    if parts.is_empty() {
        return Ok(Some(BodyFetch {
            text: None,
            html: None,
            bytes_received: 0,
            complete: true,
        }));
    }
    for part in parts {
        if let Some(cached) = store.body_part(message_id, &part.section)? {
            return Ok(Some(shown(part, &cached.data, 0, cached.complete)));
        }
    }
    Ok(None)
}

/// The readable text of a message: from the cache when present, else fetched (only the part it
/// needs), cached, and indexed for search.
pub async fn fetch_text(
    store: &Store,
    account: &Account,
    password: &Secret,
    message_id: i64,
    prefer: Prefer,
) -> Result<BodyFetch, EngineError> {
    if let Some(cached) = cached_text(store, message_id, prefer)? {
        return Ok(cached);
    }
    let message = store.message(message_id)?;
    // POP3 has no parts to fetch: the rest of a headers-only message comes whole.
    let structure = if account.settings.protocol == crate::account::Protocol::Pop3 {
        None
    } else {
        cached_structure(store, message_id)?
    };
    let Some(structure) = structure else {
        // No structure to go by: fetch the whole message.
        let received = fetch_raw(store, account, password, message_id).await?;
        let raw = store.raw_message(message_id)?.unwrap_or_default();
        return Ok(shown_raw(&raw, prefer, received));
    };
    let Some(part) = readable_parts(&structure, prefer).into_iter().next() else {
        return Ok(BodyFetch {
            text: None,
            html: None,
            bytes_received: 0,
            complete: true,
        });
    };
    let range = (part.size > TEXT_LIMIT)
        .then(|| NonZeroU32::new(TEXT_LIMIT).map(|len| (0, len)))
        .flatten();
    let (data, bytes_received, _) =
        fetch_one(store, account, password, &message, &part.section, range).await?;
    let data = data.unwrap_or_default();
    let complete = range.is_none();
    store.save_body_part(
        message_id,
        &CachedPart {
            section: part.section.clone(),
            data: data.clone(),
            complete,
        },
    )?;
    let fetched = shown(part, &data, bytes_received, complete);
    if let Some(text) = &fetched.text {
        store.index_body_text(message_id, text)?;
    }
    Ok(fetched)
}

/// Fetches one section of one message for the user now, on a session from the account's pool
/// (or one of its own): (the bytes, if the server sent the section; bytes received; the UID).
async fn fetch_one(
    store: &Store,
    account: &Account,
    password: &Secret,
    message: &MessageRow,
    section: &str,
    range: Option<(u32, NonZeroU32)>,
) -> Result<(Option<Vec<u8>>, u64, u32), EngineError> {
    let mut conn = Connector::for_account(store, account, password, Priority::Now)
        .session()
        .await?;
    let session = conn.get()?;
    let before = session.bytes_received;
    let uid = examine(session, store, message).await?;
    let data = fetch_section(session, uid, section, range).await?;
    let received = session.bytes_received.saturating_sub(before);
    conn.finish().await;
    Ok((data, received, uid))
}

/// The whole raw source of a message: from the cache, else fetched and cached.
pub async fn raw_source(
    store: &Store,
    account: &Account,
    password: &Secret,
    message_id: i64,
) -> Result<Vec<u8>, EngineError> {
    if let Some(raw) = store.raw_message(message_id)? {
        return Ok(raw);
    }
    fetch_raw(store, account, password, message_id).await?;
    store.raw_message(message_id)?.ok_or_else(|| {
        error(format!(
            "the server sent no source for message {message_id}"
        ))
    })
}

/// Fetches and caches the whole raw message; returns the bytes received.
pub async fn fetch_raw(
    store: &Store,
    account: &Account,
    password: &Secret,
    message_id: i64,
) -> Result<u64, EngineError> {
    if account.settings.protocol == crate::account::Protocol::Pop3 {
        // Only the headers of a large message are here: the rest comes by RETR.
        return crate::engine::pop3::fetch_rest(store, account, password, message_id).await;
    }
    let message = store.message(message_id)?;
    let (raw, bytes_received, uid) =
        fetch_one(store, account, password, &message, "", None).await?;
    let raw = raw.ok_or_else(|| error(format!("the server sent no body for UID {uid}")))?;
    store.save_raw_message(message_id, &raw)?;
    if let Some(text) = parse::body_text(&raw) {
        store.index_body_text(message_id, &text)?;
    }
    Ok(bytes_received)
}

/// One attachment, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    /// The name the sender gave (decoded, not yet sanitised).
    pub name: String,
    pub content_type: String,
    pub data: Vec<u8>,
}

/// Whether a structure leaf is an attachment (the one rule, in `mail::attachment`).
fn is_attachment(part: &Part) -> bool {
    part.is_attachment()
}

/// Which parts `attachments` returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pick {
    /// Every attachment.
    All,
    /// The attachment at this position of `attachment_list`.
    Nth(usize),
    /// The part with this Content-ID (an inline image named by a `cid:` URL).
    ContentId(String),
}

/// Whether a Content-ID header value (`<a@b>`) names the id a `cid:` URL gave (`a@b`).
fn same_content_id(header: &str, id: &str) -> bool {
    header.trim().trim_start_matches('<').trim_end_matches('>') == id
}

/// What the attachment bar shows of one attachment, without its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachmentInfo {
    pub name: String,
    pub content_type: String,
    /// Bytes as stored on the server (encoded) when known from the structure.
    pub size: u64,
}

/// The attachments of a message, named and sized from the cache only (no download).
pub fn attachment_list(store: &Store, message_id: i64) -> Result<Vec<AttachmentInfo>, EngineError> {
    if let Some(raw) = store.raw_message(message_id)? {
        use mail_parser::{MessageParser, MimeHeaders as _};
        let Some(message) = MessageParser::default().parse(&raw) else {
            return Ok(Vec::new());
        };
        return Ok(crate::mail::attachment::attachment_parts(&message)
            .map(|part| AttachmentInfo {
                name: part.attachment_name().unwrap_or("attachment").to_owned(),
                content_type: part
                    .content_type()
                    .map(|ct| format!("{}/{}", ct.ctype(), ct.subtype().unwrap_or("octet-stream")))
                    .unwrap_or_else(|| "application/octet-stream".to_owned()),
                size: part.contents().len() as u64,
            })
            .collect());
    }
    let Some(structure) = cached_structure(store, message_id)? else {
        return Ok(Vec::new());
    };
    Ok(structure
        .leaves()
        .into_iter()
        .filter(|p| is_attachment(p))
        .map(|p| AttachmentInfo {
            name: p
                .filename
                .as_deref()
                .map(crate::mail::parse::decode_filename)
                .unwrap_or_else(|| "attachment".to_owned()),
            content_type: p.mime.clone(),
            size: u64::from(p.size),
        })
        .collect())
}

/// The attachments of a message: from the cached whole message, else each fetched by its section
/// (only what is not cached yet) and cached. `offline` uses the cache only.
pub async fn attachments(
    store: &Store,
    account: &Account,
    password: Option<&Secret>,
    message_id: i64,
    pick: &Pick,
) -> Result<Vec<Attachment>, EngineError> {
    if let Some(raw) = store.raw_message(message_id)? {
        use mail_parser::{MessageParser, MimeHeaders as _};
        let Some(message) = MessageParser::default().parse(&raw) else {
            return Ok(Vec::new());
        };
        let parts: Vec<&mail_parser::MessagePart<'_>> = match pick {
            Pick::All => crate::mail::attachment::attachment_parts(&message).collect(),
            Pick::Nth(n) => crate::mail::attachment::attachment_parts(&message)
                .nth(*n)
                .into_iter()
                .collect(),
            Pick::ContentId(cid) => message
                .parts
                .iter()
                .filter(|p| p.content_id().is_some_and(|id| same_content_id(id, cid)))
                .take(1)
                .collect(),
        };
        return Ok(parts
            .into_iter()
            .map(|part| Attachment {
                name: part.attachment_name().unwrap_or("attachment").to_owned(),
                content_type: part
                    .content_type()
                    .map(|ct| format!("{}/{}", ct.ctype(), ct.subtype().unwrap_or("octet-stream")))
                    .unwrap_or_else(|| "application/octet-stream".to_owned()),
                data: part.contents().to_vec(),
            })
            .collect());
    }
    if account.settings.protocol == crate::account::Protocol::Pop3 {
        // A POP3 message is here whole, or only its headers are: then the rest comes first.
        let Some(password) = password else {
            return Err(error(format!(
                "only the headers of message {message_id} are here; open it while online to download the rest"
            )));
        };
        crate::engine::pop3::fetch_rest(store, account, password, message_id).await?;
        if store.raw_message(message_id)?.is_none() {
            return Err(error(format!(
                "the server sent no source for message {message_id}"
            )));
        }
        return Box::pin(attachments(
            store,
            account,
            Some(password),
            message_id,
            pick,
        ))
        .await;
    }
    let Some(structure) = cached_structure(store, message_id)? else {
        return Err(error(format!(
            "the structure of message {message_id} is not cached; run `tern sync`"
        )));
    };
    let leaves = structure.leaves().into_iter();
    let wanted: Vec<&Part> = match pick {
        Pick::All => leaves.filter(|p| is_attachment(p)).collect(),
        Pick::Nth(n) => leaves
            .filter(|p| is_attachment(p))
            .nth(*n)
            .into_iter()
            .collect(),
        Pick::ContentId(cid) => leaves
            .filter(|p| {
                p.content_id
                    .as_deref()
                    .is_some_and(|id| same_content_id(id, cid))
            })
            .take(1)
            .collect(),
    };
    // Inline images wait behind the message the user opened.
    let priority = match pick {
        Pick::ContentId(_) => Priority::Later,
        Pick::All | Pick::Nth(_) => Priority::Now,
    };
    let mut conn: Option<Conn> = None;
    let mut uid = 0;
    let mut out = Vec::new();
    for part in wanted {
        let cached = store
            .body_part(message_id, &part.section)?
            .filter(|c| c.complete);
        let data = match cached {
            Some(cached) => cached.data,
            None => {
                let Some(password) = password else {
                    return Err(error(format!(
                        "the attachments of message {message_id} are not cached; run the command again while online"
                    )));
                };
                if conn.is_none() {
                    let mut c = Connector::for_account(store, account, password, priority)
                        .session()
                        .await?;
                    uid = examine(c.get()?, store, &store.message(message_id)?).await?;
                    conn = Some(c);
                }
                let Some(c) = conn.as_mut() else { continue };
                let data = fetch_section(c.get()?, uid, &part.section, None)
                    .await?
                    .unwrap_or_default();
                store.save_body_part(
                    message_id,
                    &CachedPart {
                        section: part.section.clone(),
                        data: data.clone(),
                        complete: true,
                    },
                )?;
                data
            }
        };
        out.push(Attachment {
            name: part
                .filename
                .as_deref()
                .map(parse::decode_filename)
                .unwrap_or_else(|| "attachment".to_owned()),
            content_type: part.mime.clone(),
            data: crate::mail::attachment::decode_part_bytes(
                &part.mime,
                part.encoding.as_deref(),
                &data,
            ),
        });
    }
    if let Some(c) = conn {
        c.finish().await;
    }
    Ok(out)
}
