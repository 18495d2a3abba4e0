//! The main window's panes (folders, list, reader) and their split ratios, as saved in prefs,
//! and the window's own settings (size, icon, application id).

use iced::widget::pane_grid;

use super::prefs;

/// The panes of the main window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    Folders,
    List,
    Reader,
}

/// The pane layout with the saved split ratios.
pub(super) fn panes(prefs: &prefs::Prefs) -> pane_grid::State<Pane> {
    use pane_grid::{Axis, Configuration};
    pane_grid::State::with_configuration(Configuration::Split {
        axis: Axis::Vertical,
        ratio: prefs.folder_ratio,
        a: Box::new(Configuration::Pane(Pane::Folders)),
        b: Box::new(Configuration::Split {
            axis: Axis::Vertical,
            ratio: prefs.list_ratio,
            a: Box::new(Configuration::Pane(Pane::List)),
            b: Box::new(Configuration::Pane(Pane::Reader)),
        }),
    })
}

/// The split ratios now (folder pane, then list), read back from the layout.
pub(super) fn ratios(panes: &pane_grid::State<Pane>) -> Option<(f32, f32)> {
    match panes.layout() {
        pane_grid::Node::Split { ratio, b, .. } => match b.as_ref() {
            pane_grid::Node::Split { ratio: inner, .. } => Some((*ratio, *inner)),
            pane_grid::Node::Pane(_) => None,
        },
        pane_grid::Node::Pane(_) => None,
    }
}

/// The main window: its last size, the app icon, and on Linux the id that matches the desktop
/// file (`tern.desktop`), so docks group the window under Tern's launcher.
pub(super) fn window_settings(size: (f32, f32)) -> iced::window::Settings {
    iced::window::Settings {
        size: iced::Size::new(size.0, size.1),
        icon: iced::window::icon::from_file_data(
            include_bytes!("../../assets/app/tern-256.png"),
            None,
        )
        .ok(),
        #[cfg(target_os = "linux")]
        platform_specific: iced::window::settings::PlatformSpecific {
            application_id: "tern".into(),
            ..Default::default()
        },
        ..iced::window::Settings::default()
    }
}
