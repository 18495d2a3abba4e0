//! Sending against the harness: Postfix submission → LMTP → Dovecot, read back over IMAP with
//! an independent client. Scripted SMTP servers only for faults Postfix will not produce.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use std::path::Path;
use std::process::{Command, Output, Stdio};

use mail_parser::{MessageParser, MimeHeaders as _};
use support::cli::{add_imap_account, json, ok};
use support::{MailServers, mailbox};

/// Runs `tern --data-dir DATA ARGS...` with `stdin` as standard input.
fn tern_in(data: &Path, args: &[&str], stdin: &str) -> Output {
    support::cli::tern_with_input(data, args, stdin)
}

fn tern(data: &Path, args: &[&str]) -> Output {
    tern_in(data, args, "")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
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
    // No Bcc header (a bare "bcc" can occur inside the random hex of a Message-ID or boundary).
    let sent_headers = format!("\n{}", headers_of(sent_raw).to_ascii_lowercase());
    assert!(
        !sent_headers.contains("\nbcc:") && !sent_headers.contains(&carol.address),
        "{sent_headers}"
    );
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

/// Alice's account with its submission server replaced by a scripted one (plain, on `port`).
fn alice_with_fake_smtp(servers: &MailServers, port: u16) -> std::path::PathBuf {
    let data = servers.dir().join("alice-data");
    add_imap_account(servers, &data, &servers.alice, servers.ports.imaps, &[]);
    support::cli::use_plain_smtp(&data, port);
    data
}

#[test]
fn envelope_and_data_go_in_one_write() {
    let servers = MailServers::start();
    let (port, log) = support::fake_smtp::start(vec![]);
    let data = alice_with_fake_smtp(&servers, port);
    ok(tern_in(
        &data,
        &[
            "send",
            "--account",
            "alice",
            "--to",
            "bob@example.test",
            "--cc",
            "carol@example.test",
            "--subject",
            "pipelined",
        ],
        "hi\n",
    ));
    let log = log.lock().unwrap();
    assert_eq!(log.messages.len(), 1);
    let batch = log
        .chunks
        .iter()
        .find(|c| c.starts_with("MAIL FROM:"))
        .expect("MAIL FROM was sent");
    assert!(
        batch.contains(" SIZE=")
            && batch
                .contains("RCPT TO:<bob@example.test>\r\nRCPT TO:<carol@example.test>\r\nDATA\r\n"),
        "MAIL, both RCPTs and DATA arrive together: {batch:?}"
    );
}

#[test]
fn a_connection_lost_after_the_final_dot_is_not_resent_automatically() {
    let servers = MailServers::start();
    let (port, log) = support::fake_smtp::start(vec![support::fake_smtp::AfterDot::Drop]);
    let data = alice_with_fake_smtp(&servers, port);
    let out = tern_in(
        &data,
        &[
            "send",
            "--account",
            "alice",
            "--to",
            "bob@example.test",
            "--subject",
            "maybe",
        ],
        "did it arrive?\n",
    );
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("may or may not have been delivered"),
        "{}",
        stderr(&out)
    );
    let outbox = json(tern(&data, &["outbox", "--json"]));
    assert_eq!(outbox[0]["state"], "unknown");
    // Neither a sync nor a second flush sends it again.
    ok(tern(&data, &["sync"]));
    ok(tern(&data, &["sync"]));
    assert_eq!(log.lock().unwrap().messages.len(), 1);
    // The user decides: retry sends it (the server now accepts).
    let id = outbox[0]["id"].to_string();
    ok(tern(&data, &["outbox", "retry", &id]));
    assert_eq!(log.lock().unwrap().messages.len(), 2);
    assert_eq!(
        json(tern(&data, &["outbox", "--json"])),
        serde_json::json!([])
    );
    assert_eq!(mailbox::count(&servers, &servers.alice, "Sent"), 1);
}

#[test]
fn kill_9_while_waiting_for_the_reply_leaves_an_uncertain_message_that_is_not_resent() {
    let servers = MailServers::start();
    let (port, log) = support::fake_smtp::start(vec![support::fake_smtp::AfterDot::Stall]);
    let data = alice_with_fake_smtp(&servers, port);
    let mut child = Command::new(env!("CARGO_BIN_EXE_tern"))
        .arg("--data-dir")
        .arg(&data)
        .args([
            "send",
            "--account",
            "alice",
            "--to",
            "bob@example.test",
            "--subject",
            "stalled",
            "--queue",
        ])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(child.status.success());
    let mut sync = Command::new(env!("CARGO_BIN_EXE_tern"))
        .arg("--data-dir")
        .arg(&data)
        .arg("sync")
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while log.lock().unwrap().messages.is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "the message never reached the server"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    sync.kill().unwrap(); // SIGKILL while waiting for the reply to the final dot
    sync.wait().unwrap();
    let db = rusqlite::Connection::open(data.join("tern.db")).unwrap();
    let state: String = db
        .query_row("SELECT state FROM outbox", [], |r| r.get(0))
        .unwrap();
    assert_eq!(state, "sending", "recorded before the final dot");
    drop(db);
    child = tern(&data, &["sync"]);
    assert!(child.status.success(), "{}", stderr(&child));
    assert!(
        stderr(&child).contains("failed earlier"),
        "{}",
        stderr(&child)
    );
    let outbox = json(tern(&data, &["outbox", "--json"]));
    assert_eq!(outbox[0]["state"], "unknown");
    assert!(
        outbox[0]["error"]
            .as_str()
            .unwrap()
            .contains("may or may not")
    );
    assert_eq!(log.lock().unwrap().messages.len(), 1, "never sent twice");
}

#[test]
fn a_crash_after_the_250_files_the_sent_copy_without_sending_again() {
    let servers = MailServers::start();
    let (port, log) = support::fake_smtp::start(vec![]);
    let data = alice_with_fake_smtp(&servers, port);
    ok(tern_in(
        &data,
        &[
            "send",
            "--account",
            "alice",
            "--to",
            "bob@example.test",
            "--subject",
            "accepted",
            "--queue",
        ],
        "already accepted\n",
    ));
    // The state a crash right after the 250 leaves.
    let db = rusqlite::Connection::open(data.join("tern.db")).unwrap();
    db.execute("UPDATE outbox SET state = 'sent'", []).unwrap();
    drop(db);
    ok(tern(&data, &["sync"]));
    assert!(log.lock().unwrap().messages.is_empty(), "not sent again");
    assert_eq!(
        json(tern(&data, &["outbox", "--json"])),
        serde_json::json!([])
    );
    let sent = mailbox::messages(&servers, &servers.alice, "Sent");
    assert_eq!(sent.len(), 1);
    assert!(String::from_utf8_lossy(&sent[0].0).contains("Subject: accepted"));
}

#[test]
fn drafts_are_saved_to_the_server_and_replaced() {
    let servers = MailServers::start();
    let data = servers.dir().join("alice-data");
    add_imap_account(&servers, &data, &servers.alice, servers.ports.imaps, &[]);
    let first = ok(tern_in(
        &data,
        &[
            "send",
            "--account",
            "alice",
            "--to",
            "bob@example.test",
            "--subject",
            "Draft v1",
            "--draft",
        ],
        "first try\n",
    ));
    let first_id = String::from_utf8_lossy(&first.stdout).trim().to_owned();
    let drafts = mailbox::messages(&servers, &servers.alice, "Drafts");
    assert_eq!(drafts.len(), 1);
    assert!(drafts[0].1.contains("\\Draft"), "{}", drafts[0].1);
    ok(tern_in(
        &data,
        &[
            "send",
            "--account",
            "alice",
            "--to",
            "bob@example.test",
            "--subject",
            "Draft v2",
            "--draft",
            "--replace-draft",
            &first_id,
        ],
        "second try\n",
    ));
    let drafts = mailbox::messages(&servers, &servers.alice, "Drafts");
    assert_eq!(drafts.len(), 1, "the older copy is removed");
    assert!(String::from_utf8_lossy(&drafts[0].0).contains("Subject: Draft v2"));
    let local = json(tern(
        &data,
        &["list", "--account", "alice", "--folder", "Drafts", "--json"],
    ));
    assert_eq!(local.as_array().unwrap().len(), 1);
    assert_eq!(local[0]["subject"], "Draft v2");
    assert_eq!(
        mailbox::count(&servers, &servers.bob, "INBOX"),
        0,
        "a draft is not sent"
    );
}

#[test]
fn starttls_submission_works_and_a_missing_starttls_is_refused() {
    let servers = MailServers::start();
    let data = servers.dir().join("alice-data");
    add_imap_account(&servers, &data, &servers.alice, servers.ports.imaps, &[]);
    let db = rusqlite::Connection::open(data.join("tern.db")).unwrap();
    db.execute(
        "UPDATE account SET outgoing_port = ?1, outgoing_security = 'starttls'",
        [servers.ports.submission],
    )
    .unwrap();
    ok(tern_in(
        &data,
        &[
            "send",
            "--account",
            "alice",
            "--to",
            "bob@example.test",
            "--subject",
            "over 587",
        ],
        "STARTTLS\n",
    ));
    mailbox::wait_for(&servers, &servers.bob, "INBOX", 1);

    // A server that does not offer STARTTLS: an error, and nothing is sent in the clear.
    let (port, log) = support::fake_smtp::start(vec![]);
    db.execute(
        "UPDATE account SET outgoing_port = ?1, outgoing_security = 'starttls'",
        [port],
    )
    .unwrap();
    let out = tern_in(
        &data,
        &[
            "send",
            "--account",
            "alice",
            "--to",
            "bob@example.test",
            "--subject",
            "downgrade",
        ],
        "secret\n",
    );
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("does not offer STARTTLS"),
        "{}",
        stderr(&out)
    );
    let log = log.lock().unwrap();
    assert!(log.messages.is_empty());
    assert!(
        !log.chunks
            .iter()
            .any(|c| c.starts_with("AUTH") || c.starts_with("MAIL")),
        "{:?}",
        log.chunks
    );
}

#[test]
fn the_background_engine_sends_the_outbox_and_retries_when_the_server_is_back() {
    use std::time::{Duration, Instant};
    use tern::engine::{Command, Event};

    let servers = MailServers::start();
    let alice = &servers.alice;
    let (port, open) = switchable_proxy(servers.ports.submissions);
    let data = servers.dir().join("alice-data");
    add_imap_account(&servers, &data, alice, servers.ports.imaps, &[]);
    rusqlite::Connection::open(data.join("tern.db"))
        .unwrap()
        .execute("UPDATE account SET outgoing_port = ?1", [port])
        .unwrap();
    let store = tern::store::Store::open_dir(&data).unwrap();
    let account = store.find_account("alice").unwrap();
    let draft = tern::mail::compose::Draft {
        to: vec!["bob@example.test".into()],
        subject: "from the engine".into(),
        text: "queued while the server is down\n".into(),
        ..Default::default()
    };
    let id = tern::engine::send::queue_message(&store, &account, &draft, None, None).unwrap();

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (command_tx, command_rx) = tokio::sync::mpsc::channel(8);
    let (event_tx, mut event_rx) = tokio::sync::mpsc::channel(4096);
    let engine = runtime.spawn(tern::engine::imap::run(
        store.clone(),
        account.clone(),
        tern::account::credentials::Secret::new(alice.password.clone()),
        command_rx,
        event_tx,
    ));
    let outbox_events = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = outbox_events.clone();
    runtime.spawn(async move {
        while let Some(event) = event_rx.recv().await {
            if matches!(event, Event::OutboxChanged { .. }) {
                counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            }
        }
    });
    let wait_for = |what: &str, check: &dyn Fn() -> bool| {
        let deadline = Instant::now() + Duration::from_secs(30);
        while !check() {
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    // The server is down: the engine defers the message and keeps syncing.
    wait_for("a failed attempt", &|| {
        store
            .outbox_row(id)
            .is_ok_and(|r| r.state == "queued" && r.error.is_some())
    });
    // The event follows the store change; wait for it rather than race it.
    wait_for("an OutboxChanged event", &|| {
        outbox_events.load(std::sync::atomic::Ordering::SeqCst) > 0
    });
    // It is back; Get Mail/Send (Flush) sends at once instead of waiting for the backoff.
    open.store(true, std::sync::atomic::Ordering::SeqCst);
    runtime.block_on(command_tx.send(Command::Flush)).unwrap();
    wait_for("the message to leave the outbox", &|| {
        store.outbox_row(id).is_err()
    });
    mailbox::wait_for(&servers, &servers.bob, "INBOX", 1);
    // The Sent copy is uploaded by the engine's next replay.
    runtime.block_on(command_tx.send(Command::SyncNow)).unwrap();
    wait_for("the Sent copy", &|| {
        mailbox::count(&servers, alice, "Sent") == 1
    });
    runtime
        .block_on(command_tx.send(Command::Shutdown))
        .unwrap();
    runtime.block_on(engine).unwrap();
}

#[test]
fn forwards_mark_the_original_and_relaying_without_login_is_refused_clearly() {
    let servers = MailServers::start();
    let (alice, bob) = (&servers.alice, &servers.bob);
    let alice_data = servers.dir().join("alice-data");
    let bob_data = servers.dir().join("bob-data");
    add_imap_account(&servers, &alice_data, alice, servers.ports.imaps, &[]);
    add_imap_account(
        &servers,
        &bob_data,
        bob,
        servers.ports.imaps,
        &["--signature", "Bob\nexample.test", "--server-saves-sent"],
    );
    let report = servers.dir().join("q3.pdf");
    std::fs::write(&report, b"%PDF-1.4 quarterly").unwrap();
    ok(tern_in(
        &alice_data,
        &[
            "send",
            "--account",
            "alice",
            "--to",
            &bob.address,
            "--subject",
            "Q3",
            "--attach",
            report.to_str().unwrap(),
        ],
        "Numbers attached.\n",
    ));
    mailbox::wait_for(&servers, bob, "INBOX", 1);
    ok(tern(&bob_data, &["sync"]));
    let id = json(tern(&bob_data, &["list", "--account", "bob", "--json"]))[0]["id"].to_string();

    // Inline: the text and the attachment travel on; as attachment: the whole message.
    ok(tern_in(
        &bob_data,
        &[
            "send",
            "--account",
            "bob",
            "--forward-id",
            &id,
            "--to",
            &servers.carol.address,
        ],
        "FYI\n",
    ));
    ok(tern_in(
        &bob_data,
        &[
            "send",
            "--account",
            "bob",
            "--forward-id",
            &id,
            "--as-attachment",
            "--to",
            &servers.carol.address,
        ],
        "the original\n",
    ));
    mailbox::wait_for(&servers, &servers.carol, "INBOX", 2);
    let got = mailbox::messages(&servers, &servers.carol, "INBOX");
    let inline = MessageParser::default().parse(&got[0].0).unwrap();
    assert_eq!(inline.subject(), Some("Fwd: Q3"));
    let text = inline.body_text(0).unwrap().replace("\r\n", "\n");
    assert!(
        text.starts_with("FYI\n\n-- \nBob\nexample.test\n"),
        "signature: {text}"
    );
    assert!(
        text.contains("-------- Forwarded Message --------") && text.contains("Numbers attached."),
        "{text}"
    );
    assert_eq!(
        inline.attachment(0).unwrap().contents(),
        b"%PDF-1.4 quarterly"
    );
    let attached = MessageParser::default().parse(&got[1].0).unwrap();
    let part = attached.attachment(0).unwrap();
    assert_eq!(part.content_type().unwrap().ctype(), "message");
    let nested = part.message().expect("a message/rfc822 part");
    assert_eq!(nested.subject(), Some("Q3"));
    // $Forwarded on the original; no Sent copy, because the server saves sent mail itself.
    let (_, flags) = &mailbox::messages(&servers, bob, "INBOX")[0];
    assert!(flags.contains("$Forwarded"), "{flags}");
    assert_eq!(mailbox::count(&servers, bob, "Sent"), 0);

    // The MX port offers no AUTH: a recipient elsewhere is refused as relaying, clearly.
    support::cli::use_plain_smtp(&alice_data, servers.ports.smtp);
    let out = tern_in(
        &alice_data,
        &[
            "send",
            "--account",
            "alice",
            "--to",
            "someone@elsewhere.test",
            "--subject",
            "relay",
        ],
        "x\n",
    );
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("refused to relay to someone@elsewhere.test") && err.contains("554"),
        "{err}"
    );
    assert_eq!(
        json(tern(&alice_data, &["outbox", "--json"]))[0]["state"],
        "failed"
    );
}

#[test]
fn pop3_accounts_keep_the_sent_copy_locally() {
    let servers = MailServers::start();
    let alice = &servers.alice;
    let data = servers.dir().join("alice-data");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(data.join("password"), &alice.password).unwrap();
    let cmd = format!("cat {}", data.join("password").display());
    let incoming = format!("127.0.0.1:{}", servers.ports.pop3s);
    let outgoing = format!("127.0.0.1:{}", servers.ports.submissions);
    ok(tern(
        &data,
        &[
            "account",
            "add",
            "--name",
            "alice",
            "--email",
            &alice.address,
            "--protocol",
            "pop3",
            "--incoming",
            &incoming,
            "--incoming-security",
            "tls",
            "--outgoing",
            &outgoing,
            "--outgoing-security",
            "tls",
            "--password-cmd",
            &cmd,
            "--ca-file",
            servers.certs.ca_pem.to_str().unwrap(),
        ],
    ));
    ok(tern_in(
        &data,
        &[
            "send",
            "--account",
            "alice",
            "--to",
            "bob@example.test",
            "--subject",
            "via pop3 account",
        ],
        "hello\n",
    ));
    mailbox::wait_for(&servers, &servers.bob, "INBOX", 1);
    let sent = json(tern(
        &data,
        &["list", "--account", "alice", "--folder", "Sent", "--json"],
    ));
    assert_eq!(sent.as_array().unwrap().len(), 1);
    assert_eq!(sent[0]["subject"], "via pop3 account");
    assert!(
        sent[0]["flags"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f == "\\Seen")
    );
    let shown = ok(tern(
        &data,
        &["show", &sent[0]["id"].to_string(), "--offline"],
    ));
    assert!(String::from_utf8_lossy(&shown.stdout).contains("hello"));
    assert_eq!(
        mailbox::count(&servers, alice, "Sent"),
        0,
        "nothing is uploaded for POP3"
    );
}
