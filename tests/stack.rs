//! Proves the test mail stack: submission with AUTH through Postfix, delivery over LMTP into
//! Dovecot, and reading back over raw IMAP and POP3, plus the refusals a client must see.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod support;

use std::time::{Duration, Instant};

use support::MailServers;
use support::raw::LineClient;
use tern::mail::parse::summarize;

const SUBJECT: &str = "Stack test: Grüße";

fn message(from: &str, to: &str) -> String {
    format!(
        "From: Alice <{from}>\r\nTo: <{to}>\r\nSubject: =?UTF-8?Q?Stack_test:_Gr=C3=BC=C3=9Fe?=\r\n\
         Message-ID: <stack-test@example.test>\r\nDate: Tue, 1 Aug 2023 10:00:00 +0000\r\n\
         MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHello Bob.\r\n.leading dot\r\n"
    )
}

/// Submits over the STARTTLS port with AUTH PLAIN to bob (To) and carol (Bcc, envelope only).
fn submit(servers: &MailServers) {
    let mut c = LineClient::plain(servers.ports.submission);
    assert_eq!(c.smtp_reply().0, 220);
    let (code, ehlo) = c.smtp("EHLO client.example.test");
    assert_eq!(code, 250);
    assert!(ehlo.iter().any(|l| l.contains("STARTTLS")), "{ehlo:?}");
    assert!(
        !ehlo.iter().any(|l| l.contains("AUTH")),
        "AUTH must not be offered before TLS: {ehlo:?}"
    );
    assert_eq!(c.smtp("STARTTLS").0, 220);
    let mut c = c.upgrade(&servers.certs.ca_pem);
    let (code, ehlo) = c.smtp("EHLO client.example.test");
    assert_eq!(code, 250);
    assert!(
        ehlo.iter()
            .any(|l| l.contains("AUTH") && l.contains("PLAIN")),
        "{ehlo:?}"
    );
    assert_eq!(
        c.smtp_auth_plain(&servers.alice.address, &servers.alice.password),
        235
    );
    assert_eq!(
        c.smtp(&format!("MAIL FROM:<{}>", servers.alice.address)).0,
        250
    );
    assert_eq!(c.smtp(&format!("RCPT TO:<{}>", servers.bob.address)).0, 250);
    assert_eq!(
        c.smtp(&format!("RCPT TO:<{}>", servers.carol.address)).0,
        250
    );
    let (code, reply) = c.smtp_data(&message(&servers.alice.address, &servers.bob.address));
    assert_eq!(code, 250, "{reply:?}");
    c.smtp("QUIT");
}

/// Polls a mailbox over IMAPS until it has `count` messages.
fn wait_for_mail(servers: &MailServers, user: &support::User, count: usize) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let mut c = LineClient::tls(servers.ports.imaps, &servers.certs.ca_pem);
        c.line();
        c.imap_ok("a", &format!("LOGIN {} {}", user.address, user.password));
        let status = c.imap_ok("b", "STATUS INBOX (MESSAGES)");
        if status
            .iter()
            .any(|l| l.contains(&format!("MESSAGES {count})")))
        {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "mail for {} did not arrive:\n{}",
            user.address,
            servers.postfix_log()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn submission_delivers_to_imap_and_pop3() {
    let servers = MailServers::start();
    submit(&servers);
    wait_for_mail(&servers, &servers.bob, 1);

    // IMAP with STARTTLS, reading the whole message.
    let mut c = LineClient::plain(servers.ports.imap);
    assert!(c.line().starts_with("* OK"));
    let caps = c.imap_ok("a", "CAPABILITY").join(" ");
    assert!(caps.contains("STARTTLS"), "{caps}");
    c.imap_ok("b", "STARTTLS");
    let mut c = c.upgrade(&servers.certs.ca_pem);
    c.imap_ok(
        "c",
        &format!("LOGIN {} {}", servers.bob.address, servers.bob.password),
    );
    let caps = c.imap_ok("d", "CAPABILITY").join(" ");
    for cap in [
        "QRESYNC",
        "CONDSTORE",
        "UIDPLUS",
        "MOVE",
        "SPECIAL-USE",
        "IDLE",
        "COMPRESS=DEFLATE",
    ] {
        assert!(caps.contains(cap), "missing {cap}: {caps}");
    }
    let list = c.imap_ok("e", "LIST \"\" \"*\"").join("\n");
    for (flag, name) in [
        ("\\Sent", "Sent"),
        ("\\Drafts", "Drafts"),
        ("\\Trash", "Trash"),
        ("\\Junk", "Junk"),
        ("\\Archive", "Archive"),
    ] {
        assert!(
            list.contains(flag) && list.contains(name),
            "missing {flag} {name}:\n{list}"
        );
    }
    c.imap_ok("f", "SELECT INBOX");
    let fetched = c.imap_ok("g", "FETCH 1 BODY.PEEK[]").join("\n");
    let raw_start = fetched.find("From:").expect("message body");
    let summary = summarize(&fetched.as_bytes()[raw_start..]);
    assert_eq!(summary.subject, SUBJECT);
    assert_eq!(summary.from_addr, servers.alice.address);
    assert_eq!(
        summary.message_id.as_deref(),
        Some("stack-test@example.test")
    );
    assert!(
        fetched.contains("\r\n.leading dot") || fetched.contains("\n.leading dot"),
        "dot-stuffing undone: {fetched}"
    );
    assert!(
        !fetched.to_ascii_lowercase().contains("\nbcc:"),
        "a Bcc header leaked: {fetched}"
    );
    c.imap_ok("h", "LOGOUT");

    // POP3 with STLS.
    let mut p = LineClient::plain(servers.ports.pop3);
    assert!(p.line().starts_with("+OK"));
    assert!(p.pop("STLS").starts_with("+OK"));
    let mut p = p.upgrade(&servers.certs.ca_pem);
    assert!(
        p.pop(&format!("USER {}", servers.bob.address))
            .starts_with("+OK")
    );
    assert!(
        p.pop(&format!("PASS {}", servers.bob.password))
            .starts_with("+OK")
    );
    assert!(p.pop("STAT").starts_with("+OK 1 "));
    assert!(p.pop("UIDL").starts_with("+OK"));
    assert_eq!(p.pop_multiline().len(), 1);
    assert!(p.pop("RETR 1").starts_with("+OK"));
    let body = p.pop_multiline().join("\r\n");
    assert_eq!(summarize(body.as_bytes()).subject, SUBJECT);
    assert!(
        body.contains("\r\n.leading dot"),
        "POP3 dot-stuffing not undone: {body}"
    );
    p.pop("QUIT");

    // The Bcc recipient got it too, over POP3S.
    wait_for_mail(&servers, &servers.carol, 1);
    let mut p = LineClient::tls(servers.ports.pop3s, &servers.certs.ca_pem);
    assert!(p.line().starts_with("+OK"));
    p.pop(&format!("USER {}", servers.carol.address));
    assert!(
        p.pop(&format!("PASS {}", servers.carol.password))
            .starts_with("+OK")
    );
    assert!(p.pop("RETR 1").starts_with("+OK"));
    let body = p.pop_multiline().join("\r\n");
    assert_eq!(summarize(body.as_bytes()).subject, SUBJECT);
    assert!(
        !body.to_ascii_lowercase().contains("\r\nbcc:"),
        "a Bcc header leaked: {body}"
    );
}

#[test]
fn wrong_password_gives_535_and_unauthenticated_relay_is_refused() {
    let servers = MailServers::start();

    // Wrong password on the STARTTLS port and on the implicit-TLS port: 535.
    let mut c = LineClient::plain(servers.ports.submission);
    c.smtp_reply();
    c.smtp("EHLO client.example.test");
    c.smtp("STARTTLS");
    let mut c = c.upgrade(&servers.certs.ca_pem);
    c.smtp("EHLO client.example.test");
    assert_eq!(
        c.smtp_auth_plain(&servers.alice.address, "wrong-password"),
        535
    );

    let mut c = LineClient::tls(servers.ports.submissions, &servers.certs.ca_pem);
    assert_eq!(c.smtp_reply().0, 220);
    c.smtp("EHLO client.example.test");
    assert_eq!(
        c.smtp_auth_plain(&servers.alice.address, "wrong-password"),
        535
    );
    // The right one works on 465 too.
    assert_eq!(
        c.smtp_auth_plain(&servers.alice.address, &servers.alice.password),
        235
    );

    // No AUTH: relaying to another domain is refused (554 5.7.1), on submission and on the MX port.
    for port in [servers.ports.submissions, servers.ports.smtp] {
        let mut c = if port == servers.ports.submissions {
            LineClient::tls(port, &servers.certs.ca_pem)
        } else {
            LineClient::plain(port)
        };
        c.smtp_reply();
        c.smtp("EHLO client.example.test");
        assert_eq!(
            c.smtp(&format!("MAIL FROM:<{}>", servers.alice.address)).0,
            250
        );
        let (code, reply) = c.smtp("RCPT TO:<someone@outside.example>");
        assert!(code == 554 || code == 550, "relay not refused: {reply:?}");
        assert!(reply.join(" ").contains("Relay access denied"), "{reply:?}");
        // Mail for the local domain is still accepted on the MX port.
        if port == servers.ports.smtp {
            assert_eq!(c.smtp(&format!("RCPT TO:<{}>", servers.bob.address)).0, 250);
        }
    }

    // IMAP and POP3 reject the wrong password too.
    let mut i = LineClient::tls(servers.ports.imaps, &servers.certs.ca_pem);
    i.line();
    let (_, done) = i.imap(
        "a",
        &format!("LOGIN {} wrong-password", servers.bob.address),
    );
    assert!(done.starts_with("a NO"), "{done}");
}

#[test]
fn generated_corpus_lands_in_maildir_with_sizes_and_flags() {
    let servers = MailServers::start();
    let started = Instant::now();
    let generated = support::corpus::fill_maildir(&servers.bob, "Archive", 400, 7);
    let inbox = support::corpus::fill_maildir(&servers.bob, "INBOX", 25, 8);
    eprintln!(
        "wrote {} messages in {:?}",
        generated.len() + inbox.len(),
        started.elapsed()
    );

    let mut c = LineClient::tls(servers.ports.imaps, &servers.certs.ca_pem);
    c.line();
    c.imap_ok(
        "a",
        &format!("LOGIN {} {}", servers.bob.address, servers.bob.password),
    );
    let status = c.imap_ok("b", "STATUS Archive (MESSAGES UNSEEN)").join(" ");
    let unseen = generated
        .iter()
        .filter(|g| !g.flags.contains(&"\\Seen"))
        .count();
    assert!(
        status.contains(&format!("MESSAGES 400 UNSEEN {unseen}")),
        "{status}"
    );
    assert!(
        c.imap_ok("c", "STATUS INBOX (MESSAGES)")
            .join(" ")
            .contains("MESSAGES 25")
    );

    c.imap_ok("d", "SELECT Archive");
    let lines = c.imap_ok("e", "FETCH 1:* (RFC822.SIZE FLAGS INTERNALDATE)");
    assert_eq!(lines.len(), 400);
    // Dovecot lists the files in the order written, so sequence n is message n - 1.
    for (line, g) in lines.iter().zip(&generated) {
        assert!(
            line.contains(&format!("RFC822.SIZE {}", g.size)),
            "{line} vs {g:?}"
        );
        for flag in &g.flags {
            assert!(line.contains(flag), "{line} lacks {flag}");
        }
    }
    // Decoded headers come back as generated, including encoded words and threading.
    let fetched = c.imap_ok("f", "FETCH 1:12 BODY.PEEK[HEADER]");
    for (text, g) in fetched.iter().zip(&generated) {
        let start = text.find("Message-ID").expect("header");
        let s = summarize(&text.as_bytes()[start..]);
        assert_eq!(s.subject, g.subject);
        assert_eq!(s.from_addr, g.from_addr);
        assert_eq!(s.from_name, g.from_name);
        assert_eq!(s.date, Some(g.date));
        assert_eq!(s.in_reply_to, g.in_reply_to);
    }
    let kinds: std::collections::HashSet<_> = generated.iter().map(|g| g.kind).collect();
    assert_eq!(kinds.len(), 4, "every kind of message is generated");
    assert!(
        generated.iter().any(|g| g.in_reply_to.is_some()),
        "threads are generated"
    );
}

#[test]
fn servers_stop_and_clean_up_when_a_test_panics() {
    let (tx, rx) = std::sync::mpsc::channel();
    let outcome = std::thread::spawn(move || {
        let servers = MailServers::start();
        tx.send((servers.dir().to_owned(), servers.ports)).unwrap();
        panic!("a simulated failing test (expected in this test's output)");
    })
    .join();
    assert!(outcome.is_err(), "the simulated test should have panicked");
    let (dir, ports) = rx.recv().unwrap();
    assert!(!dir.exists(), "{} was left behind", dir.display());
    let p = ports;
    for port in [
        p.imap,
        p.imaps,
        p.pop3,
        p.pop3s,
        p.lmtp,
        p.auth,
        p.smtp,
        p.submission,
        p.submissions,
    ] {
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            assert!(
                Instant::now() < deadline,
                "something still listens on 127.0.0.1:{port}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}
