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

/// The keyring service every Tern entry is under.
const SERVICE: &str = "tern";

/// The keyring entry of an account: service "tern", user "account-<key>", where the key is
/// random and stored with the account (never reused, unlike the id). Renaming the account or
/// changing its address, login or server keeps the entry.
fn keyring_entry(account: &super::Account) -> Result<keyring::Entry, CredentialError> {
    if account.keyring_key.is_empty() {
        return Err(CredentialError::Keyring(
            "the account is not saved yet, so it has no keyring entry".into(),
        ));
    }
    keyring::Entry::new(SERVICE, &keyring_user(account))
        .map_err(|e| CredentialError::Keyring(e.to_string()))
}

/// The keyring user name of an account's entry (service "tern").
pub fn keyring_user(account: &super::Account) -> String {
    format!("account-{}", account.keyring_key)
}

/// The entry earlier versions used ("login@host"), read once and moved to `keyring_entry`.
fn legacy_entry(login: &str, host: &str) -> Result<keyring::Entry, CredentialError> {
    keyring::Entry::new(SERVICE, &format!("{login}@{host}"))
        .map_err(|e| CredentialError::Keyring(e.to_string()))
}

/// Whether the OS keyring can keep a password, found once per process by writing and deleting a
/// probe entry (a read is not enough: a keyring with no login collection answers reads with
/// "no entry" but refuses writes). `Err` says why not, in words.
pub fn keyring_available() -> Result<(), String> {
    static AVAILABLE: std::sync::OnceLock<Result<(), String>> = std::sync::OnceLock::new();
    AVAILABLE.get_or_init(probe_keyring).clone()
}

fn probe_keyring() -> Result<(), String> {
    let entry = keyring::Entry::new(SERVICE, &format!("probe-{}", std::process::id()))
        .map_err(|e| e.to_string())?;
    entry.set_password("probe").map_err(|e| e.to_string())?;
    match entry.delete_credential() {
        Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
        Err(e) => Err(e.to_string()),
    }
}

/// An account's password without asking anyone: its password command, else the OS keyring.
/// (The CLI adds a terminal prompt on top; the desktop app never prompts on a terminal.)
pub async fn password_for(account: &super::Account) -> Result<Secret, CredentialError> {
    let s = &account.settings;
    match &s.password_cmd {
        Some(cmd) => password_from_command(&s.name, cmd).await,
        None => match password_from_keyring(account) {
            Ok(secret) => Ok(secret),
            Err(e) => session_password(account).ok_or(e),
        },
    }
}

/// Passwords given this run for accounts whose keyring could not keep them, by keyring key:
/// in memory only, gone when the process ends (then asked again).
static SESSION: std::sync::Mutex<Vec<(String, Secret)>> = std::sync::Mutex::new(Vec::new());

/// Keeps `password` for `account` in memory until the process ends (when no keyring can keep
/// it). It is never written anywhere.
pub fn remember_for_session(account: &super::Account, password: Secret) {
    let mut session = SESSION
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    session.retain(|(key, _)| *key != account.keyring_key);
    session.push((account.keyring_key.clone(), password));
}

/// Forgets every password given this run (as at the end of the process).
pub fn forget_session_passwords() {
    SESSION
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clear();
}

fn session_password(account: &super::Account) -> Option<Secret> {
    if account.keyring_key.is_empty() {
        return None;
    }
    let session = SESSION
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    session
        .iter()
        .find(|(key, _)| *key == account.keyring_key)
        .map(|(_, secret)| secret.clone())
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
        // Both at once: a command that fills one pipe while Tern waits on the other would
        // never finish.
        let (out, err) = tokio::join!(read_bounded(stdout), read_bounded(stderr));
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

/// Reads up to `MAX_COMMAND_OUTPUT` bytes of a command's pipe. What comes past the limit is
/// read and dropped, so a chatty command is not stopped by a full pipe (and then reported as
/// too slow).
async fn read_bounded(pipe: Option<impl tokio::io::AsyncRead + Unpin>) -> Vec<u8> {
    use tokio::io::AsyncReadExt as _;
    let mut bytes = Vec::new();
    if let Some(mut pipe) = pipe {
        let _ = (&mut pipe)
            .take(MAX_COMMAND_OUTPUT)
            .read_to_end(&mut bytes)
            .await;
        let _ = tokio::io::copy(&mut pipe, &mut tokio::io::sink()).await;
    }
    bytes
}

/// Reads an account's password from the OS keyring. An entry under the old key (login@host)
/// is copied to the account's own.
pub fn password_from_keyring(account: &super::Account) -> Result<Secret, CredentialError> {
    let s = &account.settings;
    match keyring_entry(account)?.get_password() {
        Ok(p) => return Ok(Secret(p)),
        Err(keyring::Error::NoEntry) => {}
        Err(e) => return Err(CredentialError::Keyring(e.to_string())),
    }
    let legacy = legacy_entry(&s.login, &s.incoming.host)?;
    match legacy.get_password() {
        Ok(p) => {
            // Copied, not moved: another account (or data directory) with the same login and
            // server may still read it there. It goes when the last of them is removed.
            let secret = Secret(p);
            let _ = save_to_keyring(account, &secret);
            Ok(secret)
        }
        Err(keyring::Error::NoEntry) => Err(CredentialError::NotInKeyring {
            account: s.name.clone(),
        }),
        Err(e) => Err(CredentialError::Keyring(e.to_string())),
    }
}

/// Keeps an account's password in the OS keyring.
pub fn save_to_keyring(account: &super::Account, password: &Secret) -> Result<(), CredentialError> {
    keyring_entry(account)?
        .set_password(password.expose())
        .map_err(|e| CredentialError::Keyring(e.to_string()))
}

/// Removes an account's password from the OS keyring (none there is fine), and the entry under
/// the old login@host key too when `with_legacy` (no other account uses that login and server).
pub fn delete_from_keyring(
    account: &super::Account,
    with_legacy: bool,
) -> Result<(), CredentialError> {
    let s = &account.settings;
    let mut entries = vec![keyring_entry(account)?];
    if with_legacy {
        entries.push(legacy_entry(&s.login, &s.incoming.host)?);
    }
    for entry in entries {
        match entry.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => {}
            Err(e) => return Err(CredentialError::Keyring(e.to_string())),
        }
    }
    Ok(())
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
        // One that prints far more than is read still finishes (the rest is dropped).
        let secret = password_from_command_within(
            "jo",
            "echo hunter2; head -c 1000000 /dev/zero",
            std::time::Duration::from_secs(10),
        )
        .await
        .unwrap();
        assert_eq!(secret.expose(), "hunter2");
    }

    /// A keyring in memory, through keyring's own credential-builder interface (keyring's
    /// mock store keeps nothing between entries, so it cannot show a password surviving a
    /// rename). `refuse_writes` behaves like gnome-keyring with no login collection: reads
    /// say "no entry", writes fail.
    mod memory {
        use std::collections::HashMap;
        use std::sync::{Arc, Mutex};

        use keyring::credential::{Credential, CredentialApi, CredentialBuilderApi};

        #[derive(Debug, Default, Clone)]
        pub struct Keyring {
            pub entries: Arc<Mutex<HashMap<String, Vec<u8>>>>,
            pub refuse_writes: Arc<Mutex<bool>>,
        }

        #[derive(Debug)]
        struct Entry {
            key: String,
            keyring: Keyring,
        }

        impl CredentialApi for Entry {
            fn set_secret(&self, secret: &[u8]) -> keyring::Result<()> {
                if *self.keyring.refuse_writes.lock().unwrap() {
                    return Err(keyring::Error::NoStorageAccess(
                        "no login collection".into(),
                    ));
                }
                self.keyring
                    .entries
                    .lock()
                    .unwrap()
                    .insert(self.key.clone(), secret.to_vec());
                Ok(())
            }
            fn get_secret(&self) -> keyring::Result<Vec<u8>> {
                let entries = self.keyring.entries.lock().unwrap();
                entries
                    .get(&self.key)
                    .cloned()
                    .ok_or(keyring::Error::NoEntry)
            }
            fn delete_credential(&self) -> keyring::Result<()> {
                let mut entries = self.keyring.entries.lock().unwrap();
                entries
                    .remove(&self.key)
                    .map(|_| ())
                    .ok_or(keyring::Error::NoEntry)
            }
            fn as_any(&self) -> &dyn std::any::Any {
                self
            }
        }

        impl CredentialBuilderApi for Keyring {
            fn build(
                &self,
                _target: Option<&str>,
                service: &str,
                user: &str,
            ) -> keyring::Result<Box<Credential>> {
                Ok(Box::new(Entry {
                    key: format!("{service}/{user}"),
                    keyring: self.clone(),
                }))
            }
            fn as_any(&self) -> &dyn std::any::Any {
                self
            }
        }
    }

    // The only test that touches the keyring (the default store is global to the process).
    #[test]
    fn keyring_entries_follow_the_account_id_and_a_refusing_keyring_is_detected() {
        let keyring = memory::Keyring::default();
        keyring::set_default_credential_builder(Box::new(keyring.clone()));
        let mut account = crate::account::Account::unsaved(crate::account::AccountSettings {
            name: "jo".into(),
            display_name: "Jo".into(),
            email: "jo@example.com".into(),
            protocol: crate::account::Protocol::Imap,
            incoming: crate::account::ServerAddr::parse("imap.example.com:993").unwrap(),
            incoming_security: crate::account::Security::Tls,
            outgoing: crate::account::ServerAddr::parse("smtp.example.com:465").unwrap(),
            outgoing_security: crate::account::Security::Tls,
            login: "jo@example.com".into(),
            password_cmd: None,
            ca_file: None,
            cert_sha256: None,
        });
        account.id = 7;
        account.keyring_key = "k7".into();
        assert!(matches!(
            password_from_keyring(&account),
            Err(CredentialError::NotInKeyring { .. })
        ));

        // An entry of an earlier version (login@host) is read and copied to the account's key.
        keyring.entries.lock().unwrap().insert(
            "tern/jo@example.com@imap.example.com".into(),
            b"old".to_vec(),
        );
        assert_eq!(password_from_keyring(&account).unwrap().expose(), "old");
        {
            let entries = keyring.entries.lock().unwrap();
            assert_eq!(
                entries.get("tern/account-k7").map(Vec::as_slice),
                Some(&b"old"[..])
            );
            assert!(entries.contains_key("tern/jo@example.com@imap.example.com"));
        }

        // Renaming the account or changing its login and server keeps its password.
        save_to_keyring(&account, &Secret::new("new".into())).unwrap();
        account.settings.name = "work".into();
        account.settings.login = "jo".into();
        account.settings.incoming =
            crate::account::ServerAddr::parse("mail.example.org:993").unwrap();
        assert_eq!(password_from_keyring(&account).unwrap().expose(), "new");

        // Removing the account removes its entry, and the old one when no other account uses it.
        delete_from_keyring(&account, false).unwrap();
        assert_eq!(keyring.entries.lock().unwrap().len(), 1);
        account.settings.login = "jo@example.com".into();
        account.settings.incoming =
            crate::account::ServerAddr::parse("imap.example.com:993").unwrap();
        delete_from_keyring(&account, true).unwrap();
        assert!(keyring.entries.lock().unwrap().is_empty());
        delete_from_keyring(&account, true).unwrap();

        // The probe writes and deletes: it leaves nothing, and it sees a keyring that reads
        // ("no entry") but refuses writes.
        assert_eq!(probe_keyring(), Ok(()));
        assert!(keyring.entries.lock().unwrap().is_empty());
        *keyring.refuse_writes.lock().unwrap() = true;
        assert!(matches!(
            password_from_keyring(&account),
            Err(CredentialError::NotInKeyring { .. })
        ));
        let refused = probe_keyring().unwrap_err();
        assert!(refused.contains("no login collection"), "{refused}");
        let err = save_to_keyring(&account, &Secret::new("x".into())).unwrap_err();
        assert!(err.to_string().contains("--password-cmd"), "{err}");
    }
}
