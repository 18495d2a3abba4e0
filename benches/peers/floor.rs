//! The protocol floor: the least a client can do for each task, with no storage, run as a
//! process of its own (`peers --floor KIND`) so it is measured like the others. IMAP is raw
//! commands over TLS; POP3 and SMTP use Tern's protocol clients, one command at a time.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;

use tokio_native_tls::native_tls::{Certificate, TlsConnector, TlsStream};

/// What the floor clients are told, through the environment.
pub struct Target {
    pub port: u16,
    pub ca: String,
    pub user: String,
    pub password: String,
}

impl Target {
    pub fn from_env() -> Target {
        let var = |k: &str| std::env::var(k).unwrap();
        Target {
            port: var("FLOOR_PORT").parse().unwrap(),
            ca: var("FLOOR_CA"),
            user: var("FLOOR_USER"),
            password: var("FLOOR_PASSWORD"),
        }
    }
}

fn tls(target: &Target) -> TlsStream<TcpStream> {
    let ca = Certificate::from_pem(&std::fs::read(&target.ca).unwrap()).unwrap();
    let connector = TlsConnector::builder()
        .add_root_certificate(ca)
        .build()
        .unwrap();
    let tcp = TcpStream::connect(("127.0.0.1", target.port)).unwrap();
    tcp.set_nodelay(true).unwrap();
    connector.connect("localhost", tcp).unwrap()
}

/// A raw IMAP connection that reads responses up to a tagged completion, literals included.
struct Imap {
    io: BufReader<TlsStream<TcpStream>>,
    tag: u32,
    pub bytes: u64,
    /// `* N FETCH` responses read: each floor checks it got them all, so a run that fetched
    /// nothing cannot pass for a fast one.
    fetches: usize,
}

impl Imap {
    fn login(target: &Target) -> Imap {
        let mut imap = Imap {
            io: BufReader::with_capacity(256 * 1024, tls(target)),
            tag: 0,
            bytes: 0,
            fetches: 0,
        };
        let mut greeting = Vec::new();
        imap.io.read_until(b'\n', &mut greeting).unwrap();
        imap.command(
            &format!("LOGIN \"{}\" \"{}\"", target.user, target.password),
            |_| {},
        );
        imap
    }

    /// Sends one command and reads to its completion; `untagged` sees each untagged line
    /// (without literals).
    fn command(&mut self, command: &str, mut untagged: impl FnMut(&[u8])) {
        self.tag += 1;
        let tag = format!("F{} ", self.tag);
        let line = format!("{tag}{command}\r\n");
        self.io.get_mut().write_all(line.as_bytes()).unwrap();
        let mut line = Vec::new();
        let mut skip = Vec::new();
        loop {
            line.clear();
            let n = self.io.read_until(b'\n', &mut line).unwrap();
            assert!(n > 0, "the server closed the connection during {command}");
            self.bytes += n as u64;
            if line.starts_with(b"* ") && line.windows(8).any(|w| w == b" FETCH (") {
                self.fetches += 1;
            }
            if line.starts_with(tag.as_bytes()) {
                let text = String::from_utf8_lossy(&line);
                assert!(text[tag.len()..].starts_with("OK"), "{command}: {text}");
                return;
            }
            // A literal: {N}\r\n then N bytes, then the rest of the line.
            let mut whole = true;
            while let Some(size) = literal(&line) {
                skip.resize(size, 0);
                self.io.read_exact(&mut skip).unwrap();
                self.bytes += size as u64;
                line.clear();
                self.bytes += self.io.read_until(b'\n', &mut line).unwrap() as u64;
                whole = false;
            }
            if whole {
                untagged(&line);
            }
        }
    }
}

/// The size of the literal that ends `line` (`{N}\r\n`), if it ends with one.
fn literal(line: &[u8]) -> Option<usize> {
    let text = std::str::from_utf8(line).ok()?.trim_end();
    let open = text.strip_suffix('}')?.rfind('{')?;
    text[open + 1..text.len() - 1].parse().ok()
}

const HEADER_ITEMS: &str = "(UID FLAGS RFC822.SIZE INTERNALDATE BODYSTRUCTURE \
BODY.PEEK[HEADER.FIELDS (DATE FROM TO CC SUBJECT MESSAGE-ID IN-REPLY-TO REFERENCES LIST-ID)])";

/// Runs one floor client; the kind is the first argument after `--floor`.
pub fn main(kind: &str) {
    let target = Target::from_env();
    match kind {
        "imap-headers" => {
            let mut imap = Imap::login(&target);
            let mut exists = 0usize;
            imap.command("SELECT INBOX", |line| {
                let text = String::from_utf8_lossy(line);
                if let Some(n) = text
                    .strip_prefix("* ")
                    .and_then(|t| t.strip_suffix(" EXISTS\r\n"))
                {
                    exists = n.parse().unwrap();
                }
            });
            imap.command(&format!("UID FETCH 1:* {HEADER_ITEMS}"), |_| {});
            assert!(
                exists > 0 && imap.fetches == exists,
                "{} of {exists} headers",
                imap.fetches
            );
            imap.command("LOGOUT", |_| {});
        }
        "imap-bodies" => {
            let mut imap = Imap::login(&target);
            imap.command("SELECT INBOX", |_| {});
            let mut uids = Vec::new();
            imap.command("UID SEARCH ALL", |line| {
                let text = String::from_utf8_lossy(line);
                if let Some(rest) = text.strip_prefix("* SEARCH") {
                    uids.extend(
                        rest.split_whitespace()
                            .filter_map(|u| u.parse::<u32>().ok()),
                    );
                }
            });
            for batch in uids.chunks(500) {
                let set: Vec<String> = batch.iter().map(u32::to_string).collect();
                imap.command(
                    &format!("UID FETCH {} (UID BODY.PEEK[])", set.join(",")),
                    |_| {},
                );
            }
            assert!(
                !uids.is_empty() && imap.fetches == uids.len(),
                "{} of {} bodies",
                imap.fetches,
                uids.len()
            );
            imap.command("LOGOUT", |_| {});
        }
        "imap-select" => {
            let mut imap = Imap::login(&target);
            imap.command("SELECT INBOX", |_| {});
            imap.command("LOGOUT", |_| {});
        }
        "pop3-retr" | "pop3-uidl" => pop3(&target, kind == "pop3-retr"),
        "smtp" => smtp(&target),
        other => panic!("no floor client {other}"),
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn endpoint(target: &Target) -> tern::protocol::Endpoint {
    tern::protocol::Endpoint {
        host: "127.0.0.1".into(),
        port: target.port,
        security: tern::account::Security::Tls,
        trust: tern::protocol::tls::Trust {
            ca_file: Some(target.ca.clone().into()),
            pinned_sha256: None,
        },
    }
}

/// Log in, then RETR every message one round trip at a time (`retr`), or only list the UIDLs
/// (what a check for new mail needs at least); keep nothing.
fn pop3(target: &Target, retr: bool) {
    runtime().block_on(async {
        let mut client = tern::protocol::pop3::Pop3Client::connect(&endpoint(target))
            .await
            .unwrap();
        let secret = tern::account::credentials::Secret::new(target.password.clone());
        client.login(&target.user, &secret).await.unwrap();
        let (count, _) = client.stat().await.unwrap();
        assert!(count > 0, "the POP3 floor found no messages");
        if retr {
            for n in 1..=count {
                client.retr(n, u64::MAX).await.unwrap();
            }
        } else {
            client.uidl().await.unwrap();
        }
        client.quit().await.unwrap();
    });
}

/// One connection, AUTH, then each message of the directory `FLOOR_MESSAGES` in turn.
fn smtp(target: &Target) {
    let dir = std::env::var("FLOOR_MESSAGES").unwrap();
    let to = std::env::var("FLOOR_TO").unwrap();
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    runtime().block_on(async {
        let mut client = tern::protocol::smtp::SmtpClient::connect(&endpoint(target))
            .await
            .unwrap();
        let secret = tern::account::credentials::Secret::new(target.password.clone());
        client.login(&target.user, &secret).await.unwrap();
        let envelope = tern::protocol::smtp::Envelope {
            from: target.user.clone(),
            to: vec![to.clone()],
        };
        for file in files {
            let raw = std::fs::read(file).unwrap();
            client.send(&envelope, &raw, || Ok(())).await.unwrap();
        }
        client.quit().await;
    });
}
