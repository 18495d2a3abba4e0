//! Hostile messages (the reliability suite): fixtures written for the test (broken MIME
//! boundaries, missing and unknown charsets, invalid UTF-8, encoded words in unknown charsets,
//! 100,000 parts, 2,000 nested multiparts, a 2 MB header line, NUL bytes, a 100 MB attachment)
//! are synced from the real Dovecot with bodies, listed, searched, shown and saved without a
//! panic and with bounded memory, and each one's raw bytes come back as the server holds them.
//! Attachment names that try to leave the chosen folder, or pass for another file, are saved
//! under safe names inside it.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use crate::support;

use std::path::Path;
use std::time::Duration;

use support::MailServers;
use support::cli::{Bounded, tern_bounded};
use support::servers::{STORAGE_UID, chown_tree};

const LIMIT: Duration = Duration::from_secs(600);

fn run(data: &Path, args: &[&str]) -> Bounded {
    let out = tern_bounded(data, args, &[("TERN_TIMEOUT_SECS", "30")], "", LIMIT);
    assert!(
        !out.panicked(),
        "tern {}: panicked:\n{}",
        args.join(" "),
        out.stderr()
    );
    out
}

fn headers(subject: &str) -> String {
    format!(
        "From: hostile@example.test\r\nTo: bob@example.test\r\nSubject: {subject}\r\n\
         Message-ID: <{subject}@example.test>\r\nDate: Mon, 1 Jun 2026 10:00:00 +0000\r\n"
    )
}

/// The fixtures: (subject, raw message).
fn fixtures() -> Vec<(&'static str, Vec<u8>)> {
    let mut out: Vec<(&'static str, Vec<u8>)> = Vec::new();
    let mut add = |subject: &'static str, rest: &[u8]| {
        let mut raw = headers(subject).into_bytes();
        raw.extend_from_slice(rest);
        out.push((subject, raw));
    };
    add(
        "broken-boundary",
        b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"outer\"\r\n\r\n\
          --outer\r\nContent-Type: text/plain\r\n\r\nfirst part\r\n--outer\r\n\
          Content-Type: multipart/alternative; boundary=\"inner\"\r\n\r\n--inner\r\n\
          Content-Type: text/plain\r\n\r\nnever closed\r\n--wrong--\r\n",
    );
    add(
        "no-boundary",
        b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed\r\n\r\n--x\r\n\r\ntext\r\n--x--\r\n",
    );
    add(
        "missing-charset",
        b"MIME-Version: 1.0\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: 8bit\r\n\r\n\
          caf\xc3\xa9 and caf\xe9\r\n",
    );
    add(
        "unknown-charset",
        b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=x-no-such-charset\r\n\r\n\
          some \xff\xfe bytes\r\n",
    );
    add(
        "invalid-utf8",
        b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\
          X-Broken: \xc3\x28 \xa0\xa1 \xf0\x28\x8c\xbc\r\n\r\n\xe2\x82 \xed\xa0\x80 \xf8\x88\x80\x80\x80\r\n",
    );
    add(
        "encoded-words",
        b"X-Name: =?x-unknown?Q?caf=E9?= =?utf-8?B?!!!notbase64?= =?utf-8?Q?=ZZ?=\r\n\
          Content-Type: text/plain; name=\"=?x-unknown?B?Zm9v?=.txt\"\r\n\r\nbody\r\n",
    );
    add(
        "nul-bytes",
        b"Content-Type: text/plain\r\n\r\nbefore\0after\r\n\0\0\0\r\n",
    );
    // A 2 MB header line.
    let mut long = b"X-Long: ".to_vec();
    long.extend(std::iter::repeat_n(b'a', 2 << 20));
    long.extend_from_slice(b"\r\n\r\nafter the long header\r\n");
    add("long-header", &long);
    // 100,000 parts.
    let mut many =
        b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"p\"\r\n\r\n".to_vec();
    for i in 0..100_000 {
        many.extend_from_slice(
            format!("--p\r\nContent-Type: text/plain\r\n\r\npart {i}\r\n").as_bytes(),
        );
    }
    many.extend_from_slice(b"--p--\r\n");
    add("many-parts", &many);
    // 2,000 nested multiparts.
    let depth = 2000;
    let mut nested = b"MIME-Version: 1.0\r\n".to_vec();
    for i in 0..depth {
        nested.extend_from_slice(
            format!("Content-Type: multipart/mixed; boundary=\"n{i}\"\r\n\r\n--n{i}\r\n")
                .as_bytes(),
        );
    }
    nested.extend_from_slice(b"Content-Type: text/plain\r\n\r\nthe bottom\r\n");
    for i in (0..depth).rev() {
        nested.extend_from_slice(format!("--n{i}--\r\n").as_bytes());
    }
    add("deep-nesting", &nested);
    // A 100 MB attachment (base64 lines of noise).
    let mut big = b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n\
        --b\r\nContent-Type: text/plain\r\n\r\nsee the attachment\r\n--b\r\n\
        Content-Type: application/octet-stream; name=big.bin\r\n\
        Content-Disposition: attachment; filename=big.bin\r\n\
        Content-Transfer-Encoding: base64\r\n\r\n"
        .to_vec();
    let mut rng = support::corpus::Rng::new(3);
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    while big.len() < 100 << 20 {
        for _ in 0..76 {
            big.push(alphabet[rng.below(64) as usize]);
        }
        big.extend_from_slice(b"\r\n");
    }
    big.extend_from_slice(b"--b--\r\n");
    add("big-attachment", &big);
    out
}

/// A message with attachments whose names try to escape or deceive.
fn hostile_names() -> Vec<u8> {
    let names: [&[u8]; 9] = [
        b"filename=\"../../.bashrc\"",
        b"filename=\"/etc/passwd\"",
        b"filename=\"C:\\\\Windows\\\\evil.exe\"",
        b"filename=\"CON\"",
        b"filename=\"NUL.txt\"",
        "filename=\"invoice\u{202E}fdp.exe\"".as_bytes(),
        b"filename*=UTF-8''..%2F..%2Fescape.sh",
        b"filename=\"...\"",
        b"filename=\"a\\\\..\\\\..\\\\b.txt\"",
    ];
    let mut raw = headers("hostile-names").into_bytes();
    raw.extend_from_slice(
        b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"h\"\r\n\r\n\
          --h\r\nContent-Type: text/plain\r\n\r\nnames\r\n",
    );
    for (i, name) in names.iter().enumerate() {
        raw.extend_from_slice(
            b"--h\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; ",
        );
        raw.extend_from_slice(name);
        raw.extend_from_slice(format!("\r\n\r\ncontent {i}\r\n").as_bytes());
    }
    raw.extend_from_slice(b"--h--\r\n");
    raw
}

/// Message id → subject, from `tern list --json`.
fn listed(data: &Path) -> Vec<(String, String)> {
    let out = run(
        data,
        &["list", "--account", "bob", "--limit", "100", "--json"],
    );
    assert!(out.output.status.success(), "{}", out.stderr());
    let rows: serde_json::Value = serde_json::from_slice(&out.output.stdout).unwrap();
    rows.as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["id"].as_i64().unwrap().to_string(),
                r["subject"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

#[test]
fn hostile_messages_are_stored_shown_and_kept_whole_with_bounded_memory() {
    let servers = MailServers::start();
    let bob = &servers.bob;
    let fixtures = fixtures();
    for (i, (_, raw)) in fixtures.iter().enumerate() {
        support::corpus::write_message(bob, "INBOX", raw, &[], 1_790_000_000 + i as i64);
    }
    support::corpus::write_message(bob, "INBOX", &hostile_names(), &[], 1_790_001_000);
    chown_tree(&bob.home, STORAGE_UID).unwrap();
    let data = servers.dir().join("tern-data");
    support::cli::add_imap_account(
        &servers,
        &data,
        bob,
        servers.ports.imaps,
        &["--download-bodies"],
    );

    let sync = run(&data, &["sync"]);
    assert!(sync.output.status.success(), "{}", sync.stderr());
    eprintln!(
        "sync with bodies: peak RSS {} MB, {:?}",
        sync.peak_kib >> 10,
        sync.took
    );
    let ids = listed(&data);
    assert_eq!(
        ids.len(),
        fixtures.len() + 1,
        "every fixture is listed: {ids:?}"
    );
    let id_of = |subject: &str| {
        ids.iter()
            .find(|(_, s)| s == subject)
            .map(|(id, _)| id.clone())
            .unwrap_or_else(|| panic!("{subject} is not listed: {ids:?}"))
    };
    let search = run(&data, &["search", "bottom", "--json"]);
    assert!(search.output.status.success(), "{}", search.stderr());

    let server = support::mailbox::messages(&servers, bob, "INBOX");
    let mut worst = 0u64;
    for (subject, raw) in &fixtures {
        let id = id_of(subject);
        // The 100 MB message is past what one download batch holds (64 MiB): the offline
        // download leaves it to be fetched when opened.
        let offline: &[&str] = if *subject == "big-attachment" {
            &[]
        } else {
            &["--offline"]
        };
        let shown = run(&data, &[&["show", &id, "--json"][..], offline].concat());
        assert!(
            shown.output.status.success(),
            "{subject}: show failed: {}",
            shown.stderr()
        );
        let json: serde_json::Value = serde_json::from_slice(&shown.output.stdout).unwrap();
        let raw_out = run(&data, &[&["show", &id, "--raw"][..], offline].concat());
        assert!(
            raw_out.output.status.success(),
            "{subject}: {}",
            raw_out.stderr()
        );
        // The bytes as the server holds them (Dovecot hands NULs out as they are stored).
        let held = server.iter().find(|(bytes, _)| {
            bytes.len() == raw_out.output.stdout.len() && bytes == &raw_out.output.stdout
        });
        assert!(
            held.is_some() || raw_out.output.stdout == *raw,
            "{subject}: the raw bytes differ from the server's ({} bytes shown, {} written)",
            raw_out.output.stdout.len(),
            raw.len()
        );
        let peak = shown.peak_kib.max(raw_out.peak_kib);
        worst = worst.max(peak);
        eprintln!(
            "{subject}: {} bytes; show peak RSS {} MB; text {} chars, {} attachments",
            raw.len(),
            peak >> 10,
            json["text"].as_str().map_or(0, str::len),
            json["attachments"].as_array().map_or(0, Vec::len)
        );
    }
    // Memory is bounded by a few times the largest message (100 MB), not by parts or depth.
    assert!(
        sync.peak_kib >> 10 < 600,
        "sync peak RSS {} MB",
        sync.peak_kib >> 10
    );
    assert!(worst >> 10 < 600, "show peak RSS {} MB", worst >> 10);
    let big = run(
        &data,
        &[
            "save",
            &id_of("big-attachment"),
            "--dir",
            servers.dir().join("big").to_str().unwrap(),
            "--offline",
        ],
    );
    assert!(big.output.status.success(), "{}", big.stderr());
    eprintln!(
        "saving the 100 MB attachment: peak RSS {} MB",
        big.peak_kib >> 10
    );

    // Hostile names: everything lands directly in the folder, under a safe name.
    let root = servers.dir().join("names");
    let dir = root.join("inside");
    std::fs::create_dir_all(&dir).unwrap();
    let out = run(
        &data,
        &[
            "save",
            &id_of("hostile-names"),
            "--dir",
            dir.to_str().unwrap(),
            "--offline",
        ],
    );
    assert!(out.output.status.success(), "{}", out.stderr());
    let around: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        around,
        ["inside"],
        "something was written beside the folder"
    );
    let mut saved: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            assert!(
                e.file_type().unwrap().is_file(),
                "{:?} is not a plain file",
                e.path()
            );
            e.file_name().into_string().unwrap()
        })
        .collect();
    saved.sort();
    eprintln!("hostile names saved as {saved:?}");
    assert_eq!(saved.len(), 9, "{saved:?}");
    for name in &saved {
        assert!(!name.starts_with('.'), "{name}: hidden");
        assert!(
            !name.contains(['/', '\\', '\u{202E}', ':']),
            "{name}: unsafe character"
        );
        let stem = name
            .split('.')
            .next()
            .unwrap_or_default()
            .to_ascii_uppercase();
        assert!(
            !["CON", "NUL", "PRN", "AUX"].contains(&stem.as_str()),
            "{name}: a device name"
        );
    }
}
