//! Folder roles (RFC 6154 special-use) and LIST attribute bits: plain data shared by the
//! protocol, store and UI layers.

use serde::Serialize;

/// Bits of a folder's attributes, from LIST (stored in `folder.attributes`).
pub mod attr {
    pub const NOSELECT: i64 = 1;
    pub const NONEXISTENT: i64 = 2;
    pub const HAS_CHILDREN: i64 = 4;
    pub const HAS_NO_CHILDREN: i64 = 8;
    pub const ALL: i64 = 16;
    pub const FLAGGED: i64 = 32;
}

/// The special-use role of a folder (RFC 6154), as the CLI prints it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FolderRole {
    Inbox,
    Sent,
    Drafts,
    Trash,
    Junk,
    Archive,
}

impl FolderRole {
    pub fn as_str(self) -> &'static str {
        match self {
            FolderRole::Inbox => "inbox",
            FolderRole::Sent => "sent",
            FolderRole::Drafts => "drafts",
            FolderRole::Trash => "trash",
            FolderRole::Junk => "junk",
            FolderRole::Archive => "archive",
        }
    }

    pub fn parse(text: &str) -> Option<FolderRole> {
        Some(match text {
            "inbox" => FolderRole::Inbox,
            "sent" => FolderRole::Sent,
            "drafts" => FolderRole::Drafts,
            "trash" => FolderRole::Trash,
            "junk" => FolderRole::Junk,
            "archive" => FolderRole::Archive,
            _ => return None,
        })
    }
}
