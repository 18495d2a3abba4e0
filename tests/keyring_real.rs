//! The OS keyring for real: gnome-keyring's Secret Service in a private D-Bus session (no
//! mock). The test runs itself again under `dbus-run-session`, with a keyring daemon unlocked
//! in a temporary home; there `tern account password` keeps the password, `tern account
//! verify` logs in to the harness's Dovecot and Postfix with it, a change of address keeps the
//! entry, and `tern account remove` deletes it. Skipped (said on stderr) where gnome-keyring or
//! dbus-run-session is not installed (`tests/run.sh` installs both as root: `apt-get install
//! gnome-keyring dbus-daemon`).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod support;

use std::process::Command;

use support::{MailServers, cli};

/// Set in the run inside the D-Bus session.
const INSIDE: &str = "TERN_TEST_INSIDE_KEYRING_SESSION";

fn installed(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(program).is_file()))
}

#[test]
fn a_password_in_the_real_keyring_signs_in_and_goes_with_the_account() {
    if std::env::var_os(INSIDE).is_some() {
        return inside_the_session();
    }
    if !installed("gnome-keyring-daemon") || !installed("dbus-run-session") {
        eprintln!(
            "skipped: gnome-keyring-daemon or dbus-run-session is not installed (apt-get install gnome-keyring dbus-daemon)"
        );
        return;
    }
    let home = tempfile::tempdir().unwrap();
    let runtime = home.path().join("run");
    std::fs::create_dir(&runtime).unwrap();
    std::fs::set_permissions(
        &runtime,
        std::os::unix::fs::PermissionsExt::from_mode(0o700),
    )
    .unwrap();
    let me = std::env::current_exe().unwrap();
    // The login collection is created and unlocked with a password given on stdin; then this
    // test runs again, inside the session.
    let out = Command::new("dbus-run-session")
        .args([
            "--",
            "sh",
            "-c",
            "printf pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null && exec \"$0\" --exact a_password_in_the_real_keyring_signs_in_and_goes_with_the_account --nocapture --test-threads=1",
        ])
        .arg(&me)
        .env("HOME", home.path())
        .env("XDG_RUNTIME_DIR", &runtime)
        .env("XDG_DATA_HOME", home.path().join("data"))
        .env(INSIDE, "1")
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "the run in the keyring session failed:\n{stdout}\n{stderr}"
    );
}

/// The keyring entry of the account `name` in the data directory `data`, if there is one.
fn entry_exists(data: &std::path::Path, name: &str) -> Option<bool> {
    let store = tern::store::Store::open_dir(data).unwrap();
    let account = store.find_account(name).ok()?;
    let user = tern::account::credentials::keyring_user(&account);
    let entry = keyring::Entry::new("tern", &user).unwrap();
    Some(entry.get_password().is_ok())
}

fn inside_the_session() {
    if let Err(e) = tern::account::credentials::keyring_available() {
        panic!("gnome-keyring runs in this session, yet no keyring is found: {e}");
    }
    let servers = MailServers::start();
    let bob = &servers.bob;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // An account whose password comes from the keyring (no password command).
    cli::add_imap_account(&servers, &data, bob, servers.ports.imaps, &[]);
    cli::tern_ok(&data, &["account", "set", "bob", "--password-cmd", ""]);
    let out = cli::tern_with_input(
        &data,
        &["account", "password", "bob"],
        &format!("{}\n", bob.password),
    );
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{said}");
    assert!(said.contains("OS keyring"), "{said}");
    assert_eq!(entry_exists(&data, "bob"), Some(true));
    // Both servers take the password read back from the keyring.
    cli::tern_ok(&data, &["account", "verify", "bob"]);
    // A new address (the login stays) keeps the entry.
    cli::tern_ok(
        &data,
        &[
            "account",
            "set",
            "bob",
            "--email",
            "robert@example.test",
            "--display-name",
            "Robert",
        ],
    );
    cli::tern_ok(&data, &["account", "verify", "bob"]);
    // Removing the account removes its entry.
    let store = tern::store::Store::open_dir(&data).unwrap();
    let account = store.find_account("bob").unwrap();
    drop(store);
    cli::tern_ok(&data, &["account", "remove", "bob", "--yes"]);
    let entry =
        keyring::Entry::new("tern", &tern::account::credentials::keyring_user(&account)).unwrap();
    assert!(
        matches!(entry.get_password(), Err(keyring::Error::NoEntry)),
        "the removed account's password is still in the keyring"
    );
}
