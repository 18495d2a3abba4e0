//! Small blocking line clients for IMAP, POP3, SMTP and LMTP, to talk to the test servers the way
//! a test wants to: byte for byte, independent of Tern's own protocol code.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::Duration;

use base64::Engine as _;
use tokio_native_tls::native_tls::{Certificate, TlsConnector, TlsStream};

/// A plain or TLS stream.
pub enum Stream {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Stream::Plain(s) => s.read(buf),
            Stream::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Stream::Plain(s) => s.write(buf),
            Stream::Tls(s) => s.write(buf),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Stream::Plain(s) => s.flush(),
            Stream::Tls(s) => s.flush(),
        }
    }
}

fn tls_connector(ca_file: &Path) -> TlsConnector {
    let pem = std::fs::read(ca_file).unwrap();
    TlsConnector::builder()
        .add_root_certificate(Certificate::from_pem(&pem).unwrap())
        .build()
        .unwrap()
}

fn tcp(port: u16) -> TcpStream {
    let stream = TcpStream::connect(("127.0.0.1", port))
        .unwrap_or_else(|e| panic!("connect to 127.0.0.1:{port}: {e}"));
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    stream.set_nodelay(true).unwrap();
    stream
}

/// A line-oriented client.
pub struct LineClient {
    reader: BufReader<Stream>,
    pub transcript: Vec<String>,
}

impl LineClient {
    pub fn plain(port: u16) -> LineClient {
        LineClient {
            reader: BufReader::new(Stream::Plain(tcp(port))),
            transcript: Vec::new(),
        }
    }

    /// Implicit TLS, verifying the server's certificate against `ca_file` for host "localhost".
    pub fn tls(port: u16, ca_file: &Path) -> LineClient {
        let stream = tls_connector(ca_file)
            .connect("localhost", tcp(port))
            .unwrap();
        LineClient {
            reader: BufReader::new(Stream::Tls(Box::new(stream))),
            transcript: Vec::new(),
        }
    }

    /// Upgrades a plain connection after the server agreed to STARTTLS/STLS.
    pub fn upgrade(self, ca_file: &Path) -> LineClient {
        let Stream::Plain(tcp) = self.reader.into_inner() else {
            panic!("already TLS")
        };
        let stream = tls_connector(ca_file).connect("localhost", tcp).unwrap();
        LineClient {
            reader: BufReader::new(Stream::Tls(Box::new(stream))),
            transcript: self.transcript,
        }
    }

    pub fn send(&mut self, line: &str) {
        self.transcript.push(format!("C: {line}"));
        let stream = self.reader.get_mut();
        stream.write_all(line.as_bytes()).unwrap();
        stream.write_all(b"\r\n").unwrap();
        stream.flush().unwrap();
    }

    pub fn send_raw(&mut self, bytes: &[u8]) {
        let stream = self.reader.get_mut();
        stream.write_all(bytes).unwrap();
        stream.flush().unwrap();
    }

    /// One line without its CRLF (lossy UTF-8).
    pub fn line(&mut self) -> String {
        let mut buf = Vec::new();
        let n = self.reader.read_until(b'\n', &mut buf).unwrap();
        assert!(
            n > 0,
            "connection closed; transcript:\n{}",
            self.transcript.join("\n")
        );
        let line = String::from_utf8_lossy(&buf)
            .trim_end_matches(['\r', '\n'])
            .to_owned();
        self.transcript.push(format!("S: {line}"));
        line
    }

    pub fn exact(&mut self, n: usize) -> Vec<u8> {
        let mut buf = vec![0; n];
        self.reader.read_exact(&mut buf).unwrap();
        buf
    }

    // --- SMTP / LMTP ---

    /// Reads a (multi-line) SMTP reply; returns the code and all text lines.
    pub fn smtp_reply(&mut self) -> (u16, Vec<String>) {
        let mut lines = Vec::new();
        loop {
            let line = self.line();
            let code = line.get(..3).and_then(|c| c.parse().ok()).unwrap_or(0);
            let more = line.as_bytes().get(3) == Some(&b'-');
            lines.push(line);
            if !more {
                return (code, lines);
            }
        }
    }

    pub fn smtp(&mut self, command: &str) -> (u16, Vec<String>) {
        self.send(command);
        self.smtp_reply()
    }

    /// AUTH PLAIN with `user` and `password`; returns the reply code.
    pub fn smtp_auth_plain(&mut self, user: &str, password: &str) -> u16 {
        let token =
            base64::engine::general_purpose::STANDARD.encode(format!("\0{user}\0{password}"));
        self.smtp(&format!("AUTH PLAIN {token}")).0
    }

    /// Sends DATA, the dot-stuffed message and the final dot; returns the final reply.
    pub fn smtp_data(&mut self, message: &str) -> (u16, Vec<String>) {
        let (code, _) = self.smtp("DATA");
        assert_eq!(code, 354, "DATA refused: {}", self.transcript.join("\n"));
        for line in message.split("\r\n") {
            let stuffed = if line.starts_with('.') {
                format!(".{line}")
            } else {
                line.to_owned()
            };
            self.send_raw(format!("{stuffed}\r\n").as_bytes());
        }
        self.send(".");
        self.smtp_reply()
    }

    // --- IMAP ---

    /// Sends `tag command` and collects lines up to the tagged reply (literals are read whole and
    /// appended to their line). Returns (untagged lines, tagged line).
    pub fn imap(&mut self, tag: &str, command: &str) -> (Vec<String>, String) {
        self.send(&format!("{tag} {command}"));
        let mut untagged = Vec::new();
        loop {
            let mut line = self.line();
            // A line ending in {N} is followed by N bytes of literal.
            while let Some(n) = literal_len(&line) {
                let bytes = self.exact(n);
                line.push_str(&String::from_utf8_lossy(&bytes));
                line.push_str(&self.line());
            }
            if line.starts_with(&format!("{tag} ")) {
                return (untagged, line);
            }
            untagged.push(line);
        }
    }

    /// Like `imap`, asserting the reply is OK.
    pub fn imap_ok(&mut self, tag: &str, command: &str) -> Vec<String> {
        let (lines, done) = self.imap(tag, command);
        assert!(
            done.starts_with(&format!("{tag} OK")),
            "{command} failed: {done}\n{}",
            self.transcript.join("\n")
        );
        lines
    }

    // --- POP3 ---

    pub fn pop(&mut self, command: &str) -> String {
        self.send(command);
        self.line()
    }

    /// Reads a multi-line POP3 response body up to the lone ".", undoing dot-stuffing.
    pub fn pop_multiline(&mut self) -> Vec<String> {
        let mut lines = Vec::new();
        loop {
            let line = self.line();
            if line == "." {
                return lines;
            }
            lines.push(line.strip_prefix('.').map(str::to_owned).unwrap_or(line));
        }
    }
}

fn literal_len(line: &str) -> Option<usize> {
    let rest = line.strip_suffix('}')?;
    let open = rest.rfind('{')?;
    rest.get(open + 1..)?.trim_end_matches('+').parse().ok()
}
