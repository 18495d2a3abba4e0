//! One engine per account, each run as an iced `Subscription` (as Halloy runs each connection):
//! the stream first hands the UI a command sender, then forwards the engine's events. The UI
//! never touches a socket; it sends `Command`s and re-reads the store when an event says what
//! changed.

use std::hash::{Hash, Hasher};
use std::path::PathBuf;

use iced::Subscription;
use iced::futures::SinkExt as _;
use tokio::sync::mpsc;

use crate::engine::{Command, Connectivity, Event};
use crate::store::Store;

/// What an account's engine subscription reports to the UI.
#[derive(Debug, Clone)]
pub enum Update {
    /// The engine runs; commands go here.
    Ready {
        account: i64,
        commands: mpsc::Sender<Command>,
    },
    Event(Event),
    /// The engine could not start (store error).
    Failed {
        account: i64,
        reason: String,
    },
    /// The engine has no password (none in the keyring, or no keyring: `no_keyring`): the
    /// window asks.
    NeedsPassword {
        account: i64,
        no_keyring: bool,
    },
}

/// Identifies one engine subscription: the data directory, the account, and a generation that
/// changes when the account's settings (or password) change, so iced restarts the engine.
#[derive(Debug, Clone)]
struct Key {
    data_dir: PathBuf,
    account: i64,
    generation: u64,
}

impl Hash for Key {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.data_dir.hash(state);
        self.account.hash(state);
        self.generation.hash(state);
    }
}

/// The engine subscriptions for `accounts` (IMAP and POP3), given as (account id, settings
/// generation).
pub fn subscriptions(data_dir: &std::path::Path, accounts: &[(i64, u64)]) -> Subscription<Update> {
    Subscription::batch(accounts.iter().map(|&(account, generation)| {
        Subscription::run_with(
            Key {
                data_dir: data_dir.to_owned(),
                account,
                generation,
            },
            run,
        )
    }))
}

fn run(key: &Key) -> impl iced::futures::Stream<Item = Update> + use<> {
    let key = key.clone();
    iced::stream::channel(256, async move |mut output| {
        let account_id = key.account;
        let fail = |reason: String| Update::Failed {
            account: account_id,
            reason,
        };
        let store = match super::data::open(key.data_dir.clone()).await {
            Ok(store) => store,
            Err(e) => {
                let _ = output.send(fail(e)).await;
                return;
            }
        };
        let account = match load_account(&store, account_id).await {
            Ok(account) => account,
            Err(e) => {
                let _ = output.send(fail(e)).await;
                return;
            }
        };
        let password = match crate::account::credentials::password_for(&account).await {
            Ok(password) => password,
            // Nothing to read it from: the window asks (once per run).
            Err(
                e @ (crate::account::credentials::CredentialError::NotInKeyring { .. }
                | crate::account::credentials::CredentialError::Keyring(_)),
            ) => {
                // Found once per process by a write-then-delete probe (a keyring that is there
                // but locked or empty is not "no keyring").
                let no_keyring =
                    matches!(e, crate::account::credentials::CredentialError::Keyring(_))
                        && tokio::task::spawn_blocking(
                            crate::account::credentials::keyring_available,
                        )
                        .await
                        .map_or(true, |r| r.is_err());
                let _ = output
                    .send(Update::NeedsPassword {
                        account: account_id,
                        no_keyring,
                    })
                    .await;
                return;
            }
            Err(e) => {
                let _ = output
                    .send(Update::Event(Event::Connectivity {
                        account: account_id,
                        state: Connectivity::Failed {
                            reason: e.to_string(),
                        },
                    }))
                    .await;
                return;
            }
        };
        let (command_tx, command_rx) = mpsc::channel(32);
        let (event_tx, mut event_rx) = mpsc::channel(1024);
        if output
            .send(Update::Ready {
                account: account_id,
                commands: command_tx,
            })
            .await
            .is_err()
        {
            return;
        }
        // The engine is not aborted when the subscription goes (account removed, settings
        // changed): an abort could fall between a message's final dot and the server's 250.
        // It stops by itself at its next safe point once the window drops its command sender,
        // finishing the message it is sending first.
        let _detached = match account.settings.protocol {
            crate::account::Protocol::Imap => tokio::spawn(crate::engine::imap::run(
                store, account, password, command_rx, event_tx,
            )),
            crate::account::Protocol::Pop3 => tokio::spawn(crate::engine::pop3::run(
                store, account, password, command_rx, event_tx,
            )),
        };
        while let Some(event) = event_rx.recv().await {
            if output.send(Update::Event(event)).await.is_err() {
                break;
            }
        }
    })
}

async fn load_account(store: &Store, id: i64) -> Result<crate::account::Account, String> {
    let store = store.clone();
    tokio::task::spawn_blocking(move || store.account(id).map_err(|e| e.to_string()))
        .await
        .map_err(|e| e.to_string())?
}
