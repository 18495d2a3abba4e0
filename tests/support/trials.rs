//! Shared pieces of the reliability trials (`wire_faults.rs`, `crash_trials.rs`): how many
//! trials and which seed, bounded `tern` runs, the other client's turn, Tern's offline turn,
//! and the checks that compare the cache and the server after each trial.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Duration;

use super::cli::{Bounded, tern_bounded};
use super::corpus::Rng;
use super::mailbox::{login, pop3_listing};
use super::pop3_cli::local_ids;
use super::raw::LineClient;
use super::wire::{Dir, Plan, Wire};
use super::{MailServers, User};

/// The stall limit every trial run has (`TERN_TIMEOUT_SECS`; cuts end connections at once, so
/// no trial waits for it), and how long a run may take at most.
pub const ENV: &[(&str, &str)] = &[("TERN_TIMEOUT_SECS", "20")];
pub const LIMIT: Duration = Duration::from_secs(90);

/// `var` if set, else `long` with `TERN_LONG=1`, else `ci`.
pub fn count(var: &str, ci: usize, long: usize) -> usize {
    if let Some(n) = std::env::var(var).ok().and_then(|n| n.parse().ok()) {
        n
    } else if std::env::var("TERN_LONG").as_deref() == Ok("1") {
        long
    } else {
        ci
    }
}

/// Cut points per protocol: `TERN_TRIALS`, 200 in CI, 2,000 in the long mode.
pub fn trials() -> usize {
    count("TERN_TRIALS", 200, 2000)
}

/// The seed of every trial sequence: `TERN_SEED` (a failure names it, to replay it).
pub fn seed() -> u64 {
    std::env::var("TERN_SEED")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(16)
}

/// Whether a one-in-`n` chance came up.
pub fn one_in(rng: &mut Rng, n: u64) -> bool {
    rng.below(n) == 0
}

/// Picks a direction and a byte within the bytes a whole pass sends that way.
pub fn cut_plan(rng: &mut Rng, pass: (u64, u64)) -> Plan {
    let (dir, size) = if one_in(rng, 2) {
        (Dir::Up, pass.0)
    } else {
        (Dir::Down, pass.1)
    };
    Plan {
        cut: Some((dir, rng.below(size.max(1)))),
        ..Plan::default()
    }
}

/// What a protocol's trials saw: the figures the suite reports.
#[derive(Debug, Default)]
pub struct Tally {
    pub trials: usize,
    /// Trials whose cut point fell inside the pass (the others ran whole).
    pub cut: usize,
    /// Cut passes that exited non-zero (they said what failed).
    pub failed: usize,
    /// SMTP: messages whose outcome the client could not know (cut after the final dot).
    pub unknown: usize,
    pub longest: Duration,
}

impl Tally {
    pub fn record(&mut self, run: &Bounded, wire: &Wire, what: &str, trial: usize) {
        assert!(
            !run.panicked(),
            "{what} trial {trial} (TERN_SEED={}): tern panicked:\n{}",
            seed(),
            run.stderr()
        );
        self.trials += 1;
        self.cut += usize::from(wire.fired());
        self.failed += usize::from(!run.output.status.success());
        self.longest = self.longest.max(run.took);
    }

    /// Prints the figures, and fails when too few cut points fell inside a pass for the
    /// trials to mean much.
    pub fn report(&self, what: &str) {
        assert!(
            self.cut * 3 >= self.trials,
            "{what}: only {} of {} cuts fell inside a pass",
            self.cut,
            self.trials
        );
        eprintln!(
            "{what}: {} trials (seed {}), {} cut inside the pass, {} of them exited non-zero, {} unknown outcomes; lost 0, duplicates 0, panics 0; longest run {:?}",
            self.trials,
            seed(),
            self.cut,
            self.failed,
            self.unknown,
            self.longest
        );
    }
}

/// Runs `tern ARGS` with the suite's limits.
pub fn run(data: &Path, args: &[&str], stdin: &str) -> Bounded {
    tern_bounded(data, args, ENV, stdin, LIMIT)
}

/// A clean pass (no fault) that must succeed.
pub fn clean(data: &Path, wire: &Wire, args: &[&str], what: &str, trial: usize) -> (u64, u64) {
    wire.start(Plan::default());
    let out = run(data, args, "");
    assert!(
        out.output.status.success() && !out.panicked(),
        "{what} trial {trial} (TERN_SEED={}): the clean pass failed:\n{}",
        seed(),
        out.stderr()
    );
    wire.bytes()
}

pub fn append(c: &mut LineClient, folder: &str, raw: &str) {
    c.send(&format!("p APPEND {folder} {{{}+}}", raw.len()));
    c.send_raw(raw.as_bytes());
    c.send("");
    loop {
        let line = c.line();
        if let Some(rest) = line.strip_prefix("p ") {
            assert!(rest.starts_with("OK"), "APPEND failed: {line}");
            return;
        }
    }
}

pub fn message(id: &str, lines: usize) -> String {
    let mut raw = format!(
        "From: phone@example.test\r\nTo: bob@example.test\r\nSubject: {id}\r\n\
         Message-ID: <{id}@example.test>\r\nDate: Mon, 1 Jun 2026 10:00:00 +0000\r\n\r\n"
    );
    for i in 0..lines {
        raw.push_str(&format!(
            "line {i} of {id}, to give the body some length\r\n"
        ));
    }
    raw
}

/// The Message-ID (without brackets and domain) of each message in a FETCH answer's lines.
pub fn ids_in(lines: &[String]) -> Vec<(u32, String)> {
    lines
        .iter()
        .filter_map(|l| {
            let uid = super::mailbox::uid_in(l)?;
            let at = l.to_ascii_lowercase().find("message-id:")? + "message-id:".len();
            let id = l.get(at..)?.trim_start().strip_prefix('<')?;
            let id = id.split(['@', '>']).next()?;
            Some((uid, id.to_owned()))
        })
        .collect()
}

/// The other client: UID → Message-ID of `folder`, selected.
pub fn select(c: &mut LineClient, folder: &str) -> Vec<(u32, String)> {
    c.imap_ok("s", &format!("SELECT {folder}"));
    let lines = c.imap_ok(
        "f",
        "UID FETCH 1:* (UID BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])",
    );
    ids_in(&lines)
}

/// The phone's turn: it files new mail, flips a flag, and now and then expunges or moves a
/// message. `alive` is every Message-ID that should be on the server.
pub fn phone_acts(
    servers: &MailServers,
    rng: &mut Rng,
    trial: usize,
    alive: &mut BTreeSet<String>,
) {
    let mut c = login(servers, &servers.bob);
    let folder = if one_in(rng, 3) { "Work" } else { "INBOX" };
    let id = format!("t{trial}");
    append(&mut c, folder, &message(&id, rng.below(40) as usize));
    alive.insert(id);
    let inbox = select(&mut c, "INBOX");
    if !inbox.is_empty() {
        let (uid, _) = &inbox[rng.below(inbox.len() as u64) as usize];
        let change = [
            "+FLAGS (\\Seen)",
            "-FLAGS (\\Seen)",
            "+FLAGS (\\Flagged)",
            "-FLAGS (\\Flagged)",
        ][rng.below(4) as usize];
        c.imap_ok("g", &format!("UID STORE {uid} {change}"));
    }
    if inbox.len() > 10 && one_in(rng, 2) {
        let (uid, id) = &inbox[rng.below(inbox.len() as u64) as usize];
        c.imap_ok("d", &format!("UID STORE {uid} +FLAGS.SILENT (\\Deleted)"));
        c.imap_ok("e", &format!("UID EXPUNGE {uid}"));
        alive.remove(id);
    }
    if one_in(rng, 3) {
        let (from, to) = if one_in(rng, 2) {
            ("INBOX", "Work")
        } else {
            ("Work", "INBOX")
        };
        let there = select(&mut c, from);
        if !there.is_empty() {
            let (uid, _) = &there[rng.below(there.len() as u64) as usize];
            c.imap_ok("m", &format!("UID MOVE {uid} {to}"));
        }
    }
    c.imap_ok("z", "LOGOUT");
}

/// Tern's own offline change, replayed by the next pass: a flag, or a move.
pub fn tern_acts(data: &Path, rng: &mut Rng) {
    let db = rusqlite::Connection::open(data.join("tern.db")).unwrap();
    let ids: Vec<(i64, String)> = db
        .prepare(
            "SELECT m.id, f.path FROM message m JOIN folder f ON f.id = m.folder_id
             WHERE f.path IN ('INBOX', 'Work') AND m.uid IS NOT NULL ORDER BY m.id",
        )
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    drop(db);
    if ids.is_empty() {
        return;
    }
    let (id, path) = &ids[rng.below(ids.len() as u64) as usize];
    let id = id.to_string();
    let out = if one_in(rng, 4) {
        let to = if path == "INBOX" { "Work" } else { "INBOX" };
        run(data, &["move", &id, to, "--offline"], "")
    } else {
        let flag = ["+flagged", "-flagged", "+seen", "-seen"][rng.below(4) as usize];
        run(data, &["flag", &id, flag, "--offline"], "")
    };
    assert!(
        out.output.status.success(),
        "offline change: {}",
        out.stderr()
    );
}

/// Every Message-ID on the server in INBOX and Work, each once; the set is `alive`.
pub fn assert_server_holds(servers: &MailServers, alive: &BTreeSet<String>, when: &str) {
    let mut c = login(servers, &servers.bob);
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for folder in ["INBOX", "Work"] {
        for (_, id) in select(&mut c, folder) {
            *seen.entry(id).or_default() += 1;
        }
    }
    c.imap_ok("z", "LOGOUT");
    let twice: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "{when}: on the server twice: {twice:?}");
    let on_server: BTreeSet<String> = seen.into_keys().collect();
    let lost: Vec<_> = alive.difference(&on_server).collect();
    let extra: Vec<_> = on_server.difference(alive).collect();
    assert!(
        lost.is_empty() && extra.is_empty(),
        "{when}: lost from the server {lost:?}, unexpected {extra:?}"
    );
}

/// Every cached message of INBOX and Work has its body, once.
pub fn assert_bodies(data: &Path, when: &str) {
    let db = rusqlite::Connection::open(data.join("tern.db")).unwrap();
    let missing: i64 = db
        .query_row(
            "SELECT count(*) FROM message m JOIN folder f ON f.id = m.folder_id
             WHERE f.path IN ('INBOX', 'Work') AND m.uid IS NOT NULL
               AND NOT EXISTS (SELECT 1 FROM body b WHERE b.message_id = m.id)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(missing, 0, "{when}: cached messages without their body");
}

/// The Subject of every message in `user`'s `folder`, counted.
pub fn subjects(servers: &MailServers, user: &User, folder: &str) -> BTreeMap<String, usize> {
    let mut c = login(servers, user);
    c.imap_ok("s", &format!("EXAMINE {folder}"));
    let lines = c.imap_ok("f", "UID FETCH 1:* (BODY.PEEK[HEADER.FIELDS (SUBJECT)])");
    c.imap_ok("z", "LOGOUT");
    let mut out = BTreeMap::new();
    for l in lines {
        let lower = l.to_ascii_lowercase();
        if let Some(at) = lower.find("subject:") {
            let rest = &l[at + "subject:".len()..];
            let subject = rest
                .split(['\r', '\n'])
                .next()
                .unwrap_or("")
                .trim()
                .to_owned();
            *out.entry(subject).or_default() += 1;
        }
    }
    out
}

/// Waits until each of `subjects` has arrived in `user`'s `folder` and Postfix's queue is empty
/// (so a late duplicate would be there too), at most two minutes; then counts subjects.
pub fn settled_subjects(
    servers: &MailServers,
    user: &User,
    folder: &str,
    subjects: &[&String],
) -> BTreeMap<String, usize> {
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    loop {
        let got = self::subjects(servers, user, folder);
        let missing = subjects
            .iter()
            .filter(|s| !got.contains_key(s.as_str()))
            .count();
        if missing == 0 && servers.postfix_queue_is_empty() {
            return got;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{missing} messages never arrived in {folder}:\n{}",
            servers.postfix_log()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// An IMAP account for bob at 127.0.0.1:`port` that downloads bodies, and a mailbox of 20
/// messages in INBOX and an empty Work folder. Returns the Message-IDs on the server.
pub fn seeded_imap_account(servers: &MailServers, data: &Path, port: u16) -> BTreeSet<String> {
    let bob = &servers.bob;
    super::cli::add_imap_account(servers, data, bob, port, &["--download-bodies"]);
    let mut alive = BTreeSet::new();
    let mut c = login(servers, bob);
    c.imap_ok("c", "CREATE Work");
    for i in 0..20 {
        let id = format!("seed{i}");
        append(&mut c, "INBOX", &message(&id, i * 10));
        alive.insert(id);
    }
    c.imap_ok("z", "LOGOUT");
    alive
}

/// POP3 after an interrupted pass: no message of `delivered` stored twice, none missing from
/// both the store and the server.
pub fn assert_pop3_union(servers: &MailServers, data: &Path, delivered: &[String], when: &str) {
    let local = local_ids(data);
    let server: BTreeSet<String> = pop3_listing(servers, &servers.bob)
        .into_iter()
        .map(|(_, id)| id)
        .collect();
    for id in delivered {
        let here = local.get(id).copied().unwrap_or(0);
        assert!(here <= 1, "{when}: {id} stored {here} times");
        assert!(
            here == 1 || server.contains(id),
            "{when}: {id} is neither stored here nor on the server"
        );
    }
}

/// POP3 after a clean pass: each of `delivered` stored exactly once and nothing else. Returns
/// the Message-IDs still on the server.
pub fn assert_pop3_stored_once(
    servers: &MailServers,
    data: &Path,
    delivered: &[String],
    when: &str,
) -> BTreeSet<String> {
    let local = local_ids(data);
    for id in delivered {
        assert_eq!(
            local.get(id).copied(),
            Some(1),
            "{when}: {id} after the clean pass"
        );
    }
    assert_eq!(
        local.values().sum::<usize>(),
        delivered.len(),
        "{when}: the store holds mail nobody sent"
    );
    pop3_listing(servers, &servers.bob)
        .into_iter()
        .map(|(_, id)| id)
        .collect()
}
