//! Store tests of a cache started over (an account changed to another mailbox).

use super::*;

#[test]
fn an_engine_that_loaded_the_account_before_a_reset_stores_nothing_more() {
    let (_dir, store) = temp_store();
    let mut pop3 = settings("jo");
    pop3.protocol = Protocol::Pop3;
    let account = store.add_account(&pop3).unwrap();
    let inbox = store.find_folder(account.id, "INBOX").unwrap();
    let download = |uidl: &str| Pop3Download {
        uidl: uidl.into(),
        list_size: 10,
        raw: b"Subject: x\r\n\r\nx\r\n".to_vec(),
        digest: uidl.into(),
        partial: false,
        message: NewMessage {
            folder_id: inbox.id,
            uidl: Some(uidl.into()),
            subject: "x".into(),
            ..NewMessage::default()
        },
        body_text: String::new(),
        doubtful: false,
    };
    let all = |_: &str| true;
    store
        .pop3_store(&account, &[download("a")], &all, 1)
        .unwrap();
    // Another mailbox now (the window's Settings, or `tern account set --reset-cache`).
    let mut moved = pop3.clone();
    moved.incoming.host = "127.0.0.2".into();
    let change = AccountChange {
        reset_cache: true,
        signature: None,
        server_saves_sent: None,
        sync: None,
        pop3: None,
    };
    store.change_account(account.id, &moved, &change).unwrap();
    // The engine still on the old server: refused, nothing stored.
    let late = store.pop3_store(&account, &[download("b")], &all, 2);
    assert!(matches!(late, Err(StoreError::Conflict(_))), "{late:?}");
    assert!(store.pop3_seen(account.id, "b").unwrap().is_none());
    // The engine that loads the changed account stores as before.
    let fresh = store.account(account.id).unwrap();
    assert_eq!(fresh.cache_epoch, account.cache_epoch + 1);
    store.pop3_store(&fresh, &[download("b")], &all, 3).unwrap();
    assert!(store.pop3_seen(account.id, "b").unwrap().is_some());
    // Removed, and its id given to a new account: the old engine stores nothing there.
    store.remove_account(account.id).unwrap();
    let other = store.add_account(&settings("kim")).unwrap();
    assert_eq!(other.id, account.id, "SQLite reused the id");
    let late = store.pop3_store(&fresh, &[download("c")], &all, 4);
    assert!(matches!(late, Err(StoreError::Conflict(_))), "{late:?}");
}
