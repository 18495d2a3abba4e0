//! Small widgets the screens share, built from iced's: icons, tool buttons with tooltips,
//! badges, the unread dot, avatars, text that ends in "…" where it does not fit, themed pick
//! lists (`pick`), a button with a menu (`MenuButton`), and settings groups (`section`,
//! `setting`). Their colours come from `theme`.

mod ellipsis;
mod icons;
mod menu_button;

pub use ellipsis::{ELLIPSIS, Ellipsized, ellipsized};
pub use icons::Icon;
pub use menu_button::MenuButton;

use iced::widget::{button, container, row, svg, text, tooltip};
use iced::{Color, Element, Length, Theme};

use crate::ui::theme::{self, radius, size, space};

/// `icon` at `px` pixels, tinted by `colour`.
pub fn icon<'a>(icon: Icon, px: f32, colour: impl Fn(&Theme) -> Color + 'a) -> svg::Svg<'a> {
    svg(icon.handle())
        .width(px)
        .height(px)
        .style(move |theme, _| svg::Style {
            color: Some(colour(theme)),
        })
}

/// At most `max` characters of `text` (cut at a character boundary).
pub fn clip(text: &str, max: usize) -> &str {
    let end = text
        .char_indices()
        .nth(max)
        .map_or(text.len(), |(at, _)| at);
    text.get(..end).unwrap_or(text)
}

/// The app's own icon (`assets/tern.svg`), in its colours.
pub fn app_icon<'a>(px: f32) -> svg::Svg<'a> {
    static HANDLE: std::sync::LazyLock<svg::Handle> = std::sync::LazyLock::new(|| {
        svg::Handle::from_memory(include_bytes!("../../../assets/tern.svg").as_slice())
    });
    svg(HANDLE.clone()).width(px).height(px)
}

/// `icon` in the text colour.
pub fn plain_icon<'a>(which: Icon, px: f32) -> svg::Svg<'a> {
    icon(which, px, |t| theme::colors(t).text)
}

/// `icon` in the secondary text colour.
pub fn muted_icon<'a>(which: Icon, px: f32) -> svg::Svg<'a> {
    icon(which, px, |t| theme::colors(t).muted)
}

/// A tooltip in the theme's style: `tip` shown below `content` while the pointer rests on it.
pub fn tip<'a, M: 'a>(
    content: impl Into<Element<'a, M>>,
    tip: impl Into<String>,
    position: tooltip::Position,
) -> Element<'a, M> {
    tooltip(
        content,
        container(text(tip.into()).size(size::CAPTION))
            .padding([space::XS, space::M])
            .max_width(420)
            .style(theme::menu),
        position,
    )
    .gap(space::XS)
    .into()
}

/// What a tool button looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Look {
    /// Flat: an icon on nothing.
    Tool,
    /// The screen's one primary action, on the accent.
    Primary,
}

/// A toolbar button: `icon`, with `label` beside it when given, and `hint` as its tooltip. No
/// `message`: disabled (greyed, no tooltip action).
pub fn tool_button<'a, M: Clone + 'a>(
    which: Icon,
    label: Option<&'a str>,
    look: Look,
    message: Option<M>,
) -> button::Button<'a, M> {
    let enabled = message.is_some();
    let tint = move |theme: &Theme| match look {
        Look::Primary => theme::colors(theme).on_accent,
        Look::Tool if enabled => theme::colors(theme).text,
        Look::Tool => theme::colors(theme).muted.scale_alpha(0.6),
    };
    let mut content = row![icon(which, size::ICON, tint)]
        .spacing(space::S)
        .align_y(iced::Alignment::Center);
    if let Some(label) = label {
        content = content.push(text(label).size(size::BODY).font(theme::semibold()));
    }
    let padding = if label.is_some() {
        [space::S, space::L]
    } else {
        [space::S, space::S]
    };
    button(content)
        .padding(padding)
        .style(move |t, s| match look {
            Look::Primary => theme::primary_button(t, s),
            Look::Tool => theme::tool_button(t, s),
        })
        .on_press_maybe(message)
}

/// The thin vertical line between groups of toolbar buttons.
pub fn divider<'a, M: 'a>() -> Element<'a, M> {
    container(container(iced::widget::Space::new().width(1).height(20)).style(theme::divider))
        .padding([0.0, space::XS])
        .into()
}

/// An unread count: a small pill on the accent.
pub fn badge<'a, M: 'a>(count: i64) -> Element<'a, M> {
    container(
        text(theme::thousands(usize::try_from(count).unwrap_or(0)))
            .size(size::CAPTION - 1.0)
            .font(theme::semibold()),
    )
    .padding([0.0, space::S])
    .style(theme::badge)
    .into()
}

/// The accent dot of an unread message (an empty space of the same width when read).
pub fn unread_dot<'a, M: 'a>(unread: bool) -> Element<'a, M> {
    if unread {
        icon(Icon::CircleFilled, 8.0, |t| theme::colors(t).accent).into()
    } else {
        iced::widget::Space::new().width(8).height(8).into()
    }
}

/// The initials of `name` (or of the address when there is no name): "Ada Lovelace" → "AL".
pub fn initials(name: &str, address: &str) -> String {
    let source = if name.trim().is_empty() {
        address.split('@').next().unwrap_or("")
    } else {
        name
    };
    let words: Vec<&str> = source
        .split(|c: char| c.is_whitespace() || c == '.' || c == '_' || c == '-')
        .filter(|w| w.chars().next().is_some_and(char::is_alphanumeric))
        .collect();
    let first = |w: &&str| {
        w.chars()
            .next()
            .map(|c| c.to_uppercase().collect::<String>())
    };
    match (words.first(), words.last()) {
        (Some(a), Some(b)) if words.len() > 1 => {
            format!(
                "{}{}",
                first(a).unwrap_or_default(),
                first(b).unwrap_or_default()
            )
        }
        (Some(a), _) => first(a).unwrap_or_default(),
        _ => "?".to_owned(),
    }
}

/// A round avatar with the sender's initials, its colour taken from the address.
pub fn avatar<'a, M: 'a>(name: &str, address: &str, px: f32) -> Element<'a, M> {
    container(
        text(initials(name, address))
            .size(px * 0.4)
            .font(theme::semibold()),
    )
    .center(Length::Fixed(px))
    .style(theme::avatar(address))
    .into()
}

/// A rounded chip (attachments): `content` on the raised surface with a border.
pub fn chip<'a, M: 'a>(content: impl Into<Element<'a, M>>) -> container::Container<'a, M> {
    container(content)
        .padding([space::XS, space::M])
        .style(|t: &Theme| container::Style {
            border: iced::Border {
                radius: radius::MEDIUM.into(),
                ..theme::menu(t).border
            },
            ..theme::menu(t)
        })
}

/// A pick list in the theme's style, its menu too.
pub fn pick<'a, T, L, V, M>(
    options: L,
    selected: Option<V>,
    on_select: impl Fn(T) -> M + 'a,
) -> iced::widget::PickList<'a, T, L, V, M>
where
    T: ToString + PartialEq + Clone + 'a,
    L: std::borrow::Borrow<[T]> + 'a,
    V: std::borrow::Borrow<T> + 'a,
    M: Clone + 'a,
{
    iced::widget::pick_list(options, selected, on_select)
        .style(theme::pick_list)
        .menu_style(theme::pick_menu)
}

/// `body` on a bordered surface, the width there is (the settings' groups, the wizard's found
/// servers and certificate).
pub fn group<'a, M: 'a>(body: impl Into<Element<'a, M>>) -> container::Container<'a, M> {
    container(body)
        .padding(space::L)
        .width(Length::Fill)
        .style(theme::group)
}

/// A group of settings under a small title: `body` on a bordered surface.
pub fn section<'a, M: 'a>(title: &'a str, body: impl Into<Element<'a, M>>) -> Element<'a, M> {
    iced::widget::column![
        text(title)
            .size(size::SMALL)
            .font(theme::semibold())
            .style(theme::muted),
        group(body),
    ]
    .spacing(space::S)
    .into()
}

/// One setting: its label in a fixed column, then the control.
pub fn setting<'a, M: 'a>(
    label: &'a str,
    control: impl Into<Element<'a, M>>,
) -> iced::widget::Row<'a, M> {
    row![
        text(label).size(size::BODY).width(LABEL_WIDTH),
        control.into()
    ]
    .spacing(space::M)
    .align_y(iced::Alignment::Center)
}

/// The width of a setting's label.
pub const LABEL_WIDTH: f32 = 170.0;

/// A friendly empty state: a large muted icon, a title and one line of what to do.
pub fn empty<'a, M: 'a>(which: Icon, title: &'a str, line: &'a str) -> Element<'a, M> {
    container(
        iced::widget::column![
            muted_icon(which, 40.0),
            text(title).size(size::TITLE).font(theme::semibold()),
            text(line)
                .size(size::SMALL)
                .style(theme::muted)
                .align_x(iced::alignment::Horizontal::Center),
        ]
        .spacing(space::M)
        .max_width(340)
        .align_x(iced::Alignment::Center),
    )
    .center(Length::Fill)
    .padding(space::XXL)
    .into()
}

#[cfg(test)]
mod tests {
    #[test]
    fn initials_come_from_the_name_or_the_address() {
        assert_eq!(super::initials("Ada Lovelace", "ada@example.org"), "AL");
        assert_eq!(super::initials("", "grace.hopper@example.org"), "GH");
        assert_eq!(super::initials("José García López", "j@x"), "JL");
        assert_eq!(super::initials("田中 太郎", "t@x"), "田太");
        assert_eq!(super::initials("", ""), "?");
        assert_eq!(super::initials("  \"", "@"), "?");
    }
}
