//! Settings: the global choices (theme, notifications, plain text or HTML), each account's
//! identity and servers (display name, address, login, incoming and outgoing server, a new
//! password), its sending and sync options (signature, days to sync, bodies for offline use,
//! whether the server files sent mail; for POP3 the retention options and for every account how
//! often to check for mail) and its removal. "+ New account" opens the setup wizard
//! (`ui::wizard`, which also has the manual form). Passwords typed here go to the OS keyring
//! only.

use iced::widget::{
    button, checkbox, column, container, pick_list, row, scrollable, text, text_input,
};
use iced::{Element, Length, Task};

use super::data::{self, AccountTree};
use super::theme;
use crate::account::credentials::Secret;
use crate::account::{Protocol, Security};
use crate::store::Store;

/// One account's editable options.
#[derive(Debug, Clone)]
pub struct Options {
    pub account: i64,
    pub name: String,
    pub display_name: String,
    pub email: String,
    pub login: String,
    pub incoming: String,
    pub incoming_security: Security,
    pub outgoing: String,
    pub outgoing_security: Security,
    /// A command that prints the password (empty: the keyring).
    pub password_cmd: String,
    /// A PEM file of the CA that signed the servers' certificates (empty: the system's).
    pub ca_file: String,
    /// The one certificate accepted (SHA-256 in hex; empty: none pinned).
    pub cert_sha256: String,
    /// A new password (empty: keep the one in the keyring); never in `Debug` output.
    pub password: Secret,
    pub signature: String,
    pub sync_days: String,
    pub download_bodies: bool,
    pub server_saves_sent: bool,
    pub protocol: Protocol,
    /// POP3: leave messages on the server.
    pub leave_on_server: bool,
    /// POP3: delete from the server after this many days (empty: never).
    pub delete_after_days: String,
    /// POP3: delete from the server when deleted here.
    pub delete_when_deleted: bool,
    /// POP3: download only the headers of messages over this many KB (empty: no limit).
    pub headers_only_kb: String,
    /// Minutes between checks for new mail.
    pub check_minutes: String,
    /// The incoming host and login as stored: a change of either may point the account at
    /// another mailbox, which the user is asked about.
    pub stored_mailbox: (String, String),
}

/// A POP3 or mail-check option being edited.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MailCheck {
    LeaveOnServer(bool),
    DeleteAfterDays(String),
    DeleteWhenDeleted(bool),
    HeadersOnlyKb(String),
    CheckMinutes(String),
}

/// The choices that are not per account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Global {
    pub theme: theme::Choice,
    pub notifications: bool,
    pub prefer_plain: bool,
}

/// The part of Settings being shown (chosen in the list on the left).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Section {
    #[default]
    General,
    Account(i64),
}

#[derive(Debug, Default)]
pub struct State {
    pub section: Section,
    pub accounts: Vec<Options>,
    pub global: Global,
    pub notice: Option<String>,
    /// Asked before removing an account: (account, what would be lost).
    pub confirm_remove: Option<(i64, String)>,
    /// Asked before saving a new incoming host or login: is it the same mailbox?
    pub confirm_mailbox: Option<i64>,
}

#[derive(Debug, Clone)]
pub enum Message {
    Show(Section),
    /// Set up an account with the wizard (discovery and verification).
    Wizard,
    Theme(ThemeChoice),
    Notifications(bool),
    PreferPlain(bool),
    Account(i64, AccountField, String),
    /// A new password typed for the account.
    Password(i64, Secret),
    AccountSecurity(i64, Direction, Security),
    Signature(i64, String),
    SyncDays(i64, String),
    DownloadBodies(i64, bool),
    ServerSavesSent(i64, bool),
    MailCheck(i64, MailCheck),
    SaveAccount(i64),
    /// Save with a new incoming host or login: true when it is another mailbox (the cache
    /// starts over), false when it is the same one under a new name.
    SaveMailbox(i64, bool),
    CancelSave,
    RemoveAccount(i64),
    /// What removing the account would lose (None: nothing).
    RemovalChecked(i64, Result<Option<String>, String>),
    ConfirmRemove(i64),
    CancelRemove,
    Done(Result<String, String>),
    /// A save of this account ended. Each save carries what it saved: the incoming host and
    /// login become the account's `stored_mailbox` only once it succeeded (a refused reset asks
    /// again), and a new password restarts that account's engine.
    Saved {
        account: i64,
        mailbox: (String, String),
        new_password: bool,
        result: Result<String, String>,
    },
    Close,
}

/// A theme choice as the pick list shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThemeChoice(pub theme::Choice);

impl std::fmt::Display for ThemeChoice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0.label())
    }
}

/// A text field of an existing account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountField {
    DisplayName,
    Email,
    Login,
    Incoming,
    Outgoing,
    PasswordCmd,
    CaFile,
    CertSha256,
}

/// Incoming or outgoing server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Incoming,
    Outgoing,
}

/// What the window does after an update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    None,
    Global(Global),
    /// Accounts changed: reload the tree. An engine restarts only when its account's settings
    /// changed, or (the id here) its password did.
    Reload(Option<i64>),
    Close,
    /// Open the setup wizard.
    Wizard,
}

impl State {
    pub fn new(tree: &[AccountTree], global: Global) -> State {
        State {
            accounts: tree
                .iter()
                .map(|t| Options {
                    account: t.account.id,
                    name: t.account.settings.name.clone(),
                    display_name: t.account.settings.display_name.clone(),
                    email: t.account.settings.email.clone(),
                    login: t.account.settings.login.clone(),
                    incoming: t.account.settings.incoming.to_string(),
                    incoming_security: t.account.settings.incoming_security,
                    outgoing: t.account.settings.outgoing.to_string(),
                    outgoing_security: t.account.settings.outgoing_security,
                    password_cmd: t.account.settings.password_cmd.clone().unwrap_or_default(),
                    ca_file: t
                        .account
                        .settings
                        .ca_file
                        .as_ref()
                        .map(|p| p.display().to_string())
                        .unwrap_or_default(),
                    cert_sha256: t.account.settings.cert_sha256.clone().unwrap_or_default(),
                    password: Secret::new(String::new()),
                    signature: t.account.signature.clone(),
                    sync_days: t
                        .account
                        .sync_days
                        .map(|d| d.to_string())
                        .unwrap_or_default(),
                    download_bodies: t.account.download_bodies,
                    server_saves_sent: t.account.server_saves_sent,
                    protocol: t.account.settings.protocol,
                    leave_on_server: t.account.pop3_leave_on_server,
                    delete_after_days: t
                        .account
                        .pop3_delete_after_days
                        .map(|d| d.to_string())
                        .unwrap_or_default(),
                    delete_when_deleted: t.account.pop3_delete_when_deleted,
                    headers_only_kb: t
                        .account
                        .pop3_max_message_size
                        .map(|b| (b / 1024).to_string())
                        .unwrap_or_default(),
                    check_minutes: (t.account.poll_seconds / 60).max(1).to_string(),
                    stored_mailbox: (
                        t.account.settings.incoming.host.clone(),
                        t.account.settings.login.clone(),
                    ),
                })
                .collect(),
            section: Section::General,
            global,
            notice: None,
            confirm_remove: None,
            confirm_mailbox: None,
        }
    }

    fn options(&mut self, account: i64) -> Option<&mut Options> {
        self.accounts.iter_mut().find(|o| o.account == account)
    }
}

/// A number from `range` typed in a field, or None when it is empty.
fn number(
    text: &str,
    range: std::ops::RangeInclusive<i64>,
    what: &str,
) -> Result<Option<i64>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    match text.parse::<i64>() {
        Ok(n) if range.contains(&n) => Ok(Some(n)),
        _ => Err(format!(
            "{what}: a number from {} to {}, or empty.",
            range.start(),
            range.end()
        )),
    }
}

/// The POP3 and mail-check options as typed, checked.
fn mail_checks(o: &Options) -> Result<crate::account::settings::Pop3Options, String> {
    let minutes = number(&o.check_minutes, 1..=1440, "Check for new mail every")?
        .ok_or("Check for new mail every: give a number of minutes.")?;
    Ok(crate::account::settings::Pop3Options {
        leave_on_server: o.leave_on_server,
        delete_after_days: number(&o.delete_after_days, 1..=36_500, "Delete after")?,
        delete_when_deleted: o.delete_when_deleted,
        max_message_size: number(&o.headers_only_kb, 1..=4_000_000, "Headers only over")?
            .map(|kb| kb * 1024),
        poll_seconds: minutes * 60,
    })
}

pub fn update(state: &mut State, message: Message, store: &Store) -> (Task<Message>, Action) {
    match message {
        Message::Show(section) => {
            state.section = section;
            state.notice = None;
        }
        Message::Theme(choice) => {
            state.global.theme = choice.0;
            return (Task::none(), Action::Global(state.global));
        }
        Message::Notifications(on) => {
            state.global.notifications = on;
            return (Task::none(), Action::Global(state.global));
        }
        Message::PreferPlain(on) => {
            state.global.prefer_plain = on;
            return (Task::none(), Action::Global(state.global));
        }
        Message::Account(id, field, value) => {
            if let Some(o) = state.options(id) {
                match field {
                    AccountField::DisplayName => o.display_name = value,
                    AccountField::Email => o.email = value,
                    AccountField::Login => o.login = value,
                    AccountField::Incoming => o.incoming = value,
                    AccountField::Outgoing => o.outgoing = value,
                    AccountField::PasswordCmd => o.password_cmd = value,
                    AccountField::CaFile => o.ca_file = value,
                    AccountField::CertSha256 => o.cert_sha256 = value,
                }
            }
        }
        Message::Password(id, password) => {
            if let Some(o) = state.options(id) {
                o.password = password;
            }
        }
        Message::AccountSecurity(id, direction, security) => {
            if let Some(o) = state.options(id) {
                match direction {
                    Direction::Incoming => o.incoming_security = security,
                    Direction::Outgoing => o.outgoing_security = security,
                }
            }
        }
        Message::Signature(id, v) => state
            .options(id)
            .into_iter()
            .for_each(|o| o.signature = v.clone()),
        Message::SyncDays(id, v) => state
            .options(id)
            .into_iter()
            .for_each(|o| o.sync_days = v.clone()),
        Message::DownloadBodies(id, v) => {
            state
                .options(id)
                .into_iter()
                .for_each(|o| o.download_bodies = v);
        }
        Message::ServerSavesSent(id, v) => {
            state
                .options(id)
                .into_iter()
                .for_each(|o| o.server_saves_sent = v);
        }
        Message::MailCheck(id, change) => {
            if let Some(o) = state.options(id) {
                match change {
                    MailCheck::LeaveOnServer(v) => o.leave_on_server = v,
                    MailCheck::DeleteAfterDays(v) => o.delete_after_days = v,
                    MailCheck::DeleteWhenDeleted(v) => o.delete_when_deleted = v,
                    MailCheck::HeadersOnlyKb(v) => o.headers_only_kb = v,
                    MailCheck::CheckMinutes(v) => o.check_minutes = v,
                }
            }
        }
        Message::CancelSave => state.confirm_mailbox = None,
        Message::SaveAccount(id) | Message::SaveMailbox(id, _) => {
            let Some(options) = state.accounts.iter().find(|o| o.account == id).cloned() else {
                return (Task::none(), Action::None);
            };
            let reset = match message {
                Message::SaveMailbox(_, reset) => Some(reset),
                _ => None,
            };
            let host = options
                .incoming
                .trim()
                .rsplit_once(':')
                .map_or(options.incoming.trim(), |(host, _)| host)
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_owned();
            let moved = !host.eq_ignore_ascii_case(&options.stored_mailbox.0)
                || options.login.trim() != options.stored_mailbox.1;
            if moved && reset.is_none() {
                state.confirm_mailbox = Some(id);
                return (Task::none(), Action::None);
            }
            state.confirm_mailbox = None;
            let checks = match mail_checks(&options) {
                Ok(checks) => checks,
                Err(e) => {
                    state.notice = Some(e);
                    return (Task::none(), Action::None);
                }
            };
            let days = if options.sync_days.trim().is_empty() {
                None
            } else {
                match options.sync_days.trim().parse::<i64>() {
                    Ok(days) if (1..=36_500).contains(&days) => Some(days),
                    _ => {
                        state.notice = Some(
                            "Days to sync: a number from 1 to 36500, or empty for all mail.".into(),
                        );
                        return (Task::none(), Action::None);
                    }
                }
            };
            // The password is not kept in the form once it is on its way to the keyring.
            let new_password = !options.password.expose().is_empty();
            if let Some(o) = state.options(id) {
                o.password = Secret::new(String::new());
            }
            let mailbox = (host, options.login.trim().to_owned());
            return (
                Task::perform(
                    data::save_account_options(
                        store.clone(),
                        options,
                        days,
                        checks,
                        moved && reset == Some(true),
                    ),
                    move |result| Message::Saved {
                        account: id,
                        mailbox: mailbox.clone(),
                        new_password,
                        result,
                    },
                ),
                Action::None,
            );
        }
        Message::RemoveAccount(id) => {
            // First find out what would be lost; ask only when something would.
            return (
                Task::perform(data::removal_warning(store.clone(), id), move |r| {
                    Message::RemovalChecked(id, r)
                }),
                Action::None,
            );
        }
        Message::RemovalChecked(id, Ok(Some(lost))) => state.confirm_remove = Some((id, lost)),
        Message::RemovalChecked(id, Ok(None)) | Message::ConfirmRemove(id) => {
            state.confirm_remove = None;
            state.accounts.retain(|o| o.account != id);
            state.section = Section::General;
            return (
                Task::perform(data::remove_account(store.clone(), id), Message::Done),
                Action::None,
            );
        }
        Message::RemovalChecked(_, Err(e)) => state.notice = Some(e),
        Message::CancelRemove => state.confirm_remove = None,
        Message::Saved {
            account,
            mailbox,
            new_password,
            result: Ok(notice),
        } => {
            state.notice = Some(notice);
            // Saved: the next save of this form compares with what is stored now.
            if let Some(o) = state.options(account) {
                o.stored_mailbox = mailbox;
            }
            return (
                Task::none(),
                Action::Reload(new_password.then_some(account)),
            );
        }
        Message::Done(Ok(notice)) => {
            state.notice = Some(notice);
            return (Task::none(), Action::Reload(None));
        }
        Message::Saved { result: Err(e), .. } | Message::Done(Err(e)) => {
            state.notice = Some(e);
        }
        Message::Close => return (Task::none(), Action::Close),
        Message::Wizard => return (Task::none(), Action::Wizard),
    }
    (Task::none(), Action::None)
}

impl State {
    /// Cancels the question Settings is asking (whether a new server is the same mailbox,
    /// whether to remove an account); false when none is open.
    pub fn cancel_question(&mut self) -> bool {
        self.confirm_mailbox.take().is_some() || self.confirm_remove.take().is_some()
    }
}

/// A button that Tab reaches too (Enter or Space presses it).
fn pressable<'a>(button: button::Button<'a, Message>, message: Message) -> Element<'a, Message> {
    crate::ui::focus::activate(button.on_press(message.clone()), Some(message))
}

pub fn view(state: &State) -> Element<'_, Message> {
    let item = |label: String, section: Section| {
        let selected = state.section == section;
        pressable(
            button(text(label))
                .style(move |t, s| theme::folder_button(t, s, selected))
                .width(Length::Fill),
            Message::Show(section),
        )
    };
    let mut sections = column![item("General".into(), Section::General)].spacing(2);
    for o in &state.accounts {
        sections = sections.push(item(o.name.clone(), Section::Account(o.account)));
    }
    sections = sections.push(pressable(
        button(text("+ New account"))
            .style(|t, s| theme::folder_button(t, s, false))
            .width(Length::Fill),
        Message::Wizard,
    ));
    let mut page = column![].spacing(12);
    if let Some(notice) = &state.notice {
        page = page.push(text(notice.clone()).style(theme::muted));
    }
    let content = match state.section {
        Section::General => general(state),
        Section::Account(id) => state.accounts.iter().find(|o| o.account == id).map_or_else(
            || text("This account was removed.").into(),
            |o| account(o, state.confirm_remove.as_ref(), state.confirm_mailbox),
        ),
    };
    page = page.push(content);
    column![
        row![
            text("Settings").size(22).font(theme::bold()),
            iced::widget::space::horizontal(),
            pressable(button(text("Close")), Message::Close),
        ],
        row![
            container(sections).width(200),
            scrollable(page.padding([0, 12])).height(Length::Fill),
        ]
        .spacing(12)
        .height(Length::Fill),
    ]
    .spacing(12)
    .padding(16)
    .into()
}

/// The global choices.
fn general(state: &State) -> Element<'_, Message> {
    column![
        row![
            text("Appearance").width(160),
            pick_list(
                [
                    theme::Choice::System,
                    theme::Choice::Light,
                    theme::Choice::Dark
                ]
                .map(ThemeChoice),
                Some(ThemeChoice(state.global.theme)),
                Message::Theme,
            ),
        ]
        .spacing(8),
        checkbox(state.global.notifications)
            .label("Notify me of new mail in the Inbox")
            .on_toggle(Message::Notifications),
        checkbox(state.global.prefer_plain)
            .label(
                "Show messages as plain text (HTML mail is never allowed to load remote content)"
            )
            .on_toggle(Message::PreferPlain),
    ]
    .spacing(12)
    .into()
}

/// One account's identity, servers and options. `confirm` is the pending question before it
/// is removed: (account, what would be lost).
fn account<'a>(
    o: &'a Options,
    confirm: Option<&'a (i64, String)>,
    confirm_mailbox: Option<i64>,
) -> Element<'a, Message> {
    let id = o.account;
    let field = |label: &'static str, value: &str, which: AccountField| {
        let input = text_input("", value).on_input(move |v| Message::Account(id, which, v));
        row![text(label).width(160), input].spacing(8)
    };
    let form = column![
        text(format!("Account {}", o.name))
            .size(18)
            .font(theme::bold()),
        field("Your name", &o.display_name, AccountField::DisplayName),
        field("Email address", &o.email, AccountField::Email),
        field("Login", &o.login, AccountField::Login),
        row![
            text("Incoming server").width(160),
            text_input("", &o.incoming).on_input(move |v| Message::Account(
                id,
                AccountField::Incoming,
                v
            )),
            super::wizard::security_choice(o.incoming_security, move |s| {
                Message::AccountSecurity(id, Direction::Incoming, s)
            }),
        ]
        .spacing(8),
        row![
            text("Outgoing server").width(160),
            text_input("", &o.outgoing).on_input(move |v| Message::Account(
                id,
                AccountField::Outgoing,
                v
            )),
            super::wizard::security_choice(o.outgoing_security, move |s| {
                Message::AccountSecurity(id, Direction::Outgoing, s)
            }),
        ]
        .spacing(8),
        row![
            text("New password").width(160),
            text_input(
                "unchanged (kept in the system keyring)",
                o.password.expose()
            )
            .on_input(move |v| Message::Password(id, Secret::new(v)))
            .secure(true),
        ]
        .spacing(8),
        field(
            "Password command",
            &o.password_cmd,
            AccountField::PasswordCmd
        ),
        field("CA file (PEM)", &o.ca_file, AccountField::CaFile),
        field(
            "Pinned certificate",
            &o.cert_sha256,
            AccountField::CertSha256
        ),
        row![
            text("Signature").width(160),
            text_input("", &o.signature).on_input(move |v| Message::Signature(id, v)),
        ]
        .spacing(8),
        mail_options(o),
        // A POP3 account's Sent folder is local: there is no server copy to rely on.
        (o.protocol == Protocol::Imap).then(|| {
            checkbox(o.server_saves_sent)
                .label("The server files sent mail itself (no copy to Sent)")
                .on_toggle(move |v| Message::ServerSavesSent(id, v))
        }),
        row![
            pressable(button(text("Save")), Message::SaveAccount(id)),
            pressable(
                button(text("Remove account")).style(button::danger),
                Message::RemoveAccount(id)
            ),
        ]
        .spacing(8),
    ]
    .spacing(6);
    let form = if confirm_mailbox == Some(id) {
        form.push(
            container(
                column![
                    text("The new incoming server or login may be another mailbox. Is it?")
                        .style(theme::danger),
                    row![
                        pressable(
                            button(text("Same mailbox, new name: keep what is here")),
                            Message::SaveMailbox(id, false)
                        ),
                        pressable(
                            button(text("Another mailbox: start its cache over")),
                            Message::SaveMailbox(id, true)
                        ),
                        pressable(button(text("Cancel")), Message::CancelSave),
                    ]
                    .spacing(8),
                    text(match o.protocol {
                        Protocol::Imap => "Starting over drops the cached copies of the old mailbox and downloads the new one; the outbox is kept.",
                        Protocol::Pop3 => "Either way the messages here are kept; starting over downloads all of the new server's mail.",
                    })
                    .size(13),
                ]
                .spacing(6),
            )
            .padding(8)
            .style(theme::banner),
        )
    } else {
        form
    };
    match confirm {
        Some((account, lost)) if *account == id => form
            .push(
                container(
                    column![
                        text(format!("Remove {}? {}.", o.name, capitalise(lost)))
                            .style(theme::danger),
                        row![
                            pressable(
                                button(text("Remove anyway")).style(button::danger),
                                Message::ConfirmRemove(id)
                            ),
                            pressable(
                                button(text("Keep it")).style(theme::secondary_button),
                                Message::CancelRemove
                            ),
                        ]
                        .spacing(8),
                    ]
                    .spacing(6),
                )
                .padding(8)
                .style(theme::menu),
            )
            .into(),
        _ => form.into(),
    }
}

/// What is fetched and kept: for IMAP, the days to sync and offline bodies; for POP3, whether
/// and how long mail stays on the server and the size over which only headers come; for both,
/// how often to check.
fn mail_options(o: &Options) -> Element<'_, Message> {
    let id = o.account;
    let check = move |c: MailCheck| Message::MailCheck(id, c);
    let every = row![
        text("Check mail every").width(160),
        text_input("10", &o.check_minutes)
            .on_input(move |v| check(MailCheck::CheckMinutes(v)))
            .width(80),
        text("minutes"),
    ]
    .spacing(8)
    .align_y(iced::Alignment::Center);
    if o.protocol == Protocol::Imap {
        return column![
            row![
                text("Days to sync").width(160),
                text_input("all mail", &o.sync_days)
                    .on_input(move |v| Message::SyncDays(id, v))
                    .width(120),
            ]
            .spacing(8),
            checkbox(o.download_bodies)
                .label("Download all messages for offline reading")
                .on_toggle(move |v| Message::DownloadBodies(id, v)),
            every,
        ]
        .spacing(6)
        .into();
    }
    let leave = o.leave_on_server;
    let days = text_input("never", &o.delete_after_days).width(80);
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
    column![
        checkbox(leave)
            .label("Leave messages on the server (the copy here is kept either way)")
            .on_toggle(move |v| check(MailCheck::LeaveOnServer(v))),
        row![
            text("").width(16),
            text("Delete them from the server after"),
            days,
            text("days"),
        ]
        .spacing(8)
        .align_y(iced::Alignment::Center),
        row![text("").width(16), when_deleted].spacing(8),
        row![
            text("Headers only over").width(160),
            text_input("no limit", &o.headers_only_kb)
                .on_input(move |v| check(MailCheck::HeadersOnlyKb(v)))
                .width(80),
            text("KB (the rest comes when you open the message)"),
        ]
        .spacing(8)
        .align_y(iced::Alignment::Center),
        every,
    ]
    .spacing(6)
    .into()
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}
