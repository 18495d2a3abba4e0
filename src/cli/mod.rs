//! The headless command line (`tern account|sync|folders|list|show|search|send`): argument
//! parsing and dispatch. Output formats are a contract documented in README.md.

mod account;
mod actions;
pub mod entry;
mod output;
mod search;
mod send;
mod setup;
mod show;
mod sync;

use std::path::PathBuf;

use anyhow::{Context as _, bail};
use clap::{Args, Parser, Subcommand};

use crate::account::settings::{
    AccountSettings, Protocol, Security, ServerAddr, normalize_fingerprint,
};
use crate::store::{SortOrder, Store};

/// Tern: a desktop email client with a headless command line.
#[derive(Debug, Parser)]
#[command(
    name = "tern",
    version,
    about,
    long_about = None,
    after_help = "With no command, Tern opens its window. `tern mailto:LINK` opens the composer \
                  prefilled from the link (RFC 6068), and `tern FILE.eml` shows a saved message; \
                  when the window is already open, they go to it."
)]
pub struct Cli {
    /// Keep all state (database, settings) in DIR.
    #[arg(long, value_name = "DIR", env = "TERN_DATA_DIR", global = true)]
    pub data_dir: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Add, list or remove accounts.
    #[command(subcommand)]
    Account(AccountCommand),
    /// Run one sync pass for every account, or one.
    Sync {
        #[arg(long, value_name = "N")]
        account: Option<String>,
    },
    /// Create, rename, delete, subscribe to or unsubscribe from a folder on the server.
    #[command(subcommand)]
    Folder(FolderCommand),
    /// List an account's folders with their counts.
    Folders {
        #[arg(long, value_name = "N")]
        account: String,
        #[arg(long)]
        json: bool,
    },
    /// List messages of a folder, newest first.
    List {
        #[arg(long, value_name = "N")]
        account: String,
        #[arg(long, value_name = "PATH", default_value = "INBOX")]
        folder: String,
        #[arg(long, value_name = "K", default_value_t = 50)]
        limit: usize,
        #[arg(long)]
        json: bool,
    },
    /// Show one message.
    Show {
        id: i64,
        /// Print the raw RFC 5322 source.
        #[arg(long)]
        raw: bool,
        #[arg(long)]
        json: bool,
        /// Use only the cache; never connect.
        #[arg(long)]
        offline: bool,
    },
    /// Save a message's attachments (fetched when not cached) into a directory.
    Save {
        id: i64,
        /// Where to save (default: the current directory).
        #[arg(long, value_name = "DIR", default_value = ".")]
        dir: PathBuf,
        /// Use only the cache; never connect.
        #[arg(long)]
        offline: bool,
    },
    /// Search cached mail in every account (words match as prefixes).
    Search {
        query: String,
        #[arg(long, value_name = "N")]
        account: Option<String>,
        /// Only this folder (of --account, or of the only account).
        #[arg(long, value_name = "PATH")]
        folder: Option<String>,
        /// Also ask the IMAP server (UID SEARCH TEXT) in --folder (default INBOX), caching the
        /// headers of matches not downloaded yet, and merge its answer with the local one.
        #[arg(long)]
        server: bool,
        #[arg(long, value_name = "K", default_value_t = 100)]
        limit: usize,
        #[arg(long)]
        json: bool,
    },
    /// Set or clear flags: +seen -seen +flagged +answered +deleted +draft +KEYWORD.
    Flag {
        id: i64,
        #[arg(
            required = true,
            allow_hyphen_values = true,
            value_name = "+FLAG|-FLAG"
        )]
        changes: Vec<String>,
        /// Only queue the change; the next `tern sync` sends it.
        #[arg(long)]
        offline: bool,
    },
    /// Move a message to another folder of its account.
    Move {
        id: i64,
        folder: String,
        /// Only queue the move; the next `tern sync` sends it.
        #[arg(long)]
        offline: bool,
    },
    /// Copy a message to another folder of its account.
    Copy {
        id: i64,
        folder: String,
        /// Only queue the copy; the next `tern sync` sends it.
        #[arg(long)]
        offline: bool,
    },
    /// Delete a message: to Trash, or for good when it is in Trash.
    Delete {
        id: i64,
        /// Only queue the deletion; the next `tern sync` sends it.
        #[arg(long)]
        offline: bool,
    },
    /// Send a message; the body is read from standard input.
    Send(SendArgs),
    /// List the outbox (queued, failed and uncertain messages), or retry or drop one.
    Outbox {
        #[command(subcommand)]
        action: Option<OutboxCommand>,
        #[arg(long, value_name = "N")]
        account: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// List the changes that did not reach the server (failed, with the reason), or try one
    /// again or drop it.
    Queue {
        #[command(subcommand)]
        action: Option<QueueCommand>,
        #[arg(long, value_name = "N")]
        account: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum QueueCommand {
    /// Do a failed change again (it is queued; the next sync sends it).
    Retry { id: i64 },
    /// Forget a failed change (a message that was never uploaded is deleted with it).
    Drop { id: i64 },
}

#[derive(Debug, Subcommand)]
pub enum FolderCommand {
    /// Create a folder (use the server's delimiter for a subfolder, e.g. Projects/2024).
    Create {
        #[arg(long, value_name = "N")]
        account: String,
        path: String,
    },
    /// Rename (or move) a folder.
    Rename {
        #[arg(long, value_name = "N")]
        account: String,
        path: String,
        new_path: String,
    },
    /// Delete a folder and the mail in it (a folder with mail, or a special one such as Trash
    /// or Sent, needs --yes).
    Delete {
        #[arg(long, value_name = "N")]
        account: String,
        path: String,
        /// Delete it even though it holds mail or is a special-use folder.
        #[arg(long)]
        yes: bool,
    },
    /// Subscribe to a folder.
    Subscribe {
        #[arg(long, value_name = "N")]
        account: String,
        path: String,
    },
    /// Unsubscribe from a folder.
    Unsubscribe {
        #[arg(long, value_name = "N")]
        account: String,
        path: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum AccountCommand {
    /// Store a new account (no connection is made).
    Add(Box<AddAccount>),
    /// List accounts.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Remove an account and everything cached for it (needs --yes when that loses mail that
    /// exists only here, changes not yet on the server, or unsent outbox messages).
    Remove {
        name: String,
        /// Remove it even though something would be lost.
        #[arg(long)]
        yes: bool,
    },
    /// Keep an account's password in the OS keyring (asked on the terminal, or one line read
    /// from standard input).
    Password { name: String },
    /// Check an account's settings: log in to its incoming server and authenticate to its
    /// outgoing one (nothing is sent or changed); exits 1 naming what failed and why.
    Verify {
        name: String,
        #[arg(long)]
        json: bool,
    },
    /// Set up an account from its address: find its servers (as `discover`), log in to both
    /// with the password, and store it only when both logins work.
    Setup(Box<setup::SetupAccount>),
    /// Look up the servers of an address (the domain's autoconfig, the Thunderbird ISPDB,
    /// MX and SRV records, common names probed) and say what each source gave; nothing is
    /// stored. Exits 1 when nothing usable was found.
    Discover {
        /// The email address, e.g. jo@example.com.
        address: String,
        #[arg(long)]
        json: bool,
    },
    /// Change an account: its servers, login, password command, trust, identity and options,
    /// keeping its cache, outbox and queued changes (checked as `add` checks them).
    Set {
        name: String,
        #[command(flatten)]
        servers: Box<account::ServerOptions>,
        #[command(flatten)]
        options: account::MailOptions,
    },
}

#[derive(Debug, Args)]
pub struct AddAccount {
    /// Account name, used with --account.
    #[arg(long)]
    name: String,
    /// Your name as shown in From: (defaults to the account name).
    #[arg(long)]
    display_name: Option<String>,
    #[arg(long)]
    email: String,
    #[arg(long, value_parser = parse_protocol)]
    protocol: Protocol,
    /// Incoming server as HOST:PORT.
    #[arg(long, value_name = "HOST:PORT", value_parser = parse_addr)]
    incoming: ServerAddr,
    #[arg(long, value_name = "tls|starttls|plain", value_parser = parse_security)]
    incoming_security: Security,
    /// Outgoing (submission) server as HOST:PORT.
    #[arg(long, value_name = "HOST:PORT", value_parser = parse_addr)]
    outgoing: ServerAddr,
    #[arg(long, value_name = "tls|starttls|plain", value_parser = parse_security)]
    outgoing_security: Security,
    /// Login name (defaults to the email address).
    #[arg(long)]
    login: Option<String>,
    /// Command whose first output line is the password.
    #[arg(long, value_name = "CMD")]
    password_cmd: Option<String>,
    /// Extra CA or self-signed certificate (PEM) to trust for this account.
    #[arg(long, value_name = "PEM")]
    ca_file: Option<PathBuf>,
    /// Pin the server certificate by its SHA-256 fingerprint (hex).
    #[arg(long, value_name = "HEX")]
    cert_sha256: Option<String>,
    /// Sync only mail of the last N days (IMAP).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(i64).range(1..=36500))]
    sync_days: Option<i64>,
    /// Download whole messages for offline reading (IMAP).
    #[arg(long)]
    download_bodies: bool,
    /// With --download-bodies: only messages of the last N days.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(i64).range(1..=36500))]
    download_days: Option<i64>,
    /// Text appended to messages sent from this account (after a "-- " line).
    #[arg(long, value_name = "TEXT", default_value = "")]
    signature: String,
    /// The server files sent mail in Sent itself (e.g. Gmail): Tern uploads no copy.
    #[arg(long)]
    server_saves_sent: bool,
    #[command(flatten)]
    options: account::MailOptions,
}

#[derive(Debug, Args)]
pub struct SendArgs {
    #[arg(long, value_name = "N")]
    pub(crate) account: String,
    #[arg(long, value_name = "ADDR")]
    pub(crate) to: Vec<String>,
    #[arg(long, value_name = "ADDR")]
    pub(crate) cc: Vec<String>,
    #[arg(long, value_name = "ADDR")]
    pub(crate) bcc: Vec<String>,
    /// Where replies should go, if not to the sender.
    #[arg(long = "reply-to", value_name = "ADDR")]
    pub(crate) reply_to_header: Vec<String>,
    /// The subject (default for replies and forwards: from the original).
    #[arg(long)]
    pub(crate) subject: Option<String>,
    /// An HTML alternative of the body.
    #[arg(long, value_name = "FILE")]
    pub(crate) html: Option<PathBuf>,
    #[arg(long, value_name = "FILE")]
    pub(crate) attach: Vec<PathBuf>,
    /// Reply to message ID: threads it, quotes it, marks it answered once sent.
    #[arg(long, value_name = "ID", group = "original")]
    pub(crate) reply_to_id: Option<i64>,
    /// Reply to the sender and all recipients of message ID (without our own addresses).
    #[arg(long, value_name = "ID", group = "original")]
    pub(crate) reply_all_to_id: Option<i64>,
    /// Forward message ID (inline, with its attachments).
    #[arg(long, value_name = "ID", group = "original")]
    pub(crate) forward_id: Option<i64>,
    /// With --forward-id: attach the original whole (message/rfc822) instead.
    #[arg(long, requires = "forward_id")]
    pub(crate) as_attachment: bool,
    /// Only put the message in the outbox; the next `tern sync` sends it.
    #[arg(long)]
    pub(crate) queue: bool,
    /// Save as a draft (in Drafts) instead of sending.
    #[arg(long)]
    pub(crate) draft: bool,
    /// With --draft: the earlier copy of this draft (message ID) to replace.
    #[arg(long, value_name = "ID", requires = "draft")]
    pub(crate) replace_draft: Option<i64>,
}

/// `tern outbox` actions.
#[derive(Debug, Subcommand)]
pub enum OutboxCommand {
    /// Send a failed or uncertain message again (now, or at the next sync with --queue).
    Retry {
        id: i64,
        #[arg(long)]
        queue: bool,
    },
    /// Remove a message from the outbox without sending it.
    Drop { id: i64 },
}

fn parse_protocol(s: &str) -> Result<Protocol, String> {
    s.parse()
        .map_err(|e: crate::account::InvalidSetting| e.to_string())
}
fn parse_security(s: &str) -> Result<Security, String> {
    s.parse()
        .map_err(|e: crate::account::InvalidSetting| e.to_string())
}
fn parse_addr(s: &str) -> Result<ServerAddr, String> {
    ServerAddr::parse(s).map_err(|e| e.to_string())
}

/// The data directory: `--data-dir`, `TERN_DATA_DIR`, or the platform's default.
pub fn data_dir(explicit: Option<PathBuf>) -> anyhow::Result<PathBuf> {
    if let Some(dir) = explicit {
        return Ok(dir);
    }
    directories::ProjectDirs::from("org", "Tern", "Tern")
        .map(|d| d.data_dir().to_owned())
        .context("cannot find a home directory for Tern's data; pass --data-dir DIR")
}

/// Runs a headless command.
pub fn run(data_dir: PathBuf, command: Command) -> anyhow::Result<()> {
    // Discovery stores nothing: it needs no data directory.
    if let Command::Account(AccountCommand::Discover { address, json }) = &command {
        return setup::discover_command(address, *json);
    }
    let store = Store::open_dir(&data_dir)?;
    match command {
        Command::Account(AccountCommand::Add(add)) => account_add(&store, *add),
        Command::Account(AccountCommand::List { json }) => {
            output::accounts(&store.accounts()?, json)
        }
        Command::Account(AccountCommand::Remove { name, yes }) => {
            let account = store.find_account(&name)?;
            if !yes && let Some(why) = crate::engine::removal_warning(&store, account.id)? {
                bail!("account {name:?} was not removed: {why}; add --yes to remove it anyway");
            }
            store.remove_account(account.id)?;
            eprintln!("removed account {name:?}");
            forget_password(&store, &account);
            Ok(())
        }
        Command::Account(AccountCommand::Set {
            name,
            servers,
            options,
        }) => {
            let found = store.find_account(&name)?;
            // Everything is checked before anything is written, and written in one go.
            let pop3 = account::options_after(&found, &options)?;
            account::apply_servers(&store, &found, &servers, pop3.as_ref())?;
            eprintln!("{}", account::describe(&store.account(found.id)?));
            Ok(())
        }
        Command::Account(AccountCommand::Discover { address, json }) => {
            setup::discover_command(&address, json)
        }
        Command::Account(AccountCommand::Setup(args)) => setup::setup(&store, *args),
        Command::Account(AccountCommand::Verify { name, json }) => {
            let account = store.find_account(&name)?;
            account::verify(&account, json)
        }
        Command::Account(AccountCommand::Password { name }) => {
            let account = store.find_account(&name)?;
            sync::store_password(&account)
        }
        Command::Folders { account, json } => {
            let account = store.find_account(&account)?;
            output::folders(&store.folders(account.id)?, json)
        }
        Command::List {
            account,
            folder,
            limit,
            json,
        } => {
            let account = store.find_account(&account)?;
            let folder = store.find_folder(account.id, &folder)?;
            let rows = store.folder_page(folder.id, SortOrder::DateDesc, None, limit)?;
            output::messages(&store, &rows, json)
        }
        Command::Show {
            id,
            raw,
            json,
            offline,
        } => show::run(&store, id, raw, json, offline),
        Command::Search {
            query,
            account,
            folder,
            server,
            limit,
            json,
        } => search::run(
            &store,
            &search::Query {
                text: query,
                account,
                folder,
                server,
                limit,
            },
            json,
        ),
        Command::Sync { account } => sync::run(&store, account.as_deref()),
        Command::Folder(command) => actions::folder(&store, command),
        Command::Save { id, dir, offline } => show::save(&store, id, &dir, offline),
        Command::Flag {
            id,
            changes,
            offline,
        } => actions::flag(&store, id, &changes, offline),
        Command::Move {
            id,
            folder,
            offline,
        } => actions::move_to(&store, id, &folder, offline),
        Command::Copy {
            id,
            folder,
            offline,
        } => actions::copy_to(&store, id, &folder, offline),
        Command::Delete { id, offline } => actions::delete(&store, id, offline),
        Command::Send(args) => send::send(&store, &args),
        Command::Outbox {
            action,
            account,
            json,
        } => send::outbox(&store, action, account.as_deref(), json),
        Command::Queue {
            action,
            account,
            json,
        } => queue(&store, action, account.as_deref(), json),
    }
}

/// The id of the account named by `--account N`, if given.
pub(super) fn account_id(store: &Store, name: Option<&str>) -> anyhow::Result<Option<i64>> {
    Ok(name
        .map(|name| store.find_account(name).map(|a| a.id))
        .transpose()?)
}

/// `tern queue`: the failed changes, or retry or drop one.
fn queue(
    store: &Store,
    action: Option<QueueCommand>,
    account: Option<&str>,
    json: bool,
) -> anyhow::Result<()> {
    match action {
        None => {
            let failed = store.failed_actions(account_id(store, account)?)?;
            if json {
                return output::print_json(&failed);
            }
            if failed.is_empty() {
                eprintln!("no failed changes");
            }
            for f in failed {
                println!(
                    "{}\t{}\t{}\t{}\t{}",
                    f.id,
                    output::safe(&f.what),
                    output::safe(f.subject.as_deref().unwrap_or("-")),
                    output::safe(f.folder.as_deref().unwrap_or("-")),
                    output::safe(&f.error)
                );
            }
            Ok(())
        }
        Some(QueueCommand::Retry { id }) => {
            store.retry_op(id)?;
            eprintln!("change {id} is queued again; the next `tern sync` sends it");
            Ok(())
        }
        Some(QueueCommand::Drop { id }) => {
            store.dismiss_op(id)?;
            eprintln!("dropped change {id}");
            Ok(())
        }
    }
}

/// Removes the password of an account (removed, or now using a password command) from the OS
/// keyring (`engine::forget_password`), warning when that fails.
pub(super) fn forget_password(store: &Store, account: &crate::account::Account) {
    if let Err(e) = crate::engine::forget_password(store, account) {
        eprintln!(
            "tern: the password of {:?} may still be in the OS keyring (service tern, user {}): {e}",
            account.settings.name,
            crate::account::credentials::keyring_user(account)
        );
    }
}

/// A `--ca-file` is checked when it is given, not at the first connection: a wrong file is found
/// while it is being fixed.
pub(super) fn check_ca_file(ca: &std::path::Path) -> anyhow::Result<()> {
    crate::engine::verify::check_ca_file(ca).map_err(|e| anyhow::anyhow!("--ca-file {e}"))
}

fn account_add(store: &Store, add: AddAccount) -> anyhow::Result<()> {
    let cert_sha256 = add
        .cert_sha256
        .as_deref()
        .map(normalize_fingerprint)
        .transpose()?;
    if let Some(ca) = &add.ca_file {
        check_ca_file(ca)?;
    }
    if add.protocol == Protocol::Pop3
        && (add.sync_days.is_some() || add.download_bodies || add.download_days.is_some())
    {
        bail!(
            "--sync-days, --download-bodies and --download-days are for IMAP accounts; a POP3 account downloads every message"
        );
    }
    let settings = AccountSettings {
        display_name: add.display_name.unwrap_or_else(|| add.name.clone()),
        login: add.login.unwrap_or_else(|| add.email.clone()),
        name: add.name,
        email: add.email,
        protocol: add.protocol,
        incoming: add.incoming,
        incoming_security: add.incoming_security,
        outgoing: add.outgoing,
        outgoing_security: add.outgoing_security,
        password_cmd: add.password_cmd,
        ca_file: add.ca_file.map(|p| std::path::absolute(&p).unwrap_or(p)),
        cert_sha256,
    };
    settings.validate()?;
    if settings.incoming_security == Security::Plain
        || settings.outgoing_security == Security::Plain
    {
        eprintln!(
            "warning: account {:?} sends its password without encryption (security plain)",
            settings.name
        );
    }
    if add.signature.chars().any(|c| c.is_control() && c != '\n') {
        bail!("the signature must not contain control characters other than line breaks");
    }
    account::check_protocol(settings.protocol, &settings.name, &add.options)?;
    let account = store.add_account(&settings)?;
    if let Err(e) = account::apply(store, &account, &add.options) {
        // The account is not half made: its options are part of adding it.
        let _ = store.remove_account(account.id);
        return Err(e);
    }
    if add.sync_days.is_some() || add.download_bodies || add.download_days.is_some() {
        store.set_sync_options(
            account.id,
            add.sync_days,
            add.download_bodies,
            add.download_days,
        )?;
    }
    if !add.signature.is_empty() || add.server_saves_sent {
        store.set_sending_options(account.id, &add.signature, add.server_saves_sent)?;
    }
    eprintln!(
        "added account {:?} ({}, {})",
        account.settings.name, account.settings.email, account.settings.protocol
    );
    Ok(())
}
