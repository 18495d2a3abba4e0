//! Mail protocols (IMAP, POP3, SMTP) and TLS connection set-up. Knows nothing of iced or SQLite.
//!
//! This module fixes what the clients share: where to connect (`Endpoint`) and the error type,
//! whose kinds the engine branches on.

pub mod imap;
pub mod pop3;
pub mod probe;
pub mod smtp;
pub mod tls;
pub mod trace;

use crate::account::Security;
use tls::Trust;

/// How long the network may keep Tern waiting. Connecting and each TLS handshake have the
/// `connect` limit; every read and write has the `stall` limit; a response must make progress
/// (a whole response, or 64 KiB) within `stall`, so a server that trickles bytes is cut off; a
/// command must be answered completely within `command`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub connect: std::time::Duration,
    pub stall: std::time::Duration,
    pub command: std::time::Duration,
}

/// The limits in force: 30 s, 120 s and 30 min, or, with `TERN_TIMEOUT_SECS=N` (for very slow
/// links, and for tests), the lesser of N s and 30 s, N s and 15 N s.
pub fn limits() -> Limits {
    static LIMITS: std::sync::OnceLock<Limits> = std::sync::OnceLock::new();
    *LIMITS.get_or_init(|| {
        let stall = std::env::var("TERN_TIMEOUT_SECS")
            .ok()
            .and_then(|v| v.trim().parse::<u64>().ok())
            .filter(|s| (1..=3600).contains(s))
            .unwrap_or(120);
        Limits {
            connect: tls::CONNECT_TIMEOUT.min(std::time::Duration::from_secs(stall)),
            stall: std::time::Duration::from_secs(stall),
            command: std::time::Duration::from_secs(stall * 15),
        }
    })
}

/// Writes `bytes` in chunks, each within `stall`: a peer that stops reading cannot block a
/// large APPEND or DATA for ever, while a slow link that keeps taking data is fine.
pub async fn write_with_timeout<W: tokio::io::AsyncWrite + Unpin>(
    stream: &mut W,
    bytes: &[u8],
    stall: std::time::Duration,
) -> std::io::Result<()> {
    use tokio::io::AsyncWriteExt as _;
    for chunk in bytes.chunks(64 * 1024) {
        tokio::time::timeout(stall, stream.write_all(chunk))
            .await
            .map_err(|_| {
                std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    format!(
                        "the server took no data for {} s (it stopped reading)",
                        stall.as_secs()
                    ),
                )
            })??;
    }
    tokio::time::timeout(stall, stream.flush())
        .await
        .map_err(|_| {
            std::io::Error::new(std::io::ErrorKind::TimedOut, "the server stopped reading")
        })?
}

/// Where to connect and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub trust: Trust,
}

impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.host, self.port)
    }
}

/// What kind of failure a protocol error is; the engine decides on retries from this.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The server rejected the credentials: do not retry until the user acts.
    Auth,
    /// The TLS handshake or certificate check failed, or STARTTLS was not offered.
    Tls,
    /// The connection could not be made or was lost: retry with backoff.
    Network,
    /// The server said something we could not understand.
    Protocol,
    /// The server understood a command and refused it (IMAP NO or BAD): this command, or this
    /// folder, fails with the server's reason, and the rest of the work goes on.
    Refused,
}

/// A protocol-layer error: its kind, and a message that says what failed, where, and what to do.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct ProtocolError {
    pub kind: ErrorKind,
    pub message: String,
    /// For a certificate that could not be verified: the certificate, for the user to decide
    /// whether to trust exactly it.
    pub certificate: Option<Box<tls::CertificateInfo>>,
}

impl ProtocolError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> ProtocolError {
        ProtocolError {
            kind,
            message: message.into(),
            certificate: None,
        }
    }
}
