//! Building outgoing messages with mail-builder: identity, recipients, UTF-8 subject, Date, a
//! Message-ID in the sender's domain, text or text+HTML, attachments with RFC 2231 names, and the
//! envelope. Every user-supplied value is checked first: a CR or LF (header injection) or a bad
//! address is refused with an error that names the field.
//!
//! Bcc recipients go only into the envelope: they never appear in the bytes that are sent, and
//! the Sent copy is those same bytes.

use std::borrow::Cow;

use mail_builder::MessageBuilder;
use mail_builder::headers::address::Address;
use mail_builder::headers::message_id::MessageId;
use mail_builder::mime::{BodyPart, MimePart};

/// Who sends: the account's display name and address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub name: String,
    pub address: String,
}

/// A file to attach.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    pub filename: String,
    /// MIME type; `content_type_for` guesses it from the file name.
    pub content_type: String,
    pub data: Vec<u8>,
}

/// What the user wrote. Addresses are `addr@example.com` or `Name <addr@example.com>`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Draft {
    pub to: Vec<String>,
    pub cc: Vec<String>,
    pub bcc: Vec<String>,
    pub reply_to: Vec<String>,
    pub subject: String,
    pub text: String,
    pub html: Option<String>,
    pub attachments: Vec<Attachment>,
    /// The message forwarded as an attachment (message/rfc822), raw.
    pub attached_message: Option<Vec<u8>>,
    /// Message-ID (without brackets) of the message replied to.
    pub in_reply_to: Option<String>,
    /// References, oldest first, without brackets.
    pub references: Vec<String>,
}

/// A built message back as a draft, to edit it again (a message from the outbox): To, Cc,
/// Reply-To, Subject, the text, the attachments and the threading headers; Bcc is the envelope's
/// recipients that are in neither To nor Cc (it is not in the headers). None when unreadable.
pub fn reopen(raw: &[u8], envelope: &[String]) -> Option<Draft> {
    use mail_parser::{MessageParser, MimeHeaders as _};
    let message = MessageParser::default().parse(raw)?;
    let list = |address: Option<&mail_parser::Address<'_>>| -> Vec<String> {
        address
            .map(|a| {
                a.iter()
                    .filter_map(|a| {
                        let addr = a.address()?;
                        Some(match a.name() {
                            Some(name) if !name.is_empty() => format!("{name} <{addr}>"),
                            _ => addr.to_owned(),
                        })
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let to = list(message.to());
    let cc = list(message.cc());
    let visible: Vec<String> = message
        .to()
        .into_iter()
        .chain(message.cc())
        .flat_map(|a| a.iter())
        .filter_map(|a| a.address().map(str::to_lowercase))
        .collect();
    let bcc = envelope
        .iter()
        .filter(|r| !visible.contains(&r.to_lowercase()))
        .cloned()
        .collect();
    let ids = |v: &mail_parser::HeaderValue<'_>| -> Vec<String> {
        v.as_text_list()
            .map(|l| l.iter().map(|s| s.to_string()).collect())
            .unwrap_or_default()
    };
    Some(Draft {
        to,
        cc,
        bcc,
        reply_to: list(message.reply_to()),
        subject: message.subject().unwrap_or_default().to_owned(),
        text: message
            .body_text(0)
            .map(|t| t.replace("\r\n", "\n"))
            .unwrap_or_default(),
        html: message
            .body_html(0)
            .filter(|_| !message.html_body.is_empty())
            .map(|h| h.into_owned()),
        attachments: message
            .attachments()
            .filter(|p| !matches!(p.body, mail_parser::PartType::Message(_)))
            .map(|p| {
                let filename = p.attachment_name().unwrap_or("attachment").to_owned();
                Attachment {
                    content_type: p
                        .content_type()
                        .map(|ct| {
                            format!("{}/{}", ct.ctype(), ct.subtype().unwrap_or("octet-stream"))
                        })
                        .unwrap_or_else(|| content_type_for(&filename)),
                    filename,
                    data: p.contents().to_vec(),
                }
            })
            .collect(),
        attached_message: message
            .attachments()
            .find(|p| matches!(p.body, mail_parser::PartType::Message(_)))
            .map(|p| p.contents().to_vec()),
        in_reply_to: ids(message.in_reply_to()).into_iter().next(),
        references: ids(message.references()),
    })
}

/// A finished message: the exact bytes to send and to file in Sent, and its envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Built {
    pub raw: Vec<u8>,
    /// Without angle brackets.
    pub message_id: String,
    pub mail_from: String,
    /// To + Cc + Bcc addresses, each once.
    pub recipients: Vec<String>,
}

/// A field the user filled in that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot use the {field}: {reason}")]
pub struct ComposeError {
    pub field: &'static str,
    pub reason: String,
}

fn invalid(field: &'static str, reason: impl Into<String>) -> ComposeError {
    ComposeError {
        field,
        reason: reason.into(),
    }
}

/// Refuses control characters (above all CR and LF, which would start a new header).
fn check_text(field: &'static str, value: &str) -> Result<(), ComposeError> {
    if value.chars().any(|c| c.is_control() && c != '\t') {
        Err(invalid(
            field,
            "it contains a line break or control character, which could inject a header; remove it",
        ))
    } else {
        Ok(())
    }
}

/// Checks an address: one `@`, a non-empty local part and a dotted-or-local domain, no spaces,
/// quotes, angle brackets or control characters.
pub fn check_address(field: &'static str, address: &str) -> Result<(), ComposeError> {
    check_text(field, address)?;
    let ok = match address.rsplit_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.is_empty()
                && address.len() <= 254
                && !address
                    .chars()
                    .any(|c| c.is_whitespace() || matches!(c, '<' | '>' | '"' | ',' | ';'))
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        }
        None => false,
    };
    if ok {
        Ok(())
    } else {
        Err(invalid(
            field,
            format!("{address:?} is not an email address (write name@example.com)"),
        ))
    }
}

/// Splits `Name <addr>` or `addr` into (name, address), checked.
pub fn parse_mailbox(field: &'static str, value: &str) -> Result<(String, String), ComposeError> {
    check_text(field, value)?;
    let value = value.trim();
    let (name, address) = match (value.rfind('<'), value.ends_with('>')) {
        (Some(open), true) => {
            let name = value.get(..open).unwrap_or_default().trim();
            let address = value.get(open + 1..value.len() - 1).unwrap_or_default();
            (
                name.trim_matches('"').trim().to_owned(),
                address.trim().to_owned(),
            )
        }
        _ => (String::new(), value.to_owned()),
    };
    check_address(field, &address)?;
    Ok((name, address))
}

fn mailboxes(
    field: &'static str,
    values: &[String],
) -> Result<Vec<(String, String)>, ComposeError> {
    values
        .iter()
        .flat_map(|v| split_list(v))
        .map(|v| parse_mailbox(field, &v))
        .collect()
}

/// Splits "a@x, Name <b@y>" at commas outside quotes and angle brackets.
fn split_list(value: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let (mut quoted, mut angle) = (false, false);
    for c in value.chars() {
        match c {
            '"' => quoted = !quoted,
            '<' if !quoted => angle = true,
            '>' if !quoted => angle = false,
            ',' | ';' if !quoted && !angle => {
                if !current.trim().is_empty() {
                    parts.push(current.trim().to_owned());
                }
                current.clear();
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    if !current.trim().is_empty() {
        parts.push(current.trim().to_owned());
    }
    parts
}

fn address_list(list: &[(String, String)]) -> Address<'_> {
    Address::new_list(
        list.iter()
            .map(|(name, addr)| {
                if name.is_empty() {
                    Address::new_address(None::<&str>, addr.as_str())
                } else {
                    Address::new_address(Some(name.as_str()), addr.as_str())
                }
            })
            .collect(),
    )
}

/// The MIME type for a file name, from its extension (application/octet-stream if unknown).
pub fn content_type_for(filename: &str) -> String {
    mime_guess::from_path(filename)
        .first_or_octet_stream()
        .essence_str()
        .to_owned()
}

/// A fresh Message-ID in `domain`: 128 random bits (from the standard library's randomly keyed
/// hasher) and the time, so two clients never pick the same one.
pub fn new_message_id(domain: &str, now: i64) -> String {
    use std::hash::{BuildHasher, Hasher};
    let random = |salt: u64| {
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u64(salt);
        hasher.write_i64(now);
        hasher.write_u32(std::process::id());
        hasher.finish()
    };
    format!("{now:x}.{:016x}{:016x}@{domain}", random(1), random(2))
}

/// Makes CRLF line ends throughout (a bare LF or CR becomes CRLF).
pub fn crlf(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len() + raw.len() / 50);
    let mut iter = raw.iter().copied().peekable();
    while let Some(byte) = iter.next() {
        match byte {
            b'\r' => {
                out.extend_from_slice(b"\r\n");
                if iter.peek() == Some(&b'\n') {
                    iter.next();
                }
            }
            b'\n' => out.extend_from_slice(b"\r\n"),
            _ => out.push(byte),
        }
    }
    out
}

/// Whether `raw` has a CR or LF that is not part of a CRLF pair.
fn has_bare_line_ends(raw: &[u8]) -> bool {
    let mut previous = 0u8;
    for (i, &byte) in raw.iter().enumerate() {
        let bare_lf = byte == b'\n' && previous != b'\r';
        let bare_cr = previous == b'\r' && byte != b'\n';
        if bare_lf || bare_cr {
            return true;
        }
        previous = byte;
        if i + 1 == raw.len() && byte == b'\r' {
            return true;
        }
    }
    false
}

/// Builds the message `draft` from `identity` at `now` (Unix seconds).
pub fn build(identity: &Identity, draft: &Draft, now: i64) -> Result<Built, ComposeError> {
    check_text("sender name", &identity.name)?;
    check_address("sender address", &identity.address)?;
    let to = mailboxes("To address", &draft.to)?;
    let cc = mailboxes("Cc address", &draft.cc)?;
    let bcc = mailboxes("Bcc address", &draft.bcc)?;
    let reply_to = mailboxes("Reply-To address", &draft.reply_to)?;
    check_text("subject", &draft.subject)?;
    for id in draft.in_reply_to.iter().chain(&draft.references) {
        check_text("In-Reply-To or References", id)?;
        if id.contains(['<', '>', ' ']) || !id.contains('@') {
            return Err(invalid(
                "In-Reply-To or References",
                format!("{id:?} is not a Message-ID"),
            ));
        }
    }
    for attachment in &draft.attachments {
        check_text("attachment name", &attachment.filename)?;
        check_text("attachment type", &attachment.content_type)?;
        if !attachment.content_type.contains('/') {
            return Err(invalid(
                "attachment type",
                format!("{:?} is not a MIME type", attachment.content_type),
            ));
        }
    }
    if to.is_empty() && cc.is_empty() && bcc.is_empty() {
        return Err(invalid("recipients", "there is no To, Cc or Bcc address"));
    }

    let domain = identity
        .address
        .rsplit_once('@')
        .map(|(_, d)| d)
        .unwrap_or("localhost");
    let message_id = new_message_id(domain, now);
    let from = if identity.name.is_empty() {
        Address::new_address(None::<&str>, identity.address.as_str())
    } else {
        Address::new_address(Some(identity.name.as_str()), identity.address.as_str())
    };
    let mut builder = MessageBuilder::new()
        .from(from)
        .subject(draft.subject.as_str())
        .date(now)
        .message_id(message_id.as_str());
    if !to.is_empty() {
        builder = builder.to(address_list(&to));
    }
    if !cc.is_empty() {
        builder = builder.cc(address_list(&cc));
    }
    if !reply_to.is_empty() {
        builder = builder.reply_to(address_list(&reply_to));
    }
    if let Some(parent) = &draft.in_reply_to {
        builder = builder.in_reply_to(parent.as_str());
    }
    if !draft.references.is_empty() {
        let refs: Vec<Cow<'_, str>> = draft
            .references
            .iter()
            .map(|r| Cow::Borrowed(r.as_str()))
            .collect();
        builder = builder.references(MessageId::new_list(refs.into_iter()));
    }
    // The body tree, as mail-builder would make it, plus a forwarded message/rfc822 part.
    let text = String::from_utf8_lossy(&crlf(draft.text.as_bytes())).into_owned();
    let text = MimePart::new("text/plain", BodyPart::Text(text.into()));
    let readable = match &draft.html {
        Some(html) => {
            let html = String::from_utf8_lossy(&crlf(html.as_bytes())).into_owned();
            MimePart::new(
                "multipart/alternative",
                vec![
                    text,
                    MimePart::new("text/html", BodyPart::Text(html.into())),
                ],
            )
        }
        None => text,
    };
    let mut attached: Vec<MimePart<'_>> = draft
        .attachments
        .iter()
        .map(|a| {
            MimePart::new(
                a.content_type.as_str(),
                BodyPart::Binary(a.data.as_slice().into()),
            )
            .attachment(a.filename.as_str())
        })
        .collect();
    if let Some(original) = &draft.attached_message {
        let original = crlf(original);
        let encoding = if original.is_ascii() { "7bit" } else { "8bit" };
        let subject = crate::mail::parse::summarize(&original).subject;
        let name = format!(
            "{}.eml",
            crate::mail::attachment::sanitize_filename(if subject.is_empty() {
                "message"
            } else {
                &subject
            })
        );
        attached.push(
            MimePart::new("message/rfc822", BodyPart::Binary(original.into()))
                .attachment(name)
                .transfer_encoding(encoding),
        );
    }
    let body = if attached.is_empty() {
        readable
    } else {
        attached.insert(0, readable);
        MimePart::new("multipart/mixed", attached)
    };
    builder = builder.body(body);
    let raw = builder
        .write_to_vec()
        .map_err(|e| invalid("message", e.to_string()))?;
    let mut recipients: Vec<String> = Vec::new();
    for (_, address) in to.iter().chain(&cc).chain(&bcc) {
        if !recipients.iter().any(|r| r.eq_ignore_ascii_case(address)) {
            recipients.push(address.clone());
        }
    }
    // mail-builder ends its own lines with CRLF; only the user's text may hold bare ones.
    let raw = if has_bare_line_ends(&raw) {
        crlf(&raw)
    } else {
        raw
    };
    Ok(Built {
        raw,
        message_id,
        mail_from: identity.address.clone(),
        recipients,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use mail_parser::{MessageParser, MimeHeaders as _};

    fn me() -> Identity {
        Identity {
            name: "Älice Example".into(),
            address: "alice@example.test".into(),
        }
    }

    fn draft() -> Draft {
        Draft {
            to: vec!["Bob <bob@example.test>".into()],
            cc: vec!["carol@example.test, \"Doe, Dave\" <dave@example.test>".into()],
            bcc: vec!["eve@example.test".into()],
            subject: "Grüße aus Köln ✓".into(),
            text: "Hallo Bob,\nbis bald.\n.\n".into(),
            html: Some("<p>Hallo <b>Bob</b></p>".into()),
            attachments: vec![Attachment {
                filename: "Jahresabschluß 2024.pdf".into(),
                content_type: content_type_for("Jahresabschluß 2024.pdf"),
                data: vec![0, 1, 2, 255],
            }],
            ..Draft::default()
        }
    }

    #[test]
    fn bare_line_ends_are_found_exactly_where_crlf_would_change_something() {
        for raw in [
            &b""[..],
            b"a",
            b"a\r\n",
            b"a\n",
            b"a\r",
            b"\r",
            b"\n",
            b"a\r\nb\r\n",
            b"a\r\r\n",
            b"a\n\r",
            b"\r\n\r\n",
            b"x\r\ny\rz",
        ] {
            assert_eq!(has_bare_line_ends(raw), crlf(raw) != raw, "{raw:?}");
        }
    }

    #[test]
    fn a_built_message_reopens_as_the_same_draft() {
        let built = build(&me(), &draft(), 1_795_000_000).unwrap();
        let again = reopen(&built.raw, &built.recipients).unwrap();
        assert_eq!(again.to, ["Bob <bob@example.test>"], "names and addresses");
        assert_eq!(
            again.cc,
            ["carol@example.test", "Doe, Dave <dave@example.test>"]
        );
        assert_eq!(again.bcc, ["eve@example.test"], "Bcc from the envelope");
        assert_eq!(again.subject, draft().subject);
        assert_eq!(again.text, draft().text);
        assert_eq!(again.attachments, draft().attachments);
        assert!(again.html.unwrap().contains("<b>Bob</b>"));
        assert!(reopen(b"", &[]).is_none() || reopen(b"", &[]).is_some_and(|d| d.to.is_empty()));
    }

    #[test]
    fn builds_a_message_that_parses_back() {
        let built = build(&me(), &draft(), 1_795_000_000).unwrap();
        let text = String::from_utf8_lossy(&built.raw);
        // A header line, not a substring: the random boundary may hold "bcc".
        assert!(
            !text
                .lines()
                .any(|l| l.to_ascii_lowercase().starts_with("bcc:")),
            "{text}"
        );
        assert!(!text.contains("eve@"), "{text}");
        assert!(text.contains("filename*="), "RFC 2231 file name: {text}");
        assert!(built.message_id.ends_with("@example.test"));
        assert_eq!(
            built.recipients,
            [
                "bob@example.test",
                "carol@example.test",
                "dave@example.test",
                "eve@example.test"
            ]
        );
        assert!(!built.raw.windows(2).any(|w| w[1] == b'\n' && w[0] != b'\r'));
        let message = MessageParser::default().parse(&built.raw).unwrap();
        assert_eq!(message.subject(), Some("Grüße aus Köln ✓"));
        assert_eq!(
            message
                .from()
                .and_then(|a| a.first())
                .and_then(|a| a.name()),
            Some("Älice Example")
        );
        assert_eq!(message.cc().map(|c| c.iter().count()), Some(2));
        assert_eq!(message.message_id(), Some(built.message_id.as_str()));
        assert_eq!(
            message.body_text(0).as_deref(),
            Some("Hallo Bob,\r\nbis bald.\r\n.\r\n")
        );
        assert!(message.body_html(0).unwrap().contains("<b>Bob</b>"));
        let attachment = message.attachment(0).unwrap();
        assert_eq!(
            attachment.attachment_name(),
            Some("Jahresabschluß 2024.pdf")
        );
        assert_eq!(attachment.contents(), [0, 1, 2, 255]);
        assert_eq!(
            attachment.content_type().map(|c| c.ctype()),
            Some("application")
        );
    }

    #[test]
    fn header_injection_and_bad_addresses_are_refused() {
        let mut d = draft();
        d.subject = "Hi\r\nBcc: victim@example.test".into();
        let err = build(&me(), &d, 0).unwrap_err();
        assert_eq!(err.field, "subject");
        let mut d = draft();
        d.to = vec!["bob@example.test\nX-Evil: 1".into()];
        assert_eq!(build(&me(), &d, 0).unwrap_err().field, "To address");
        let mut d = draft();
        d.cc = vec!["not an address".into()];
        assert!(
            build(&me(), &d, 0)
                .unwrap_err()
                .to_string()
                .contains("not an email address")
        );
        let mut d = draft();
        d.attachments[0].filename = "a\r\nb.pdf".into();
        assert_eq!(build(&me(), &d, 0).unwrap_err().field, "attachment name");
        let mut who = me();
        who.name = "Alice\rEvil".into();
        assert_eq!(build(&who, &draft(), 0).unwrap_err().field, "sender name");
        let empty = Draft {
            subject: "x".into(),
            ..Draft::default()
        };
        assert_eq!(build(&me(), &empty, 0).unwrap_err().field, "recipients");
    }

    #[test]
    fn replies_carry_threading_headers_and_forwards_attach_the_original() {
        let mut d = draft();
        d.in_reply_to = Some("m2@example.test".into());
        d.references = vec!["m1@example.test".into(), "m2@example.test".into()];
        let built = build(&me(), &d, 0).unwrap();
        let message = MessageParser::default().parse(&built.raw).unwrap();
        assert_eq!(message.in_reply_to().as_text(), Some("m2@example.test"));
        assert_eq!(
            message.references().as_text_list().map(|l| l.len()),
            Some(2)
        );
        let original = b"From: x@example.test\r\nSubject: Orig\r\n\r\nbody\r\n".to_vec();
        let d = Draft {
            to: vec!["bob@example.test".into()],
            subject: "Fwd: Orig".into(),
            attached_message: Some(original),
            ..Draft::default()
        };
        let built = build(&me(), &d, 0).unwrap();
        let text = String::from_utf8_lossy(&built.raw);
        assert!(
            text.contains("message/rfc822") && text.contains("Orig.eml"),
            "{text}"
        );
        assert!(
            text.contains("\r\n\r\nFrom: x@example.test\r\nSubject: Orig\r\n"),
            "{text}"
        );
    }

    #[test]
    fn message_ids_are_unique() {
        let a = new_message_id("example.test", 5);
        let b = new_message_id("example.test", 5);
        assert_ne!(a, b);
    }
}
