//! The setup wizard in the window, driven by iced_test's emulator: a first start with no
//! account opens it; name, address and password, Continue; the settings found by autoconfig
//! (HTTPS on 127.0.0.1) with the choice of IMAP or POP3; the harness's certificate, which this
//! machine does not trust, shown with its fingerprint and trusted; the account saved and its
//! first sync filling the Inbox from Dovecot. Screenshots of each step go to
//! `target/tmp/ui-screenshots/wizard-*.png`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use std::time::{Duration, Instant};

use support::discovery::{DnsServer, Reply, WebServer, autoconfig_xml};
use support::screens::{pump, save_png, step};
use support::{MailServers, mailbox};

/// A keyring that is not there (as on a Linux machine without Secret Service): every read and
/// write fails. Installed for the whole test process, so the test never touches a real one.
#[derive(Debug)]
struct NoKeyring;

#[derive(Debug)]
struct NoEntry;

fn refused() -> keyring::Error {
    keyring::Error::NoStorageAccess("no Secret Service here (test)".into())
}

impl keyring::credential::CredentialApi for NoEntry {
    fn set_secret(&self, _: &[u8]) -> keyring::Result<()> {
        Err(refused())
    }
    fn get_secret(&self) -> keyring::Result<Vec<u8>> {
        Err(refused())
    }
    fn delete_credential(&self) -> keyring::Result<()> {
        Err(refused())
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

impl keyring::credential::CredentialBuilderApi for NoKeyring {
    fn build(
        &self,
        _: Option<&str>,
        _: &str,
        _: &str,
    ) -> keyring::Result<Box<keyring::credential::Credential>> {
        Ok(Box::new(NoEntry))
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

#[test]
fn a_first_start_sets_up_an_account_with_the_wizard_and_syncs_it() {
    keyring::set_default_credential_builder(Box::new(NoKeyring));
    let servers = MailServers::start();
    let bob = &servers.bob;
    for n in 0..3 {
        mailbox::deliver_lmtp(
            &servers,
            bob,
            &format!(
                "From: carol@example.test\r\nTo: {}\r\nSubject: Welcome {n}\r\nMessage-ID: <welcome{n}@example.test>\r\n\r\nHello.\r\n",
                bob.address
            ),
        );
    }
    let web = WebServer::https(servers.dir(), &["autoconfig.example.test", "example.test"]);
    let dns = DnsServer::start();
    let p = servers.ports;
    web.route(
        "autoconfig.example.test",
        "/mail/config-v1.1.xml",
        Reply::Body(autoconfig_xml(
            "example.test",
            &[
                ("imap", "127.0.0.1", p.imaps, "SSL"),
                ("pop3", "127.0.0.1", p.pop3s, "SSL"),
            ],
            &[("127.0.0.1", p.submissions, "SSL")],
        )),
    );
    let sources = tern::account::autoconfig::Sources {
        connect_to: Some(web.addr),
        dns_server: Some(dns.addr),
        ca_file: web.ca_pem.clone(),
        timeout: Duration::from_secs(5),
        ..support::discovery::nowhere()
    };
    // Each run starts the window on an empty data directory (a first start) and ends with a
    // screenshot (iced_test's emulator takes one only as its last act).
    let short = Duration::from_secs(10);
    let long = Duration::from_secs(60);
    // Typed as a user at the keyboard would: Tab between the fields, Enter to go on.
    let mut typed = vec![
        // The first start welcomes; "Add account" opens the wizard.
        "expect \"Welcome to Tern\"".to_owned(),
        "click \"Add account\"".to_owned(),
        "expect \"Set up your mail account\"".to_owned(),
        "click \"Jo Example\"".to_owned(),
        "type \"Bob Example\"".to_owned(),
        "type tab".to_owned(),
        format!("type {:?}", bob.address),
        "type tab".to_owned(),
        format!("type {:?}", bob.password),
        // Found by the domain's autoconfig: IMAP or POP3, IMAP chosen.
        "type enter".to_owned(),
        "expect \"Edit settings\"".to_owned(),
        "expect \"Mail stays on the server and is the same on every device; it is cached here for offline reading.\"".to_owned(),
    ];
    let run_in = |data: &std::path::Path, name: &str, lines: &[String]| {
        let data = data.to_owned();
        let program = tern::ui::application_with(data.clone(), Ok(sources.clone()));
        let patience = |line: &str| {
            if line.starts_with("expect") {
                long
            } else {
                short
            }
        };
        let (mut emulator, _receiver) =
            support::screens::drive(&program, lines, patience, "wizard");
        save_png(
            &emulator.screenshot(&program, &tern::ui::theme::light(), 1.0),
            &format!("{name}.png"),
        );
    };
    let run = |name: &str, lines: &[String]| -> std::path::PathBuf {
        let data = servers.dir().join(name);
        run_in(&data, name, lines);
        data
    };
    run("wizard-0-welcome", &typed[..1]);
    run("wizard-1-start", &typed[..3]);
    run("wizard-2-found", &typed);
    // The manual form, prefilled from what was found.
    let mut manual = typed.clone();
    manual.extend([
        // Every button is reached by Tab too: the IMAP/POP3 choice, Continue, Edit settings.
        "type tab".to_owned(),
        "type tab".to_owned(),
        "type tab".to_owned(),
        "type enter".to_owned(),
        "expect \"Server settings\"".to_owned(),
        "expect \"Pinned certificate (optional; SHA-256 in hex)\"".to_owned(),
        // One Escape goes back, though a field had the focus; Enter looks up again.
        "type escape".to_owned(),
        "expect \"Set up manually\"".to_owned(),
        "type enter".to_owned(),
        "expect \"Edit settings\"".to_owned(),
        "type tab".to_owned(),
        "type tab".to_owned(),
        "type tab".to_owned(),
        "type enter".to_owned(),
        "expect \"Server settings\"".to_owned(),
        // The incoming server has the focus; Tab moves it to its security (the ring shows).
        "type tab".to_owned(),
    ]);
    run("wizard-5-manual", &manual);
    // The harness's certificate is not trusted here: shown with its fingerprint.
    typed.extend([
        "type enter".to_owned(),
        "expect \"Trust this certificate?\"".to_owned(),
        "expect \"CN=Tern Test CA\"".to_owned(),
    ]);
    run("wizard-3-trust", &typed);
    // Trusted exactly (Enter alone does not trust: the button is chosen, here by Tab); saved;
    // the first sync fills the Inbox.
    typed.extend([
        "type enter".to_owned(),
        "expect \"Trust this certificate?\"".to_owned(),
        "type tab".to_owned(),
        "type enter".to_owned(),
        "expect \"All set\"".to_owned(),
        "type enter".to_owned(),
        "expect \"Welcome 2\"".to_owned(),
    ]);
    let data = run("wizard-4-mailbox", &typed);

    // The next start: no keyring kept the password (none runs here), so the window asks for it
    // once, keeps it in memory, and the engine syncs what arrived meanwhile.
    tern::account::credentials::forget_session_passwords();
    mailbox::deliver_lmtp(
        &servers,
        bob,
        &format!(
            "From: carol@example.test\r\nTo: {}\r\nSubject: Welcome back\r\nMessage-ID: <back@example.test>\r\n\r\nHello again.\r\n",
            bob.address
        ),
    );
    let again = [
        format!("expect \"Password for {}:\"", bob.address),
        "click \"password\"".to_owned(),
        format!("type {:?}", bob.password),
        "type enter".to_owned(),
        "expect \"Welcome back\"".to_owned(),
    ];
    run_in(&data, "wizard-6-password-asked", &again[..1]);
    run_in(&data, "wizard-7-password-given", &again);

    let store = tern::store::Store::open_dir(&data).unwrap();
    let account = store.find_account(&bob.address).unwrap();
    assert_eq!(account.settings.protocol, tern::account::Protocol::Imap);
    assert_eq!(account.settings.display_name, "Bob Example");
    assert_eq!(account.settings.incoming.port, p.imaps);
    assert_eq!(account.settings.outgoing.port, p.submissions);
    assert!(
        account.settings.cert_sha256.is_some(),
        "the trusted certificate is pinned"
    );
    assert!(account.settings.password_cmd.is_none());
    assert_eq!(store.find_folder(account.id, "INBOX").unwrap().total, 4);
    // The wizard of a first start does not open again once an account exists, and the
    // trusted certificate is still accepted (a new run of the window syncs again).
    drop(store);
}

/// Settings in the window: a new incoming server asks whether it is the same mailbox; the
/// answer "another" starts the POP3 account's cache over (every message kept here, every old
/// UIDL retired, so the new server's mail all comes); a second save does not ask again.
#[test]
fn settings_ask_whether_a_new_incoming_server_is_the_same_mailbox() {
    let servers = MailServers::start();
    let bob = &servers.bob;
    support::corpus::fill_maildir(bob, "INBOX", 3, 5);
    let data = servers.dir().join("settings");
    support::cli::add_pop3_account(&servers, &data, bob, servers.ports.pop3s, "tls", &[]);
    support::cli::tern_ok(&data, &["sync"]);
    let store = tern::store::Store::open_dir(&data).unwrap();
    let account = store.find_account("bob").unwrap();
    let known: Vec<String> = store
        .pop3_known(account.id, &[])
        .unwrap()
        .into_keys()
        .collect();
    assert_eq!(known.len(), 3);

    let program = tern::ui::application_with(data.clone(), Ok(support::discovery::nowhere()));
    let (mut emulator, mut receiver) = support::screens::emulator(&program);
    pump(
        &program,
        &mut emulator,
        &mut receiver,
        Instant::now() + Duration::from_secs(5),
    );
    let patience = Duration::from_secs(30);
    let mut go = |emulator: &mut iced_test::Emulator<_>, line: &str| {
        step(
            &program,
            emulator,
            &mut receiver,
            line,
            patience,
            "settings",
        );
    };
    go(&mut emulator, "expect \"Archive\"");
    go(&mut emulator, "click \"Settings\"");
    go(&mut emulator, "expect \"New account\"");
    go(&mut emulator, "click \"bob\"");
    go(
        &mut emulator,
        "expect \"Leave messages on the server (the copy here is kept either way)\"",
    );
    // Another server (127.0.0.2 is loopback too, where nothing listens).
    let moved = format!("127.0.0.2:{}", servers.ports.pop3s);
    emulator.update(
        &program,
        tern::ui::Message::Settings(tern::ui::settings::Message::Account(
            account.id,
            tern::ui::settings::AccountField::Incoming,
            moved,
        )),
    );
    go(&mut emulator, "click \"Save\"");
    go(
        &mut emulator,
        "expect \"The new incoming server or login may be another mailbox. Is it?\"",
    );
    go(
        &mut emulator,
        "click \"Another mailbox: start its cache over\"",
    );
    go(&mut emulator, "expect \"Saved the settings of bob.\"");
    // Saved once: the next save compares with the new server and does not ask (the new
    // display name is saved at once).
    emulator.update(
        &program,
        tern::ui::Message::Settings(tern::ui::settings::Message::Account(
            account.id,
            tern::ui::settings::AccountField::DisplayName,
            "Robert".into(),
        )),
    );
    go(&mut emulator, "click \"Save\"");
    let deadline = Instant::now() + Duration::from_secs(10);
    while store.find_account("bob").unwrap().settings.display_name != "Robert" {
        assert!(Instant::now() < deadline, "the second save asked again");
        pump(
            &program,
            &mut emulator,
            &mut receiver,
            Instant::now() + Duration::from_millis(50),
        );
    }
    let moved = store.find_account("bob").unwrap();
    assert_eq!(moved.settings.incoming.host, "127.0.0.2");
    assert_eq!(moved.cache_epoch, 1, "the cache started over once");
    assert_eq!(
        store.find_folder(account.id, "INBOX").unwrap().total,
        3,
        "every message kept"
    );
    for uidl in &known {
        assert!(
            store.pop3_seen(account.id, uidl).unwrap().is_none(),
            "the old server's UIDL {uidl} is retired"
        );
    }

    // While the window runs, `tern account set` points the account back at Dovecot as another
    // mailbox: the window's engine (still on 127.0.0.2) stops at its next pass and a new one
    // reads the stored settings; what was here already is recognised (no second copy).
    let back = format!("127.0.0.1:{}", servers.ports.pop3s);
    support::cli::tern_ok(
        &data,
        &[
            "account",
            "set",
            "bob",
            "--incoming",
            &back,
            "--reset-cache",
        ],
    );
    mailbox::deliver_lmtp(
        &servers,
        bob,
        &format!(
            "From: carol@example.test\r\nTo: {}\r\nSubject: After the move\r\nMessage-ID: <moved@example.test>\r\n\r\nHello.\r\n",
            bob.address
        ),
    );
    let mut go = |emulator: &mut iced_test::Emulator<_>, line: &str| {
        step(
            &program,
            emulator,
            &mut receiver,
            line,
            patience,
            "settings",
        );
    };
    go(&mut emulator, "click \"Close\"");
    go(&mut emulator, "click \"Get Mail\"");
    go(&mut emulator, "expect \"After the move\"");
    save_png(
        &emulator.screenshot(&program, &tern::ui::theme::light(), 1.0),
        "settings-another-mailbox.png",
    );
    drop(emulator);
    let account = store.find_account("bob").unwrap();
    assert_eq!(account.cache_epoch, 2);
    assert_eq!(
        store.find_folder(account.id, "INBOX").unwrap().total,
        4,
        "the three known messages were recognised, the new one came"
    );
}
