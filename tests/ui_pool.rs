//! The window's engines: bodies and inline images come through each engine's bounded pool
//! (thirty uncached messages with inline images, opened in quick succession, cost at most three
//! connections at once, the IDLE one and two pooled, and fewer than five logins, and every one
//! of them is fetched and cached); and saving Settings while a message is being sent restarts
//! the engine only after that message is through, so it is neither lost nor sent twice.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use support::cli::{add_imap_account, tern};
use support::screens::pump_until;
use support::{MailServers, corpus};

const N: usize = 30;

fn picture_mail(to: &str, n: usize, date: i64) -> Vec<u8> {
    use base64::Engine as _;
    let mut png_bytes = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut png_bytes, 4, 4);
        encoder.set_color(png::ColorType::Rgba);
        let mut writer = encoder.write_header().unwrap();
        writer
            .write_image_data(&[u8::try_from(n * 8).unwrap(); 4 * 4 * 4])
            .unwrap();
        writer.finish().unwrap();
    }
    let png = base64::engine::general_purpose::STANDARD.encode(&png_bytes);
    let date = chrono::DateTime::from_timestamp(date, 0)
        .unwrap()
        .format("%a, %d %b %Y %H:%M:%S +0000");
    format!(
        "From: Gallery <gallery@example.test>\r\nTo: {to}\r\nSubject: Picture mail {n:02}\r\n\
         Message-ID: <picture{n}@example.test>\r\nDate: {date}\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/related; boundary=\"rel\"\r\n\r\n\
         --rel\r\nContent-Type: text/html; charset=utf-8\r\n\r\n\
         <html><body><p>Picture number {n}.</p><img src=\"cid:pic{n}@tern.test\"></body></html>\r\n\
         --rel\r\nContent-Type: image/png\r\nContent-ID: <pic{n}@tern.test>\r\n\
         Content-Disposition: inline\r\nContent-Transfer-Encoding: base64\r\n\r\n{png}\r\n\
         --rel--\r\n"
    )
    .into_bytes()
}

#[test]
fn thirty_messages_opened_at_once_share_a_bounded_pool() {
    let servers = MailServers::start();
    let bob = &servers.bob;
    let now = 1_790_000_000;
    for n in 0..N {
        let raw = picture_mail(&bob.address, n, now - 60 * i64::try_from(n).unwrap());
        corpus::write_message(bob, "INBOX", &raw, &["\\Seen"], now);
    }
    let (proxy, counts) = support::proxy::counting_proxy(servers.ports.imaps);
    let data = servers.dir().join("tern-data");
    add_imap_account(&servers, &data, bob, proxy, &[]);
    let out = tern(&data, &["sync"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let store = tern::store::Store::open_dir(&data).unwrap();
    let inbox = store
        .find_folder(store.find_account("bob").unwrap().id, "INBOX")
        .unwrap();
    let rows = store
        .folder_page_at(inbox.id, tern::store::SortOrder::DateDesc, 0, 100)
        .unwrap();
    assert_eq!(rows.len(), N);
    assert!(
        rows.iter()
            .all(|r| store.raw_message(r.id).unwrap().is_none())
    );
    counts.reset();

    // The real window in the emulator, not waiting for anything between the clicks; the list
    // as a table, so all thirty rows are in view.
    std::fs::write(data.join("ui.json"), br#"{"list_layout": "Table"}"#).unwrap();
    let program = tern::ui::application(data.clone());
    let (sender, mut receiver) = iced_test::futures::futures::channel::mpsc::channel(64);
    let mut emulator = iced_test::Emulator::new(
        sender,
        &program,
        iced_test::emulator::Mode::Immediate,
        iced::Size::new(1280.0, 1400.0),
    );
    let mut pump = |emulator: &mut iced_test::Emulator<_>, until: Instant| {
        pump_until(&program, emulator, &mut receiver, until)
    };
    // Let it boot and its engine connect (the IDLE connection).
    let boot = Instant::now() + Duration::from_secs(30);
    while counts.open.load(Ordering::SeqCst) == 0 && Instant::now() < boot {
        pump(&mut emulator, Instant::now() + Duration::from_millis(50));
    }
    pump(&mut emulator, Instant::now() + Duration::from_secs(2));
    assert_eq!(
        counts.open.load(Ordering::SeqCst),
        1,
        "the engine's connection"
    );

    let clicks: String = rows
        .iter()
        .map(|r| format!("click {:?}\n", r.subject))
        .collect();
    let ice = iced_test::Ice::parse(&format!(
        "viewport: 1280x1400\nmode: Immediate\n-----\n{clicks}"
    ))
    .unwrap();
    for (row, click) in rows.iter().zip(ice.instructions) {
        emulator.run(&program, click);
        assert!(
            pump(&mut emulator, Instant::now() + Duration::from_secs(10)),
            "clicking {}",
            row.subject
        );
    }

    // Every body arrives, through the pool (section 1 is the HTML, 2 the inline image), and
    // the message left open shows its image too.
    let cached = |id: i64, section: &str| store.body_part(id, section).unwrap().is_some();
    let bodies = || rows.iter().filter(|r| cached(r.id, "1")).count();
    let last = rows.last().unwrap().id;
    let deadline = Instant::now() + Duration::from_secs(60);
    while (bodies() < N || !cached(last, "2")) && Instant::now() < deadline {
        pump(&mut emulator, Instant::now() + Duration::from_millis(100));
    }
    let most = counts.most.load(Ordering::SeqCst);
    let logins = counts.total.load(Ordering::SeqCst);
    eprintln!(
        "{} of {N} bodies fetched; at most {most} connections at once; {logins} new connections",
        bodies()
    );
    assert_eq!(bodies(), N, "every body was fetched");
    assert!(
        cached(last, "2"),
        "the open message's inline image was fetched"
    );
    assert!(most <= 3, "{most} connections at once");
    assert!(logins < 5, "{logins} logins (the engine's included)");
    drop(emulator);
}

/// Saving Settings while the account's engine waits for the server's 250 restarts that engine
/// only after the message is through: it is sent once, filed, and never left `sending` or
/// `unknown` (an engine aborted mid-send would leave it so).
#[test]
fn saving_settings_mid_send_lets_the_message_finish() {
    let servers = MailServers::start();
    let alice = &servers.alice;
    let (smtp, log) = support::fake_smtp::start(vec![support::fake_smtp::AfterDot::Delay(4)]);
    let data = servers.dir().join("alice-data");
    add_imap_account(&servers, &data, alice, servers.ports.imaps, &[]);
    support::cli::use_plain_smtp(&data, smtp);
    let out = tern(&data, &["sync"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let store = tern::store::Store::open_dir(&data).unwrap();
    let account = store.find_account("alice").unwrap();
    let draft = tern::mail::compose::Draft {
        to: vec!["bob@example.test".into()],
        subject: "Sent while settings change".into(),
        text: "hello\n".into(),
        ..Default::default()
    };
    let id = tern::engine::send::queue_message(&store, &account, &draft, None, None).unwrap();

    let program = tern::ui::application(data.clone());
    let (mut emulator, mut receiver) = support::screens::emulator(&program);
    // The engine starts and sends; the server takes its time over the 250.
    let deadline = Instant::now() + Duration::from_secs(30);
    while log.lock().unwrap().messages.is_empty() {
        assert!(
            Instant::now() < deadline,
            "the message never reached the server"
        );
        pump_until(
            &program,
            &mut emulator,
            &mut receiver,
            Instant::now() + Duration::from_millis(50),
        );
    }
    assert_eq!(store.outbox_row(id).unwrap().state, "sending");
    // Meanwhile the user changes the account's settings and saves.
    let ice = iced_test::Ice::parse(
        "viewport: 1280x800\nmode: Immediate\n-----\n\
         click \"Settings\"\n\
         click \"alice\"\n\
         click \"Download all messages for offline reading\"\n\
         click \"Save\"\n",
    )
    .unwrap();
    for instruction in ice.instructions {
        emulator.run(&program, instruction);
        assert!(pump_until(
            &program,
            &mut emulator,
            &mut receiver,
            Instant::now() + Duration::from_secs(10)
        ));
    }
    let saved = Instant::now() + Duration::from_secs(10);
    while !store.account(account.id).unwrap().download_bodies {
        assert!(Instant::now() < saved, "the settings were not saved");
        pump_until(
            &program,
            &mut emulator,
            &mut receiver,
            Instant::now() + Duration::from_millis(50),
        );
    }
    // The old engine finishes the message; the new one has nothing left to send.
    let deadline = Instant::now() + Duration::from_secs(30);
    while store.outbox_row(id).is_ok() {
        let state = store.outbox_row(id).unwrap().state;
        assert_ne!(state, "unknown", "the send was cut off by the restart");
        assert!(Instant::now() < deadline, "the message is still {state}");
        pump_until(
            &program,
            &mut emulator,
            &mut receiver,
            Instant::now() + Duration::from_millis(50),
        );
    }
    pump_until(
        &program,
        &mut emulator,
        &mut receiver,
        Instant::now() + Duration::from_secs(2),
    );
    assert_eq!(log.lock().unwrap().messages.len(), 1, "sent exactly once");
    assert!(
        store.outbox(Some(account.id)).unwrap().is_empty(),
        "{:?}",
        store.outbox(Some(account.id)).unwrap()
    );
    drop(emulator);
}
