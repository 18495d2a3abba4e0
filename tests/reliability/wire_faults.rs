//! Seeded random cut points on the wire (the reliability suite): IMAP sync, POP3 download and
//! SMTP send run through a fault-injecting proxy against the real Dovecot and Postfix, each
//! trial cut once at a random byte in a random direction, then a clean pass; after each trial
//! the cache is compared with the server, and at the end every sent message is counted where
//! it was delivered. Another client acts on the mailbox between trials.
//!
//! `TERN_TRIALS=N` sets the trials per protocol (default 200; `TERN_LONG=1`: 2,000) and
//! `TERN_SEED=N` the seed (a failure names both, to replay it).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use crate::support;

use std::collections::BTreeMap;
use std::time::Duration;

use support::MailServers;
use support::corpus::Rng;
use support::mailbox::{assert_mirrors, login};
use support::pop3_cli::local_ids;
use support::trials::{
    Tally, append, assert_bodies, assert_pop3_stored_once, assert_pop3_union, assert_server_holds,
    clean, cut_plan, message, phone_acts, run, seed, seeded_imap_account, settled_subjects,
    subjects, tern_acts, trials,
};
use support::wire::{Plan, wire_proxy};

#[test]
fn imap_sync_through_random_cuts_loses_and_doubles_nothing() {
    let servers = MailServers::start();
    let bob = &servers.bob;
    let (port, wire) = wire_proxy(servers.ports.imaps);
    let data = servers.dir().join("tern-data");
    let mut alive = seeded_imap_account(&servers, &data, port);
    let sync = ["sync"];
    clean(&data, &wire, &sync, "imap", 0);

    let mut rng = Rng::new(seed());
    let mut tally = Tally::default();
    let mut pass = (0, 0);
    for trial in 1..=trials() {
        phone_acts(&servers, &mut rng, trial, &mut alive);
        tern_acts(&data, &mut rng);
        if pass == (0, 0) {
            // The first trial measures a whole pass with work to do.
            pass = clean(&data, &wire, &sync, "imap", trial);
            continue;
        }
        wire.start(cut_plan(&mut rng, pass));
        let cut = run(&data, &sync, "");
        tally.record(&cut, &wire, "imap", trial);
        let (up, down) = wire.bytes();
        let (clean_up, clean_down) = clean(&data, &wire, &sync, "imap", trial);
        // What this trial's pass sent in all: the range of the next cut point.
        pass = (up + clean_up, down + clean_down);
        let when = format!("imap trial {trial} (TERN_SEED={})", seed());
        assert_mirrors(&servers, bob, &data, &["INBOX", "Work"], &when);
        assert_server_holds(&servers, &alive, &when);
        assert_bodies(&data, &when);
    }
    tally.report("imap sync");
}

#[test]
fn pop3_download_through_random_cuts_loses_and_doubles_nothing() {
    let servers = MailServers::start();
    let bob = &servers.bob;
    let (port, wire) = wire_proxy(servers.ports.pop3s);
    let data = servers.dir().join("tern-data");
    support::cli::add_pop3_account(
        &servers,
        &data,
        bob,
        port,
        "tls",
        &["--leave-on-server", "no"],
    );
    let sync = ["sync"];
    let mut rng = Rng::new(seed() ^ 0x9093);
    let mut tally = Tally::default();
    let mut delivered: Vec<String> = Vec::new();
    let mut pass = (0, 0);
    let total = trials();
    for trial in 1..=total {
        if trial == total / 2 + 1 {
            // The second half leaves mail on the server: nothing may come down twice.
            let out = run(
                &data,
                &["account", "set", "bob", "--leave-on-server", "yes"],
                "",
            );
            assert!(out.output.status.success(), "{}", out.stderr());
        }
        let leave = trial > total / 2;
        for j in 0..=rng.below(2) {
            let id = format!("p{trial}-{j}");
            support::mailbox::deliver_lmtp(&servers, bob, &message(&id, rng.below(60) as usize));
            delivered.push(format!("{id}@example.test"));
        }
        let when = format!("pop3 trial {trial} (TERN_SEED={})", seed());
        if pass == (0, 0) {
            pass = clean(&data, &wire, &sync, "pop3", trial);
            continue;
        }
        wire.start(cut_plan(&mut rng, pass));
        let cut = run(&data, &sync, "");
        tally.record(&cut, &wire, "pop3", trial);
        let (up, down) = wire.bytes();
        // After the cut: nothing stored twice, nothing gone from both places.
        let when_cut = format!("{when}, after the cut");
        assert_pop3_union(&servers, &data, &delivered, &when_cut);
        let (clean_up, clean_down) = clean(&data, &wire, &sync, "pop3", trial);
        pass = (up + clean_up, down + clean_down);
        let server = assert_pop3_stored_once(&servers, &data, &delivered, &when);
        if !leave {
            assert!(server.is_empty(), "{when}: left on the server: {server:?}");
        }
    }
    tally.report("pop3 download");
}

#[test]
fn smtp_send_through_random_cuts_never_sends_twice() {
    let servers = MailServers::start();
    let bob = &servers.bob;
    let carol = &servers.carol;
    let (port, wire) = wire_proxy(servers.ports.submission);
    let (tls_port, tls_wire) = wire_proxy(servers.ports.submissions);
    let data = servers.dir().join("tern-data");
    support::cli::add_imap_account(&servers, &data, bob, servers.ports.imaps, &[]);
    let out = run(
        &data,
        &[
            "account",
            "set",
            "bob",
            "--outgoing",
            &format!("127.0.0.1:{port}"),
            "--outgoing-security",
            "starttls",
        ],
        "",
    );
    assert!(out.output.status.success(), "{}", out.stderr());
    let mut wire = wire;
    let mut rng = Rng::new(seed() ^ 0x5319);
    let mut tally = Tally::default();
    // Subject → whether the server acknowledged it to Tern (exit 0 or sent by the clean pass).
    let mut acknowledged: BTreeMap<String, bool> = BTreeMap::new();
    let mut pass = (0, 0);
    let total = trials();
    for trial in 1..=total {
        if trial == total / 2 + 1 {
            // The second half over implicit TLS (465).
            let out = run(
                &data,
                &[
                    "account",
                    "set",
                    "bob",
                    "--outgoing",
                    &format!("127.0.0.1:{tls_port}"),
                    "--outgoing-security",
                    "tls",
                ],
                "",
            );
            assert!(out.output.status.success(), "{}", out.stderr());
            wire = tls_wire.clone();
            pass = (0, 0);
        }
        let subject = format!("trial-{trial}");
        let args = [
            "send",
            "--account",
            "bob",
            "--to",
            &carol.address,
            "--subject",
            &subject,
        ];
        let body = format!(
            "{}\n",
            "a line of the body. ".repeat(1 + rng.below(200) as usize)
        );
        if pass == (0, 0) {
            wire.start(Plan::default());
            let out = run(&data, &args, &body);
            assert!(out.output.status.success(), "{}", out.stderr());
            pass = wire.bytes();
            acknowledged.insert(subject, true);
            continue;
        }
        wire.start(cut_plan(&mut rng, pass));
        let cut = run(&data, &args, &body);
        tally.record(&cut, &wire, "smtp", trial);
        let (up, down) = wire.bytes();
        // A queued retry waits for its backoff; the test does not.
        let db = rusqlite::Connection::open(data.join("tern.db")).unwrap();
        db.execute(
            "UPDATE outbox SET next_attempt_at = 0 WHERE state = 'queued'",
            [],
        )
        .unwrap();
        let (clean_up, clean_down) = clean(&data, &wire, &["sync"], "smtp", trial);
        pass = (up + clean_up, down + clean_down);
        let states: Vec<(String, String)> = db
            .prepare("SELECT subject, state FROM outbox")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        let when = format!("smtp trial {trial} (TERN_SEED={})", seed());
        let mine = states.iter().find(|(s, _)| *s == subject);
        match mine.map(|(_, state)| state.as_str()) {
            None => {
                acknowledged.insert(subject, true);
            }
            Some("unknown") => {
                assert!(
                    !cut.output.status.success(),
                    "{when}: exit 0 for an unknown outcome"
                );
                tally.unknown += 1;
                acknowledged.insert(subject, false);
            }
            Some(state) => panic!("{when}: left in the outbox as {state}: {states:?}"),
        }
    }
    tally.report("smtp send");

    // Every acknowledged message arrives exactly once, with one copy in Sent; one of unknown
    // outcome at most once.
    let expected: Vec<&String> = acknowledged
        .iter()
        .filter(|(_, a)| **a)
        .map(|(s, _)| s)
        .collect();
    let got = settled_subjects(&servers, carol, "INBOX", &expected);
    let sent = subjects(&servers, bob, "Sent");
    for (subject, acked) in &acknowledged {
        let n = got.get(subject).copied().unwrap_or(0);
        if *acked {
            assert_eq!(n, 1, "{subject}: acknowledged, delivered {n} times");
            assert_eq!(
                sent.get(subject).copied(),
                Some(1),
                "{subject}: its Sent copies"
            );
        } else {
            assert!(n <= 1, "{subject}: of unknown outcome, delivered {n} times");
        }
    }
    assert_eq!(
        got.len(),
        got.values().sum::<usize>(),
        "duplicates in {got:?}"
    );
}

/// Runs `args` with the wire stalled by `plan`: the run must end non-zero within `bound`, with
/// an error that says the server stopped answering.
fn assert_stall_reported(
    data: &std::path::Path,
    wire: &support::wire::Wire,
    plan: Plan,
    args: &[&str],
    bound: Duration,
    what: &str,
) {
    wire.start(plan);
    // A short stall limit here: these runs wait for it.
    let out = support::cli::tern_bounded(
        data,
        args,
        &[("TERN_TIMEOUT_SECS", "3")],
        "a body\n",
        support::trials::LIMIT,
    );
    let err = out.stderr();
    assert!(!out.panicked(), "{what}: panicked:\n{err}");
    assert!(wire.fired(), "{what}: the run ended before the stall point");
    assert!(
        !out.output.status.success(),
        "{what}: a stalled run reported success"
    );
    assert!(
        out.took < bound,
        "{what}: took {:?} to notice the stall:\n{err}",
        out.took
    );
    let lower = err.to_lowercase();
    let words = [
        "stalled",
        "no greeting",
        "no answer",
        "trickling",
        "no data",
        "stopped",
        "within",
    ];
    assert!(
        words.iter().any(|w| lower.contains(w)),
        "{what}: the error does not say the server stopped answering:\n{err}"
    );
    eprintln!("{what}: {:?}: {}", out.took, err.trim());
}

#[test]
fn stalls_end_in_a_timeout_error_and_slow_wires_change_nothing() {
    use support::wire::Dir;
    let servers = MailServers::start();
    let bob = &servers.bob;
    let (imap_port, imap_wire) = wire_proxy(servers.ports.imaps);
    let (pop_port, pop_wire) = wire_proxy(servers.ports.pop3);
    let (smtp_port, smtp_wire) = wire_proxy(servers.ports.submission);
    let imap = servers.dir().join("imap-data");
    support::cli::add_imap_account(&servers, &imap, bob, imap_port, &["--download-bodies"]);
    let out = run(
        &imap,
        &[
            "account",
            "set",
            "bob",
            "--outgoing",
            &format!("127.0.0.1:{smtp_port}"),
            "--outgoing-security",
            "starttls",
        ],
        "",
    );
    assert!(out.output.status.success(), "{}", out.stderr());
    let pop = servers.dir().join("pop-data");
    support::cli::add_pop3_account(&servers, &pop, bob, pop_port, "starttls", &[]);
    let mut c = login(&servers, bob);
    for i in 0..5 {
        append(&mut c, "INBOX", &message(&format!("stall{i}"), 50));
    }
    c.imap_ok("z", "LOGOUT");
    let sync = ["sync"];
    // What a pass with nothing new sends: the stalls fall inside one.
    clean(&imap, &imap_wire, &sync, "imap", 0);
    clean(&pop, &pop_wire, &sync, "pop3", 0);
    let imap_pass = clean(&imap, &imap_wire, &sync, "imap", 0);
    let pop_pass = clean(&pop, &pop_wire, &sync, "pop3", 0);
    let send = [
        "send",
        "--account",
        "bob",
        "--to",
        servers.carol.address.as_str(),
        "--subject",
        "stall",
    ];
    smtp_wire.start(Plan::default());
    let out = run(&imap, &send, "a body\n");
    assert!(out.output.status.success(), "{}", out.stderr());
    let smtp_pass = smtp_wire.bytes();

    let bound = Duration::from_secs(60);
    let stall = |dir, at| Plan {
        stall: Some((dir, at)),
        ..Plan::default()
    };
    for (name, data, wire, pass, args) in [
        ("imap", &imap, &imap_wire, imap_pass, &sync[..]),
        ("pop3", &pop, &pop_wire, pop_pass, &sync[..]),
        ("smtp", &imap, &smtp_wire, smtp_pass, &send[..]),
    ] {
        for (dir, at) in [
            (Dir::Down, 0),
            (Dir::Down, pass.1 / 3),
            (Dir::Down, pass.1 * 2 / 3),
            (Dir::Up, pass.0 / 2),
        ] {
            let what = format!("{name} stalled {dir:?} after {at} bytes");
            assert_stall_reported(data, wire, stall(dir, at), args, bound, &what);
        }
    }

    // One byte per write with latency: slow, but the same result.
    let slow = Plan {
        one_byte_chunks: true,
        latency: Duration::from_millis(1),
        ..Plan::default()
    };
    let mut c = login(&servers, bob);
    for i in 0..3 {
        append(&mut c, "INBOX", &message(&format!("slow{i}"), 100));
    }
    c.imap_ok("z", "LOGOUT");
    // (The IMAP pass also sends what the SMTP stalls left in the outbox.)
    smtp_wire.start(slow);
    for (name, data, wire) in [("imap", &imap, &imap_wire), ("pop3", &pop, &pop_wire)] {
        wire.start(slow);
        let out = run(data, &sync, "");
        assert!(
            out.output.status.success(),
            "{name} over a slow wire: {}",
            out.stderr()
        );
        if name == "imap" {
            // (Before the POP3 pass, whose RETR marks the messages seen.)
            assert_mirrors(&servers, bob, &imap, &["INBOX"], "after the slow pass");
            assert_bodies(&imap, "after the slow pass");
        }
    }
    let local = local_ids(&pop);
    for i in (0..5)
        .map(|i| format!("stall{i}"))
        .chain((0..3).map(|i| format!("slow{i}")))
    {
        assert_eq!(
            local.get(&format!("{i}@example.test")),
            Some(&1),
            "{i} in the POP3 store"
        );
    }
    smtp_wire.start(slow);
    let out = run(&imap, &send, "sent over a slow wire\n");
    assert!(
        out.output.status.success(),
        "smtp over a slow wire: {}",
        out.stderr()
    );
}
