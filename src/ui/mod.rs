//! The desktop app (iced): a three-pane window (folders, message list, reader) with a toolbar and
//! a status bar. It never touches a socket or SQLite: view data comes from `store` queries run
//! off the UI thread (`data.rs`), and each account's engine runs as a subscription that hands the
//! UI a command sender (`engines.rs`). Engine events say what changed; the window re-reads it.
//!
//! Each screen is its own module with `State`, `Message`, `update` and `view` (`mailbox`,
//! `reader`); colours and styles live in `theme`.

mod actions;
pub mod chrome;
pub mod composer;
pub mod data;
pub mod engines;
pub mod focus;
pub mod keys;
mod layout;
pub mod mailbox;
pub mod notify;
mod opening;
pub mod outbox;
pub mod password;
pub mod prefs;
pub mod reader;
pub mod settings;
mod subscriptions;
pub mod theme;
mod trace;
pub mod viewer;
pub mod welcome;
pub mod widgets;
mod window;
pub mod wizard;

pub use window::view;

use std::collections::BTreeMap;
use std::path::PathBuf;

use iced::Task;
use iced::keyboard;
use iced::widget::pane_grid;
use tokio::sync::mpsc;

use crate::engine::{Command, Connectivity};
use crate::store::{Store, flag};
use actions::{
    engine_update, open_composer, open_prefilled, reader_columns, respond, save_prefs,
    select_relative, senders, toggle_flag, trace_frame,
};
pub use keys::Shortcut;
use keys::shortcut;
pub use layout::Pane;
use layout::{panes, ratios};
use subscriptions::subscription;
use trace::{STARTED, Trace};

/// One account's engine as the status bar sees it.
#[derive(Debug, Clone, Default)]
pub struct EngineView {
    pub name: String,
    pub commands: Option<mpsc::Sender<Command>>,
    pub connectivity: Option<Connectivity>,
    pub progress: Option<(u64, u64)>,
    pub problem: Option<String>,
}

#[derive(Debug)]
pub struct State {
    data_dir: PathBuf,
    store: Option<Store>,
    pub mailbox: mailbox::State,
    pub reader: reader::State,
    pub composer: Option<composer::State>,
    /// The Outbox, shown in the list pane instead of the message list.
    pub outbox: Option<outbox::State>,
    /// The right pane shows the composer's tab (else the message's), when one is open.
    composing: bool,
    pub settings: Option<settings::State>,
    /// The account setup wizard, when open (over everything else).
    pub wizard: Option<wizard::State>,
    /// Links and message files asked for from outside, and the message file on show.
    opening: opening::State,
    /// Where the wizard's discovery looks (the environment's overrides, or why they are bad).
    sources: Result<crate::account::autoconfig::Sources, String>,
    /// Accounts whose engine has no password (none in the keyring, or no keyring): asked in a
    /// banner, one at a time, and kept in memory for the run.
    pub passwords: password::State,
    pub engines: BTreeMap<i64, EngineView>,
    /// Queued offline actions and outbox messages.
    queues: data::Queues,
    status: String,
    theme_choice: theme::Choice,
    system_mode: iced::theme::Mode,
    help: bool,
    prefs: prefs::Prefs,
    /// Mail stored up to this message id has been announced (None until known).
    announced: Option<i64>,
    /// A new-mail query is running (so a burst of changes announces each message once).
    announcing: bool,
    /// The three panes and the splits between them (dragged by the user, kept in `prefs`).
    panes: pane_grid::State<Pane>,
    /// A prefs write is running; `prefs_dirty` says another is due when it ends (one at a time,
    /// so dragging a split does not write the file per pixel).
    prefs_saving: bool,
    prefs_dirty: bool,
    /// Per account, how often its password was changed in Settings (each change restarts that
    /// account's engine, like a server change).
    password_epoch: BTreeMap<i64, u64>,
    /// Startup tracing, and what it has reported: (first frame, first rows).
    trace: Trace,
    traced: (bool, bool),
}

#[derive(Debug, Clone)]
pub enum Message {
    Opened(Result<Store, String>),
    Mailbox(mailbox::Message),
    Reader(reader::Message),
    Composer(composer::Message),
    Outbox(outbox::Message),
    Settings(settings::Message),
    OpenSettings,
    /// The welcome screen's "Add account": opens the setup wizard.
    AddAccount,
    Wizard(wizard::Message),
    OpenWizard,
    /// The password banner.
    Password(password::Message),
    /// A `mailto:` link or message file to open (from the command line or another process).
    Opening(opening::Message),
    Write,
    Respond(data::Respond),
    Prefilled(Box<Result<data::Prefill, String>>),
    Engine(engines::Update),
    Queues(Result<data::Queues, String>),
    Announced(Result<i64, String>),
    NewMail(i64, Result<Vec<crate::store::MessageRow>, String>),
    NotificationClicked(Option<i64>),
    SystemMode(iced::theme::Mode),
    Resized(iced::Size),
    PaneResized(pane_grid::ResizeEvent),
    /// A frame was presented (only subscribed to while tracing startup).
    Frame,
    /// A file was dropped on the window (attached when the composer is open).
    FileDropped(PathBuf),
    PrefsSaved(Result<(), String>),
    Shortcut(Shortcut),
    /// Show the composer's tab (true) or the message's (false).
    ShowTab(bool),
    GetMail,
    Retry(i64),
    ToggleRead,
    ToggleStar,
    Delete,
    MoveTo(data::MoveTarget),
    Modifiers(keyboard::Modifiers),
    Done(Result<(), String>),
    ToggleHelp,
}

/// The app as an iced program with its data in `data_dir` (tests drive it headless).
pub fn application(
    data_dir: PathBuf,
) -> iced::Application<impl iced::Program<State = State, Message = Message, Theme = iced::Theme>> {
    application_opening(
        data_dir,
        crate::account::autoconfig::Sources::from_env(),
        Vec::new(),
    )
}

/// `application` with discovery looking where `sources` say (tests point it at 127.0.0.1).
pub fn application_with(
    data_dir: PathBuf,
    sources: Result<crate::account::autoconfig::Sources, String>,
) -> iced::Application<impl iced::Program<State = State, Message = Message, Theme = iced::Theme>> {
    application_opening(data_dir, sources, Vec::new())
}

/// `application_with` that opens `targets` (links, message files) once the accounts are loaded.
pub fn application_opening(
    data_dir: PathBuf,
    sources: Result<crate::account::autoconfig::Sources, String>,
    targets: Vec<crate::instance::Target>,
) -> iced::Application<impl iced::Program<State = State, Message = Message, Theme = iced::Theme>> {
    let saved = prefs::load(&data_dir);
    let size = (saved.width, saved.height);
    // The window's runtime loads `fonts` below; a headless renderer (tests) takes them from here.
    theme::load_fonts();
    iced::application(
        move || {
            boot(
                data_dir.clone(),
                saved.clone(),
                sources.clone(),
                targets.clone(),
            )
        },
        update,
        view,
    )
    .settings(iced::Settings {
        fonts: theme::FONTS
            .iter()
            .map(|font| std::borrow::Cow::Borrowed(*font))
            .collect(),
        default_font: theme::UI,
        default_text_size: iced::Pixels(theme::size::BODY),
        ..iced::Settings::default()
    })
    .title("Tern")
    .theme(|state: &State| theme::theme(state.theme_choice, state.system_mode))
    .subscription(subscription)
    .window(layout::window_settings(size))
}

/// Starts the desktop app with its data in `data_dir`.
///
/// With `TERN_STARTUP_TRACE` set, it prints to stderr when the first frame was presented and when
/// the open folder's first rows arrived, in milliseconds since start; with
/// `TERN_STARTUP_TRACE=exit` it then quits (benchmarks and the Xvfb smoke test use this).
/// `targets` (links and message files) open once the accounts are loaded.
pub fn run(data_dir: PathBuf, targets: Vec<crate::instance::Target>) -> iced::Result {
    STARTED.get_or_init(std::time::Instant::now);
    application_opening(
        data_dir,
        crate::account::autoconfig::Sources::from_env(),
        targets,
    )
    .run()
}

fn boot(
    data_dir: PathBuf,
    prefs: prefs::Prefs,
    sources: Result<crate::account::autoconfig::Sources, String>,
    targets: Vec<crate::instance::Target>,
) -> (State, Task<Message>) {
    let state_prefs = prefs.clone();
    let state = State {
        data_dir: data_dir.clone(),
        store: None,
        mailbox: mailbox::State::opening(
            prefs.folder,
            prefs.threaded,
            prefs.list_layout,
            prefs.columns.clone(),
        ),
        reader: reader::State::new(prefs.prefer_plain, reader_columns(&prefs)),
        composer: None,
        outbox: None,
        composing: false,
        settings: None,
        wizard: None,
        opening: opening::State::new(targets),
        sources,
        passwords: password::State::default(),
        engines: BTreeMap::new(),
        queues: data::Queues::default(),
        status: "Opening the mail store…".into(),
        theme_choice: prefs.theme,
        system_mode: iced::theme::Mode::None,
        help: false,
        prefs,
        announced: None,
        announcing: false,
        panes: panes(&state_prefs),
        prefs_saving: false,
        prefs_dirty: false,
        password_epoch: BTreeMap::new(),
        trace: Trace::from_env(),
        traced: (false, false),
    };
    (
        state,
        Task::batch([
            Task::perform(data::open(data_dir), Message::Opened),
            iced::system::theme().map(Message::SystemMode),
        ]),
    )
}

/// Re-reads the accounts and their folders (the engines follow the tree).
fn reload_tree(store: &Store) -> Task<Message> {
    Task::perform(data::tree(store.clone()), |r| {
        Message::Mailbox(mailbox::Message::TreeLoaded(r))
    })
}

fn refresh_queues(store: &Store) -> Task<Message> {
    Task::perform(data::queues(store.clone()), Message::Queues)
}

/// Asks every engine (or one) to do something now.
fn tell(state: &State, account: Option<i64>, command: Command) {
    for (id, engine) in &state.engines {
        if account.is_some_and(|a| a != *id) {
            continue;
        }
        if let Some(sender) = &engine.commands {
            let _ = sender.try_send(command.clone());
        }
    }
}

pub fn update(state: &mut State, message: Message) -> Task<Message> {
    let task = route(state, message);
    if state.opening.is_waiting() {
        return Task::batch([task, opening::ready(state)]);
    }
    task
}

fn route(state: &mut State, message: Message) -> Task<Message> {
    if let Message::Opening(message) = message {
        return opening::update(state, message);
    }
    let Some(store) = state.store.clone() else {
        return match message {
            Message::Opened(Ok(store)) => {
                state.status.clear();
                let task = Task::batch([
                    reload_tree(&store),
                    refresh_queues(&store),
                    Task::perform(data::latest_message_id(store.clone()), Message::Announced),
                ]);
                state.store = Some(store);
                task
            }
            Message::Opened(Err(e)) => {
                state.status = e;
                Task::none()
            }
            Message::SystemMode(mode) => {
                state.system_mode = mode;
                Task::none()
            }
            _ => Task::none(),
        };
    };
    if let Message::Shortcut(key) = message {
        match key {
            Shortcut::FocusNext => return iced::widget::operation::focus_next(),
            Shortcut::FocusPrevious => return iced::widget::operation::focus_previous(),
            _ => {}
        }
        // The wizard is modal: Escape goes back, Enter goes on, nothing else is a shortcut.
        if state.wizard.is_some() {
            return match key {
                Shortcut::Close => update(state, Message::Wizard(wizard::Message::Back)),
                Shortcut::Confirm => update(state, Message::Wizard(wizard::Message::Enter)),
                // Up and Down (or p and n) choose between IMAP and POP3.
                Shortcut::Next | Shortcut::Previous => {
                    update(state, Message::Wizard(wizard::Message::OtherProtocol))
                }
                _ => Task::none(),
            };
        }
        // The list's keys act on the list only while it shows: not under Settings, the
        // composer (Escape leaves its fields, and Backspace must not then delete a message),
        // the Outbox or the welcome screen.
        let welcome = state.mailbox.loaded && state.mailbox.tree.is_empty();
        let list_hidden =
            state.settings.is_some() || state.composing || state.outbox.is_some() || welcome;
        let on_list = matches!(
            key,
            Shortcut::Next
                | Shortcut::Previous
                | Shortcut::OpenConversation
                | Shortcut::CloseConversation
                | Shortcut::Delete
                | Shortcut::ToggleRead
                | Shortcut::ToggleStar
                | Shortcut::Reply
                | Shortcut::ReplyAll
                | Shortcut::Forward
        );
        if (list_hidden && on_list)
            || (welcome && matches!(key, Shortcut::Write | Shortcut::Search))
        {
            return Task::none();
        }
    }
    match message {
        Message::Opened(_) | Message::Opening(_) => Task::none(),
        Message::Mailbox(message) => {
            // The first start (no account yet) shows the welcome screen (`screen`).
            if matches!(message, mailbox::Message::SelectFolder(_)) {
                state.outbox = None;
                state.mailbox.outbox_open = false;
            }
            let folder_before = state.mailbox.folder.as_ref().map(|f| f.id);
            let (task, action) = mailbox::update(&mut state.mailbox, message, &store);
            let folder_now = state.mailbox.folder.as_ref().map(|f| f.id);
            let remember = if (folder_now != folder_before && folder_now.is_some())
                || state.prefs.threaded != state.mailbox.threaded
                || state.prefs.list_layout != state.mailbox.layout
                || (state.mailbox.column_drag.is_none()
                    && state.prefs.columns != state.mailbox.columns)
            {
                state.prefs.folder = folder_now.or(state.prefs.folder);
                state.prefs.threaded = state.mailbox.threaded;
                state.prefs.list_layout = state.mailbox.layout;
                state.prefs.columns = state.mailbox.columns.clone();
                save_prefs(state)
            } else {
                Task::none()
            };
            // The status bar names every account of the tree.
            let known: Vec<i64> = state.mailbox.tree.iter().map(|t| t.account.id).collect();
            state.engines.retain(|id, _| known.contains(id));
            for tree in &state.mailbox.tree {
                state
                    .engines
                    .entry(tree.account.id)
                    .or_default()
                    .name
                    .clone_from(&tree.account.settings.name);
            }
            let task = Task::batch([task.map(Message::Mailbox), remember]);
            match action {
                mailbox::Action::None => task,
                mailbox::Action::Error(e) => {
                    state.status = e;
                    task
                }
                mailbox::Action::Manage { account, action } => Task::batch([
                    task,
                    Task::perform(
                        data::manage_folder(store.clone(), account, action),
                        Message::Done,
                    ),
                ]),
                mailbox::Action::Move { messages, folder } => {
                    state.reader.close();
                    state.mailbox.selected = None;
                    state.mailbox.marked.clear();
                    Task::batch([
                        task,
                        Task::perform(
                            data::move_messages(
                                store.clone(),
                                messages,
                                data::MoveTarget::Folder(folder),
                            ),
                            Message::Done,
                        ),
                    ])
                }
                mailbox::Action::OpenOutbox => {
                    state.outbox = Some(outbox::State::default());
                    state.mailbox.outbox_open = true;
                    Task::batch([task, outbox::State::load(&store).map(Message::Outbox)])
                }
                mailbox::Action::Star { message, set } => {
                    Task::batch([task, actions::set_star(&store, message, set)])
                }
                mailbox::Action::MarkAllRead(folder) => Task::batch([
                    task,
                    Task::perform(data::mark_folder_read(store.clone(), folder), Message::Done),
                ]),
                mailbox::Action::Open(id) => {
                    state.help = false;
                    state.opening.viewer = None;
                    // The message's tab comes to the front; a composer stays in its own tab.
                    state.composing = false;
                    let opened = state.reader.open(&store, id).map(Message::Reader);
                    // Opening a message marks it read, as in Thunderbird.
                    let unread = state
                        .mailbox
                        .flags_of(id)
                        .is_some_and(|flags| flags & flag::SEEN == 0);
                    let mark = if unread {
                        toggle_flag(state, &store, flag::SEEN, "\\Seen")
                    } else {
                        Task::none()
                    };
                    Task::batch([task, opened, mark])
                }
            }
        }
        Message::Reader(message) => {
            let toggled = matches!(message, reader::Message::TogglePlain);
            let task = reader::update(&mut state.reader, message, &store).map(Message::Reader);
            if toggled {
                state.prefs.prefer_plain = state.reader.prefer_plain;
                return Task::batch([task, save_prefs(state)]);
            }
            task
        }
        Message::Write | Message::Shortcut(Shortcut::Write) => {
            let account = state.mailbox.folder.as_ref().map(|f| f.account_id);
            open_composer(
                state,
                composer::State::new(
                    senders(state),
                    account,
                    crate::mail::compose::Draft::default(),
                    None,
                    None,
                ),
            );
            Task::none()
        }
        Message::ShowTab(composing) => {
            state.composing = composing && state.composer.is_some();
            Task::none()
        }
        Message::Respond(how) => respond(state, &store, how),
        Message::AddAccount => actions::open_wizard(state),
        Message::OpenSettings => {
            state.settings = Some(settings::State::new(
                &state.mailbox.tree,
                settings::Global {
                    theme: state.theme_choice,
                    notifications: state.prefs.notifications,
                    prefer_plain: state.prefs.prefer_plain,
                },
            ));
            Task::none()
        }
        Message::OpenWizard => actions::open_wizard(state),
        Message::Wizard(message) => actions::wizard_update(state, &store, message),
        Message::Password(message) => {
            let (task, action) =
                password::update(&mut state.passwords, message, &state.mailbox.tree);
            if let password::Action::Restart(account) = action {
                *state.password_epoch.entry(account).or_default() += 1;
                if let Some(view) = state.engines.get_mut(&account) {
                    view.problem = None;
                }
            }
            task.map(Message::Password)
        }
        Message::Settings(message) => actions::settings_update(state, &store, message),
        Message::Shortcut(Shortcut::Reply) => respond(state, &store, data::Respond::Reply),
        Message::Shortcut(Shortcut::ReplyAll) => respond(state, &store, data::Respond::ReplyAll),
        Message::Shortcut(Shortcut::Forward) => respond(state, &store, data::Respond::Forward),
        Message::Prefilled(result) => match *result {
            Ok(prefill) => {
                open_prefilled(state, prefill);
                Task::none()
            }
            Err(e) => {
                state.status = e;
                Task::none()
            }
        },
        Message::Composer(message) => {
            let Some(composer) = state.composer.as_mut() else {
                return Task::none();
            };
            let (task, action) = composer::update(composer, message, &store);
            match action {
                composer::Action::None => {}
                composer::Action::Close(sent_from) => {
                    state.composer = None;
                    state.composing = false;
                    if let Some(account) = sent_from {
                        state.status = "The message is in the outbox and is being sent.".into();
                        tell(state, Some(account), Command::Flush);
                    }
                    return Task::batch([task.map(Message::Composer), refresh_queues(&store)]);
                }
                composer::Action::DraftSaved(account) => {
                    tell(state, Some(account), Command::SyncNow)
                }
            }
            task.map(Message::Composer)
        }
        Message::Engine(update) => engine_update(state, &store, update),
        Message::Outbox(message) => {
            if matches!(message, outbox::Message::Edit(_))
                && state.composer.as_ref().is_some_and(|c| c.dirty)
            {
                state.composing = true;
                state.status =
                    "Send, save or discard the message you are writing before you edit another."
                        .into();
                return Task::none();
            }
            let Some(screen) = state.outbox.as_mut() else {
                return Task::none();
            };
            let (task, action) = outbox::update(screen, message, &store);
            let task = task.map(Message::Outbox);
            match action {
                outbox::Action::None => task,
                outbox::Action::Flush(account) => {
                    tell(state, Some(account), Command::Flush);
                    Task::batch([task, refresh_queues(&store)])
                }
                outbox::Action::Edit(prefill) => {
                    open_prefilled(state, *prefill);
                    Task::batch([task, refresh_queues(&store)])
                }
            }
        }
        Message::Announced(Ok(id)) => {
            state.announced = Some(id);
            Task::none()
        }
        Message::Announced(Err(_)) => Task::none(),
        Message::NewMail(folder, Ok(rows)) => {
            state.announcing = false;
            let Some(newest) = rows.iter().map(|r| r.id).max() else {
                return Task::none();
            };
            state.announced = Some(state.announced.unwrap_or(0).max(newest));
            // The first download of a mailbox is not "new mail".
            let synced_before = state
                .mailbox
                .tree
                .iter()
                .flat_map(|t| &t.folders)
                .any(|f| f.id == folder && f.backfill_complete);
            if synced_before && state.prefs.notifications {
                Task::perform(notify::new_mail(rows), Message::NotificationClicked)
            } else {
                Task::none()
            }
        }
        Message::NewMail(_, Err(_)) => {
            state.announcing = false;
            Task::none()
        }
        Message::NotificationClicked(Some(id)) => {
            // Show the message: its folder in the list, the message in the reader.
            state.composing = false;
            state.opening.viewer = None;
            state.settings = None;
            let folder = Task::perform(data::folder_of(store.clone(), id), |folder| match folder {
                Ok(folder) => Message::Mailbox(mailbox::Message::SelectFolder(folder)),
                Err(e) => Message::Done(Err(e)),
            });
            Task::batch([folder, state.reader.open(&store, id).map(Message::Reader)])
        }
        Message::NotificationClicked(None) => Task::none(),
        Message::Queues(Ok(queues)) => {
            state.queues = queues;
            state.mailbox.outbox_count = queues.outbox + queues.failed;
            match &state.outbox {
                Some(_) => outbox::State::load(&store).map(Message::Outbox),
                None => Task::none(),
            }
        }
        Message::Queues(Err(e)) | Message::Done(Err(e)) => {
            state.status = e;
            Task::none()
        }
        Message::Done(Ok(())) => {
            tell(state, None, Command::SyncNow);
            Task::batch([
                state.mailbox.refresh(&store).map(Message::Mailbox),
                refresh_queues(&store),
            ])
        }
        Message::SystemMode(mode) => {
            state.system_mode = mode;
            Task::none()
        }
        Message::Frame => trace_frame(state),
        Message::FileDropped(path) => {
            if state.composer.is_some() {
                return update(
                    state,
                    Message::Composer(composer::Message::AttachPaths(vec![path])),
                );
            }
            state.status = "To attach a file, drop it on the composer (Write first).".into();
            Task::none()
        }
        Message::Resized(size) => {
            state.prefs.width = size.width;
            state.prefs.height = size.height;
            state.reader.columns = reader_columns(&state.prefs);
            save_prefs(state)
        }
        Message::PaneResized(event) => {
            state.panes.resize(event.split, event.ratio);
            if let Some((folders, list)) = ratios(&state.panes) {
                state.prefs.folder_ratio = folders;
                state.prefs.list_ratio = list;
            }
            state.reader.columns = reader_columns(&state.prefs);
            save_prefs(state)
        }
        Message::PrefsSaved(result) => {
            state.prefs_saving = false;
            if let Err(e) = result {
                state.status = e;
            }
            if std::mem::take(&mut state.prefs_dirty) {
                return save_prefs(state);
            }
            Task::none()
        }
        Message::GetMail => {
            tell(state, None, Command::Flush);
            Task::none()
        }
        Message::Retry(account) => {
            tell(state, Some(account), Command::SyncNow);
            Task::none()
        }
        Message::ToggleRead | Message::Shortcut(Shortcut::ToggleRead) => {
            toggle_flag(state, &store, flag::SEEN, "\\Seen")
        }
        Message::ToggleStar | Message::Shortcut(Shortcut::ToggleStar) => {
            toggle_flag(state, &store, flag::FLAGGED, "\\Flagged")
        }
        Message::Modifiers(modifiers) => {
            state.mailbox.modifiers = modifiers;
            Task::none()
        }
        Message::Delete | Message::Shortcut(Shortcut::Delete) => {
            let targets = state.mailbox.targets();
            if targets.is_empty() {
                return Task::none();
            }
            let index = state.mailbox.selected.map(|(i, _)| i);
            state.reader.close();
            state.mailbox.selected = None;
            state.mailbox.marked.clear();
            let next = match index {
                Some(index) => Task::done(Message::Mailbox(mailbox::Message::Select(index))),
                None => Task::none(),
            };
            Task::perform(data::delete_all(store.clone(), targets), Message::Done).chain(next)
        }
        Message::MoveTo(target) => {
            let targets = state.mailbox.targets();
            if targets.is_empty() {
                return Task::none();
            }
            state.reader.close();
            state.mailbox.selected = None;
            state.mailbox.marked.clear();
            Task::perform(
                data::move_messages(store.clone(), targets, target),
                Message::Done,
            )
        }
        Message::Shortcut(Shortcut::Next) => select_relative(state, 1),
        Message::Shortcut(Shortcut::Previous) => select_relative(state, -1),
        Message::Shortcut(Shortcut::OpenConversation) => update(
            state,
            Message::Mailbox(mailbox::Message::ConversationKey(true)),
        ),
        Message::Shortcut(Shortcut::CloseConversation) => update(
            state,
            Message::Mailbox(mailbox::Message::ConversationKey(false)),
        ),
        Message::Shortcut(Shortcut::Search) => iced::widget::operation::focus(mailbox::search_id()),
        Message::Shortcut(Shortcut::GetMail) => update(state, Message::GetMail),
        // Handled above.
        Message::Shortcut(Shortcut::FocusNext | Shortcut::FocusPrevious | Shortcut::Confirm) => {
            Task::none()
        }
        // Escape closes what is open over the list (Settings, a question, a menu, the help) and
        // gives the keyboard back to the list.
        Message::Shortcut(Shortcut::Close) => {
            let unfocus = iced::advanced::widget::operate(
                iced::advanced::widget::operation::focusable::unfocus(),
            );
            if let Some(screen) = state.settings.as_mut() {
                // A question open in Settings is answered "Cancel"; else Settings closes.
                if screen.cancel_question() {
                    return unfocus;
                }
                return Task::batch([
                    update(state, Message::Settings(settings::Message::Close)),
                    unfocus,
                ]);
            }
            state.help = false;
            state.reader.dismiss();
            state.mailbox.close_menu();
            unfocus
        }
        Message::Shortcut(Shortcut::Help) | Message::ToggleHelp => {
            state.help = !state.help;
            Task::none()
        }
    }
}
