//! Colours, fonts, sizes and styles of the app, in one place; views contain no colour literals
//! and take their sizes from the scales here. Light and dark follow the system setting
//! (`iced::system::theme`) unless the user chooses. The palettes are in `palette`, dates and
//! numbers as people read them in `format`.

mod format;
pub mod palette;

pub use format::{long_date, short_date, short_size, thousands};
pub use palette::Colors;

use std::sync::LazyLock;

use iced::widget::pick_list as picker;
use iced::widget::{button, container, text};
use iced::{Background, Border, Color, Font, Shadow, Theme};

/// Light, dark, or the system's choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum Choice {
    #[default]
    System,
    Light,
    Dark,
}

/// The theme for `choice` when the system is in `mode`.
pub fn theme(choice: Choice, mode: iced::theme::Mode) -> Theme {
    match (choice, mode) {
        (Choice::Dark, _) | (Choice::System, iced::theme::Mode::Dark) => dark(),
        _ => light(),
    }
}

fn from_colors(name: &'static str, c: &Colors) -> Theme {
    Theme::custom(
        name,
        iced::theme::Palette {
            background: c.base,
            text: c.text,
            primary: c.accent,
            success: c.success,
            warning: c.star,
            danger: c.danger,
        },
    )
}

static LIGHT: LazyLock<Theme> = LazyLock::new(|| from_colors("Tern light", &palette::LIGHT));
static DARK: LazyLock<Theme> = LazyLock::new(|| from_colors("Tern dark", &palette::DARK));

/// Tern's light theme.
pub fn light() -> Theme {
    LIGHT.clone()
}

/// Tern's dark theme.
pub fn dark() -> Theme {
    DARK.clone()
}

/// The palette `theme` is drawn with (iced's own light and dark themes map to Tern's).
pub fn colors(theme: &Theme) -> &'static Colors {
    if theme.extended_palette().is_dark {
        &palette::DARK
    } else {
        &palette::LIGHT
    }
}

/// The UI font family, embedded so the window looks the same on every system; scripts it lacks
/// (CJK, Arabic, Hebrew, emoji) fall back to the system's fonts.
pub const FAMILY: &str = "Inter";

/// The embedded font files (Inter, SIL Open Font License 1.1: `assets/fonts/OFL.txt`).
pub const FONTS: [&[u8]; 4] = [
    include_bytes!("../../../assets/fonts/Inter-Regular.otf"),
    include_bytes!("../../../assets/fonts/Inter-SemiBold.otf"),
    include_bytes!("../../../assets/fonts/Inter-Bold.otf"),
    include_bytes!("../../../assets/fonts/Inter-Italic.otf"),
];

/// Puts the embedded fonts into the text system now, for renderers that do not load
/// `iced::Settings::fonts` (the headless test emulator). Loading twice is a no-op.
pub fn load_fonts() {
    static LOADED: std::sync::Once = std::sync::Once::new();
    LOADED.call_once(|| {
        if let Ok(mut system) = iced::advanced::graphics::text::font_system().write() {
            for font in FONTS {
                system.load_font(std::borrow::Cow::Borrowed(font));
            }
        }
    });
}

/// The regular UI font.
pub const UI: Font = Font::with_name(FAMILY);

pub fn bold() -> Font {
    Font {
        weight: iced::font::Weight::Bold,
        ..UI
    }
}

pub fn semibold() -> Font {
    Font {
        weight: iced::font::Weight::Semibold,
        ..UI
    }
}

pub fn italic() -> Font {
    Font {
        style: iced::font::Style::Italic,
        ..UI
    }
}

/// The type scale, in logical pixels.
pub mod size {
    /// Column headers, badges, tooltips, the status bar.
    pub const CAPTION: f32 = 12.0;
    /// Secondary lines: dates, previews, hints.
    pub const SMALL: f32 = 13.0;
    /// Everything else.
    pub const BODY: f32 = 14.0;
    /// A pane's title, the sender's name in the reader.
    pub const TITLE: f32 = 18.0;
    /// The subject in the reader, a screen's heading.
    pub const HEADING: f32 = 22.0;
    /// The welcome screen.
    pub const DISPLAY: f32 = 28.0;
    /// Icons beside text.
    pub const ICON: f32 = 16.0;
    /// Marks in a list row.
    pub const MARK: f32 = 14.0;
}

/// The spacing scale, in logical pixels.
pub mod space {
    pub const XXS: f32 = 2.0;
    pub const XS: f32 = 4.0;
    pub const S: f32 = 6.0;
    pub const M: f32 = 8.0;
    pub const L: f32 = 12.0;
    pub const XL: f32 = 16.0;
    pub const XXL: f32 = 24.0;
    pub const XXXL: f32 = 40.0;
}

/// Corner radii.
pub mod radius {
    pub const SMALL: f32 = 4.0;
    pub const MEDIUM: f32 = 6.0;
    pub const LARGE: f32 = 10.0;
    pub const PILL: f32 = 999.0;
}

/// The colour of links in message text.
pub fn link(theme: &Theme) -> Color {
    colors(theme).link
}

/// The ring around the control that has the keyboard focus (`ui::focus`).
pub fn focus_ring(theme: &Theme) -> Border {
    Border {
        color: colors(theme).accent,
        width: 2.0,
        radius: radius::MEDIUM.into(),
    }
}

fn plain(background: Color) -> container::Style {
    container::Style {
        background: Some(Background::Color(background)),
        ..container::Style::default()
    }
}

/// A warning banner (blocked remote content, a program about to be opened).
pub fn banner(theme: &Theme) -> container::Style {
    let c = colors(theme);
    container::Style {
        background: Some(Background::Color(c.warning_bg)),
        text_color: Some(c.on_warning),
        border: Border {
            radius: radius::MEDIUM.into(),
            ..Border::default()
        },
        ..container::Style::default()
    }
}

/// Secondary text: dates, sizes, hints.
pub fn muted(theme: &Theme) -> text::Style {
    text::Style {
        color: Some(colors(theme).muted),
    }
}

pub fn danger(theme: &Theme) -> text::Style {
    text::Style {
        color: Some(colors(theme).danger),
    }
}

pub fn success(theme: &Theme) -> text::Style {
    text::Style {
        color: Some(colors(theme).success),
    }
}

/// An unread message's subject, a folder with unread mail.
pub fn unread(theme: &Theme) -> text::Style {
    text::Style {
        color: Some(colors(theme).unread),
    }
}

/// The background of a list row (table or card): the selection, else the list's.
pub fn list_row(theme: &Theme, selected: bool) -> container::Style {
    let c = colors(theme);
    if selected {
        container::Style {
            background: Some(Background::Color(c.selected)),
            text_color: Some(c.on_selected),
            ..container::Style::default()
        }
    } else {
        container::Style::default()
    }
}

/// A card in the card layout: a rounded surface, the selection filled.
pub fn card(theme: &Theme, selected: bool, hovered: bool) -> container::Style {
    let c = colors(theme);
    let background = if selected {
        c.selected
    } else if hovered {
        c.hover
    } else {
        c.base
    };
    container::Style {
        background: Some(Background::Color(background)),
        text_color: Some(if selected { c.on_selected } else { c.text }),
        border: Border {
            color: if selected { c.accent } else { c.border },
            width: if selected { 1.5 } else { 1.0 },
            radius: radius::MEDIUM.into(),
        },
        ..container::Style::default()
    }
}

/// A list row or folder: flat, highlighted when selected, hovered or pressed.
pub fn row_button(theme: &Theme, status: button::Status, selected: bool) -> button::Style {
    let c = colors(theme);
    let background = match status {
        _ if selected => Some(c.selected),
        button::Status::Pressed => Some(c.pressed),
        button::Status::Hovered => Some(c.hover),
        _ => None,
    };
    button::Style {
        background: background.map(Background::Color),
        text_color: if selected { c.on_selected } else { c.text },
        border: Border::default(),
        ..button::Style::default()
    }
}

/// A folder in the tree: like a row, with rounded corners.
pub fn folder_button(theme: &Theme, status: button::Status, selected: bool) -> button::Style {
    button::Style {
        border: Border {
            radius: radius::MEDIUM.into(),
            ..Border::default()
        },
        ..row_button(theme, status, selected)
    }
}

/// A toolbar button: an icon (and a word) on nothing, a soft fill under the pointer.
pub fn tool_button(theme: &Theme, status: button::Status) -> button::Style {
    let c = colors(theme);
    let (background, text_color) = match status {
        button::Status::Hovered => (Some(c.hover), c.text),
        button::Status::Pressed => (Some(c.pressed), c.text),
        button::Status::Disabled => (None, c.muted.scale_alpha(0.6)),
        button::Status::Active => (None, c.text),
    };
    button::Style {
        background: background.map(Background::Color),
        text_color,
        border: Border {
            radius: radius::MEDIUM.into(),
            ..Border::default()
        },
        ..button::Style::default()
    }
}

/// The one primary action of a screen (Write, Add account, Send): the accent.
pub fn primary_button(theme: &Theme, status: button::Status) -> button::Style {
    let c = colors(theme);
    let background = match status {
        button::Status::Hovered | button::Status::Pressed => c.accent_hover,
        button::Status::Disabled => c.accent.scale_alpha(0.5),
        button::Status::Active => c.accent,
    };
    button::Style {
        background: Some(Background::Color(background)),
        text_color: c.on_accent,
        border: Border {
            radius: radius::MEDIUM.into(),
            ..Border::default()
        },
        shadow: Shadow::default(),
        snap: true,
    }
}

/// A secondary action: outlined.
pub fn secondary_button(theme: &Theme, status: button::Status) -> button::Style {
    let c = colors(theme);
    let background = match status {
        button::Status::Hovered => c.hover,
        button::Status::Pressed => c.pressed,
        _ => c.base,
    };
    button::Style {
        background: Some(Background::Color(background)),
        text_color: if matches!(status, button::Status::Disabled) {
            c.muted
        } else {
            c.text
        },
        border: Border {
            color: c.border,
            width: 1.0,
            radius: radius::MEDIUM.into(),
        },
        ..button::Style::default()
    }
}

/// An action that destroys something (Delete, Remove account): outlined like a secondary
/// button, its words in the danger colour; filled with it under the pointer.
pub fn danger_button(theme: &Theme, status: button::Status) -> button::Style {
    let c = colors(theme);
    let base = secondary_button(theme, status);
    match status {
        button::Status::Hovered | button::Status::Pressed => button::Style {
            background: Some(Background::Color(c.danger)),
            text_color: c.on_accent,
            border: Border {
                color: c.danger,
                ..base.border
            },
            ..base
        },
        button::Status::Disabled => base,
        button::Status::Active => button::Style {
            text_color: c.danger,
            ..base
        },
    }
}

/// A pick list ("Move to…", the theme, a server's security): outlined like a secondary
/// button, the accent's ring while open.
pub fn pick_list(theme: &Theme, status: picker::Status) -> picker::Style {
    let c = colors(theme);
    let (background, border) = match status {
        picker::Status::Active => (c.base, c.border),
        picker::Status::Hovered => (c.hover, c.border),
        picker::Status::Opened { .. } => (c.base, c.accent),
    };
    picker::Style {
        text_color: c.text,
        placeholder_color: c.text,
        handle_color: c.muted,
        background: Background::Color(background),
        border: Border {
            color: border,
            width: 1.0,
            radius: radius::MEDIUM.into(),
        },
    }
}

/// The menu a pick list opens: the popup surface, the option under the pointer on the
/// selection colour.
pub fn pick_menu(theme: &Theme) -> iced::overlay::menu::Style {
    let c = colors(theme);
    let surface = menu(theme);
    iced::overlay::menu::Style {
        background: Background::Color(c.raised),
        border: surface.border,
        text_color: c.text,
        selected_text_color: c.on_selected,
        selected_background: Background::Color(c.selected),
        shadow: surface.shadow,
    }
}

/// A group of settings: a flat surface with a border, on the page.
pub fn group(theme: &Theme) -> container::Style {
    let surface = menu(theme);
    container::Style {
        border: Border {
            radius: radius::LARGE.into(),
            ..surface.border
        },
        shadow: Shadow::default(),
        ..surface
    }
}

/// The colour an icon is tinted with on a tool button in `status`.
pub fn icon_color(theme: &Theme, status: button::Status) -> Color {
    let c = colors(theme);
    match status {
        button::Status::Disabled => c.muted.scale_alpha(0.6),
        _ => c.text,
    }
}

/// The toolbar's, the folder pane's and the status bar's background.
pub fn sidebar(theme: &Theme) -> container::Style {
    plain(colors(theme).sidebar)
}

/// The status bar's background.
pub fn status_bar(theme: &Theme) -> container::Style {
    container::Style {
        text_color: Some(colors(theme).muted),
        ..sidebar(theme)
    }
}

/// A popup menu or tooltip: a raised surface with a border and a soft shadow.
pub fn menu(theme: &Theme) -> container::Style {
    let c = colors(theme);
    container::Style {
        background: Some(Background::Color(c.raised)),
        text_color: Some(c.text),
        border: Border {
            color: c.border,
            width: 1.0,
            radius: radius::MEDIUM.into(),
        },
        shadow: Shadow {
            color: Color::BLACK.scale_alpha(0.18),
            offset: iced::Vector::new(0.0, 2.0),
            blur_radius: 8.0,
        },
        ..container::Style::default()
    }
}

/// An unread count beside a folder: a pill on the accent.
pub fn badge(theme: &Theme) -> container::Style {
    let c = colors(theme);
    container::Style {
        background: Some(Background::Color(c.accent)),
        text_color: Some(c.on_accent),
        border: Border {
            radius: radius::PILL.into(),
            ..Border::default()
        },
        ..container::Style::default()
    }
}

/// The thin line between groups of toolbar buttons.
pub fn divider(theme: &Theme) -> container::Style {
    plain(colors(theme).border)
}

/// The quote bar left of quoted text in the reader.
pub fn quote_bar(theme: &Theme) -> container::Style {
    plain(colors(theme).quote)
}

/// A round avatar with the sender's initials, on a colour taken from the address.
pub fn avatar(address: &str) -> impl Fn(&Theme) -> container::Style + use<> {
    // FNV-1a over the lowercased address: the same person, the same colour, on every run.
    let hash = address
        .to_lowercase()
        .bytes()
        .fold(0x811c_9dc5_u32, |h, b| {
            (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
        });
    let colour = palette::AVATARS
        .get(hash as usize % palette::AVATARS.len())
        .copied()
        .unwrap_or(palette::LIGHT.accent);
    move |_: &Theme| container::Style {
        background: Some(Background::Color(colour)),
        text_color: Some(Color::WHITE),
        border: Border {
            radius: radius::PILL.into(),
            ..Border::default()
        },
        ..container::Style::default()
    }
}

/// The pane grid: a thin separator line that highlights while it is hovered or dragged.
pub fn panes(theme: &Theme) -> iced::widget::pane_grid::Style {
    let c = colors(theme);
    iced::widget::pane_grid::Style {
        hovered_region: iced::widget::pane_grid::Highlight {
            background: Background::Color(c.selected),
            border: Border::default(),
        },
        picked_split: iced::widget::pane_grid::Line {
            color: c.accent,
            width: 3.0,
        },
        hovered_split: iced::widget::pane_grid::Line {
            color: c.accent,
            width: 3.0,
        },
    }
}

/// A pane's background (the separators between panes are the gaps, drawn in `pane_gaps`).
pub fn pane(theme: &Theme) -> container::Style {
    container::Style {
        text_color: Some(colors(theme).text),
        ..plain(colors(theme).base)
    }
}

/// The folder pane's background.
pub fn folder_pane(theme: &Theme) -> container::Style {
    container::Style {
        text_color: Some(colors(theme).text),
        ..plain(colors(theme).sidebar)
    }
}

/// Behind the panes: shows through the 1-pixel gaps as separator lines.
pub fn pane_gaps(theme: &Theme) -> container::Style {
    plain(separator(theme))
}

/// A text field: the base surface with a border that takes the accent while focused.
pub fn field(
    theme: &Theme,
    status: iced::widget::text_input::Status,
) -> iced::widget::text_input::Style {
    use iced::widget::text_input::Status;
    let c = colors(theme);
    let border = match status {
        Status::Focused { .. } => c.accent,
        Status::Hovered => c.muted,
        _ => c.border,
    };
    iced::widget::text_input::Style {
        background: Background::Color(c.base),
        border: Border {
            color: border,
            width: if matches!(status, Status::Focused { .. }) {
                1.5
            } else {
                1.0
            },
            radius: radius::MEDIUM.into(),
        },
        icon: c.muted,
        placeholder: c.muted,
        value: c.text,
        selection: c.selected,
    }
}

/// The search field inside its box (`search_box` draws the frame, with the icon).
pub fn search_field(
    theme: &Theme,
    status: iced::widget::text_input::Status,
) -> iced::widget::text_input::Style {
    iced::widget::text_input::Style {
        background: Background::Color(Color::TRANSPARENT),
        border: Border::default(),
        ..field(theme, status)
    }
}

/// The frame of the search box.
pub fn search_box(theme: &Theme) -> container::Style {
    let c = colors(theme);
    container::Style {
        background: Some(Background::Color(c.sidebar)),
        border: Border {
            color: c.border,
            width: 1.0,
            radius: radius::MEDIUM.into(),
        },
        ..container::Style::default()
    }
}

/// A horizontal or vertical rule in the separator colour.
pub fn rule(theme: &Theme) -> iced::widget::rule::Style {
    iced::widget::rule::Style {
        color: colors(theme).border,
        radius: 0.0.into(),
        fill_mode: iced::widget::rule::FillMode::Full,
        snap: true,
    }
}

/// A pane separator colour.
pub fn separator(theme: &Theme) -> Color {
    colors(theme).border
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_themes_use_the_palettes() {
        assert_eq!(super::colors(&super::light()), &super::palette::LIGHT);
        assert_eq!(super::colors(&super::dark()), &super::palette::DARK);
        assert_eq!(super::colors(&iced::Theme::Dark), &super::palette::DARK);
    }
}
