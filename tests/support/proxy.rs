//! Loopback TCP proxies between Tern and the test servers, to cut connections where a real
//! network would.

/// A loopback TCP proxy to `target` that cuts each connection once the server has sent `budget`
/// more bytes (shared and decremented across connections; raise it to stop cutting).
pub fn cutting_proxy(target: u16, budget: std::sync::Arc<std::sync::atomic::AtomicI64>) -> u16 {
    use std::io::{Read, Write};
    use std::sync::atomic::Ordering;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(client) = client else { return };
            let server = std::net::TcpStream::connect(("127.0.0.1", target)).unwrap();
            let (mut c_read, mut s_write) =
                (client.try_clone().unwrap(), server.try_clone().unwrap());
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut c_read, &mut s_write);
            });
            let budget = budget.clone();
            std::thread::spawn(move || {
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
            });
        }
    });
    port
}

/// A fault that `fault_proxy` injects into a real server's IMAP session once the client has
/// sent a SELECT (faults no real server produces on demand).
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
}

/// A loopback proxy to a plain IMAP port (no COMPRESS, so it sees the protocol) that injects
/// the fault currently set in `fault`.
pub fn fault_proxy(target: u16, fault: std::sync::Arc<std::sync::Mutex<Fault>>) -> u16 {
    use std::io::{BufRead, Write};
    use std::sync::{Arc, Mutex};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(client) = client else { return };
            let server = std::net::TcpStream::connect(("127.0.0.1", target)).unwrap();
            let fault = *fault.lock().unwrap();
            let to_client = Arc::new(Mutex::new(client.try_clone().unwrap()));
            let selected = Arc::new(std::sync::atomic::AtomicBool::new(false));
            // Client to server: watch for the SELECT.
            {
                let (client, mut s_write) = (client, server.try_clone().unwrap());
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
                        if select && !selected.swap(true, std::sync::atomic::Ordering::SeqCst) {
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
                                    let _ =
                                        to_client.lock().unwrap().write_all(injected.as_bytes());
                                }
                                _ => {}
                            }
                        }
                        if s_write.write_all(&line).is_err() {
                            break;
                        }
                    }
                });
            }
            // Server to client, line by line (literals pass through as lines of bytes).
            std::thread::spawn(move || {
                let mut s_read = std::io::BufReader::new(server);
                let mut line = Vec::new();
                loop {
                    line.clear();
                    match s_read.read_until(b'\n', &mut line) {
                        Ok(0) | Err(_) => break,
                        Ok(_) => {}
                    }
                    let trickling = fault == Fault::Trickle
                        && selected.load(std::sync::atomic::Ordering::SeqCst);
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
            });
        }
    });
    port
}

/// What `counting_proxy` saw: connections open now, the most open at once, and all so far.
#[derive(Debug, Default)]
pub struct Counts {
    pub open: std::sync::atomic::AtomicUsize,
    pub most: std::sync::atomic::AtomicUsize,
    pub total: std::sync::atomic::AtomicUsize,
}

impl Counts {
    /// Starts counting afresh (the most at once from what is open now).
    pub fn reset(&self) {
        use std::sync::atomic::Ordering;
        self.most
            .store(self.open.load(Ordering::SeqCst), Ordering::SeqCst);
        self.total.store(0, Ordering::SeqCst);
    }
}

/// A loopback TCP proxy to `target` that passes everything through (TLS included) and counts
/// connections: how many are open at once, and how many were made.
pub fn counting_proxy(target: u16) -> (u16, std::sync::Arc<Counts>) {
    use std::sync::Arc;
    use std::sync::atomic::Ordering;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let counts = Arc::new(Counts::default());
    let shared = counts.clone();
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(client) = client else { return };
            let server = std::net::TcpStream::connect(("127.0.0.1", target)).unwrap();
            let open = shared.open.fetch_add(1, Ordering::SeqCst) + 1;
            shared.most.fetch_max(open, Ordering::SeqCst);
            shared.total.fetch_add(1, Ordering::SeqCst);
            let (mut c_read, mut s_write) =
                (client.try_clone().unwrap(), server.try_clone().unwrap());
            let (mut s_read, mut c_write) = (server, client);
            let counts = shared.clone();
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut c_read, &mut s_write);
                let _ = s_write.shutdown(std::net::Shutdown::Both);
            });
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut s_read, &mut c_write);
                let _ = c_write.shutdown(std::net::Shutdown::Both);
                counts.open.fetch_sub(1, Ordering::SeqCst);
            });
        }
    });
    (port, counts)
}
