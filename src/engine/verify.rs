//! Verifying an account's settings without changing anything: log in to the incoming server
//! (IMAP or POP3) and authenticate to the outgoing one (no mail is sent), each on its own, so
//! the report says exactly which failed and why (the protocol layer words the cause: refused
//! or timed-out connection, certificate with its fingerprint, wrong password, missing STARTTLS,
//! a security mode that does not match the port). Used by `tern account verify`, `tern account setup`
//! and the setup wizard.

use crate::account::credentials::Secret;
use crate::account::{Account, Protocol};
use crate::engine::EngineError;

/// What logging in to each server gave.
#[derive(Debug)]
pub struct Verification {
    pub incoming: Result<(), EngineError>,
    pub outgoing: Result<(), EngineError>,
}

impl Verification {
    pub fn is_ok(&self) -> bool {
        self.incoming.is_ok() && self.outgoing.is_ok()
    }
}

/// Logs in to both servers of `account` with `password`, at the same time.
pub async fn verify_account(account: &Account, password: &Secret) -> Verification {
    let (incoming, outgoing) =
        tokio::join!(incoming(account, password), outgoing(account, password));
    Verification { incoming, outgoing }
}

/// Logs in to the incoming server only (a password typed in the window's banner is tried
/// there; the outgoing server is not bothered with it).
pub async fn verify_incoming(account: &Account, password: &Secret) -> Result<(), EngineError> {
    incoming(account, password).await
}

async fn incoming(account: &Account, password: &Secret) -> Result<(), EngineError> {
    match account.settings.protocol {
        Protocol::Imap => {
            let session = crate::engine::imap::connect(account, password).await?;
            session.logout().await;
        }
        Protocol::Pop3 => {
            let client = crate::engine::pop3::connect(account, password).await?;
            // Nothing was marked for deletion: whether QUIT is answered changes nothing.
            let _ = client.quit().await;
        }
    }
    Ok(())
}

async fn outgoing(account: &Account, password: &Secret) -> Result<(), EngineError> {
    let endpoint = crate::engine::send::smtp_endpoint(account);
    let mut client = crate::protocol::smtp::SmtpClient::connect(&endpoint).await?;
    client.login(&account.settings.login, password).await?;
    client.quit().await;
    Ok(())
}

/// Whether `path` holds a CA certificate in PEM form (checked when it is given, not at the
/// first connection). The error names the file and what is wrong with it.
pub fn check_ca_file(path: &std::path::Path) -> Result<(), String> {
    // A CA bundle is tens of KiB; a FIFO, a device or a huge file is no certificate.
    const LIMIT: u64 = 1024 * 1024;
    let meta = std::fs::metadata(path).map_err(|e| format!("{}: {e}", path.display()))?;
    if !meta.is_file() {
        return Err(format!("{} is not a file", path.display()));
    }
    if meta.len() > LIMIT {
        return Err(format!(
            "{} is {} bytes, more than a CA certificate file (at most 1 MiB)",
            path.display(),
            meta.len()
        ));
    }
    let pem = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    if crate::protocol::tls::pem_certificates(&pem).is_empty() {
        return Err(format!(
            "{} holds no PEM certificate (-----BEGIN CERTIFICATE-----); give the CA's certificate in PEM form",
            path.display()
        ));
    }
    Ok(())
}
