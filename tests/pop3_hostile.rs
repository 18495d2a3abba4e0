//! POP3 against a scripted server that reuses UIDLs and Message-IDs, gives one UIDL to two
//! messages, rewrites or cuts mail, lacks or refuses TOP, locks the maildrop or trickles: each
//! test ends with every message in Tern exactly once and nothing that was not checked gone
//! from the server.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod support;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use support::cli;
use support::fake_pop3::{Faults, Maildrop};
use support::pop3_cli::{
    add, delete_here, fake_account, faults, local_id, local_ids, note, sync, variant,
};
use tern::store::Store;

#[test]
fn reused_uidls_and_message_ids_never_cost_a_message() {
    let dir = tempfile::tempdir().unwrap();
    let maildrop = Arc::new(Mutex::new(Maildrop::default()));
    let port = support::fake_pop3::start(maildrop.clone());
    let data = fake_account(dir.path(), port, &["--leave-on-server", "no"]);
    let count = || maildrop.lock().unwrap().messages.len();
    let push = |uidl: &str, raw: Vec<u8>| {
        maildrop
            .lock()
            .unwrap()
            .messages
            .push((uidl.to_owned(), raw));
    };
    add(&maildrop, 0..3);
    let (ok, stderr) = sync(&data);
    assert!(ok, "{stderr}");
    assert_eq!(count(), 0);

    // The server gives the freed UIDL u1 to new mail of the same size: it is new mail.
    push("u1", variant("fakeA@example.test", "fake1@example.test"));
    // A sender reuses one Message-ID (same size, other content) under a new UIDL.
    push("u7", variant("fake2@example.test", "other words here!!"));
    let (ok, stderr) = sync(&data);
    assert!(ok, "{stderr}");
    assert!(stderr.contains("2 new messages"), "{stderr}");
    assert_eq!(count(), 0, "{stderr}");
    let local = local_ids(&data);
    assert_eq!(local.get("fakeA@example.test"), Some(&1), "{local:?}");
    assert_eq!(local.get("fake2@example.test"), Some(&2), "{local:?}");

    // Two messages under one UIDL: both are kept, once each, and neither leaves the server.
    push("dup", variant("dupX@example.test", "x"));
    push("dup", variant("dupY@example.test", "y"));
    for _ in 0..2 {
        let (ok, stderr) = sync(&data);
        assert!(ok, "{stderr}");
        assert_eq!(count(), 2, "{stderr}");
        let local = local_ids(&data);
        assert_eq!(local.get("dupX@example.test"), Some(&1), "{local:?}");
        assert_eq!(local.get("dupY@example.test"), Some(&1), "{local:?}");
    }
    assert_eq!(local_ids(&data).values().sum::<usize>(), 7);
}

#[test]
fn a_uidl_that_names_other_mail_is_checked_before_dele() {
    let dir = tempfile::tempdir().unwrap();
    let maildrop = Arc::new(Mutex::new(Maildrop::default()));
    let port = support::fake_pop3::start(maildrop.clone());
    let data = fake_account(
        dir.path(),
        port,
        &["--delete-on-server-when-deleted", "yes"],
    );
    let count = || maildrop.lock().unwrap().messages.len();
    add(&maildrop, 0..2);
    let (ok, stderr) = sync(&data);
    assert!(ok, "{stderr}");
    assert_eq!(count(), 2);

    // Behind Tern's back, u1 now names other mail of the same size; then the user deletes
    // the copy of the old u1 here. The DELE this queues must not hit the new mail.
    maildrop.lock().unwrap().messages[1].1 = variant("fakeB@example.test", "fake1@example.test");
    let id = local_id(&data, "fake1@example.test");
    delete_here(&data, id);
    let (ok, stderr) = sync(&data);
    assert!(ok, "{stderr}");
    assert_eq!(
        count(),
        2,
        "the other mail left the server unread: {stderr}"
    );
    let (ok, stderr) = sync(&data);
    assert!(ok, "{stderr}");
    let local = local_ids(&data);
    assert_eq!(
        local.get("fakeB@example.test"),
        Some(&1),
        "{local:?} {stderr}"
    );
    assert_eq!(count(), 2);
}

#[test]
fn headers_only_stays_on_the_server_until_purged_and_top_is_optional() {
    let dir = tempfile::tempdir().unwrap();
    let maildrop = Arc::new(Mutex::new(Maildrop::default()));
    let port = support::fake_pop3::start(maildrop.clone());
    let data = fake_account(
        dir.path(),
        port,
        &[
            "--delete-on-server-when-deleted",
            "yes",
            "--headers-only-over-kb",
            "1",
        ],
    );
    let count = || maildrop.lock().unwrap().messages.len();
    let big = |id: &str| {
        let mut raw = variant(id, "big");
        raw.extend(std::iter::repeat_n(b"0123456789abcdef\r\n".as_slice(), 200).flatten());
        raw
    };
    maildrop
        .lock()
        .unwrap()
        .messages
        .push(("big1".into(), big("big1@example.test")));
    let (ok, stderr) = sync(&data);
    assert!(ok, "{stderr}");
    assert!(stderr.contains("(1 headers only)"), "{stderr}");

    // Moved to Trash, a headers-only message can still be restored and opened: its only
    // whole copy stays on the server. Purged, it may go.
    let id = local_id(&data, "big1@example.test");
    delete_here(&data, id);
    let (ok, stderr) = sync(&data);
    assert!(ok, "{stderr}");
    assert_eq!(count(), 1, "{stderr}");
    let id = local_id(&data, "big1@example.test");
    delete_here(&data, id);
    let (ok, stderr) = sync(&data);
    assert!(ok, "{stderr}");
    assert_eq!(count(), 0, "{stderr}");

    // A server without TOP: mail over the limit comes whole instead of never.
    faults(
        &maildrop,
        Faults {
            no_top: true,
            ..Faults::default()
        },
    );
    maildrop
        .lock()
        .unwrap()
        .messages
        .push(("big2".into(), big("big2@example.test")));
    let (ok, stderr) = sync(&data);
    assert!(ok, "{stderr}");
    assert!(
        stderr.contains("1 new messages (0 headers only)"),
        "{stderr}"
    );
    let store = Store::open_dir(&data).unwrap();
    let raw = store
        .raw_message(local_id(&data, "big2@example.test"))
        .unwrap();
    assert_eq!(raw, Some(big("big2@example.test")));

    // A server that lists TOP but refuses it: the same.
    faults(
        &maildrop,
        Faults {
            refuse_top: true,
            ..Faults::default()
        },
    );
    maildrop
        .lock()
        .unwrap()
        .messages
        .push(("big3".into(), big("big3@example.test")));
    let (ok, stderr) = sync(&data);
    assert!(ok, "{stderr}");
    assert!(
        stderr.contains("1 new messages (0 headers only)"),
        "{stderr}"
    );
    let raw = store
        .raw_message(local_id(&data, "big3@example.test"))
        .unwrap();
    assert_eq!(raw, Some(big("big3@example.test")));
}

#[test]
fn a_locked_maildrop_and_a_trickle_are_told_apart_from_a_wrong_password() {
    let dir = tempfile::tempdir().unwrap();
    let maildrop = Arc::new(Mutex::new(Maildrop::default()));
    let port = support::fake_pop3::start(maildrop.clone());
    let data = fake_account(dir.path(), port, &[]);
    add(&maildrop, 0..2);
    faults(
        &maildrop,
        Faults {
            in_use: true,
            ..Faults::default()
        },
    );
    let (ok, stderr) = sync(&data);
    assert!(!ok);
    assert!(stderr.contains("just now"), "{stderr}");
    assert!(
        !stderr.contains("check them in the account settings"),
        "{stderr}"
    );

    // One byte every 200 ms: cut off after the stall limit (2 s here), not after 30 minutes.
    faults(
        &maildrop,
        Faults {
            trickle_retr: Some(2),
            ..Faults::default()
        },
    );
    let started = Instant::now();
    let (ok, stderr) = sync(&data);
    assert!(!ok);
    assert!(stderr.contains("trickling"), "{stderr}");
    assert!(started.elapsed() < Duration::from_secs(20));
    faults(&maildrop, Faults::default());
    let (ok, stderr) = sync(&data);
    assert!(ok, "{stderr}");
    assert_eq!(local_ids(&data).len(), 2);
}

#[test]
fn every_check_before_dele_holds_without_top_or_message_id() {
    let dir = tempfile::tempdir().unwrap();
    let maildrop = Arc::new(Mutex::new(Maildrop::default()));
    let port = support::fake_pop3::start(maildrop.clone());
    let data = fake_account(
        dir.path(),
        port,
        &["--delete-on-server-when-deleted", "yes"],
    );
    let count = || maildrop.lock().unwrap().messages.len();
    let anonymous = |subject: &str| {
        format!("From: a@example.test\r\nSubject: {subject}\r\n\r\nno Message-ID here\r\n")
            .into_bytes()
    };
    add(&maildrop, 0..2);
    maildrop
        .lock()
        .unwrap()
        .messages
        .push(("anon".into(), anonymous("first one")));
    let (ok, stderr) = sync(&data);
    assert!(ok, "{stderr}");

    // Without TOP the check is by the bytes (RETR and SHA-256).
    faults(
        &maildrop,
        Faults {
            no_top: true,
            ..Faults::default()
        },
    );
    maildrop.lock().unwrap().messages[1].1 = variant("fakeC@example.test", "fake1@example.test");
    let id = local_id(&data, "fake1@example.test");
    delete_here(&data, id);
    let (ok, stderr) = sync(&data);
    assert!(ok, "{stderr}");
    assert_eq!(count(), 3, "{stderr}");
    let (ok, stderr) = sync(&data);
    assert!(ok, "{stderr}");
    assert_eq!(
        local_ids(&data).get("fakeC@example.test"),
        Some(&1),
        "{stderr}"
    );

    // With TOP, but no Message-ID to compare: by the bytes too.
    faults(&maildrop, Faults::default());
    maildrop.lock().unwrap().messages[2].1 = anonymous("other one");
    let store = Store::open_dir(&data).unwrap();
    let inbox = store
        .find_folder(store.accounts().unwrap()[0].id, "INBOX")
        .unwrap();
    let anon = store
        .folder_page(inbox.id, tern::store::SortOrder::DateDesc, None, 100)
        .unwrap()
        .into_iter()
        .find(|row| row.subject == "first one")
        .unwrap()
        .id;
    drop(store);
    delete_here(&data, anon);
    let (ok, stderr) = sync(&data);
    assert!(ok, "{stderr}");
    assert_eq!(count(), 3, "{stderr}");

    // Where the check itself is refused (TOP listed but refused), RETR does it; the mail that
    // was deleted here and is still the same leaves the server.
    faults(
        &maildrop,
        Faults {
            refuse_top: true,
            ..Faults::default()
        },
    );
    let id = local_id(&data, "fake0@example.test");
    delete_here(&data, id);
    let (ok, stderr) = sync(&data);
    assert!(ok, "{stderr}");
    assert!(
        !maildrop.lock().unwrap().uidls().contains(&"u0".to_owned()),
        "{stderr}"
    );
}

#[test]
fn a_server_that_rewrites_or_cuts_mail_causes_no_duplicate_and_no_loss() {
    let dir = tempfile::tempdir().unwrap();
    let maildrop = Arc::new(Mutex::new(Maildrop::default()));
    let port = support::fake_pop3::start(maildrop.clone());
    let data = fake_account(dir.path(), port, &[]);
    add(&maildrop, 0..2);
    let (ok, stderr) = sync(&data);
    assert!(ok, "{stderr}");

    // An mbox server adds a Status: header once a message has been read: its size and bytes
    // change, its body does not. The same mail, so no second copy.
    {
        let mut m = maildrop.lock().unwrap();
        let old = m.messages[0].1.clone();
        m.messages[0].1 = [b"Status: RO\r\n".as_slice(), &old].concat();
    }
    let (ok, stderr) = sync(&data);
    assert!(ok, "{stderr}");
    assert!(stderr.contains("0 new messages"), "{stderr}");
    assert_eq!(
        local_ids(&data).get("fake0@example.test"),
        Some(&1),
        "{stderr}"
    );

    // A server that did not dot-stuff a lone dot: the message ends early and its tail comes as
    // the next answer. What was stored of it may be cut short, so it never leaves the server.
    let out = cli::tern(
        &data,
        &["account", "set", "fake", "--leave-on-server", "no"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    add(&maildrop, 2..3);
    faults(
        &maildrop,
        Faults {
            short_retr: Some(3),
            ..Faults::default()
        },
    );
    let (ok, stderr) = sync(&data);
    assert!(!ok, "{stderr}");
    assert!(stderr.contains("not a POP3 reply"), "{stderr}");
    faults(&maildrop, Faults::default());
    let (ok, stderr) = sync(&data);
    assert!(ok, "{stderr}");
    assert!(stderr.contains("may be cut short"), "{stderr}");
    assert_eq!(maildrop.lock().unwrap().uidls(), vec!["u2".to_owned()]);
    assert_eq!(local_ids(&data).values().sum::<usize>(), 3);
}

#[test]
fn a_message_the_server_never_sends_is_set_aside_and_shown_not_retried_for_ever() {
    let dir = tempfile::tempdir().unwrap();
    let maildrop = Arc::new(Mutex::new(Maildrop::default()));
    let port = support::fake_pop3::start(maildrop.clone());
    let data = fake_account(dir.path(), port, &["--leave-on-server", "no"]);
    add(&maildrop, 0..3);
    faults(
        &maildrop,
        Faults {
            stall_retr: Some(2),
            ..Faults::default()
        },
    );
    // Twice whole, twice headers only: each pass fails at message 2, after storing the rest.
    for _ in 0..4 {
        let (ok, stderr) = sync(&data);
        assert!(!ok, "{stderr}");
        assert!(stderr.contains("stalled"), "{stderr}");
    }
    let (ok, stderr) = sync(&data);
    assert!(ok, "{stderr}");
    assert!(stderr.contains("set aside"), "{stderr}");
    // The others are here and gone from the server; message 2 stays there, and the Inbox
    // says why.
    assert_eq!(maildrop.lock().unwrap().uidls(), vec!["u1".to_owned()]);
    let local = local_ids(&data);
    assert_eq!(local.len(), 2, "{local:?}");
    assert!(!local.contains_key("fake1@example.test"));
    let store = Store::open_dir(&data).unwrap();
    let account = store.accounts().unwrap()[0].id;
    let inbox = store.find_folder(account, "INBOX").unwrap();
    let error = inbox.sync_error.unwrap_or_default();
    assert!(
        error.contains("not downloaded") && error.contains("failed to send it"),
        "{error}"
    );
}

#[test]
fn the_rest_of_a_message_is_not_completed_from_a_broken_answer() {
    let dir = tempfile::tempdir().unwrap();
    let maildrop = Arc::new(Mutex::new(Maildrop::default()));
    let port = support::fake_pop3::start(maildrop.clone());
    let data = fake_account(
        dir.path(),
        port,
        &["--leave-on-server", "no", "--headers-only-over-kb", "1"],
    );
    let count = || maildrop.lock().unwrap().messages.len();
    let mut big = variant("big@example.test", "big");
    big.extend(std::iter::repeat_n(b"0123456789abcdef\r\n".as_slice(), 200).flatten());
    maildrop
        .lock()
        .unwrap()
        .messages
        .push(("big".into(), big.clone()));
    let (ok, stderr) = sync(&data);
    assert!(ok, "{stderr}");
    assert_eq!(
        count(),
        1,
        "headers only: the whole copy stays on the server"
    );

    // Opened while the server breaks its framing: refused, and still only headers here.
    faults(
        &maildrop,
        Faults {
            short_retr: Some(1),
            ..Faults::default()
        },
    );
    let id = local_id(&data, "big@example.test");
    let show = |data: &std::path::Path| {
        std::process::Command::new(env!("CARGO_BIN_EXE_tern"))
            .arg("--data-dir")
            .arg(data)
            .args(["show", "--raw", &id.to_string()])
            .env("TERN_TIMEOUT_SECS", "2")
            .output()
            .unwrap()
    };
    let out = show(&data);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("cut short"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    faults(&maildrop, Faults::default());
    let (ok, stderr) = sync(&data);
    assert!(ok, "{stderr}");
    assert_eq!(count(), 1, "{stderr}");

    // Opened again from a good server: whole, and then it may leave the server.
    let out = show(&data);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.stdout, big);
    let (ok, stderr) = sync(&data);
    assert!(ok, "{stderr}");
    assert_eq!(count(), 0, "{stderr}");
}

#[test]
fn a_new_server_with_the_same_uidls_gets_every_message_downloaded_after_a_reset() {
    let dir = tempfile::tempdir().unwrap();
    let old = Arc::new(Mutex::new(Maildrop::default()));
    let old_port = support::fake_pop3::start(old.clone());
    let data = fake_account(dir.path(), old_port, &[]);
    add(&old, 0..3);
    let (ok, stderr) = sync(&data);
    assert!(ok, "{stderr}");
    assert_eq!(local_ids(&data).len(), 3);

    // Another server whose UIDLs are u0, u1, u2 too, for other mail (and one message the old
    // server also had, which must not be stored twice).
    let new = Arc::new(Mutex::new(Maildrop::default()));
    let new_port = support::fake_pop3::start(new.clone());
    {
        let mut m = new.lock().unwrap();
        m.messages = vec![
            ("u0".into(), note("other0@example.test").into_bytes()),
            ("u1".into(), note("other1@example.test").into_bytes()),
            ("u2".into(), note("fake2@example.test").into_bytes()),
        ];
    }
    let incoming = format!("localhost:{new_port}");
    let out = support::cli::tern(
        &data,
        &[
            "account",
            "set",
            "fake",
            "--incoming",
            &incoming,
            "--reset-cache",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (ok, stderr) = sync(&data);
    assert!(ok, "{stderr}");
    let local = local_ids(&data);
    for id in [
        "fake0@example.test",
        "fake1@example.test",
        "fake2@example.test",
        "other0@example.test",
        "other1@example.test",
    ] {
        assert_eq!(local.get(id), Some(&1), "{id}: {local:?}");
    }
    assert_eq!(local.values().sum::<usize>(), 5, "{local:?}");
    // Nothing was deleted from either server (leave on server is the default).
    assert_eq!(old.lock().unwrap().messages.len(), 3);
    assert_eq!(new.lock().unwrap().messages.len(), 3);
}
