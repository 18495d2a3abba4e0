//! A hostile or broken server cannot exhaust Tern: a trickle, an endless stream of `* OK`, a
//! huge VANISHED set and UID 4294967295 (injected by a proxy into a real Dovecot session: faults
//! no real server produces) each end in a clear error within the time limit, or are handled,
//! with the `tern sync` process's peak RSS under 100 MB; the account then syncs normally
//! against Dovecot and its cache matches the server, UID by UID.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod support;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use support::proxy::{Fault, fault_proxy};
use support::servers::Options;
use support::{MailServers, corpus, mailbox};

/// The stall limit the hostile passes run with (`TERN_TIMEOUT_SECS`).
const STALL_SECS: u64 = 2;

struct Run {
    ok: bool,
    stderr: String,
    elapsed: Duration,
    peak_rss_kib: u64,
}

/// Runs `tern sync` with the short stall limit and measures it.
fn sync_measured(data: &std::path::Path) -> Run {
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_tern"))
        .arg("--data-dir")
        .arg(data)
        .arg("sync")
        .env("TERN_TIMEOUT_SECS", STALL_SECS.to_string())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    measure(child)
}

/// Waits for a `tern` process (at most 2 minutes), sampling its peak resident set (VmHWM).
fn measure(mut child: std::process::Child) -> Run {
    let started = Instant::now();
    let mut peak = 0u64;
    let status = loop {
        if let Some(kib) = support::cli::peak_rss_kib(child.id()) {
            peak = peak.max(kib);
        }
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(started.elapsed() < Duration::from_secs(120), "tern hung");
        std::thread::sleep(Duration::from_millis(5));
    };
    let mut stderr = String::new();
    use std::io::Read as _;
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    Run {
        ok: status.success(),
        stderr,
        elapsed: started.elapsed(),
        peak_rss_kib: peak,
    }
}

fn ok(data: &std::path::Path) {
    let out = support::cli::tern(data, &["sync"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A folder synced once through the proxy, then changed by another client so the next pass
/// selects it, then one pass with `fault`; then normal passes. Returns the faulty pass.
fn scenario(fault: Fault) -> Run {
    let servers = MailServers::start_with(Options::without_compress());
    let bob = &servers.bob;
    corpus::fill_maildir(bob, "INBOX", 30, 71);
    let switch = Arc::new(Mutex::new(Fault::None));
    let proxy = fault_proxy(servers.ports.imap, switch.clone());
    let data = servers.dir().join("tern-data");
    support::cli::add_plain_imap_account(&servers, &data, bob, proxy);
    ok(&data);

    // Another client files a message, so the next pass selects INBOX.
    let mut phone = mailbox::login(&servers, bob);
    let msg = "From: carol@example.test\r\nSubject: from the phone\r\nMessage-ID: <hostile@phone.example.test>\r\n\r\nhi\r\n";
    phone.send(&format!("p APPEND INBOX {{{}+}}", msg.len()));
    phone.send_raw(msg.as_bytes());
    phone.send("");
    while !phone.line().starts_with("p ") {}
    phone.imap_ok("z", "LOGOUT");

    *switch.lock().unwrap() = fault;
    let run = sync_measured(&data);
    eprintln!(
        "{fault:?}: ok {} in {:?}, peak RSS {} KiB: {}",
        run.ok, run.elapsed, run.peak_rss_kib, run.stderr
    );
    assert!(
        run.peak_rss_kib < 100 * 1024,
        "{fault:?}: peak RSS {} KiB",
        run.peak_rss_kib
    );
    assert!(
        run.elapsed < Duration::from_secs(STALL_SECS * 15 + 10),
        "{fault:?}: took {:?}",
        run.elapsed
    );
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);

    // The fault is gone: the account syncs normally, and the cache heals.
    *switch.lock().unwrap() = Fault::None;
    ok(&data);
    ok(&data);
    mailbox::assert_mirrors(
        &servers,
        bob,
        &data,
        &["INBOX"],
        &format!("after {fault:?}"),
    );
    run
}

#[test]
fn a_trickling_server_is_cut_off() {
    let run = scenario(Fault::Trickle);
    assert!(!run.ok);
    assert!(run.stderr.contains("trickling"), "{}", run.stderr);
}

#[test]
fn an_endless_stream_of_ok_is_cut_off() {
    let run = scenario(Fault::EndlessOk);
    assert!(!run.ok);
    assert!(run.stderr.contains("status lines"), "{}", run.stderr);
}

#[test]
fn a_huge_vanished_set_costs_no_memory() {
    // One million `1:*` ranges (4 MB): expanded UID by UID, that was tens of millions of UIDs.
    let run = scenario(Fault::HugeVanished(1_000_000));
    assert!(run.ok, "{}", run.stderr);
    assert!(
        run.stderr.contains("next pass lists the folder in full"),
        "{}",
        run.stderr
    );
}

#[test]
fn uid_4294967295_does_not_overflow() {
    let run = scenario(Fault::MaxUidInSearch);
    assert!(run.ok, "{}", run.stderr);
}

/// A submission server that stops reading in the middle of DATA cannot block `tern send` for
/// ever: the write times out, and as the final dot never went out the server cannot have
/// accepted it: the message stays queued for a later try, and the error says what happened.
#[test]
fn a_server_that_stops_reading_during_data_is_cut_off() {
    let servers = MailServers::start();
    let (port, _log) =
        support::fake_smtp::start(vec![support::fake_smtp::AfterDot::StopReadingAtData]);
    let data = servers.dir().join("alice-data");
    support::cli::add_imap_account(&servers, &data, &servers.alice, servers.ports.imaps, &[]);
    support::cli::use_plain_smtp(&data, port);
    // Far more than the loopback socket buffers hold.
    let big = servers.dir().join("big.bin");
    std::fs::write(&big, vec![b'x'; 40 * 1024 * 1024]).unwrap();
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_tern"))
        .arg("--data-dir")
        .arg(&data)
        .args([
            "send",
            "--account",
            "alice",
            "--to",
            "bob@example.test",
            "--subject",
            "big",
            "--attach",
            big.to_str().unwrap(),
        ])
        .env("TERN_TIMEOUT_SECS", STALL_SECS.to_string())
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let run = measure(child);
    let (status_ok, stderr) = (run.ok, run.stderr);
    assert!(
        run.elapsed < Duration::from_secs(60),
        "took {:?}",
        run.elapsed
    );
    assert!(!status_ok, "{stderr}");
    assert!(stderr.contains("stopped reading"), "{stderr}");
    let store = tern::store::Store::open_dir(&data).unwrap();
    let rows = store.outbox(None).unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].state, "queued", "{rows:?}");
    assert_eq!(rows[0].attempts, 1, "{rows:?}");
}
