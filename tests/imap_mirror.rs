//! The cache stays a faithful mirror of the server while another client (a phone) works on the
//! same folders: Tern's own flag changes reach the server and never conflict with themselves,
//! and mail another client files is never hidden by Tern's own uploads, moves, deletes or server
//! searches. Each scenario runs in the QRESYNC, CONDSTORE-only and plain paths and ends by
//! comparing Tern's cache with the server, UID by UID.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod support;

use std::path::Path;

use support::cli::{json, ok, tern, tern_with_input};
use support::mailbox::{self, assert_mirrors};
use support::servers::Options;
use support::{MailServers, User, corpus};

/// Which of the engine's three resync paths a server steers it into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Path3 {
    Qresync,
    /// CONDSTORE without QRESYNC (and without ENABLE for it).
    Condstore,
    /// Neither, and no MOVE or UIDPLUS either.
    Plain,
}

fn start(path: Path3) -> MailServers {
    const BASE: &str =
        "IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ SPECIAL-USE NAMESPACE";
    let imap_capability = match path {
        Path3::Qresync => None,
        Path3::Condstore => Some(format!("{BASE} UIDPLUS MOVE CONDSTORE")),
        Path3::Plain => Some(BASE.to_owned()),
    };
    MailServers::start_with(Options {
        imap_capability,
        ..Default::default()
    })
}

fn other_client(servers: &MailServers, user: &User) -> support::raw::LineClient {
    mailbox::login(servers, user)
}

/// Appends a message to `folder` as another client would; returns its Message-ID.
fn append(servers: &MailServers, user: &User, folder: &str, tag: &str, from: &str) -> String {
    let message_id = format!("{tag}@phone.example.test");
    let msg = format!(
        "From: {from}\r\nTo: {}\r\nSubject: {tag}\r\nMessage-ID: <{message_id}>\r\n\
         Date: Mon, 30 Nov 2026 10:00:00 +0000\r\n\r\nfiled by another client: {tag}\r\n",
        user.address
    );
    let mut c = other_client(servers, user);
    c.send(&format!("p APPEND \"{folder}\" {{{}+}}", msg.len()));
    c.send_raw(msg.as_bytes());
    c.send("");
    loop {
        let line = c.line();
        if line.starts_with("p ") {
            assert!(line.starts_with("p OK"), "{line}");
            break;
        }
    }
    c.imap_ok("z", "LOGOUT");
    message_id
}

/// Tern's id of the message in `folder` whose `field` (as `tern list --json` gives it) is
/// `value`.
fn id_where(data: &Path, folder: &str, field: &str, value: serde_json::Value) -> String {
    let rows = json(tern(
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
    ));
    rows.as_array()
        .unwrap()
        .iter()
        .find(|r| r[field] == value)
        .unwrap_or_else(|| panic!("no {field} {value} in {folder}: {rows}"))["id"]
        .to_string()
}

/// Tern's id of the message in `folder` whose UID is `uid`.
fn id_of(data: &Path, folder: &str, uid: u64) -> String {
    id_where(data, folder, "uid", uid.into())
}

fn id_by_message_id(data: &Path, folder: &str, message_id: &str) -> String {
    id_where(data, folder, "message_id", message_id.into())
}

fn server_flags_of(servers: &MailServers, user: &User, folder: &str, uid: u32) -> Vec<String> {
    mailbox::server_flags(servers, user, folder)
        .remove(&uid)
        .unwrap_or_else(|| panic!("UID {uid} is not in {folder} on the server"))
}

/// Flags changed two and three times in a row, online and offline, a real conflict with
/// another client, and \Answered/$Forwarded after a reply and a forward on a message whose
/// flags Tern had just changed: the server and the cache agree after every step.
fn own_flag_changes(path: Path3) {
    let servers = start(path);
    let bob = &servers.bob;
    corpus::fill_maildir(bob, "INBOX", 20, 7);
    let data = servers.dir().join("tern-data");
    support::cli::add_imap_account(&servers, &data, bob, servers.ports.imaps, &[]);
    ok(tern(&data, &["sync"]));
    let inbox = &["INBOX"];
    assert_mirrors(&servers, bob, &data, inbox, "first sync");

    // Online: each command replays at once.
    let x = id_of(&data, "INBOX", 3);
    for (step, change) in ["+flagged", "-flagged", "+flagged"].iter().enumerate() {
        ok(tern(&data, &["flag", &x, change]));
        assert_mirrors(
            &servers,
            bob,
            &data,
            inbox,
            &format!("online change {step}: {change}"),
        );
    }
    assert!(server_flags_of(&servers, bob, "INBOX", 3).contains(&"\\flagged".to_owned()));
    ok(tern(&data, &["flag", &x, "-flagged", "-seen"]));
    ok(tern(&data, &["flag", &x, "+seen"]));
    assert_mirrors(&servers, bob, &data, inbox, "two more online changes");
    assert_eq!(
        server_flags_of(&servers, bob, "INBOX", 3),
        vec!["\\seen".to_owned()]
    );

    // Offline: three changes queued on one message, replayed by one sync.
    let y = id_of(&data, "INBOX", 5);
    ok(tern(&data, &["flag", &y, "+flagged", "--offline"]));
    ok(tern(
        &data,
        &["flag", &y, "-flagged", "+$Todo", "--offline"],
    ));
    ok(tern(&data, &["flag", &y, "+flagged", "-seen", "--offline"]));
    ok(tern(&data, &["sync"]));
    assert_mirrors(&servers, bob, &data, inbox, "three offline changes");
    let y_flags = server_flags_of(&servers, bob, "INBOX", 5);
    assert!(
        y_flags.contains(&"\\flagged".to_owned())
            && y_flags.contains(&"$todo".to_owned())
            && !y_flags.contains(&"\\seen".to_owned()),
        "{y_flags:?}"
    );
    // Two more offline on the same message, after its flags changed on the server.
    ok(tern(&data, &["flag", &y, "-flagged", "--offline"]));
    ok(tern(&data, &["flag", &y, "+seen", "--offline"]));
    ok(tern(&data, &["sync"]));
    assert_mirrors(&servers, bob, &data, inbox, "two offline changes");
    let y_flags = server_flags_of(&servers, bob, "INBOX", 5);
    assert!(
        !y_flags.contains(&"\\flagged".to_owned()) && y_flags.contains(&"\\seen".to_owned()),
        "{y_flags:?}"
    );

    // A real conflict: another client changes the message between Tern's queueing and its
    // replay. Whichever side wins, cache and server agree afterwards.
    let z = id_of(&data, "INBOX", 7);
    ok(tern(&data, &["flag", &z, "+flagged", "--offline"]));
    let mut phone = other_client(&servers, bob);
    phone.imap_ok("s", "SELECT INBOX");
    phone.imap_ok("t", "UID STORE 7 +FLAGS ($Phone)");
    phone.imap_ok("t2", "UID STORE 3 -FLAGS (\\Seen)");
    phone.imap_ok("z", "LOGOUT");
    ok(tern(&data, &["sync"]));
    assert_mirrors(&servers, bob, &data, inbox, "after a conflict");
    assert!(server_flags_of(&servers, bob, "INBOX", 7).contains(&"$phone".to_owned()));
    // The other client's change to X reached the cache; Tern's next change to X is not
    // taken for a conflict.
    ok(tern(&data, &["flag", &x, "+flagged"]));
    assert_mirrors(
        &servers,
        bob,
        &data,
        inbox,
        "after the other client changed X",
    );
    assert!(server_flags_of(&servers, bob, "INBOX", 3).contains(&"\\flagged".to_owned()));

    // \Answered and $Forwarded after a reply and a forward, on messages whose flags Tern has
    // just changed.
    append(
        &servers,
        bob,
        "INBOX",
        "reply-me",
        "Alice <alice@example.test>",
    );
    ok(tern(&data, &["sync"]));
    let r = id_by_message_id(&data, "INBOX", "reply-me@phone.example.test");
    ok(tern(&data, &["flag", &r, "+flagged"]));
    ok(tern(&data, &["flag", &r, "-seen"]));
    ok(tern_with_input(
        &data,
        &["send", "--account", "bob", "--reply-to-id", &r],
        "Thanks.\n",
    ));
    ok(tern(&data, &["flag", &x, "-flagged"]));
    ok(tern_with_input(
        &data,
        &[
            "send",
            "--account",
            "bob",
            "--forward-id",
            &x,
            "--to",
            "carol@example.test",
        ],
        "FYI\n",
    ));
    ok(tern(&data, &["sync"]));
    assert_mirrors(
        &servers,
        bob,
        &data,
        &["INBOX", "Sent"],
        "after a reply and a forward",
    );
    let server = mailbox::server_flags(&servers, bob, "INBOX");
    let store = tern::store::Store::open_dir(&data).unwrap();
    let r_uid = store.message(r.parse().unwrap()).unwrap().uid.unwrap();
    let replied = &server[&u32::try_from(r_uid).unwrap()];
    assert!(
        replied.contains(&"\\answered".to_owned()) && replied.contains(&"\\flagged".to_owned()),
        "the reply's original is \\Answered and still \\Flagged: {replied:?}"
    );
    let forwarded = &server[&3];
    assert!(
        forwarded.contains(&"$forwarded".to_owned())
            && !forwarded.contains(&"\\flagged".to_owned()),
        "{forwarded:?}"
    );
    // Nothing left queued or failed.
    let account = store.find_account("bob").unwrap();
    assert!(store.pending_ops(account.id).unwrap().is_empty());
}

#[test]
fn own_flag_changes_reach_the_server_with_qresync() {
    own_flag_changes(Path3::Qresync);
}

#[test]
fn own_flag_changes_reach_the_server_with_condstore_only() {
    own_flag_changes(Path3::Condstore);
}

#[test]
fn own_flag_changes_reach_the_server_without_condstore() {
    own_flag_changes(Path3::Plain);
}

/// Another client files mail into Sent, Archive and Trash between two of Tern's passes, then
/// Tern uploads, moves and deletes into the same folders (their new UIDs land above the other
/// client's), and a server search caches a UID above one not fetched yet: the next pass still
/// fetches every message.
fn others_mail_is_never_hidden(path: Path3) {
    let servers = start(path);
    let bob = &servers.bob;
    corpus::fill_maildir(bob, "INBOX", 30, 11);
    corpus::fill_maildir(bob, "Archive", 5, 12);
    corpus::fill_maildir(bob, "Sent", 5, 13);
    let data = servers.dir().join("tern-data");
    support::cli::add_imap_account(&servers, &data, bob, servers.ports.imaps, &[]);
    ok(tern(&data, &["sync"]));
    let all = &["INBOX", "Sent", "Archive", "Trash"];
    assert_mirrors(&servers, bob, &data, all, "first sync");

    // The phone files one message in each folder.
    append(
        &servers,
        bob,
        "Sent",
        "phone-sent",
        "Bob <bob@example.test>",
    );
    append(
        &servers,
        bob,
        "Archive",
        "phone-archive",
        "Carol <carol@example.test>",
    );
    append(
        &servers,
        bob,
        "Trash",
        "phone-trash",
        "Carol <carol@example.test>",
    );
    // Tern sends (its Sent copy is uploaded), moves to Archive and deletes to Trash.
    ok(tern_with_input(
        &data,
        &[
            "send",
            "--account",
            "bob",
            "--to",
            "alice@example.test",
            "--subject",
            "From Tern",
        ],
        "Hello.\n",
    ));
    ok(tern(&data, &["move", &id_of(&data, "INBOX", 4), "Archive"]));
    ok(tern(&data, &["delete", &id_of(&data, "INBOX", 6)]));
    ok(tern(&data, &["sync"]));
    assert_mirrors(
        &servers,
        bob,
        &data,
        all,
        "after Tern's uploads, moves and deletes",
    );
    ok(tern(&data, &["sync"]));
    assert_mirrors(&servers, bob, &data, all, "after one more pass");

    // The same again with the actions queued offline and replayed in the pass that follows.
    append(
        &servers,
        bob,
        "Archive",
        "phone-archive-2",
        "Carol <carol@example.test>",
    );
    append(
        &servers,
        bob,
        "Trash",
        "phone-trash-2",
        "Carol <carol@example.test>",
    );
    ok(tern(
        &data,
        &["move", &id_of(&data, "INBOX", 8), "Archive", "--offline"],
    ));
    ok(tern(
        &data,
        &["delete", &id_of(&data, "INBOX", 9), "--offline"],
    ));
    ok(tern(&data, &["sync"]));
    assert_mirrors(&servers, bob, &data, all, "after offline moves and deletes");

    // A server search caches a UID above one that Tern has not fetched yet.
    append(
        &servers,
        bob,
        "INBOX",
        "plain-news",
        "Carol <carol@example.test>",
    );
    append(
        &servers,
        bob,
        "INBOX",
        "zebraword",
        "Carol <carol@example.test>",
    );
    let found = json(tern(
        &data,
        &[
            "search",
            "zebraword",
            "--account",
            "bob",
            "--folder",
            "INBOX",
            "--server",
            "--json",
        ],
    ));
    assert_eq!(found.as_array().unwrap().len(), 1, "{found}");
    ok(tern(&data, &["sync"]));
    assert_mirrors(&servers, bob, &data, all, "after a server search");
    let _ = id_by_message_id(&data, "INBOX", "plain-news@phone.example.test");
}

#[test]
fn others_mail_is_never_hidden_with_qresync() {
    others_mail_is_never_hidden(Path3::Qresync);
}

#[test]
fn others_mail_is_never_hidden_with_condstore_only() {
    others_mail_is_never_hidden(Path3::Condstore);
}

#[test]
fn others_mail_is_never_hidden_without_condstore() {
    others_mail_is_never_hidden(Path3::Plain);
}

/// Another client deletes one folder and renames another while Tern has actions queued on
/// them, and a third folder cannot be read on the server: the actions fail with the reason and
/// are undone in the cache, the dead folders leave the tree, the unreadable one is marked with
/// the server's reason, and every other folder syncs.
#[test]
fn refused_or_vanished_folders_never_stop_the_account() {
    use std::os::unix::fs::PermissionsExt as _;
    let servers = MailServers::start();
    let bob = &servers.bob;
    corpus::fill_maildir(bob, "INBOX", 10, 21);
    corpus::fill_maildir(bob, "Projects", 5, 22);
    corpus::fill_maildir(bob, "Broken", 4, 23);
    corpus::fill_maildir(bob, "Doomed", 3, 24);
    corpus::fill_maildir(bob, "Renamed", 3, 25);
    let data = servers.dir().join("tern-data");
    support::cli::add_imap_account(&servers, &data, bob, servers.ports.imaps, &[]);
    ok(tern(&data, &["sync"]));

    // Queued offline: into and out of the folders the phone is about to delete or rename.
    let moved = id_of(&data, "INBOX", 1);
    ok(tern(&data, &["move", &moved, "Doomed", "--offline"]));
    ok(tern(
        &data,
        &["flag", &id_of(&data, "Doomed", 1), "+flagged", "--offline"],
    ));
    ok(tern(
        &data,
        &["move", &id_of(&data, "Renamed", 2), "Archive", "--offline"],
    ));
    ok(tern(
        &data,
        &["copy", &id_of(&data, "INBOX", 2), "Renamed", "--offline"],
    ));
    // And one that has nothing to do with them, and one on the folder that will be refused.
    ok(tern(
        &data,
        &["flag", &id_of(&data, "INBOX", 3), "+flagged", "--offline"],
    ));
    let in_broken = id_of(&data, "Broken", 2);
    ok(tern(&data, &["flag", &in_broken, "+flagged", "--offline"]));

    let mut phone = other_client(&servers, bob);
    phone.imap_ok("d", "DELETE Doomed");
    phone.imap_ok("r", "RENAME Renamed Renamed2");
    phone.imap_ok("z", "LOGOUT");
    append(
        &servers,
        bob,
        "Projects",
        "phone-projects",
        "Carol <carol@example.test>",
    );
    let broken = corpus::maildir_folder(bob, "Broken");
    std::fs::set_permissions(&broken, std::fs::Permissions::from_mode(0o000)).unwrap();

    let out = tern(&data, &["sync"]);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success(), "a folder was not synced: {err}");
    assert!(err.contains("folder Broken was not synced"), "{err}");

    let folders = json(tern(&data, &["folders", "--account", "bob", "--json"]));
    let paths: Vec<&str> = folders
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert!(
        !paths.contains(&"Doomed") && !paths.contains(&"Renamed") && paths.contains(&"Renamed2"),
        "{paths:?}"
    );
    let broken_row = folders
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == "Broken")
        .unwrap();
    assert!(broken_row["error"].is_string(), "{broken_row}");
    for f in folders.as_array().unwrap() {
        if f["path"] != "Broken" {
            assert!(f["error"].is_null(), "{f}");
        }
    }
    // The message that was to move into the deleted folder is back in INBOX with its id.
    assert_eq!(id_of(&data, "INBOX", 1), moved);
    let store = tern::store::Store::open_dir(&data).unwrap();
    let account = store.find_account("bob").unwrap();
    let ops = store.pending_ops(account.id).unwrap();
    assert_eq!(ops.len(), 5, "{ops:?}");
    assert!(ops.iter().all(|op| op.state == "failed"), "{ops:?}");
    let vanished = ops
        .iter()
        .filter(|op| {
            op.error
                .as_deref()
                .is_some_and(|e| e.contains("deleted or renamed"))
        })
        .count();
    assert_eq!(vanished, 4, "{ops:?}");
    // The failed changes are listed with their reasons, and never count as queued.
    let failed = json(tern(&data, &["queue", "--account", "bob", "--json"]));
    let failed = failed.as_array().unwrap();
    assert_eq!(failed.len(), 5, "{failed:?}");
    let refused = failed
        .iter()
        .find(|f| f["message_id"].as_i64() == in_broken.parse().ok())
        .unwrap();
    assert!(
        refused["error"]
            .as_str()
            .unwrap()
            .contains("SELECT Broken failed")
            && refused["retryable"] == true
            && refused["what"] == "add \\Flagged",
        "{refused}"
    );
    let broken_id = refused["id"].to_string();
    assert!(server_flags_of(&servers, bob, "INBOX", 3).contains(&"\\flagged".to_owned()));
    assert_mirrors(
        &servers,
        bob,
        &data,
        &["INBOX", "Projects", "Archive", "Renamed2"],
        "with a refused folder",
    );

    // Readable again: it syncs, and its mark goes.
    std::fs::set_permissions(&broken, std::fs::Permissions::from_mode(0o700)).unwrap();
    ok(tern(&data, &["sync"]));
    let folders = json(tern(&data, &["folders", "--account", "bob", "--json"]));
    assert!(
        folders
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["error"].is_null()),
        "{folders}"
    );
    assert_mirrors(
        &servers,
        bob,
        &data,
        &["INBOX", "Broken"],
        "after the repair",
    );
    // The refused change, tried again, now reaches the server; the others are dropped.
    ok(tern(&data, &["queue", "retry", &broken_id]));
    ok(tern(&data, &["sync"]));
    assert!(server_flags_of(&servers, bob, "Broken", 2).contains(&"\\flagged".to_owned()));
    for f in json(tern(&data, &["queue", "--json"])).as_array().unwrap() {
        ok(tern(&data, &["queue", "drop", &f["id"].to_string()]));
    }
    assert!(store.pending_ops(account.id).unwrap().is_empty());
    assert_mirrors(
        &servers,
        bob,
        &data,
        &["INBOX", "Broken", "Archive"],
        "at the end",
    );
}

/// A TLS handshake cut by the network is a network error, which the engine retries; only a
/// certificate that cannot be verified waits for the user.
#[test]
fn a_cut_tls_handshake_is_a_network_error_and_is_retried() {
    use std::sync::Arc;
    use std::sync::atomic::AtomicI64;
    use tern::engine::{Command, Connectivity, Event, Kind};
    let servers = MailServers::start();
    let bob = &servers.bob;
    let budget = Arc::new(AtomicI64::new(0));
    let proxy = support::proxy::cutting_proxy(servers.ports.imaps, budget);
    let data = servers.dir().join("tern-data");
    support::cli::add_imap_account(&servers, &data, bob, proxy, &[]);
    let store = tern::store::Store::open_dir(&data).unwrap();
    let account = store.find_account("bob").unwrap();
    let password = tern::account::credentials::Secret::new(bob.password.clone());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let err = runtime
        .block_on(tern::engine::imap::sync_account(
            &store,
            &account,
            &password,
            &mut |_| {},
        ))
        .unwrap_err();
    assert_eq!(err.kind(), Kind::Network, "{err}");
    assert!(!err.to_string().contains("certificate"), "{err}");

    // The engine reports it as a disconnection with a retry, not a failure for the user.
    let (commands, rx) = tokio::sync::mpsc::channel(4);
    let (events, mut events_rx) = tokio::sync::mpsc::channel(64);
    let engine = runtime.spawn(tern::engine::imap::run(
        store.clone(),
        account.clone(),
        password.clone(),
        rx,
        events,
    ));
    let state = runtime.block_on(async {
        loop {
            match events_rx.recv().await {
                Some(Event::Connectivity { state, .. })
                    if !matches!(state, Connectivity::Connecting) =>
                {
                    break state;
                }
                Some(_) => {}
                None => panic!("the engine stopped"),
            }
        }
    });
    assert!(
        matches!(state, Connectivity::Disconnected { retry_in_secs, .. } if retry_in_secs > 0),
        "{state:?}"
    );
    runtime.block_on(commands.send(Command::Shutdown)).unwrap();
    runtime.block_on(engine).unwrap();
}

/// Renaming a folder keeps its messages' ids and cached bodies (and those of its subfolders);
/// deleting a folder with mail, or a special-use one, needs `--yes`; deleting a parent that is
/// only a name says why; and the other client's changes after the rename are mirrored.
#[test]
fn renamed_folders_keep_ids_and_deleting_mail_needs_confirmation() {
    let servers = MailServers::start();
    let bob = &servers.bob;
    corpus::fill_maildir(bob, "Projects", 5, 31);
    corpus::fill_maildir(bob, "Projects/2026", 2, 32);
    let data = servers.dir().join("tern-data");
    support::cli::add_imap_account(&servers, &data, bob, servers.ports.imaps, &[]);
    ok(tern(&data, &["sync"]));
    let ids = |folder: &str| -> Vec<(u64, i64)> {
        let rows = json(tern(
            &data,
            &["list", "--account", "bob", "--folder", folder, "--json"],
        ));
        let mut ids: Vec<(u64, i64)> = rows
            .as_array()
            .unwrap()
            .iter()
            .map(|r| (r["uid"].as_u64().unwrap(), r["id"].as_i64().unwrap()))
            .collect();
        ids.sort_unstable();
        ids
    };
    let (projects, year) = (ids("Projects"), ids("Projects/2026"));
    let opened = projects[0].1.to_string();
    let shown = ok(tern(&data, &["show", &opened])).stdout;

    ok(tern(
        &data,
        &["folder", "rename", "--account", "bob", "Projects", "Work"],
    ));
    assert_eq!(ids("Work"), projects, "the messages kept their ids");
    assert_eq!(
        ids("Work/2026"),
        year,
        "the subfolder's messages kept theirs"
    );
    let offline = ok(tern(&data, &["show", &opened, "--offline"])).stdout;
    assert_eq!(offline, shown, "the cached body survived the rename");

    append(
        &servers,
        bob,
        "Work",
        "after-rename",
        "Carol <carol@example.test>",
    );
    ok(tern(&data, &["sync"]));
    assert_mirrors(
        &servers,
        bob,
        &data,
        &["Work", "Work/2026"],
        "after the rename",
    );

    // A folder with mail, or a special one, is deleted only with --yes.
    let out = tern(
        &data,
        &["folder", "delete", "--account", "bob", "Work/2026"],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("2 messages") && err.contains("--yes"),
        "{err}"
    );
    assert_eq!(
        mailbox::count(&servers, bob, "Work/2026"),
        2,
        "still on the server"
    );
    let out = tern(&data, &["folder", "delete", "--account", "bob", "Trash"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("trash"), "{err}");
    ok(tern(
        &data,
        &["folder", "delete", "--account", "bob", "Work/2026", "--yes"],
    ));
    ok(tern(
        &data,
        &["folder", "create", "--account", "bob", "Empty"],
    ));
    ok(tern(
        &data,
        &["folder", "delete", "--account", "bob", "Empty"],
    ));

    // A parent that exists only as a name for its subfolders.
    let mut phone = other_client(&servers, bob);
    phone.imap_ok("c", "CREATE Parent/Child");
    phone.imap_ok("z", "LOGOUT");
    ok(tern(&data, &["sync"]));
    let listed = json(tern(&data, &["folders", "--account", "bob", "--json"]));
    assert!(
        listed
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["path"] == "Parent"),
        "{listed}"
    );
    let out = tern(&data, &["folder", "delete", "--account", "bob", "Parent"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("Parent/Child"),
        "{err}"
    );
    ok(tern(
        &data,
        &["folder", "delete", "--account", "bob", "Parent/Child"],
    ));
    let listed = json(tern(&data, &["folders", "--account", "bob", "--json"]));
    assert!(
        !listed
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["path"].as_str().unwrap().starts_with("Parent")),
        "{listed}"
    );
}

/// Without UIDPLUS, Tern never sends a plain EXPUNGE (which would also remove what another
/// client marked \Deleted and means to keep until it expunges): its own deletes stay marked
/// \Deleted, which Tern counts as gone, and the other client's marked message survives.
#[test]
fn without_uidplus_another_clients_deleted_mail_is_never_expunged() {
    let servers = start(Path3::Plain);
    let bob = &servers.bob;
    corpus::fill_maildir(bob, "INBOX", 8, 41);
    let data = servers.dir().join("tern-data");
    support::cli::add_imap_account(&servers, &data, bob, servers.ports.imaps, &[]);
    ok(tern(&data, &["sync"]));
    // The phone marks UID 2 \Deleted and keeps it (it expunges later, or never).
    let mut phone = other_client(&servers, bob);
    phone.imap_ok("s", "SELECT INBOX");
    phone.imap_ok("t", "UID STORE 2 +FLAGS (\\Deleted)");
    phone.imap_ok("z", "LOGOUT");
    // Tern deletes UID 5 (to Trash: COPY, then \Deleted on the original, no MOVE here), then
    // deletes it for good from Trash.
    ok(tern(&data, &["delete", &id_of(&data, "INBOX", 5)]));
    let in_trash = id_of(&data, "Trash", 1);
    ok(tern(&data, &["delete", &in_trash]));
    ok(tern(&data, &["sync"]));
    let inbox = mailbox::server_flags(&servers, bob, "INBOX");
    assert!(
        inbox
            .get(&2)
            .is_some_and(|f| f.contains(&"\\deleted".to_owned())),
        "the phone's \\Deleted message is still on the server: {inbox:?}"
    );
    assert!(
        inbox
            .get(&5)
            .is_some_and(|f| f.contains(&"\\deleted".to_owned()))
    );
    assert_eq!(mailbox::count_undeleted(&servers, bob, "Trash"), 0);
    // Tern shows neither: a message marked \Deleted counts as gone.
    assert_mirrors(&servers, bob, &data, &["INBOX", "Trash"], "without UIDPLUS");
    let cached = mailbox::cached_flags(
        &tern::store::Store::open_dir(&data).unwrap(),
        "bob",
        "INBOX",
    );
    assert!(
        !cached.contains_key(&2) && !cached.contains_key(&5),
        "{cached:?}"
    );
}

/// Autosaving a draft while offline replaces its queued upload instead of stacking one
/// upload and one failing delete a minute; online, the last version is the one on the server.
#[test]
fn offline_autosaves_replace_the_queued_upload() {
    let servers = MailServers::start();
    let bob = &servers.bob;
    let data = servers.dir().join("tern-data");
    support::cli::add_imap_account(&servers, &data, bob, servers.ports.imaps, &[]);
    ok(tern(&data, &["sync"]));
    let store = tern::store::Store::open_dir(&data).unwrap();
    let account = store.find_account("bob").unwrap();
    let mut draft = tern::mail::compose::Draft {
        to: vec!["alice@example.test".into()],
        subject: "Plans".into(),
        text: "first".into(),
        ..Default::default()
    };
    let mut saved = None;
    for round in 0..5 {
        draft.text = format!("version {round}");
        saved = Some(tern::engine::send::save_draft(&store, &account, &draft, saved).unwrap());
    }
    let ops = store.pending_ops(account.id).unwrap();
    assert_eq!(ops.len(), 1, "one upload waits, nothing else: {ops:?}");
    ok(tern(&data, &["sync"]));
    assert!(store.pending_ops(account.id).unwrap().is_empty());
    let drafts = mailbox::messages(&servers, bob, "Drafts");
    assert_eq!(drafts.len(), 1);
    assert!(String::from_utf8_lossy(&drafts[0].0).contains("version 4"));
    // Once it is on the server, the next save replaces it there.
    draft.text = "version 5".into();
    tern::engine::send::save_draft(&store, &account, &draft, saved).unwrap();
    // Meanwhile the phone saves a draft of its own.
    append(
        &servers,
        bob,
        "Drafts",
        "phone-draft",
        "Bob <bob@example.test>",
    );
    ok(tern(&data, &["sync"]));
    assert_mirrors(&servers, bob, &data, &["Drafts"], "after the online save");
    let texts: Vec<String> = mailbox::messages(&servers, bob, "Drafts")
        .iter()
        .map(|(raw, _)| String::from_utf8_lossy(raw).into_owned())
        .collect();
    assert_eq!(texts.len(), 2, "{texts:?}");
    assert!(
        texts.iter().any(|t| t.contains("version 5"))
            && !texts.iter().any(|t| t.contains("version 4"))
    );
}

/// Moved to Trash and then deleted for good there before the move reached the server: the
/// original is deleted for good where it still is, and nothing fails.
#[test]
fn a_move_then_a_delete_for_good_while_offline_deletes_the_original() {
    let servers = MailServers::start();
    let bob = &servers.bob;
    corpus::fill_maildir(bob, "INBOX", 6, 51);
    let data = servers.dir().join("tern-data");
    support::cli::add_imap_account(&servers, &data, bob, servers.ports.imaps, &[]);
    ok(tern(&data, &["sync"]));
    let id = id_of(&data, "INBOX", 2);
    ok(tern(&data, &["delete", &id, "--offline"]));
    ok(tern(&data, &["delete", &id, "--offline"]));
    append(
        &servers,
        bob,
        "Trash",
        "phone-trash",
        "Carol <carol@example.test>",
    );
    ok(tern(&data, &["sync"]));
    let store = tern::store::Store::open_dir(&data).unwrap();
    let account = store.find_account("bob").unwrap();
    assert!(
        store.pending_ops(account.id).unwrap().is_empty(),
        "{:?}",
        store.pending_ops(account.id).unwrap()
    );
    assert!(!mailbox::server_flags(&servers, bob, "INBOX").contains_key(&2));
    assert_mirrors(
        &servers,
        bob,
        &data,
        &["INBOX", "Trash"],
        "after move and delete",
    );
}
