//! An account lease held by this process for one flush or replay (see `store::lease`).
//!
//! While it is held, a background task renews it every quarter of its lifetime, so a message
//! that takes long to send (a large attachment on a slow link, a server slow to say 250) or an
//! upload that takes long never lets the lease lapse under it. It is released when dropped
//! (also when the flush or replay is cancelled).

use std::sync::Arc;

use crate::engine::EngineError;
use crate::store::{LeasePurpose, Store};

/// How long a lease lasts unless renewed: the stall limit (120 s, or `TERN_TIMEOUT_SECS`).
fn lease_seconds() -> i64 {
    i64::try_from(crate::protocol::limits().stall.as_secs())
        .unwrap_or(120)
        .max(1)
}

/// Whether process `pid` runs: `Some` where Tern can tell (Linux, and this process), else
/// None (the lease then frees itself only when it expires).
fn process_alive(pid: u32) -> Option<bool> {
    if pid == std::process::id() {
        return Some(true);
    }
    if cfg!(target_os = "linux") {
        Some(std::path::Path::new("/proc").join(pid.to_string()).exists())
    } else {
        None
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
pub struct Lease {
    store: Store,
    account: i64,
    purpose: LeasePurpose,
    pub holder: String,
    keeper: Option<tokio::task::JoinHandle<()>>,
}

impl Lease {
    /// Takes the lease, and keeps it renewed until dropped; None when another live process
    /// holds it.
    pub fn take(
        store: &Store,
        account: i64,
        purpose: LeasePurpose,
    ) -> Result<Option<Lease>, EngineError> {
        let mut lease = Lease {
            store: store.clone(),
            account,
            purpose,
            holder: unique_holder(),
            keeper: None,
        };
        if !lease.renew()? {
            // Not ours: dropping it must not release another's lease (release is by holder).
            return Ok(None);
        }
        let (store, holder) = (Arc::new(store.clone()), lease.holder.clone());
        let every =
            std::time::Duration::from_secs(u64::try_from(lease_seconds()).unwrap_or(120)) / 4;
        lease.keeper = Some(tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                let store = store.clone();
                let holder = holder.clone();
                let kept =
                    tokio::task::spawn_blocking(move || renew(&store, account, purpose, &holder))
                        .await;
                if !matches!(kept, Ok(Ok(true))) {
                    return;
                }
            }
        }));
        Ok(Some(lease))
    }

    /// Renews the lease; false when it was lost to another process.
    pub fn renew(&self) -> Result<bool, EngineError> {
        renew(&self.store, self.account, self.purpose, &self.holder)
    }
}

fn renew(
    store: &Store,
    account: i64,
    purpose: LeasePurpose,
    holder: &str,
) -> Result<bool, EngineError> {
    Ok(store.take_lease(
        account,
        purpose,
        holder,
        std::process::id(),
        lease_seconds(),
        &process_alive,
    )?)
}

impl Drop for Lease {
    fn drop(&mut self) {
        if let Some(keeper) = self.keeper.take() {
            keeper.abort();
        }
        // A lease left behind (a failed write here) expires by itself.
        let _ = self
            .store
            .release_lease(self.account, self.purpose, &self.holder);
    }
}
