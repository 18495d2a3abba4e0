//! Settings: the global choices (theme, notifications, plain text or HTML), each account's
//! identity and servers (display name, address, login, incoming and outgoing server, a new
//! password), its sending and sync options (signature, days to sync, bodies for offline use,
//! whether the server files sent mail; for POP3 the retention options and for every account how
//! often to check for mail) and its removal. "New account" opens the setup wizard
//! (`ui::wizard`, which also has the manual form). Passwords typed here go to the OS keyring
//! only.

mod view;

pub use view::view;

use iced::Task;

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

/// What the last action on a page did: done (a check mark) or failed (in the danger colour).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    Done(String),
    Failed(String),
}

#[derive(Debug, Default)]
pub struct State {
    pub section: Section,
    pub accounts: Vec<Options>,
    pub global: Global,
    pub notice: Option<Notice>,
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

/// A theme choice (one of the three buttons under Appearance).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThemeChoice(pub theme::Choice);

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
            // A question belongs to the page it was asked on.
            state.confirm_mailbox = None;
            state.confirm_remove = None;
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
            // "Is it another mailbox?" was asked of the server and login as they were.
            if matches!(field, AccountField::Incoming | AccountField::Login) {
                state.confirm_mailbox = None;
            }
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
                    state.notice = Some(Notice::Failed(e));
                    return (Task::none(), Action::None);
                }
            };
            let days = if options.sync_days.trim().is_empty() {
                None
            } else {
                match options.sync_days.trim().parse::<i64>() {
                    Ok(days) if (1..=36_500).contains(&days) => Some(days),
                    _ => {
                        state.notice = Some(Notice::Failed(
                            "Days to sync: a number from 1 to 36500, or empty for all mail.".into(),
                        ));
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
        Message::RemovalChecked(_, Err(e)) => state.notice = Some(Notice::Failed(e)),
        Message::CancelRemove => state.confirm_remove = None,
        Message::Saved {
            account,
            mailbox,
            new_password,
            result: Ok(notice),
        } => {
            // Told beside the Save that did it, not on another account's page.
            if state.section == Section::Account(account) {
                state.notice = Some(Notice::Done(notice));
            }
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
            state.notice = Some(Notice::Done(notice));
            return (Task::none(), Action::Reload(None));
        }
        Message::Saved {
            account,
            result: Err(e),
            ..
        } if state.section != Section::Account(account) => {
            let name = state
                .accounts
                .iter()
                .find(|o| o.account == account)
                .map_or_else(|| "an account".to_owned(), |o| o.name.clone());
            state.notice = Some(Notice::Failed(format!("Saving {name}: {e}")));
        }
        Message::Saved { result: Err(e), .. } | Message::Done(Err(e)) => {
            state.notice = Some(Notice::Failed(e));
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
