//! IMAP sync benchmark against the test harness's Dovecot: wall time and peak RSS of
//! `tern sync` for a fresh sync of N headers (default 10,000) and for a no-change resync, and
//! the same for mbsync (Debian's isync) on the same mailbox. Medians of 5 runs.
//!
//! Needs root, the harness packages and isync: `cargo bench --bench imap_sync`
//! (TERN_BENCH_MESSAGES changes N). mbsync downloads whole messages (it has no headers-only
//! mode), so its fresh-sync figure includes the bodies.

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

fn mbsync_config(servers: &support::MailServers, dir: &Path) -> PathBuf {
    std::fs::create_dir_all(dir.join("mail")).unwrap();
    let password = dir.join("password");
    std::fs::write(&password, &servers.bob.password).unwrap();
    let config = format!(
        "IMAPAccount bob\nHost localhost\nPort {port}\nUser {user}\nPassCmd \"cat {pw}\"\nSSLType IMAPS\nCertificateFile {ca}\n\n\
IMAPStore remote\nAccount bob\n\n\
MaildirStore local\nPath {mail}/\nInbox {mail}/INBOX\n\n\
Channel bob\nFar :remote:\nNear :local:\nPatterns INBOX\nCreate Near\nSync Pull\nSyncState *\n",
        port = servers.ports.imaps,
        user = servers.bob.address,
        pw = password.display(),
        ca = servers.certs.ca_pem.display(),
        mail = dir.join("mail").display(),
    );
    let path = dir.join("mbsyncrc");
    std::fs::write(&path, config).unwrap();
    path
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
    let servers = support::MailServers::start();
    support::corpus::fill_maildir(&servers.bob, "INBOX", n, 42);
    let work = servers.dir().join("bench");

    // Warm Dovecot's index and cache once, so no client pays for it in the figures.
    let warm = work.join("warm");
    support::cli::add_imap_account(&servers, &warm, &servers.bob, servers.ports.imaps, &[]);
    measure(&tern, &["--data-dir", warm.to_str().unwrap(), "sync"]);

    let mut fresh = Vec::new();
    let mut last = PathBuf::new();
    for run in 0..RUNS {
        let data = work.join(format!("tern-{run}"));
        support::cli::add_imap_account(&servers, &data, &servers.bob, servers.ports.imaps, &[]);
        fresh.push(measure(
            &tern,
            &["--data-dir", data.to_str().unwrap(), "sync"],
        ));
        last = data;
    }
    let resync: Vec<_> = (0..RUNS)
        .map(|_| measure(&tern, &["--data-dir", last.to_str().unwrap(), "sync"]))
        .collect();

    let mbsync = Path::new("/usr/bin/mbsync");
    let mut mb_fresh = Vec::new();
    let mut mb_last = PathBuf::new();
    for run in 0..RUNS {
        let dir = work.join(format!("mbsync-{run}"));
        let config = mbsync_config(&servers, &dir);
        mb_fresh.push(measure(
            mbsync,
            &["-q", "-c", config.to_str().unwrap(), "bob"],
        ));
        mb_last = config;
    }
    let mb_resync: Vec<_> = (0..RUNS)
        .map(|_| measure(mbsync, &["-q", "-c", mb_last.to_str().unwrap(), "bob"]))
        .collect();

    let show = |what: &str, v: Vec<(f64, u64)>| {
        let (t, rss) = median(v);
        println!(
            "{what:<44} {t:>7.2} s   peak RSS {:>7.1} MiB",
            rss as f64 / 1024.0
        );
    };
    println!("IMAP sync of {n} messages from Dovecot (median of {RUNS})");
    show("tern sync, fresh (headers + structure)", fresh);
    show("tern sync, no change (QRESYNC)", resync);
    show("mbsync, fresh (whole messages)", mb_fresh);
    show("mbsync, no change", mb_resync);
}
