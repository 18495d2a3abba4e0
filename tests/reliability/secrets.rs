//! No password anywhere (the reliability suite's security checks): after a run of every
//! command against the real Dovecot and Postfix (IMAP and POP3 accounts, a send, offline
//! changes, a wrong password, a refused login), the test users' passwords, and their SASL PLAIN
//! and LOGIN encodings, are in no file of the data directory (the database, its WAL, anything
//! else), in no command's output, and in no protocol log (`TERN_PROTOCOL_LOG`), whose AUTH,
//! LOGIN and PASS lines are redacted.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use crate::support;

use std::path::{Path, PathBuf};

use base64::Engine as _;
use support::MailServers;
use support::cli::tern_bounded;

/// Every form a password can take on the wire or in a file.
fn forms(user: &str, password: &str) -> Vec<Vec<u8>> {
    let b64 = |s: &[u8]| {
        base64::engine::general_purpose::STANDARD
            .encode(s)
            .into_bytes()
    };
    vec![
        password.as_bytes().to_vec(),
        b64(password.as_bytes()),
        b64(format!("\0{user}\0{password}").as_bytes()),
        b64(format!("{user}\0{user}\0{password}").as_bytes()),
    ]
}

fn holds(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

/// Every file under `dir`.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).unwrap().map(Result::unwrap) {
            let path = entry.path();
            if path.is_dir() {
                todo.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out
}

#[test]
fn no_password_is_left_in_the_data_dir_the_output_or_the_protocol_log() {
    let servers = MailServers::start();
    let bob = &servers.bob;
    let root = servers.dir().join("secrets");
    let imap = root.join("imap");
    let pop = root.join("pop");
    let log = root.join("protocol.log");
    // The passwords come from files outside the data directories.
    let password_dir = root.join("passwords");
    std::fs::create_dir_all(&password_dir).unwrap();
    support::cli::add_imap_account(
        &servers,
        &imap,
        bob,
        servers.ports.imaps,
        &["--download-bodies"],
    );
    support::cli::add_pop3_account(&servers, &pop, bob, servers.ports.pop3s, "tls", &[]);
    for data in [&imap, &pop] {
        // The helpers keep the password file in the data directory; move it out.
        for name in ["password", "password-bob"] {
            let from = data.join(name);
            if from.exists() {
                let to = password_dir.join(format!(
                    "{}-{name}",
                    data.file_name().unwrap().to_string_lossy()
                ));
                std::fs::rename(&from, &to).unwrap();
                let cmd = format!("cat {}", to.display());
                let out =
                    support::cli::tern(data, &["account", "set", "bob", "--password-cmd", &cmd]);
                assert!(
                    out.status.success(),
                    "{}",
                    String::from_utf8_lossy(&out.stderr)
                );
            }
        }
    }
    // Mail to read, with an attachment to save.
    support::mailbox::deliver_lmtp(
        &servers,
        bob,
        "From: alice@example.test\r\nTo: bob@example.test\r\nSubject: hello\r\n\
         Message-ID: <hello@example.test>\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n\
         see attached\r\n--b\r\nContent-Type: text/plain; name=a.txt\r\n\
         Content-Disposition: attachment; filename=a.txt\r\n\r\nattached words\r\n--b--\r\n",
    );

    let env = [
        ("TERN_PROTOCOL_LOG", log.to_str().unwrap()),
        ("TERN_TIMEOUT_SECS", "5"),
    ];
    let mut outputs: Vec<u8> = Vec::new();
    let mut run = |data: &Path, args: &[&str], stdin: &str| {
        let out = tern_bounded(data, args, &env, stdin, std::time::Duration::from_secs(120));
        assert!(!out.panicked(), "{args:?}: {}", out.stderr());
        outputs.extend_from_slice(&out.output.stdout);
        outputs.extend_from_slice(&out.output.stderr);
        out
    };
    let to = servers.carol.address.clone();
    let save_dir = root.join("saved");
    let save = save_dir.to_str().unwrap();
    for data in [&imap, &pop] {
        for args in [
            &["account", "list", "--json"][..],
            &["account", "verify", "bob", "--json"],
            &["sync"],
            &["folders", "--account", "bob", "--json"],
            &["list", "--account", "bob", "--json"],
            &["search", "hello", "--json"],
            &["show", "1", "--json"],
            &["show", "1", "--raw"],
            &["save", "1", "--dir", save],
            &["flag", "1", "+flagged"],
            &["copy", "1", "Archive", "--offline"],
            &[
                "send",
                "--account",
                "bob",
                "--to",
                &to,
                "--subject",
                "from the test",
            ],
            &[
                "send",
                "--account",
                "bob",
                "--to",
                &to,
                "--subject",
                "queued",
                "--queue",
            ],
            &["outbox", "--json"],
            &["sync"],
            &["queue", "--json"],
            &["delete", "1"],
            &["sync"],
        ] {
            run(data, args, "a body\n");
        }
    }
    // A wrong password: the refusal must not echo what was tried.
    let wrong = "wrong-secret-4711";
    let wrong_file = password_dir.join("wrong");
    std::fs::write(&wrong_file, format!("{wrong}\n")).unwrap();
    let cmd = format!("cat {}", wrong_file.display());
    for data in [&imap, &pop] {
        run(data, &["account", "set", "bob", "--password-cmd", &cmd], "");
        let out = run(data, &["sync"], "");
        assert!(
            !out.output.status.success(),
            "a wrong password was accepted"
        );
        run(data, &["account", "verify", "bob", "--json"], "");
        run(
            data,
            &[
                "send",
                "--account",
                "bob",
                "--to",
                &to,
                "--subject",
                "refused",
            ],
            "x\n",
        );
    }

    let log_bytes = std::fs::read(&log).unwrap_or_default();
    // `TERN_KEEP_LOG=FILE` keeps a copy of the log to look at.
    if let Ok(keep) = std::env::var("TERN_KEEP_LOG") {
        std::fs::write(keep, &log_bytes).unwrap();
    }
    assert!(
        holds(&log_bytes, b"LOGIN") || holds(&log_bytes, b"AUTH"),
        "the protocol log has no login in it: {} bytes",
        log_bytes.len()
    );
    let mut secrets = forms(&bob.address, &bob.password);
    secrets.extend(forms(&bob.address, wrong));
    let mut places: Vec<(String, Vec<u8>)> = files(&imap)
        .into_iter()
        .chain(files(&pop))
        .chain(files(&save_dir))
        .map(|p| (p.display().to_string(), std::fs::read(&p).unwrap()))
        .collect();
    places.push(("the commands' output".into(), outputs));
    places.push(("the protocol log".into(), log_bytes.clone()));
    for (place, bytes) in &places {
        for secret in &secrets {
            assert!(
                !holds(bytes, secret),
                "{place} holds a password form ({})",
                String::from_utf8_lossy(secret)
            );
        }
    }
    // The log says that it redacted, rather than leaving the lines out.
    let text = String::from_utf8_lossy(&log_bytes);
    assert!(
        text.contains("[redacted]"),
        "no redacted line in the protocol log"
    );
    eprintln!(
        "checked {} files and {} bytes of protocol log",
        places.len() - 2,
        log_bytes.len()
    );
}
