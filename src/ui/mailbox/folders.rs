//! A folder menu's commands (new subfolder, rename, delete, mark all read): turned into the
//! engine's folder actions for the window to run.

use iced::Task;

use super::{Action, FolderCommand, Message, State};

/// Runs a folder menu command on the folder whose menu is open.
pub(super) fn folder_command(state: &mut State, command: FolderCommand) -> (Task<Message>, Action) {
    use crate::engine::imap::FolderAction as F;
    let folder = state
        .menu
        .and_then(|id| {
            state
                .tree
                .iter()
                .flat_map(|t| &t.folders)
                .find(|f| f.id == id)
        })
        .cloned();
    let menu = state.menu.take();
    let confirmed = state.confirm_delete.take().is_some();
    let name = std::mem::take(&mut state.menu_name);
    let name = name.trim();
    let Some(folder) = folder else {
        return (Task::none(), Action::None);
    };
    if command == FolderCommand::Delete
        && !confirmed
        && let Some(warning) = crate::engine::imap::delete_warning(&folder)
    {
        state.menu = menu;
        state.confirm_delete = Some(warning);
        return (Task::none(), Action::None);
    }
    let delimiter = folder.delimiter.clone().unwrap_or_else(|| "/".into());
    let action = match command {
        FolderCommand::Close => return (Task::none(), Action::None),
        FolderCommand::MarkAllRead => return (Task::none(), Action::MarkAllRead(folder.id)),
        FolderCommand::Delete | FolderCommand::ConfirmDelete => F::Delete(folder.path.clone()),
        FolderCommand::NewSubfolder | FolderCommand::Rename if name.is_empty() => {
            return (
                Task::none(),
                Action::Error("Type the new folder's name first.".into()),
            );
        }
        FolderCommand::NewSubfolder => F::Create(format!("{}{delimiter}{name}", folder.path)),
        FolderCommand::Rename => {
            let renamed = match folder.path.rsplit_once(delimiter.as_str()) {
                Some((parent, _)) => format!("{parent}{delimiter}{name}"),
                None => name.to_owned(),
            };
            F::Rename(folder.path.clone(), renamed)
        }
    };
    (
        Task::none(),
        Action::Manage {
            account: folder.account_id,
            action,
        },
    )
}
