//! Mailbox names and LIST results: modified UTF-7 (RFC 3501 5.1.3), LIST attributes, and
//! special-use roles (RFC 6154), guessed from common names when the server gives none.
//!
//! The modified UTF-7 codec is written here rather than taken from a crate: it is ~60 lines, the
//! small crates for it are unmaintained, and it must never panic on a server's bytes.

use imap_codec::imap_types::mailbox::Mailbox;
use imap_codec::imap_types::response::Data;

use crate::mail::folder::{FolderRole, attr};

/// A folder as LIST reports it, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedFolder {
    /// The decoded (UTF-8) path.
    pub path: String,
    /// The name as the server spells it, for commands.
    pub server_path: String,
    pub delimiter: Option<char>,
    /// Bits of `store::attr`.
    pub attributes: i64,
    pub role: Option<FolderRole>,
}

/// The raw bytes of a mailbox name.
pub fn mailbox_bytes(mailbox: &Mailbox<'_>) -> Vec<u8> {
    match mailbox {
        Mailbox::Inbox => b"INBOX".to_vec(),
        Mailbox::Other(other) => other.inner().as_ref().to_vec(),
    }
}

/// Turns a LIST response into a folder; other data gives None.
pub fn from_list(data: &Data<'_>) -> Option<ListedFolder> {
    let Data::List {
        items,
        delimiter,
        mailbox,
    } = data
    else {
        return None;
    };
    let raw = mailbox_bytes(mailbox);
    let server_path = String::from_utf8_lossy(&raw).into_owned();
    let path = if matches!(mailbox, Mailbox::Inbox) {
        "INBOX".to_owned()
    } else {
        decode_utf7(&server_path)
    };
    let mut attributes = 0;
    let mut role = matches!(mailbox, Mailbox::Inbox).then_some(FolderRole::Inbox);
    for item in items {
        let name = item.to_string().to_ascii_lowercase();
        match name.as_str() {
            "\\noselect" => attributes |= attr::NOSELECT,
            "\\nonexistent" => attributes |= attr::NONEXISTENT | attr::NOSELECT,
            "\\haschildren" => attributes |= attr::HAS_CHILDREN,
            "\\hasnochildren" => attributes |= attr::HAS_NO_CHILDREN,
            "\\all" => attributes |= attr::ALL,
            "\\flagged" => attributes |= attr::FLAGGED,
            "\\sent" => role = Some(FolderRole::Sent),
            "\\drafts" => role = Some(FolderRole::Drafts),
            "\\trash" => role = Some(FolderRole::Trash),
            "\\junk" => role = Some(FolderRole::Junk),
            "\\archive" => role = Some(FolderRole::Archive),
            _ => {}
        }
    }
    Some(ListedFolder {
        path,
        server_path,
        delimiter: delimiter.as_ref().map(|d| d.inner()),
        attributes,
        role,
    })
}

/// Gives roles to folders the server did not mark, by their (last) name, for each role no folder
/// has yet. Top-level folders win over nested ones.
pub fn guess_roles(folders: &mut [ListedFolder]) {
    const NAMES: [(FolderRole, &[&str]); 5] = [
        (
            FolderRole::Sent,
            &[
                "sent",
                "sent items",
                "sent messages",
                "sent mail",
                "gesendet",
                "envoyés",
                "enviados",
                "inviata",
            ],
        ),
        (
            FolderRole::Drafts,
            &[
                "drafts",
                "draft",
                "entwürfe",
                "brouillons",
                "borradores",
                "bozze",
            ],
        ),
        (
            FolderRole::Trash,
            &[
                "trash",
                "deleted items",
                "deleted messages",
                "bin",
                "papierkorb",
                "corbeille",
                "papelera",
                "cestino",
            ],
        ),
        (
            FolderRole::Junk,
            &["junk", "spam", "junk e-mail", "junk email", "bulk mail"],
        ),
        (
            FolderRole::Archive,
            &["archive", "archives", "archiv", "archivio"],
        ),
    ];
    for (role, names) in NAMES {
        if folders.iter().any(|f| f.role == Some(role)) {
            continue;
        }
        let depth = |f: &ListedFolder| f.delimiter.map_or(0, |d| f.path.matches(d).count());
        let best = folders
            .iter_mut()
            .filter(|f| f.role.is_none() && f.attributes & attr::NOSELECT == 0)
            .filter(|f| {
                let last = f
                    .delimiter
                    .and_then(|d| f.path.rsplit(d).next())
                    .unwrap_or(&f.path)
                    .to_lowercase();
                names.contains(&last.as_str())
            })
            .min_by_key(|f| depth(f));
        if let Some(folder) = best {
            folder.role = Some(role);
        }
    }
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

/// The modified-base64 digit for the low six bits of `value`.
fn b64_char(value: u32) -> char {
    B64.get((value & 0x3f) as usize)
        .map_or('A', |b| char::from(*b))
}

/// Decodes a modified UTF-7 mailbox name. Malformed input is kept as it was (never a panic).
pub fn decode_utf7(name: &str) -> String {
    let mut out = String::new();
    let mut rest = name;
    while let Some(amp) = rest.find('&') {
        out.push_str(rest.get(..amp).unwrap_or_default());
        let after = rest.get(amp + 1..).unwrap_or_default();
        let Some(dash) = after.find('-') else {
            out.push_str(rest.get(amp..).unwrap_or_default());
            return out;
        };
        let encoded = after.get(..dash).unwrap_or_default();
        if encoded.is_empty() {
            out.push('&');
        } else {
            match decode_b64_utf16(encoded) {
                Some(text) => out.push_str(&text),
                None => {
                    out.push('&');
                    out.push_str(encoded);
                    out.push('-');
                }
            }
        }
        rest = after.get(dash + 1..).unwrap_or_default();
    }
    out.push_str(rest);
    out
}

fn decode_b64_utf16(encoded: &str) -> Option<String> {
    let mut bits = 0u32;
    let mut nbits = 0;
    let mut bytes = Vec::new();
    for c in encoded.bytes() {
        let value = B64.iter().position(|&b| b == c)? as u32;
        bits = (bits << 6) | value;
        nbits += 6;
        if nbits >= 8 {
            nbits -= 8;
            bytes.push(((bits >> nbits) & 0xff) as u8);
        }
    }
    if bytes.len() % 2 != 0 {
        return None;
    }
    let units: Vec<u16> = bytes
        .chunks_exact(2)
        .map(|pair| match pair {
            [a, b] => u16::from_be_bytes([*a, *b]),
            _ => 0xFFFD,
        })
        .collect();
    String::from_utf16(&units).ok()
}

/// Encodes a mailbox name in modified UTF-7.
pub fn encode_utf7(name: &str) -> String {
    let mut out = String::new();
    let mut pending: Vec<u16> = Vec::new();
    let flush = |pending: &mut Vec<u16>, out: &mut String| {
        if pending.is_empty() {
            return;
        }
        out.push('&');
        let bytes: Vec<u8> = pending.iter().flat_map(|u| u.to_be_bytes()).collect();
        let mut bits = 0u32;
        let mut nbits = 0;
        for byte in bytes {
            bits = (bits << 8) | u32::from(byte);
            nbits += 8;
            while nbits >= 6 {
                nbits -= 6;
                out.push(b64_char(bits >> nbits));
            }
        }
        if nbits > 0 {
            out.push(b64_char(bits << (6 - nbits)));
        }
        out.push('-');
        pending.clear();
    };
    for c in name.chars() {
        if (' '..='~').contains(&c) {
            flush(&mut pending, &mut out);
            if c == '&' {
                out.push_str("&-");
            } else {
                out.push(c);
            }
        } else {
            let mut units = [0u16; 2];
            pending.extend_from_slice(c.encode_utf16(&mut units));
        }
    }
    flush(&mut pending, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modified_utf7_round_trips() {
        for (decoded, encoded) in [
            ("Entwürfe", "Entw&APw-rfe"),
            ("~peter/mail/台北/日本語", "~peter/mail/&U,BTFw-/&ZeVnLIqe-"),
            ("A&B", "A&-B"),
            ("Émile 😀", "&AMk-mile &2D3eAA-"),
            ("plain", "plain"),
        ] {
            assert_eq!(encode_utf7(decoded), encoded, "{decoded}");
            assert_eq!(decode_utf7(encoded), decoded, "{encoded}");
        }
    }

    #[test]
    fn malformed_utf7_is_kept_not_a_panic() {
        for bad in ["&", "&ZeVnLIqe", "&***-", "&A-", "tail&"] {
            let _ = decode_utf7(bad);
        }
        assert_eq!(decode_utf7("&***-x"), "&***-x");
    }

    fn folder(path: &str, role: Option<FolderRole>) -> ListedFolder {
        ListedFolder {
            path: path.into(),
            server_path: path.into(),
            delimiter: Some('/'),
            attributes: 0,
            role,
        }
    }

    #[test]
    fn roles_are_guessed_only_where_missing() {
        let mut folders = vec![
            folder("INBOX", Some(FolderRole::Inbox)),
            folder("Sent Items", None),
            folder("Projects/Trash", None),
            folder("Trash", None),
            folder("Spam", None),
            folder("Drafts", None),
            folder("Archive", Some(FolderRole::Archive)),
            folder("Archiv", None),
        ];
        guess_roles(&mut folders);
        let role = |p: &str| folders.iter().find(|f| f.path == p).and_then(|f| f.role);
        assert_eq!(role("Sent Items"), Some(FolderRole::Sent));
        assert_eq!(role("Trash"), Some(FolderRole::Trash));
        assert_eq!(role("Projects/Trash"), None);
        assert_eq!(role("Spam"), Some(FolderRole::Junk));
        assert_eq!(role("Drafts"), Some(FolderRole::Drafts));
        assert_eq!(role("Archiv"), None, "the server already named an archive");
    }
}
