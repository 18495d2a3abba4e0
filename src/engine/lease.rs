//! An account lease held by this process for one flush or replay (see `store::lease`).

use crate::engine::EngineError;
use crate::store::{LeasePurpose, Store};

/// How long a lease lasts unless renewed (it is renewed before each message or action).
pub const LEASE_SECONDS: i64 = 120;

/// Whether process `pid` still runs. Where Tern cannot tell, it assumes so (the lease then
/// frees itself when it expires).
fn process_alive(pid: u32) -> bool {
    if pid == std::process::id() {
        return true;
    }
    if cfg!(target_os = "linux") {
        std::path::Path::new("/proc").join(pid.to_string()).exists()
    } else {
        true
    }
}

/// A lease holder name unique to this use in this process.
fn unique_holder() -> String {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{}-{nanos}-{n}", std::process::id())
}

/// One account's lease for one purpose, as this process holds (or tries to hold) it.
#[derive(Debug)]
pub struct Lease<'a> {
    store: &'a Store,
    account: i64,
    purpose: LeasePurpose,
    pub holder: String,
}

impl<'a> Lease<'a> {
    pub fn new(store: &'a Store, account: i64, purpose: LeasePurpose) -> Lease<'a> {
        Lease {
            store,
            account,
            purpose,
            holder: unique_holder(),
        }
    }

    /// Takes or renews the lease; false when another live process holds it.
    pub fn renew(&self) -> Result<bool, EngineError> {
        Ok(self.store.take_lease(
            self.account,
            self.purpose,
            &self.holder,
            std::process::id(),
            LEASE_SECONDS,
            &process_alive,
        )?)
    }

    /// Gives the lease up (a lease left behind expires by itself).
    pub fn release(&self) {
        let _ = self
            .store
            .release_lease(self.account, self.purpose, &self.holder);
    }
}
