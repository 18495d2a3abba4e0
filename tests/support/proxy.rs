//! Loopback TCP proxies between Tern and the test servers: to cut connections where a real
//! network would, to count them, and to inject faults no real server produces on demand.

use std::io::{BufRead, Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// Listens on a free loopback port; each client gets a fresh connection to `target`, and
/// `serve(client, server)` runs on a thread of its own. Returns the port.
fn proxy(target: u16, serve: impl Fn(TcpStream, TcpStream) + Send + Sync + 'static) -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let serve = Arc::new(serve);
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(client) = client else { return };
            let server = TcpStream::connect(("127.0.0.1", target)).unwrap();
            let serve = serve.clone();
            std::thread::spawn(move || serve(client, server));
        }
    });
    port
}

/// Copies client to server on a thread of its own (closing the server side at the end).
fn forward_client(client: &TcpStream, server: &TcpStream) {
    let (mut c_read, mut s_write) = (client.try_clone().unwrap(), server.try_clone().unwrap());
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut c_read, &mut s_write);
        let _ = s_write.shutdown(std::net::Shutdown::Both);
    });
}

/// A loopback TCP proxy to `target` that cuts each connection once the server has sent `budget`
/// more bytes (shared and decremented across connections; raise it to stop cutting).
pub fn cutting_proxy(target: u16, budget: Arc<AtomicI64>) -> u16 {
    proxy(target, move |client, server| {
        forward_client(&client, &server);
        let (mut s_read, mut c_write) = (server, client);
        let mut buf = [0u8; 16 * 1024];
        loop {
            let n = match s_read.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            if budget.fetch_sub(n as i64, Ordering::SeqCst) < n as i64 {
                // Cut: both directions, mid-response.
                let _ = c_write.shutdown(std::net::Shutdown::Both);
                let _ = s_read.shutdown(std::net::Shutdown::Both);
                break;
            }
            if c_write.write_all(&buf[..n]).is_err() {
                break;
            }
        }
    })
}

/// A loopback proxy to a plain IMAP port that rewrites the server's lines with `rewrite` (a
/// fault no real server produces on demand: malformed FETCH responses).
pub fn rewriting_proxy(target: u16, rewrite: fn(&str) -> String) -> u16 {
    rewriting_proxy_heard(target, rewrite).0
}

/// `rewriting_proxy`, also keeping every byte the clients sent (to check what reached the
/// wire).
pub fn rewriting_proxy_heard(
    target: u16,
    rewrite: fn(&str) -> String,
) -> (u16, Arc<Mutex<Vec<u8>>>) {
    let heard: Arc<Mutex<Vec<u8>>> = Arc::default();
    let log = heard.clone();
    let port = proxy(target, move |client, server| {
        let (mut c_read, mut s_write) = (client.try_clone().unwrap(), server.try_clone().unwrap());
        let log = log.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            loop {
                let n = match c_read.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => n,
                };
                log.lock().unwrap().extend_from_slice(&buf[..n]);
                if s_write.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
            let _ = s_write.shutdown(std::net::Shutdown::Both);
        });
        let mut s_read = std::io::BufReader::new(server);
        let mut c_write = client;
        let mut line = Vec::new();
        loop {
            line.clear();
            match s_read.read_until(b'\n', &mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
            let out = match std::str::from_utf8(&line) {
                Ok(text) => rewrite(text).into_bytes(),
                Err(_) => line.clone(),
            };
            if c_write.write_all(&out).is_err() {
                break;
            }
        }
    });
    (port, heard)
}

/// A fault that `fault_proxy` injects into a real server's IMAP session once the client has
/// sent a SELECT.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Pass everything through.
    None,
    /// From then on, forward the server's bytes one at a time, slowly.
    Trickle,
    /// Answer with `* OK` lines for ever instead of the server's reply.
    EndlessOk,
    /// Put a `VANISHED (EARLIER)` line of this many `1:*` ranges before the server's reply.
    HugeVanished(usize),
    /// Add UID 4294967295 to every `* SEARCH` answer.
    MaxUidInSearch,
    /// Answer every command that names PREVIEW with BAD, as a server that advertises the
    /// extension but does not implement it would.
    RefusePreview,
    /// Answer NO to every `UID FETCH … BODY.PEEK[]` whose UID set holds this UID, as a server
    /// with one message it cannot read does; 0: to every one (a server over a bandwidth limit).
    RefuseBodyOf(u32),
}

/// Whether the IMAP sequence set `set` (`1:5,7,9:*`) holds `uid`.
fn set_holds(set: &str, uid: u32) -> bool {
    set.split(',').any(|part| {
        let mut ends = part.split(':').map(|n| {
            if n == "*" {
                Some(u32::MAX)
            } else {
                n.parse::<u32>().ok()
            }
        });
        match (ends.next().flatten(), ends.next()) {
            (Some(a), None) => a == uid,
            (Some(a), Some(Some(b))) => a.min(b) <= uid && uid <= a.max(b),
            _ => false,
        }
    })
}

/// A loopback proxy to a plain IMAP port (no COMPRESS, so it sees the protocol) that injects
/// the fault set in `fault` when a connection opens.
pub fn fault_proxy(target: u16, fault: Arc<Mutex<Fault>>) -> u16 {
    proxy(target, move |client, server| {
        let fault = *fault.lock().unwrap();
        let to_client = Arc::new(Mutex::new(client.try_clone().unwrap()));
        let selected = Arc::new(AtomicBool::new(false));
        // Client to server: watch for the SELECT.
        {
            let mut s_write = server.try_clone().unwrap();
            let (to_client, selected) = (to_client.clone(), selected.clone());
            std::thread::spawn(move || {
                let mut c_read = std::io::BufReader::new(client);
                let mut line = Vec::new();
                loop {
                    line.clear();
                    match c_read.read_until(b'\n', &mut line) {
                        Ok(0) | Err(_) => break,
                        Ok(_) => {}
                    }
                    let text = String::from_utf8_lossy(&line).to_ascii_uppercase();
                    let select = text.split_whitespace().nth(1) == Some("SELECT");
                    if select && !selected.swap(true, Ordering::SeqCst) {
                        match fault {
                            Fault::EndlessOk => {
                                let mut c = to_client.lock().unwrap();
                                while c.write_all(b"* OK still thinking\r\n").is_ok() {}
                                break;
                            }
                            Fault::HugeVanished(n) => {
                                let mut set = "1:*,".repeat(n);
                                set.pop();
                                let injected = format!("* VANISHED (EARLIER) {set}\r\n");
                                let _ = to_client.lock().unwrap().write_all(injected.as_bytes());
                            }
                            _ => {}
                        }
                    }
                    if fault == Fault::RefusePreview && text.contains(" PREVIEW") {
                        let tag = text.split_whitespace().next().unwrap_or("*").to_owned();
                        let refusal =
                            format!("{tag} BAD Error in IMAP command: Unknown PREVIEW\r\n");
                        let _ = to_client.lock().unwrap().write_all(refusal.as_bytes());
                        continue;
                    }
                    if let Fault::RefuseBodyOf(uid) = fault
                        && text.contains("BODY.PEEK[]")
                    {
                        let mut words = text.split_whitespace();
                        let tag = words.next().unwrap_or("*").to_owned();
                        // tag UID FETCH set items
                        if words
                            .nth(2)
                            .is_some_and(|set| uid == 0 || set_holds(set, uid))
                        {
                            let refusal = format!(
                                "{tag} NO Some messages could not be FETCHed (Failure)\r\n"
                            );
                            let _ = to_client.lock().unwrap().write_all(refusal.as_bytes());
                            continue;
                        }
                    }
                    if s_write.write_all(&line).is_err() {
                        break;
                    }
                }
            });
        }
        // Server to client, line by line (literals pass through as lines of bytes).
        let mut s_read = std::io::BufReader::new(server);
        let mut line = Vec::new();
        loop {
            line.clear();
            match s_read.read_until(b'\n', &mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
            let trickling = fault == Fault::Trickle && selected.load(Ordering::SeqCst);
            if fault == Fault::MaxUidInSearch && line.starts_with(b"* SEARCH") {
                let text = String::from_utf8_lossy(&line);
                line = format!("{} 4294967295\r\n", text.trim_end()).into_bytes();
            }
            let mut c = to_client.lock().unwrap();
            if trickling {
                for byte in &line {
                    std::thread::sleep(std::time::Duration::from_millis(300));
                    if c.write_all(&[*byte]).is_err() {
                        return;
                    }
                }
            } else if c.write_all(&line).is_err() {
                return;
            }
        }
    })
}

/// What `counting_proxy` saw: connections open now, the most open at once, and all so far.
#[derive(Debug, Default)]
pub struct Counts {
    pub open: AtomicUsize,
    pub most: AtomicUsize,
    pub total: AtomicUsize,
}

impl Counts {
    /// Starts counting afresh (the most at once from what is open now).
    pub fn reset(&self) {
        self.most
            .store(self.open.load(Ordering::SeqCst), Ordering::SeqCst);
        self.total.store(0, Ordering::SeqCst);
    }
}

/// A loopback TCP proxy to `target` that passes everything through (TLS included) and counts
/// connections: how many are open at once, and how many were made.
pub fn counting_proxy(target: u16) -> (u16, Arc<Counts>) {
    let counts = Arc::new(Counts::default());
    let shared = counts.clone();
    let port = proxy(target, move |client, server| {
        let open = shared.open.fetch_add(1, Ordering::SeqCst) + 1;
        shared.most.fetch_max(open, Ordering::SeqCst);
        shared.total.fetch_add(1, Ordering::SeqCst);
        forward_client(&client, &server);
        let (mut s_read, mut c_write) = (server, client);
        let _ = std::io::copy(&mut s_read, &mut c_write);
        let _ = c_write.shutdown(std::net::Shutdown::Both);
        shared.open.fetch_sub(1, Ordering::SeqCst);
    });
    (port, counts)
}
