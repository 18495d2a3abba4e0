//! Finding web and mail links in plain text, so the reader can make them clickable. Only
//! `http`, `https` and `mailto` links count; trailing punctuation stays text.

/// `text` cut into pieces; each is plain text, or a link (the text shown and its target).
pub fn linkify(text: &str) -> Vec<(String, Option<String>)> {
    let mut pieces = Vec::new();
    let mut rest = text;
    while let Some(start) = next_link_start(rest) {
        let (before, from) = rest.split_at(start);
        let end = from
            .find(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '"' | '\'' | '`'))
            .unwrap_or(from.len());
        let (candidate, after) = from.split_at(end);
        let link = candidate.trim_end_matches(['.', ',', ';', ':', '!', '?', ')', ']', '}']);
        let trailing = candidate.get(link.len()..).unwrap_or_default();
        if !before.is_empty() {
            pieces.push((before.to_owned(), None));
        }
        if link.len() > "https://".len() || (link.starts_with("mailto:") && link.contains('@')) {
            pieces.push((link.to_owned(), Some(link.to_owned())));
        } else {
            pieces.push((link.to_owned(), None));
        }
        if !trailing.is_empty() {
            pieces.push((trailing.to_owned(), None));
        }
        rest = after;
    }
    if !rest.is_empty() {
        pieces.push((rest.to_owned(), None));
    }
    pieces
}

fn next_link_start(text: &str) -> Option<usize> {
    ["https://", "http://", "mailto:"]
        .iter()
        .filter_map(|scheme| {
            text.match_indices(scheme)
                .map(|(i, _)| i)
                // A scheme glued to a word ("xhttp://") is not a link.
                .find(|&i| {
                    text.get(..i)
                        .and_then(|b| b.chars().last())
                        .is_none_or(|c| !c.is_alphanumeric())
                })
        })
        .min()
}

/// Whether a link may be handed to the system's browser or mail program.
pub fn is_safe_target(link: &str) -> bool {
    let lower = link.to_ascii_lowercase();
    (lower.starts_with("https://") || lower.starts_with("http://") || lower.starts_with("mailto:"))
        && !link.chars().any(|c| c.is_control() || c.is_whitespace())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn links_are_found_without_their_punctuation() {
        let pieces = linkify("See https://example.com/a?b=1. Or mail mailto:jo@example.com, ok");
        let links: Vec<&str> = pieces.iter().filter_map(|(_, l)| l.as_deref()).collect();
        assert_eq!(
            links,
            ["https://example.com/a?b=1", "mailto:jo@example.com"]
        );
        let text: String = pieces.iter().map(|(t, _)| t.as_str()).collect();
        assert_eq!(
            text,
            "See https://example.com/a?b=1. Or mail mailto:jo@example.com, ok"
        );
    }

    #[test]
    fn odd_input_is_plain_text() {
        assert_eq!(linkify(""), Vec::<(String, Option<String>)>::new());
        assert!(linkify("xhttp://a.b").iter().all(|(_, l)| l.is_none()));
        assert!(linkify("https://").iter().all(|(_, l)| l.is_none()));
        assert_eq!(
            linkify("(https://a.example)")[1].1.as_deref(),
            Some("https://a.example")
        );
        assert!(
            linkify("é https://ü.example/ä ö")
                .iter()
                .any(|(_, l)| l.as_deref() == Some("https://ü.example/ä"))
        );
        assert!(!is_safe_target("javascript:alert(1)"));
        assert!(!is_safe_target("https://a.example/\\nx y"));
        assert!(is_safe_target("HTTPS://a.example"));
    }
}
