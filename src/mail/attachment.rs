//! Attachments: decoding a fetched part's bytes, and turning a sender-chosen file name into one
//! that is safe to create on any platform.

use mail_parser::MessageParser;

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

/// Makes a file name safe to save: no directories, no control or reserved characters, no
/// leading dots (hidden files), no Windows device names, at most 200 bytes; never empty.
pub fn sanitize_filename(name: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let mut clean: String = last
        .chars()
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
    let stem = clean.split('.').next().unwrap_or("").to_ascii_uppercase();
    let reserved = [
        "CON", "PRN", "AUX", "NUL", "COM1", "COM2", "COM3", "COM4", "LPT1", "LPT2", "LPT3",
    ];
    if reserved.contains(&stem.as_str()) {
        clean = format!("_{clean}");
    }
    while clean.len() > 200 {
        clean.pop();
    }
    if clean.is_empty() {
        "attachment".to_owned()
    } else {
        clean
    }
}

#[cfg(test)]
mod tests {

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
