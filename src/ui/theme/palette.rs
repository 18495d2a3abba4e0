//! Tern's two palettes, light and dark: a few neutrals and one accent. Every colour a view uses
//! comes from here (through the style functions in `theme`), and a unit test holds each text
//! colour to WCAG AA contrast (4.5:1) against the backgrounds it is drawn on.

use iced::Color;

/// The colours of one palette.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Colors {
    /// The list, the reader, text fields.
    pub base: Color,
    /// The folder pane, the toolbar, the status bar.
    pub sidebar: Color,
    /// Raised surfaces: menus, tooltips, cards in the settings.
    pub raised: Color,
    /// A row or button under the pointer.
    pub hover: Color,
    /// A button held down.
    pub pressed: Color,
    /// Lines between panes and around menus.
    pub border: Color,
    pub text: Color,
    /// Secondary text: dates, sizes, previews, hints.
    pub muted: Color,
    /// The one accent: the primary button, links, the unread dot, the focus ring.
    pub accent: Color,
    /// The accent under the pointer.
    pub accent_hover: Color,
    /// Links in message text (the accent, lightened where the background is dark).
    pub link: Color,
    /// Text and icons on the accent.
    pub on_accent: Color,
    /// The selected row.
    pub selected: Color,
    pub on_selected: Color,
    /// Unread subjects and folder names with unread mail (text on `base` and `sidebar`).
    pub unread: Color,
    /// The star.
    pub star: Color,
    pub danger: Color,
    pub success: Color,
    /// Warning banners: background and text.
    pub warning_bg: Color,
    pub on_warning: Color,
    /// The quote bar in the reader.
    pub quote: Color,
}

const fn rgb(hex: u32) -> Color {
    Color::from_rgb8((hex >> 16) as u8, (hex >> 8) as u8, hex as u8)
}

pub const LIGHT: Colors = Colors {
    base: rgb(0xFFFFFF),
    sidebar: rgb(0xF3F4F6),
    raised: rgb(0xFFFFFF),
    hover: rgb(0xE8EBEF),
    pressed: rgb(0xD9DEE4),
    border: rgb(0xD5DAE0),
    text: rgb(0x1B1F24),
    muted: rgb(0x57606A),
    accent: rgb(0x1F5FD1),
    accent_hover: rgb(0x174FB3),
    link: rgb(0x1F5FD1),
    on_accent: rgb(0xFFFFFF),
    selected: rgb(0xD6E4FB),
    on_selected: rgb(0x10141A),
    unread: rgb(0x1A56C4),
    star: rgb(0xD08700),
    danger: rgb(0xB42318),
    success: rgb(0x15702F),
    warning_bg: rgb(0xFFF3D1),
    on_warning: rgb(0x5C3D00),
    quote: rgb(0xB7C3D3),
};

pub const DARK: Colors = Colors {
    base: rgb(0x1C1D21),
    sidebar: rgb(0x24262B),
    raised: rgb(0x2C2F35),
    hover: rgb(0x30333A),
    pressed: rgb(0x3A3E46),
    border: rgb(0x3A3D44),
    text: rgb(0xE6E8EC),
    muted: rgb(0xA3AAB4),
    accent: rgb(0x2F6BDB),
    accent_hover: rgb(0x2760C8),
    link: rgb(0x7EAEFF),
    on_accent: rgb(0xFFFFFF),
    selected: rgb(0x22395F),
    on_selected: rgb(0xF2F5F9),
    unread: rgb(0x7EAEFF),
    star: rgb(0xF2B33D),
    danger: rgb(0xFF7B72),
    success: rgb(0x56D364),
    warning_bg: rgb(0x4A3A12),
    on_warning: rgb(0xFFE7A8),
    quote: rgb(0x4E5968),
};

/// Avatar backgrounds (white initials on each meet AA), one picked by the address.
pub const AVATARS: [Color; 10] = [
    rgb(0xB3261E),
    rgb(0xA1460A),
    rgb(0x7A5C00),
    rgb(0x2E7D32),
    rgb(0x00796B),
    rgb(0x0B6A8A),
    rgb(0x1F5FD1),
    rgb(0x5B3FC4),
    rgb(0x8E24AA),
    rgb(0xAD1457),
];

/// The relative luminance of `c` (WCAG 2.x).
pub fn luminance(c: Color) -> f32 {
    let channel = |v: f32| {
        if v <= 0.039_28 {
            v / 12.92
        } else {
            ((v + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * channel(c.r) + 0.7152 * channel(c.g) + 0.0722 * channel(c.b)
}

/// The contrast ratio of `a` against `b` (1 to 21).
pub fn contrast(a: Color, b: Color) -> f32 {
    let (la, lb) = (luminance(a), luminance(b));
    let (hi, lo) = if la > lb { (la, lb) } else { (lb, la) };
    (hi + 0.05) / (lo + 0.05)
}

#[cfg(test)]
mod tests {
    use super::{Colors, DARK, LIGHT, contrast};

    /// Each text colour with each background it is drawn on.
    fn pairs(c: &Colors) -> Vec<(String, iced::Color, iced::Color)> {
        let mut pairs = Vec::new();
        for (bg_name, bg) in [
            ("base", c.base),
            ("sidebar", c.sidebar),
            ("raised", c.raised),
            ("hover", c.hover),
        ] {
            for (fg_name, fg) in [
                ("text", c.text),
                ("muted", c.muted),
                ("unread", c.unread),
                ("danger", c.danger),
                ("link", c.link),
                ("success", c.success),
            ] {
                pairs.push((format!("{fg_name} on {bg_name}"), fg, bg));
            }
        }
        for (fg_name, fg) in [
            ("muted", c.muted),
            ("unread", c.unread),
            ("danger", c.danger),
            ("text", c.text),
        ] {
            pairs.push((format!("{fg_name} on selected"), fg, c.selected));
        }
        for (what, fg, bg) in [
            ("text on selected", c.on_selected, c.selected),
            ("text on pressed", c.text, c.pressed),
            ("on accent", c.on_accent, c.accent),
            ("on accent hover", c.on_accent, c.accent_hover),
            ("link on base", c.link, c.base),
            ("warning", c.on_warning, c.warning_bg),
        ] {
            pairs.push((what.to_owned(), fg, bg));
        }
        pairs
    }

    #[test]
    fn text_meets_wcag_aa_in_both_palettes() {
        for (name, palette) in [("light", &LIGHT), ("dark", &DARK)] {
            for (what, fg, bg) in pairs(palette) {
                let ratio = contrast(fg, bg);
                assert!(
                    ratio >= 4.5,
                    "{name}: {what} has contrast {ratio:.2}, below 4.5"
                );
            }
        }
    }

    #[test]
    fn avatar_initials_are_readable() {
        for colour in super::AVATARS {
            let ratio = contrast(iced::Color::WHITE, colour);
            assert!(ratio >= 4.5, "{colour:?}: {ratio:.2}");
        }
    }

    #[test]
    fn the_selected_row_stands_out_from_the_list() {
        for palette in [&LIGHT, &DARK] {
            assert!(contrast(palette.selected, palette.base) > 1.2);
            assert!(contrast(palette.hover, palette.base) > 1.1);
        }
    }

    #[test]
    fn contrast_is_measured_as_wcag_says() {
        let black = iced::Color::BLACK;
        let white = iced::Color::WHITE;
        assert!((contrast(black, white) - 21.0).abs() < 0.01);
        assert!((contrast(white, white) - 1.0).abs() < 0.001);
    }
}
