//! Files and the desktop for the reader and the composer: attachments saved (Downloads, or
//! where the file dialog says), opened from a private temporary copy, shown as images, read to
//! attach; links and files handed to the system's handler. All of it off the UI thread.

use super::{blocking, password};
use crate::engine::imap::Pick;
use crate::store::Store;

/// Attachments larger than this are refused when added (most servers refuse 25 MB and up).
pub const MAX_ATTACHMENT: u64 = 50 * 1024 * 1024;

/// Reads files to attach (chosen in the dialog or dropped on the window).
pub async fn read_attachments(
    paths: Vec<std::path::PathBuf>,
) -> Result<Vec<crate::mail::compose::Attachment>, String> {
    blocking(move || {
        paths
            .iter()
            .map(|path| {
                let size = std::fs::metadata(path)
                    .map_err(|e| format!("cannot attach {}: {e}", path.display()))?
                    .len();
                if size > MAX_ATTACHMENT {
                    return Err(format!(
                        "cannot attach {}: it is {} MB; the limit is {} MB",
                        path.display(),
                        size / 1_048_576,
                        MAX_ATTACHMENT / 1_048_576
                    ));
                }
                let data = std::fs::read(path)
                    .map_err(|e| format!("cannot attach {}: {e}", path.display()))?;
                let filename = path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_else(|| "attachment".into());
                Ok(crate::mail::compose::Attachment {
                    content_type: crate::mail::compose::content_type_for(&filename),
                    filename,
                    data,
                })
            })
            .collect()
    })
    .await
}

/// Asks for files to attach (the system's file dialog). Empty when cancelled.
pub async fn pick_attachments() -> Vec<std::path::PathBuf> {
    rfd::AsyncFileDialog::new()
        .set_title("Attach files")
        .pick_files()
        .await
        .unwrap_or_default()
        .iter()
        .map(|f| f.path().to_path_buf())
        .collect()
}

/// The open message's attachments (names, types, sizes) from the cache.
pub async fn attachment_list(
    store: Store,
    message: i64,
) -> Result<Vec<crate::engine::imap::AttachmentInfo>, String> {
    blocking(move || {
        crate::engine::imap::attachment_list(&store, message).map_err(|e| e.to_string())
    })
    .await
}

/// Where saved attachments go: the user's Downloads folder (else the home directory).
fn downloads() -> Result<std::path::PathBuf, String> {
    directories::UserDirs::new()
        .and_then(|d| {
            d.download_dir()
                .map(std::path::Path::to_path_buf)
                .or_else(|| Some(d.home_dir().to_path_buf()))
        })
        .ok_or_else(|| "cannot find a Downloads folder to save into".to_owned())
}

/// One part of a message (an attachment or an inline image), from the cache or fetched.
async fn one_part(
    store: &Store,
    message: i64,
    pick: Pick,
) -> Result<crate::engine::imap::Attachment, String> {
    let account = blocking({
        let store = store.clone();
        move || {
            let row = store.message(message).map_err(|e| e.to_string())?;
            store.account(row.account_id).map_err(|e| e.to_string())
        }
    })
    .await?;
    let password = password(&account).await.ok();
    let found =
        crate::engine::imap::attachments(store, &account, password.as_ref(), message, &pick)
            .await
            .map_err(|e| e.to_string())?;
    found
        .into_iter()
        .next()
        .ok_or_else(|| "the attachment is no longer there".to_owned())
}

/// Largest picture the reader decodes: 16 megapixels (64 MB as RGBA), 8192 pixels a side.
const MAX_PICTURE_PIXELS: u64 = 16_000_000;
const MAX_PICTURE_SIDE: u32 = 8_192;

/// An inline image (`cid:`) or an image attachment, decoded here, off the window's thread, so a
/// picture that cannot be decoded is an error shown in its place: a handle to undecodable bytes
/// would make the renderer panic on its second frame (iced 0.14's raster cache). The decoder's
/// own limits bound the memory a hostile image can take.
pub async fn image(
    store: Store,
    message: i64,
    pick: Pick,
) -> Result<iced::widget::image::Handle, String> {
    let bytes = one_part(&store, message, pick).await?.data;
    blocking(move || {
        // The size first, from the header: a small file can declare a picture that would take
        // gigabytes decoded.
        let (width, height) = image::ImageReader::new(std::io::Cursor::new(&bytes))
            .with_guessed_format()
            .map_err(|e| format!("the picture cannot be read: {e}"))?
            .into_dimensions()
            .map_err(|e| format!("the picture cannot be shown: {e}"))?;
        if width > MAX_PICTURE_SIDE
            || height > MAX_PICTURE_SIDE
            || u64::from(width) * u64::from(height) > MAX_PICTURE_PIXELS
        {
            return Err(format!(
                "the picture is too large to show here ({width}×{height}); open or save it"
            ));
        }
        let encoded = iced::widget::image::Handle::from_bytes(bytes);
        let decoded = iced::advanced::graphics::image::load(&encoded)
            .map_err(|e| format!("the picture cannot be shown: {e}"))?;
        let (width, height) = (decoded.width(), decoded.height());
        if width == 0 || height == 0 {
            return Err("the picture is empty".to_owned());
        }
        Ok(iced::widget::image::Handle::from_rgba(
            width,
            height,
            decoded.into_raw(),
        ))
    })
    .await
}

/// Saves attachment number `index` of `message` (fetched and cached if needed) into Downloads
/// under a sanitised name that never overwrites a file. Returns where it went.
pub async fn save_attachment(
    store: Store,
    message: i64,
    index: usize,
) -> Result<std::path::PathBuf, String> {
    let attachment = one_part(&store, message, Pick::Nth(index)).await?;
    let dir = downloads()?;
    blocking(move || {
        crate::engine::local::save_file(&dir, &attachment.name, &attachment.data)
            .map_err(|e| format!("cannot save {}: {e}", attachment.name))
    })
    .await
}

/// Saves the first `count` attachments of `message` to the Downloads folder, each under a name
/// of its own; returns the folder and how many were saved. Stops at the first that fails and
/// says how many went before it.
pub async fn save_all_attachments(
    store: Store,
    message: i64,
    count: usize,
) -> Result<(std::path::PathBuf, usize), String> {
    let dir = downloads()?;
    for index in 0..count {
        let failed = |e: String| {
            if index == 0 {
                e
            } else {
                format!(
                    "saved {index} of {count} attachments to {}; {e}",
                    dir.display()
                )
            }
        };
        let attachment = one_part(&store, message, Pick::Nth(index))
            .await
            .map_err(failed)?;
        let to = dir.clone();
        blocking(move || {
            crate::engine::local::save_file(&to, &attachment.name, &attachment.data)
                .map_err(|e| format!("cannot save {}: {e}", attachment.name))
        })
        .await
        .map_err(failed)?;
    }
    Ok((dir, count))
}

/// Opens a web or mail link with the system's handler (only http, https and mailto).
pub async fn open_link(link: String) -> Result<(), String> {
    if !crate::mail::links::is_safe_target(&link) {
        return Err(format!("Tern does not open links like {link:?}"));
    }
    blocking(move || {
        open_with_system(std::ffi::OsStr::new(&link))
            .map_err(|e| format!("cannot open {link}: {e}"))
    })
    .await
}

/// Hands a URL or a file to the desktop's handler (no shell parses it).
fn open_with_system(target: &std::ffi::OsStr) -> std::io::Result<()> {
    let mut command = if cfg!(target_os = "macos") {
        std::process::Command::new("open")
    } else if cfg!(target_os = "windows") {
        // explorer.exe takes the URL or path as one argument.
        std::process::Command::new("explorer")
    } else {
        std::process::Command::new("xdg-open")
    };
    let mut child = command.arg(target).spawn()?;
    // Reap it in the background so no zombie is left behind.
    std::thread::spawn(move || child.wait());
    Ok(())
}

/// Opens attachment `index` with the system's handler, from a private temporary copy (the user
/// has already been warned if it is a program). Returns the copy's path.
pub async fn open_attachment(
    store: Store,
    message: i64,
    index: usize,
) -> Result<std::path::PathBuf, String> {
    let attachment = one_part(&store, message, Pick::Nth(index)).await?;
    blocking(move || {
        let dir = std::env::temp_dir().join(format!("tern-{}", whoami()));
        private_dir(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let path = crate::engine::local::save_file(&dir, &attachment.name, &attachment.data)
            .map_err(|e| format!("cannot copy {} to open it: {e}", attachment.name))?;
        open_with_system(path.as_os_str())
            .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
        Ok(path)
    })
    .await
}

/// The user's name for a per-user temporary directory (not a secret, only a path component).
fn whoami() -> String {
    let name = std::env::var("USER")
        .or_else(|_| std::env::var("USERNAME"))
        .unwrap_or_else(|_| "user".into());
    crate::mail::attachment::sanitize_filename(&name)
}

/// Creates `dir` readable only by its owner (attachments are private mail).
fn private_dir(dir: &std::path::Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

/// Asks where to save attachment `index` (the system's file dialog, starting in Downloads with
/// the sanitised name) and writes it there. `Ok(None)` when the user cancelled.
pub async fn save_attachment_as(
    store: Store,
    message: i64,
    index: usize,
    name: String,
) -> Result<Option<std::path::PathBuf>, String> {
    let suggested = crate::mail::attachment::sanitize_filename(&name);
    let mut dialog = rfd::AsyncFileDialog::new().set_file_name(&suggested);
    if let Ok(dir) = downloads() {
        dialog = dialog.set_directory(dir);
    }
    let Some(chosen) = dialog.save_file().await else {
        return Ok(None);
    };
    let path = chosen.path().to_path_buf();
    let attachment = one_part(&store, message, Pick::Nth(index)).await?;
    blocking(move || {
        std::fs::write(&path, &attachment.data)
            .map_err(|e| format!("cannot save {}: {e}", path.display()))?;
        Ok(Some(path))
    })
    .await
}
