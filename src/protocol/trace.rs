//! The protocol log (`TERN_PROTOCOL_LOG=FILE`): what Tern sends to each server and what it
//! hears back, appended to FILE, to see (or report) what a server does. Passwords never reach
//! it: the rest of a write that holds a login (IMAP `LOGIN` and `AUTHENTICATE`, POP3 `PASS`,
//! `APOP` and `AUTH`, SMTP `AUTH`) is replaced by `[redacted]`, and so is every line the
//! client sends while the server is asking for more of a login (a SASL exchange or a literal),
//! until the server answers otherwise. Each read and write shows at most its first 2 KiB (a
//! message body is counted, not copied).

use std::io::Write as _;
use std::sync::{Mutex, OnceLock};

static LOG: OnceLock<Option<Mutex<std::fs::File>>> = OnceLock::new();

fn file() -> Option<&'static Mutex<std::fs::File>> {
    LOG.get_or_init(|| {
        let path = std::env::var_os("TERN_PROTOCOL_LOG")?;
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .ok()
            .map(Mutex::new)
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
}

impl Trace {
    /// A trace for the connection `label` (`imap host:port`); it writes nothing unless
    /// `TERN_PROTOCOL_LOG` names a file that could be opened.
    pub fn new(label: impl Into<String>) -> Trace {
        Trace {
            label: label.into(),
            enabled: file().is_some(),
            in_login: false,
        }
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
        let shown = String::from_utf8_lossy(bytes.get(..SHOWN).unwrap_or(bytes)).into_owned();
        if let Some(last) = shown.lines().last() {
            // `+ ` (IMAP, POP3 SASL) and `334 ` (SMTP) ask for more; anything else ends it.
            let asks = last == "+" || last.starts_with("+ ") || last.starts_with("334");
            self.in_login &= asks;
        }
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
            entry.push_str(&format!("{time:.3} {} {direction}: {line}\n", self.label));
        }
        if total > SHOWN {
            entry.push_str(&format!(
                "{time:.3} {} {direction}: … ({} bytes more)\n",
                self.label,
                total - SHOWN
            ));
        }
        if let Ok(mut f) = file.lock() {
            let _ = f.write_all(entry.as_bytes());
        }
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
