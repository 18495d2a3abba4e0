//! SMTP rows: submitting 100 messages. Tern queues them with `tern send --queue` (not timed),
//! then one `tern sync` sends the outbox; beside it a one-connection sender (the floor) and
//! msmtp, one process per message as people run it.

use std::path::Path;

use crate::measure::{ByteCounter, Figure, Sample, run};
use crate::report::Row;
use crate::support;
use crate::{Bench, floor_env};

const TO: &str = "carol@example.test";

fn text() -> String {
    "Lorem ipsum dolor sit amet, consectetur adipiscing elit.\n".repeat(30)
}

fn write_messages(dir: &Path, n: usize) {
    std::fs::create_dir_all(dir).unwrap();
    let me = tern::mail::compose::Identity {
        name: "Alice".into(),
        address: "alice@example.test".into(),
    };
    for i in 0..n {
        let draft = tern::mail::compose::Draft {
            to: vec![TO.into()],
            subject: format!("bench {i}"),
            text: text(),
            ..tern::mail::compose::Draft::default()
        };
        let built = tern::mail::compose::build(&me, &draft, 1_795_000_000 + i as i64).unwrap();
        std::fs::write(dir.join(format!("{i:04}.eml")), built.raw).unwrap();
    }
}

fn msmtp_rc(b: &Bench, dir: &Path, port: u16) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt as _;
    let rc = dir.join(format!("msmtprc-{port}"));
    std::fs::write(
        &rc,
        format!(
            "defaults\ntls on\ntls_starttls off\ntls_trust_file {ca}\n\
             account default\nhost localhost\nport {port}\nfrom alice@example.test\n\
             auth plain\nuser alice@example.test\npassword {pw}\n",
            ca = b.servers.certs.ca_pem.display(),
            pw = b.servers.alice.password,
        ),
    )
    .unwrap();
    std::fs::set_permissions(&rc, std::fs::Permissions::from_mode(0o600)).unwrap();
    rc
}

pub fn rows(b: &Bench, n: usize, rows: &mut Vec<Row>) {
    let servers = b.servers;
    let work = b.work.join("smtp");
    let messages = work.join("messages");
    write_messages(&messages, n);
    let counter = ByteCounter::start(servers.ports.submissions);
    let data = work.join("tern");
    support::cli::add_imap_account(
        servers,
        &data,
        &servers.alice,
        servers.ports.imaps,
        &["--server-saves-sent"],
    );
    let d = data.to_str().unwrap();
    support::cli::tern_ok(&data, &["sync"]);
    let body = text();
    let queue = || {
        for i in 0..n {
            let subject = format!("bench {i}");
            let out = support::cli::tern_with_input(
                &data,
                &[
                    "send",
                    "--account",
                    "alice",
                    "--to",
                    TO,
                    "--subject",
                    &subject,
                    "--queue",
                ],
                &body,
            );
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    };
    let flush = || {
        run(
            &b.tern,
            &["--data-dir", d, "sync", "--account", "alice"],
            &[],
            &[],
        )
        .0
    };
    let set_outgoing = |port: u16| {
        support::cli::tern_ok(
            &data,
            &[
                "account",
                "set",
                "alice",
                "--outgoing",
                &format!("127.0.0.1:{port}"),
            ],
        );
    };
    let floor = |port: u16| {
        let mut env = floor_env(servers, &servers.alice, port);
        env.push(("FLOOR_MESSAGES", messages.to_str().unwrap().to_owned()));
        env.push(("FLOOR_TO", TO.to_owned()));
        run(&b.me, &["--floor", "smtp"], &env, &[]).0
    };
    let msmtp = |port: u16| {
        let rc = msmtp_rc(b, &work, port);
        let script = format!(
            "for f in {}/*.eml; do /usr/bin/msmtp -C {} {TO} < \"$f\" || exit 1; done",
            messages.display(),
            rc.display()
        );
        run(Path::new("/bin/sh"), &["-c", &script], &[], &[]).0
    };

    // Counted runs (and warm-up); in --quick also samples (see `Bench::quick`).
    let (mut terns, mut floors, mut msmtps) = (vec![], vec![], vec![]);
    let keep = |samples: &mut Vec<Sample>, sample: Sample| {
        if b.quick {
            samples.push(sample);
        }
    };
    set_outgoing(counter.port);
    queue();
    keep(&mut terns, flush());
    let tern_bytes = counter.take();
    set_outgoing(servers.ports.submissions);
    keep(&mut floors, floor(counter.port));
    let floor_bytes = counter.take();
    keep(&mut msmtps, msmtp(counter.port));
    let msmtp_bytes = counter.take();

    for round in 0..b.long_rounds() {
        crate::say!("SMTP, round {}", round + 1);
        queue();
        terns.push(flush());
        floors.push(floor(servers.ports.submissions));
        msmtps.push(msmtp(servers.ports.submissions));
    }
    let out = support::cli::tern(&data, &["outbox", "--account", "alice", "--json"]);
    let outbox: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let unsent = outbox
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["state"] != "sent")
        .count();
    assert_eq!(unsent, 0, "the outbox was not emptied: {outbox}");
    let _ = std::fs::remove_dir_all(&work);
    let tern = Figure::of(&terns, Some(tern_bytes));
    let what = format!(
        "SMTP submission of {n} messages (`tern sync`: the outbox flush and the account's IMAP pass)"
    );
    rows.push(Row {
        work: what.clone(),
        tern: tern.clone(),
        peer: "floor: one connection, one message after another".into(),
        peer_figure: Some(Figure::of(&floors, Some(floor_bytes))),
    });
    rows.push(Row {
        work: what,
        tern,
        peer: "msmtp, one process per message".into(),
        peer_figure: Some(Figure::of(&msmtps, Some(msmtp_bytes))),
    });
}
