//! Account settings as plain, validated data (no passwords), shared by the store, engines and CLI.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use serde::Serialize;

/// Why a setting was rejected. The text says what to type instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidSetting(pub String);

/// The incoming mail protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    Imap,
    Pop3,
}

impl Protocol {
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Imap => "imap",
            Protocol::Pop3 => "pop3",
        }
    }
}

impl FromStr for Protocol {
    type Err = InvalidSetting;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "imap" => Ok(Protocol::Imap),
            "pop3" | "pop" => Ok(Protocol::Pop3),
            _ => Err(InvalidSetting(format!(
                "unknown protocol {s:?}: use imap or pop3"
            ))),
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Security {
    /// TLS from the first byte (IMAPS 993, POP3S 995, submissions 465).
    Tls,
    /// Plain connection upgraded with STARTTLS/STLS; refusing to upgrade is an error.
    Starttls,
    /// No encryption at all. Only when the user asks for it explicitly.
    Plain,
}

impl Security {
    pub fn as_str(self) -> &'static str {
        match self {
            Security::Tls => "tls",
            Security::Starttls => "starttls",
            Security::Plain => "plain",
        }
    }
}

impl FromStr for Security {
    type Err = InvalidSetting;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "tls" | "ssl" => Ok(Security::Tls),
            "starttls" => Ok(Security::Starttls),
            "plain" | "none" => Ok(Security::Plain),
            _ => Err(InvalidSetting(format!(
                "unknown security mode {s:?}: use tls, starttls or plain"
            ))),
        }
    }
}

impl fmt::Display for Security {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A server's host name (or IP literal) and port.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct ServerAddr {
    pub host: String,
    pub port: u16,
}

impl ServerAddr {
    /// Parses `host:port`, `1.2.3.4:port` or `[::1]:port`.
    pub fn parse(text: &str) -> Result<ServerAddr, InvalidSetting> {
        let bad = |why: &str| {
            InvalidSetting(format!(
                "bad server address {text:?}: {why}; write it as host:port, e.g. imap.example.com:993"
            ))
        };
        let (host, port) = if let Some(rest) = text.strip_prefix('[') {
            let (host, after) = rest.split_once(']').ok_or_else(|| bad("missing ']'"))?;
            let port = after
                .strip_prefix(':')
                .ok_or_else(|| bad("missing :port"))?;
            if host.parse::<std::net::Ipv6Addr>().is_err() {
                return Err(bad("not an IPv6 address inside [ ]"));
            }
            (host, port)
        } else {
            text.rsplit_once(':').ok_or_else(|| bad("missing :port"))?
        };
        let port: u16 = port
            .parse()
            .map_err(|_| bad("the port is not a number from 1 to 65535"))?;
        if port == 0 {
            return Err(bad("the port is not a number from 1 to 65535"));
        }
        if !text.starts_with('[') && !valid_host(host) {
            return Err(bad("not a valid host name"));
        }
        Ok(ServerAddr {
            host: host.to_owned(),
            port,
        })
    }
}

impl fmt::Display for ServerAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

/// A host name: dot-separated labels of letters, digits and '-', or non-ASCII (IDN) letters.
fn valid_host(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_alphanumeric() || c == '-')
        })
}

/// Checks an email address (`local@domain`) well enough to catch typos and header injection.
pub fn validate_email(address: &str) -> Result<(), InvalidSetting> {
    let bad = |why: &str| {
        InvalidSetting(format!(
            "bad email address {address:?}: {why}; write it as name@example.com"
        ))
    };
    if address.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad("it contains spaces or control characters"));
    }
    if address.chars().any(|c| {
        matches!(
            c,
            '<' | '>' | ',' | ';' | '(' | ')' | '"' | '\\' | '[' | ']'
        )
    }) {
        return Err(bad("it contains a character not allowed in an address"));
    }
    let (local, domain) = address.rsplit_once('@').ok_or_else(|| bad("it has no @"))?;
    if local.is_empty() || local.len() > 64 || local.contains('@') {
        return Err(bad(
            "the part before @ is empty, too long or has a second @",
        ));
    }
    if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
        return Err(bad("the part before @ has a misplaced dot"));
    }
    if !valid_host(domain) {
        return Err(bad("the part after @ is not a valid domain"));
    }
    Ok(())
}

/// Everything needed to create an account. Built by the CLI, the settings form or the wizard.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccountSettings {
    /// Unique name that `--account` refers to.
    pub name: String,
    /// The person's name shown in From:.
    pub display_name: String,
    pub email: String,
    pub protocol: Protocol,
    pub incoming: ServerAddr,
    pub incoming_security: Security,
    pub outgoing: ServerAddr,
    pub outgoing_security: Security,
    /// User name for logging in; usually the email address.
    pub login: String,
    /// Command whose first output line is the password (like msmtp's passwordeval).
    pub password_cmd: Option<String>,
    /// Extra CA certificate or self-signed server certificate to trust (PEM).
    pub ca_file: Option<PathBuf>,
    /// SHA-256 fingerprint (hex) of a pinned server certificate.
    pub cert_sha256: Option<String>,
}

impl AccountSettings {
    /// Checks every field; the error names the field and what to do.
    pub fn validate(&self) -> Result<(), InvalidSetting> {
        let name = self.name.trim();
        if name.is_empty() {
            return Err(InvalidSetting(
                "the account name is empty; give one with --name".into(),
            ));
        }
        if name != self.name || self.name.chars().any(char::is_control) {
            return Err(InvalidSetting(format!(
                "bad account name {:?}: it must not start or end with spaces or contain control characters",
                self.name
            )));
        }
        if self.display_name.chars().any(char::is_control) {
            return Err(InvalidSetting(
                "the display name must not contain control characters".into(),
            ));
        }
        validate_email(&self.email)?;
        if self.login.is_empty() || self.login.chars().any(char::is_control) {
            return Err(InvalidSetting(
                "the login name is empty or contains control characters".into(),
            ));
        }
        if let Some(cmd) = &self.password_cmd
            && cmd.trim().is_empty()
        {
            {
                return Err(InvalidSetting(
                    "--password-cmd is empty; give a command that prints the password".into(),
                ));
            }
        }
        if let Some(fp) = &self.cert_sha256 {
            normalize_fingerprint(fp)?;
        }
        Ok(())
    }
}

/// Normalises a SHA-256 fingerprint written as hex, with or without colons, to lower-case hex.
pub fn normalize_fingerprint(text: &str) -> Result<String, InvalidSetting> {
    let hex: String = text
        .chars()
        .filter(|c| *c != ':')
        .collect::<String>()
        .to_ascii_lowercase();
    if hex.len() != 64 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(InvalidSetting(format!(
            "bad certificate fingerprint {text:?}: give the SHA-256 as 64 hex digits (colons allowed)"
        )));
    }
    Ok(hex)
}

/// A stored account: its settings plus the store's id and per-account options.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Account {
    pub id: i64,
    #[serde(flatten)]
    pub settings: AccountSettings,
    pub signature: String,
    pub sync_days: Option<i64>,
    pub download_bodies: bool,
    pub download_days: Option<i64>,
    pub poll_seconds: i64,
    pub server_saves_sent: bool,
    pub pop3_leave_on_server: bool,
    pub pop3_delete_after_days: Option<i64>,
    pub pop3_delete_when_deleted: bool,
    /// POP3: messages larger than this (bytes) come as headers only, the rest when opened.
    pub pop3_max_message_size: Option<i64>,
    /// Random, set when the account is stored: names its OS keyring entry (the id is reused
    /// after a removal, and every data directory counts from 1). Empty for an unsaved account.
    #[serde(skip)]
    pub keyring_key: String,
    /// How many times the cache was started over (another mailbox): what an engine stores is
    /// refused when the account's epoch is no longer the one it loaded.
    #[serde(skip)]
    pub cache_epoch: i64,
}

impl Account {
    /// An account not (yet) in the store, with the store's defaults: what the setup wizard
    /// verifies before saving.
    pub fn unsaved(settings: AccountSettings) -> Account {
        let pop3 = settings.protocol == Protocol::Pop3;
        Account {
            id: 0,
            settings,
            signature: String::new(),
            sync_days: None,
            download_bodies: false,
            download_days: None,
            poll_seconds: if pop3 { 600 } else { 300 },
            server_saves_sent: false,
            pop3_leave_on_server: true,
            pop3_delete_after_days: None,
            pop3_delete_when_deleted: false,
            pop3_max_message_size: None,
            keyring_key: String::new(),
            cache_epoch: 0,
        }
    }

    /// The POP3 options as one value (what `Store::set_pop3_options` takes).
    pub fn pop3_options(&self) -> Pop3Options {
        Pop3Options {
            leave_on_server: self.pop3_leave_on_server,
            delete_after_days: self.pop3_delete_after_days,
            delete_when_deleted: self.pop3_delete_when_deleted,
            max_message_size: self.pop3_max_message_size,
            poll_seconds: self.poll_seconds,
        }
    }
}

/// How a POP3 account treats the server's copies (as Thunderbird and classic Outlook offer),
/// and how often it checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Pop3Options {
    /// Leave messages on the server after downloading them (default yes).
    pub leave_on_server: bool,
    /// With `leave_on_server`: delete them from the server after this many days.
    pub delete_after_days: Option<i64>,
    /// With `leave_on_server`: delete a message from the server when it is deleted here.
    pub delete_when_deleted: bool,
    /// Messages larger than this (bytes) come as headers only, the rest when opened.
    pub max_message_size: Option<i64>,
    /// Seconds between checks for new mail.
    pub poll_seconds: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_addresses() {
        assert_eq!(
            ServerAddr::parse("imap.example.com:993"),
            Ok(ServerAddr {
                host: "imap.example.com".into(),
                port: 993
            })
        );
        assert_eq!(
            ServerAddr::parse("[::1]:143").map(|a| a.to_string()),
            Ok("[::1]:143".to_string())
        );
        assert_eq!(ServerAddr::parse("127.0.0.1:25").map(|a| a.port), Ok(25));
        for bad in [
            "imap.example.com",
            "host:0",
            "host:70000",
            ":993",
            "a b:1",
            "[zz]:1",
            "-x.com:1",
            "h:p",
        ] {
            assert!(ServerAddr::parse(bad).is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn email_addresses() {
        for good in [
            "jo@example.com",
            "a.b+tag@mail.example.test",
            "jö@exämple.de",
        ] {
            assert_eq!(validate_email(good), Ok(()), "{good}");
        }
        for bad in [
            "",
            "jo",
            "@example.com",
            "jo@",
            "jo@@x.com",
            "jo @x.com",
            "jo@x..com",
            "a\r\nBcc: x@y.z@x.com",
            "<jo@x.com>",
        ] {
            assert!(validate_email(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn fingerprints() {
        let hex = "AB".repeat(32);
        assert_eq!(normalize_fingerprint(&hex), Ok("ab".repeat(32)));
        let colons = vec!["ab"; 32].join(":");
        assert_eq!(normalize_fingerprint(&colons), Ok("ab".repeat(32)));
        assert!(normalize_fingerprint("abc").is_err());
    }
}
