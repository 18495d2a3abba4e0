//! What the window does for its messages beyond routing them: engine events, flag toggles,
//! selection moves, opening the composer, saving preferences and startup tracing.

use iced::Task;

use super::trace::{Trace, since_start};
use super::{Message, State, composer, data, engines, mailbox, prefs, refresh_queues, reload_tree};
use crate::engine::{Connectivity, Event};
use crate::mail::folder::FolderRole;
use crate::store::Store;

/// Startup tracing: reports the first frame, then the first frame that shows the folder's rows.
pub(super) fn trace_frame(state: &mut State) -> Task<Message> {
    if !state.traced.0 {
        state.traced.0 = true;
        eprintln!("tern: first frame after {} ms", since_start());
    }
    if !state.traced.1 && !state.mailbox.window.rows.is_empty() {
        state.traced.1 = true;
        eprintln!(
            "tern: first rows after {} ms ({} messages in the folder)",
            since_start(),
            state.mailbox.total
        );
        if state.trace == Trace::PrintAndExit {
            return iced::exit();
        }
    }
    Task::none()
}

/// Writes the window's preferences in the background, one write at a time: a change while one
/// is running is written when it ends.
pub(super) fn save_prefs(state: &mut State) -> Task<Message> {
    if state.prefs_saving {
        state.prefs_dirty = true;
        return Task::none();
    }
    state.prefs_saving = true;
    Task::perform(
        prefs::save(state.data_dir.clone(), state.prefs.clone()),
        Message::PrefsSaved,
    )
}

/// About how many characters fit across the reader (HTML is laid out to this width).
pub(super) fn reader_columns(prefs: &prefs::Prefs) -> usize {
    let width = prefs.width * (1.0 - prefs.folder_ratio) * (1.0 - prefs.list_ratio);
    ((width - 40.0) / 8.5).clamp(30.0, 200.0) as usize
}

/// The accounts the composer can send from.
pub(super) fn senders(state: &State) -> Vec<composer::From> {
    state
        .mailbox
        .tree
        .iter()
        .map(|t| composer::From {
            account: t.account.id,
            label: format!(
                "{} <{}>",
                t.account.settings.display_name, t.account.settings.email
            ),
        })
        .collect()
}

/// Opens the composer prefilled to answer or forward the selected message.
pub(super) fn respond(state: &mut State, store: &Store, how: data::Respond) -> Task<Message> {
    if super::opening::showing(state) {
        return super::opening::respond(state, how);
    }
    let Some((_, id)) = state.mailbox.selected else {
        return Task::none();
    };
    Task::perform(data::prefill(store.clone(), id, how), |r| {
        Message::Prefilled(Box::new(r))
    })
}

pub(super) fn select_relative(state: &mut State, step: isize) -> Task<Message> {
    let len = state.mailbox.len();
    if len == 0 {
        return Task::none();
    }
    // Through an open conversation's lines first.
    match state.mailbox.conversation_step(step) {
        mailbox::ConversationStep::Line(id) => {
            return Task::done(Message::Mailbox(mailbox::Message::SelectInConversation(id)));
        }
        mailbox::ConversationStep::Row(index) => {
            return Task::done(Message::Mailbox(mailbox::Message::Select(index)));
        }
        mailbox::ConversationStep::Stay => return Task::none(),
        mailbox::ConversationStep::Ordinary => {}
    }
    let next = match state.mailbox.selected {
        Some((index, _)) => index.saturating_add_signed(step).min(len - 1),
        None => 0,
    };
    Task::done(Message::Mailbox(mailbox::Message::Select(next)))
}

pub(super) fn toggle_flag(state: &mut State, store: &Store, bit: i64, name: &str) -> Task<Message> {
    let targets = state.mailbox.targets();
    // Set when the first target lacks the flag, clear otherwise (as Thunderbird does).
    let first = state
        .mailbox
        .selected
        .and_then(|(_, id)| state.mailbox.flags_of(id));
    let Some(first) = first.or_else(|| targets.first().map(|_| 0)) else {
        return Task::none();
    };
    let set = first & bit == 0;
    for id in &targets {
        if let Some(flags) = state.mailbox.flags_of(*id) {
            let flags = if set { flags | bit } else { flags & !bit };
            state.mailbox.patch_flags(*id, flags);
        }
    }
    let (add, remove) = if set {
        (vec![name.to_owned()], Vec::new())
    } else {
        (Vec::new(), vec![name.to_owned()])
    };
    Task::perform(
        data::set_flags_all(store.clone(), targets, add, remove),
        Message::Done,
    )
}

/// Stars (or unstars) one message, already shown so in the list.
pub(super) fn set_star(store: &Store, message: i64, set: bool) -> Task<Message> {
    let name = vec!["\\Flagged".to_owned()];
    let (add, remove) = if set {
        (name, Vec::new())
    } else {
        (Vec::new(), name)
    };
    Task::perform(
        data::set_flags_all(store.clone(), vec![message], add, remove),
        Message::Done,
    )
}

pub(super) fn engine_update(
    state: &mut State,
    store: &Store,
    update: engines::Update,
) -> Task<Message> {
    match update {
        engines::Update::Ready { account, commands } => {
            let view = state.engines.entry(account).or_default();
            view.commands = Some(commands);
            view.problem = None;
            Task::none()
        }
        engines::Update::Failed { account, reason } => {
            state.engines.entry(account).or_default().problem = Some(reason);
            Task::none()
        }
        engines::Update::NeedsPassword {
            account,
            no_keyring,
        } => {
            let view = state.engines.entry(account).or_default();
            view.problem = Some("waiting for its password".into());
            let name = view.name.clone();
            state.passwords.need(account, &name, no_keyring);
            Task::none()
        }
        engines::Update::Event(event) => match event {
            Event::Connectivity { account, state: c } => {
                let view = state.engines.entry(account).or_default();
                if !matches!(c, Connectivity::Online) {
                    view.progress = None;
                }
                view.connectivity = Some(c);
                refresh_queues(store)
            }
            Event::SyncProgress {
                account,
                done,
                total,
                ..
            } => {
                state.engines.entry(account).or_default().progress =
                    (done < total).then_some((done, total));
                Task::none()
            }
            Event::FolderChanged { folder, .. } => {
                let inbox = state
                    .mailbox
                    .tree
                    .iter()
                    .flat_map(|t| &t.folders)
                    .any(|f| f.id == folder && f.role == Some(FolderRole::Inbox));
                let announce = match state.announced {
                    Some(after) if inbox && !state.announcing => {
                        Task::perform(data::new_unread(store.clone(), folder, after), move |r| {
                            Message::NewMail(folder, r)
                        })
                    }
                    _ => Task::none(),
                };
                if inbox && state.announced.is_some() {
                    state.announcing = true;
                }
                Task::batch([
                    state.mailbox.refresh(store).map(Message::Mailbox),
                    refresh_queues(store),
                    announce,
                ])
            }
            Event::FoldersChanged { .. } => Task::batch([
                state.mailbox.refresh(store).map(Message::Mailbox),
                refresh_queues(store),
            ]),
            Event::MessageChanged { message, .. } => {
                if state.reader.open == Some(message) {
                    state.reader.open(store, message).map(Message::Reader)
                } else {
                    Task::none()
                }
            }
            Event::OutboxChanged { .. } => refresh_queues(store),
        },
    }
}

/// Opens the composer on a prepared draft (a reply or forward, or a message taken back from the
/// Outbox), sending from its account.
pub(super) fn open_prefilled(state: &mut State, prefill: data::Prefill) {
    let screen = composer::State::new(
        senders(state),
        Some(prefill.account),
        prefill.draft,
        prefill.in_reply_to,
        prefill.forwarded,
    );
    open_composer(state, screen);
}

/// Opens a composer in its tab, unless one holds unsaved text (then that one stays in front).
pub(super) fn open_composer(state: &mut State, screen: composer::State) {
    if state.composer.as_ref().is_some_and(|c| c.dirty) {
        state.composing = true;
        state.status =
            "Send, save or discard the message you are writing before you start another.".into();
        return;
    }
    state.composer = Some(screen);
    state.composing = true;
}

/// Opens the setup wizard (from Settings, or at a first start).
pub(super) fn open_wizard(state: &mut State) -> Task<Message> {
    state.wizard = Some(super::wizard::State::new(
        state.sources.clone(),
        state.mailbox.tree.is_empty(),
    ));
    iced::widget::operation::focus(super::wizard::first_field())
}

/// Runs a wizard message; a new account reloads the tree, which starts its engine.
pub(super) fn wizard_update(
    state: &mut State,
    store: &Store,
    message: super::wizard::Message,
) -> Task<Message> {
    use super::wizard;
    let Some(screen) = state.wizard.as_mut() else {
        return Task::none();
    };
    let before = std::mem::discriminant(&screen.step);
    let (task, action) = wizard::update(screen, message, store);
    let mut task = task.map(Message::Wizard);
    if std::mem::discriminant(&screen.step) != before {
        task = Task::batch([task, wizard::focus_for(&screen.step)]);
    }
    match action {
        wizard::Action::None => task,
        wizard::Action::Close => {
            state.wizard = None;
            task
        }
        wizard::Action::Added(account) => {
            // The new account joins the tree; its engine starts and syncs. Its engine may have
            // started already (another account's change reloaded the tree) before the password
            // was kept: a new generation starts it again with it.
            *state.password_epoch.entry(account).or_default() += 1;
            state.settings = None;
            Task::batch([task, reload_tree(store)])
        }
    }
}

/// Runs a Settings message: global choices are saved, account changes reload the tree (the
/// engines whose settings changed restart), "New account" opens the wizard.
pub(super) fn settings_update(
    state: &mut State,
    store: &Store,
    message: super::settings::Message,
) -> Task<Message> {
    use super::settings;
    let Some(screen) = state.settings.as_mut() else {
        // A save or a removal that finishes after Settings closed (Escape) still takes effect.
        return match message {
            settings::Message::Saved {
                account,
                new_password,
                result: Ok(_),
                ..
            } => {
                if new_password {
                    *state.password_epoch.entry(account).or_default() += 1;
                }
                reload_tree(store)
            }
            settings::Message::Done(Ok(_)) => reload_tree(store),
            _ => Task::none(),
        };
    };
    let (task, action) = settings::update(screen, message, store);
    let task = task.map(Message::Settings);
    match action {
        settings::Action::None => task,
        settings::Action::Close => {
            state.settings = None;
            task
        }
        settings::Action::Wizard => Task::batch([task, open_wizard(state)]),
        settings::Action::Global(global) => {
            state.theme_choice = global.theme;
            state.prefs.theme = global.theme;
            state.prefs.notifications = global.notifications;
            state.prefs.prefer_plain = global.prefer_plain;
            state.reader.prefer_plain = global.prefer_plain;
            Task::batch([task, save_prefs(state)])
        }
        settings::Action::Reload(new_password) => {
            if let Some(account) = new_password {
                *state.password_epoch.entry(account).or_default() += 1;
            }
            Task::batch([task, reload_tree(store)])
        }
    }
}
