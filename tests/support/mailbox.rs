//! Reading a test user's mailbox with a raw IMAP client, independently of Tern.

use std::time::{Duration, Instant};

use super::raw::LineClient;
use super::{MailServers, User};

/// Logs `user` in over IMAPS.
pub fn login(servers: &MailServers, user: &User) -> LineClient {
    let mut c = LineClient::tls(servers.ports.imaps, &servers.certs.ca_pem);
    c.line();
    c.imap_ok("a", &format!("LOGIN {} {}", user.address, user.password));
    c
}

/// How many messages `folder` holds.
pub fn count(servers: &MailServers, user: &User, folder: &str) -> usize {
    let mut c = login(servers, user);
    let status = c.imap_ok("b", &format!("STATUS {folder} (MESSAGES)"));
    c.imap_ok("z", "LOGOUT");
    status
        .iter()
        .find_map(|l| {
            l.split("MESSAGES ")
                .nth(1)
                .and_then(|rest| rest.trim_end_matches(')').trim().parse().ok())
        })
        .unwrap_or(0)
}

/// Polls `folder` until it has `n` messages (30 s at most; the Postfix log on failure).
pub fn wait_for(servers: &MailServers, user: &User, folder: &str, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while count(servers, user, folder) < n {
        assert!(
            Instant::now() < deadline,
            "mail for {} did not arrive in {folder}:\n{}",
            user.address,
            servers.postfix_log()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The raw source and flags of every message in `folder`, by UID order.
pub fn messages(servers: &MailServers, user: &User, folder: &str) -> Vec<(Vec<u8>, String)> {
    let mut c = login(servers, user);
    c.imap_ok("b", &format!("EXAMINE {folder}"));
    c.send("c UID FETCH 1:* (FLAGS BODY.PEEK[])");
    let mut out = Vec::new();
    loop {
        let line = c.line();
        if line.starts_with("c ") {
            assert!(line.starts_with("c OK"), "{line}");
            break;
        }
        let Some(open) = line.rfind('{') else {
            continue;
        };
        let len: usize = line[open + 1..line.len() - 1].parse().unwrap();
        let raw = c.exact(len);
        let flags = line
            .split("FLAGS (")
            .nth(1)
            .and_then(|f| f.split(')').next())
            .unwrap_or("")
            .to_owned();
        out.push((raw, flags));
        c.line(); // the closing ")"
    }
    c.imap_ok("z", "LOGOUT");
    out
}
