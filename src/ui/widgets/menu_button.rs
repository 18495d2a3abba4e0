//! A button that opens a menu of actions (an attachment's "Save" menu): what a pick list
//! does, without a selection, and with the menu as wide as its entries need rather than as
//! wide as the button, its right edge under the button's (iced's pick list makes the two the
//! same width, so a short button means a clipped menu). Tab reaches it like any button:
//! Enter, Space or Down opens the menu, Up and Down move through it, Enter picks, Escape closes.

use iced::advanced::layout::{self, Layout};
use iced::advanced::widget::{Operation, Tree, operation, tree};
use iced::advanced::{Clipboard, Shell, Widget, mouse, overlay, renderer};
use iced::keyboard::{self, Key, key::Named};
use iced::overlay::menu::{self, Menu};
use iced::widget::button;
use iced::{Element, Event, Length, Padding, Pixels, Point, Rectangle, Size, Theme, Vector, touch};

/// `trigger` drawn as a button (hover and open states from `style`); a click opens a menu of
/// `options`, `menu_width` wide, and picking one sends `on_select(option)`.
pub struct MenuButton<'a, T, Message> {
    trigger: Element<'a, Message>,
    options: Vec<T>,
    on_select: Box<dyn Fn(T) -> Message + 'a>,
    menu_width: f32,
    padding: Padding,
    text_size: Option<Pixels>,
    style: fn(&Theme, button::Status) -> button::Style,
    menu_class: <Theme as menu::Catalog>::Class<'a>,
    /// What selectors and assistive tools read as its name.
    label: Option<String>,
}

impl<T, Message> std::fmt::Debug for MenuButton<'_, T, Message> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MenuButton")
            .field("options", &self.options.len())
            .field("menu_width", &self.menu_width)
            .finish_non_exhaustive()
    }
}

struct State {
    is_open: bool,
    hovered: Option<usize>,
    menu: menu::State,
    /// Reached by Tab (the focus ring shows).
    focused: bool,
    /// The pointer was over the button at the last look (a redraw only when that changes).
    over: bool,
}

impl operation::Focusable for State {
    fn is_focused(&self) -> bool {
        self.focused
    }

    fn focus(&mut self) {
        self.focused = true;
    }

    fn unfocus(&mut self) {
        // The focus went elsewhere (Tab, `/` to the search): the menu does not stay open to
        // take keys meant for it.
        self.focused = false;
        self.is_open = false;
    }
}

/// What a key did to the button.
enum KeyUse<Message> {
    /// Not the button's: it goes on to the rest of the window.
    Ignored,
    /// Used (the menu's state changed), sending this if anything.
    Handled(Option<Message>),
}

impl<'a, T, Message> MenuButton<'a, T, Message>
where
    T: ToString + Clone + 'a,
{
    pub fn new(
        trigger: impl Into<Element<'a, Message>>,
        options: Vec<T>,
        on_select: impl Fn(T) -> Message + 'a,
    ) -> Self {
        MenuButton {
            trigger: trigger.into(),
            options,
            on_select: Box::new(on_select),
            menu_width: 180.0,
            padding: Padding::from([4, 8]),
            text_size: None,
            style: crate::ui::theme::tool_button,
            menu_class: Box::new(crate::ui::theme::pick_menu),
            label: None,
        }
    }

    /// What a key does while the button has the focus or its menu is open: the message to
    /// send, if any (the menu's state changes in place).
    fn key(&self, state: &mut State, key: &Key, repeat: bool) -> KeyUse<Message> {
        let Some(last) = self.options.len().checked_sub(1) else {
            return KeyUse::Ignored;
        };
        match key.as_ref() {
            // A held Enter or Space opens the menu once; it does not go on to pick.
            Key::Named(Named::Enter | Named::Space) if repeat => KeyUse::Handled(None),
            Key::Named(Named::Escape) if state.is_open => {
                state.is_open = false;
                KeyUse::Handled(None)
            }
            Key::Named(Named::Enter | Named::Space) if state.is_open => {
                let picked = state.hovered.and_then(|i| self.options.get(i)).cloned();
                if picked.is_some() {
                    state.is_open = false;
                }
                KeyUse::Handled(picked.map(|option| (self.on_select)(option)))
            }
            Key::Named(Named::Enter | Named::Space | Named::ArrowDown) if !state.is_open => {
                state.is_open = true;
                state.hovered = Some(0);
                KeyUse::Handled(None)
            }
            Key::Named(Named::ArrowDown) => {
                state.hovered = Some(state.hovered.map_or(0, |i| (i + 1).min(last)));
                KeyUse::Handled(None)
            }
            Key::Named(Named::ArrowUp) if state.is_open => {
                state.hovered = Some(state.hovered.map_or(last, |i| i.saturating_sub(1)));
                KeyUse::Handled(None)
            }
            // Tab moves on: the menu closes behind it.
            Key::Named(Named::Tab) => {
                state.is_open = false;
                KeyUse::Ignored
            }
            _ => KeyUse::Ignored,
        }
    }

    /// The name selectors and assistive tools read (the button's words may say less).
    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    /// How wide the open menu is.
    pub fn menu_width(mut self, width: f32) -> Self {
        self.menu_width = width;
        self
    }

    /// The padding of the button and of each menu entry.
    pub fn padding(mut self, padding: impl Into<Padding>) -> Self {
        self.padding = padding.into();
        self
    }

    /// The size of the menu's text.
    pub fn text_size(mut self, size: impl Into<Pixels>) -> Self {
        self.text_size = Some(size.into());
        self
    }
}

impl<'a, T, Message> Widget<Message, Theme, iced::Renderer> for MenuButton<'a, T, Message>
where
    T: ToString + Clone + 'a,
    Message: Clone + 'a,
{
    fn tag(&self) -> tree::Tag {
        tree::Tag::of::<State>()
    }

    fn state(&self) -> tree::State {
        tree::State::new(State {
            is_open: false,
            hovered: None,
            menu: menu::State::new(),
            focused: false,
            over: false,
        })
    }

    fn children(&self) -> Vec<Tree> {
        vec![Tree::new(&self.trigger)]
    }

    fn diff(&self, tree: &mut Tree) {
        tree.diff_children(std::slice::from_ref(&self.trigger));
    }

    fn size(&self) -> Size<Length> {
        Size::new(Length::Shrink, Length::Shrink)
    }

    fn layout(
        &mut self,
        tree: &mut Tree,
        renderer: &iced::Renderer,
        limits: &layout::Limits,
    ) -> layout::Node {
        let Some(child) = tree.children.first_mut() else {
            return layout::Node::new(Size::ZERO);
        };
        let padding = self.padding;
        let inner =
            self.trigger
                .as_widget_mut()
                .layout(child, renderer, &limits.shrink(padding).loose());
        let size = inner.size().expand(padding);
        layout::Node::with_children(
            limits.resolve(Length::Shrink, Length::Shrink, size),
            vec![inner.move_to(Point::new(padding.left, padding.top))],
        )
    }

    fn operate(
        &mut self,
        tree: &mut Tree,
        layout: Layout<'_>,
        renderer: &iced::Renderer,
        operation: &mut dyn Operation,
    ) {
        operation.focusable(None, layout.bounds(), tree.state.downcast_mut::<State>());
        if let Some(label) = &self.label {
            operation.text(None, layout.bounds(), label);
        }
        if let (Some(child), Some(child_layout)) =
            (tree.children.first_mut(), layout.children().next())
        {
            self.trigger
                .as_widget_mut()
                .operate(child, child_layout, renderer, operation);
        }
    }

    fn update(
        &mut self,
        tree: &mut Tree,
        event: &Event,
        layout: Layout<'_>,
        cursor: mouse::Cursor,
        _renderer: &iced::Renderer,
        _clipboard: &mut dyn Clipboard,
        shell: &mut Shell<'_, Message>,
        _viewport: &Rectangle,
    ) {
        let state = tree.state.downcast_mut::<State>();
        match event {
            Event::Mouse(mouse::Event::ButtonPressed(mouse::Button::Left))
            | Event::Touch(touch::Event::FingerPressed { .. }) => {
                // A click anywhere takes the keyboard focus away (as a text field's does).
                state.focused = false;
                if state.is_open {
                    // The menu did not take the click: it fell outside it (or on the button).
                    state.is_open = false;
                    shell.capture_event();
                    shell.request_redraw();
                } else if cursor.is_over(layout.bounds()) {
                    state.is_open = true;
                    state.hovered = None;
                    shell.capture_event();
                    shell.request_redraw();
                }
            }
            // Keys only while Tab's focus is here (a menu opened by the mouse answers the mouse,
            // and Escape); never a key another widget already used.
            Event::Keyboard(keyboard::Event::KeyPressed {
                key,
                modifiers,
                repeat,
                ..
            }) if (state.focused
                || (state.is_open && key.as_ref() == Key::Named(Named::Escape)))
                && !shell.is_event_captured()
                && !modifiers.command()
                && !modifiers.alt() =>
            {
                if let KeyUse::Handled(message) = self.key(state, key, *repeat) {
                    if let Some(message) = message {
                        shell.publish(message);
                    }
                    shell.capture_event();
                    shell.request_redraw();
                }
            }
            Event::Mouse(mouse::Event::CursorMoved { .. }) => {
                let over = cursor.is_over(layout.bounds());
                if over != state.over {
                    state.over = over;
                    shell.request_redraw();
                }
            }
            _ => {}
        }
    }

    fn mouse_interaction(
        &self,
        _tree: &Tree,
        layout: Layout<'_>,
        cursor: mouse::Cursor,
        _viewport: &Rectangle,
        _renderer: &iced::Renderer,
    ) -> mouse::Interaction {
        if cursor.is_over(layout.bounds()) {
            mouse::Interaction::Pointer
        } else {
            mouse::Interaction::default()
        }
    }

    fn draw(
        &self,
        tree: &Tree,
        renderer: &mut iced::Renderer,
        theme: &Theme,
        _style: &renderer::Style,
        layout: Layout<'_>,
        cursor: mouse::Cursor,
        viewport: &Rectangle,
    ) {
        use iced::advanced::Renderer as _;
        let state = tree.state.downcast_ref::<State>();
        let bounds = layout.bounds();
        let status = if state.is_open {
            button::Status::Pressed
        } else if cursor.is_over(bounds) {
            button::Status::Hovered
        } else {
            button::Status::Active
        };
        let style = (self.style)(theme, status);
        if let Some(background) = style.background {
            renderer.fill_quad(
                renderer::Quad {
                    bounds,
                    border: style.border,
                    shadow: style.shadow,
                    ..renderer::Quad::default()
                },
                background,
            );
        }
        if let (Some(child), Some(child_layout)) = (tree.children.first(), layout.children().next())
        {
            self.trigger.as_widget().draw(
                child,
                renderer,
                theme,
                &renderer::Style {
                    text_color: style.text_color,
                },
                child_layout,
                cursor,
                viewport,
            );
        }
        if state.focused {
            crate::ui::focus::draw_ring(renderer, theme, bounds);
        }
    }

    fn overlay<'b>(
        &'b mut self,
        tree: &'b mut Tree,
        layout: Layout<'b>,
        _renderer: &iced::Renderer,
        viewport: &Rectangle,
        translation: Vector,
    ) -> Option<overlay::Element<'b, Message, Theme, iced::Renderer>> {
        let state = tree.state.downcast_mut::<State>();
        if !state.is_open {
            return None;
        }
        let bounds = layout.bounds();
        let at = layout.position() + translation;
        // The menu's right edge under the button's, unless that would put it off the window's
        // left edge.
        let x = (at.x + bounds.width - self.menu_width).max(0.0);
        let on_select = &self.on_select;
        let State {
            is_open,
            hovered,
            menu: menu_state,
            ..
        } = state;
        let mut list = Menu::new(
            menu_state,
            &self.options,
            hovered,
            move |option| {
                *is_open = false;
                on_select(option)
            },
            None,
            &self.menu_class,
        )
        .width(self.menu_width)
        .padding(self.padding);
        if let Some(size) = self.text_size {
            list = list.text_size(size);
        }
        Some(list.overlay(
            Point::new(x, at.y),
            *viewport,
            bounds.height,
            Length::Shrink,
        ))
    }
}

impl<'a, T, Message> From<MenuButton<'a, T, Message>> for Element<'a, Message>
where
    T: ToString + Clone + 'a,
    Message: Clone + 'a,
{
    fn from(button: MenuButton<'a, T, Message>) -> Self {
        Element::new(button)
    }
}
