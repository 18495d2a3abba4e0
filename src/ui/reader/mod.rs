//! The reader pane: the open message's headers, then its body. A body that is not cached yet is
//! fetched by the engine (only the part needed) while a spinner turns; offline it says
//! so instead of failing.
//!
//! HTML is sanitised (ammonia) and drawn as rich text (html2text's rich mode, in `mail::html`);
//! remote content is never loaded, and a banner says how many remote images were blocked.
//! Inline `cid:` images and image attachments are shown from the message itself (cached, or
//! fetched like any part). Links show their real target and open only after confirmation.

mod view;

pub use view::view;

use iced::Task;
use iced::widget::image;

use super::data::{self, BodyText};
use crate::engine::imap::{Pick, Prefer};
use crate::store::Store;

/// At most this many images are shown under a message.
const MAX_IMAGES: usize = 12;
/// Image attachments larger than this are not previewed (Open or Save them instead).
const MAX_IMAGE_BYTES: u64 = 8 * 1024 * 1024;

/// A run of plain-text lines at one quote depth, its links found.
#[derive(Debug, Clone)]
struct Quoted {
    depth: usize,
    lines: usize,
    pieces: Vec<(String, Option<String>)>,
}

/// Quotes longer than this many lines are folded until asked for.
const FOLDED_QUOTE: usize = 6;

/// An image shown under the text: an inline `cid:` part or an image attachment.
#[derive(Debug, Clone)]
struct Picture {
    label: String,
    pick: Pick,
    handle: Option<image::Handle>,
    failed: Option<String>,
}

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
    /// The message whose "Save all" is running (a second one waits for it to end).
    saving_all: Option<i64>,
    /// The conversation the message belongs to (oldest first), when it has more than one.
    conversation: Vec<crate::store::MessageRow>,
    /// The body cut into text and links (made once per message, not per frame).
    pieces: Vec<Quoted>,
    /// Long quotes are shown (else folded to a button).
    quotes_open: bool,
    /// A link the user clicked: its real target is shown before it is opened.
    pending_link: Option<String>,
    /// An attachment that is a program: opening it waits for the user to confirm.
    pending_open: Option<usize>,
    /// Images shown under the text.
    pictures: Vec<Picture>,
    /// Show the text/plain alternative instead of the HTML (a global choice, kept in ui.json).
    pub prefer_plain: bool,
    /// The reader's width in characters, for laying out HTML.
    pub columns: usize,
    /// Every recipient is listed (else To and Cc take one line, "and 3 more").
    recipients_open: bool,
    /// The spinner's frame while a body is being fetched.
    spin: usize,
}

/// What the menu on an attachment chip offers (a click on the chip itself opens it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChipAction {
    SaveAs,
    SaveToDownloads,
    /// Every attachment of the message, to Downloads (offered when there are two or more).
    SaveAll,
    Open,
}

impl ChipAction {
    /// The menu's entries for a message with `attachments` attachments.
    pub fn offered(attachments: usize) -> Vec<ChipAction> {
        let mut actions = vec![ChipAction::SaveAs, ChipAction::SaveToDownloads];
        if attachments > 1 {
            actions.push(ChipAction::SaveAll);
        }
        actions.push(ChipAction::Open);
        actions
    }

    /// The message this entry sends for the attachment at `index`.
    fn message(self, index: usize) -> Message {
        match self {
            ChipAction::SaveAs => Message::SaveAs(index),
            ChipAction::SaveToDownloads => Message::Save(index),
            ChipAction::SaveAll => Message::SaveAll,
            ChipAction::Open => Message::Open(index),
        }
    }
}

impl std::fmt::Display for ChipAction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ChipAction::SaveAs => "Save as…",
            ChipAction::SaveToDownloads => "Save to Downloads",
            ChipAction::SaveAll => "Save all to Downloads",
            ChipAction::Open => "Open",
        })
    }
}

#[derive(Debug, Clone)]
pub enum Message {
    Loaded(i64, Box<Result<BodyText, String>>),
    Attachments(
        i64,
        Result<Vec<crate::engine::imap::AttachmentInfo>, String>,
    ),
    Save(usize),
    /// An attachment of this message was saved (or not).
    Saved(i64, Result<std::path::PathBuf, String>),
    /// An entry of the menu on the attachment at this index.
    Chip(usize, ChipAction),
    SaveAll,
    /// Where the attachments went and how many.
    SavedAll(i64, Result<(std::path::PathBuf, usize), String>),
    SaveAs(usize),
    SavedAs(i64, Result<Option<std::path::PathBuf>, String>),
    Open(usize),
    ConfirmOpen,
    CancelOpen,
    Opened(i64, Result<std::path::PathBuf, String>),
    Picture(i64, usize, Result<image::Handle, String>),
    /// Switch between the HTML and the plain text (the parent saves the choice).
    TogglePlain,
    /// The spinner's next frame (only while loading).
    Tick,
    ToggleSource,
    /// List every recipient, or one line of them.
    ToggleRecipients,
    /// Show or fold long quotes.
    ToggleQuotes,
    Source(i64, Result<String, String>),
    Conversation(i64, Result<Vec<crate::store::MessageRow>, String>),
    OpenOther(i64),
    Link(String),
    OpenLink,
    CancelLink,
    LinkOpened(Result<(), String>),
}

impl State {
    /// An empty reader showing HTML or plain text, laid out at `columns` characters.
    pub fn new(prefer_plain: bool, columns: usize) -> State {
        State {
            prefer_plain,
            columns,
            ..State::default()
        }
    }

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
        self.pending_open = None;
        self.pictures.clear();
        self.recipients_open = false;
        self.quotes_open = false;
        let prefer = if self.prefer_plain {
            Prefer::Text
        } else {
            Prefer::Html
        };
        let columns = if self.columns == 0 { 90 } else { self.columns };
        Task::batch([
            Task::perform(data::body(store.clone(), id, prefer, columns), move |r| {
                Message::Loaded(id, Box::new(r))
            }),
            Task::perform(data::attachment_list(store.clone(), id), move |r| {
                Message::Attachments(id, r)
            }),
        ])
    }

    /// Whether a body is being fetched (the spinner turns then).
    pub fn is_loading(&self) -> bool {
        self.loading
    }

    /// Dismisses the questions the reader asks (a link or a program about to be opened).
    pub fn dismiss(&mut self) {
        self.pending_link = None;
        self.pending_open = None;
    }

    /// Closes the reader (e.g. the message was deleted).
    pub fn close(&mut self) {
        *self = State {
            prefer_plain: self.prefer_plain,
            columns: self.columns,
            ..State::default()
        };
    }

    /// Adds images to show and starts loading them.
    fn add_pictures(
        &mut self,
        store: &Store,
        found: impl IntoIterator<Item = (String, Pick)>,
    ) -> Task<Message> {
        let Some(id) = self.open else {
            return Task::none();
        };
        let mut tasks = Vec::new();
        for (label, pick) in found {
            if self.pictures.len() >= MAX_IMAGES || self.pictures.iter().any(|p| p.pick == pick) {
                continue;
            }
            let index = self.pictures.len();
            self.pictures.push(Picture {
                label,
                pick: pick.clone(),
                handle: None,
                failed: None,
            });
            tasks.push(Task::perform(
                data::image(store.clone(), id, pick),
                move |r| Message::Picture(id, index, r),
            ));
        }
        Task::batch(tasks)
    }
}

pub fn update(state: &mut State, message: Message, store: &Store) -> Task<Message> {
    match message {
        Message::Tick => state.spin = state.spin.wrapping_add(1),
        Message::Attachments(id, result) => {
            if state.open == Some(id) {
                state.attachments = result.unwrap_or_default();
                let images: Vec<(String, Pick)> = state
                    .attachments
                    .iter()
                    .enumerate()
                    .filter(|(_, a)| {
                        a.content_type.starts_with("image/") && a.size <= MAX_IMAGE_BYTES
                    })
                    .map(|(i, a)| (a.name.clone(), Pick::Nth(i)))
                    .collect();
                return state.add_pictures(store, images);
            }
        }
        Message::Picture(id, index, result) => {
            if state.open == Some(id)
                && let Some(picture) = state.pictures.get_mut(index)
            {
                match result {
                    Ok(handle) => picture.handle = Some(handle),
                    Err(e) => picture.failed = Some(e),
                }
            }
        }
        Message::SaveAs(index) => {
            let (Some(id), Some(a)) = (state.open, state.attachments.get(index)) else {
                return Task::none();
            };
            return Task::perform(
                data::save_attachment_as(store.clone(), id, index, a.name.clone()),
                move |result| Message::SavedAs(id, result),
            );
        }
        // What a save or open did is told only while its message is still the one shown.
        Message::SavedAs(id, result) if state.open == Some(id) => {
            state.notice = match result {
                Ok(Some(path)) => Some(format!("Saved to {}", path.display())),
                Ok(None) => None,
                Err(e) => Some(e),
            };
        }
        Message::Open(index) => {
            let Some(a) = state.attachments.get(index) else {
                return Task::none();
            };
            if crate::mail::attachment::is_executable(&a.name, &a.content_type) {
                state.pending_open = Some(index);
                return Task::none();
            }
            return open_attachment(state, store, index);
        }
        Message::ConfirmOpen => {
            if let Some(index) = state.pending_open.take() {
                return open_attachment(state, store, index);
            }
        }
        Message::CancelOpen => state.pending_open = None,
        Message::Opened(id, result) if state.open == Some(id) => {
            state.notice = Some(match result {
                Ok(path) => format!("Opened a copy: {}", path.display()),
                Err(e) => e,
            });
        }
        Message::TogglePlain => {
            state.prefer_plain = !state.prefer_plain;
            if let Some(id) = state.open {
                return state.open(store, id);
            }
        }
        Message::Save(index) => {
            let Some(id) = state.open else {
                return Task::none();
            };
            state.notice = Some("Saving…".into());
            return Task::perform(
                data::save_attachment(store.clone(), id, index),
                move |result| Message::Saved(id, result),
            );
        }
        Message::Chip(index, action) => return update(state, action.message(index), store),
        Message::SaveAll => {
            // A second "Save all" while the first runs would save every file twice.
            let Some(id) = state.open.filter(|id| state.saving_all != Some(*id)) else {
                return Task::none();
            };
            state.saving_all = Some(id);
            state.notice = Some("Saving…".into());
            return Task::perform(
                data::save_all_attachments(store.clone(), id, state.attachments.len()),
                move |result| Message::SavedAll(id, result),
            );
        }
        Message::SavedAll(id, result) if state.open != Some(id) => {
            if state.saving_all == Some(id) {
                state.saving_all = None;
            }
            if let Err(e) = result {
                state.notice = Some(earlier(&e));
            }
        }
        Message::SavedAll(id, result) => {
            if state.saving_all == Some(id) {
                state.saving_all = None;
            }
            state.notice = Some(match result {
                Ok((dir, 1)) => format!("Saved 1 attachment to {}", dir.display()),
                Ok((dir, n)) => format!("Saved {n} attachments to {}", dir.display()),
                Err(e) => e,
            });
        }
        Message::Saved(id, result) if state.open == Some(id) => {
            state.notice = Some(match result {
                Ok(path) => format!("Saved to {}", path.display()),
                Err(e) => e,
            });
        }
        // About a message no longer shown: only a failure is told (the user waited for it).
        Message::Saved(_, Err(e)) | Message::SavedAs(_, Err(e)) | Message::Opened(_, Err(e)) => {
            state.notice = Some(earlier(&e));
        }
        Message::Saved(..) | Message::SavedAs(..) | Message::Opened(..) => {}
        Message::ToggleQuotes => {
            state.quotes_open = !state.quotes_open;
        }
        Message::ToggleRecipients => {
            state.recipients_open = !state.recipients_open;
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
                        .map(crate::mail::quote::blocks)
                        .unwrap_or_default()
                        .into_iter()
                        .map(|block| Quoted {
                            depth: block.depth,
                            lines: block.lines,
                            pieces: crate::mail::links::linkify(&block.text),
                        })
                        .collect();
                    let inline: Vec<(String, Pick)> = body
                        .html
                        .iter()
                        .flat_map(|h| &h.inline_images)
                        .map(|cid| (cid.clone(), Pick::ContentId(cid.clone())))
                        .collect();
                    state.body = Some(body);
                    let pictures = state.add_pictures(store, inline);
                    if let Some(thread) = thread {
                        return Task::batch([
                            pictures,
                            Task::perform(data::conversation(store.clone(), thread), move |r| {
                                Message::Conversation(id, r)
                            }),
                        ]);
                    }
                    return pictures;
                }
                Err(e) => state.error = Some(e),
            }
        }
    }
    Task::none()
}

/// Opens attachment `index` from a temporary copy with the system's handler.
fn open_attachment(state: &mut State, store: &Store, index: usize) -> Task<Message> {
    let Some(id) = state.open else {
        return Task::none();
    };
    state.notice = Some("Opening…".into());
    Task::perform(
        data::open_attachment(store.clone(), id, index),
        move |result| Message::Opened(id, result),
    )
}

/// A failure of a save or open begun on a message no longer shown.
fn earlier(error: &str) -> String {
    format!("An attachment of the message shown before: {error}")
}

/// "◐ Loading…", turning while the body is fetched.
fn spinner(state: &State) -> String {
    const FRAMES: [char; 4] = ['◐', '◓', '◑', '◒'];
    let frame = FRAMES
        .get(state.spin % FRAMES.len())
        .copied()
        .unwrap_or('◐');
    format!("{frame} Loading…")
}
