//! The autoconfig XML format (`<clientConfig version="1.1">`), read with roxmltree: every
//! `incomingServer` (imap, pop3) and `outgoingServer` (smtp) with host, port, socketType,
//! authentication methods and username, the provider's id, name and domains. Unknown elements
//! are ignored (the format grows); a server that cannot be used (no host, a bad port, an
//! unknown socketType) is skipped, and a document with none left is an error.

use crate::account::{Protocol, Security};

/// Largest document read (the ISPDB's largest entries are a few KiB).
const MAX_DOCUMENT: usize = 256 * 1024;

/// Longest host name (RFC 1035: 253 characters in text form).
const MAX_HOST: usize = 253;

/// Why a document gives no settings.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AutoconfigError {
    #[error("the autoconfig document is {0} bytes, more than the 256 KiB Tern reads")]
    TooLarge(usize),
    #[error("the autoconfig document is not XML: {0}")]
    NotXml(String),
    #[error("the XML is not an autoconfig document (no clientConfig with an emailProvider)")]
    NotAutoconfig,
    #[error("the autoconfig document names no server Tern can use")]
    NoServers,
}

/// What a server is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerKind {
    Imap,
    Pop3,
    Smtp,
}

/// An authentication method the document offers for a server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Auth {
    /// `password-cleartext` (or the old `plain`): the password, over the encrypted connection.
    PasswordCleartext,
    /// `password-encrypted` (or the old `secure`): CRAM-MD5 or DIGEST-MD5.
    PasswordEncrypted,
    /// `OAuth2`: a sign-in at the provider's web page.
    OAuth2,
    /// `none`: no authentication (common for a provider's own outgoing server by IP).
    None,
    /// Anything else (`NTLM`, `GSSAPI`, `client-IP-address`, `TLS-client-cert`, …), as written.
    Other(String),
}

impl Auth {
    fn parse(text: &str) -> Auth {
        match text.trim() {
            "password-cleartext" | "plain" => Auth::PasswordCleartext,
            "password-encrypted" | "secure" => Auth::PasswordEncrypted,
            "OAuth2" => Auth::OAuth2,
            "none" => Auth::None,
            other => Auth::Other(other.to_owned()),
        }
    }

    /// Whether Tern can sign in this way with the user's password.
    pub fn takes_password(&self) -> bool {
        matches!(self, Auth::PasswordCleartext | Auth::PasswordEncrypted)
    }
}

/// One server of the document, placeholders filled in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerConfig {
    pub kind: ServerKind,
    pub host: String,
    pub port: u16,
    pub security: Security,
    /// In the document's order (its preference); empty when it names none.
    pub auth: Vec<Auth>,
    /// The login name; the address itself when the document gives none.
    pub username: String,
}

impl ServerConfig {
    /// Whether the user's password can sign in here (or the document does not say how).
    pub fn takes_password(&self) -> bool {
        self.auth.is_empty() || self.auth.iter().any(Auth::takes_password)
    }
}

/// A provider's settings, as one document gives them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderConfig {
    /// The `emailProvider id` (usually its main domain).
    pub id: String,
    pub display_name: Option<String>,
    pub domains: Vec<String>,
    /// IMAP and POP3 servers, in the document's order.
    pub incoming: Vec<ServerConfig>,
    /// SMTP servers, in the document's order.
    pub outgoing: Vec<ServerConfig>,
}

impl ProviderConfig {
    /// The protocols offered for incoming mail, IMAP first.
    pub fn protocols(&self) -> Vec<Protocol> {
        let mut found = Vec::new();
        for (kind, protocol) in [
            (ServerKind::Imap, Protocol::Imap),
            (ServerKind::Pop3, Protocol::Pop3),
        ] {
            if self.incoming.iter().any(|s| s.kind == kind) {
                found.push(protocol);
            }
        }
        found
    }

    /// The best incoming server for `protocol`: see `best`.
    pub fn best_incoming(&self, protocol: Protocol, allow_plain: bool) -> Option<&ServerConfig> {
        let kind = match protocol {
            Protocol::Imap => ServerKind::Imap,
            Protocol::Pop3 => ServerKind::Pop3,
        };
        best(self.incoming.iter().filter(|s| s.kind == kind), allow_plain)
    }

    /// The best outgoing server: see `best`.
    pub fn best_outgoing(&self, allow_plain: bool) -> Option<&ServerConfig> {
        best(self.outgoing.iter(), allow_plain)
    }
}

/// Implicit TLS before STARTTLS, a server the password can sign in to before one it cannot
/// (OAuth2 only, say), and otherwise the document's order; plain only when the user allows it.
fn best<'a>(
    servers: impl Iterator<Item = &'a ServerConfig>,
    allow_plain: bool,
) -> Option<&'a ServerConfig> {
    servers
        .filter(|s| allow_plain || s.security != Security::Plain)
        .enumerate()
        .min_by_key(|(order, s)| {
            let security = match s.security {
                Security::Tls => 0,
                Security::Starttls => 1,
                Security::Plain => 2,
            };
            (!s.takes_password(), security, *order)
        })
        .map(|(_, s)| s)
}

/// Parses an autoconfig document for `address` (`user@domain`, which fills the placeholders
/// `%EMAILADDRESS%`, `%EMAILLOCALPART%` and `%EMAILDOMAIN%`).
pub fn parse(document: &str, address: &str) -> Result<ProviderConfig, AutoconfigError> {
    if document.len() > MAX_DOCUMENT {
        return Err(AutoconfigError::TooLarge(document.len()));
    }
    let tree =
        roxmltree::Document::parse(document).map_err(|e| AutoconfigError::NotXml(e.to_string()))?;
    let root = tree.root_element();
    if root.tag_name().name() != "clientConfig" {
        return Err(AutoconfigError::NotAutoconfig);
    }
    let provider = root
        .children()
        .find(|n| n.has_tag_name("emailProvider"))
        .ok_or(AutoconfigError::NotAutoconfig)?;
    let fill = |text: &str| fill_placeholders(text, address);
    let mut config = ProviderConfig {
        id: provider.attribute("id").unwrap_or_default().to_owned(),
        display_name: None,
        domains: Vec::new(),
        incoming: Vec::new(),
        outgoing: Vec::new(),
    };
    for node in provider.children().filter(roxmltree::Node::is_element) {
        match node.tag_name().name() {
            "domain" => {
                if let Some(domain) = text_of(node) {
                    config.domains.push(domain.to_ascii_lowercase());
                }
            }
            "displayName" => config.display_name = text_of(node).map(|t| fill(&t)),
            "incomingServer" => {
                let kind = match node.attribute("type") {
                    Some("imap") => ServerKind::Imap,
                    Some("pop3") => ServerKind::Pop3,
                    _ => continue,
                };
                if let Some(server) = server(node, kind, address) {
                    config.incoming.push(server);
                }
            }
            "outgoingServer" if node.attribute("type") == Some("smtp") => {
                if let Some(server) = server(node, ServerKind::Smtp, address) {
                    config.outgoing.push(server);
                }
            }
            _ => {}
        }
    }
    if config.incoming.is_empty() && config.outgoing.is_empty() {
        return Err(AutoconfigError::NoServers);
    }
    Ok(config)
}

/// The trimmed text of an element, if it has any.
fn text_of(node: roxmltree::Node<'_, '_>) -> Option<String> {
    let text: String = node
        .children()
        .filter(roxmltree::Node::is_text)
        .filter_map(|t| t.text())
        .collect();
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

/// One `incomingServer`/`outgoingServer`, or None when it cannot be used.
fn server(node: roxmltree::Node<'_, '_>, kind: ServerKind, address: &str) -> Option<ServerConfig> {
    let child = |name: &str| {
        node.children()
            .find(|n| n.has_tag_name(name))
            .and_then(text_of)
    };
    let host = fill_placeholders(&child("hostname")?, address).to_ascii_lowercase();
    let host_ok = !host.is_empty()
        && host.len() <= MAX_HOST
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':' | '[' | ']'));
    if !host_ok {
        return None;
    }
    let port: u16 = child("port")?.parse().ok().filter(|p| *p != 0)?;
    let security = match child("socketType")?.as_str() {
        "SSL" | "TLS" => Security::Tls,
        "STARTTLS" => Security::Starttls,
        "plain" => Security::Plain,
        _ => return None,
    };
    let auth = node
        .children()
        .filter(|n| n.has_tag_name("authentication"))
        .filter_map(text_of)
        .map(|t| Auth::parse(&t))
        .collect();
    let username = child("username")
        .map(|u| fill_placeholders(&u, address))
        .filter(|u| !u.chars().any(char::is_control))
        .unwrap_or_else(|| address.to_owned());
    Some(ServerConfig {
        kind,
        host,
        port,
        security,
        auth,
        username,
    })
}

/// `text` with the address placeholders replaced.
fn fill_placeholders(text: &str, address: &str) -> String {
    let (local, domain) = address.rsplit_once('@').unwrap_or((address, ""));
    text.replace("%EMAILADDRESS%", address)
        .replace("%EMAILLOCALPART%", local)
        .replace("%EMAILDOMAIN%", domain)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    const EXAMPLE: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<clientConfig version="1.1">
  <emailProvider id="example.com">
    <domain>example.com</domain>
    <domain>Example.NET</domain>
    <displayName>Example Mail</displayName>
    <displayShortName>Example</displayShortName>
    <incomingServer type="imap">
      <hostname>imap.%EMAILDOMAIN%</hostname>
      <port>143</port>
      <socketType>STARTTLS</socketType>
      <authentication>password-cleartext</authentication>
      <username>%EMAILLOCALPART%</username>
    </incomingServer>
    <incomingServer type="imap">
      <hostname>imap.example.com</hostname>
      <port>993</port>
      <socketType>SSL</socketType>
      <authentication>OAuth2</authentication>
      <authentication>password-cleartext</authentication>
      <username>%EMAILADDRESS%</username>
    </incomingServer>
    <incomingServer type="pop3">
      <hostname>pop.example.com</hostname>
      <port>110</port>
      <socketType>plain</socketType>
      <authentication>password-cleartext</authentication>
      <username>%EMAILADDRESS%</username>
      <pop3><leaveMessagesOnServer>true</leaveMessagesOnServer></pop3>
    </incomingServer>
    <incomingServer type="exchange">
      <hostname>ews.example.com</hostname>
    </incomingServer>
    <outgoingServer type="smtp">
      <hostname>smtp.example.com</hostname>
      <port>587</port>
      <socketType>STARTTLS</socketType>
      <authentication>password-encrypted</authentication>
      <username>%EMAILADDRESS%</username>
    </outgoingServer>
    <outgoingServer type="smtp">
      <hostname>smtp.example.com</hostname>
      <port>465</port>
      <socketType>SSL</socketType>
      <authentication>OAuth2</authentication>
    </outgoingServer>
    <documentation url="https://example.com/help"><descr lang="en">Help</descr></documentation>
  </emailProvider>
</clientConfig>"#;

    #[test]
    fn the_whole_document_is_read_with_placeholders_filled() {
        let config = parse(EXAMPLE, "ann.lee@example.com").unwrap();
        assert_eq!(config.id, "example.com");
        assert_eq!(config.display_name.as_deref(), Some("Example Mail"));
        assert_eq!(config.domains, ["example.com", "example.net"]);
        assert_eq!(
            config.incoming.len(),
            3,
            "the exchange server is not for Tern"
        );
        let first = &config.incoming[0];
        assert_eq!(
            (first.host.as_str(), first.port, first.security),
            ("imap.example.com", 143, Security::Starttls)
        );
        assert_eq!(first.username, "ann.lee");
        assert_eq!(
            config.incoming[1].auth,
            [Auth::OAuth2, Auth::PasswordCleartext]
        );
        assert_eq!(config.incoming[1].username, "ann.lee@example.com");
        assert_eq!(
            config.outgoing[1].username, "ann.lee@example.com",
            "default: the address"
        );
        assert_eq!(config.protocols(), [Protocol::Imap, Protocol::Pop3]);
    }

    #[test]
    fn implicit_tls_then_starttls_and_never_plain_unless_asked() {
        let config = parse(EXAMPLE, "ann@example.com").unwrap();
        let imap = config.best_incoming(Protocol::Imap, false).unwrap();
        assert_eq!((imap.port, imap.security), (993, Security::Tls));
        assert_eq!(config.best_incoming(Protocol::Pop3, false), None);
        let pop = config.best_incoming(Protocol::Pop3, true).unwrap();
        assert_eq!(pop.security, Security::Plain);
        // The TLS submission server takes OAuth2 only: the password one comes first.
        let smtp = config.best_outgoing(false).unwrap();
        assert_eq!((smtp.port, smtp.security), (587, Security::Starttls));
    }

    #[test]
    fn broken_or_foreign_documents_are_clear_errors() {
        assert!(matches!(
            parse("<clientConfig><emailProvider>", "a@b.c"),
            Err(AutoconfigError::NotXml(_))
        ));
        assert_eq!(
            parse("<html><body>Not found</body></html>", "a@b.c"),
            Err(AutoconfigError::NotAutoconfig)
        );
        assert_eq!(
            parse("<clientConfig version=\"1.1\"/>", "a@b.c"),
            Err(AutoconfigError::NotAutoconfig)
        );
        let useless = r#"<clientConfig><emailProvider id="x">
            <incomingServer type="imap"><hostname>bad host</hostname><port>993</port>
              <socketType>SSL</socketType></incomingServer>
            <incomingServer type="imap"><hostname>imap.x</hostname><port>99999</port>
              <socketType>SSL</socketType></incomingServer>
            <incomingServer type="imap"><hostname>imap.x</hostname><port>993</port>
              <socketType>magic</socketType></incomingServer>
            </emailProvider></clientConfig>"#;
        assert_eq!(parse(useless, "a@x"), Err(AutoconfigError::NoServers));
        let huge = format!("<clientConfig>{}</clientConfig>", " ".repeat(MAX_DOCUMENT));
        assert!(matches!(
            parse(&huge, "a@b.c"),
            Err(AutoconfigError::TooLarge(_))
        ));
        // Entity expansion cannot blow up (roxmltree limits it).
        let laughs = r#"<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa">
            <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
            <!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;"><!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;">
            <!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;"><!ENTITY g "&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;">]>
            <clientConfig><emailProvider id="&g;"/></clientConfig>"#;
        assert!(parse(laughs, "a@b.c").is_err());
    }
}
