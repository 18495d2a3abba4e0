//! The pure part of POP3: status lines, LIST/UIDL entries, CAPA, the APOP digest, and the
//! dot-unstuffing of multi-line responses (byte-exact, any bytes, streamed in pieces).

use md5::{Digest as _, Md5};

/// A status line: `+OK text` or `-ERR text`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    pub ok: bool,
    pub text: String,
    /// The RFC 2449 response code in brackets at the start of the text (`IN-USE`,
    /// `LOGIN-DELAY`, `SYS/TEMP`, `SYS/PERM`, `AUTH`), upper-cased, if there is one.
    pub code: Option<String>,
}

impl Status {
    /// Whether the code says the refusal is for now only (the maildrop is locked by another
    /// session, logins come too often, a passing server fault: RFC 2449, RFC 3206), so trying
    /// again later is the answer, not a new password.
    pub fn is_temporary(&self) -> bool {
        matches!(
            self.code.as_deref(),
            Some("IN-USE" | "LOGIN-DELAY" | "SYS/TEMP")
        )
    }
}

/// Parses a status line (with or without its CRLF). None when it is neither +OK nor -ERR.
pub fn status(line: &[u8]) -> Option<Status> {
    let line = trim_eol(line);
    let (ok, rest) = if let Some(rest) = line.strip_prefix(b"+OK") {
        (true, rest)
    } else if let Some(rest) = line.strip_prefix(b"-ERR") {
        (false, rest)
    } else {
        return None;
    };
    if !rest.is_empty() && !rest.starts_with(b" ") {
        return None;
    }
    let text = printable(rest.strip_prefix(b" ").unwrap_or(rest));
    let code = text
        .strip_prefix('[')
        .and_then(|t| t.split_once(']'))
        .map(|(code, _)| code.trim().to_ascii_uppercase())
        .filter(|c| !c.is_empty() && c.len() <= 40);
    Some(Status { ok, text, code })
}

/// A line without its CRLF (or LF).
pub fn trim_eol(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// Server text for an error message or log: lossy UTF-8, no control characters, at most 200
/// characters.
pub fn printable(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let mut out: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(200)
        .collect();
    if text.chars().count() > 200 {
        out.push('…');
    }
    out.trim().to_owned()
}

/// One `LIST` entry: message number and size in octets.
pub fn list_entry(line: &[u8]) -> Option<(u32, u64)> {
    let text = std::str::from_utf8(trim_eol(line)).ok()?;
    let mut parts = text.split_ascii_whitespace();
    let number = parts.next()?.parse().ok()?;
    let size = parts.next()?.parse().ok()?;
    Some((number, size))
}

/// One `UIDL` entry: message number and unique id (RFC 1939: 1 to 70 characters from 0x21 to
/// 0x7E). Ids that break the rule are refused, so they never reach the store.
pub fn uidl_entry(line: &[u8]) -> Option<(u32, String)> {
    let text = std::str::from_utf8(trim_eol(line)).ok()?;
    let mut parts = text.split_ascii_whitespace();
    let number = parts.next()?.parse().ok()?;
    let id = parts.next()?;
    let valid = (1..=70).contains(&id.len()) && id.bytes().all(|b| (0x21..=0x7e).contains(&b));
    valid.then(|| (number, id.to_owned()))
}

/// The `+OK …` greeting's APOP timestamp (`<…@…>`), if it has one.
/// Read from the greeting's raw bytes: the digest covers the timestamp exactly as sent.
pub fn apop_timestamp(greeting: &[u8]) -> Option<&[u8]> {
    let start = greeting.iter().position(|b| *b == b'<')?;
    let length = greeting.get(start..)?.iter().position(|b| *b == b'>')?;
    let stamp = greeting.get(start..=start.checked_add(length)?)?;
    stamp.contains(&b'@').then_some(stamp)
}

/// The APOP digest: MD5 of the timestamp and the password, in lower-case hex.
pub fn apop_digest(timestamp: &[u8], password: &str) -> String {
    let mut hasher = Md5::new();
    hasher.update(timestamp);
    hasher.update(password.as_bytes());
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Undoes the dot-stuffing of a multi-line response as it streams in: bytes go in in any
/// pieces, the response's own bytes come out exactly, and the end (`.` CRLF on a line of its
/// own) is recognised.
#[derive(Debug, Default)]
pub struct Unstuffer {
    /// At the start of a line.
    line_start: bool,
    /// After a leading `.` at a line start: either the end (`.` CRLF) or a stuffed dot.
    dot: DotState,
    done: bool,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum DotState {
    #[default]
    None,
    /// Saw `.` at a line start.
    Dot,
    /// Saw `.` CR at a line start.
    DotCr,
}

impl Unstuffer {
    pub fn new() -> Unstuffer {
        Unstuffer {
            line_start: true,
            dot: DotState::None,
            done: false,
        }
    }

    /// Whether the terminating line has been seen.
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// Feeds bytes; appends the response's bytes to `out`; returns how many input bytes were
    /// used (less than all once the end is reached: the rest belongs to the next response).
    pub fn feed(&mut self, input: &[u8], out: &mut Vec<u8>) -> usize {
        let mut used = 0;
        for &b in input {
            if self.done {
                break;
            }
            used += 1;
            match self.dot {
                DotState::Dot => {
                    self.dot = DotState::None;
                    if b == b'\r' {
                        self.dot = DotState::DotCr;
                        continue;
                    }
                    if b == b'\n' {
                        // `.` LF: a bare-LF terminator.
                        self.done = true;
                        continue;
                    }
                    // A stuffed dot: the `.` is dropped, this byte is data.
                    self.line_start = false;
                }
                DotState::DotCr => {
                    self.dot = DotState::None;
                    if b == b'\n' {
                        self.done = true;
                        continue;
                    }
                    // `.` CR then something else: the dot was stuffing, CR is data.
                    out.push(b'\r');
                    self.line_start = false;
                }
                DotState::None => {
                    if self.line_start && b == b'.' {
                        self.dot = DotState::Dot;
                        continue;
                    }
                }
            }
            out.push(b);
            self.line_start = b == b'\n';
        }
        used
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn unstuff_in_pieces(wire: &[u8], piece: usize) -> (Vec<u8>, usize) {
        let mut u = Unstuffer::new();
        let mut out = Vec::new();
        let mut used = 0;
        for chunk in wire.chunks(piece) {
            used += u.feed(chunk, &mut out);
            if u.is_done() {
                break;
            }
        }
        assert!(u.is_done());
        (out, used)
    }

    #[test]
    fn multi_line_responses_come_out_byte_exact() {
        let wire_ok =
            b"Subject: x\r\n\r\n..leading dot\r\n..\r\nbin \xff\xfe\x00 bytes\r\nlast\r\n.\r\nNEXT";
        for piece in [1, 2, 3, 7, 64] {
            let (out, used) = unstuff_in_pieces(wire_ok, piece);
            assert_eq!(
                out, b"Subject: x\r\n\r\n.leading dot\r\n.\r\nbin \xff\xfe\x00 bytes\r\nlast\r\n",
                "piece {piece}"
            );
            assert_eq!(wire_ok.get(used..), Some(&b"NEXT"[..]), "piece {piece}");
        }
        // The first lone dot ends it.
        let (out, used) = unstuff_in_pieces(b"a\r\n..b\r\n.\r\nc\r\n.\r\n", 5);
        assert_eq!(out, b"a\r\n.b\r\n");
        assert_eq!(used, 11);
        // Empty response, and a dot inside a line is data.
        assert_eq!(unstuff_in_pieces(b".\r\n", 1).0, b"");
        assert_eq!(unstuff_in_pieces(b"a.b\r\n.\r\n", 2).0, b"a.b\r\n");
        assert_eq!(unstuff_in_pieces(b".\rx\r\n.\r\n", 1).0, b"\rx\r\n");
    }

    #[test]
    fn status_lines_and_entries_parse_and_refuse_junk() {
        assert_eq!(
            status(b"+OK 2 320\r\n"),
            Some(Status {
                ok: true,
                text: "2 320".into(),
                code: None,
            })
        );
        assert!(!status(b"-ERR no such message\r\n").unwrap().ok);
        assert_eq!(status(b"+OK\r\n").unwrap().text, "");
        assert!(status(b"+OKAY\r\n").is_none());
        assert!(status(b"* OK\r\n").is_none());
        assert_eq!(list_entry(b"1 120\r\n"), Some((1, 120)));
        assert_eq!(list_entry(b"x 120\r\n"), None);
        assert_eq!(
            uidl_entry(b"3 000000014c5a9f8b\r\n"),
            Some((3, "000000014c5a9f8b".into()))
        );
        assert_eq!(uidl_entry(b"3 \x01bad\r\n"), None);
        assert_eq!(uidl_entry(&[b"4 ".as_slice(), &[b'a'; 71]].concat()), None);
    }

    #[test]
    fn apop_follows_rfc_1939() {
        // The example of RFC 1939 section 7.
        let stamp =
            apop_timestamp(b"+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>").unwrap();
        assert_eq!(stamp, b"<1896.697170952@dbc.mtview.ca.us>");
        assert_eq!(
            apop_digest(stamp, "tanstaaf"),
            "c4c9334bac560ecc979e58001b3e22fb"
        );
        assert_eq!(apop_timestamp(b"+OK ready"), None);
        assert_eq!(apop_timestamp(b"+OK <no-at-sign>"), None);
        // Past 200 characters, and with 8-bit bytes: taken as sent.
        let long = [b"+OK ".as_slice(), &[b'x'; 300], b" <1.\xff2@host>\r\n"].concat();
        assert_eq!(apop_timestamp(&long), Some(b"<1.\xff2@host>".as_slice()));
    }

    #[test]
    fn response_codes_tell_a_locked_maildrop_from_a_wrong_password() {
        let locked =
            status(b"-ERR [IN-USE] Mailbox is locked by another POP3 session\r\n").unwrap();
        assert_eq!(locked.code.as_deref(), Some("IN-USE"));
        assert!(locked.is_temporary());
        assert!(status(b"-ERR [sys/temp] try later").unwrap().is_temporary());
        let wrong = status(b"-ERR [AUTH] Authentication failed.").unwrap();
        assert!(!wrong.is_temporary());
        assert_eq!(status(b"-ERR Authentication failed.").unwrap().code, None);
    }
}
