//! The long-running IMAP engine of one account: an explicit state machine
//! (`Connecting → Syncing → Idle`, and `Disconnected{retry}` with exponential backoff), driven by
//! `Command`s and reporting `Event`s. The UI runs it as a subscription; tests run it directly.
//!
//! After each sync pass it waits for changes with IDLE on the INBOX (re-issued every
//! `IDLE_LIMIT`, under the 29 minutes RFC 2177 allows), or polls every `poll_seconds` when the
//! server has no IDLE. A command (e.g. Get Mail) interrupts the wait. Each pass first sends the
//! outbox; the wait also ends when the next queued message is due for another attempt.

use std::time::Duration;

use imap_codec::imap_types::command::CommandBody;
use tokio::sync::mpsc;

use super::sync::{connect, sync_session};
use crate::account::Account;
use crate::account::credentials::Secret;
use crate::engine::{Command, Connectivity, EngineError, Event, Kind};
use crate::protocol::imap::{IdleEnd, Session};
use crate::store::Store;

/// How long one IDLE lasts before it is re-issued.
pub const IDLE_LIMIT: Duration = Duration::from_secs(28 * 60);

use crate::engine::send::BUSY_RETRY;

/// The longest wait between reconnection attempts.
pub const MAX_BACKOFF: Duration = Duration::from_secs(300);

/// What ended a wait between sync passes.
enum Wake {
    Sync,
    Shutdown,
}

/// Runs the engine until `Command::Shutdown` or until the command channel closes.
pub async fn run(
    store: Store,
    account: Account,
    password: Secret,
    mut commands: mpsc::Receiver<Command>,
    events: mpsc::Sender<Event>,
) {
    let id = account.id;
    // On-demand fetches (bodies, attachments, images) for this account share this pool while
    // the engine runs.
    let _pool = super::pool::register(
        store.path(),
        super::pool::Pool::new(account.clone(), password.clone()),
    );
    let emit = |event: Event| {
        // A closed event channel only means nobody listens any more.
        let _ = events.try_send(event);
    };
    let mut backoff = Duration::from_secs(1);
    loop {
        // Changed under this engine (`tern account set` while the window runs): stop; the
        // window's reload starts one with the stored settings.
        if crate::engine::stop_if_replaced(&store, &account, &emit) {
            return;
        }
        emit(Event::Connectivity {
            account: id,
            state: Connectivity::Connecting,
        });
        let error = match connect(&account, &password).await {
            Ok(mut session) => {
                backoff = Duration::from_secs(1);
                emit(Event::Connectivity {
                    account: id,
                    state: Connectivity::Online,
                });
                match serve(
                    &store,
                    &account,
                    &password,
                    &mut session,
                    &mut commands,
                    &emit,
                )
                .await
                {
                    Ok(()) => {
                        session.logout().await;
                        emit(Event::Connectivity {
                            account: id,
                            state: Connectivity::Offline,
                        });
                        return;
                    }
                    Err(e) => e,
                }
            }
            Err(e) => e,
        };
        let reason = error.to_string();
        let wake = match error.kind() {
            // Wrong password, bad certificate: retrying cannot help until the user acts.
            Kind::Auth | Kind::Tls => {
                emit(Event::Connectivity {
                    account: id,
                    state: Connectivity::Failed { reason },
                });
                match commands.recv().await {
                    Some(Command::Shutdown) | None => Wake::Shutdown,
                    Some(_) => Wake::Sync,
                }
            }
            _ => {
                emit(Event::Connectivity {
                    account: id,
                    state: Connectivity::Disconnected {
                        reason,
                        retry_in_secs: backoff.as_secs(),
                    },
                });
                let wake = tokio::select! {
                    () = tokio::time::sleep(backoff) => Wake::Sync,
                    command = commands.recv() => match command {
                        Some(Command::Shutdown) | None => Wake::Shutdown,
                        Some(_) => Wake::Sync,
                    },
                };
                backoff = (backoff * 2).min(MAX_BACKOFF);
                wake
            }
        };
        if matches!(wake, Wake::Shutdown) {
            emit(Event::Connectivity {
                account: id,
                state: Connectivity::Offline,
            });
            return;
        }
    }
}

/// Sends the outbox, then syncs, then waits for changes on an open session, until shutdown (Ok)
/// or a failure (Err). A failure to send never stops the sync: the outbox keeps the message and
/// the reason, and the next pass (or the backoff timer) tries again.
async fn serve(
    store: &Store,
    account: &Account,
    password: &Secret,
    session: &mut Session,
    commands: &mut mpsc::Receiver<Command>,
    emit: &(dyn Fn(Event) + Sync),
) -> Result<(), EngineError> {
    let mut forward = |event: Event| emit(event);
    // Right after connecting, and after Flush, everything queued goes; otherwise only what is due.
    let mut send_all = true;
    loop {
        if crate::engine::account_replaced(store, account) {
            // Ends like a shutdown; the window's reload starts an engine with what is stored.
            emit(Event::FoldersChanged {
                account: account.id,
            });
            return Ok(());
        }
        let flushed = crate::engine::send::flush_outbox(store, account, password, send_all).await;
        // While another process holds the outbox, look again in a while, not every second.
        let send_floor = if matches!(&flushed, Ok(r) if r.busy) {
            BUSY_RETRY
        } else {
            Duration::ZERO
        };
        if !matches!(&flushed, Ok(r) if r == &crate::engine::send::FlushReport::default()) {
            emit(Event::OutboxChanged {
                account: account.id,
            });
        }
        send_all = false;
        // The pass listens for commands: a shutdown (or every sender gone) ends it at once,
        // which is safe (each step of a pass is its own transaction; nothing is being sent).
        let mut again = false;
        let synced = {
            let pass = sync_session(store, account, session, &mut forward);
            tokio::pin!(pass);
            loop {
                tokio::select! {
                    result = &mut pass => break Some(result),
                    command = commands.recv() => match command {
                        Some(Command::Shutdown) | None => break None,
                        Some(Command::Flush) => {
                            send_all = true;
                            again = true;
                        }
                        Some(_) => again = true,
                    },
                }
            }
        };
        match synced {
            Some(result) => {
                result?;
            }
            None => return Ok(()),
        }
        if again {
            continue;
        }
        let wake = if session.has_capability("IDLE") {
            session
                .run_ok(
                    "SELECT INBOX",
                    CommandBody::select("INBOX").map_err(|e| {
                        crate::protocol::ProtocolError::new(
                            crate::protocol::ErrorKind::Protocol,
                            format!("{e:?}"),
                        )
                    })?,
                )
                .await?;
            let limit =
                crate::engine::send::until_next_send(store, account, IDLE_LIMIT).max(send_floor);
            match session.idle(limit, commands.recv()).await? {
                IdleEnd::Changed | IdleEnd::Timeout => Wake::Sync,
                IdleEnd::Interrupted(Some(Command::Shutdown) | None) => Wake::Shutdown,
                IdleEnd::Interrupted(Some(Command::Flush)) => {
                    send_all = true;
                    Wake::Sync
                }
                IdleEnd::Interrupted(Some(_)) => Wake::Sync,
            }
        } else {
            let poll =
                Duration::from_secs(u64::try_from(account.poll_seconds).unwrap_or(300).max(30));
            tokio::select! {
                () = tokio::time::sleep(crate::engine::send::until_next_send(store, account, poll).max(send_floor)) => Wake::Sync,
                command = commands.recv() => match command {
                    Some(Command::Shutdown) | None => Wake::Shutdown,
                    Some(Command::Flush) => {
                        send_all = true;
                        Wake::Sync
                    }
                    Some(_) => Wake::Sync,
                },
            }
        };
        if matches!(wake, Wake::Shutdown) {
            return Ok(());
        }
    }
}
