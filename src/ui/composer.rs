//! The composer: From (account chooser), To, Cc, Bcc with completion from addresses seen in the
//! store, Subject and the body (iced `text_editor`), prefilled for reply, reply-all and forward
//! by `mail::reply`. Files are attached with "Attach…" (the system's file dialog) or by dropping
//! them on the window. "Send" puts the message in the outbox (one transaction) and closes at
//! once; the engine sends it, and failures show in the Outbox with the reason. "Save draft" files
//! it in Drafts, replacing the previous save; changes are also saved every `AUTOSAVE`.

use std::time::Duration;

use iced::widget::{button, column, row, text, text_editor, text_input};
use iced::{Element, Length, Task};

use super::data;
use super::{theme, widgets};
use crate::mail::compose::Draft;
use crate::store::{Contact, Store};

/// How often a changed draft is saved on its own.
pub const AUTOSAVE: Duration = Duration::from_secs(60);

/// An address field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    To,
    Cc,
    Bcc,
}

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
    /// Changed since the last save (autosave only writes then).
    pub dirty: bool,
    /// Completions for the address being typed in a field.
    suggestions: Option<(Field, Vec<Contact>)>,
    /// What the last save did ("Draft saved at 14:05").
    saved_note: Option<String>,
}

#[derive(Debug, Clone)]
pub enum Message {
    From(From),
    To(String),
    Cc(String),
    Bcc(String),
    Completed(Field, String, Result<Vec<Contact>, String>),
    Complete(Field, Contact),
    Attach,
    AttachPaths(Vec<std::path::PathBuf>),
    Attached(Result<Vec<crate::mail::compose::Attachment>, String>),
    RemoveAttachment(usize),
    Autosave,
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
            dirty: false,
            suggestions: None,
            saved_note: None,
        }
    }

    fn field(&mut self, field: Field) -> &mut String {
        match field {
            Field::To => &mut self.to,
            Field::Cc => &mut self.cc,
            Field::Bcc => &mut self.bcc,
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
        Message::To(v) => return (typed(state, Field::To, v, store), Action::None),
        Message::Cc(v) => return (typed(state, Field::Cc, v, store), Action::None),
        Message::Bcc(v) => return (typed(state, Field::Bcc, v, store), Action::None),
        Message::Completed(field, fragment, result) => {
            let current = last_fragment(state.field(field)).to_owned();
            if current == fragment {
                state.suggestions = result
                    .ok()
                    .filter(|found| !found.is_empty())
                    .map(|found| (field, found));
            }
        }
        Message::Complete(field, contact) => {
            let value = state.field(field);
            let before = match value.rfind(',') {
                Some(i) => format!("{}, ", value.get(..i).unwrap_or_default().trim_end()),
                None => String::new(),
            };
            *value = format!("{before}{}, ", contact.display());
            state.suggestions = None;
            state.dirty = true;
        }
        Message::Attach => {
            return (
                Task::perform(data::pick_attachments(), Message::AttachPaths),
                Action::None,
            );
        }
        Message::AttachPaths(paths) => {
            if paths.is_empty() {
                return (Task::none(), Action::None);
            }
            return (
                Task::perform(data::read_attachments(paths), Message::Attached),
                Action::None,
            );
        }
        Message::Attached(Ok(files)) => {
            state.base.attachments.extend(files);
            state.dirty = true;
        }
        Message::Attached(Err(e)) => state.error = Some(e),
        Message::RemoveAttachment(index) => {
            if index < state.base.attachments.len() {
                state.base.attachments.remove(index);
                state.dirty = true;
            }
        }
        Message::Autosave => {
            if state.dirty && !state.busy {
                return update(state, Message::SaveDraft, store);
            }
        }
        Message::Subject(v) => {
            state.subject = v;
            state.dirty = true;
        }
        Message::Edit(action) => {
            state.dirty |= action.is_edit();
            state.body.perform(action);
        }
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
            state.dirty = false;
            state.saved_note = Some(format!(
                "Draft saved at {}",
                chrono::Local::now().format("%H:%M")
            ));
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

/// The address being typed: what follows the last comma.
fn last_fragment(value: &str) -> &str {
    value.rsplit(',').next().unwrap_or(value).trim()
}

/// An address field changed: keep it, and look up completions for its last address.
fn typed(state: &mut State, field: Field, value: String, store: &Store) -> Task<Message> {
    *state.field(field) = value;
    state.dirty = true;
    let fragment = last_fragment(state.field(field)).to_owned();
    if fragment.chars().count() < 2 || fragment.contains('@') && fragment.ends_with('>') {
        state.suggestions = None;
        return Task::none();
    }
    Task::perform(
        data::complete_address(store.clone(), fragment.clone()),
        move |r| Message::Completed(field, fragment.clone(), r),
    )
}

pub fn view<'a>(state: &'a State) -> Element<'a, Message> {
    let field = |label: &'static str,
                 hint: &'static str,
                 value: &str,
                 on: fn(String) -> Message|
     -> Element<'_, Message> {
        row![
            text(label).width(70).style(theme::muted),
            text_input(hint, value).on_input(on).width(Length::Fill),
        ]
        .spacing(6)
        .align_y(iced::Alignment::Center)
        .into()
    };
    let with_suggestions = |which: Field, input: Element<'a, Message>| -> Element<'a, Message> {
        match &state.suggestions {
            Some((field, found)) if *field == which => {
                let mut list = column![input].spacing(2);
                for contact in found {
                    list = list.push(row![
                        iced::widget::space::horizontal().width(76),
                        button(text(contact.display()).size(14))
                            .style(|t, s| theme::row_button(t, s, false))
                            .width(Length::Fill)
                            .on_press(Message::Complete(which, contact.clone())),
                    ]);
                }
                list.into()
            }
            _ => input,
        }
    };
    let mut form = column![
        row![
            text("From").width(70).style(theme::muted),
            widgets::pick(state.accounts.clone(), state.from.clone(), Message::From)
                .width(Length::Fill),
        ]
        .spacing(6)
        .align_y(iced::Alignment::Center),
        with_suggestions(
            Field::To,
            field("To", "name@example.com, …", &state.to, Message::To)
        ),
        with_suggestions(Field::Cc, field("Cc", "", &state.cc, Message::Cc)),
        with_suggestions(Field::Bcc, field("Bcc", "", &state.bcc, Message::Bcc)),
        field(
            "Subject",
            "What is it about?",
            &state.subject,
            Message::Subject
        ),
    ]
    .spacing(6);
    let mut files = row![text("Attached").width(70).style(theme::muted)]
        .spacing(6)
        .align_y(iced::Alignment::Center);
    for (index, a) in state.base.attachments.iter().enumerate() {
        files = files.push(
            button(text(format!(
                "{} ({}) ×",
                a.filename,
                theme::short_size(i64::try_from(a.data.len()).unwrap_or(i64::MAX))
            )))
            .style(theme::secondary_button)
            .on_press(Message::RemoveAttachment(index)),
        );
    }
    if state.base.attached_message.is_some() {
        files = files.push(text("original message (.eml)"));
    }
    if !state.base.attachments.is_empty() || state.base.attached_message.is_some() {
        form = form.push(files);
    }
    let mut actions = row![
        crate::ui::widgets::tool_button(
            crate::ui::widgets::Icon::Send,
            Some("Send (Ctrl+Enter)"),
            crate::ui::widgets::Look::Primary,
            (!state.busy).then_some(Message::Send),
        ),
        button(text("Save draft"))
            .style(theme::secondary_button)
            .on_press_maybe((!state.busy).then_some(Message::SaveDraft)),
        button(text("Attach…"))
            .style(theme::secondary_button)
            .on_press(Message::Attach),
        button(text("Discard"))
            .style(theme::secondary_button)
            .on_press(Message::Discard),
    ]
    .spacing(8)
    .align_y(iced::Alignment::Center);
    if let Some(note) = &state.saved_note {
        actions = actions.push(text(note.clone()).size(13).style(theme::muted));
    }
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
