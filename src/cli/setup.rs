//! `tern account discover ADDRESS`: what each discovery source found for an address, which one
//! is used, and why the others failed; `tern account setup ADDRESS`: discovery, verification
//! (with the offer to trust a certificate) and saving in one step.

use std::io::IsTerminal as _;
use std::path::PathBuf;

use anyhow::bail;

use crate::account::autoconfig::{Attempt, ProviderConfig, ServerConfig, ServerKind, Sources};
use crate::account::credentials::{self, Secret};
use crate::account::settings::normalize_fingerprint;
use crate::account::{Account, AccountSettings, Protocol, ServerAddr};
use crate::engine::discover::{Discovery, discover};
use crate::engine::verify::verify_account;
use crate::store::Store;

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

/// `tern account setup ADDRESS --name N …`: discovery, verification and saving in one step.
#[derive(Debug, clap::Args)]
pub struct SetupAccount {
    /// The email address, e.g. jo@example.com.
    address: String,
    /// Account name, used with --account.
    #[arg(long)]
    name: String,
    /// Your name as shown in From: (defaults to the account name).
    #[arg(long)]
    display_name: Option<String>,
    /// imap or pop3 (default: IMAP when the provider offers it).
    #[arg(long, value_name = "imap|pop3", value_parser = super::parse_protocol)]
    protocol: Option<Protocol>,
    /// Login name (default: what the provider's settings say, usually the address).
    #[arg(long)]
    login: Option<String>,
    /// Command whose first output line is the password (otherwise it is asked on the terminal,
    /// or one line is read from standard input, and kept in the OS keyring).
    #[arg(long, value_name = "CMD")]
    password_cmd: Option<String>,
    /// Extra CA or self-signed certificate (PEM) to trust for this account.
    #[arg(long, value_name = "PEM")]
    ca_file: Option<PathBuf>,
    /// Trust exactly the server certificate with this SHA-256 fingerprint (hex).
    #[arg(long, value_name = "HEX")]
    cert_sha256: Option<String>,
    /// Accept servers without encryption when nothing else is offered.
    #[arg(long)]
    allow_plain: bool,
    /// Use servers outside the address's domain that only DNS (SRV records, which anyone on
    /// the path can forge) named, without asking.
    #[arg(long)]
    yes: bool,
}

/// Runs `tern account setup`.
pub(super) fn setup(store: &Store, args: SetupAccount) -> anyhow::Result<()> {
    if let Some(ca) = &args.ca_file {
        super::check_ca_file(ca)?;
    }
    let cert_sha256 = args
        .cert_sha256
        .as_deref()
        .map(normalize_fingerprint)
        .transpose()?;
    if store.find_account(&args.name).is_ok() {
        bail!(
            "there is already an account named {:?}; choose another --name",
            args.name
        );
    }
    let discovery = find(&args.address)?;
    print!("{}", describe(&discovery));
    let Some((attempt, config)) = discovery.found() else {
        bail!(
            "no settings found for {} (the report gives each source's reason); add the account with `tern account add` and the servers your provider names",
            discovery.domain
        );
    };
    let offered = config.protocols();
    let protocol = match args.protocol {
        Some(p) if offered.contains(&p) => p,
        Some(p) => bail!(
            "{} offers no {} server (only {}); leave out --protocol",
            discovery.domain,
            p.as_str().to_ascii_uppercase(),
            offered
                .iter()
                .map(|p| p.as_str().to_ascii_uppercase())
                .collect::<Vec<_>>()
                .join(" and ")
        ),
        None if offered.contains(&Protocol::Imap) => {
            if offered.contains(&Protocol::Pop3) {
                eprintln!("{}", protocol_choice());
            }
            Protocol::Imap
        }
        None => Protocol::Pop3,
    };
    let plain_hint = if args.allow_plain {
        ""
    } else {
        " with encryption (add --allow-plain to accept one without)"
    };
    let incoming = config
        .best_incoming(protocol, args.allow_plain)
        .ok_or_else(|| {
            anyhow::anyhow!(
                "{} offers no {} server{plain_hint}",
                discovery.domain,
                protocol.as_str().to_ascii_uppercase()
            )
        })?;
    let outgoing = config.best_outgoing(args.allow_plain).ok_or_else(|| {
        anyhow::anyhow!("{} offers no outgoing server{plain_hint}", discovery.domain)
    })?;
    for server in [incoming, outgoing] {
        if !server.takes_password() {
            bail!(
                "{}:{} does not take a password ({}), which is all Tern can sign in with yet; use an app password with `tern account add` if the provider offers one",
                server.host,
                server.port,
                auth_words(&server.auth)
            );
        }
    }
    confirm_outside_domain(&discovery, [incoming, outgoing], args.yes)?;
    let settings = AccountSettings {
        display_name: args.display_name.unwrap_or_else(|| args.name.clone()),
        login: args.login.unwrap_or_else(|| incoming.username.clone()),
        name: args.name,
        email: args.address.trim().to_owned(),
        protocol,
        incoming: ServerAddr {
            host: incoming.host.clone(),
            port: incoming.port,
        },
        incoming_security: incoming.security,
        outgoing: ServerAddr {
            host: outgoing.host.clone(),
            port: outgoing.port,
        },
        outgoing_security: outgoing.security,
        password_cmd: args.password_cmd,
        ca_file: args.ca_file.map(|p| std::path::absolute(&p).unwrap_or(p)),
        cert_sha256,
    };
    settings.validate()?;
    let source = attempt.source.describe();
    if settings.password_cmd.is_none()
        && let Err(why) = credentials::keyring_available()
    {
        eprintln!(
            "tern: no OS keyring can keep the password here ({why}): it is used for this check, and Tern asks for it again when it needs it; `tern account set {} --password-cmd CMD` keeps the account working in scripts",
            settings.name
        );
    }
    let password = ask_password(&settings)?;
    let account = verified(Account::unsaved(settings), &password)?;
    let saved = store.add_account(&account.settings)?;
    let s = &saved.settings;
    if s.password_cmd.is_none()
        && let Err(e) = credentials::save_to_keyring(&saved, &password)
    {
        eprintln!(
            "tern: {}: the password could not be kept in the OS keyring ({e}); Tern will ask for it when it needs it, or give a command that prints it with `tern account set {} --password-cmd CMD`",
            s.name, s.name
        );
    }
    eprintln!(
        "added account {:?} ({}, {} {}:{} and SMTP {}:{}, found by {source}); `tern sync --account {}` fetches its mail",
        s.name,
        s.email,
        s.protocol.as_str().to_ascii_uppercase(),
        s.incoming.host,
        s.incoming.port,
        s.outgoing.host,
        s.outgoing.port,
        s.name
    );
    Ok(())
}

/// The authentication methods, in words.
fn auth_words(auth: &[crate::account::autoconfig::Auth]) -> String {
    use crate::account::autoconfig::Auth;
    let words: Vec<String> = auth
        .iter()
        .map(|a| match a {
            Auth::OAuth2 => "only a sign-in at the provider's web page (OAuth2)".to_owned(),
            Auth::None => "no sign-in at all".to_owned(),
            Auth::PasswordCleartext | Auth::PasswordEncrypted => "a password".to_owned(),
            Auth::Other(name) => name.clone(),
        })
        .collect();
    if words.is_empty() {
        "no method named".to_owned()
    } else {
        words.join(", ")
    }
}

/// A server that only SRV records named outside the address's domain is used only when the
/// user agrees (asked on a terminal, or `--yes`); see `engine::discover::outside_domain`.
fn confirm_outside_domain(
    discovery: &Discovery,
    servers: [&ServerConfig; 2],
    yes: bool,
) -> anyhow::Result<()> {
    if yes {
        return Ok(());
    }
    let hosts = servers.iter().map(|s| s.host.as_str());
    let Some(what) = crate::engine::discover::outside_domain(discovery, hosts) else {
        return Ok(());
    };
    if std::io::stdin().is_terminal() && std::io::stderr().is_terminal() {
        eprint!("{what}. Use it? [y/N] ");
        let mut answer = String::new();
        std::io::stdin().read_line(&mut answer)?;
        if matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes") {
            return Ok(());
        }
        bail!(
            "nothing was added; add the account with `tern account add` and the servers your provider names"
        );
    }
    bail!("{what}; add --yes to use it, or add the account with `tern account add`")
}

/// The one line on each protocol, shown when a provider offers both.
pub(super) fn protocol_choice() -> &'static str {
    "the provider offers IMAP and POP3; using IMAP (give --protocol pop3 for the other):\n  IMAP: mail stays on the server and is the same on every device, and it is cached here for offline reading.\n  POP3: mail is downloaded to this computer, which then holds the authoritative copy, and it can be left on the server for a time."
}

/// The password: the command's, or asked on the terminal, or one line of standard input.
fn ask_password(settings: &AccountSettings) -> anyhow::Result<Secret> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    if let Some(cmd) = &settings.password_cmd {
        return Ok(runtime.block_on(credentials::password_from_command(&settings.name, cmd))?);
    }
    let password = super::sync::read_password(settings)?;
    if password.is_empty() {
        bail!("no password given; give it on standard input, or use --password-cmd");
    }
    Ok(Secret::new(password))
}

/// Logs in to both servers; on a terminal, offers to trust a certificate that could not be
/// verified (then tries again with it pinned). Returns the account as verified.
fn verified(mut account: Account, password: &Secret) -> anyhow::Result<Account> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    loop {
        let result = runtime.block_on(verify_account(&account, password));
        let s = &account.settings;
        let (incoming, outgoing) = super::account::server_labels(s);
        let sides = [(incoming, &result.incoming), (outgoing, &result.outgoing)];
        let mut failed = Vec::new();
        let mut untrusted = Vec::new();
        for (what, outcome) in &sides {
            match outcome {
                Ok(()) => eprintln!("{}: {what}: logged in", s.name),
                Err(e) => {
                    untrusted.extend(e.certificate().cloned());
                    failed.push(format!("{what}: {e}"));
                }
            }
        }
        if failed.is_empty() {
            return Ok(account);
        }
        // One pin covers both servers: it can only be offered when both showed this one
        // certificate (pinning one server's would break the other's).
        let offer = match untrusted.as_slice() {
            [first, second] if first.sha256 == second.sha256 => Some(first.clone()),
            [] => None,
            [one] => {
                failed.push(format!(
                    "only {}'s certificate is not trusted here, and a pin (--cert-sha256) covers both servers: trust the CA that issued it with --ca-file instead",
                    one.server
                ));
                None
            }
            _ => {
                failed.push(
                    "a pin (--cert-sha256) covers both servers, and they do not show the same certificate: trust the CA that issued them with --ca-file instead".into(),
                );
                None
            }
        };
        let interactive = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
        if let Some(cert) = offer.filter(|_| interactive && s.cert_sha256.is_none()) {
            eprintln!(
                "the certificate of {} could not be verified:\n  subject  {}\n  issuer   {}\n  SHA-256  {}",
                cert.server, cert.subject, cert.issuer, cert.sha256
            );
            eprint!("Trust exactly this certificate for this account? [y/N] ");
            let mut answer = String::new();
            std::io::stdin().read_line(&mut answer)?;
            if answer.trim().eq_ignore_ascii_case("y") || answer.trim().eq_ignore_ascii_case("yes")
            {
                account.settings.cert_sha256 = Some(cert.sha256);
                continue;
            }
        }
        bail!(
            "{}: the account was not added: {}",
            s.name,
            failed.join("; ")
        );
    }
}
