//! A message opened from a file (`tern message.eml`, a double-click on an `.eml`): shown in the
//! right pane like a message of the list (the toolbar's Reply, Reply All and Forward answer it),
//! but read from the file rather than the store. HTML is shown as sanitised text; nothing remote is loaded.

use std::path::PathBuf;
use std::sync::Arc;

use iced::widget::{column, container, row, rule, scrollable, text};
use iced::{Element, Length, Task};

use super::theme::{self, size, space};
use super::widgets::{self, Icon, Look};
use crate::mail::compose::Draft;

/// The largest message file read (a bigger one is refused with a clear message).
pub const MAX_FILE: u64 = 64 * 1024 * 1024;
/// Most attachment names shown.
const MAX_ATTACHMENTS: usize = 100;
/// Most characters of body text shown.
const MAX_TEXT: usize = 512 * 1024;

#[derive(Debug, Clone)]
pub struct State {
    pub path: PathBuf,
    subject: String,
    from: String,
    to: String,
    cc: String,
    date: Option<i64>,
    text: String,
    /// Attachment names, made safe to show (and to save under).
    attachments: Vec<String>,
    raw: Arc<Vec<u8>>,
}

#[derive(Debug, Clone)]
pub enum Message {
    Reply,
    ReplyAll,
    Forward,
    Close,
}

/// What the window does after a message.
#[derive(Debug)]
pub enum Action {
    None,
    Close,
    /// Open the composer on this draft.
    Compose(Box<Draft>),
    Error(String),
}

/// Reads the message file at `path` (off the UI thread).
pub async fn load(path: PathBuf) -> Result<State, String> {
    tokio::task::spawn_blocking(move || read(path))
        .await
        .map_err(|e| format!("cannot read the message file: {e}"))?
}

fn read(path: PathBuf) -> Result<State, String> {
    use std::io::Read as _;
    let shown = path.display().to_string();
    // Only a regular file: a FIFO or a device would block the read (or never end).
    let meta = std::fs::metadata(&path).map_err(|e| format!("cannot open {shown}: {e}"))?;
    if !meta.is_file() {
        return Err(format!("{shown} is not a message file"));
    }
    let file = std::fs::File::open(&path).map_err(|e| format!("cannot open {shown}: {e}"))?;
    let mut raw = Vec::new();
    file.take(MAX_FILE + 1)
        .read_to_end(&mut raw)
        .map_err(|e| format!("cannot read {shown}: {e}"))?;
    if u64::try_from(raw.len()).unwrap_or(u64::MAX) > MAX_FILE {
        return Err(format!(
            "{shown} is larger than {} MB; Tern opens message files up to that size",
            MAX_FILE / (1024 * 1024)
        ));
    }
    Ok(from_bytes(path, raw))
}

/// The screen for a message whose source is `raw` (anything: a file that is no message shows
/// as text without headers).
pub fn from_bytes(path: PathBuf, raw: Vec<u8>) -> State {
    let (summary, text) = crate::mail::parse::summarize_with_text(&raw);
    let text = text
        .or_else(|| crate::mail::parse::body_html(&raw).map(|h| crate::mail::html::to_text(&h)))
        .unwrap_or_default();
    let text: String = text.chars().take(MAX_TEXT).collect();
    let attachments = mail_parser::MessageParser::default()
        .parse(&raw)
        .map(|message| {
            use mail_parser::MimeHeaders as _;
            crate::mail::attachment::attachment_parts(&message)
                .map(|part| {
                    let name = part
                        .attachment_name()
                        .map(crate::mail::parse::decode_filename)
                        .unwrap_or_else(|| "attachment".to_owned());
                    crate::mail::attachment::sanitize_filename(&name)
                })
                .take(MAX_ATTACHMENTS)
                .collect()
        })
        .unwrap_or_default();
    let from = match (summary.from_name.trim(), summary.from_addr.trim()) {
        ("", addr) => addr.to_owned(),
        (name, "") => name.to_owned(),
        (name, addr) => format!("{name} <{addr}>"),
    };
    State {
        path,
        subject: summary.subject,
        from,
        to: summary.to,
        cc: summary.cc,
        date: summary.date,
        text,
        attachments,
        raw: Arc::new(raw),
    }
}

/// `own` are the user's addresses (left out of a reply to all).
pub fn update(state: &State, message: Message, own: &[String]) -> (Task<Message>, Action) {
    let draft = match message {
        Message::Close => return (Task::none(), Action::Close),
        Message::Reply => crate::mail::reply::reply(&state.raw, own, false),
        Message::ReplyAll => crate::mail::reply::reply(&state.raw, own, true),
        Message::Forward => crate::mail::reply::forward(&state.raw, false),
    };
    let action = match draft {
        Some(draft) => Action::Compose(Box::new(draft)),
        None => Action::Error("this file cannot be read as a message to answer".into()),
    };
    (Task::none(), action)
}

pub fn view(state: &State) -> Element<'_, Message> {
    let file = state
        .path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    // Reply, Reply All and Forward are the toolbar's (they answer what the pane shows).
    let tools = row![
        widgets::muted_icon(Icon::File, size::ICON),
        text(format!("Opened from the file {file}"))
            .style(theme::muted)
            .width(Length::Fill),
        widgets::tool_button(Icon::X, Some("Close"), Look::Tool, Some(Message::Close)),
    ]
    .spacing(space::S)
    .align_y(iced::Alignment::Center);
    let subject = if state.subject.trim().is_empty() {
        "(no subject)"
    } else {
        widgets::clip(state.subject.trim(), 2_000)
    };
    let line = |label: &'static str, value: &str| -> Element<'_, Message> {
        row![
            text(label).style(theme::muted).width(56),
            text(widgets::clip(value, 4_000).to_owned()),
        ]
        .spacing(space::S)
        .into()
    };
    let mut header = column![
        text(subject.to_owned())
            .size(size::TITLE)
            .font(theme::semibold()),
        line("From", &state.from),
    ]
    .spacing(space::XS);
    if !state.to.trim().is_empty() {
        header = header.push(line("To", &state.to));
    }
    if !state.cc.trim().is_empty() {
        header = header.push(line("Cc", &state.cc));
    }
    if let Some(date) = state.date {
        header = header.push(line("Date", &theme::long_date(date)));
    }
    if !state.attachments.is_empty() {
        let chips = state
            .attachments
            .iter()
            .fold(row![].spacing(space::S), |r, name| {
                r.push(widgets::chip(
                    row![
                        widgets::muted_icon(Icon::Paperclip, size::ICON),
                        text(widgets::clip(name, 200).to_owned()),
                    ]
                    .spacing(space::XS),
                ))
            });
        header = header.push(row![chips].wrap());
    }
    let body = scrollable(
        container(text(state.text.as_str()))
            .max_width(640)
            .padding([space::L, space::XL]),
    )
    .height(Length::Fill);
    column![
        container(tools).padding([space::S, space::M]),
        rule::horizontal(1).style(theme::rule),
        container(header).padding([space::M, space::XL]),
        rule::horizontal(1).style(theme::rule),
        body,
    ]
    .into()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use super::*;

    #[test]
    fn a_message_file_shows_its_headers_text_and_safe_attachment_names() {
        let raw = b"From: Ann <ann@example.org>\r\nTo: bob@example.org\r\nSubject: Plans\r\n\
Date: Tue, 1 Dec 2026 10:00:00 +0000\r\nMessage-ID: <p@example.org>\r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n\
See you at ten.\r\n--b\r\nContent-Type: application/octet-stream\r\n\
Content-Disposition: attachment; filename=\"../../.bashrc\"\r\n\r\nx\r\n--b--\r\n";
        let state = from_bytes("m.eml".into(), raw.to_vec());
        assert_eq!(state.subject, "Plans");
        assert_eq!(state.from, "Ann <ann@example.org>");
        assert!(state.text.contains("See you at ten."));
        assert_eq!(state.attachments.len(), 1);
        assert!(!state.attachments[0].contains('/'));
        let (_, action) = update(&state, Message::Reply, &["bob@example.org".into()]);
        let Action::Compose(draft) = action else {
            unreachable!("a reply opens the composer")
        };
        assert_eq!(draft.to, vec!["Ann <ann@example.org>".to_owned()]);
        assert_eq!(draft.in_reply_to.as_deref(), Some("p@example.org"));
        // Junk shows as text and never panics.
        let junk = from_bytes("x.eml".into(), vec![0xff, 0, b'\n', 0xfe]);
        assert!(junk.subject.is_empty());
    }
}
