//! The screenshot gallery: the window's main screens, in light and dark, rendered headless
//! (iced_test, tiny-skia) from a mailbox synced from the harness's Dovecot. Each screen is checked
//! for what it must show (the selected row's colour, the icon set, the accent), so a regression
//! in the look fails here. The PNGs go to `target/tmp/gallery/`; with `TERN_WRITE_GALLERY=1`
//! they are written to `docs/screenshots/` too, which the README shows.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use std::time::{Duration, Instant};

use support::cli::{add_imap_account, tern, tern_ok};
use support::screens::{drive, pump, save_png_to};
use support::{MailServers, corpus};

fn rfc2822(seconds: i64) -> String {
    chrono::DateTime::from_timestamp(seconds, 0)
        .unwrap()
        .format("%a, %d %b %Y %H:%M:%S +0000")
        .to_string()
}

/// A message from `from` with `subject` and `body`, as plain text.
fn plain(from: &str, to: &str, subject: &str, body: &str, date: i64, id: &str) -> Vec<u8> {
    format!(
        "From: {from}\r\nTo: {to}\r\nSubject: {subject}\r\nMessage-ID: <{id}@gallery.test>\r\n\
         Date: {date}\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\
         Content-Transfer-Encoding: 8bit\r\n\r\n{body}\r\n",
        date = rfc2822(date),
    )
    .into_bytes()
}

/// An HTML newsletter with a remote image (blocked), a PDF and a picture attached.
fn newsletter(to: &str, date: i64) -> Vec<u8> {
    use base64::Engine as _;
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
    let pdf = b64(&b"%PDF-1.4\n% gallery\n".repeat(400));
    // A real picture (a gradient) and one whose bytes are no image (shown as such, no panic).
    let mut png_bytes = Vec::new();
    {
        let (w, h) = (96u32, 64u32);
        let mut encoder = png::Encoder::new(&mut png_bytes, w, h);
        encoder.set_color(png::ColorType::Rgb);
        let mut writer = encoder.write_header().unwrap();
        let pixels: Vec<u8> = (0..h)
            .flat_map(|y| (0..w).flat_map(move |x| [(x * 2) as u8, (y * 3) as u8, 180]))
            .collect();
        writer.write_image_data(&pixels).unwrap();
        writer.finish().unwrap();
    }
    let picture = b64(&png_bytes);
    let broken = b64(&[0x89u8; 3_000]);
    format!(
        "From: Grace Hopper <grace@navy.example>\r\nTo: {to}\r\nCc: Ada Lovelace <ada@example.org>, \
         Alan Turing <alan@example.org>, Katherine Johnson <katherine@example.org>, \
         Edsger Dijkstra <edsger@example.org>\r\n\
         Subject: Quarterly engineering review: what shipped, what is next\r\n\
         Message-ID: <review@gallery.test>\r\nDate: {date}\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"mix\"\r\n\r\n\
         --mix\r\nContent-Type: text/html; charset=utf-8\r\n\r\n\
         <html><body><h2>Quarterly review</h2><p>Hello team,</p>\
         <p>The new sync engine shipped this quarter: <b>initial sync is five times faster</b> and \
         the offline outbox no longer loses a message when the laptop sleeps. \
         Read the <a href=\"https://example.org/notes\">release notes</a> for the details.</p>\
         <ul><li>IMAP QRESYNC everywhere</li><li>POP3 leave-on-server</li><li>A new look</li></ul>\
         <img src=\"https://tracker.example.org/pixel.gif\" width=1 height=1>\
         <p>Thanks to everyone who helped,<br>Grace</p></body></html>\r\n\
         --mix\r\nContent-Type: application/pdf; name=\"review-q4.pdf\"\r\n\
         Content-Disposition: attachment; filename=\"review-q4.pdf\"\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n{pdf}\r\n\
         --mix\r\nContent-Type: image/png; name=\"team-photo.png\"\r\n\
         Content-Disposition: attachment; filename=\"team-photo.png\"\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n{picture}\r\n\
         --mix\r\nContent-Type: image/png; name=\"scan.png\"\r\n\
         Content-Disposition: attachment; filename=\"scan.png\"\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n{broken}\r\n\
         --mix--\r\n",
        date = rfc2822(date),
    )
    .into_bytes()
}

/// The curated Inbox: recent mail from varied people and scripts, with every mark.
fn fill_inbox(servers: &MailServers) {
    let bob = &servers.bob;
    let to = &bob.address;
    let now = chrono::Utc::now().timestamp();
    let hour = 3600;
    let day = 86_400;
    let quoted = "Friday at 12:30 works for me. I will book a table for four.\n\n\
        On Monday, Mohamed wrote:\n\
        > There is a new place near the station, shall we try it?\n\
        > They have a lunch menu and a terrace.\n\
        >> Last time the queue was long.\n\
        >> We should go early.\n\
        > I can ask the others too.\n\
        > Tell me which day suits you.\n\
        > Thursday is out for me.\n\
        > Friday would be best.\n\
        > See you soon,\n\
        > Cheers,\n\
        > Mohamed";
    let messages: [(&str, &str, &str, i64, &[&'static str]); 12] = [
        (
            "Ada Lovelace <ada@example.org>",
            "Re: Lunch on Friday?",
            quoted,
            now - day - 6 * hour,
            &["\\Seen"],
        ),
        (
            "Ken Thompson <ken@example.org>",
            "Code review: async mailbox sync",
            "I left a few comments on the IDLE loop. The reconnect path looks right to me now.",
            now - 2 * hour,
            &[],
        ),
        (
            "José García <jose@example.es>",
            "Übersicht der Änderungen für die nächste Version",
            "Hier ist die Liste der Änderungen, die wir am Montag besprochen haben.",
            now - 5 * hour,
            &["\\Seen", "\\Answered"],
        ),
        (
            "田中 太郎 <tanaka@example.jp>",
            "会議の議事録",
            "昨日の会議の議事録を送ります。ご確認ください。",
            now - day - 3 * hour,
            &["\\Seen"],
        ),
        (
            "محمد علي <mohamed@example.eg>",
            "Lunch on Friday?",
            "There is a new place near the station, shall we try it?",
            now - 2 * day,
            &[],
        ),
        (
            "Ольга Иванова <olga@example.ru>",
            "Отчёт за неделю",
            "Отправляю недельный отчёт. Всё идёт по плану.",
            now - 3 * day,
            &["\\Seen", "$Forwarded"],
        ),
        (
            "Margaret Hamilton <margaret@example.org>",
            "Re: Travel booking confirmation for the conference in Lisbon next month",
            "The hotel is confirmed for three nights; the flight leaves at 07:40.",
            now - 4 * day,
            &["\\Seen", "\\Flagged"],
        ),
        (
            "Barbara Liskov <barbara@example.org>",
            "Design notes",
            "Substitutability matters more than the hierarchy. See the attached draft.",
            now - 20 * day,
            &["\\Seen"],
        ),
        (
            "Linus <linus@example.org>",
            "Release 6.1 planning",
            "Merge window opens next week.",
            now - 40 * day,
            &["\\Seen", "\\Answered"],
        ),
        (
            "noreply@bank.example",
            "Your statement is ready",
            "Your monthly statement is available in online banking.",
            now - 90 * day,
            &["\\Seen"],
        ),
        (
            "Dennis Ritchie <dmr@example.org>",
            "The C book, second printing",
            "The publisher asks for corrections by the end of the month.",
            now - 400 * day,
            &["\\Seen"],
        ),
        (
            "Frances Allen <fran@example.org>",
            "Compiler meetup",
            "Slides from the meetup are online.",
            now - 500 * day,
            &["\\Seen", "\\Flagged"],
        ),
    ];
    for (n, (from, subject, body, date, flags)) in messages.iter().enumerate() {
        let mut raw = plain(from, to, subject, body, *date, &format!("g{n}"));
        if *subject == "Re: Lunch on Friday?" {
            // A conversation of two: the reply names Mohamed's message (g4).
            raw = [
                b"In-Reply-To: <g4@gallery.test>\r\nReferences: <g4@gallery.test>\r\n".as_slice(),
                &raw,
            ]
            .concat();
        }
        corpus::write_message(bob, "INBOX", &raw, flags, *date);
    }
    corpus::write_message(
        bob,
        "INBOX",
        &newsletter(to, now - 40 * 60),
        &[],
        now - 40 * 60,
    );
    // A little volume below the curated mail, and other folders.
    corpus::fill_maildir(bob, "INBOX", 120, 13);
    corpus::fill_maildir(bob, "Archive", 20, 14);
    corpus::fill_maildir(bob, "Projects", 8, 15);
}

/// Which theme a screenshot is drawn in.
#[derive(Clone, Copy)]
enum Look {
    Light,
    Dark,
}

impl Look {
    fn theme(self) -> iced::Theme {
        match self {
            Look::Light => tern::ui::theme::light(),
            Look::Dark => tern::ui::theme::dark(),
        }
    }

    fn colors(self) -> &'static tern::ui::theme::Colors {
        match self {
            Look::Light => &tern::ui::theme::palette::LIGHT,
            Look::Dark => &tern::ui::theme::palette::DARK,
        }
    }

    fn suffix(self) -> &'static str {
        match self {
            Look::Light => "",
            Look::Dark => "-dark",
        }
    }
}

/// The window on `data`, driven by `lines`, then a screenshot in `look` saved as `NAME.png`
/// (and in the README's gallery when it is one of its screens).
fn shoot(
    data: &std::path::Path,
    lines: &[&str],
    name: &str,
    look: Look,
) -> iced::window::Screenshot {
    const GALLERY: [&str; 9] = [
        "welcome",
        "wizard",
        "mailbox-cards",
        "mailbox-table",
        "mailbox-conversation",
        "composer",
        "settings",
        "settings-account",
        "outbox",
    ];
    let program = tern::ui::application_with(data.to_owned(), Ok(support::discovery::nowhere()));
    let (mut emulator, mut receiver) = drive(&program, lines, |_| Duration::from_secs(60), name);
    // Let what the last step started (a page of rows, the reader's body) arrive.
    let settle = Instant::now() + Duration::from_millis(800);
    while Instant::now() < settle {
        pump(&program, &mut emulator, &mut receiver, settle);
    }
    let shot = emulator.screenshot(&program, &look.theme(), 1.0);
    let file = format!("{name}{}.png", look.suffix());
    save_png_to(
        &shot,
        &std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join("gallery")
            .join(&file),
    );
    if std::env::var_os("TERN_WRITE_GALLERY").is_some() && GALLERY.contains(&name) {
        save_png_to(
            &shot,
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("docs/screenshots")
                .join(&file),
        );
    }
    shot
}

/// How many pixels of `shot` inside `area` (x0, y0, x1, y1) are within a small distance of
/// `colour`.
fn pixels_like(shot: &iced::window::Screenshot, colour: iced::Color, area: [u32; 4]) -> usize {
    let [r, g, b, _] = colour.into_rgba8();
    let width = shot.size.width;
    let mut count = 0;
    for y in area[1]..area[3].min(shot.size.height) {
        for x in area[0]..area[2].min(width) {
            let at = ((y * width + x) * 4) as usize;
            let p = &shot.rgba[at..at + 3];
            let near = |a: u8, b: u8| a.abs_diff(b) <= 6;
            if near(p[0], r) && near(p[1], g) && near(p[2], b) {
                count += 1;
            }
        }
    }
    count
}

/// What every screen of the main window shows: its palette's base, the toolbar's icons in the
/// text colour, and the accent of the Write button.
fn check_chrome(shot: &iced::window::Screenshot, look: Look, name: &str) {
    let c = look.colors();
    let toolbar = [0, 0, 1280, 42];
    assert!(
        pixels_like(shot, c.accent, toolbar) > 300,
        "{name}: the Write button's accent"
    );
    assert!(
        pixels_like(shot, c.text, toolbar) > 150,
        "{name}: the toolbar's icons (the icon set rendered)"
    );
    assert!(
        pixels_like(shot, c.sidebar, [0, 60, 200, 780]) > 50_000,
        "{name}: the folder pane's colour"
    );
}

#[test]
fn the_gallery_shows_each_screen_in_light_and_dark() {
    let servers = MailServers::start();
    fill_inbox(&servers);
    let data = servers.dir().join("tern-data");

    // The first start: the welcome screen.
    let empty = servers.dir().join("empty");
    for look in [Look::Light, Look::Dark] {
        let shot = shoot(&empty, &["expect \"Welcome to Tern\""], "welcome", look);
        assert!(
            pixels_like(&shot, look.colors().accent, [340, 200, 940, 700]) > 2_000,
            "the Add account button"
        );
        // Add account: the setup wizard's first step.
        let shot = shoot(
            &empty,
            &[
                "expect \"Welcome to Tern\"",
                "click \"Add account\"",
                "expect \"Set up your mail account\"",
            ],
            "wizard",
            look,
        );
        assert!(
            pixels_like(&shot, look.colors().base, [0, 0, 1280, 800]) > 300_000,
            "the wizard is drawn in the theme's base colour"
        );
    }

    add_imap_account(
        &servers,
        &data,
        &servers.bob,
        servers.ports.imaps,
        &["--download-bodies"],
    );
    tern_ok(&data, &["sync"]);

    let store = tern::store::Store::open_dir(&data).unwrap();
    let account = store.accounts().unwrap()[0].id;
    let inbox = store
        .folders(account)
        .unwrap()
        .into_iter()
        .find(|f| f.path == "INBOX")
        .unwrap();
    let title = format!("expect \"INBOX — {} messages\"", inbox.total);
    drop(store);
    let open = [
        title.as_str(),
        "click \"Quarterly engineering review: what shipped, what is next\"",
        "expect \"review-q4.pdf\"",
    ];
    for look in [Look::Light, Look::Dark] {
        let mut lines = open.to_vec();
        lines.insert(1, "click \"Cards\"");
        let shot = shoot(&data, &lines, "mailbox-cards", look);
        check_chrome(&shot, look, "cards");
        assert!(
            pixels_like(&shot, look.colors().selected, [200, 80, 820, 780]) > 8_000,
            "the selected card is filled"
        );
        let mut lines = open.to_vec();
        lines.insert(1, "click \"Table\"");
        lines.insert(2, "expect \"Subject\"");
        let shot = shoot(&data, &lines, "mailbox-table", look);
        check_chrome(&shot, look, "table");
        assert!(
            pixels_like(&shot, look.colors().selected, [200, 80, 820, 780]) > 4_000,
            "the selected row is filled"
        );
    }
    // An attachment's "Save" opens its menu, as wide as its entries, over the reader.
    // (Selectors do not reach into overlays, so the menu is checked by what it draws below the
    // first chip, where the reader is blank while it is closed.)
    let menu_area = [818, 276, 1003, 312];
    // Glyphs' dark cores, not the chip's soft shadow.
    let drawn = |shot: &iced::window::Screenshot| {
        let [x0, y0, x1, y1] = menu_area;
        let mut dark = 0;
        for y in y0..y1.min(shot.size.height) {
            for x in x0..x1.min(shot.size.width) {
                let at = ((y * shot.size.width + x) * 4) as usize;
                let p = &shot.rgba[at..at + 3];
                if u32::from(p[0]) + u32::from(p[1]) + u32::from(p[2]) < 450 {
                    dark += 1;
                }
            }
        }
        dark
    };
    let closed = drawn(&shoot(&data, &open, "reader-save-menu-closed", Look::Light));
    let mut lines = open.to_vec();
    lines.push("click \"Save\"");
    let opened = drawn(&shoot(&data, &lines, "reader-save-menu", Look::Light));
    eprintln!("save menu pixels: closed {closed}, open {opened}");
    assert!(
        closed < 20 && opened > 150,
        "the Save menu shows its entries ({opened} pixels drawn, {closed} closed)"
    );
    // The layout chosen last is remembered.
    let prefs = std::fs::read_to_string(data.join("ui.json")).unwrap();
    assert!(prefs.contains("\"list_layout\": \"Table\""), "{prefs}");
    // A heading dragged onto another moves its column there, and the order is remembered.
    shoot(
        &data,
        &[
            title.as_str(),
            "expect \"Subject\"",
            "press \"Date\"",
            "release \"From\"",
            "expect \"Subject\"",
        ],
        "table-reordered",
        Look::Light,
    );
    let prefs: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(data.join("ui.json")).unwrap()).unwrap();
    assert_eq!(
        prefs["columns"]["order"],
        serde_json::json!(["Date", "From", "Subject", "Size"]),
        "{prefs}"
    );

    for look in [Look::Light, Look::Dark] {
        shoot(
            &data,
            &[
                title.as_str(),
                "click \"Cards\"",
                "click \"Write\"",
                "click \"What is it about?\"",
                "type \"Lunch on Friday\"",
            ],
            "composer",
            look,
        );
        shoot(
            &data,
            &[title.as_str(), "click \"Settings\"", "expect \"General\""],
            "settings",
            look,
        );
        shoot(
            &data,
            &[
                title.as_str(),
                "click \"Settings\"",
                "click \"bob\"",
                "expect \"Identity\"",
            ],
            "settings-account",
            look,
        );
    }
    // A reply: the writer's text, then the quote with its bars, folded when long.
    let shot = shoot(
        &data,
        &[
            title.as_str(),
            "click \"Re: Lunch on Friday?\"",
            "expect \"Show quoted text (7 lines)\"",
        ],
        "reader-quotes",
        Look::Light,
    );
    assert!(
        pixels_like(
            &shot,
            tern::ui::theme::palette::LIGHT.quote,
            [810, 300, 1280, 780]
        ) > 60,
        "the quote bar"
    );
    // Escape closes Settings and gives the keyboard back to the list (N moves in it).
    shoot(
        &data,
        &[
            title.as_str(),
            "click \"Settings\"",
            "expect \"General\"",
            "type escape",
            title.as_str(),
        ],
        "escape",
        Look::Light,
    );
    // Conversations: one row each; the disclosure opens one in place, its messages indented
    // under the row, and a click on one of them opens it.
    let conversations = tern::store::Store::open_dir(&data)
        .unwrap()
        .thread_count(inbox.id)
        .unwrap();
    let threads = format!(
        "expect \"INBOX — {} conversations\"",
        tern::ui::theme::thousands(conversations as usize)
    );
    for look in [Look::Light, Look::Dark] {
        // The threaded view is remembered: the second start opens in it.
        let start: &[&str] = match look {
            Look::Light => &[title.as_str(), "click \"Threads\""],
            Look::Dark => &[],
        };
        shoot(
            &data,
            &[
                start,
                &[
                    threads.as_str(),
                    "click \"Show the conversation\"",
                    "expect \"Hide the conversation\"",
                    "click \"There is a new place near the station, shall we try it?\"",
                    "expect \"mohamed@example.eg\"",
                ],
            ]
            .concat(),
            "mailbox-conversation",
            look,
        );
    }

    // The outbox, while the outgoing server cannot be reached: two messages wait, each with
    // the reason and when it is tried again.
    tern_ok(
        &data,
        &["account", "set", "bob", "--outgoing", "127.0.0.1:1"],
    );
    for (to, subject, body) in [
        (
            "ada@example.org",
            "Slides for Thursday",
            "Here are the slides.\n",
        ),
        (
            "grace@navy.example",
            "Re: Quarterly engineering review",
            "Thanks, Grace. Two questions on the roadmap.\n",
        ),
    ] {
        queue(&data, to, subject, body);
    }
    // One attempt each, refused: the outbox shows why and when they go out.
    let _ = tern(&data, &["sync"]);
    for look in [Look::Light, Look::Dark] {
        let shot = shoot(
            &data,
            &[
                "click \"Outbox\"",
                "expect \"Slides for Thursday\"",
                "expect \"2 messages\"",
            ],
            "outbox",
            look,
        );
        check_chrome(&shot, look, "outbox");
        assert!(
            pixels_like(&shot, look.colors().accent, [200, 50, 1280, 780]) > 1_500,
            "each waiting message's Send now"
        );
    }
}

/// `tern send --queue` of a short message from bob: it goes to the outbox without a try.
fn queue(data: &std::path::Path, to: &str, subject: &str, body: &str) {
    use std::io::Write as _;
    let mut send = std::process::Command::new(env!("CARGO_BIN_EXE_tern"))
        .arg("--data-dir")
        .arg(data)
        .args([
            "send",
            "--account",
            "bob",
            "--to",
            to,
            "--subject",
            subject,
            "--queue",
        ])
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    send.stdin
        .take()
        .unwrap()
        .write_all(body.as_bytes())
        .unwrap();
    let out = send.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
