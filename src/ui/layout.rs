//! The main window's panes (folders, list, reader) and their split ratios, as saved in prefs.

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
