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

/// `top`: `structure` is the body of a message (the whole message, or an attached one) whose
/// parts are numbered below `section`.
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
            // A single-part message's only part is section "1" below the message: "1" at the
            // top, "N.1" inside an attached message at section N (RFC 3501 6.4.5).
            let section = if top {
                child_section(section, 1)
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
                    let inner = convert(body_structure, &section, true);
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

    /// Whether the message has parts a user would call attachments.
    pub fn has_attachments(&self) -> bool {
        self.leaves().iter().any(|p| p.is_attachment())
    }

    /// Whether this part is an attachment (`mail::attachment::is_attachment`, the one rule).
    pub fn is_attachment(&self) -> bool {
        crate::mail::attachment::is_attachment(
            &self.mime,
            self.disposition.as_deref(),
            self.filename.is_some(),
            self.content_id.is_some(),
        )
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]
    use imap_codec::ResponseCodec;
    use imap_codec::decode::Decoder as _;
    use imap_codec::imap_types::response::Response;

    fn structure_of(line: &[u8]) -> super::Part {
        let (_, response) = ResponseCodec::default().decode(line).unwrap();
        let Response::Data(data) = response else {
            panic!("not data")
        };
        crate::protocol::imap::fetch::from_data(data)
            .unwrap()
            .structure
            .unwrap()
    }

    /// The body of an attached single-part message is section N.1, not N (which is the whole
    /// attached message, headers included).
    #[test]
    fn an_attached_single_part_message_is_numbered_below_its_part() {
        let part = structure_of(
            b"* 1 FETCH (UID 1 BODYSTRUCTURE ((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 10 1)(\"MESSAGE\" \"RFC822\" NIL NIL NIL \"7BIT\" 300 (\"Mon, 1 Jan 2026 00:00:00 +0000\" \"inner\" NIL NIL NIL NIL NIL NIL NIL \"<i@x>\") (\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 20 2) 10) \"MIXED\"))\r\n",
        );
        let attached = &part.children[1];
        assert_eq!(attached.section, "2");
        assert_eq!(attached.mime, "message/rfc822");
        assert_eq!(attached.children[0].section, "2.1");
        assert_eq!(attached.children[0].mime, "text/plain");
        // A single-part message on its own: its body is section 1.
        let single = structure_of(
            b"* 2 FETCH (UID 2 BODYSTRUCTURE (\"TEXT\" \"PLAIN\" (\"CHARSET\" \"utf-8\") NIL NIL \"8BIT\" 5 1))\r\n",
        );
        assert_eq!(single.section, "1");
        // A multipart attached message keeps N.1, N.2.
        let nested = structure_of(
            b"* 3 FETCH (UID 3 BODYSTRUCTURE ((\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 1 1)(\"MESSAGE\" \"RFC822\" NIL NIL NIL \"7BIT\" 300 (NIL \"inner\" NIL NIL NIL NIL NIL NIL NIL NIL) ((\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 1 1)(\"TEXT\" \"HTML\" NIL NIL NIL \"7BIT\" 1 1) \"ALTERNATIVE\") 10) \"MIXED\"))\r\n",
        );
        let sections: Vec<&str> = nested.leaves().iter().map(|p| p.section.as_str()).collect();
        assert_eq!(sections, ["1", "2.1", "2.2"]);
    }
}
