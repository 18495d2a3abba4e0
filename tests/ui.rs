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
    let data = servers.dir().join("tern-data");
    add_imap_account(
        &servers,
        &data,
        bob,
        servers.ports.imaps,
        &["--download-bodies"],
    );
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
         click \"Archive\"\n\
         expect \"INBOX — 2,999 messages\"\n",
        subject = newest.subject,
        from = if newest.from_name.is_empty() {
            newest.from_addr.clone()
        } else {
            format!("{} <{}>", newest.from_name, newest.from_addr)
        },
    );
    let tests = servers.dir().join("ice");
    std::fs::create_dir_all(&tests).unwrap();
    std::fs::write(tests.join("open.ice"), &ice).unwrap();
    iced_test::run(tern::ui::application(data.clone()), &tests)
        .unwrap_or_else(|e| panic!("{e:?}\n{ice}"));

    // Settings: add an account by hand.
    let settings = servers.dir().join("ice-settings");
    std::fs::create_dir_all(&settings).unwrap();
    std::fs::write(
        settings.join("add.ice"),
        "viewport: 1280x800\nmode: Zen\n-----\n\
         click \"Settings\"\n\
         click \"work\"\n\
         type \"work\"\n\
         click \"jo@example.com\"\n\
         type \"jo@example.test\"\n\
         click \"imap.example.com:993\"\n\
         type \"127.0.0.1:1\"\n\
         click \"smtp.example.com:465\"\n\
         type \"127.0.0.1:1\"\n\
         click \"Add account\"\n\
         expect \"Cannot add the account: choose IMAP or POP3\"\n",
    )
    .unwrap();
    iced_test::run(tern::ui::application(data.clone()), &settings)
        .unwrap_or_else(|e| panic!("{e:?}"));

    // The composer put the message in the outbox (or the engine already sent it).
    let store = tern::store::Store::open_dir(&data).unwrap();
    let outbox = store.outbox(None).unwrap();
    let delivered = support::mailbox::count(&servers, &servers.alice, "INBOX");
    assert!(
        outbox.iter().any(|r| r.subject == "Written in the window") || delivered == 1,
        "{outbox:?}"
    );

    let shot = iced_test::screenshot(
        &tern::ui::application(data.clone()),
        &iced::Theme::Light,
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
