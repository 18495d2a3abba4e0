//! Store benchmark: fill a folder with N messages (default 1,000,000), then, in a fresh process,
//! time opening it (first page), paging on, jumping to the middle, and counting unread, and
//! report that process's peak RSS.
//!
//! `cargo bench --bench store` (set TERN_BENCH_MESSAGES to change N).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::path::Path;
use std::time::{Duration, Instant};

use tern::account::settings::{AccountSettings, Protocol, Security, ServerAddr};
use tern::store::{NewMessage, PageCursor, SortOrder, Store, flag};

const PAGE: usize = 50;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(pos) = args.iter().position(|a| a == "--open") {
        open(Path::new(&args[pos + 1]));
        return;
    }
    let n: usize = std::env::var("TERN_BENCH_MESSAGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir().unwrap();
    fill(dir.path(), n);
    let status = std::process::Command::new(std::env::current_exe().unwrap())
        .arg("--open")
        .arg(dir.path())
        .status()
        .unwrap();
    assert!(status.success());
}

fn fill(dir: &Path, n: usize) {
    let store = Store::open_dir(dir).unwrap();
    let account = store
        .add_account(&AccountSettings {
            name: "bench".into(),
            display_name: "Bench".into(),
            email: "bench@example.test".into(),
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
            login: "bench@example.test".into(),
            password_cmd: None,
            ca_file: None,
            cert_sha256: None,
        })
        .unwrap();
    let inbox = store.find_folder(account.id, "INBOX").unwrap();
    let started = Instant::now();
    let batch_size = 5_000;
    let mut uid = 0i64;
    while (uid as usize) < n {
        let batch: Vec<NewMessage> = (0..batch_size.min(n - uid as usize))
            .map(|_| {
                uid += 1;
                let thread_root = uid - uid % 5;
                NewMessage {
                    folder_id: inbox.id,
                    uid: Some(uid),
                    message_id: Some(format!("m{uid}@bench.example.test")),
                    in_reply_to: (uid % 5 != 0).then(|| format!("m{}@bench.example.test", uid - 1)),
                    references: if uid % 5 != 0 {
                        vec![format!("m{thread_root}@bench.example.test")]
                    } else {
                        vec![]
                    },
                    subject: format!("Message number {uid} about topic {}", uid % 97),
                    from_name: format!("Sender {}", uid % 1000),
                    from_addr: format!("sender{}@example.test", uid % 1000),
                    to: "bench@example.test".into(),
                    date: 1_500_000_000 + uid * 60,
                    size: 2_000 + uid % 5_000,
                    flags: if uid % 4 == 0 { 0 } else { flag::SEEN },
                    preview: "Hello, this is the first line of the message body".into(),
                    ..NewMessage::default()
                }
            })
            .collect();
        store.insert_messages(account.id, &batch).unwrap();
    }
    let elapsed = started.elapsed();
    println!(
        "fill: {n} messages in {elapsed:.2?} ({:.0} messages/s)",
        n as f64 / elapsed.as_secs_f64()
    );
    let size = std::fs::metadata(store.path()).unwrap().len();
    println!(
        "fill: database {:.1} MiB ({:.0} bytes/message)",
        size as f64 / 1048576.0,
        size as f64 / n as f64
    );
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn open(dir: &Path) {
    let started = Instant::now();
    let store = Store::open_dir(dir).unwrap();
    let account = store.find_account("bench").unwrap();
    let inbox = store.find_folder(account.id, "INBOX").unwrap();
    let first = store
        .folder_page(inbox.id, SortOrder::DateDesc, None, PAGE)
        .unwrap();
    let cold = started.elapsed();
    println!(
        "open: store + first {PAGE} rows of {} in {cold:.2?} (cold process)",
        inbox.total
    );

    let runs = 21;
    let time = |f: &dyn Fn()| {
        median(
            (0..runs)
                .map(|_| {
                    let t = Instant::now();
                    f();
                    t.elapsed()
                })
                .collect(),
        )
    };
    for order in [SortOrder::DateDesc, SortOrder::From, SortOrder::Subject] {
        let first_page = time(&|| {
            store.folder_page(inbox.id, order, None, PAGE).unwrap();
        });
        let page = store.folder_page(inbox.id, order, None, PAGE).unwrap();
        let cursor = PageCursor::after(page.last().unwrap(), order);
        let next_page = time(&|| {
            store
                .folder_page(inbox.id, order, Some(&cursor), PAGE)
                .unwrap();
        });
        println!(
            "{order:?}: first page {first_page:.2?}, next page (keyset) {next_page:.2?} (median of {runs})"
        );
    }
    let middle = time(&|| {
        store
            .folder_page_at(
                inbox.id,
                SortOrder::DateDesc,
                inbox.total as usize / 2,
                PAGE,
            )
            .unwrap();
    });
    println!("DateDesc: page at offset {} {middle:.2?}", inbox.total / 2);
    let unread = time(&|| {
        store.count_unread(inbox.id).unwrap();
    });
    println!(
        "unread count (index) {unread:.2?}; folder row says {}",
        inbox.unread
    );
    let thread = first[0].thread_id.unwrap();
    let thread_time = time(&|| {
        store.thread_messages(thread).unwrap();
    });
    println!("thread of 5 {thread_time:.2?}");
    let conversations = store.thread_count(inbox.id).unwrap();
    let threads_first = time(&|| {
        store.thread_page_at(inbox.id, 0, PAGE).unwrap();
    });
    let threads_middle = time(&|| {
        store
            .thread_page_at(inbox.id, conversations as usize / 2, PAGE)
            .unwrap();
    });
    let threads_count = time(&|| {
        store.thread_count(inbox.id).unwrap();
    });
    println!(
        "conversations ({conversations}): first page {threads_first:.2?}, page at the middle {threads_middle:.2?}, count {threads_count:.2?}"
    );
    let complete = time(&|| {
        store.complete_address("sender 4", 6).unwrap();
    });
    println!("address completion 'sender 4' {complete:.2?}");
    let search = time(&|| {
        store.search("topic 42", None, PAGE).unwrap();
    });
    println!("search 'topic 42' (first {PAGE}) {search:.2?}");
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let hwm = status
        .lines()
        .find(|l| l.starts_with("VmHWM"))
        .unwrap_or("VmHWM: unknown");
    println!(
        "peak RSS of the process with the folder open: {}",
        hwm.trim_start_matches("VmHWM:").trim()
    );
}
