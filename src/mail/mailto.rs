//! `mailto:` links (RFC 6068) read into a draft: the addresses before `?`, then the `to`, `cc`,
//! `bcc`, `subject`, `body` and `in-reply-to` fields, percent-decoded as UTF-8. Other fields are
//! ignored, as RFC 6068 §7 advises (a link must not set arbitrary headers or attach files).

use super::compose::Draft;

/// The longest link read (a page can put a whole letter in `body=`; beyond this it is refused).
pub const MAX_LEN: usize = 256 * 1024;

/// Why a link could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MailtoError {
    #[error("not a mailto: link")]
    NotMailto,
    #[error("the mailto: link is longer than {MAX_LEN} bytes")]
    TooLong,
}

/// What a `mailto:` link asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Mailto {
    pub to: Vec<String>,
    pub cc: Vec<String>,
    pub bcc: Vec<String>,
    pub subject: Option<String>,
    pub body: Option<String>,
    /// Message-ID (without brackets) of the message the link answers.
    pub in_reply_to: Option<String>,
}

impl Mailto {
    /// A new message prefilled from the link.
    pub fn into_draft(self) -> Draft {
        Draft {
            to: self.to,
            cc: self.cc,
            bcc: self.bcc,
            subject: self.subject.unwrap_or_default(),
            text: self.body.unwrap_or_default(),
            in_reply_to: self.in_reply_to,
            ..Draft::default()
        }
    }
}

/// Reads `link` (`mailto:` in any case; surrounding whitespace ignored).
pub fn parse(link: &str) -> Result<Mailto, MailtoError> {
    if link.len() > MAX_LEN {
        return Err(MailtoError::TooLong);
    }
    let link = link.trim();
    let rest = link
        .get(..7)
        .filter(|scheme| scheme.eq_ignore_ascii_case("mailto:"))
        .and_then(|_| link.get(7..))
        .ok_or(MailtoError::NotMailto)?;
    // A fragment is no part of a mailto link (RFC 6068 §2); a browser may still pass one.
    let rest = rest.split_once('#').map_or(rest, |(before, _)| before);
    let (addresses, fields) = rest.split_once('?').unwrap_or((rest, ""));
    let mut mailto = Mailto::default();
    push_addresses(&mut mailto.to, addresses);
    let mut bodies = Vec::new();
    for field in fields.split('&').filter(|f| !f.is_empty()) {
        let (name, value) = field.split_once('=').unwrap_or((field, ""));
        let name = decode(name).to_ascii_lowercase();
        match name.as_str() {
            "to" => push_addresses(&mut mailto.to, value),
            "cc" => push_addresses(&mut mailto.cc, value),
            "bcc" => push_addresses(&mut mailto.bcc, value),
            // The first subject counts (a second is a trick or a mistake).
            "subject" if mailto.subject.is_none() => {
                mailto.subject = Some(one_line(&decode(value)));
            }
            "body" => bodies.push(line_breaks(&decode(value))),
            "in-reply-to" if mailto.in_reply_to.is_none() => {
                let id = one_line(&decode(value));
                let id = id
                    .trim()
                    .trim_start_matches('<')
                    .trim_end_matches('>')
                    .trim();
                if !id.is_empty() {
                    mailto.in_reply_to = Some(id.to_owned());
                }
            }
            _ => {}
        }
    }
    if !bodies.is_empty() {
        mailto.body = Some(bodies.join("\n"));
    }
    Ok(mailto)
}

/// Adds the comma-separated addresses of `list` (percent-decoded each) to `to`, skipping empty
/// ones and those already there.
fn push_addresses(to: &mut Vec<String>, list: &str) {
    for piece in list.split(',') {
        let address = one_line(&decode(piece));
        let address = address.trim();
        if !address.is_empty() && !to.iter().any(|a| a.eq_ignore_ascii_case(address)) {
            to.push(address.to_owned());
        }
    }
}

/// Percent-decoding as UTF-8; bytes that are not UTF-8 become U+FFFD, and a `%` not followed by
/// two hex digits stays as it is. `+` is a plus sign here, not a space (RFC 6068 §5).
fn decode(text: &str) -> String {
    percent_encoding::percent_decode_str(text)
        .decode_utf8_lossy()
        .into_owned()
}

/// A header's value on one line: line breaks and other control characters become spaces (a
/// link must not add header lines).
fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// The body's line breaks (`%0D%0A` in the link, or a lone CR or LF) as `\n`; other control
/// characters except tab are dropped.
fn line_breaks(text: &str) -> String {
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    text.chars()
        .filter(|c| !c.is_control() || *c == '\n' || *c == '\t')
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use super::*;

    #[test]
    fn the_address_and_the_fields() {
        let m = parse(
            "mailto:jo@example.com?cc=ann@example.com&bcc=bob@example.com&subject=Lunch&body=At%20noon",
        )
        .unwrap();
        assert_eq!(m.to, ["jo@example.com"]);
        assert_eq!(m.cc, ["ann@example.com"]);
        assert_eq!(m.bcc, ["bob@example.com"]);
        assert_eq!(m.subject.as_deref(), Some("Lunch"));
        assert_eq!(m.body.as_deref(), Some("At noon"));
    }

    #[test]
    fn several_addresses_before_and_in_to() {
        let m =
            parse("mailto:a@example.com,b@example.com?to=c@example.com,%20d@example.com").unwrap();
        assert_eq!(
            m.to,
            [
                "a@example.com",
                "b@example.com",
                "c@example.com",
                "d@example.com"
            ]
        );
        // The same address twice is one recipient.
        let m = parse("mailto:a@example.com?to=A@example.com").unwrap();
        assert_eq!(m.to, ["a@example.com"]);
    }

    #[test]
    fn percent_encoding_is_utf8_and_plus_is_a_plus() {
        let m = parse(
            "mailto:?to=%22Jos%C3%A9%22%20%3Cjose@example.com%3E&subject=Caf%C3%A9%20%E2%98%95&body=1+1%3D2",
        )
        .unwrap();
        assert_eq!(m.to, ["\"José\" <jose@example.com>"]);
        assert_eq!(m.subject.as_deref(), Some("Café ☕"));
        assert_eq!(m.body.as_deref(), Some("1+1=2"));
        // An address with a plus (sub-addressing) keeps it.
        let m = parse("mailto:jo+lists@example.com").unwrap();
        assert_eq!(m.to, ["jo+lists@example.com"]);
    }

    #[test]
    fn bad_percent_encoding_is_kept_or_replaced_never_fatal() {
        let m = parse("mailto:jo@example.com?subject=100%&body=%FF%zz").unwrap();
        assert_eq!(m.subject.as_deref(), Some("100%"));
        assert_eq!(m.body.as_deref(), Some("\u{fffd}%zz"));
    }

    #[test]
    fn line_breaks_in_the_body_and_none_in_headers() {
        let m = parse(
            "mailto:jo@example.com?subject=Hi%0D%0ABcc:%20evil@example.com&body=Line%201%0D%0ALine%202%0ALine%203",
        )
        .unwrap();
        assert_eq!(m.subject.as_deref(), Some("Hi  Bcc: evil@example.com"));
        assert_eq!(m.body.as_deref(), Some("Line 1\nLine 2\nLine 3"));
        assert!(m.bcc.is_empty());
    }

    #[test]
    fn field_names_in_any_case_unknown_ones_ignored() {
        let m = parse(
            "MAILTO:jo@example.com?SUBJECT=One&Subject=Two&X-Evil=1&attach=/etc/passwd&In-Reply-To=%3Cabc@example.com%3E",
        )
        .unwrap();
        assert_eq!(m.subject.as_deref(), Some("One"));
        assert_eq!(m.in_reply_to.as_deref(), Some("abc@example.com"));
        let draft = m.into_draft();
        assert!(draft.attachments.is_empty());
        assert_eq!(draft.subject, "One");
    }

    #[test]
    fn two_bodies_are_joined_and_a_fragment_is_dropped() {
        let m = parse("mailto:jo@example.com?body=a&body=b#top").unwrap();
        assert_eq!(m.body.as_deref(), Some("a\nb"));
    }

    #[test]
    fn not_a_mailto_link_or_too_long() {
        assert_eq!(parse("https://example.com"), Err(MailtoError::NotMailto));
        assert_eq!(parse("mail"), Err(MailtoError::NotMailto));
        assert_eq!(parse("mailtö:x"), Err(MailtoError::NotMailto));
        let long = format!("mailto:jo@example.com?body={}", "a".repeat(MAX_LEN));
        assert_eq!(parse(&long), Err(MailtoError::TooLong));
        // Empty is a blank message, as a bare "mailto:" link means.
        assert_eq!(parse(" mailto: ").unwrap(), Mailto::default());
    }
}
