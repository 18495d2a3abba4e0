//! Store tests of the list's preview line: filled from the indexed body text where the headers
//! gave none, and never replaced.

use super::*;

#[test]
fn indexing_a_body_fills_an_empty_preview_once() {
    let (_dir, store) = temp_store();
    let account = store.add_account(&settings("jo")).unwrap();
    let inbox = store.find_folder(account.id, "INBOX").unwrap();
    // IMAP headers only: no preview yet.
    let ids = store
        .insert_messages(
            account.id,
            &[message(inbox.id, 1, 10), message(inbox.id, 2, 20)],
        )
        .unwrap();
    assert_eq!(store.message(ids[0]).unwrap().preview, "");
    store
        .index_body_text(
            ids[0],
            "See you at ten.\n\nOn Monday, Ada wrote:\n> old text\n",
        )
        .unwrap();
    assert_eq!(store.message(ids[0]).unwrap().preview, "See you at ten.");
    // Indexed again (the body fetched again): the preview stays.
    store.index_body_text(ids[0], "Something else").unwrap();
    assert_eq!(store.message(ids[0]).unwrap().preview, "See you at ten.");
    // A body of quotes only leaves it empty; the other message is untouched.
    store.index_body_text(ids[1], "> only a quote\n").unwrap();
    assert_eq!(store.message(ids[1]).unwrap().preview, "");
    // A huge body gives a short preview.
    store
        .index_body_text(ids[1], &"word ".repeat(1_000_000))
        .unwrap();
    assert!(store.message(ids[1]).unwrap().preview.chars().count() <= 200);
}
