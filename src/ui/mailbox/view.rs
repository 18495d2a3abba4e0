//! The mailbox screen's views: the folder tree (with the Unified Inbox, the Outbox, folder menus
//! and drop targets for dragged messages) and the virtual message list.

use iced::widget::{
    Space, button, column, container, mouse_area, row, scrollable, text, text_input, tooltip,
};
use iced::{Element, Length};

use super::{FolderCommand, Message, ROW_HEIGHT, State, list_id, search_id};
use crate::store::{MessageRow, SortOrder, flag};
use crate::ui::{data, theme};

pub fn folder_pane(state: &State) -> Element<'_, Message> {
    let mut tree = column![].spacing(2);
    if let Some(unified) = state.unified() {
        let selected = state.folder.as_ref().is_some_and(|f| f.id == data::UNIFIED);
        tree = tree.push(
            button(folder_label("✉ Unified Inbox".into(), unified.unread))
                .style(move |t, s| theme::folder_button(t, s, selected))
                .width(Length::Fill)
                .on_press(Message::SelectFolder(data::UNIFIED)),
        );
    }
    for account in &state.tree {
        let id = account.account.id;
        let open = !state.collapsed.contains(&id);
        let marker = if open { "▾" } else { "▸" };
        tree = tree.push(
            button(text(format!("{marker} {}", account.account.settings.name)).size(15))
                .style(button::text)
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
            let name = folder
                .delimiter
                .as_deref()
                .and_then(|d| folder.path.rsplit(d).next())
                .unwrap_or(&folder.path);
            let (_, unread) = folder.counts();
            let mut title = format!("{} {name}", theme::folder_icon(folder.role));
            if folder.sync_error.is_some() {
                title.push_str(" ⚠");
            }
            let label = folder_label(title, unread);
            let selected =
                !state.outbox_open && state.folder.as_ref().is_some_and(|f| f.id == folder.id);
            let indent = 12.0 + 14.0 * depth as f32;
            let target = state.drag.is_some() && state.drop_target == Some(folder.id);
            let folder_button = button(label)
                .style(move |t, s| theme::folder_button(t, s, selected || target))
                .width(Length::Fill)
                .on_press(Message::SelectFolder(folder.id));
            // A folder the last sync could not sync says why when the pointer rests on it.
            let folder_button: Element<'_, Message> = match &folder.sync_error {
                Some(reason) => tooltip(
                    folder_button,
                    container(text(format!("Not synced: {reason}")).size(12))
                        .padding(6)
                        .max_width(360)
                        .style(theme::menu),
                    tooltip::Position::Bottom,
                )
                .into(),
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
                button(text(if folded { "▸" } else { "▾" }).size(13))
                    .style(button::text)
                    .padding([0, 2])
                    .width(14)
                    .on_press(Message::ToggleFolder(folder.id))
                    .into()
            } else {
                Space::new().width(14).into()
            };
            tree = tree.push(
                row![Space::new().width(indent - 14.0), toggle, area]
                    .align_y(iced::Alignment::Center),
            );
            if state.menu == Some(folder.id) {
                tree = tree.push(row![Space::new().width(indent), folder_menu(state)]);
            }
        }
    }
    if state.outbox_count > 0 || state.outbox_open {
        let selected = state.outbox_open;
        tree = tree.push(
            button(folder_label(
                "⇪ Outbox".into(),
                i64::try_from(state.outbox_count).unwrap_or(0),
            ))
            .style(move |t, s| theme::folder_button(t, s, selected))
            .width(Length::Fill)
            .on_press(Message::OpenOutbox),
        );
    }
    container(scrollable(tree).height(Length::Fill))
        .padding(6)
        .height(Length::Fill)
        .into()
}

/// A folder's name, bold with its unread count on the right when it has unread mail.
fn folder_label<'a>(name: String, unread: i64) -> Element<'a, Message> {
    if unread > 0 {
        row![
            text(name).font(theme::bold()),
            iced::widget::space::horizontal(),
            text(theme::thousands(usize::try_from(unread).unwrap_or(0))).font(theme::bold()),
        ]
        .into()
    } else {
        text(name).into()
    }
}

/// A folder's menu (opened with a right click): name field and the actions.
fn folder_menu(state: &State) -> Element<'_, Message> {
    let item = |label: &'static str, command: FolderCommand| {
        button(text(label))
            .style(button::text)
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
                        .style(button::secondary)
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

/// One list row: status icons, sender, subject, date and size.
fn list_row(
    index: usize,
    m: &MessageRow,
    count: Option<i64>,
    selected: bool,
) -> Element<'_, Message> {
    let unread = m.flags & flag::SEEN == 0;
    let icons = format!(
        "{}{}{}{}",
        if unread { "●" } else { " " },
        if m.flags & flag::FLAGGED != 0 {
            "★"
        } else {
            " "
        },
        if m.has_attachments { "📎" } else { " " },
        if m.flags & flag::ANSWERED != 0 {
            "↩"
        } else {
            " "
        },
    );
    let from = if m.from_name.is_empty() {
        m.from_addr.as_str()
    } else {
        m.from_name.as_str()
    };
    let font = if unread {
        theme::bold()
    } else {
        iced::Font::default()
    };
    // One line per cell, cut at the column's edge.
    let cell = |value: String, width: Length| {
        container(text(value).font(font).wrapping(text::Wrapping::None))
            .width(width)
            .clip(true)
    };
    let mut subject = if m.subject.is_empty() {
        "(no subject)".to_owned()
    } else {
        m.subject.clone()
    };
    if let Some(n) = count.filter(|n| *n > 1) {
        subject = format!("{subject}  ({n})");
    }
    let cells = row![
        cell(icons, Length::Fixed(56.0)),
        cell(from.to_owned(), Length::FillPortion(3)),
        cell(subject, Length::FillPortion(6)),
        cell(theme::short_date(m.date), Length::Fixed(110.0)),
        cell(theme::short_size(m.size), Length::Fixed(64.0)),
    ]
    .spacing(8);
    mouse_area(
        container(cells)
            .style(move |t| theme::list_row(t, selected))
            .height(ROW_HEIGHT)
            .width(Length::Fill)
            .padding([3, 6]),
    )
    .on_press(Message::RowPressed(index))
    .interaction(iced::mouse::Interaction::Pointer)
    .into()
}

pub fn message_list(state: &State) -> Element<'_, Message> {
    let (start, rows) = state.visible();
    let total = state.len();
    let selected = state.selected.map(|(i, _)| i);
    let marked = &state.marked;
    let mut list = column![Space::new().height(start as f32 * ROW_HEIGHT)];
    for (offset, m) in rows.iter().enumerate() {
        let index = start + offset;
        let highlighted = if marked.is_empty() {
            selected == Some(index)
        } else {
            marked.contains(&m.id)
        };
        let count = match &state.results {
            None => state.window.counts.get(offset).copied(),
            Some(_) => None,
        };
        list = list.push(list_row(index, m, count, highlighted));
    }
    let below = total.saturating_sub(start + rows.len());
    list = list.push(Space::new().height(below as f32 * ROW_HEIGHT));
    let sort = |label: &'static str, order: SortOrder| {
        button(text(label))
            .style(move |t, s| theme::row_button(t, s, state.order == order))
            .on_press(Message::Sort(order))
    };
    let hint = if state.search_folder {
        "Search this folder (Ctrl+F)"
    } else {
        "Search all mail (Ctrl+F)"
    };
    let header = row![
        text_input(hint, &state.search)
            .id(search_id())
            .on_input(Message::SearchChanged)
            .width(Length::FillPortion(3)),
        sort("Date", SortOrder::DateDesc),
        sort("From", SortOrder::From),
        sort("Subject", SortOrder::Subject),
        button(text("Threads"))
            .style(move |t, s| theme::row_button(t, s, state.threaded))
            .on_press(Message::ToggleThreads),
    ]
    .spacing(6);
    let title = match (&state.results, &state.folder) {
        (Some(results), _) if results.len() == 1 => "1 result".to_owned(),
        (Some(results), _) => format!("{} results", theme::thousands(results.len())),
        (None, Some(folder)) if state.threads_on() => format!(
            "{} — {} conversations",
            folder.path,
            theme::thousands(total)
        ),
        (None, Some(folder)) => format!("{} — {} messages", folder.path, theme::thousands(total)),
        (None, None) => "No folder selected".to_owned(),
    };
    let mut info = row![text(title).size(13)]
        .spacing(8)
        .align_y(iced::Alignment::Center);
    if !state.search.trim().is_empty() {
        let scope = |label: &'static str, folder: bool| {
            button(text(label).size(13))
                .style(move |t, s| theme::row_button(t, s, state.search_folder == folder))
                .padding([2, 6])
                .on_press(Message::SearchScope(folder))
        };
        info = info.push(iced::widget::space::horizontal());
        info = info.push(scope("All mail", false));
        info = info.push(scope("This folder", true));
        info = info.push(
            button(text("Search on server").size(13))
                .style(button::secondary)
                .padding([2, 6])
                .on_press_maybe(
                    state
                        .server_searchable()
                        .is_some()
                        .then_some(Message::SearchServer),
                ),
        );
    }
    if let Some(note) = &state.server_note {
        info = info.push(text(note.clone()).size(13).style(theme::muted));
    }
    column![
        header,
        info,
        scrollable(list)
            .id(list_id())
            .on_scroll(Message::Scrolled)
            .height(Length::Fill)
            .width(Length::Fill),
    ]
    .spacing(6)
    .padding(6)
    .into()
}
