//! What PREVIEW (RFC 8970) costs the IMAP header sync: `tern sync` of N messages (default
//! 10,000) from a Dovecot that offers PREVIEW (headers with `PREVIEW (LAZY)`, then up to 2,000
//! missing previews computed per folder and pass) beside the same sync from a Dovecot in the same
//! run whose CAPABILITY leaves PREVIEW out. Medians of 5 runs: wall time, peak RSS and how many
//! preview lines the cache holds afterwards; then the pass after (which fills the next 2,000).
//!
//! Needs root and the harness packages: `cargo bench --bench imap_preview`
//! (TERN_BENCH_MESSAGES changes N).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

#[path = "../tests/support/mod.rs"]
mod support;

#[path = "common/process.rs"]
mod process;

use process::{measure, median};

use std::path::{Path, PathBuf};

const RUNS: usize = 5;

/// Dovecot 2.3's own CAPABILITY, less PREVIEW and SNIPPET.
const WITHOUT_PREVIEW: &str = "IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE SORT SORT=DISPLAY \
THREAD=REFERENCES THREAD=REFS THREAD=ORDEREDSUBJECT MULTIAPPEND URL-PARTIAL CATENATE UNSELECT \
CHILDREN NAMESPACE UIDPLUS LIST-EXTENDED I18NLEVEL=1 CONDSTORE QRESYNC ESEARCH ESORT SEARCHRES \
WITHIN CONTEXT=SEARCH LIST-STATUS BINARY MOVE STATUS=SIZE SAVEDATE LITERAL+ SPECIAL-USE \
COMPRESS=DEFLATE";

fn previews(data: &Path) -> (i64, i64) {
    let db = rusqlite::Connection::open(data.join(tern::store::DB_FILE)).unwrap();
    db.query_row(
        "SELECT count(*) FILTER (WHERE preview != ''), count(*) FROM message",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .unwrap()
}

fn capability(servers: &support::MailServers) -> String {
    let mut c = support::mailbox::login(servers, &servers.bob);
    let lines = c.imap_ok("c", "CAPABILITY");
    c.imap_ok("z", "LOGOUT");
    lines.join(" ")
}

struct Figures {
    fresh: (f64, u64),
    next: (f64, u64),
    filled: (i64, i64),
    filled_next: (i64, i64),
}

fn run(tern: &Path, servers: &support::MailServers, n: usize, label: &str) -> Figures {
    support::corpus::fill_maildir(&servers.bob, "INBOX", n, 42);
    let work = servers.dir().join("bench");
    // Warm Dovecot's index once, so no run pays for it.
    let warm = work.join("warm");
    support::cli::add_imap_account(servers, &warm, &servers.bob, servers.ports.imaps, &[]);
    measure(tern, &["--data-dir", warm.to_str().unwrap(), "sync"]);
    eprintln!("{label}: {}", capability(servers));
    let mut fresh = Vec::new();
    let mut next = Vec::new();
    let mut filled = (0, 0);
    let mut filled_next = (0, 0);
    for i in 0..RUNS {
        let data: PathBuf = work.join(format!("tern-{i}"));
        support::cli::add_imap_account(servers, &data, &servers.bob, servers.ports.imaps, &[]);
        fresh.push(measure(
            tern,
            &["--data-dir", data.to_str().unwrap(), "sync"],
        ));
        filled = previews(&data);
        next.push(measure(
            tern,
            &["--data-dir", data.to_str().unwrap(), "sync"],
        ));
        filled_next = previews(&data);
    }
    Figures {
        fresh: median(fresh),
        next: median(next),
        filled,
        filled_next,
    }
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let n: usize = std::env::var("TERN_BENCH_MESSAGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let tern = PathBuf::from(env!("CARGO_BIN_EXE_tern"));
    let with = {
        let servers = support::MailServers::start();
        run(&tern, &servers, n, "with PREVIEW")
    };
    let without = {
        let servers = support::MailServers::start_with(support::servers::Options {
            imap_capability: Some(WITHOUT_PREVIEW.into()),
            ..Default::default()
        });
        run(&tern, &servers, n, "without PREVIEW")
    };
    println!(
        "IMAP header sync of {n} messages from Dovecot, with and without PREVIEW (median of {RUNS})"
    );
    for (what, f) in [("PREVIEW offered", with), ("PREVIEW not offered", without)] {
        println!(
            "{what:<22} fresh {:>6.2} s, peak RSS {:>6.1} MiB, previews {}/{}; next pass {:>6.2} s, previews {}/{}",
            f.fresh.0,
            f.fresh.1 as f64 / 1024.0,
            f.filled.0,
            f.filled.1,
            f.next.0,
            f.filled_next.0,
            f.filled_next.1,
        );
    }
}
