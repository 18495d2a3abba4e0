//! Server discovery for the setup wizard: the Thunderbird autoconfig format
//! (`config-v1.1.xml`, as served by providers, their `/.well-known/` URL and the ISPDB),
//! parsed completely, with the username placeholders filled in, and the choice of the best
//! server per protocol (implicit TLS, then STARTTLS, never plain unless asked for); and the
//! lookups of sources 1 to 4 (the domain's URLs, the ISPDB, the ISPDB by MX, SRV records).
//! The guess (source 5) probes mail servers, so it lives in `engine::discover`, which runs
//! all five at once.

mod dns;
mod http;
mod xml;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

pub use dns::Dns;
pub use http::{DEFAULT_TIMEOUT, FetchError, client as http_client};
pub use xml::{Auth, AutoconfigError, ProviderConfig, ServerConfig, ServerKind, parse};

/// The Thunderbird ISPDB; the domain is appended.
pub const ISPDB: &str = "https://autoconfig.thunderbird.net/v1.1/";

/// The ports the guess probes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GuessPorts {
    pub imaps: u16,
    pub imap: u16,
    pub pop3s: u16,
    pub pop3: u16,
    pub submissions: u16,
    pub submission: u16,
}

impl Default for GuessPorts {
    fn default() -> GuessPorts {
        GuessPorts {
            imaps: 993,
            imap: 143,
            pop3s: 995,
            pop3: 110,
            submissions: 465,
            submission: 587,
        }
    }
}

/// Where discovery looks: the real Internet by default; tests point every part at 127.0.0.1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sources {
    /// Base URL of the ISPDB (`TERN_AUTOCONFIG_ISPDB`); the domain is appended.
    pub ispdb: String,
    /// Send the domain's own URLs (`autoconfig.<domain>`, `<domain>`) to this address instead
    /// of looking them up, keeping their names for TLS (`TERN_AUTOCONFIG_CONNECT_TO`).
    pub connect_to: Option<SocketAddr>,
    /// The DNS server for MX, SRV, the guessed hosts and the HTTP lookups
    /// (`TERN_DNS_SERVER`); the system's when None.
    pub dns_server: Option<SocketAddr>,
    /// An extra CA (PEM) the HTTPS fetches trust (`TERN_AUTOCONFIG_CA_FILE`).
    pub ca_file: Option<PathBuf>,
    /// The ports the guess probes (`TERN_AUTOCONFIG_GUESS_PORTS`).
    pub guess_ports: GuessPorts,
    /// How long discovery may take in all.
    pub timeout: Duration,
}

impl Default for Sources {
    fn default() -> Sources {
        Sources {
            ispdb: ISPDB.to_owned(),
            connect_to: None,
            dns_server: None,
            ca_file: None,
            guess_ports: GuessPorts::default(),
            timeout: DEFAULT_TIMEOUT,
        }
    }
}

impl Sources {
    /// The defaults with the environment's overrides (see the README).
    pub fn from_env() -> Result<Sources, String> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let mut sources = Sources::default();
        if let Some(url) = var("TERN_AUTOCONFIG_ISPDB") {
            let parsed = reqwest::Url::parse(url.trim()).map_err(|e| {
                format!("TERN_AUTOCONFIG_ISPDB={url:?} is not a URL ({e}); give one like https://autoconfig.thunderbird.net/v1.1/")
            })?;
            // Plain http only to this machine (a test's ISPDB): settings read over the open
            // network could send the password anywhere.
            let host = parsed
                .host_str()
                .unwrap_or_default()
                .trim_start_matches('[')
                .trim_end_matches(']');
            let loopback = host
                .parse::<std::net::IpAddr>()
                .map_or(host.eq_ignore_ascii_case("localhost"), |ip| {
                    ip.is_loopback()
                });
            if !(parsed.scheme() == "https" || (parsed.scheme() == "http" && loopback)) {
                return Err(format!(
                    "TERN_AUTOCONFIG_ISPDB={url:?} must be an https URL (http only on 127.0.0.1)"
                ));
            }
            let mut base = parsed.to_string();
            if !base.ends_with('/') {
                base.push('/');
            }
            sources.ispdb = base;
        }
        if let Some(addr) = var("TERN_AUTOCONFIG_CONNECT_TO") {
            sources.connect_to = Some(addr.trim().parse().map_err(|_| {
                format!("TERN_AUTOCONFIG_CONNECT_TO={addr:?} is not an address like 127.0.0.1:8443")
            })?);
        }
        if let Some(server) = var("TERN_DNS_SERVER") {
            let server = server.trim();
            let parsed = server
                .parse::<SocketAddr>()
                .or_else(|_| server.parse().map(|ip| SocketAddr::new(ip, 53)));
            sources.dns_server = Some(parsed.map_err(|_| {
                format!(
                    "TERN_DNS_SERVER={server:?} is not an address like 127.0.0.1:5353 or 192.0.2.1"
                )
            })?);
        }
        if let Some(path) = var("TERN_AUTOCONFIG_CA_FILE") {
            sources.ca_file = Some(PathBuf::from(path));
        }
        if let Some(secs) = var("TERN_AUTOCONFIG_TIMEOUT_SECS") {
            let secs: u64 = secs.trim().parse().ok().filter(|s| (1..=300).contains(s)).ok_or_else(|| {
                format!("TERN_AUTOCONFIG_TIMEOUT_SECS={secs:?} is not a number of seconds from 1 to 300")
            })?;
            sources.timeout = Duration::from_secs(secs);
        }
        if let Some(ports) = var("TERN_AUTOCONFIG_GUESS_PORTS") {
            sources.guess_ports = parse_guess_ports(&ports)?;
        }
        Ok(sources)
    }
}

/// `imaps=993,imap=143,…`: any of the six, the rest standard.
fn parse_guess_ports(text: &str) -> Result<GuessPorts, String> {
    let mut ports = GuessPorts::default();
    for item in text.split(',').map(str::trim).filter(|i| !i.is_empty()) {
        let bad = || {
            format!(
                "TERN_AUTOCONFIG_GUESS_PORTS: {item:?} is not NAME=PORT (names: imaps, imap, pop3s, pop3, submissions, submission)"
            )
        };
        let (name, port) = item.split_once('=').ok_or_else(bad)?;
        let port: u16 = port
            .trim()
            .parse()
            .ok()
            .filter(|p| *p != 0)
            .ok_or_else(bad)?;
        let slot = match name.trim() {
            "imaps" => &mut ports.imaps,
            "imap" => &mut ports.imap,
            "pop3s" => &mut ports.pop3s,
            "pop3" => &mut ports.pop3,
            "submissions" => &mut ports.submissions,
            "submission" => &mut ports.submission,
            _ => return Err(bad()),
        };
        *slot = port;
    }
    Ok(ports)
}

/// Where a configuration came from, in the order of preference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Source {
    /// `https://autoconfig.<domain>/mail/config-v1.1.xml`
    Autoconfig,
    /// `https://<domain>/.well-known/autoconfig/mail/config-v1.1.xml`
    WellKnown,
    /// The ISPDB's entry for the domain.
    Ispdb,
    /// The ISPDB's entry for the domain of the domain's mail exchanger.
    Mx,
    /// RFC 6186 / RFC 8314 SRV records.
    Srv,
    /// Common host names on the standard ports, probed.
    Guess,
}

impl Source {
    /// Every source, most preferred first.
    pub const ALL: [Source; 6] = [
        Source::Autoconfig,
        Source::WellKnown,
        Source::Ispdb,
        Source::Mx,
        Source::Srv,
        Source::Guess,
    ];

    /// Its name in `--json` output.
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Autoconfig => "autoconfig",
            Source::WellKnown => "well-known",
            Source::Ispdb => "ispdb",
            Source::Mx => "mx",
            Source::Srv => "srv",
            Source::Guess => "guess",
        }
    }

    /// In words, for people.
    pub fn describe(self) -> &'static str {
        match self {
            Source::Autoconfig => "the domain's autoconfig server",
            Source::WellKnown => "the domain's well-known autoconfig URL",
            Source::Ispdb => "the Thunderbird ISPDB",
            Source::Mx => "the ISPDB entry of the domain's mail host",
            Source::Srv => "the domain's SRV records",
            Source::Guess => "probing common server names",
        }
    }
}

/// One source's answer: where exactly it looked (a URL, a DNS name), and what it found or why
/// not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    pub source: Source,
    pub detail: String,
    pub outcome: Result<ProviderConfig, String>,
}

/// The domain of an address (lower case), or None when it has none.
pub fn domain_of(address: &str) -> Option<String> {
    let (_, domain) = address.rsplit_once('@')?;
    let domain = domain.trim().trim_end_matches('.').to_lowercase();
    (!domain.is_empty()).then_some(domain)
}

/// Source 1: `https://autoconfig.<domain>/mail/config-v1.1.xml?emailaddress=<address>`.
pub async fn from_autoconfig(client: &reqwest::Client, domain: &str, address: &str) -> Attempt {
    let url = reqwest::Url::parse_with_params(
        &format!("https://autoconfig.{domain}/mail/config-v1.1.xml"),
        [("emailaddress", address)],
    );
    fetch_attempt(Source::Autoconfig, client, url, address).await
}

/// Source 1, second URL: `https://<domain>/.well-known/autoconfig/mail/config-v1.1.xml`.
pub async fn from_well_known(client: &reqwest::Client, domain: &str, address: &str) -> Attempt {
    let url = reqwest::Url::parse(&format!(
        "https://{domain}/.well-known/autoconfig/mail/config-v1.1.xml"
    ));
    fetch_attempt(Source::WellKnown, client, url, address).await
}

/// Source 2: the ISPDB's entry for `domain`.
pub async fn from_ispdb(
    client: &reqwest::Client,
    sources: &Sources,
    domain: &str,
    address: &str,
) -> Attempt {
    let url = reqwest::Url::parse(&format!("{}{domain}", sources.ispdb));
    fetch_attempt(Source::Ispdb, client, url, address).await
}

/// Source 3: the ISPDB's entry for the provider that hosts the domain's mail, found by its MX
/// (how a company domain hosted at Google or Microsoft is recognised).
pub async fn from_mx(
    client: &reqwest::Client,
    dns: &Dns,
    sources: &Sources,
    domain: &str,
    address: &str,
) -> Attempt {
    let failed = |detail: String, reason: String| Attempt {
        source: Source::Mx,
        detail,
        outcome: Err(reason),
    };
    let hosts = match dns.mx(domain).await {
        Ok(hosts) => hosts,
        Err(reason) => return failed(format!("MX {domain}"), reason),
    };
    let Some(provider) = hosts.iter().find_map(|host| provider_domain(host)) else {
        return failed(
            format!("MX {domain}"),
            format!("{domain} has no MX record naming a mail host"),
        );
    };
    if provider == domain {
        return failed(
            format!("MX {domain}"),
            format!("the mail host is in {domain} itself (the ISPDB was asked for it already)"),
        );
    }
    let url = reqwest::Url::parse(&format!("{}{provider}", sources.ispdb));
    let mut attempt = fetch_attempt(Source::Mx, client, url, address).await;
    attempt.detail = format!(
        "MX {} → {}",
        hosts.first().map(String::as_str).unwrap_or_default(),
        attempt.detail
    );
    attempt
}

/// Source 4: the domain's SRV records.
pub async fn from_srv(dns: &Dns, domain: &str, address: &str) -> Attempt {
    let outcome = dns.srv(domain, address).await.and_then(|servers| {
        let (incoming, outgoing): (Vec<_>, Vec<_>) = servers
            .into_iter()
            .partition(|s| s.kind != ServerKind::Smtp);
        complete(ProviderConfig {
            id: domain.to_owned(),
            display_name: None,
            domains: vec![domain.to_owned()],
            incoming,
            outgoing,
        })
    });
    Attempt {
        source: Source::Srv,
        detail: format!("_imaps._tcp.{domain} and the other five"),
        outcome,
    }
}

/// A configuration is usable when it names both an incoming and an outgoing server.
pub fn complete(config: ProviderConfig) -> Result<ProviderConfig, String> {
    match (config.incoming.is_empty(), config.outgoing.is_empty()) {
        (false, false) => Ok(config),
        (true, _) => Err("no incoming (IMAP or POP3) server was found".into()),
        (false, true) => Err("no outgoing (SMTP submission) server was found".into()),
    }
}

async fn fetch_attempt(
    source: Source,
    client: &reqwest::Client,
    url: Result<reqwest::Url, impl std::fmt::Display>,
    address: &str,
) -> Attempt {
    let url = match url {
        Ok(url) => url,
        Err(e) => {
            return Attempt {
                source,
                detail: String::new(),
                outcome: Err(format!("cannot make a URL for the domain: {e}")),
            };
        }
    };
    let outcome = http::fetch(client, url.as_str(), address)
        .await
        .map_err(|e| e.to_string())
        .and_then(complete);
    Attempt {
        source,
        detail: url.to_string(),
        outcome,
    }
}

/// The domain under which a mail host is registered, which the ISPDB is asked for:
/// `aspmx.l.google.com` → `google.com`, `x.mail.protection.outlook.com` → `outlook.com`,
/// `mx.example.co.uk` → `example.co.uk` (a second-level label of a two-letter country is
/// kept: `co.uk`, `com.au`).
pub fn provider_domain(host: &str) -> Option<String> {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let labels: Vec<&str> = host.split('.').filter(|l| !l.is_empty()).collect();
    // Only a plain host name goes into the ISPDB's URL (no '/', '?', '#' or '%' from DNS).
    let plain = |label: &&str| {
        label.len() <= 63
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    if !labels.iter().all(plain) {
        return None;
    }
    let n = labels.len();
    if n < 2 {
        return None;
    }
    let tld = labels.get(n - 1)?;
    let second = labels.get(n - 2)?;
    let keep = if tld.len() == 2
        && n >= 3
        && ["co", "com", "net", "org", "ac", "gov", "edu", "ne", "or"].contains(second)
    {
        3
    } else {
        2
    };
    Some(labels.get(n - keep..)?.join("."))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn a_mail_host_that_is_no_plain_name_names_no_provider() {
        assert_eq!(provider_domain("mx.evil.com/../x?"), None);
        assert_eq!(provider_domain("mx.ex%2fample.com"), None);
    }

    #[test]
    fn provider_domains() {
        assert_eq!(
            provider_domain("aspmx.l.google.com.").as_deref(),
            Some("google.com")
        );
        assert_eq!(
            provider_domain("x-y.mail.protection.outlook.com").as_deref(),
            Some("outlook.com")
        );
        assert_eq!(
            provider_domain("mx.example.co.uk").as_deref(),
            Some("example.co.uk")
        );
        assert_eq!(provider_domain("localhost"), None);
    }

    #[test]
    fn guess_ports_and_domains() {
        let ports = parse_guess_ports("imaps=1993, submission=1587").unwrap();
        assert_eq!(ports.imaps, 1993);
        assert_eq!(ports.submission, 1587);
        assert_eq!(ports.pop3, 110);
        assert!(parse_guess_ports("imaps=0").is_err());
        assert!(parse_guess_ports("smtp=25").is_err());
        assert_eq!(domain_of("Jo@Example.COM").as_deref(), Some("example.com"));
        assert_eq!(domain_of("jo"), None);
    }
}
