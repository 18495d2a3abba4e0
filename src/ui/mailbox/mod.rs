//! The mailbox screen's two left panes: the folder tree (per account, collapsible, unread counts)
//! and the message list.
//!
//! The list is virtual: the scrollable holds a spacer for the rows above, only the rows in view
//! (plus `MARGIN` on each side) and a spacer for the rows below, so a folder of 1,000,000
//! messages costs the same as one of 100. Rows come from `store` pages by offset, loaded off the
//! UI thread as the viewport moves; nothing holds the whole folder.

pub mod columns;
mod conversation;
mod folders;
mod search;
mod view;

use columns::{Column, ColumnDrag, Columns};
pub use conversation::ConversationStep;
use conversation::Opened;
use folders::folder_command;
use std::collections::{BTreeSet, HashSet};
pub use view::{folder_pane, message_list};

use iced::Task;
use iced::widget::scrollable;
use iced::widget::scrollable::Viewport;

use super::data::{self, AccountTree};

use crate::store::{Folder, MessageRow, SortOrder, Store};

/// Height of one table row, in logical pixels (fixed, so offsets map to row numbers).
pub const ROW_HEIGHT: f32 = 30.0;
/// Height of one card (three lines and the gap below it).
pub const CARD_HEIGHT: f32 = 78.0;

/// How the list shows messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum Layout {
    /// One line a message, in columns.
    Table,
    /// Three lines a message: sender and date, subject, preview.
    #[default]
    Cards,
}
/// Rows loaded above and below the viewport.
pub const MARGIN: usize = 30;

/// A loaded slice of the folder: rows `start..start + rows.len()`.
#[derive(Debug, Clone, Default)]
pub struct Window {
    pub start: usize,
    pub rows: Vec<MessageRow>,
    /// In the threaded view, how many messages each row's conversation has (else empty).
    pub counts: Vec<i64>,
}

#[derive(Debug, Default)]
pub struct State {
    pub tree: Vec<AccountTree>,
    /// The tree was read at least once (until then an empty tree means "not known yet").
    pub loaded: bool,
    collapsed: HashSet<i64>,
    /// Folders whose subfolders are hidden.
    collapsed_folders: HashSet<i64>,
    pub folder: Option<Folder>,
    pub order: SortOrder,
    pub total: usize,
    offset_y: f32,
    viewport_height: f32,
    pub window: Window,
    /// The page being loaded (start, limit), so scrolling does not queue duplicates.
    loading: Option<(usize, usize)>,
    /// The store changed since the window was loaded: reload it, but keep showing it meanwhile.
    stale: bool,
    /// The selected row's index in the folder (or in the search results) and message id.
    pub selected: Option<(usize, i64)>,
    pub search: String,
    /// Search results replace the folder list while a search is active.
    pub results: Option<Vec<MessageRow>>,
    /// Search only the open folder (else all mail of every account).
    pub search_folder: bool,
    /// What the last "Search on server" did ("Searching the server…", "12 found on the server").
    pub server_note: Option<String>,
    /// The folder whose menu (right click) is open, and the name typed in it.
    menu: Option<i64>,
    menu_name: String,
    /// The warning shown before the folder whose menu is open is deleted (it holds mail, or is
    /// a special folder); the menu then asks for confirmation.
    pub(super) confirm_delete: Option<String>,
    /// The folder to open first (the one selected when the window last closed).
    pub preferred_folder: Option<i64>,
    /// Messages marked with Ctrl/Shift+click (by id, so new mail arriving above does not shift
    /// them); the actions apply to all of them.
    pub marked: BTreeSet<i64>,
    /// Where a Shift+click range starts.
    anchor: Option<usize>,
    /// The keyboard modifiers held now (Ctrl/Shift+click).
    pub modifiers: iced::keyboard::Modifiers,
    /// Messages in the outbox (the Outbox entry shows when there are any, or when it is open).
    pub outbox_count: usize,
    pub outbox_open: bool,
    /// The list shows conversations (one row each, newest activity first).
    pub threaded: bool,
    /// Table or cards.
    pub layout: Layout,
    /// The conversations of the open folder are being counted (threaded view): until then its
    /// total is not known, and an empty list is not an empty folder.
    counting: bool,
    /// Messages being dragged (from a press on a row until the button is released), and the
    /// folder under the pointer.
    pub drag: Option<Vec<i64>>,
    drop_target: Option<i64>,
    /// The drag that just ended: the release reaches the folder (a widget message) and the
    /// window (a subscription message) in no fixed order, so a drop shortly after the release
    /// still counts.
    released: Option<(Vec<i64>, std::time::Instant)>,
    /// The conversation opened in place under its row (threaded view).
    opened: Option<Opened>,
    /// The table's columns, a drag in its header, and a heading just released (see
    /// `columns::released`).
    pub columns: Columns,
    pub column_drag: Option<ColumnDrag>,
    heading_released: Option<(Column, std::time::Instant)>,
}

#[derive(Debug, Clone)]
pub enum Message {
    TreeLoaded(Result<Vec<AccountTree>, String>),
    ToggleAccount(i64),
    /// Show or hide a folder's subfolders.
    ToggleFolder(i64),
    SelectFolder(i64),
    FolderRefreshed(Result<Folder, String>),
    Scrolled(Viewport),
    PageLoaded {
        folder: i64,
        order: SortOrder,
        threaded: bool,
        start: usize,
        result: Result<(Vec<MessageRow>, Vec<i64>), String>,
    },
    /// Show conversations (one row each) or every message.
    ToggleThreads,
    /// Show the list as a table or as cards.
    SetLayout(Layout),
    ThreadCount(i64, Result<usize, String>),
    /// Open (or close) the conversation of this row in place.
    ToggleConversation(usize),
    ConversationLoaded {
        thread: i64,
        result: Result<(Vec<MessageRow>, usize), String>,
    },
    /// A message of the open conversation was clicked: show it.
    SelectInConversation(i64),
    /// The star of this message was clicked: star or unstar it (the selection stays).
    Star(i64),
    /// Right (true) or Left: open or close the selected row's conversation.
    ConversationKey(bool),
    /// The table header: sort, resize, reorder.
    Header(columns::HeaderMessage),
    Select(usize),
    /// The mouse button went down on a row: select it (or keep a multi-selection it is part
    /// of) and start a possible drag.
    RowPressed(usize),
    DragOver(Option<i64>),
    DropOn(i64),
    DragCancel,
    Sort(SortOrder),
    SearchChanged(String),
    SearchDone(String, Result<Vec<MessageRow>, String>),
    /// Search only the open folder (true) or all mail (false).
    SearchScope(bool),
    SearchServer,
    ServerDone(String, Result<Vec<MessageRow>, String>),
    FolderMenu(i64),
    MenuName(String),
    OpenOutbox,
    FolderCommand(FolderCommand),
}

/// What a folder's menu asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FolderCommand {
    NewSubfolder,
    Rename,
    Delete,
    /// Delete after the warning was shown.
    ConfirmDelete,
    MarkAllRead,
    Close,
}

/// What the rest of the window should do after an update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    None,
    /// Show this message in the reader.
    Open(i64),
    /// Show this error in the status bar.
    Error(String),
    /// Change the folder tree on the server.
    Manage {
        account: i64,
        action: crate::engine::imap::FolderAction,
    },
    /// Mark every message of this folder read.
    MarkAllRead(i64),
    /// Show the outbox in the list pane.
    OpenOutbox,
    /// Move these messages to this folder (dragged onto it).
    Move {
        messages: Vec<i64>,
        folder: i64,
    },
    /// Star (true) or unstar this message, already shown so in the list.
    Star {
        message: i64,
        set: bool,
    },
}

/// Flips the star of `message` in the list and says what to tell the store.
fn star(state: &mut State, message: i64) -> Action {
    let Some(flags) = state.flags_of(message) else {
        return Action::None;
    };
    let set = flags & crate::store::flag::FLAGGED == 0;
    let flags = if set {
        flags | crate::store::flag::FLAGGED
    } else {
        flags & !crate::store::flag::FLAGGED
    };
    state.patch_flags(message, flags);
    Action::Star { message, set }
}

impl State {
    /// The state before the tree is loaded; `folder` is opened first if it still exists, and
    /// the list shows conversations when `threaded`.
    pub fn opening(folder: Option<i64>, threaded: bool, layout: Layout, columns: Columns) -> State {
        State {
            preferred_folder: folder,
            threaded,
            layout,
            columns: columns.checked(),
            ..State::default()
        }
    }

    /// Closes the open folder menu, if any (Escape).
    pub fn close_menu(&mut self) {
        self.menu = None;
        self.confirm_delete = None;
    }

    /// The height of one row in the current layout.
    pub fn row_height(&self) -> f32 {
        match self.layout {
            Layout::Table => ROW_HEIGHT,
            Layout::Cards => CARD_HEIGHT,
        }
    }

    /// A list showing `window` of a folder of `total` messages (benchmarks and tests).
    pub fn for_bench(folder: Folder, total: usize, window: Window) -> State {
        State {
            folder: Some(folder),
            total,
            viewport_height: 800.0,
            offset_y: window.start as f32 * CARD_HEIGHT,
            window,
            ..State::default()
        }
    }

    /// The Unified Inbox, shown when there is more than one account.
    pub fn unified(&self) -> Option<Folder> {
        let inboxes: Vec<&Folder> = self
            .tree
            .iter()
            .flat_map(|t| &t.folders)
            .filter(|f| f.role == Some(crate::mail::folder::FolderRole::Inbox))
            .collect();
        (self.tree.len() > 1).then(|| data::unified(&inboxes))
    }

    /// The folder a search is limited to (None: all mail).
    fn search_scope(&self) -> Option<i64> {
        self.folder
            .as_ref()
            .filter(|f| self.search_folder && f.id != data::UNIFIED)
            .map(|f| f.id)
    }

    /// The open folder, when it is on an IMAP server (so "Search on server" applies).
    fn server_searchable(&self) -> Option<&Folder> {
        let folder = self.folder.as_ref().filter(|f| f.id != data::UNIFIED)?;
        self.tree
            .iter()
            .find(|t| t.account.id == folder.account_id)
            .filter(|t| t.account.settings.protocol == crate::account::Protocol::Imap)
            .map(|_| folder)
    }

    /// The messages an action applies to: the marked ones, else the selected one.
    pub fn targets(&self) -> Vec<i64> {
        if self.marked.is_empty() {
            self.selected.map(|(_, id)| vec![id]).unwrap_or_default()
        } else {
            self.marked.iter().copied().collect()
        }
    }

    /// The rows shown in the list now: search results, or the loaded window of the folder.
    fn visible(&self) -> (usize, &[MessageRow]) {
        match &self.results {
            Some(results) => (0, results.as_slice()),
            None => (self.window.start, self.window.rows.as_slice()),
        }
    }

    /// The row at `index` if loaded.
    pub fn row(&self, index: usize) -> Option<&MessageRow> {
        let (start, rows) = self.visible();
        index.checked_sub(start).and_then(|i| rows.get(i))
    }

    /// How many rows the list has.
    pub fn len(&self) -> usize {
        match &self.results {
            Some(results) => results.len(),
            None => self.total,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Replaces a row's cached copy (after a flag change) so the list shows it at once.
    pub fn patch_flags(&mut self, message: i64, flags: i64) {
        let rows = self
            .window
            .rows
            .iter_mut()
            .chain(self.results.iter_mut().flatten());
        for row in rows.filter(|r| r.id == message) {
            row.flags = flags;
        }
        if let Some(opened) = &mut self.opened {
            opened.patch_flags(message, flags);
        }
    }

    /// The flags of `message` as the list shows them (a row, a search result or a line of the
    /// open conversation), if it is loaded.
    pub fn flags_of(&self, message: i64) -> Option<i64> {
        self.window
            .rows
            .iter()
            .chain(self.results.iter().flatten())
            .chain(self.opened.iter().flat_map(|o| o.messages.iter()))
            .find(|r| r.id == message)
            .map(|r| r.flags)
    }

    /// Loads the page around the viewport if it is not loaded (or loading) yet.
    pub fn ensure_loaded(&mut self, store: &Store) -> Task<Message> {
        let Some(folder) = &self.folder else {
            return Task::none();
        };
        if self.results.is_some() || self.total == 0 {
            return Task::none();
        }
        let first = self.index_at(self.offset_y);
        let in_view = (self.viewport_height / self.row_height()).ceil() as usize + 1;
        let start = first.saturating_sub(MARGIN);
        let end = (first + in_view + MARGIN).min(self.total);
        let have_start = self.window.start;
        let have_end = self.window.start + self.window.rows.len();
        let covered =
            !self.stale && start >= have_start && end <= have_end && !self.window.rows.is_empty();
        let asked = self
            .loading
            .is_some_and(|(s, l)| start >= s && end <= s + l);
        if covered || asked {
            return Task::none();
        }
        // Ask a little more than needed so small scrolls stay covered.
        let start = first.saturating_sub(2 * MARGIN);
        let limit = in_view + 4 * MARGIN;
        self.loading = Some((start, limit));
        let (id, order) = (folder.id, self.order);
        let threaded = self.threads_on();
        if threaded {
            return Task::perform(
                data::thread_page(store.clone(), id, start, limit),
                move |result| Message::PageLoaded {
                    folder: id,
                    order,
                    threaded,
                    start,
                    result,
                },
            );
        }
        let done = move |result: Result<Vec<MessageRow>, String>| Message::PageLoaded {
            folder: id,
            order,
            threaded,
            start,
            result: result.map(|rows| (rows, Vec::new())),
        };
        // Scrolling on from loaded rows continues after the row above `start` (keyset); a jump
        // (or a stale window) reads by offset.
        let above = start
            .checked_sub(1)
            .and_then(|i| i.checked_sub(have_start))
            .and_then(|i| self.window.rows.get(i))
            .filter(|_| !self.stale && id != data::UNIFIED);
        match above {
            Some(row) => Task::perform(
                data::page_after(
                    store.clone(),
                    id,
                    order,
                    crate::store::PageCursor::after(row, order),
                    limit,
                ),
                done,
            ),
            None => Task::perform(data::page(store.clone(), id, order, start, limit), done),
        }
    }

    /// Whether the list shows conversations now (not for the Unified Inbox).
    pub fn threads_on(&self) -> bool {
        self.threaded && self.folder.as_ref().is_some_and(|f| f.id != data::UNIFIED)
    }

    /// Reads the number of conversations (threaded view), then the rows.
    fn count_threads(&mut self, store: &Store) -> Task<Message> {
        match &self.folder {
            Some(folder) if self.threads_on() => {
                self.counting = true;
                let id = folder.id;
                Task::perform(data::thread_count(store.clone(), id), move |r| {
                    Message::ThreadCount(id, r)
                })
            }
            _ => Task::none(),
        }
    }

    /// Re-reads the tree and the open folder (after an engine says something changed).
    pub fn refresh(&mut self, store: &Store) -> Task<Message> {
        let mut tasks = vec![
            Task::perform(data::tree(store.clone()), Message::TreeLoaded),
            self.reload_conversation(store),
        ];
        if let Some(folder) = &self.folder {
            self.stale = true;
            self.loading = None;
            tasks.push(Task::perform(
                data::folder(store.clone(), folder.id),
                Message::FolderRefreshed,
            ));
        }
        Task::batch(tasks)
    }
}

pub fn update(state: &mut State, message: Message, store: &Store) -> (Task<Message>, Action) {
    match message {
        Message::TreeLoaded(Ok(tree)) => {
            state.tree = tree;
            state.loaded = true;
            // The open folder may have gone (account removed, folder deleted).
            let unified = state.unified();
            if let Some(open) = &state.folder
                && !state
                    .tree
                    .iter()
                    .flat_map(|t| &t.folders)
                    .chain(&unified)
                    .any(|f| f.id == open.id)
            {
                state.folder = None;
                state.window = Window::default();
                state.total = 0;
                state.selected = None;
            }
            if state.folder.is_none() {
                let folders = || state.tree.iter().flat_map(|t| &t.folders);
                let first = state
                    .preferred_folder
                    .and_then(|id| folders().find(|f| f.id == id))
                    .or_else(|| folders().find(|f| f.path == "INBOX"))
                    .map(|f| f.id);
                if let Some(id) = first {
                    return update(state, Message::SelectFolder(id), store);
                }
            }
            (Task::none(), Action::None)
        }
        Message::TreeLoaded(Err(e)) => (Task::none(), Action::Error(e)),
        Message::ToggleFolder(id) => {
            if !state.collapsed_folders.remove(&id) {
                state.collapsed_folders.insert(id);
            }
            (Task::none(), Action::None)
        }
        Message::ToggleAccount(id) => {
            if !state.collapsed.remove(&id) {
                state.collapsed.insert(id);
            }
            (Task::none(), Action::None)
        }
        Message::SelectFolder(id) => {
            let folder = if id == data::UNIFIED {
                state.unified()
            } else {
                state
                    .tree
                    .iter()
                    .flat_map(|t| &t.folders)
                    .find(|f| f.id == id)
                    .cloned()
            };
            state.folder = folder;
            state.opened = None;
            state.total = state
                .folder
                .as_ref()
                .map_or(0, |f| usize::try_from(f.total).unwrap_or(0));
            state.window = Window::default();
            state.loading = None;
            state.selected = None;
            state.marked.clear();
            state.anchor = None;
            state.results = None;
            state.search.clear();
            state.offset_y = 0.0;
            let rows = if state.threads_on() {
                state.total = 0;
                state.count_threads(store)
            } else {
                state.ensure_loaded(store)
            };
            (
                Task::batch([
                    iced::widget::operation::scroll_to(
                        list_id(),
                        scrollable::AbsoluteOffset { x: 0.0, y: 0.0 },
                    ),
                    rows,
                ]),
                Action::None,
            )
        }
        Message::ToggleThreads => {
            state.threaded = !state.threaded;
            match state.folder.as_ref().map(|f| f.id) {
                Some(id) => update(state, Message::SelectFolder(id), store),
                None => (Task::none(), Action::None),
            }
        }
        Message::SetLayout(layout) => {
            if state.layout == layout {
                return (Task::none(), Action::None);
            }
            // Keep the first row in view at the top.
            let first = state.index_at(state.offset_y);
            state.layout = layout;
            state.offset_y = state.top_of(first);
            let scroll = iced::widget::operation::scroll_to(
                list_id(),
                scrollable::AbsoluteOffset {
                    x: 0.0,
                    y: state.offset_y,
                },
            );
            (
                Task::batch([scroll, state.ensure_loaded(store)]),
                Action::None,
            )
        }
        Message::ThreadCount(folder, result) => {
            if state.folder.as_ref().map(|f| f.id) != Some(folder) || !state.threads_on() {
                return (Task::none(), Action::None);
            }
            state.counting = false;
            match result {
                Ok(total) => {
                    state.total = total;
                    (state.ensure_loaded(store), Action::None)
                }
                Err(e) => (Task::none(), Action::Error(e)),
            }
        }
        Message::FolderRefreshed(Ok(folder)) => {
            if state.folder.as_ref().is_some_and(|f| f.id == folder.id) {
                if !state.threads_on() {
                    state.total = usize::try_from(folder.total).unwrap_or(0);
                }
                state.folder = Some(folder);
            }
            if state.threads_on() {
                return (state.count_threads(store), Action::None);
            }
            (state.ensure_loaded(store), Action::None)
        }
        Message::FolderRefreshed(Err(e)) => (Task::none(), Action::Error(e)),
        Message::Scrolled(viewport) => {
            state.offset_y = viewport.absolute_offset().y;
            state.viewport_height = viewport.bounds().height;
            (state.ensure_loaded(store), Action::None)
        }
        Message::PageLoaded {
            folder,
            order,
            threaded,
            start,
            result,
        } => {
            if state.folder.as_ref().map(|f| f.id) != Some(folder)
                || state.order != order
                || state.threads_on() != threaded
            {
                return (Task::none(), Action::None); // an answer for a view no longer shown
            }
            state.loading = None;
            match result {
                Ok((rows, counts)) => {
                    state.stale = false;
                    state.window = Window {
                        start,
                        rows,
                        counts,
                    };
                    state.follow_conversation();
                    (state.ensure_loaded(store), Action::None)
                }
                Err(e) => (Task::none(), Action::Error(e)),
            }
        }
        Message::RowPressed(index) => {
            state.released = None;
            state.heading_released = None;
            let Some(id) = state.row(index).map(|r| r.id) else {
                return (Task::none(), Action::None);
            };
            if state.marked.contains(&id) && state.modifiers.is_empty() {
                // Pressing a row of a multi-selection drags the whole selection.
                state.drag = Some(state.marked.iter().copied().collect());
                return (Task::none(), Action::None);
            }
            let selected = update(state, Message::Select(index), store);
            state.drag = Some(state.targets()).filter(|t| !t.is_empty());
            state.drop_target = None;
            selected
        }
        Message::DragOver(folder) => {
            if state.drag.is_some() {
                state.drop_target = folder;
            }
            (Task::none(), Action::None)
        }
        Message::DropOn(folder) => {
            state.drop_target = None;
            let recent = state
                .released
                .take()
                .filter(|(_, at)| at.elapsed() < std::time::Duration::from_millis(500))
                .map(|(messages, _)| messages);
            match state.drag.take().or(recent) {
                Some(messages) if !messages.is_empty() => {
                    (Task::none(), Action::Move { messages, folder })
                }
                _ => (Task::none(), Action::None),
            }
        }
        Message::Header(message) => match columns::update(state, message) {
            Some(order) => update(state, Message::Sort(order), store),
            None => (Task::none(), Action::None),
        },
        Message::DragCancel => {
            columns::released(state);
            state.released = state
                .drag
                .take()
                .map(|messages| (messages, std::time::Instant::now()));
            state.drop_target = None;
            (Task::none(), Action::None)
        }
        Message::Select(index) => {
            let Some(id) = state.row(index).map(|r| r.id) else {
                return (Task::none(), Action::None);
            };
            if state.modifiers.command() {
                // Ctrl+click: add or remove one message.
                if state.marked.is_empty()
                    && let Some((_, current)) = state.selected
                {
                    state.marked.insert(current);
                }
                if !state.marked.remove(&id) {
                    state.marked.insert(id);
                }
                state.anchor = Some(index);
                return (Task::none(), Action::None);
            }
            if state.modifiers.shift()
                && let Some(anchor) = state.anchor.or(state.selected.map(|(i, _)| i))
            {
                // Shift+click: the range from the anchor (rows loaded around the view).
                let (low, high) = (anchor.min(index), anchor.max(index));
                state.marked = (low..=high)
                    .filter_map(|i| state.row(i).map(|r| r.id))
                    .collect();
                return (Task::none(), Action::None);
            }
            state.marked.clear();
            state.anchor = Some(index);
            state.selected = Some((index, id));
            (scroll_into_view(state, index), Action::Open(id))
        }
        Message::ToggleConversation(index) => {
            (conversation::toggle(state, index, store), Action::None)
        }
        Message::Star(message) => (Task::none(), star(state, message)),
        Message::ConversationKey(open) => (conversation::key(state, open, store), Action::None),
        Message::ConversationLoaded { thread, result } => match result {
            Ok((messages, total)) => {
                conversation::loaded(state, thread, messages, total);
                (Task::none(), Action::None)
            }
            Err(e) => (Task::none(), Action::Error(e)),
        },
        Message::SelectInConversation(id) => {
            let Some(index) = state.opened.as_ref().map(|o| o.index) else {
                return (Task::none(), Action::None);
            };
            state.marked.clear();
            state.anchor = Some(index);
            state.selected = Some((index, id));
            (Task::none(), Action::Open(id))
        }
        Message::Sort(order) => {
            state.order = order;
            state.opened = None;
            state.window = Window::default();
            state.loading = None;
            state.selected = None;
            (state.ensure_loaded(store), Action::None)
        }
        Message::SearchChanged(_)
        | Message::SearchScope(_)
        | Message::SearchServer
        | Message::ServerDone(..)
        | Message::SearchDone(..) => search::update(state, message, store),
        Message::FolderMenu(id) => {
            state.menu = if state.menu == Some(id) {
                None
            } else {
                Some(id)
            };
            state.menu_name.clear();
            state.confirm_delete = None;
            (Task::none(), Action::None)
        }
        Message::MenuName(name) => {
            state.menu_name = name;
            (Task::none(), Action::None)
        }
        Message::OpenOutbox => (Task::none(), Action::OpenOutbox),
        Message::FolderCommand(command) => folder_command(state, command),
    }
}

/// Scrolls the list so row `index` is visible.
fn scroll_into_view(state: &State, index: usize) -> Task<Message> {
    let top = state.top_of(index);
    let bottom = top + state.row_height();
    let y = if top < state.offset_y {
        top
    } else if bottom > state.offset_y + state.viewport_height && state.viewport_height > 0.0 {
        bottom - state.viewport_height
    } else {
        return Task::none();
    };
    iced::widget::operation::scroll_to(list_id(), scrollable::AbsoluteOffset { x: 0.0, y })
}

pub(super) fn list_id() -> iced::widget::Id {
    iced::widget::Id::new("message-list")
}

/// The search box's id (Ctrl+F and / focus it).
pub fn search_id() -> iced::widget::Id {
    iced::widget::Id::new("search")
}
