//! What the user asked Tern to open from outside the window: `mailto:` links and message files
//! given on the command line, or handed over by a later `tern` process (`crate::instance`). A
//! link opens the composer prefilled from its fields (RFC 6068); a file opens in the message
//! viewer. They wait until the store and the accounts are loaded (and the setup wizard is
//! closed), so nothing asked for is dropped at startup.

use iced::futures::{StreamExt as _, stream};
use iced::{Subscription, Task};

use super::actions::{open_composer, senders};
use super::{State as Window, composer, viewer};
use crate::instance::{Request, Target};

/// The window's part: what waits to be opened, and the message file on show.
#[derive(Debug, Default)]
pub struct State {
    /// In the order asked; each waits until the window can show it (see `ready`).
    pending: std::collections::VecDeque<Target>,
    pub viewer: Option<viewer::State>,
    /// A message file is being read.
    loading: bool,
}

/// The most targets that wait (a flood from other processes is cut here, with a status line).
const MAX_PENDING: usize = 256;

impl State {
    pub fn new(targets: Vec<Target>) -> Self {
        Self {
            pending: targets.into_iter().take(MAX_PENDING).collect(),
            viewer: None,
            loading: false,
        }
    }

    /// Something waits to be opened.
    pub fn is_waiting(&self) -> bool {
        !self.pending.is_empty()
    }
}

#[derive(Debug, Clone)]
pub enum Message {
    /// Another `tern` process asked for something.
    Request(Request),
    /// A message file was read (or why not).
    Loaded(Box<Result<viewer::State, String>>),
    Viewer(viewer::Message),
}

/// The right pane shows a message file (so the toolbar's Reply answers it).
pub fn showing(window: &Window) -> bool {
    window.opening.viewer.is_some() && !window.composing && !window.help
}

/// Reply, Reply All or Forward for the message file on show.
pub fn respond(window: &mut Window, how: super::data::Respond) -> Task<super::Message> {
    let message = match how {
        super::data::Respond::Reply => viewer::Message::Reply,
        super::data::Respond::ReplyAll => viewer::Message::ReplyAll,
        super::data::Respond::Forward => viewer::Message::Forward,
    };
    update(window, Message::Viewer(message))
}

/// Requests from other `tern` processes, for the window's lifetime.
pub fn subscription() -> Subscription<Message> {
    Subscription::run(requests).map(Message::Request)
}

fn requests() -> stream::BoxStream<'static, Request> {
    match crate::instance::take_requests() {
        Some(receiver) => stream::unfold(receiver, |mut receiver| async move {
            receiver.recv().await.map(|request| (request, receiver))
        })
        .boxed(),
        None => stream::pending().boxed(),
    }
}

pub fn update(window: &mut Window, message: Message) -> Task<super::Message> {
    match message {
        Message::Request(Request::Raise) => raise(),
        Message::Request(Request::Open(targets)) => {
            let room = MAX_PENDING.saturating_sub(window.opening.pending.len());
            if targets.len() > room {
                window.status = format!(
                    "Tern was asked to open more than {MAX_PENDING} links and files at once; \
                     the rest were left out."
                );
            }
            window
                .opening
                .pending
                .extend(targets.into_iter().take(room));
            Task::batch([raise(), ready(window)])
        }
        Message::Loaded(result) => {
            window.opening.loading = false;
            match *result {
                Ok(screen) => {
                    window.opening.viewer = Some(screen);
                    window.composing = false;
                    window.help = false;
                    // The list's actions would act on a row the pane no longer shows.
                    window.mailbox.selected = None;
                }
                Err(e) => window.status = e,
            }
            Task::none()
        }
        Message::Viewer(message) => {
            let Some(screen) = window.opening.viewer.as_ref() else {
                return Task::none();
            };
            let own: Vec<String> = window
                .mailbox
                .tree
                .iter()
                .map(|t| t.account.settings.email.clone())
                .collect();
            let (task, action) = viewer::update(screen, message, &own);
            match action {
                viewer::Action::None => {}
                viewer::Action::Close => window.opening.viewer = None,
                viewer::Action::Compose(draft) => compose(window, *draft),
                viewer::Action::Error(e) => window.status = e,
            }
            task.map(|m| super::Message::Opening(Message::Viewer(m)))
        }
    }
}

/// Opens what waits, in order, once the window can show it: the store is open, the accounts
/// are loaded, and neither the wizard nor Settings is open (with no account yet, it waits for
/// the first). A link waits while a composer is open (it would replace or be refused by it), a
/// file while another is on show or being read; what waits behind it waits too.
pub fn ready(window: &mut Window) -> Task<super::Message> {
    if !window.opening.is_waiting()
        || window.store.is_none()
        || !window.mailbox.loaded
        || window.wizard.is_some()
        || window.settings.is_some()
    {
        return Task::none();
    }
    if window.mailbox.tree.is_empty() {
        if window.status.is_empty() {
            window.status = "Add an account first: what you opened shows once it is set up.".into();
        }
        return Task::none();
    }
    let mut tasks = Vec::new();
    while let Some(target) = window.opening.pending.front() {
        match target {
            Target::Mailto(_) if window.composer.is_some() => {
                window.status = "A mailto: link waits until you send, save or discard the \
                                 message you are writing."
                    .into();
                break;
            }
            Target::File(_) if window.opening.viewer.is_some() || window.opening.loading => break,
            _ => {}
        }
        let Some(target) = window.opening.pending.pop_front() else {
            break;
        };
        match target {
            Target::Mailto(link) => match crate::mail::mailto::parse(&link) {
                Ok(mailto) => compose(window, mailto.into_draft()),
                Err(e) => window.status = format!("Cannot open the mailto: link: {e}"),
            },
            Target::File(path) => {
                window.opening.loading = true;
                tasks.push(Task::perform(viewer::load(path), |result| {
                    super::Message::Opening(Message::Loaded(Box::new(result)))
                }));
            }
        }
    }
    Task::batch(tasks)
}

/// Opens the composer on `draft`, sending from the open folder's account (or the first).
fn compose(window: &mut Window, draft: crate::mail::compose::Draft) {
    let account = window
        .mailbox
        .folder
        .as_ref()
        .map(|f| f.account_id)
        .or_else(|| window.mailbox.tree.first().map(|t| t.account.id));
    let screen = composer::State::new(senders(window), account, draft, None, None);
    open_composer(window, screen);
}

/// Brings the window to the front (restored if it was minimised).
fn raise() -> Task<super::Message> {
    iced::window::latest().and_then(|id| {
        Task::batch([
            iced::window::minimize(id, false),
            iced::window::gain_focus(id),
        ])
    })
}
