//! Colours, fonts and styles of the app, in one place; views contain no colour literals. Light
//! and dark follow the system setting (`iced::system::theme`) unless the user chooses.

use iced::widget::{button, text};
use iced::{Background, Border, Color, Font, Theme};

/// Light, dark, or the system's choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum Choice {
    #[default]
    System,
    Light,
    Dark,
}

impl Choice {
    pub fn label(self) -> &'static str {
        match self {
            Choice::System => "Theme: system",
            Choice::Light => "Theme: light",
            Choice::Dark => "Theme: dark",
        }
    }
}

/// The theme for `choice` when the system is in `mode`.
pub fn theme(choice: Choice, mode: iced::theme::Mode) -> Theme {
    match (choice, mode) {
        (Choice::Dark, _) | (Choice::System, iced::theme::Mode::Dark) => Theme::Dark,
        _ => Theme::Light,
    }
}

pub fn bold() -> Font {
    Font {
        weight: iced::font::Weight::Bold,
        ..Font::default()
    }
}

pub fn italic() -> Font {
    Font {
        style: iced::font::Style::Italic,
        ..Font::default()
    }
}

/// The colour of links in message text.
pub fn link(theme: &Theme) -> Color {
    theme.extended_palette().primary.base.color
}

/// The ring around the control that has the keyboard focus (`ui::focus`).
pub fn focus_ring(theme: &Theme) -> Border {
    Border {
        color: theme.extended_palette().primary.strong.color,
        width: 2.0,
        radius: 5.0.into(),
    }
}

/// A warning banner (blocked remote content, a program about to be opened).
pub fn banner(theme: &Theme) -> iced::widget::container::Style {
    let palette = theme.extended_palette();
    iced::widget::container::Style {
        background: Some(Background::Color(palette.warning.weak.color)),
        text_color: Some(palette.warning.weak.text),
        border: Border {
            radius: 4.0.into(),
            ..Border::default()
        },
        ..iced::widget::container::Style::default()
    }
}

pub fn muted(theme: &Theme) -> text::Style {
    text::Style {
        color: Some(theme.extended_palette().background.strong.color),
    }
}

pub fn danger(theme: &Theme) -> text::Style {
    text::Style {
        color: Some(theme.extended_palette().danger.base.color),
    }
}

pub fn success(theme: &Theme) -> text::Style {
    text::Style {
        color: Some(theme.extended_palette().success.base.color),
    }
}

/// A message list row: flat, highlighted when selected.
pub fn list_row(theme: &Theme, selected: bool) -> iced::widget::container::Style {
    let palette = theme.extended_palette();
    if selected {
        iced::widget::container::Style {
            background: Some(Background::Color(palette.primary.weak.color)),
            text_color: Some(palette.primary.weak.text),
            ..iced::widget::container::Style::default()
        }
    } else {
        iced::widget::container::Style::default()
    }
}

/// A list row: flat, highlighted when selected or hovered.
pub fn row_button(theme: &Theme, status: button::Status, selected: bool) -> button::Style {
    let palette = theme.extended_palette();
    let background = if selected {
        Some(Background::Color(palette.primary.weak.color))
    } else if matches!(status, button::Status::Hovered) {
        Some(Background::Color(palette.background.weak.color))
    } else {
        None
    };
    button::Style {
        background,
        text_color: if selected {
            palette.primary.weak.text
        } else {
            palette.background.base.text
        },
        border: Border::default(),
        ..button::Style::default()
    }
}

/// A folder in the tree: like a row, with rounded corners.
pub fn folder_button(theme: &Theme, status: button::Status, selected: bool) -> button::Style {
    button::Style {
        border: Border {
            radius: 4.0.into(),
            ..Border::default()
        },
        ..row_button(theme, status, selected)
    }
}

/// The status bar's background.
pub fn status_bar(theme: &Theme) -> iced::widget::container::Style {
    iced::widget::container::Style {
        background: Some(Background::Color(
            theme.extended_palette().background.weak.color,
        )),
        ..iced::widget::container::Style::default()
    }
}

/// A popup menu: raised background with a border.
pub fn menu(theme: &Theme) -> iced::widget::container::Style {
    let palette = theme.extended_palette();
    iced::widget::container::Style {
        background: Some(Background::Color(palette.background.weak.color)),
        border: Border {
            color: palette.background.strong.color,
            width: 1.0,
            radius: 4.0.into(),
        },
        ..iced::widget::container::Style::default()
    }
}

/// The pane grid: a thin separator line that highlights while it is hovered or dragged.
pub fn panes(theme: &Theme) -> iced::widget::pane_grid::Style {
    let palette = theme.extended_palette();
    iced::widget::pane_grid::Style {
        hovered_region: iced::widget::pane_grid::Highlight {
            background: Background::Color(palette.primary.weak.color),
            border: Border::default(),
        },
        picked_split: iced::widget::pane_grid::Line {
            color: palette.primary.strong.color,
            width: 3.0,
        },
        hovered_split: iced::widget::pane_grid::Line {
            color: palette.primary.base.color,
            width: 3.0,
        },
    }
}

/// A folder's icon by its special-use role (glyphs every desktop font has).
pub fn folder_icon(role: Option<crate::mail::folder::FolderRole>) -> &'static str {
    use crate::mail::folder::FolderRole as R;
    match role {
        Some(R::Inbox) => "✉",
        Some(R::Sent) => "➤",
        Some(R::Drafts) => "✎",
        Some(R::Trash) => "✖",
        Some(R::Junk) => "⚠",
        Some(R::Archive) => "▤",
        None => "▫",
    }
}

/// A pane's background (the separators between panes are the gaps, drawn in `separator`).
pub fn pane(theme: &Theme) -> iced::widget::container::Style {
    iced::widget::container::Style {
        background: Some(Background::Color(
            theme.extended_palette().background.base.color,
        )),
        ..iced::widget::container::Style::default()
    }
}

/// Behind the panes: shows through the 1-pixel gaps as separator lines.
pub fn pane_gaps(theme: &Theme) -> iced::widget::container::Style {
    iced::widget::container::Style {
        background: Some(Background::Color(separator(theme))),
        ..iced::widget::container::Style::default()
    }
}

/// A pane separator colour.
pub fn separator(theme: &Theme) -> Color {
    theme.extended_palette().background.strong.color
}

/// "14:05" today, "Mon 14:05" this week, else "2026-11-03".
pub fn short_date(seconds: i64) -> String {
    use chrono::{Local, TimeZone as _};
    let Some(when) = Local.timestamp_opt(seconds, 0).single() else {
        return String::new();
    };
    let now = Local::now();
    let age = now.signed_duration_since(when);
    if when.date_naive() == now.date_naive() {
        when.format("%H:%M").to_string()
    } else if age.num_days() < 6 && age.num_seconds() >= 0 {
        when.format("%a %H:%M").to_string()
    } else {
        when.format("%Y-%m-%d").to_string()
    }
}

/// "Sun, 22 Nov 2026 10:00".
pub fn long_date(seconds: i64) -> String {
    use chrono::{Local, TimeZone as _};
    Local
        .timestamp_opt(seconds, 0)
        .single()
        .map(|d| d.format("%a, %-d %b %Y %H:%M").to_string())
        .unwrap_or_default()
}

/// "12 kB", "3.4 MB".
pub fn short_size(bytes: i64) -> String {
    let bytes = bytes.max(0) as f64;
    if bytes >= 1_000_000.0 {
        format!("{:.1} MB", bytes / 1_000_000.0)
    } else {
        format!("{:.0} kB", (bytes / 1_000.0).max(1.0))
    }
}

/// "1,234,567".
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn numbers_read_well() {
        assert_eq!(super::thousands(1_234_567), "1,234,567");
        assert_eq!(super::thousands(12), "12");
        assert_eq!(super::short_size(2_500_000), "2.5 MB");
        assert_eq!(super::short_size(10), "1 kB");
    }
}
