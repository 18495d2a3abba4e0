//! SMTP replies and the byte-level rules of submission, with no I/O: multi-line reply parsing,
//! EHLO capabilities, dot-stuffing, and address checks. Kept apart so it can be tested alone.

/// One complete server reply: the code and its text lines (without the code).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub code: u16,
    pub lines: Vec<String>,
}

impl Reply {
    pub fn is_positive(&self) -> bool {
        (200..300).contains(&self.code)
    }

    /// 4xx: the server asks to try again later.
    pub fn is_transient(&self) -> bool {
        (400..500).contains(&self.code)
    }

    /// The reply as one line, e.g. "550 5.1.1 <x@y>: Recipient address rejected".
    pub fn text(&self) -> String {
        format!("{} {}", self.code, self.lines.join(" / "))
            .trim_end()
            .to_owned()
    }
}

/// What one reply line says: its code, whether more lines follow, and its text.
pub fn parse_line(line: &str) -> Option<(u16, bool, &str)> {
    let line = line.trim_end_matches(['\r', '\n']);
    let code = line.get(..3)?;
    if !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let code: u16 = code.parse().ok()?;
    if !(200..600).contains(&code) {
        return None;
    }
    match line.get(3..4) {
        None => Some((code, false, "")),
        Some(" ") => Some((code, false, line.get(4..).unwrap_or(""))),
        Some("-") => Some((code, true, line.get(4..).unwrap_or(""))),
        Some(_) => None,
    }
}

/// What the server offers, from its EHLO reply.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Capabilities {
    pub pipelining: bool,
    pub starttls: bool,
    /// The SIZE limit in bytes; `Some(0)` means SIZE without a fixed limit.
    pub size: Option<u64>,
    pub eightbitmime: bool,
    pub smtputf8: bool,
    /// SASL mechanisms, upper case.
    pub auth: Vec<String>,
}

impl Capabilities {
    /// Reads the EHLO reply (its first line is the greeting, the rest are keywords).
    pub fn from_ehlo(reply: &Reply) -> Capabilities {
        let mut caps = Capabilities::default();
        for line in reply.lines.iter().skip(1) {
            let mut words = line.split_whitespace();
            let Some(keyword) = words.next() else {
                continue;
            };
            let keyword = keyword.to_ascii_uppercase();
            match keyword.as_str() {
                "PIPELINING" => caps.pipelining = true,
                "STARTTLS" => caps.starttls = true,
                "8BITMIME" => caps.eightbitmime = true,
                "SMTPUTF8" => caps.smtputf8 = true,
                "SIZE" => caps.size = Some(words.next().and_then(|n| n.parse().ok()).unwrap_or(0)),
                "AUTH" => caps.auth.extend(words.map(|w| w.to_ascii_uppercase())),
                _ => {
                    // Old servers write "AUTH=PLAIN LOGIN".
                    if let Some(first) = keyword.strip_prefix("AUTH=") {
                        caps.auth.push(first.to_owned());
                        caps.auth.extend(words.map(|w| w.to_ascii_uppercase()));
                    }
                }
            }
        }
        caps.auth.sort_unstable();
        caps.auth.dedup();
        caps
    }

    pub fn offers_auth(&self, mechanism: &str) -> bool {
        self.auth.iter().any(|m| m == mechanism)
    }
}

/// The message as it goes after DATA: CRLF line ends (a bare LF becomes CRLF), a leading dot
/// doubled (RFC 5321 4.5.2), and the final `.` line.
pub fn dot_stuff(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len() + raw.len() / 64 + 5);
    let mut stuffer = DotStuffer::default();
    stuffer.push(raw, &mut out);
    stuffer.finish(&mut out);
    out
}

/// Dot-stuffing a message piece by piece, so that sending holds one piece of the stuffed
/// message at a time rather than a second copy of it: `push` each piece, then `finish` adds the
/// line end the message may lack and the terminating dot.
#[derive(Debug, Clone, Copy)]
pub struct DotStuffer {
    at_line_start: bool,
    previous: u8,
}

impl Default for DotStuffer {
    fn default() -> DotStuffer {
        DotStuffer {
            at_line_start: true,
            previous: 0,
        }
    }
}

impl DotStuffer {
    /// Appends `piece`, stuffed and with bare LFs made CRLF, to `out`.
    pub fn push(&mut self, piece: &[u8], out: &mut Vec<u8>) {
        for &byte in piece {
            if byte == b'\n' && self.previous != b'\r' {
                out.push(b'\r');
            }
            if self.at_line_start && byte == b'.' {
                out.push(b'.');
            }
            out.push(byte);
            self.at_line_start = byte == b'\n';
            self.previous = byte;
        }
    }

    /// Appends the end of the data: a CRLF unless the message ended with one, then `.` CRLF.
    pub fn finish(self, out: &mut Vec<u8>) {
        if self.previous != b'\n' {
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b".\r\n");
    }
}

/// Checks an envelope address: `local@domain`, no spaces, angle brackets or control
/// characters, so it can be put in MAIL FROM/RCPT TO as is.
pub fn check_address(address: &str) -> Result<(), String> {
    let bad = address.is_empty()
        || address.len() > 254
        || address
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || matches!(c, '<' | '>' | '"'))
        || !matches!(address.rsplit_once('@'), Some((local, domain)) if !local.is_empty() && !domain.is_empty());
    if bad {
        Err(format!(
            "{address:?} is not a usable email address (write it as name@example.com)"
        ))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reply_lines_parse() {
        assert_eq!(
            parse_line("250-PIPELINING\r\n"),
            Some((250, true, "PIPELINING"))
        );
        assert_eq!(parse_line("250 OK"), Some((250, false, "OK")));
        assert_eq!(parse_line("354"), Some((354, false, "")));
        assert_eq!(parse_line("25"), None);
        assert_eq!(parse_line("abc def"), None);
        assert_eq!(parse_line("250xOK"), None);
        assert_eq!(parse_line("999 x"), None);
        assert_eq!(parse_line("é50 x"), None);
    }

    #[test]
    fn ehlo_capabilities() {
        let reply = Reply {
            code: 250,
            lines: [
                "mail.example.test",
                "PIPELINING",
                "SIZE 10240000",
                "AUTH PLAIN login",
                "AUTH=CRAM-MD5",
                "8BITMIME",
                "SMTPUTF8",
            ]
            .map(String::from)
            .to_vec(),
        };
        let caps = Capabilities::from_ehlo(&reply);
        assert!(caps.pipelining && caps.eightbitmime && caps.smtputf8 && !caps.starttls);
        assert_eq!(caps.size, Some(10_240_000));
        assert_eq!(caps.auth, ["CRAM-MD5", "LOGIN", "PLAIN"]);
    }

    #[test]
    fn dot_stuffing_and_line_ends() {
        assert_eq!(dot_stuff(b"a\r\n.b\r\n"), b"a\r\n..b\r\n.\r\n");
        assert_eq!(dot_stuff(b".\nx"), b"..\r\nx\r\n.\r\n");
        assert_eq!(dot_stuff(b""), b"\r\n.\r\n");
        assert_eq!(dot_stuff(b"a\r\n"), b"a\r\n.\r\n");
    }

    #[test]
    fn stuffing_in_pieces_is_stuffing_the_whole() {
        // The stuffing as it was done in one go, before pieces.
        fn reference(raw: &[u8]) -> Vec<u8> {
            let mut out = Vec::new();
            let mut at_line_start = true;
            let mut previous = 0u8;
            for &byte in raw {
                if byte == b'\n' && previous != b'\r' {
                    out.push(b'\r');
                }
                if at_line_start && byte == b'.' {
                    out.push(b'.');
                }
                out.push(byte);
                at_line_start = byte == b'\n';
                previous = byte;
            }
            if !out.ends_with(b"\r\n") {
                out.extend_from_slice(b"\r\n");
            }
            out.extend_from_slice(b".\r\n");
            out
        }
        for raw in [
            &b""[..],
            b"\r",
            b"\n",
            b".",
            b"a\r\n",
            b"a\n.b\r\n..c\r\n\r\n.\nend.\r",
        ] {
            assert_eq!(dot_stuff(raw), reference(raw), "{raw:?}");
        }
        let raw = b"a\n.b\r\n..c\r\n\r\n.\nend.\r";
        let whole = reference(raw);
        for cut in 0..=raw.len() {
            let (first, second) = raw.split_at(cut);
            let mut out = Vec::new();
            let mut stuffer = DotStuffer::default();
            stuffer.push(first, &mut out);
            stuffer.push(second, &mut out);
            stuffer.finish(&mut out);
            assert_eq!(out, whole, "split at {cut}");
        }
    }

    #[test]
    fn addresses() {
        assert!(check_address("jo@example.com").is_ok());
        assert!(check_address("jo@example.com>\r\nRCPT TO:<x@y").is_err());
        assert!(check_address("no-at-sign").is_err());
        assert!(check_address("a b@c").is_err());
        assert!(check_address("@c").is_err());
    }
}
