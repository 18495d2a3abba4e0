//! `tern account discover ADDRESS`: what each discovery source found for an address, which one
//! is used, and why the others failed.

use crate::account::autoconfig::{Attempt, ProviderConfig, ServerConfig, ServerKind, Sources};
use crate::engine::discover::{Discovery, discover};

/// Runs discovery for `address` with the environment's overrides.
pub(super) fn find(address: &str) -> anyhow::Result<Discovery> {
    let sources = Sources::from_env().map_err(anyhow::Error::msg)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    eprintln!(
        "looking up settings for {}…",
        crate::account::autoconfig::domain_of(address).unwrap_or_else(|| address.to_owned())
    );
    Ok(runtime.block_on(discover(address, &sources))?)
}

/// `tern account discover ADDRESS [--json]`.
pub(super) fn discover_command(address: &str, json: bool) -> anyhow::Result<()> {
    let discovery = find(address)?;
    if json {
        println!("{}", discovery_json(&discovery));
    } else {
        print!("{}", describe(&discovery));
    }
    if discovery.found().is_none() {
        anyhow::bail!(
            "no settings found for {} (the report gives each source's reason); add the account with `tern account add` and the servers your provider names",
            discovery.domain
        );
    }
    Ok(())
}

/// The text report: what was found and from where, then every other source's outcome.
pub(super) fn describe(discovery: &Discovery) -> String {
    let mut out = String::new();
    match discovery.found() {
        Some((attempt, config)) => {
            out.push_str(&format!(
                "{}: found by {} ({})\n",
                discovery.address,
                attempt.source.describe(),
                attempt.detail
            ));
            if let Some(name) = &config.display_name {
                out.push_str(&format!("  provider  {name}\n"));
            }
            for server in config.incoming.iter().chain(&config.outgoing) {
                out.push_str(&format!("  {}\n", server_line(server)));
            }
        }
        None => out.push_str(&format!("{}: no settings found\n", discovery.address)),
    }
    for (index, attempt) in discovery.attempts.iter().enumerate() {
        if Some(index) == discovery.chosen {
            continue;
        }
        let what = match &attempt.outcome {
            Ok(_) => "also answered (less preferred)".to_owned(),
            Err(e) => e.clone(),
        };
        let detail = if attempt.detail.is_empty() {
            String::new()
        } else {
            format!(" ({})", attempt.detail)
        };
        out.push_str(&format!(
            "  - {}{detail}: {what}\n",
            attempt.source.describe()
        ));
    }
    out
}

fn kind_name(kind: ServerKind) -> &'static str {
    match kind {
        ServerKind::Imap => "IMAP",
        ServerKind::Pop3 => "POP3",
        ServerKind::Smtp => "SMTP",
    }
}

fn server_line(server: &ServerConfig) -> String {
    let auth = if server.takes_password() {
        String::new()
    } else {
        " (needs a sign-in Tern cannot do with a password)".to_owned()
    };
    format!(
        "{:<4}  {}:{} {}, login {}{auth}",
        kind_name(server.kind),
        server.host,
        server.port,
        server.security.as_str(),
        server.username
    )
}

fn server_json(server: &ServerConfig) -> serde_json::Value {
    serde_json::json!({
        "protocol": kind_name(server.kind).to_ascii_lowercase(),
        "host": server.host,
        "port": server.port,
        "security": server.security.as_str(),
        "login": server.username,
        "auth": server.auth.iter().map(|a| format!("{a:?}")).collect::<Vec<_>>(),
        "password_works": server.takes_password(),
    })
}

fn config_json(config: &ProviderConfig) -> serde_json::Value {
    serde_json::json!({
        "provider": config.id,
        "display_name": config.display_name,
        "incoming": config.incoming.iter().map(server_json).collect::<Vec<_>>(),
        "outgoing": config.outgoing.iter().map(server_json).collect::<Vec<_>>(),
    })
}

fn attempt_json(attempt: &Attempt) -> serde_json::Value {
    serde_json::json!({
        "source": attempt.source.as_str(),
        "detail": attempt.detail,
        "ok": attempt.outcome.is_ok(),
        "error": attempt.outcome.as_ref().err(),
    })
}

/// The `--json` document (a README contract).
pub(super) fn discovery_json(discovery: &Discovery) -> serde_json::Value {
    let found = discovery.found().map(|(attempt, config)| {
        let mut value = config_json(config);
        if let Some(map) = value.as_object_mut() {
            map.insert("source".into(), attempt.source.as_str().into());
            map.insert("detail".into(), attempt.detail.clone().into());
        }
        value
    });
    serde_json::json!({
        "address": discovery.address,
        "domain": discovery.domain,
        "found": found,
        "sources": discovery.attempts.iter().map(attempt_json).collect::<Vec<_>>(),
    })
}
