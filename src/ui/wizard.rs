//! The account setup wizard: name, address and password, then Continue; discovery shows where
//! the settings came from (and offers IMAP or POP3 when both exist); both servers are logged
//! in to before anything is stored; a certificate that cannot be verified is shown (subject,
//! issuer, SHA-256) for the user to trust exactly it; the manual form has every field of
//! `tern account add`. Opens on first start and from Settings. Enter takes the step forward,
//! Escape goes back, Tab moves between fields.

use iced::widget::{
    button, column, container, pick_list, radio, row, scrollable, space, text, text_input,
};
use iced::{Element, Length, Task};

use super::data::setup::{self as work, CheckFailed};
use super::theme;
use crate::account::autoconfig::{ProviderConfig, Sources};
use crate::account::{AccountSettings, Protocol, Security, ServerAddr};
use crate::engine::discover::Discovery;
use crate::protocol::tls::CertificateInfo;
use crate::store::Store;

/// Where the wizard is.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Name, address and password.
    Start,
    /// Discovery is running.
    Looking,
    /// Settings were found: where from, and IMAP or POP3.
    Found,
    /// Every field, by hand.
    Manual,
    /// Logging in to both servers.
    Checking,
    /// A certificate could not be verified: trust exactly it?
    Trust(Box<CertificateInfo>),
    /// Saving.
    Saving,
    /// Set up; the first sync runs.
    Done(String),
}

/// The manual form (also what the found settings fill in).
#[derive(Debug, Clone)]
pub struct Form {
    pub protocol: Protocol,
    pub incoming: String,
    pub incoming_security: Security,
    pub outgoing: String,
    pub outgoing_security: Security,
    pub login: String,
    pub password_cmd: String,
    pub ca_file: String,
    pub cert_sha256: String,
}

impl Default for Form {
    fn default() -> Form {
        Form {
            protocol: Protocol::Imap,
            incoming: String::new(),
            incoming_security: Security::Tls,
            outgoing: String::new(),
            outgoing_security: Security::Tls,
            login: String::new(),
            password_cmd: String::new(),
            ca_file: String::new(),
            cert_sha256: String::new(),
        }
    }
}

/// A text field of the wizard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Name,
    Email,
    Password,
    Incoming,
    Outgoing,
    Login,
    PasswordCmd,
    CaFile,
    CertSha256,
}

#[derive(Debug)]
pub struct State {
    pub step: Step,
    pub name: String,
    pub email: String,
    pub password: String,
    pub form: Form,
    /// What discovery found: where from (in words), and the settings.
    found: Option<(String, ProviderConfig)>,
    /// What went wrong last, in words.
    error: Option<String>,
    sources: Result<Sources, String>,
    /// Opened because there is no account yet (then there is nothing to cancel back to).
    pub first_start: bool,
}

#[derive(Debug, Clone)]
pub enum Message {
    Field(Field, String),
    Protocol(Protocol),
    IncomingSecurity(Security),
    OutgoingSecurity(Security),
    /// The step's main action (Enter).
    Continue,
    ManualSetup,
    Discovered(Result<Discovery, String>),
    Checked(Result<(), CheckFailed>),
    TrustCertificate,
    Named(Result<String, String>),
    Saved(Result<String, String>),
    /// Escape: one step back (or close).
    Back,
    Cancel,
    Finish,
}

/// What the window does after an update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    None,
    Close,
    /// An account was added: reload the accounts (its engine starts and syncs).
    Added,
}

/// The one line on each protocol.
const IMAP_LINE: &str = "Mail stays on the server and is the same on every device; it is cached here for offline reading.";
const POP3_LINE: &str = "Mail is downloaded to this computer, which then holds the authoritative copy; it can be left on the server for a time.";

impl State {
    pub fn new(sources: Result<Sources, String>, first_start: bool) -> State {
        State {
            step: Step::Start,
            name: String::new(),
            email: String::new(),
            password: String::new(),
            form: Form::default(),
            found: None,
            error: None,
            sources,
            first_start,
        }
    }

    fn domain(&self) -> String {
        crate::account::autoconfig::domain_of(self.email.trim()).unwrap_or_default()
    }

    /// Fills the form from the found settings for `protocol`.
    fn fill(&mut self, protocol: Protocol) {
        let Some((_, config)) = &self.found else {
            return;
        };
        self.form.protocol = protocol;
        if let Some(server) = config.best_incoming(protocol, false) {
            self.form.incoming = format!("{}:{}", server.host, server.port);
            self.form.incoming_security = server.security;
            self.form.login = server.username.clone();
        }
        if let Some(server) = config.best_outgoing(false) {
            self.form.outgoing = format!("{}:{}", server.host, server.port);
            self.form.outgoing_security = server.security;
        }
    }

    /// The settings the form describes, for `name` (the account's unique name).
    fn settings(&self, name: String) -> Result<AccountSettings, String> {
        let email = self.email.trim().to_owned();
        let optional = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
        let settings = AccountSettings {
            name,
            display_name: self.name.trim().to_owned(),
            login: optional(&self.form.login).unwrap_or_else(|| email.clone()),
            email,
            protocol: self.form.protocol,
            incoming: ServerAddr::parse(self.form.incoming.trim())
                .map_err(|e| format!("Incoming server: {e}"))?,
            incoming_security: self.form.incoming_security,
            outgoing: ServerAddr::parse(self.form.outgoing.trim())
                .map_err(|e| format!("Outgoing server: {e}"))?,
            outgoing_security: self.form.outgoing_security,
            password_cmd: optional(&self.form.password_cmd),
            ca_file: optional(&self.form.ca_file).map(std::path::PathBuf::from),
            cert_sha256: optional(&self.form.cert_sha256)
                .map(|fp| crate::account::settings::normalize_fingerprint(&fp))
                .transpose()
                .map_err(|e| e.to_string())?,
        };
        settings.validate().map_err(|e| e.to_string())?;
        Ok(settings)
    }

    /// Checks the form's settings against both servers (the name is not needed yet).
    fn check(&mut self) -> Task<Message> {
        match self.settings(self.email.trim().to_owned()) {
            Ok(settings) => {
                self.error = None;
                self.step = Step::Checking;
                Task::perform(
                    work::verify(settings, self.password.clone()),
                    Message::Checked,
                )
            }
            Err(e) => {
                self.error = Some(e);
                self.step = Step::Manual;
                Task::none()
            }
        }
    }
}

pub fn update(state: &mut State, message: Message, store: &Store) -> (Task<Message>, Action) {
    let none = (Task::none(), Action::None);
    match message {
        Message::Field(field, value) => {
            let slot = match field {
                Field::Name => &mut state.name,
                Field::Email => &mut state.email,
                Field::Password => &mut state.password,
                Field::Incoming => &mut state.form.incoming,
                Field::Outgoing => &mut state.form.outgoing,
                Field::Login => &mut state.form.login,
                Field::PasswordCmd => &mut state.form.password_cmd,
                Field::CaFile => &mut state.form.ca_file,
                Field::CertSha256 => &mut state.form.cert_sha256,
            };
            *slot = value;
            none
        }
        Message::Protocol(protocol) => {
            if state.step == Step::Found {
                state.fill(protocol);
            } else {
                state.form.protocol = protocol;
            }
            none
        }
        Message::IncomingSecurity(security) => {
            state.form.incoming_security = security;
            none
        }
        Message::OutgoingSecurity(security) => {
            state.form.outgoing_security = security;
            none
        }
        Message::Continue => match state.step {
            Step::Start => {
                if let Err(e) = crate::account::settings::validate_email(state.email.trim()) {
                    state.error = Some(format!("Email address: {e}"));
                    return none;
                }
                if state.password.is_empty() {
                    state.error = Some("Enter your password.".into());
                    return none;
                }
                state.error = None;
                state.step = Step::Looking;
                (
                    Task::perform(
                        work::discover(state.email.trim().to_owned(), state.sources.clone()),
                        Message::Discovered,
                    ),
                    Action::None,
                )
            }
            Step::Found | Step::Manual => (state.check(), Action::None),
            Step::Trust(_) => update(state, Message::TrustCertificate, store),
            Step::Done(_) => update(state, Message::Finish, store),
            Step::Looking | Step::Checking | Step::Saving => none,
        },
        Message::ManualSetup => {
            if state.form.incoming.is_empty() && state.form.outgoing.is_empty() {
                let domain = state.domain();
                if !domain.is_empty() {
                    state.form.incoming = format!("imap.{domain}:993");
                    state.form.outgoing = format!("smtp.{domain}:465");
                }
            }
            if state.form.login.is_empty() {
                state.form.login = state.email.trim().to_owned();
            }
            state.step = Step::Manual;
            none
        }
        Message::Discovered(result) => {
            if state.step != Step::Looking {
                return none;
            }
            match result {
                Ok(discovery) => match discovery.found() {
                    Some((attempt, config)) => {
                        let source = match attempt.detail.is_empty() {
                            true => attempt.source.describe().to_owned(),
                            false => format!("{} ({})", attempt.source.describe(), attempt.detail),
                        };
                        let protocol = config
                            .protocols()
                            .first()
                            .copied()
                            .unwrap_or(Protocol::Imap);
                        state.found = Some((source, config.clone()));
                        state.fill(protocol);
                        state.step = Step::Found;
                    }
                    None => {
                        state.error = Some(format!(
                            "No settings were found for {}. Enter the servers your provider names.",
                            discovery.domain
                        ));
                        return update(state, Message::ManualSetup, store);
                    }
                },
                Err(e) => {
                    state.error = Some(e);
                    return update(state, Message::ManualSetup, store);
                }
            }
            none
        }
        Message::Checked(result) => {
            if state.step != Step::Checking {
                return none;
            }
            match result {
                Ok(()) => {
                    state.step = Step::Saving;
                    (
                        Task::perform(
                            work::free_name(store.clone(), state.email.trim().to_owned()),
                            Message::Named,
                        ),
                        Action::None,
                    )
                }
                Err(failed) => {
                    state.error = Some(failed.reason);
                    state.step = match failed.certificate {
                        Some(cert) if state.form.cert_sha256.trim().is_empty() => Step::Trust(cert),
                        _ => Step::Manual,
                    };
                    none
                }
            }
        }
        Message::TrustCertificate => {
            if let Step::Trust(cert) = &state.step {
                state.form.cert_sha256 = cert.sha256.clone();
                return (state.check(), Action::None);
            }
            none
        }
        Message::Named(result) => {
            let settings = result.and_then(|name| state.settings(name));
            match settings {
                Ok(settings) => (
                    Task::perform(
                        work::save(store.clone(), settings, state.password.clone()),
                        Message::Saved,
                    ),
                    Action::None,
                ),
                Err(e) => {
                    state.error = Some(e);
                    state.step = Step::Manual;
                    none
                }
            }
        }
        Message::Saved(result) => match result {
            Ok(notice) => {
                state.error = None;
                state.password.clear();
                state.step = Step::Done(notice);
                (Task::none(), Action::Added)
            }
            Err(e) => {
                state.error = Some(e);
                state.step = Step::Manual;
                none
            }
        },
        Message::Back => {
            state.step = match &state.step {
                Step::Start if !state.first_start => return (Task::none(), Action::Close),
                Step::Found | Step::Manual | Step::Looking => Step::Start,
                Step::Trust(_) => Step::Manual,
                Step::Done(_) => return (Task::none(), Action::Close),
                other => other.clone(),
            };
            none
        }
        Message::Cancel | Message::Finish => (Task::none(), Action::Close),
    }
}

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
    if !state.first_start {
        actions = actions
            .push(space::horizontal())
            .push(button(text("Cancel")).on_press(Message::Cancel));
    }
    column![
        text("Type your name, address and password; Tern finds your provider's settings and checks them before it saves anything.")
            .style(theme::muted),
        labelled("Your name", input("Jo Example", &state.name, Field::Name)),
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
    body.push(
        row![
            button(text("Continue")).on_press(Message::Continue),
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
