//! The window's view: which screen shows (the wizard, Settings, the welcome screen or the
//! three panes), and the right pane's tab strip between the reader and the composer.

use iced::widget::{button, column, container, pane_grid, row, rule};
use iced::{Element, Length};

use super::{
    Message, Pane, State, chrome, composer, keys, mailbox, outbox, password, reader, settings,
    shortcut, theme, viewer, welcome, widgets, wizard,
};

/// The reader (or the help overlay), or the composer, under a tab strip when a composer is open.
fn right_pane(state: &State) -> Element<'_, Message> {
    let content = match &state.composer {
        Some(composer) if state.composing => composer::view(composer).map(Message::Composer),
        _ if state.help => chrome::help(state),
        _ => match &state.opening.viewer {
            Some(file) => {
                viewer::view(file).map(|m| Message::Opening(super::opening::Message::Viewer(m)))
            }
            None => reader::view(&state.reader).map(Message::Reader),
        },
    };
    let Some(composer) = &state.composer else {
        return content;
    };
    let tab = |icon: widgets::Icon, label: String, active: bool, composing: bool| {
        button(
            container(
                row![
                    widgets::muted_icon(icon, theme::size::ICON),
                    widgets::ellipsized(label).width(Length::Shrink),
                ]
                .spacing(theme::space::S)
                .align_y(iced::Alignment::Center),
            )
            .max_width(320),
        )
        .style(move |t, s| theme::folder_button(t, s, active))
        .padding([theme::space::XS, theme::space::L])
        .on_press(Message::ShowTab(composing))
    };
    let title = if composer.subject.trim().is_empty() {
        "New message".to_owned()
    } else {
        composer.subject.trim().to_owned()
    };
    column![
        row![
            tab(
                widgets::Icon::Mail,
                "Message".into(),
                !state.composing,
                false
            ),
            tab(widgets::Icon::SquarePen, title, state.composing, true),
        ]
        .spacing(theme::space::XS)
        .padding([theme::space::XS, theme::space::M]),
        rule::horizontal(1).style(theme::rule),
        content,
    ]
    .into()
}

pub fn view(state: &State) -> Element<'_, Message> {
    keys::shortcuts(screen(state), shortcut)
}

/// The wizard, the settings screen, or the main window.
fn screen(state: &State) -> Element<'_, Message> {
    if let Some(wizard) = &state.wizard {
        return column![
            wizard::view(wizard).map(Message::Wizard),
            chrome::status_bar(state)
        ]
        .into();
    }
    if let Some(screen) = &state.settings {
        return column![
            settings::view(screen).map(Message::Settings),
            chrome::status_bar(state)
        ]
        .into();
    }
    if state.mailbox.loaded && state.mailbox.tree.is_empty() {
        return welcome::view();
    }
    let panes = pane_grid(&state.panes, |_, pane, _| {
        let content: Element<'_, Message> = match pane {
            Pane::Folders => mailbox::folder_pane(&state.mailbox).map(Message::Mailbox),
            Pane::List => match &state.outbox {
                Some(screen) => outbox::view(screen).map(Message::Outbox),
                None => mailbox::message_list(&state.mailbox).map(Message::Mailbox),
            },
            Pane::Reader => right_pane(state),
        };
        pane_grid::Content::new(
            container(content)
                .style(theme::pane)
                .width(Length::Fill)
                .height(Length::Fill),
        )
    })
    .on_resize(8, Message::PaneResized)
    .spacing(1)
    .style(theme::panes)
    .height(Length::Fill);
    let panes = container(panes)
        .style(theme::pane_gaps)
        .height(Length::Fill);
    let mut window = column![chrome::toolbar(state), rule::horizontal(1)];
    if let Some(banner) = password::view(&state.passwords) {
        window = window.push(banner.map(Message::Password));
    }
    window.push(panes).push(chrome::status_bar(state)).into()
}
