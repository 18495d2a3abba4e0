//! The Outbox (shown in the list pane): messages waiting, being sent, sent but not yet filed, or
//! failed, with the reason and when the next attempt is due. A message can be sent again now,
//! taken back into the composer to be edited, or deleted (never while it is being sent). Below
//! them, the changes that did not reach the server (a move into a folder another client
//! deleted, a flag the server refused), with the reason: each can be tried again or dismissed.

use iced::widget::{button, column, container, row, scrollable, text};
use iced::{Element, Length, Task};

use super::data;
use super::theme::{self, size, space};
use super::widgets::{self, Icon};
use crate::store::{FailedAction, OutboxRow, Store};

#[derive(Debug, Default)]
pub struct State {
    rows: Vec<OutboxRow>,
    failed: Vec<FailedAction>,
    notice: Option<String>,
    loaded: bool,
    /// The message whose Delete waits for the user to confirm (it is gone for good).
    confirm_delete: Option<i64>,
}

#[derive(Debug, Clone)]
pub enum Message {
    Loaded(Result<Vec<OutboxRow>, String>),
    FailedLoaded(Result<Vec<FailedAction>, String>),
    RetryAction(i64, i64),
    DismissAction(i64),
    Retry(i64),
    Edit(i64),
    /// Asks first: a deleted message is gone for good.
    Delete(i64),
    ConfirmDelete(i64),
    KeepIt,
    Done(Result<(), String>),
    Edited(Box<Result<data::Prefill, String>>),
}

/// What the window does after an update.
#[derive(Debug)]
pub enum Action {
    None,
    /// Send this account's outbox now.
    Flush(i64),
    /// Open the composer with this message (it has left the outbox).
    Edit(Box<data::Prefill>),
}

impl State {
    /// Reads the outbox and the failed changes (again).
    pub fn load(store: &Store) -> Task<Message> {
        Task::batch([
            Task::perform(data::outbox(store.clone()), Message::Loaded),
            Task::perform(data::failed_actions(store.clone()), Message::FailedLoaded),
        ])
    }
}

pub fn update(state: &mut State, message: Message, store: &Store) -> (Task<Message>, Action) {
    match message {
        Message::Loaded(Ok(rows)) => {
            state.rows = rows;
            state.loaded = true;
            // A question about a message that left the outbox, or is being sent, is void.
            let askable = |id: i64| {
                state.rows.iter().any(|r| {
                    r.id == id && matches!(r.state.as_str(), "queued" | "failed" | "unknown")
                })
            };
            if state.confirm_delete.is_some_and(|id| !askable(id)) {
                state.confirm_delete = None;
            }
        }
        Message::FailedLoaded(Ok(failed)) => state.failed = failed,
        Message::Loaded(Err(e)) | Message::FailedLoaded(Err(e)) | Message::Done(Err(e)) => {
            state.notice = Some(e)
        }
        Message::RetryAction(id, account) => {
            let task = Task::perform(data::retry_action(store.clone(), id), Message::Done);
            return (task, Action::Flush(account));
        }
        Message::DismissAction(id) => {
            return (
                Task::perform(data::dismiss_action(store.clone(), id), Message::Done),
                Action::None,
            );
        }
        Message::Retry(id) => {
            let account = state.rows.iter().find(|r| r.id == id).map(|r| r.account_id);
            let task = Task::perform(data::outbox_retry(store.clone(), id), Message::Done);
            return (task, account.map_or(Action::None, Action::Flush));
        }
        Message::Delete(id) => state.confirm_delete = Some(id),
        Message::KeepIt => state.confirm_delete = None,
        Message::ConfirmDelete(id) => {
            state.confirm_delete = None;
            return (
                Task::perform(data::outbox_drop(store.clone(), id), Message::Done),
                Action::None,
            );
        }
        Message::Edit(id) => {
            return (
                Task::perform(data::outbox_edit(store.clone(), id), |r| {
                    Message::Edited(Box::new(r))
                }),
                Action::None,
            );
        }
        Message::Edited(result) => match *result {
            Ok(prefill) => return (State::load(store), Action::Edit(Box::new(prefill))),
            Err(e) => state.notice = Some(e),
        },
        Message::Done(Ok(())) => {
            state.notice = None;
            return (State::load(store), Action::None);
        }
    }
    (Task::none(), Action::None)
}

/// What a row's state means to the user.
fn describe(row: &OutboxRow) -> String {
    match row.state.as_str() {
        "queued" if row.attempts == 0 => "Waiting to be sent".into(),
        "queued" => {
            let wait = row.next_attempt_at - chrono::Utc::now().timestamp();
            let reason = row.error.as_deref().unwrap_or("the server did not take it");
            if wait > 0 {
                format!(
                    "Not sent yet ({reason}); trying again in {} min",
                    (wait + 59) / 60
                )
            } else {
                format!("Not sent yet ({reason}); trying again now")
            }
        }
        "sending" => "Sending…".into(),
        "sent" => "Sent; the copy for the Sent folder is being filed".into(),
        "unknown" => format!(
            "Perhaps sent: the connection broke after the message was handed over ({}). Check Sent or with a recipient before you send it again.",
            row.error.as_deref().unwrap_or("no answer")
        ),
        "failed" => format!(
            "Failed: {}",
            row.error.as_deref().unwrap_or("the server refused it")
        ),
        other => other.to_owned(),
    }
}

/// The icon beside a message in the outbox: what is happening to it.
fn state_icon<'a>(row: &OutboxRow) -> Element<'a, Message> {
    match row.state.as_str() {
        "failed" | "unknown" => {
            widgets::icon(Icon::TriangleAlert, size::ICON, |t| theme::colors(t).danger).into()
        }
        "sending" => widgets::icon(Icon::Send, size::ICON, |t| theme::colors(t).accent).into(),
        "sent" => widgets::icon(Icon::CircleCheck, size::ICON, |t| theme::colors(t).success).into(),
        _ => widgets::muted_icon(Icon::Clock, size::ICON).into(),
    }
}

/// A small button of a card's actions.
fn action<'a>(
    label: &'a str,
    style: fn(&iced::Theme, button::Status) -> button::Style,
    message: Option<Message>,
) -> button::Button<'a, Message> {
    button(text(label).size(size::SMALL))
        .padding([space::XS, space::L])
        .style(style)
        .on_press_maybe(message)
}

/// A waiting message's buttons, or the question before it is deleted. A message that may
/// have gone out already ("unknown") offers "Send again", not the primary "Send now".
fn buttons(r: &OutboxRow, editable: bool, confirming: bool) -> Element<'_, Message> {
    if confirming {
        return row![
            text(if r.state == "unknown" {
                "Delete this message? It may have been sent; this copy cannot be brought back."
            } else {
                "Delete this message? It has not been sent, and it cannot be brought back."
            })
            .size(size::SMALL)
            .width(Length::Fill),
            action(
                "Delete",
                theme::danger_button,
                Some(Message::ConfirmDelete(r.id))
            ),
            action("Keep it", theme::secondary_button, Some(Message::KeepIt)),
        ]
        .spacing(space::S)
        .align_y(iced::Alignment::Center)
        .into();
    }
    let send = if r.state == "unknown" {
        action(
            "Send again",
            theme::secondary_button,
            editable.then_some(Message::Retry(r.id)),
        )
    } else {
        action(
            "Send now",
            theme::primary_button,
            editable.then_some(Message::Retry(r.id)),
        )
    };
    row![
        send,
        action(
            "Edit",
            theme::secondary_button,
            editable.then_some(Message::Edit(r.id))
        ),
        action(
            "Delete",
            theme::danger_button,
            editable.then_some(Message::Delete(r.id))
        ),
    ]
    .spacing(space::S)
    .into()
}

/// A card: the icon on the left, `body` beside it.
fn card<'a>(
    icon: Element<'a, Message>,
    body: impl Into<Element<'a, Message>>,
) -> Element<'a, Message> {
    container(
        row![container(icon).padding([space::XXS, 0.0]), body.into()]
            .spacing(space::L)
            .align_y(iced::Alignment::Start),
    )
    .padding(space::L)
    .width(Length::Fill)
    .style(|t| theme::card(t, false, false))
    .into()
}

pub fn view(state: &State) -> Element<'_, Message> {
    let waiting = state.rows.len();
    let line = match waiting {
        0 => "Nothing is waiting".to_owned(),
        1 => "1 message".to_owned(),
        n => format!("{} messages", theme::thousands(n)),
    };
    let mut list = column![
        row![
            text("Outbox").size(size::HEADING).font(theme::semibold()),
            text(line).size(size::SMALL).style(theme::muted),
        ]
        .spacing(space::M)
        .align_y(iced::Alignment::End),
    ]
    .spacing(space::M);
    if let Some(notice) = &state.notice {
        list = list.push(text(notice.clone()).size(size::SMALL).style(theme::danger));
    }
    for r in &state.rows {
        let failed = matches!(r.state.as_str(), "failed" | "unknown");
        let editable = matches!(r.state.as_str(), "queued" | "failed" | "unknown");
        let status = text(describe(r)).size(size::SMALL);
        let status = if failed {
            status.style(theme::danger)
        } else {
            status.style(theme::muted)
        };
        let subject = if r.subject.is_empty() {
            "(no subject)".to_owned()
        } else {
            r.subject.clone()
        };
        list = list.push(card(
            state_icon(r),
            column![
                row![
                    container(widgets::ellipsized(&subject).font(theme::semibold()))
                        .width(Length::Fill),
                    text(theme::short_date(r.created_at))
                        .size(size::SMALL)
                        .style(theme::muted),
                ]
                .spacing(space::M),
                widgets::ellipsized(format!(
                    "To {} · {}",
                    r.recipients.join(", "),
                    theme::short_size(r.size)
                ))
                .size(size::SMALL),
                status,
                buttons(r, editable, state.confirm_delete == Some(r.id)),
            ]
            .spacing(space::XS),
        ));
    }
    if state.loaded && state.rows.is_empty() && state.failed.is_empty() {
        // Nothing to scroll: the friendly empty state fills the pane.
        return column![
            list.padding([space::L, space::XL]),
            widgets::empty(
                Icon::Send,
                "The outbox is empty",
                "Mail written while offline, or that a server refused, waits here until it goes out.",
            ),
        ]
        .into();
    }
    if !state.failed.is_empty() {
        list = list.push(
            column![
                text("Changes that did not reach the server")
                    .size(size::TITLE)
                    .font(theme::semibold()),
                text("A move, a flag or an upload the server did not take. Try it again, or dismiss it.")
                    .size(size::SMALL)
                    .style(theme::muted),
            ]
            .spacing(space::XXS)
            .padding(iced::Padding::ZERO.top(space::L)),
        );
    }
    for f in &state.failed {
        let title = match (&f.subject, &f.folder) {
            (Some(subject), Some(folder)) if !subject.is_empty() => {
                format!("{}: “{subject}” in {folder}", capitalised(&f.what))
            }
            (_, Some(folder)) => format!("{} in {folder}", capitalised(&f.what)),
            _ => capitalised(&f.what),
        };
        let dismiss = if f.kind == "append" {
            "Dismiss (delete the message)"
        } else {
            "Dismiss"
        };
        list = list.push(card(
            widgets::icon(Icon::TriangleAlert, size::ICON, |t| theme::colors(t).danger).into(),
            column![
                text(title).font(theme::semibold()),
                text(format!("Failed: {}", f.error))
                    .size(size::SMALL)
                    .style(theme::danger),
                row![
                    action(
                        "Try again",
                        theme::primary_button,
                        f.retryable
                            .then_some(Message::RetryAction(f.id, f.account_id))
                    ),
                    action(
                        dismiss,
                        theme::secondary_button,
                        Some(Message::DismissAction(f.id))
                    ),
                ]
                .spacing(space::S),
            ]
            .spacing(space::XS),
        ));
    }
    scrollable(list.padding([space::L, space::XL]))
        .height(Length::Fill)
        .into()
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}
