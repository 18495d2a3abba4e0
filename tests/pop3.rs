//! The POP3 client against the harness's Dovecot pop3d (STLS and implicit TLS): CAPA, AUTH
//! PLAIN, STAT/LIST/UIDL, byte-exact RETR and TOP (dot-stuffed lines, 8-bit bytes, a message
//! without a final line break), pipelined RETR in one write, DELE that takes effect only at
//! QUIT; and, with scripted servers for faults Dovecot will not produce, a missing STLS (no
//! password sent), a connection cut mid-message, and a reply that is not POP3.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod support;

use std::io::{BufRead, Write};

use support::{MailServers, corpus, mailbox};
use tern::account::Security;
use tern::account::credentials::Secret;
use tern::protocol::pop3::Pop3Client;
use tern::protocol::tls::Trust;
use tern::protocol::{Endpoint, ErrorKind};

fn endpoint(servers: &MailServers, security: Security) -> Endpoint {
    Endpoint {
        host: "127.0.0.1".into(),
        port: match security {
            Security::Tls => servers.ports.pop3s,
            _ => servers.ports.pop3,
        },
        security,
        trust: Trust {
            ca_file: Some(servers.certs.ca_pem.clone()),
            pinned_sha256: None,
        },
    }
}

/// Messages that test the framing, as they are stored.
fn tricky_messages() -> Vec<Vec<u8>> {
    let mut big =
        b"From: big@example.test\r\nSubject: big\r\nMessage-ID: <big@example.test>\r\n\r\n"
            .to_vec();
    for i in 0..40_000 {
        big.extend_from_slice(
            format!(".line {i} starts with a dot and has some length to it\r\n").as_bytes(),
        );
    }
    vec![
        b"From: a@example.test\r\nSubject: dots\r\nMessage-ID: <dots@example.test>\r\n\r\n.\r\n..\r\n.leading\r\nmiddle.dot\r\n.\r\n".to_vec(),
        b"From: b@example.test\r\nSubject: =?utf-8?q?8bit?=\r\nMessage-ID: <8bit@example.test>\r\nContent-Type: text/plain; charset=latin1\r\nContent-Transfer-Encoding: 8bit\r\n\r\nbytes \xe9\xe8\xff\x80 and a NUL-free tail\r\n".to_vec(),
        big,
        b"From: c@example.test\r\nSubject: no final break\r\nMessage-ID: <nobreak@example.test>\r\n\r\nthe last line has no CRLF".to_vec(),
    ]
}

/// What RETR can return for a stored message: the bytes themselves, except that POP3's
/// framing (RFC 1939 section 3) ends every message with a line break, so one without a final
/// CRLF gains one. LIST still counts the stored size.
fn on_the_wire(raw: &[u8]) -> Vec<u8> {
    let mut wire = raw.to_vec();
    if !wire.ends_with(b"\r\n") {
        wire.extend_from_slice(b"\r\n");
    }
    wire
}

#[tokio::test]
async fn pop3_against_dovecot_is_byte_exact_pipelined_and_deletes_only_at_quit() {
    let servers = MailServers::start();
    let bob = &servers.bob;
    let messages = tricky_messages();
    for (i, raw) in messages.iter().enumerate() {
        corpus::write_message(bob, "INBOX", raw, &[], 1_790_000_000 + i as i64);
    }
    let password = Secret::new(bob.password.clone());
    for security in [Security::Starttls, Security::Tls] {
        let mut client = Pop3Client::connect(&endpoint(&servers, security))
            .await
            .unwrap();
        for cap in ["UIDL", "TOP", "PIPELINING"] {
            assert!(
                client.has_capability(cap),
                "{security:?}: {:?}",
                client.capabilities()
            );
        }
        client.login(&bob.address, &password).await.unwrap();
        let (count, _) = client.stat().await.unwrap();
        assert_eq!(count as usize, messages.len());
        let list = client.list().await.unwrap();
        let uidl = client.uidl().await.unwrap();
        assert_eq!(list.len(), messages.len());
        let mut ids: Vec<&str> = uidl.iter().map(|(_, id)| id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), messages.len(), "unique ids: {uidl:?}");
        // Dovecot lists messages in the order they were stored.
        for ((number, size), raw) in list.iter().zip(&messages) {
            let got = client.retr(*number, u64::MAX).await.unwrap();
            assert_eq!(got, on_the_wire(raw), "RETR {number} is byte-exact");
            assert_eq!(*size as usize, raw.len(), "LIST size of {number}");
            let top = client.top(*number, 0, u64::MAX).await.unwrap();
            let headers_end = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
            assert_eq!(top, raw[..headers_end], "TOP {number} 0 is the header");
        }
        // Pipelined: every RETR of the batch in one write, answers streamed back in order.
        let writes = client.writes;
        let numbers: Vec<u32> = list.iter().map(|(n, _)| *n).collect();
        let mut got = Vec::new();
        client
            .retr_many(&numbers, u64::MAX, |n, m| {
                got.push((n, m.unwrap()));
                Ok::<(), tern::protocol::ProtocolError>(())
            })
            .await
            .unwrap();
        assert_eq!(client.writes, writes + 1, "one write for the batch");
        assert_eq!(got.len(), messages.len());
        for ((_, m), raw) in got.iter().zip(&messages) {
            assert_eq!(*m, on_the_wire(raw));
        }
        // A message over the limit is refused with a clear error.
        let err = client.retr(numbers[2], 1024).await.unwrap_err();
        assert!(err.to_string().contains("larger than the limit"), "{err}");
        // (That connection is out of step now; a new one for the rest.)
        drop(client);
        let mut client = Pop3Client::connect(&endpoint(&servers, security))
            .await
            .unwrap();
        client.login(&bob.address, &password).await.unwrap();
        // DELE then RSET: nothing is deleted.
        client.dele(1).await.unwrap();
        client.rset().await.unwrap();
        client.quit().await.unwrap();
        assert_eq!(mailbox::count(&servers, bob, "INBOX"), messages.len());
    }
    // DELE without QUIT (the connection just drops): nothing is deleted.
    let mut client = Pop3Client::connect(&endpoint(&servers, Security::Tls))
        .await
        .unwrap();
    client.login(&bob.address, &password).await.unwrap();
    client.dele(1).await.unwrap();
    drop(client);
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert_eq!(mailbox::count(&servers, bob, "INBOX"), messages.len());
    // DELE then QUIT: exactly that message is gone.
    let mut client = Pop3Client::connect(&endpoint(&servers, Security::Tls))
        .await
        .unwrap();
    client.login(&bob.address, &password).await.unwrap();
    let before = client.uidl().await.unwrap();
    client.dele(1).await.unwrap();
    client.quit().await.unwrap();
    let mut client = Pop3Client::connect(&endpoint(&servers, Security::Tls))
        .await
        .unwrap();
    client.login(&bob.address, &password).await.unwrap();
    let after = client.uidl().await.unwrap();
    let after_ids: Vec<&String> = after.iter().map(|(_, id)| id).collect();
    assert_eq!(after.len(), before.len() - 1);
    assert!(!after_ids.contains(&&before[0].1));
    client.quit().await.unwrap();

    // A wrong password is an Auth error that does not repeat it.
    let mut client = Pop3Client::connect(&endpoint(&servers, Security::Tls))
        .await
        .unwrap();
    let err = client
        .login(&bob.address, &Secret::new("not-the-password".into()))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Auth, "{err}");
    assert!(!err.to_string().contains("not-the-password"), "{err}");
}

/// A scripted answer: the bytes, and whether to close the connection after them.
type Answer = fn(&str) -> Option<(&'static [u8], bool)>;

/// A scripted POP3 server: greets, then answers each command line with `answer(line)`: the
/// bytes, and whether to close the connection after them (None closes it at once). Returns its
/// port and every line it received.
fn scripted(answer: Answer) -> (u16, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            let log = log.clone();
            std::thread::spawn(move || {
                let mut out = stream.try_clone().unwrap();
                let mut reader = std::io::BufReader::new(stream);
                if out.write_all(b"+OK scripted\r\n").is_err() {
                    return;
                }
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    log.lock().unwrap().push(line.trim_end().to_owned());
                    match answer(line.trim_end()) {
                        Some((bytes, close)) => {
                            if out.write_all(bytes).is_err() || close {
                                return;
                            }
                        }
                        None => return,
                    }
                }
            });
        }
    });
    (port, seen)
}

fn plain(port: u16, security: Security) -> Endpoint {
    Endpoint {
        host: "127.0.0.1".into(),
        port,
        security,
        trust: Trust::default(),
    }
}

#[tokio::test]
async fn a_missing_stls_is_an_error_and_no_password_is_sent() {
    let (port, seen) = scripted(|line| match line {
        "CAPA" => Some((b"+OK\r\nUIDL\r\nUSER\r\n.\r\n", false)),
        _ => Some((b"+OK\r\n", false)),
    });
    let err = Pop3Client::connect(&plain(port, Security::Starttls))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Tls, "{err}");
    assert!(err.to_string().contains("does not offer STLS"), "{err}");
    let seen = seen.lock().unwrap();
    assert!(
        seen.iter()
            .all(|l| !l.starts_with("USER") && !l.starts_with("PASS") && !l.starts_with("AUTH")),
        "{seen:?}"
    );
}

#[tokio::test]
async fn cut_and_garbled_answers_give_clear_errors() {
    // RETR answered with half a message, then the connection closes.
    let (port, _) = scripted(|line| match line {
        "CAPA" => Some((b"-ERR no CAPA here\r\n", false)),
        l if l.starts_with("USER") || l.starts_with("PASS") => Some((b"+OK\r\n", false)),
        "RETR 1" => Some((b"+OK 100 octets\r\nSubject: cut\r\n\r\nhalf a mess", true)),
        _ => None,
    });
    let mut client = Pop3Client::connect(&plain(port, Security::Plain))
        .await
        .unwrap();
    assert!(client.capabilities().is_empty());
    client.login("u", &Secret::new("p".into())).await.unwrap();
    let err = tokio::time::timeout(std::time::Duration::from_secs(30), client.retr(1, u64::MAX))
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Network, "{err}");
    assert!(err.to_string().contains("closed the connection"), "{err}");

    // A reply that is not POP3.
    let (port, _) = scripted(|line| match line {
        "CAPA" => Some((b"* OK this is IMAP\r\n", false)),
        _ => None,
    });
    let err = Pop3Client::connect(&plain(port, Security::Plain))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Protocol, "{err}");
    assert!(err.to_string().contains("not a POP3 reply"), "{err}");
}
