//! SMTP submission client (RFC 5321, RFC 6409, RFC 8314): implicit TLS or STARTTLS (never a
//! silent fall back to plaintext), EHLO, AUTH PLAIN or LOGIN, SIZE, 8BITMIME, SMTPUTF8, and
//! PIPELINING (RFC 2920): MAIL FROM, every RCPT TO and DATA go out in one write.
//!
//! Why not lettre: `benches/smtp.rs` measures both against the test Postfix. lettre writes each
//! command on its own and waits for its reply, and leaves Nagle's algorithm on, so every message
//! pays several round trips plus delayed-ACK stalls; it also never sends SIZE, so an over-size
//! message is refused only after its upload. The figures are in the bench's header.
//!
//! Outcomes are classified for the outbox (`SendError`): nothing delivered and worth retrying,
//! nothing delivered and refused for good, or unknown (the connection died after the final dot,
//! before the reply), which must not be resent automatically.

pub(crate) mod reply;

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

pub use reply::{Capabilities, Reply, check_address, dot_stuff};

use crate::account::Security;
use crate::account::credentials::Secret;
use crate::protocol::tls::{self, Stream};
use crate::protocol::{Endpoint, ErrorKind, ProtocolError};

/// How long a reply may take (RFC 5321 4.5.3.2 suggests 5 minutes for most commands; scaled
/// with `TERN_TIMEOUT_SECS`, see `protocol::limits`).
fn reply_timeout() -> Duration {
    crate::protocol::limits().stall * 5 / 2
}

/// How long the reply to the final dot may take (RFC 5321: 10 minutes; scaled likewise).
fn final_reply_timeout() -> Duration {
    crate::protocol::limits().stall * 5
}
/// How much of a message is stuffed and written at a time.
const SEND_PIECE: usize = 256 * 1024;

/// Longest reply line and most lines in one reply we accept.
const MAX_LINE: usize = 64 * 1024;
const MAX_LINES: usize = 1000;

/// Who the message goes from and to (the envelope; Bcc recipients are only here).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    pub from: String,
    pub to: Vec<String>,
}

/// Why a message was not (or may not have been) delivered.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// Nothing was delivered and trying later may work: a 4xx reply, or the connection failed
    /// before the final dot.
    #[error("{0}")]
    Temporary(ProtocolError),
    /// Nothing was delivered and the server refused it for good: a 5xx reply, over the size
    /// limit, an unusable address.
    #[error("{0}")]
    Permanent(ProtocolError),
    /// The connection died after the final dot, before the server's reply: the message may or
    /// may not have been accepted. Never resend this automatically.
    #[error("{0}")]
    Unknown(ProtocolError),
}

impl SendError {
    pub fn error(&self) -> &ProtocolError {
        match self {
            SendError::Temporary(e) | SendError::Permanent(e) | SendError::Unknown(e) => e,
        }
    }
}

/// A logged-in (or ready) connection to a submission server.
#[derive(Debug)]
pub struct SmtpClient {
    stream: Stream,
    /// Bytes read but not yet consumed.
    buffer: Vec<u8>,
    endpoint: Endpoint,
    capabilities: Capabilities,
    /// Our EHLO name: the local address as an address literal (no host name, no DNS).
    helo: String,
    /// Set when the connection can no longer be used (cut, or abandoned mid-DATA).
    broken: bool,
    /// Writes made (tests check that a pipelined send is one write before DATA).
    pub writes: u32,
    /// This connection's part of the protocol log.
    trace: crate::protocol::trace::Trace,
}

impl SmtpClient {
    /// Connects, reads the greeting, says EHLO and, for `starttls`, upgrades the connection. A
    /// server that does not offer STARTTLS when it is required is an error: no plaintext.
    pub async fn connect(endpoint: &Endpoint) -> Result<SmtpClient, ProtocolError> {
        let tcp = match endpoint.security {
            Security::Tls => tls::connect_tcp(&endpoint.host, endpoint.port).await?,
            Security::Starttls | Security::Plain => {
                tls::connect_plain(&endpoint.host, endpoint.port).await?
            }
        };
        let helo = match tcp.local_addr() {
            Ok(std::net::SocketAddr::V4(a)) => format!("[{}]", a.ip()),
            Ok(std::net::SocketAddr::V6(a)) => format!("[IPv6:{}]", a.ip()),
            Err(_) => "[127.0.0.1]".to_owned(),
        };
        let stream = match endpoint.security {
            Security::Tls => {
                tls::handshake_implicit(tcp, &endpoint.host, endpoint.port, &endpoint.trust).await?
            }
            Security::Starttls | Security::Plain => Stream::Plain(tcp),
        };
        let mut client = SmtpClient {
            stream,
            buffer: Vec::new(),
            endpoint: endpoint.clone(),
            capabilities: Capabilities::default(),
            helo,
            broken: false,
            writes: 0,
            trace: crate::protocol::trace::Trace::new(format!("smtp {endpoint}")),
        };
        let greeting = client.read_reply(reply_timeout()).await?;
        if greeting.code != 220 {
            return Err(client.error(
                ErrorKind::Network,
                format!("did not accept the connection: {}", greeting.text()),
            ));
        }
        client.ehlo().await?;
        if endpoint.security == Security::Starttls {
            client = client.starttls().await?;
        }
        Ok(client)
    }

    pub fn capabilities(&self) -> &Capabilities {
        &self.capabilities
    }

    /// Whether the connection can take another message.
    pub fn is_usable(&self) -> bool {
        !self.broken
    }

    fn error(&self, kind: ErrorKind, what: impl std::fmt::Display) -> ProtocolError {
        ProtocolError::new(kind, format!("{}: {what}", self.endpoint))
    }

    async fn ehlo(&mut self) -> Result<(), ProtocolError> {
        let helo = self.helo.clone();
        let reply = self.command(&format!("EHLO {helo}\r\n")).await?;
        if !reply.is_positive() {
            return Err(self.error(
                ErrorKind::Protocol,
                format!("refused EHLO: {}", reply.text()),
            ));
        }
        self.capabilities = Capabilities::from_ehlo(&reply);
        Ok(())
    }

    async fn starttls(mut self) -> Result<SmtpClient, ProtocolError> {
        if !self.capabilities.starttls {
            return Err(self.error(
                ErrorKind::Tls,
                "does not offer STARTTLS, so Tern will not send the password or the message; choose security tls (usually port 465), or plain only if you accept an unencrypted connection",
            ));
        }
        let reply = self.command("STARTTLS\r\n").await?;
        if reply.code != 220 {
            return Err(self.error(
                ErrorKind::Tls,
                format!("refused STARTTLS: {}", reply.text()),
            ));
        }
        if !self.buffer.is_empty() {
            return Err(self.error(
                ErrorKind::Tls,
                "sent data after STARTTLS before the TLS handshake (possible injection)",
            ));
        }
        let Stream::Plain(tcp) = std::mem::replace(&mut self.stream, Stream::Closed) else {
            return Err(self.error(ErrorKind::Tls, "STARTTLS on an encrypted connection"));
        };
        self.stream = tls::handshake(
            tcp,
            &self.endpoint.host,
            self.endpoint.port,
            &self.endpoint.trust,
            tls::Upgrade::Starttls(crate::protocol::probe::Service::Submission),
        )
        .await?;
        // Everything learnt before TLS is forgotten (RFC 3207 4.2).
        self.capabilities = Capabilities::default();
        self.ehlo().await?;
        Ok(self)
    }

    /// Authenticates with PLAIN (preferred) or LOGIN. A server that offers no AUTH is used
    /// without (some relays authorise by address).
    pub async fn login(&mut self, user: &str, password: &Secret) -> Result<(), ProtocolError> {
        self.trace.forbid(user, password.expose());
        let caps = &self.capabilities;
        if caps.auth.is_empty() {
            return Ok(());
        }
        let reply = if caps.offers_auth("PLAIN") {
            let token = BASE64.encode(format!("\0{user}\0{}", password.expose()));
            self.command_secret(&format!("AUTH PLAIN {token}\r\n"))
                .await?
        } else if caps.offers_auth("LOGIN") {
            let first = self.command("AUTH LOGIN\r\n").await?;
            if first.code != 334 {
                return Err(self.auth_error(user, &first));
            }
            let second = self
                .command_secret(&format!("{}\r\n", BASE64.encode(user)))
                .await?;
            if second.code != 334 {
                return Err(self.auth_error(user, &second));
            }
            self.command_secret(&format!("{}\r\n", BASE64.encode(password.expose())))
                .await?
        } else {
            return Err(self.error(
                ErrorKind::Auth,
                format!(
                    "offers only the login methods {} and Tern supports PLAIN and LOGIN; ask your provider, or use another server",
                    caps.auth.join(", ")
                ),
            ));
        };
        if reply.code == 235 {
            Ok(())
        } else {
            Err(self.auth_error(user, &reply))
        }
    }

    fn auth_error(&self, user: &str, reply: &Reply) -> ProtocolError {
        if reply.is_transient() {
            return self.error(
                ErrorKind::Network,
                format!(
                    "cannot log in as {user} right now ({}); Tern will try again",
                    reply.text()
                ),
            );
        }
        ProtocolError::new(
            ErrorKind::Auth,
            format!(
                "cannot log in to {} as {user}: the server rejected the user name or password ({}); check them in the account settings",
                self.endpoint,
                reply.text()
            ),
        )
    }

    /// Sends one message. `before_final_dot` runs after the server has accepted the envelope
    /// and DATA and the message has gone out, just before its final dot: the caller records
    /// there that the outcome is about to become uncertain. If it fails, the dot is not sent
    /// and the server discards the message.
    pub async fn send(
        &mut self,
        envelope: &Envelope,
        raw: &[u8],
        before_final_dot: impl FnOnce() -> Result<(), String>,
    ) -> Result<String, SendError> {
        if self.broken {
            return Err(SendError::Temporary(
                self.error(ErrorKind::Network, "the connection can no longer be used"),
            ));
        }
        let permanent = |e: ProtocolError| SendError::Permanent(e);
        let temporary = |e: ProtocolError| SendError::Temporary(e);
        for address in std::iter::once(&envelope.from).chain(&envelope.to) {
            check_address(address).map_err(|e| permanent(self.error(ErrorKind::Protocol, e)))?;
        }
        if envelope.to.is_empty() {
            return Err(permanent(
                self.error(ErrorKind::Protocol, "the message has no recipients"),
            ));
        }
        let caps = self.capabilities.clone();
        let size = raw.len() as u64;
        if let Some(limit) = caps.size.filter(|l| *l > 0)
            && size > limit
        {
            return Err(permanent(self.error(
                ErrorKind::Protocol,
                format!(
                    "the message is {} and the server accepts at most {}; remove or shrink attachments",
                    human_size(size),
                    human_size(limit)
                ),
            )));
        }
        let eight_bit = !raw.is_ascii();
        if eight_bit && !caps.eightbitmime {
            return Err(permanent(self.error(
                ErrorKind::Protocol,
                "the message contains 8-bit text and the server does not offer 8BITMIME",
            )));
        }
        let utf8_addresses = std::iter::once(&envelope.from)
            .chain(&envelope.to)
            .any(|a| !a.is_ascii());
        if utf8_addresses && !caps.smtputf8 {
            return Err(permanent(self.error(
                ErrorKind::Protocol,
                "an address contains non-ASCII characters and the server does not offer SMTPUTF8",
            )));
        }
        let mut mail = format!("MAIL FROM:<{}>", envelope.from);
        if caps.size.is_some() {
            mail.push_str(&format!(" SIZE={size}"));
        }
        if eight_bit {
            mail.push_str(" BODY=8BITMIME");
        }
        if utf8_addresses {
            mail.push_str(" SMTPUTF8");
        }
        mail.push_str("\r\n");
        let rcpts: Vec<String> = envelope
            .to
            .iter()
            .map(|to| format!("RCPT TO:<{to}>\r\n"))
            .collect();

        // The envelope and DATA: one write with PIPELINING, else command by command.
        let mut replies = Vec::with_capacity(rcpts.len() + 2);
        if caps.pipelining {
            let mut batch = mail.clone();
            rcpts.iter().for_each(|r| batch.push_str(r));
            batch.push_str("DATA\r\n");
            self.write(batch.as_bytes()).await.map_err(temporary)?;
            for _ in 0..rcpts.len() + 2 {
                replies.push(self.read_reply(reply_timeout()).await.map_err(temporary)?);
            }
        } else {
            for command in std::iter::once(&mail).chain(&rcpts) {
                let reply = self.command(command).await.map_err(temporary)?;
                let ok = reply.is_positive();
                replies.push(reply);
                if !ok && command == &mail {
                    break;
                }
            }
            if replies.len() == rcpts.len() + 1
                && replies.iter().skip(1).any(Reply::is_positive)
                && replies.first().is_some_and(Reply::is_positive)
            {
                replies.push(self.command("DATA\r\n").await.map_err(temporary)?);
            }
        }
        let mail_reply = replies.first();
        let data_reply = replies.get(rcpts.len() + 1);
        let mut refusals = Vec::new();
        match mail_reply {
            Some(r) if r.is_positive() => {}
            Some(r) => refusals.push((format!("the sender {}", envelope.from), r.clone())),
            None => {}
        }
        for (to, reply) in envelope.to.iter().zip(replies.iter().skip(1)) {
            if !reply.is_positive() {
                refusals.push((to.clone(), reply.clone()));
            }
        }
        let data_ok = data_reply.is_some_and(|r| r.code == 354);
        if !refusals.is_empty() || !data_ok {
            if data_ok {
                // DATA was accepted for the recipients that passed; sending nothing but a dot
                // would deliver an empty message, so the transaction is abandoned with the
                // connection (the server then discards it).
                self.broken = true;
                let _ = self.stream.shutdown().await;
            } else {
                let _ = self.command("RSET\r\n").await;
            }
            let (what, reply) = match refusals.first() {
                Some((who, reply)) => (refusal_text(who, reply), reply.clone()),
                None => {
                    let reply = data_reply.cloned().unwrap_or(Reply {
                        code: 554,
                        lines: vec!["no reply to DATA".into()],
                    });
                    (format!("refused the message: {}", reply.text()), reply)
                }
            };
            let more = if refusals.len() > 1 {
                format!(" (and {} more refusals)", refusals.len() - 1)
            } else {
                String::new()
            };
            let error = self.error(ErrorKind::Protocol, format!("{what}{more}"));
            return Err(if reply.is_transient() {
                SendError::Temporary(error)
            } else {
                SendError::Permanent(error)
            });
        }

        // The message goes out in pieces, stuffed as it goes (one piece held at a time). A
        // connection lost before the final dot leaves nothing delivered: the server discards
        // a message whose end it never saw, so it is sent again later.
        let mut stuffer = reply::DotStuffer::default();
        let mut piece = Vec::with_capacity(SEND_PIECE + SEND_PIECE / 16);
        for chunk in raw.chunks(SEND_PIECE) {
            piece.clear();
            stuffer.push(chunk, &mut piece);
            if let Err(e) = self.write(&piece).await {
                self.broken = true;
                return Err(SendError::Temporary(ProtocolError::new(
                    e.kind,
                    format!(
                        "{}; the connection was lost while the message was being transmitted, before its end, so it was not delivered",
                        e.message
                    ),
                )));
            }
        }
        if let Err(why) = before_final_dot() {
            self.broken = true;
            let _ = self.stream.shutdown().await;
            return Err(SendError::Temporary(self.error(
                ErrorKind::Protocol,
                format!(
                    "the message was not sent because Tern could not record the attempt: {why}"
                ),
            )));
        }
        piece.clear();
        stuffer.finish(&mut piece);
        // From here on a lost connection leaves the outcome unknown.
        let unknown = |e: ProtocolError| {
            SendError::Unknown(ProtocolError::new(
                ErrorKind::Network,
                format!(
                    "{}; the message was sent but the server's answer was lost, so it may or may not have been delivered: check the recipient's copy or your Sent folder before sending it again",
                    e.message
                ),
            ))
        };
        if let Err(e) = self.write(&piece).await {
            self.broken = true;
            return Err(unknown(e));
        }
        let reply = match self.read_reply(final_reply_timeout()).await {
            Ok(reply) => reply,
            Err(e) => {
                self.broken = true;
                return Err(unknown(e));
            }
        };
        if reply.is_positive() {
            Ok(reply.text())
        } else {
            let what = if reply.code == 552 {
                format!("refused the message as too large: {}", reply.text())
            } else {
                format!("refused the message: {}", reply.text())
            };
            let error = self.error(ErrorKind::Protocol, what);
            Err(if reply.is_transient() {
                SendError::Temporary(error)
            } else {
                SendError::Permanent(error)
            })
        }
    }

    /// Says QUIT and closes the connection (best effort).
    pub async fn quit(mut self) {
        if !self.broken {
            let _ = tokio::time::timeout(Duration::from_secs(5), self.command("QUIT\r\n")).await;
        }
        let _ = self.stream.shutdown().await;
    }

    async fn write(&mut self, bytes: &[u8]) -> Result<(), ProtocolError> {
        self.writes += 1;
        self.trace.sent(bytes);
        let result = async {
            crate::protocol::write_with_timeout(
                &mut self.stream,
                bytes,
                crate::protocol::limits().stall,
            )
            .await
        }
        .await;
        result.map_err(|e| {
            self.broken = true;
            self.error(ErrorKind::Network, format!("cannot send: {e}"))
        })
    }

    async fn command(&mut self, line: &str) -> Result<Reply, ProtocolError> {
        self.write(line.as_bytes()).await?;
        self.read_reply(reply_timeout()).await
    }

    /// Like `command`, for a line that carries a secret: errors never quote it.
    async fn command_secret(&mut self, line: &str) -> Result<Reply, ProtocolError> {
        self.command(line).await
    }

    /// One reply line, which must arrive whole by `deadline` (a server that trickles a reply
    /// byte by byte is cut off like one that sends nothing).
    async fn read_line(
        &mut self,
        deadline: tokio::time::Instant,
        timeout: Duration,
    ) -> Result<String, ProtocolError> {
        loop {
            if let Some(end) = self.buffer.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = self.buffer.drain(..=end).collect();
                return Ok(String::from_utf8_lossy(&line).into_owned());
            }
            if self.buffer.len() > MAX_LINE {
                self.broken = true;
                return Err(self.error(ErrorKind::Protocol, "sent a reply line longer than 64 KiB"));
            }
            let mut chunk = [0u8; 8192];
            let read = tokio::time::timeout_at(deadline, self.stream.read(&mut chunk)).await;
            let n = match read {
                Err(_) => {
                    self.broken = true;
                    return Err(self.error(
                        ErrorKind::Network,
                        format!(
                            "sent no complete reply within {} s; the connection seems stalled",
                            timeout.as_secs()
                        ),
                    ));
                }
                Ok(Err(e)) => {
                    self.broken = true;
                    return Err(self.error(ErrorKind::Network, format!("connection lost: {e}")));
                }
                Ok(Ok(0)) => {
                    self.broken = true;
                    return Err(self.error(ErrorKind::Network, "the server closed the connection"));
                }
                Ok(Ok(n)) => n,
            };
            let got = chunk.get(..n).unwrap_or_default();
            self.trace.received(got);
            self.buffer.extend_from_slice(got);
        }
    }

    /// A whole reply, within `timeout` (the time limit covers all its lines).
    async fn read_reply(&mut self, timeout: Duration) -> Result<Reply, ProtocolError> {
        let mut lines = Vec::new();
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let line = self.read_line(deadline, timeout).await?;
            let Some((code, more, text)) = reply::parse_line(&line) else {
                self.broken = true;
                let shown: String = line.trim_end().chars().take(200).collect();
                return Err(self.error(
                    ErrorKind::Protocol,
                    format!("sent something that is not an SMTP reply: {shown:?}"),
                ));
            };
            lines.push(text.to_owned());
            if lines.len() > MAX_LINES {
                self.broken = true;
                return Err(self.error(ErrorKind::Protocol, "sent a reply of over 1000 lines"));
            }
            if !more {
                return Ok(Reply { code, lines });
            }
        }
    }
}

/// A refused sender or recipient, explained.
fn refusal_text(who: &str, reply: &Reply) -> String {
    let text = reply.text();
    let lower = text.to_ascii_lowercase();
    if lower.contains("relay") {
        format!(
            "refused to relay to {who} ({text}); check that you are logged in with this account's server, and the address"
        )
    } else if matches!(reply.code, 550 | 551 | 553) {
        format!(
            "refused {who}: the mailbox is unavailable or the address does not exist ({text}); check the address"
        )
    } else if reply.code == 552 {
        format!("refused {who}: the message is too large or the mailbox is full ({text})")
    } else if reply.is_transient() {
        format!("cannot take the message for {who} right now ({text}); Tern will try again")
    } else {
        format!("refused {who} ({text})")
    }
}

/// "12.3 MB"-style size for messages.
pub fn human_size(bytes: u64) -> String {
    if bytes >= 1_000_000 {
        format!("{:.1} MB", bytes as f64 / 1_000_000.0)
    } else if bytes >= 1_000 {
        format!("{:.1} kB", bytes as f64 / 1_000.0)
    } else {
        format!("{bytes} bytes")
    }
}
