//! Download for offline reading against the harness's Dovecot, when the sizes the store holds
//! are wrong: batches are bounded by the bytes that arrive, so a batch that would hold more
//! than 64 MiB is cut, and every body is still saved exactly once, while another client
//! expunges and appends between passes; and when the server refuses one message's body, the
//! others are still downloaded.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod support;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use support::MailServers;
use support::cli::{ok, tern};
use support::proxy::{Fault, fault_proxy};
use support::raw::LineClient;
use support::servers::{Options, STORAGE_UID, chown_tree};

/// Six messages of 15 MB: 90 MB, past the 64 MiB one batch may hold.
const BIG: usize = 6;
const BIG_SIZE: usize = 15 << 20;

fn big_message(i: usize) -> Vec<u8> {
    let mut raw = format!(
        "From: sender@example.test\r\nTo: bob@example.test\r\nSubject: big-{i}\r\n\
         Message-ID: <big-{i}@example.test>\r\nDate: Mon, 1 Jun 2026 10:0{i}:00 +0000\r\n\r\n"
    )
    .into_bytes();
    let line = format!("{:076}\r\n", i);
    while raw.len() < BIG_SIZE {
        raw.extend_from_slice(line.as_bytes());
    }
    raw.extend_from_slice(format!("END-{i}\r\n").as_bytes());
    raw
}

fn imap(servers: &MailServers) -> LineClient {
    let mut c = LineClient::tls(servers.ports.imaps, &servers.certs.ca_pem);
    c.line();
    let bob = &servers.bob;
    c.imap_ok("l", &format!("LOGIN {} {}", bob.address, bob.password));
    c
}

/// The server's INBOX: UID → RFC822.SIZE.
fn server_sizes(servers: &MailServers) -> BTreeMap<i64, i64> {
    let mut c = imap(servers);
    c.imap_ok("s", "SELECT INBOX");
    let lines = c.imap_ok("f", "UID FETCH 1:* (UID RFC822.SIZE)");
    c.imap_ok("z", "LOGOUT");
    lines
        .iter()
        .filter(|l| l.starts_with("* ") && l.contains("FETCH"))
        .map(|l| {
            let num = |key: &str| -> i64 {
                let at = l.find(key).unwrap() + key.len();
                l[at..]
                    .split(|c: char| !c.is_ascii_digit())
                    .next()
                    .unwrap()
                    .parse()
                    .unwrap()
            };
            (num("UID "), num("RFC822.SIZE "))
        })
        .collect()
}

/// The cache's INBOX: UID → (body_state, bytes of the stored source, sources stored).
fn cached_bodies(db: &rusqlite::Connection) -> BTreeMap<i64, (i64, i64, i64)> {
    let mut stmt = db
        .prepare(
            "SELECT m.uid, m.body_state, coalesce(length(b.raw), 0), count(b.message_id)
             FROM message m JOIN folder f ON f.id = m.folder_id
             LEFT JOIN body b ON b.message_id = m.id
             WHERE f.path = 'INBOX' GROUP BY m.id ORDER BY m.uid",
        )
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, (r.get(1)?, r.get(2)?, r.get(3)?))))
        .unwrap()
        .map(|r| r.unwrap())
        .collect()
}

#[test]
fn bodies_past_the_byte_bound_are_fetched_again_and_each_saved_once() {
    let servers = MailServers::start();
    let bob = &servers.bob;
    let cur = bob.maildir().join("cur");
    std::fs::create_dir_all(&cur).unwrap();
    for i in 0..BIG {
        std::fs::write(
            cur.join(format!("17800000{i:02}.big{i}.tern:2,")),
            big_message(i),
        )
        .unwrap();
    }
    chown_tree(&bob.home, STORAGE_UID).unwrap();

    let data = servers.dir().join("tern-data");
    support::cli::add_imap_account(&servers, &data, bob, servers.ports.imaps, &[]);
    ok(tern(&data, &["sync"]));

    // The store now says every message is empty, so one batch asks for all of them; and the
    // account downloads bodies from now on.
    let db = rusqlite::Connection::open(data.join("tern.db")).unwrap();
    db.execute_batch("UPDATE message SET size = 0; UPDATE account SET download_bodies = 1;")
        .unwrap();

    // Another client: one message goes, one comes.
    let mut c = imap(&servers);
    c.imap_ok("s", "SELECT INBOX");
    c.imap_ok("d", "UID STORE 1 +FLAGS.SILENT (\\Deleted)");
    c.imap_ok("e", "UID EXPUNGE 1");
    let extra = b"From: phone@example.test\r\nSubject: small\r\n\r\nEND-small\r\n";
    c.send(&format!("p APPEND INBOX {{{}+}}", extra.len()));
    c.send_raw(extra);
    c.send("");
    while !c.line().starts_with("p ") {}
    c.imap_ok("z", "LOGOUT");

    ok(tern(&data, &["sync"]));

    // UID by UID, the cache is the server, and each source is whole and stored once.
    let server = server_sizes(&servers);
    assert_eq!(server.len(), BIG, "5 big and the small one: {server:?}");
    let cached = cached_bodies(&db);
    assert_eq!(
        cached.keys().collect::<Vec<_>>(),
        server.keys().collect::<Vec<_>>(),
        "the cached UIDs are the server's"
    );
    for (uid, size) in &server {
        assert_eq!(
            cached[uid],
            (2, *size, 1),
            "UID {uid}: state, bytes, copies"
        );
    }
    let pending: i64 = db
        .query_row("SELECT count(*) FROM fts_pending", [], |r| r.get(0))
        .unwrap();
    assert_eq!(pending, 0);
    // The body text of each is searchable (indexed in the same transaction as its source).
    let found = ok(tern(&data, &["search", "END-small", "--json"]));
    let found: serde_json::Value = serde_json::from_slice(&found.stdout).unwrap();
    assert_eq!(found.as_array().unwrap().len(), 1, "{found}");
}

/// bob's INBOX of `count` generated messages (`seed`), synced once (headers only) by Tern
/// through a fault proxy, whose fault is off; the account then downloads bodies.
struct Behind {
    servers: MailServers,
    switch: Arc<Mutex<Fault>>,
    data: std::path::PathBuf,
    db: rusqlite::Connection,
}

fn behind_fault_proxy(count: usize, seed: u64) -> Behind {
    // Without COMPRESS, so the proxy sees the commands.
    let servers = MailServers::start_with(Options::without_compress());
    support::corpus::fill_maildir(&servers.bob, "INBOX", count, seed);
    let switch = Arc::new(Mutex::new(Fault::None));
    let proxy = fault_proxy(servers.ports.imap, switch.clone());
    let data = servers.dir().join("tern-data");
    support::cli::add_plain_imap_account(&servers, &data, &servers.bob, proxy);
    ok(tern(&data, &["sync"]));
    let db = rusqlite::Connection::open(data.join("tern.db")).unwrap();
    db.execute_batch("UPDATE account SET download_bodies = 1;")
        .unwrap();
    Behind {
        servers,
        switch,
        data,
        db,
    }
}

/// A server that refuses to send one message's body (NO to any FETCH that names it): every other
/// body is downloaded, in batches that shrink around the bad one, which alone is reported and
/// passed over, and it is downloaded by the next sync once the server serves it again. Another
/// client expunges and appends meanwhile; the cache ends equal to the server, UID by UID.
#[test]
fn a_refused_body_holds_back_no_other() {
    let Behind {
        servers,
        switch,
        data,
        db,
    } = behind_fault_proxy(40, 93);

    let mut c = imap(&servers);
    c.imap_ok("s", "SELECT INBOX");
    c.imap_ok("d", "UID STORE 3 +FLAGS.SILENT (\\Deleted)");
    c.imap_ok("e", "UID EXPUNGE 3");
    let extra = b"From: phone@example.test\r\nSubject: late\r\n\r\nEND-late\r\n";
    c.send(&format!("p APPEND INBOX {{{}+}}", extra.len()));
    c.send_raw(extra);
    c.send("");
    while !c.line().starts_with("p ") {}
    c.imap_ok("z", "LOGOUT");

    *switch.lock().unwrap() = Fault::RefuseBodyOf(17);
    let out = ok(tern(&data, &["sync"]));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("UID 17: the server refused to send it"),
        "{stderr}"
    );
    assert_eq!(stderr.matches("refused to send it").count(), 1, "{stderr}");

    let server = server_sizes(&servers);
    assert_eq!(server.len(), 40, "one gone, one come: {server:?}");
    let cached = cached_bodies(&db);
    assert_eq!(
        cached.keys().collect::<Vec<_>>(),
        server.keys().collect::<Vec<_>>(),
        "the cached UIDs are the server's"
    );
    for (uid, size) in &server {
        let want = if *uid == 17 { (0, 0, 0) } else { (2, *size, 1) };
        assert_eq!(cached[uid], want, "UID {uid}: state, bytes, copies");
    }
    // Not marked: the next sync, with the server serving it again, downloads it.
    *switch.lock().unwrap() = Fault::None;
    let out = ok(tern(&data, &["sync"]));
    assert!(!String::from_utf8_lossy(&out.stderr).contains("refused"));
    let cached = cached_bodies(&db);
    for (uid, size) in &server {
        assert_eq!(
            cached[uid],
            (2, *size, 1),
            "UID {uid}: state, bytes, copies"
        );
    }
}

/// A server that refuses every body (a bandwidth limit): the folder's download stops after a
/// few refusals with a clear error, marks nothing, and the next sync, after another client has
/// filed a message, downloads everything; the cache ends equal to the server, UID by UID.
#[test]
fn a_server_refusing_every_body_marks_nothing() {
    let Behind {
        servers,
        switch,
        data,
        db,
    } = behind_fault_proxy(20, 94);

    *switch.lock().unwrap() = Fault::RefuseBodyOf(0);
    let out = tern(&data, &["sync"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("refused to send 3 messages of INBOX in a row"),
        "{stderr}"
    );
    assert!(
        cached_bodies(&db).values().all(|c| *c == (0, 0, 0)),
        "nothing is marked"
    );

    // Another client files a message before the next pass.
    let mut c = imap(&servers);
    let extra = b"From: phone@example.test\r\nSubject: meanwhile\r\n\r\nEND-meanwhile\r\n";
    c.send(&format!("p APPEND INBOX {{{}+}}", extra.len()));
    c.send_raw(extra);
    c.send("");
    while !c.line().starts_with("p ") {}
    c.imap_ok("z", "LOGOUT");

    *switch.lock().unwrap() = Fault::None;
    ok(tern(&data, &["sync"]));
    let server = server_sizes(&servers);
    let cached = cached_bodies(&db);
    assert_eq!(
        cached.keys().collect::<Vec<_>>(),
        server.keys().collect::<Vec<_>>()
    );
    for (uid, size) in &server {
        assert_eq!(
            cached[uid],
            (2, *size, 1),
            "UID {uid}: state, bytes, copies"
        );
    }
}
