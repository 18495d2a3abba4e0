//! The reader's view: a header block (the sender's avatar, name and address, the recipients on
//! one line, the date, attachment chips), the body in a comfortable measure, and friendly states
//! for no message, loading and offline.

use iced::widget::{button, column, container, image, row, rule, scrollable, text, tooltip};
use iced::{Element, Length};

use super::{Message, State, spinner};
use crate::ui::data::BodyText;
use crate::ui::theme::{self, size, space};
use crate::ui::widgets::{self, Icon};

/// The body's widest measure, about 75 characters of body text.
const MEASURE: f32 = 640.0;

/// Most characters of a header line shown (subject, name, address).
const HEADER_CHARS: usize = 2_000;

/// Most characters of the To and Cc lists read (a longer list is named by its start).
const RECIPIENT_CHARS: usize = 50_000;

/// Most recipients listed when all are shown ("and N more" after them).
const LISTED_PEOPLE: usize = 200;

/// The people of an address list as written by `mail::parse::format_addresses` ("Name <a@b>,
/// c@d"): split at the commas between addresses, not those inside a name.
pub fn people(list: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut current = String::new();
    for piece in list.split(", ") {
        if !current.is_empty() {
            current.push_str(", ");
        }
        current.push_str(piece);
        if piece.contains('@') || piece.ends_with('>') {
            out.push(std::mem::take(&mut current).trim().to_owned());
        }
    }
    if !current.trim().is_empty() {
        out.push(current.trim().to_owned());
    }
    out.retain(|p| !p.is_empty());
    out
}

/// How a person is named on the collapsed line: the name without the address.
fn short_name(person: &str) -> &str {
    match person.rsplit_once(" <") {
        Some((name, _)) if !name.trim().is_empty() => name.trim().trim_matches('"'),
        _ => person.trim_matches(['<', '>']),
    }
}

/// "To bob@example.test, Ada Lovelace and 3 more".
pub fn recipients_line(to: &[String], cc: &[String], shown: usize) -> String {
    let everyone: Vec<&str> = to.iter().chain(cc).map(|p| short_name(p)).collect();
    let named = everyone
        .iter()
        .take(shown)
        .copied()
        .collect::<Vec<_>>()
        .join(", ");
    match everyone.len().saturating_sub(shown) {
        0 => format!("To {named}"),
        more => format!("To {named} and {more} more"),
    }
}

/// The header block: avatar, name and address, recipients, date, and the attachment chips.
fn header_block<'a>(state: &'a State, body: &'a BodyText) -> Element<'a, Message> {
    let m = &body.row;
    // Headers are shown wrapped, so a hostile one is cut to a length that still lays out fast.
    let name = widgets::clip(
        if m.from_name.trim().is_empty() {
            &m.from_addr
        } else {
            &m.from_name
        },
        HEADER_CHARS,
    );
    let subject = if m.subject.trim().is_empty() {
        "(no subject)"
    } else {
        widgets::clip(&m.subject, HEADER_CHARS)
    };
    let mut who = row![text(name).size(size::TITLE).font(theme::semibold()),]
        .spacing(space::M)
        .align_y(iced::Alignment::Center);
    if name != m.from_addr {
        who = who.push(
            text(widgets::clip(&m.from_addr, HEADER_CHARS))
                .size(size::SMALL)
                .style(theme::muted),
        );
    }
    let (to, cc) = (
        people(widgets::clip(&m.to, RECIPIENT_CHARS)),
        people(widgets::clip(&m.cc, RECIPIENT_CHARS)),
    );
    let recipients: Element<'_, Message> = if state.recipients_open {
        let mut all = column![].spacing(space::XXS);
        for (label, people) in [("To", &to), ("Cc", &cc)] {
            if people.is_empty() {
                continue;
            }
            let mut line = format!(
                "{label} {}",
                people
                    .iter()
                    .take(LISTED_PEOPLE)
                    .map(|p| widgets::clip(p, 400))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            if people.len() > LISTED_PEOPLE {
                line.push_str(&format!(" and {} more", people.len() - LISTED_PEOPLE));
            }
            all = all.push(text(line).size(size::SMALL).style(theme::muted));
        }
        button(all)
            .padding(0)
            .style(theme::tool_button)
            .on_press(Message::ToggleRecipients)
            .into()
    } else if to.len() + cc.len() > 0 {
        button(
            widgets::ellipsized(recipients_line(&to, &cc, 2))
                .size(size::SMALL)
                .style(theme::muted),
        )
        .padding(0)
        .style(theme::tool_button)
        .on_press_maybe((to.len() + cc.len() > 2).then_some(Message::ToggleRecipients))
        .into()
    } else {
        text("To undisclosed recipients")
            .size(size::SMALL)
            .style(theme::muted)
            .into()
    };
    let date = widgets::tip(
        text(theme::short_date(m.date))
            .size(size::SMALL)
            .style(theme::muted)
            .wrapping(text::Wrapping::None),
        theme::long_date(m.date),
        tooltip::Position::Bottom,
    );
    let sender = row![
        widgets::avatar(&m.from_name, &m.from_addr, 40.0),
        column![who, recipients]
            .spacing(space::XXS)
            .width(Length::Fill),
        date,
    ]
    .spacing(space::L)
    .align_y(iced::Alignment::Center);
    let mut block = column![
        text(subject).size(size::HEADING).font(theme::semibold()),
        sender,
    ]
    .spacing(space::L);
    if !state.attachments.is_empty() {
        block = block.push(attachment_chips(state));
    }
    block.push(view_switches(state, body)).into()
}

/// How wide an attachment's "Save" menu opens (its longest entry is "Save all to Downloads").
const CHIP_MENU_WIDTH: f32 = 190.0;

/// One chip per attachment: its type's icon, name and size (a click opens it), and a "Save"
/// menu (Save as…, Save to Downloads, Save all, Open).
fn attachment_chips(state: &State) -> Element<'_, Message> {
    let mut chips = row![].spacing(space::S);
    let actions = super::ChipAction::offered(state.attachments.len());
    for (index, a) in state.attachments.iter().enumerate() {
        let size_text = theme::short_size(i64::try_from(a.size).unwrap_or(i64::MAX));
        // Tab reaches the chip (Enter opens the attachment) and then its menu.
        let open = widgets::tip(
            crate::ui::focus::labelled(
                button(
                    row![
                        widgets::icon(Icon::attachment(&a.content_type), size::ICON, |t| {
                            theme::colors(t).accent
                        }),
                        column![
                            container(
                                widgets::ellipsized(&a.name)
                                    .size(size::SMALL)
                                    .width(Length::Shrink),
                            )
                            .max_width(200),
                            text(size_text).size(size::CAPTION).style(theme::muted),
                        ],
                    ]
                    .spacing(space::S)
                    .align_y(iced::Alignment::Center),
                )
                .padding([space::XS, space::S])
                .style(theme::tool_button)
                .on_press(Message::Open(index)),
                Some(Message::Open(index)),
                &format!("Open {}", a.name),
            ),
            "Open",
            tooltip::Position::Bottom,
        );
        let menu = widgets::MenuButton::new(
            row![
                text("Save").size(size::SMALL),
                widgets::muted_icon(Icon::ChevronDown, size::SMALL),
            ]
            .spacing(space::XXS)
            .align_y(iced::Alignment::Center),
            actions.clone(),
            move |action| Message::Chip(index, action),
        )
        .menu_width(CHIP_MENU_WIDTH)
        .text_size(size::SMALL)
        .padding([space::XS, space::S])
        .label(format!("Save {}", a.name));
        chips = chips.push(
            widgets::chip(
                row![open, menu]
                    .spacing(space::XXS)
                    .align_y(iced::Alignment::Center),
            )
            .padding(space::XXS),
        );
    }
    chips.wrap().vertical_spacing(space::S).into()
}

/// Plain text or HTML, the source or the message.
fn view_switches<'a>(state: &'a State, body: &'a BodyText) -> Element<'a, Message> {
    let mut bar = row![iced::widget::space::horizontal()]
        .spacing(space::S)
        .align_y(iced::Alignment::Center);
    let link = |label: &'static str, message: Message| {
        button(text(label).size(size::SMALL).style(theme::unread))
            .padding([space::XXS, space::S])
            .style(theme::tool_button)
            .on_press(message)
    };
    if body.html.is_some() || state.prefer_plain {
        bar = bar.push(link(
            if state.prefer_plain {
                "Show HTML"
            } else {
                "Show plain text"
            },
            Message::TogglePlain,
        ));
    }
    bar = bar.push(link(
        if state.source.is_some() {
            "Show message"
        } else {
            "Show source"
        },
        Message::ToggleSource,
    ));
    bar.into()
}

/// The other messages of the conversation, each a row that opens it.
fn conversation(state: &State) -> Option<Element<'_, Message>> {
    if state.conversation.len() < 2 {
        return None;
    }
    let mut thread = column![
        text(format!(
            "{} messages in this conversation",
            state.conversation.len()
        ))
        .size(size::SMALL)
        .style(theme::muted)
    ]
    .spacing(space::XXS);
    for other in state.conversation.iter().take(50) {
        let who = if other.from_name.is_empty() {
            other.from_addr.clone()
        } else {
            other.from_name.clone()
        };
        let current = Some(other.id) == state.open;
        thread = thread.push(
            button(
                row![
                    text(theme::short_date(other.date))
                        .size(size::SMALL)
                        .style(theme::muted)
                        .width(90),
                    container(widgets::ellipsized(who).size(size::SMALL)).width(160),
                    widgets::ellipsized(&other.subject).size(size::SMALL),
                ]
                .spacing(space::M),
            )
            .style(move |t, s| theme::folder_button(t, s, current))
            .padding([space::XXS, space::S])
            .width(Length::Fill)
            .on_press(Message::OpenOther(other.id)),
        );
    }
    Some(thread.into())
}

/// Banners under the header: a notice, a program about to be opened, blocked remote content,
/// a link about to be opened.
fn banners<'a>(state: &'a State, body: &'a BodyText) -> iced::widget::Column<'a, Message> {
    let mut out = column![].spacing(space::S);
    if let Some(notice) = &state.notice {
        out = out.push(text(notice.clone()).size(size::SMALL).style(theme::muted));
    }
    if let Some(a) = state
        .pending_open
        .and_then(|index| state.attachments.get(index))
    {
        out = out.push(
            container(
                row![
                    text(format!(
                        "{} is a program or can run one. Opening it can harm your computer; open it only if you expected it from this sender.",
                        a.name
                    ))
                    .width(Length::Fill),
                    button(text("Open anyway"))
                        .style(button::danger)
                        .on_press(Message::ConfirmOpen),
                    button(text("Cancel"))
                        .style(theme::secondary_button)
                        .on_press(Message::CancelOpen),
                ]
                .spacing(space::M)
                .align_y(iced::Alignment::Center),
            )
            .padding(space::M)
            .style(theme::banner),
        );
    }
    if let Some(blocked) = body
        .html
        .as_ref()
        .map(|h| h.blocked)
        .filter(|b| *b > 0 && !state.prefer_plain && state.source.is_none())
    {
        out = out.push(
            container(
                row![
                    widgets::icon(Icon::EyeOff, size::ICON, |t| theme::colors(t).on_warning),
                    text(format!(
                        "Tern blocked {blocked} remote image{} in this message. Remote content is never loaded, so the sender cannot tell that you read it.",
                        if blocked == 1 { "" } else { "s" }
                    ))
                    .size(size::SMALL),
                ]
                .spacing(space::M)
                .align_y(iced::Alignment::Center),
            )
            .padding(space::M)
            .style(theme::banner),
        );
    }
    if let Some(link) = &state.pending_link {
        out = out.push(
            row![
                text(format!("Open {link} ?")).width(Length::Fill),
                button(text("Open"))
                    .style(theme::primary_button)
                    .on_press(Message::OpenLink),
                button(text("Cancel"))
                    .style(theme::secondary_button)
                    .on_press(Message::CancelLink),
            ]
            .spacing(space::M)
            .align_y(iced::Alignment::Center),
        );
    }
    out
}

pub fn view(state: &State) -> Element<'_, Message> {
    let Some(body) = state.body.as_ref().filter(|b| Some(b.row.id) == state.open) else {
        if state.loading {
            return container(text(spinner(state)).style(theme::muted))
                .center(Length::Fill)
                .into();
        }
        return widgets::empty(
            Icon::MailOpen,
            "No message selected",
            "Choose a message in the list to read it here.",
        );
    };
    let content: Element<'_, Message> = match (&body.text, &body.note, &state.error) {
        _ if state.source.is_some() => text(state.source.clone().unwrap_or_default())
            .font(iced::Font::MONOSPACE)
            .size(size::SMALL)
            .into(),
        (_, _, Some(error)) => text(error.clone()).style(theme::danger).into(),
        _ if body.html.is_some() && !state.prefer_plain => html_view(body),
        (Some(_), _, _) => plain_view(state),
        (None, Some(note), _) => widgets::empty(Icon::WifiOff, "Not downloaded yet", note),
        (None, None, _) => text("This message has no readable text.")
            .style(theme::muted)
            .into(),
    };
    let mut page = column![content].spacing(space::L);
    if state.source.is_none() {
        for picture in &state.pictures {
            page = page.push(match (&picture.handle, &picture.failed) {
                (Some(handle), _) => Element::from(
                    column![
                        image(handle.clone()).width(Length::Shrink),
                        text(picture.label.clone())
                            .size(size::CAPTION)
                            .style(theme::muted),
                    ]
                    .spacing(space::XXS),
                ),
                (None, Some(e)) => text(format!("{}: {e}", picture.label))
                    .size(size::CAPTION)
                    .style(theme::muted)
                    .into(),
                (None, None) => text(format!("{} (loading…)", picture.label))
                    .size(size::CAPTION)
                    .style(theme::muted)
                    .into(),
            });
        }
    }
    let mut top = column![header_block(state, body)].spacing(space::L);
    if let Some(thread) = conversation(state) {
        top = top.push(thread);
    }
    top = top.push(banners(state, body));
    if state.loading {
        top = top.push(text(spinner(state)).size(size::SMALL).style(theme::muted));
    }
    let measure = if state.source.is_some() {
        f32::INFINITY
    } else {
        MEASURE
    };
    column![
        container(top).padding([space::L, space::XL]),
        rule::horizontal(1).style(theme::rule),
        scrollable(
            container(container(page).max_width(measure))
                .padding([space::L, space::XL])
                .width(Length::Fill)
        )
        .height(Length::Fill),
    ]
    .width(Length::Fill)
    .height(Length::Fill)
    .into()
}

/// A plain-text body: the writer's text, and quotes with a bar per level; a long quote is
/// folded to a button until asked for.
fn plain_view(state: &State) -> Element<'_, Message> {
    let mut out = column![].spacing(space::S);
    for block in &state.pieces {
        let spans: Vec<_> = block
            .pieces
            .iter()
            .map(|(piece, link)| {
                let span = iced::widget::span(piece.as_str());
                match link {
                    Some(link) => span.link(link.clone()).underline(true),
                    None => span,
                }
            })
            .collect();
        let body = iced::widget::rich_text(spans)
            .line_height(1.45)
            .on_link_click(Message::Link);
        if block.depth == 0 {
            out = out.push(body);
            continue;
        }
        if block.lines > super::FOLDED_QUOTE && !state.quotes_open {
            out = out.push(
                button(
                    text(format!("Show quoted text ({} lines)", block.lines))
                        .size(size::SMALL)
                        .style(theme::unread),
                )
                .padding([space::XXS, space::S])
                .style(theme::secondary_button)
                .on_press(Message::ToggleQuotes),
            );
            continue;
        }
        let mut quoted = row![].spacing(space::M);
        for _ in 0..block.depth {
            quoted = quoted.push(
                container(iced::widget::Space::new().width(3).height(Length::Fill))
                    .style(theme::quote_bar),
            );
        }
        out = out.push(
            quoted
                .push(
                    container(body).style(|t: &iced::Theme| iced::widget::container::Style {
                        text_color: Some(theme::colors(t).muted),
                        ..iced::widget::container::Style::default()
                    }),
                )
                .height(Length::Shrink),
        );
    }
    if state.quotes_open
        && state
            .pieces
            .iter()
            .any(|b| b.depth > 0 && b.lines > super::FOLDED_QUOTE)
    {
        out = out.push(
            button(
                text("Fold quoted text")
                    .size(size::SMALL)
                    .style(theme::unread),
            )
            .padding([space::XXS, space::S])
            .style(theme::tool_button)
            .on_press(Message::ToggleQuotes),
        );
    }
    out.into()
}

/// An HTML body as rich text: bold, italic, monospace and struck-out runs, and links that show
/// their real target before they open. Inline images appear by name here and below the text.
fn html_view(body: &BodyText) -> Element<'_, Message> {
    let Some(html) = &body.html else {
        return text("").into();
    };
    let spans: Vec<_> = html
        .spans
        .iter()
        .map(|piece| {
            let mut font = theme::UI;
            if piece.mono {
                font = iced::Font::MONOSPACE;
            }
            if piece.bold {
                font.weight = iced::font::Weight::Bold;
            }
            if piece.italic {
                font.style = iced::font::Style::Italic;
            }
            let span = iced::widget::span(piece.text.as_str())
                .font(font)
                .strikethrough(piece.strike);
            match &piece.link {
                Some(link) => span.link(link.clone()).underline(true),
                None => span,
            }
        })
        .collect();
    iced::widget::rich_text(spans)
        .line_height(1.45)
        .on_link_click(Message::Link)
        .into()
}

#[cfg(test)]
mod tests {
    #[test]
    fn recipients_fold_to_one_line() {
        let to = super::people("bob@example.test, \"Doe, Jane\" <jane@x.org>");
        assert_eq!(to, vec!["bob@example.test", "\"Doe, Jane\" <jane@x.org>"]);
        let cc = super::people("Ada <a@x>, Alan <b@x>, Kat <c@x>");
        assert_eq!(
            super::recipients_line(&to, &cc, 2),
            "To bob@example.test, Doe, Jane and 3 more"
        );
        assert_eq!(
            super::recipients_line(&to, &[], 2),
            "To bob@example.test, Doe, Jane"
        );
        assert!(super::people("").is_empty());
        assert_eq!(super::people("undisclosed"), vec!["undisclosed"]);
    }
}
