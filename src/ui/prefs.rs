//! What the window remembers between runs (`ui.json` in the data directory): its size, the
//! pane sizes, the selected folder, the theme, the list's layout, threading and table columns,
//! plain text or HTML, and notifications. Read once before the window opens; written off the UI
//! thread, atomically (write a temporary file, then rename).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::theme::Choice;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Prefs {
    pub width: f32,
    pub height: f32,
    /// The selected folder's id.
    pub folder: Option<i64>,
    pub theme: Choice,
    /// The folder pane's share of the window's width.
    pub folder_ratio: f32,
    /// The message list's share of the width right of the folder pane.
    pub list_ratio: f32,
    /// Show messages as plain text rather than as (sanitised) HTML.
    pub prefer_plain: bool,
    /// Desktop notifications for new mail in the Inbox.
    pub notifications: bool,
    /// The message list shows conversations.
    pub threaded: bool,
    /// The message list as a table or as cards (an unknown value: the default, so the other
    /// choices are kept).
    #[serde(deserialize_with = "lenient")]
    pub list_layout: crate::ui::mailbox::Layout,
    /// The table's columns: order and widths.
    #[serde(deserialize_with = "lenient")]
    pub columns: crate::ui::mailbox::columns::Columns,
}

impl Default for Prefs {
    fn default() -> Prefs {
        Prefs {
            width: 1280.0,
            height: 800.0,
            folder: None,
            theme: Choice::System,
            folder_ratio: 0.18,
            list_ratio: 0.55,
            prefer_plain: false,
            notifications: true,
            threaded: false,
            list_layout: crate::ui::mailbox::Layout::default(),
            columns: crate::ui::mailbox::columns::Columns::default(),
        }
    }
}

/// A value as saved, or its default when it does not read.
fn lenient<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::de::DeserializeOwned + Default,
{
    let value = serde_json::Value::deserialize(deserializer)?;
    Ok(serde_json::from_value(value).unwrap_or_default())
}

fn path(data_dir: &Path) -> PathBuf {
    data_dir.join("ui.json")
}

/// The saved preferences, or the defaults when there are none or they cannot be read.
pub fn load(data_dir: &Path) -> Prefs {
    std::fs::read(path(data_dir))
        .ok()
        .and_then(|bytes| serde_json::from_slice::<Prefs>(&bytes).ok())
        .map(|mut p| {
            // A broken file must not open an unusable window.
            p.width = p.width.clamp(480.0, 10_000.0);
            p.height = p.height.clamp(320.0, 10_000.0);
            p.folder_ratio = p.folder_ratio.clamp(0.05, 0.6);
            p.list_ratio = p.list_ratio.clamp(0.1, 0.9);
            p
        })
        .unwrap_or_default()
}

/// Saves the preferences (in a background thread of the runtime).
pub async fn save(data_dir: PathBuf, prefs: Prefs) -> Result<(), String> {
    tokio::task::spawn_blocking(move || {
        let json = serde_json::to_vec_pretty(&prefs).map_err(|e| e.to_string())?;
        let target = path(&data_dir);
        let temporary = data_dir.join("ui.json.tmp");
        std::fs::write(&temporary, json)
            .and_then(|()| std::fs::rename(&temporary, &target))
            .map_err(|e| {
                format!(
                    "cannot save the window settings in {}: {e}",
                    target.display()
                )
            })
    })
    .await
    .map_err(|e| e.to_string())?
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn round_trip_and_bad_files_give_defaults() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(load(dir.path()), Prefs::default());
        let prefs = Prefs {
            width: 900.0,
            height: 600.0,
            folder: Some(7),
            theme: Choice::Dark,
            folder_ratio: 0.25,
            list_ratio: 0.5,
            prefer_plain: true,
            notifications: false,
            threaded: true,
            list_layout: crate::ui::mailbox::Layout::Table,
            columns: crate::ui::mailbox::columns::Columns {
                order: vec![
                    crate::ui::mailbox::columns::Column::Date,
                    crate::ui::mailbox::columns::Column::Subject,
                    crate::ui::mailbox::columns::Column::From,
                    crate::ui::mailbox::columns::Column::Size,
                ],
                widths: [150.0, 0.0, 80.0, 60.0],
            },
        };
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(save(dir.path().to_owned(), prefs.clone()))
            .unwrap();
        assert_eq!(load(dir.path()), prefs);
        std::fs::write(dir.path().join("ui.json"), b"{\"width\": -5, \"theme\": 1}").unwrap();
        assert_eq!(load(dir.path()), Prefs::default());
        std::fs::write(
            dir.path().join("ui.json"),
            b"{\"width\": 700, \"list_layout\": \"Spiral\"}",
        )
        .unwrap();
        let lenient = load(dir.path());
        assert_eq!(lenient.width, 700.0);
        assert_eq!(lenient.list_layout, crate::ui::mailbox::Layout::default());
        std::fs::write(dir.path().join("ui.json"), b"{\"width\": 1e9}").unwrap();
        assert_eq!(load(dir.path()).width, 10_000.0);
    }
}
