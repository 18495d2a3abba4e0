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
    #[error("the password command for {account} failed ({status}){said}; check --password-cmd")]
    CommandFailed {
        account: String,
        status: String,
        /// What it printed on stderr (its last line, shortened), as `: …`, or empty.
        said: String,
    },
    #[error(
        "the password command for {account} did not finish within {seconds} s (is it waiting for input nobody can give?); check --password-cmd"
    )]
    CommandTimedOut { account: String, seconds: u64 },
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

/// How long a password command may take (a prompt that nobody answers would hang for ever).
pub const PASSWORD_COMMAND_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// Most bytes read from a password command's stdout or stderr.
const MAX_COMMAND_OUTPUT: u64 = 64 * 1024;

/// Runs `command` through the shell and returns the first line it prints (like msmtp's
/// passwordeval). `account` names the account in errors; its stdout never appears in one,
/// its stderr does (what went wrong, in its own words). At most `PASSWORD_COMMAND_TIMEOUT`.
pub async fn password_from_command(
    account: &str,
    command: &str,
) -> Result<Secret, CredentialError> {
    password_from_command_within(account, command, PASSWORD_COMMAND_TIMEOUT).await
}

/// `password_from_command` with another time limit.
pub async fn password_from_command_within(
    account: &str,
    command: &str,
    limit: std::time::Duration,
) -> Result<Secret, CredentialError> {
    use tokio::io::AsyncReadExt as _;
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
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|source| CredentialError::CommandStart {
            account: account.to_owned(),
            source,
        })?;
    let stdout = child.stdout.take();
    let stderr = child.stderr.take();
    // The child moves into the future: a timeout drops it, and that kills the command.
    let run = async move {
        let mut out = Vec::new();
        let mut err = Vec::new();
        // Both at once: a command that fills one pipe while Tern waits on the other would
        // never finish.
        let read_out = async {
            if let Some(stdout) = stdout {
                let _ = stdout.take(MAX_COMMAND_OUTPUT).read_to_end(&mut out).await;
            }
        };
        let read_err = async {
            if let Some(stderr) = stderr {
                let _ = stderr.take(MAX_COMMAND_OUTPUT).read_to_end(&mut err).await;
            }
        };
        tokio::join!(read_out, read_err);
        let status = child.wait().await;
        (status, out, err)
    };
    let Ok((status, stdout, stderr)) = tokio::time::timeout(limit, run).await else {
        return Err(CredentialError::CommandTimedOut {
            account: account.to_owned(),
            seconds: limit.as_secs(),
        });
    };
    let status = status.map_err(|source| CredentialError::CommandStart {
        account: account.to_owned(),
        source,
    })?;
    if !status.success() {
        let text = String::from_utf8_lossy(&stderr);
        let last: String = text
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or_default()
            .chars()
            .filter(|c| !c.is_control())
            .take(300)
            .collect();
        return Err(CredentialError::CommandFailed {
            account: account.to_owned(),
            status: status.to_string(),
            said: if last.trim().is_empty() {
                String::new()
            } else {
                format!(": {}", last.trim())
            },
        });
    }
    let text = String::from_utf8_lossy(&stdout);
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
        // Its own words on stderr are shown; its stdout never is.
        let err = password_from_command(
            "jo",
            "echo hunter2; echo 'gpg: decryption failed: No secret key' >&2; exit 2",
        )
        .await
        .unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("gpg: decryption failed: No secret key"),
            "{text}"
        );
        assert!(!text.contains("hunter2"), "{text}");
        // A command that waits for ever is cut off.
        let started = std::time::Instant::now();
        let err =
            password_from_command_within("jo", "sleep 30", std::time::Duration::from_millis(300))
                .await
                .unwrap_err();
        assert!(
            matches!(err, CredentialError::CommandTimedOut { .. }),
            "{err}"
        );
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
        let err = password_from_command("jo", "true").await.unwrap_err();
        assert!(matches!(err, CredentialError::CommandEmpty { .. }), "{err}");
    }
}
