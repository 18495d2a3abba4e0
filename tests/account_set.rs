//! `tern account set` against the harness's Dovecot: a new port or security keeps the cache; a
//! new server name or login is refused until the user says whether it is the same mailbox
//! (`--keep-cache`) or another (`--reset-cache`, refused while changes wait for the server);
//! after a reset the cache mirrors the new mailbox UID by UID, with another client delivering
//! mail between Tern's passes. Trust options are checked as `add` checks them.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod support;

use std::path::Path;

use support::mailbox::{self, cached_flags, deliver_lmtp, server_flags};
use support::{MailServers, cli};

fn ok(data: &Path, args: &[&str]) -> String {
    cli::tern_ok(data, args)
}

fn refused(data: &Path, args: &[&str]) -> String {
    let out = cli::tern(data, args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success(), "{args:?} should fail");
    stderr
}

fn account(data: &Path) -> serde_json::Value {
    let out = cli::tern(data, &["account", "list", "--json"]);
    serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()[0].clone()
}

/// `field` of every message `tern list` shows for the account, sorted.
fn listed(data: &Path, field: &str) -> Vec<String> {
    let out = cli::tern(data, &["list", "--account", "bob", "--json"]);
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut values: Vec<String> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r[field].to_string())
        .collect();
    values.sort();
    values
}

/// Three messages for bob and two for alice.
fn fill(servers: &MailServers) {
    for n in 0..3 {
        deliver_lmtp(servers, &servers.bob, &message(n, &servers.bob.address));
    }
    for n in 0..2 {
        deliver_lmtp(servers, &servers.alice, &message(n, &servers.alice.address));
    }
}

fn message(n: usize, to: &str) -> String {
    format!(
        "From: sender@example.test\r\nTo: {to}\r\nSubject: set test {n}\r\nMessage-ID: <set-{n}-{to}>\r\nDate: Tue, 1 Dec 2026 10:00:00 +0000\r\n\r\nbody {n}\r\n"
    )
}

#[test]
fn set_changes_servers_and_trust_and_keeps_or_resets_the_cache_as_told() {
    let servers = MailServers::start();
    let (bob, alice) = (&servers.bob, &servers.alice);
    fill(&servers);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    cli::add_imap_account(&servers, &data, bob, servers.ports.imaps, &[]);
    ok(&data, &["sync", "--account", "bob"]);
    let ids = |data: &Path| listed(data, "id");
    let before = ids(&data);
    assert_eq!(before.len(), 3);

    // Another port and security on the same host: the cache stays, and the next sync works.
    let starttls = format!("127.0.0.1:{}", servers.ports.imap);
    let said = ok(
        &data,
        &[
            "account",
            "set",
            "bob",
            "--incoming",
            &starttls,
            "--incoming-security",
            "starttls",
        ],
    );
    assert!(
        said.contains(&format!("IMAP 127.0.0.1:{} starttls", servers.ports.imap)),
        "{said}"
    );
    assert_eq!(account(&data)["incoming"], starttls);
    ok(&data, &["sync", "--account", "bob"]);
    assert_eq!(ids(&data), before);

    // Another host name: refused until the user says which it is; nothing changed.
    let renamed = format!("localhost:{}", servers.ports.imaps);
    let why = refused(
        &data,
        &[
            "account",
            "set",
            "bob",
            "--incoming",
            &renamed,
            "--incoming-security",
            "tls",
        ],
    );
    assert!(
        why.contains("--keep-cache") && why.contains("--reset-cache"),
        "{why}"
    );
    assert_eq!(account(&data)["incoming"], starttls);
    // The same mailbox under another name: kept.
    ok(
        &data,
        &[
            "account",
            "set",
            "bob",
            "--incoming",
            &renamed,
            "--incoming-security",
            "tls",
            "--keep-cache",
        ],
    );
    ok(&data, &["sync", "--account", "bob"]);
    assert_eq!(ids(&data), before);

    // Trust options are checked at once, and a pin can be set and removed.
    let bad = dir.path().join("not-a-cert.pem");
    std::fs::write(&bad, "hello").unwrap();
    let why = refused(
        &data,
        &["account", "set", "bob", "--ca-file", bad.to_str().unwrap()],
    );
    assert!(why.contains("no PEM certificate"), "{why}");
    let why = refused(&data, &["account", "set", "bob", "--cert-sha256", "abc"]);
    assert!(why.contains("64 hex digits"), "{why}");
    ok(
        &data,
        &[
            "account",
            "set",
            "bob",
            "--display-name",
            "Bob B.",
            "--signature",
            "Bob",
        ],
    );

    // A queued change blocks a reset (it would be lost), and nothing changes.
    let first = before[0].to_string();
    ok(&data, &["flag", &first, "+flagged", "--offline"]);
    std::fs::write(dir.path().join("alice-password"), &alice.password).unwrap();
    let alice_cmd = format!("cat {}", dir.path().join("alice-password").display());
    let to_alice = [
        "account",
        "set",
        "bob",
        "--login",
        &alice.address,
        "--email",
        &alice.address,
        "--password-cmd",
        &alice_cmd,
        "--reset-cache",
    ];
    let why = refused(&data, &to_alice);
    assert!(why.contains("sync them first"), "{why}");
    assert_eq!(account(&data)["login"], bob.address);
    ok(&data, &["sync", "--account", "bob"]);

    // Another login, reset: the cache is dropped and the next passes mirror the new mailbox,
    // while another client delivers to it between them.
    let said = ok(&data, &to_alice);
    assert!(said.contains("dropped 3 cached messages"), "{said}");
    assert_eq!(account(&data)["login"], alice.address);
    ok(&data, &["sync", "--account", "bob"]);
    deliver_lmtp(&servers, alice, &message(7, &alice.address));
    mailbox::wait_for(&servers, alice, "INBOX", 3);
    ok(&data, &["sync", "--account", "bob"]);
    let store = tern::store::Store::open_dir(&data).unwrap();
    let cache = cached_flags(&store, "bob", "INBOX");
    let mut server = server_flags(&servers, alice, "INBOX");
    server.retain(|_, flags| !flags.iter().any(|f| f == "\\deleted"));
    assert_eq!(cache, server, "the cache does not mirror alice's INBOX");
    assert_eq!(cache.len(), 3);
    assert!(ids(&data).iter().all(|id| !before.contains(id)));
}

#[test]
fn a_pop3_reset_downloads_the_new_mailbox_and_keeps_every_message_here_once() {
    let servers = MailServers::start();
    let (bob, alice) = (&servers.bob, &servers.alice);
    fill(&servers);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    cli::add_pop3_account(&servers, &data, bob, servers.ports.pop3s, "tls", &[]);
    ok(&data, &["sync", "--account", "bob"]);
    let subjects = |data: &Path| listed(data, "subject");
    assert_eq!(subjects(&data).len(), 3);

    // Another mailbox (alice's, whose UIDLs may well equal bob's: same server, same scheme):
    // its messages all come, bob's stay here.
    std::fs::write(dir.path().join("alice-password"), &alice.password).unwrap();
    let alice_cmd = format!("cat {}", dir.path().join("alice-password").display());
    let to_alice = [
        "account",
        "set",
        "bob",
        "--login",
        &alice.address,
        "--password-cmd",
        &alice_cmd,
    ];
    let why = refused(&data, &to_alice);
    assert!(
        why.contains("the messages here are kept either way"),
        "{why}"
    );
    let mut reset = to_alice.to_vec();
    reset.push("--reset-cache");
    ok(&data, &reset);
    ok(&data, &["sync", "--account", "bob"]);
    // Another client delivers between Tern's passes.
    deliver_lmtp(&servers, alice, &message(9, &alice.address));
    ok(&data, &["sync", "--account", "bob"]);
    let after = subjects(&data);
    assert_eq!(after.len(), 6, "{after:?}");
    for n in [0, 1, 2] {
        assert!(after.contains(&format!("\"set test {n}\"")), "{after:?}");
    }

    // Back to bob's mailbox, reset again: what is already here is recognised, not stored twice.
    let bob_cmd = format!("cat {}", data.join("password").display());
    ok(
        &data,
        &[
            "account",
            "set",
            "bob",
            "--login",
            &bob.address,
            "--password-cmd",
            &bob_cmd,
            "--reset-cache",
        ],
    );
    ok(&data, &["sync", "--account", "bob"]);
    assert_eq!(subjects(&data), after, "a message was stored twice or lost");
    // Every message of bob's maildrop is here exactly once.
    let listing = mailbox::pop3_listing(&servers, bob);
    assert_eq!(listing.len(), 3);
}
