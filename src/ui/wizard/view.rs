//! The wizard's screens: the start (name, address, password), the found settings with the
//! IMAP/POP3 choice, the manual form, the trust step, progress and done.

use iced::widget::{
    button, column, container, pick_list, radio, row, scrollable, space, text, text_input,
};
use iced::{Element, Length};

use super::{Field, IMAP_LINE, Message, POP3_LINE, State, Step};
use crate::account::{Protocol, Security};
use crate::engine::discover::CertificateInfo;
use crate::ui::theme;

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

fn input<'a>(hint: &'a str, value: &'a str, field: Field) -> text_input::TextInput<'a, Message> {
    text_input(hint, value)
        .on_input(move |v| Message::Field(field, v))
        .on_submit(Message::Continue)
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
            button(text("Open the mailbox")).on_press(Message::Finish),
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
        button(text("Continue")).on_press(Message::Continue),
        button(text("Set up manually")).on_press(Message::ManualSetup),
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
        .push(button(text(leave)).on_press(Message::Cancel));
    column![
        text("Type your name, address and password; Tern finds your provider's settings and checks them before it saves anything.")
            .style(theme::muted),
        labelled(
            "Your name",
            input("Jo Example", &state.name, Field::Name).id(first_field())
        ),
        labelled("Email address", input("jo@example.com", &state.email, Field::Email)),
        labelled(
            "Password",
            input("your password", &state.password, Field::Password).secure(true)
        ),
        actions,
    ]
    .spacing(12)
    .into()
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
        for (protocol, line) in [(Protocol::Imap, IMAP_LINE), (Protocol::Pop3, POP3_LINE)] {
            body = body.push(
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
    }
    body = body.push(
        column![
            text(format!(
                "Incoming: {} {}, {}",
                protocol_name(state.form.protocol),
                state.form.incoming,
                security_words(state.form.incoming_security)
            )),
            text(format!(
                "Outgoing: SMTP {}, {}",
                state.form.outgoing,
                security_words(state.form.outgoing_security)
            )),
            text(format!("Login: {}", state.form.login)),
        ]
        .spacing(4),
    );
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
            button(text(go)).on_press_maybe(state.error.is_none().then_some(Message::Continue)),
            button(text("Edit settings")).on_press(Message::ManualSetup),
            space::horizontal(),
            button(text("Back")).on_press(Message::Back),
        ]
        .spacing(8),
    )
    .into()
}

fn manual(state: &State) -> Element<'_, Message> {
    let f = &state.form;
    let securities = [Security::Tls, Security::Starttls, Security::Plain];
    column![
        labelled(
            "Protocol",
            row![
                radio("IMAP", Protocol::Imap, Some(f.protocol), Message::Protocol),
                radio("POP3", Protocol::Pop3, Some(f.protocol), Message::Protocol),
            ]
            .spacing(24)
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
            ),
            labelled(
                "Security",
                pick_list(
                    securities,
                    Some(f.incoming_security),
                    Message::IncomingSecurity
                )
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
                pick_list(
                    securities,
                    Some(f.outgoing_security),
                    Message::OutgoingSecurity
                )
            ),
        ]
        .spacing(8),
        labelled(
            "Login name",
            input("usually your address", &f.login, Field::Login)
        ),
        labelled(
            "Password command (optional; its first line is the password)",
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
        row![
            button(text("Check and save")).on_press(Message::Continue),
            space::horizontal(),
            button(text("Back")).on_press(Message::Back),
        ]
        .spacing(8),
    ]
    .spacing(12)
    .into()
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
    column![
        text(format!(
            "The certificate of {} is not signed by an authority this computer trusts. Trust it only if you know this server uses its own certificate (your provider or your administrator can tell you the fingerprint).",
            cert.server
        )),
        field("Issued to", cert.subject.clone()),
        field("Issued by", cert.issuer.clone()),
        field("SHA-256", fingerprint),
        text("Tern will then accept exactly this certificate for this account, and refuse any other.")
            .size(13)
            .style(theme::muted),
        row![
            button(text("Trust this certificate")).on_press(Message::TrustCertificate),
            space::horizontal(),
            button(text("Back")).on_press(Message::Back),
        ]
        .spacing(8),
    ]
    .spacing(10)
    .into()
}
