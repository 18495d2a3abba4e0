//! The long-running POP3 engine of one account, as the window runs it: sends the outbox and
//! checks for mail at start, on Get Mail (`Command::SyncNow`) and every `poll_seconds` (default
//! 10 minutes), reporting `Connectivity` and progress. POP3 keeps no connection open between
//! checks. A failure backs off exponentially; a wrong password or certificate waits for the
//! user.

use std::time::Duration;

use tokio::sync::mpsc;

use crate::account::Account;
use crate::account::credentials::Secret;
use crate::engine::imap::MAX_BACKOFF;
use crate::engine::send::{BUSY_RETRY, FlushReport, flush_outbox, until_next_send};
use crate::engine::{Command, Connectivity, Event, Kind};
use crate::store::Store;

/// What ended a wait.
enum Wake {
    Check { send_all: bool },
    Shutdown,
}

/// Waits for a command, or until `limit`.
async fn wait(commands: &mut mpsc::Receiver<Command>, limit: Option<Duration>) -> Wake {
    let command = async {
        match commands.recv().await {
            Some(Command::Shutdown) | None => Wake::Shutdown,
            Some(Command::Flush) => Wake::Check { send_all: true },
            Some(Command::SyncNow) => Wake::Check { send_all: false },
        }
    };
    match limit {
        Some(limit) => tokio::select! {
            () = tokio::time::sleep(limit) => Wake::Check { send_all: false },
            wake = command => wake,
        },
        None => command.await,
    }
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
    let emit = |event: Event| {
        // A closed event channel only means nobody listens any more.
        let _ = events.try_send(event);
    };
    let poll = Duration::from_secs(u64::try_from(account.poll_seconds).unwrap_or(600).max(60));
    let mut backoff = Duration::from_secs(1);
    let mut send_all = true;
    loop {
        // Changed under this engine (`tern account set` while the window runs): stop; the
        // window's reload starts one with the stored settings.
        if crate::engine::stop_if_replaced(&store, &account, &emit) {
            return;
        }
        let flushed = flush_outbox(&store, &account, &password, send_all).await;
        let send_floor = if matches!(&flushed, Ok(r) if r.busy) {
            BUSY_RETRY
        } else {
            Duration::ZERO
        };
        if !matches!(&flushed, Ok(r) if r == &FlushReport::default()) {
            emit(Event::OutboxChanged { account: id });
        }
        emit(Event::Connectivity {
            account: id,
            state: Connectivity::Connecting,
        });
        // The check listens for commands: a shutdown drops it at once, which is safe (stored
        // mail is committed; the server deletes nothing without QUIT).
        let mut forward = |event: Event| emit(event);
        let checked = {
            let pass = super::sync_account(&store, &account, &password, &mut forward);
            tokio::pin!(pass);
            let mut again = None;
            loop {
                tokio::select! {
                    result = &mut pass => break Some((result, again)),
                    command = commands.recv() => match command {
                        Some(Command::Shutdown) | None => break None,
                        Some(Command::Flush) => again = Some(true),
                        Some(Command::SyncNow) => again = again.or(Some(false)),
                    },
                }
            }
        };
        let Some((result, again)) = checked else {
            emit(Event::Connectivity {
                account: id,
                state: Connectivity::Offline,
            });
            return;
        };
        let wake = match result {
            Ok(_) => {
                backoff = Duration::from_secs(1);
                emit(Event::Connectivity {
                    account: id,
                    state: Connectivity::Online,
                });
                match again {
                    Some(all) => Wake::Check { send_all: all },
                    None => {
                        let limit = until_next_send(&store, &account, poll).max(send_floor);
                        wait(&mut commands, Some(limit)).await
                    }
                }
            }
            Err(error) => {
                let reason = error.to_string();
                match error.kind() {
                    // Wrong password, bad certificate: retrying cannot help until the user acts.
                    Kind::Auth | Kind::Tls => {
                        emit(Event::Connectivity {
                            account: id,
                            state: Connectivity::Failed { reason },
                        });
                        wait(&mut commands, None).await
                    }
                    _ => {
                        emit(Event::Connectivity {
                            account: id,
                            state: Connectivity::Disconnected {
                                reason,
                                retry_in_secs: backoff.as_secs(),
                            },
                        });
                        let wake = wait(&mut commands, Some(backoff)).await;
                        backoff = (backoff * 2).min(MAX_BACKOFF);
                        wake
                    }
                }
            }
        };
        match wake {
            Wake::Shutdown => {
                emit(Event::Connectivity {
                    account: id,
                    state: Connectivity::Offline,
                });
                return;
            }
            Wake::Check { send_all: all } => send_all = all,
        }
    }
}
