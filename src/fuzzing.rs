//! Entry points for fuzzing: each takes arbitrary bytes through one of Tern's input paths the
//! way Tern uses it, and must never panic. `tests/reliability/fuzz_seeds.rs` runs every seed under
//! `tests/fuzz/seeds/<target>/` through them in CI; the `cargo fuzz` targets in `tests/fuzz/`
//! call the same functions for the long runs (see `docs/RELIABILITY.md`).

use imap_codec::ResponseCodec;
use imap_codec::decode::Decoder as _;
use imap_codec::fragmentizer::Fragmentizer;
use imap_codec::imap_types::response::Response;

/// The IMAP response path: framing (lines and literals) as the session does it, the PREVIEW
/// stripping, imap-codec's decoder, then the FETCH conversion (flags, sizes, sections,
/// BODYSTRUCTURE into Tern's part tree).
pub fn imap_responses(data: &[u8]) {
    let mut fragments = Fragmentizer::new(64 * 1024 * 1024);
    fragments.enqueue_bytes(data);
    // Every fragment makes progress through `data`, so this ends.
    while fragments.progress().is_some() {
        if !fragments.is_message_complete() {
            continue;
        }
        if let Some(stripped) = crate::protocol::imap::preview::strip(fragments.message_bytes()) {
            let _ = ResponseCodec::default().decode(&stripped.response);
        }
        if let Ok(Response::Data(data)) = fragments.decode_message(&ResponseCodec::default())
            && let Some(fetched) = crate::protocol::imap::fetch::from_data(data)
            && let Some(structure) = fetched.structure
        {
            let _ = structure.has_attachments();
            for leaf in structure.leaves() {
                let _ = leaf.is_attachment();
            }
        }
    }
}

/// POP3 replies: status lines, LIST and UIDL entries, the APOP timestamp of a greeting.
pub fn pop3_replies(data: &[u8]) {
    use crate::protocol::pop3::reply;
    let _ = reply::apop_timestamp(data);
    for line in data.split_inclusive(|b| *b == b'\n') {
        let _ = reply::status(line);
        let _ = reply::list_entry(line);
        let _ = reply::uidl_entry(line);
        let _ = reply::printable(reply::trim_eol(line));
    }
}

/// SMTP replies: each line, and an EHLO reply's capabilities.
pub fn smtp_replies(data: &[u8]) {
    use crate::protocol::smtp::{Capabilities, Reply, reply};
    let text = String::from_utf8_lossy(data);
    let mut lines = Vec::new();
    for line in text.split_inclusive('\n') {
        if let Some((code, _, rest)) = reply::parse_line(line) {
            lines.push(rest.to_owned());
            let reply = Reply {
                code,
                lines: lines.clone(),
            };
            let _ = Capabilities::from_ehlo(&reply);
            let _ = (reply.is_positive(), reply.is_transient(), reply.text());
        }
    }
}

/// The message path: mail-parser, then Tern's headers, parts, text and preview, then the
/// HTML sanitiser and HTML-to-text.
pub fn message(data: &[u8]) {
    use crate::mail::{html, parse};
    let (summary, text) = parse::summarize_with_text(data);
    let _ = summary;
    if let Some(text) = text {
        let _ = parse::preview_of_text(&text);
    }
    let _ = parse::body_text(data);
    if let Some(body) = parse::body_html(data) {
        let _ = html::sanitise(&body);
        let _ = html::render(&body, 80);
        let _ = html::to_text(&body);
    }
    let _ = parse::decode_filename(&String::from_utf8_lossy(data));
}

/// The autoconfig XML parser (as discovery feeds it a downloaded document).
pub fn autoconfig(data: &[u8]) {
    if let Ok(document) = std::str::from_utf8(data) {
        let _ = crate::account::autoconfig::parse(document, "user@example.com");
    }
}

/// A fuzz target: arbitrary bytes in, nothing out, no panic.
pub type Target = fn(&[u8]);

/// The targets by name, as the seed directories are named.
pub const TARGETS: [(&str, Target); 5] = [
    ("imap_responses", imap_responses),
    ("pop3_replies", pop3_replies),
    ("smtp_replies", smtp_replies),
    ("message", message),
    ("autoconfig", autoconfig),
];
