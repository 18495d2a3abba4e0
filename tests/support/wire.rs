//! A fault-injecting TCP proxy for the reliability trials: between Tern and a real server it
//! cuts the connection after N bytes in either direction, stalls a direction, splits writes
//! into 1-byte chunks or adds latency, as the test's current `Plan` says. Byte counts run
//! across all connections of a trial, so a cut point chosen in `0..bytes of a whole pass` can
//! fall into any of the pass's connections (TLS handshakes included).

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Client to server (`Up`) or server to client (`Down`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dir {
    Up,
    Down,
}

/// What the proxy does to the traffic of the current trial.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Plan {
    /// Cut the connection whose bytes cross this many bytes gone this way (both of its
    /// directions). Only the first cut of a trial fires; later connections pass.
    pub cut: Option<(Dir, u64)>,
    /// Stop forwarding this way once this many bytes have gone (the connection stays open).
    pub stall: Option<(Dir, u64)>,
    /// Forward one byte per write, each flushed on its own.
    pub one_byte_chunks: bool,
    /// Wait this long before forwarding each chunk read.
    pub latency: Duration,
}

/// The proxy's shared state: the plan and what it saw since the last `start`.
#[derive(Debug, Default)]
pub struct Wire {
    plan: Mutex<Plan>,
    /// Bumped by `start`: stalled connections of an earlier trial let go.
    generation: AtomicU64,
    up: AtomicU64,
    down: AtomicU64,
    fired: AtomicBool,
}

impl Wire {
    /// Begins a trial with `plan`: counts start at zero, no fault has fired.
    pub fn start(&self, plan: Plan) {
        *self.plan.lock().unwrap() = plan;
        self.up.store(0, Ordering::SeqCst);
        self.down.store(0, Ordering::SeqCst);
        self.fired.store(false, Ordering::SeqCst);
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    /// Bytes forwarded each way since `start`.
    pub fn bytes(&self) -> (u64, u64) {
        (
            self.up.load(Ordering::SeqCst),
            self.down.load(Ordering::SeqCst),
        )
    }

    /// Whether the trial's cut (or stall) was reached.
    pub fn fired(&self) -> bool {
        self.fired.load(Ordering::SeqCst)
    }

    fn counter(&self, dir: Dir) -> &AtomicU64 {
        match dir {
            Dir::Up => &self.up,
            Dir::Down => &self.down,
        }
    }
}

/// Listens on a free loopback port and proxies each connection to 127.0.0.1:`target` under
/// `wire`'s plan. Returns the port.
pub fn wire_proxy(target: u16) -> (u16, Arc<Wire>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let wire = Arc::new(Wire::default());
    let shared = wire.clone();
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(client) = client else { return };
            let Ok(server) = TcpStream::connect(("127.0.0.1", target)) else {
                continue;
            };
            let _ = client.set_nodelay(true);
            let _ = server.set_nodelay(true);
            let ended = Arc::new(AtomicBool::new(false));
            for (from, to, dir) in [
                (client.try_clone(), server.try_clone(), Dir::Up),
                (server.try_clone(), client.try_clone(), Dir::Down),
            ] {
                let (Ok(from), Ok(to)) = (from, to) else {
                    continue;
                };
                let (wire, ended) = (shared.clone(), ended.clone());
                std::thread::spawn(move || pump(from, to, dir, &wire, &ended));
            }
        }
    });
    (port, wire)
}

/// Forwards `from` to `to` in direction `dir` until either side closes or the plan cuts;
/// `ended` is shared with the connection's other direction.
fn pump(mut from: TcpStream, mut to: TcpStream, dir: Dir, wire: &Wire, ended: &AtomicBool) {
    let generation = wire.generation.load(Ordering::SeqCst);
    let mut buf = [0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        // A connection of an earlier trial (a reply still draining after its run ended)
        // neither counts nor is cut.
        if wire.generation.load(Ordering::SeqCst) != generation {
            if to.write_all(&buf[..n]).is_err() {
                break;
            }
            continue;
        }
        let plan = *wire.plan.lock().unwrap();
        if !plan.latency.is_zero() {
            std::thread::sleep(plan.latency);
        }
        let before = wire.counter(dir).fetch_add(n as u64, Ordering::SeqCst);
        let mut send = n;
        let mut cut = false;
        let mut stall = false;
        if let Some((d, at)) = plan.cut
            && d == dir
            && before + n as u64 > at
            && !wire.fired.swap(true, Ordering::SeqCst)
        {
            send = usize::try_from(at.saturating_sub(before))
                .unwrap_or(0)
                .min(n);
            cut = true;
        }
        if let Some((d, at)) = plan.stall
            && d == dir
            && before + n as u64 > at
        {
            wire.fired.store(true, Ordering::SeqCst);
            send = usize::try_from(at.saturating_sub(before))
                .unwrap_or(0)
                .min(n);
            stall = true;
        }
        let chunk = &buf[..send];
        let written = if plan.one_byte_chunks {
            chunk
                .iter()
                .try_for_each(|b| to.write_all(std::slice::from_ref(b)))
        } else {
            to.write_all(chunk)
        };
        if written.is_err() {
            break;
        }
        if cut {
            let _ = to.shutdown(Shutdown::Both);
            let _ = from.shutdown(Shutdown::Both);
            return;
        }
        if stall {
            // Hold the connection open, reading and forwarding nothing more, until the next
            // trial begins or either side closes (the client gave up).
            let _ = from.set_read_timeout(Some(Duration::from_millis(50)));
            while wire.generation.load(Ordering::SeqCst) == generation
                && !ended.load(Ordering::SeqCst)
            {
                match from.peek(&mut [0u8; 1]) {
                    Ok(0) => break,
                    Ok(_) => std::thread::sleep(Duration::from_millis(50)),
                    Err(e)
                        if matches!(
                            e.kind(),
                            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                        ) => {}
                    Err(_) => break,
                }
            }
            break;
        }
    }
    ended.store(true, Ordering::SeqCst);
    let _ = to.shutdown(Shutdown::Both);
    let _ = from.shutdown(Shutdown::Both);
}
