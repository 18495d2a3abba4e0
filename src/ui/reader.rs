//! The reader pane: the open message's headers, then its text. A body that is not cached yet is
//! fetched by the engine (only the part needed) while a "Loading…" line shows; offline it says
//! so instead of failing. Remote content is never loaded: HTML is shown as text.

use iced::widget::{button, column, container, row, rule, scrollable, text};
use iced::{Element, Length, Task};

use super::data::{self, BodyText};
use super::theme;
use crate::store::Store;

#[derive(Debug, Default)]
pub struct State {
    /// The message being shown or loaded.
    pub open: Option<i64>,
    body: Option<BodyText>,
    loading: bool,
    error: Option<String>,
    attachments: Vec<crate::engine::imap::AttachmentInfo>,
    /// The raw source, when the user asked to see it.
    source: Option<String>,
    /// What the last attachment action did ("Saved to …").
    notice: Option<String>,
    /// The conversation the message belongs to (oldest first), when it has more than one.
    conversation: Vec<crate::store::MessageRow>,
    /// The body cut into text and links (made once per message, not per frame).
    pieces: Vec<(String, Option<String>)>,
    /// A link the user clicked: its real target is shown before it is opened.
    pending_link: Option<String>,
}

#[derive(Debug, Clone)]
pub enum Message {
    Loaded(i64, Box<Result<BodyText, String>>),
    Attachments(
        i64,
        Result<Vec<crate::engine::imap::AttachmentInfo>, String>,
    ),
    Save(usize),
    Saved(Result<std::path::PathBuf, String>),
    ToggleSource,
    Source(i64, Result<String, String>),
    Conversation(i64, Result<Vec<crate::store::MessageRow>, String>),
    OpenOther(i64),
    Link(String),
    OpenLink,
    CancelLink,
    LinkOpened(Result<(), String>),
}

impl State {
    /// Opens message `id`: its text from the cache, or fetched.
    pub fn open(&mut self, store: &Store, id: i64) -> Task<Message> {
        self.open = Some(id);
        self.loading = true;
        self.error = None;
        self.source = None;
        self.notice = None;
        self.attachments.clear();
        self.conversation.clear();
        self.pieces.clear();
        self.pending_link = None;
        Task::batch([
            Task::perform(data::body(store.clone(), id), move |r| {
                Message::Loaded(id, Box::new(r))
            }),
            Task::perform(data::attachment_list(store.clone(), id), move |r| {
                Message::Attachments(id, r)
            }),
        ])
    }

    /// Closes the reader (e.g. the message was deleted).
    pub fn close(&mut self) {
        *self = State::default();
    }
}

pub fn update(state: &mut State, message: Message, store: &Store) -> Task<Message> {
    match message {
        Message::Attachments(id, result) => {
            if state.open == Some(id) {
                state.attachments = result.unwrap_or_default();
            }
        }
        Message::Save(index) => {
            let Some(id) = state.open else {
                return Task::none();
            };
            state.notice = Some("Saving…".into());
            return Task::perform(
                data::save_attachment(store.clone(), id, index),
                Message::Saved,
            );
        }
        Message::Saved(result) => {
            state.notice = Some(match result {
                Ok(path) => format!("Saved to {}", path.display()),
                Err(e) => e,
            });
        }
        Message::ToggleSource => {
            if state.source.take().is_some() {
                return Task::none();
            }
            let Some(id) = state.open else {
                return Task::none();
            };
            return Task::perform(data::source(store.clone(), id), move |r| {
                Message::Source(id, r)
            });
        }
        Message::Conversation(id, result) => {
            if state.open == Some(id) {
                state.conversation = result.unwrap_or_default();
            }
        }
        Message::OpenOther(id) => return state.open(store, id),
        Message::Link(link) => state.pending_link = Some(link),
        Message::CancelLink => state.pending_link = None,
        Message::OpenLink => {
            if let Some(link) = state.pending_link.take() {
                return Task::perform(data::open_link(link), Message::LinkOpened);
            }
        }
        Message::LinkOpened(result) => {
            if let Err(e) = result {
                state.notice = Some(e);
            }
        }
        Message::Source(id, result) => {
            if state.open == Some(id) {
                state.source = Some(result.unwrap_or_else(|e| e));
            }
        }
        Message::Loaded(id, result) => {
            if state.open != Some(id) {
                return Task::none(); // the user moved on
            }
            state.loading = false;
            match *result {
                Ok(body) => {
                    let thread = body.row.thread_id;
                    state.pieces = body
                        .text
                        .as_deref()
                        .map(crate::mail::links::linkify)
                        .unwrap_or_default();
                    state.body = Some(body);
                    if let Some(thread) = thread {
                        return Task::perform(
                            data::conversation(store.clone(), thread),
                            move |r| Message::Conversation(id, r),
                        );
                    }
                }
                Err(e) => state.error = Some(e),
            }
        }
    }
    Task::none()
}

pub fn view(state: &State) -> Element<'_, Message> {
    let Some(body) = state.body.as_ref().filter(|b| Some(b.row.id) == state.open) else {
        let note = if state.loading {
            "Loading…"
        } else {
            "Select a message to read it."
        };
        return container(text(note).style(theme::muted))
            .padding(12)
            .width(Length::Fill)
            .height(Length::Fill)
            .into();
    };
    let m = &body.row;
    let from = if m.from_name.is_empty() {
        m.from_addr.clone()
    } else {
        format!("{} <{}>", m.from_name, m.from_addr)
    };
    let header = |label: &'static str, value: String| {
        iced::widget::row![
            text(label).width(70).style(theme::muted),
            text(value).width(Length::Fill)
        ]
    };
    let mut headers = column![
        text(if m.subject.is_empty() {
            "(no subject)".into()
        } else {
            m.subject.clone()
        })
        .size(20)
        .font(theme::bold()),
        header("From", from),
        header("To", m.to.clone()),
    ]
    .spacing(4);
    if !m.cc.is_empty() {
        headers = headers.push(header("Cc", m.cc.clone()));
    }
    headers = headers.push(header("Date", theme::long_date(m.date)));
    let mut bar = row![].spacing(8).align_y(iced::Alignment::Center);
    for (index, a) in state.attachments.iter().enumerate() {
        bar = bar.push(
            button(text(format!(
                "{} ({}, {})",
                a.name,
                a.content_type,
                theme::short_size(i64::try_from(a.size).unwrap_or(i64::MAX))
            )))
            .style(button::secondary)
            .on_press(Message::Save(index)),
        );
    }
    bar = bar.push(iced::widget::space::horizontal());
    bar = bar.push(
        button(text(if state.source.is_some() {
            "Show message"
        } else {
            "Show source"
        }))
        .style(button::text)
        .on_press(Message::ToggleSource),
    );
    headers = headers.push(bar);
    if state.conversation.len() > 1 {
        let mut thread = column![
            text(format!(
                "{} messages in this conversation",
                state.conversation.len()
            ))
            .style(theme::muted)
        ]
        .spacing(2);
        for other in state.conversation.iter().take(50) {
            let who = if other.from_name.is_empty() {
                other.from_addr.clone()
            } else {
                other.from_name.clone()
            };
            let current = Some(other.id) == state.open;
            thread = thread.push(
                button(text(format!(
                    "{} · {} · {}",
                    theme::short_date(other.date),
                    who,
                    other.subject
                )))
                .style(move |t, s| theme::row_button(t, s, current))
                .width(Length::Fill)
                .on_press(Message::OpenOther(other.id)),
            );
        }
        headers = headers.push(thread);
    }
    if let Some(notice) = &state.notice {
        headers = headers.push(text(notice.clone()).style(theme::muted));
    }
    if let Some(link) = &state.pending_link {
        headers = headers.push(
            row![
                text(format!("Open {link} ?")).width(Length::Fill),
                button(text("Open")).on_press(Message::OpenLink),
                button(text("Cancel"))
                    .style(button::secondary)
                    .on_press(Message::CancelLink),
            ]
            .spacing(8)
            .align_y(iced::Alignment::Center),
        );
    }
    let content: Element<'_, Message> = match (&body.text, &body.note, &state.error) {
        _ if state.source.is_some() => text(state.source.clone().unwrap_or_default())
            .font(iced::Font::MONOSPACE)
            .into(),
        (_, _, Some(error)) => text(error.clone()).style(theme::danger).into(),
        (Some(_), _, _) => iced::widget::rich_text(
            state
                .pieces
                .iter()
                .map(|(piece, link)| {
                    let span = iced::widget::span(piece.as_str());
                    match link {
                        Some(link) => span.link(link.clone()).underline(true),
                        None => span,
                    }
                })
                .collect::<Vec<_>>(),
        )
        .on_link_click(Message::Link)
        .into(),
        (None, Some(note), _) => text(note.clone()).style(theme::muted).into(),
        (None, None, _) => text("This message has no readable text.")
            .style(theme::muted)
            .into(),
    };
    let loading = if state.loading {
        text("Loading…").style(theme::muted)
    } else {
        text("")
    };
    column![
        headers,
        loading,
        rule::horizontal(1),
        scrollable(container(content).padding([8, 4]).width(Length::Fill)).height(Length::Fill),
    ]
    .spacing(8)
    .padding(12)
    .width(Length::Fill)
    .height(Length::Fill)
    .into()
}
