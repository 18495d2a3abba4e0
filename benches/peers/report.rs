//! The report: one row per comparison, printed as a Markdown table with the ratio Tern/peer,
//! and written to `target/bench-report.md`.

use std::fmt::Write as _;

use crate::measure::Figure;

/// One comparison: what Tern took and what the peer (or the floor, or a published target) took.
pub struct Row {
    pub work: String,
    pub tern: Figure,
    pub peer: String,
    /// None: an absolute figure, compared with nothing.
    pub peer_figure: Option<Figure>,
}

fn seconds(s: f64) -> String {
    if s < 1.0 {
        format!("{:.1} ms", s * 1000.0)
    } else {
        format!("{s:.2} s")
    }
}

fn figure(f: &Figure) -> String {
    let mut out = seconds(f.wall);
    let mut extra = Vec::new();
    if let Some(cpu) = f.cpu {
        extra.push(format!("{} CPU", seconds(cpu)));
    }
    if let Some(rss) = f.rss_kib.filter(|r| *r > 0) {
        extra.push(format!("{:.0} MB", rss as f64 / 1024.0));
    }
    if let Some(bytes) = f.bytes {
        extra.push(format!("{:.1} MB moved", bytes as f64 / 1e6));
    }
    if !extra.is_empty() {
        let _ = write!(out, " ({})", extra.join(", "));
    }
    out
}

/// The table, in Markdown.
pub fn table(rows: &[Row]) -> String {
    let mut out = String::from(
        "| Work | Tern | Compared with | Its figure | Ratio Tern/peer |\n|---|---|---|---|---|\n",
    );
    for row in rows {
        let (peer, ratio) = match &row.peer_figure {
            Some(p) if p.wall > 0.0 => (figure(p), format!("{:.2}×", row.tern.wall / p.wall)),
            Some(p) => (figure(p), "—".into()),
            None => ("—".into(), "absolute".into()),
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            row.work,
            figure(&row.tern),
            row.peer,
            peer,
            ratio
        );
    }
    out
}

/// What machine and software the figures come from.
pub fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split(':').nth(1))
        .unwrap_or("unknown")
        .trim()
        .to_owned();
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let memory = std::fs::read_to_string("/proc/meminfo")
        .unwrap_or_default()
        .lines()
        .next()
        .unwrap_or("")
        .split_whitespace()
        .nth(1)
        .and_then(|kb| kb.parse::<u64>().ok())
        .map_or(0, |kb| kb / 1024 / 1024);
    let version = |program: &str, arg: &str| {
        std::process::Command::new(program)
            .arg(arg)
            .output()
            .map(|o| {
                let text = String::from_utf8_lossy(&o.stdout).into_owned()
                    + &String::from_utf8_lossy(&o.stderr);
                text.lines().next().unwrap_or("").trim().to_owned()
            })
            .unwrap_or_else(|_| "not installed".into())
    };
    format!(
        "{cpu}, {cores} cores, {memory} GiB; Dovecot {}; {}; {}; {}",
        version("dovecot", "--version"),
        version("mbsync", "--version"),
        version("fetchmail", "--version"),
        version("msmtp", "--version"),
    )
}
