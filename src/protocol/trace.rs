//! The protocol log (`TERN_PROTOCOL_LOG=FILE`): what Tern sends to each server and what it
//! hears back, appended to FILE, to see (or report) what a server does. Passwords never reach
//! it: the rest of a write that holds a login (IMAP `LOGIN` and `AUTHENTICATE`, POP3 `PASS`,
//! `APOP` and `AUTH`, SMTP `AUTH`) is replaced by `[redacted]`, and so is every line the
//! client sends while the server is asking for more of a login (a SASL exchange or a literal),
//! until the server answers otherwise (judged on whole lines); and whatever else is logged has
//! the login's password and its base64 and SASL PLAIN forms replaced, should a server echo it
//! or a write hold it unannounced. Each read and write shows at most its first 2 KiB, so the
//! log holds fragments of mail: it is created readable by its owner only (0600), stops at
//! 64 MiB per process, and control characters are escaped.

use std::io::Write as _;
use std::sync::{Mutex, OnceLock};

/// The log file and the bytes written to it by this process.
type Log = Mutex<(std::fs::File, usize)>;

static LOG: OnceLock<Option<Log>> = OnceLock::new();

/// The most this process writes to the log.
const MAX_LOG: usize = 64 << 20;

fn file() -> Option<&'static Log> {
    LOG.get_or_init(|| {
        let path = std::env::var_os("TERN_PROTOCOL_LOG")?;
        let mut options = std::fs::OpenOptions::new();
        options.create(true).append(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt as _;
            options.mode(0o600);
        }
        options.open(path).ok().map(|f| Mutex::new((f, 0)))
    })
    .as_ref()
}

/// Most bytes of one read or write that are written to the log.
const SHOWN: usize = 2048;

/// One connection's part of the protocol log.
#[derive(Debug, Default)]
pub struct Trace {
    label: String,
    enabled: bool,
    /// The server asked for more of a login: what the client sends is secret.
    in_login: bool,
    /// The server's last line so far, when a read ended inside it.
    partial: Vec<u8>,
    /// Strings never written: the password of this connection's login, in its forms.
    forbidden: Vec<String>,
}

impl Trace {
    /// A trace for the connection `label` (`imap host:port`); it writes nothing unless
    /// `TERN_PROTOCOL_LOG` names a file that could be opened.
    pub fn new(label: impl Into<String>) -> Trace {
        Trace {
            label: label.into(),
            enabled: file().is_some(),
            ..Trace::default()
        }
    }

    /// Never writes `password` (nor its base64, nor the SASL PLAIN forms with `user`) from
    /// now on. Every client calls it before it logs in.
    pub fn forbid(&mut self, user: &str, password: &str) {
        use base64::Engine as _;
        if password.is_empty() {
            return;
        }
        let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
        self.forbidden.extend([
            password.to_owned(),
            b64(password),
            b64(&format!("\0{user}\0{password}")),
            b64(&format!("{user}\0{user}\0{password}")),
        ]);
        // Longest first, so no form is left half replaced.
        self.forbidden.sort_by_key(|f| std::cmp::Reverse(f.len()));
    }

    /// Logs what the client wrote.
    pub fn sent(&mut self, bytes: &[u8]) {
        if !self.enabled {
            return;
        }
        let text = self.redact(bytes);
        self.write("C", &text, bytes.len());
    }

    /// Logs what the server sent.
    pub fn received(&mut self, bytes: &[u8]) {
        if !self.enabled {
            return;
        }
        // Whether the login goes on is judged on whole lines only: a continuation may come in
        // pieces. `+ ` (IMAP, POP3 SASL) and `334` (SMTP) ask for more, and untagged IMAP
        // lines (`* OK [ALERT]`) may come between; any other whole line ends the login.
        self.partial.extend_from_slice(bytes);
        while let Some(end) = self.partial.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = self.partial.drain(..=end).collect();
            let line = String::from_utf8_lossy(&line);
            let line = line.trim_end();
            let asks = line == "+"
                || line.starts_with("+ ")
                || line.starts_with("334")
                || line.starts_with("* ");
            self.in_login &= asks;
        }
        if self.partial.len() > 1024 {
            // A line that long is no continuation; keep its end only.
            let cut = self.partial.len() - 1024;
            self.partial.drain(..cut);
        }
        let shown = String::from_utf8_lossy(bytes.get(..SHOWN).unwrap_or(bytes)).into_owned();
        self.write("S", &shown, bytes.len());
    }

    /// The first `SHOWN` bytes of a client write, with logins redacted.
    fn redact(&mut self, bytes: &[u8]) -> String {
        let shown = String::from_utf8_lossy(bytes.get(..SHOWN).unwrap_or(bytes));
        let mut out = String::with_capacity(shown.len());
        for line in shown.split_inclusive('\n') {
            if self.in_login {
                out.push_str("[redacted]\n");
                continue;
            }
            let words: Vec<&str> = line.split_whitespace().collect();
            let upper = |i: usize| words.get(i).map(|w| w.to_ascii_uppercase());
            // POP3 and SMTP: the command is the first word; IMAP: the second (after the tag).
            let keep = match (upper(0).as_deref(), upper(1).as_deref()) {
                (Some("PASS" | "APOP"), _) => Some(1),
                (Some("AUTH"), _) => Some(2),
                (_, Some("LOGIN")) => Some(2),
                (_, Some("AUTHENTICATE")) => Some(3),
                _ => None,
            };
            match keep {
                Some(n) => {
                    let kept: Vec<&str> = words.iter().take(n).copied().collect();
                    out.push_str(&kept.join(" "));
                    out.push_str(" [redacted]\n");
                    // The rest of this write, and what follows until the server has answered,
                    // may hold the secret (a literal, a SASL response).
                    self.in_login = true;
                }
                None => out.push_str(line),
            }
        }
        out
    }

    fn write(&self, direction: &str, text: &str, total: usize) {
        let Some(file) = file() else { return };
        let time = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or_default();
        let mut entry = String::new();
        for line in text.lines() {
            let line = self.clean(line);
            entry.push_str(&format!("{time:.3} {} {direction}: {line}\n", self.label));
        }
        if total > SHOWN {
            entry.push_str(&format!(
                "{time:.3} {} {direction}: … ({} bytes more)\n",
                self.label,
                total - SHOWN
            ));
        }
        if let Ok(mut log) = file.lock() {
            let (f, written) = &mut *log;
            if *written >= MAX_LOG {
                return;
            }
            *written += entry.len();
            if *written >= MAX_LOG {
                entry.push_str("… the protocol log is full (64 MiB); nothing more is written\n");
            }
            let _ = f.write_all(entry.as_bytes());
        }
    }

    /// A line as written: forbidden strings replaced, control characters escaped.
    fn clean(&self, line: &str) -> String {
        let mut line = line.to_owned();
        for secret in &self.forbidden {
            if line.contains(secret.as_str()) {
                line = line.replace(secret.as_str(), "[redacted]");
            }
        }
        line.chars()
            .map(|c| match c {
                '\t' => "\t".to_owned(),
                c if c.is_control() => format!("\\x{:02x}", u32::from(c)),
                c => c.to_string(),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    fn redacted(lines: &[&[u8]]) -> Vec<String> {
        let mut trace = Trace::default();
        lines.iter().map(|l| trace.redact(l)).collect()
    }

    #[test]
    fn logins_are_redacted_in_every_protocol() {
        let out = redacted(&[b"a1 LOGIN bob secret\r\n"]);
        assert_eq!(out, ["a1 LOGIN [redacted]\n"]);
        let out = redacted(&[b"a1 LOGIN {3+}\r\nbob {6+}\r\nsecret\r\n"]);
        assert_eq!(out, ["a1 LOGIN [redacted]\n[redacted]\n[redacted]\n"]);
        let out = redacted(&[b"a2 AUTHENTICATE PLAIN AGJvYgBzZWNyZXQ=\r\n"]);
        assert_eq!(out, ["a2 AUTHENTICATE PLAIN [redacted]\n"]);
        let out = redacted(&[b"PASS secret\r\n", b"STAT\r\n"]);
        assert_eq!(out[0], "PASS [redacted]\n");
        let out = redacted(&[b"AUTH LOGIN\r\n", b"Ym9i\r\n", b"c2VjcmV0\r\n"]);
        assert_eq!(
            out,
            ["AUTH LOGIN [redacted]\n", "[redacted]\n", "[redacted]\n"]
        );
    }

    #[test]
    fn a_continuation_in_pieces_keeps_the_login_secret() {
        let mut trace = Trace {
            enabled: true,
            ..Trace::default()
        };
        trace.redact(b"AUTH LOGIN\r\n");
        for byte in b"334 VXNlcm5hbWU6\r\n" {
            trace.received(std::slice::from_ref(byte));
        }
        assert_eq!(trace.redact(b"Ym9i\r\n"), "[redacted]\n");
        trace.received(b"334 UGFz");
        trace.received(b"c3dvcmQ6\r\n");
        assert_eq!(trace.redact(b"c2VjcmV0\r\n"), "[redacted]\n");
        // An untagged line before IMAP's continuation does not end it either.
        let mut trace = Trace {
            enabled: true,
            ..Trace::default()
        };
        trace.redact(b"a1 LOGIN {3}\r\n");
        trace.received(b"* OK [ALERT] maintenance tonight\r\n+ OK\r\n");
        assert_eq!(trace.redact(b"bob {6}\r\n"), "[redacted]\n");
    }

    #[test]
    fn a_forbidden_password_never_shows_and_control_characters_are_escaped() {
        let mut trace = Trace::default();
        trace.forbid("bob@example.test", "hunter2");
        assert_eq!(trace.clean("x hunter2 y"), "x [redacted] y");
        assert_eq!(trace.clean("aHVudGVyMg=="), "[redacted]");
        assert_eq!(trace.clean("\u{1b}[2J\tz"), "\\x1b[2J\tz");
    }

    #[test]
    fn the_server_ends_a_login_unless_it_asks_for_more() {
        // Enabled without a log file: the state is kept, nothing is written.
        let mut trace = Trace {
            enabled: true,
            ..Trace::default()
        };
        trace.redact(b"AUTH LOGIN\r\n");
        trace.received(b"334 VXNlcm5hbWU6\r\n");
        assert_eq!(trace.redact(b"Ym9i\r\n"), "[redacted]\n");
        trace.received(b"235 2.7.0 Authentication successful\r\n");
        assert_eq!(trace.redact(b"MAIL FROM:<a@b>\r\n"), "MAIL FROM:<a@b>\r\n");
        // POP3's +OK is an answer, not a question.
        trace.redact(b"PASS x\r\n");
        trace.received(b"+OK logged in\r\n");
        assert_eq!(trace.redact(b"STAT\r\n"), "STAT\r\n");
        // IMAP's continuation asks for the literal.
        trace.redact(b"a1 LOGIN {3}\r\n");
        trace.received(b"+ OK\r\n");
        assert_eq!(trace.redact(b"bob {6}\r\n"), "[redacted]\n");
        trace.received(b"a1 OK done\r\n");
        assert_eq!(trace.redact(b"a2 SELECT INBOX\r\n"), "a2 SELECT INBOX\r\n");
    }
}
