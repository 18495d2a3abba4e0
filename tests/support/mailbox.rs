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

/// How many messages `folder` holds that are not marked \Deleted.
pub fn count_undeleted(servers: &MailServers, user: &User, folder: &str) -> usize {
    let mut c = login(servers, user);
    c.imap_ok("b", &format!("EXAMINE \"{folder}\""));
    let found = c.imap_ok("c", "UID SEARCH UNDELETED");
    c.imap_ok("z", "LOGOUT");
    found
        .iter()
        .find_map(|l| l.strip_prefix("* SEARCH"))
        .map_or(0, |uids| uids.split_whitespace().count())
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

/// Every message of `folder` on the server: UID → its flags (lower-cased, sorted, without
/// `\Recent`), read with a raw IMAP client.
pub fn server_flags(
    servers: &MailServers,
    user: &User,
    folder: &str,
) -> std::collections::BTreeMap<u32, Vec<String>> {
    let mut c = login(servers, user);
    c.imap_ok("b", &format!("EXAMINE \"{folder}\""));
    let lines = c.imap_ok("c", "UID FETCH 1:* (FLAGS)");
    c.imap_ok("z", "LOGOUT");
    let mut out = std::collections::BTreeMap::new();
    for line in lines {
        let Some(uid) = uid_in(&line) else {
            continue;
        };
        let flags = line
            .split("FLAGS (")
            .nth(1)
            .and_then(|f| f.split(')').next())
            .unwrap_or("");
        out.insert(uid, normalise_flags(flags.split_whitespace()));
    }
    out
}

/// The UID a `* n FETCH (... UID u ...)` line names.
pub fn uid_in(line: &str) -> Option<u32> {
    line.split("UID ")
        .nth(1)
        .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|n| n.parse().ok())
}

/// Flag names as `server_flags` gives them: lower-cased, sorted, without `\Recent`.
pub fn normalise_flags<'a>(flags: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut flags: Vec<String> = flags
        .map(str::to_ascii_lowercase)
        .filter(|f| f != "\\recent")
        .collect();
    flags.sort_unstable();
    flags.dedup();
    flags
}

/// Tern's cache of `folder`: UID → flags, in the form `server_flags` gives. Panics if a cached
/// row has no UID (an action that never reached the server).
pub fn cached_flags(
    store: &tern::store::Store,
    account: &str,
    folder: &str,
) -> std::collections::BTreeMap<u32, Vec<String>> {
    let account = store.find_account(account).unwrap();
    let folder = store.find_folder(account.id, folder).unwrap();
    let rows = store.cached_flags(folder.id, 0, usize::MAX >> 1).unwrap();
    assert_eq!(
        rows.len() as i64,
        folder.total,
        "{}: rows without a UID are left in the cache",
        folder.path
    );
    rows.into_iter()
        .map(|(uid, bits, keywords)| {
            let names = tern::store::flag::names(bits, &keywords);
            (
                u32::try_from(uid).unwrap(),
                normalise_flags(names.iter().map(String::as_str)),
            )
        })
        .collect()
}

/// Asserts that Tern's cache of each folder equals the server's state, UID by UID (same UIDs,
/// same flags). A message marked \Deleted on the server counts as gone, as it does for Tern.
pub fn assert_mirrors(
    servers: &MailServers,
    user: &User,
    data: &std::path::Path,
    folders: &[&str],
    when: &str,
) {
    let store = tern::store::Store::open_dir(data).unwrap();
    let account = user.address.split('@').next().unwrap();
    for folder in folders {
        let mut server = server_flags(servers, user, folder);
        server.retain(|_, flags| !flags.iter().any(|f| f == "\\deleted"));
        let cache = cached_flags(&store, account, folder);
        if server != cache {
            let only_server: Vec<_> = server.keys().filter(|u| !cache.contains_key(u)).collect();
            let only_cache: Vec<_> = cache.keys().filter(|u| !server.contains_key(u)).collect();
            let differ: Vec<_> = server
                .iter()
                .filter(|(u, f)| cache.get(u).is_some_and(|c| c != *f))
                .map(|(u, f)| format!("UID {u}: server {f:?}, cache {:?}", cache[u]))
                .collect();
            panic!(
                "{when}: {folder} differs from the server: only on the server {only_server:?}, only in the cache {only_cache:?}, flags {differ:?}"
            );
        }
    }
}

/// The server's POP3 view of `user`'s maildrop: (UIDL, Message-ID) of every message, in
/// message-number order, read with a raw POP3 client over POP3S.
pub fn pop3_listing(servers: &MailServers, user: &User) -> Vec<(String, String)> {
    let mut c = LineClient::tls(servers.ports.pop3s, &servers.certs.ca_pem);
    c.line();
    assert!(c.pop(&format!("USER {}", user.address)).starts_with("+OK"));
    assert!(c.pop(&format!("PASS {}", user.password)).starts_with("+OK"));
    assert!(c.pop("UIDL").starts_with("+OK"));
    let uidls: Vec<(String, String)> = c
        .pop_multiline()
        .iter()
        .map(|l| {
            let (n, id) = l.split_once(' ').unwrap();
            (n.to_owned(), id.to_owned())
        })
        .collect();
    let mut out = Vec::new();
    for (n, uidl) in uidls {
        assert!(c.pop(&format!("TOP {n} 0")).starts_with("+OK"));
        let message_id = c
            .pop_multiline()
            .iter()
            .find_map(|l| {
                l.split_once(':')
                    .filter(|(name, _)| name.eq_ignore_ascii_case("message-id"))
                    .map(|(_, v)| v.trim().trim_matches(['<', '>']).to_owned())
            })
            .unwrap_or_default();
        out.push((uidl, message_id));
    }
    c.pop("QUIT");
    out
}

/// Delivers `raw` to `user` over LMTP (as Postfix does), like new mail arriving.
pub fn deliver_lmtp(servers: &MailServers, user: &User, raw: &str) {
    let mut c = LineClient::plain(servers.ports.lmtp);
    c.smtp_reply();
    assert_eq!(c.smtp("LHLO localhost").0, 250);
    assert_eq!(c.smtp("MAIL FROM:<sender@example.test>").0, 250);
    assert_eq!(c.smtp(&format!("RCPT TO:<{}>", user.address)).0, 250);
    let (code, lines) = c.smtp_data(raw);
    assert_eq!(code, 250, "LMTP delivery refused: {lines:?}");
    c.smtp("QUIT");
}
