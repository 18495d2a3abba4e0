//! The first start's welcome screen: the app's icon, one sentence, and a large "Add account"
//! that opens the setup wizard. Shown while no account exists (the wizard's "Not now" comes back
//! here).

use iced::widget::{button, column, container, text};
use iced::{Element, Length};

use super::theme::{self, size, space};
use super::{Message, widgets};

/// The first start: the app's icon, one sentence, and "Add account".
pub fn view<'a>() -> Element<'a, Message> {
    let add = super::focus::activate(
        button(
            text("Add account")
                .size(size::TITLE)
                .font(theme::semibold()),
        )
        .padding([space::L, space::XXL])
        .style(theme::primary_button)
        .on_press(Message::AddAccount),
        Some(Message::AddAccount),
    );
    let page = column![
        widgets::app_icon(96.0),
        text("Welcome to Tern")
            .size(size::DISPLAY)
            .font(theme::semibold()),
        text("Fast, private email from your IMAP and POP3 accounts, readable offline.")
            .size(size::BODY)
            .style(theme::muted)
            .align_x(iced::alignment::Horizontal::Center),
        iced::widget::Space::new().height(space::M),
        add,
        button(text("Settings").size(size::SMALL))
            .style(theme::tool_button)
            .on_press(Message::OpenSettings),
    ]
    .spacing(space::L)
    .max_width(460)
    .align_x(iced::Alignment::Center);
    container(page)
        .center(Length::Fill)
        .style(theme::pane)
        .into()
}
