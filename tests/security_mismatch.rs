//! A security mode that does not match the port fails within seconds and names the mismatch,
//! for IMAP, POP3 and SMTP submission against the harness's Dovecot and Postfix: STARTTLS (or
//! plain) against an implicit-TLS port, and TLS against a port that greets in plain text.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod support;

use std::time::{Duration, Instant};

use support::MailServers;
use tern::account::Security;
use tern::protocol::tls::Trust;
use tern::protocol::{Endpoint, ErrorKind, ProtocolError};

fn endpoint(servers: &MailServers, port: u16, security: Security) -> Endpoint {
    Endpoint {
        host: "127.0.0.1".into(),
        port,
        security,
        trust: Trust {
            ca_file: Some(servers.certs.ca_pem.clone()),
            pinned_sha256: None,
        },
    }
}

/// Runs `connect`, checks it failed within 12 s with a Tls-kind error containing `words`.
fn fails_fast<F, T>(what: &str, connect: F, words: &str)
where
    F: std::future::Future<Output = Result<T, ProtocolError>>,
{
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let started = Instant::now();
    let result = runtime.block_on(connect);
    let took = started.elapsed();
    let Err(error) = result else {
        panic!("{what}: connected with the wrong security mode");
    };
    assert!(
        took < Duration::from_secs(12),
        "{what}: took {took:?}: {error:?}"
    );
    assert_eq!(error.kind, ErrorKind::Tls, "{what}: {error:?}");
    assert!(error.message.contains(words), "{what}: {}", error.message);
}

#[test]
fn a_security_mode_that_does_not_match_the_port_fails_fast_and_says_so() {
    use tern::protocol::imap::Session;
    use tern::protocol::pop3::Pop3Client;
    use tern::protocol::smtp::SmtpClient;
    let servers = MailServers::start();
    let p = servers.ports;
    // The six cases at once: each waits for a greeting that never comes, or probes.
    std::thread::scope(|scope| {
        let servers = &servers;
        scope.spawn(move || {
            let e = endpoint(servers, p.imaps, Security::Starttls);
            fails_fast(
                "IMAP starttls on 993",
                Session::connect(&e),
                "use security tls",
            );
        });
        scope.spawn(move || {
            let e = endpoint(servers, p.pop3s, Security::Plain);
            fails_fast(
                "POP3 plain on 995",
                Pop3Client::connect(&e),
                "use security tls",
            );
        });
        scope.spawn(move || {
            let e = endpoint(servers, p.submissions, Security::Starttls);
            fails_fast(
                "SMTP starttls on 465",
                SmtpClient::connect(&e),
                "use security tls",
            );
        });
        scope.spawn(move || {
            let e = endpoint(servers, p.imap, Security::Tls);
            fails_fast("IMAP tls on 143", Session::connect(&e), "wants starttls");
        });
        scope.spawn(move || {
            let e = endpoint(servers, p.pop3, Security::Tls);
            fails_fast("POP3 tls on 110", Pop3Client::connect(&e), "wants starttls");
        });
        scope.spawn(move || {
            let e = endpoint(servers, p.submission, Security::Tls);
            fails_fast("SMTP tls on 587", SmtpClient::connect(&e), "wants starttls");
        });
    });
}
