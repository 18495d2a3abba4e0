//! Keyboard focus for controls iced cannot focus itself (buttons, pick lists, radio groups):
//! a wrapper that Tab and Shift+Tab reach in turn with the text fields (it takes part in
//! iced's `focus_next`/`focus_previous`), draws a focus ring, and turns Enter or Space into
//! the control's action and the arrow keys into its previous or next choice.

use iced::advanced::layout::{self, Layout};
use iced::advanced::widget::{Operation, Tree, operation, tree};
use iced::advanced::{Clipboard, Shell, Widget, mouse, overlay, renderer};
use iced::keyboard::{Key, key::Named};
use iced::{Color, Element, Event, Length, Rectangle, Size, Vector, keyboard};

/// Which way an arrow key steps a choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Previous,
    Next,
}

/// Makes `content` reachable by Tab: Enter or Space while it has the focus sends `activate`.
pub fn activate<'a, Message: Clone + 'a>(
    content: impl Into<Element<'a, Message>>,
    activate: Option<Message>,
) -> Element<'a, Message> {
    Element::new(Focus {
        content: content.into(),
        activate,
        step: None,
        label: None,
    })
}

/// `activate` for a control that shows no words (an icon button): `label` is what selectors and
/// assistive tools read as its name.
pub fn labelled<'a, Message: Clone + 'a>(
    content: impl Into<Element<'a, Message>>,
    activate: Option<Message>,
    label: &str,
) -> Element<'a, Message> {
    Element::new(Focus {
        content: content.into(),
        activate,
        step: None,
        label: Some(label.to_owned()),
    })
}

/// Makes a choice (a pick list, a radio group) reachable by Tab: the arrow keys send
/// `step(Previous)` or `step(Next)` while it has the focus.
pub fn choice<'a, Message: Clone + 'a>(
    content: impl Into<Element<'a, Message>>,
    step: impl Fn(Step) -> Message + 'a,
) -> Element<'a, Message> {
    Element::new(Focus {
        content: content.into(),
        activate: None,
        step: Some(Box::new(step)),
        label: None,
    })
}

/// The previous or next of `choices` from `current` (wrapping round).
pub fn stepped<T: Copy + PartialEq>(choices: &[T], current: T, step: Step) -> T {
    let Some(at) = choices.iter().position(|c| *c == current) else {
        return current;
    };
    let len = choices.len();
    let to = match step {
        Step::Next => (at + 1) % len,
        Step::Previous => (at + len - 1) % len,
    };
    choices.get(to).copied().unwrap_or(current)
}

/// The focus ring around `bounds` (for this wrapper and for widgets that take the focus
/// themselves, such as `widgets::MenuButton`).
pub fn draw_ring(renderer: &mut iced::Renderer, theme: &iced::Theme, bounds: Rectangle) {
    use iced::advanced::Renderer as _;
    renderer.fill_quad(
        renderer::Quad {
            bounds: bounds.expand(2.0),
            border: super::theme::focus_ring(theme),
            ..renderer::Quad::default()
        },
        Color::TRANSPARENT,
    );
}

struct Focus<'a, Message> {
    content: Element<'a, Message>,
    activate: Option<Message>,
    step: Option<Box<dyn Fn(Step) -> Message + 'a>>,
    /// The name of a control without words.
    label: Option<String>,
}

#[derive(Debug, Default)]
struct State {
    focused: bool,
}

impl operation::Focusable for State {
    fn is_focused(&self) -> bool {
        self.focused
    }

    fn focus(&mut self) {
        self.focused = true;
    }

    fn unfocus(&mut self) {
        self.focused = false;
    }
}

impl<Message: Clone> Focus<'_, Message> {
    /// The message a key press means while focused.
    fn key(&self, key: &Key, modifiers: keyboard::Modifiers) -> Option<Message> {
        if modifiers.command() || modifiers.alt() {
            return None;
        }
        match key.as_ref() {
            Key::Named(Named::Enter | Named::Space) => self.activate.clone(),
            Key::Named(Named::ArrowUp | Named::ArrowLeft) => {
                self.step.as_ref().map(|step| step(Step::Previous))
            }
            Key::Named(Named::ArrowDown | Named::ArrowRight) => {
                self.step.as_ref().map(|step| step(Step::Next))
            }
            _ => None,
        }
    }
}

impl<Message: Clone> Widget<Message, iced::Theme, iced::Renderer> for Focus<'_, Message> {
    fn tag(&self) -> tree::Tag {
        tree::Tag::of::<State>()
    }

    fn state(&self) -> tree::State {
        tree::State::new(State::default())
    }

    fn children(&self) -> Vec<Tree> {
        vec![Tree::new(&self.content)]
    }

    fn diff(&self, tree: &mut Tree) {
        tree.diff_children(std::slice::from_ref(&self.content));
    }

    fn size(&self) -> Size<Length> {
        self.content.as_widget().size()
    }

    fn layout(
        &mut self,
        tree: &mut Tree,
        renderer: &iced::Renderer,
        limits: &layout::Limits,
    ) -> layout::Node {
        match tree.children.first_mut() {
            Some(child) => self.content.as_widget_mut().layout(child, renderer, limits),
            None => layout::Node::new(Size::ZERO),
        }
    }

    fn operate(
        &mut self,
        tree: &mut Tree,
        layout: Layout<'_>,
        renderer: &iced::Renderer,
        operation: &mut dyn Operation,
    ) {
        // A disabled button is no Tab stop.
        if self.activate.is_some() || self.step.is_some() {
            operation.focusable(None, layout.bounds(), tree.state.downcast_mut::<State>());
        }
        if let Some(label) = &self.label {
            operation.text(None, layout.bounds(), label);
        }
        if let Some(child) = tree.children.first_mut() {
            self.content
                .as_widget_mut()
                .operate(child, layout, renderer, operation);
        }
    }

    fn update(
        &mut self,
        tree: &mut Tree,
        event: &Event,
        layout: Layout<'_>,
        cursor: mouse::Cursor,
        renderer: &iced::Renderer,
        clipboard: &mut dyn Clipboard,
        shell: &mut Shell<'_, Message>,
        viewport: &Rectangle,
    ) {
        let focused = tree.state.downcast_ref::<State>().focused;
        match event {
            Event::Keyboard(keyboard::Event::KeyPressed {
                key,
                modifiers,
                repeat,
                ..
            }) if focused => {
                // A held Enter presses a button once; a held arrow steps through the choices.
                let message = self
                    .key(key, *modifiers)
                    .filter(|_| !*repeat || self.activate.is_none());
                if let Some(message) = message {
                    shell.publish(message);
                    shell.capture_event();
                    return;
                }
            }
            // A click anywhere takes the keyboard focus away (as a text field's does).
            Event::Mouse(mouse::Event::ButtonPressed(_)) if focused => {
                tree.state.downcast_mut::<State>().focused = false;
                shell.request_redraw();
            }
            _ => {}
        }
        if let Some(child) = tree.children.first_mut() {
            self.content.as_widget_mut().update(
                child, event, layout, cursor, renderer, clipboard, shell, viewport,
            );
        }
    }

    fn mouse_interaction(
        &self,
        tree: &Tree,
        layout: Layout<'_>,
        cursor: mouse::Cursor,
        viewport: &Rectangle,
        renderer: &iced::Renderer,
    ) -> mouse::Interaction {
        tree.children
            .first()
            .map(|child| {
                self.content
                    .as_widget()
                    .mouse_interaction(child, layout, cursor, viewport, renderer)
            })
            .unwrap_or_default()
    }

    fn draw(
        &self,
        tree: &Tree,
        renderer: &mut iced::Renderer,
        theme: &iced::Theme,
        style: &renderer::Style,
        layout: Layout<'_>,
        cursor: mouse::Cursor,
        viewport: &Rectangle,
    ) {
        if let Some(child) = tree.children.first() {
            self.content
                .as_widget()
                .draw(child, renderer, theme, style, layout, cursor, viewport);
        }
        if tree.state.downcast_ref::<State>().focused {
            draw_ring(renderer, theme, layout.bounds());
        }
    }

    fn overlay<'b>(
        &'b mut self,
        tree: &'b mut Tree,
        layout: Layout<'b>,
        renderer: &iced::Renderer,
        viewport: &Rectangle,
        translation: Vector,
    ) -> Option<overlay::Element<'b, Message, iced::Theme, iced::Renderer>> {
        let child = tree.children.first_mut()?;
        self.content
            .as_widget_mut()
            .overlay(child, layout, renderer, viewport, translation)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stepping_wraps_round_both_ways() {
        let choices = [1, 2, 3];
        assert_eq!(stepped(&choices, 1, Step::Next), 2);
        assert_eq!(stepped(&choices, 3, Step::Next), 1);
        assert_eq!(stepped(&choices, 1, Step::Previous), 3);
        assert_eq!(stepped(&choices, 7, Step::Next), 7);
    }
}
