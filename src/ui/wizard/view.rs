//! The wizard's screens: the start (name, address, password), the found settings with the
//! IMAP/POP3 choice, the manual form, the trust step, progress and done.

use iced::widget::{button, column, container, radio, row, scrollable, space, text, text_input};
use iced::{Element, Length};

use super::{Field, IMAP_LINE, Message, POP3_LINE, State, Step};
use crate::account::credentials::Secret;
use crate::account::{Protocol, Security};
use crate::engine::discover::CertificateInfo;
use crate::ui::theme::space as tspace;
use crate::ui::{focus, theme};

fn protocol_name(protocol: Protocol) -> &'static str {
    match protocol {
        Protocol::Imap => "IMAP",
        Protocol::Pop3 => "POP3",
    }
}

fn security_words(security: Security) -> &'static str {
    match security {
        Security::Tls => "encrypted (TLS)",
        Security::Starttls => "encrypted (STARTTLS)",
        Security::Plain => "NOT encrypted",
    }
}

/// The wizard's first field, focused when it opens.
pub fn first_field() -> iced::widget::Id {
    iced::widget::Id::new("wizard-name")
}

/// Where the keyboard focus goes when a step opens: the first field of a form, else nowhere
/// (Enter then takes the step's main action), so a control focused on an earlier step never
/// hands its focus to whatever now sits in its place.
pub fn focus_for<T: Send + 'static>(step: &Step) -> iced::Task<T> {
    use iced::widget::operation;
    match step {
        Step::Start => operation::focus(first_field()),
        Step::Manual => operation::focus(iced::widget::Id::new("wizard-incoming")),
        _ => {
            iced::advanced::widget::operate(iced::advanced::widget::operation::focusable::unfocus())
        }
    }
}

/// The card the steps are drawn in, centred.
fn card<'a>(
    title: &'a str,
    body: Element<'a, Message>,
    error: Option<Element<'a, Message>>,
) -> Element<'a, Message> {
    let mut content = column![text(title).size(24).font(theme::bold()), body]
        .spacing(16)
        .max_width(560);
    if let Some(error) = error {
        content = content.push(error);
    }
    container(content).padding(32).center_x(Length::Fill).into()
}

fn labelled<'a>(label: &'a str, input: impl Into<Element<'a, Message>>) -> Element<'a, Message> {
    column![text(label).size(13).style(theme::muted), input.into()]
        .spacing(4)
        .into()
}

/// A button that Tab reaches too (Enter or Space presses it).
fn action<'a>(label: &'a str, message: Option<Message>) -> Element<'a, Message> {
    focus::activate(
        button(text(label))
            .padding([6.0, 14.0])
            .style(theme::primary_button)
            .on_press_maybe(message.clone()),
        message,
    )
}

/// A button beside the step's main one (another way on, or leaving).
fn secondary<'a>(label: &'a str, message: Option<Message>) -> Element<'a, Message> {
    focus::activate(
        button(text(label))
            .padding([6.0, 14.0])
            .style(theme::secondary_button)
            .on_press_maybe(message.clone()),
        message,
    )
}

fn input<'a>(hint: &'a str, value: &'a str, field: Field) -> text_input::TextInput<'a, Message> {
    text_input(hint, value)
        .on_input(move |v| Message::Field(field, v))
        .on_submit(Message::Enter)
        .padding(8)
}

/// The password field (its text is a `Secret`, never in `Debug` output).
fn password(state: &State) -> text_input::TextInput<'_, Message> {
    text_input("your password", state.password.expose())
        .on_input(|v| Message::Password(Secret::new(v)))
        .on_submit(Message::Enter)
        .secure(true)
        .padding(8)
}

pub fn view(state: &State) -> Element<'_, Message> {
    // The trust step says what failed in its own words.
    let error = state
        .error
        .as_ref()
        .filter(|_| !matches!(state.step, Step::Trust(_)))
        .map(|e| text(e.clone()).style(theme::danger));
    let body: Element<'_, Message> = match &state.step {
        Step::Start => start(state),
        Step::Looking => column![
            text(format!("Looking up settings for {}…", state.domain())),
            text("The provider's own autoconfiguration, the Thunderbird ISPDB, DNS records and common server names are asked at once.")
                .size(13)
                .style(theme::muted),
        ]
        .spacing(8)
        .into(),
        Step::Found => found(state),
        Step::Manual => manual(state),
        Step::Checking => text(format!(
            "Logging in to {} and {}…",
            state.form.incoming.trim(),
            state.form.outgoing.trim()
        ))
        .into(),
        Step::Trust(cert) => trust(cert),
        Step::Saving => text("Saving the account…").into(),
        Step::Done(notice) => column![
            text(notice.clone()),
            text("The first sync has started; its progress shows in the status bar.")
                .style(theme::muted),
            action("Open the mailbox", Some(Message::Finish)),
        ]
        .spacing(12)
        .into(),
    };
    let title = match &state.step {
        Step::Trust(_) => "Trust this certificate?",
        Step::Done(_) => "All set",
        Step::Manual => "Server settings",
        _ => "Set up your mail account",
    };
    let page = column![card(title, body, error.map(Element::from))];
    container(scrollable(page.width(Length::Fill)).height(Length::Fill))
        .center_x(Length::Fill)
        .into()
}

fn start(state: &State) -> Element<'_, Message> {
    let mut actions = row![
        action("Continue", Some(Message::Continue)),
        secondary("Set up manually", Some(Message::ManualSetup)),
    ]
    .spacing(8);
    // A first start can be left too ("Not now"): the window stays empty until an account
    // is added in Settings.
    let leave = if state.first_start {
        "Not now"
    } else {
        "Cancel"
    };
    actions = actions
        .push(space::horizontal())
        .push(secondary(leave, Some(Message::Cancel)));
    column![
        text("Type your name, address and password; Tern finds your provider's settings and checks them before it saves anything.")
            .style(theme::muted),
        labelled(
            "Your name",
            input("Jo Example", &state.name, Field::Name).id(first_field())
        ),
        labelled("Email address", input("jo@example.com", &state.email, Field::Email)),
        labelled("Password", password(state)),
        actions,
    ]
    .spacing(12)
    .into()
}

/// "Incoming: IMAP host:993, encrypted (TLS)", or that none was found.
fn server_line(what: &str, server: &str, security: Security) -> String {
    if server.is_empty() {
        format!("{what}: no encrypted server found")
    } else {
        format!("{what} {server}, {}", security_words(security))
    }
}

fn found(state: &State) -> Element<'_, Message> {
    let Some((source, config)) = &state.found else {
        return text("").into();
    };
    let provider = config
        .display_name
        .clone()
        .unwrap_or_else(|| state.domain());
    let mut body = column![
        text(format!("Found the settings for {provider}.")),
        text(format!("Source: {source}"))
            .size(13)
            .style(theme::muted),
    ]
    .spacing(12);
    let offered = config.protocols();
    if offered.len() > 1 {
        let mut choices = column![].spacing(12);
        for (protocol, line) in [(Protocol::Imap, IMAP_LINE), (Protocol::Pop3, POP3_LINE)] {
            choices = choices.push(
                column![
                    radio(
                        protocol_name(protocol),
                        protocol,
                        Some(state.form.protocol),
                        Message::Protocol
                    ),
                    text(line).size(13).style(theme::muted),
                ]
                .spacing(2),
            );
        }
        body = body.push(protocols(choices, state.form.protocol));
    }
    body = body.push(crate::ui::widgets::group(
        column![
            text(server_line(
                &format!("Incoming: {}", protocol_name(state.form.protocol)),
                &state.form.incoming,
                state.form.incoming_security
            )),
            text(server_line(
                "Outgoing: SMTP",
                &state.form.outgoing,
                state.form.outgoing_security
            )),
            text(format!("Login: {}", state.form.login)),
        ]
        .spacing(tspace::S),
    ));
    if let Some(warning) = &state.warning {
        body = body.push(text(warning.clone()).style(theme::danger));
    }
    let go = if state.warning.is_some() {
        "Use these servers"
    } else {
        "Continue"
    };
    body.push(
        row![
            action(go, state.error.is_none().then_some(Message::Continue)),
            secondary("Edit settings", Some(Message::ManualSetup)),
            space::horizontal(),
            secondary("Back", Some(Message::Back)),
        ]
        .spacing(8),
    )
    .into()
}

fn manual(state: &State) -> Element<'_, Message> {
    let f = &state.form;
    column![
        labelled(
            "Protocol",
            protocols(
                row![
                    radio("IMAP", Protocol::Imap, Some(f.protocol), Message::Protocol),
                    radio("POP3", Protocol::Pop3, Some(f.protocol), Message::Protocol),
                ]
                .spacing(24),
                f.protocol
            )
        ),
        text(match f.protocol {
            Protocol::Imap => IMAP_LINE,
            Protocol::Pop3 => POP3_LINE,
        })
        .size(13)
        .style(theme::muted),
        row![
            labelled(
                "Incoming server (host:port)",
                input("imap.example.com:993", &f.incoming, Field::Incoming)
                    .id(iced::widget::Id::new("wizard-incoming"))
            ),
            labelled(
                "Security",
                security_choice(f.incoming_security, Message::IncomingSecurity)
            ),
        ]
        .spacing(8),
        row![
            labelled(
                "Outgoing server (host:port)",
                input("smtp.example.com:465", &f.outgoing, Field::Outgoing)
            ),
            labelled(
                "Security",
                security_choice(f.outgoing_security, Message::OutgoingSecurity)
            ),
        ]
        .spacing(8),
        labelled(
            "Login name",
            input("usually your address", &f.login, Field::Login)
        ),
        labelled("Password", password(state)),
        labelled(
            "Password command (optional, instead of the password; its first line is the password)",
            input("pass show mail/jo", &f.password_cmd, Field::PasswordCmd)
        ),
        labelled(
            "CA file (optional; PEM, for a server with its own CA)",
            input("/path/to/ca.pem", &f.ca_file, Field::CaFile)
        ),
        labelled(
            "Pinned certificate (optional; SHA-256 in hex)",
            input("ab12…", &f.cert_sha256, Field::CertSha256)
        ),
    ]
    .push(
        state
            .warning
            .as_ref()
            .map(|warning| text(warning.clone()).style(theme::danger)),
    )
    .push(
        [f.incoming_security, f.outgoing_security]
            .contains(&Security::Plain)
            .then(|| {
                text("With security None, your password and your mail cross the network unencrypted: anyone on the way can read them.")
                    .style(theme::danger)
            }),
    )
    .push(
        row![
            action("Check and save", Some(Message::Continue)),
            space::horizontal(),
            secondary("Back", Some(Message::Back)),
        ]
        .spacing(8),
    )
    .spacing(12)
    .into()
}

/// The IMAP/POP3 radio group, which Tab reaches and the arrow keys change.
fn protocols<'a>(
    group: impl Into<Element<'a, Message>>,
    current: Protocol,
) -> Element<'a, Message> {
    focus::choice(group, move |step| {
        Message::Protocol(focus::stepped(
            &[Protocol::Imap, Protocol::Pop3],
            current,
            step,
        ))
    })
}

/// A security mode as the pick list names it (as other mail apps do).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Choice(Security);

impl std::fmt::Display for Choice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self.0 {
            Security::Tls => "SSL/TLS",
            Security::Starttls => "STARTTLS",
            Security::Plain => "None",
        })
    }
}

/// A security pick list ("SSL/TLS", "STARTTLS", "None"), which Tab reaches and the arrow keys
/// change (the wizard's and Settings').
pub fn security_choice<'a, M: Clone + 'a>(
    current: Security,
    on_pick: impl Fn(Security) -> M + Clone + 'a,
) -> Element<'a, M> {
    const SECURITIES: [Choice; 3] = [
        Choice(Security::Tls),
        Choice(Security::Starttls),
        Choice(Security::Plain),
    ];
    let step = on_pick.clone();
    focus::choice(
        crate::ui::widgets::pick(SECURITIES, Some(Choice(current)), move |c| on_pick(c.0))
            .width(120),
        move |s| step(focus::stepped(&SECURITIES, Choice(current), s).0),
    )
}

fn trust(cert: &CertificateInfo) -> Element<'_, Message> {
    let field = |label: &'static str, value: String| {
        row![
            text(label).width(90).style(theme::muted),
            text(value).font(iced::Font::MONOSPACE).size(13),
        ]
        .spacing(8)
    };
    // Pairs of hex digits with colons, 16 to a line (as browsers show it).
    let pairs: Vec<&str> = cert
        .sha256
        .as_bytes()
        .chunks(2)
        .filter_map(|pair| std::str::from_utf8(pair).ok())
        .collect();
    let fingerprint = pairs
        .chunks(16)
        .map(|line| line.join(":"))
        .collect::<Vec<_>>()
        .join("\n");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    let expiry = match cert.not_after {
        Some(at) if at < now => Some(
            text(format!(
                "This certificate expired on {}: a server that still uses it is not looked after, or is not the one it claims to be.",
                theme::long_date(at)
            ))
            .style(theme::danger),
        ),
        _ => None,
    };
    let valid_until = cert
        .not_after
        .map_or_else(|| "(not readable)".to_owned(), theme::long_date);
    column![
        text(format!(
            "The certificate of {} is not signed by an authority this computer trusts. Trust it only if you know this server uses its own certificate (your provider or your administrator can tell you the fingerprint).",
            cert.server
        )),
        crate::ui::widgets::group(
            column![
                field("Issued to", cert.subject.clone()),
                field("Issued by", cert.issuer.clone()),
                field("Valid until", valid_until),
                field("SHA-256", fingerprint),
            ]
            .spacing(tspace::M),
        )
        ,
    ]
    .push(expiry)
    .push(
        text("Tern will then accept exactly this certificate for this account, and refuse any other.")
            .size(13)
            .style(theme::muted),
    )
    .push(
        row![
            action("Trust this certificate", Some(Message::TrustCertificate)),
            space::horizontal(),
            secondary("Back", Some(Message::Back)),
        ]
        .spacing(8),
    )
    .spacing(10)
    .into()
}
