//! Store tests: migrations from every older version, query plans, paging, counts, threads.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use super::*;
use crate::account::settings::{AccountSettings, Protocol, Security, ServerAddr};

mod preview;
mod reset;
mod search;

fn settings(name: &str) -> AccountSettings {
    AccountSettings {
        name: name.into(),
        display_name: "Jo Example".into(),
        email: format!("{name}@example.test"),
        protocol: Protocol::Imap,
        incoming: ServerAddr {
            host: "127.0.0.1".into(),
            port: 993,
        },
        incoming_security: Security::Tls,
        outgoing: ServerAddr {
            host: "127.0.0.1".into(),
            port: 465,
        },
        outgoing_security: Security::Tls,
        login: format!("{name}@example.test"),
        password_cmd: Some("echo secret".into()),
        ca_file: None,
        cert_sha256: None,
    }
}

/// SQLite's plan for `sql` with `params`, one line per step (tests assert on index names).
fn query_plan(store: &Store, sql: &str, params: &[&dyn rusqlite::ToSql]) -> String {
    store
        .read(|conn| {
            let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
            let rows: Vec<String> = stmt
                .query_map(params, |r| r.get::<_, String>(3))
                .unwrap()
                .map(|r| r.unwrap())
                .collect();
            Ok(rows.join("\n"))
        })
        .unwrap()
}

fn temp_store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_dir(dir.path()).unwrap();
    (dir, store)
}

fn message(folder_id: i64, uid: i64, date: i64) -> NewMessage {
    NewMessage {
        folder_id,
        uid: Some(uid),
        message_id: Some(format!("m{uid}@example.test")),
        subject: format!("Subject {uid}"),
        from_name: format!("Sender {}", uid % 7),
        from_addr: format!("s{}@example.test", uid % 7),
        date,
        size: 1000 + uid,
        flags: if uid % 3 == 0 { flag::SEEN } else { 0 },
        ..NewMessage::default()
    }
}

#[test]
fn open_sets_wal_foreign_keys_and_version() {
    let (_dir, store) = temp_store();
    store
        .read(|conn| {
            let mode: String = conn
                .query_row("PRAGMA journal_mode", [], |r| r.get(0))
                .unwrap();
            assert_eq!(mode, "wal");
            let fk: i64 = conn
                .query_row("PRAGMA foreign_keys", [], |r| r.get(0))
                .unwrap();
            assert_eq!(fk, 1);
            assert_eq!(
                migrate::user_version(conn).unwrap(),
                i64::from(LATEST_VERSION)
            );
            Ok(())
        })
        .unwrap();
    // Every table is STRICT.
    store
        .read(|conn| {
            let mut stmt = conn.prepare("SELECT name, strict FROM pragma_table_list WHERE schema = 'main' AND type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'message_fts%'").unwrap();
            let rows: Vec<(String, i64)> = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().map(|r| r.unwrap()).collect();
            assert!(rows.len() >= 9, "{rows:?}");
            for (name, strict) in rows {
                assert_eq!(strict, 1, "table {name} is not STRICT");
            }
            Ok(())
        })
        .unwrap();
}

/// Builds a database at every older schema version, with data in it, and opens it with the
/// current code: it must upgrade in place, keep the data and pass SQLite's integrity checks.
#[test]
fn upgrades_from_every_older_version() {
    for start in 0..LATEST_VERSION {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(DB_FILE);
        {
            let mut conn = rusqlite::Connection::open(&path).unwrap();
            conn.execute_batch("PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON;")
                .unwrap();
            migrate::migrate_to(&mut conn, &path, start).unwrap();
            assert_eq!(migrate::user_version(&conn).unwrap(), i64::from(start));
            if start >= 1 {
                conn.execute(
                    "INSERT INTO account (name, email, protocol, incoming_host, incoming_port, incoming_security,
                         outgoing_host, outgoing_port, outgoing_security, login, created_at)
                     VALUES ('old', 'old@example.test', 'imap', 'h', 993, 'tls', 'h', 465, 'tls', 'old', 0)",
                    [],
                )
                .unwrap();
                conn.execute_batch(
                    "INSERT INTO folder (id, account_id, path) VALUES (70, 1, 'INBOX');
                     INSERT INTO message (id, account_id, folder_id, uid, subject, date)
                         VALUES (7, 1, 70, 7, 'kept', 0);
                     INSERT INTO body (message_id, raw) VALUES (7, x'6869');
                     INSERT INTO outbox (id, account_id, raw, mail_from, rcpt_to, subject, state,
                         error, attempts, next_attempt_at, in_reply_to_message,
                         forwarded_message, created_at, sent_at)
                         VALUES (5, 1, x'6f7574', 'old@example.test', '[\"to@example.test\"]',
                             'queued one', 'failed', 'refused', 3, 42, 7, NULL, 11, NULL);",
                )
                .unwrap();
            }
        }
        let store = Store::open(&path).unwrap();
        store
            .read(|conn| {
                assert_eq!(
                    migrate::user_version(conn).unwrap(),
                    i64::from(LATEST_VERSION)
                );
                let ok: String = conn
                    .query_row("PRAGMA integrity_check", [], |r| r.get(0))
                    .unwrap();
                assert_eq!(ok, "ok", "integrity after upgrading from {start}");
                let violations: i64 = conn
                    .query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| {
                        r.get(0)
                    })
                    .unwrap();
                assert_eq!(violations, 0, "foreign keys after upgrading from {start}");
                Ok(())
            })
            .unwrap();
        if start >= 1 {
            assert_eq!(
                store.find_account("old").unwrap().settings.email,
                "old@example.test"
            );
            // Messages keep their ids and their cached sources through every rebuild.
            assert_eq!(store.message(7).unwrap().subject, "kept");
            assert_eq!(store.raw_message(7).unwrap().as_deref(), Some(&b"hi"[..]));
            // The outbox keeps every field through its rebuild (0015).
            let row = store.outbox_row(5).unwrap();
            assert_eq!(
                (
                    row.account_id,
                    row.mail_from.as_str(),
                    row.recipients.clone(),
                    row.subject.as_str(),
                    row.state.as_str(),
                    row.error.as_deref(),
                    row.attempts,
                    row.next_attempt_at,
                    row.in_reply_to_message,
                    row.forwarded_message,
                    row.created_at,
                    row.size
                ),
                (
                    1,
                    "old@example.test",
                    vec!["to@example.test".to_owned()],
                    "queued one",
                    "failed",
                    Some("refused"),
                    3,
                    42,
                    Some(7),
                    None,
                    11,
                    3
                ),
                "after upgrading from {start}"
            );
            assert_eq!(store.outbox_raw(5).unwrap(), b"out");
        }
    }
}

#[test]
fn reopening_is_a_no_op_and_newer_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_dir(dir.path()).unwrap();
    store.add_account(&settings("jo")).unwrap();
    drop(store);
    let store = Store::open_dir(dir.path()).unwrap();
    assert_eq!(store.accounts().unwrap().len(), 1);
    drop(store);

    let path = dir.path().join(DB_FILE);
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.pragma_update(None, "user_version", LATEST_VERSION + 1)
        .unwrap();
    drop(conn);
    let err = Store::open(&path).unwrap_err();
    assert!(matches!(err, StoreError::TooNew { .. }), "{err}");
    assert!(err.to_string().contains("newer"), "{err}");
}

#[test]
fn migrations_match_the_directory() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".sql"))
        .collect();
    files.sort();
    let embedded: Vec<String> = migrate::MIGRATIONS
        .iter()
        .map(|m| format!("{:04}_{}.sql", m.version, m.name))
        .collect();
    assert_eq!(
        files, embedded,
        "every file in migrations/ must be listed, in order, in store::migrate::MIGRATIONS"
    );
    for m in migrate::MIGRATIONS {
        let on_disk =
            std::fs::read_to_string(dir.join(format!("{:04}_{}.sql", m.version, m.name))).unwrap();
        assert_eq!(on_disk, m.sql, "migration {} differs from its file", m.name);
    }
}

#[test]
fn migration_numbering_is_contiguous() {
    for (index, m) in migrate::MIGRATIONS.iter().enumerate() {
        assert_eq!(m.version as usize, index + 1, "{}", m.name);
        assert!(
            !m.sql.contains("BEGIN TRANSACTION"),
            "migration {} must not manage its own transaction",
            m.name
        );
    }
}

#[test]
fn accounts_round_trip_and_names_are_unique() {
    let (_dir, store) = temp_store();
    let added = store.add_account(&settings("work")).unwrap();
    assert_eq!(added.settings, settings("work"));
    assert_eq!(store.find_account("work").unwrap(), added);
    assert_eq!(
        store.find_account("WORK@example.test").unwrap().id,
        added.id
    );
    let err = store.add_account(&settings("work")).unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err}");
    assert!(err.to_string().contains("already exists"), "{err}");
    let folders = store.folders(added.id).unwrap();
    assert_eq!(folders.len(), 1);
    assert_eq!(folders[0].role, Some(FolderRole::Inbox));
    store.remove_account(added.id).unwrap();
    assert!(store.accounts().unwrap().is_empty());
    assert!(matches!(
        store.find_account("work"),
        Err(StoreError::NotFound(_))
    ));
}

/// A lease is never taken from a holder known to run (it may be mid-send, however long that
/// takes) unless it was left behind long ago; it is taken from one known to be gone at once,
/// and, where that cannot be told, once it has expired. A renewal never brings one back.
#[test]
fn leases_pass_only_from_processes_that_are_gone() {
    let (_dir, store) = temp_store();
    let account = store.add_account(&settings("jo")).unwrap().id;
    let purpose = LeasePurpose::Outbox;
    let running = |_: u32, _: &str| Some(true);
    let gone = |_: u32, _: &str| Some(false);
    let unknown = |_: u32, _: &str| None;
    assert!(
        store
            .take_lease(account, purpose, "a", 10, 60, &running)
            .unwrap()
    );
    assert!(
        !store
            .take_lease(account, purpose, "b", 11, 60, &running)
            .unwrap()
    );
    assert!(
        store
            .take_lease(account, purpose, "a", 10, 60, &running)
            .unwrap(),
        "renewal"
    );
    // Expired, but its process runs: still not taken.
    assert!(
        store
            .take_lease(account, purpose, "a", 10, -5, &running)
            .unwrap()
    );
    assert!(
        !store
            .take_lease(account, purpose, "b", 11, 60, &running)
            .unwrap()
    );
    // Not expired and nobody can tell: not taken; expired and nobody can tell: taken.
    assert!(
        store
            .take_lease(account, purpose, "a", 10, 60, &running)
            .unwrap()
    );
    assert!(
        !store
            .take_lease(account, purpose, "b", 11, 60, &unknown)
            .unwrap()
    );
    assert!(
        store
            .take_lease(account, purpose, "a", 10, -5, &running)
            .unwrap()
    );
    assert!(
        store
            .take_lease(account, purpose, "b", 11, 60, &unknown)
            .unwrap()
    );
    // Its process is gone: taken at once, even before it expires.
    assert!(
        store
            .take_lease(account, purpose, "c", 12, 60, &gone)
            .unwrap()
    );
    // Release is by holder only; the other purpose is separate.
    store.release_lease(account, purpose, "b").unwrap();
    assert!(
        !store
            .take_lease(account, purpose, "d", 13, 60, &running)
            .unwrap()
    );
    assert!(
        store
            .take_lease(account, LeasePurpose::Replay, "d", 13, 60, &running)
            .unwrap()
    );
    store.release_lease(account, purpose, "c").unwrap();
    assert!(
        store
            .take_lease(account, purpose, "d", 13, 60, &running)
            .unwrap()
    );
    // A renewal never brings back a lease that was released or taken by another.
    assert!(store.renew_lease(account, purpose, "d", 60).unwrap());
    store.release_lease(account, purpose, "d").unwrap();
    assert!(!store.renew_lease(account, purpose, "d", 60).unwrap());
    assert!(
        store
            .take_lease(account, purpose, "e", 14, 60, &running)
            .unwrap()
    );
    assert!(!store.renew_lease(account, purpose, "d", 60).unwrap());
    // Expired, but its holder runs: not taken; three lifetimes past it (left behind): taken.
    assert!(
        store
            .take_lease(account, purpose, "f", 15, -5, &gone)
            .unwrap()
    );
    assert!(
        !store
            .take_lease(account, purpose, "g", 16, 60, &running)
            .unwrap()
    );
    assert!(
        store
            .take_lease(account, purpose, "f", 15, -200, &running)
            .unwrap()
    );
    assert!(
        store
            .take_lease(account, purpose, "g", 16, 60, &running)
            .unwrap()
    );
}

/// A message mail-parser cannot read is stored with an empty summary, and its raw bytes are
/// kept exactly (so it can still be opened, saved or forwarded).
#[test]
fn unreadable_messages_keep_their_raw_bytes() {
    let (_dir, store) = temp_store();
    let account = store.add_account(&settings("jo")).unwrap();
    let inbox = store.folders(account.id).unwrap()[0].id;
    let garbage: &[u8] = b"\xff\xfe\x00\x1b[2J\r\n\r\n\x00\x00binary";
    let summary = crate::mail::parse::summarize(garbage);
    let row = NewMessage {
        folder_id: inbox,
        subject: summary.subject.clone(),
        date: 0,
        size: garbage.len() as i64,
        ..NewMessage::default()
    };
    let id = store.store_local(account.id, &row, garbage, "").unwrap();
    assert_eq!(store.raw_message(id).unwrap().as_deref(), Some(garbage));
    assert_eq!(store.message(id).unwrap().from_addr, "");
}

/// A message id is never handed to another message, even after the newest one is deleted
/// (a script holding an id must not act on the wrong mail).
#[test]
fn message_ids_are_never_reused() {
    let (_dir, store) = temp_store();
    let account = store.add_account(&settings("jo")).unwrap();
    let inbox = store.folders(account.id).unwrap()[0].id;
    let ids = store
        .insert_messages(
            account.id,
            &[
                message(inbox, 1, 100),
                message(inbox, 2, 200),
                message(inbox, 3, 300),
            ],
        )
        .unwrap();
    let newest = *ids.last().unwrap();
    store.delete_local(newest).unwrap();
    let again = store
        .insert_messages(account.id, &[message(inbox, 4, 400)])
        .unwrap();
    assert!(again[0] > newest, "id {newest} was given out again");
}

/// Every query a view makes must be an index search: no table scan, no sort of a whole folder.
#[test]
fn view_queries_use_indexes() {
    let (_dir, store) = temp_store();
    let plan = |sql: &str, params: &[&dyn rusqlite::ToSql]| query_plan(&store, sql, params);
    let cases: Vec<(&str, String, Vec<&dyn rusqlite::ToSql>, &str)> = vec![
        (
            "folder newest first",
            pages::folder_page_sql(SortOrder::DateDesc, false),
            vec![&1, &50],
            "message_folder_date",
        ),
        (
            "folder newest first, next page",
            pages::folder_page_sql(SortOrder::DateDesc, true),
            vec![&1, &0, &0, &50],
            "message_folder_date",
        ),
        (
            "folder by sender",
            pages::folder_page_sql(SortOrder::From, false),
            vec![&1, &50],
            "message_folder_from",
        ),
        (
            "folder by sender, next page",
            pages::folder_page_sql(SortOrder::From, true),
            vec![&1, &"a", &0, &0, &50],
            "message_folder_from",
        ),
        (
            "folder by subject",
            pages::folder_page_sql(SortOrder::Subject, false),
            vec![&1, &50],
            "message_folder_subject",
        ),
        (
            "folder by subject, next page",
            pages::folder_page_sql(SortOrder::Subject, true),
            vec![&1, &"a", &0, &0, &50],
            "message_folder_subject",
        ),
        (
            "a thread",
            message::THREAD_SQL.to_owned(),
            vec![&1],
            "message_thread",
        ),
        (
            "unread count",
            message::UNREAD_SQL.to_owned(),
            vec![&1],
            "message_folder_unread",
        ),
    ];
    for (what, sql, params, index) in cases {
        let p = plan(&sql, &params);
        assert!(
            p.contains(&format!("USING INDEX {index}"))
                || p.contains(&format!("USING COVERING INDEX {index}")),
            "{what}: expected {index}, got:\n{p}"
        );
        assert!(
            !p.contains("SCAN m\n")
                && !p
                    .lines()
                    .any(|l| l.trim() == "SCAN m" || l.trim() == "SCAN message"),
            "{what}: table scan:\n{p}"
        );
        assert!(
            !p.contains("TEMP B-TREE"),
            "{what}: sorts in a temporary b-tree:\n{p}"
        );
    }
    // Keyset pages must seek, not walk from the top.
    let p = plan(
        &pages::folder_page_sql(SortOrder::DateDesc, true),
        &[&1, &0, &0, &50],
    );
    assert!(
        p.contains("(date,rowid)<(?,?)") || p.contains("date<"),
        "next page does not seek:\n{p}"
    );
}

#[test]
fn folder_pages_follow_each_sort_order() {
    let (_dir, store) = temp_store();
    let account = store.add_account(&settings("jo")).unwrap();
    let inbox = store.find_folder(account.id, "inbox").unwrap();
    // Dates collide often, so ties must be broken by id.
    let batch: Vec<NewMessage> = (1..=500)
        .map(|uid| message(inbox.id, uid, 1_700_000_000 + (uid * 7919) % 97))
        .collect();
    let ids = store.insert_messages(account.id, &batch).unwrap();
    assert_eq!(ids.len(), 500);

    for order in [SortOrder::DateDesc, SortOrder::From, SortOrder::Subject] {
        let mut paged = Vec::new();
        let mut cursor = None;
        loop {
            let page = store
                .folder_page(inbox.id, order, cursor.as_ref(), 37)
                .unwrap();
            let Some(last) = page.last() else { break };
            cursor = Some(PageCursor::after(last, order));
            paged.extend(page.iter().map(|r| r.id));
        }
        let mut all = store.folder_page_at(inbox.id, order, 0, 10_000).unwrap();
        // The expected order, computed here independently of the SQL.
        all.sort_by_key(|r| match order {
            SortOrder::DateDesc => (String::new(), -r.date, -r.id),
            SortOrder::From => (message::sort_from(&r.from_name, &r.from_addr), r.date, r.id),
            SortOrder::Subject => (message::sort_subject(&r.subject), r.date, r.id),
        });
        let expected: Vec<i64> = all.iter().map(|r| r.id).collect();
        assert_eq!(paged, expected, "{order:?}");
        let at = store.folder_page_at(inbox.id, order, 100, 10).unwrap();
        assert_eq!(
            at.iter().map(|r| r.id).collect::<Vec<_>>(),
            expected[100..110].to_vec(),
            "{order:?} at offset"
        );
    }
}

#[test]
fn counts_follow_inserts_flag_changes_and_deletes() {
    let (_dir, store) = temp_store();
    let account = store.add_account(&settings("jo")).unwrap();
    let inbox = store.find_folder(account.id, "INBOX").unwrap();
    let batch: Vec<NewMessage> = (1..=30).map(|uid| message(inbox.id, uid, uid)).collect();
    store.insert_messages(account.id, &batch).unwrap();
    let folder = store.find_folder(account.id, "INBOX").unwrap();
    assert_eq!((folder.total, folder.unread), (30, 20));
    assert_eq!(store.count_unread(inbox.id).unwrap(), 20);

    // Replaying the same batch (as after a crash) duplicates nothing.
    let again = store.insert_messages(account.id, &batch).unwrap();
    assert_eq!(again.len(), 30);
    assert_eq!(store.find_folder(account.id, "INBOX").unwrap().total, 30);

    store
        .write(|tx| {
            tx.execute(
                "UPDATE message SET flags = flags | 1 WHERE folder_id = ?1 AND uid <= 10",
                [inbox.id],
            )
            .unwrap();
            tx.execute(
                "DELETE FROM message WHERE folder_id = ?1 AND uid > 25",
                [inbox.id],
            )
            .unwrap();
            Ok(())
        })
        .unwrap();
    let folder = store.find_folder(account.id, "INBOX").unwrap();
    let unread = store.count_unread(inbox.id).unwrap();
    assert_eq!((folder.total, folder.unread), (25, unread));
}

#[test]
fn replies_join_their_thread_whatever_the_arrival_order() {
    let (_dir, store) = temp_store();
    let account = store.add_account(&settings("jo")).unwrap();
    let inbox = store.find_folder(account.id, "INBOX").unwrap();
    let mk = |uid: i64, id: &str, parent: Option<&str>, refs: &[&str]| NewMessage {
        folder_id: inbox.id,
        uid: Some(uid),
        message_id: Some(id.into()),
        in_reply_to: parent.map(str::to_owned),
        references: refs.iter().map(|s| (*s).to_owned()).collect(),
        subject: "Plans".into(),
        date: uid,
        ..NewMessage::default()
    };
    // Newest first, as headers sync: the grandchild, then the child, then the root.
    let ids = store
        .insert_messages(
            account.id,
            &[
                mk(3, "c@x", Some("b@x"), &["a@x", "b@x"]),
                mk(2, "b@x", Some("a@x"), &["a@x"]),
                mk(1, "a@x", None, &[]),
                mk(4, "other@x", None, &[]),
            ],
        )
        .unwrap();
    let rows: Vec<MessageRow> = ids.iter().map(|id| store.message(*id).unwrap()).collect();
    let thread = rows[0].thread_id.unwrap();
    assert!(
        rows[..3].iter().all(|r| r.thread_id == Some(thread)),
        "{rows:?}"
    );
    assert_ne!(rows[3].thread_id, Some(thread));
    let in_thread: Vec<i64> = store
        .thread_messages(thread)
        .unwrap()
        .iter()
        .map(|r| r.uid.unwrap())
        .collect();
    assert_eq!(in_thread, vec![1, 2, 3]);
}

#[test]
fn search_matches_headers_and_indexed_body_text() {
    let (_dir, store) = temp_store();
    let account = store.add_account(&settings("jo")).unwrap();
    let inbox = store.find_folder(account.id, "INBOX").unwrap();
    let mut m = message(inbox.id, 1, 10);
    m.subject = "Quarterly Résumé review".into();
    let id = store
        .insert_messages(account.id, &[m, message(inbox.id, 2, 20)])
        .unwrap()[0];
    assert_eq!(
        store
            .search("resume", None, 10)
            .unwrap()
            .iter()
            .map(|r| r.id)
            .collect::<Vec<_>>(),
        vec![id]
    );
    assert_eq!(
        store.search("quart", Some(account.id), 10).unwrap().len(),
        1
    );
    assert!(store.search("zebra", None, 10).unwrap().is_empty());
    store.index_body_text(id, "the zebra crossing").unwrap();
    assert_eq!(store.search("zebra", None, 10).unwrap().len(), 1);
    assert_eq!(store.search("zebra quarterly", None, 10).unwrap().len(), 1);
    // Query syntax from a user can never break the statement.
    assert!(store.search("\"unbalanced AND OR (", None, 10).is_ok());
    assert!(store.search("   ", None, 10).unwrap().is_empty());
}

#[test]
fn sort_subject_strips_reply_prefixes() {
    assert_eq!(message::sort_subject("Re: RE: Fwd: Lunch"), "lunch");
    assert_eq!(message::sort_subject("AW: Termin"), "termin");
    assert_eq!(message::sort_subject("Re:"), "");
    assert_eq!(message::sort_subject("Reply needed"), "reply needed");
}

/// The Unified Inbox merges folders by date, pages by offset, and reads each folder through its
/// date index (no sort of a whole folder).
#[test]
fn merged_pages_interleave_folders_by_date() {
    let (_dir, store) = temp_store();
    let a = store.add_account(&settings("a")).unwrap();
    let b = store.add_account(&settings("b")).unwrap();
    let inbox = |account: i64| store.folders(account).unwrap()[0].id;
    let (fa, fb) = (inbox(a.id), inbox(b.id));
    for n in 0..10i64 {
        let (account, folder) = if n % 2 == 0 { (a.id, fa) } else { (b.id, fb) };
        let mut m = message(folder, n + 1, 1_000 + n);
        m.subject = format!("m{n}");
        store.insert_messages(account, &[m]).unwrap();
    }
    let page = store
        .merged_page_at(&[fa, fb], SortOrder::DateDesc, 2, 4)
        .unwrap();
    let subjects: Vec<&str> = page.iter().map(|r| r.subject.as_str()).collect();
    assert_eq!(subjects, ["m7", "m6", "m5", "m4"]);
    let all = store
        .merged_page_at(&[fa, fb], SortOrder::Subject, 0, 100)
        .unwrap();
    assert_eq!(all.len(), 10);
    assert_eq!(all[0].subject, "m0");
    assert!(
        store
            .merged_page_at(&[], SortOrder::DateDesc, 0, 10)
            .unwrap()
            .is_empty()
    );
    let plan = query_plan(
        &store,
        &pages::merged_page_sql(SortOrder::DateDesc, 2),
        rusqlite::params![fa, fb, 6, 4, 2],
    );
    assert!(plan.contains("message_folder_date"), "{plan}");
    assert!(!plan.contains("SCAN m"), "{plan}");
}

/// Senders and recipients complete by address or name prefix, most used first, through indexes.
#[test]
fn addresses_complete_from_senders_and_recipients() {
    let (_dir, store) = temp_store();
    let account = store.add_account(&settings("work")).unwrap();
    let inbox = store.folders(account.id).unwrap()[0].id;
    let mut batch = Vec::new();
    for (uid, (name, addr)) in [
        ("Ada Lovelace", "ada@example.test"),
        ("Ada Lovelace", "ADA@example.test"),
        ("Adam Smith", "adam@example.test"),
        ("Grace Hopper", "grace@example.test"),
    ]
    .into_iter()
    .enumerate()
    {
        let mut m = message(inbox, uid as i64 + 1, 1_000);
        m.from_name = name.into();
        m.from_addr = addr.into();
        batch.push(m);
    }
    store.insert_messages(account.id, &batch).unwrap();
    let found = store.complete_address("ad", 10).unwrap();
    let addresses: Vec<&str> = found.iter().map(|c| c.address.as_str()).collect();
    assert_eq!(addresses, ["ada@example.test", "adam@example.test"]);
    assert_eq!(found[0].display(), "Ada Lovelace <ada@example.test>");
    // By name, case-insensitively.
    let found = store.complete_address("GRA", 10).unwrap();
    assert_eq!(found.len(), 1);
    // Writing to someone ranks them first.
    store
        .queue_outgoing(&crate::store::Outgoing {
            account_id: account.id,
            raw: b"Subject: x\r\n\r\nx\r\n",
            mail_from: "work@example.test",
            recipients: &["adam@example.test".to_owned()],
            subject: "x",
            in_reply_to_message: None,
            forwarded_message: None,
        })
        .unwrap();
    let found = store.complete_address("ad", 10).unwrap();
    assert_eq!(found[0].address, "adam@example.test");
    assert!(store.complete_address("  ", 10).unwrap().is_empty());
    assert!(store.complete_address("%", 10).unwrap().is_empty());
}

/// The per-folder conversation table follows inserts, flag changes, moves and deletes exactly
/// (compared with a GROUP BY over the messages after each step), and pages by activity.
#[test]
fn folder_threads_follow_every_change() {
    let (_dir, store) = temp_store();
    let account = store.add_account(&settings("work")).unwrap();
    let inbox = store.folders(account.id).unwrap()[0].id;
    let other = store
        .sync_folders(
            account.id,
            &[
                crate::store::NewFolder {
                    path: "INBOX".into(),
                    server_path: "INBOX".into(),
                    delimiter: Some("/".into()),
                    role: Some(FolderRole::Inbox),
                    attributes: 0,
                    subscribed: true,
                },
                crate::store::NewFolder {
                    path: "Other".into(),
                    server_path: "Other".into(),
                    delimiter: Some("/".into()),
                    role: None,
                    attributes: 0,
                    subscribed: true,
                },
            ],
        )
        .unwrap()
        .into_iter()
        .find(|f| f.path == "Other")
        .unwrap()
        .id;
    // Three conversations: a root with two replies, a lone message, and a "Re:" without headers.
    let mut batch = Vec::new();
    let mut root = message(inbox, 1, 1_000);
    root.subject = "Plans".into();
    batch.push(root);
    for (uid, date) in [(2, 2_000), (3, 3_000)] {
        let mut reply = message(inbox, uid, date);
        reply.subject = "Re: Plans".into();
        reply.in_reply_to = Some("m1@example.test".into());
        reply.references = vec!["m1@example.test".into()];
        batch.push(reply);
    }
    let mut lone = message(inbox, 4, 2_500);
    lone.subject = "Lunch".into();
    lone.message_id = None;
    batch.push(lone);
    let mut stripped = message(inbox, 5, 4_000);
    stripped.subject = "RE: plans".into();
    batch.push(stripped);
    let ids = store.insert_messages(account.id, &batch).unwrap();
    let check = || {
        store
            .read(|conn| {
                let expected: Vec<(i64, i64, i64, i64, i64, i64)> = conn
                    .prepare(
                        "SELECT folder_id, coalesce(thread_id, -id) AS t, count(*), sum((flags & 1) = 0), max(date),
                                (SELECT m2.id FROM message m2 WHERE m2.folder_id = m.folder_id
                                   AND coalesce(m2.thread_id, -m2.id) = coalesce(m.thread_id, -m.id)
                                 ORDER BY m2.date DESC, m2.id DESC LIMIT 1)
                         FROM message m GROUP BY folder_id, t ORDER BY folder_id, t",
                    )
                    .unwrap()
                    .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)))
                    .unwrap()
                    .map(|r| r.unwrap())
                    .collect();
                let actual: Vec<(i64, i64, i64, i64, i64, i64)> = conn
                    .prepare(
                        "SELECT folder_id, thread, messages, unread, last_date, newest
                         FROM folder_thread ORDER BY folder_id, thread",
                    )
                    .unwrap()
                    .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)))
                    .unwrap()
                    .map(|r| r.unwrap())
                    .collect();
                assert_eq!(actual, expected);
                Ok(())
            })
            .unwrap();
    };
    check();
    assert_eq!(
        store.thread_count(inbox).unwrap(),
        2,
        "Plans (4 with the subject match), Lunch"
    );
    let page = store.thread_page_at(inbox, 0, 10).unwrap();
    let shown: Vec<(&str, i64)> = page
        .iter()
        .map(|t| (t.newest.subject.as_str(), t.messages))
        .collect();
    assert_eq!(shown, [("RE: plans", 4), ("Lunch", 1)]);
    // Flag changes, a move out and back, and a delete keep the table exact.
    store
        .write(|conn| {
            conn.execute(
                "UPDATE message SET flags = flags | 1 WHERE id = ?1",
                [ids[2]],
            )
            .unwrap();
            conn.execute(
                "UPDATE message SET folder_id = ?2 WHERE id = ?1",
                rusqlite::params![ids[4], other],
            )
            .unwrap();
            Ok(())
        })
        .unwrap();
    check();
    store
        .write(|conn| {
            conn.execute(
                "UPDATE message SET folder_id = ?2 WHERE id = ?1",
                rusqlite::params![ids[4], inbox],
            )
            .unwrap();
            conn.execute("DELETE FROM message WHERE id = ?1", [ids[0]])
                .unwrap();
            conn.execute("DELETE FROM message WHERE id = ?1", [ids[3]])
                .unwrap();
            Ok(())
        })
        .unwrap();
    check();
    assert_eq!(store.thread_count(inbox).unwrap(), 1);
}
