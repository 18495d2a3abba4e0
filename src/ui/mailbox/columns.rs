//! The table layout's columns: their order and widths (remembered in `ui.json`), and the header
//! that sorts (click), resizes (drag a column's edge) and reorders (drag a heading onto another).
//!
//! The subject takes the width the others leave, so it has no edge to drag. A drag is measured
//! from where it started (the pointer's movement, followed over the whole window while the
//! button is down: `ui::subscription`), so the header need not know its own width.

use iced::widget::{Space, container, mouse_area, row, text};
use iced::{Element, Length};
use serde::{Deserialize, Serialize};

use super::{Message, State};
use crate::store::SortOrder;
use crate::ui::theme::{self, size, space};
use crate::ui::widgets::{self, Icon};

/// A column of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Column {
    From,
    Subject,
    Date,
    Size,
}

impl Column {
    const ALL: [Column; 4] = [Column::From, Column::Subject, Column::Date, Column::Size];

    fn label(self) -> &'static str {
        match self {
            Column::From => "From",
            Column::Subject => "Subject",
            Column::Date => "Date",
            Column::Size => "Size",
        }
    }

    fn order(self) -> Option<SortOrder> {
        match self {
            Column::From => Some(SortOrder::From),
            Column::Subject => Some(SortOrder::Subject),
            Column::Date => Some(SortOrder::DateDesc),
            Column::Size => None,
        }
    }

    fn default_width(self) -> f32 {
        match self {
            Column::From => 160.0,
            Column::Subject => 0.0,
            Column::Date => 96.0,
            Column::Size => 56.0,
        }
    }

    fn index(self) -> usize {
        match self {
            Column::From => 0,
            Column::Subject => 1,
            Column::Date => 2,
            Column::Size => 3,
        }
    }
}

/// Narrowest and widest a column can be dragged.
pub const MIN_WIDTH: f32 = 40.0;
pub const MAX_WIDTH: f32 = 600.0;

/// The columns' order and widths (by `Column::index`; the subject's is not used).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Columns {
    pub order: Vec<Column>,
    pub widths: [f32; 4],
}

impl Default for Columns {
    fn default() -> Columns {
        Columns {
            order: Column::ALL.to_vec(),
            widths: Column::ALL.map(Column::default_width),
        }
    }
}

impl Columns {
    /// A saved value made usable: every column once (missing ones appended, repeats dropped),
    /// widths within bounds. (A value naming an unknown column does not read at all: the
    /// preferences then use the default columns.)
    pub fn checked(mut self) -> Columns {
        let mut order = Vec::new();
        for column in self.order.into_iter().chain(Column::ALL) {
            if !order.contains(&column) {
                order.push(column);
            }
        }
        self.order = order;
        for (width, column) in self.widths.iter_mut().zip(Column::ALL) {
            if !width.is_finite() || column == Column::Subject {
                *width = column.default_width();
            }
            if column != Column::Subject {
                *width = width.clamp(MIN_WIDTH, MAX_WIDTH);
            }
        }
        self
    }

    /// A column's saved width in pixels.
    fn px(&self, column: Column) -> f32 {
        self.widths
            .get(column.index())
            .copied()
            .unwrap_or(column.default_width())
    }

    /// The width a column's cells get.
    pub fn width(&self, column: Column) -> Length {
        match column {
            Column::Subject => Length::Fill,
            other => Length::Fixed(self.px(other)),
        }
    }

    /// Moves `column` to where `target` is.
    fn reorder(&mut self, column: Column, target: Column) {
        let (Some(from), Some(to)) = (
            self.order.iter().position(|c| *c == column),
            self.order.iter().position(|c| *c == target),
        ) else {
            return;
        };
        let moved = self.order.remove(from);
        self.order.insert(to, moved);
    }

    /// Whether `column` stands right of the subject (its draggable edge is then its left one).
    fn after_subject(&self, column: Column) -> bool {
        let at = |c: Column| self.order.iter().position(|x| *x == c);
        at(column) > at(Column::Subject)
    }
}

/// A drag in the header.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ColumnDrag {
    /// A column's edge: its width when the drag began, and the pointer's x then (known at the
    /// first move).
    Resize {
        column: Column,
        width: f32,
        from_x: Option<f32>,
    },
    /// A heading pressed: a release on the same heading sorts, on another moves the column.
    Heading(Column),
}

/// What the header's messages do.
pub(super) fn update(state: &mut State, message: HeaderMessage) -> Option<SortOrder> {
    match message {
        HeaderMessage::EdgePressed(column) => {
            state.heading_released = None;
            let width = state.columns.px(column);
            state.column_drag = Some(ColumnDrag::Resize {
                column,
                width,
                from_x: None,
            });
            None
        }
        HeaderMessage::HeadingPressed(column) => {
            state.heading_released = None;
            state.column_drag = Some(ColumnDrag::Heading(column));
            None
        }
        HeaderMessage::Moved(x) => {
            if let Some(ColumnDrag::Resize {
                column,
                width,
                from_x,
            }) = &mut state.column_drag
            {
                let start = *from_x.get_or_insert(x);
                let delta = if state.columns.after_subject(*column) {
                    start - x
                } else {
                    x - start
                };
                if let Some(w) = state.columns.widths.get_mut(column.index()) {
                    *w = (*width + delta).clamp(MIN_WIDTH, MAX_WIDTH);
                }
            }
            None
        }
        HeaderMessage::HeadingReleased(target) => {
            let pressed = match state.column_drag.take() {
                Some(ColumnDrag::Heading(column)) => Some(column),
                Some(ColumnDrag::Resize { .. }) => None,
                None => state
                    .heading_released
                    .take()
                    .filter(|(_, at)| at.elapsed() < std::time::Duration::from_millis(500))
                    .map(|(column, _)| column),
            };
            state.heading_released = None;
            match pressed {
                Some(column) if column == target => target.order(),
                Some(column) => {
                    state.columns.reorder(column, target);
                    None
                }
                None => None,
            }
        }
    }
}

/// The pointer button went up anywhere: a resize ends; a pressed heading is kept a moment for
/// its own release message (which may come after this one).
pub(super) fn released(state: &mut State) {
    match state.column_drag.take() {
        Some(ColumnDrag::Heading(column)) => {
            state.heading_released = Some((column, std::time::Instant::now()));
        }
        Some(ColumnDrag::Resize { .. }) | None => {}
    }
}

/// The header's messages.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum HeaderMessage {
    EdgePressed(Column),
    HeadingPressed(Column),
    HeadingReleased(Column),
    /// The pointer moved (x in the window) while an edge is dragged.
    Moved(f32),
}

/// Width of a column edge's grip.
const GRIP: f32 = 8.0;

/// The table's column headers in their order: a click sorts by the column (an arrow marks the
/// sort), a drag of a heading onto another moves it there, a drag of an edge resizes.
pub(super) fn header(state: &State, leading: f32) -> Element<'_, Message> {
    let columns = &state.columns;
    let mut cells = row![Space::new().width(leading)]
        .spacing(space::M)
        .align_y(iced::Alignment::Center);
    for column in columns.order.iter().copied() {
        let active = column.order().is_some_and(|o| o == state.order);
        let moving = state.column_drag == Some(ColumnDrag::Heading(column));
        let mut label = row![
            text(column.label())
                .size(size::CAPTION)
                .font(theme::semibold())
                .style(if active || moving {
                    theme::unread
                } else {
                    theme::muted
                })
        ]
        .spacing(space::XXS)
        .align_y(iced::Alignment::Center);
        if active {
            let arrow = if state.order == SortOrder::DateDesc {
                Icon::ChevronDown
            } else {
                Icon::ChevronUp
            };
            label = label.push(widgets::icon(arrow, 12.0, |t| theme::colors(t).unread));
        }
        let heading = crate::ui::focus::labelled(
            mouse_area(container(label).padding([space::XXS, 0.0]))
                .on_press(Message::Header(HeaderMessage::HeadingPressed(column)))
                .on_release(Message::Header(HeaderMessage::HeadingReleased(column)))
                .interaction(iced::mouse::Interaction::Pointer),
            column.order().map(Message::Sort),
            column.label(),
        );
        let grip = || {
            mouse_area(
                container(iced::widget::rule::vertical(1).style(theme::rule))
                    .width(GRIP)
                    .height(size::CAPTION + 6.0)
                    .align_x(iced::Alignment::Center),
            )
            .on_press(Message::Header(HeaderMessage::EdgePressed(column)))
            .interaction(iced::mouse::Interaction::ResizingHorizontally)
        };
        let cell: Element<'_, Message> = match column {
            Column::Subject => container(row![heading, Space::new().width(Length::Fill)])
                .width(Length::Fill)
                .into(),
            _ if columns.after_subject(column) => container(
                row![grip(), Space::new().width(Length::Fill), heading]
                    .align_y(iced::Alignment::Center),
            )
            .width(columns.width(column))
            .into(),
            _ => container(
                row![heading, Space::new().width(Length::Fill), grip()]
                    .align_y(iced::Alignment::Center),
            )
            .width(columns.width(column))
            .into(),
        };
        cells = cells.push(cell);
    }
    container(cells)
        // The rows' scrollbar (10 wide, 2 from the rows) sits under the header's right end.
        .padding(iced::Padding {
            top: 0.0,
            bottom: space::XXS,
            left: space::M,
            right: space::M + 12.0,
        })
        .into()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use super::*;

    #[test]
    fn saved_columns_are_made_usable() {
        let saved: Columns = serde_json::from_str(
            r#"{"order": ["Date", "Date", "From"], "widths": [1e9, 5, -3, 70]}"#,
        )
        .unwrap();
        let checked = saved.checked();
        assert_eq!(
            checked.order,
            [Column::Date, Column::From, Column::Subject, Column::Size]
        );
        assert_eq!(checked.widths, [MAX_WIDTH, 0.0, MIN_WIDTH, 70.0]);
    }

    #[test]
    fn a_heading_dropped_on_another_moves_there() {
        let mut columns = Columns::default();
        columns.reorder(Column::Date, Column::From);
        assert_eq!(
            columns.order,
            [Column::Date, Column::From, Column::Subject, Column::Size]
        );
        assert!(!columns.after_subject(Column::Date));
        assert!(columns.after_subject(Column::Size));
    }

    #[test]
    fn dragging_an_edge_resizes_and_a_click_sorts() {
        let mut state = State::default();
        let drag = |state: &mut State, column, moves: &[f32]| {
            update(state, HeaderMessage::EdgePressed(column));
            for x in moves {
                update(state, HeaderMessage::Moved(*x));
            }
            released(state);
        };
        // From is left of the subject: moving right widens it.
        drag(&mut state, Column::From, &[100.0, 130.0, 160.0]);
        assert_eq!(state.columns.widths[0], 220.0);
        // Date is right of it: its edge is its left one, so moving left widens it.
        drag(&mut state, Column::Date, &[500.0, 450.0]);
        assert_eq!(state.columns.widths[2], 146.0);
        drag(&mut state, Column::Size, &[500.0, 2000.0]);
        assert_eq!(state.columns.widths[3], MIN_WIDTH);
        assert!(state.column_drag.is_none());
        // Press and release on one heading sorts; the global release may come first.
        update(&mut state, HeaderMessage::HeadingPressed(Column::Subject));
        released(&mut state);
        assert_eq!(
            update(&mut state, HeaderMessage::HeadingReleased(Column::Subject)),
            Some(SortOrder::Subject)
        );
        // Onto another heading: the column moves there.
        update(&mut state, HeaderMessage::HeadingPressed(Column::Size));
        assert_eq!(
            update(&mut state, HeaderMessage::HeadingReleased(Column::From)),
            None
        );
        assert_eq!(state.columns.order[0], Column::Size);
    }
}
