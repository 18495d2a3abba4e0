//! Reading RFC 5322 messages with mail-parser: the header summary the store keeps, and readable text.

use mail_parser::{Address, MessageParser};

/// What the store keeps of a message's headers, decoded (RFC 2047) to UTF-8.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    pub message_id: Option<String>,
    pub in_reply_to: Option<String>,
    /// Oldest first.
    pub references: Vec<String>,
    pub subject: String,
    pub from_name: String,
    pub from_addr: String,
    pub to: String,
    pub cc: String,
    /// Unix seconds from the Date: header, if it has a valid one.
    pub date: Option<i64>,
    pub has_attachments: bool,
    /// The first characters of the readable text.
    pub preview: String,
}

/// Length of `Summary::preview`, in characters.
pub const PREVIEW_CHARS: usize = 200;

/// A preview line from a message's readable text: its first words, without quoted lines
/// ("> …"), the "On … wrote:" line before them, or the signature, whitespace collapsed, at most
/// `PREVIEW_CHARS` characters.
pub fn preview_of_text(text: &str) -> String {
    let mut out = String::new();
    let mut count = 0;
    for line in text.lines() {
        if count >= PREVIEW_CHARS {
            break;
        }
        let line = line.trim();
        if line == "--" {
            break;
        }
        if line.starts_with('>') || line.ends_with("wrote:") && line.starts_with("On ") {
            continue;
        }
        for word in line.split_whitespace() {
            if count + 1 >= PREVIEW_CHARS {
                return out;
            }
            if !out.is_empty() {
                out.push(' ');
                count += 1;
            }
            for c in word.chars() {
                if count >= PREVIEW_CHARS {
                    return out;
                }
                if !c.is_control() {
                    out.push(c);
                    count += 1;
                }
            }
        }
    }
    out
}

/// Summarises a raw message. Never fails: a message mail-parser cannot read at all gives an
/// empty summary, so the caller can still keep (and show the source of) what it received.
pub fn summarize(raw: &[u8]) -> Summary {
    MessageParser::default()
        .parse(raw)
        .map(|message| summary_of(&message, readable_text(&message).as_deref()))
        .unwrap_or_default()
}

/// `summarize` and `body_text` from one parse (a large message is decoded once, not twice).
pub fn summarize_with_text(raw: &[u8]) -> (Summary, Option<String>) {
    match MessageParser::default().parse(raw) {
        Some(message) => {
            let text = readable_text(&message).map(|t| t.into_owned());
            (summary_of(&message, text.as_deref()), text)
        }
        None => (Summary::default(), None),
    }
}

/// The summary of a parsed message whose readable text (for the preview) is `text`.
fn summary_of(message: &mail_parser::Message<'_>, text: Option<&str>) -> Summary {
    let (from_name, from_addr) = message
        .from()
        .and_then(Address::first)
        .map(|a| {
            (
                a.name().unwrap_or_default().to_owned(),
                a.address().unwrap_or_default().to_owned(),
            )
        })
        .unwrap_or_default();
    let preview = text.map(preview_of_text).unwrap_or_default();
    Summary {
        message_id: message.message_id().map(str::to_owned),
        in_reply_to: message
            .in_reply_to()
            .as_text_list()
            .and_then(|l| l.first())
            .map(|s| s.to_string()),
        references: message
            .references()
            .as_text_list()
            .map(|l| l.iter().map(|s| s.to_string()).collect())
            .unwrap_or_default(),
        subject: message.subject().unwrap_or_default().to_owned(),
        from_name,
        from_addr,
        to: message.to().map(format_addresses).unwrap_or_default(),
        cc: message.cc().map(format_addresses).unwrap_or_default(),
        date: message.date().map(mail_parser::DateTime::to_timestamp),
        has_attachments: crate::mail::attachment::attachment_parts(message)
            .next()
            .is_some(),
        preview,
    }
}

/// The bytes of a message after its header block (after the first empty line; CRLF or LF).
/// A message with no empty line has no body.
pub fn body_bytes(raw: &[u8]) -> &[u8] {
    let crlf = raw.windows(4).position(|w| w == b"\r\n\r\n").map(|p| p + 4);
    let lf = raw.windows(2).position(|w| w == b"\n\n").map(|p| p + 2);
    let start = match (crlf, lf) {
        (Some(a), Some(b)) => a.min(b),
        (Some(a), None) | (None, Some(a)) => a,
        (None, None) => raw.len(),
    };
    raw.get(start..).unwrap_or_default()
}

/// The readable text of a message: its first text/plain body, or its HTML-only body as text.
pub fn body_text(raw: &[u8]) -> Option<String> {
    let message = MessageParser::default().parse(raw)?;
    readable_text(&message).map(|t| t.into_owned())
}

/// The first text body of a parsed message; an HTML one turned into text by `html::to_text`,
/// which keeps block elements apart.
fn readable_text<'a>(message: &'a mail_parser::Message<'_>) -> Option<std::borrow::Cow<'a, str>> {
    match message.text_part(0).map(|part| &part.body) {
        Some(mail_parser::PartType::Html(html)) => {
            Some(std::borrow::Cow::Owned(super::html::to_text(html)))
        }
        _ => message.body_text(0),
    }
}

/// The message's own HTML body, if it has one (not mail-parser's conversion of a text part).
pub fn body_html(raw: &[u8]) -> Option<String> {
    let message = MessageParser::default().parse(raw)?;
    message
        .html_body
        .iter()
        .filter_map(|id| message.part(*id))
        .find_map(|part| match &part.body {
            mail_parser::PartType::Html(html) => Some(html.to_string()),
            _ => None,
        })
}

/// Formats a list as `Name <a@b>, c@d`.
pub fn format_addresses(address: &Address<'_>) -> String {
    address
        .iter()
        .map(|a| match (a.name(), a.address()) {
            (Some(name), Some(addr)) if !name.is_empty() => format!("{name} <{addr}>"),
            (_, Some(addr)) => addr.to_owned(),
            (Some(name), None) => name.to_owned(),
            (None, None) => String::new(),
        })
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Decodes one MIME part's body (as fetched by section) to text, using its content type,
/// charset and transfer encoding; HTML is turned into text by mail-parser.
pub fn decode_part_text(
    mime: &str,
    charset: Option<&str>,
    encoding: Option<&str>,
    body: &[u8],
) -> Option<String> {
    body_text(&part_as_message(mime, charset, encoding, body))
}

/// Decodes one text/html part's body (as fetched by section) to its HTML source.
pub fn decode_part_html(
    mime: &str,
    charset: Option<&str>,
    encoding: Option<&str>,
    body: &[u8],
) -> Option<String> {
    body_html(&part_as_message(mime, charset, encoding, body))
}

/// A fetched part with just enough header to be parsed as a message of its own.
fn part_as_message(
    mime: &str,
    charset: Option<&str>,
    encoding: Option<&str>,
    body: &[u8],
) -> Vec<u8> {
    let mut raw = format!("Content-Type: {mime}");
    if let Some(charset) = charset {
        raw.push_str(&format!(
            "; charset=\"{}\"",
            charset.replace(['"', '\r', '\n'], "")
        ));
    }
    raw.push_str("\r\n");
    if let Some(encoding) = encoding {
        raw.push_str(&format!(
            "Content-Transfer-Encoding: {}\r\n",
            encoding.replace(['\r', '\n'], "")
        ));
    }
    raw.push_str("\r\n");
    let mut bytes = raw.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

/// Decodes a file name parameter that may be RFC 2231 (`UTF-8''r%C3%A9sum%C3%A9.pdf`) or RFC 2047
/// encoded, as IMAP's BODYSTRUCTURE passes it through.
pub fn decode_filename(raw: &str) -> String {
    let header = if raw.contains("''") {
        format!("Content-Disposition: attachment; filename*={raw}\r\n\r\n")
    } else {
        format!(
            "Content-Disposition: attachment; filename=\"{}\"\r\n\r\n",
            raw.replace('"', "")
        )
    };
    MessageParser::default()
        .parse(header.as_bytes())
        .and_then(|m| {
            use mail_parser::MimeHeaders as _;
            m.attachment_name().map(str::to_owned)
        })
        .unwrap_or_else(|| raw.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_body_starts_after_the_first_empty_line() {
        assert_eq!(
            body_bytes(b"A: 1\r\nB: 2\r\n\r\nbody\r\n\r\nmore"),
            b"body\r\n\r\nmore"
        );
        assert_eq!(body_bytes(b"A: 1\n\nbody"), b"body");
        assert_eq!(body_bytes(b"A: 1\r\n"), b"");
        assert_eq!(body_bytes(b""), b"");
    }

    #[test]
    fn summary_decodes_encoded_words_and_threading_headers() {
        let raw = b"From: =?UTF-8?Q?J=C3=B6rg?= <jorg@example.test>\r\n\
To: a@example.test, Bee <b@example.test>\r\n\
Subject: =?UTF-8?B?R3LDvMOfZQ==?=\r\n\
Message-ID: <c@x>\r\n\
In-Reply-To: <b@x>\r\n\
References: <a@x> <b@x>\r\n\
Date: Tue, 1 Aug 2023 10:00:00 +0000\r\n\
\r\n\
Hello   there\r\n";
        let s = summarize(raw);
        assert_eq!(s.subject, "Grüße");
        assert_eq!(
            (s.from_name.as_str(), s.from_addr.as_str()),
            ("Jörg", "jorg@example.test")
        );
        assert_eq!(s.to, "a@example.test, Bee <b@example.test>");
        assert_eq!(s.message_id.as_deref(), Some("c@x"));
        assert_eq!(s.in_reply_to.as_deref(), Some("b@x"));
        assert_eq!(s.references, vec!["a@x".to_string(), "b@x".to_string()]);
        assert_eq!(s.date, Some(1_690_884_000));
        assert_eq!(s.preview, "Hello there");
    }

    #[test]
    fn a_preview_skips_quotes_and_signatures() {
        let text =
            "Sounds good,\n  see you   at 10.\n\nOn Mon, Ada wrote:\n> old\n> text\n-- \nAda\n";
        assert_eq!(super::preview_of_text(text), "Sounds good, see you at 10.");
        let long = "word ".repeat(100);
        assert!(super::preview_of_text(&long).chars().count() <= super::PREVIEW_CHARS);
        assert_eq!(super::preview_of_text("a\u{0}b\tc"), "ab c");
    }

    #[test]
    fn garbage_gives_an_empty_summary_not_a_panic() {
        for raw in [
            &b""[..],
            b"\xff\xfe\x00",
            b"Subject: =?x?Q?broken",
            b"Content-Type: multipart/mixed; boundary=\"\"\r\n\r\n--\r\n",
        ] {
            let summary = summarize(raw);
            // Nothing is invented: no ids, no addresses, no date, no attachments.
            assert!(
                summary.message_id.is_none()
                    && summary.in_reply_to.is_none()
                    && summary.references.is_empty()
                    && summary.from_addr.is_empty()
                    && summary.to.is_empty()
                    && summary.date.is_none()
                    && !summary.has_attachments,
                "{raw:?}: {summary:?}"
            );
            assert!(!summary.subject.chars().any(char::is_control), "{raw:?}");
            assert!(
                body_text(raw).is_none_or(|t| !t.contains('\0') || raw.contains(&0)),
                "{raw:?}"
            );
        }
        assert_eq!(summarize(b""), Summary::default());
    }
}
