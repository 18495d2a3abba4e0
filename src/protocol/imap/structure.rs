//! A message's MIME structure from BODYSTRUCTURE, with the IMAP section number of each part, so
//! that showing a message fetches only the parts it needs (`BODY.PEEK[section]`).

use imap_codec::imap_types::body::{BodyStructure, SpecificFields};
use serde::{Deserialize, Serialize};

/// One MIME part. Multiparts have children; leaves have a section to fetch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Part {
    /// IMAP section ("1", "2.1"); empty for the top-level multipart.
    pub section: String,
    /// Lower-cased MIME type, e.g. "text/plain", "multipart/alternative".
    pub mime: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub charset: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoding: Option<String>,
    /// Encoded size in bytes (leaves).
    #[serde(default)]
    pub size: u32,
    /// "attachment" or "inline", when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disposition: Option<String>,
    /// File name from Content-Disposition or the Content-Type name parameter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filename: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_id: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<Part>,
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn param(list: &[(impl AsRef<[u8]>, impl AsRef<[u8]>)], name: &str) -> Option<String> {
    list.iter()
        .find(|(k, _)| k.as_ref().eq_ignore_ascii_case(name.as_bytes()))
        .map(|(_, v)| text(v.as_ref()))
}

/// A file-name parameter, plain or RFC 2231 (`name*` = `charset'lang'percent-encoded`; the
/// value is kept encoded and decoded for display by `mail::parse::decode_filename`).
fn name_param(list: &[(impl AsRef<[u8]>, impl AsRef<[u8]>)], name: &str) -> Option<String> {
    param(list, name)
        .or_else(|| param(list, &format!("{name}*")))
        .or_else(|| {
            // Continuations: name*0*, name*1*, ... joined in order.
            let mut pieces = Vec::new();
            for i in 0..100 {
                match param(list, &format!("{name}*{i}*"))
                    .or_else(|| param(list, &format!("{name}*{i}")))
                {
                    Some(piece) => pieces.push(piece),
                    None => break,
                }
            }
            (!pieces.is_empty()).then(|| pieces.concat())
        })
}

/// Converts a BODYSTRUCTURE. `section` is the parent's section ("" at the top).
pub fn from_bodystructure(structure: &BodyStructure<'_>) -> Part {
    convert(structure, "", true)
}

fn child_section(parent: &str, index: usize) -> String {
    if parent.is_empty() {
        index.to_string()
    } else {
        format!("{parent}.{index}")
    }
}

fn convert(structure: &BodyStructure<'_>, section: &str, top: bool) -> Part {
    match structure {
        BodyStructure::Multi {
            bodies,
            subtype,
            extension_data,
        } => {
            let children = bodies
                .as_ref()
                .iter()
                .enumerate()
                .map(|(i, body)| convert(body, &child_section(section, i + 1), false))
                .collect();
            let disposition = extension_data
                .as_ref()
                .and_then(|e| e.tail.as_ref())
                .and_then(|d| d.disposition.as_ref());
            Part {
                section: section.to_owned(),
                mime: format!("multipart/{}", text(subtype.as_ref()).to_ascii_lowercase()),
                charset: None,
                encoding: None,
                size: 0,
                disposition: disposition.map(|(kind, _)| text(kind.as_ref()).to_ascii_lowercase()),
                filename: None,
                content_id: None,
                children,
            }
        }
        BodyStructure::Single {
            body,
            extension_data,
        } => {
            // A single-part message's only part is section "1".
            let section = if top {
                "1".to_owned()
            } else {
                section.to_owned()
            };
            let (mime, children) = match &body.specific {
                SpecificFields::Basic { r#type, subtype } => (
                    format!("{}/{}", text(r#type.as_ref()), text(subtype.as_ref()))
                        .to_ascii_lowercase(),
                    Vec::new(),
                ),
                SpecificFields::Text { subtype, .. } => (
                    format!("text/{}", text(subtype.as_ref()).to_ascii_lowercase()),
                    Vec::new(),
                ),
                SpecificFields::Message { body_structure, .. } => {
                    // The parts of an attached message are numbered below its own section.
                    let inner = convert(body_structure, &section, false);
                    let children = if inner.children.is_empty() {
                        vec![inner]
                    } else {
                        inner.children
                    };
                    ("message/rfc822".to_owned(), children)
                }
            };
            let params = &body.basic.parameter_list;
            let disposition = extension_data
                .as_ref()
                .and_then(|e| e.tail.as_ref())
                .and_then(|d| d.disposition.as_ref());
            let filename = disposition
                .and_then(|(_, list)| name_param(list, "filename"))
                .or_else(|| name_param(params, "name"));
            Part {
                section,
                mime,
                charset: param(params, "charset"),
                encoding: Some(
                    text(body.basic.content_transfer_encoding.as_ref()).to_ascii_lowercase(),
                ),
                size: body.basic.size,
                disposition: disposition.map(|(kind, _)| text(kind.as_ref()).to_ascii_lowercase()),
                filename,
                content_id: body.basic.id.0.as_ref().map(|id| text(id.as_ref())),
                children,
            }
        }
    }
}

impl Part {
    /// Every leaf part, depth first.
    pub fn leaves(&self) -> Vec<&Part> {
        let mut out = Vec::new();
        let mut stack = vec![self];
        while let Some(part) = stack.pop() {
            if part.children.is_empty() {
                out.push(part);
            } else {
                stack.extend(part.children.iter().rev());
            }
        }
        out
    }

    /// Whether the message has parts a user would call attachments: anything marked
    /// `attachment`, or a named non-text part (inline images referenced by Content-ID are not).
    pub fn has_attachments(&self) -> bool {
        self.leaves().iter().any(|p| {
            p.disposition.as_deref() == Some("attachment")
                || (!p.mime.starts_with("text/") && p.content_id.is_none() && p.filename.is_some())
                || (p.mime == "message/rfc822")
        })
    }
}
