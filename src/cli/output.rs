//! What the CLI prints: human-readable tables, or `--json` documents with stable field names.

use std::collections::HashMap;
use std::io::Write as _;

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::account::Account;
use crate::store::{Folder, MessageRow, Store, flag};

pub(super) fn print_json<T: Serialize + ?Sized>(value: &T) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, value)
        .context("cannot write JSON to standard output")?;
    writeln!(out).context("cannot write to standard output")?;
    Ok(())
}

#[derive(Serialize)]
struct AccountJson<'a> {
    name: &'a str,
    email: &'a str,
    protocol: &'a str,
    display_name: &'a str,
    login: &'a str,
    incoming: String,
    incoming_security: &'a str,
    outgoing: String,
    outgoing_security: &'a str,
    check_minutes: i64,
    /// POP3 only (null for IMAP), as `account add|set` takes them.
    leave_on_server: Option<bool>,
    delete_after_days: Option<i64>,
    delete_on_server_when_deleted: Option<bool>,
    headers_only_over_kb: Option<i64>,
}

fn pop3(account: &Account) -> bool {
    account.settings.protocol == crate::account::Protocol::Pop3
}

pub(super) fn accounts(accounts: &[Account], json: bool) -> anyhow::Result<()> {
    if json {
        let list: Vec<AccountJson<'_>> = accounts
            .iter()
            .map(|a| AccountJson {
                name: &a.settings.name,
                email: &a.settings.email,
                protocol: a.settings.protocol.as_str(),
                display_name: &a.settings.display_name,
                login: &a.settings.login,
                incoming: a.settings.incoming.to_string(),
                incoming_security: a.settings.incoming_security.as_str(),
                outgoing: a.settings.outgoing.to_string(),
                outgoing_security: a.settings.outgoing_security.as_str(),
                check_minutes: a.poll_seconds / 60,
                leave_on_server: pop3(a).then_some(a.pop3_leave_on_server),
                delete_after_days: pop3(a).then_some(a.pop3_delete_after_days).flatten(),
                delete_on_server_when_deleted: pop3(a).then_some(a.pop3_delete_when_deleted),
                headers_only_over_kb: pop3(a)
                    .then_some(a.pop3_max_message_size.map(|b| b / 1024))
                    .flatten(),
            })
            .collect();
        return print_json(&list);
    }
    if accounts.is_empty() {
        eprintln!("no accounts yet; add one with `tern account add`");
    }
    for a in accounts {
        let s = &a.settings;
        println!(
            "{}\t{}\t{}\t{} ({})\t{} ({})",
            s.name,
            s.email,
            s.protocol,
            s.incoming,
            s.incoming_security,
            s.outgoing,
            s.outgoing_security
        );
    }
    Ok(())
}

#[derive(Serialize)]
struct FolderJson<'a> {
    path: &'a str,
    role: Option<&'a str>,
    total: i64,
    unread: i64,
    cached: i64,
    subscribed: bool,
    /// Why the last sync could not sync the folder; null when it did.
    error: Option<&'a str>,
}

pub(super) fn folders(folders: &[Folder], json: bool) -> anyhow::Result<()> {
    if json {
        let list: Vec<FolderJson<'_>> = folders
            .iter()
            .map(|f| FolderJson {
                path: &f.path,
                role: f.role.map(|r| r.as_str()),
                total: f.counts().0,
                unread: f.counts().1,
                cached: f.total,
                subscribed: f.subscribed,
                error: f.sync_error.as_deref(),
            })
            .collect();
        return print_json(&list);
    }
    for f in folders {
        println!(
            "{}\t{}\t{} unread\t{} total{}",
            safe(&f.path),
            f.role.map(|r| r.as_str()).unwrap_or("-"),
            f.counts().1,
            f.counts().0,
            f.sync_error
                .as_deref()
                .map(|e| format!("\tnot synced: {}", safe(e)))
                .unwrap_or_default()
        );
    }
    Ok(())
}

/// A message as `list`, `search` and `show` print it.
#[derive(Serialize)]
struct MessageJson {
    id: i64,
    account: String,
    folder: String,
    uid: Option<i64>,
    uidl: Option<String>,
    message_id: Option<String>,
    in_reply_to: Option<String>,
    thread_id: Option<i64>,
    subject: String,
    from: String,
    date: String,
    size: i64,
    flags: Vec<String>,
}

#[derive(Serialize)]
struct ShowJson {
    #[serde(flatten)]
    message: MessageJson,
    to: String,
    cc: String,
    text: Option<String>,
    attachments: Vec<AttachmentJson>,
}

#[derive(Serialize)]
pub(super) struct AttachmentJson {
    pub name: String,
    pub size: usize,
    pub content_type: String,
}

/// Account names and folder paths by id, read once per command.
struct Names {
    accounts: HashMap<i64, String>,
    folders: HashMap<i64, String>,
}

impl Names {
    fn load(store: &Store) -> anyhow::Result<Names> {
        let mut names = Names {
            accounts: HashMap::new(),
            folders: HashMap::new(),
        };
        for account in store.accounts()? {
            for folder in store.folders(account.id)? {
                names.folders.insert(folder.id, folder.path);
            }
            names.accounts.insert(account.id, account.settings.name);
        }
        Ok(names)
    }

    fn json(&self, m: &MessageRow) -> MessageJson {
        MessageJson {
            id: m.id,
            account: self
                .accounts
                .get(&m.account_id)
                .cloned()
                .unwrap_or_default(),
            folder: self.folders.get(&m.folder_id).cloned().unwrap_or_default(),
            uid: m.uid,
            uidl: m.uidl.clone(),
            message_id: m.message_id.clone(),
            in_reply_to: m.in_reply_to.clone(),
            thread_id: m.thread_id,
            subject: m.subject.clone(),
            from: from_display(m),
            date: rfc3339(m.date),
            size: m.size,
            flags: flag::names(m.flags, &m.keywords),
        }
    }
}

fn from_display(m: &MessageRow) -> String {
    match (m.from_name.is_empty(), m.from_addr.is_empty()) {
        (false, false) => format!("{} <{}>", m.from_name, m.from_addr),
        (true, _) => m.from_addr.clone(),
        (false, true) => m.from_name.clone(),
    }
}

/// Unix seconds as RFC 3339 in UTC.
pub(super) fn rfc3339(seconds: i64) -> String {
    DateTime::<Utc>::from_timestamp(seconds, 0)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// A field from mail or a server made safe for a terminal, on one line: control characters
/// (ESC and CSI start escape sequences that could rewrite the screen or the title, or
/// worse), line breaks and tabs become a space, and invisible bidi and format characters go.
/// (JSON output needs none of this: the encoder escapes them.)
pub(super) fn safe(text: &str) -> String {
    text.chars()
        .filter(|c| !crate::mail::attachment::is_invisible_format(*c))
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// Like `safe`, for a body: line breaks and tabs stay.
pub(super) fn safe_text(text: &str) -> String {
    text.chars()
        .filter(|c| *c != '\r' && !crate::mail::attachment::is_invisible_format(*c))
        .map(|c| {
            if c.is_control() && c != '\n' && c != '\t' {
                ' '
            } else {
                c
            }
        })
        .collect()
}

pub(super) fn messages(store: &Store, rows: &[MessageRow], json: bool) -> anyhow::Result<()> {
    let names = Names::load(store)?;
    if json {
        let list: Vec<MessageJson> = rows.iter().map(|m| names.json(m)).collect();
        return print_json(&list);
    }
    for m in rows {
        let unread = if m.flags & flag::SEEN == 0 { "*" } else { " " };
        println!(
            "{}\t{unread} {}\t{}\t{}",
            m.id,
            rfc3339(m.date),
            safe(&from_display(m)),
            safe(&m.subject)
        );
    }
    Ok(())
}

pub(super) fn show(
    store: &Store,
    message: &MessageRow,
    text: Option<String>,
    attachments: Vec<AttachmentJson>,
    json: bool,
) -> anyhow::Result<()> {
    let names = Names::load(store)?;
    if json {
        return print_json(&ShowJson {
            to: message.to.clone(),
            cc: message.cc.clone(),
            message: names.json(message),
            text,
            attachments,
        });
    }
    println!("From:    {}", safe(&from_display(message)));
    println!("To:      {}", safe(&message.to));
    if !message.cc.is_empty() {
        println!("Cc:      {}", safe(&message.cc));
    }
    println!("Date:    {}", rfc3339(message.date));
    println!("Subject: {}", safe(&message.subject));
    for a in &attachments {
        println!(
            "Attachment: {} ({}, {} bytes)",
            safe(&a.name),
            safe(&a.content_type),
            a.size
        );
    }
    println!();
    if let Some(text) = text {
        println!("{}", safe_text(&text));
    }
    Ok(())
}

pub(super) fn attachments(raw: &[u8]) -> Vec<AttachmentJson> {
    use mail_parser::{MessageParser, MimeHeaders as _};
    let Some(message) = MessageParser::default().parse(raw) else {
        return Vec::new();
    };
    crate::mail::attachment::attachment_parts(&message)
        .map(|part| AttachmentJson {
            name: part.attachment_name().unwrap_or("unnamed").to_owned(),
            size: part.len(),
            content_type: part
                .content_type()
                .map(|ct| match ct.subtype() {
                    Some(sub) => format!("{}/{}", ct.ctype(), sub),
                    None => ct.ctype().to_owned(),
                })
                .unwrap_or_else(|| "application/octet-stream".to_owned()),
        })
        .collect()
}
