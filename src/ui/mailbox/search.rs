//! The list's search: results as you type (local, FTS5), the scope (this folder or all mail),
//! and "Search on server" for the open IMAP folder.

use iced::Task;

use super::{Action, Message, State};
use crate::store::Store;
use crate::ui::{data, theme};

/// The search messages of `super::update`.
pub(super) fn update(
    state: &mut State,
    message: Message,
    store: &Store,
) -> (Task<Message>, Action) {
    match message {
        Message::SearchChanged(query) => {
            state.search = query.clone();
            if query.trim().is_empty() {
                state.results = None;
                return (state.ensure_loaded(store), Action::None);
            }
            // Results as you type; an older answer is dropped when it arrives (see SearchDone).
            state.server_note = None;
            let folder = state.search_scope();
            (
                Task::perform(
                    data::search(store.clone(), query.clone(), folder),
                    move |r| Message::SearchDone(query.clone(), r),
                ),
                Action::None,
            )
        }
        Message::SearchScope(folder) => {
            state.search_folder = folder;
            let query = state.search.clone();
            update(state, Message::SearchChanged(query), store)
        }
        Message::SearchServer => {
            let Some((folder_id, path)) = state.server_searchable().map(|f| (f.id, f.path.clone()))
            else {
                return (Task::none(), Action::None);
            };
            let query = state.search.trim().to_owned();
            if query.is_empty() {
                return (Task::none(), Action::None);
            }
            state.server_note = Some(format!("Searching {path} on the server…"));
            let local = state.results.clone().unwrap_or_default();
            let asked = state.search.clone();
            (
                Task::perform(
                    data::server_search(store.clone(), folder_id, query, local),
                    move |r| Message::ServerDone(asked.clone(), r),
                ),
                Action::None,
            )
        }
        Message::ServerDone(query, result) => {
            if query != state.search {
                return (Task::none(), Action::None);
            }
            match result {
                Ok(rows) => {
                    let before = state.results.as_ref().map_or(0, Vec::len);
                    state.server_note = Some(format!(
                        "The server found {} more",
                        theme::thousands(rows.len().saturating_sub(before))
                    ));
                    state.results = Some(rows);
                    state.selected = None;
                    (Task::none(), Action::None)
                }
                Err(e) => {
                    state.server_note = Some(e);
                    (Task::none(), Action::None)
                }
            }
        }
        Message::SearchDone(query, result) => {
            if query != state.search {
                return (Task::none(), Action::None);
            }
            match result {
                Ok(rows) => {
                    state.results = Some(rows);
                    state.selected = None;
                    (Task::none(), Action::None)
                }
                Err(e) => (Task::none(), Action::Error(e)),
            }
        }
        _ => (Task::none(), Action::None),
    }
}
