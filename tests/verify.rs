//! `tern account verify` against the harness's Dovecot and Postfix: both servers logged in to
//! (nothing sent), and each failure named precisely: a wrong password, an untrusted
//! certificate (with the fingerprint to pin), a security mode that does not match the port.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod support;

use support::{MailServers, cli};

fn verify(data: &std::path::Path, name: &str, json: bool) -> (bool, String, String) {
    let mut args = vec!["account", "verify", name];
    if json {
        args.push("--json");
    }
    let out = cli::tern(data, &args);
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn verify_logs_in_to_both_servers_and_names_each_failure() {
    let servers = MailServers::start();
    let dir = tempfile::tempdir().unwrap();

    // IMAP and POP3 accounts with good settings: both servers take the password.
    let data = dir.path().join("good");
    cli::add_imap_account(&servers, &data, &servers.bob, servers.ports.imaps, &[]);
    let (ok, stdout, stderr) = verify(&data, "bob", true);
    assert!(ok, "{stderr}");
    assert_eq!(stderr.matches("logged in").count(), 2, "{stderr}");
    let doc: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(doc["incoming"]["ok"], true);
    assert_eq!(doc["outgoing"]["error"], serde_json::Value::Null);
    let pop = dir.path().join("pop");
    cli::add_pop3_account(
        &servers,
        &pop,
        &servers.bob,
        servers.ports.pop3s,
        "tls",
        &[],
    );
    let (ok, _, stderr) = verify(&pop, "bob", false);
    assert!(ok, "{stderr}");

    // A wrong password: both refuse, and the message says it is the password.
    std::fs::write(data.join("password"), "wrong\n").unwrap();
    let (ok, stdout, stderr) = verify(&data, "bob", true);
    assert!(!ok);
    assert!(stderr.contains("incoming (IMAP 127.0.0.1:"), "{stderr}");
    assert!(stderr.contains("outgoing (SMTP 127.0.0.1:"), "{stderr}");
    assert!(stderr.to_lowercase().contains("password"), "{stderr}");
    assert!(
        !stderr.contains("wrong\n") && !stdout.contains("\"wrong\""),
        "the password leaked"
    );
    let doc: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(doc["incoming"]["ok"], false);
    assert!(doc["outgoing"]["error"].is_string());

    // No CA file: the certificate is not trusted, and its fingerprint is offered to pin.
    let untrusted = dir.path().join("untrusted");
    std::fs::create_dir_all(&untrusted).unwrap();
    std::fs::write(untrusted.join("password"), &servers.bob.password).unwrap();
    let cmd = format!("cat {}", untrusted.join("password").display());
    let incoming = format!("127.0.0.1:{}", servers.ports.imaps);
    let outgoing = format!("127.0.0.1:{}", servers.ports.submission);
    let out = cli::tern(
        &untrusted,
        &[
            "account",
            "add",
            "--name",
            "bob",
            "--email",
            &servers.bob.address,
            "--protocol",
            "imap",
            "--incoming",
            &incoming,
            "--incoming-security",
            "tls",
            "--outgoing",
            &outgoing,
            "--outgoing-security",
            "tls",
            "--password-cmd",
            &cmd,
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (ok, _, stderr) = verify(&untrusted, "bob", false);
    assert!(!ok);
    assert!(stderr.contains("--cert-sha256"), "{stderr}");
    // ... and the outgoing side, TLS on the STARTTLS port, says so.
    assert!(stderr.contains("wants starttls"), "{stderr}");

    // Over STARTTLS on both sides, the untrusted certificate is still shown (read after a
    // STARTTLS of its own): its subject, issuer and fingerprint, for IMAP and for SMTP.
    let out = cli::tern(
        &untrusted,
        &[
            "account",
            "set",
            "bob",
            "--incoming",
            &format!("127.0.0.1:{}", servers.ports.imap),
            "--incoming-security",
            "starttls",
            "--outgoing-security",
            "starttls",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (ok, stdout, stderr) = verify(&untrusted, "bob", true);
    assert!(!ok);
    let doc: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    for side in ["incoming", "outgoing"] {
        let error = doc[side]["error"].as_str().unwrap();
        assert!(error.contains("CN=localhost"), "{side}: {error}");
        assert!(error.contains("Tern Test CA"), "{side}: {error}");
        assert!(error.contains("--cert-sha256 "), "{side}: {error}");
    }
    assert!(stderr.contains("CN=localhost"), "{stderr}");
}
