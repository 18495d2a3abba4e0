//! One line of text that ends in "…" where it does not fit, cut between characters (not through
//! the middle of a glyph, as iced's text widget clips; a cluster of several characters, such as
//! a flag, can lose its tail). The cut is found with the shaped line's
//! hit test, then checked by shaping the shortened text; the result is kept in the widget's
//! state, so a list that is laid out again at the same width shapes nothing.

use iced::advanced::layout::{self, Layout};
use iced::advanced::text::{self, Paragraph as _};
use iced::advanced::widget::{self, Tree, tree};
use iced::advanced::{Widget, mouse, renderer};
use iced::{Element, Font, Length, Pixels, Point, Rectangle, Size, Theme};

/// The mark put where text was cut.
pub const ELLIPSIS: &str = "…";

/// A line of text cut with an ellipsis to the width it is given.
pub struct Ellipsized<'a> {
    content: String,
    size: Option<Pixels>,
    font: Option<Font>,
    width: Length,
    style: Box<dyn Fn(&Theme) -> iced::widget::text::Style + 'a>,
}

impl std::fmt::Debug for Ellipsized<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ellipsized")
            .field("content", &self.content)
            .finish_non_exhaustive()
    }
}

/// Most characters of a text kept for one line: no line shows more, and a hostile 2 MB
/// subject must not be shaped whole on every layout.
pub const MAX_CHARS: usize = 512;

/// `content` on one line (line breaks become spaces), cut with "…" to fit.
pub fn ellipsized<'a>(content: impl AsRef<str>) -> Ellipsized<'a> {
    let whole = content.as_ref();
    let end = whole
        .char_indices()
        .nth(MAX_CHARS)
        .map_or(whole.len(), |(at, _)| at);
    let mut content = whole.get(..end).unwrap_or_default().to_owned();
    if content.contains(['\n', '\r', '\t']) {
        content = content.replace(['\n', '\r', '\t'], " ");
    }
    Ellipsized {
        content,
        size: None,
        font: None,
        width: Length::Fill,
        style: Box::new(|_| iced::widget::text::Style::default()),
    }
}

impl<'a> Ellipsized<'a> {
    pub fn size(mut self, size: impl Into<Pixels>) -> Self {
        self.size = Some(size.into());
        self
    }

    pub fn font(mut self, font: Font) -> Self {
        self.font = Some(font);
        self
    }

    /// The width to fill (default: all there is); `Shrink` takes the text's width up to that.
    pub fn width(mut self, width: impl Into<Length>) -> Self {
        self.width = width.into();
        self
    }

    pub fn style(mut self, style: impl Fn(&Theme) -> iced::widget::text::Style + 'a) -> Self {
        self.style = Box::new(style);
        self
    }
}

/// What was laid out last: the text (at its size and font) shaped whole, and what is shown at
/// the width it was last given.
struct State<P> {
    content: String,
    size: f32,
    font: Option<Font>,
    whole: P,
    width: Option<f32>,
    shown: Option<P>,
}

impl<P: Default> Default for State<P> {
    fn default() -> Self {
        State {
            content: String::new(),
            size: 0.0,
            font: None,
            whole: P::default(),
            width: None,
            shown: None,
        }
    }
}

fn shape<P: text::Paragraph<Font = Font>>(content: &str, size: Pixels, font: Font) -> P {
    P::with_text(text::Text {
        content,
        bounds: Size::new(f32::INFINITY, f32::INFINITY),
        size,
        line_height: text::LineHeight::default(),
        font,
        align_x: text::Alignment::Default,
        align_y: iced::alignment::Vertical::Top,
        shaping: text::Shaping::Advanced,
        wrapping: text::Wrapping::None,
    })
}

/// The longest prefix of `content` that fits in `width` with the ellipsis after it, shaped, or
/// None when `content` fits whole.
fn cut<P: text::Paragraph<Font = Font>>(
    content: &str,
    whole: &P,
    width: f32,
    size: Pixels,
    font: Font,
) -> Option<P> {
    if whole.min_width() <= width + 0.5 {
        return None;
    }
    let mark: P = shape(ELLIPSIS, size, font);
    let target = (width - mark.min_width()).max(0.0);
    let middle = whole.min_height() / 2.0;
    // Where the line crosses `target`, then back one character at a time until it fits (the
    // hit test can land after a glyph that crosses the edge; right-to-left text can land
    // anywhere, which the loop's bound turns into a shorter cut, never an overflow).
    let mut end = whole
        .hit_test(Point::new(target, middle))
        .map_or(0, |hit| hit.cursor())
        .min(content.len());
    end = content.floor_char_boundary(end);
    for _ in 0..32 {
        let candidate = format!("{}{ELLIPSIS}", content.get(..end).unwrap_or("").trim_end());
        let shaped: P = shape(&candidate, size, font);
        if shaped.min_width() <= width + 0.5 || end == 0 {
            return Some(shaped);
        }
        end = content.floor_char_boundary(end.saturating_sub(1));
    }
    Some(mark)
}

impl<Message, Renderer> Widget<Message, Theme, Renderer> for Ellipsized<'_>
where
    Renderer: text::Renderer<Font = Font>,
{
    fn tag(&self) -> tree::Tag {
        tree::Tag::of::<State<Renderer::Paragraph>>()
    }

    fn state(&self) -> tree::State {
        tree::State::new(State::<Renderer::Paragraph>::default())
    }

    fn size(&self) -> Size<Length> {
        Size::new(self.width, Length::Shrink)
    }

    fn layout(
        &mut self,
        tree: &mut Tree,
        renderer: &Renderer,
        limits: &layout::Limits,
    ) -> layout::Node {
        let state = tree.state.downcast_mut::<State<Renderer::Paragraph>>();
        let size = self.size.unwrap_or_else(|| renderer.default_size());
        let font = self.font.unwrap_or_else(|| renderer.default_font());
        layout::sized(limits, self.width, Length::Shrink, |limits| {
            let width = limits.max().width;
            // Shaped whole once per text, size and font; cut again only when the width changes.
            if state.font != Some(font) || state.size != size.0 || state.content != self.content {
                state.whole = shape(&self.content, size, font);
                state.content.clone_from(&self.content);
                state.size = size.0;
                state.font = Some(font);
                state.width = None;
            }
            if state.width != Some(width) {
                state.shown = cut(&self.content, &state.whole, width, size, font);
                state.width = Some(width);
            }
            let bounds = state.shown.as_ref().unwrap_or(&state.whole).min_bounds();
            Size::new(bounds.width.min(width), bounds.height)
        })
    }

    fn draw(
        &self,
        tree: &Tree,
        renderer: &mut Renderer,
        theme: &Theme,
        defaults: &renderer::Style,
        layout: Layout<'_>,
        _cursor: mouse::Cursor,
        viewport: &Rectangle,
    ) {
        let state = tree.state.downcast_ref::<State<Renderer::Paragraph>>();
        let bounds = layout.bounds();
        let colour = (self.style)(theme).color.unwrap_or(defaults.text_color);
        let shown = state.shown.as_ref().unwrap_or(&state.whole);
        renderer.fill_paragraph(shown, bounds.position(), colour, *viewport);
    }

    fn operate(
        &mut self,
        _tree: &mut Tree,
        layout: Layout<'_>,
        _renderer: &Renderer,
        operation: &mut dyn widget::Operation,
    ) {
        // Selectors (tests, accessibility) see the whole text, not the shortened one.
        operation.text(None, layout.bounds(), &self.content);
    }
}

impl<'a, Message, Renderer> From<Ellipsized<'a>> for Element<'a, Message, Theme, Renderer>
where
    Renderer: text::Renderer<Font = Font> + 'a,
    Message: 'a,
{
    fn from(widget: Ellipsized<'a>) -> Self {
        Element::new(widget)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::expect_used)]

    use iced::advanced::graphics::text::Paragraph;
    use iced::advanced::text::Paragraph as _;

    fn shaped(content: &str) -> Paragraph {
        super::shape(content, 14.0.into(), crate::ui::theme::UI)
    }

    #[test]
    fn text_that_fits_stays_whole_and_longer_text_ends_in_an_ellipsis() {
        crate::ui::theme::load_fonts();
        let content = "Quarterly report on the migration of the mail servers";
        let whole = shaped(content);
        let full = whole.min_width();
        assert!(
            super::cut(
                content,
                &whole,
                full + 1.0,
                14.0.into(),
                crate::ui::theme::UI
            )
            .is_none()
        );
        for width in [40.0, 90.0, 150.0, full - 1.0] {
            let cut = super::cut(content, &whole, width, 14.0.into(), crate::ui::theme::UI)
                .expect("too long");
            assert!(
                cut.min_width() <= width + 0.5,
                "{width}: {}",
                cut.min_width()
            );
            // Cut close to the edge, not far short of it.
            assert!(
                cut.min_width() > width - 30.0,
                "{width}: {}",
                cut.min_width()
            );
        }
        // Non-Latin text is cut between characters too.
        let cjk = "会议记录和下周的计划安排以及其他事项";
        let whole = shaped(cjk);
        let cut = super::cut(cjk, &whole, 60.0, 14.0.into(), crate::ui::theme::UI).expect("long");
        assert!(cut.min_width() <= 60.5);
    }
}
