//! `kill -9` at random moments (the reliability suite): `tern sync` of an IMAP account (bodies
//! downloaded) and of a POP3 account (mail not left on the server), and `tern send` with a full
//! outbox, each killed `TERN_KILLS` times (default 100; `TERN_LONG=1`: 1,000) while another
//! client keeps changing the mailbox. After each kill the database passes
//! `PRAGMA integrity_check`, and a clean run completes the work: the cache equals the server
//! UID by UID, POP3 mail is stored exactly once, and nothing acknowledged is sent twice. And
//! Tern syncs while another client files, flags, moves and expunges without a pause; once it
//! stops, one pass leaves the cache equal to the server (`TERN_PASSES`, default 30).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use crate::support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::{Duration, Instant};

use support::MailServers;
use support::corpus::Rng;
use support::mailbox::{assert_mirrors, login};
use support::trials::{
    ENV, append, assert_bodies, assert_pop3_stored_once, assert_pop3_union, assert_server_holds,
    count, message, phone_acts, run, seed, seeded_imap_account, settled_subjects, subjects,
    tern_acts,
};

/// How often a message may arrive at its recipient.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    Once,
    /// Its outcome is unknown (killed between the final dot and the reply): never resent.
    AtMostOnce,
    /// Killed before it was queued.
    Never,
}

fn kills() -> usize {
    count("TERN_KILLS", 100, 1000)
}

/// Starts `tern ARGS` (with `stdin`) and SIGKILLs it after `after`. Returns whether it was still
/// running then, and how long it ran.
fn run_and_kill(data: &Path, args: &[&str], stdin: &str, after: Duration) -> (bool, Duration) {
    use std::io::Write as _;
    let started = Instant::now();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_tern"))
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .envs(ENV.iter().copied())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let _ = child.stdin.take().unwrap().write_all(stdin.as_bytes());
    let mut finished = false;
    while started.elapsed() < after {
        if child.try_wait().unwrap().is_some() {
            finished = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    let _ = child.kill(); // SIGKILL
    child.wait().unwrap();
    (!finished, started.elapsed())
}

/// The database after a kill: SQLite's own check passes.
fn assert_intact(data: &Path, when: &str) {
    let db = rusqlite::Connection::open(data.join("tern.db")).unwrap();
    let check: String = db
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok", "{when}: integrity_check");
}

/// A clean run that must succeed; returns how long it took.
fn clean(data: &Path, args: &[&str], when: &str) -> Duration {
    let out = run(data, args, "");
    assert!(
        out.output.status.success() && !out.panicked(),
        "{when}: the clean run failed:\n{}",
        out.stderr()
    );
    out.took
}

fn report(what: &str, kills: usize, killed: usize, extra: &str) {
    assert!(
        killed * 3 >= kills,
        "{what}: only {killed} of {kills} kills landed while tern ran"
    );
    eprintln!(
        "{what}: {kills} kills (seed {}), {killed} landed while it ran{extra}; lost 0, duplicates 0, integrity ok",
        seed()
    );
}

#[test]
fn imap_sync_killed_at_random_moments() {
    let servers = MailServers::start();
    let bob = &servers.bob;
    let data = servers.dir().join("tern-data");
    let mut alive = seeded_imap_account(&servers, &data, servers.ports.imaps);
    let mut rng = Rng::new(seed() ^ 0x4b11);
    let mut span = clean(&data, &["sync"], "imap first sync");
    let mut killed = 0;
    for trial in 1..=kills() {
        let when = format!("imap kill {trial} (TERN_SEED={})", seed());
        // More work than one change, so the kill can land in each part of a pass.
        for k in 0..3 {
            phone_acts(&servers, &mut rng, trial * 10 + k, &mut alive);
        }
        tern_acts(&data, &mut rng);
        let after = Duration::from_micros(rng.below(span.as_micros() as u64));
        let (landed, ran) = run_and_kill(&data, &["sync"], "", after);
        killed += usize::from(landed);
        assert_intact(&data, &when);
        span = ran + clean(&data, &["sync"], &when);
        assert_mirrors(&servers, bob, &data, &["INBOX", "Work"], &when);
        assert_server_holds(&servers, &alive, &when);
        assert_bodies(&data, &when);
    }
    report("imap sync", kills(), killed, "");
}

#[test]
fn pop3_download_killed_at_random_moments() {
    let servers = MailServers::start();
    let bob = &servers.bob;
    let data = servers.dir().join("tern-data");
    support::cli::add_pop3_account(
        &servers,
        &data,
        bob,
        servers.ports.pop3s,
        "tls",
        &["--leave-on-server", "no"],
    );
    let mut rng = Rng::new(seed() ^ 0x4b12);
    let mut delivered: Vec<String> = Vec::new();
    let mut span = clean(&data, &["sync"], "pop3 first sync");
    let mut killed = 0;
    for trial in 1..=kills() {
        let when = format!("pop3 kill {trial} (TERN_SEED={})", seed());
        for j in 0..=rng.below(4) {
            let id = format!("k{trial}-{j}");
            support::mailbox::deliver_lmtp(&servers, bob, &message(&id, rng.below(200) as usize));
            delivered.push(format!("{id}@example.test"));
        }
        let after = Duration::from_micros(rng.below(span.as_micros() as u64));
        let (landed, ran) = run_and_kill(&data, &["sync"], "", after);
        killed += usize::from(landed);
        assert_intact(&data, &when);
        assert_pop3_union(&servers, &data, &delivered, &when);
        span = ran + clean(&data, &["sync"], &when);
        let left = assert_pop3_stored_once(&servers, &data, &delivered, &when);
        assert!(left.is_empty(), "{when}: left on the server: {left:?}");
    }
    report("pop3 download", kills(), killed, "");
}

#[test]
fn send_with_a_full_outbox_killed_at_random_moments() {
    let servers = MailServers::start();
    let bob = &servers.bob;
    let carol = &servers.carol;
    let data = servers.dir().join("tern-data");
    support::cli::add_imap_account(&servers, &data, bob, servers.ports.imaps, &[]);
    let mut rng = Rng::new(seed() ^ 0x4b13);
    let to = carol.address.as_str();
    let mut span = Duration::from_millis(500);
    let mut killed = 0;
    let mut unknown = 0;
    // Subject → how often it may arrive.
    let mut outcome: BTreeMap<String, Expect> = BTreeMap::new();
    for trial in 1..=kills() {
        let when = format!("send kill {trial} (TERN_SEED={})", seed());
        // Two queued, then a send that sends the whole outbox, killed.
        for q in 0..2 {
            let subject = format!("k{trial}-q{q}");
            let args = [
                "send",
                "--account",
                "bob",
                "--to",
                to,
                "--subject",
                &subject,
                "--queue",
            ];
            let out = run(&data, &args, "queued for later\n");
            assert!(out.output.status.success(), "{when}: {}", out.stderr());
            outcome.insert(subject, Expect::Once);
        }
        let subject = format!("k{trial}-now");
        let body = "sent at once\n".repeat(1 + rng.below(2000) as usize);
        let after = Duration::from_micros(rng.below(span.as_micros() as u64));
        let args = [
            "send",
            "--account",
            "bob",
            "--to",
            to,
            "--subject",
            &subject,
        ];
        let (landed, ran) = run_and_kill(&data, &args, &body, after);
        killed += usize::from(landed);
        assert_intact(&data, &when);
        // Killed before the message reached the outbox, it was never sent; once there (or
        // done: its Sent copy is cached), it goes out once.
        let db = rusqlite::Connection::open(data.join("tern.db")).unwrap();
        let held = |sql: &str| -> bool {
            db.query_row(sql, [&subject], |r| r.get::<_, i64>(0))
                .unwrap()
                > 0
        };
        let reached = !landed
            || held("SELECT count(*) FROM outbox WHERE subject = ?1")
            || held("SELECT count(*) FROM message WHERE subject = ?1");
        outcome.insert(
            subject.clone(),
            if reached { Expect::Once } else { Expect::Never },
        );
        span = ran + clean(&data, &["sync"], &when);
        let states: Vec<(String, String)> = db
            .prepare("SELECT subject, state FROM outbox")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        for (s, state) in &states {
            match state.as_str() {
                "unknown" => {
                    if outcome.insert(s.clone(), Expect::AtMostOnce) != Some(Expect::AtMostOnce) {
                        unknown += 1;
                    }
                }
                other => panic!("{when}: {s} left in the outbox as {other}: {states:?}"),
            }
        }
    }
    report(
        "send",
        kills(),
        killed,
        &format!(", {unknown} messages of unknown outcome"),
    );
    let expected: Vec<&String> = outcome
        .iter()
        .filter(|(_, e)| **e == Expect::Once)
        .map(|(s, _)| s)
        .collect();
    let got = settled_subjects(&servers, carol, "INBOX", &expected);
    let sent = subjects(&servers, bob, "Sent");
    for (subject, expect) in &outcome {
        let n = got.get(subject).copied().unwrap_or(0);
        let copies = sent.get(subject).copied().unwrap_or(0);
        match expect {
            Expect::Once => {
                assert_eq!(n, 1, "{subject}: sent, delivered {n} times");
                assert_eq!(copies, 1, "{subject}: its Sent copies");
            }
            Expect::AtMostOnce => {
                assert!(n <= 1, "{subject}: of unknown outcome, delivered {n} times")
            }
            Expect::Never => assert_eq!(n, 0, "{subject}: never queued, delivered {n} times"),
        }
    }
    let stray: Vec<_> = got.keys().filter(|s| !outcome.contains_key(*s)).collect();
    assert!(stray.is_empty(), "delivered but never queued: {stray:?}");
}

#[test]
fn another_client_acting_during_syncs_leaves_the_cache_equal_to_the_server() {
    let servers = MailServers::start();
    let bob = &servers.bob;
    let data = servers.dir().join("tern-data");
    let mut alive = seeded_imap_account(&servers, &data, servers.ports.imaps);
    clean(&data, &["sync"], "first sync");
    let stop = std::sync::atomic::AtomicBool::new(false);
    let passes = count("TERN_PASSES", 30, 300);
    let (stop, phone_servers) = (&stop, &servers);
    let (alive, failed) = std::thread::scope(|scope| {
        // The phone: files, flags, moves and expunges without a pause, while Tern syncs.
        let phone = scope.spawn(move || {
            let servers = phone_servers;
            let mut rng = Rng::new(seed() ^ 0x9407);
            let mut turn = 0;
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                turn += 1;
                phone_acts(servers, &mut rng, 100_000 + turn, &mut alive);
            }
            (alive, turn)
        });
        let mut rng = Rng::new(seed() ^ 0x7e27);
        let mut failed = 0;
        for _ in 0..passes {
            tern_acts(&data, &mut rng);
            let out = run(&data, &["sync"], "");
            assert!(!out.panicked(), "{}", out.stderr());
            failed += usize::from(!out.output.status.success());
        }
        stop.store(true, std::sync::atomic::Ordering::SeqCst);
        let (alive, turns) = phone.join().unwrap();
        eprintln!("{passes} passes while the phone took {turns} turns; {failed} passes failed");
        (alive, failed)
    });
    // Once the phone is still, one pass settles everything.
    clean(&data, &["sync"], "the settling pass");
    let when = format!("after {passes} passes beside a busy phone ({failed} failed)");
    assert_mirrors(&servers, bob, &data, &["INBOX", "Work"], &when);
    assert_server_holds(&servers, &alive, &when);
    assert_bodies(&data, &when);
}

#[test]
fn an_offline_move_of_a_message_another_client_expunged_leaves_no_phantom() {
    let servers = MailServers::start();
    let bob = &servers.bob;
    let data = servers.dir().join("tern-data");
    support::cli::add_imap_account(&servers, &data, bob, servers.ports.imaps, &[]);
    let mut c = login(&servers, bob);
    c.imap_ok("c", "CREATE Work");
    for id in ["stays", "goes"] {
        append(&mut c, "INBOX", &message(id, 3));
    }
    clean(&data, &["sync"], "first sync");
    let db = rusqlite::Connection::open(data.join("tern.db")).unwrap();
    let goes: i64 = db
        .query_row("SELECT id FROM message WHERE subject = 'goes'", [], |r| {
            r.get(0)
        })
        .unwrap();
    drop(db);
    let out = run(&data, &["move", &goes.to_string(), "Work", "--offline"], "");
    assert!(out.output.status.success(), "{}", out.stderr());
    // The phone expunges it before Tern's move reaches the server.
    let inbox = c.imap_ok("s", "SELECT INBOX");
    drop(inbox);
    c.imap_ok("d", "UID STORE 2 +FLAGS.SILENT (\\Deleted)");
    c.imap_ok("e", "UID EXPUNGE 2");
    c.imap_ok("z", "LOGOUT");
    run(&data, &["sync"], "");
    let alive: BTreeSet<String> = ["stays".to_owned()].into();
    assert_mirrors(&servers, bob, &data, &["INBOX", "Work"], "after the move");
    assert_server_holds(&servers, &alive, "after the move");
    let queue = run(&data, &["queue", "--json"], "");
    let queue: serde_json::Value = serde_json::from_slice(&queue.output.stdout).unwrap();
    let error = queue[0]["error"].as_str().unwrap_or_default().to_owned();
    assert!(error.contains("no longer in INBOX"), "{queue}");
}
