//! The headless CLI contract: `account add`/`list` round-trip through the store, `--json`
//! shapes, and one-line errors with a non-zero exit for bad input.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::path::Path;
use std::process::{Command, Output};

fn tern(data_dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tern"))
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .env_remove("TERN_DATA_DIR")
        .output()
        .unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn json(o: &Output) -> serde_json::Value {
    assert!(o.status.success(), "failed: {}", stderr(o));
    serde_json::from_slice(&o.stdout).unwrap()
}

const ADD: &[&str] = &[
    "account",
    "add",
    "--name",
    "work",
    "--email",
    "jo@example.test",
    "--protocol",
    "imap",
    "--incoming",
    "127.0.0.1:993",
    "--incoming-security",
    "tls",
    "--outgoing",
    "127.0.0.1:587",
    "--outgoing-security",
    "starttls",
    "--password-cmd",
    "echo secret",
];

#[test]
fn account_add_and_list_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let out = tern(dir.path(), ADD);
    assert!(out.status.success(), "{}", stderr(&out));
    let mut pop = ADD.to_vec();
    for (from, to) in [
        ("work", "home"),
        ("imap", "pop3"),
        ("127.0.0.1:993", "[::1]:995"),
    ] {
        let i = pop.iter().position(|a| *a == from).unwrap();
        pop[i] = to;
    }
    let out = tern(dir.path(), &pop);
    assert!(out.status.success(), "{}", stderr(&out));

    let list = json(&tern(dir.path(), &["account", "list", "--json"]));
    assert_eq!(list.as_array().unwrap().len(), 2);
    assert_eq!(list[0]["name"], "work");
    assert_eq!(list[0]["email"], "jo@example.test");
    assert_eq!(list[0]["protocol"], "imap");
    assert_eq!(list[0]["incoming"], "127.0.0.1:993");
    assert_eq!(list[0]["outgoing_security"], "starttls");
    assert_eq!(list[1]["name"], "home");
    assert_eq!(list[1]["protocol"], "pop3");
    assert_eq!(list[1]["incoming"], "[::1]:995");

    let text = tern(dir.path(), &["account", "list"]);
    assert!(String::from_utf8_lossy(&text.stdout).contains("work\tjo@example.test\timap"));

    let folders = json(&tern(
        dir.path(),
        &["folders", "--account", "work", "--json"],
    ));
    assert_eq!(
        folders,
        serde_json::json!([{"path": "INBOX", "role": "inbox", "total": 0, "unread": 0, "cached": 0, "subscribed": true, "error": null}])
    );
    let list = json(&tern(dir.path(), &["list", "--account", "work", "--json"]));
    assert_eq!(list, serde_json::json!([]));
    let found = json(&tern(dir.path(), &["search", "anything", "--json"]));
    assert_eq!(found, serde_json::json!([]));

    let out = tern(dir.path(), &["account", "remove", "home"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        json(&tern(dir.path(), &["account", "list", "--json"]))
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn bad_input_fails_with_one_line_that_says_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let replace = |from: &str, to: &str| {
        let mut args: Vec<String> = ADD.iter().map(|s| (*s).to_owned()).collect();
        let i = args.iter().position(|a| a == from).unwrap();
        args[i] = to.to_owned();
        args
    };
    let cases = [
        (
            replace("jo@example.test", "not-an-address"),
            "email address",
        ),
        (replace("127.0.0.1:993", "imap.example.com"), "host:port"),
        (replace("127.0.0.1:587", "mail.example.com:99999"), "port"),
        (replace("tls", "ssl3"), "tls, starttls or plain"),
        (replace("imap", "smtp"), "imap or pop3"),
        (
            replace("jo@example.test", "jo@example.test\r\nBcc: x@evil.test"),
            "email address",
        ),
    ];
    // What can be checked at once is: a CA file that holds no certificate, IMAP-only options
    // on a POP3 account.
    let not_pem = dir.path().join("not.pem");
    std::fs::write(&not_pem, "this is not a certificate\n").unwrap();
    let mut with_ca = replace("jo@example.test", "jo@example.test");
    with_ca.extend(["--ca-file".to_owned(), not_pem.display().to_string()]);
    let mut pop3_sync_days = replace("imap", "pop3");
    pop3_sync_days.extend(["--sync-days".to_owned(), "30".to_owned()]);
    let cases = cases
        .into_iter()
        .chain([
            (with_ca, "holds no PEM certificate"),
            (pop3_sync_days, "are for IMAP accounts"),
        ])
        .collect::<Vec<_>>();
    for (args, hint) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = tern(dir.path(), &args);
        let err = stderr(&out);
        assert!(!out.status.success(), "{args:?} was accepted");
        assert_eq!(err.trim_end().lines().count(), 1, "not one line: {err}");
        assert!(err.contains(hint), "{err:?} should mention {hint:?}");
    }
    // Nothing was stored by the failed attempts.
    assert_eq!(
        json(&tern(dir.path(), &["account", "list", "--json"])),
        serde_json::json!([])
    );

    assert!(tern(dir.path(), ADD).status.success());
    let out = tern(dir.path(), ADD);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("already exists"), "{}", stderr(&out));

    let out = tern(dir.path(), &["folders", "--account", "nosuch"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("tern account list"),
        "{}",
        stderr(&out)
    );

    let out = tern(dir.path(), &["show", "42"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("no message with id 42"),
        "{}",
        stderr(&out)
    );

    let out = tern(dir.path(), &["send", "--account", "work", "--subject", "x"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("there is no To, Cc or Bcc address"),
        "{}",
        stderr(&out)
    );
    // Header injection through any field is refused before anything is stored.
    for args in [
        [
            "--to",
            "a@example.test",
            "--subject",
            "x\r\nBcc: victim@example.test",
        ],
        [
            "--to",
            "a@example.test\nBcc: victim@example.test",
            "--subject",
            "x",
        ],
    ] {
        let mut all = vec!["send", "--account", "work"];
        all.extend(args);
        let out = tern(dir.path(), &all);
        assert!(!out.status.success());
        assert!(stderr(&out).contains("line break"), "{}", stderr(&out));
    }
    let outbox = json(&tern(dir.path(), &["outbox", "--json"]));
    assert_eq!(outbox, serde_json::json!([]));
}

/// Text output never passes terminal escape sequences from mail through (a subject or body
/// with ESC or CSI could rewrite the screen or the window title); JSON escapes them.
/// Removing an account that holds what exists nowhere else needs --yes and says what is lost.
#[test]
fn mail_cannot_drive_the_terminal_and_removal_names_what_is_lost() {
    let dir = tempfile::tempdir().unwrap();
    assert!(tern(dir.path(), ADD).status.success());
    {
        let store = tern::store::Store::open_dir(dir.path()).unwrap();
        let account = store.find_account("work").unwrap();
        let inbox = store.folders(account.id).unwrap()[0].id;
        let raw = b"From: Evil \x1b]0;owned\x07 <e@example.test>\r\nSubject: Hi\x1b[2J\x9b31m there\r\n\r\nbody \x1b[31mred\x1b[0m\r\nline two\r\n";
        let summary = tern::mail::parse::summarize(raw);
        let row = tern::store::NewMessage {
            folder_id: inbox,
            subject: "Hi\u{1b}[2J\u{9b}31m there \u{202e}txt.exe".into(),
            from_name: summary.from_name,
            from_addr: "e@example.test".into(),
            date: 1_700_000_000,
            ..Default::default()
        };
        store
            .queue_append(account.id, &row, raw, "body red line two")
            .unwrap();
    }
    let listed = tern(dir.path(), &["list", "--account", "work"]);
    assert!(listed.status.success(), "{}", stderr(&listed));
    let shown = tern(dir.path(), &["show", "1", "--offline"]);
    assert!(shown.status.success(), "{}", stderr(&shown));
    for out in [&listed.stdout, &shown.stdout] {
        let text = String::from_utf8_lossy(out);
        assert!(
            !text.contains('\u{1b}') && !text.contains('\u{9b}') && !text.contains('\u{7}'),
            "{text:?}"
        );
        assert!(!text.contains('\u{202e}'), "{text:?}");
    }
    assert!(String::from_utf8_lossy(&shown.stdout).contains("line two"));
    let json_list = json(&tern(dir.path(), &["list", "--account", "work", "--json"]));
    assert!(
        json_list[0]["subject"].as_str().unwrap().contains('\u{1b}'),
        "JSON keeps the field as it is, escaped by the encoder"
    );

    // The command the keyring error names exists, and refuses an empty password.
    let mut child = Command::new(env!("CARGO_BIN_EXE_tern"))
        .arg("--data-dir")
        .arg(dir.path())
        .args(["account", "password", "work"])
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdin.take());
    let out = child.wait_with_output().unwrap();
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("no password given"),
        "{}",
        stderr(&out)
    );

    // The message exists only here (never uploaded), and one upload is queued.
    let out = tern(dir.path(), &["account", "remove", "work"]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("1 message stored only on this computer")
            && err.contains("1 change not yet on the server")
            && err.contains("--yes"),
        "{err}"
    );
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    let out = tern(dir.path(), &["account", "remove", "work", "--yes"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        json(&tern(dir.path(), &["account", "list", "--json"])),
        serde_json::json!([])
    );
}
