//! The setup wizard's work, off the UI thread: discovery (`engine::discover`), verification of
//! both servers (`engine::verify`), and saving the account with its password in the OS keyring
//! (or, where no keyring can keep it, in memory for this run).

use crate::account::autoconfig::Sources;
use crate::account::credentials::{self, Secret};
use crate::account::{Account, AccountSettings};
use crate::engine::discover::CertificateInfo;
use crate::engine::discover::Discovery;
use crate::store::Store;

/// Looks up the servers of `address`.
pub async fn discover(
    address: String,
    sources: Result<Sources, String>,
) -> Result<Discovery, String> {
    let sources = sources?;
    crate::engine::discover::discover(&address, &sources)
        .await
        .map_err(|e| e.to_string())
}

/// Why the servers did not take the settings.
#[derive(Debug, Clone)]
pub struct CheckFailed {
    /// What failed, one sentence per server.
    pub reason: String,
    /// The certificate that could not be verified, when that is what failed and both servers
    /// showed the same one (one pin covers both).
    pub certificate: Option<Box<CertificateInfo>>,
}

/// Logs in to both servers with `settings` and the password (typed, or from the settings'
/// password command). Nothing is stored.
pub async fn verify(settings: AccountSettings, password: Secret) -> Result<(), CheckFailed> {
    let failed = |reason: String| CheckFailed {
        reason,
        certificate: None,
    };
    settings.validate().map_err(|e| failed(e.to_string()))?;
    // The CA file is read here, off the window's thread (a slow or odd path never freezes it).
    if let Some(ca) = settings.ca_file.clone() {
        super::blocking(move || {
            crate::engine::verify::check_ca_file(&ca).map_err(|e| format!("CA file: {e}."))
        })
        .await
        .map_err(failed)?;
    }
    let password = match &settings.password_cmd {
        Some(cmd) => credentials::password_from_command(&settings.name, cmd)
            .await
            .map_err(|e| failed(e.to_string()))?,
        None if password.expose().is_empty() => {
            return Err(failed("Enter the password.".into()));
        }
        None => password,
    };
    let account = Account::unsaved(settings);
    let result = crate::engine::verify::verify_account(&account, &password).await;
    let mut reasons = Vec::new();
    let mut certificates = Vec::new();
    for (what, outcome) in [
        ("Incoming server", &result.incoming),
        ("Outgoing server", &result.outgoing),
    ] {
        if let Err(e) = outcome {
            certificates.extend(e.certificate().cloned().map(|c| (what, c)));
            reasons.push(format!("{what}: {e}"));
        }
    }
    if reasons.is_empty() {
        return Ok(());
    }
    // A pin replaces the certificate checks of both servers: it is offered only when both
    // showed this one certificate (pinning one server's would break the other's).
    let offer = match certificates.as_slice() {
        [(_, first), (_, second)] if first.sha256 == second.sha256 => Some(Box::new(first.clone())),
        [] => None,
        [(what, _)] => {
            reasons.push(format!(
                "Only the {} certificate is not trusted here. A trusted certificate (a pin) would cover both servers, so trust the CA that issued it with the CA file field instead (your provider or administrator has it).",
                what.to_lowercase().replace("server", "server's")
            ));
            None
        }
        _ => {
            reasons.push(
                "A trusted certificate (a pin) would cover both servers, and they do not show the same one: trust the CA that issued them with the CA file field instead.".into(),
            );
            None
        }
    };
    Err(CheckFailed {
        reason: reasons.join("\n"),
        certificate: offer,
    })
}

/// Stores the account and keeps its password: in the OS keyring, or, when none can keep it,
/// in memory for this run (said in the notice). Returns the notice.
pub async fn save(
    store: Store,
    settings: AccountSettings,
    password: Secret,
) -> Result<(i64, String), String> {
    super::blocking(move || {
        let account = store.add_account(&settings).map_err(|e| e.to_string())?;
        let name = &account.settings.email;
        if account.settings.password_cmd.is_some() || password.expose().is_empty() {
            return Ok((account.id, format!("{name} is set up.")));
        }
        let secret = password;
        let notice = match credentials::save_to_keyring(&account, &secret) {
            Ok(()) => format!("{name} is set up. Its password is in the system keyring."),
            Err(_) => {
                credentials::remember_for_session(&account, secret);
                format!(
                    "{name} is set up. No system keyring can keep its password here, so Tern keeps it only while it runs and asks for it again next time."
                )
            }
        };
        Ok((account.id, notice))
    })
    .await
}

/// An account name not yet taken: the address, or the address with " (2)", " (3)", ….
pub async fn free_name(store: Store, address: String) -> Result<String, String> {
    super::blocking(move || {
        let taken: Vec<String> = store
            .accounts()
            .map_err(|e| e.to_string())?
            .into_iter()
            .map(|a| a.settings.name)
            .collect();
        let mut name = address.clone();
        let mut n = 2;
        while taken.contains(&name) {
            name = format!("{address} ({n})");
            n += 1;
        }
        Ok(name)
    })
    .await
}

/// Puts a password typed in the window into the OS keyring.
pub async fn keep_password(account: Account, password: Secret) -> Result<(), String> {
    super::blocking(move || {
        credentials::save_to_keyring(&account, &password).map_err(|e| {
            format!(
                "The password of {} is kept only while Tern runs: {e}",
                account.settings.name
            )
        })
    })
    .await
}

/// Tries a password typed in the window on the account's incoming server: Ok(true) it logged
/// in, Ok(false) the server could not be reached (the password cannot be judged), Err the
/// server refused it (its words).
pub async fn check_password(account: Account, password: Secret) -> Result<bool, String> {
    match crate::engine::verify::verify_incoming(&account, &password).await {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == crate::engine::Kind::Auth => Err(e.to_string()),
        Err(_) => Ok(false),
    }
}
