//! POP3 benchmark against the test harness's Dovecot: wall time and peak RSS of `tern sync`
//! downloading N messages (default 10,000) into a fresh store, and of a check with no new mail;
//! beside them a minimal RETR loop (Tern's client, one RETR per round trip, nothing stored) and
//! fetchmail (Debian's package) in keep mode writing BSMTP to a file, fresh and with its UIDL
//! file. Medians of 5 runs.
//!
//! Needs root, the harness packages and fetchmail: `cargo bench --bench pop3`
//! (TERN_BENCH_MESSAGES changes N; TERN_BENCH_PERF=<file> instead records one fresh sync with
//! `perf record` into that file).

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
use std::process::Command;
use std::time::Instant;

const RUNS: usize = 5;

/// The simplest client: log in, RETR every message one round trip at a time, keep nothing.
fn retr_loop(servers: &support::MailServers) -> f64 {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let started = Instant::now();
        let endpoint = tern::protocol::Endpoint {
            host: "127.0.0.1".into(),
            port: servers.ports.pop3s,
            security: tern::account::Security::Tls,
            trust: tern::protocol::tls::Trust {
                ca_file: Some(servers.certs.ca_pem.clone()),
                pinned_sha256: None,
            },
        };
        let mut client = tern::protocol::pop3::Pop3Client::connect(&endpoint)
            .await
            .unwrap();
        client
            .login(
                &servers.bob.address,
                &tern::account::credentials::Secret::new(servers.bob.password.clone()),
            )
            .await
            .unwrap();
        let (count, _) = client.stat().await.unwrap();
        let mut bytes = 0;
        for n in 1..=count {
            bytes += client.retr(n, u64::MAX).await.unwrap().len();
        }
        client.quit().await.unwrap();
        assert!(bytes > 0);
        started.elapsed().as_secs_f64()
    })
}

/// A fetchmail run control file for bob (keep mode, UIDLs in `dir/idfile`).
fn fetchmail_rc(servers: &support::MailServers, dir: &Path) -> PathBuf {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::create_dir_all(dir).unwrap();
    let rc = dir.join("fetchmailrc");
    std::fs::write(
        &rc,
        format!(
            "set no syslog\nset idfile \"{idfile}\"\n\
             poll 127.0.0.1 port {port} protocol POP3 uidl\n  \
             user \"{user}\" password \"{password}\" ssl sslcertck sslcertfile \"{ca}\" sslcommonname localhost keep\n",
            idfile = dir.join("idfile").display(),
            port = servers.ports.pop3s,
            user = servers.bob.address,
            password = servers.bob.password,
            ca = servers.certs.ca_pem.display(),
        ),
    )
    .unwrap();
    std::fs::set_permissions(&rc, std::fs::Permissions::from_mode(0o600)).unwrap();
    rc
}

fn fetchmail(rc: &Path, out: &Path) -> (f64, u64) {
    measure(
        Path::new("/usr/bin/fetchmail"),
        &[
            "-f",
            rc.to_str().unwrap(),
            "--bsmtp",
            out.to_str().unwrap(),
            "--nodetach",
            "--silent",
        ],
    )
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
    let total: u64 =
        std::fs::read_dir(support::corpus::maildir_folder(&servers.bob, "INBOX").join("cur"))
            .unwrap()
            .map(|e| e.unwrap().metadata().unwrap().len())
            .sum();

    let show = |what: &str, v: Vec<(f64, u64)>| {
        let (t, rss) = median(v);
        let rss = if rss == 0 {
            "   (in process)".to_owned()
        } else {
            format!("peak RSS {:>7.1} MiB", rss as f64 / 1024.0)
        };
        println!("{what:<46} {t:>7.2} s   {rss}");
    };
    println!(
        "POP3 download of {n} messages ({:.1} MB) from Dovecot (median of {RUNS})",
        total as f64 / 1e6
    );
    if let Ok(perf_data) = std::env::var("TERN_BENCH_PERF") {
        retr_loop(&servers);
        let data = work.join("perf");
        support::cli::add_pop3_account(
            &servers,
            &data,
            &servers.bob,
            servers.ports.pop3s,
            "tls",
            &[],
        );
        let status = Command::new("perf")
            .args([
                "record",
                "-g",
                "--call-graph",
                "dwarf,16384",
                "-F",
                "500",
                "-o",
                &perf_data,
            ])
            .arg(&tern)
            .args(["--data-dir", data.to_str().unwrap(), "sync"])
            .status()
            .unwrap();
        assert!(status.success());
        return;
    }
    // Warm Dovecot's index and cache once, so no client pays for it in the figures.
    retr_loop(&servers);
    let loops: Vec<(f64, u64)> = (0..RUNS).map(|_| (retr_loop(&servers), 0)).collect();
    show("minimal RETR loop (one round trip each)", loops);

    let mut fresh = Vec::new();
    let mut last = PathBuf::new();
    for run in 0..RUNS {
        let data = work.join(format!("tern-{run}"));
        support::cli::add_pop3_account(
            &servers,
            &data,
            &servers.bob,
            servers.ports.pop3s,
            "tls",
            &[],
        );
        fresh.push(measure(
            &tern,
            &["--data-dir", data.to_str().unwrap(), "sync"],
        ));
        last = data;
    }
    let recheck: Vec<_> = (0..RUNS)
        .map(|_| measure(&tern, &["--data-dir", last.to_str().unwrap(), "sync"]))
        .collect();
    show("tern sync, fresh (stored and indexed)", fresh);
    show("tern sync, no new mail", recheck);

    let mut fm_fresh = Vec::new();
    let mut fm_last = PathBuf::new();
    for run in 0..RUNS {
        let dir = work.join(format!("fetchmail-{run}"));
        let rc = fetchmail_rc(&servers, &dir);
        fm_fresh.push(fetchmail(&rc, &dir.join("mail.bsmtp")));
        fm_last = dir;
    }
    let fm_recheck: Vec<_> = (0..RUNS)
        .map(|_| {
            let rc = fm_last.join("fetchmailrc");
            // fetchmail exits 1 for "no mail": run it through sh to keep the measurement.
            let script = format!(
                "/usr/bin/fetchmail -f {} --bsmtp {} --nodetach --silent; [ $? -le 1 ]",
                rc.display(),
                fm_last.join("mail.bsmtp").display()
            );
            measure(Path::new("/bin/sh"), &["-c", &script])
        })
        .collect();
    show("fetchmail keep, fresh (BSMTP to a file)", fm_fresh);
    show("fetchmail keep, no new mail (UIDL)", fm_recheck);
}
