//! Bodies on demand against the harness's Dovecot: a message with a 20 MB attachment is opened
//! by fetching only its text part (measured in bytes received); HTML-only, broken MIME and
//! RFC 2047 messages are shown without loss; `--offline` says when a body is not cached.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod support;

use support::cli::tern;

use base64::Engine as _;
use support::MailServers;
use support::corpus::{self, Rng};

fn payload() -> Vec<u8> {
    let mut rng = Rng::new(5);
    (0..15_000_000).map(|_| rng.next() as u8).collect()
}

fn big_message() -> Vec<u8> {
    let payload = payload();
    let encoded = base64::engine::general_purpose::STANDARD.encode(&payload);
    let mut raw = String::from(
        "From: Big <big@example.test>\r\nTo: bob@example.test\r\nSubject: the big one\r\n\
         Message-ID: <big@example.test>\r\nDate: Tue, 1 Aug 2023 10:00:00 +0000\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\n\
         Content-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n\
         The attachment is large. Gr=FC=DFe, zebra.\r\n--b\r\n\
         Content-Type: application/octet-stream\r\n\
         Content-Disposition: attachment; filename*=UTF-8''r%C3%A9sum%C3%A9.bin\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n",
    );
    for line in encoded.as_bytes().chunks(76) {
        raw.push_str(std::str::from_utf8(line).unwrap());
        raw.push_str("\r\n");
    }
    raw.push_str("--b--\r\n");
    assert!(raw.len() > 20_000_000);
    raw.into_bytes()
}

const HTML_ONLY: &str = "From: h@example.test\r\nTo: bob@example.test\r\nSubject: html only\r\nMessage-ID: <html@example.test>\r\n\
Date: Wed, 2 Aug 2023 10:00:00 +0000\r\nMIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n\
<html><body><p>Hello <b>bold</b> world</p><img src=\"https://remote.invalid/x.png\"></body></html>\r\n";

const BROKEN: &str = "From: =?UTF-8?B?broken?= <b@example.test>\r\nTo: bob@example.test\r\n\
Subject: =?UTF-8?Q?Caf=C3=A9_?= =?ISO-8859-1?Q?na=EFve?= =?bogus?Q?x?=\r\nMessage-ID: <broken@example.test>\r\n\
Date: Thu, 3 Aug 2023 10:00:00 +0000\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"missing\"\r\n\r\n\
This multipart has no boundaries at all.\r\n";

#[test]
fn opening_a_message_fetches_only_its_text_part() {
    let servers = MailServers::start();
    let bob = &servers.bob;
    let big = big_message();
    corpus::write_message(bob, "INBOX", &big, &[], 1_690_884_000);
    corpus::write_message(
        bob,
        "INBOX",
        HTML_ONLY.as_bytes(),
        &["\\Seen"],
        1_690_970_400,
    );
    corpus::write_message(bob, "INBOX", BROKEN.as_bytes(), &[], 1_691_056_800);
    let data = servers.dir().join("tern-data");
    support::cli::add_imap_account(&servers, &data, bob, servers.ports.imaps, &[]);

    let store = tern::store::Store::open_dir(&data).unwrap();
    let account = store.find_account("bob").unwrap();
    let password = tern::account::credentials::Secret::new(bob.password.clone());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let report = rt
        .block_on(tern::engine::imap::sync_account(
            &store,
            &account,
            &password,
            &mut |_| {},
        ))
        .unwrap();
    assert_eq!(report.new_messages, 3);
    assert!(
        report.bytes_received < 200_000,
        "headers-first sync received {} bytes",
        report.bytes_received
    );

    let list: serde_json::Value =
        serde_json::from_slice(&tern(&data, &["list", "--account", "bob", "--json"]).stdout)
            .unwrap();
    let id_of = |subject: &str| {
        list.as_array()
            .unwrap()
            .iter()
            .find(|r| r["subject"] == subject)
            .unwrap()["id"]
            .as_i64()
            .unwrap()
    };
    let big_id = id_of("the big one");
    assert_eq!(store.message(big_id).unwrap().size as usize, big.len());
    assert!(store.message(big_id).unwrap().has_attachments);

    // Offline and not cached: a clear message, not a failure to parse.
    let out = tern(&data, &["show", &big_id.to_string(), "--offline"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("not cached") && err.contains("--offline"),
        "{err}"
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("Subject: the big one"),
        "headers are shown from the cache"
    );

    // Opening it fetches the text part only.
    let fetched = rt
        .block_on(tern::engine::imap::fetch_text(
            &store,
            &account,
            &password,
            big_id,
            tern::engine::imap::Prefer::Text,
        ))
        .unwrap();
    assert_eq!(
        fetched.text.as_deref().map(str::trim),
        Some("The attachment is large. Grüße, zebra.")
    );
    assert!(
        fetched.bytes_received < 64 * 1024,
        "opening received {} bytes",
        fetched.bytes_received
    );
    eprintln!(
        "headers-first sync received {} bytes; opening the 20 MB message received {} bytes",
        report.bytes_received, fetched.bytes_received
    );
    let again = rt
        .block_on(tern::engine::imap::fetch_text(
            &store,
            &account,
            &password,
            big_id,
            tern::engine::imap::Prefer::Text,
        ))
        .unwrap();
    assert_eq!(
        again.bytes_received, 0,
        "the second open is served from the cache"
    );

    // Now it shows offline, lists the attachment from the structure, and is searchable.
    let out = tern(&data, &["show", &big_id.to_string(), "--offline", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let shown: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(shown["attachments"][0]["name"], "résumé.bin");
    assert_eq!(
        shown["attachments"][0]["content_type"],
        "application/octet-stream"
    );
    let size = shown["attachments"][0]["size"].as_u64().unwrap();
    assert!((14_900_000..=15_100_000).contains(&size), "{size}");
    let found: serde_json::Value =
        serde_json::from_slice(&tern(&data, &["search", "zebra", "--json"]).stdout).unwrap();
    assert_eq!(found[0]["id"], big_id);

    // HTML-only mail is shown as text, without fetching anything remote.
    let out = tern(&data, &["show", &id_of("html only").to_string()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("Hello") && text.contains("bold") && text.contains("world"),
        "{text}"
    );

    // Broken MIME and odd encoded words: shown, nothing lost, raw source byte for byte.
    let broken_id = list
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["message_id"] == "broken@example.test")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let subject = list
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == broken_id)
        .unwrap()["subject"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(subject.starts_with("Café"), "{subject}");
    let out = tern(&data, &["show", &broken_id.to_string()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = tern(&data, &["show", &broken_id.to_string(), "--raw"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.stdout, BROKEN.as_bytes());

    // Attachments are fetched when saved, then cached; names are sanitised, files never clobbered.
    let out_dir = servers.dir().join("saved");
    let big = big_id.to_string();
    let out = tern(
        &data,
        &[
            "save",
            &big,
            "--dir",
            out_dir.to_str().unwrap(),
            "--offline",
        ],
    );
    assert!(!out.status.success(), "not cached yet");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("not cached"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = tern(&data, &["save", &big, "--dir", out_dir.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let saved = std::fs::read(out_dir.join("résumé.bin")).unwrap();
    assert!(
        saved == payload(),
        "the saved attachment differs from what was sent ({} bytes)",
        saved.len()
    );
    let out = tern(
        &data,
        &[
            "save",
            &big,
            "--dir",
            out_dir.to_str().unwrap(),
            "--offline",
        ],
    );
    assert!(
        out.status.success(),
        "served from the cache: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        std::fs::read(out_dir.join("résumé (1).bin")).unwrap().len(),
        15_000_000
    );
}
