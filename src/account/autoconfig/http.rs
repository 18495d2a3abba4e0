//! Discovery's HTTP: fetching autoconfig documents from the domain's own URLs and the ISPDB
//! with reqwest over native-tls (the TLS stack the mail connections use; certificates
//! verified, no proxy, no cookies). Host names are looked up with discovery's resolver; the
//! domain's URLs can be sent to one address instead (`Sources::connect_to`), their names kept
//! for TLS, which is how tests serve them from 127.0.0.1.

use std::sync::Arc;
use std::time::Duration;

use super::dns::{Dns, HttpResolver};
use super::{AutoconfigError, ProviderConfig, Sources, parse};

/// Largest answer read (autoconfig documents are a few KiB).
const MAX_BODY: usize = 256 * 1024;

/// Most redirects followed.
const MAX_REDIRECTS: usize = 5;

/// The HTTP client discovery uses for `domain`.
pub fn client(sources: &Sources, domain: &str, dns: &Dns) -> Result<reqwest::Client, String> {
    let policy = reqwest::redirect::Policy::custom(|attempt| {
        let downgrade = attempt.url().scheme() != "https"
            && attempt
                .previous()
                .last()
                .is_some_and(|url| url.scheme() == "https");
        if attempt.previous().len() > MAX_REDIRECTS {
            attempt.error("too many redirects")
        } else if downgrade {
            attempt.error("a redirect from https to plain http")
        } else {
            attempt.follow()
        }
    });
    let mut builder = reqwest::Client::builder()
        .no_proxy()
        .user_agent(concat!("Tern/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(sources.timeout)
        .timeout(sources.timeout)
        .redirect(policy)
        .dns_resolver(Arc::new(HttpResolver(dns.clone())));
    if let Some(addr) = sources.connect_to {
        builder = builder
            .resolve(&format!("autoconfig.{domain}"), addr)
            .resolve(domain, addr);
    }
    if let Some(path) = &sources.ca_file {
        let pem = std::fs::read(path)
            .map_err(|e| format!("cannot read the CA file {}: {e}", path.display()))?;
        let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| {
            format!(
                "the CA file {} is not a PEM certificate: {e}",
                path.display()
            )
        })?;
        for cert in certs {
            builder = builder.add_root_certificate(cert);
        }
    }
    builder
        .build()
        .map_err(|e| format!("cannot set up HTTP: {}", chain(&e)))
}

/// Why a fetch gave no settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchError {
    /// The server answered that it has no document (404, 410): an expected miss.
    NotFound(u16),
    /// Anything else, in words.
    Failed(String),
}

impl std::fmt::Display for FetchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FetchError::NotFound(status) => write!(f, "no document there (HTTP {status})"),
            FetchError::Failed(reason) => f.write_str(reason),
        }
    }
}

/// Fetches `url` and reads it as an autoconfig document for `address`.
pub async fn fetch(
    client: &reqwest::Client,
    url: &str,
    address: &str,
) -> Result<ProviderConfig, FetchError> {
    let failed = |e: reqwest::Error| FetchError::Failed(chain(&e));
    let mut response = client.get(url).send().await.map_err(failed)?;
    let status = response.status();
    if status == reqwest::StatusCode::NOT_FOUND || status == reqwest::StatusCode::GONE {
        return Err(FetchError::NotFound(status.as_u16()));
    }
    if !status.is_success() {
        return Err(FetchError::Failed(format!(
            "the server answered HTTP {status}"
        )));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(failed)? {
        if body.len().saturating_add(chunk.len()) > MAX_BODY {
            return Err(FetchError::Failed(
                AutoconfigError::TooLarge(body.len().saturating_add(chunk.len())).to_string(),
            ));
        }
        body.extend_from_slice(&chunk);
    }
    let text = String::from_utf8(body)
        .map_err(|_| FetchError::Failed("the document is not UTF-8 text".into()))?;
    parse(&text, address).map_err(|e| FetchError::Failed(e.to_string()))
}

/// The words of an error's causes (reqwest's own top lines say only "error sending request
/// for url …" and "client error (Connect)"; the causes say refused, timed out or certificate).
fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut source = Some(error);
    while let Some(cause) = source {
        let text = cause.to_string();
        let generic = text.starts_with("error sending request")
            || text.starts_with("client error")
            || text.starts_with("error following redirect");
        if !generic && !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = cause.source();
    }
    if parts.is_empty() {
        parts.push(error.to_string());
    }
    let mut words = parts.join(": ");
    if let Some(e) = find::<reqwest::Error>(error)
        && e.is_timeout()
    {
        words.push_str(" (no answer in time)");
    }
    words
}

fn find<'a, T: std::error::Error + 'static>(
    error: &'a (dyn std::error::Error + 'static),
) -> Option<&'a T> {
    let mut source = Some(error);
    while let Some(e) = source {
        if let Some(found) = e.downcast_ref::<T>() {
            return Some(found);
        }
        source = e.source();
    }
    None
}

/// How long discovery waits in all, by default.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(15);
