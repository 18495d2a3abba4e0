//! The window's chrome around the panes: the toolbar, the "Move to…" list, the status bar
//! (each account's connectivity and sync progress, queued actions, the outbox) and the
//! keyboard-shortcut help overlay.

use iced::widget::{button, column, container, progress_bar, row, text};
use iced::{Element, Length};

use super::{Message, State, data, theme};
use crate::engine::Connectivity;
use crate::mail::folder::FolderRole;

/// The shortcuts, as the help overlay lists them.
pub const SHORTCUTS: [(&str, &str); 15] = [
    ("Ctrl+N", "write a message"),
    ("R", "reply"),
    ("Shift+R", "reply to all"),
    ("Ctrl+L", "forward"),
    ("Ctrl+Enter", "send (in the composer)"),
    ("N / P or Down / Up", "next / previous message"),
    ("Right / Left", "open / close a conversation (Threads)"),
    ("M", "mark read or unread"),
    ("S", "star (flag)"),
    ("Delete", "delete (to Trash)"),
    ("Ctrl+F or /", "search"),
    ("F5", "get mail"),
    ("F1 or ?", "this help"),
    (
        "Tab / Shift+Tab",
        "next / previous field or button; Enter or Space presses it",
    ),
    ("Esc", "close this help"),
];

pub fn toolbar(state: &State) -> Element<'_, Message> {
    use super::widgets::{Icon, Look, divider, tip, tool_button};
    let selected = state.mailbox.selected.is_some();
    // A message file on show is answered like a message of the list.
    let answerable = selected || super::opening::showing(state);
    // Icons with a tooltip (and their name for Tab, selectors and assistive tools); the primary
    // two have their word beside the icon. Tab reaches each (Enter or Space presses it).
    let action = |icon: Icon,
                  name: &'static str,
                  hint: &'static str,
                  message: Message,
                  enabled: bool,
                  look: Look,
                  worded: bool| {
        let message = enabled.then_some(message);
        let button = tool_button(icon, worded.then_some(name), look, message.clone());
        let button = if worded {
            super::focus::activate(button, message)
        } else {
            super::focus::labelled(button, message, name)
        };
        tip(button, hint, iced::widget::tooltip::Position::Bottom)
    };
    let tool = |icon, name, hint, message, enabled| {
        action(icon, name, hint, message, enabled, Look::Tool, false)
    };
    let bar = row![
        action(
            Icon::RefreshCw,
            "Get Mail",
            "Get new mail for every account (F5)",
            Message::GetMail,
            true,
            Look::Tool,
            true
        ),
        action(
            Icon::SquarePen,
            "Write",
            "Write a new message (Ctrl+N)",
            Message::Write,
            true,
            Look::Primary,
            true
        ),
        divider(),
        tool(
            Icon::Reply,
            "Reply",
            "Reply to the sender (R)",
            Message::Respond(data::Respond::Reply),
            answerable
        ),
        tool(
            Icon::ReplyAll,
            "Reply All",
            "Reply to everyone (Shift+R)",
            Message::Respond(data::Respond::ReplyAll),
            answerable
        ),
        tool(
            Icon::Forward,
            "Forward",
            "Forward (Ctrl+L)",
            Message::Respond(data::Respond::Forward),
            answerable
        ),
        divider(),
        tool(
            Icon::MailOpen,
            "Read",
            "Mark read or unread (M)",
            Message::ToggleRead,
            selected
        ),
        tool(
            Icon::Star,
            "Star",
            "Star or unstar (S)",
            Message::ToggleStar,
            selected
        ),
        divider(),
        tool(
            Icon::Archive,
            "Archive message",
            "Move to the archive",
            Message::MoveTo(data::MoveTarget::Role(FolderRole::Archive)),
            selected
        ),
        tool(
            Icon::Flame,
            "Mark as junk",
            "Move to junk",
            Message::MoveTo(data::MoveTarget::Role(FolderRole::Junk)),
            selected
        ),
        tool(
            Icon::Trash2,
            "Delete message",
            "Delete (Delete key)",
            Message::Delete,
            selected
        ),
        move_to(state),
        iced::widget::space::horizontal(),
        tool(
            Icon::Settings,
            "Settings",
            "Accounts and preferences",
            Message::OpenSettings,
            true
        ),
        tool(
            Icon::CircleHelp,
            "Help",
            "Keyboard shortcuts (F1)",
            Message::ToggleHelp,
            true
        ),
    ]
    .spacing(theme::space::XS)
    .align_y(iced::Alignment::Center);
    container(bar)
        .padding([theme::space::S, theme::space::M])
        .width(Length::Fill)
        .style(theme::sidebar)
        .into()
}

/// A folder in the "Move to…" list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MoveChoice {
    folder: i64,
    path: String,
}

impl std::fmt::Display for MoveChoice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.path)
    }
}

/// "Move to…": the other folders of the open folder's account.
fn move_to(state: &State) -> Element<'_, Message> {
    let Some(current) = &state.mailbox.folder else {
        return iced::widget::space::horizontal().width(0).into();
    };
    let choices: Vec<MoveChoice> = state
        .mailbox
        .tree
        .iter()
        .filter(|t| t.account.id == current.account_id)
        .flat_map(|t| &t.folders)
        .filter(|f| f.id != current.id && f.attributes & crate::mail::folder::attr::NOSELECT == 0)
        .map(|f| MoveChoice {
            folder: f.id,
            path: f.path.clone(),
        })
        .collect();
    super::widgets::pick(choices, None::<MoveChoice>, |c| {
        Message::MoveTo(data::MoveTarget::Folder(c.folder))
    })
    .placeholder("Move to…")
    .into()
}

/// A status line that stays one short line: the first words of `reason` after `what`, and the
/// whole reason when the pointer rests on it.
fn with_reason<'a>(what: String, reason: &str) -> Element<'a, Message> {
    const SHOWN: usize = 60;
    let short: String = if reason.chars().count() > SHOWN {
        let cut: String = reason.chars().take(SHOWN).collect();
        format!("{}…", cut.trim_end())
    } else {
        reason.to_owned()
    };
    iced::widget::tooltip(
        text(format!("{what}: {short}"))
            .style(theme::danger)
            .wrapping(iced::widget::text::Wrapping::None),
        container(text(reason.to_owned()).size(12))
            .padding(6)
            .max_width(480)
            .style(theme::menu),
        iced::widget::tooltip::Position::Top,
    )
    .into()
}

pub fn status_bar(state: &State) -> Element<'_, Message> {
    let mut items = row![].spacing(16).align_y(iced::Alignment::Center);
    for (id, engine) in &state.engines {
        let name = engine.name.as_str();
        let item: Element<'_, Message> =
            match (&engine.problem, &engine.connectivity, engine.progress) {
                (Some(problem), _, _) => text(format!("{name}: {problem}"))
                    .style(theme::danger)
                    .into(),
                (None, _, Some((done, total))) => row![
                    text(format!(
                        "{name}: {} / {} headers",
                        theme::thousands(usize::try_from(done).unwrap_or(0)),
                        theme::thousands(usize::try_from(total).unwrap_or(0))
                    )),
                    progress_bar(0.0..=total as f32, done as f32)
                        .length(120)
                        .girth(8),
                ]
                .spacing(6)
                .align_y(iced::Alignment::Center)
                .into(),
                (None, Some(Connectivity::Online), None) => {
                    text(format!("{name}: online")).style(theme::success).into()
                }
                (None, Some(Connectivity::Connecting), None) => {
                    text(format!("{name}: connecting…")).into()
                }
                (None, Some(Connectivity::Offline), None) => {
                    text(format!("{name}: offline")).into()
                }
                (
                    None,
                    Some(Connectivity::Disconnected {
                        reason,
                        retry_in_secs,
                    }),
                    None,
                ) => row![
                    with_reason(
                        format!("{name}: offline, retrying in {retry_in_secs} s"),
                        reason
                    ),
                    button(text("Retry")).on_press(Message::Retry(*id)),
                ]
                .spacing(6)
                .align_y(iced::Alignment::Center)
                .into(),
                (None, Some(Connectivity::Failed { reason }), None) => row![
                    with_reason(format!("{name}: not connected"), reason),
                    button(text("Retry")).on_press(Message::Retry(*id)),
                ]
                .spacing(6)
                .align_y(iced::Alignment::Center)
                .into(),
                (None, None, None) => text(format!("{name}: starting…")).into(),
            };
        items = items.push(item);
    }
    let queues = state.queues;
    items = items.push(iced::widget::space::horizontal());
    items = items.push(
        text(format!(
            "{} queued actions · {} in outbox",
            queues.queued, queues.outbox
        ))
        .wrapping(iced::widget::text::Wrapping::None),
    );
    if queues.failed > 0 {
        items = items.push(
            button(
                text(format!("{} failed — see Outbox", queues.failed))
                    .style(theme::danger)
                    .wrapping(iced::widget::text::Wrapping::None),
            )
            .style(theme::tool_button)
            .padding(0)
            .on_press(Message::Mailbox(crate::ui::mailbox::Message::OpenOutbox)),
        );
    }
    if !state.status.is_empty() {
        items = items.push(text(state.status.clone()).style(theme::danger));
    }
    // One line high, whatever the panes above do.
    container(items.height(Length::Shrink))
        .padding([4, 8])
        .width(Length::Fill)
        .height(Length::Shrink)
        .style(theme::status_bar)
        .into()
}

pub fn help(_state: &State) -> Element<'_, Message> {
    let mut list = column![text("Keyboard shortcuts").size(20).font(theme::bold())].spacing(6);
    for (keys, what) in SHORTCUTS {
        list = list.push(row![text(keys).width(120).font(theme::bold()), text(what)]);
    }
    container(list)
        .padding(16)
        .width(Length::Fill)
        .height(Length::Fill)
        .into()
}
