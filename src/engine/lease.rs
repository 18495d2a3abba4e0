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

/// What `/proc` says of a process.
enum Proc {
    /// It has exited (or is a zombie).
    Gone,
    /// It runs: its boot id and start time (fixed for its life, so a pid reused after a crash
    /// or a reboot is not taken for it).
    Runs(String),
    /// Cannot tell (not Linux, or /proc could not be read).
    Unknown,
}

fn proc_state(pid: u32) -> Proc {
    if !cfg!(target_os = "linux") {
        return Proc::Unknown;
    }
    let stat = match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Proc::Gone,
        Err(_) => return Proc::Unknown,
    };
    match parse_stat(&stat) {
        Some((state, _)) if state == "Z" || state == "X" => Proc::Gone,
        Some((_, start)) => match std::fs::read_to_string("/proc/sys/kernel/random/boot_id") {
            Ok(boot) => Proc::Runs(format!("{}.{start}", boot.trim())),
            Err(_) => Proc::Unknown,
        },
        None => Proc::Unknown,
    }
}

/// The state (field 3) and start time (field 22) of a `/proc/<pid>/stat` line. They follow the
/// command name in parentheses, which may itself hold spaces and parentheses.
fn parse_stat(stat: &str) -> Option<(&str, &str)> {
    let (_, rest) = stat.rsplit_once(')')?;
    let mut fields = rest.split_whitespace();
    let state = fields.next()?;
    let start = fields.nth(18)?;
    Some((state, start))
}

/// This process's identity, as holder names carry it ("" where it cannot be told).
fn own_identity() -> &'static str {
    static OWN: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    OWN.get_or_init(|| match proc_state(std::process::id()) {
        Proc::Runs(identity) => identity,
        Proc::Gone | Proc::Unknown => String::new(),
    })
}

/// Whether the holder `holder` (of process `pid`) still runs: `Some` where Tern can tell.
fn holder_alive(pid: u32, holder: &str) -> Option<bool> {
    if pid == std::process::id() {
        // This process, if the name says so (the same pid in another container is not).
        let ours =
            !own_identity().is_empty() && holder.starts_with(&format!("{pid}-{}-", own_identity()));
        return ours.then(|| lock(live()).contains(holder));
    }
    match proc_state(pid) {
        Proc::Gone => Some(false),
        // The same process as the one that took it: it runs.
        Proc::Runs(identity) if holder.starts_with(&format!("{pid}-{identity}-")) => Some(true),
        // The pid belongs to another process now, the holder recorded no identity (another
        // pid namespace, another system), or /proc cannot tell: only the expiry can.
        Proc::Runs(_) | Proc::Unknown => None,
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
    format!("{}-{}-{nanos}.{n}", std::process::id(), own_identity())
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
        // next holder of this process, and to other processes once it is long expired.
        lock(live()).remove(&self.holder);
        let _ = self
            .store
            .release_lease(self.account, self.purpose, &self.holder);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_lines_are_read_after_the_command_name() {
        let line = "4242 (odd) (name) S 1 4242 4242 0 -1 4194560 100 0 0 0 5 3 0 0 20 0 1 0 987654 1000 10";
        assert_eq!(parse_stat(line), Some(("S", "987654")));
        assert_eq!(parse_stat("1 (x) Z"), None);
        assert_eq!(parse_stat("garbage"), None);
    }

    #[test]
    fn holders_of_this_process_are_known_by_name() {
        let pid = std::process::id();
        let holder = unique_holder();
        if cfg!(target_os = "linux") {
            assert_eq!(holder_alive(pid, &holder), Some(false), "not live yet");
            lock(live()).insert(holder.clone());
            assert_eq!(holder_alive(pid, &holder), Some(true));
            lock(live()).remove(&holder);
            // The same pid with another identity (another container): cannot tell.
            assert_eq!(holder_alive(pid, &format!("{pid}-other.1-0.0")), None);
            // A process that does not exist.
            assert_eq!(holder_alive(u32::MAX - 7, "x"), Some(false));
        } else {
            assert_eq!(holder_alive(pid, &holder), None);
        }
    }
}
