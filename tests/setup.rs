//! `tern account setup ADDRESS`: discovery (an autoconfig document on 127.0.0.1 naming the
//! harness's Dovecot and Postfix), verification of both servers before anything is stored, and
//! the account working afterwards: a good password; a wrong one (nothing stored, a clear
//! message); an untrusted certificate (subject, issuer and fingerprint shown, the pin stored,
//! and the next connection works with it); a fake server that strips STARTTLS (refused).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod support;

use std::io::{BufRead as _, BufReader, Write as _};
use std::net::TcpListener;
use std::path::Path;
use std::process::Output;
use std::sync::{Arc, Mutex};

use support::discovery::{DnsServer, Reply, WebServer, autoconfig_xml};
use support::{MailServers, cli};

struct Net {
    web: WebServer,
    dns: DnsServer,
}

fn setup(net: &Net, data: &Path, args: &[&str], stdin: &str) -> Output {
    let mut all = vec!["account", "setup"];
    all.extend_from_slice(args);
    let env = [
        (
            "TERN_AUTOCONFIG_ISPDB",
            format!("http://{}/none/", net.web.addr),
        ),
        ("TERN_AUTOCONFIG_CONNECT_TO", net.web.addr.to_string()),
        (
            "TERN_AUTOCONFIG_CA_FILE",
            net.web.ca_pem.as_ref().unwrap().display().to_string(),
        ),
        ("TERN_DNS_SERVER", net.dns.addr.to_string()),
        ("TERN_AUTOCONFIG_TIMEOUT_SECS", "5".to_owned()),
        (
            "TERN_AUTOCONFIG_GUESS_PORTS",
            "imaps=9,imap=9,pop3s=9,pop3=9,submissions=9,submission=9".to_owned(),
        ),
    ];
    cli::tern_with(data, &all, &env, stdin)
}

fn accounts(data: &Path) -> serde_json::Value {
    let out = cli::tern(data, &["account", "list", "--json"]);
    assert!(out.status.success());
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn setup_verifies_before_saving_and_the_account_then_syncs() {
    let servers = MailServers::start();
    let p = servers.ports;
    let net = Net {
        web: WebServer::https(servers.dir(), &["autoconfig.example.test", "example.test"]),
        dns: DnsServer::start(),
    };
    net.web.route(
        "autoconfig.example.test",
        "/mail/config-v1.1.xml",
        Reply::Body(autoconfig_xml(
            "example.test",
            &[
                ("pop3", "127.0.0.1", p.pop3s, "SSL"),
                ("imap", "127.0.0.1", p.imap, "STARTTLS"),
                ("imap", "127.0.0.1", p.imaps, "SSL"),
            ],
            &[
                ("127.0.0.1", p.submission, "STARTTLS"),
                ("127.0.0.1", p.submissions, "SSL"),
            ],
        )),
    );
    let ca = servers.certs.ca_pem.to_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let bob = &servers.bob;

    // A wrong password: both servers say so, and nothing is stored.
    let data = dir.path().join("data");
    let out = setup(
        &net,
        &data,
        &["bob@example.test", "--name", "bob", "--ca-file", ca],
        "wrong-password\n",
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains("was not added"), "{stderr}");
    assert!(stderr.to_lowercase().contains("password"), "{stderr}");
    assert!(
        !stderr.contains("wrong-password"),
        "the password leaked: {stderr}"
    );
    assert_eq!(accounts(&data), serde_json::json!([]));

    // The right password (from a command): IMAP over implicit TLS is chosen (the document
    // offers POP3 too, and the choice is explained), both logins work, the account is stored.
    let secret = dir.path().join("secret");
    std::fs::write(&secret, &bob.password).unwrap();
    let cmd = format!("cat {}", secret.display());
    let out = setup(
        &net,
        &data,
        &[
            "bob@example.test",
            "--name",
            "bob",
            "--ca-file",
            ca,
            "--login",
            &bob.address,
            "--password-cmd",
            &cmd,
        ],
        "",
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("IMAP: mail stays on the server"),
        "{stderr}"
    );
    assert_eq!(stderr.matches("logged in").count(), 2, "{stderr}");
    let list = accounts(&data);
    assert_eq!(list[0]["protocol"], "imap", "{list}");
    assert_eq!(list[0]["incoming"], format!("127.0.0.1:{}", p.imaps));
    assert_eq!(list[0]["incoming_security"], "tls");
    assert_eq!(list[0]["outgoing"], format!("127.0.0.1:{}", p.submissions));
    assert_eq!(list[0]["login"], bob.address);
    let out = cli::tern(&data, &["sync", "--account", "bob"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // POP3 when asked for.
    let pop = dir.path().join("pop");
    let out = setup(
        &net,
        &pop,
        &[
            "bob@example.test",
            "--name",
            "bob",
            "--protocol",
            "pop3",
            "--ca-file",
            ca,
            "--login",
            &bob.address,
            "--password-cmd",
            &cmd,
        ],
        "",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(accounts(&pop)[0]["protocol"], "pop3");

    // No CA file: the certificate is not trusted; its subject, issuer and fingerprint are
    // shown, nothing is stored. Run again with that fingerprint: stored with the pin, and the
    // next connection (a sync) works.
    let pinned = dir.path().join("pinned");
    let base = [
        "bob@example.test",
        "--name",
        "bob",
        "--login",
        &bob.address,
        "--password-cmd",
        &cmd,
    ];
    let out = setup(&net, &pinned, &base, "");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains("CN=localhost"), "{stderr}");
    assert!(stderr.contains("Tern Test CA"), "{stderr}");
    assert_eq!(accounts(&pinned), serde_json::json!([]));
    let fingerprint = stderr
        .split("--cert-sha256 ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap()
        .to_owned();
    assert_eq!(fingerprint.len(), 64, "{stderr}");
    let mut args = base.to_vec();
    args.extend(["--cert-sha256", &fingerprint]);
    let out = setup(&net, &pinned, &args, "");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = cli::tern(&pinned, &["sync", "--account", "bob"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = cli::tern(&pinned, &["account", "verify", "bob"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_server_that_strips_starttls_is_refused() {
    // A fake IMAP server whose greeting and CAPABILITY leave STARTTLS out (as a man in the
    // middle would), and that would take a plaintext LOGIN.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let heard: Arc<Mutex<Vec<String>>> = Arc::default();
    let log = Arc::clone(&heard);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let log = Arc::clone(&log);
            std::thread::spawn(move || {
                let _ = stream.write_all(b"* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] hi\r\n");
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                while reader.read_line(&mut line).unwrap_or(0) > 0 {
                    log.lock().unwrap().push(line.clone());
                    let tag = line.split_whitespace().next().unwrap_or("*").to_owned();
                    let reply = if line.to_ascii_uppercase().contains("CAPABILITY") {
                        format!("* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n{tag} OK done\r\n")
                    } else {
                        format!("{tag} OK whatever\r\n")
                    };
                    let _ = stream.write_all(reply.as_bytes());
                    line.clear();
                }
            });
        }
    });
    let servers = MailServers::start();
    let net = Net {
        web: WebServer::https(servers.dir(), &["autoconfig.strip.test", "strip.test"]),
        dns: DnsServer::start(),
    };
    net.web.route(
        "autoconfig.strip.test",
        "/mail/config-v1.1.xml",
        Reply::Body(autoconfig_xml(
            "strip.test",
            &[("imap", "127.0.0.1", port, "STARTTLS")],
            &[("127.0.0.1", servers.ports.submissions, "SSL")],
        )),
    );
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let ca = servers.certs.ca_pem.to_str().unwrap();
    let out = setup(
        &net,
        &data,
        &["bob@strip.test", "--name", "bob", "--ca-file", ca],
        "secret\n",
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains("STARTTLS"), "{stderr}");
    assert!(stderr.contains("was not added"), "{stderr}");
    assert_eq!(accounts(&data), serde_json::json!([]));
    let heard = heard.lock().unwrap();
    assert!(
        heard.iter().all(|l| {
            let l = l.to_ascii_uppercase();
            !l.contains("LOGIN") && !l.contains("AUTHENTICATE") && !l.contains("SECRET")
        }),
        "the password went out in the clear: {heard:?}"
    );
}

#[test]
fn servers_outside_the_domain_named_only_by_srv_records_need_consent() {
    let servers = MailServers::start();
    let net = Net {
        web: WebServer::https(servers.dir(), &["autoconfig.srv.test", "srv.test"]),
        dns: DnsServer::start(),
    };
    net.dns
        .srv("_imaps._tcp.srv.test", 0, servers.ports.imaps, "127.0.0.1");
    net.dns.srv(
        "_submissions._tcp.srv.test",
        0,
        servers.ports.submissions,
        "127.0.0.1",
    );
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let secret = dir.path().join("secret");
    std::fs::write(&secret, &servers.bob.password).unwrap();
    let cmd = format!("cat {}", secret.display());
    let ca = servers.certs.ca_pem.to_str().unwrap();
    let mut args = vec![
        "bob@srv.test",
        "--name",
        "bob",
        "--login",
        &servers.bob.address,
        "--password-cmd",
        &cmd,
        "--ca-file",
        ca,
    ];
    let out = setup(&net, &data, &args, "");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains("outside srv.test") && stderr.contains("--yes"),
        "{stderr}"
    );
    assert_eq!(accounts(&data), serde_json::json!([]));
    args.push("--yes");
    let out = setup(&net, &data, &args, "");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        accounts(&data)[0]["incoming"],
        format!("127.0.0.1:{}", servers.ports.imaps)
    );
}
