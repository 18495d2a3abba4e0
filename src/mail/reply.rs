//! Reply, reply-all and forward: drafts prefilled from the original message's raw source.
//!
//! - Replies go to Reply-To (else From), set In-Reply-To and References, put "Re: " in front of
//!   the subject once, and quote the original text under an attribution line.
//! - Reply-all adds the original To and Cc, without our own addresses and without duplicates.
//! - Forward inlines the original (a header block, the text, and its attachments) or attaches it
//!   whole as message/rfc822.

use mail_parser::{Address, MessageParser, MimeHeaders as _};

use super::compose::{Attachment, Draft, content_type_for};
use super::parse;

/// Reply prefixes mail clients write (English and common translations), compared without case.
const REPLY_PREFIXES: [&str; 6] = ["re", "aw", "sv", "antw", "vs", "odp"];
const FORWARD_PREFIXES: [&str; 4] = ["fwd", "fw", "wg", "tr"];

/// Strips leading prefixes like "Re:", "RE[2]:", "Aw: " from `subject`.
fn strip_prefixes<'a>(mut subject: &'a str, prefixes: &[&str]) -> &'a str {
    loop {
        let trimmed = subject.trim_start();
        let Some(colon) = trimmed.find(':') else {
            return trimmed;
        };
        let word = trimmed.get(..colon).unwrap_or_default();
        // "Re[2]" counts too.
        let word = word.split('[').next().unwrap_or_default().trim();
        if prefixes.iter().any(|p| p.eq_ignore_ascii_case(word)) {
            subject = trimmed.get(colon + 1..).unwrap_or_default();
        } else {
            return trimmed;
        }
    }
}

/// "Re: " once in front of the subject, never "Re: Re: ".
pub fn reply_subject(subject: &str) -> String {
    format!("Re: {}", strip_prefixes(subject, &REPLY_PREFIXES))
}

/// "Fwd: " once in front of the subject.
pub fn forward_subject(subject: &str) -> String {
    format!("Fwd: {}", strip_prefixes(subject, &FORWARD_PREFIXES))
}

fn mailbox_list(address: Option<&Address<'_>>) -> Vec<(String, String)> {
    address
        .map(|a| {
            a.iter()
                .filter_map(|m| {
                    let addr = m.address()?.to_owned();
                    Some((m.name().unwrap_or_default().to_owned(), addr))
                })
                .collect()
        })
        .unwrap_or_default()
}

fn display(mailbox: &(String, String)) -> String {
    let (name, addr) = mailbox;
    if name.is_empty() {
        addr.clone()
    } else if name.contains([',', ';', '"', '<', '>', '@']) {
        format!("\"{}\" <{addr}>", name.replace('"', ""))
    } else {
        format!("{name} <{addr}>")
    }
}

/// `> `-quotes each line of `text`.
fn quote(text: &str) -> String {
    text.lines()
        .map(|line| {
            if line.starts_with('>') {
                format!(">{line}")
            } else if line.is_empty() {
                ">".to_owned()
            } else {
                format!("> {line}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A reply to `original` (its raw source). `own` are our addresses (every account's), removed
/// from the recipients of a reply-all. Returns None when the original cannot be parsed at all.
pub fn reply(original: &[u8], own: &[String], all: bool) -> Option<Draft> {
    let message = MessageParser::default().parse(original)?;
    let is_own = |addr: &str| own.iter().any(|o| o.eq_ignore_ascii_case(addr));
    let from = mailbox_list(message.from());
    let reply_to = mailbox_list(message.reply_to());
    let mut to: Vec<(String, String)> = if reply_to.is_empty() {
        from.clone()
    } else {
        reply_to
    };
    let mut cc = Vec::new();
    if all {
        to.extend(mailbox_list(message.to()));
        cc = mailbox_list(message.cc());
    }
    // Our own addresses go, unless replying to ourselves leaves nobody.
    let mut seen: Vec<String> = Vec::new();
    let keep = |list: Vec<(String, String)>, seen: &mut Vec<String>| {
        list.into_iter()
            .filter(|(_, addr)| {
                let lower = addr.to_ascii_lowercase();
                if is_own(addr) || seen.contains(&lower) {
                    false
                } else {
                    seen.push(lower);
                    true
                }
            })
            .collect::<Vec<_>>()
    };
    let mut to_kept = keep(to.clone(), &mut seen);
    let cc_kept = keep(cc, &mut seen);
    if to_kept.is_empty() && cc_kept.is_empty() {
        to_kept = if all {
            mailbox_list(message.to())
        } else {
            std::mem::take(&mut to)
        };
    }

    let message_id = message.message_id().map(str::to_owned);
    let mut references: Vec<String> = message
        .references()
        .as_text_list()
        .map(|l| l.iter().map(|s| s.to_string()).collect())
        .unwrap_or_default();
    if references.is_empty()
        && let Some(parent) = message
            .in_reply_to()
            .as_text_list()
            .and_then(|l| l.first().map(|s| s.to_string()))
    {
        references.push(parent);
    }
    references.extend(message_id.clone());

    let who = from
        .first()
        .map(display)
        .unwrap_or_else(|| "someone".into());
    let date = message
        .header_raw("Date")
        .map(|d| d.trim().to_owned())
        .unwrap_or_default();
    let attribution = if date.is_empty() {
        format!("{who} wrote:")
    } else {
        format!("On {date}, {who} wrote:")
    };
    let text = parse::body_text(original).unwrap_or_default();
    Some(Draft {
        to: to_kept.iter().map(display).collect(),
        cc: cc_kept.iter().map(display).collect(),
        subject: reply_subject(message.subject().unwrap_or_default()),
        text: format!("\n\n{attribution}\n{}\n", quote(text.trim_end())),
        in_reply_to: message_id,
        references,
        ..Draft::default()
    })
}

/// A forward of `original`: inline (header block, text and attachments) or, with `as_attachment`,
/// the whole message attached as message/rfc822.
pub fn forward(original: &[u8], as_attachment: bool) -> Option<Draft> {
    let message = MessageParser::default().parse(original)?;
    let subject = forward_subject(message.subject().unwrap_or_default());
    if as_attachment {
        return Some(Draft {
            subject,
            attached_message: Some(original.to_vec()),
            ..Draft::default()
        });
    }
    let field = |name: &str, value: String| {
        if value.is_empty() {
            String::new()
        } else {
            format!("{name}: {value}\n")
        }
    };
    let list = |a: Option<&Address<'_>>| {
        mailbox_list(a)
            .iter()
            .map(display)
            .collect::<Vec<_>>()
            .join(", ")
    };
    let header = [
        field("Subject", message.subject().unwrap_or_default().to_owned()),
        field(
            "Date",
            message
                .header_raw("Date")
                .map(|d| d.trim().to_owned())
                .unwrap_or_default(),
        ),
        field("From", list(message.from())),
        field("To", list(message.to())),
        field("Cc", list(message.cc())),
    ]
    .concat();
    let text = parse::body_text(original).unwrap_or_default();
    let attachments = message
        .attachments()
        .map(|part| {
            let filename = part
                .attachment_name()
                .map(str::to_owned)
                .unwrap_or_else(|| "attachment".to_owned());
            let content_type = part
                .content_type()
                .map(|ct| match ct.subtype() {
                    Some(sub) => format!("{}/{sub}", ct.ctype()),
                    None => ct.ctype().to_owned(),
                })
                .filter(|ct| ct.contains('/'))
                .unwrap_or_else(|| content_type_for(&filename));
            Attachment {
                filename,
                content_type,
                data: part.contents().to_vec(),
            }
        })
        .collect();
    Some(Draft {
        subject,
        text: format!(
            "\n\n-------- Forwarded Message --------\n{header}\n{}\n",
            text.trim_end()
        ),
        attachments,
        ..Draft::default()
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn subjects_get_one_prefix() {
        assert_eq!(reply_subject("Lunch"), "Re: Lunch");
        assert_eq!(reply_subject("Re: Lunch"), "Re: Lunch");
        assert_eq!(reply_subject("RE: Re: AW:  Lunch"), "Re: Lunch");
        assert_eq!(reply_subject("Re[2]: Lunch"), "Re: Lunch");
        assert_eq!(reply_subject("Fwd: Lunch"), "Re: Fwd: Lunch");
        assert_eq!(reply_subject("Ratio: 2:1"), "Re: Ratio: 2:1");
        assert_eq!(forward_subject("Fwd: FW: Lunch"), "Fwd: Lunch");
        assert_eq!(forward_subject("Re: Lunch"), "Fwd: Re: Lunch");
    }

    const ORIGINAL: &[u8] = b"From: Alice <alice@example.test>\r\n\
To: Bob <bob@example.test>, Carol <carol@example.test>\r\n\
Cc: Dave <dave@example.test>, bob@example.test\r\n\
Subject: Re: Plans\r\n\
Date: Sun, 22 Nov 2026 10:00:00 +0000\r\n\
Message-ID: <m2@example.test>\r\n\
In-Reply-To: <m1@example.test>\r\n\
References: <m1@example.test>\r\n\
\r\n\
See you at 10.\r\n\
> earlier\r\n";

    #[test]
    fn reply_threads_quotes_and_addresses_the_sender() {
        let me = ["bob@example.test".to_owned()];
        let draft = reply(ORIGINAL, &me, false).unwrap();
        assert_eq!(draft.to, ["Alice <alice@example.test>"]);
        assert!(draft.cc.is_empty());
        assert_eq!(draft.subject, "Re: Plans");
        assert_eq!(draft.in_reply_to.as_deref(), Some("m2@example.test"));
        assert_eq!(draft.references, ["m1@example.test", "m2@example.test"]);
        assert!(
            draft.text.contains(
                "On Sun, 22 Nov 2026 10:00:00 +0000, Alice <alice@example.test> wrote:\n> See you at 10.\n>> earlier"
            ),
            "{}",
            draft.text
        );
    }

    #[test]
    fn reply_all_drops_our_own_addresses_and_duplicates() {
        let me = ["BOB@example.test".to_owned()];
        let draft = reply(ORIGINAL, &me, true).unwrap();
        assert_eq!(
            draft.to,
            ["Alice <alice@example.test>", "Carol <carol@example.test>"]
        );
        assert_eq!(draft.cc, ["Dave <dave@example.test>"]);
    }

    #[test]
    fn forwards_inline_or_attached() {
        let inline = forward(ORIGINAL, false).unwrap();
        assert_eq!(inline.subject, "Fwd: Re: Plans");
        assert!(inline.text.contains("From: Alice <alice@example.test>\n"));
        assert!(inline.text.contains("See you at 10."));
        assert!(inline.to.is_empty() && inline.in_reply_to.is_none());
        let attached = forward(ORIGINAL, true).unwrap();
        assert_eq!(attached.attached_message.as_deref(), Some(ORIGINAL));
    }
}
