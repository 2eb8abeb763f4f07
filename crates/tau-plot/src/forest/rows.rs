//! The rows of a forest plot: what each says and shows.

use super::Model;

/// The kinds of rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum RowKind {
    /// A subgroup's heading.
    Heading,
    /// One study.
    Study,
    /// A pooled estimate; `overall` for the whole data set.
    Summary { overall: bool },
    /// The prediction interval.
    Prediction,
    /// A line of text: heterogeneity, subgroup test.
    Note,
    /// Vertical space between blocks.
    Gap,
}

/// The estimate and CI as three right-aligned pieces: "0.49", "[0.34,", "0.70]".
#[derive(Debug, Clone, PartialEq)]
pub(super) struct EstimateText {
    pub estimate: String,
    pub lower: String,
    pub upper: String,
}

/// What the plot column shows in a row (analysis scale).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Mark {
    None,
    /// A study: square of relative size √(w/w_max) and whiskers.
    Square {
        estimate: f64,
        lower: f64,
        upper: f64,
        size: f64,
    },
    /// A pooled estimate and its CI; the first model's diamond is filled, a second one open.
    Diamond {
        estimate: f64,
        lower: f64,
        upper: f64,
        model: Model,
        primary: bool,
    },
    /// A prediction interval.
    Interval {
        lower: f64,
        upper: f64,
    },
}

/// One row.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Row {
    pub kind: RowKind,
    pub label: String,
    pub cells: Vec<String>,
    pub estimate: Option<EstimateText>,
    pub weights: Vec<String>,
    pub mark: Mark,
}

impl Row {
    /// A row of text only.
    pub(super) fn text(kind: RowKind, label: String) -> Row {
        Row {
            kind,
            label,
            cells: Vec::new(),
            estimate: None,
            weights: Vec::new(),
            mark: Mark::None,
        }
    }
}
