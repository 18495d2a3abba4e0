//! The icon set: Lucide (ISC licence, `assets/icons/LICENSE-lucide.txt`), embedded in the
//! binary and drawn with iced's `svg` widget, tinted with the theme's colours.

use std::sync::LazyLock;

use iced::widget::svg;

macro_rules! icons {
    ($($name:ident => $file:literal,)*) => {
        /// An icon of the set.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Icon {
            $($name,)*
        }

        impl Icon {
            /// Every icon (tests render them all).
            pub const ALL: &[Icon] = &[$(Icon::$name,)*];

            /// The SVG source.
            pub fn source(self) -> &'static [u8] {
                match self {
                    $(Icon::$name => include_bytes!(concat!("../../../assets/icons/", $file, ".svg")),)*
                }
            }
        }
    };
}

icons! {
    Archive => "archive",
    AtSign => "at-sign",
    ChevronDown => "chevron-down",
    ChevronRight => "chevron-right",
    ChevronUp => "chevron-up",
    Circle => "circle",
    CircleCheck => "circle-check",
    CircleFilled => "circle-filled",
    CircleHelp => "circle-help",
    Clock => "clock",
    Download => "download",
    EyeOff => "eye-off",
    File => "file",
    FileArchive => "file-archive",
    FilePen => "file-pen",
    FileText => "file-text",
    Flame => "flame",
    Folder => "folder",
    FolderInput => "folder-input",
    Forward => "forward",
    Image => "image",
    Inbox => "inbox",
    Keyboard => "keyboard",
    LayoutList => "layout-list",
    Mail => "mail",
    MailOpen => "mail-open",
    Mails => "mails",
    MessagesSquare => "messages-square",
    Moon => "moon",
    Music => "music",
    Paperclip => "paperclip",
    Plus => "plus",
    RefreshCw => "refresh-cw",
    Reply => "reply",
    ReplyAll => "reply-all",
    Rows3 => "rows-3",
    Search => "search",
    Send => "send",
    Settings => "settings",
    SquarePen => "square-pen",
    Star => "star",
    StarFilled => "star-filled",
    Sun => "sun",
    Table2 => "table-2",
    Trash2 => "trash-2",
    TriangleAlert => "triangle-alert",
    Video => "video",
    WifiOff => "wifi-off",
    X => "x",
}

/// One handle per icon, made once: a handle's id is a hash of its bytes, and the renderer
/// caches the rasterised icon by that id.
static HANDLES: LazyLock<Vec<svg::Handle>> = LazyLock::new(|| {
    Icon::ALL
        .iter()
        .map(|icon| svg::Handle::from_memory(icon.source()))
        .collect()
});

impl Icon {
    pub fn handle(self) -> svg::Handle {
        let index = Icon::ALL.iter().position(|i| *i == self).unwrap_or(0);
        HANDLES
            .get(index)
            .cloned()
            .unwrap_or_else(|| svg::Handle::from_memory(self.source()))
    }

    /// The icon of a folder with this special-use role.
    pub fn folder(role: Option<crate::mail::folder::FolderRole>) -> Icon {
        use crate::mail::folder::FolderRole as R;
        match role {
            Some(R::Inbox) => Icon::Inbox,
            Some(R::Sent) => Icon::Send,
            Some(R::Drafts) => Icon::FilePen,
            Some(R::Trash) => Icon::Trash2,
            Some(R::Junk) => Icon::Flame,
            Some(R::Archive) => Icon::Archive,
            None => Icon::Folder,
        }
    }

    /// The icon of an attachment of this MIME type.
    pub fn attachment(mime: &str) -> Icon {
        let mime = mime.to_ascii_lowercase();
        let (kind, sub) = mime.split_once('/').unwrap_or((mime.as_str(), ""));
        match kind {
            "image" => Icon::Image,
            "audio" => Icon::Music,
            "video" => Icon::Video,
            "text" => Icon::FileText,
            _ if [
                "zip",
                "x-tar",
                "gzip",
                "x-7z-compressed",
                "x-rar-compressed",
                "x-bzip2",
            ]
            .contains(&sub) =>
            {
                Icon::FileArchive
            }
            _ if sub == "pdf" || sub.contains("document") || sub.contains("msword") => {
                Icon::FileText
            }
            _ => Icon::File,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Icon;

    #[test]
    fn every_icon_is_an_svg_that_parses() {
        for icon in Icon::ALL {
            let text = std::str::from_utf8(icon.source()).unwrap_or_default();
            assert!(text.contains("<svg"), "{icon:?}");
            assert!(roxmltree::Document::parse(text).is_ok(), "{icon:?}");
        }
    }

    #[test]
    fn attachments_get_an_icon_by_type() {
        assert_eq!(Icon::attachment("image/png"), Icon::Image);
        assert_eq!(Icon::attachment("application/pdf"), Icon::FileText);
        assert_eq!(Icon::attachment("application/zip"), Icon::FileArchive);
        assert_eq!(Icon::attachment("application/octet-stream"), Icon::File);
        assert_eq!(Icon::attachment("garbage"), Icon::File);
    }
}
