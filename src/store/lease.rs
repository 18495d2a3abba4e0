//! Leases: one process at a time does an account's sending (`outbox`) or replay (`replay`),
//! when the window and `tern sync` share a data directory.

use rusqlite::{OptionalExtension, params};

use super::{Result, Store, StoreError, now};

/// What a lease is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeasePurpose {
    /// Sending the account's outbox.
    Outbox,
    /// Replaying the account's queued actions.
    Replay,
}

impl LeasePurpose {
    fn as_str(self) -> &'static str {
        match self {
            LeasePurpose::Outbox => "outbox",
            LeasePurpose::Replay => "replay",
        }
    }
}

impl Store {
    /// Takes an account's lease for `holder` until `ttl` seconds from now. Returns false when
    /// another holder has it. A lease is taken over only from a holder that is gone
    /// (`alive(pid, holder)` is `Some(false)`), or, where that cannot be told (None), once it
    /// has expired; from one known to run (which may be in the middle of a send, renewing the
    /// lease as it goes) only once it is three lifetimes past its expiry: left behind.
    pub fn take_lease(
        &self,
        account_id: i64,
        purpose: LeasePurpose,
        holder: &str,
        pid: u32,
        ttl: i64,
        alive: &dyn Fn(u32, &str) -> Option<bool>,
    ) -> Result<bool> {
        self.write(|tx| {
            let current: Option<(String, i64, i64)> = tx
                .query_row(
                    "SELECT holder, pid, expires_at FROM account_lease
                     WHERE account_id = ?1 AND purpose = ?2",
                    params![account_id, purpose.as_str()],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()
                .map_err(StoreError::sqlite("Read the lease"))?;
            let free = match current {
                None => true,
                Some((other, other_pid, expires_at)) => {
                    let running = u32::try_from(other_pid)
                        .ok()
                        .and_then(|pid| alive(pid, &other));
                    // Its holder renews it every quarter of its life while it works: long
                    // past its expiry it was left behind (a release that failed), whatever the
                    // process is doing now.
                    let abandoned = expires_at + 3 * ttl.max(1) < now();
                    other == holder
                        || running == Some(false)
                        || (expires_at < now() && running.is_none())
                        || abandoned
                }
            };
            if free {
                tx.execute(
                    "INSERT INTO account_lease (account_id, purpose, holder, pid, expires_at)
                     VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT (account_id, purpose) DO UPDATE SET
                         holder = excluded.holder, pid = excluded.pid,
                         expires_at = excluded.expires_at",
                    params![account_id, purpose.as_str(), holder, pid, now() + ttl],
                )
                .map_err(StoreError::sqlite("Take the lease"))?;
            }
            Ok(free)
        })
    }

    /// Extends the lease `holder` has; false when it is not (or no longer) theirs. Never
    /// creates one: a renewal that comes after the release must not bring the lease back.
    pub fn renew_lease(
        &self,
        account_id: i64,
        purpose: LeasePurpose,
        holder: &str,
        ttl: i64,
    ) -> Result<bool> {
        self.write(|tx| {
            let renewed = tx
                .execute(
                    "UPDATE account_lease SET expires_at = ?4
                     WHERE account_id = ?1 AND purpose = ?2 AND holder = ?3",
                    params![account_id, purpose.as_str(), holder, now() + ttl],
                )
                .map_err(StoreError::sqlite("Renew the lease"))?;
            Ok(renewed == 1)
        })
    }

    /// Gives an account's lease up, if `holder` has it.
    pub fn release_lease(
        &self,
        account_id: i64,
        purpose: LeasePurpose,
        holder: &str,
    ) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "DELETE FROM account_lease WHERE account_id = ?1 AND purpose = ?2 AND holder = ?3",
                params![account_id, purpose.as_str(), holder],
            )
            .map_err(StoreError::sqlite("Release the lease"))?;
            Ok(())
        })
    }
}
