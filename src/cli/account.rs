//! `tern account add|set` options: the servers, login and trust `set` changes (keeping the
//! cache, or resetting it when asked), the POP3 retention options (as Thunderbird and classic
//! Outlook offer them) and the check interval.

use std::path::PathBuf;

use anyhow::bail;
use clap::Args;

use crate::account::settings::normalize_fingerprint;
use crate::account::{Account, Protocol, Security, ServerAddr};
use crate::store::Store;

/// What `account set` can change beyond the mail options; each one left out stays as it is.
#[derive(Debug, Args, Default)]
pub struct ServerOptions {
    /// Incoming server as HOST:PORT, e.g. imap.example.com:993.
    #[arg(long, value_name = "HOST:PORT", value_parser = super::parse_addr)]
    incoming: Option<ServerAddr>,
    #[arg(long, value_name = "tls|starttls|plain", value_parser = super::parse_security)]
    incoming_security: Option<Security>,
    /// Outgoing (submission) server as HOST:PORT, e.g. smtp.example.com:465.
    #[arg(long, value_name = "HOST:PORT", value_parser = super::parse_addr)]
    outgoing: Option<ServerAddr>,
    #[arg(long, value_name = "tls|starttls|plain", value_parser = super::parse_security)]
    outgoing_security: Option<Security>,
    /// Login name for both servers.
    #[arg(long)]
    login: Option<String>,
    /// The email address sent from.
    #[arg(long)]
    email: Option<String>,
    /// Your name as shown in From:.
    #[arg(long)]
    display_name: Option<String>,
    /// Command whose first output line is the password ("" to use the OS keyring again).
    #[arg(long, value_name = "CMD")]
    password_cmd: Option<String>,
    /// Extra CA or self-signed certificate (PEM) to trust ("" for the system's CAs only).
    #[arg(long, value_name = "PEM")]
    ca_file: Option<PathBuf>,
    /// Pin the server certificate by its SHA-256 fingerprint, hex ("" to remove the pin).
    #[arg(long, value_name = "HEX")]
    cert_sha256: Option<String>,
    /// Text appended to messages sent from this account (after a "-- " line; "" for none).
    #[arg(long, value_name = "TEXT")]
    signature: Option<String>,
    /// With a new incoming server or login that is another mailbox: drop the cached copies
    /// (IMAP) or forget which of the old server's messages are here (POP3; the messages stay).
    #[arg(long, conflicts_with = "keep_cache")]
    reset_cache: bool,
    /// With a new incoming server or login that is the same mailbox under a new name: keep
    /// the cache as it is.
    #[arg(long)]
    keep_cache: bool,
}

/// Applies `changes` (and the mail options `pop3`, already checked) to `account` in one
/// transaction, with the checks of `account add`; a new incoming server or login needs
/// `--reset-cache` or `--keep-cache` (the cache may belong to another mailbox).
pub(super) fn apply_servers(
    store: &Store,
    account: &Account,
    changes: &ServerOptions,
    pop3: Option<&crate::account::settings::Pop3Options>,
) -> anyhow::Result<()> {
    let old = &account.settings;
    let mut new = old.clone();
    if let Some(addr) = &changes.incoming {
        new.incoming = addr.clone();
    }
    if let Some(security) = changes.incoming_security {
        new.incoming_security = security;
    }
    if let Some(addr) = &changes.outgoing {
        new.outgoing = addr.clone();
    }
    if let Some(security) = changes.outgoing_security {
        new.outgoing_security = security;
    }
    if let Some(login) = &changes.login {
        new.login = login.clone();
    }
    if let Some(email) = &changes.email {
        new.email = email.trim().to_owned();
    }
    if let Some(name) = &changes.display_name {
        new.display_name = name.clone();
    }
    if let Some(cmd) = &changes.password_cmd {
        new.password_cmd = (!cmd.is_empty()).then(|| cmd.clone());
    }
    if let Some(ca) = &changes.ca_file {
        new.ca_file = if ca.as_os_str().is_empty() {
            None
        } else {
            super::check_ca_file(ca)?;
            Some(std::path::absolute(ca).unwrap_or_else(|_| ca.clone()))
        };
    }
    if let Some(pin) = &changes.cert_sha256 {
        new.cert_sha256 = if pin.is_empty() {
            None
        } else {
            Some(normalize_fingerprint(pin)?)
        };
    }
    if let Some(signature) = &changes.signature
        && signature.chars().any(|c| c.is_control() && c != '\n')
    {
        bail!("the signature must not contain control characters other than line breaks");
    }
    new.validate()?;
    let moved =
        !new.incoming.host.eq_ignore_ascii_case(&old.incoming.host) || new.login != old.login;
    if changes.reset_cache && !moved {
        bail!(
            "--reset-cache is for a new incoming server or login, and neither changes here: nothing was changed"
        );
    }
    if moved && !changes.reset_cache && !changes.keep_cache {
        let kept = match old.protocol {
            Protocol::Imap => {
                "--reset-cache drops the cached copies and downloads the new mailbox (the outbox is kept)"
            }
            Protocol::Pop3 => {
                "--reset-cache makes Tern forget which of the old server's messages it has and download the new server's (the messages here are kept either way)"
            }
        };
        bail!(
            "a new incoming server or login may point {:?} at another mailbox, and its cache belongs to the old one: nothing was changed; add --keep-cache if it is the same mailbox under a new name, or {kept}",
            old.name
        );
    }
    let plain = |new: Security, old: Security| new == Security::Plain && old != Security::Plain;
    if plain(new.incoming_security, old.incoming_security)
        || plain(new.outgoing_security, old.outgoing_security)
    {
        eprintln!(
            "warning: account {:?} sends its password without encryption (security plain)",
            old.name
        );
    }
    let signature = changes.signature.as_deref();
    if new != *old || signature.is_some() || pop3.is_some() {
        // One transaction: a crash leaves the old settings and cache, or the new ones. A reset
        // is refused (and nothing changes) while changes wait for the server.
        let change = crate::store::AccountChange {
            reset_cache: moved && changes.reset_cache,
            signature,
            pop3,
            ..Default::default()
        };
        let dropped = store.change_account(account.id, &new, &change)?;
        if dropped > 0 {
            eprintln!(
                "{}: dropped {dropped} cached messages of the old mailbox",
                old.name
            );
        }
        if old.password_cmd.is_none() && new.password_cmd.is_some() {
            // The keyring entry is no longer used.
            super::forget_password(store, account);
        }
    }
    Ok(())
}

/// Options `account add` and `account set` share.
#[derive(Debug, Args, Default)]
pub struct MailOptions {
    /// POP3: leave messages on the server after downloading them (default yes).
    #[arg(long, value_name = "yes|no", value_parser = parse_yes_no)]
    pub leave_on_server: Option<bool>,
    /// POP3: delete messages from the server N days after downloading them (0: never).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(i64).range(0..=36500))]
    pub delete_after_days: Option<i64>,
    /// POP3: delete a message from the server when it is deleted here (default no).
    #[arg(long, value_name = "yes|no", value_parser = parse_yes_no)]
    pub delete_on_server_when_deleted: Option<bool>,
    /// POP3: download only the headers of messages over N KB; the rest comes when opened
    /// (0: download every message whole, the default).
    #[arg(long, value_name = "KB", value_parser = clap::value_parser!(i64).range(0..=4_000_000))]
    pub headers_only_over_kb: Option<i64>,
    /// How often to check for new mail, in minutes (POP3 default 10; IMAP accounts without IDLE
    /// default 5).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(i64).range(1..=1440))]
    pub check_minutes: Option<i64>,
}

fn parse_yes_no(s: &str) -> Result<bool, String> {
    match s.to_ascii_lowercase().as_str() {
        "yes" | "y" | "true" | "on" => Ok(true),
        "no" | "n" | "false" | "off" => Ok(false),
        _ => Err(format!("{s:?}: write yes or no")),
    }
}

impl MailOptions {
    fn any_pop3(&self) -> bool {
        self.leave_on_server.is_some()
            || self.delete_after_days.is_some()
            || self.delete_on_server_when_deleted.is_some()
            || self.headers_only_over_kb.is_some()
    }

    fn is_empty(&self) -> bool {
        !self.any_pop3() && self.check_minutes.is_none()
    }
}

/// Refuses POP3 options for an IMAP account.
pub(super) fn check_protocol(
    protocol: Protocol,
    name: &str,
    options: &MailOptions,
) -> anyhow::Result<()> {
    if options.any_pop3() && protocol != Protocol::Pop3 {
        bail!(
            "--leave-on-server, --delete-after-days, --delete-on-server-when-deleted and --headers-only-over-kb are for POP3 accounts; {name:?} is IMAP (the server keeps its mail)"
        );
    }
    Ok(())
}

/// Applies `options` to `account` (nothing given: nothing changes). POP3 options on an IMAP
/// account, or an age limit while messages are not left on the server, are refused.
pub(super) fn apply(store: &Store, account: &Account, options: &MailOptions) -> anyhow::Result<()> {
    if let Some(pop3) = options_after(account, options)? {
        store.set_pop3_options(account.id, &pop3)?;
    }
    Ok(())
}

/// What `options` make of `account`'s options (None: nothing given), refusing what does not
/// fit, without writing anything.
pub(super) fn options_after(
    account: &Account,
    options: &MailOptions,
) -> anyhow::Result<Option<crate::account::settings::Pop3Options>> {
    if options.is_empty() {
        return Ok(None);
    }
    check_protocol(account.settings.protocol, &account.settings.name, options)?;
    let mut pop3 = account.pop3_options();
    if let Some(leave) = options.leave_on_server {
        pop3.leave_on_server = leave;
    }
    if let Some(days) = options.delete_after_days {
        pop3.delete_after_days = (days > 0).then_some(days);
    }
    if let Some(delete) = options.delete_on_server_when_deleted {
        pop3.delete_when_deleted = delete;
    }
    if let Some(kb) = options.headers_only_over_kb {
        pop3.max_message_size = (kb > 0).then_some(kb.saturating_mul(1024));
    }
    if let Some(minutes) = options.check_minutes {
        pop3.poll_seconds = minutes.saturating_mul(60);
    }
    if !pop3.leave_on_server && options.delete_after_days.is_some_and(|d| d > 0) {
        bail!(
            "--delete-after-days needs --leave-on-server yes: with no, messages leave the server as soon as they are here"
        );
    }
    Ok(Some(pop3))
}

/// What `account set` prints: the options now in force.
pub(super) fn describe(account: &Account) -> String {
    let minutes = account.poll_seconds / 60;
    let s = &account.settings;
    let servers = format!(
        "{} {}:{} {}, SMTP {}:{} {}, login {}",
        s.protocol.as_str().to_ascii_uppercase(),
        s.incoming.host,
        s.incoming.port,
        s.incoming_security.as_str(),
        s.outgoing.host,
        s.outgoing.port,
        s.outgoing_security.as_str(),
        s.login
    );
    if account.settings.protocol != Protocol::Pop3 {
        return format!("{}: {servers}; checks every {minutes} min", s.name);
    }
    let kept = if !account.pop3_leave_on_server {
        "messages are deleted from the server once downloaded".to_owned()
    } else {
        let mut kept = "messages stay on the server".to_owned();
        if let Some(days) = account.pop3_delete_after_days {
            kept.push_str(&format!(" for {days} days"));
        }
        if account.pop3_delete_when_deleted {
            kept.push_str(" until deleted here");
        }
        kept
    };
    let limit = account
        .pop3_max_message_size
        .map(|b| format!("; headers only over {} KB", b / 1024))
        .unwrap_or_default();
    format!(
        "{}: {servers}; {kept}{limit}; checks every {minutes} min",
        s.name
    )
}

/// How a report names the two servers: "incoming (IMAP host:993, tls)", "outgoing (SMTP …)".
pub(super) fn server_labels(s: &crate::account::AccountSettings) -> (String, String) {
    (
        format!(
            "incoming ({} {}:{}, {})",
            s.protocol.as_str().to_ascii_uppercase(),
            s.incoming.host,
            s.incoming.port,
            s.incoming_security.as_str()
        ),
        format!(
            "outgoing (SMTP {}:{}, {})",
            s.outgoing.host,
            s.outgoing.port,
            s.outgoing_security.as_str()
        ),
    )
}

/// `tern account verify`: logs in to both servers and says how each went.
pub(super) fn verify(account: &Account, json: bool) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let password = rt.block_on(super::sync::password_for(account))?;
    let result = rt.block_on(crate::engine::verify::verify_account(account, &password));
    let s = &account.settings;
    let (incoming, outgoing) = server_labels(s);
    if json {
        let side = |r: &Result<(), crate::engine::EngineError>| {
            serde_json::json!({
                "ok": r.is_ok(),
                "error": r.as_ref().err().map(ToString::to_string),
            })
        };
        println!(
            "{}",
            serde_json::json!({
                "incoming": side(&result.incoming),
                "outgoing": side(&result.outgoing),
            })
        );
    }
    let mut failed = Vec::new();
    for (what, outcome) in [(&incoming, &result.incoming), (&outgoing, &result.outgoing)] {
        match outcome {
            Ok(()) => eprintln!("{}: {what}: logged in", s.name),
            Err(e) => failed.push(format!("{what}: {e}")),
        }
    }
    if failed.is_empty() {
        Ok(())
    } else {
        anyhow::bail!("{}: {}", s.name, failed.join("; "))
    }
}
