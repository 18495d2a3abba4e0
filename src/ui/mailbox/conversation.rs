//! A conversation opened in place (threaded view): a disclosure on its row shows its messages,
//! newest first, indented under the row, each one a line that opens it in the reader.
//!
//! One conversation is open at a time. Its lines make the list taller below its row, so the
//! list's geometry (which row is at which height) goes through `index_at` and `top_of` here;
//! rows keep their indices, so selection, keys and pages are unchanged.

use iced::widget::{Space, button, column, container, mouse_area, row, text};
use iced::{Element, Length, Task};

use super::{Message, ROW_HEIGHT, State};
use crate::store::{MessageRow, flag};
use crate::ui::data;
use crate::ui::theme::{self, size, space};
use crate::ui::widgets::{self, Icon};

/// Messages listed under an open conversation, at most (the newest).
pub const MAX_LINES: usize = 50;
/// Height of one message line under an open conversation.
pub const LINE_HEIGHT: f32 = ROW_HEIGHT;

/// The open conversation: its row's index in the list, its thread, and its messages (newest
/// first, at most `MAX_LINES`; `more` counts the older ones left out).
#[derive(Debug, Clone)]
pub struct Opened {
    pub index: usize,
    pub thread: i64,
    /// The lines: the conversation's messages read, less the row's own.
    pub messages: Vec<MessageRow>,
    /// How many earlier messages were not read.
    pub more: usize,
    /// What was read (newest first) and the conversation's size, the row's own included: the
    /// lines are derived from them again whenever the row may stand for another message.
    read: Vec<MessageRow>,
    total: usize,
}

impl Opened {
    /// Lines drawn under the row (one more for "and N earlier").
    fn lines(&self) -> usize {
        self.messages.len() + usize::from(self.more > 0)
    }

    /// Sets the flags of `message` wherever the conversation holds it.
    pub(super) fn patch_flags(&mut self, message: i64, flags: i64) {
        for m in self.messages.iter_mut().chain(self.read.iter_mut()) {
            if m.id == message {
                m.flags = flags;
            }
        }
    }

    /// The lines for a row that shows message `own`: every message read but that one.
    fn derive(&mut self, own: Option<i64>) {
        self.messages = self
            .read
            .iter()
            .filter(|m| Some(m.id) != own)
            .cloned()
            .collect();
        // The row's own message counts as shown, whether or not it was among those read.
        let shown = self.messages.len() + usize::from(own.is_some());
        self.more = self.total.saturating_sub(shown);
    }
}

/// What Up or Down does with a conversation open.
#[derive(Debug, Clone)]
pub enum ConversationStep {
    /// The list's ordinary step, row to row.
    Ordinary,
    /// To this line of the conversation (a message id).
    Line(i64),
    /// To this row.
    Row(usize),
    /// Nothing: the selection is already where the step would end.
    Stay,
}

impl State {
    /// The open conversation's row and the height its lines add, when the list shows it.
    fn opened_extra(&self) -> Option<(usize, f32)> {
        let opened = self
            .opened
            .as_ref()
            .filter(|o| self.threads_on() && self.results.is_none() && o.index < self.total)?;
        Some((opened.index, opened.lines() as f32 * LINE_HEIGHT))
    }

    /// The row at height `y` of the list (the open conversation's lines count as its row).
    pub(super) fn index_at(&self, y: f32) -> usize {
        let h = self.row_height();
        let y = y.max(0.0);
        match self.opened_extra() {
            Some((open, extra)) => {
                let below_open = (open + 1) as f32 * h;
                if y < below_open {
                    (y / h) as usize
                } else if y < below_open + extra {
                    open
                } else {
                    ((y - extra) / h) as usize
                }
            }
            None => (y / h) as usize,
        }
    }

    /// The height at which row `index` starts.
    pub(super) fn top_of(&self, index: usize) -> f32 {
        let top = index as f32 * self.row_height();
        match self.opened_extra() {
            Some((open, extra)) if index > open => top + extra,
            _ => top,
        }
    }

    /// The open conversation, if it belongs to row `index` and the list shows it.
    pub(super) fn opened_at(&self, index: usize) -> Option<&Opened> {
        self.opened_extra()
            .filter(|(open, _)| *open == index)
            .and(self.opened.as_ref())
    }

    /// Row `index`'s position in the loaded window.
    fn index_in_window(&self, index: usize) -> Option<usize> {
        index
            .checked_sub(self.window.start)
            .filter(|i| *i < self.window.rows.len())
    }

    /// Up or Down (`step` -1 or 1) when a conversation is open: from its row into its lines,
    /// through them, and out to the next row; from the row below it, Up goes to its last line.
    /// (The row stands for its own message, which is not one of the lines: see `loaded`.)
    pub fn conversation_step(&self, step: isize) -> ConversationStep {
        let (Some((index, id)), Some(opened)) = (self.selected, self.opened.as_ref()) else {
            return ConversationStep::Ordinary;
        };
        if !self.threads_on() || self.results.is_some() || opened.index >= self.total {
            return ConversationStep::Ordinary;
        }
        let lines: Vec<i64> = opened.messages.iter().map(|m| m.id).collect();
        let line = |k: usize| {
            lines
                .get(k)
                .map_or(ConversationStep::Stay, |m| ConversationStep::Line(*m))
        };
        if index == opened.index {
            return match (lines.iter().position(|m| *m == id), step > 0) {
                // On the row itself: Down enters the lines; Up is ordinary.
                (None, true) if !lines.is_empty() => line(0),
                (None, _) => ConversationStep::Ordinary,
                (Some(k), true) if k + 1 < lines.len() => line(k + 1),
                // Past the last line: the next row, or nowhere when there is none.
                (Some(_), true) if index + 1 < self.len() => ConversationStep::Row(index + 1),
                (Some(_), true) => ConversationStep::Stay,
                (Some(0), false) => ConversationStep::Row(index),
                (Some(k), false) => line(k - 1),
            };
        }
        if step < 0 && index == opened.index + 1 && !lines.is_empty() {
            return line(lines.len() - 1);
        }
        ConversationStep::Ordinary
    }

    /// Re-reads the open conversation's messages (after the store changed).
    pub(super) fn reload_conversation(&self, store: &crate::store::Store) -> Task<Message> {
        match &self.opened {
            Some(opened) => load(store, opened.thread),
            None => Task::none(),
        }
    }

    /// After a page loaded: the open conversation's row may have moved (new mail above it). If
    /// the loaded rows hold its old place but not the conversation, it moved out of sight (or
    /// left the folder): it closes, rather than show its lines under another row.
    pub(super) fn follow_conversation(&mut self) {
        let Some(opened) = &mut self.opened else {
            return;
        };
        let start = self.window.start;
        match self
            .window
            .rows
            .iter()
            .position(|r| r.thread_id == Some(opened.thread))
        {
            Some(offset) => opened.index = start + offset,
            None if (start..start + self.window.rows.len()).contains(&opened.index) => {
                close(self);
                return;
            }
            None => {}
        }
        // The row may now stand for a newer message of the conversation (a reply arrived).
        let own = self
            .opened
            .as_ref()
            .and_then(|o| self.row(o.index))
            .map(|r| r.id);
        if let Some(opened) = &mut self.opened {
            opened.derive(own);
        }
    }
}

fn load(store: &crate::store::Store, thread: i64) -> Task<Message> {
    Task::perform(
        data::conversation_newest(store.clone(), thread, MAX_LINES),
        move |result| Message::ConversationLoaded { thread, result },
    )
}

/// Closes the open conversation; a message selected among its lines is no longer selected (it
/// would act unseen).
fn close(state: &mut State) {
    if let (Some(opened), Some((_, id))) = (state.opened.take(), state.selected)
        && opened.messages.iter().any(|m| m.id == id)
        && state.row(opened.index).is_none_or(|r| r.id != id)
    {
        state.selected = None;
    }
}

/// Opens the conversation of row `index` in place, or closes it if it is the open one.
pub(super) fn toggle(
    state: &mut State,
    index: usize,
    store: &crate::store::Store,
) -> Task<Message> {
    let Some(thread) = state.row(index).and_then(|r| r.thread_id) else {
        return Task::none();
    };
    let reopen = state.opened.as_ref().is_some_and(|o| o.thread == thread);
    close(state);
    if reopen {
        return Task::none();
    }
    state.opened = Some(Opened {
        index,
        thread,
        messages: Vec::new(),
        more: 0,
        read: Vec::new(),
        total: 0,
    });
    load(store, thread)
}

/// Right opens the selected row's conversation, Left closes the open one (as in Thunderbird's
/// threaded view).
pub(super) fn key(state: &mut State, open: bool, store: &crate::store::Store) -> Task<Message> {
    if !state.threads_on() || state.results.is_some() {
        return Task::none();
    }
    let Some((index, _)) = state.selected else {
        return Task::none();
    };
    let is_open = state.opened_at(index).is_some();
    let many = state
        .index_in_window(index)
        .and_then(|i| state.window.counts.get(i))
        .is_some_and(|n| *n > 1);
    match (open, is_open) {
        (true, false) if many => toggle(state, index, store),
        (false, true) => {
            close(state);
            Task::none()
        }
        _ => Task::none(),
    }
}

/// The open conversation's newest messages arrived, and how many it has in all.
pub(super) fn loaded(state: &mut State, thread: i64, messages: Vec<MessageRow>, total: usize) {
    let Some(index) = state
        .opened
        .as_ref()
        .filter(|o| o.thread == thread)
        .map(|o| o.index)
    else {
        return;
    };
    // The row stands for its own message: the lines are the others.
    let own = state.row(index).map(|r| r.id);
    if let Some(opened) = state.opened.as_mut() {
        opened.read = messages;
        opened.total = total;
        opened.derive(own);
    }
}

/// The disclosure of a conversation row: an arrow and the number of messages.
pub(super) fn disclosure<'a>(index: usize, count: i64, open: bool) -> Element<'a, Message> {
    let arrow = if open {
        Icon::ChevronDown
    } else {
        Icon::ChevronRight
    };
    let label = if open {
        "Hide the conversation"
    } else {
        "Show the conversation"
    };
    let content = row![
        widgets::muted_icon(arrow, size::MARK),
        text(count.to_string())
            .size(size::CAPTION)
            .style(theme::muted),
    ]
    .spacing(space::XXS)
    .align_y(iced::Alignment::Center);
    let toggle = button(content)
        .padding([0.0, space::XXS])
        .style(theme::tool_button)
        .on_press(Message::ToggleConversation(index));
    widgets::tip(
        crate::ui::focus::labelled(toggle, Some(Message::ToggleConversation(index)), label),
        format!("{label} ({count} messages)"),
        iced::widget::tooltip::Position::Bottom,
    )
}

/// The lines under an open conversation's row: each message's sender, subject and date,
/// indented; the selected one highlighted.
pub(super) fn lines<'a>(state: &'a State, opened: &'a Opened) -> Element<'a, Message> {
    let open_folder = state.folder.as_ref().map_or(0, |f| f.id);
    let selected = state.selected.map(|(_, id)| id);
    let folder_name = |id: i64| {
        state
            .tree
            .iter()
            .flat_map(|t| &t.folders)
            .find(|f| f.id == id)
            .map(crate::store::Folder::name)
    };
    let mut list = column![];
    for m in &opened.messages {
        let unread = m.flags & flag::SEEN == 0;
        let font = if unread { theme::semibold() } else { theme::UI };
        let sender = super::view::sender(m);
        let mut line = row![
            Space::new().width(space::XL),
            widgets::unread_dot(unread),
            container(widgets::ellipsized(sender).font(font)).width(Length::FillPortion(3)),
            container(
                widgets::ellipsized(if m.preview.trim().is_empty() {
                    m.subject.as_str()
                } else {
                    m.preview.trim()
                })
                .size(size::SMALL)
                .style(theme::muted)
            )
            .width(Length::FillPortion(6)),
        ]
        .spacing(space::S)
        .align_y(iced::Alignment::Center);
        // A message of the conversation kept in another folder (a reply in Sent) says where.
        if m.folder_id != open_folder
            && let Some(name) = folder_name(m.folder_id)
        {
            line = line.push(widgets::chip(
                text(name).size(size::CAPTION).style(theme::muted),
            ));
        }
        line = line.push(
            text(theme::short_date(m.date))
                .size(size::SMALL)
                .style(theme::muted)
                .wrapping(text::Wrapping::None),
        );
        let chosen = selected == Some(m.id);
        let id = m.id;
        list = list.push(
            mouse_area(
                container(line)
                    .height(LINE_HEIGHT)
                    .width(Length::Fill)
                    .padding([0.0, space::M])
                    .align_y(iced::Alignment::Center)
                    .style(move |t| theme::list_row(t, chosen)),
            )
            .on_press(Message::SelectInConversation(id))
            .interaction(iced::mouse::Interaction::Pointer),
        );
    }
    if opened.more > 0 {
        list = list.push(
            container(
                text(if opened.more == 1 {
                    "and 1 earlier message".to_owned()
                } else {
                    format!("and {} earlier messages", theme::thousands(opened.more))
                })
                .size(size::SMALL)
                .style(theme::muted),
            )
            .height(LINE_HEIGHT)
            .padding([0.0, space::XL + space::M])
            .align_y(iced::Alignment::Center),
        );
    }
    // Inset like the rows (cards keep a margin at each side).
    container(list).padding([0.0, space::S]).into()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

    use super::*;
    use crate::store::Folder;
    use crate::ui::mailbox::{CARD_HEIGHT, Window};

    fn row(id: i64, thread: i64) -> MessageRow {
        MessageRow {
            id,
            account_id: 1,
            folder_id: 1,
            uid: Some(id),
            uidl: None,
            message_id: None,
            in_reply_to: None,
            refs: String::new(),
            thread_id: Some(thread),
            subject: format!("s{id}"),
            from_name: String::new(),
            from_addr: "a@example.test".into(),
            to: String::new(),
            cc: String::new(),
            date: 1_700_000_000 - id,
            size: 1,
            flags: 1,
            keywords: String::new(),
            has_attachments: false,
            preview: String::new(),
            body_state: 0,
        }
    }

    fn state() -> State {
        let folder = Folder {
            id: 1,
            account_id: 1,
            path: "INBOX".into(),
            server_path: "INBOX".into(),
            delimiter: None,
            role: None,
            attributes: 0,
            subscribed: true,
            uidvalidity: None,
            uidnext: None,
            highestmodseq: None,
            total: 10,
            unread: 0,
            backfill_complete: true,
            server_total: None,
            server_unread: None,
            sync_error: None,
        };
        let rows: Vec<MessageRow> = (0..10).map(|i| row(i, 100 + i)).collect();
        let counts = (0..10).map(|i| if i == 2 { 3 } else { 1 }).collect();
        let mut state = State::for_bench(
            folder,
            10,
            Window {
                start: 0,
                rows,
                counts,
            },
        );
        state.threaded = true;
        state.offset_y = 0.0;
        state
    }

    #[test]
    fn an_open_conversation_adds_its_lines_below_its_row() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::store::Store::open_dir(dir.path()).unwrap();
        let mut state = state();
        // Right on a row without a conversation does nothing; on one with it, opens it.
        state.selected = Some((1, 1));
        let _ = key(&mut state, true, &store);
        assert!(state.opened.is_none());
        state.selected = Some((2, 2));
        let _ = key(&mut state, true, &store);
        assert_eq!(state.opened.as_ref().map(|o| o.index), Some(2));
        loaded(
            &mut state,
            102,
            vec![row(2, 102), row(50, 102), row(51, 102)],
            5,
        );
        // The other two (the row is its own message) and "and 2 earlier messages".
        let extra = 3.0 * LINE_HEIGHT;
        assert_eq!(state.top_of(2), 2.0 * CARD_HEIGHT);
        assert_eq!(state.top_of(3), 3.0 * CARD_HEIGHT + extra);
        assert_eq!(state.index_at(2.0 * CARD_HEIGHT + 5.0), 2);
        assert_eq!(state.index_at(3.0 * CARD_HEIGHT + extra - 1.0), 2);
        assert_eq!(state.index_at(3.0 * CARD_HEIGHT + extra + 1.0), 3);
        assert_eq!(state.index_at(9.0 * CARD_HEIGHT + extra + 1.0), 9);
        // New mail above: the row moved down one, and the conversation follows it.
        let mut rows: Vec<MessageRow> = vec![row(99, 999)];
        rows.extend((0..9).map(|i| row(i, 100 + i)));
        state.window.rows = rows;
        state.follow_conversation();
        assert_eq!(state.opened.as_ref().map(|o| o.index), Some(3));
        // A line chosen, then Left: the conversation closes and the hidden line is not left
        // selected.
        state.selected = Some((3, 50));
        let _ = key(&mut state, false, &store);
        assert!(state.opened.is_none());
        assert_eq!(state.selected, None);
        assert_eq!(state.top_of(3), 3.0 * CARD_HEIGHT);
    }

    #[test]
    fn up_and_down_step_through_an_open_conversation() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::store::Store::open_dir(dir.path()).unwrap();
        let mut state = state();
        let _ = toggle(&mut state, 2, &store);
        // The row's own message (2) is its newest: it is not a line of its own.
        loaded(
            &mut state,
            102,
            vec![row(2, 102), row(50, 102), row(51, 102)],
            3,
        );
        let step = |state: &mut State, by: isize| {
            match state.conversation_step(by) {
                ConversationStep::Line(id) => {
                    state.selected = Some((2, id));
                }
                ConversationStep::Row(index) => {
                    state.selected = Some((index, state.row(index).unwrap().id));
                }
                ConversationStep::Ordinary => {
                    let (index, _) = state.selected.unwrap();
                    let next = index.saturating_add_signed(by);
                    state.selected = Some((next, state.row(next).unwrap().id));
                }
                ConversationStep::Stay => {}
            }
            state.selected.unwrap()
        };
        // The lines are the others, newest first; the earlier count leaves the row's own out.
        assert_eq!(
            state
                .opened
                .as_ref()
                .unwrap()
                .messages
                .iter()
                .map(|m| m.id)
                .collect::<Vec<_>>(),
            [50, 51]
        );
        assert_eq!(state.opened.as_ref().unwrap().more, 0);
        state.selected = Some((1, 1));
        assert_eq!(step(&mut state, 1), (2, 2));
        assert_eq!(step(&mut state, 1), (2, 50));
        assert_eq!(step(&mut state, 1), (2, 51));
        assert_eq!(step(&mut state, 1), (3, 3));
        assert_eq!(step(&mut state, -1), (2, 51));
        assert_eq!(step(&mut state, -1), (2, 50));
        assert_eq!(step(&mut state, -1), (2, 2));
        assert_eq!(step(&mut state, -1), (1, 1));
        // Closed: ordinary steps.
        let _ = toggle(&mut state, 2, &store);
        state.selected = Some((3, 3));
        assert!(matches!(
            state.conversation_step(-1),
            ConversationStep::Ordinary
        ));
        // The last row's conversation: Down past its last line stays there.
        let _ = toggle(&mut state, 9, &store);
        loaded(&mut state, 109, vec![row(9, 109), row(60, 109)], 2);
        state.selected = Some((9, 60));
        assert!(matches!(state.conversation_step(1), ConversationStep::Stay));
    }

    #[test]
    fn a_conversation_that_left_the_loaded_rows_closes() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::store::Store::open_dir(dir.path()).unwrap();
        let mut state = state();
        let _ = toggle(&mut state, 2, &store);
        state.window.rows[2] = row(2, 555);
        state.follow_conversation();
        assert!(state.opened.is_none());
    }

    #[test]
    fn a_click_on_a_rows_star_flips_it_and_keeps_the_selection() {
        use crate::store::flag::FLAGGED;
        let mut state = state();
        state.selected = Some((1, 1));
        match crate::ui::mailbox::star(&mut state, 3) {
            crate::ui::mailbox::Action::Star {
                message: 3,
                set: true,
            } => {}
            other => panic!("{other:?}"),
        }
        assert_ne!(state.row(3).unwrap().flags & FLAGGED, 0);
        assert_eq!(state.selected, Some((1, 1)));
        match crate::ui::mailbox::star(&mut state, 3) {
            crate::ui::mailbox::Action::Star {
                message: 3,
                set: false,
            } => {}
            other => panic!("{other:?}"),
        }
        assert_eq!(state.row(3).unwrap().flags & FLAGGED, 0);
        assert!(matches!(
            crate::ui::mailbox::star(&mut state, 99),
            crate::ui::mailbox::Action::None
        ));
    }

    #[test]
    fn a_reply_that_lands_before_the_rows_do_is_not_shown_twice() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::store::Store::open_dir(dir.path()).unwrap();
        let mut state = state();
        let _ = toggle(&mut state, 2, &store);
        // The lines are read again after a reply (60) arrived, while the row still shows 2.
        loaded(
            &mut state,
            102,
            vec![row(60, 102), row(2, 102), row(50, 102)],
            4,
        );
        let ids = |state: &State| {
            let opened = state.opened.as_ref().unwrap();
            (
                opened.messages.iter().map(|m| m.id).collect::<Vec<_>>(),
                opened.more,
            )
        };
        assert_eq!(ids(&state), (vec![60, 50], 1));
        // Then the page: the row is the reply now, and the lines follow.
        state.window.rows[2] = row(60, 102);
        state.follow_conversation();
        assert_eq!(ids(&state), (vec![2, 50], 1));
        // A flag set on a line stays when the lines are derived again.
        state.patch_flags(50, 0);
        state.follow_conversation();
        assert_eq!(state.flags_of(50), Some(0));
    }
}
