//! What the desktop hands Tern (`tern mailto:…`, `tern message.eml`): a link opens the composer
//! prefilled from its fields, and a message file opens in the viewer, where Reply answers it from
//! the user's account. Screenshots go to `target/tmp/ui-screenshots/`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use std::time::Duration;

use support::screens::{drive, save_png};
use support::{MailServers, cli, corpus};
use tern::instance::Target;

#[test]
fn a_mailto_link_opens_the_composer_and_a_message_file_the_viewer() {
    let servers = MailServers::start();
    let bob = &servers.bob;
    corpus::fill_maildir(bob, "INBOX", 3, 17);
    let data = servers.dir().join("bob-data");
    cli::add_imap_account(&servers, &data, bob, servers.ports.imaps, &[]);
    cli::tern_ok(&data, &["sync"]);
    let patience = |_: &str| Duration::from_secs(30);

    // A link with every field, percent-encoded (RFC 6068).
    let link = "mailto:ann@example.org?cc=carl%40example.org&bcc=dora@example.org\
                &subject=Tickets%20for%20Friday&body=Two%20seats%2C%20please.%0D%0AThanks";
    let program = tern::ui::application_opening(
        data.clone(),
        Ok(support::discovery::nowhere()),
        vec![
            Target::Mailto(link.into()),
            Target::Mailto("mailto:eve@example.org?subject=Second%20link".into()),
        ],
    );
    let (mut emulator, _) = drive(
        &program,
        &[
            "expect \"Tickets for Friday\"",
            "expect \"ann@example.org\"",
            "expect \"carl@example.org\"",
            "expect \"dora@example.org\"",
            // The second link waits for this composer, and opens once it is gone.
            "expect \"A mailto: link waits until you send, save or discard the message you are writing.\"",
        ],
        patience,
        "open-mailto",
    );
    save_png(
        &emulator.screenshot(&program, &tern::ui::theme::light(), 1.0),
        "open-mailto.png",
    );
    drop(emulator);
    let (emulator, _) = drive(
        &program,
        &[
            "expect \"Tickets for Friday\"",
            "click \"Discard\"",
            "expect \"Second link\"",
            "expect \"eve@example.org\"",
        ],
        patience,
        "open-mailto-second",
    );
    drop(emulator);

    // A saved message, with an attachment named to escape the folder it is saved in.
    let file = servers.dir().join("Lunch plans.eml");
    std::fs::write(
        &file,
        "From: Ann Example <ann@example.org>\r\nTo: bob@example.test\r\n\
         Subject: Lunch on Thursday\r\nDate: Tue, 1 Dec 2026 10:00:00 +0000\r\n\
         Message-ID: <lunch@example.org>\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\nThe place by the river, at noon?\r\n\
         --b\r\nContent-Type: application/pdf\r\n\
         Content-Disposition: attachment; filename=\"../../menu.pdf\"\r\n\r\n%PDF\r\n--b--\r\n",
    )
    .unwrap();
    let program = tern::ui::application_opening(
        data.clone(),
        Ok(support::discovery::nowhere()),
        vec![Target::File(file)],
    );
    let (mut emulator, _) = drive(
        &program,
        &[
            "expect \"Lunch on Thursday\"",
            "expect \"The place by the river, at noon?\"",
            "expect \"Opened from the file Lunch plans.eml\"",
            "expect \"menu.pdf\"",
        ],
        patience,
        "open-eml",
    );
    save_png(
        &emulator.screenshot(&program, &tern::ui::theme::light(), 1.0),
        "open-eml.png",
    );
    drop(emulator);
    let (mut emulator, _) = drive(
        &program,
        &[
            "expect \"Lunch on Thursday\"",
            "click \"Reply\"",
            "expect \"Re: Lunch on Thursday\"",
        ],
        patience,
        "open-eml-reply",
    );
    save_png(
        &emulator.screenshot(&program, &tern::ui::theme::light(), 1.0),
        "open-eml-reply.png",
    );
}
