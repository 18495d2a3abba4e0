//! Sending against the harness: Postfix submission → LMTP → Dovecot, read back over IMAP with
//! an independent client. Scripted SMTP servers only for faults Postfix will not produce.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use mail_parser::{MessageParser, MimeHeaders as _};
use support::cli::add_imap_account;
use support::{MailServers, mailbox};

/// Runs `tern --data-dir DATA ARGS...` with `stdin` as standard input.
fn tern_in(data: &Path, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tern"))
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn tern(data: &Path, args: &[&str]) -> Output {
    tern_in(data, args, "")
}

fn ok(out: Output) -> Output {
    assert!(
        out.status.success(),
        "tern failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    out
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn json(out: Output) -> serde_json::Value {
    serde_json::from_slice(&ok(out).stdout).unwrap()
}

fn headers_of(raw: &[u8]) -> String {
    let text = String::from_utf8_lossy(raw);
    text.split("\r\n\r\n").next().unwrap().to_owned()
}

#[test]
fn a_message_with_cc_bcc_html_and_attachments_arrives_intact_and_is_filed_in_sent() {
    let servers = MailServers::start();
    let (alice, bob, carol) = (&servers.alice, &servers.bob, &servers.carol);
    let data = servers.dir().join("alice-data");
    add_imap_account(
        &servers,
        &data,
        alice,
        servers.ports.imaps,
        &["--display-name", "Alice Ädler"],
    );
    // Two attachments: binary, and a text file with a non-ASCII name.
    let pdf: Vec<u8> = (0..60_000u32).map(|i| (i * 7 % 256) as u8).collect();
    let files = servers.dir().join("files");
    std::fs::create_dir_all(&files).unwrap();
    std::fs::write(files.join("report.pdf"), &pdf).unwrap();
    let csv = "Monat;Umsatz\nJänner;12\n".repeat(50);
    std::fs::write(files.join("Übersicht März.csv"), &csv).unwrap();
    std::fs::write(
        files.join("body.html"),
        "<p>Hallo <b>Bob</b>, anbei die Zahlen.</p>",
    )
    .unwrap();
    let subject = "Grüße aus Köln ✓ — Zahlen";

    let out = ok(tern_in(
        &data,
        &[
            "send",
            "--account",
            "alice",
            "--to",
            "Bob <bob@example.test>",
            "--cc",
            "alice@example.test",
            "--bcc",
            &carol.address,
            "--subject",
            subject,
            "--html",
            files.join("body.html").to_str().unwrap(),
            "--attach",
            files.join("report.pdf").to_str().unwrap(),
            "--attach",
            files.join("Übersicht März.csv").to_str().unwrap(),
        ],
        "Hallo Bob,\nanbei die Zahlen.\n.\nGruß, Alice\n",
    ));
    assert!(
        stderr(&out).contains("sent outbox message"),
        "{}",
        stderr(&out)
    );

    mailbox::wait_for(&servers, bob, "INBOX", 1);
    mailbox::wait_for(&servers, carol, "INBOX", 1);
    mailbox::wait_for(&servers, alice, "INBOX", 1); // the Cc
    let sent = mailbox::messages(&servers, alice, "Sent");
    assert_eq!(sent.len(), 1, "the Sent folder has the copy");
    let (sent_raw, sent_flags) = &sent[0];
    assert!(sent_flags.contains("\\Seen"), "{sent_flags}");

    for user in [bob, carol] {
        let got = mailbox::messages(&servers, user, "INBOX");
        let (raw, _) = &got[0];
        // What arrived is the Sent copy plus the headers the servers prepend.
        assert!(
            raw.ends_with(sent_raw),
            "{} got other bytes than Sent holds",
            user.address
        );
        let headers = headers_of(raw).to_ascii_lowercase();
        assert!(
            !headers.contains("\nbcc:") && !headers.contains(&carol.address),
            "{headers}"
        );
        let m = MessageParser::default().parse(raw).unwrap();
        assert_eq!(m.subject(), Some(subject));
        let from = m.from().unwrap().first().unwrap();
        assert_eq!(
            (from.name(), from.address()),
            (Some("Alice Ädler"), Some("alice@example.test"))
        );
        assert_eq!(
            m.to().unwrap().first().unwrap().address(),
            Some("bob@example.test")
        );
        assert_eq!(
            m.cc().unwrap().first().unwrap().address(),
            Some("alice@example.test")
        );
        assert!(m.message_id().unwrap().ends_with("@example.test"));
        assert!(m.date().is_some());
        assert_eq!(
            m.body_text(0).unwrap().replace("\r\n", "\n"),
            "Hallo Bob,\nanbei die Zahlen.\n.\nGruß, Alice\n"
        );
        assert!(m.body_html(0).unwrap().contains("<b>Bob</b>"));
        assert_eq!(m.attachment_count(), 2);
        let a = m.attachment(0).unwrap();
        assert_eq!(a.attachment_name(), Some("report.pdf"));
        assert_eq!(a.content_type().unwrap().subtype(), Some("pdf"));
        assert_eq!(a.contents(), pdf.as_slice());
        let b = m.attachment(1).unwrap();
        assert_eq!(b.attachment_name(), Some("Übersicht März.csv"));
        assert_eq!(b.contents(), csv.as_bytes());
    }
    assert!(!headers_of(sent_raw).to_ascii_lowercase().contains("bcc"));
    // Nothing is left in the outbox.
    assert_eq!(
        json(tern(&data, &["outbox", "--json"])),
        serde_json::json!([])
    );
}

#[test]
fn a_reply_threads_and_marks_the_original_answered() {
    let servers = MailServers::start();
    let (alice, bob) = (&servers.alice, &servers.bob);
    let alice_data = servers.dir().join("alice-data");
    let bob_data = servers.dir().join("bob-data");
    add_imap_account(&servers, &alice_data, alice, servers.ports.imaps, &[]);
    add_imap_account(&servers, &bob_data, bob, servers.ports.imaps, &[]);
    ok(tern_in(
        &alice_data,
        &[
            "send",
            "--account",
            "alice",
            "--to",
            &bob.address,
            "--cc",
            &servers.carol.address,
            "--subject",
            "Plans",
        ],
        "Lunch at noon?\n",
    ));
    mailbox::wait_for(&servers, bob, "INBOX", 1);
    ok(tern(&bob_data, &["sync"]));
    let list = json(tern(&bob_data, &["list", "--account", "bob", "--json"]));
    let original = &list[0];
    let original_id = original["id"].as_i64().unwrap().to_string();

    ok(tern_in(
        &bob_data,
        &[
            "send",
            "--account",
            "bob",
            "--reply-all-to-id",
            &original_id,
        ],
        "Yes, see you there.\n",
    ));
    mailbox::wait_for(&servers, alice, "INBOX", 1);
    let (raw, _) = &mailbox::messages(&servers, alice, "INBOX")[0];
    let m = MessageParser::default().parse(raw).unwrap();
    let original_mid = original["message_id"].as_str().unwrap();
    assert_eq!(m.subject(), Some("Re: Plans"));
    assert_eq!(m.in_reply_to().as_text(), Some(original_mid));
    assert_eq!(
        m.references()
            .as_text_list()
            .unwrap()
            .last()
            .map(|s| s.to_string()),
        Some(original_mid.to_owned())
    );
    let text = m.body_text(0).unwrap().replace("\r\n", "\n");
    assert!(text.starts_with("Yes, see you there.\n"), "{text}");
    assert!(text.contains("wrote:\n> Lunch at noon?"), "{text}");
    // Reply-all: alice in To, carol in Cc, bob (ourselves) nowhere.
    let to: Vec<&str> = m.to().unwrap().iter().filter_map(|a| a.address()).collect();
    let cc: Vec<&str> = m.cc().unwrap().iter().filter_map(|a| a.address()).collect();
    assert_eq!(
        (to, cc),
        (vec!["alice@example.test"], vec!["carol@example.test"])
    );

    // The original is answered, here and on the server.
    let (_, flags) = &mailbox::messages(&servers, bob, "INBOX")[0];
    assert!(flags.contains("\\Answered"), "{flags}");
    let list = json(tern(&bob_data, &["list", "--account", "bob", "--json"]));
    assert!(
        list[0]["flags"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f == "\\Answered")
    );

    // Alice's client threads the reply under her Sent message.
    ok(tern(&alice_data, &["sync"]));
    let sent = json(tern(
        &alice_data,
        &["list", "--account", "alice", "--folder", "Sent", "--json"],
    ));
    let inbox = json(tern(&alice_data, &["list", "--account", "alice", "--json"]));
    assert_eq!(sent[0]["thread_id"], inbox[0]["thread_id"]);
    assert!(inbox[0]["thread_id"].is_i64());
}

#[test]
fn wrong_password_and_oversize_messages_fail_clearly_and_stay_in_the_outbox() {
    let servers = MailServers::start();
    let alice = &servers.alice;
    let data = servers.dir().join("alice-data");
    add_imap_account(&servers, &data, alice, servers.ports.imaps, &[]);

    // Over the server's SIZE (10,240,000 bytes): refused before anything is uploaded.
    let big = servers.dir().join("big.bin");
    std::fs::write(&big, vec![b'x'; 8_000_000]).unwrap();
    let out = tern_in(
        &data,
        &[
            "send",
            "--account",
            "alice",
            "--to",
            "bob@example.test",
            "--subject",
            "big",
            "--attach",
            big.to_str().unwrap(),
        ],
        "too big\n",
    );
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("the server accepts at most 10.2 MB"),
        "{}",
        stderr(&out)
    );
    assert!(
        !servers.postfix_log().contains("size=1"),
        "no upload started"
    );
    let outbox = json(tern(&data, &["outbox", "--json"]));
    assert_eq!(outbox[0]["state"], "failed");

    // A wrong password: the authentication error, and the message waits.
    std::fs::write(data.join("password"), "wrong\n").unwrap();
    let out = tern_in(
        &data,
        &[
            "send",
            "--account",
            "alice",
            "--to",
            "bob@example.test",
            "--subject",
            "hello",
        ],
        "hi\n",
    );
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("rejected the user name or password") && err.contains("535"),
        "{err}"
    );
    let outbox = json(tern(&data, &["outbox", "--json"]));
    assert_eq!(outbox.as_array().unwrap().len(), 2);
    assert_eq!(outbox[1]["state"], "queued");
    assert!(outbox[1]["error"].as_str().unwrap().contains("535"));

    // Fixed password: `tern sync` sends it; the over-size one stays failed until dropped.
    std::fs::write(data.join("password"), format!("{}\n", alice.password)).unwrap();
    let out = ok(tern(&data, &["sync"]));
    assert!(
        stderr(&out).contains("1 message in the outbox failed earlier"),
        "{}",
        stderr(&out)
    );
    mailbox::wait_for(&servers, &servers.bob, "INBOX", 1);
    let outbox = json(tern(&data, &["outbox", "--json"]));
    assert_eq!(outbox.as_array().unwrap().len(), 1);
    let id = outbox[0]["id"].to_string();
    ok(tern(&data, &["outbox", "drop", &id]));
    ok(tern(&data, &["sync"]));
}

/// Forwards connections to `target` once `open` is set; until then refuses them.
fn switchable_proxy(target: u16) -> (u16, std::sync::Arc<std::sync::atomic::AtomicBool>) {
    use std::sync::atomic::{AtomicBool, Ordering};
    let open = std::sync::Arc::new(AtomicBool::new(false));
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let flag = open.clone();
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(client) = client else { return };
            if !flag.load(Ordering::SeqCst) {
                drop(client); // "the server is down"
                continue;
            }
            let server = std::net::TcpStream::connect(("127.0.0.1", target)).unwrap();
            let (mut c_read, mut s_write) =
                (client.try_clone().unwrap(), server.try_clone().unwrap());
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut c_read, &mut s_write);
                let _ = s_write.shutdown(std::net::Shutdown::Write);
            });
            let (mut s_read, mut c_write) = (server, client);
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut s_read, &mut c_write);
                let _ = c_write.shutdown(std::net::Shutdown::Write);
            });
        }
    });
    (port, open)
}

#[test]
fn with_the_server_down_the_message_waits_and_goes_out_when_it_is_back() {
    let servers = MailServers::start();
    let alice = &servers.alice;
    let data = servers.dir().join("alice-data");
    let (port, open) = switchable_proxy(servers.ports.submissions);
    let outgoing = format!("127.0.0.1:{port}");
    add_imap_account(&servers, &data, alice, servers.ports.imaps, &[]);
    // Point the account's submission server at the proxy.
    let db = rusqlite::Connection::open(data.join("tern.db")).unwrap();
    db.execute("UPDATE account SET outgoing_port = ?1", [port])
        .unwrap();
    drop(db);
    let out = tern_in(
        &data,
        &[
            "send",
            "--account",
            "alice",
            "--to",
            "bob@example.test",
            "--subject",
            "patience",
        ],
        "eventually\n",
    );
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains(&outgoing) && stderr(&out).contains("stays in the outbox"),
        "{}",
        stderr(&out)
    );
    let outbox = json(tern(&data, &["outbox", "--json"]));
    assert_eq!(outbox[0]["state"], "queued");
    assert_eq!(mailbox::count(&servers, &servers.bob, "INBOX"), 0);

    open.store(true, std::sync::atomic::Ordering::SeqCst);
    ok(tern(&data, &["sync"]));
    mailbox::wait_for(&servers, &servers.bob, "INBOX", 1);
    assert_eq!(
        json(tern(&data, &["outbox", "--json"])),
        serde_json::json!([])
    );
    assert_eq!(mailbox::count(&servers, alice, "Sent"), 1);
}
