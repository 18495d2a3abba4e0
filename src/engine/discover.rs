//! Discovering an address's servers for the setup wizard: the five sources of
//! `account::autoconfig` (the domain's autoconfig URL and well-known URL, the ISPDB, the ISPDB
//! by MX, SRV records) plus the guess (common host names on the standard ports, probed with
//! `protocol::probe`), all asked at once within one overall timeout. The answer is the most
//! preferred source that gave a usable configuration, taken as soon as every more preferred
//! source has failed; every source's outcome is kept, so `tern account discover` and the
//! wizard can say what failed and why.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::task::JoinSet;

use crate::account::Security;
use crate::account::autoconfig::{
    self, Attempt, Dns, GuessPorts, ProviderConfig, ServerConfig, ServerKind, Source, Sources,
};
use crate::protocol::probe::{self, Mode, Service};

pub use crate::protocol::tls::CertificateInfo;

/// How long one guess probe may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(6);

/// What discovery found for an address.
#[derive(Debug, Clone)]
pub struct Discovery {
    pub address: String,
    pub domain: String,
    /// Every source, most preferred first, with what it gave.
    pub attempts: Vec<Attempt>,
    /// Index in `attempts` of the configuration to use.
    pub chosen: Option<usize>,
}

impl Discovery {
    /// The configuration to use, and where it came from.
    pub fn found(&self) -> Option<(&Attempt, &ProviderConfig)> {
        let attempt = self.attempts.get(self.chosen?)?;
        attempt
            .outcome
            .as_ref()
            .ok()
            .map(|config| (attempt, config))
    }
}

/// Why discovery could not even start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct DiscoverError(pub String);

/// Looks for the servers of `address` in every source at once (see the module comment).
pub async fn discover(address: &str, sources: &Sources) -> Result<Discovery, DiscoverError> {
    crate::account::settings::validate_email(address).map_err(|e| DiscoverError(e.0))?;
    let domain = autoconfig::domain_of(address)
        .ok_or_else(|| DiscoverError(format!("{address:?} has no domain after the @")))?;
    let dns = Dns::new(sources.dns_server).map_err(DiscoverError)?;
    let client = autoconfig::http_client(sources, &domain, &dns).map_err(DiscoverError)?;

    let deadline = tokio::time::Instant::now() + sources.timeout;
    // The guess reports what answered a little before the end, rather than being cut off.
    let guess_deadline = deadline
        .checked_sub(Duration::from_millis(500))
        .unwrap_or(deadline);
    let mut set = JoinSet::new();
    for (index, source) in Source::ALL.into_iter().enumerate() {
        let (client, dns, sources) = (client.clone(), dns.clone(), sources.clone());
        let (domain, address) = (domain.clone(), address.to_owned());
        set.spawn(async move {
            let attempt = match source {
                Source::Autoconfig => autoconfig::from_autoconfig(&client, &domain, &address).await,
                Source::WellKnown => autoconfig::from_well_known(&client, &domain, &address).await,
                Source::Ispdb => autoconfig::from_ispdb(&client, &sources, &domain, &address).await,
                Source::Mx => autoconfig::from_mx(&client, &dns, &sources, &domain, &address).await,
                Source::Srv => autoconfig::from_srv(&dns, &domain, &address).await,
                Source::Guess => {
                    guess(&dns, &domain, &address, sources.guess_ports, guess_deadline).await
                }
            };
            (index, attempt)
        });
    }

    let mut done: Vec<Option<Attempt>> = vec![None; Source::ALL.len()];
    let mut timed_out = false;
    while decided(&done).is_none() && done.iter().any(Option::is_none) {
        match tokio::time::timeout_at(deadline, set.join_next()).await {
            Ok(Some(Ok((index, attempt)))) => {
                if let Some(slot) = done.get_mut(index) {
                    *slot = Some(attempt);
                }
            }
            // A task that panicked stays unfinished (reported as such below).
            Ok(Some(Err(_))) => {}
            Ok(None) => break,
            Err(_) => {
                timed_out = true;
                break;
            }
        }
    }
    set.abort_all();
    let chosen = decided(&done).or_else(|| {
        done.iter()
            .position(|a| a.as_ref().is_some_and(|a| a.outcome.is_ok()))
    });
    let attempts = Source::ALL
        .into_iter()
        .zip(done)
        .map(|(source, attempt)| {
            attempt.unwrap_or_else(|| Attempt {
                source,
                detail: String::new(),
                outcome: Err(if chosen.is_some() && !timed_out {
                    "not needed: a more preferred source answered first".to_owned()
                } else {
                    format!("no answer within {} s", sources.timeout.as_secs())
                }),
            })
        })
        .collect();
    Ok(Discovery {
        address: address.to_owned(),
        domain,
        attempts,
        chosen,
    })
}

/// SRV records are unsigned DNS answers (anyone on the path can forge them): when the found
/// settings came from them and name `hosts` outside the address's domain, the caution to show
/// the user before the password goes there (RFC 6186 section 6). Autoconfig documents come over
/// HTTPS from the domain or the ISPDB, and guesses are inside the domain.
pub fn outside_domain<'a>(
    discovery: &Discovery,
    hosts: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    let (attempt, _) = discovery.found()?;
    if attempt.source != Source::Srv {
        return None;
    }
    let domain = discovery.domain.as_str();
    let suffix = format!(".{domain}");
    let outside: Vec<&str> = hosts
        .into_iter()
        .filter(|host| {
            let host = host.to_ascii_lowercase();
            host != domain && !host.ends_with(&suffix)
        })
        .collect();
    if outside.is_empty() {
        return None;
    }
    Some(format!(
        "{domain}'s SRV records name {}, outside {domain}; DNS answers are not signed, so check that this is your provider",
        outside.join(" and ")
    ))
}

/// The first source with a usable answer, once every more preferred source has finished.
fn decided(done: &[Option<Attempt>]) -> Option<usize> {
    for (index, attempt) in done.iter().enumerate() {
        match attempt {
            None => return None,
            Some(attempt) if attempt.outcome.is_ok() => return Some(index),
            Some(_) => {}
        }
    }
    None
}

/// Source 5: `imap.`, `mail.`, `pop3.`, `pop.` and `smtp.` the domain on the standard ports,
/// each probed for its service, implicit TLS before STARTTLS.
async fn guess(
    dns: &Dns,
    domain: &str,
    address: &str,
    ports: GuessPorts,
    deadline: tokio::time::Instant,
) -> Attempt {
    let candidates: Vec<(ServerKind, String, u16, Security)> = [
        (ServerKind::Imap, "imap", ports.imaps, Security::Tls),
        (ServerKind::Imap, "mail", ports.imaps, Security::Tls),
        (ServerKind::Imap, "imap", ports.imap, Security::Starttls),
        (ServerKind::Imap, "mail", ports.imap, Security::Starttls),
        (ServerKind::Pop3, "pop3", ports.pop3s, Security::Tls),
        (ServerKind::Pop3, "pop", ports.pop3s, Security::Tls),
        (ServerKind::Pop3, "mail", ports.pop3s, Security::Tls),
        (ServerKind::Pop3, "pop3", ports.pop3, Security::Starttls),
        (ServerKind::Pop3, "pop", ports.pop3, Security::Starttls),
        (ServerKind::Pop3, "mail", ports.pop3, Security::Starttls),
        (ServerKind::Smtp, "smtp", ports.submissions, Security::Tls),
        (ServerKind::Smtp, "mail", ports.submissions, Security::Tls),
        (
            ServerKind::Smtp,
            "smtp",
            ports.submission,
            Security::Starttls,
        ),
        (
            ServerKind::Smtp,
            "mail",
            ports.submission,
            Security::Starttls,
        ),
    ]
    .into_iter()
    .map(|(kind, prefix, port, security)| (kind, format!("{prefix}.{domain}"), port, security))
    .collect();

    // Each name is looked up once.
    let mut names: Vec<String> = candidates.iter().map(|c| c.1.clone()).collect();
    names.sort();
    names.dedup();
    let mut lookups = JoinSet::new();
    for name in names {
        let dns = dns.clone();
        lookups.spawn(async move {
            let found = dns.addresses(&name).await;
            (name, found)
        });
    }
    let mut addresses = std::collections::HashMap::new();
    let mut lookup_errors = Vec::new();
    while let Ok(Some(joined)) = tokio::time::timeout_at(deadline, lookups.join_next()).await {
        if let Ok((name, found)) = joined {
            match found {
                Ok(ips) if !ips.is_empty() => {
                    addresses.insert(name, ips);
                }
                Ok(_) => lookup_errors.push(format!("{name} has no address")),
                Err(e) => lookup_errors.push(e),
            }
        }
    }

    let mut probes = JoinSet::new();
    for (index, (kind, host, port, security)) in candidates.iter().enumerate() {
        // IPv4 first: a host with both is reachable on more networks that way.
        let Some(ip) = addresses.get(host).and_then(|ips| {
            ips.iter()
                .find(|ip| ip.is_ipv4())
                .or_else(|| ips.first())
                .copied()
        }) else {
            continue;
        };
        let (kind, host, port, security) = (*kind, host.clone(), *port, *security);
        probes.spawn(async move {
            let service = match kind {
                ServerKind::Imap => Service::Imap,
                ServerKind::Pop3 => Service::Pop3,
                ServerKind::Smtp => Service::Submission,
            };
            let mode = match security {
                Security::Tls => Mode::ImplicitTls,
                _ => Mode::Starttls,
            };
            let result = probe::probe(
                SocketAddr::new(ip, port),
                &host,
                service,
                mode,
                PROBE_TIMEOUT,
            )
            .await;
            (index, result)
        });
    }
    let mut answered = vec![false; candidates.len()];
    let mut probe_errors = Vec::new();
    while let Ok(Some(joined)) = tokio::time::timeout_at(deadline, probes.join_next()).await {
        if let Ok((index, result)) = joined {
            match result {
                Ok(()) => {
                    if let Some(slot) = answered.get_mut(index) {
                        *slot = true;
                    }
                }
                Err(e) => {
                    if let Some((_, host, port, _)) = candidates.get(index) {
                        probe_errors.push(format!("{host}:{port}: {e}"));
                    }
                }
            }
        }
    }

    let best = |kind: ServerKind| {
        candidates
            .iter()
            .zip(&answered)
            .find(|((k, ..), ok)| *k == kind && **ok)
            .map(|((kind, host, port, security), _)| ServerConfig {
                kind: *kind,
                host: host.clone(),
                port: *port,
                security: *security,
                auth: Vec::new(),
                username: address.to_owned(),
            })
    };
    let config = ProviderConfig {
        id: domain.to_owned(),
        display_name: None,
        domains: vec![domain.to_owned()],
        incoming: [best(ServerKind::Imap), best(ServerKind::Pop3)]
            .into_iter()
            .flatten()
            .collect(),
        outgoing: best(ServerKind::Smtp).into_iter().collect(),
    };
    let outcome = autoconfig::complete(config).map_err(|missing| {
        let mut why = vec![missing];
        why.extend(lookup_errors.into_iter().take(3));
        why.extend(probe_errors.into_iter().take(3));
        why.join("; ")
    });
    Attempt {
        source: Source::Guess,
        detail: format!(
            "imap., mail., pop3., pop. and smtp.{domain} on ports {}, {}, {}, {}, {}, {}",
            ports.imaps, ports.imap, ports.pop3s, ports.pop3, ports.submissions, ports.submission
        ),
        outcome,
    }
}
