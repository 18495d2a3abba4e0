//! Asking for a password in the main window: an account whose engine found none (nothing in the
//! keyring, or no keyring on this machine) gets a banner, one account at a time. The typed
//! password is tried on the account's servers first; a refused one is asked again, a good one
//! is kept in memory for this run (`credentials::remember_for_session`), put in the keyring when
//! there is one, and the account's engine is restarted with it.

use iced::widget::{button, container, row, text, text_input};
use iced::{Element, Length, Task};

use super::data::{self, AccountTree};
use super::theme;
use crate::account::credentials::Secret;

/// The account being asked for.
#[derive(Debug, Clone)]
pub struct Prompt {
    pub account: i64,
    pub name: String,
    /// Why it is asked, or why the last one was refused.
    pub reason: String,
    /// A keyring exists: a good password goes there too.
    pub keep: bool,
    /// Never in `Debug` output.
    pub typed: Secret,
    /// The typed password is being tried.
    pub checking: bool,
}

#[derive(Debug, Default)]
pub struct State {
    pub current: Option<Prompt>,
    /// Accounts that wait for their turn: (account, a keyring exists).
    waiting: Vec<(i64, bool)>,
}

#[derive(Debug, Clone)]
pub enum Message {
    Typed(Secret),
    Submit,
    Later,
    /// What trying the password gave: Ok(true) logged in, Ok(false) the server could not be
    /// reached (kept for the run, not in the keyring), Err the server refused it.
    Checked(i64, Secret, Result<bool, String>),
    /// The keyring write ended (the password is kept for the run either way).
    Kept(Result<(), String>),
}

/// What the window does after an update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    None,
    /// Restart this account's engine (it has a password now).
    Restart(i64),
}

fn reason(keep: bool) -> String {
    if keep {
        "It is not in the system keyring; Tern puts it there."
    } else {
        "No system keyring can keep it here, so Tern asks each time it starts and keeps it only while it runs; a password command (Settings) keeps it for good."
    }
    .to_owned()
}

impl State {
    /// `account`'s engine has no password: ask now, or after the account being asked for.
    pub fn need(&mut self, account: i64, name: &str, no_keyring: bool) {
        match &self.current {
            None => {
                self.current = Some(Prompt {
                    account,
                    name: name.to_owned(),
                    reason: reason(!no_keyring),
                    keep: !no_keyring,
                    typed: Secret::new(String::new()),
                    checking: false,
                });
            }
            Some(current) if current.account == account => {}
            Some(_) => {
                if !self.waiting.iter().any(|(a, _)| *a == account) {
                    self.waiting.push((account, !no_keyring));
                }
            }
        }
    }

    /// The next account's turn.
    fn next(&mut self, tree: &[AccountTree]) {
        self.current = None;
        while !self.waiting.is_empty() {
            let (account, keep) = self.waiting.remove(0);
            if let Some(t) = tree.iter().find(|t| t.account.id == account) {
                self.current = Some(Prompt {
                    account,
                    name: t.account.settings.name.clone(),
                    reason: reason(keep),
                    keep,
                    typed: Secret::new(String::new()),
                    checking: false,
                });
                return;
            }
        }
    }
}

pub fn update(
    state: &mut State,
    message: Message,
    tree: &[AccountTree],
) -> (Task<Message>, Action) {
    let none = (Task::none(), Action::None);
    match message {
        Message::Typed(typed) => {
            if let Some(prompt) = state.current.as_mut() {
                prompt.typed = typed;
            }
            none
        }
        Message::Submit => {
            let Some(prompt) = state.current.as_mut() else {
                return none;
            };
            if prompt.typed.expose().is_empty() || prompt.checking {
                return none;
            }
            let Some(t) = tree.iter().find(|t| t.account.id == prompt.account) else {
                state.next(tree);
                return none;
            };
            prompt.checking = true;
            let secret = std::mem::replace(&mut prompt.typed, Secret::new(String::new()));
            let id = prompt.account;
            let account = t.account.clone();
            (
                Task::perform(
                    data::setup::check_password(account, secret.clone()),
                    move |result| Message::Checked(id, secret.clone(), result),
                ),
                Action::None,
            )
        }
        Message::Later => {
            state.next(tree);
            none
        }
        Message::Kept(_) => none,
        Message::Checked(account, secret, result) => {
            let Some(prompt) = state.current.as_mut().filter(|p| p.account == account) else {
                return none;
            };
            prompt.checking = false;
            let verified = match result {
                Ok(verified) => verified,
                Err(refused) => {
                    prompt.reason = format!("The server did not take it: {refused}");
                    return none;
                }
            };
            let keep = prompt.keep && verified;
            let Some(t) = tree.iter().find(|t| t.account.id == account) else {
                state.next(tree);
                return none;
            };
            crate::account::credentials::remember_for_session(&t.account, secret.clone());
            let task = if keep {
                Task::perform(
                    data::setup::keep_password(t.account.clone(), secret),
                    Message::Kept,
                )
            } else {
                Task::none()
            };
            state.next(tree);
            (task, Action::Restart(account))
        }
    }
}

/// The banner, when an account is being asked for.
pub fn view(state: &State) -> Option<Element<'_, Message>> {
    let prompt = state.current.as_ref()?;
    let sign_in = button(text(if prompt.checking {
        "Checking…"
    } else {
        "Sign in"
    }))
    .on_press_maybe((!prompt.checking).then_some(Message::Submit));
    Some(
        container(
            row![
                text(format!("Password for {}:", prompt.name)),
                text_input("password", prompt.typed.expose())
                    .secure(true)
                    .on_input(|v| Message::Typed(Secret::new(v)))
                    .on_submit(Message::Submit)
                    .width(240),
                sign_in,
                button(text("Later")).on_press(Message::Later),
                text(prompt.reason.clone()).size(13),
            ]
            .spacing(8)
            .align_y(iced::Alignment::Center),
        )
        .padding([6, 10])
        .width(Length::Fill)
        .style(theme::banner)
        .into(),
    )
}
