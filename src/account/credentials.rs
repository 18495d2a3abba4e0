//! Passwords: from a password command or the OS keyring. They are never stored in the database,
//! never logged, and `Secret` hides them from `Debug` output and panic messages.

use std::fmt;
use std::process::Stdio;

/// A password in memory. Its `Debug` prints `Secret(***)`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: String) -> Secret {
        Secret(value)
    }

    /// The password itself, for the one place that sends it to a server.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Why no password could be had.
#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    #[error("the password command for {account} could not run: {source}; check --password-cmd")]
    CommandStart {
        account: String,
        source: std::io::Error,
    },
    #[error("the password command for {account} failed ({status}); run it by hand to see why")]
    CommandFailed { account: String, status: String },
    #[error("the password command for {account} printed no password")]
    CommandEmpty { account: String },
    #[error(
        "the OS keyring has no password for {account}; add it with `tern account password {account}` or use --password-cmd"
    )]
    NotInKeyring { account: String },
    #[error("the OS keyring is not available ({0}); use --password-cmd instead")]
    Keyring(String),
}

/// The keyring entry of an account: service "tern", user "login@host".
fn keyring_entry(login: &str, host: &str) -> Result<keyring::Entry, CredentialError> {
    keyring::Entry::new("tern", &format!("{login}@{host}"))
        .map_err(|e| CredentialError::Keyring(e.to_string()))
}

/// An account's password without asking anyone: its password command, else the OS keyring.
/// (The CLI adds a terminal prompt on top; the desktop app never prompts on a terminal.)
pub async fn password_for(account: &super::Account) -> Result<Secret, CredentialError> {
    let s = &account.settings;
    match &s.password_cmd {
        Some(cmd) => password_from_command(&s.name, cmd).await,
        None => password_from_keyring(&s.name, &s.login, &s.incoming.host),
    }
}

/// Runs `command` through the shell and returns the first line it prints (like msmtp's
/// passwordeval). `account` names the account in errors; the output never appears in one.
pub async fn password_from_command(
    account: &str,
    command: &str,
) -> Result<Secret, CredentialError> {
    #[cfg(windows)]
    let mut cmd = {
        let mut c = tokio::process::Command::new("cmd");
        c.arg("/C").arg(command);
        c
    };
    #[cfg(not(windows))]
    let mut cmd = {
        let mut c = tokio::process::Command::new("sh");
        c.arg("-c").arg(command);
        c
    };
    let output = cmd
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .await
        .map_err(|source| CredentialError::CommandStart {
            account: account.to_owned(),
            source,
        })?;
    if !output.status.success() {
        return Err(CredentialError::CommandFailed {
            account: account.to_owned(),
            status: output.status.to_string(),
        });
    }
    let text = String::from_utf8_lossy(&output.stdout);
    let line = text.lines().next().unwrap_or("").trim_end_matches('\r');
    if line.is_empty() {
        return Err(CredentialError::CommandEmpty {
            account: account.to_owned(),
        });
    }
    Ok(Secret(line.to_owned()))
}

/// Reads the password for `login` at `host` from the OS keyring.
pub fn password_from_keyring(
    account: &str,
    login: &str,
    host: &str,
) -> Result<Secret, CredentialError> {
    match keyring_entry(login, host)?.get_password() {
        Ok(p) => Ok(Secret(p)),
        Err(keyring::Error::NoEntry) => Err(CredentialError::NotInKeyring {
            account: account.to_owned(),
        }),
        Err(e) => Err(CredentialError::Keyring(e.to_string())),
    }
}

/// Stores the password for `login` at `host` in the OS keyring.
pub fn save_to_keyring(login: &str, host: &str, password: &Secret) -> Result<(), CredentialError> {
    keyring_entry(login, host)?
        .set_password(password.expose())
        .map_err(|e| CredentialError::Keyring(e.to_string()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[tokio::test]
    async fn password_command_first_line() {
        let secret = password_from_command("jo", "printf 'hunter2\\nsecond\\n'")
            .await
            .unwrap();
        assert_eq!(secret.expose(), "hunter2");
        assert_eq!(format!("{secret:?}"), "Secret(***)");
        let err = password_from_command("jo", "exit 3").await.unwrap_err();
        assert!(err.to_string().contains("failed"), "{err}");
        let err = password_from_command("jo", "true").await.unwrap_err();
        assert!(matches!(err, CredentialError::CommandEmpty { .. }), "{err}");
    }
}
