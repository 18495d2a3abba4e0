//! Mail protocols (IMAP, POP3, SMTP) and TLS connection set-up. Knows nothing of iced or SQLite.
//!
//! This module fixes what the clients share: where to connect (`Endpoint`) and the error type,
//! whose kinds the engine branches on.

pub mod imap;
pub mod smtp;
pub mod tls;

use crate::account::Security;
use tls::Trust;

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
}

impl ProtocolError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> ProtocolError {
        ProtocolError {
            kind,
            message: message.into(),
        }
    }
}
