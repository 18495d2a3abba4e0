//! Discovery's DNS, with hickory-resolver: the domain's MX (to find a hosting provider's
//! ISPDB entry), its RFC 6186 / RFC 8314 SRV records, and the addresses of guessed hosts. The
//! name server is the system's, or the one `Sources::dns_server` names (tests answer from
//! 127.0.0.1). The same resolver serves the HTTP client's lookups (`HttpResolver`), so a
//! discovery pointed at a test name server asks no other.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use hickory_resolver::TokioResolver;
use hickory_resolver::config::{
    ConnectionConfig, NameServerConfig, ResolveHosts, ResolverConfig, ResolverOpts,
};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::proto::rr::RData;

use super::{ServerConfig, ServerKind};
use crate::account::Security;

/// How long one DNS question may take (then it is asked once more).
const QUERY_TIMEOUT: Duration = Duration::from_secs(3);

/// Most SRV targets or MX hosts kept per name, the best ones (an answer is bounded by the DNS
/// message size: 64 KiB at most).
const MAX_RECORDS: usize = 16;

/// A resolver for discovery.
#[derive(Clone)]
pub struct Dns {
    resolver: Arc<TokioResolver>,
}

impl std::fmt::Debug for Dns {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Dns")
    }
}

impl Dns {
    /// The system's resolver, or one asking only `server` (UDP, then TCP for long answers).
    pub fn new(server: Option<SocketAddr>) -> Result<Dns, String> {
        let mut options = ResolverOpts::default();
        options.timeout = QUERY_TIMEOUT;
        options.attempts = 2;
        let builder = match server {
            Some(server) => {
                let mut udp = ConnectionConfig::udp();
                udp.port = server.port();
                let mut tcp = ConnectionConfig::tcp();
                tcp.port = server.port();
                let config = ResolverConfig::from_name_servers(vec![NameServerConfig::new(
                    server.ip(),
                    true,
                    vec![udp, tcp],
                )]);
                // A test name server answers for everything: no hosts file, no search list.
                options.use_hosts_file = ResolveHosts::Never;
                TokioResolver::builder_with_config(config, TokioRuntimeProvider::default())
            }
            None => TokioResolver::builder_tokio()
                .map_err(|e| format!("cannot read the system's DNS settings: {e}"))?,
        };
        let resolver = builder
            .with_options(options)
            .build()
            .map_err(|e| format!("cannot set up DNS: {e}"))?;
        Ok(Dns {
            resolver: Arc::new(resolver),
        })
    }

    /// The mail exchangers of `domain`, most preferred first.
    pub async fn mx(&self, domain: &str) -> Result<Vec<String>, String> {
        let lookup = self
            .resolver
            .mx_lookup(fqdn(domain))
            .await
            .map_err(|e| describe(&e, "MX", domain))?;
        let mut found: Vec<(u16, String)> = lookup
            .answers()
            .iter()
            .filter_map(|record| match &record.data {
                RData::MX(mx) => Some((mx.preference, host_text(&mx.exchange.to_ascii()))),
                _ => None,
            })
            .filter(|(_, host)| !host.is_empty())
            .collect();
        found.sort();
        found.truncate(MAX_RECORDS);
        Ok(found.into_iter().map(|(_, host)| host).collect())
    }

    /// The servers RFC 6186 and RFC 8314 SRV records name for `domain`, each kind's best
    /// first (priority, then weight). A target of "." (the service is not offered) is left out.
    pub async fn srv(&self, domain: &str, username: &str) -> Result<Vec<ServerConfig>, String> {
        const SERVICES: [(&str, ServerKind, Security); 6] = [
            ("_imaps._tcp", ServerKind::Imap, Security::Tls),
            ("_imap._tcp", ServerKind::Imap, Security::Starttls),
            ("_pop3s._tcp", ServerKind::Pop3, Security::Tls),
            ("_pop3._tcp", ServerKind::Pop3, Security::Starttls),
            ("_submissions._tcp", ServerKind::Smtp, Security::Tls),
            ("_submission._tcp", ServerKind::Smtp, Security::Starttls),
        ];
        let lookups = SERVICES.map(|(service, kind, security)| {
            let resolver = Arc::clone(&self.resolver);
            let name = fqdn(&format!("{service}.{domain}"));
            async move { (kind, security, service, resolver.srv_lookup(name).await) }
        });
        let mut servers = Vec::new();
        let mut errors = Vec::new();
        for (kind, security, service, result) in join_all(lookups).await {
            let lookup = match result {
                Ok(lookup) => lookup,
                Err(e) if e.is_no_records_found() || e.is_nx_domain() => continue,
                Err(e) => {
                    errors.push(describe(&e, "SRV", &format!("{service}.{domain}")));
                    continue;
                }
            };
            let mut found: Vec<(u16, std::cmp::Reverse<u16>, String, u16)> = lookup
                .answers()
                .iter()
                .filter_map(|record| match &record.data {
                    RData::SRV(srv) => Some((
                        srv.priority,
                        std::cmp::Reverse(srv.weight),
                        host_text(&srv.target.to_ascii()),
                        srv.port,
                    )),
                    _ => None,
                })
                .filter(|(_, _, host, port)| !host.is_empty() && *port != 0)
                .collect();
            found.sort();
            found.truncate(MAX_RECORDS);
            servers.extend(found.into_iter().map(|(_, _, host, port)| ServerConfig {
                kind,
                host,
                port,
                security,
                auth: Vec::new(),
                username: username.to_owned(),
            }));
        }
        if servers.is_empty() {
            return Err(match errors.first() {
                Some(error) => error.clone(),
                None => format!("{domain} has no IMAP, POP3 or submission SRV records"),
            });
        }
        Ok(servers)
    }

    /// The addresses of `host`.
    pub async fn addresses(&self, host: &str) -> Result<Vec<IpAddr>, String> {
        let lookup = self
            .resolver
            .lookup_ip(fqdn(host))
            .await
            .map_err(|e| describe(&e, "address", host))?;
        Ok(lookup.iter().take(MAX_RECORDS).collect())
    }
}

/// Waits for every future (a handful, all started at once).
async fn join_all<F: std::future::Future>(futures: [F; 6]) -> [F::Output; 6] {
    let [a, b, c, d, e, f] = futures;
    let (a, b, c, d, e, f) = tokio::join!(a, b, c, d, e, f);
    [a, b, c, d, e, f]
}

/// `name` as a fully qualified name (one question, no search list).
fn fqdn(name: &str) -> String {
    if name.ends_with('.') {
        name.to_owned()
    } else {
        format!("{name}.")
    }
}

/// A DNS name as a host name: no final dot, lower case; "" for the root ("." = not offered).
fn host_text(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

fn describe(error: &hickory_resolver::net::NetError, what: &str, name: &str) -> String {
    if error.is_nx_domain() || error.is_no_records_found() {
        format!("no {what} record for {name}")
    } else {
        format!("the {what} lookup of {name} failed: {error}")
    }
}

/// The resolver as the HTTP client's (reqwest) host lookup.
pub struct HttpResolver(pub Dns);

impl reqwest::dns::Resolve for HttpResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let dns = self.0.clone();
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addresses = dns.addresses(&host).await?;
            let addrs: reqwest::dns::Addrs = Box::new(
                addresses
                    .into_iter()
                    .map(|ip| SocketAddr::new(ip, 0))
                    .collect::<Vec<_>>()
                    .into_iter(),
            );
            Ok(addrs)
        })
    }
}
