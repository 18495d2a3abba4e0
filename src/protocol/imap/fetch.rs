//! FETCH: the items Tern asks for, and the conversion of FETCH responses into plain values.
//!
//! Headers are fetched as `BODY.PEEK[HEADER.FIELDS (...)]` rather than ENVELOPE: the engine then
//! decodes them with the same parser (mail-parser) as POP3 and local mail, including RFC 2047
//! words and broken headers, and gets References, which ENVELOPE lacks.

use std::num::NonZeroU32;

use imap_codec::imap_types::core::{AString, Vec1};
use imap_codec::imap_types::fetch::{MessageDataItem, MessageDataItemName, Section};
use imap_codec::imap_types::flag::FlagFetch;
use imap_codec::imap_types::response::Data;

use super::structure::{self, Part};

/// The header fields the message list needs.
pub const HEADER_FIELDS: [&str; 9] = [
    "DATE",
    "FROM",
    "TO",
    "CC",
    "SUBJECT",
    "MESSAGE-ID",
    "IN-REPLY-TO",
    "REFERENCES",
    "CONTENT-TYPE",
];

/// What one FETCH response said. Absent items stay `None`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fetched {
    pub seq: u32,
    pub uid: Option<u32>,
    /// IMAP flag names (`\Seen`, keywords), without `\Recent`.
    pub flags: Option<Vec<String>>,
    pub size: Option<u32>,
    /// Unix seconds.
    pub internal_date: Option<i64>,
    pub modseq: Option<u64>,
    /// The raw header fields.
    pub header: Option<Vec<u8>>,
    pub structure: Option<Part>,
    /// Body sections: (section text, origin offset, bytes).
    pub sections: Vec<(String, Option<u32>, Vec<u8>)>,
    /// PREVIEW (RFC 8970), when asked for and the server had it (possibly empty); None for NIL.
    pub preview: Option<String>,
}

/// The items for a headers-first sync: UID FLAGS RFC822.SIZE INTERNALDATE, BODYSTRUCTURE (unless
/// `structure` is false, to recover a message whose structure cannot be parsed) and the header
/// fields, plus MODSEQ under CONDSTORE.
pub fn header_items(condstore: bool, structure: bool) -> Vec<MessageDataItemName<'static>> {
    let fields: Vec<AString<'static>> = HEADER_FIELDS
        .iter()
        .filter_map(|f| AString::try_from(*f).ok())
        .collect();
    let mut items = vec![
        MessageDataItemName::Uid,
        MessageDataItemName::Flags,
        MessageDataItemName::Rfc822Size,
        MessageDataItemName::InternalDate,
    ];
    if structure {
        items.push(MessageDataItemName::BodyStructure);
    }
    if let Ok(fields) = Vec1::try_from(fields) {
        items.push(MessageDataItemName::BodyExt {
            section: Some(Section::HeaderFields(None, fields)),
            partial: None,
            peek: true,
        });
    }
    if condstore {
        items.push(MessageDataItemName::ModSeq);
    }
    items
}

/// The items for a flags-only resync: UID FLAGS (and MODSEQ).
pub fn flag_items(condstore: bool) -> Vec<MessageDataItemName<'static>> {
    let mut items = vec![MessageDataItemName::Uid, MessageDataItemName::Flags];
    if condstore {
        items.push(MessageDataItemName::ModSeq);
    }
    items
}

/// `BODY.PEEK[section]<offset.length>` (the whole section when `range` is None).
pub fn section_item(
    section: &str,
    range: Option<(u32, NonZeroU32)>,
) -> Option<MessageDataItemName<'static>> {
    let part = if section.is_empty() {
        None
    } else {
        let numbers: Option<Vec<NonZeroU32>> = section.split('.').map(|n| n.parse().ok()).collect();
        Some(imap_codec::imap_types::fetch::Part(
            Vec1::try_from(numbers?).ok()?,
        ))
    };
    Some(MessageDataItemName::BodyExt {
        section: part.map(Section::Part),
        partial: range,
        peek: true,
    })
}

/// Converts a FETCH response; other data gives None.
pub fn from_data(data: Data<'_>) -> Option<Fetched> {
    let Data::Fetch { seq, items } = data else {
        return None;
    };
    let mut out = Fetched {
        seq: seq.get(),
        ..Fetched::default()
    };
    for item in items.into_iter() {
        match item {
            MessageDataItem::Uid(uid) => out.uid = Some(uid.get()),
            MessageDataItem::Flags(flags) => out.flags = Some(flag_names(&flags)),
            MessageDataItem::Rfc822Size(size) => out.size = Some(size),
            MessageDataItem::InternalDate(date) => {
                out.internal_date = Some(date.as_ref().timestamp())
            }
            MessageDataItem::ModSeq(modseq) => out.modseq = Some(modseq.get()),
            MessageDataItem::BodyStructure(body) | MessageDataItem::Body(body) => {
                out.structure = Some(structure::from_bodystructure(&body));
            }
            MessageDataItem::BodyExt {
                section,
                origin,
                data,
            } => {
                let bytes = data.0.map(|d| d.as_ref().to_vec()).unwrap_or_default();
                match section {
                    Some(Section::HeaderFields(..)) | Some(Section::Header(None)) => {
                        out.header = Some(bytes)
                    }
                    Some(Section::Part(part)) => {
                        let name = part
                            .0
                            .as_ref()
                            .iter()
                            .map(|n| n.to_string())
                            .collect::<Vec<_>>()
                            .join(".");
                        out.sections.push((name, origin, bytes));
                    }
                    None => out.sections.push((String::new(), origin, bytes)),
                    Some(_) => {}
                }
            }
            MessageDataItem::Rfc822(data) => {
                out.sections.push((
                    String::new(),
                    None,
                    data.0.map(|d| d.as_ref().to_vec()).unwrap_or_default(),
                ));
            }
            _ => {}
        }
    }
    Some(out)
}

/// Flag names as IMAP spells them, without `\Recent` (which is per session).
pub fn flag_names(flags: &[FlagFetch<'_>]) -> Vec<String> {
    flags
        .iter()
        .filter_map(|f| match f {
            FlagFetch::Flag(flag) => Some(flag.to_string()),
            FlagFetch::Recent => None,
        })
        .collect()
}
