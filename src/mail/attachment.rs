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
