//! Big messages (the reliability suite): a 100 MB attachment built, queued and sent with
//! bounded memory, measured.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use crate::support;

use std::time::Duration;

use support::MailServers;
use support::cli::{Bounded, tern_bounded};
use support::corpus::Rng;
use support::servers::Options;

const LIMIT: Duration = Duration::from_secs(600);

fn run(data: &std::path::Path, args: &[&str], stdin: &str) -> Bounded {
    let out = tern_bounded(data, args, &[], stdin, LIMIT);
    assert!(
        !out.panicked(),
        "tern {}: panicked:\n{}",
        args.join(" "),
        out.stderr()
    );
    out
}

/// `n` bytes that do not compress.
fn noise(n: usize, seed: u64) -> Vec<u8> {
    let mut rng = Rng::new(seed);
    let mut out = Vec::with_capacity(n + 8);
    while out.len() < n {
        out.extend_from_slice(&rng.next().to_le_bytes());
    }
    out.truncate(n);
    out
}

#[test]
fn a_100_mb_attachment_is_sent_with_bounded_memory_and_arrives() {
    let servers = MailServers::start_with(Options {
        message_size_limit: Some(300 << 20),
        ..Options::default()
    });
    let bob = &servers.bob;
    let data = servers.dir().join("tern-data");
    support::cli::add_imap_account(&servers, &data, bob, servers.ports.imaps, &[]);
    let size = 100 << 20;
    let file = servers.dir().join("big.bin");
    std::fs::write(&file, noise(size, 7)).unwrap();
    let file = file.to_str().unwrap();
    let to = servers.carol.address.as_str();
    // Built and queued, then sent (with its Sent copy filed and uploaded) by a sync.
    let queued = run(
        &data,
        &[
            "send",
            "--account",
            "bob",
            "--to",
            to,
            "--subject",
            "big",
            "--attach",
            file,
            "--queue",
        ],
        "see the attachment\n",
    );
    assert!(queued.output.status.success(), "{}", queued.stderr());
    let sent = run(&data, &["sync"], "");
    assert!(sent.output.status.success(), "{}", sent.stderr());
    for (what, out) in [("building and queueing", &queued), ("sending", &sent)] {
        let peak = out.peak_kib << 10;
        eprintln!(
            "{what} a {} MB attachment: peak RSS {} MB ({:.2}x), {:?}",
            size >> 20,
            peak >> 20,
            peak as f64 / size as f64,
            out.took
        );
        // The goal is under 3x for both; sending is at 4.6x (issue 16's note), and this
        // bound keeps it from growing while that is open.
        let bound = if what == "sending" { 5 } else { 3 };
        assert!(
            peak < bound * size as u64,
            "{what}: peak RSS {} MB",
            peak >> 20
        );
    }
    // It arrives whole: the recipient's copy holds the attachment, base64-encoded.
    support::mailbox::wait_for(&servers, &servers.carol, "INBOX", 1);
    let mut c = support::mailbox::login(&servers, &servers.carol);
    c.imap_ok("s", "EXAMINE INBOX");
    let sizes = c.imap_ok("f", "FETCH 1 (RFC822.SIZE)").join(" ");
    c.imap_ok("z", "LOGOUT");
    let arrived: usize = sizes
        .split("RFC822.SIZE ")
        .nth(1)
        .and_then(|r| r.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|n| n.parse().ok())
        .unwrap();
    assert!(arrived > size * 4 / 3, "{arrived} bytes arrived");
}
