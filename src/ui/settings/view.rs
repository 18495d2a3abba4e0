//! Settings' view: a list of pages on the left (General, each account, New account) and the
//! page's settings in titled groups on the right, in the theme's type and spacing.

use iced::widget::{button, checkbox, column, container, row, scrollable, text, text_input};
use iced::{Element, Length};

use super::{AccountField, Direction, MailCheck, Message, Options, Section, State, ThemeChoice};
use crate::account::credentials::Secret;
use crate::account::{Protocol, Security};
use crate::ui::theme::{self, size, space};
use crate::ui::widgets::{self, Icon, section, setting};

/// A button that Tab reaches too (Enter or Space presses it).
fn pressable<'a>(button: button::Button<'a, Message>, message: Message) -> Element<'a, Message> {
    crate::ui::focus::activate(button.on_press(message.clone()), Some(message))
}

/// The widest a page's groups grow: settings read best in a column, not across a wide window.
const PAGE_WIDTH: f32 = 760.0;

/// A page in the list on the left: its icon, name and (for an account) its address.
fn page_item<'a>(
    state: &State,
    icon: Icon,
    label: &'a str,
    detail: Option<&'a str>,
    section: Section,
) -> Element<'a, Message> {
    let selected = state.section == section;
    let mut words = column![text(label).size(size::BODY)];
    if let Some(detail) = detail {
        words = words.push(
            widgets::ellipsized(detail)
                .size(size::CAPTION)
                .style(theme::muted),
        );
    }
    pressable(
        button(
            row![widgets::muted_icon(icon, size::ICON), words]
                .spacing(space::M)
                .align_y(iced::Alignment::Center),
        )
        .padding([space::S, space::M])
        .style(move |t, s| theme::folder_button(t, s, selected))
        .width(Length::Fill),
        Message::Show(section),
    )
}

pub fn view(state: &State) -> Element<'_, Message> {
    let item = |icon, label, detail, section| page_item(state, icon, label, detail, section);
    let mut pages =
        column![item(Icon::Settings, "General", None, Section::General)].spacing(space::XXS);
    if !state.accounts.is_empty() {
        pages = pages.push(
            container(
                text("Accounts")
                    .size(size::CAPTION)
                    .font(theme::semibold())
                    .style(theme::muted),
            )
            .padding([space::M, space::M]),
        );
    }
    for o in &state.accounts {
        pages = pages.push(item(
            Icon::AtSign,
            &o.name,
            Some(&o.email),
            Section::Account(o.account),
        ));
    }
    pages = pages.push(pressable(
        button(
            row![
                widgets::icon(Icon::Plus, size::ICON, |t| theme::colors(t).accent),
                text("New account").size(size::BODY).style(theme::unread),
            ]
            .spacing(space::M)
            .align_y(iced::Alignment::Center),
        )
        .padding([space::S, space::M])
        .style(|t, s| theme::folder_button(t, s, false))
        .width(Length::Fill),
        Message::Wizard,
    ));
    let mut page = column![].spacing(space::XL).max_width(PAGE_WIDTH);
    // An account's Save and Remove (and the questions they ask) stay in a bar under the page,
    // in sight however far the page is scrolled.
    let (body, footer) = match state.section {
        Section::General => (general(state), None),
        Section::Account(id) => match state.accounts.iter().find(|o| o.account == id) {
            Some(o) => {
                let (form, bar) = account(o, state.confirm_remove.as_ref(), state.confirm_mailbox);
                (form, Some(bar))
            }
            None => (text("This account was removed.").into(), None),
        },
    };
    // What the last action did: beside the Save that did it, or at the top of the page.
    let mut footer = footer.map(|bar| column![bar].spacing(space::M));
    if let Some(notice) = state.notice.as_ref().map(notice) {
        match footer.take() {
            Some(bar) => footer = Some(column![notice, bar].spacing(space::M)),
            None => page = page.push(notice),
        }
    }
    page = page.push(body);
    let sidebar = container(
        column![
            text("Settings").size(size::HEADING).font(theme::semibold()),
            pages,
        ]
        .spacing(space::L),
    )
    .padding(space::XL)
    .width(240)
    .height(Length::Fill)
    .style(theme::sidebar);
    let close = pressable(
        button(
            row![
                widgets::plain_icon(Icon::X, size::ICON),
                text("Close").size(size::BODY)
            ]
            .spacing(space::S)
            .align_y(iced::Alignment::Center),
        )
        .padding([space::S, space::L])
        .style(theme::secondary_button),
        Message::Close,
    );
    let mut right = column![
        row![iced::widget::space::horizontal(), close].padding([space::L, space::XL]),
        scrollable(
            container(page)
                .padding(iced::Padding::from([0.0, space::XXL]).bottom(space::XL))
                .width(Length::Fill)
                .center_x(Length::Fill)
        )
        .height(Length::Fill),
    ]
    .width(Length::Fill);
    if let Some(bar) = footer {
        right = right.push(iced::widget::rule::horizontal(1).style(theme::rule));
        right = right.push(
            container(container(bar).max_width(PAGE_WIDTH))
                .padding([space::L, space::XXL])
                .center_x(Length::Fill),
        );
    }
    row![sidebar, right].height(Length::Fill).into()
}

/// A notice: a check mark when something was done, the danger colour when it failed.
fn notice(notice: &super::Notice) -> Element<'_, Message> {
    let (icon, words, failed) = match notice {
        super::Notice::Done(words) => (Icon::CircleCheck, words, false),
        super::Notice::Failed(words) => (Icon::TriangleAlert, words, true),
    };
    row![
        widgets::icon(icon, size::ICON, move |t| {
            let c = theme::colors(t);
            if failed { c.danger } else { c.success }
        }),
        text(words.clone())
            .size(size::SMALL)
            .style(move |t| if failed {
                theme::danger(t)
            } else {
                text::Style::default()
            }),
    ]
    .spacing(space::S)
    .align_y(iced::Alignment::Center)
    .into()
}

/// The page's title and one line under it.
fn heading<'a>(title: &'a str, line: &'a str) -> Element<'a, Message> {
    column![
        text(title).size(size::TITLE).font(theme::semibold()),
        text(line).size(size::SMALL).style(theme::muted),
    ]
    .spacing(space::XS)
    .into()
}

/// The global choices: the theme, reading, notifications.
fn general(state: &State) -> Element<'_, Message> {
    let current = state.global.theme;
    let choice = |icon: Icon, label: &'static str, choice: theme::Choice| {
        let selected = current == choice;
        pressable(
            button(
                row![
                    widgets::plain_icon(icon, size::ICON),
                    text(label).size(size::SMALL)
                ]
                .spacing(space::S)
                .align_y(iced::Alignment::Center),
            )
            .padding([space::S, space::L])
            .style(move |t, s| {
                if selected {
                    theme::folder_button(t, s, true)
                } else {
                    theme::secondary_button(t, s)
                }
            }),
            Message::Theme(ThemeChoice(choice)),
        )
    };
    column![
        heading("General", "How Tern looks and behaves, for every account."),
        section(
            "Appearance",
            setting(
                "Theme",
                row![
                    choice(Icon::Settings, "Match the system", theme::Choice::System),
                    choice(Icon::Sun, "Light", theme::Choice::Light),
                    choice(Icon::Moon, "Dark", theme::Choice::Dark),
                ]
                .spacing(space::S),
            ),
        ),
        section(
            "Reading",
            column![
                checkbox(state.global.prefer_plain)
                    .label("Show messages as plain text")
                    .on_toggle(Message::PreferPlain),
                text("HTML mail is never allowed to load remote content, either way.")
                    .size(size::CAPTION)
                    .style(theme::muted),
            ]
            .spacing(space::XS),
        ),
        section(
            "Notifications",
            checkbox(state.global.notifications)
                .label("Notify me of new mail in the Inbox")
                .on_toggle(Message::Notifications),
        ),
    ]
    .spacing(space::XL)
    .into()
}

/// A text field of the account, in a setting row.
fn field<'a>(
    id: i64,
    label: &'a str,
    placeholder: &'a str,
    value: &'a str,
    which: AccountField,
) -> iced::widget::Row<'a, Message> {
    setting(
        label,
        text_input(placeholder, value)
            .on_input(move |v| Message::Account(id, which, v))
            .padding(space::S),
    )
}

/// A server's host:port field and its security choice.
fn server<'a>(
    id: i64,
    label: &'a str,
    value: &'a str,
    which: AccountField,
    security: Security,
    direction: Direction,
) -> iced::widget::Row<'a, Message> {
    setting(
        label,
        row![
            text_input("host:port", value)
                .on_input(move |v| Message::Account(id, which, v))
                .padding(space::S),
            crate::ui::wizard::security_choice(security, move |s| {
                Message::AccountSecurity(id, direction, s)
            }),
        ]
        .spacing(space::S)
        .align_y(iced::Alignment::Center),
    )
}

/// One account's identity, servers and options, and the bar under them: Save, Remove account,
/// and the pending question, if any. `confirm` is the question before it is removed: (account,
/// what would be lost).
fn account<'a>(
    o: &'a Options,
    confirm: Option<&'a (i64, String)>,
    confirm_mailbox: Option<i64>,
) -> (Element<'a, Message>, Element<'a, Message>) {
    let id = o.account;
    let title = row![
        widgets::avatar(&o.display_name, &o.email, 44.0),
        column![
            text(&o.name).size(size::TITLE).font(theme::semibold()),
            text(format!(
                "{} · {}",
                o.email,
                match o.protocol {
                    Protocol::Imap => "IMAP",
                    Protocol::Pop3 => "POP3",
                }
            ))
            .size(size::SMALL)
            .style(theme::muted),
        ]
        .spacing(space::XXS),
    ]
    .spacing(space::L)
    .align_y(iced::Alignment::Center);
    let identity = column![
        field(
            id,
            "Your name",
            "",
            &o.display_name,
            AccountField::DisplayName
        ),
        field(id, "Email address", "", &o.email, AccountField::Email),
        setting(
            "Signature",
            text_input("none", &o.signature)
                .on_input(move |v| Message::Signature(id, v))
                .padding(space::S),
        ),
    ]
    .spacing(space::M);
    let servers = column![
        server(
            id,
            match o.protocol {
                Protocol::Imap => "Incoming (IMAP)",
                Protocol::Pop3 => "Incoming (POP3)",
            },
            &o.incoming,
            AccountField::Incoming,
            o.incoming_security,
            Direction::Incoming,
        ),
        server(
            id,
            "Outgoing (SMTP)",
            &o.outgoing,
            AccountField::Outgoing,
            o.outgoing_security,
            Direction::Outgoing,
        ),
    ]
    .spacing(space::M);
    let sign_in = column![
        field(id, "Login", "", &o.login, AccountField::Login),
        setting(
            "New password",
            text_input(
                "unchanged (kept in the system keyring)",
                o.password.expose()
            )
            .on_input(move |v| Message::Password(id, Secret::new(v)))
            .secure(true)
            .padding(space::S),
        ),
        field(
            id,
            "Password command",
            "none (the keyring)",
            &o.password_cmd,
            AccountField::PasswordCmd
        ),
    ]
    .spacing(space::M);
    let certificates = column![
        field(
            id,
            "CA file (PEM)",
            "the system's",
            &o.ca_file,
            AccountField::CaFile
        ),
        field(
            id,
            "Pinned certificate",
            "none (SHA-256 in hex)",
            &o.cert_sha256,
            AccountField::CertSha256
        ),
    ]
    .spacing(space::M);
    let mut mail = column![mail_options(o)].spacing(space::M);
    // A POP3 account's Sent folder is local: there is no server copy to rely on.
    if o.protocol == Protocol::Imap {
        mail = mail.push(
            checkbox(o.server_saves_sent)
                .label("The server files sent mail itself (no copy to Sent)")
                .on_toggle(move |v| Message::ServerSavesSent(id, v)),
        );
    }
    let actions = row![
        pressable(
            button(text("Save").font(theme::semibold()))
                .padding([space::S, space::XL])
                .style(theme::primary_button),
            Message::SaveAccount(id)
        ),
        iced::widget::space::horizontal(),
        pressable(
            button(text("Remove account"))
                .padding([space::S, space::L])
                .style(theme::danger_button),
            Message::RemoveAccount(id)
        ),
    ]
    .spacing(space::M);
    let form = column![
        title,
        section("Identity", identity),
        // What people change most first; the servers and their sign-in, set once, after.
        section("Mail", mail),
        section("Servers", servers),
        section("Sign-in", sign_in),
        section("Certificates", certificates),
    ]
    .spacing(space::XL);
    let mut bar = column![].spacing(space::M);
    if confirm_mailbox == Some(id) {
        bar = bar.push(same_mailbox(o));
    }
    if let Some((account, lost)) = confirm
        && *account == id
    {
        bar = bar.push(removal(o, lost));
    }
    (form.into(), bar.push(actions).into())
}

/// Asked when a new incoming server or login may be another mailbox.
fn same_mailbox(o: &Options) -> Element<'_, Message> {
    let id = o.account;
    container(
        column![
            text("The new incoming server or login may be another mailbox. Is it?")
                .font(theme::semibold()),
            row![
                pressable(
                    button(text("Same mailbox, new name: keep what is here"))
                        .style(theme::secondary_button),
                    Message::SaveMailbox(id, false)
                ),
                pressable(
                    button(text("Another mailbox: start its cache over"))
                        .style(theme::secondary_button),
                    Message::SaveMailbox(id, true)
                ),
                pressable(
                    button(text("Cancel")).style(theme::secondary_button),
                    Message::CancelSave
                ),
            ]
            .spacing(space::M),
            text(match o.protocol {
                Protocol::Imap => "Starting over drops the cached copies of the old mailbox and downloads the new one; the outbox is kept.",
                Protocol::Pop3 => "Either way the messages here are kept; starting over downloads all of the new server's mail.",
            })
            .size(size::SMALL),
        ]
        .spacing(space::M),
    )
    .padding(space::L)
    .style(theme::banner)
    .into()
}

/// Asked before an account is removed: what would be lost.
fn removal<'a>(o: &'a Options, lost: &str) -> Element<'a, Message> {
    let id = o.account;
    container(
        column![
            row![
                widgets::icon(Icon::TriangleAlert, size::ICON, |t| theme::colors(t).danger),
                text(format!("Remove {}? {}.", o.name, capitalise(lost))).style(theme::danger),
            ]
            .spacing(space::S)
            .align_y(iced::Alignment::Center),
            row![
                pressable(
                    button(text("Remove anyway")).style(theme::danger_button),
                    Message::ConfirmRemove(id)
                ),
                pressable(
                    button(text("Keep it")).style(theme::secondary_button),
                    Message::CancelRemove
                ),
            ]
            .spacing(space::M),
        ]
        .spacing(space::M),
    )
    .padding(space::L)
    .style(theme::menu)
    .into()
}

/// What is fetched and kept: for IMAP, the days to sync and offline bodies; for POP3, whether
/// and how long mail stays on the server and the size over which only headers come; for both,
/// how often to check.
fn mail_options(o: &Options) -> Element<'_, Message> {
    let id = o.account;
    let check = move |c: MailCheck| Message::MailCheck(id, c);
    let every = setting(
        "Check mail every",
        row![
            small(
                text_input("10", &o.check_minutes)
                    .on_input(move |v| check(MailCheck::CheckMinutes(v)))
                    .width(80)
            ),
            text("minutes").style(theme::muted),
        ]
        .spacing(space::M)
        .align_y(iced::Alignment::Center),
    );
    if o.protocol == Protocol::Imap {
        return column![
            setting(
                "Days to sync",
                small(
                    text_input("all mail", &o.sync_days)
                        .on_input(move |v| Message::SyncDays(id, v))
                        .width(120)
                ),
            ),
            every,
            checkbox(o.download_bodies)
                .label("Download all messages for offline reading")
                .on_toggle(move |v| Message::DownloadBodies(id, v)),
        ]
        .spacing(space::M)
        .into();
    }
    let leave = o.leave_on_server;
    let days = small(text_input("never", &o.delete_after_days).width(80));
    let days = if leave {
        days.on_input(move |v| check(MailCheck::DeleteAfterDays(v)))
    } else {
        days
    };
    let when_deleted = checkbox(o.delete_when_deleted && leave)
        .label("Delete them from the server when I delete them here");
    let when_deleted = if leave {
        when_deleted.on_toggle(move |v| check(MailCheck::DeleteWhenDeleted(v)))
    } else {
        when_deleted
    };
    let indent = || iced::widget::Space::new().width(space::XXL);
    column![
        checkbox(leave)
            .label("Leave messages on the server (the copy here is kept either way)")
            .on_toggle(move |v| check(MailCheck::LeaveOnServer(v))),
        row![
            indent(),
            text("Delete them from the server after"),
            days,
            text("days"),
        ]
        .spacing(space::M)
        .align_y(iced::Alignment::Center),
        row![indent(), when_deleted].spacing(space::M),
        setting(
            "Headers only over",
            row![
                small(
                    text_input("no limit", &o.headers_only_kb)
                        .on_input(move |v| check(MailCheck::HeadersOnlyKb(v)))
                        .width(80)
                ),
                text("KB (the rest comes when you open the message)").style(theme::muted),
            ]
            .spacing(space::M)
            .align_y(iced::Alignment::Center),
        ),
        every,
    ]
    .spacing(space::M)
    .into()
}

/// A short number field.
fn small(input: text_input::TextInput<'_, Message>) -> text_input::TextInput<'_, Message> {
    input.padding(space::S)
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}
