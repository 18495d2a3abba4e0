//! The POP3 engine against the harness's Dovecot pop3d, with another client (a phone on IMAP,
//! new mail over LMTP) acting between Tern's passes: everything downloaded exactly once and
//! byte-exact, a second pass downloads nothing, leave on server / delete after N days (a test
//! clock) / delete when deleted here / do not leave on server, headers only over a size limit
//! with the rest on demand, and a server that loses its UIDL list. Each test ends by comparing
//! Tern's store with the server's maildrop, UIDL by UIDL.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use support::{MailServers, User, cli, corpus, mailbox};
use tern::account::Account;
use tern::account::credentials::Secret;
use tern::engine::pop3::{Pop3Report, sync_account_at};
use tern::store::Store;

const DAY: i64 = 86_400;

struct Fixture {
    servers: MailServers,
    _dir: tempfile::TempDir,
    data: std::path::PathBuf,
    store: Store,
}

impl Fixture {
    /// Bob's POP3 account over POP3S with `extra` options.
    fn new(extra: &[&str]) -> Fixture {
        let servers = MailServers::start();
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        cli::add_pop3_account(
            &servers,
            &data,
            &servers.bob,
            servers.ports.pop3s,
            "tls",
            extra,
        );
        let store = Store::open_dir(&data).unwrap();
        Fixture {
            servers,
            _dir: dir,
            data,
            store,
        }
    }

    fn bob(&self) -> &User {
        &self.servers.bob
    }

    fn account(&self) -> Account {
        self.store.find_account("bob").unwrap()
    }

    /// One pass as if it were `now`.
    fn sync_at(&self, now: i64) -> Pop3Report {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let password = Secret::new(self.bob().password.clone());
        runtime
            .block_on(sync_account_at(
                &self.store,
                &self.account(),
                &password,
                now,
                &mut |_| {},
            ))
            .unwrap()
    }

    fn sync(&self) -> Pop3Report {
        self.sync_at(tern::store::now_seconds())
    }

    /// Tern's Inbox: Message-ID → (message id, uidl), panicking on a duplicate Message-ID.
    fn local(&self, folder: &str) -> BTreeMap<String, (i64, Option<String>)> {
        let account = self.account();
        let folder = self.store.find_folder(account.id, folder).unwrap();
        let rows = self
            .store
            .folder_page(folder.id, tern::store::SortOrder::DateDesc, None, 100_000)
            .unwrap();
        let mut out = BTreeMap::new();
        for row in rows {
            let key = row.message_id.clone().unwrap_or_default();
            assert!(
                out.insert(key.clone(), (row.id, row.uidl.clone()))
                    .is_none(),
                "{key} is in {} twice",
                folder.path
            );
        }
        out
    }

    /// Every message the server holds is in Tern exactly once (by its UIDL's row and by
    /// Message-ID, in whichever local folder), and the rows Tern thinks are on the server are
    /// exactly the server's UIDLs.
    fn assert_matches_server(&self, when: &str) {
        let account = self.account();
        let server = mailbox::pop3_listing(&self.servers, self.bob());
        let server_uidls: BTreeSet<&str> = server.iter().map(|(u, _)| u.as_str()).collect();
        let mut everywhere: BTreeMap<String, usize> = BTreeMap::new();
        for folder in self.store.folders(account.id).unwrap() {
            for (message_id, _) in self.local(&folder.path) {
                *everywhere.entry(message_id).or_default() += 1;
            }
        }
        for (uidl, message_id) in &server {
            let seen = self.store.pop3_seen(account.id, uidl).unwrap();
            assert!(
                seen.as_ref().is_some_and(|s| !s.removed),
                "{when}: UIDL {uidl} ({message_id}) is on the server but Tern has {seen:?}"
            );
            let copies = everywhere.get(message_id).copied().unwrap_or(0);
            assert!(
                copies == 1 || seen.is_some_and(|s| s.deleted_here),
                "{when}: {message_id} (UIDL {uidl}) is in Tern {copies} times"
            );
        }
        let known = self.store.pop3_known(account.id, &[]).unwrap();
        let on_server: BTreeSet<&str> = known
            .values()
            .filter(|r| !r.removed)
            .map(|r| r.uidl.as_str())
            .collect();
        assert_eq!(
            on_server, server_uidls,
            "{when}: UIDLs Tern believes are on the server"
        );
        for (message_id, n) in &everywhere {
            assert_eq!(*n, 1, "{when}: {message_id} is in Tern {n} times");
        }
    }
}

/// A small message for LMTP delivery.
fn note(id: &str, subject: &str) -> String {
    format!(
        "From: phone@example.test\r\nTo: bob@example.test\r\nSubject: {subject}\r\nMessage-ID: <{id}>\r\nDate: Tue, 01 Dec 2026 10:00:00 +0000\r\n\r\nbody of {subject}\r\n"
    )
}

/// Expunges the messages with these Message-IDs from the INBOX with another IMAP client.
fn phone_expunges(servers: &MailServers, user: &User, message_ids: &[&str]) {
    let mut c = mailbox::login(servers, user);
    c.imap_ok("b", "SELECT INBOX");
    for (i, id) in message_ids.iter().enumerate() {
        let found = c.imap_ok(
            &format!("s{i}"),
            &format!("UID SEARCH HEADER Message-ID \"{id}\""),
        );
        let uids: Vec<String> = found
            .iter()
            .filter_map(|l| l.strip_prefix("* SEARCH"))
            .flat_map(|l| l.split_whitespace().map(str::to_owned))
            .collect();
        assert_eq!(uids.len(), 1, "{id}: {found:?}");
        c.imap_ok(
            &format!("d{i}"),
            &format!("UID STORE {} +FLAGS (\\Deleted)", uids[0]),
        );
    }
    c.imap_ok("e", "EXPUNGE");
    c.imap_ok("z", "LOGOUT");
}

/// Messages that test the framing, as they are stored.
fn tricky() -> Vec<Vec<u8>> {
    vec![
        b"From: a@example.test\r\nSubject: dots\r\nMessage-ID: <dots@example.test>\r\n\r\n.\r\n..\r\n.leading\r\n.\r\nend\r\n".to_vec(),
        b"From: b@example.test\r\nSubject: 8bit\r\nMessage-ID: <8bit@example.test>\r\nContent-Type: text/plain; charset=latin1\r\nContent-Transfer-Encoding: 8bit\r\n\r\nbytes \xe9\xe8\xff\x80\r\n".to_vec(),
        b"From: c@example.test\r\nSubject: no final break\r\nMessage-ID: <nobreak@example.test>\r\n\r\nthe last line has no CRLF".to_vec(),
    ]
}

#[test]
fn everything_once_byte_exact_then_nothing_and_the_phone_is_followed() {
    let f = Fixture::new(&[]);
    let generated = corpus::fill_maildir(f.bob(), "INBOX", 40, 11);
    for (i, raw) in tricky().iter().enumerate() {
        corpus::write_message(f.bob(), "INBOX", raw, &[], 1_790_000_000 + i as i64);
    }
    let total = generated.len() + 3;

    let first = f.sync();
    assert_eq!(first.on_server, total, "{first:?}");
    assert_eq!(first.new_messages, total, "{first:?}");
    assert_eq!(first.deleted_on_server, 0);
    // Byte-exact against what Dovecot stores (read over IMAP, independently of POP3).
    let local = f.local("INBOX");
    assert_eq!(local.len(), total);
    for (raw, _) in mailbox::messages(&f.servers, f.bob(), "INBOX") {
        let id = tern::mail::parse::summarize(&raw).message_id.unwrap();
        let mut wire = raw.clone();
        if !wire.ends_with(b"\r\n") {
            wire.extend_from_slice(b"\r\n"); // POP3's framing ends a message with a line break
        }
        let stored = f.store.raw_message(local[&id].0).unwrap().unwrap();
        assert!(stored == wire, "{id} is not byte-exact");
    }
    f.assert_matches_server("after the first pass");

    // Nothing new: one UIDL/LIST exchange, no message read.
    let second = f.sync();
    assert_eq!(second.new_messages, 0, "{second:?}");
    assert_eq!(second.downloaded, 0, "{second:?}");
    assert!(
        second.bytes_received < 8 * 1024,
        "a check without new mail received {} bytes",
        second.bytes_received
    );

    // The phone deletes two messages; two new ones arrive over LMTP.
    let gone = [generated[3].message_id.as_str(), "dots@example.test"];
    phone_expunges(&f.servers, f.bob(), &gone);
    mailbox::deliver_lmtp(&f.servers, f.bob(), &note("new-1@example.test", "new one"));
    mailbox::deliver_lmtp(&f.servers, f.bob(), &note("new-2@example.test", "new two"));
    let third = f.sync();
    assert_eq!(third.new_messages, 2, "{third:?}");
    assert_eq!(third.on_server, total);
    let local = f.local("INBOX");
    // The store is the authority: what the phone deleted on the server stays here.
    assert_eq!(local.len(), total + 2);
    for id in gone {
        assert!(local.contains_key(id), "{id} was lost locally");
    }
    // Leave on server (the default): the server still has everything it had.
    assert_eq!(mailbox::count(&f.servers, f.bob(), "INBOX"), total);
    f.assert_matches_server("after the phone's changes");
    assert_eq!(f.sync().downloaded, 0);
}

#[test]
fn delete_after_days_removes_only_the_old_mail_from_the_server() {
    let f = Fixture::new(&["--delete-after-days", "30"]);
    corpus::fill_maildir(f.bob(), "INBOX", 5, 21);
    let t0 = tern::store::now_seconds();
    assert_eq!(f.sync_at(t0).new_messages, 5);
    mailbox::deliver_lmtp(
        &f.servers,
        f.bob(),
        &note("later-1@example.test", "later 1"),
    );
    mailbox::deliver_lmtp(
        &f.servers,
        f.bob(),
        &note("later-2@example.test", "later 2"),
    );
    let at20 = f.sync_at(t0 + 20 * DAY);
    assert_eq!(
        (at20.new_messages, at20.deleted_on_server),
        (2, 0),
        "{at20:?}"
    );
    assert_eq!(mailbox::count(&f.servers, f.bob(), "INBOX"), 7);
    // Day 35: the first five are 35 days old, the later two 15.
    let at35 = f.sync_at(t0 + 35 * DAY);
    assert_eq!(at35.deleted_on_server, 5, "{at35:?}");
    let left: Vec<String> = mailbox::pop3_listing(&f.servers, f.bob())
        .into_iter()
        .map(|(_, id)| id)
        .collect();
    assert_eq!(left, ["later-1@example.test", "later-2@example.test"]);
    // Every message is still here.
    assert_eq!(f.local("INBOX").len(), 7);
    f.assert_matches_server("after day 35");
    // Day 51: the later two go too.
    assert_eq!(f.sync_at(t0 + 51 * DAY).deleted_on_server, 2);
    assert_eq!(mailbox::count(&f.servers, f.bob(), "INBOX"), 0);
    assert_eq!(f.local("INBOX").len(), 7);
    f.assert_matches_server("after day 51");
}

#[test]
fn delete_when_deleted_here_removes_exactly_that_message() {
    let f = Fixture::new(&["--delete-on-server-when-deleted", "yes"]);
    let generated = corpus::fill_maildir(f.bob(), "INBOX", 6, 31);
    f.sync();
    let local = f.local("INBOX");
    let account = f.account();
    let trash = f.store.find_folder(account.id, "Trash").unwrap();
    let archive = f.store.find_folder(account.id, "Archive").unwrap();
    // Deleted (to Trash); deleted then taken back out of Trash; archived; deleted for good.
    let to_trash = &generated[0].message_id;
    let undeleted = &generated[1].message_id;
    let archived = &generated[2].message_id;
    let purged = &generated[3].message_id;
    assert!(f.store.queue_delete(local[to_trash].0).unwrap());
    assert!(f.store.queue_delete(local[undeleted].0).unwrap());
    f.store.queue_move(local[undeleted].0, archive.id).unwrap();
    f.store.queue_move(local[archived].0, archive.id).unwrap();
    assert!(f.store.queue_delete(local[purged].0).unwrap());
    assert!(
        !f.store.queue_delete(local[purged].0).unwrap(),
        "from Trash: for good"
    );
    // Flags are local too: nothing is queued for a server.
    f.store
        .queue_flags(
            local[&generated[4].message_id].0,
            &["\\Flagged".into()],
            &[],
        )
        .unwrap();
    assert!(f.store.pending_ops(account.id).unwrap().is_empty());
    // Meanwhile the phone deletes one message itself, and a new one arrives.
    phone_expunges(&f.servers, f.bob(), &[generated[5].message_id.as_str()]);
    mailbox::deliver_lmtp(&f.servers, f.bob(), &note("fresh@example.test", "fresh"));

    let report = f.sync();
    assert_eq!(
        (report.deleted_on_server, report.new_messages),
        (2, 1),
        "{report:?}"
    );
    let left: BTreeSet<String> = mailbox::pop3_listing(&f.servers, f.bob())
        .into_iter()
        .map(|(_, id)| id)
        .collect();
    let expected: BTreeSet<String> = [undeleted, archived, &generated[4].message_id]
        .into_iter()
        .cloned()
        .chain(["fresh@example.test".to_owned()])
        .collect();
    assert_eq!(left, expected);
    assert!(f.local("Trash").contains_key(to_trash));
    assert!(f.local("Archive").contains_key(undeleted));
    assert!(!f.local("Trash").contains_key(purged));
    // The message in Trash can still be read: the local copy is the authority.
    assert!(
        f.store
            .raw_message(f.local("Trash")[to_trash].0)
            .unwrap()
            .is_some()
    );
    let _ = trash;
    f.assert_matches_server("after deleting here");
    assert_eq!(f.sync().deleted_on_server, 0);
}

#[test]
fn not_leaving_mail_on_the_server_and_headers_only_over_the_limit() {
    let f = Fixture::new(&["--leave-on-server", "no", "--headers-only-over-kb", "20"]);
    corpus::fill_maildir(f.bob(), "INBOX", 8, 41);
    let mut big =
        b"From: big@example.test\r\nSubject: big\r\nMessage-ID: <big@example.test>\r\n\r\n"
            .to_vec();
    while big.len() < 60 * 1024 {
        big.extend_from_slice(b"a line of the big message, which is over the limit\r\n");
    }
    corpus::write_message(f.bob(), "INBOX", &big, &[], 1_790_000_000);

    let first = f.sync();
    assert_eq!(
        (first.new_messages, first.headers_only),
        (9, 1),
        "{first:?}"
    );
    // Everything whole here left the server; the big one waits for its body.
    assert_eq!(first.deleted_on_server, 8, "{first:?}");
    let left = mailbox::pop3_listing(&f.servers, f.bob());
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].1, "big@example.test");
    let local = f.local("INBOX");
    assert_eq!(local.len(), 9);
    let big_id = local["big@example.test"].0;
    let row = f.store.message(big_id).unwrap();
    assert_eq!(row.body_state, 0, "only the headers are here");
    assert_eq!(row.subject, "big");
    assert!(f.store.raw_message(big_id).unwrap().is_none());
    f.assert_matches_server("after the first pass");

    // The phone adds mail meanwhile; opening the big message downloads the rest.
    mailbox::deliver_lmtp(
        &f.servers,
        f.bob(),
        &note("phone@example.test", "from the phone"),
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let password = Secret::new(f.bob().password.clone());
    let text = runtime
        .block_on(tern::engine::imap::fetch_text(
            &f.store,
            &f.account(),
            &password,
            big_id,
            tern::engine::imap::Prefer::Text,
        ))
        .unwrap();
    assert!(text.text.unwrap().contains("a line of the big message"));
    assert_eq!(f.store.raw_message(big_id).unwrap().unwrap(), big);
    assert_eq!(f.store.message(big_id).unwrap().body_state, 2);

    // Now whole, it leaves the server with the next pass, with the phone's message.
    let second = f.sync();
    assert_eq!(
        (second.new_messages, second.deleted_on_server),
        (1, 2),
        "{second:?}"
    );
    assert!(mailbox::pop3_listing(&f.servers, f.bob()).is_empty());
    assert_eq!(f.local("INBOX").len(), 10);
    f.assert_matches_server("after the second pass");
}

/// Dovecot's UIDLs are UID and UIDVALIDITY: removing its UID list makes it number the
/// maildrop afresh, as a server restored from backup or migrated might.
fn forget_uidls(user: &User) {
    let maildir = corpus::maildir_folder(user, "INBOX");
    for entry in std::fs::read_dir(&maildir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with("dovecot") {
            if path.is_dir() {
                std::fs::remove_dir_all(&path).unwrap();
            } else {
                std::fs::remove_file(&path).unwrap();
            }
        }
    }
}

#[test]
fn a_server_that_loses_its_uidl_list_causes_no_duplicates_or_loss() {
    let f = Fixture::new(&["--delete-on-server-when-deleted", "yes"]);
    let generated = corpus::fill_maildir(f.bob(), "INBOX", 10, 51);
    f.sync();
    let before = mailbox::pop3_listing(&f.servers, f.bob());
    forget_uidls(f.bob());
    mailbox::deliver_lmtp(&f.servers, f.bob(), &note("after@example.test", "after"));
    let after = mailbox::pop3_listing(&f.servers, f.bob());
    // Every old UIDL now names other mail (Dovecot numbered the new message first).
    assert!(
        before.iter().all(|old| !after.contains(old)),
        "the UIDLs did not change: {before:?} {after:?}"
    );
    let report = f.sync();
    assert_eq!(report.new_messages, 1, "{report:?}");
    assert!(!report.notes.is_empty(), "{report:?}");
    assert_eq!(f.local("INBOX").len(), 11);
    f.assert_matches_server("after the server renumbered");
    // The local copies follow the new UIDLs: deleting one here deletes it on the server.
    let local = f.local("INBOX");
    f.store
        .queue_delete(local[&generated[0].message_id].0)
        .unwrap();
    assert_eq!(f.sync().deleted_on_server, 1);
    assert_eq!(mailbox::count(&f.servers, f.bob(), "INBOX"), 10);
    f.assert_matches_server("after deleting one");
}

#[test]
fn the_cli_syncs_pop3_and_sets_its_options() {
    let f = Fixture::new(&[]);
    corpus::fill_maildir(f.bob(), "INBOX", 3, 61);
    let out = cli::tern(&f.data, &["sync"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("3 new messages"), "{stderr}");
    let out = cli::tern(&f.data, &["list", "--account", "bob", "--json"]);
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 3);
    // Local folders, and folder management without a server.
    let out = cli::tern(&f.data, &["folders", "--account", "bob"]);
    let folders = String::from_utf8_lossy(&out.stdout);
    for name in ["INBOX", "Sent", "Drafts", "Trash", "Archive", "Junk"] {
        assert!(folders.contains(name), "{folders}");
    }
    let out = cli::tern(
        &f.data,
        &["folder", "create", "--account", "bob", "Projects/2026"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = cli::tern(
        &f.data,
        &["folder", "delete", "--account", "bob", "Sent", "--yes"],
    );
    assert!(!out.status.success());
    // Options.
    let out = cli::tern(
        &f.data,
        &[
            "account",
            "set",
            "bob",
            "--leave-on-server",
            "no",
            "--delete-after-days",
            "3",
        ],
    );
    assert!(
        !out.status.success(),
        "an age limit without leaving mail is refused"
    );
    let out = cli::tern(
        &f.data,
        &[
            "account",
            "set",
            "bob",
            "--delete-after-days",
            "14",
            "--delete-on-server-when-deleted",
            "yes",
            "--check-minutes",
            "15",
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("for 14 days until deleted here"),
        "{stderr}"
    );
    let account = f.account();
    assert_eq!(
        (
            account.pop3_leave_on_server,
            account.pop3_delete_after_days,
            account.pop3_delete_when_deleted,
            account.poll_seconds
        ),
        (true, Some(14), true, 900)
    );
    let out = cli::tern(&f.data, &["account", "list", "--json"]);
    let accounts: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(accounts[0]["delete_after_days"], 14, "{accounts}");
    assert_eq!(accounts[0]["check_minutes"], 15, "{accounts}");
    // Deleting with delete-when-deleted goes to the server at once.
    let id = f.local("INBOX").values().next().unwrap().0.to_string();
    let out = cli::tern(&f.data, &["delete", &id]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(mailbox::count(&f.servers, f.bob(), "INBOX"), 2);
    f.assert_matches_server("after the CLI");
    let _ = Path::new("");
}
