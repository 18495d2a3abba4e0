//! Helpers for the POP3 tests against the scripted server (`fake_pop3`): an account on it,
//! `tern sync` with a short timeout, the messages the store holds.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use super::cli;
use super::fake_pop3::{Faults, Maildrop};
use tern::store::Store;

/// Message-ID → how many times it is in the account's folders.
pub fn local_ids(data: &Path) -> BTreeMap<String, usize> {
    let store = Store::open_dir(data).unwrap();
    let account = &store.accounts().unwrap()[0];
    let mut ids = BTreeMap::new();
    for folder in store.folders(account.id).unwrap() {
        for row in store
            .folder_page(folder.id, tern::store::SortOrder::DateDesc, None, 1_000_000)
            .unwrap()
        {
            *ids.entry(row.message_id.unwrap_or_default()).or_default() += 1;
        }
    }
    ids
}

pub fn note(id: &str) -> String {
    format!(
        "From: sender@example.test\r\nTo: bob@example.test\r\nSubject: {id}\r\nMessage-ID: <{id}>\r\n\r\n.a dot-stuffed line in {id}\r\n"
    )
}

/// A POP3 account in a new data directory for the scripted server on `port` (plain, the
/// password from a file).
pub fn fake_account(dir: &Path, port: u16, extra: &[&str]) -> std::path::PathBuf {
    let data = dir.join("data");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(data.join("password"), "secret\n").unwrap();
    let cmd = format!("cat {}", data.join("password").display());
    let incoming = format!("127.0.0.1:{port}");
    let mut args = vec![
        "account",
        "add",
        "--name",
        "fake",
        "--email",
        "bob@example.test",
        "--protocol",
        "pop3",
        "--incoming",
        &incoming,
        "--incoming-security",
        "plain",
        "--outgoing",
        "127.0.0.1:1",
        "--outgoing-security",
        "plain",
        "--password-cmd",
        &cmd,
    ];
    args.extend_from_slice(extra);
    let out = cli::tern(&data, &args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    data
}

pub fn add(maildrop: &Arc<Mutex<Maildrop>>, ids: std::ops::Range<usize>) {
    let mut m = maildrop.lock().unwrap();
    for i in ids {
        m.messages.push((
            format!("u{i}"),
            note(&format!("fake{i}@example.test")).into_bytes(),
        ));
    }
}

pub fn faults(maildrop: &Arc<Mutex<Maildrop>>, faults: Faults) {
    maildrop.lock().unwrap().faults = faults;
}

/// Runs `tern sync` (with a 2 s stall limit); returns (success, stderr).
pub fn sync(data: &Path) -> (bool, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tern"))
        .arg("--data-dir")
        .arg(data)
        .arg("sync")
        .env("TERN_TIMEOUT_SECS", "2")
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A message of exactly `note`'s length with the given Message-ID and a subject of `marker`.
pub fn variant(message_id: &str, marker: &str) -> Vec<u8> {
    let raw = format!(
        "From: sender@example.test\r\nTo: bob@example.test\r\nSubject: {marker}\r\nMessage-ID: <{message_id}>\r\n\r\n.a dot-stuffed line in {message_id}\r\n"
    );
    raw.into_bytes()
}

/// The id of the local message with `message_id` (the first, if there are several).
pub fn local_id(data: &Path, message_id: &str) -> i64 {
    let store = Store::open_dir(data).unwrap();
    let account = &store.accounts().unwrap()[0];
    for folder in store.folders(account.id).unwrap() {
        for row in store
            .folder_page(folder.id, tern::store::SortOrder::DateDesc, None, 1_000_000)
            .unwrap()
        {
            if row.message_id.as_deref() == Some(message_id) {
                return row.id;
            }
        }
    }
    panic!("{message_id} is not here")
}

/// `tern delete ID` (the user deletes a message here); it must succeed.
pub fn delete_here(data: &Path, id: i64) {
    let out = cli::tern(data, &["delete", &id.to_string()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
