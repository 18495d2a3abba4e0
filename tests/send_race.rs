//! Two Tern processes on one data directory (the window's engine and `tern sync`) race over one
//! account's outbox: every message is delivered exactly once, counted at the recipient through
//! IMAP, and every Sent copy is uploaded exactly once.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod support;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use support::MailServers;
use support::cli::{add_imap_account, tern};
use support::mailbox;

#[test]
fn the_window_and_tern_sync_never_send_a_message_twice() {
    let servers = MailServers::start();
    let (alice, bob) = (&servers.alice, &servers.bob);
    let data = servers.dir().join("alice-data");
    add_imap_account(&servers, &data, alice, servers.ports.imaps, &[]);
    let out = tern(&data, &["sync"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let store = tern::store::Store::open_dir(&data).unwrap();
    let account = store.find_account("alice").unwrap();
    const N: usize = 20;
    for i in 0..N {
        let draft = tern::mail::compose::Draft {
            to: vec![bob.address.clone()],
            subject: format!("race {i}"),
            text: format!("message {i} of the race\n"),
            ..Default::default()
        };
        tern::engine::send::queue_message(&store, &account, &draft, None, None).unwrap();
    }

    // The window's engine starts sending...
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
        tern::account::credentials::Secret::new(alice.password.clone()),
        command_rx,
        event_tx,
    ));
    runtime.spawn(async move { while event_rx.recv().await.is_some() {} });
    // ...and so do two `tern sync` processes, at the same moment.
    let syncs: Vec<std::process::Child> = (0..2)
        .map(|_| {
            std::process::Command::new(env!("CARGO_BIN_EXE_tern"))
                .arg("--data-dir")
                .arg(&data)
                .arg("sync")
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();

    let deadline = Instant::now() + Duration::from_secs(90);
    while !store.outbox(Some(account.id)).unwrap().is_empty() {
        assert!(
            Instant::now() < deadline,
            "the outbox did not empty: {:?}",
            store.outbox(Some(account.id)).unwrap()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    for child in syncs {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // Every Sent copy uploaded (by whichever process replayed), then a quiet moment.
    let deadline = Instant::now() + Duration::from_secs(60);
    while mailbox::count(&servers, alice, "Sent") < N {
        assert!(
            Instant::now() < deadline,
            "the Sent copies were not uploaded"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    mailbox::wait_for(&servers, bob, "INBOX", N);
    std::thread::sleep(Duration::from_secs(3));

    let got = mailbox::messages(&servers, bob, "INBOX");
    assert_eq!(got.len(), N, "each message is delivered exactly once");
    let subjects: HashSet<String> = got
        .iter()
        .map(|(raw, _)| {
            let text = String::from_utf8_lossy(raw);
            text.lines()
                .find_map(|l| l.strip_prefix("Subject: ").map(str::to_owned))
                .unwrap()
        })
        .collect();
    assert_eq!(subjects.len(), N, "{subjects:?}");
    assert_eq!(
        mailbox::count(&servers, alice, "Sent"),
        N,
        "one Sent copy each"
    );
    // Nothing was taken for uncertain along the way.
    assert!(store.outbox(Some(account.id)).unwrap().is_empty());

    runtime
        .block_on(command_tx.send(tern::engine::Command::Shutdown))
        .unwrap();
    runtime.block_on(engine).unwrap();
    let out = tern(&data, &["sync"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    mailbox::assert_mirrors(&servers, alice, &data, &["Sent", "INBOX"], "after the race");
}

/// A send that takes longer than the lease lasts (the server is slow to say 250): a second
/// process in the meantime neither takes the message for uncertain nor sends it again.
#[test]
fn a_slow_send_keeps_its_lease_and_no_one_else_touches_it() {
    let servers = MailServers::start();
    let alice = &servers.alice;
    let (smtp, log) = support::fake_smtp::start(vec![support::fake_smtp::AfterDot::Delay(6)]);
    let data = servers.dir().join("alice-data");
    add_imap_account(&servers, &data, alice, servers.ports.imaps, &[]);
    support::cli::use_plain_smtp(&data, smtp);
    let store = tern::store::Store::open_dir(&data).unwrap();
    let account = store.find_account("alice").unwrap();
    let draft = tern::mail::compose::Draft {
        to: vec![servers.bob.address.clone()],
        subject: "slow".into(),
        text: "the server takes its time\n".into(),
        ..Default::default()
    };
    let id = tern::engine::send::queue_message(&store, &account, &draft, None, None).unwrap();
    // Leases last 2 s here (TERN_TIMEOUT_SECS); the server answers after 6.
    let sync = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_tern"))
            .arg("--data-dir")
            .arg(&data)
            .arg("sync")
            .env("TERN_TIMEOUT_SECS", "2")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let first = sync();
    let deadline = Instant::now() + Duration::from_secs(30);
    while log.lock().unwrap().messages.is_empty() {
        assert!(
            Instant::now() < deadline,
            "the message never reached the server"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_secs(3));
    let second = sync().wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&second.stderr);
    assert!(err.contains("another Tern process is sending"), "{err}");
    assert_eq!(
        store.outbox_row(id).unwrap().state,
        "sending",
        "the other process left it alone"
    );
    let first = first.wait_with_output().unwrap();
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert!(store.outbox_row(id).is_err(), "sent and filed");
    assert_eq!(log.lock().unwrap().messages.len(), 1, "sent once");
}
