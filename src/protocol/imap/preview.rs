//! PREVIEW (RFC 8970), which imap-codec does not know: the item is added to the encoded FETCH
//! command, and taken out of each FETCH response before imap-codec decodes the rest.
//!
//! Taking it out is a scan of the response's bytes that follows IMAP's lexical rules (quoted
//! strings, literals, parentheses), so text inside a header or a literal that reads "PREVIEW"
//! is never mistaken for the item. A response the scan does not understand is left as it is,
//! and imap-codec's decoder then decides (an unreadable one is set aside as usual).

/// The longest preview kept, in characters (RFC 8970 lets a server send at most 256).
pub const MAX_PREVIEW_CHARS: usize = 256;

/// What `strip` took out: the response without the PREVIEW item, and the preview (None for NIL,
/// the server's "not available now" under LAZY).
#[derive(Debug, PartialEq, Eq)]
pub struct Stripped {
    pub response: Vec<u8>,
    pub preview: Option<String>,
}

/// The FETCH items to add to a command (RFC 8970 section 3): `PREVIEW (LAZY)` answers at once
/// from what the server has ready (NIL for the rest); `PREVIEW` computes it.
pub fn item(lazy: bool) -> &'static [u8] {
    if lazy {
        b" PREVIEW (LAZY)"
    } else {
        b" PREVIEW"
    }
}

/// Adds `extra` (from `item`) to an encoded FETCH command line, inside its parenthesised item
/// list. None when the line is not of that shape (a single item, or modifiers after the list),
/// so the caller can refuse rather than send something malformed.
pub fn add_to_command(line: &[u8], extra: &[u8]) -> Option<Vec<u8>> {
    let body = line.strip_suffix(b")\r\n")?;
    // The list's closing parenthesis must be the command's last byte before CRLF, and the list
    // must open after "FETCH <set> ".
    let upper = line.to_ascii_uppercase();
    let fetch = find(&upper, b" FETCH ")?;
    if !line.get(fetch..)?.contains(&b'(') || find(&upper, b") (").is_some() {
        return None;
    }
    let mut out = Vec::with_capacity(line.len() + extra.len());
    out.extend_from_slice(body);
    out.extend_from_slice(extra);
    out.extend_from_slice(b")\r\n");
    Some(out)
}

/// Takes the PREVIEW item out of an untagged FETCH response (`* n FETCH (...)`). None when the
/// response is something else, holds no PREVIEW item, or cannot be scanned.
pub fn strip(response: &[u8]) -> Option<Stripped> {
    let open = fetch_list_start(response)?;
    let mut scan = Scanner {
        bytes: response,
        at: open + 1,
    };
    let mut depth = 1usize;
    while depth > 0 {
        scan.skip_spaces();
        let start = scan.at;
        match scan.peek()? {
            b'(' | b'[' => {
                depth += 1;
                scan.at += 1;
            }
            b')' | b']' => {
                depth -= 1;
                scan.at += 1;
            }
            b'"' => {
                scan.quoted()?;
            }
            // `~` starts a literal8 only before `{`; elsewhere it is an atom's (a keyword).
            b'{' => {
                scan.literal()?;
            }
            b'~' if scan.bytes.get(scan.at + 1) == Some(&b'{') => {
                scan.literal()?;
            }
            b'\r' | b'\n' => return None,
            _ => {
                let atom = scan.atom();
                if atom.is_empty() {
                    return None;
                }
                if depth == 1 && atom.eq_ignore_ascii_case(b"PREVIEW") && scan.peek() == Some(b' ')
                {
                    scan.at += 1;
                    let preview = scan.value()?;
                    return Some(cut(response, start, scan.at, preview));
                }
            }
        }
    }
    None
}

/// The response without bytes `start..end` and one space next to them.
fn cut(response: &[u8], start: usize, end: usize, preview: Option<String>) -> Stripped {
    let (from, to) = if response.get(start.wrapping_sub(1)) == Some(&b' ') {
        (start - 1, end)
    } else if response.get(end) == Some(&b' ') {
        (start, end + 1)
    } else {
        (start, end)
    };
    let mut out = Vec::with_capacity(response.len());
    out.extend_from_slice(response.get(..from).unwrap_or_default());
    out.extend_from_slice(response.get(to..).unwrap_or_default());
    Stripped {
        response: out,
        preview,
    }
}

/// The offset of the "(" that opens the item list of `* <number> FETCH (`.
fn fetch_list_start(response: &[u8]) -> Option<usize> {
    let rest = response.strip_prefix(b"* ")?;
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 {
        return None;
    }
    let after = rest.get(digits..)?;
    let keyword = after.get(..8)?;
    if !keyword.eq_ignore_ascii_case(b" FETCH (") {
        return None;
    }
    Some(2 + digits + 7)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

struct Scanner<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Scanner<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn skip_spaces(&mut self) {
        while self.peek() == Some(b' ') {
            self.at += 1;
        }
    }

    /// An atom-like run: up to a space, a bracket, a parenthesis, a quote or a line end.
    fn atom(&mut self) -> &[u8] {
        let start = self.at;
        while let Some(b) = self.peek() {
            if matches!(
                b,
                b' ' | b'(' | b')' | b'[' | b']' | b'"' | b'\r' | b'\n' | b'{'
            ) {
                break;
            }
            self.at += 1;
        }
        self.bytes.get(start..self.at).unwrap_or_default()
    }

    /// A quoted string; returns its unescaped bytes.
    fn quoted(&mut self) -> Option<Vec<u8>> {
        self.at += 1;
        let mut out = Vec::new();
        loop {
            match self.peek()? {
                b'"' => {
                    self.at += 1;
                    return Some(out);
                }
                b'\\' => {
                    self.at += 1;
                    out.push(self.peek()?);
                    self.at += 1;
                }
                b'\r' | b'\n' => return None,
                b => {
                    out.push(b);
                    self.at += 1;
                }
            }
        }
    }

    /// A literal (`{n}` or `~{n}`, CRLF, n bytes); returns its bytes.
    fn literal(&mut self) -> Option<&[u8]> {
        if self.peek() == Some(b'~') {
            self.at += 1;
        }
        if self.peek() != Some(b'{') {
            return None;
        }
        self.at += 1;
        let start = self.at;
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.at += 1;
        }
        let digits = std::str::from_utf8(self.bytes.get(start..self.at)?).ok()?;
        if digits.is_empty() || digits.len() > 10 {
            return None;
        }
        let n: usize = digits.parse().ok()?;
        if self.peek() == Some(b'+') {
            self.at += 1;
        }
        if self.bytes.get(self.at..self.at + 3)? != b"}\r\n" {
            return None;
        }
        self.at += 3;
        let data = self.bytes.get(self.at..self.at.checked_add(n)?)?;
        self.at += n;
        Some(data)
    }

    /// PREVIEW's value: NIL, a string, or (from servers that follow the drafts) a list ending
    /// in one, `(FUZZY "text")`.
    fn value(&mut self) -> Option<Option<String>> {
        match self.peek()? {
            b'"' => self.quoted().map(|b| Some(tidy(&b))),
            b'{' | b'~' => self.literal().map(|b| Some(tidy(b))),
            b'(' => {
                self.at += 1;
                let mut last = None;
                loop {
                    self.skip_spaces();
                    match self.peek()? {
                        b')' => {
                            self.at += 1;
                            return Some(last);
                        }
                        b'"' => last = self.quoted().map(|b| tidy(&b)),
                        b'{' | b'~' => last = self.literal().map(tidy),
                        _ => {
                            if self.atom().is_empty() {
                                return None;
                            }
                        }
                    }
                }
            }
            _ => {
                let atom = self.atom();
                atom.eq_ignore_ascii_case(b"NIL").then_some(None)
            }
        }
    }
}

/// The preview as the list shows it: UTF-8 (invalid bytes replaced), whitespace runs and control
/// characters made single spaces, at most `MAX_PREVIEW_CHARS` characters.
fn tidy(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let mut out = String::new();
    let mut count = 0;
    for word in text
        .split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|w| !w.is_empty())
    {
        if count >= MAX_PREVIEW_CHARS {
            break;
        }
        if !out.is_empty() {
            out.push(' ');
            count += 1;
        }
        for c in word.chars() {
            if count >= MAX_PREVIEW_CHARS {
                break;
            }
            out.push(c);
            count += 1;
        }
    }
    out.truncate(out.trim_end().len());
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use super::*;

    fn stripped(response: &str) -> (String, Option<String>) {
        let s = strip(response.as_bytes()).unwrap();
        (String::from_utf8(s.response).unwrap(), s.preview)
    }

    #[test]
    fn quoted_previews_are_taken_out() {
        assert_eq!(
            stripped("* 3 FETCH (UID 7 PREVIEW \"Hello  there\" FLAGS (\\Seen))\r\n"),
            (
                "* 3 FETCH (UID 7 FLAGS (\\Seen))\r\n".to_owned(),
                Some("Hello there".to_owned())
            )
        );
        assert_eq!(
            stripped("* 3 FETCH (PREVIEW \"a \\\"b\\\"\" UID 7)\r\n"),
            (
                "* 3 FETCH (UID 7)\r\n".to_owned(),
                Some("a \"b\"".to_owned())
            )
        );
    }

    #[test]
    fn nil_literal_and_draft_forms() {
        assert_eq!(
            stripped("* 1 FETCH (UID 1 PREVIEW NIL)\r\n"),
            ("* 1 FETCH (UID 1)\r\n".to_owned(), None)
        );
        assert_eq!(
            stripped("* 1 FETCH (UID 1 PREVIEW {6}\r\nCaf\u{e9}!)\r\n"),
            (
                "* 1 FETCH (UID 1)\r\n".to_owned(),
                Some("Caf\u{e9}!".to_owned())
            )
        );
        assert_eq!(
            stripped("* 1 FETCH (PREVIEW (FUZZY \"hi\") UID 1)\r\n"),
            ("* 1 FETCH (UID 1)\r\n".to_owned(), Some("hi".to_owned()))
        );
    }

    #[test]
    fn preview_inside_other_items_is_not_the_item() {
        // In a header literal, in a quoted string, inside a section: not the item.
        let header = "Subject: PREVIEW \"x\"\r\n\r\n";
        let response = format!(
            "* 2 FETCH (UID 9 BODY[HEADER.FIELDS (SUBJECT PREVIEW)] {{{}}}\r\n{header} INTERNALDATE \"PREVIEW \" PREVIEW \"real\")\r\n",
            header.len()
        );
        let (rest, preview) = stripped(&response);
        assert_eq!(preview.as_deref(), Some("real"));
        assert!(rest.contains(header));
        assert!(rest.ends_with("INTERNALDATE \"PREVIEW \")\r\n"));
        assert!(strip(b"* 2 FETCH (UID 9 BODY[] {9}\r\nPREVIEW x)\r\n").is_none());
    }

    #[test]
    fn a_keyword_with_a_tilde_is_an_atom() {
        assert_eq!(
            stripped("* 4 FETCH (FLAGS (~junk $x) UID 4 PREVIEW \"hi\")\r\n"),
            (
                "* 4 FETCH (FLAGS (~junk $x) UID 4)\r\n".to_owned(),
                Some("hi".to_owned())
            )
        );
        assert_eq!(
            stripped("* 4 FETCH (BINARY[1] ~{2}\r\nab PREVIEW NIL)\r\n").1,
            None
        );
    }

    #[test]
    fn other_responses_and_bad_input_are_left_alone() {
        for bad in [
            &b"* OK PREVIEW \"x\"\r\n"[..],
            b"T1 OK done\r\n",
            b"* 1 FETCH (UID 1 PREVIEW {99}\r\nshort)\r\n",
            b"* 1 FETCH (UID 1 PREVIEW \"unterminated\r\n",
            b"* 1 FETCH (UID 1 PREVIEW {99999999999}\r\n)\r\n",
            b"* FETCH (PREVIEW NIL)\r\n",
            b"",
        ] {
            assert!(strip(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn long_previews_are_capped() {
        let long = "word ".repeat(200);
        let (_, preview) = stripped(&format!("* 1 FETCH (UID 1 PREVIEW \"{long}\")\r\n"));
        let preview = preview.unwrap();
        assert!(preview.chars().count() <= MAX_PREVIEW_CHARS);
        assert!(!preview.ends_with(' '));
    }

    #[test]
    fn the_item_goes_inside_the_list() {
        assert_eq!(
            add_to_command(b"T4 UID FETCH 1:5 (UID FLAGS)\r\n", item(true)).unwrap(),
            b"T4 UID FETCH 1:5 (UID FLAGS PREVIEW (LAZY))\r\n"
        );
        assert!(add_to_command(b"T4 UID FETCH 1:5 UID\r\n", item(true)).is_none());
        assert!(add_to_command(b"T4 UID STORE 1 (X)\r\n", item(true)).is_none());
        assert!(
            add_to_command(b"T4 UID FETCH 1:* (FLAGS) (CHANGEDSINCE 5)\r\n", item(true)).is_none()
        );
    }
}
