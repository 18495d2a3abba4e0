//! A folder of 1,000,000 messages, filled directly into the store, opens in the real window
//! (headless, iced_test) with its first rows read by one indexed query, and the list holds only
//! the rows in view plus a margin. Timings are in `benches/ui_list.rs` and `benches/store.rs`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::time::Instant;

use tern::account::settings::{AccountSettings, Protocol, Security, ServerAddr};
use tern::store::{SortOrder, Store, flag};

const N: i64 = 1_000_000;

fn fill(store: &Store) -> i64 {
    let account = store
        .add_account(&AccountSettings {
            name: "big".into(),
            display_name: "Big".into(),
            email: "big@example.test".into(),
            protocol: Protocol::Imap,
            // Port 1 on loopback: nothing listens, so the engine stays offline (no network).
            incoming: ServerAddr {
                host: "127.0.0.1".into(),
                port: 1,
            },
            incoming_security: Security::Tls,
            outgoing: ServerAddr {
                host: "127.0.0.1".into(),
                port: 1,
            },
            outgoing_security: Security::Tls,
            login: "big@example.test".into(),
            password_cmd: Some("echo not-a-real-password".into()),
            ca_file: None,
            cert_sha256: None,
        })
        .unwrap();
    let inbox = store.find_folder(account.id, "INBOX").unwrap();
    // One INSERT ... SELECT straight into the store's schema (its triggers keep the folder
    // counts and the search index as the engine's inserts do): far faster than a million
    // inserts through the API in a debug build.
    let conn = rusqlite::Connection::open(store.path()).unwrap();
    conn.execute_batch("PRAGMA synchronous = OFF;").unwrap();
    conn.execute(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?3)
         INSERT INTO message (account_id, folder_id, uid, message_id, subject, from_name,
                              from_addr, date, size, flags, sort_from, sort_subject)
         SELECT ?1, ?2, i, 'm' || i || '@big.example.test', 'Message ' || i,
                'Sender ' || (i % 1000), 's' || (i % 1000) || '@example.test',
                1500000000 + i * 60, 2000, CASE WHEN i % 4 = 0 THEN 0 ELSE ?4 END,
                'sender ' || (i % 1000), 'message ' || i
         FROM n",
        rusqlite::params![account.id, inbox.id, N, flag::SEEN],
    )
    .unwrap();
    inbox.id
}

#[test]
fn a_million_message_folder_opens_with_one_indexed_query() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let store = Store::open_dir(&data).unwrap();
    let started = Instant::now();
    let inbox = fill(&store);
    eprintln!("filled {N} messages in {:.1?}", started.elapsed());
    assert_eq!(store.folder(inbox).unwrap().total, N);
    drop(store);

    let before = tern::ui::data::page_queries();
    let ice = "viewport: 1280x800\nmode: Zen\n-----\n\
               expect \"INBOX — 1,000,000 messages\"\n\
               expect \"Message 1000000\"\n\
               expect \"Message 999990\"\n";
    let tests = dir.path().join("ice");
    std::fs::create_dir_all(&tests).unwrap();
    std::fs::write(tests.join("open.ice"), ice).unwrap();
    let opened = Instant::now();
    iced_test::run(tern::ui::application(data.clone()), &tests)
        .unwrap_or_else(|e| panic!("{e:?}\n{ice}"));
    eprintln!(
        "opened and checked in {:.1?} (debug build)",
        opened.elapsed()
    );
    assert_eq!(
        tern::ui::data::page_queries() - before,
        1,
        "opening the folder read one page of rows"
    );

    // That page is one index search: no scan of the folder and no sort of it.
    let store = Store::open_dir(&data).unwrap();
    let plan = store.explain_folder_page(SortOrder::DateDesc).unwrap();
    assert!(plan.contains("message_folder_date"), "{plan}");
    assert!(!plan.contains("TEMP B-TREE"), "{plan}");
    assert!(!plan.contains("SCAN"), "{plan}");
    let page = store
        .folder_page_at(inbox, SortOrder::DateDesc, 0, 80)
        .unwrap();
    assert_eq!(page.len(), 80);
    assert_eq!(page[0].subject, "Message 1000000");
    drop(store);
    // For measuring the release build by hand: TERN_KEEP_MILLION=DIR keeps this data directory.
    if let Ok(keep) = std::env::var("TERN_KEEP_MILLION") {
        let keep = std::path::Path::new(&keep);
        std::fs::create_dir_all(keep).unwrap();
        for entry in std::fs::read_dir(&data).unwrap() {
            let entry = entry.unwrap();
            std::fs::copy(entry.path(), keep.join(entry.file_name())).unwrap();
        }
    }
}
