//! Desktop notifications for new mail in an Inbox (notify-rust). Clicking one opens the message
//! on desktops that report clicks (freedesktop notifications on Linux and the BSDs).

use crate::store::MessageRow;

/// Text safe for notification servers that read simple markup.
fn plain(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn sender(row: &MessageRow) -> &str {
    if row.from_name.is_empty() {
        &row.from_addr
    } else {
        &row.from_name
    }
}

/// Shows one notification for `rows` (newest first) and waits, off the UI thread, for a click.
/// Returns the message to open, if the user clicked.
pub async fn new_mail(rows: Vec<MessageRow>) -> Option<i64> {
    tokio::task::spawn_blocking(move || show(&rows))
        .await
        .ok()
        .flatten()
}

fn show(rows: &[MessageRow]) -> Option<i64> {
    let first = rows.first()?;
    let summary = if rows.len() == 1 {
        format!("New mail from {}", sender(first))
    } else {
        format!("{} new messages", rows.len())
    };
    let body = rows
        .iter()
        .take(3)
        .map(|r| format!("{}: {}", sender(r), r.subject))
        .collect::<Vec<_>>()
        .join("\n");
    let mut notification = notify_rust::Notification::new();
    notification
        .appname("Tern")
        .summary(&plain(&summary))
        .body(&plain(&body))
        .action("default", "Open");
    // No notification service (a headless machine): nothing to show, not an error.
    let handle = notification.show().ok()?;
    #[cfg(all(unix, not(target_os = "macos")))]
    {
        let mut clicked = None;
        handle.wait_for_action(|action| {
            if action == "default" {
                clicked = Some(first.id);
            }
        });
        clicked
    }
    #[cfg(not(all(unix, not(target_os = "macos"))))]
    {
        drop(handle);
        None
    }
}
