//! Tern against its peers and the protocol floor, in one run, as ratios (`cargo bench --bench
//! peers [-- --quick]`).
//!
//! It starts the test harness's Dovecot and Postfix, generates the corpora and runs, as whole
//! processes and interleaved round by round, Tern's headless commands next to mbsync, fetchmail,
//! msmtp and minimal clients of its own (the floor: the least a client can do for the task, with
//! no storage). Each figure is the median of several runs: wall time, CPU time, peak RSS and,
//! from one extra run through a counting proxy, the bytes moved. The table goes to stdout and to
//! `target/bench-report.md`; BENCHMARKS.md keeps the latest full run.
//!
//! `--quick`: 10,000 messages (under 10 minutes on 2 cores). Without it, also 100,000 messages
//! over IMAP and a generated 1,000,000-message store for the list, search and start-up rows.
//! Needs root and the Debian packages `.ci/run` installs, plus isync, fetchmail and msmtp.
//! `TERN_BENCH_BIN` measures another build of `tern` (the shipped one: target/release/tern).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

#[path = "../../tests/support/mod.rs"]
mod support;

mod corpus;
mod floor;
mod imap;
mod local;
mod measure;
mod pop3;
mod report;
mod smtp;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use support::{MailServers, User};

/// When the run started, for the progress lines.
static STARTED: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();

/// Prints a progress line on stderr, with the minutes and seconds since the run started.
macro_rules! say {
    ($($arg:tt)*) => {{
        let t = crate::STARTED.get_or_init(std::time::Instant::now).elapsed().as_secs();
        eprintln!("[{:02}:{:02}] peers: {}", t / 60, t % 60, format_args!($($arg)*));
    }};
}
pub(crate) use say;

/// What every row needs.
#[allow(missing_debug_implementations)]
pub struct Bench<'a> {
    pub servers: &'a MailServers,
    /// The `tern` binary measured.
    pub tern: PathBuf,
    /// This harness (the floor clients and the store child run as its subcommands).
    pub me: PathBuf,
    pub work: PathBuf,
    pub rounds: usize,
    /// `--quick`: the long rows (the full download, mbsync, POP3 downloads, SMTP) run one round
    /// less; the counted run of each is one of its samples instead, except for POP3 (fetchmail's
    /// time varies most), whose rows give the slower of two runs.
    pub quick: bool,
    /// An Xvfb display for the start-up rows, when Xvfb is installed.
    pub display: Option<String>,
}

impl<'a> Bench<'a> {
    pub fn new(
        servers: &'a MailServers,
        tern: &Path,
        me: &Path,
        rounds: usize,
        quick: bool,
        display: Option<String>,
    ) -> Bench<'a> {
        Bench {
            servers,
            tern: tern.to_owned(),
            me: me.to_owned(),
            work: servers.dir().join("bench"),
            rounds,
            quick,
            display,
        }
    }

    /// How many timed rounds a long row runs besides its counted run (see `quick`).
    pub fn long_rounds(&self) -> usize {
        if self.quick {
            self.rounds.saturating_sub(1).max(1)
        } else {
            self.rounds
        }
    }

    /// How many timed mbsync runs a mailbox of `n` gets (at 100k one takes minutes).
    pub fn mbsync_runs(&self, n: usize) -> usize {
        if n > 20_000 { 1 } else { self.long_rounds() }
    }
}

/// What `tern sync` cached in `data`: the messages in `account`'s INBOX, and how many of them
/// still want their body (a check outside the timing that a fast run did the work).
pub fn cached(data: &Path, account: &str) -> (u64, usize) {
    let store = tern::store::Store::open_dir(data).unwrap();
    let account = store.find_account(account).unwrap();
    let inbox = store.find_folder(account.id, "INBOX").unwrap();
    let wanted = store.bodies_wanted(inbox.id, None, None, 1).unwrap().len();
    (inbox.total as u64, wanted)
}

/// Panics when a `tern sync` set anything aside: then it did less than the others.
pub fn nothing_set_aside(stderr: &str) {
    assert!(
        !stderr.contains("set aside"),
        "tern sync set messages aside: {stderr}"
    );
}

/// The environment a floor client reads its target from.
pub fn floor_env(servers: &MailServers, user: &User, port: u16) -> Vec<(&'static str, String)> {
    vec![
        ("FLOOR_PORT", port.to_string()),
        (
            "FLOOR_CA",
            servers.certs.ca_pem.to_str().unwrap().to_owned(),
        ),
        ("FLOOR_USER", user.address.clone()),
        ("FLOOR_PASSWORD", user.password.clone()),
    ]
}

struct Xvfb(Child);

impl Drop for Xvfb {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn xvfb() -> Option<(String, Xvfb)> {
    for n in 140..190 {
        if Path::new(&format!("/tmp/.X11-unix/X{n}")).exists()
            || Path::new(&format!("/tmp/.X{n}-lock")).exists()
        {
            continue;
        }
        let display = format!(":{n}");
        let child = Command::new("Xvfb")
            .args([
                display.as_str(),
                "-screen",
                "0",
                "1280x800x24",
                "-nolisten",
                "tcp",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let server = Xvfb(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if Path::new(&format!("/tmp/.X11-unix/X{n}")).exists() {
                return Some((display, server));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    None
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "--list") {
        return;
    }
    if let Some(i) = args.iter().position(|a| a == "--floor") {
        floor::main(&args[i + 1]);
        return;
    }
    if let Some(i) = args.iter().position(|a| a == "--store-open") {
        local::store_open(Path::new(&args[i + 1]), &args[i + 2]);
        return;
    }
    if let Some(i) = args.iter().position(|a| a == "--synthetic") {
        // For trying store queries by hand: a generated store (and Maildir) in DIR.
        local::synthetic(Path::new(&args[i + 1]), args[i + 2].parse().unwrap());
        return;
    }
    if let Some(i) = args.iter().position(|a| a == "--perf") {
        let kind = if args.iter().any(|a| a == "--pop3") {
            Perf::Pop3
        } else if args.iter().any(|a| a == "--bodies") {
            Perf::Bodies
        } else {
            Perf::Headers
        };
        perf(Path::new(&args[i + 1]), kind);
        return;
    }
    let quick = args.iter().any(|a| a == "--quick");
    for program in [
        "/usr/bin/time",
        "/usr/bin/mbsync",
        "/usr/bin/fetchmail",
        "/usr/bin/msmtp",
    ] {
        assert!(
            Path::new(program).exists(),
            "{program} is missing: apt-get install time isync fetchmail msmtp"
        );
    }
    let tern = std::env::var_os("TERN_BENCH_BIN")
        .map_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_tern")), PathBuf::from);
    let me = std::env::current_exe().unwrap();
    let started = *STARTED.get_or_init(Instant::now);
    let x = xvfb();
    let display = x.as_ref().map(|(d, _)| d.clone());
    if display.is_none() {
        say!("Xvfb could not be started: the table will have no cold-start rows");
    }
    let rounds = 3;
    let mut rows = Vec::new();
    let mut corpus_note: Vec<String> = Vec::new();

    {
        let n = 10_000;
        let servers = mailbox(n, 42, &mut corpus_note);
        let b = Bench::new(&servers, &tern, &me, rounds, quick, display.clone());
        let store = imap::rows(&b, n, true, &mut rows);
        pop3::rows(&b, n, &mut rows);
        smtp::rows(&b, 100, &mut rows);
        let maildir = support::corpus::maildir_folder(&servers.bob, "INBOX");
        local::rows(
            &b,
            &store,
            "bob",
            local::Indexed::Bodies,
            &maildir,
            &mut rows,
        );
    }
    if !quick {
        let n = 100_000;
        let servers = mailbox(n, 43, &mut corpus_note);
        let b = Bench::new(&servers, &tern, &me, rounds, quick, display.clone());
        let store = imap::rows(&b, n, false, &mut rows);
        let maildir = support::corpus::maildir_folder(&servers.bob, "INBOX");
        local::rows(
            &b,
            &store,
            "bob",
            local::Indexed::Headers,
            &maildir,
            &mut rows,
        );
        let _ = std::fs::remove_dir_all(&b.work);
        let (data, maildir) = local::synthetic(servers.dir(), 1_000_000);
        local::rows(
            &b,
            &data,
            "bench",
            local::Indexed::Headers,
            &maildir,
            &mut rows,
        );
        let _ = std::fs::remove_dir_all(&data);
        let _ = std::fs::remove_dir_all(&maildir);
    }

    let table = report::table(&rows);
    let build = if std::env::var_os("TERN_BENCH_BIN").is_some() {
        format!("`{}`", tern.display())
    } else {
        "the bench profile (release optimisation, no LTO)".to_owned()
    };
    let text = format!(
        "# Tern against its peers ({mode})\n\n{date}; {machine}.\nTern: {build}. Medians of {rounds} interleaved rounds (5 for resyncs, searches and the store); bytes from one extra run through a counting proxy{counted}. Mailboxes (Dovecot over TLS, one folder): {corpus}. Took {mins:.1} minutes.\n\n{table}",
        corpus = corpus_note.join("; "),
        mode = if quick { "--quick" } else { "full" },
        counted = if quick {
            " (in --quick, that run is also one of the samples of the full download, mbsync and SMTP rows, and the POP3 download rows give the slower of two runs)"
        } else {
            ""
        },
        date = chrono::Utc::now().format("%Y-%m-%d %H:%M UTC"),
        machine = report::machine(),
        mins = started.elapsed().as_secs_f64() / 60.0,
    );
    println!("\n{text}");
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("target"),
        PathBuf::from,
    );
    std::fs::create_dir_all(&target).unwrap();
    std::fs::write(target.join("bench-report.md"), text).unwrap();
    eprintln!(
        "peers: written to {}",
        target.join("bench-report.md").display()
    );
}

/// Fresh servers whose bob has `n` generated messages in INBOX (noted in `note`).
fn mailbox(n: usize, seed: u64, note: &mut Vec<String>) -> MailServers {
    let servers = MailServers::start();
    let bytes = corpus::fill(&servers.bob, n, seed);
    say!("{n} messages, {:.0} MB", bytes as f64 / 1e6);
    note.push(format!(
        "{n} messages in INBOX: {:.0} MB",
        bytes as f64 / 1e6
    ));
    servers
}

/// What `--perf` records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Perf {
    /// An IMAP header sync.
    Headers,
    /// An IMAP sync with every body (`--bodies`).
    Bodies,
    /// A POP3 download (`--pop3`).
    Pop3,
}

/// `--perf FILE [--bodies | --pop3]`: one fresh `tern sync` of the 10k mailbox under
/// `perf record`, after a warm-up, for `perf report -i FILE`.
fn perf(out: &Path, kind: Perf) {
    let servers = MailServers::start();
    corpus::fill(&servers.bob, 10_000, 42);
    let tern = PathBuf::from(env!("CARGO_BIN_EXE_tern"));
    let work = servers.dir().join("perf");
    let extra: &[&str] = if kind == Perf::Bodies {
        &["--download-bodies"]
    } else {
        &[]
    };
    for (i, name) in ["warm", "measured"].iter().enumerate() {
        let data = work.join(name);
        if kind == Perf::Pop3 {
            let port = servers.ports.pop3s;
            support::cli::add_pop3_account(&servers, &data, &servers.bob, port, "tls", &[]);
        } else {
            let port = servers.ports.imaps;
            support::cli::add_imap_account(&servers, &data, &servers.bob, port, extra);
        }
        let mut command = if i == 0 {
            Command::new(&tern)
        } else {
            let mut c = Command::new("perf");
            c.args([
                "record",
                "-g",
                "--call-graph",
                "dwarf,16384",
                "-F",
                "400",
                "-o",
            ])
            .arg(out)
            .arg(&tern);
            c
        };
        let status = command
            .arg("--data-dir")
            .arg(&data)
            .arg("sync")
            .status()
            .unwrap();
        assert!(status.success());
    }
}
