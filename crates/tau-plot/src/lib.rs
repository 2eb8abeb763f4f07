//! Plots: forest and funnel plots as SVG, rendered to PNG or PDF.
//!
//! * [`forest`](mod@forest): the forest plot, laid out from measured text (own SVG writer, [`svg`]);
//! * [`bubble`]: the meta-regression bubble plot (plotters);
//! * [`funnel`]: the funnel plot and its contour-enhanced form (plotters);
//! * [`groups`]: subgroups for `--by` and the test for subgroup differences;
//! * [`scale`]: ratio (log), correlation and proportion axes, ticks, number labels;
//! * [`font`]: the bundled Liberation Sans and text measurement;
//! * `render` (feature `raster`, on by default): SVG → PNG (resvg) and SVG → PDF (svg2pdf) with only the bundled font.
//!
//! Plots are views of the same results as the text and JSON reports: every
//! number drawn is formatted from a [`tau_core::PoolResult`], never recomputed.
//! The library returns strings and bytes; writing files is the CLI's job.

pub mod bubble;
pub mod font;
pub mod forest;
pub mod funnel;
pub mod groups;
#[cfg(feature = "raster")]
pub mod render;
pub mod scale;
pub mod sensitivity;
pub mod svg;

pub use forest::{ForestOptions, ForestPlot, Models, Sort, forest};
pub use funnel::{FunnelSpec, funnel_svg};
#[cfg(feature = "raster")]
pub use render::{ImageFormat, Rendered, render};

use tau_core::model::FitError;

/// Why a plot could not be made.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum PlotError {
    /// The model could not be fitted.
    #[error(transparent)]
    Fit(#[from] FitError),
    /// A subgroup could not be pooled.
    #[error("subgroup '{level}': {source}")]
    Subgroup {
        /// The moderator level.
        level: String,
        /// What went wrong.
        source: FitError,
    },
    /// No study records the moderator.
    #[error("no study has the moderator '{name}'; {}", known_list(.known))]
    UnknownModerator {
        /// The name asked for.
        name: String,
        /// The moderators the studies do have.
        known: Vec<String>,
    },
    /// A study lacks the moderator that splits the plot.
    #[error(
        "study '{study}' has no value for the moderator '{name}': give every study a value, or remove the study, to split by it"
    )]
    MissingModerator {
        /// The study label.
        study: String,
        /// The moderator.
        name: String,
    },
    /// A plot option is out of range.
    #[error("{0}")]
    BadOption(String),
    /// The PNG resolution is not a positive number.
    #[error("the resolution must be a positive number of dots per inch (got {0})")]
    BadDpi(f64),
    /// The bundled font could not be parsed (a broken build).
    #[error("the bundled font could not be read; this is a bug in tau's build")]
    Font,
    /// PNG or PDF rendering failed.
    #[error("cannot render the plot: {0}")]
    Render(String),
}

fn known_list(known: &[String]) -> String {
    if known.is_empty() {
        "the studies have no moderators".into()
    } else {
        format!("the studies have: {}", known.join(", "))
    }
}
