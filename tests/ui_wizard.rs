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
use support::screens::save_png;
use support::{MailServers, mailbox};

fn instruction(line: &str) -> iced_test::Instruction {
    iced_test::Ice::parse(&format!(
        "viewport: 1280x800\nmode: Immediate\n-----\n{line}\n"
    ))
    .unwrap()
    .instructions
    .remove(0)
}

type Receiver<P> =
    iced_test::futures::futures::channel::mpsc::Receiver<iced_test::emulator::Event<P>>;

/// Runs the emulator's work until `until`: Some(true) when it is ready, Some(false) when an
/// instruction failed (an expectation not met yet), None when the time is up.
fn pump<P: iced_test::program::Program + 'static>(
    program: &P,
    emulator: &mut iced_test::Emulator<P>,
    receiver: &mut Receiver<P>,
    until: Instant,
) -> Option<bool> {
    while Instant::now() < until {
        match receiver.try_recv() {
            Ok(iced_test::emulator::Event::Action(action)) => emulator.perform(program, action),
            Ok(iced_test::emulator::Event::Failed(_)) => return Some(false),
            Ok(iced_test::emulator::Event::Ready) => return Some(true),
            Err(e) if e.is_closed() => panic!("the emulator stopped"),
            Err(_) => std::thread::sleep(Duration::from_millis(2)),
        }
    }
    None
}

/// Runs one instruction, again and again until it holds (the work behind it takes time) or
/// `patience` runs out.
fn step<P: iced_test::program::Program<Theme = iced::Theme> + 'static>(
    program: &P,
    emulator: &mut iced_test::Emulator<P>,
    receiver: &mut Receiver<P>,
    line: &str,
    patience: Duration,
) {
    let deadline = Instant::now() + patience;
    loop {
        emulator.run(program, instruction(line));
        match pump(
            program,
            emulator,
            receiver,
            Instant::now() + Duration::from_secs(5),
        ) {
            Some(true) => {
                // What the instruction started (a focus move, a task) runs before the next.
                let settle = Instant::now() + Duration::from_millis(150);
                while Instant::now() < settle {
                    pump(program, emulator, receiver, settle);
                }
                return;
            }
            _ if Instant::now() > deadline => {
                save_png(
                    &emulator.screenshot(program, &iced::Theme::Light, 1.0),
                    "wizard-failed.png",
                );
                panic!("{line}: not done within {patience:?} (see wizard-failed.png)");
            }
            _ => {
                pump(
                    program,
                    emulator,
                    receiver,
                    Instant::now() + Duration::from_millis(100),
                );
            }
        }
    }
}

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
        ispdb: "http://127.0.0.1:9/".into(),
        connect_to: Some(web.addr),
        dns_server: Some(dns.addr),
        ca_file: web.ca_pem.clone(),
        guess_ports: tern::account::autoconfig::GuessPorts {
            imaps: 9,
            imap: 9,
            pop3s: 9,
            pop3: 9,
            submissions: 9,
            submission: 9,
        },
        timeout: Duration::from_secs(5),
    };
    // Each run starts the window on an empty data directory (a first start) and ends with a
    // screenshot (iced_test's emulator takes one only as its last act).
    let short = Duration::from_secs(10);
    let long = Duration::from_secs(60);
    // Typed as a user at the keyboard would: Tab between the fields, Enter to go on.
    let mut typed = vec![
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
        let (sender, mut receiver) = iced_test::futures::futures::channel::mpsc::channel(64);
        let mut emulator = iced_test::Emulator::new(
            sender,
            &program,
            iced_test::emulator::Mode::Immediate,
            iced::Size::new(1280.0, 800.0),
        );
        // The emulator reports ready once at its start.
        pump(
            &program,
            &mut emulator,
            &mut receiver,
            Instant::now() + Duration::from_secs(5),
        );
        for line in lines {
            let patience = if line.starts_with("expect") {
                long
            } else {
                short
            };
            step(&program, &mut emulator, &mut receiver, line, patience);
        }
        save_png(
            &emulator.screenshot(&program, &iced::Theme::Light, 1.0),
            &format!("{name}.png"),
        );
    };
    let run = |name: &str, lines: &[String]| -> std::path::PathBuf {
        let data = servers.dir().join(name);
        run_in(&data, name, lines);
        data
    };
    run("wizard-1-start", &typed[..1]);
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
