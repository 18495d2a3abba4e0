//! The desktop app (iced). Never touches a socket or SQLite directly: it reads view data through
//! `store` queries run in tasks off the UI thread and sends commands to the engines.
//!
//! This first window lists the accounts and their folders; the three-pane mail window, composer
//! and settings arrive with the desktop-app issue, one module per screen.

pub mod theme;

use std::path::PathBuf;

use iced::widget::{column, container, scrollable, text};
use iced::{Element, Length, Task};

use crate::store::{Folder, Store};

/// What the window shows.
#[derive(Debug, Default)]
pub struct State {
    accounts: Vec<(String, String, Vec<Folder>)>,
    status: String,
}

#[derive(Debug, Clone)]
pub enum Message {
    Loaded(Result<Vec<(String, String, Vec<Folder>)>, String>),
}

/// Starts the desktop app with its data in `data_dir`.
pub fn run(data_dir: PathBuf) -> iced::Result {
    iced::application(
        move || {
            let state = State {
                status: "Loading…".into(),
                ..State::default()
            };
            (
                state,
                Task::perform(load(data_dir.clone()), Message::Loaded),
            )
        },
        update,
        view,
    )
    .title("Tern")
    .theme(theme::app_theme)
    .run()
}

/// Reads the account tree on a blocking thread.
async fn load(data_dir: PathBuf) -> Result<Vec<(String, String, Vec<Folder>)>, String> {
    tokio::task::spawn_blocking(move || {
        let store = Store::open_dir(&data_dir).map_err(|e| e.to_string())?;
        let mut tree = Vec::new();
        for account in store.accounts().map_err(|e| e.to_string())? {
            let folders = store.folders(account.id).map_err(|e| e.to_string())?;
            tree.push((account.settings.name, account.settings.email, folders));
        }
        Ok(tree)
    })
    .await
    .map_err(|e| format!("loading the accounts stopped: {e}"))?
}

pub fn update(state: &mut State, message: Message) {
    match message {
        Message::Loaded(Ok(accounts)) => {
            state.status = if accounts.is_empty() {
                "No accounts yet. Add one with `tern account add`.".into()
            } else {
                String::new()
            };
            state.accounts = accounts;
        }
        Message::Loaded(Err(e)) => state.status = e,
    }
}

pub fn view(state: &State) -> Element<'_, Message> {
    let mut tree = column![].spacing(4);
    for (name, email, folders) in &state.accounts {
        tree = tree.push(text(format!("{name} — {email}")).size(16));
        for folder in folders {
            let label = if folder.unread > 0 {
                format!("    {} ({})", folder.path, folder.unread)
            } else {
                format!("    {}", folder.path)
            };
            tree = tree.push(text(label));
        }
    }
    container(column![text(&state.status), scrollable(tree)].spacing(8))
        .padding(12)
        .width(Length::Fill)
        .height(Length::Fill)
        .into()
}
