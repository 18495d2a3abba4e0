//! A scripted POP3 server for faults Dovecot will not produce: garbled UIDL lines, a RETR cut
//! off mid-message, a QUIT that is never answered, a stall, a trickle, a locked maildrop, no
//! TOP; and, through `messages`, UIDLs that are reused or given to two messages. It keeps a maildrop in memory,
//! deletes only at a QUIT it answers (as RFC 1939 says), and logs every command.

use std::io::{BufRead as _, BufReader, Write as _};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

/// What the server does wrong, and when.
#[derive(Debug, Default, Clone)]
pub struct Faults {
    /// RETR of this message number sends half the message, then closes the connection.
    pub cut_retr: Option<u32>,
    /// UIDL sends an unreadable line before the real ones (and one with a bad UIDL).
    pub garbled_uidl: bool,
    /// QUIT closes the connection without answering (and deletes nothing).
    pub silent_quit: bool,
    /// RETR answers with a line that is not POP3.
    pub garbage_retr: bool,
    /// RETR of this message number never answers (a stall).
    pub stall_retr: Option<u32>,
    /// RETR of this message number sends one byte every 200 ms.
    pub trickle_retr: Option<u32>,
    /// PASS is refused with `[IN-USE]`: another session holds the maildrop.
    pub in_use: bool,
    /// CAPA leaves out TOP, and TOP is an unknown command.
    pub no_top: bool,
    /// CAPA lists TOP, but TOP is refused.
    pub refuse_top: bool,
    /// RETR of this message number ends after its first half and sends the rest after the
    /// end (a server that broke its framing: a line of a lone dot it did not dot-stuff).
    pub short_retr: Option<u32>,
}

/// The maildrop and what the server was asked.
#[derive(Debug, Default)]
pub struct Maildrop {
    /// (UIDL, message) in message-number order.
    pub messages: Vec<(String, Vec<u8>)>,
    pub faults: Faults,
    /// Every command received (PASS lines without the password).
    pub log: Vec<String>,
    /// Connections accepted.
    pub connections: usize,
}

impl Maildrop {
    pub fn uidls(&self) -> Vec<String> {
        self.messages.iter().map(|(u, _)| u.clone()).collect()
    }
}

fn stuffed(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len() + 64);
    let mut at_line_start = true;
    for &b in raw {
        if at_line_start && b == b'.' {
            out.push(b'.');
        }
        out.push(b);
        at_line_start = b == b'\n';
    }
    if !out.ends_with(b"\r\n") {
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b".\r\n");
    out
}

/// Starts the server on 127.0.0.1; returns its port.
pub fn start(maildrop: Arc<Mutex<Maildrop>>) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            let maildrop = maildrop.clone();
            std::thread::spawn(move || session(stream, &maildrop));
        }
    });
    port
}

fn session(stream: std::net::TcpStream, maildrop: &Mutex<Maildrop>) {
    let mut out = stream.try_clone().unwrap();
    let mut reader = BufReader::new(stream);
    maildrop.lock().unwrap().connections += 1;
    if out.write_all(b"+OK fake POP3 ready\r\n").is_err() {
        return;
    }
    // This session's view: the maildrop as it was at login, and its deletion marks.
    let mut view: Vec<(String, Vec<u8>)> = Vec::new();
    let mut marked: Vec<bool> = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let line = line.trim_end().to_owned();
        let upper = line.to_ascii_uppercase();
        let mut words = line.split_whitespace();
        let verb = words.next().unwrap_or("").to_ascii_uppercase();
        let arg: Option<usize> = words.next().and_then(|n| n.parse().ok());
        let faults = {
            let mut m = maildrop.lock().unwrap();
            m.log.push(if verb == "PASS" {
                "PASS ***".into()
            } else {
                line.clone()
            });
            m.faults.clone()
        };
        let index = arg
            .and_then(|n| n.checked_sub(1))
            .filter(|i| *i < view.len());
        let reply: Vec<u8> = match verb.as_str() {
            "CAPA" if faults.no_top => b"+OK\r\nUSER\r\nUIDL\r\nPIPELINING\r\n.\r\n".to_vec(),
            "CAPA" => b"+OK\r\nUSER\r\nUIDL\r\nTOP\r\nPIPELINING\r\n.\r\n".to_vec(),
            "TOP" if faults.no_top || faults.refuse_top => b"-ERR unknown command TOP\r\n".to_vec(),
            "PASS" if faults.in_use => {
                b"-ERR [IN-USE] Mailbox is locked by another POP3 session\r\n".to_vec()
            }
            "USER" => b"+OK\r\n".to_vec(),
            "PASS" => {
                view = maildrop.lock().unwrap().messages.clone();
                marked = vec![false; view.len()];
                b"+OK logged in\r\n".to_vec()
            }
            "STAT" => {
                let size: usize = view.iter().map(|(_, m)| m.len()).sum();
                format!("+OK {} {size}\r\n", view.len()).into_bytes()
            }
            "UIDL" => {
                let mut r = b"+OK\r\n".to_vec();
                if faults.garbled_uidl {
                    r.extend_from_slice(b"this is not a UIDL line\r\n");
                    r.extend_from_slice(b"99999\r\n");
                }
                for (i, (uidl, _)) in view.iter().enumerate() {
                    if !marked[i] {
                        r.extend_from_slice(format!("{} {uidl}\r\n", i + 1).as_bytes());
                    }
                }
                r.extend_from_slice(b".\r\n");
                r
            }
            "LIST" => {
                let mut r = b"+OK\r\n".to_vec();
                for (i, (_, m)) in view.iter().enumerate() {
                    if !marked[i] {
                        r.extend_from_slice(format!("{} {}\r\n", i + 1, m.len()).as_bytes());
                    }
                }
                r.extend_from_slice(b".\r\n");
                r
            }
            "RETR" | "TOP" => match index {
                Some(i) if !marked[i] => {
                    let number = u32::try_from(i + 1).unwrap();
                    if faults.stall_retr == Some(number) {
                        std::thread::sleep(std::time::Duration::from_secs(60));
                        return;
                    }
                    if faults.trickle_retr == Some(number) && verb == "RETR" {
                        let _ = out.write_all(b"+OK\r\n");
                        for byte in stuffed(&view[i].1) {
                            std::thread::sleep(std::time::Duration::from_millis(200));
                            if out.write_all(&[byte]).is_err() {
                                return;
                            }
                        }
                        continue;
                    }
                    if faults.short_retr == Some(number) && verb == "RETR" {
                        // A lone dot in the middle that was not stuffed: the rest follows
                        // as if it were the answers to the next commands.
                        let m = &view[i].1;
                        let cut = m.len() / 2;
                        let cut = m[..cut]
                            .iter()
                            .rposition(|b| *b == b'\n')
                            .map_or(0, |p| p + 1);
                        let mut r = b"+OK\r\n".to_vec();
                        r.extend_from_slice(&m[..cut]);
                        r.extend_from_slice(b".\r\n");
                        r.extend_from_slice(&m[cut..]);
                        r.extend_from_slice(b".\r\n");
                        let _ = out.write_all(&r);
                        continue;
                    }
                    if faults.garbage_retr && verb == "RETR" {
                        b"* OK this is IMAP, not POP3\r\n".to_vec()
                    } else if faults.cut_retr == Some(number) && verb == "RETR" {
                        let body = stuffed(&view[i].1);
                        let _ = out.write_all(b"+OK\r\n");
                        let _ = out.write_all(&body[..body.len() / 2]);
                        return;
                    } else {
                        let raw = if verb == "TOP" {
                            let m = &view[i].1;
                            let end = m
                                .windows(4)
                                .position(|w| w == b"\r\n\r\n")
                                .map_or(m.len(), |p| p + 4);
                            m[..end].to_vec()
                        } else {
                            view[i].1.clone()
                        };
                        let mut r = b"+OK\r\n".to_vec();
                        r.extend_from_slice(&stuffed(&raw));
                        r
                    }
                }
                _ => b"-ERR no such message\r\n".to_vec(),
            },
            "DELE" => match index {
                Some(i) if !marked[i] => {
                    marked[i] = true;
                    b"+OK marked\r\n".to_vec()
                }
                _ => b"-ERR no such message\r\n".to_vec(),
            },
            "RSET" => {
                marked.iter_mut().for_each(|m| *m = false);
                b"+OK\r\n".to_vec()
            }
            "NOOP" => b"+OK\r\n".to_vec(),
            "QUIT" => {
                if faults.silent_quit {
                    return;
                }
                let gone: Vec<String> = view
                    .iter()
                    .zip(&marked)
                    .filter(|(_, m)| **m)
                    .map(|((u, _), _)| u.clone())
                    .collect();
                maildrop
                    .lock()
                    .unwrap()
                    .messages
                    .retain(|(u, _)| !gone.contains(u));
                let _ = out.write_all(b"+OK bye\r\n");
                return;
            }
            _ => format!("-ERR unknown command {upper}\r\n").into_bytes(),
        };
        if out.write_all(&reply).is_err() {
            return;
        }
    }
}
