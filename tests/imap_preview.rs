//! PREVIEW (RFC 8970) against Dovecot, which offers it: the header sync asks `PREVIEW (LAZY)`,
//! the previews the server had not ready are filled in after the headers, and the cache's
//! preview lines then equal the server's, UID by UID, across a pass in which another client
//! appended, flagged and expunged. A server that advertises PREVIEW but refuses it still syncs
//! whole (the previews then come from bodies).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod support;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use support::proxy::{Fault, fault_proxy};
use support::servers::Options;
use support::{MailServers, User, corpus, mailbox};

fn sync(data: &Path) -> String {
    let out = support::cli::tern(data, &["sync"]);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "tern sync failed: {stderr}");
    stderr
}

/// The preview of each message of `folder` as the server computes it (`PREVIEW`, not lazy),
/// with whitespace runs made single spaces as Tern shows them.
fn server_previews(servers: &MailServers, user: &User, folder: &str) -> BTreeMap<u32, String> {
    let mut c = mailbox::login(servers, user);
    c.imap_ok("b", &format!("EXAMINE \"{folder}\""));
    let lines = c.imap_ok("c", "UID FETCH 1:* (UID PREVIEW)");
    c.imap_ok("z", "LOGOUT");
    let mut out = BTreeMap::new();
    for line in lines {
        let Some(uid) = mailbox::uid_in(&line) else {
            continue;
        };
        let value = line.split_once("PREVIEW ").unwrap().1;
        let text = if let Some(quoted) = value.strip_prefix('"') {
            let mut text = String::new();
            let mut chars = quoted.chars();
            while let Some(c) = chars.next() {
                match c {
                    '"' => break,
                    '\\' => text.extend(chars.next()),
                    c => text.push(c),
                }
            }
            text
        } else if let Some(literal) = value.strip_prefix('{') {
            let (n, rest) = literal.split_once('}').unwrap();
            rest[..n.parse::<usize>().unwrap()].to_owned()
        } else {
            assert!(value.starts_with("NIL"), "{line}");
            String::new()
        };
        out.insert(uid, text.split_whitespace().collect::<Vec<_>>().join(" "));
    }
    out
}

/// Tern's cache of `folder`: UID → (preview, settled).
fn cached_previews(data: &Path, folder: &str) -> BTreeMap<u32, (String, bool)> {
    let db = rusqlite::Connection::open(data.join(tern::store::DB_FILE)).unwrap();
    let mut stmt = db
        .prepare(
            "SELECT m.uid, m.preview, m.preview_known FROM message m
             JOIN folder f ON f.id = m.folder_id WHERE f.path = ?1 AND m.uid IS NOT NULL",
        )
        .unwrap();
    stmt.query_map([folder], |r| Ok((r.get(0)?, (r.get(1)?, r.get(2)?))))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

fn append(servers: &MailServers, user: &User, raw: &str) {
    let mut phone = mailbox::login(servers, user);
    phone.send(&format!("p APPEND INBOX {{{}+}}", raw.len()));
    phone.send_raw(raw.as_bytes());
    phone.send("");
    while !phone.line().starts_with("p ") {}
    phone.imap_ok("z", "LOGOUT");
}

fn assert_previews_match(servers: &MailServers, data: &Path, when: &str) {
    let server = server_previews(servers, &servers.bob, "INBOX");
    let cache = cached_previews(data, "INBOX");
    assert_eq!(
        server.keys().collect::<Vec<_>>(),
        cache.keys().collect::<Vec<_>>(),
        "{when}: UIDs"
    );
    for (uid, text) in &server {
        let (cached, settled) = &cache[uid];
        // Tern keeps at most 256 characters, as RFC 8970 lets servers send.
        let expected: String = text.chars().take(256).collect();
        assert_eq!(cached.trim_end(), expected.trim_end(), "{when}: UID {uid}");
        assert!(
            settled,
            "{when}: UID {uid} is still waiting for its preview"
        );
    }
}

#[test]
fn previews_come_with_the_headers_and_the_rest_are_filled_in() {
    let servers = MailServers::start();
    let bob = &servers.bob;
    corpus::fill_maildir(bob, "INBOX", 60, 11);
    // One message with no text at all: its empty preview is settled, not asked for again.
    corpus::write_message(
        bob,
        "INBOX",
        b"From: a@example.test\r\nSubject: empty\r\nMessage-ID: <empty@example.test>\r\n\r\n",
        &[],
        1_700_000_000,
    );
    let data = servers.dir().join("tern-data");
    support::cli::add_imap_account(&servers, &data, bob, servers.ports.imaps, &[]);
    sync(&data);
    assert_previews_match(&servers, &data, "after the first pass");
    let cache = cached_previews(&data, "INBOX");
    assert!(
        cache.values().filter(|(p, _)| !p.is_empty()).count() >= 60,
        "the corpus' messages have text: {cache:?}"
    );

    // Another client appends two (one HTML only), flags one and expunges one between passes.
    append(
        &servers,
        bob,
        "From: carol@example.test\r\nSubject: lunch\r\nMessage-ID: <lunch@example.test>\r\n\r\nShall we meet   at noon?\r\n\r\nCarol\r\n",
    );
    append(
        &servers,
        bob,
        "From: dan@example.test\r\nSubject: news\r\nMessage-ID: <news@example.test>\r\nContent-Type: text/html\r\n\r\n<p>Hello <b>there</b></p><p>Second paragraph</p>\r\n",
    );
    let mut phone = mailbox::login(&servers, bob);
    phone.imap_ok("s", "SELECT INBOX");
    phone.imap_ok("f", "UID STORE 3 +FLAGS (\\Flagged)");
    phone.imap_ok("d", "UID STORE 5 +FLAGS (\\Deleted)");
    phone.imap_ok("e", "EXPUNGE");
    phone.imap_ok("z", "LOGOUT");
    sync(&data);
    assert_previews_match(&servers, &data, "after another client's changes");
    let lunch = cached_previews(&data, "INBOX")
        .into_values()
        .find(|(p, _)| p.starts_with("Shall we"))
        .unwrap();
    assert_eq!(lunch.0, "Shall we meet at noon? Carol");
    mailbox::assert_mirrors(&servers, bob, &data, &["INBOX"], "after the second pass");
}

#[test]
fn a_server_that_refuses_preview_still_syncs_whole() {
    let servers = MailServers::start_with(Options {
        imap_capability: Some(format!(
            "{} PREVIEW",
            support::servers::CAPABILITY_WITHOUT_COMPRESS
        )),
        ..Default::default()
    });
    let bob = &servers.bob;
    corpus::fill_maildir(bob, "INBOX", 20, 12);
    let proxy = fault_proxy(
        servers.ports.imap,
        Arc::new(Mutex::new(Fault::RefusePreview)),
    );
    let data = servers.dir().join("tern-data");
    support::cli::add_plain_imap_account(&servers, &data, bob, proxy);
    let stderr = sync(&data);
    assert!(stderr.contains("refused PREVIEW"), "{stderr}");
    append(
        &servers,
        bob,
        "From: carol@example.test\r\nSubject: later\r\nMessage-ID: <later@example.test>\r\n\r\nhi\r\n",
    );
    sync(&data);
    mailbox::assert_mirrors(&servers, bob, &data, &["INBOX"], "with PREVIEW refused");
    // Settled as empty, so an unchanged folder is not selected again for them; bodies, when
    // fetched, give the previews.
    assert!(
        cached_previews(&data, "INBOX")
            .values()
            .all(|(preview, settled)| *settled && preview.is_empty())
    );
}
