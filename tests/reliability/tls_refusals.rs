//! TLS refusals (the reliability suite's security checks): a server whose certificate has
//! expired, names another host, or is self-signed is refused with an error that says so; a
//! pinned SHA-256 accepts exactly that certificate and no other; and a man in the middle that
//! removes STARTTLS from the real Dovecot's and Postfix's capabilities is refused for IMAP,
//! POP3 and SMTP, before any password is sent.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use crate::support;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose,
};
use support::MailServers;
use support::cli::tern;
use tern::protocol::ErrorKind;
use tern::protocol::tls::{Trust, connect_tls, sha256_hex};
use tokio_native_tls::native_tls::{Identity, TlsAcceptor};

/// A certificate and its key, in PEM, and the SHA-256 of its DER.
struct Leaf {
    cert: String,
    key: String,
    sha256: String,
}

fn ca() -> CertifiedIssuer<'static, KeyPair> {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params
        .distinguished_name
        .push(DnType::CommonName, "Tern TLS Test CA");
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap()
}

/// A server certificate for `names`; signed by `issuer`, or self-signed; optionally expired.
fn leaf(names: &[&str], issuer: Option<&CertifiedIssuer<'static, KeyPair>>, expired: bool) -> Leaf {
    let mut params =
        CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>()).unwrap();
    params.distinguished_name.push(DnType::CommonName, names[0]);
    if expired {
        params.not_before = rcgen::date_time_ymd(2020, 1, 1);
        params.not_after = rcgen::date_time_ymd(2021, 1, 1);
    }
    let key = KeyPair::generate().unwrap();
    let cert = match issuer {
        Some(ca) => params.signed_by(&key, ca).unwrap(),
        None => params.self_signed(&key).unwrap(),
    };
    Leaf {
        cert: cert.pem(),
        key: key.serialize_pem(),
        sha256: sha256_hex(cert.der()),
    }
}

/// A TLS server on a free loopback port that greets like an IMAP server once the handshake is
/// done, with `leaf`'s certificate.
fn tls_server(leaf: &Leaf) -> u16 {
    let identity = Identity::from_pkcs8(leaf.cert.as_bytes(), leaf.key.as_bytes()).unwrap();
    let acceptor = TlsAcceptor::new(identity).unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for tcp in listener.incoming() {
            let Ok(tcp) = tcp else { return };
            let acceptor = acceptor.clone();
            std::thread::spawn(move || {
                if let Ok(mut tls) = acceptor.accept(tcp) {
                    let _ = tls.write_all(b"* OK ready\r\n");
                    let _ = tls.read(&mut [0u8; 64]);
                }
            });
        }
    });
    port
}

fn connect(port: u16, trust: Trust) -> Result<(), tern::protocol::ProtocolError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(connect_tls("127.0.0.1", port, &trust))
        .map(|_| ())
}

fn ca_trust(path: &Path) -> Trust {
    Trust {
        ca_file: Some(path.to_path_buf()),
        pinned_sha256: None,
    }
}

/// Connecting fails with a TLS error whose message holds one of `words`.
fn refused(what: &str, port: u16, trust: Trust, words: &[&str]) -> String {
    let Err(error) = connect(port, trust) else {
        panic!("{what}: the connection was accepted");
    };
    assert_eq!(error.kind, ErrorKind::Tls, "{what}: {error:?}");
    let lower = error.message.to_lowercase();
    assert!(
        words.iter().any(|w| lower.contains(w)),
        "{what}: the error does not say why: {}",
        error.message
    );
    eprintln!("{what}: {}", error.message);
    error.message
}

#[test]
fn expired_wrong_host_and_self_signed_certificates_are_refused_and_a_pin_is_exact() {
    let dir = tempfile::tempdir().unwrap();
    let ca = ca();
    let ca_pem: PathBuf = dir.path().join("ca.pem");
    std::fs::write(&ca_pem, ca.pem()).unwrap();

    let good = leaf(&["localhost", "127.0.0.1"], Some(&ca), false);
    let good_port = tls_server(&good);
    connect(good_port, ca_trust(&ca_pem)).expect("the CA-signed certificate is trusted");

    let expired = tls_server(&leaf(&["localhost", "127.0.0.1"], Some(&ca), true));
    refused("expired", expired, ca_trust(&ca_pem), &["expired"]);

    let elsewhere = tls_server(&leaf(&["mail.elsewhere.test"], Some(&ca), false));
    refused(
        "wrong host",
        elsewhere,
        ca_trust(&ca_pem),
        &["mismatch", "hostname", "host name", "ip address"],
    );

    let own = leaf(&["localhost", "127.0.0.1"], None, false);
    let own_port = tls_server(&own);
    let message = refused(
        "self-signed",
        own_port,
        ca_trust(&ca_pem),
        &["self-signed", "self signed"],
    );
    assert!(
        message.contains(&own.sha256),
        "the error shows the fingerprint to pin: {message}"
    );

    // A pin accepts exactly its certificate: not the CA-signed one, not another self-signed.
    let pin = |sha: &str| Trust {
        ca_file: None,
        pinned_sha256: Some(sha.to_owned()),
    };
    connect(own_port, pin(&own.sha256)).expect("the pinned certificate is accepted");
    connect(own_port, pin(&own.sha256.to_uppercase())).expect("a pin in upper case too");
    refused(
        "pinned, other certificate",
        good_port,
        pin(&own.sha256),
        &["pinned"],
    );
    let twin = leaf(&["localhost", "127.0.0.1"], None, false);
    refused(
        "pinned, a twin",
        tls_server(&twin),
        pin(&own.sha256),
        &["pinned"],
    );
}

/// Removes STARTTLS (and POP3's STLS) from what the server offers, as a man in the middle
/// would.
fn strip_starttls(line: &str) -> String {
    let upper = line.to_ascii_uppercase();
    if upper.trim_end() == "STLS" || upper.starts_with("250-STARTTLS") {
        return String::new();
    }
    line.replace(" STARTTLS", "")
}

/// How many logins Dovecot and Postfix have logged for bob so far.
fn logins(servers: &MailServers) -> usize {
    let dovecot = servers.dovecot_log();
    let postfix = servers.postfix_log();
    dovecot
        .lines()
        .filter(|l| l.contains("Login: user=<bob@"))
        .count()
        + postfix
            .lines()
            .filter(|l| l.contains("sasl_username=bob@"))
            .count()
}

#[test]
fn a_man_in_the_middle_that_removes_starttls_is_refused_for_imap_pop3_and_smtp() {
    let servers = MailServers::start();
    let bob = &servers.bob;
    use support::proxy::rewriting_proxy_heard;
    let (imap, imap_heard) = rewriting_proxy_heard(servers.ports.imap, strip_starttls);
    let (pop3, pop3_heard) = rewriting_proxy_heard(servers.ports.pop3, strip_starttls);
    let (smtp, smtp_heard) = rewriting_proxy_heard(servers.ports.submission, strip_starttls);
    let before = logins(&servers);
    for (protocol, port) in [("imap", imap), ("pop3", pop3)] {
        let data = servers.dir().join(format!("{protocol}-data"));
        std::fs::create_dir_all(&data).unwrap();
        std::fs::write(data.join("password"), format!("{}\n", bob.password)).unwrap();
        let cmd = format!("cat {}", data.join("password").display());
        let incoming = format!("127.0.0.1:{port}");
        let outgoing = format!("127.0.0.1:{smtp}");
        let ca = servers.certs.ca_pem.to_str().unwrap();
        let out = tern(
            &data,
            &[
                "account",
                "add",
                "--name",
                "bob",
                "--email",
                &bob.address,
                "--protocol",
                protocol,
                "--incoming",
                &incoming,
                "--incoming-security",
                "starttls",
                "--outgoing",
                &outgoing,
                "--outgoing-security",
                "starttls",
                "--password-cmd",
                &cmd,
                "--ca-file",
                ca,
            ],
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let out = tern(&data, &["account", "verify", "bob", "--json"]);
        assert!(
            !out.status.success(),
            "{protocol}: verify passed without STARTTLS"
        );
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        for side in ["incoming", "outgoing"] {
            let error = report[side]["error"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            assert_eq!(report[side]["ok"], false, "{protocol} {side}: {report}");
            assert!(
                error.to_uppercase().contains("STARTTLS") || error.to_uppercase().contains("STLS"),
                "{protocol} {side}: the error does not name STARTTLS: {error}"
            );
            eprintln!("{protocol} {side}: {error}");
        }
        // The sync says so too, and leaves nothing behind.
        let out = tern(&data, &["sync"]);
        assert!(
            !out.status.success(),
            "{protocol}: sync passed without STARTTLS"
        );
    }
    assert_eq!(
        logins(&servers),
        before,
        "a login reached the servers over the stripped connections"
    );
    // What Tern put on the wire: no login command, no password in any form.
    use base64::Engine as _;
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let secrets = [
        bob.password.clone(),
        b64(&bob.password),
        b64(&format!("\0{}\0{}", bob.address, bob.password)),
    ];
    for (protocol, heard) in [
        ("imap", imap_heard),
        ("pop3", pop3_heard),
        ("smtp", smtp_heard),
    ] {
        let heard = String::from_utf8_lossy(&heard.lock().unwrap()).into_owned();
        // (IMAP may send nothing: the greeting's capabilities already lack STARTTLS.)
        for line in heard.lines() {
            let words: Vec<String> = line
                .split_whitespace()
                .map(str::to_ascii_uppercase)
                .collect();
            let command = |i: usize| words.get(i).map(String::as_str);
            assert!(
                !matches!(command(0), Some("AUTH" | "USER" | "PASS" | "APOP"))
                    && !matches!(command(1), Some("LOGIN" | "AUTHENTICATE")),
                "{protocol}: Tern sent a login over the stripped connection: {line}"
            );
        }
        for secret in &secrets {
            assert!(
                !heard.contains(secret.as_str()),
                "{protocol}: the password went out"
            );
        }
        eprintln!(
            "{protocol}: Tern sent {:?}",
            heard.lines().collect::<Vec<_>>()
        );
    }
}
