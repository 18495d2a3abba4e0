//! The composer: From (account chooser), To, Cc, Bcc, Subject and the body (iced `text_editor`),
//! prefilled for reply, reply-all and forward by `mail::reply`. "Send" puts the message in the
//! outbox (one transaction) and closes at once; the engine sends it, and failures show in the
//! outbox with the reason. "Save draft" files it in Drafts, replacing the previous save.

use iced::widget::{button, column, pick_list, row, text, text_editor, text_input};
use iced::{Element, Length, Task};

use super::data;
use super::theme;
use crate::mail::compose::Draft;
use crate::store::Store;

/// An account the message can be sent from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct From {
    pub account: i64,
    pub label: String,
}

impl std::fmt::Display for From {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.label)
    }
}

#[derive(Debug)]
pub struct State {
    pub from: Option<From>,
    pub accounts: Vec<From>,
    pub to: String,
    pub cc: String,
    pub bcc: String,
    pub subject: String,
    pub body: text_editor::Content,
    /// Kept from the prefilled draft (threading, forwarded original, attachments).
    base: Draft,
    in_reply_to: Option<i64>,
    forwarded: Option<i64>,
    /// The last saved copy of this draft (replaced by the next save).
    draft_message: Option<i64>,
    pub error: Option<String>,
    busy: bool,
}

#[derive(Debug, Clone)]
pub enum Message {
    From(From),
    To(String),
    Cc(String),
    Bcc(String),
    Subject(String),
    Edit(text_editor::Action),
    Send,
    Queued(Result<i64, String>),
    SaveDraft,
    DraftSaved(Result<i64, String>),
    Discard,
}

/// What the window does after an update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    None,
    /// Close the composer; `Some(account)` when a message went to that account's outbox.
    Close(Option<i64>),
    /// A draft was saved for this account (its engine should upload it).
    DraftSaved(i64),
}

impl State {
    /// A composer for `draft` (empty for Write), sending from `account`.
    pub fn new(
        accounts: Vec<From>,
        account: Option<i64>,
        draft: Draft,
        in_reply_to: Option<i64>,
        forwarded: Option<i64>,
    ) -> State {
        let from = account
            .and_then(|id| accounts.iter().find(|a| a.account == id).cloned())
            .or_else(|| accounts.first().cloned());
        State {
            from,
            accounts,
            to: draft.to.join(", "),
            cc: draft.cc.join(", "),
            bcc: draft.bcc.join(", "),
            subject: draft.subject.clone(),
            body: text_editor::Content::with_text(&draft.text),
            base: draft,
            in_reply_to,
            forwarded,
            draft_message: None,
            error: None,
            busy: false,
        }
    }

    /// The draft as written so far.
    fn draft(&self) -> Draft {
        let list = |s: &str| -> Vec<String> {
            if s.trim().is_empty() {
                Vec::new()
            } else {
                vec![s.to_owned()]
            }
        };
        Draft {
            to: list(&self.to),
            cc: list(&self.cc),
            bcc: list(&self.bcc),
            subject: self.subject.clone(),
            text: self.body.text(),
            ..self.base.clone()
        }
    }
}

pub fn update(state: &mut State, message: Message, store: &Store) -> (Task<Message>, Action) {
    match message {
        Message::From(from) => state.from = Some(from),
        Message::To(v) => state.to = v,
        Message::Cc(v) => state.cc = v,
        Message::Bcc(v) => state.bcc = v,
        Message::Subject(v) => state.subject = v,
        Message::Edit(action) => state.body.perform(action),
        Message::Send => {
            let Some(from) = state.from.clone() else {
                state.error = Some("Choose the account to send from.".into());
                return (Task::none(), Action::None);
            };
            state.busy = true;
            state.error = None;
            let task = Task::perform(
                data::queue_message(
                    store.clone(),
                    from.account,
                    state.draft(),
                    state.in_reply_to,
                    state.forwarded,
                    state.draft_message,
                ),
                Message::Queued,
            );
            return (task, Action::None);
        }
        Message::Queued(Ok(_)) => {
            state.busy = false;
            return (
                Task::none(),
                Action::Close(state.from.as_ref().map(|f| f.account)),
            );
        }
        Message::Queued(Err(e)) | Message::DraftSaved(Err(e)) => {
            state.busy = false;
            state.error = Some(e);
        }
        Message::SaveDraft => {
            let Some(from) = state.from.clone() else {
                return (Task::none(), Action::None);
            };
            state.busy = true;
            let task = Task::perform(
                data::save_draft(
                    store.clone(),
                    from.account,
                    state.draft(),
                    state.draft_message,
                ),
                Message::DraftSaved,
            );
            return (task, Action::None);
        }
        Message::DraftSaved(Ok(id)) => {
            state.busy = false;
            state.draft_message = Some(id);
            return (
                Task::none(),
                state
                    .from
                    .as_ref()
                    .map_or(Action::None, |f| Action::DraftSaved(f.account)),
            );
        }
        Message::Discard => return (Task::none(), Action::Close(None)),
    }
    (Task::none(), Action::None)
}

pub fn view(state: &State) -> Element<'_, Message> {
    let field =
        |label: &'static str, hint: &'static str, value: &str, on: fn(String) -> Message| {
            row![
                text(label).width(70).style(theme::muted),
                text_input(hint, value).on_input(on).width(Length::Fill),
            ]
            .spacing(6)
            .align_y(iced::Alignment::Center)
        };
    let attachments = state
        .base
        .attachments
        .iter()
        .map(|a| a.filename.clone())
        .chain(
            state
                .base
                .attached_message
                .as_ref()
                .map(|_| "original message (.eml)".to_owned()),
        )
        .collect::<Vec<_>>();
    let mut form = column![
        row![
            text("From").width(70).style(theme::muted),
            pick_list(state.accounts.clone(), state.from.clone(), Message::From)
                .width(Length::Fill),
        ]
        .spacing(6)
        .align_y(iced::Alignment::Center),
        field("To", "name@example.com, …", &state.to, Message::To),
        field("Cc", "", &state.cc, Message::Cc),
        field("Bcc", "", &state.bcc, Message::Bcc),
        field(
            "Subject",
            "What is it about?",
            &state.subject,
            Message::Subject
        ),
    ]
    .spacing(6);
    if !attachments.is_empty() {
        form = form.push(text(format!("Attached: {}", attachments.join(", "))).style(theme::muted));
    }
    let actions = row![
        button(text("Send (Ctrl+Enter)")).on_press_maybe((!state.busy).then_some(Message::Send)),
        button(text("Save draft")).on_press_maybe((!state.busy).then_some(Message::SaveDraft)),
        button(text("Discard"))
            .style(button::secondary)
            .on_press(Message::Discard),
    ]
    .spacing(8);
    let mut page = column![
        form,
        text_editor(&state.body)
            .placeholder("Write your message here")
            .on_action(Message::Edit)
            .key_binding(|press| {
                let send = matches!(
                    press.key.as_ref(),
                    iced::keyboard::Key::Named(iced::keyboard::key::Named::Enter)
                ) && press.modifiers.command();
                if send {
                    Some(text_editor::Binding::Custom(Message::Send))
                } else {
                    text_editor::Binding::from_key_press(press)
                }
            })
            .height(Length::Fill),
        actions,
    ]
    .spacing(8)
    .padding(12);
    if let Some(error) = &state.error {
        page = page.push(text(error.clone()).style(theme::danger));
    }
    page.into()
}
