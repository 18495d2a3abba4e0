//! Keyboard shortcuts: the Thunderbird-style key map (`shortcut`), and a widget around the whole
//! window that maps a key press no child widget used to a message (so typing in the search box
//! or the composer is never a shortcut).
//! Being part of the widget tree (rather than a `keyboard::listen` subscription) means the
//! headless `iced_test` emulator delivers keys to it too, so the shortcuts are tested end to end.

use iced::advanced::layout::{self, Layout};
use iced::advanced::widget::{Operation, Tree};
use iced::advanced::{Clipboard, Shell, Widget, mouse, overlay, renderer};
use iced::keyboard::{Key, key::Named};
use iced::{Element, Event, Length, Rectangle, Size, Vector, keyboard};

use super::Message as AppMessage;

/// Wraps `content`; `map` turns a keyboard event nobody captured into a message.
pub fn shortcuts<'a, Message: 'a>(
    content: impl Into<Element<'a, Message>>,
    map: fn(&keyboard::Event) -> Option<Message>,
) -> Element<'a, Message> {
    Element::new(Shortcuts {
        content: content.into(),
        map,
    })
}

struct Shortcuts<'a, Message> {
    content: Element<'a, Message>,
    map: fn(&keyboard::Event) -> Option<Message>,
}

impl<Message> Widget<Message, iced::Theme, iced::Renderer> for Shortcuts<'_, Message> {
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
        if let Some(child) = tree.children.first_mut() {
            self.content.as_widget_mut().update(
                child, event, layout, cursor, renderer, clipboard, shell, viewport,
            );
        }
        if let Event::Keyboard(key) = event {
            // Modifier changes are always reported (Ctrl/Shift+click needs them).
            let modifiers = matches!(key, keyboard::Event::ModifiersChanged(_));
            let escape = matches!(
                key,
                keyboard::Event::KeyPressed {
                    key: Key::Named(Named::Escape),
                    ..
                }
            );
            if (modifiers || escape || !shell.is_event_captured())
                && let Some(message) = (self.map)(key)
            {
                shell.publish(message);
                if !modifiers {
                    shell.capture_event();
                }
            }
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

/// Keyboard shortcuts, Thunderbird style.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shortcut {
    Write,
    Reply,
    ReplyAll,
    Forward,
    Next,
    Previous,
    /// Right and Left: open or close the selected row's conversation (threaded view).
    OpenConversation,
    CloseConversation,
    ToggleRead,
    ToggleStar,
    Delete,
    Search,
    GetMail,
    Help,
    /// Tab and Shift+Tab: the next or previous field.
    FocusNext,
    FocusPrevious,
    /// Enter where no field took it.
    Confirm,
    /// Escape: closes the help, or takes the wizard one step back. It arrives even when a
    /// text field used it (to give up its focus), so one press is enough there too.
    Close,
}

/// Maps a key press the widgets did not use (so typing in the search box is not a shortcut).
pub(super) fn shortcut(event: &keyboard::Event) -> Option<AppMessage> {
    let (key, modifiers) = match event {
        // A held key repeats only where repeating is harmless (moving in the list).
        keyboard::Event::KeyPressed {
            key,
            modifiers,
            repeat,
            ..
        } if !*repeat || matches!(key, Key::Named(Named::ArrowDown | Named::ArrowUp)) => {
            (key, *modifiers)
        }
        keyboard::Event::KeyPressed { .. } => return None,
        keyboard::Event::ModifiersChanged(modifiers) => {
            return Some(AppMessage::Modifiers(*modifiers));
        }
        keyboard::Event::KeyReleased { .. } => return None,
    };
    let action = match key.as_ref() {
        Key::Character("n" | "N") if modifiers.command() => Shortcut::Write,
        Key::Character("l" | "L") if modifiers.command() => Shortcut::Forward,
        Key::Character("r" | "R") if modifiers.shift() && !modifiers.command() => {
            Shortcut::ReplyAll
        }
        Key::Character("r") if modifiers.is_empty() => Shortcut::Reply,
        Key::Character("n") if modifiers.is_empty() => Shortcut::Next,
        Key::Character("p") if modifiers.is_empty() => Shortcut::Previous,
        Key::Named(Named::ArrowDown) if modifiers.is_empty() => Shortcut::Next,
        Key::Named(Named::ArrowUp) if modifiers.is_empty() => Shortcut::Previous,
        Key::Named(Named::ArrowRight) if modifiers.is_empty() => Shortcut::OpenConversation,
        Key::Named(Named::ArrowLeft) if modifiers.is_empty() => Shortcut::CloseConversation,
        Key::Character("m") if modifiers.is_empty() => Shortcut::ToggleRead,
        Key::Character("s") if modifiers.is_empty() => Shortcut::ToggleStar,
        Key::Character("f") if modifiers.command() => Shortcut::Search,
        Key::Character("/") => Shortcut::Search,
        Key::Character("?") => Shortcut::Help,
        // Backspace too, as in Thunderbird (it is the key labelled "delete" on a Mac).
        Key::Named(Named::Delete | Named::Backspace) => Shortcut::Delete,
        Key::Named(Named::F5) => Shortcut::GetMail,
        Key::Named(Named::F1) => Shortcut::Help,
        Key::Named(Named::Escape) => Shortcut::Close,
        Key::Named(Named::Tab) if modifiers.shift() => Shortcut::FocusPrevious,
        Key::Named(Named::Tab) => Shortcut::FocusNext,
        Key::Named(Named::Enter) => Shortcut::Confirm,
        _ => return None,
    };
    Some(AppMessage::Shortcut(action))
}
