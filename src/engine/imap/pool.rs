//! On-demand connections of one account: the engine's bounded pool of logged-in sessions, used
//! for bodies, attachments and inline images, so the window never opens a connection per part.
//!
//! An account has its IDLE connection (the runner's) plus at most `POOL_SIZE` more sessions,
//! re-used across fetches. Requests for the message the user has open (`Priority::Now`) go
//! before background ones (inline images, `Priority::Later`). A session is handed back after
//! a fetch that went well and closed after one that failed; one left idle longer than
//! `IDLE_FOR` is not re-used (it is closed when the next session is asked for), before servers
//! log it out.
//!
//! The engine registers its pool while it runs (`register`); fetch functions reach it through
//! `Connector::for_account`, which falls back to a one-shot connection when no engine runs (the
//! CLI, or an engine still starting).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::account::Account;
use crate::account::credentials::Secret;
use crate::engine::EngineError;
use crate::protocol::imap::Session;

/// Sessions an account's pool holds at most (besides the IDLE connection).
pub const POOL_SIZE: usize = 2;

/// An idle pooled session older than this is closed rather than re-used.
const IDLE_FOR: Duration = Duration::from_secs(5 * 60);

/// How urgent a fetch is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Priority {
    /// The message the user is looking at.
    Now,
    /// Inline images, prefetches: after every `Now` request.
    Later,
}

/// An account's pool of logged-in sessions. Cheap to clone.
#[derive(Clone)]
pub struct Pool {
    inner: Arc<Inner>,
}

struct Inner {
    account: Account,
    password: Secret,
    slots: Arc<Semaphore>,
    idle: Mutex<Vec<(Session, Instant)>>,
    urgent_waiting: AtomicUsize,
    /// Signalled when an urgent request has its slot (background requests may go again).
    urgent_served: tokio::sync::Notify,
    /// Connections opened so far (for tests and statistics).
    opened: AtomicUsize,
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool")
            .field("account", &self.inner.account.settings.name)
            .field("opened", &self.inner.opened.load(Ordering::Relaxed))
            .finish()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Pool {
    pub fn new(account: Account, password: Secret) -> Pool {
        Pool {
            inner: Arc::new(Inner {
                account,
                password,
                slots: Arc::new(Semaphore::new(POOL_SIZE)),
                idle: Mutex::new(Vec::new()),
                urgent_waiting: AtomicUsize::new(0),
                urgent_served: tokio::sync::Notify::new(),
                opened: AtomicUsize::new(0),
            }),
        }
    }

    /// How many connections this pool has opened.
    pub fn opened(&self) -> usize {
        self.inner.opened.load(Ordering::Relaxed)
    }

    /// A logged-in session for one fetch, waiting while `POOL_SIZE` are in use (urgent
    /// requests first). Hand it back with `Pooled::done` when the fetch went well.
    pub async fn session(&self, priority: Priority) -> Result<Pooled, EngineError> {
        let permit = self.slot(priority).await?;
        let reused = {
            let mut idle = lock(&self.inner.idle);
            idle.retain(|(_, since)| since.elapsed() < IDLE_FOR);
            idle.pop().map(|(session, _)| session)
        };
        let session = match reused {
            Some(session) => session,
            None => {
                self.inner.opened.fetch_add(1, Ordering::Relaxed);
                super::connect(&self.inner.account, &self.inner.password).await?
            }
        };
        Ok(Pooled {
            session: Some(session),
            pool: self.clone(),
            _permit: permit,
        })
    }

    async fn slot(&self, priority: Priority) -> Result<OwnedSemaphorePermit, EngineError> {
        let closed = |_| {
            EngineError::Protocol(crate::protocol::ProtocolError::new(
                crate::protocol::ErrorKind::Network,
                "the account's connections are closing",
            ))
        };
        match priority {
            Priority::Now => {
                /// Counts an urgent request while it waits, also when its future is dropped.
                struct Waiting<'a>(&'a Inner);
                impl Drop for Waiting<'_> {
                    fn drop(&mut self) {
                        self.0.urgent_waiting.fetch_sub(1, Ordering::SeqCst);
                        self.0.urgent_served.notify_waiters();
                    }
                }
                self.inner.urgent_waiting.fetch_add(1, Ordering::SeqCst);
                let _waiting = Waiting(&self.inner);
                self.inner
                    .slots
                    .clone()
                    .acquire_owned()
                    .await
                    .map_err(closed)
            }
            Priority::Later => loop {
                let permit = self
                    .inner
                    .slots
                    .clone()
                    .acquire_owned()
                    .await
                    .map_err(closed)?;
                if self.inner.urgent_waiting.load(Ordering::SeqCst) == 0 {
                    return Ok(permit);
                }
                // An urgent request waits: let it have the slot, and wait until it has one
                // (a short timeout covers a wake-up that came just before this wait).
                let served = self.inner.urgent_served.notified();
                drop(permit);
                let _ = tokio::time::timeout(Duration::from_millis(50), served).await;
            },
        }
    }
}

/// A pooled session in use. Dropped without `done` (a failed fetch), it is closed.
pub struct Pooled {
    session: Option<Session>,
    pool: Pool,
    _permit: OwnedSemaphorePermit,
}

impl std::fmt::Debug for Pooled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pooled").field("pool", &self.pool).finish()
    }
}

impl Pooled {
    pub fn session(&mut self) -> Option<&mut Session> {
        self.session.as_mut()
    }

    /// Hands the session back for the next fetch.
    pub fn done(mut self) {
        if let Some(session) = self.session.take() {
            lock(&self.pool.inner.idle).push((session, Instant::now()));
        }
    }
}

/// The pools of the engines running in this process, by database and account.
fn registry() -> &'static Mutex<HashMap<(PathBuf, i64), Pool>> {
    static REGISTRY: std::sync::OnceLock<Mutex<HashMap<(PathBuf, i64), Pool>>> =
        std::sync::OnceLock::new();
    REGISTRY.get_or_init(|| Mutex::new(HashMap::new()))
}

/// Makes `pool` the one fetches for its account use, until the guard is dropped (the engine
/// stops).
pub fn register(db: &Path, pool: Pool) -> Registered {
    let key = (db.to_owned(), pool.inner.account.id);
    lock(registry()).insert(key.clone(), pool.clone());
    Registered { key, pool }
}

/// Keeps a pool registered; unregisters it when dropped, unless another engine for the same
/// account (started after a settings change, before this one stopped) registered its own since.
#[derive(Debug)]
pub struct Registered {
    key: (PathBuf, i64),
    pool: Pool,
}

impl Drop for Registered {
    fn drop(&mut self) {
        let mut registry = lock(registry());
        if registry
            .get(&self.key)
            .is_some_and(|current| Arc::ptr_eq(&current.inner, &self.pool.inner))
        {
            registry.remove(&self.key);
        }
    }
}

/// Where a fetch gets its session: the account's pool when its engine runs, else a connection
/// of its own.
#[derive(Debug, Clone)]
pub enum Connector {
    Pool(Pool, Priority),
    OneShot(Box<Account>, Secret),
}

impl Connector {
    /// The account's pool if an engine runs for it in this process, else a one-shot connection.
    pub fn for_account(
        store: &crate::store::Store,
        account: &Account,
        password: &Secret,
        priority: Priority,
    ) -> Connector {
        match lock(registry()).get(&(store.path().to_owned(), account.id)) {
            Some(pool) => Connector::Pool(pool.clone(), priority),
            None => Connector::OneShot(Box::new(account.clone()), password.clone()),
        }
    }

    pub(super) async fn session(&self) -> Result<Conn, EngineError> {
        Ok(match self {
            Connector::Pool(pool, priority) => Conn::Pooled(pool.session(*priority).await?),
            Connector::OneShot(account, password) => {
                Conn::Own(super::open_session(account, password).await?)
            }
        })
    }
}

/// A session for one fetch; `finish` ends it (logs out, or hands it back to the pool).
pub(super) enum Conn {
    Own(Session),
    Pooled(Pooled),
}

impl Conn {
    pub(super) fn get(&mut self) -> Result<&mut Session, EngineError> {
        match self {
            Conn::Own(session) => Ok(session),
            Conn::Pooled(pooled) => pooled.session().ok_or_else(|| {
                EngineError::Protocol(crate::protocol::ProtocolError::new(
                    crate::protocol::ErrorKind::Network,
                    "the pooled connection is gone",
                ))
            }),
        }
    }

    pub(super) async fn finish(self) {
        match self {
            Conn::Own(session) => session.logout().await,
            Conn::Pooled(pooled) => pooled.done(),
        }
    }
}
