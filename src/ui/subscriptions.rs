//! What the window listens to: each account's engine, window and system events, timers while
//! something animates or autosaves, and requests from other `tern` processes.

use iced::Subscription;

use super::trace::Trace;
use super::{Message, State, composer, engines, mailbox, opening, reader};

pub(super) fn subscription(state: &State) -> Subscription<Message> {
    let accounts: Vec<(i64, u64)> = state
        .mailbox
        .tree
        .iter()
        .map(|t| {
            use std::hash::{Hash as _, Hasher as _};
            let mut hasher = std::collections::hash_map::DefaultHasher::new();
            // Every setting the engine uses (servers, sync window, downloads, sending options).
            format!("{:?}", t.account).hash(&mut hasher);
            state.password_epoch.get(&t.account.id).hash(&mut hasher);
            (t.account.id, hasher.finish())
        })
        .collect();
    Subscription::batch([
        opening::subscription().map(Message::Opening),
        engines::subscriptions(&state.data_dir, &accounts).map(Message::Engine),
        iced::window::resize_events().map(|(_, size)| Message::Resized(size)),
        iced::system::theme_changes().map(Message::SystemMode),
        iced::event::listen_with(|event, _, _| match event {
            iced::Event::Window(iced::window::Event::FileDropped(path)) => {
                Some(Message::FileDropped(path))
            }
            // A drag of messages ends wherever the button is released (a folder takes the
            // drop first, through its own release handler).
            iced::Event::Mouse(iced::mouse::Event::ButtonReleased(iced::mouse::Button::Left)) => {
                Some(Message::Mailbox(mailbox::Message::DragCancel))
            }
            _ => None,
        }),
        // A column's edge being dragged follows the pointer over the whole window.
        if matches!(
            state.mailbox.column_drag,
            Some(mailbox::columns::ColumnDrag::Resize { .. })
        ) {
            iced::event::listen_with(|event, _, _| match event {
                iced::Event::Mouse(iced::mouse::Event::CursorMoved { position }) => {
                    Some(Message::Mailbox(mailbox::Message::Header(
                        mailbox::columns::HeaderMessage::Moved(position.x),
                    )))
                }
                _ => None,
            })
        } else {
            Subscription::none()
        },
        if state.reader.is_loading() {
            iced::time::every(std::time::Duration::from_millis(120))
                .map(|_| Message::Reader(reader::Message::Tick))
        } else {
            Subscription::none()
        },
        if state.composer.is_some() {
            iced::time::every(composer::AUTOSAVE)
                .map(|_| Message::Composer(composer::Message::Autosave))
        } else {
            Subscription::none()
        },
        if state.trace != Trace::Off && state.traced != (true, true) {
            iced::window::frames().map(|_| Message::Frame)
        } else {
            Subscription::none()
        },
    ])
}
