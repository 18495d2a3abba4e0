//! Attachments: decoding a fetched part's bytes, and turning a sender-chosen file name into one
//! that is safe to create on any platform.

use mail_parser::MessageParser;

/// The one rule for what a user calls an attachment, used for the list's 📎 column, the
/// reader's attachment bar, `tern show` and `tern save`, whether the part is described by
/// IMAP's BODYSTRUCTURE or parsed from the cached source: a part marked `attachment`, an
/// attached message, or a non-text part with a file name, unless it is shown inline in the
/// body (it has a Content-ID and is not marked `attachment`: an inline image).
pub fn is_attachment(
    mime: &str,
    disposition: Option<&str>,
    has_filename: bool,
    has_content_id: bool,
) -> bool {
    let mime = mime.to_ascii_lowercase();
    let disposition = disposition.map(str::to_ascii_lowercase);
    if disposition.as_deref() == Some("attachment") || mime == "message/rfc822" {
        return true;
    }
    !mime.starts_with("text/") && !mime.starts_with("multipart/") && has_filename && !has_content_id
}

/// The parts of a parsed message that `is_attachment` calls attachments, in order.
pub fn attachment_parts<'a>(
    message: &'a mail_parser::Message<'a>,
) -> impl Iterator<Item = &'a mail_parser::MessagePart<'a>> {
    use mail_parser::MimeHeaders as _;
    message.attachments().filter(|part| {
        let mime = part
            .content_type()
            .map(|ct| format!("{}/{}", ct.ctype(), ct.subtype().unwrap_or("")))
            .unwrap_or_else(|| "application/octet-stream".to_owned());
        let mime = if part.is_message() {
            "message/rfc822".to_owned()
        } else {
            mime
        };
        is_attachment(
            &mime,
            part.content_disposition().map(|d| d.ctype()),
            part.attachment_name().is_some(),
            part.content_id().is_some(),
        )
    })
}

/// Decodes a part's transfer encoding (base64, quoted-printable, or none) to its bytes.
pub fn decode_part_bytes(mime: &str, encoding: Option<&str>, body: &[u8]) -> Vec<u8> {
    let mut raw = format!("Content-Type: {}\r\n", mime.replace(['\r', '\n'], ""));
    if let Some(encoding) = encoding {
        raw.push_str(&format!(
            "Content-Transfer-Encoding: {}\r\n",
            encoding.replace(['\r', '\n'], "")
        ));
    }
    raw.push_str("Content-Disposition: attachment\r\n\r\n");
    let mut bytes = raw.into_bytes();
    bytes.extend_from_slice(body);
    MessageParser::default()
        .parse(&bytes)
        .map(|m| m.root_part().contents().to_vec())
        .unwrap_or_else(|| body.to_vec())
}

/// File types that run code when opened (Windows, macOS, Linux desktops, scripts, installers,
/// disk images, shortcuts and Office macros): opening one asks first.
const EXECUTABLE_EXTENSIONS: [&str; 44] = [
    "exe",
    "com",
    "bat",
    "cmd",
    "scr",
    "pif",
    "msi",
    "msp",
    "cpl",
    "dll",
    "hta",
    "jar",
    "js",
    "jse",
    "vbs",
    "vbe",
    "wsf",
    "wsh",
    "ps1",
    "psm1",
    "reg",
    "lnk",
    "url",
    "inf",
    "gadget",
    "application",
    "sh",
    "bash",
    "zsh",
    "command",
    "desktop",
    "appimage",
    "run",
    "bin",
    "deb",
    "rpm",
    "app",
    "pkg",
    "dmg",
    "iso",
    "img",
    "docm",
    "xlsm",
    "pptm",
];

/// Whether opening a file with this name or content type could run a program.
pub fn is_executable(name: &str, content_type: &str) -> bool {
    let ext = name
        .trim_end_matches(['.', ' '])
        .rsplit_once('.')
        .map(|(_, ext)| ext.to_ascii_lowercase());
    let by_name = ext.is_some_and(|ext| EXECUTABLE_EXTENSIONS.contains(&ext.as_str()));
    let ct = content_type.to_ascii_lowercase();
    let by_type = [
        "application/x-msdownload",
        "application/x-msdos-program",
        "application/x-executable",
        "application/x-sh",
        "application/x-shellscript",
        "application/java-archive",
        "application/x-ms-installer",
        "application/x-msi",
        "application/vnd.microsoft.portable-executable",
        "text/javascript",
        "application/javascript",
        "application/x-desktop",
    ]
    .contains(&ct.as_str());
    by_name || by_type
}

/// Invisible format characters that change how a name reads without being seen: the bidi
/// embeddings, overrides and isolates (U+202E turns `invoice\u{202E}fdp.exe` into what shows
/// as `invoiceexe.pdf`), the directional marks, and zero-width characters.
pub fn is_invisible_format(c: char) -> bool {
    matches!(
        c,
        '\u{061C}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2069}'
            | '\u{FEFF}'
            | '\u{FFF9}'..='\u{FFFB}'
    )
}

/// Device names Windows reserves whatever the extension (`COM5.txt` opens a serial port).
fn is_reserved_device(stem: &str) -> bool {
    let upper = stem.trim_end().to_uppercase();
    if ["CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"].contains(&upper.as_str()) {
        return true;
    }
    match upper
        .strip_prefix("COM")
        .or_else(|| upper.strip_prefix("LPT"))
    {
        Some(n) => {
            let mut chars = n.chars();
            matches!((chars.next(), chars.next()), (Some(d), None) if d.is_ascii_digit() || "¹²³".contains(d))
        }
        None => false,
    }
}

/// Makes a file name safe to save: no directories, no control, invisible format or reserved
/// characters, no leading dots (hidden files), no Windows device names, at most 200 bytes with
/// the extension kept; never empty.
pub fn sanitize_filename(name: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let mut clean: String = last
        .chars()
        .filter(|c| !is_invisible_format(*c))
        .map(|c| {
            if c.is_control() || matches!(c, '<' | '>' | ':' | '"' | '|' | '?' | '*') {
                '_'
            } else {
                c
            }
        })
        .collect();
    clean = clean
        .trim()
        .trim_start_matches('.')
        .trim_end_matches(['.', ' '])
        .to_owned();
    let stem = clean.split('.').next().unwrap_or("");
    if is_reserved_device(stem) {
        clean = format!("_{clean}");
    }
    if clean.len() > 200 {
        // Shorten the name, not the extension (a cut could hide ".exe").
        let (mut stem, ext) = match clean.rsplit_once('.') {
            Some((stem, ext)) if ext.len() <= 16 => (stem.to_owned(), format!(".{ext}")),
            _ => (clean.clone(), String::new()),
        };
        while stem.len() + ext.len() > 200 {
            stem.pop();
        }
        clean = format!("{stem}{ext}");
    }
    if clean.is_empty() {
        "attachment".to_owned()
    } else {
        clean
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    #[test]
    fn one_rule_decides_what_an_attachment_is() {
        assert!(is_attachment(
            "text/plain",
            Some("attachment"),
            false,
            false
        ));
        assert!(is_attachment("application/pdf", None, true, false));
        assert!(is_attachment("message/rfc822", None, false, false));
        assert!(is_attachment("image/png", Some("ATTACHMENT"), true, true));
        // An inline image referenced by its Content-ID is part of the body.
        assert!(!is_attachment("image/png", Some("inline"), true, true));
        assert!(!is_attachment("text/plain", None, false, false));
        assert!(!is_attachment("text/html", Some("inline"), true, false));
        assert!(!is_attachment(
            "application/octet-stream",
            None,
            false,
            false
        ));
        // The parsed-source path agrees with the structure path.
        let raw = b"From: a@b\r\nSubject: s\r\nMIME-Version: 1.0\r\nContent-Type: multipart/related; boundary=x\r\n\r\n--x\r\nContent-Type: text/html\r\n\r\n<img src=cid:i1>\r\n--x\r\nContent-Type: image/png; name=logo.png\r\nContent-ID: <i1>\r\nContent-Disposition: inline\r\n\r\nPNG\r\n--x\r\nContent-Type: application/pdf; name=r.pdf\r\nContent-Disposition: attachment; filename=r.pdf\r\n\r\nPDF\r\n--x--\r\n";
        let message = mail_parser::MessageParser::default()
            .parse(&raw[..])
            .unwrap();
        use mail_parser::MimeHeaders as _;
        let names: Vec<&str> = attachment_parts(&message)
            .map(|p| p.attachment_name().unwrap_or(""))
            .collect();
        assert_eq!(names, ["r.pdf"]);
    }

    #[test]
    fn programs_are_recognised_by_name_or_type() {
        assert!(is_executable("invoice.PDF.exe", "application/pdf"));
        assert!(is_executable("setup.msi", "application/octet-stream"));
        assert!(is_executable("run.sh.", "text/plain"));
        assert!(is_executable("data", "application/x-msdownload"));
        assert!(!is_executable("report.pdf", "application/pdf"));
        assert!(!is_executable("photo.jpeg", "image/jpeg"));
        assert!(!is_executable("noextension", "text/plain"));
    }

    use super::*;

    #[test]
    fn file_names_are_made_safe() {
        assert_eq!(sanitize_filename("résumé.pdf"), "résumé.pdf");
        assert_eq!(sanitize_filename("../../etc/passwd"), "passwd");
        assert_eq!(sanitize_filename("C:\\Windows\\evil.exe"), "evil.exe");
        assert_eq!(sanitize_filename(".bashrc"), "bashrc");
        assert_eq!(sanitize_filename("a\r\nb?.txt"), "a__b_.txt");
        assert_eq!(sanitize_filename("CON.txt"), "_CON.txt");
        assert_eq!(sanitize_filename("   "), "attachment");
        assert_eq!(sanitize_filename("..."), "attachment");
        assert!(sanitize_filename(&"x".repeat(500)).len() <= 200);
        let long = format!("{}.exe", "x".repeat(500));
        assert!(
            sanitize_filename(&long).ends_with(".exe") && sanitize_filename(&long).len() <= 200
        );
        // Bidi overrides and other invisible characters cannot disguise a program.
        assert_eq!(
            sanitize_filename("invoice\u{202E}fdp.exe"),
            "invoicefdp.exe"
        );
        assert_eq!(
            sanitize_filename("a\u{200B}b\u{2066}c\u{200F}.txt"),
            "abc.txt"
        );
        // Every Windows device name, with any extension.
        for device in [
            "COM5", "com9", "LPT4", "lpt9", "COM0", "LPT¹", "CONIN$", "nul",
        ] {
            assert_eq!(
                sanitize_filename(&format!("{device}.txt")),
                format!("_{device}.txt"),
                "{device}"
            );
        }
        assert_eq!(sanitize_filename("COM10.txt"), "COM10.txt");
        assert_eq!(sanitize_filename("compass.txt"), "compass.txt");
    }

    #[test]
    fn parts_are_decoded() {
        assert_eq!(
            decode_part_bytes("application/octet-stream", Some("base64"), b"aGVsbG8=\r\n"),
            b"hello"
        );
        assert_eq!(
            decode_part_bytes("text/plain", Some("quoted-printable"), b"a=3Db"),
            b"a=b"
        );
        assert_eq!(
            decode_part_bytes("application/octet-stream", None, b"raw"),
            b"raw"
        );
    }
}
