//! What the process benchmarks share: timing a whole command under /usr/bin/time, and the
//! median of several runs.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use std::path::Path;
use std::process::Command;

/// Runs a command under /usr/bin/time; returns (seconds, peak RSS in KiB).
pub fn measure(program: &Path, args: &[&str]) -> (f64, u64) {
    let out = Command::new("/usr/bin/time")
        .arg("-f")
        .arg("TIME %e %M")
        .arg(program)
        .args(args)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{} failed: {stderr}",
        program.display()
    );
    let line = stderr
        .lines()
        .rev()
        .find(|l| l.starts_with("TIME "))
        .unwrap();
    let mut parts = line.split_whitespace().skip(1);
    (
        parts.next().unwrap().parse().unwrap(),
        parts.next().unwrap().parse().unwrap(),
    )
}

/// The median time and the median peak RSS of several runs.
pub fn median(mut values: Vec<(f64, u64)>) -> (f64, u64) {
    values.sort_by(|a, b| a.0.total_cmp(&b.0));
    let time = values[values.len() / 2].0;
    let mut rss: Vec<u64> = values.iter().map(|v| v.1).collect();
    rss.sort_unstable();
    (time, rss[rss.len() / 2])
}
