//! The account setup wizard: name, address and password, then Continue; discovery shows where
//! the settings came from (and offers IMAP or POP3 when both exist); both servers are logged
//! in to before anything is stored; a certificate that cannot be verified is shown (subject,
//! issuer, SHA-256) for the user to trust exactly it; the manual form has every field of
//! `tern account add`. Opens on first start and from Settings. Enter takes the step forward,
//! Escape goes back, Tab moves between fields, Up and Down choose IMAP or POP3.

use iced::Task;

mod view;

pub use view::{first_field, focus_for, security_choice, view};

use super::data::setup::{self as work, CheckFailed};
use crate::account::autoconfig::{ProviderConfig, Sources};
use crate::account::credentials::Secret;
use crate::account::{AccountSettings, Protocol, Security, ServerAddr};
use crate::engine::discover::CertificateInfo;
use crate::engine::discover::Discovery;
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

/// A text field of the wizard (the password is a message of its own, kept as a `Secret`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Name,
    Email,
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
    /// Never in `Debug` output (`Secret`).
    pub password: Secret,
    pub form: Form,
    /// What discovery found: where from (in words), and the settings.
    found: Option<(String, ProviderConfig)>,
    /// The whole answer (whether the servers came from DNS alone).
    discovery: Option<Discovery>,
    /// What went wrong last, in words.
    error: Option<String>,
    /// A caution about the found settings (servers outside the domain named only by DNS).
    warning: Option<String>,
    /// Numbers each lookup and check, so that an answer to an earlier one (the user went back
    /// and changed the address) is ignored.
    attempt: u64,
    /// The settings being checked, then the ones both servers took (what is saved).
    checking: Option<AccountSettings>,
    sources: Result<Sources, String>,
    /// Opened because there is no account yet (then there is nothing to cancel back to).
    pub first_start: bool,
}

#[derive(Debug, Clone)]
pub enum Message {
    Field(Field, String),
    Password(Secret),
    Protocol(Protocol),
    /// The other protocol than the one chosen (Up and Down on the keyboard).
    OtherProtocol,
    IncomingSecurity(Security),
    OutgoingSecurity(Security),
    /// The step's main action (its button, or Enter in a field).
    Continue,
    /// Enter where no field or button took it: the step's main action, except where the user
    /// must choose it deliberately (trusting a certificate, servers named only by DNS).
    Enter,
    ManualSetup,
    Discovered(u64, Result<Discovery, String>),
    Checked(u64, Result<(), CheckFailed>),
    TrustCertificate,
    Named(Result<String, String>),
    /// The new account's id and what to tell the user.
    Saved(Result<(i64, String), String>),
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
    /// An account was added (its id): reload the accounts (its engine starts and syncs).
    Added(i64),
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
            password: Secret::new(String::new()),
            form: Form::default(),
            found: None,
            discovery: None,
            error: None,
            warning: None,
            attempt: 0,
            checking: None,
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
        // What is not found stays empty (never a server of an earlier lookup).
        self.form.incoming.clear();
        self.form.outgoing.clear();
        if let Some(server) = config.best_incoming(protocol, false) {
            self.form.incoming = format!("{}:{}", server.host, server.port);
            self.form.incoming_security = server.security;
            self.form.login = server.username.clone();
        }
        if let Some(server) = config.best_outgoing(false) {
            self.form.outgoing = format!("{}:{}", server.host, server.port);
            self.form.outgoing_security = server.security;
        }
        let missing = [
            (self.form.incoming.is_empty(), "incoming"),
            (self.form.outgoing.is_empty(), "outgoing"),
        ]
        .into_iter()
        .filter_map(|(missing, what)| missing.then_some(what))
        .collect::<Vec<_>>();
        self.error = [config.best_incoming(protocol, false), config.best_outgoing(false)]
            .into_iter()
            .flatten()
            .find(|server| !server.takes_password())
            .map(|server| {
                format!(
                    "{}:{} does not take a password, which is all Tern can sign in with yet; use an app password in the manual settings if your provider offers one.",
                    server.host, server.port
                )
            })
            .or_else(|| {
                (!missing.is_empty()).then(|| {
                    format!(
                        "The settings found name no encrypted {} server. Enter one in the manual settings; security None there would send your password unencrypted.",
                        missing.join(" or ")
                    )
                })
            });
        // The caution is about the servers chosen now (IMAP's and POP3's may differ).
        self.caution();
    }

    /// The caution about the form's servers when they came from DNS alone and lie outside
    /// the address's domain (kept up to date as the user edits them in the manual form).
    fn caution(&mut self) {
        let host = |server: &str| {
            ServerAddr::parse(server.trim())
                .map(|addr| addr.host)
                .unwrap_or_default()
        };
        let hosts = [host(&self.form.incoming), host(&self.form.outgoing)];
        self.warning = self.discovery.as_ref().and_then(|discovery| {
            crate::engine::discover::outside_domain(
                discovery,
                hosts.iter().map(String::as_str).filter(|h| !h.is_empty()),
            )
        });
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
            ca_file: optional(&self.form.ca_file)
                .map(std::path::PathBuf::from)
                .map(|p| std::path::absolute(&p).unwrap_or(p)),
            cert_sha256: optional(&self.form.cert_sha256)
                .map(|fp| crate::account::settings::normalize_fingerprint(&fp))
                .transpose()
                .map_err(|e| e.to_string())?,
        };
        settings.validate().map_err(|e| e.to_string())?;
        Ok(settings)
    }

    /// Starts discovery for the typed address (Continue on the first screen).
    fn look_up(&mut self) -> Task<Message> {
        if let Err(e) = crate::account::settings::validate_email(self.email.trim()) {
            self.error = Some(format!("Email address: {e}"));
            return Task::none();
        }
        if self.password.expose().is_empty() {
            self.error = Some("Enter your password.".into());
            return Task::none();
        }
        // A new lookup: nothing of an earlier one stays (the manual form has the password
        // field too, so nobody needs to come back here to retry their edits).
        self.error = None;
        self.warning = None;
        self.found = None;
        self.discovery = None;
        self.form = Form::default();
        self.step = Step::Looking;
        self.attempt += 1;
        let attempt = self.attempt;
        Task::perform(
            work::discover(self.email.trim().to_owned(), self.sources.clone()),
            move |r| Message::Discovered(attempt, r),
        )
    }

    /// Takes discovery's answer: true when settings were found (the Found step), false when
    /// the manual form should follow (with the reason in `error`).
    fn discovered(&mut self, result: Result<Discovery, String>) -> bool {
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
                    self.found = Some((source, config.clone()));
                    self.discovery = Some(discovery.clone());
                    self.fill(protocol);
                    self.step = Step::Found;
                }
                None => {
                    self.error = Some(format!(
                        "No settings were found for {}. Enter the servers your provider names.",
                        discovery.domain
                    ));
                    return false;
                }
            },
            Err(e) => {
                self.error = Some(e);
                return false;
            }
        }
        true
    }

    /// Checks the form's settings against both servers (the name is not needed yet).
    fn check(&mut self) -> Task<Message> {
        match self.settings(self.email.trim().to_owned()) {
            Ok(settings) => {
                self.error = None;
                self.step = Step::Checking;
                self.attempt += 1;
                let attempt = self.attempt;
                self.checking = Some(settings.clone());
                Task::perform(work::verify(settings, self.password.clone()), move |r| {
                    Message::Checked(attempt, r)
                })
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
                Field::Incoming => &mut state.form.incoming,
                Field::Outgoing => &mut state.form.outgoing,
                Field::Login => &mut state.form.login,
                Field::PasswordCmd => &mut state.form.password_cmd,
                Field::CaFile => &mut state.form.ca_file,
                Field::CertSha256 => &mut state.form.cert_sha256,
            };
            *slot = value;
            if matches!(field, Field::Incoming | Field::Outgoing) {
                state.caution();
            }
            none
        }
        Message::Password(password) => {
            state.password = password;
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
        Message::OtherProtocol => {
            let other = match state.form.protocol {
                Protocol::Imap => Protocol::Pop3,
                Protocol::Pop3 => Protocol::Imap,
            };
            let offered = state
                .found
                .as_ref()
                .is_none_or(|(_, config)| config.protocols().contains(&other));
            if state.step == Step::Found && offered {
                return update(state, Message::Protocol(other), store);
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
            Step::Start => (state.look_up(), Action::None),
            // Found settings that cannot be used (OAuth2 only) go on only through the manual form.
            Step::Found if state.error.is_some() => none,
            Step::Found | Step::Manual => (state.check(), Action::None),
            Step::Trust(_) => update(state, Message::TrustCertificate, store),
            Step::Done(_) => update(state, Message::Finish, store),
            Step::Looking | Step::Checking | Step::Saving => none,
        },
        Message::Enter => match state.step {
            Step::Trust(_) => none,
            Step::Found | Step::Manual if state.warning.is_some() => none,
            _ => update(state, Message::Continue, store),
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
        Message::Discovered(attempt, result) => {
            if state.step != Step::Looking || attempt != state.attempt {
                return none;
            }
            if state.discovered(result) {
                none
            } else {
                update(state, Message::ManualSetup, store)
            }
        }
        Message::Checked(attempt, result) => {
            if state.step != Step::Checking || attempt != state.attempt {
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
                    state.checking = None;
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
            if state.step != Step::Saving {
                return none;
            }
            // What both servers took, under a name of its own.
            let settings = result.and_then(|name| {
                let mut settings = state
                    .checking
                    .take()
                    .ok_or_else(|| "The settings were not checked.".to_owned())?;
                settings.name = name;
                Ok(settings)
            });
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
            Ok((account, notice)) => {
                state.error = None;
                state.password = Secret::new(String::new());
                state.step = Step::Done(notice);
                (Task::none(), Action::Added(account))
            }
            Err(e) => {
                state.error = Some(e);
                state.step = Step::Manual;
                none
            }
        },
        Message::Back => {
            state.step = match &state.step {
                // At a first start the welcome screen is behind the wizard.
                Step::Start => return (Task::none(), Action::Close),
                Step::Found | Step::Manual | Step::Looking => Step::Start,
                // A check under way is left (its answer is then ignored).
                Step::Trust(_) | Step::Checking => Step::Manual,
                Step::Done(_) => return (Task::none(), Action::Close),
                other => other.clone(),
            };
            none
        }
        Message::Cancel | Message::Finish => (Task::none(), Action::Close),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::account::autoconfig::{Attempt, Source};

    fn found(address: &str, host: &str) -> Discovery {
        let domain = crate::account::autoconfig::domain_of(address).unwrap();
        let xml = format!(
            "<clientConfig version=\"1.1\"><emailProvider id=\"{domain}\"><incomingServer type=\"imap\"><hostname>{host}</hostname><port>993</port><socketType>SSL</socketType><username>%EMAILADDRESS%</username></incomingServer><outgoingServer type=\"smtp\"><hostname>{host}</hostname><port>465</port><socketType>SSL</socketType></outgoingServer></emailProvider></clientConfig>"
        );
        Discovery {
            address: address.into(),
            domain,
            attempts: vec![Attempt {
                source: Source::Autoconfig,
                detail: String::new(),
                outcome: Ok(crate::account::autoconfig::parse(&xml, address).unwrap()),
            }],
            chosen: Some(0),
        }
    }

    #[test]
    fn enter_alone_never_trusts_a_certificate() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_dir(dir.path()).unwrap();
        let mut state = State::new(Ok(Sources::default()), true);
        state.step = Step::Trust(Box::new(CertificateInfo {
            server: "mail.example.com:993".into(),
            sha256: "ab".repeat(32),
            subject: "CN=mail.example.com".into(),
            issuer: "CN=mail.example.com".into(),
            not_after: None,
        }));
        let _ = update(&mut state, Message::Enter, &store);
        assert!(matches!(state.step, Step::Trust(_)));
        assert!(state.form.cert_sha256.is_empty());
    }

    #[test]
    fn the_dns_caution_follows_the_protocol_chosen() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_dir(dir.path()).unwrap();
        let address = "jo@example.com";
        // SRV records: IMAP inside the domain, POP3 and SMTP outside it.
        let xml = "<clientConfig version=\"1.1\"><emailProvider id=\"example.com\"><incomingServer type=\"imap\"><hostname>imap.example.com</hostname><port>993</port><socketType>SSL</socketType><username>%EMAILADDRESS%</username></incomingServer><incomingServer type=\"pop3\"><hostname>pop.elsewhere.net</hostname><port>995</port><socketType>SSL</socketType><username>%EMAILADDRESS%</username></incomingServer><outgoingServer type=\"smtp\"><hostname>smtp.example.com</hostname><port>465</port><socketType>SSL</socketType></outgoingServer></emailProvider></clientConfig>";
        let discovery = Discovery {
            address: address.into(),
            domain: "example.com".into(),
            attempts: vec![Attempt {
                source: Source::Srv,
                detail: String::new(),
                outcome: Ok(crate::account::autoconfig::parse(xml, address).unwrap()),
            }],
            chosen: Some(0),
        };
        let mut state = State::new(Ok(Sources::default()), true);
        state.email = address.into();
        state.password = Secret::new("secret".into());
        let _ = update(&mut state, Message::Continue, &store);
        let attempt = state.attempt;
        let _ = update(
            &mut state,
            Message::Discovered(attempt, Ok(discovery)),
            &store,
        );
        assert_eq!(state.step, Step::Found);
        assert_eq!(state.form.protocol, Protocol::Imap);
        assert!(state.warning.is_none(), "{:?}", state.warning);
        let _ = update(&mut state, Message::Protocol(Protocol::Pop3), &store);
        assert_eq!(state.form.incoming, "pop.elsewhere.net:995");
        let warning = state.warning.clone().unwrap_or_default();
        assert!(warning.contains("pop.elsewhere.net"), "{warning}");
        // Enter alone does not accept servers named only by DNS.
        let _ = update(&mut state, Message::Enter, &store);
        assert_eq!(state.step, Step::Found);
        // The manual form keeps the caution (Enter alone does not check those servers) until
        // the server named only by DNS is replaced.
        let _ = update(&mut state, Message::ManualSetup, &store);
        assert_eq!(state.step, Step::Manual);
        let _ = update(&mut state, Message::Enter, &store);
        assert_eq!(state.step, Step::Manual);
        assert!(state.warning.is_some());
        let _ = update(
            &mut state,
            Message::Field(Field::Incoming, "pop.example.com:995".into()),
            &store,
        );
        assert!(state.warning.is_none(), "{:?}", state.warning);
        // Back to IMAP on the found settings: no caution either.
        let _ = update(&mut state, Message::Back, &store);
        state.step = Step::Found;
        let _ = update(&mut state, Message::Protocol(Protocol::Imap), &store);
        assert!(state.warning.is_none());
    }

    #[test]
    fn an_answer_to_an_earlier_lookup_is_ignored_and_leaves_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_dir(dir.path()).unwrap();
        let mut state = State::new(Ok(Sources::default()), true);
        state.email = "jo@gmial.com".into();
        state.password = Secret::new("secret".into());
        let _ = update(&mut state, Message::Continue, &store);
        let first = state.attempt;
        // Back, the address corrected, Continue again: a second lookup.
        let _ = update(&mut state, Message::Back, &store);
        state.email = "jo@gmail.com".into();
        let _ = update(&mut state, Message::Continue, &store);
        assert_eq!(state.step, Step::Looking);
        // The first lookup's answer arrives late: ignored.
        let _ = update(
            &mut state,
            Message::Discovered(first, Ok(found("jo@gmial.com", "imap.gmial.com"))),
            &store,
        );
        assert_eq!(state.step, Step::Looking);
        assert!(state.found.is_none());
        let second = state.attempt;
        let _ = update(
            &mut state,
            Message::Discovered(second, Ok(found("jo@gmail.com", "imap.gmail.com"))),
            &store,
        );
        assert_eq!(state.step, Step::Found);
        assert_eq!(state.form.incoming, "imap.gmail.com:993");
        assert_eq!(state.form.login, "jo@gmail.com");
        // A check's late answer after Back is ignored too; Enter twice starts one check.
        let _ = update(&mut state, Message::Continue, &store);
        let check = state.attempt;
        let _ = update(&mut state, Message::Continue, &store);
        assert_eq!(
            state.attempt, check,
            "a second Enter started a second check"
        );
        let _ = update(&mut state, Message::Back, &store);
        let _ = update(&mut state, Message::Checked(check, Ok(())), &store);
        assert_ne!(state.step, Step::Saving);
    }
}
