//! POP3 client: RFC 1939 (USER/PASS, APOP, STAT, LIST, UIDL, TOP, RETR, DELE, NOOP, RSET, QUIT),
//! RFC 2449 (CAPA, PIPELINING), RFC 2595 (STLS) and RFC 5034 (AUTH PLAIN), over implicit TLS,
//! STLS or plain TCP. Written here rather than taken from crates.io: the crates there buffer
//! whole responses as strings (not byte-exact for 8-bit mail), have no size or time limits,
//! and do not pipeline.
//!
//! Multi-line responses are read byte-exact and dot-unstuffed as they stream (`reply::Unstuffer`),
//! so a large message is held once, by whoever receives it. Every read and write has the stall
//! limit (`protocol::limits`), every response a size limit and a deadline. A STLS the server
//! does not offer is an error, never a plaintext fallback; certificates are checked as for IMAP.
//! DELE takes effect only when QUIT succeeds (the UPDATE state): `quit` says whether it did.

pub mod reply;

use std::time::Instant;

use base64::Engine as _;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::account::Security;
use crate::account::credentials::Secret;
use crate::protocol::tls::{self, Stream};
use crate::protocol::{Endpoint, ErrorKind, ProtocolError, limits};
pub use reply::Status;

/// Longest status line or LIST/UIDL/CAPA entry accepted.
const MAX_LINE: usize = 64 * 1024;

/// Most entries in one LIST or UIDL (a mailbox of ten million messages).
const MAX_ENTRIES: usize = 10_000_000;

/// Largest message read when the caller gives no limit.
pub const MAX_MESSAGE: u64 = 512 * 1024 * 1024;

/// Largest answer to TOP (headers and a few lines) accepted.
pub const MAX_TOP: u64 = 16 * 1024 * 1024;

/// What a response must bring (unless it completes) within every stall period.
const PROGRESS_BYTES: usize = 64 * 1024;

/// How one response is coming along: it must be complete by `deadline`, and bring
/// `PROGRESS_BYTES` (or complete) within every stall period, so a server that trickles a byte
/// at a time is cut off as surely as one that stops.
struct Pace {
    deadline: Instant,
    since: Instant,
    got: usize,
}

impl Pace {
    fn new() -> Pace {
        let now = Instant::now();
        Pace {
            deadline: now + limits().command,
            since: now,
            got: 0,
        }
    }
}

/// One message to read in `fetch_many`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fetch {
    /// RETR: the whole message.
    Retr(u32),
    /// TOP: the headers and this many body lines.
    Top(u32, u32),
}

impl Fetch {
    fn number(&self) -> u32 {
        match self {
            Fetch::Retr(n) | Fetch::Top(n, _) => *n,
        }
    }

    fn command(&self) -> String {
        match self {
            Fetch::Retr(n) => format!("RETR {n}\r\n"),
            Fetch::Top(n, lines) => format!("TOP {n} {lines}\r\n"),
        }
    }
}

/// A connection to a POP3 server, before or after login.
#[derive(Debug)]
pub struct Pop3Client {
    stream: Stream,
    /// Bytes read but not yet consumed.
    buffer: Vec<u8>,
    endpoint: String,
    /// The greeting as sent (APOP's digest covers its timestamp byte for byte).
    greeting: Vec<u8>,
    capabilities: Vec<String>,
    /// Lines of LIST or UIDL answers that could not be read (their messages are left alone).
    pub unreadable_lines: usize,
    /// In `fetch_many`, the message whose answer is awaited, and whether its +OK has come:
    /// when an error ends the exchange, it names the message whose answer failed.
    pub answering: Option<(u32, bool)>,
    /// The last multi-line answer read whole (its message number, for RETR and TOP).
    last_body: Option<u32>,
    /// Set when a status line after `last_body` was not POP3: that message's answer may have
    /// ended early (a server that did not dot-stuff a line of a lone dot), its tail read as
    /// the next status line. What was stored of it may be cut short.
    pub framing_suspect: Option<u32>,
    /// Writes made (tests check that pipelined commands go out in one).
    pub writes: u32,
    /// Bytes received so far.
    pub bytes_received: u64,
    /// This connection's part of the protocol log.
    trace: crate::protocol::trace::Trace,
}

impl Pop3Client {
    /// Connects, reads the greeting, and for STLS upgrades the connection (an error when the
    /// server does not offer it). Does not log in.
    pub async fn connect(endpoint: &Endpoint) -> Result<Pop3Client, ProtocolError> {
        let stream = match endpoint.security {
            Security::Tls => {
                tls::connect_tls(&endpoint.host, endpoint.port, &endpoint.trust).await?
            }
            Security::Starttls | Security::Plain => {
                Stream::Plain(tls::connect_plain(&endpoint.host, endpoint.port).await?)
            }
        };
        let mut client = Pop3Client {
            stream,
            buffer: Vec::new(),
            endpoint: endpoint.to_string(),
            greeting: Vec::new(),
            capabilities: Vec::new(),
            unreadable_lines: 0,
            answering: None,
            last_body: None,
            framing_suspect: None,
            writes: 0,
            bytes_received: 0,
            trace: crate::protocol::trace::Trace::new(format!("pop3 {endpoint}")),
        };
        let raw = client.line(&mut Pace::new()).await?;
        let greeting = client.parse_status(&raw)?;
        if !greeting.ok {
            return Err(client.error(
                ErrorKind::Network,
                format!("refused the connection: {}", greeting.text),
            ));
        }
        client.greeting = reply::trim_eol(&raw).to_vec();
        client.capa().await?;
        if endpoint.security == Security::Starttls {
            client = client.starttls(endpoint).await?;
        }
        Ok(client)
    }

    fn error(&self, kind: ErrorKind, what: impl std::fmt::Display) -> ProtocolError {
        ProtocolError::new(kind, format!("POP3 server {}: {what}", self.endpoint))
    }

    /// The capabilities from CAPA, upper-cased (`UIDL`, `PIPELINING`, `SASL PLAIN`, …).
    pub fn capabilities(&self) -> &[String] {
        &self.capabilities
    }

    /// Whether CAPA listed `name` (its first word, e.g. `STLS`, `PIPELINING`).
    pub fn has_capability(&self, name: &str) -> bool {
        self.capabilities
            .iter()
            .any(|c| c.split_whitespace().next() == Some(name))
    }

    /// Whether CAPA's SASL line offers `mechanism`.
    fn offers_sasl(&self, mechanism: &str) -> bool {
        self.capabilities.iter().any(|c| {
            let mut words = c.split_whitespace();
            words.next() == Some("SASL") && words.any(|m| m == mechanism)
        })
    }

    /// Reads more bytes (at most 64 KiB) within the stall limit.
    async fn fill(&mut self) -> Result<usize, ProtocolError> {
        let mut chunk = vec![0u8; 64 * 1024];
        let stall = limits().stall;
        let n = tokio::time::timeout(stall, self.stream.read(&mut chunk))
            .await
            .map_err(|_| {
                self.error(
                    ErrorKind::Network,
                    format!(
                        "no data for {} s; the connection seems stalled",
                        stall.as_secs()
                    ),
                )
            })?
            .map_err(|e| self.error(ErrorKind::Network, format!("the connection failed: {e}")))?;
        if n == 0 {
            return Err(self.error(ErrorKind::Network, "the server closed the connection"));
        }
        self.bytes_received += n as u64;
        let got = chunk.get(..n).unwrap_or_default();
        self.trace.received(got);
        self.buffer.extend_from_slice(got);
        Ok(n)
    }

    /// One line (CRLF included), at most `MAX_LINE` bytes, at `pace`.
    async fn line(&mut self, pace: &mut Pace) -> Result<Vec<u8>, ProtocolError> {
        loop {
            if let Some(end) = self.buffer.iter().position(|b| *b == b'\n') {
                return Ok(self.buffer.drain(..=end).collect());
            }
            if self.buffer.len() > MAX_LINE {
                return Err(self.error(ErrorKind::Protocol, "sent a line longer than 64 KiB"));
            }
            self.fill_paced(pace).await?;
        }
    }

    /// `fill`, for a response that must keep `pace`.
    async fn fill_paced(&mut self, pace: &mut Pace) -> Result<(), ProtocolError> {
        let now = Instant::now();
        if now > pace.deadline {
            return Err(self.error(
                ErrorKind::Network,
                format!(
                    "did not finish its answer within {} minutes; the connection was closed",
                    limits().command.as_secs() / 60
                ),
            ));
        }
        // Checked before reading on: an answer that completes with the next read is never
        // refused for being slow.
        let stall = limits().stall;
        if now.saturating_duration_since(pace.since) > stall {
            return Err(self.error(
                ErrorKind::Network,
                format!(
                    "sent only {} bytes of an answer in {} s (the server is trickling data); try again later",
                    pace.got,
                    stall.as_secs()
                ),
            ));
        }
        pace.got = pace.got.saturating_add(self.fill().await?);
        if pace.got >= PROGRESS_BYTES {
            pace.since = Instant::now();
            pace.got = 0;
        }
        Ok(())
    }

    /// Reads a status line.
    async fn status_line(&mut self) -> Result<Status, ProtocolError> {
        let line = self.line(&mut Pace::new()).await?;
        self.parse_status(&line)
    }

    fn parse_status(&mut self, line: &[u8]) -> Result<Status, ProtocolError> {
        let status = reply::status(line);
        match status {
            None => self.framing_suspect = self.last_body,
            // Only the line right after a body can tell that the body ended early.
            Some(_) => self.last_body = None,
        }
        status.ok_or_else(|| {
            self.error(
                ErrorKind::Protocol,
                format!(
                    "sent something that is not a POP3 reply: {:?}",
                    reply::printable(line)
                ),
            )
        })
    }

    async fn write(&mut self, bytes: &[u8]) -> Result<(), ProtocolError> {
        self.writes += 1;
        self.trace.sent(bytes);
        crate::protocol::write_with_timeout(&mut self.stream, bytes, limits().stall)
            .await
            .map_err(|e| self.error(ErrorKind::Network, format!("cannot send: {e}")))
    }

    /// Sends one command line and reads its status.
    async fn command(&mut self, line: &str) -> Result<Status, ProtocolError> {
        self.write(format!("{line}\r\n").as_bytes()).await?;
        self.status_line().await
    }

    /// Like `command`; -ERR is a Refused error naming `what`.
    async fn command_ok(&mut self, what: &str, line: &str) -> Result<String, ProtocolError> {
        let status = self.command(line).await?;
        if status.ok {
            Ok(status.text)
        } else {
            Err(self.error(
                ErrorKind::Refused,
                format!("{what} failed: {}", status.text),
            ))
        }
    }

    /// The lines of a multi-line response (after its +OK), dot-unstuffed, without their line
    /// ends, each handed to `keep` as it arrives (so a ten-million-line UIDL is held once, as
    /// what `keep` makes of it); what `keep` turns down is skipped. At most `MAX_ENTRIES`.
    async fn entries<T>(
        &mut self,
        mut keep: impl FnMut(&[u8]) -> Option<T>,
    ) -> Result<Vec<T>, ProtocolError> {
        let mut pace = Pace::new();
        let mut kept = Vec::new();
        let mut seen = 0usize;
        loop {
            let line = self.line(&mut pace).await?;
            let line = reply::trim_eol(&line);
            if line == b"." {
                return Ok(kept);
            }
            seen += 1;
            if seen > MAX_ENTRIES {
                return Err(self.error(
                    ErrorKind::Protocol,
                    "sent a list of over ten million entries",
                ));
            }
            match keep(line.strip_prefix(b".").unwrap_or(line)) {
                Some(entry) => kept.push(entry),
                None => self.unreadable_lines = self.unreadable_lines.saturating_add(1),
            }
        }
    }

    /// CAPA (RFC 2449): the capabilities, or none when the server does not know CAPA.
    pub async fn capa(&mut self) -> Result<(), ProtocolError> {
        let status = self.command("CAPA").await?;
        self.capabilities = if status.ok {
            self.entries(|l| Some(String::from_utf8_lossy(l).trim().to_ascii_uppercase()))
                .await?
        } else {
            Vec::new()
        };
        Ok(())
    }

    async fn starttls(mut self, endpoint: &Endpoint) -> Result<Pop3Client, ProtocolError> {
        if !self.has_capability("STLS") {
            return Err(self.error(
                ErrorKind::Tls,
                "does not offer STLS, so Tern will not send the password; choose security tls (usually port 995), or plain only if you accept an unencrypted connection",
            ));
        }
        let status = self.command("STLS").await?;
        if !status.ok {
            return Err(self.error(ErrorKind::Tls, format!("refused STLS: {}", status.text)));
        }
        // Anything after the +OK would have been injected before encryption.
        if !self.buffer.is_empty() {
            return Err(self.error(
                ErrorKind::Tls,
                "sent data after STLS before the TLS handshake (possible injection)",
            ));
        }
        let Stream::Plain(tcp) = std::mem::replace(&mut self.stream, Stream::Closed) else {
            return Err(self.error(
                ErrorKind::Tls,
                "STLS on a connection that is already encrypted",
            ));
        };
        self.stream = tls::handshake(
            tcp,
            &endpoint.host,
            endpoint.port,
            &endpoint.trust,
            tls::Upgrade::Starttls(crate::protocol::probe::Service::Pop3),
        )
        .await?;
        // What was said before TLS counts for nothing (RFC 2595): ask again.
        self.capa().await?;
        Ok(self)
    }

    /// Logs in: AUTH PLAIN when offered, else APOP when the greeting has a timestamp, else
    /// USER/PASS (also when APOP is refused over TLS). A refusal with a temporary response
    /// code (`IN-USE`: another session holds the maildrop) is a Network error, retried later,
    /// not a wrong password. The password is never part of an error.
    pub async fn login(&mut self, user: &str, password: &Secret) -> Result<(), ProtocolError> {
        self.trace.forbid(user, password.expose());
        let rejected = |client: &Self, status: &Status| {
            if status.code.as_deref() == Some("SYS/PERM") {
                return ProtocolError::new(
                    ErrorKind::Refused,
                    format!(
                        "{} refused the login of {user} for a reason of its own: {}",
                        client.endpoint, status.text
                    ),
                );
            }
            if status.is_temporary() {
                // A locked maildrop (another client is checking it) is no wrong password.
                return ProtocolError::new(
                    ErrorKind::Network,
                    format!(
                        "cannot log in to {} as {user} just now: {}; Tern tries again later",
                        client.endpoint, status.text
                    ),
                );
            }
            ProtocolError::new(
                ErrorKind::Auth,
                format!(
                    "cannot log in to {} as {user}: the server rejected the user name or password ({}); check them in the account settings",
                    client.endpoint, status.text
                ),
            )
        };
        if self.offers_sasl("PLAIN") {
            let token = base64::engine::general_purpose::STANDARD
                .encode(format!("\0{user}\0{}", password.expose()));
            let status = self.command(&format!("AUTH PLAIN {token}")).await?;
            return if status.ok {
                Ok(())
            } else {
                Err(rejected(self, &status))
            };
        }
        if user.chars().any(|c| c.is_control() || c == ' ') {
            return Err(self.error(
                ErrorKind::Auth,
                "the user name cannot be sent (it holds a space or a control character)",
            ));
        }
        if let Some(stamp) = reply::apop_timestamp(&self.greeting) {
            let digest = reply::apop_digest(stamp, password.expose());
            let status = self.command(&format!("APOP {user} {digest}")).await?;
            if status.ok {
                return Ok(());
            }
            // Servers that announce APOP but keep no APOP secret for the user refuse it; over
            // TLS, USER/PASS is as safe, so it is tried. In the clear it is not.
            if status.is_temporary() || !matches!(self.stream, Stream::Tls(_)) {
                return Err(rejected(self, &status));
            }
        }
        if password.expose().chars().any(|c| c == '\r' || c == '\n') {
            return Err(self.error(
                ErrorKind::Auth,
                "the password cannot be sent with PASS (it holds a line break)",
            ));
        }
        let status = self.command(&format!("USER {user}")).await?;
        if !status.ok {
            return Err(rejected(self, &status));
        }
        let status = self.command(&format!("PASS {}", password.expose())).await?;
        if status.ok {
            Ok(())
        } else {
            Err(rejected(self, &status))
        }
    }

    /// STAT: (messages, octets).
    pub async fn stat(&mut self) -> Result<(u32, u64), ProtocolError> {
        let text = self.command_ok("STAT", "STAT").await?;
        let mut parts = text.split_ascii_whitespace();
        match (
            parts.next().and_then(|n| n.parse().ok()),
            parts.next().and_then(|n| n.parse().ok()),
        ) {
            (Some(count), Some(size)) => Ok((count, size)),
            _ => Err(self.error(ErrorKind::Protocol, format!("answered STAT with {text:?}"))),
        }
    }

    /// LIST: every message's number and size. Lines that cannot be read are skipped.
    pub async fn list(&mut self) -> Result<Vec<(u32, u64)>, ProtocolError> {
        self.command_ok("LIST", "LIST").await?;
        self.entries(reply::list_entry).await
    }

    /// UIDL: every message's number and unique id. Lines that cannot be read, or ids that
    /// break RFC 1939's rule, are skipped (their messages are left alone).
    pub async fn uidl(&mut self) -> Result<Vec<(u32, String)>, ProtocolError> {
        self.command_ok("UIDL", "UIDL").await?;
        self.entries(reply::uidl_entry).await
    }

    /// Reads a multi-line message body (after its +OK) into `out`, at most `max` bytes.
    async fn body(&mut self, max: u64, out: &mut Vec<u8>) -> Result<(), ProtocolError> {
        self.body_sized(max, None, out).await
    }

    /// `body`, with room made at once for `expected` bytes (LIST's size), so a large message
    /// is not copied as its buffer grows.
    async fn body_sized(
        &mut self,
        max: u64,
        expected: Option<u64>,
        out: &mut Vec<u8>,
    ) -> Result<(), ProtocolError> {
        if let Some(expected) = expected {
            // A server's claim is not trusted beyond 128 MiB up front; past that, the buffer
            // grows as bytes actually arrive.
            let room = expected.min(max).min(128 * 1024 * 1024);
            out.reserve(usize::try_from(room).unwrap_or(0).saturating_add(2));
        }
        let mut pace = Pace::new();
        let mut unstuffer = reply::Unstuffer::new();
        loop {
            let used = unstuffer.feed(&self.buffer, out);
            self.buffer.drain(..used);
            if unstuffer.is_done() {
                return Ok(());
            }
            if out.len() as u64 > max {
                return Err(self.error(
                    ErrorKind::Protocol,
                    format!("sent a message larger than the limit of {max} bytes"),
                ));
            }
            self.fill_paced(&mut pace).await?;
        }
    }

    /// RETR: message `number`, byte-exact (dot-unstuffed), at most `max` bytes.
    pub async fn retr(&mut self, number: u32, max: u64) -> Result<Vec<u8>, ProtocolError> {
        self.command_ok(&format!("RETR {number}"), &format!("RETR {number}"))
            .await?;
        let mut out = Vec::new();
        self.body(max, &mut out).await?;
        self.last_body = Some(number);
        Ok(out)
    }

    /// TOP: the headers of message `number` and its first `lines` body lines.
    pub async fn top(
        &mut self,
        number: u32,
        lines: u32,
        max: u64,
    ) -> Result<Vec<u8>, ProtocolError> {
        self.command_ok(&format!("TOP {number}"), &format!("TOP {number} {lines}"))
            .await?;
        let mut out = Vec::new();
        self.body(max, &mut out).await?;
        self.last_body = Some(number);
        Ok(out)
    }

    /// RETR of several messages (see `fetch_many`).
    pub async fn retr_many<E: From<ProtocolError>>(
        &mut self,
        numbers: &[u32],
        max: u64,
        on_message: impl FnMut(u32, Result<Vec<u8>, String>) -> Result<(), E>,
    ) -> Result<(), E> {
        let requests: Vec<Fetch> = numbers.iter().map(|n| Fetch::Retr(*n)).collect();
        self.fetch_many(&requests, max, &|_| None, on_message).await
    }

    /// RETR or TOP of several messages. With PIPELINING the commands go out in one write per
    /// batch of 50 and the answers are read as they stream in; each message is handed to
    /// `on_message` as soon as it is complete (an error it returns ends the exchange). A -ERR
    /// for one message (deleted meanwhile) is passed on as `Err` text, and the others go on.
    /// `expected(number)` is the size LIST gave, if known (room is made for it at once).
    pub async fn fetch_many<E: From<ProtocolError>>(
        &mut self,
        requests: &[Fetch],
        max: u64,
        expected: &(dyn Fn(u32) -> Option<u64> + Sync),
        mut on_message: impl FnMut(u32, Result<Vec<u8>, String>) -> Result<(), E>,
    ) -> Result<(), E> {
        self.answering = None;
        // Batches keep the unanswered commands few enough for any server's input buffer.
        let batch = if self.has_capability("PIPELINING") {
            50
        } else {
            1
        };
        for chunk in requests.chunks(batch) {
            self.answering = None;
            let commands: String = chunk.iter().map(Fetch::command).collect();
            self.write(commands.as_bytes()).await?;
            for request in chunk {
                self.answering = Some((request.number(), false));
                let status = self.status_line().await?;
                if !status.ok {
                    on_message(request.number(), Err(status.text))?;
                    continue;
                }
                let mut out = Vec::new();
                let (hint, limit) = match request {
                    Fetch::Retr(n) => (expected(*n), max),
                    Fetch::Top(..) => (None, max.min(MAX_TOP)),
                };
                self.answering = Some((request.number(), true));
                self.body_sized(limit, hint, &mut out).await?;
                self.answering = None;
                self.last_body = Some(request.number());
                on_message(request.number(), Ok(out))?;
            }
        }
        Ok(())
    }

    /// DELE of several messages, pipelined like `fetch_many` (batches of 500: the answers are
    /// one line each). Returns, for each number, whether the server accepted it (an -ERR is a
    /// message that is already gone). Nothing is deleted until QUIT succeeds.
    pub async fn dele_many(&mut self, numbers: &[u32]) -> Result<Vec<(u32, bool)>, ProtocolError> {
        let batch = if self.has_capability("PIPELINING") {
            500
        } else {
            1
        };
        let mut answers = Vec::with_capacity(numbers.len());
        for chunk in numbers.chunks(batch) {
            let commands: String = chunk.iter().map(|n| format!("DELE {n}\r\n")).collect();
            self.write(commands.as_bytes()).await?;
            for number in chunk {
                answers.push((*number, self.status_line().await?.ok));
            }
        }
        Ok(answers)
    }

    /// UIDL and LIST together (one write when the server pipelines): every message's number,
    /// unique id and size, in the server's order. Messages LIST leaves out have no size.
    pub async fn listing(&mut self) -> Result<Vec<(u32, String, Option<u64>)>, ProtocolError> {
        let pipelined = self.has_capability("PIPELINING");
        if pipelined {
            self.write(b"UIDL\r\nLIST\r\n").await?;
        } else {
            self.write(b"UIDL\r\n").await?;
        }
        let status = self.status_line().await?;
        let uidl = if status.ok {
            Ok(self.entries(reply::uidl_entry).await?)
        } else {
            Err(status.text)
        };
        if !pipelined {
            self.write(b"LIST\r\n").await?;
        }
        let status = self.status_line().await?;
        if !status.ok {
            return Err(self.error(ErrorKind::Refused, format!("LIST failed: {}", status.text)));
        }
        let list = self.entries(reply::list_entry).await?;
        let uidl = uidl.map_err(|text| {
            self.error(
                ErrorKind::Protocol,
                format!(
                    "does not support UIDL ({text}); Tern needs it to tell new mail from mail it already has"
                ),
            )
        })?;
        let sizes: std::collections::HashMap<u32, u64> = list.into_iter().collect();
        Ok(uidl
            .into_iter()
            .map(|(number, id)| {
                let size = sizes.get(&number).copied();
                (number, id, size)
            })
            .collect())
    }

    /// DELE: marks message `number` for deletion (done only when QUIT succeeds).
    pub async fn dele(&mut self, number: u32) -> Result<(), ProtocolError> {
        self.command_ok(&format!("DELE {number}"), &format!("DELE {number}"))
            .await
            .map(|_| ())
    }

    pub async fn noop(&mut self) -> Result<(), ProtocolError> {
        self.command_ok("NOOP", "NOOP").await.map(|_| ())
    }

    /// RSET: unmarks every message marked for deletion.
    pub async fn rset(&mut self) -> Result<(), ProtocolError> {
        self.command_ok("RSET", "RSET").await.map(|_| ())
    }

    /// QUIT: ends the session; the server removes the messages marked for deletion. Ok only
    /// when the server confirmed it (then, and only then, they are gone).
    pub async fn quit(mut self) -> Result<(), ProtocolError> {
        self.finish().await
    }

    /// `quit` for a client that is still looked at afterwards (`framing_suspect`); it can
    /// send nothing more.
    pub async fn finish(&mut self) -> Result<(), ProtocolError> {
        let result = self.command_ok("QUIT", "QUIT").await.map(|_| ());
        let _ = self.stream.shutdown().await;
        self.stream = Stream::Closed;
        result
    }
}
