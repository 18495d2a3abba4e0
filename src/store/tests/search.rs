//! The search index and the offline download queries: entries written once per transaction,
//! bodies saved in batches, keyset pages of the bodies still wanted.

use super::*;
use rusqlite::params;

fn pending(store: &Store) -> i64 {
    store
        .read(|conn| {
            conn.query_row("SELECT count(*) FROM fts_pending", [], |r| r.get(0))
                .map_err(StoreError::sqlite("count"))
        })
        .unwrap()
}

fn body(id: i64, raw: Option<&[u8]>, text: Option<&str>) -> DownloadedBody {
    DownloadedBody {
        id,
        raw: raw.map(<[u8]>::to_vec),
        text: text.map(str::to_string),
    }
}

fn found(store: &Store, text: &str) -> Vec<i64> {
    let mut ids: Vec<i64> = store
        .search(text, None, 100)
        .unwrap()
        .iter()
        .map(|r| r.id)
        .collect();
    ids.sort_unstable();
    ids
}

/// Every committed message is searchable as soon as its transaction commits, body text saved in
/// the same batch included, and nothing is left noted between transactions.
#[test]
fn search_entries_are_written_at_commit_and_replaced_by_new_text() {
    let (_dir, store) = temp_store();
    let account = store.add_account(&settings("jo")).unwrap();
    let inbox = store.find_folder(account.id, "INBOX").unwrap();
    let batch: Vec<NewMessage> = (1..=5)
        .map(|uid| message(inbox.id, uid, uid * 10))
        .collect();
    let ids = store.insert_messages(account.id, &batch).unwrap();
    assert_eq!(pending(&store), 0);
    assert_eq!(found(&store, "subject").len(), 5);

    store
        .save_bodies(&[
            body(
                ids[0],
                Some(b"Subject: x\r\n\r\nzebra"),
                Some("zebra crossing"),
            ),
            body(ids[1], None, None),
            body(ids[2], Some(b"Subject: y\r\n\r\nyak"), Some("yak shaving")),
        ])
        .unwrap();
    assert_eq!(pending(&store), 0);
    assert_eq!(found(&store, "zebra"), vec![ids[0]]);
    assert_eq!(found(&store, "yak"), vec![ids[2]]);
    // The headers are still in the replaced entry.
    assert_eq!(found(&store, "zebra \"subject 1\""), vec![ids[0]]);
    assert_eq!(
        store.raw_message(ids[2]).unwrap().unwrap(),
        b"Subject: y\r\n\r\nyak"
    );

    store.index_body_text(ids[0], "okapi").unwrap();
    assert_eq!(pending(&store), 0);
    assert!(found(&store, "zebra").is_empty());
    assert_eq!(found(&store, "okapi"), vec![ids[0]]);
    // One entry per message, however often it was replaced.
    assert_eq!(found(&store, "subject").len(), 5);

    // A message expunged before its body is saved: the batch goes on without it.
    store.expunge_all(inbox.id).unwrap();
    assert!(found(&store, "subject").is_empty());
    store
        .save_bodies(&[body(ids[3], Some(b"gone"), Some("gone"))])
        .unwrap();
    assert!(found(&store, "gone").is_empty());
    assert_eq!(pending(&store), 0);
}

/// An older build on the same data dir (before migration 0013) notes its messages through the
/// new trigger, indexes their bodies itself and never drains `fts_pending`: the next write here
/// indexes what it left unindexed, and nothing twice.
#[test]
fn entries_left_noted_by_an_older_build_are_written_once() {
    let (_dir, store) = temp_store();
    let account = store.add_account(&settings("jo")).unwrap();
    let inbox = store.find_folder(account.id, "INBOX").unwrap();
    let ids = store
        .insert_messages(
            account.id,
            &[message(inbox.id, 1, 10), message(inbox.id, 2, 20)],
        )
        .unwrap();
    // What the old build leaves: the first indexed with its body, the second not at all.
    let (a, b) = (ids[0], ids[1]);
    store
        .write(|tx| {
            tx.execute(
                "DELETE FROM message_fts WHERE rowid IN (?1, ?2)",
                params![a, b],
            )
            .unwrap();
            tx.execute(
                "INSERT INTO message_fts (rowid, subject, sender, recipients, body)
                 VALUES (?1, 'subject 1', '', '', 'wombat')",
                [a],
            )
            .unwrap();
            Ok(())
        })
        .unwrap();
    // Rows noted outside `transact`'s drain, as the old build's insert trigger leaves them.
    {
        let conn = rusqlite::Connection::open(store.path()).unwrap();
        conn.execute(
            "INSERT INTO fts_pending (id) VALUES (?1), (?2)",
            params![a, b],
        )
        .unwrap();
    }
    assert_eq!(pending(&store), 2);
    // The first write here gives the first new text: its entry is replaced, the second's made.
    store.index_body_text(a, "numbat").unwrap();
    assert_eq!(pending(&store), 0);
    assert!(found(&store, "wombat").is_empty());
    assert_eq!(found(&store, "numbat"), vec![a]);
    assert_eq!(found(&store, "subject"), vec![a, b]);

    // Noted again without new text (the older build inserting and indexing anew): kept as is.
    {
        let conn = rusqlite::Connection::open(store.path()).unwrap();
        conn.execute("INSERT INTO fts_pending (id) VALUES (?1)", [a])
            .unwrap();
    }
    store.index_body_text(b, "quokka").unwrap();
    assert_eq!(pending(&store), 0);
    assert_eq!(found(&store, "numbat"), vec![a]);
    assert_eq!(found(&store, "quokka"), vec![b]);
    assert_eq!(found(&store, "subject"), vec![a, b]);
}

/// The bodies still wanted come newest first in keyset pages, skip what was saved or falls
/// outside the window, and are read through their own partial index.
#[test]
fn bodies_wanted_pages_newest_first_through_the_partial_index() {
    let (_dir, store) = temp_store();
    let account = store.add_account(&settings("jo")).unwrap();
    let inbox = store.find_folder(account.id, "INBOX").unwrap();
    // Two messages share each date, so the page boundary falls inside a date.
    let batch: Vec<NewMessage> = (1..=10)
        .map(|uid| message(inbox.id, uid, (uid + 1) / 2 * 100))
        .collect();
    let ids = store.insert_messages(account.id, &batch).unwrap();
    store
        .save_bodies(&[body(ids[9], Some(b"x"), None)])
        .unwrap();

    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = store.bodies_wanted(inbox.id, None, after, 3).unwrap();
        let Some(last) = page.last() else { break };
        after = Some((last.date, last.id));
        seen.extend(page.iter().map(|w| w.uid));
    }
    assert_eq!(seen, vec![9, 8, 7, 6, 5, 4, 3, 2, 1]);
    let recent: Vec<i64> = store
        .bodies_wanted(inbox.id, Some(400), None, 100)
        .unwrap()
        .iter()
        .map(|w| w.uid)
        .collect();
    assert_eq!(recent, vec![9, 8, 7]);

    let plan = query_plan(
        &store,
        message::BODIES_WANTED_SQL,
        params![inbox.id, None::<i64>, 1, 1, 1],
    );
    assert!(plan.contains("message_body_wanted"), "{plan}");
}

/// A search with many matches walks by date and one with few sorts its matches: both give the
/// same rows in the same order, with the account and folder filters, through their indexes.
#[test]
fn common_and_rare_searches_give_the_same_pages() {
    let (_dir, store) = temp_store();
    let a = store.add_account(&settings("a")).unwrap();
    let b = store.add_account(&settings("b")).unwrap();
    let inbox_a = store.find_folder(a.id, "INBOX").unwrap();
    let inbox_b = store.find_folder(b.id, "INBOX").unwrap();
    // Newest first, as a sync inserts them, with dates that repeat.
    let batch = |folder: i64, base: i64| -> Vec<NewMessage> {
        (1..=60)
            .rev()
            .map(|uid| {
                let mut m = message(folder, uid, base + uid / 3);
                m.subject = if uid % 2 == 0 {
                    "common word"
                } else {
                    "common rare"
                }
                .into();
                m
            })
            .collect()
    };
    store
        .insert_messages(a.id, &batch(inbox_a.id, 1_000))
        .unwrap();
    store
        .insert_messages(b.id, &batch(inbox_b.id, 1_010))
        .unwrap();
    for (text, account, folder) in [
        ("common", None, None),
        ("common", Some(a.id), None),
        ("common", None, Some(inbox_b.id)),
        ("rare", Some(b.id), Some(inbox_b.id)),
        ("word", Some(a.id), Some(inbox_b.id)),
    ] {
        let query = message::fts_query(text).unwrap();
        let ids = |common: i64| -> Vec<i64> {
            store
                .read(|conn| message::search_rows(conn, &query, account, folder, 25, common))
                .unwrap()
                .iter()
                .map(|r| r.id)
                .collect()
        };
        let by_date = ids(1);
        assert_eq!(by_date, ids(i64::MAX), "{text} {account:?} {folder:?}");
        let rows = store.search_in(text, account, folder, 25).unwrap();
        assert_eq!(rows.iter().map(|r| r.id).collect::<Vec<_>>(), by_date);
        assert!(
            rows.windows(2)
                .all(|w| (w[0].date, w[0].id) > (w[1].date, w[1].id)),
            "{text}: newest first"
        );
    }
    assert_eq!(store.search("common", None, 1000).unwrap().len(), 120);
}
