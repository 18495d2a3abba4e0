//! `tern sync` against the harness's Dovecot: a fresh sync of generated mail in several folders
//! matches the server exactly; changes made by another client are mirrored; a UIDVALIDITY change
//! drops and refetches the folder.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod support;

use support::cli::{json, ok, tern};

use std::collections::HashMap;
use std::path::Path;

use support::corpus::{self, Generated};
use support::raw::LineClient;
use support::{MailServers, User};

fn add_account(servers: &MailServers, data: &Path, user: &User) {
    support::cli::add_imap_account(servers, data, user, servers.ports.imaps, &[]);
}

fn rfc3339(seconds: i64) -> String {
    chrono::DateTime::<chrono::Utc>::from_timestamp(seconds, 0)
        .unwrap()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn list(data: &Path, folder: &str) -> Vec<serde_json::Value> {
    json(tern(
        data,
        &[
            "list",
            "--account",
            "bob",
            "--folder",
            folder,
            "--limit",
            "100000",
            "--json",
        ],
    ))
    .as_array()
    .unwrap()
    .clone()
}

/// Checks a folder's cached list against what was generated into it.
fn assert_matches(data: &Path, folder: &str, generated: &[Generated]) {
    let rows = list(data, folder);
    assert_eq!(rows.len(), generated.len(), "{folder}: message count");
    let by_id: HashMap<&str, &serde_json::Value> = rows
        .iter()
        .map(|r| (r["message_id"].as_str().unwrap(), r))
        .collect();
    for g in generated {
        let row = by_id
            .get(g.message_id.as_str())
            .unwrap_or_else(|| panic!("{folder}: {} missing", g.message_id));
        assert_eq!(
            row["subject"],
            g.subject.as_str(),
            "{folder}: subject of {}",
            g.message_id
        );
        let from = if g.from_name.is_empty() {
            g.from_addr.clone()
        } else {
            format!("{} <{}>", g.from_name, g.from_addr)
        };
        assert_eq!(row["from"], from.as_str());
        assert_eq!(row["date"], rfc3339(g.date).as_str());
        assert_eq!(row["size"], g.size);
        let mut flags: Vec<&str> = row["flags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f.as_str().unwrap())
            .collect();
        flags.sort_unstable();
        let mut expected = g.flags.clone();
        expected.sort_unstable();
        assert_eq!(flags, expected, "{folder}: flags of {}", g.message_id);
        assert!(row["uid"].is_u64() && row["uidl"].is_null());
    }
    // Newest first.
    let dates: Vec<&str> = rows.iter().map(|r| r["date"].as_str().unwrap()).collect();
    assert!(
        dates.windows(2).all(|w| w[0] >= w[1]),
        "{folder} is not newest first"
    );
}

fn imap(servers: &MailServers, user: &User) -> LineClient {
    let mut c = LineClient::tls(servers.ports.imaps, &servers.certs.ca_pem);
    c.line();
    c.imap_ok("l", &format!("LOGIN {} {}", user.address, user.password));
    c
}

#[test]
fn fresh_sync_mirrors_the_server_and_follows_other_clients_changes() {
    let servers = MailServers::start();
    let bob = &servers.bob;
    let inbox = corpus::fill_maildir(bob, "INBOX", 1200, 1);
    let archive = corpus::fill_maildir(bob, "Archive", 700, 2);
    let sent = corpus::fill_maildir(bob, "Sent", 60, 3);
    let data = servers.dir().join("tern-data");
    add_account(&servers, &data, bob);

    ok(tern(&data, &["sync"]));
    assert_matches(&data, "INBOX", &inbox);
    assert_matches(&data, "Archive", &archive);
    assert_matches(&data, "Sent", &sent);

    let folders = json(tern(&data, &["folders", "--account", "bob", "--json"]));
    let folder = |path: &str| {
        folders
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["path"] == path)
            .unwrap()
            .clone()
    };
    assert_eq!(folder("INBOX")["role"], "inbox");
    assert_eq!(folder("Archive")["role"], "archive");
    assert_eq!(folder("Sent")["role"], "sent");
    assert_eq!(folder("Trash")["role"], "trash");
    let unseen = inbox
        .iter()
        .filter(|g| !g.flags.contains(&"\\Seen"))
        .count();
    assert_eq!(folder("INBOX")["total"], 1200);
    assert_eq!(folder("INBOX")["unread"], unseen);

    // Thread links: every reply shares its parent's thread (when the parent is in the folder).
    let store = tern::store::Store::open_dir(&data).unwrap();
    let rows = list(&data, "INBOX");
    let thread_of: HashMap<String, Option<i64>> = rows
        .iter()
        .map(|r| {
            let id = r["id"].as_i64().unwrap();
            (
                r["message_id"].as_str().unwrap().to_owned(),
                store.message(id).unwrap().thread_id,
            )
        })
        .collect();
    let mut linked = 0;
    for g in &inbox {
        if let Some(parent) = &g.in_reply_to {
            assert_eq!(
                thread_of[&g.message_id], thread_of[parent],
                "{} is not in its parent's thread",
                g.message_id
            );
            assert!(thread_of[parent].is_some());
            linked += 1;
        }
    }
    assert!(linked > 100, "only {linked} replies generated");

    // A second pass with no changes changes nothing.
    let out = ok(tern(&data, &["sync"]));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("0 new messages, 0 flag changes, 0 expunged"),
        "{err}"
    );

    // Another client flags, unflags, expunges, moves and appends.
    let mut c = imap(&servers, bob);
    c.imap_ok("a", "SELECT INBOX");
    c.imap_ok("b", "UID STORE 5 +FLAGS (\\Flagged $Important)");
    let seen_uid = inbox
        .iter()
        .position(|g| g.flags.contains(&"\\Seen"))
        .unwrap()
        + 1;
    c.imap_ok("c", &format!("UID STORE {seen_uid} -FLAGS (\\Seen)"));
    c.imap_ok("d", "UID STORE 10:12 +FLAGS (\\Deleted)");
    c.imap_ok("e", "UID EXPUNGE 10:12");
    c.imap_ok("f", "UID MOVE 20 Archive");
    let appended = "From: Zed <zed@example.test>\r\nSubject: appended later\r\nMessage-ID: <late@example.test>\r\nDate: Wed, 1 Nov 2023 10:00:00 +0000\r\n\r\nhi\r\n";
    c.send(&format!("g APPEND INBOX {{{}+}}", appended.len()));
    c.send_raw(appended.as_bytes());
    c.send("");
    loop {
        let line = c.line();
        if line.starts_with("g ") {
            assert!(line.starts_with("g OK"), "{line}");
            break;
        }
    }
    c.imap_ok("z", "LOGOUT");

    let out = ok(tern(&data, &["sync"]));
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    let rows = list(&data, "INBOX");
    assert_eq!(rows.len(), 1200 - 3 - 1 + 1, "{err}");
    let row = |uid: u64| rows.iter().find(|r| r["uid"] == uid);
    let flags = |uid: u64| -> Vec<String> {
        row(uid).unwrap()["flags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f.as_str().unwrap().to_owned())
            .collect()
    };
    assert!(
        flags(5).contains(&"\\Flagged".to_owned()) && flags(5).contains(&"$Important".to_owned()),
        "{:?}",
        flags(5)
    );
    assert!(!flags(seen_uid as u64).contains(&"\\Seen".to_owned()));
    for uid in [10, 11, 12, 20] {
        assert!(row(uid).is_none(), "UID {uid} should be gone");
    }
    assert!(rows.iter().any(|r| r["subject"] == "appended later"));
    let moved = &inbox[19].message_id;
    assert!(
        list(&data, "Archive")
            .iter()
            .any(|r| r["message_id"] == moved.as_str()),
        "the moved message is in Archive"
    );
    assert!(
        err.contains("1 new messages") || err.contains("2 new messages"),
        "{err}"
    );

    // UIDVALIDITY change: the folder is deleted and recreated under the same name.
    let mut c = imap(&servers, bob);
    c.imap_ok("a", "DELETE Archive");
    c.imap_ok("b", "CREATE Archive");
    for (i, tag) in ["c", "d"].iter().enumerate() {
        let msg = format!(
            "From: a@example.test\r\nSubject: recreated {i}\r\nMessage-ID: <re{i}@example.test>\r\n\r\nx\r\n"
        );
        c.send(&format!("{tag} APPEND Archive {{{}+}}", msg.len()));
        c.send_raw(msg.as_bytes());
        c.send("");
        while !c.line().starts_with(&format!("{tag} ")) {}
    }
    c.imap_ok("z", "LOGOUT");
    ok(tern(&data, &["sync"]));
    let archive_rows = list(&data, "Archive");
    let mut subjects: Vec<&str> = archive_rows
        .iter()
        .map(|r| r["subject"].as_str().unwrap())
        .collect();
    subjects.sort_unstable();
    assert_eq!(subjects, ["recreated 0", "recreated 1"]);
}

#[test]
fn unchanged_resync_selects_nothing_and_a_change_costs_one_qresync_select() {
    let servers = MailServers::start();
    let bob = &servers.bob;
    corpus::fill_maildir(bob, "INBOX", 300, 11);
    corpus::fill_maildir(bob, "Archive", 200, 12);
    let data = servers.dir().join("tern-data");
    add_account(&servers, &data, bob);
    let store = tern::store::Store::open_dir(&data).unwrap();
    let account = store.find_account("bob").unwrap();
    let password = tern::account::credentials::Secret::new(bob.password.clone());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let sync = || {
        runtime
            .block_on(tern::engine::imap::sync_account(
                &store,
                &account,
                &password,
                &mut |_| {},
            ))
            .unwrap()
    };

    let first = sync();
    assert_eq!(first.new_messages, 500);
    assert!(
        first.commands.get("FETCH").copied().unwrap_or(0) >= 2,
        "{:?}",
        first.commands
    );

    let second = sync();
    assert_eq!(
        (second.new_messages, second.flag_changes, second.expunged),
        (0, 0, 0)
    );
    assert_eq!(
        second.commands.get("FETCH"),
        None,
        "an unchanged resync must not FETCH: {:?}",
        second.commands
    );
    assert_eq!(second.commands.get("SEARCH"), None, "{:?}", second.commands);
    assert_eq!(second.unchanged_folders, second.folders, "{second:?}");
    assert_eq!(
        second.commands.get("STATUS").copied(),
        Some(second.folders as u32),
        "{:?}",
        second.commands
    );
    let kinds: Vec<&str> = second.commands.keys().map(String::as_str).collect();
    assert_eq!(
        kinds,
        ["LIST", "LSUB", "STATUS"],
        "an unchanged pass is the folder list and one pipelined STATUS per folder, no SELECT"
    );

    // A flag change and an expunge by another client arrive inside the QRESYNC SELECT response.
    let mut c = imap(&servers, bob);
    c.imap_ok("a", "SELECT INBOX");
    c.imap_ok("b", "UID STORE 7 +FLAGS (\\Flagged)");
    c.imap_ok("c", "UID STORE 8 +FLAGS (\\Deleted)");
    c.imap_ok("d", "UID EXPUNGE 8");
    c.imap_ok("z", "LOGOUT");
    let third = sync();
    assert_eq!(
        (third.new_messages, third.flag_changes, third.expunged),
        (0, 1, 1),
        "{third:?}"
    );
    assert_eq!(third.commands.get("FETCH"), None, "{:?}", third.commands);
    assert_eq!(
        third.commands.get("SELECT").copied(),
        Some(1),
        "only the changed folder is selected: {:?}",
        third.commands
    );
    let inbox = store.find_folder(account.id, "INBOX").unwrap();
    assert_eq!(inbox.total, 299);
}

#[test]
fn a_connection_cut_mid_fetch_resumes_without_loss_or_duplicates() {
    use std::sync::atomic::{AtomicI64, Ordering};
    let servers = MailServers::start();
    let bob = &servers.bob;
    let generated = corpus::fill_maildir(bob, "INBOX", 3000, 21);
    // Wire bytes (the connection is compressed): enough for a few batches, not for all.
    let budget = std::sync::Arc::new(AtomicI64::new(150_000));
    let proxy = support::proxy::cutting_proxy(servers.ports.imaps, budget.clone());

    let data = servers.dir().join("tern-data");
    support::cli::add_imap_account(&servers, &data, bob, proxy, &[]);

    let out = tern(&data, &["sync"]);
    assert!(!out.status.success(), "the cut should fail the first pass");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("closed the connection") || err.contains("connection failed"),
        "{err}"
    );
    let partial = list(&data, "INBOX").len();
    assert!(
        partial > 0 && partial < 3000,
        "committed batches are kept ({partial} of 3000)"
    );

    budget.store(i64::MAX, Ordering::SeqCst);
    ok(tern(&data, &["sync"]));
    assert_matches(&data, "INBOX", &generated);
    let rows = list(&data, "INBOX");
    let mut ids: Vec<&str> = rows
        .iter()
        .map(|r| r["message_id"].as_str().unwrap())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 3000, "no duplicates");
}

fn server_flags(
    servers: &MailServers,
    user: &User,
    folder: &str,
    message_id: &str,
) -> Option<String> {
    let mut c = imap(servers, user);
    c.imap_ok("a", &format!("EXAMINE {folder}"));
    let found = c.imap_ok("b", &format!("UID SEARCH HEADER Message-ID <{message_id}>"));
    let uid = found
        .iter()
        .find_map(|l| l.strip_prefix("* SEARCH "))
        .map(|s| s.trim().to_owned())?;
    let flags = c.imap_ok("c", &format!("UID FETCH {uid} (FLAGS)"));
    c.imap_ok("z", "LOGOUT");
    flags.into_iter().next()
}

/// Messages in `folder` on the server, not counting those marked \Deleted (gone, for Tern).
fn count_on_server(servers: &MailServers, user: &User, folder: &str) -> usize {
    support::mailbox::count_undeleted(servers, user, folder)
}

#[test]
fn offline_actions_apply_at_once_and_replay_exactly_once() {
    offline_actions_scenario(&MailServers::start(), true);
}

/// The same actions against a server without MOVE, UIDPLUS, CONDSTORE and QRESYNC: COPY +
/// STORE \Deleted + EXPUNGE, searches by Message-ID for new UIDs, and full flag resyncs.
#[test]
fn offline_actions_fall_back_without_move_uidplus_and_condstore() {
    let servers = MailServers::start_with(support::servers::Options {
        imap_capability: Some(
            "IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ SPECIAL-USE NAMESPACE"
                .into(),
        ),
        ..Default::default()
    });
    offline_actions_scenario(&servers, false);
}

fn offline_actions_scenario(servers: &MailServers, full: bool) {
    let bob = &servers.bob;
    let generated = corpus::fill_maildir(bob, "INBOX", 50, 31);
    let data = servers.dir().join("tern-data");
    add_account(servers, &data, bob);
    ok(tern(&data, &["sync"]));
    let rows = list(&data, "INBOX");
    let by_uid = |uid: u64| rows.iter().find(|r| r["uid"] == uid).unwrap().clone();
    // A and E start without \Flagged (the corpus sets it on some messages).
    let unflagged: Vec<u64> = generated
        .iter()
        .enumerate()
        .filter(|(_, g)| !g.flags.contains(&"\\Flagged"))
        .map(|(i, _)| i as u64 + 1)
        .collect();
    let (a, e) = (by_uid(unflagged[0]), by_uid(unflagged[1]));
    let others: Vec<u64> = (1..=50).filter(|u| !unflagged[..2].contains(u)).collect();
    let (b, c, d) = (by_uid(others[0]), by_uid(others[1]), by_uid(others[2]));
    let id = |r: &serde_json::Value| r["id"].as_i64().unwrap().to_string();
    let mid = |r: &serde_json::Value| r["message_id"].as_str().unwrap().to_owned();

    ok(tern(
        &data,
        &["flag", &id(&a), "+flagged", "-seen", "+$Todo", "--offline"],
    ));
    ok(tern(&data, &["move", &id(&b), "Archive", "--offline"]));
    ok(tern(&data, &["delete", &id(&c), "--offline"]));
    ok(tern(&data, &["copy", &id(&d), "Archive", "--offline"]));
    // A draft saved offline is stored at once and uploaded (APPEND) by the next sync.
    let draft = "From: Bob <bob@example.test>\r\nTo: alice@example.test\r\n\
        Subject: =?UTF-8?Q?Entw=C3=BCrfe?=\r\nMessage-ID: <draft-1@example.test>\r\n\
        Date: Sun, 22 Nov 2026 10:00:00 +0000\r\n\r\nnot finished yet\r\n";
    {
        let store = tern::store::Store::open_dir(&data).unwrap();
        let account = store.find_account("bob").unwrap();
        let drafts = store.find_folder(account.id, "Drafts").unwrap();
        let flags = tern::store::flag::SEEN | tern::store::flag::DRAFT;
        tern::engine::local::queue_append(&store, drafts.id, draft.as_bytes(), flags).unwrap();
    }
    // Conflict: we flag E offline, another client changes E meanwhile; the server's state wins.
    ok(tern(&data, &["flag", &id(&e), "+flagged", "--offline"]));
    let mut other = imap(servers, bob);
    other.imap_ok("a", "SELECT INBOX");
    other.imap_ok(
        "b",
        &format!("UID STORE {} +FLAGS ($OtherClient)", e["uid"]),
    );
    other.imap_ok("z", "LOGOUT");

    // The cache changed at once; the server did not.
    let now = list(&data, "INBOX");
    assert_eq!(now.len(), 48);
    let a_now = now.iter().find(|r| r["id"] == a["id"]).unwrap();
    let a_flags: Vec<&str> = a_now["flags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    assert!(
        a_flags.contains(&"\\Flagged")
            && a_flags.contains(&"$Todo")
            && !a_flags.contains(&"\\Seen"),
        "{a_flags:?}"
    );
    assert_eq!(list(&data, "Archive").len(), 2);
    assert_eq!(list(&data, "Trash").len(), 1);
    let drafts = list(&data, "Drafts");
    assert_eq!(drafts.len(), 1);
    assert_eq!(drafts[0]["subject"], "Entwürfe");
    assert_eq!(count_on_server(servers, bob, "INBOX"), 50);
    assert_eq!(count_on_server(servers, bob, "Drafts"), 0);
    assert!(
        !server_flags(servers, bob, "INBOX", &mid(&a))
            .unwrap()
            .contains("\\Flagged")
    );

    // Keep the database as it is now, to replay a crash after the server applied the actions.
    let backup = servers.dir().join("backup");
    std::fs::create_dir_all(&backup).unwrap();
    for file in ["tern.db", "tern.db-wal", "tern.db-shm"] {
        if data.join(file).exists() {
            std::fs::copy(data.join(file), backup.join(file)).unwrap();
        }
    }

    // The first replay, through the engine, to see which commands it used.
    {
        let store = tern::store::Store::open_dir(&data).unwrap();
        let account = store.find_account("bob").unwrap();
        let password = tern::account::credentials::Secret::new(bob.password.clone());
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let report = runtime
            .block_on(tern::engine::imap::sync_account(
                &store,
                &account,
                &password,
                &mut |_| {},
            ))
            .unwrap();
        assert_eq!(report.replayed, 6, "{report:?}");
        let used = |name: &str| report.commands.contains_key(name);
        assert_eq!(used("MOVE"), full, "{:?}", report.commands);
        assert!(used("APPEND") && used("COPY"), "{:?}", report.commands);
        if !full {
            // Without UIDPLUS nothing is expunged: EXPUNGE would take other clients' \Deleted
            // messages too. Tern's own stay marked \Deleted, which counts as gone.
            assert!(
                !used("UID EXPUNGE") && !used("EXPUNGE") && !used("ENABLE"),
                "{:?}",
                report.commands
            );
        }
    }
    let check = |round: &str| {
        assert_eq!(count_on_server(servers, bob, "INBOX"), 48, "{round}");
        assert_eq!(count_on_server(servers, bob, "Archive"), 2, "{round}");
        assert_eq!(count_on_server(servers, bob, "Drafts"), 1, "{round}");
        let draft_flags = server_flags(servers, bob, "Drafts", "draft-1@example.test").unwrap();
        assert!(
            draft_flags.contains("\\Draft") && draft_flags.contains("\\Seen"),
            "{round}: {draft_flags}"
        );
        assert!(
            server_flags(servers, bob, "Archive", &mid(&d)).is_some()
                && server_flags(servers, bob, "INBOX", &mid(&d)).is_some(),
            "{round}: the copy is in Archive and the original stays"
        );
        let drafts = list(&data, "Drafts");
        assert!(
            drafts.len() == 1 && drafts[0]["uid"].is_u64(),
            "{round}: the uploaded draft got its UID: {drafts:?}"
        );
        assert_eq!(count_on_server(servers, bob, "Trash"), 1, "{round}");
        let flags = server_flags(servers, bob, "INBOX", &mid(&a)).unwrap();
        assert!(
            flags.contains("\\Flagged") && flags.contains("$Todo") && !flags.contains("\\Seen"),
            "{round}: {flags}"
        );
        let e_flags = server_flags(servers, bob, "INBOX", &mid(&e)).unwrap();
        // With CONDSTORE the other client's change wins; without it ours applies on top.
        assert!(
            e_flags.contains("$OtherClient") && e_flags.contains("\\Flagged") != full,
            "{round}: {e_flags}"
        );
        assert!(
            server_flags(servers, bob, "Archive", &mid(&b)).is_some(),
            "{round}"
        );
        assert!(
            server_flags(servers, bob, "Trash", &mid(&c)).is_some(),
            "{round}"
        );
        let archive = list(&data, "Archive");
        assert_eq!(archive.len(), 2, "{round}: {archive:?}");
        assert!(
            archive.iter().all(|r| r["uid"].is_u64()),
            "{round}: the moved and the copied rows got their new UIDs: {archive:?}"
        );
        assert_eq!(list(&data, "Trash").len(), 1, "{round}");
        assert_eq!(list(&data, "INBOX").len(), 48, "{round}");
        let e_row = list(&data, "INBOX")
            .into_iter()
            .find(|r| r["id"] == e["id"])
            .unwrap();
        let e_cached: Vec<&str> = e_row["flags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f.as_str().unwrap())
            .collect::<Vec<_>>();
        assert!(
            e_cached.contains(&"$OtherClient") && e_cached.contains(&"\\Flagged") != full,
            "{round}: {e_cached:?}"
        );
    };
    check("first replay");

    // Crash simulation: the queue is back, the server already has everything. The actions that
    // are not idempotent were marked started before their command went out, as a crash between
    // the command and its completion would leave them.
    for file in ["tern.db", "tern.db-wal", "tern.db-shm"] {
        let _ = std::fs::remove_file(data.join(file));
        if backup.join(file).exists() {
            std::fs::copy(backup.join(file), data.join(file)).unwrap();
        }
    }
    rusqlite::Connection::open(data.join("tern.db"))
        .unwrap()
        .execute(
            "UPDATE pending_op SET state = 'running' WHERE kind IN ('move', 'copy', 'append')",
            [],
        )
        .unwrap();
    ok(tern(&data, &["sync"]));
    check("replay after a crash");
    let out = ok(tern(&data, &["sync"]));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("0 new messages, 0 flag changes, 0 expunged"),
        "{err}"
    );

    // Deleting inside Trash removes the message for good.
    let trash = list(&data, "Trash");
    ok(tern(&data, &["delete", &id(&trash[0])]));
    assert_eq!(count_on_server(servers, bob, "Trash"), 0);
    assert!(list(&data, "Trash").is_empty());
    assert_eq!(generated.len(), 50);
}

fn append(servers: &MailServers, user: &User, subject: &str) {
    let mut c = imap(servers, user);
    let msg = format!(
        "From: pusher@example.test\r\nSubject: {subject}\r\nMessage-ID: <{subject}@example.test>\r\n\r\nhi\r\n"
    );
    c.send(&format!("p APPEND INBOX {{{}+}}", msg.len()));
    c.send_raw(msg.as_bytes());
    c.send("");
    while !c.line().starts_with("p ") {}
    c.imap_ok("z", "LOGOUT");
}

#[test]
fn the_engine_pushes_new_mail_with_idle_and_reconnects_after_a_cut() {
    use std::sync::atomic::{AtomicI64, Ordering};
    use std::time::{Duration, Instant};
    use tern::engine::{Command, Connectivity, Event};

    let servers = MailServers::start();
    let bob = &servers.bob;
    corpus::fill_maildir(bob, "INBOX", 20, 41);
    let budget = std::sync::Arc::new(AtomicI64::new(i64::MAX));
    let proxy = support::proxy::cutting_proxy(servers.ports.imaps, budget.clone());
    let data = servers.dir().join("tern-data");
    support::cli::add_imap_account(&servers, &data, bob, proxy, &[]);
    let store = tern::store::Store::open_dir(&data).unwrap();
    let account = store.find_account("bob").unwrap();
    let password = tern::account::credentials::Secret::new(bob.password.clone());

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (command_tx, command_rx) = tokio::sync::mpsc::channel(8);
    let (event_tx, mut event_rx) = tokio::sync::mpsc::channel(4096);
    let engine = runtime.spawn(tern::engine::imap::run(
        store.clone(),
        account.clone(),
        password,
        command_rx,
        event_tx,
    ));
    let events = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = events.clone();
    runtime.spawn(async move {
        while let Some(event) = event_rx.recv().await {
            sink.lock().unwrap().push(event);
        }
    });
    let inbox_total = || {
        store
            .find_folder(account.id, "INBOX")
            .map(|f| f.total)
            .unwrap_or(0)
    };
    let wait_for = |what: &str, check: &dyn Fn() -> bool| {
        let deadline = Instant::now() + Duration::from_secs(30);
        while !check() {
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; events: {:?}",
                events.lock().unwrap()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    };

    wait_for("the first sync", &|| inbox_total() == 20);
    // Wait until the engine idles, then deliver: IDLE pushes it without any command from us.
    std::thread::sleep(Duration::from_millis(500));
    append(&servers, bob, "pushed-1");
    wait_for("the pushed message", &|| inbox_total() == 21);

    // Cut the connection: the engine reports it, reconnects with backoff and catches up.
    budget.store(0, Ordering::SeqCst);
    append(&servers, bob, "pushed-2");
    let disconnected = || {
        events.lock().unwrap().iter().any(|e| {
            matches!(
                e,
                Event::Connectivity {
                    state: Connectivity::Disconnected { .. },
                    ..
                }
            )
        })
    };
    wait_for("the disconnect to be reported", &disconnected);
    budget.store(i64::MAX, Ordering::SeqCst);
    wait_for("the message delivered during the outage", &|| {
        inbox_total() == 22
    });

    runtime
        .block_on(command_tx.send(Command::Shutdown))
        .unwrap();
    runtime
        .block_on(async { tokio::time::timeout(Duration::from_secs(10), engine).await })
        .unwrap()
        .unwrap();
    wait_for("the final Offline event", &|| {
        matches!(
            events.lock().unwrap().last(),
            Some(Event::Connectivity {
                state: Connectivity::Offline,
                ..
            })
        )
    });
    let seen = events.lock().unwrap();
    let online = seen
        .iter()
        .filter(|e| {
            matches!(
                e,
                Event::Connectivity {
                    state: Connectivity::Online,
                    ..
                }
            )
        })
        .count();
    assert!(online >= 2, "connected, then reconnected: {seen:?}");
}

#[test]
fn sync_window_and_bodies_for_offline_reading() {
    let servers = MailServers::start();
    let bob = &servers.bob;
    corpus::fill_maildir(bob, "INBOX", 30, 51); // dated 2023: outside a 30-day window
    append(&servers, bob, "recent-1");
    append(&servers, bob, "recent-2");
    let data = servers.dir().join("tern-data");
    support::cli::add_imap_account(
        &servers,
        &data,
        bob,
        servers.ports.imaps,
        &["--sync-days", "30", "--download-bodies"],
    );
    ok(tern(&data, &["sync"]));
    let rows = list(&data, "INBOX");
    let mut subjects: Vec<&str> = rows
        .iter()
        .map(|r| r["subject"].as_str().unwrap())
        .collect();
    subjects.sort_unstable();
    assert_eq!(
        subjects,
        ["recent-1", "recent-2"],
        "only the last 30 days are synced"
    );
    for row in &rows {
        let out = ok(tern(&data, &["show", &row["id"].to_string(), "--offline"]));
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("hi"),
            "the body was downloaded for offline reading"
        );
    }
    // A resync with nothing new stays quiet.
    let out = ok(tern(&data, &["sync"]));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("0 new messages, 0 flag changes, 0 expunged")
    );
    // The folder list shows the server's counts (STATUS), not only the 2 cached messages.
    let folders = json(tern(&data, &["folders", "--account", "bob", "--json"]));
    let inbox = folders
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == "INBOX")
        .unwrap();
    assert_eq!(
        (inbox["total"].as_i64(), inbox["cached"].as_i64()),
        (Some(32), Some(2)),
        "{inbox}"
    );
    assert!(inbox["unread"].as_i64().unwrap() >= 2, "{inbox}");

    // Search on the server finds mail outside the window; its headers are cached on the way.
    let word = "Quarterly";
    let local = json(tern(&data, &["search", word, "--json"]));
    assert_eq!(local.as_array().unwrap().len(), 0, "not cached: {local}");
    let mut c = imap(&servers, bob);
    c.imap_ok("s1", "SELECT INBOX");
    let expected = c
        .imap_ok("s2", &format!("UID SEARCH TEXT {word}"))
        .iter()
        .find(|l| l.starts_with("* SEARCH"))
        .map_or(0, |l| l.split_whitespace().count() - 2);
    assert!(expected > 0, "the corpus has {word} messages");
    let found = json(tern(
        &data,
        &["search", word, "--server", "--folder", "INBOX", "--json"],
    ));
    let found = found.as_array().unwrap();
    assert_eq!(found.len(), expected, "{found:?}");
    assert!(
        found
            .iter()
            .all(|r| r["subject"].as_str().unwrap().contains(word))
    );
    assert_eq!(
        list(&data, "INBOX").len(),
        2 + expected,
        "the matches are cached now"
    );
    // Asked again, the same rows (no duplicates).
    let again = json(tern(&data, &["search", word, "--server", "--json"]));
    assert_eq!(again.as_array().unwrap().len(), expected);
}

#[test]
fn folders_are_created_renamed_subscribed_and_deleted_on_the_server() {
    let servers = MailServers::start();
    let bob = &servers.bob;
    let data = servers.dir().join("tern-data");
    add_account(&servers, &data, bob);
    ok(tern(&data, &["sync"]));
    let folders = |data: &Path| {
        json(tern(data, &["folders", "--account", "bob", "--json"]))
            .as_array()
            .unwrap()
            .clone()
    };
    let on_server = || {
        let mut c = imap(&servers, bob);
        let lines = c.imap_ok("a", "LIST \"\" \"*\"").join("\n");
        let subscribed = c.imap_ok("b", "LSUB \"\" \"*\"").join("\n");
        c.imap_ok("z", "LOGOUT");
        (lines, subscribed)
    };

    ok(tern(
        &data,
        &["folder", "create", "--account", "bob", "Projekte/Überblick"],
    ));
    let (list, subscribed) = on_server();
    assert!(list.contains("Projekte/&ANw-berblick"), "{list}");
    assert!(
        subscribed.contains("Projekte/&ANw-berblick"),
        "{subscribed}"
    );
    assert!(
        folders(&data)
            .iter()
            .any(|f| f["path"] == "Projekte/Überblick" && f["subscribed"] == true)
    );

    ok(tern(
        &data,
        &[
            "folder",
            "rename",
            "--account",
            "bob",
            "Projekte/Überblick",
            "Projekte/Übersicht",
        ],
    ));
    let paths: Vec<String> = folders(&data)
        .iter()
        .map(|f| f["path"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        paths.contains(&"Projekte/Übersicht".to_owned())
            && !paths.contains(&"Projekte/Überblick".to_owned()),
        "{paths:?}"
    );

    ok(tern(
        &data,
        &[
            "folder",
            "unsubscribe",
            "--account",
            "bob",
            "Projekte/Übersicht",
        ],
    ));
    assert!(
        folders(&data)
            .iter()
            .any(|f| f["path"] == "Projekte/Übersicht" && f["subscribed"] == false)
    );
    assert!(!on_server().1.contains("&ANw-bersicht"));
    ok(tern(
        &data,
        &[
            "folder",
            "subscribe",
            "--account",
            "bob",
            "Projekte/Übersicht",
        ],
    ));
    assert!(on_server().1.contains("&ANw-bersicht"));

    ok(tern(
        &data,
        &["folder", "delete", "--account", "bob", "Projekte/Übersicht"],
    ));
    assert!(!on_server().0.contains("&ANw-bersicht"));
    assert!(
        !folders(&data)
            .iter()
            .any(|f| f["path"] == "Projekte/Übersicht")
    );

    let out = tern(&data, &["folder", "delete", "--account", "bob", "INBOX"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("INBOX cannot be deleted"));
}

/// Breaks UID 7's BODYSTRUCTURE, and UID 9's FLAGS wherever they appear.
fn break_two_messages(line: &str) -> String {
    let has_uid = |uid: &str| {
        line.contains(&format!("(UID {uid} ")) || line.contains(&format!(" UID {uid} "))
    };
    if !line.starts_with("* ") || !line.contains(" FETCH (") {
        return line.to_owned();
    }
    if has_uid("7") {
        return line.replace("BODYSTRUCTURE (", "BODYSTRUCTURE [");
    }
    if has_uid("9") {
        return line.replace("FLAGS (", "FLAGS [");
    }
    line.to_owned()
}

#[test]
fn unparseable_fetch_answers_are_recovered_or_kept_as_placeholders() {
    // No COMPRESS, so the proxy sees the plain protocol.
    let servers = MailServers::start_with(support::servers::Options::without_compress());
    let bob = &servers.bob;
    let generated = corpus::fill_maildir(bob, "INBOX", 20, 61);
    let proxy = support::proxy::rewriting_proxy(servers.ports.imap, break_two_messages);
    let data = servers.dir().join("tern-data");
    support::cli::add_plain_imap_account(&servers, &data, bob, proxy);
    let out = ok(tern(&data, &["sync"]));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("UID 7: its MIME structure could not be read"),
        "{err}"
    );
    assert!(err.contains("UID 9: the server's description"), "{err}");

    let rows = list(&data, "INBOX");
    assert_eq!(rows.len(), 20, "nothing is lost: {rows:?}");
    let row = |uid: u64| rows.iter().find(|r| r["uid"] == uid).unwrap().clone();
    // UID 7 came back whole except its structure; UID 9 is a placeholder.
    assert_eq!(row(7)["subject"], generated[6].subject.as_str());
    assert_eq!(row(9)["subject"], tern::engine::imap::UNREADABLE_SUBJECT);
    // Both can be opened: the whole source is fetched.
    for uid in [7, 9] {
        let id = row(uid)["id"].to_string();
        let out = ok(tern(&data, &["show", &id, "--raw"]));
        let raw = String::from_utf8_lossy(&out.stdout);
        assert!(
            raw.contains(&generated[uid as usize - 1].message_id),
            "UID {uid}: {raw}"
        );
    }
    // Resyncs keep everything (UID 9's unreadable FLAGS are not taken for an expunge).
    ok(tern(&data, &["sync"]));
    assert_eq!(list(&data, "INBOX").len(), 20);
}

#[test]
fn a_courier_style_namespace_gets_new_folders_inside_it() {
    let servers = MailServers::start_with(support::servers::Options {
        namespace: Some(("INBOX.".into(), '.')),
        ..Default::default()
    });
    let bob = &servers.bob;
    corpus::fill_maildir(bob, "INBOX", 5, 71);
    let data = servers.dir().join("tern-data");
    add_account(&servers, &data, bob);
    ok(tern(&data, &["sync"]));
    let folders = || {
        json(tern(&data, &["folders", "--account", "bob", "--json"]))
            .as_array()
            .unwrap()
            .clone()
    };
    let sent = folders()
        .into_iter()
        .find(|f| f["role"] == "sent")
        .expect("the Sent folder is found by SPECIAL-USE inside the namespace");
    assert_eq!(sent["path"], "INBOX.Sent");
    assert_eq!(list(&data, "INBOX").len(), 5);

    ok(tern(
        &data,
        &["folder", "create", "--account", "bob", "Projects"],
    ));
    let mut c = imap(&servers, bob);
    let listed = c.imap_ok("a", "LIST \"\" \"*\"").join("\n");
    c.imap_ok("z", "LOGOUT");
    assert!(listed.contains(" INBOX.Projects"), "{listed}");
    assert!(folders().iter().any(|f| f["path"] == "INBOX.Projects"));
    // A path given inside the namespace is not prefixed twice.
    ok(tern(
        &data,
        &[
            "folder",
            "create",
            "--account",
            "bob",
            "INBOX.Projects.2026",
        ],
    ));
    assert!(
        folders().iter().any(|f| f["path"] == "INBOX.Projects.2026"),
        "{:?}",
        folders()
    );
}

#[test]
fn kill_9_mid_sync_resumes_without_loss_or_duplicates() {
    let servers = MailServers::start();
    let bob = &servers.bob;
    let generated = corpus::fill_maildir(bob, "INBOX", 3000, 81);
    let data = servers.dir().join("tern-data");
    add_account(&servers, &data, bob);
    let cached = || -> i64 {
        let Ok(db) = rusqlite::Connection::open_with_flags(
            data.join("tern.db"),
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        ) else {
            return 0;
        };
        db.query_row("SELECT count(*) FROM message", [], |r| r.get(0))
            .unwrap_or(0)
    };
    // Kill the process twice, each time once more headers have been committed.
    for threshold in [500, 1500] {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_tern"))
            .arg("--data-dir")
            .arg(&data)
            .arg("sync")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let started = std::time::Instant::now();
        while cached() < threshold && started.elapsed() < std::time::Duration::from_secs(60) {
            if child.try_wait().unwrap().is_some() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        let now = cached();
        assert!(
            now >= threshold && now < 3000,
            "the kill should land mid-sync (cached {now})"
        );
    }
    ok(tern(&data, &["sync"]));
    assert_matches(&data, "INBOX", &generated);
    let db = rusqlite::Connection::open(data.join("tern.db")).unwrap();
    let check: String = db
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    let dups: i64 = db
        .query_row(
            "SELECT count(*) FROM (SELECT message_id FROM message GROUP BY folder_id, message_id HAVING count(*) > 1)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(dups, 0);
}

#[test]
fn mark_all_read_is_one_command_for_what_the_user_saw() {
    let servers = MailServers::start();
    let bob = &servers.bob;
    corpus::fill_maildir(bob, "INBOX", 200, 111);
    let data = servers.dir().join("tern-data");
    add_account(&servers, &data, bob);
    ok(tern(&data, &["sync"]));
    let store = tern::store::Store::open_dir(&data).unwrap();
    let account = store.find_account("bob").unwrap();
    let inbox = store.find_folder(account.id, "INBOX").unwrap();
    assert!(inbox.unread > 0);
    let changed = store.queue_mark_folder_read(inbox.id).unwrap();
    assert_eq!(changed as i64, inbox.unread);
    assert_eq!(store.find_folder(account.id, "INBOX").unwrap().unread, 0);
    // Mail that arrives after the click is not marked: the user has not seen it.
    append(&servers, bob, "arrived-after-the-click");
    let password = tern::account::credentials::Secret::new(bob.password.clone());
    let report = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(tern::engine::imap::sync_account(
            &store,
            &account,
            &password,
            &mut |_| {},
        ))
        .unwrap();
    assert_eq!(report.replayed, 1);
    assert_eq!(
        report.commands.get("STORE"),
        Some(&1),
        "{:?}",
        report.commands
    );
    let mut c = imap(&servers, bob);
    let unseen = c.imap_ok("a", "STATUS INBOX (UNSEEN)").join("\n");
    c.imap_ok("z", "LOGOUT");
    assert!(unseen.contains("UNSEEN 1"), "{unseen}");
    assert_eq!(store.find_folder(account.id, "INBOX").unwrap().unread, 1);
    support::mailbox::assert_mirrors(&servers, bob, &data, &["INBOX"], "after mark all read");
}
