//! `tern account discover` against servers on 127.0.0.1: the domain's autoconfig URL (HTTPS,
//! its own CA), the well-known URL, the ISPDB (plain HTTP), the ISPDB by MX, SRV records (a DNS
//! responder) and the guess (probing the harness's Dovecot and Postfix): each source, the
//! order of preference, broken documents, and the overall timeout. Nothing leaves 127.0.0.1:
//! the DNS responder is the only name server asked.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod support;

use std::process::Command;
use std::time::{Duration, Instant};

use support::MailServers;
use support::discovery::{DnsServer, Reply, WebServer, autoconfig_xml};

struct Net {
    dir: tempfile::TempDir,
    web: WebServer,
    ispdb: WebServer,
    dns: DnsServer,
    timeout_secs: u64,
    guess_ports: String,
}

impl Net {
    fn new(domains: &[&str]) -> Net {
        let dir = tempfile::tempdir().unwrap();
        let names: Vec<String> = domains
            .iter()
            .flat_map(|d| [d.to_string(), format!("autoconfig.{d}")])
            .collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let web = WebServer::https(dir.path(), &names);
        Net {
            web,
            ispdb: WebServer::http(),
            dns: DnsServer::start(),
            dir,
            timeout_secs: 5,
            // Nothing listens on port 9 of 127.0.0.1: guesses fail at once unless a test says.
            guess_ports: "imaps=9,imap=9,pop3s=9,pop3=9,submissions=9,submission=9".into(),
        }
    }

    /// Runs `tern account discover ADDRESS --json`: (success, JSON, stderr, time taken).
    fn discover(&self, address: &str) -> (bool, serde_json::Value, String, Duration) {
        let started = Instant::now();
        let out = Command::new(env!("CARGO_BIN_EXE_tern"))
            .arg("--data-dir")
            .arg(self.dir.path().join("data"))
            .args(["account", "discover", address, "--json"])
            .env(
                "TERN_AUTOCONFIG_ISPDB",
                format!("{}v1.1/", self.ispdb.url()),
            )
            .env("TERN_AUTOCONFIG_CONNECT_TO", self.web.addr.to_string())
            .env("TERN_AUTOCONFIG_CA_FILE", self.web.ca_pem.as_ref().unwrap())
            .env("TERN_DNS_SERVER", self.dns.addr.to_string())
            .env(
                "TERN_AUTOCONFIG_TIMEOUT_SECS",
                self.timeout_secs.to_string(),
            )
            .env("TERN_AUTOCONFIG_GUESS_PORTS", &self.guess_ports)
            .output()
            .unwrap();
        let elapsed = started.elapsed();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        let json = serde_json::from_str(&stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}\n{stderr}"));
        (out.status.success(), json, stderr, elapsed)
    }
}

fn source_error<'a>(doc: &'a serde_json::Value, source: &str) -> &'a str {
    doc["sources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["source"] == source)
        .unwrap_or_else(|| panic!("no {source} in {doc}"))["error"]
        .as_str()
        .unwrap_or("")
}

#[test]
fn each_source_in_the_order_of_preference() {
    let net = Net::new(&["example.test"]);
    let doc = |host: &str| {
        autoconfig_xml(
            "example.test",
            &[
                ("imap", host, 993, "SSL"),
                ("pop3", host, 995, "SSL"),
                ("imap", host, 143, "plain"),
            ],
            &[(host, 587, "STARTTLS")],
        )
    };
    let path = "/mail/config-v1.1.xml";
    let well_known = "/.well-known/autoconfig/mail/config-v1.1.xml";
    net.web.route(
        "autoconfig.example.test",
        path,
        Reply::Body(doc("a.example.test")),
    );
    net.web.route(
        "example.test",
        well_known,
        Reply::Body(doc("b.example.test")),
    );
    net.ispdb.route(
        "127.0.0.1",
        "/v1.1/example.test",
        Reply::Body(doc("c.example.test")),
    );
    net.dns.mx("example.test", 10, "mx1.provider.test");
    net.dns.mx("example.test", 20, "mx2.other.test");
    net.ispdb.route(
        "127.0.0.1",
        "/v1.1/provider.test",
        Reply::Body(doc("d.provider.test")),
    );
    net.dns
        .srv("_imaps._tcp.example.test", 0, 993, "srv.example.test");
    net.dns
        .srv("_imap._tcp.example.test", 0, 143, "srv.example.test");
    net.dns.srv("_pop3s._tcp.example.test", 0, 0, ".");
    net.dns.srv(
        "_submission._tcp.example.test",
        5,
        587,
        "smtp2.example.test",
    );
    net.dns.srv(
        "_submission._tcp.example.test",
        1,
        587,
        "smtp1.example.test",
    );

    // 1. The domain's autoconfig server, asked with the address; the document is read whole.
    let (ok, found, stderr, _) = net.discover("Jo.Doe@Example.test");
    assert!(ok, "{stderr}");
    let f = &found["found"];
    assert_eq!(f["source"], "autoconfig", "{found}");
    assert_eq!(f["incoming"][0]["host"], "a.example.test");
    assert_eq!(f["incoming"][0]["security"], "tls");
    assert_eq!(f["incoming"][0]["login"], "Jo.Doe@Example.test");
    assert_eq!(f["incoming"][1]["protocol"], "pop3");
    assert_eq!(f["incoming"][2]["security"], "plain");
    assert_eq!(f["outgoing"][0]["security"], "starttls");
    assert_eq!(f["outgoing"][0]["login"], "Jo.Doe");
    assert_eq!(f["display_name"], "example.test Mail");
    assert!(
        net.web
            .requests
            .lock()
            .unwrap()
            .iter()
            .any(|r| r.starts_with(
                "autoconfig.example.test /mail/config-v1.1.xml?emailaddress=Jo.Doe%40Example.test"
            )),
        "{:?}",
        net.web.requests.lock().unwrap()
    );
    assert_eq!(found["domain"], "example.test");

    // 2. Without it, the well-known URL.
    net.web
        .route("autoconfig.example.test", path, Reply::Status(404));
    let (_, found, _, _) = net.discover("jo@example.test");
    assert_eq!(found["found"]["source"], "well-known", "{found}");
    assert_eq!(found["found"]["incoming"][0]["host"], "b.example.test");
    assert!(
        source_error(&found, "autoconfig").contains("404"),
        "{found}"
    );

    // 3. A broken document there is a failure with its reason; the ISPDB answers.
    net.web.route(
        "example.test",
        well_known,
        Reply::Body("<clientConfig version=\"1.1\"><emailProvider".into()),
    );
    let (_, found, _, _) = net.discover("jo@example.test");
    assert_eq!(found["found"]["source"], "ispdb", "{found}");
    assert_eq!(found["found"]["incoming"][0]["host"], "c.example.test");
    assert!(
        source_error(&found, "well-known").contains("not XML"),
        "{found}"
    );

    // 4. Not in the ISPDB: the ISPDB's entry for the provider the MX points at.
    net.ispdb
        .route("127.0.0.1", "/v1.1/example.test", Reply::Status(404));
    let (_, found, _, _) = net.discover("jo@example.test");
    assert_eq!(found["found"]["source"], "mx", "{found}");
    assert_eq!(found["found"]["incoming"][0]["host"], "d.provider.test");
    assert!(
        found["found"]["detail"]
            .as_str()
            .unwrap()
            .contains("mx1.provider.test"),
        "{found}"
    );

    // 5. No provider entry either: the SRV records (priority order; "." means not offered).
    net.ispdb
        .route("127.0.0.1", "/v1.1/provider.test", Reply::Status(404));
    let (ok, found, _, _) = net.discover("jo@example.test");
    assert!(ok);
    let f = &found["found"];
    assert_eq!(f["source"], "srv", "{found}");
    assert_eq!(f["incoming"][0]["host"], "srv.example.test");
    assert_eq!(f["incoming"][0]["port"], 993);
    assert_eq!(f["incoming"][0]["security"], "tls");
    assert_eq!(f["incoming"][1]["security"], "starttls");
    assert_eq!(f["incoming"].as_array().unwrap().len(), 2, "{found}");
    assert_eq!(f["outgoing"][0]["host"], "smtp1.example.test");
    assert_eq!(f["outgoing"][1]["host"], "smtp2.example.test");

    // Every name asked was one of the test's: the responder was the only name server.
    let questions = net.dns.questions.lock().unwrap().clone();
    assert!(!questions.is_empty());
    assert!(
        questions.iter().all(|q| q.contains(".test.")),
        "{questions:?}"
    );
}

#[test]
fn a_source_that_does_not_answer_is_cut_off_by_the_overall_timeout() {
    let mut net = Net::new(&["slow.test"]);
    net.timeout_secs = 3;
    net.web.route(
        "autoconfig.slow.test",
        "/mail/config-v1.1.xml",
        Reply::Stall,
    );
    net.dns.stall("slow.test");
    let doc = autoconfig_xml(
        "slow.test",
        &[("imap", "imap.slow.test", 993, "SSL")],
        &[("smtp.slow.test", 465, "SSL")],
    );
    net.ispdb
        .route("127.0.0.1", "/v1.1/slow.test", Reply::Body(doc));
    let (ok, found, stderr, took) = net.discover("jo@slow.test");
    assert!(ok, "{stderr}");
    assert_eq!(found["found"]["source"], "ispdb", "{found}");
    assert!(
        source_error(&found, "autoconfig").contains("no answer"),
        "{found}"
    );
    assert!(
        source_error(&found, "mx").contains("no answer")
            || source_error(&found, "mx").contains("timed out"),
        "{found}"
    );
    assert!(took < Duration::from_secs(3 + 3), "took {took:?}");

    // Nothing answers at all: a clear failure, still within the timeout.
    net.ispdb
        .route("127.0.0.1", "/v1.1/slow.test", Reply::Stall);
    let (ok, found, stderr, took) = net.discover("jo@slow.test");
    assert!(!ok);
    assert!(found["found"].is_null(), "{found}");
    assert!(
        stderr.contains("no settings found for slow.test"),
        "{stderr}"
    );
    assert!(took < Duration::from_secs(3 + 3), "took {took:?}");
}

#[test]
fn the_guess_probes_real_servers_and_picks_the_mode_each_port_speaks() {
    let servers = MailServers::start();
    let mut net = Net::new(&["guess.test"]);
    for host in ["imap.guess.test", "mail.guess.test", "smtp.guess.test"] {
        net.dns.a(host);
    }
    let p = servers.ports;
    net.guess_ports = format!(
        "imaps={},imap={},pop3s={},pop3={},submissions={},submission={}",
        p.imaps, p.imap, p.pop3s, p.pop3, p.submissions, p.submission
    );
    let (ok, found, stderr, _) = net.discover("bob@guess.test");
    assert!(ok, "{stderr}\n{found}");
    let f = &found["found"];
    assert_eq!(f["source"], "guess", "{found}");
    assert_eq!(f["incoming"][0]["protocol"], "imap");
    assert_eq!(f["incoming"][0]["host"], "imap.guess.test");
    assert_eq!(f["incoming"][0]["port"], p.imaps);
    assert_eq!(f["incoming"][0]["security"], "tls");
    // pop3.guess.test and pop.guess.test have no address: mail.guess.test serves POP3.
    assert_eq!(f["incoming"][1]["protocol"], "pop3");
    assert_eq!(f["incoming"][1]["host"], "mail.guess.test");
    assert_eq!(f["outgoing"][0]["host"], "smtp.guess.test");
    assert_eq!(f["outgoing"][0]["port"], p.submissions);
    assert_eq!(f["outgoing"][0]["security"], "tls");

    // Where the "TLS" ports speak plain text, the TLS probe fails and STARTTLS is chosen.
    net.guess_ports = format!(
        "imaps={},imap={},pop3s={},pop3={},submissions={},submission={}",
        p.imap, p.imap, p.pop3, p.pop3, p.submission, p.submission
    );
    let (ok, found, stderr, _) = net.discover("bob@guess.test");
    assert!(ok, "{stderr}\n{found}");
    let f = &found["found"];
    assert_eq!(f["incoming"][0]["port"], p.imap);
    assert_eq!(f["incoming"][0]["security"], "starttls", "{found}");
    assert_eq!(f["incoming"][1]["security"], "starttls", "{found}");
    assert_eq!(f["outgoing"][0]["port"], p.submission);
    assert_eq!(f["outgoing"][0]["security"], "starttls", "{found}");
}
