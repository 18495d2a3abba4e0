//! Local rows: the store queries the message list uses on a large folder (first rows, one page
//! on, the end) against Thunderbird's published targets, `tern search` beside `grep -r` over the
//! same messages, and the window's cold start to its first frame under Xvfb.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use tern::account::settings::{AccountSettings, Protocol, Security, ServerAddr};
use tern::store::{NewMessage, PageCursor, SortOrder, Store, flag};

use crate::Bench;
use crate::measure::{Figure, Sample, run};
use crate::report::Row;
use crate::support::corpus::{SENDERS, TOPICS};

const PAGE: usize = 50;

/// Five typical searches: words that occur in the generated mail (subjects and senders).
pub const QUERIES: [&str; 5] = [
    "quarterly report",
    "invoice",
    "lovelace",
    "build failed",
    "trip",
];

/// The child process of `--store-open DIR ACCOUNT`: opens the store cold, reads the first page
/// of INBOX, then times one page on and the last page; prints one `STORE` line.
pub fn store_open(dir: &Path, account: &str) {
    let started = Instant::now();
    let store = Store::open_dir(dir).unwrap();
    let account = store.find_account(account).unwrap();
    let inbox = store.find_folder(account.id, "INBOX").unwrap();
    let order = SortOrder::DateDesc;
    let first = store.folder_page(inbox.id, order, None, PAGE).unwrap();
    let cold = started.elapsed();
    let time = |f: &dyn Fn()| {
        let mut samples: Vec<Duration> = (0..21)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed()
            })
            .collect();
        samples.sort();
        samples[samples.len() / 2]
    };
    let cursor = PageCursor::after(first.last().unwrap(), order);
    let scroll = time(&|| {
        store
            .folder_page(inbox.id, order, Some(&cursor), PAGE)
            .unwrap();
    });
    let end = time(&|| {
        let at = (inbox.total as usize).saturating_sub(PAGE);
        store.folder_page_at(inbox.id, order, at, PAGE).unwrap();
    });
    let hwm = std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| {
            l.strip_prefix("VmHWM:")
                .map(|v| v.trim().trim_end_matches(" kB").to_owned())
        })
        .unwrap_or_default();
    println!(
        "STORE {} {} {} {} {hwm}",
        inbox.total,
        cold.as_secs_f64(),
        scroll.as_secs_f64(),
        end.as_secs_f64()
    );
}

/// Thunderbird's published targets for opening a folder.
fn thunderbird_target(n: u64) -> f64 {
    match n {
        0..=10_000 => 0.1,
        10_001..=100_000 => 1.0,
        _ => 10.0,
    }
}

fn label(n: u64) -> String {
    if n >= 1_000_000 {
        format!("{}M", n / 1_000_000)
    } else {
        format!("{}k", n / 1000)
    }
}

/// What a store's search index holds: every body, or only the headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Indexed {
    Bodies,
    Headers,
}

/// The rows for a store in `data` (INBOX of `account`), its messages also as files in `maildir`.
pub fn rows(
    b: &Bench,
    data: &Path,
    account: &str,
    indexed: Indexed,
    maildir: &Path,
    rows: &mut Vec<Row>,
) {
    crate::say!("store, search and start-up rows on {}", data.display());
    let d = data.to_str().unwrap();
    let mut opens = Vec::new();
    let (mut total, mut scroll, mut end) = (0u64, vec![], vec![]);
    for _ in 0..b.rounds.max(5) {
        let out = std::process::Command::new(&b.me)
            .args(["--store-open", d, account])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        let line = text
            .lines()
            .find(|l| l.starts_with("STORE "))
            .unwrap_or_else(|| {
                panic!(
                    "store child: {text} {}",
                    String::from_utf8_lossy(&out.stderr)
                )
            });
        let v: Vec<f64> = line
            .split_whitespace()
            .skip(1)
            .map(|x| {
                x.parse()
                    .unwrap_or_else(|_| panic!("store child: {x:?} is not a number in {line}"))
            })
            .collect();
        total = v[0] as u64;
        opens.push(Sample {
            wall: v[1],
            cpu: 0.0,
            rss_kib: v[4] as u64,
        });
        scroll.push(v[2]);
        end.push(v[3]);
    }
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let n = label(total);
    let target = Figure::timed(thunderbird_target(total), None);
    let mut open = Figure::of(&opens, None);
    open.cpu = None;
    rows.push(Row {
        work: format!("Open a {n}-message folder: store opened cold + first {PAGE} rows"),
        tern: open,
        peer: format!("Thunderbird's target for {n}"),
        peer_figure: Some(target.clone()),
    });
    rows.push(Row {
        work: format!("{n} folder: one page on (keyset)"),
        tern: Figure::timed(median(scroll), None),
        peer: "—".into(),
        peer_figure: None,
    });
    rows.push(Row {
        work: format!("{n} folder: jump to the end"),
        tern: Figure::timed(median(end), None),
        peer: "—".into(),
        peer_figure: None,
    });

    for query in QUERIES {
        let mut terns = Vec::new();
        let mut greps = Vec::new();
        for _ in 0..b.rounds.max(5) {
            let (sample, _) = run(
                &b.tern,
                &["--data-dir", d, "search", query, "--limit", "50", "--json"],
                &[],
                &[],
            );
            terns.push(sample);
        }
        // Outside the timing: a search that found nothing would be a bogus fast figure.
        let out = std::process::Command::new(&b.tern)
            .args(["--data-dir", d, "search", query, "--limit", "50", "--json"])
            .output()
            .unwrap();
        let found: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert!(
            found.as_array().is_some_and(|a| !a.is_empty()),
            "tern search {query:?} found nothing"
        );
        for _ in 0..b.rounds {
            let (sample, _) = run(
                Path::new("/usr/bin/grep"),
                &["-r", "-l", "-i", "-F", query, maildir.to_str().unwrap()],
                &[("LC_ALL", "C.UTF-8".to_owned())],
                &[1],
            );
            greps.push(sample);
        }
        rows.push(Row {
            work: format!(
                "Search \"{query}\" over {n}, {what} (first {PAGE}, whole process)",
                what = match indexed {
                    Indexed::Bodies => "headers and bodies indexed",
                    Indexed::Headers => "subjects, senders and recipients indexed",
                }
            ),
            tern: Figure::of(&terns, None),
            peer: "grep -rliF over the Maildir (every byte, every match)".into(),
            peer_figure: Some(Figure::of(&greps, None)),
        });
    }

    if let Some(display) = &b.display {
        let (mut frames, mut firsts) = (vec![], vec![]);
        for _ in 0..b.rounds {
            let env = [
                ("DISPLAY", display.clone()),
                ("WAYLAND_DISPLAY", String::new()),
                ("ICED_BACKEND", "tiny-skia".to_owned()),
                ("TERN_STARTUP_TRACE", "exit".to_owned()),
            ];
            let (sample, stderr) = run(&b.tern, &["--data-dir", d], &env, &[]);
            let ms = |what: &str| {
                stderr
                    .lines()
                    .find_map(|l| l.strip_prefix(what))
                    .and_then(|rest| rest.split_whitespace().next())
                    .and_then(|v| v.parse::<f64>().ok())
                    .map(|v| v / 1000.0)
            };
            frames.push(Sample {
                wall: ms("tern: first frame after ")
                    .unwrap_or_else(|| panic!("the window printed no first frame: {stderr}")),
                ..sample
            });
            firsts.push(Sample {
                wall: ms("tern: first rows after ")
                    .unwrap_or_else(|| panic!("the window printed no first rows: {stderr}")),
                ..sample
            });
        }
        rows.push(Row {
            work: format!(
                "Cold start of the window to its first frame, {n} cached (Xvfb, tiny-skia)"
            ),
            tern: Figure::of(&frames, None),
            peer: "none (absolute)".into(),
            peer_figure: None,
        });
        rows.push(Row {
            work: format!("Cold start of the window to the folder's first rows, {n} cached"),
            tern: Figure::of(&firsts, None),
            peer: "none (absolute)".into(),
            peer_figure: None,
        });
    }
}

/// A store of `n` generated messages in INBOX of account "bench" (through the store API, as a
/// sync would write them), and the same messages as small files in a Maildir. Returns both.
pub fn synthetic(dir: &Path, n: usize) -> (PathBuf, PathBuf) {
    let data = dir.join("synthetic");
    let maildir = dir.join("synthetic-maildir");
    let _ = std::fs::remove_dir_all(&data);
    let _ = std::fs::remove_dir_all(&maildir);
    std::fs::create_dir_all(maildir.join("cur")).unwrap();
    let store = Store::open_dir(&data).unwrap();
    let server = |port| ServerAddr {
        host: "127.0.0.1".into(),
        port,
    };
    let account = store
        .add_account(&AccountSettings {
            name: "bench".into(),
            display_name: "Bench".into(),
            email: "bench@example.test".into(),
            protocol: Protocol::Imap,
            incoming: server(9),
            incoming_security: Security::Tls,
            outgoing: server(9),
            outgoing_security: Security::Tls,
            login: "bench@example.test".into(),
            password_cmd: Some("echo unused".into()),
            ca_file: None,
            cert_sha256: None,
        })
        .unwrap();
    let inbox = store.find_folder(account.id, "INBOX").unwrap();
    let started = Instant::now();
    // Newest first, as an IMAP sync fills a folder: ids fall as dates rise.
    let mut done = 0usize;
    while done < n {
        let batch: Vec<NewMessage> = (0..5_000.min(n - done))
            .map(|_| {
                let uid = n - done;
                done += 1;
                let (name, addr) = SENDERS[(uid / 3) % SENDERS.len()];
                let topic = TOPICS[uid % TOPICS.len()];
                let subject = format!("{topic} #{uid}");
                let date = 1_500_000_000 + uid as i64 * 60;
                let preview = format!("Hello, about {topic}: the first line of message {uid}");
                let raw = format!(
                    "From: {name} <{addr}>\nTo: bench@example.test\nSubject: {subject}\nDate: {date}\nMessage-ID: <m{uid}@bench.example.test>\n\n{preview}\n"
                );
                let mut file = std::fs::File::create(maildir.join("cur").join(format!("{uid}.bench:2,S"))).unwrap();
                file.write_all(raw.as_bytes()).unwrap();
                NewMessage {
                    folder_id: inbox.id,
                    uid: Some(uid as i64),
                    message_id: Some(format!("m{uid}@bench.example.test")),
                    in_reply_to: (!uid.is_multiple_of(5)).then(|| format!("m{}@bench.example.test", uid - 1)),
                    subject,
                    from_name: name.into(),
                    from_addr: addr.into(),
                    to: "bench@example.test".into(),
                    date,
                    size: (raw.len() + 2_000) as i64,
                    flags: if uid.is_multiple_of(4) { 0 } else { flag::SEEN },
                    preview,
                    ..NewMessage::default()
                }
            })
            .collect();
        store.insert_messages(account.id, &batch).unwrap();
    }
    crate::say!(
        "{n} messages written to a store and a Maildir in {:.1?}",
        started.elapsed()
    );
    (data, maildir)
}
