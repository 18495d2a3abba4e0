//! The mailbox screen's views: the folder tree (with the Unified Inbox, the Outbox, folder menus
//! and drop targets for dragged messages) and the virtual message list.

use iced::widget::{
    Space, button, column, container, mouse_area, row, scrollable, text, text_input, tooltip,
};
use iced::{Element, Length};

use super::columns::{Column, Columns};
use super::{CARD_HEIGHT, FolderCommand, Layout, Message, ROW_HEIGHT, State, list_id, search_id};
use crate::store::{MessageRow, flag};
use crate::ui::theme::{size, space};
use crate::ui::widgets::{self, Icon};
use crate::ui::{data, theme};

/// A row of the folder tree: `icon`, the name (bold in the accent when it has unread mail, cut
/// with "…"), a warning mark when the last sync failed, and the unread count as a badge.
fn folder_label<'a>(icon: Icon, name: &str, unread: i64, failed: bool) -> Element<'a, Message> {
    let has_unread = unread > 0;
    let tint = move |t: &iced::Theme| {
        if has_unread {
            theme::colors(t).unread
        } else {
            theme::colors(t).muted
        }
    };
    let mut label = widgets::ellipsized(name).width(Length::Fill);
    if has_unread {
        label = label.font(theme::semibold()).style(theme::unread);
    }
    let mut line = row![widgets::icon(icon, size::ICON, tint), label]
        .spacing(space::M)
        .align_y(iced::Alignment::Center);
    if failed {
        line = line.push(widgets::icon(Icon::TriangleAlert, size::MARK, |t| {
            theme::colors(t).danger
        }));
    }
    if has_unread {
        line = line.push(widgets::badge(unread));
    }
    line.into()
}

/// A tree entry: a full-width button in the folder style.
fn entry<'a>(
    label: Element<'a, Message>,
    selected: bool,
    message: Message,
) -> iced::widget::Button<'a, Message> {
    button(label)
        .style(move |t, s| theme::folder_button(t, s, selected))
        .padding([space::XS + 1.0, space::M])
        .width(Length::Fill)
        .on_press(message)
}

pub fn folder_pane(state: &State) -> Element<'_, Message> {
    let mut tree = column![].spacing(1);
    if let Some(unified) = state.unified() {
        let selected = state.folder.as_ref().is_some_and(|f| f.id == data::UNIFIED);
        tree = tree.push(entry(
            folder_label(Icon::Mails, "Unified Inbox", unified.unread, false),
            selected,
            Message::SelectFolder(data::UNIFIED),
        ));
    }
    for account in &state.tree {
        let id = account.account.id;
        let open = !state.collapsed.contains(&id);
        let chevron = if open {
            Icon::ChevronDown
        } else {
            Icon::ChevronRight
        };
        tree = tree.push(
            button(
                row![
                    widgets::muted_icon(chevron, size::MARK),
                    widgets::ellipsized(&account.account.settings.name)
                        .size(size::SMALL)
                        .font(theme::semibold()),
                ]
                .spacing(space::XS)
                .align_y(iced::Alignment::Center),
            )
            .style(|t, s| theme::folder_button(t, s, false))
            .padding([space::S, space::XS])
            .width(Length::Fill)
            .on_press(Message::ToggleAccount(id)),
        );
        if !open {
            continue;
        }
        // Folders with subfolders get a toggle; a collapsed one hides everything below it.
        let parents: std::collections::HashSet<&str> = account
            .folders
            .iter()
            .filter_map(|f| {
                let d = f.delimiter.as_deref()?;
                f.path.rsplit_once(d).map(|(parent, _)| parent)
            })
            .collect();
        let mut hidden: Vec<String> = Vec::new();
        for folder in &account.folders {
            if hidden
                .iter()
                .any(|prefix| folder.path.starts_with(prefix.as_str()))
            {
                continue;
            }
            let has_children = parents.contains(folder.path.as_str());
            let folded = state.collapsed_folders.contains(&folder.id);
            if has_children
                && folded
                && let Some(d) = folder.delimiter.as_deref()
            {
                hidden.push(format!("{}{d}", folder.path));
            }
            let depth = folder
                .delimiter
                .as_deref()
                .map_or(0, |d| folder.path.matches(d).count());
            let name = folder.name();
            let (_, unread) = folder.counts();
            let label = folder_label(
                Icon::folder(folder.role),
                name,
                unread,
                folder.sync_error.is_some(),
            );
            let selected =
                !state.outbox_open && state.folder.as_ref().is_some_and(|f| f.id == folder.id);
            let indent = 14.0 * depth as f32;
            let target = state.drag.is_some() && state.drop_target == Some(folder.id);
            let folder_button = entry(label, selected || target, Message::SelectFolder(folder.id));
            // A folder the last sync could not sync says why when the pointer rests on it.
            let folder_button: Element<'_, Message> = match &folder.sync_error {
                Some(reason) => crate::ui::focus::labelled(
                    widgets::tip(
                        folder_button,
                        format!("Not synced: {reason}"),
                        tooltip::Position::Bottom,
                    ),
                    None,
                    &format!("{name}: not synced"),
                ),
                None => folder_button.into(),
            };
            let mut area = mouse_area(folder_button).on_right_press(Message::FolderMenu(folder.id));
            if state.drag.is_some() && folder.attributes & crate::mail::folder::attr::NOSELECT == 0
            {
                area = area
                    .on_release(Message::DropOn(folder.id))
                    .on_enter(Message::DragOver(Some(folder.id)))
                    .on_exit(Message::DragOver(None));
            }
            let toggle: Element<'_, Message> = if has_children {
                let (icon, what) = if folded {
                    (Icon::ChevronRight, "Show the subfolders of")
                } else {
                    (Icon::ChevronDown, "Hide the subfolders of")
                };
                crate::ui::focus::labelled(
                    button(widgets::muted_icon(icon, size::MARK))
                        .style(theme::tool_button)
                        .padding(1)
                        .on_press(Message::ToggleFolder(folder.id)),
                    Some(Message::ToggleFolder(folder.id)),
                    &format!("{what} {name}"),
                )
            } else {
                Space::new().width(16).into()
            };
            tree = tree.push(
                row![Space::new().width(indent), toggle, area]
                    .spacing(space::XXS)
                    .align_y(iced::Alignment::Center),
            );
            if state.menu == Some(folder.id) {
                tree = tree.push(row![Space::new().width(indent + 18.0), folder_menu(state)]);
            }
        }
    }
    if state.outbox_count > 0 || state.outbox_open {
        tree = tree.push(entry(
            folder_label(
                Icon::Clock,
                "Outbox",
                i64::try_from(state.outbox_count).unwrap_or(0),
                false,
            ),
            state.outbox_open,
            Message::OpenOutbox,
        ));
    }
    container(scrollable(tree).height(Length::Fill))
        .padding([space::M, space::S])
        .height(Length::Fill)
        .style(theme::folder_pane)
        .into()
}

/// A folder's menu (opened with a right click): name field and the actions.
fn folder_menu(state: &State) -> Element<'_, Message> {
    let item = |label: &'static str, command: FolderCommand| {
        button(text(label))
            .style(theme::tool_button)
            .width(Length::Fill)
            .on_press(Message::FolderCommand(command))
    };
    if let Some(warning) = &state.confirm_delete {
        // Deleting mail, or a special folder, is asked about first.
        return container(
            column![
                text(format!("Delete {warning}?")).size(13),
                row![
                    button(text("Delete"))
                        .style(button::danger)
                        .on_press(Message::FolderCommand(FolderCommand::ConfirmDelete)),
                    button(text("Cancel"))
                        .style(theme::secondary_button)
                        .on_press(Message::FolderCommand(FolderCommand::Close)),
                ]
                .spacing(6),
            ]
            .spacing(6),
        )
        .padding(6)
        .max_width(320)
        .style(theme::menu)
        .into();
    }
    container(
        column![
            text_input("New name", &state.menu_name).on_input(Message::MenuName),
            item("New subfolder", FolderCommand::NewSubfolder),
            item("Rename", FolderCommand::Rename),
            item("Delete folder", FolderCommand::Delete),
            item("Mark all read", FolderCommand::MarkAllRead),
            item("Close", FolderCommand::Close),
        ]
        .spacing(2),
    )
    .padding(4)
    .style(theme::menu)
    .into()
}

/// The sender as the list shows it: the name, else the address.
/// The sender as the list shows it: the name, else the address.
pub(super) fn sender(m: &MessageRow) -> &str {
    if m.from_name.trim().is_empty() {
        m.from_addr.as_str()
    } else {
        m.from_name.as_str()
    }
}

fn subject(m: &MessageRow) -> &str {
    if m.subject.trim().is_empty() {
        "(no subject)"
    } else {
        m.subject.as_str()
    }
}

/// The small marks of a message: replied, forwarded, attachment, the conversation's size and
/// the star (filled when starred, an outline on the selected row; a click on it stars or
/// unstars the message).
fn marks<'a>(
    index: usize,
    m: &MessageRow,
    count: Option<i64>,
    open: bool,
    selected: bool,
) -> iced::widget::Row<'a, Message> {
    let muted = |icon| widgets::muted_icon(icon, size::MARK);
    let mut marks = row![].spacing(space::XS).align_y(iced::Alignment::Center);
    if let Some(n) = count.filter(|n| *n > 1) {
        marks = marks.push(super::conversation::disclosure(index, n, open));
    }
    if m.flags & flag::ANSWERED != 0 {
        marks = marks.push(muted(Icon::Reply));
    }
    if m.flags & flag::FORWARDED != 0 {
        marks = marks.push(muted(Icon::Forward));
    }
    if m.has_attachments {
        marks = marks.push(muted(Icon::Paperclip));
    }
    let starred = m.flags & flag::FLAGGED != 0;
    if starred || selected {
        let (icon, hint) = if starred {
            (
                widgets::icon(Icon::StarFilled, size::MARK, |t| theme::colors(t).star),
                "Unstar",
            )
        } else {
            (muted(Icon::Star), "Star")
        };
        // Named for selectors; no Tab stop (S stars the selected message).
        marks = marks.push(widgets::tip(
            crate::ui::focus::labelled(
                button(icon)
                    .padding(0)
                    .style(|_, _| button::Style::default())
                    .on_press(Message::Star(m.id)),
                None,
                hint,
            ),
            hint,
            tooltip::Position::Bottom,
        ));
    }
    marks
}

/// The date, short, with the full date and time when the pointer rests on it.
fn date<'a>(m: &MessageRow, font: iced::Font) -> Element<'a, Message> {
    widgets::tip(
        text(theme::short_date(m.date))
            .size(size::SMALL)
            .font(font)
            .style(theme::muted)
            .wrapping(text::Wrapping::None),
        theme::long_date(m.date),
        tooltip::Position::Bottom,
    )
}

/// A row that selects on press (and starts a drag), with the selection's background.
fn pressable<'a>(
    index: usize,
    content: Element<'a, Message>,
    style: impl Fn(&iced::Theme) -> iced::widget::container::Style + 'a,
    height: f32,
    padding: [f32; 2],
) -> Element<'a, Message> {
    mouse_area(
        container(content)
            .style(style)
            .height(height)
            .width(Length::Fill)
            .padding(padding)
            .align_y(iced::Alignment::Center),
    )
    .on_press(Message::RowPressed(index))
    .interaction(iced::mouse::Interaction::Pointer)
    .into()
}

/// One table row: unread dot, then the columns in their order (the subject with the marks at
/// its right), each cut with "…".
fn table_row<'a>(
    index: usize,
    m: &'a MessageRow,
    count: Option<i64>,
    selected: bool,
    open: bool,
    columns: &Columns,
) -> Element<'a, Message> {
    let unread = m.flags & flag::SEEN == 0;
    let font = if unread { theme::semibold() } else { theme::UI };
    let mut cells = row![container(widgets::unread_dot(unread)).width(COLUMN_MARK)]
        .spacing(space::M)
        .align_y(iced::Alignment::Center);
    for column in columns.order.iter().copied() {
        let width = columns.width(column);
        let cell: Element<'a, Message> = match column {
            Column::From => container(widgets::ellipsized(sender(m)).font(font))
                .width(width)
                .into(),
            Column::Subject => {
                let mut subject = widgets::ellipsized(subject(m)).font(font);
                if unread {
                    subject = subject.style(theme::unread);
                }
                row![
                    container(subject).width(Length::Fill),
                    marks(index, m, count, open, selected),
                ]
                .spacing(space::M)
                .align_y(iced::Alignment::Center)
                .width(Length::Fill)
                .into()
            }
            Column::Date => container(date(m, font))
                .width(width)
                .align_x(iced::Alignment::End)
                .into(),
            Column::Size => container(
                text(theme::short_size(m.size))
                    .size(size::SMALL)
                    .style(theme::muted)
                    .wrapping(text::Wrapping::None),
            )
            .width(width)
            .align_x(iced::Alignment::End)
            .into(),
        };
        cells = cells.push(cell);
    }
    pressable(
        index,
        cells.into(),
        move |t| theme::list_row(t, selected),
        ROW_HEIGHT,
        [0.0, space::M],
    )
}

/// One card: sender and date, subject and marks, a line of the body.
fn card(
    index: usize,
    m: &MessageRow,
    count: Option<i64>,
    selected: bool,
    open: bool,
) -> Element<'_, Message> {
    let unread = m.flags & flag::SEEN == 0;
    let font = if unread {
        theme::bold()
    } else {
        theme::semibold()
    };
    let mut subject = widgets::ellipsized(subject(m));
    if unread {
        subject = subject.font(theme::semibold()).style(theme::unread);
    }
    let preview: Element<'_, Message> = if m.preview.trim().is_empty() {
        Space::new().height(size::SMALL + 4.0).into()
    } else {
        widgets::ellipsized(m.preview.trim())
            .size(size::SMALL)
            .style(theme::muted)
            .into()
    };
    let lines = column![
        row![
            widgets::unread_dot(unread),
            widgets::ellipsized(sender(m)).font(font),
            date(m, theme::UI),
        ]
        .spacing(space::S)
        .align_y(iced::Alignment::Center),
        row![subject, marks(index, m, count, open, selected)]
            .spacing(space::S)
            .align_y(iced::Alignment::Center),
        preview,
    ]
    .spacing(space::XXS);
    let card = container(lines)
        .padding([space::S, space::L])
        .width(Length::Fill)
        .style(move |t| theme::card(t, selected, false));
    pressable(
        index,
        card.into(),
        |_| iced::widget::container::Style::default(),
        CARD_HEIGHT,
        [space::XXS, space::S],
    )
}

const COLUMN_MARK: f32 = 10.0;

/// What the list shows when it has no rows.
fn empty_state(state: &State) -> Option<Element<'_, Message>> {
    if !state.is_empty() {
        return None;
    }
    let (icon, title, line) = if state.results.is_some() {
        (
            Icon::Search,
            "No messages found",
            "Nothing cached here matches. Try other words, search all mail, or search on the server.",
        )
    } else if state.folder.is_none() {
        (
            Icon::Inbox,
            "No folder open",
            "Choose a folder on the left.",
        )
    } else if state.counting || state.loading.is_some() {
        return None;
    } else {
        (
            Icon::Inbox,
            "This folder is empty",
            "New mail shows here as soon as it arrives.",
        )
    };
    Some(widgets::empty(icon, title, line))
}

/// Above the list: the search box, the Threads and layout switches, the folder's name and count,
/// and the search's scope.
fn list_header(state: &State) -> Element<'_, Message> {
    let total = state.len();
    let hint = if state.search_folder {
        "Search this folder (Ctrl+F)"
    } else {
        "Search all mail (Ctrl+F)"
    };
    let switch = |icon: Icon, name: &'static str, on: bool, message: Message| {
        widgets::tip(
            crate::ui::focus::labelled(
                button(widgets::icon(icon, size::ICON, move |t| {
                    if on {
                        theme::colors(t).on_selected
                    } else {
                        theme::colors(t).muted
                    }
                }))
                .padding(space::S)
                .style(move |t, s| theme::folder_button(t, s, on))
                .on_press(message.clone()),
                Some(message),
                name,
            ),
            name,
            tooltip::Position::Bottom,
        )
    };
    let search = row![
        widgets::muted_icon(Icon::Search, size::ICON),
        text_input(hint, &state.search)
            .id(search_id())
            .on_input(Message::SearchChanged)
            .style(theme::search_field)
            .padding([space::XS, 0.0]),
    ]
    .spacing(space::S)
    .align_y(iced::Alignment::Center);
    let header = row![
        container(search)
            .padding([space::XXS, space::M])
            .style(theme::search_box)
            .width(Length::Fill),
        switch(
            Icon::MessagesSquare,
            "Threads",
            state.threaded,
            Message::ToggleThreads
        ),
        switch(
            Icon::Rows3,
            "Table",
            state.layout == Layout::Table,
            Message::SetLayout(Layout::Table)
        ),
        switch(
            Icon::LayoutList,
            "Cards",
            state.layout == Layout::Cards,
            Message::SetLayout(Layout::Cards)
        ),
    ]
    .spacing(space::XS)
    .align_y(iced::Alignment::Center);
    let (name, count) = match (&state.results, &state.folder) {
        (Some(results), _) if results.len() == 1 => ("Search".to_owned(), "1 result".to_owned()),
        (Some(results), _) => (
            "Search".to_owned(),
            format!("{} results", theme::thousands(results.len())),
        ),
        (None, Some(folder)) if state.threads_on() => (
            folder.path.clone(),
            format!("{} conversations", theme::thousands(total)),
        ),
        (None, Some(folder)) => (
            folder.path.clone(),
            format!("{} messages", theme::thousands(total)),
        ),
        (None, None) => ("No folder selected".to_owned(), String::new()),
    };
    // Read as one line ("INBOX — 3,000 messages") by selectors and assistive tools.
    let spoken = if state.results.is_some() {
        count.clone()
    } else if count.is_empty() {
        name.clone()
    } else {
        format!("{name} — {count}")
    };
    let title = crate::ui::focus::labelled(
        row![
            widgets::ellipsized(name)
                .width(Length::Shrink)
                .size(size::TITLE)
                .font(theme::semibold()),
            text(count)
                .size(size::SMALL)
                .style(theme::muted)
                .wrapping(text::Wrapping::None),
        ]
        .spacing(space::M)
        .align_y(iced::Alignment::Center),
        None,
        &spoken,
    );
    let mut info = row![title]
        .spacing(space::M)
        .align_y(iced::Alignment::Center);
    if !state.search.trim().is_empty() {
        let scope = |label: &'static str, folder: bool| {
            button(text(label).size(size::SMALL))
                .style(move |t, s| theme::folder_button(t, s, state.search_folder == folder))
                .padding([space::XXS, space::S])
                .on_press(Message::SearchScope(folder))
        };
        info = info.push(iced::widget::space::horizontal());
        info = info.push(scope("All mail", false));
        info = info.push(scope("This folder", true));
        info = info.push(
            button(text("Search on server").size(size::SMALL))
                .style(theme::secondary_button)
                .padding([space::XXS, space::S])
                .on_press_maybe(
                    state
                        .server_searchable()
                        .is_some()
                        .then_some(Message::SearchServer),
                ),
        );
    }
    if let Some(note) = &state.server_note {
        info = info.push(text(note.clone()).size(size::SMALL).style(theme::muted));
    }
    column![header, info]
        .spacing(space::S)
        .padding([space::S, space::M])
        .into()
}

pub fn message_list(state: &State) -> Element<'_, Message> {
    let (start, rows) = state.visible();
    let total = state.len();
    let selected = state.selected.map(|(i, _)| i);
    let selected_id = state.selected.map(|(_, id)| id);
    let marked = &state.marked;
    let mut list = column![Space::new().height(state.top_of(start))];
    for (offset, m) in rows.iter().enumerate() {
        let index = start + offset;
        let opened = state.opened_at(index);
        // A message of the open conversation is selected: its line is marked, not the row.
        let child_chosen = opened.is_some_and(|o| {
            selected_id.is_some_and(|s| s != m.id && o.messages.iter().any(|c| c.id == s))
        });
        let highlighted = if marked.is_empty() {
            selected == Some(index) && !child_chosen
        } else {
            marked.contains(&m.id)
        };
        let count = match &state.results {
            None => state.window.counts.get(offset).copied(),
            Some(_) => None,
        };
        let open = opened.is_some();
        list = list.push(match state.layout {
            Layout::Table => table_row(index, m, count, highlighted, open, &state.columns),
            Layout::Cards => card(index, m, count, highlighted, open),
        });
        if let Some(opened) = opened {
            list = list.push(super::conversation::lines(state, opened));
        }
    }
    let end = start + rows.len();
    let below = (state.top_of(total.max(end)) - state.top_of(end)).max(0.0);
    list = list.push(Space::new().height(below));
    let mut pane = column![list_header(state)];
    // The scrollable stays the column's fourth child in both layouts, so switching keeps its
    // scroll state.
    if state.layout == Layout::Table {
        pane = pane.push(super::columns::header(state, COLUMN_MARK));
        pane = pane.push(iced::widget::rule::horizontal(1).style(theme::rule));
    } else {
        pane = pane.push(Space::new().height(0));
        pane = pane.push(Space::new().height(0));
    }
    let body: Element<'_, Message> = match empty_state(state) {
        Some(empty) => empty,
        None => scrollable(list)
            .spacing(space::XXS)
            .id(list_id())
            .on_scroll(Message::Scrolled)
            .height(Length::Fill)
            .width(Length::Fill)
            .into(),
    };
    pane.push(body).into()
}
