//! Measuring whole processes (wall time from the clock around the process, to the microsecond;
//! CPU time and peak RSS under /usr/bin/time, whose times are in steps of 10 ms), medians, and a
//! loopback proxy that counts the bytes a client moves.

use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// One run of a command.
#[derive(Debug, Clone, Copy, Default)]
pub struct Sample {
    /// Seconds, wall clock.
    pub wall: f64,
    /// Seconds of CPU, user and system.
    pub cpu: f64,
    /// Peak resident set, KiB.
    pub rss_kib: u64,
}

/// The medians of several runs, and the bytes one run moved when that was counted.
#[derive(Debug, Clone, Default)]
pub struct Figure {
    pub wall: f64,
    pub cpu: Option<f64>,
    pub rss_kib: Option<u64>,
    pub bytes: Option<u64>,
}

impl Figure {
    /// The medians of `samples` (each measure on its own).
    pub fn of(samples: &[Sample], bytes: Option<u64>) -> Figure {
        let mid = |mut v: Vec<f64>| {
            v.sort_by(f64::total_cmp);
            v.get(v.len() / 2).copied().unwrap_or(0.0)
        };
        let mut rss: Vec<u64> = samples.iter().map(|s| s.rss_kib).collect();
        rss.sort_unstable();
        Figure {
            wall: mid(samples.iter().map(|s| s.wall).collect()),
            cpu: Some(mid(samples.iter().map(|s| s.cpu).collect())),
            rss_kib: rss.get(rss.len() / 2).copied(),
            bytes,
        }
    }

    /// A time measured inside a process (no CPU figure of its own).
    pub fn timed(wall: f64, rss_kib: Option<u64>) -> Figure {
        Figure {
            wall,
            cpu: None,
            rss_kib,
            bytes: None,
        }
    }
}

/// Runs `program args` under /usr/bin/time with `env` added; panics with its stderr when it
/// fails (unless `ok_codes` lists the exit code). Returns the sample and stderr.
pub fn run(
    program: &Path,
    args: &[&str],
    env: &[(&str, String)],
    ok_codes: &[i32],
) -> (Sample, String) {
    let started = Instant::now();
    let out = Command::new("/usr/bin/time")
        .arg("-f")
        .arg("TIME %e %U %S %M")
        .arg(program)
        .args(args)
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .output()
        .unwrap();
    // /usr/bin/time's own start and exit are part of this, about a millisecond.
    let wall = started.elapsed().as_secs_f64();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let line = stderr
        .lines()
        .rev()
        .find(|l| l.starts_with("TIME "))
        .unwrap_or_else(|| panic!("{} printed no timing: {stderr}", program.display()));
    let code = out.status.code().unwrap_or(-1);
    assert!(
        out.status.success() || ok_codes.contains(&code),
        "{} {args:?} failed ({code}): {stderr}",
        program.display()
    );
    let v: Vec<f64> = line
        .split_whitespace()
        .skip(1)
        .map(|x| x.parse().unwrap())
        .collect();
    let sample = Sample {
        wall,
        cpu: v[1] + v[2],
        rss_kib: v[3] as u64,
    };
    (sample, stderr)
}

/// A loopback proxy to `target` that counts the bytes passed both ways, TLS included.
pub struct ByteCounter {
    pub port: u16,
    bytes: Arc<AtomicU64>,
}

impl ByteCounter {
    pub fn start(target: u16) -> ByteCounter {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let bytes = Arc::new(AtomicU64::new(0));
        let shared = bytes.clone();
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { return };
                let Ok(server) = TcpStream::connect(("127.0.0.1", target)) else {
                    continue;
                };
                let _ = client.set_nodelay(true);
                let _ = server.set_nodelay(true);
                let (c2, s2) = (client.try_clone().unwrap(), server.try_clone().unwrap());
                let (up, down) = (shared.clone(), shared.clone());
                std::thread::spawn(move || pump(client, server, &up));
                std::thread::spawn(move || pump(s2, c2, &down));
            }
        });
        ByteCounter { port, bytes }
    }

    /// Bytes since the last call.
    pub fn take(&self) -> u64 {
        self.bytes.swap(0, Ordering::SeqCst)
    }
}

fn pump(mut from: TcpStream, mut to: TcpStream, count: &AtomicU64) {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                count.fetch_add(n as u64, Ordering::SeqCst);
                if to.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
        }
    }
    let _ = to.shutdown(std::net::Shutdown::Write);
}
