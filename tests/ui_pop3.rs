//! A POP3 account in the window: its engine checks for mail at start and sends the outbox
//! (a copy in the local Sent folder), Get Mail picks up a new delivery, the folder tree shows
//! the local folders and Settings the retention options and check interval. Screenshots go to
//! `target/tmp/ui-screenshots/`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use std::time::{Duration, Instant};

use support::screens::{pump_until, save_png};
use support::{MailServers, cli, corpus, mailbox};

#[test]
fn the_window_checks_pop3_mail_sends_the_outbox_and_gets_mail_on_request() {
    let servers = MailServers::start();
    let bob = &servers.bob;
    corpus::fill_maildir(bob, "INBOX", 3, 71);
    let data = servers.dir().join("bob-data");
    cli::add_pop3_account(&servers, &data, bob, servers.ports.pop3s, "tls", &[]);
    let store = tern::store::Store::open_dir(&data).unwrap();
    let account = store.find_account("bob").unwrap();
    let draft = tern::mail::compose::Draft {
        to: vec![servers.alice.address.clone()],
        subject: "Sent from a POP3 account".into(),
        text: "hello from the window\n".into(),
        ..Default::default()
    };
    let queued = tern::engine::send::queue_message(&store, &account, &draft, None, None).unwrap();
    let count = |path: &str| store.find_folder(account.id, path).unwrap().total;

    let program = tern::ui::application(data.clone());
    let (mut emulator, mut receiver) = support::screens::emulator(&program);
    // At start the engine sends the outbox and checks for mail.
    let deadline = Instant::now() + Duration::from_secs(60);
    while count("INBOX") < 3 || store.outbox_row(queued).is_ok() {
        assert!(
            Instant::now() < deadline,
            "Inbox {} of 3, outbox {:?}",
            count("INBOX"),
            store.outbox(Some(account.id)).unwrap()
        );
        pump_until(
            &program,
            &mut emulator,
            &mut receiver,
            Instant::now() + Duration::from_millis(50),
        );
    }
    mailbox::wait_for(&servers, &servers.alice, "INBOX", 1);
    assert_eq!(count("Sent"), 1, "the sent copy is kept locally");

    // New mail arrives; Get Mail fetches it.
    mailbox::deliver_lmtp(
        &servers,
        bob,
        "From: phone@example.test\r\nTo: bob@example.test\r\nSubject: Arrived later\r\nMessage-ID: <later@example.test>\r\n\r\nlater\r\n",
    );
    let ice =
        iced_test::Ice::parse("viewport: 1280x800\nmode: Immediate\n-----\nclick \"Get Mail\"\n")
            .unwrap();
    for instruction in ice.instructions {
        emulator.run(&program, instruction);
        pump_until(
            &program,
            &mut emulator,
            &mut receiver,
            Instant::now() + Duration::from_secs(10),
        );
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while count("INBOX") < 4 {
        assert!(
            Instant::now() < deadline,
            "Get Mail did not fetch the new message"
        );
        pump_until(
            &program,
            &mut emulator,
            &mut receiver,
            Instant::now() + Duration::from_millis(50),
        );
    }
    // A look at the account's options.
    let ice = iced_test::Ice::parse(
        "viewport: 1280x800\nmode: Immediate\n-----\nclick \"Settings\"\nclick \"bob\"\n",
    )
    .unwrap();
    for instruction in ice.instructions {
        emulator.run(&program, instruction);
        pump_until(
            &program,
            &mut emulator,
            &mut receiver,
            Instant::now() + Duration::from_secs(10),
        );
    }
    save_png(
        &emulator.screenshot(&program, &tern::ui::theme::light(), 1.0),
        "pop3-settings.png",
    );
    drop(emulator);
    // Leave on server (the default): the server still has all four.
    assert_eq!(mailbox::count(&servers, bob, "INBOX"), 4);

    // The local folders, and the account's options in Settings.
    let flows = servers.dir().join("ice-pop3");
    std::fs::create_dir_all(&flows).unwrap();
    std::fs::write(
        flows.join("settings.ice"),
        "viewport: 1280x800\nmode: Zen\n-----\n\
         expect \"Archive\"\n\
         expect \"Arrived later\"\n\
         click \"Settings\"\n\
         click \"bob\"\n\
         expect \"Leave messages on the server (the copy here is kept either way)\"\n\
         expect \"Delete them from the server when I delete them here\"\n\
         expect \"Check mail every\"\n\
         click \"Delete them from the server when I delete them here\"\n\
         click \"Save\"\n\
         expect \"Saved the settings of bob.\"\n",
    )
    .unwrap();
    iced_test::run(tern::ui::application(data.clone()), &flows).unwrap_or_else(|e| panic!("{e:?}"));
    let account = store.find_account("bob").unwrap();
    assert!(
        account.pop3_delete_when_deleted,
        "Settings saved the option"
    );
    assert_eq!(account.poll_seconds, 600, "the default check interval");

    let shot = iced_test::screenshot(
        &tern::ui::application(data.clone()),
        &tern::ui::theme::light(),
        (1280.0, 800.0),
        1.0,
        Duration::from_secs(3),
    );
    save_png(&shot, "pop3-mailbox.png");
}
