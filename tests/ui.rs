//! The desktop window, driven headless by iced_test's emulator (tiny-skia) against a store synced
//! from the harness's Dovecot: the three panes fill, a click opens a message, and a screenshot
//! is kept for people to look at (`target/ui-screenshots/`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use std::time::Duration;

use support::cli::{add_imap_account, tern};
use support::{MailServers, corpus};

fn save_png(screenshot: &iced::window::Screenshot, path: &std::path::Path) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let file = std::fs::File::create(path).unwrap();
    let mut encoder = png::Encoder::new(file, screenshot.size.width, screenshot.size.height);
    encoder.set_color(png::ColorType::Rgba);
    let mut writer = encoder.write_header().unwrap();
    writer.write_image_data(&screenshot.rgba).unwrap();
    writer.finish().unwrap();
}

#[test]
fn the_three_panes_show_the_synced_mailbox_and_open_a_message() {
    let servers = MailServers::start();
    let bob = &servers.bob;
    let generated = corpus::fill_maildir(bob, "INBOX", 3000, 101);
    // A second folder: six read messages, one of them HTML with a remote and an inline image.
    let now = 1_790_000_000;
    for n in 1..=5 {
        let raw = format!(
            "From: Carol <carol@example.test>\r\nTo: {to}\r\nSubject: Project note {n}\r\n\
             Message-ID: <note{n}@example.test>\r\nDate: {date}\r\n\r\nNote {n}{word}.\r\n",
            to = bob.address,
            date = rfc2822(now - 3600 * n),
            word = if n == 3 { " about zanzibar" } else { "" },
        );
        corpus::write_message(bob, "Projects", raw.as_bytes(), &["\\Seen"], now - 3600 * n);
    }
    corpus::write_message(
        bob,
        "Projects",
        &html_message(&bob.address, now),
        &["\\Seen"],
        now,
    );
    let sub = format!(
        "From: Carol <carol@example.test>\r\nTo: {}\r\nSubject: Plans for 2026\r\n\
         Message-ID: <plans2026@example.test>\r\nDate: {}\r\n\r\nSoon.\r\n",
        bob.address,
        rfc2822(now)
    );
    corpus::write_message(bob, "Projects/2026", sub.as_bytes(), &["\\Seen"], now);
    let data = servers.dir().join("tern-data");
    add_imap_account(
        &servers,
        &data,
        bob,
        servers.ports.imaps,
        &["--download-bodies"],
    );
    // A second account: the folder pane then shows the Unified Inbox.
    let alice = &servers.alice;
    let alice_note = format!(
        "From: Dan <dan@example.test>\r\nTo: {}\r\nSubject: For Alice only\r\n\
         Message-ID: <alice-note@example.test>\r\nDate: {}\r\n\r\nHi Alice.\r\n",
        alice.address,
        rfc2822(now + 86_400 * 400)
    );
    corpus::write_message(alice, "INBOX", alice_note.as_bytes(), &[], now);
    add_imap_account(&servers, &data, alice, servers.ports.imaps, &[]);
    let out = tern(&data, &["sync"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let newest = generated
        .iter()
        .max_by_key(|g| (g.date, g.message_id.clone()))
        .unwrap();
    let ice = format!(
        "viewport: 1280x800\nmode: Zen\n-----\n\
         expect \"INBOX — 3,000 messages\"\n\
         click {subject:?}\n\
         expect {from:?}\n\
         click \"Write\"\n\
         click \"name@example.com, …\"\n\
         type \"alice@example.test\"\n\
         click \"What is it about?\"\n\
         type \"Written in the window\"\n\
         click \"Send (Ctrl+Enter)\"\n\
         expect \"The message is in the outbox and is being sent.\"\n\
         click \"Archive message\"\n\
         expect \"INBOX — 2,999 messages\"\n",
        subject = newest.subject,
        // The reader's header shows the address beside the name.
        from = newest.from_addr,
    );
    let tests = servers.dir().join("ice");
    std::fs::create_dir_all(&tests).unwrap();
    std::fs::write(tests.join("open.ice"), &ice).unwrap();
    iced_test::run(tern::ui::application(data.clone()), &tests)
        .unwrap_or_else(|e| panic!("{e:?}\n{ice}"));

    // Select a folder, read HTML mail, reply, flag and delete from the keyboard, search.
    let flows = servers.dir().join("ice-flows");
    std::fs::create_dir_all(&flows).unwrap();
    let flow = "viewport: 1280x800\nmode: Zen\n-----\n\
         click \"Projects\"\n\
         expect \"Projects — 6 messages\"\n\
         click \"Newsletter with pictures\"\n\
         expect \"Tern blocked 1 remote image in this message. Remote content is never loaded, so the sender cannot tell that you read it.\"\n\
         expect \"Show plain text\"\n\
         click \"Reply\"\n\
         click \"Message\"\n\
         expect \"Show plain text\"\n\
         click \"Re: Newsletter with pictures\"\n\
         click \"Send (Ctrl+Enter)\"\n\
         expect \"The message is in the outbox and is being sent.\"\n\
         click \"Project note 1\"\n\
         type \"s\"\n\
         click \"Project note 2\"\n\
         type backspace\n\
         expect \"Projects — 5 messages\"\n\
         click \"Search all mail (Ctrl+F)\"\n\
         type \"zanzibar\"\n\
         expect \"1 result\"\n\
         expect \"Project note 3\"\n\
         click \"Unified Inbox\"\n\
         expect \"For Alice only\"\n\
         click \"Projects\"\n\
         click \"Threads\"\n\
         expect \"Projects — 5 conversations\"\n\
         click \"Threads\"\n\
         expect \"Projects — 5 messages\"\n\
         expect \"2026\"\n\
         click \"Hide the subfolders of Projects\"\n\
         click \"Show the subfolders of Projects\"\n\
         expect \"2026\"\n\
         press \"Project note 4\"\n\
         release \"Archive\"\n\
         expect \"Projects — 4 messages\"\n\
         click \"Junk\"\n\
         click right \"Junk\"\n\
         click \"Delete folder\"\n\
         expect \"Delete Junk: it is the account's junk folder?\"\n\
         click \"Cancel\"\n\
         expect \"Junk\"\n";
    std::fs::write(flows.join("flows.ice"), flow).unwrap();
    iced_test::run(tern::ui::application(data.clone()), &flows)
        .unwrap_or_else(|e| panic!("{e:?}\n{flow}"));
    let store = tern::store::Store::open_dir(&data).unwrap();
    let projects = store
        .folders(store.accounts().unwrap()[0].id)
        .unwrap()
        .into_iter()
        .find(|f| f.path == "Projects")
        .unwrap();
    let rows = store
        .folder_page_at(projects.id, tern::store::SortOrder::DateDesc, 0, 10)
        .unwrap();
    let note1 = rows.iter().find(|r| r.subject == "Project note 1").unwrap();
    assert_ne!(note1.flags & tern::store::flag::FLAGGED, 0, "S flagged it");
    assert!(
        rows.iter().all(|r| r.subject != "Project note 2"),
        "Backspace deleted it: {rows:?}"
    );
    let archive = store
        .folders(store.accounts().unwrap()[0].id)
        .unwrap()
        .into_iter()
        .find(|f| f.path == "Archive")
        .unwrap();
    let archived = store
        .folder_page_at(archive.id, tern::store::SortOrder::DateDesc, 0, 50)
        .unwrap();
    assert!(
        archived.iter().any(|r| r.subject == "Project note 4"),
        "dragged onto Archive: {archived:?}"
    );
    let outbox = store.outbox(None).unwrap();
    let filed = store
        .search("Newsletter", None, 50)
        .unwrap()
        .iter()
        .any(|r| r.subject == "Re: Newsletter with pictures");
    assert!(
        outbox
            .iter()
            .any(|r| r.subject == "Re: Newsletter with pictures")
            || filed,
        "the reply is in the outbox or filed in Sent: {outbox:?}"
    );
    drop(store);

    // Settings: "New account" opens the setup wizard, which checks what is typed and can be
    // cancelled back to Settings.
    let settings = servers.dir().join("ice-settings");
    std::fs::create_dir_all(&settings).unwrap();
    std::fs::write(
        settings.join("add.ice"),
        "viewport: 1280x800\nmode: Zen\n-----\n\
         click \"Settings\"\n\
         click \"New account\"\n\
         expect \"Set up your mail account\"\n\
         click \"jo@example.com\"\n\
         type \"jo@example.test\"\n\
         click \"Continue\"\n\
         expect \"Enter your password.\"\n\
         click \"Set up manually\"\n\
         expect \"Pinned certificate (optional; SHA-256 in hex)\"\n\
         click \"Back\"\n\
         click \"Cancel\"\n\
         expect \"General\"\n",
    )
    .unwrap();
    // Discovery asks nothing off this machine, should the flow ever reach it.
    iced_test::run(
        tern::ui::application_with(data.clone(), Ok(support::discovery::nowhere())),
        &settings,
    )
    .unwrap_or_else(|e| panic!("{e:?}"));

    // The composer put the message in the outbox (or the engine already sent it).
    let store = tern::store::Store::open_dir(&data).unwrap();
    let outbox = store.outbox(None).unwrap();
    let delivered = support::mailbox::count(&servers, &servers.alice, "INBOX");
    assert!(
        outbox.iter().any(|r| r.subject == "Written in the window") || delivered == 2,
        "{outbox:?}"
    );

    let shot = iced_test::screenshot(
        &tern::ui::application(data.clone()),
        &tern::ui::theme::light(),
        (1280.0, 800.0),
        1.0,
        Duration::from_secs(3),
    );
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("ui-screenshots");
    save_png(&shot, &dir.join("mailbox.png"));
    assert!(
        shot.rgba.chunks(4).any(|p| p[0] < 100),
        "something was drawn"
    );
}

fn rfc2822(seconds: i64) -> String {
    chrono::DateTime::from_timestamp(seconds, 0)
        .unwrap()
        .format("%a, %d %b %Y %H:%M:%S +0000")
        .to_string()
}

/// An HTML newsletter (multipart/related: text and HTML alternatives, and a PNG the HTML shows
/// by Content-ID) that also references a remote tracking image.
fn html_message(to: &str, date: i64) -> Vec<u8> {
    use base64::Engine as _;
    let mut png_bytes = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut png_bytes, 4, 4);
        encoder.set_color(png::ColorType::Rgba);
        let mut writer = encoder.write_header().unwrap();
        writer.write_image_data(&[200u8; 4 * 4 * 4]).unwrap();
        writer.finish().unwrap();
    }
    let png = base64::engine::general_purpose::STANDARD.encode(&png_bytes);
    format!(
        "From: News <news@example.test>\r\nTo: {to}\r\nSubject: Newsletter with pictures\r\n\
         Message-ID: <news@example.test>\r\nDate: {date}\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/related; boundary=\"rel\"\r\n\r\n\
         --rel\r\nContent-Type: multipart/alternative; boundary=\"alt\"\r\n\r\n\
         --alt\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHello in plain text.\r\n\
         --alt\r\nContent-Type: text/html; charset=utf-8\r\n\r\n\
         <html><body><h1>Hello</h1><p>This is <b>bold</b> and <a href=\"https://example.test/read\">a link</a>.</p>\
         <img src=\"https://tracker.example.test/open.gif\" width=1 height=1>\
         <img src=\"cid:logo@tern.test\" alt=\"Logo\"><script>alert(1)</script></body></html>\r\n\
         --alt--\r\n\
         --rel\r\nContent-Type: image/png\r\nContent-ID: <logo@tern.test>\r\n\
         Content-Disposition: inline\r\nContent-Transfer-Encoding: base64\r\n\r\n{png}\r\n\
         --rel--\r\n",
        date = rfc2822(date),
    )
    .into_bytes()
}

/// The Outbox lists a message that cannot be sent (its server is down) and takes it back into
/// the composer to be edited; it leaves the outbox then, so it is not sent meanwhile.
#[test]
fn the_outbox_shows_waiting_mail_and_gives_it_back_to_edit() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let add = tern(
        &data,
        &[
            "account",
            "add",
            "--name",
            "stuck",
            "--email",
            "stuck@example.test",
            "--protocol",
            "imap",
            "--incoming",
            "127.0.0.1:1",
            "--incoming-security",
            "tls",
            "--outgoing",
            "127.0.0.1:1",
            "--outgoing-security",
            "tls",
            "--password-cmd",
            "echo not-used",
        ],
    );
    assert!(
        add.status.success(),
        "{}",
        String::from_utf8_lossy(&add.stderr)
    );
    let mut send = std::process::Command::new(env!("CARGO_BIN_EXE_tern"))
        .arg("--data-dir")
        .arg(&data)
        .args([
            "send",
            "--account",
            "stuck",
            "--to",
            "dan@example.test",
            "--bcc",
            "eve@example.test",
            "--subject",
            "Stuck in the outbox",
            "--queue",
        ])
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write as _;
    send.stdin
        .take()
        .unwrap()
        .write_all(b"Hello Dan.\n")
        .unwrap();
    let out = send.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // A change that failed (an upload the server refused), and a folder the last sync could
    // not read.
    {
        let store = tern::store::Store::open_dir(&data).unwrap();
        let account = store.find_account("stuck").unwrap();
        let inbox = store.folders(account.id).unwrap()[0].id;
        let raw = b"From: stuck@example.test\r\nSubject: Never uploaded\r\nMessage-ID: <nu@example.test>\r\n\r\nhi\r\n";
        tern::engine::local::queue_append(&store, inbox, raw, tern::store::flag::SEEN).unwrap();
        let op = store.pending_ops(account.id).unwrap()[0].id;
        store
            .fail_op(
                op,
                "cannot store the message in INBOX: the server said: quota exceeded",
            )
            .unwrap();
        store
            .set_folder_error(inbox, Some("SELECT INBOX failed: permission denied"))
            .unwrap();
    }

    let tests = dir.path().join("ice");
    std::fs::create_dir_all(&tests).unwrap();
    let ice = "viewport: 1280x800\nmode: Zen\n-----\n\
               expect \"INBOX: not synced\"\n\
               expect \"1 failed — see Outbox\"\n\
               click \"Settings\"\n\
               click \"stuck\"\n\
               click \"Remove account\"\n\
               expect \"Remove stuck? This loses 1 message stored only on this computer, 1 change not yet on the server, 1 message in the outbox, not sent.\"\n\
               click \"Keep it\"\n\
               click \"Close\"\n\
               click \"Outbox\"\n\
               expect \"Stuck in the outbox\"\n\
               expect \"Changes that did not reach the server\"\n\
               expect \"Upload to the server: “Never uploaded” in INBOX\"\n\
               expect \"Failed: cannot store the message in INBOX: the server said: quota exceeded\"\n\
               click \"Dismiss (delete the message)\"\n\
               click \"Edit\"\n\
               expect \"Send (Ctrl+Enter)\"\n";
    std::fs::write(tests.join("outbox.ice"), ice).unwrap();
    iced_test::run(tern::ui::application(data.clone()), &tests)
        .unwrap_or_else(|e| panic!("{e:?}\n{ice}"));
    let store = tern::store::Store::open_dir(&data).unwrap();
    assert!(
        store.outbox(None).unwrap().is_empty(),
        "the edited message left the outbox"
    );
    let account = store.find_account("stuck").unwrap();
    assert!(
        store.failed_actions(Some(account.id)).unwrap().is_empty(),
        "the failed upload was dismissed"
    );
    assert_eq!(
        store.folders(account.id).unwrap()[0].total,
        0,
        "its message went with it"
    );
    assert_eq!(
        store.accounts().unwrap().len(),
        1,
        "Keep it kept the account"
    );
}
