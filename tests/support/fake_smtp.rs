//! A scripted SMTP submission server for faults Postfix will not produce on demand: a connection
//! dropped after the final dot, or no reply at all. It logs what it reads, chunk by chunk, so
//! tests can also check that the client pipelines.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

/// What the server does once a message's final dot has arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterDot {
    /// 250, as a server that took the message.
    Accept,
    /// Close the connection without a reply.
    Drop,
    /// Never answer (the client must give up or be killed).
    Stall,
    /// At DATA, answer 354 and then stop reading: the client's writes block once the socket
    /// buffers are full (the server holds the connection open for a minute).
    StopReadingAtData,
    /// Take this many seconds before the 250 (a slow server, a slow link).
    Delay(u64),
}

/// What the server saw.
#[derive(Debug, Default)]
pub struct Log {
    /// Messages whose final dot arrived.
    pub messages: Vec<Vec<u8>>,
    /// Every chunk read from the client, as text.
    pub chunks: Vec<String>,
}

/// Starts the server on a free loopback port. `script` gives the behaviour for the first,
/// second, ... message; after the script runs out it accepts.
pub fn start(script: Vec<AfterDot>) -> (u16, Arc<Mutex<Log>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let log = Arc::new(Mutex::new(Log::default()));
    let shared = log.clone();
    let script = Arc::new(Mutex::new(script.into_iter()));
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            let log = shared.clone();
            let script = script.clone();
            std::thread::spawn(move || serve(stream, &log, &script));
        }
    });
    (port, log)
}

fn serve(stream: TcpStream, log: &Mutex<Log>, script: &Mutex<std::vec::IntoIter<AfterDot>>) {
    let mut out = stream.try_clone().unwrap();
    let mut reader = BufReader::new(stream);
    let say = |out: &mut TcpStream, text: &str| out.write_all(text.as_bytes()).is_ok();
    if !say(&mut out, "220 fake.example.test ESMTP\r\n") {
        return;
    }
    loop {
        // Log what one read returns (a pipelined batch arrives together).
        let available = match reader.fill_buf() {
            Ok([]) | Err(_) => return,
            Ok(bytes) => String::from_utf8_lossy(bytes).into_owned(),
        };
        log.lock().unwrap().chunks.push(available);
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let upper = line.to_ascii_uppercase();
        let reply = if upper.starts_with("EHLO") {
            "250-fake.example.test\r\n250-PIPELINING\r\n250-SIZE 100000000\r\n250-8BITMIME\r\n250 AUTH PLAIN LOGIN\r\n"
        } else if upper.starts_with("AUTH") {
            "235 2.7.0 Authentication successful\r\n"
        } else if upper.starts_with("MAIL")
            || upper.starts_with("RCPT")
            || upper.starts_with("RSET")
        {
            "250 2.1.0 Ok\r\n"
        } else if upper.starts_with("QUIT") {
            let _ = say(&mut out, "221 2.0.0 Bye\r\n");
            return;
        } else if upper.starts_with("DATA") {
            if !say(&mut out, "354 End data with <CR><LF>.<CR><LF>\r\n") {
                return;
            }
            let stop = {
                let mut script = script.lock().unwrap();
                let peek = script.as_slice().first().copied();
                if peek == Some(AfterDot::StopReadingAtData) {
                    script.next();
                    true
                } else {
                    false
                }
            };
            if stop {
                std::thread::sleep(std::time::Duration::from_secs(60));
                return;
            }
            let mut message = Vec::new();
            loop {
                let mut data_line = Vec::new();
                if reader.read_until(b'\n', &mut data_line).unwrap_or(0) == 0 {
                    return;
                }
                if data_line == b".\r\n" {
                    break;
                }
                message.extend_from_slice(&data_line);
            }
            log.lock().unwrap().messages.push(message);
            let next = script.lock().unwrap().next().unwrap_or(AfterDot::Accept);
            match next {
                AfterDot::Delay(seconds) => {
                    std::thread::sleep(std::time::Duration::from_secs(seconds));
                    "250 2.0.0 Ok: queued as FAKE\r\n"
                }
                AfterDot::Accept | AfterDot::StopReadingAtData => {
                    "250 2.0.0 Ok: queued as FAKE\r\n"
                }
                AfterDot::Drop => return,
                AfterDot::Stall => {
                    let mut sink = [0u8; 1024];
                    while reader
                        .get_mut()
                        .read(&mut sink)
                        .map(|n| n > 0)
                        .unwrap_or(false)
                    {}
                    return;
                }
            }
        } else {
            "502 5.5.2 Error: command not recognized\r\n"
        };
        if !say(&mut out, reply) {
            return;
        }
    }
}
