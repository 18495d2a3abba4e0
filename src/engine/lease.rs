//! An account lease held by this process for one flush or replay (see `store::lease`).
//!
//! While it is held, a background task renews it every quarter of its lifetime, so a message
//! that takes long to send (a large attachment on a slow link, a server slow to say 250) or an
//! upload that takes long never lets the lease lapse under it. It is released when dropped
//! (also when the flush or replay is cancelled); a renewal only ever extends a lease its holder
//! still has, so a late one cannot bring a released lease back.
//!
//! Whether a holder still runs: one of this process is known from the set of live holders
//! here; another process's, on Linux, from `/proc` (the holder name carries the process's boot
//! id and start time, so a pid used again by another program does not count); elsewhere it
//! cannot be told, and the lease passes once it expires.

use std::collections::HashSet;
use std::sync::Mutex;

use crate::engine::EngineError;
use crate::store::{LeasePurpose, Store};

/// How long a lease lasts unless renewed: the stall limit (120 s, or `TERN_TIMEOUT_SECS`).
fn lease_seconds() -> i64 {
    i64::try_from(crate::protocol::limits().stall.as_secs())
        .unwrap_or(120)
        .max(1)
}

/// The holders of this process whose flush or replay is still running.
fn live() -> &'static Mutex<HashSet<String>> {
    static LIVE: std::sync::OnceLock<Mutex<HashSet<String>>> = std::sync::OnceLock::new();
    LIVE.get_or_init(|| Mutex::new(HashSet::new()))
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Who process `pid` is, on Linux: the boot id and its start time (so a pid reused after a
/// crash or a reboot is not taken for the holder). None elsewhere, or when it has exited (or
/// is a zombie).
fn process_identity(pid: u32) -> Option<String> {
    if !cfg!(target_os = "linux") {
        return None;
    }
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // After the command name, in parentheses (which may itself hold spaces and parentheses).
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // Field 3 is the state, field 22 the start time (the first after ")" is field 3).
    let state = *fields.first()?;
    if state == "Z" || state == "X" {
        return None;
    }
    let start = *fields.get(19)?;
    let boot = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").ok()?;
    Some(format!("{}.{start}", boot.trim()))
}

/// Whether the holder `holder` (of process `pid`) still runs: `Some` where Tern can tell.
fn holder_alive(pid: u32, holder: &str) -> Option<bool> {
    if pid == std::process::id() {
        return Some(lock(live()).contains(holder));
    }
    if !cfg!(target_os = "linux") {
        return None;
    }
    match process_identity(pid) {
        // Gone (or a zombie).
        None => Some(false),
        // The same process as the one that took it: it runs.
        Some(identity) if holder.starts_with(&format!("{pid}-{identity}-")) => Some(true),
        // The pid belongs to another process now, or the holder recorded no identity (another
        // pid namespace, say): only the expiry can tell.
        Some(_) => None,
    }
}

/// A lease holder name unique to this use in this process: pid, process identity, time and a
/// counter.
fn unique_holder() -> String {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let pid = std::process::id();
    let identity = process_identity(pid).unwrap_or_default();
    format!("{pid}-{identity}-{nanos}.{n}")
}

/// One account's lease for one purpose, held by this process until dropped.
#[derive(Debug)]
pub struct Lease {
    store: Store,
    account: i64,
    purpose: LeasePurpose,
    pub holder: String,
    keeper: Option<tokio::task::JoinHandle<()>>,
}

impl Lease {
    /// Takes the lease, and keeps it renewed until dropped; None when another live holder has
    /// it. Must run inside a tokio runtime (the renewal is a task of it).
    pub fn take(
        store: &Store,
        account: i64,
        purpose: LeasePurpose,
    ) -> Result<Option<Lease>, EngineError> {
        let holder = unique_holder();
        lock(live()).insert(holder.clone());
        let taken = store.take_lease(
            account,
            purpose,
            &holder,
            std::process::id(),
            lease_seconds(),
            &holder_alive,
        );
        if !matches!(taken, Ok(true)) {
            lock(live()).remove(&holder);
            return taken.map(|_| None).map_err(EngineError::from);
        }
        let (keeper_store, keeper_holder) = (store.clone(), holder.clone());
        let every =
            std::time::Duration::from_secs(u64::try_from(lease_seconds()).unwrap_or(120)) / 4;
        let keeper = tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                let (store, holder) = (keeper_store.clone(), keeper_holder.clone());
                let renewed = tokio::task::spawn_blocking(move || {
                    store.renew_lease(account, purpose, &holder, lease_seconds())
                })
                .await;
                // Lost (released, or taken from a holder thought gone): stop. A busy database
                // (an error): try again at the next tick.
                if let Ok(Ok(false)) = renewed {
                    return;
                }
            }
        });
        Ok(Some(Lease {
            store: store.clone(),
            account,
            purpose,
            holder,
            keeper: Some(keeper),
        }))
    }

    /// Whether this process still holds the lease (it is renewed in the background).
    pub fn renew(&self) -> Result<bool, EngineError> {
        Ok(self
            .store
            .renew_lease(self.account, self.purpose, &self.holder, lease_seconds())?)
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        if let Some(keeper) = self.keeper.take() {
            keeper.abort();
        }
        // No longer live: even a lease left behind (a failed release) passes at once to the
        // next holder of this process, and, by its expiry or pid, to other processes.
        lock(live()).remove(&self.holder);
        let _ = self
            .store
            .release_lease(self.account, self.purpose, &self.holder);
    }
}
