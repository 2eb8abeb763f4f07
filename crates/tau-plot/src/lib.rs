//! Plots: forest and funnel plots as SVG, rendered to PNG or PDF.
//!
//! * [`forest`](mod@forest): the forest plot, laid out from measured text (own SVG writer, [`svg`]);
//! * [`bayes`]: the forest plot with posterior intervals and the posterior densities of a Bayesian meta-analysis (plotters);
//! * [`bubble`]: the meta-regression bubble plot (plotters);
//! * [`funnel`]: the funnel plot and its contour-enhanced form (plotters);
//! * [`multilevel`]: the forest plot of a multilevel model (effect sizes by cluster; own SVG writer);
//! * [`sensitivity`]: leave-one-out, cumulative and Baujat plots (plotters);
//! * [`scale`]: ratio (log), correlation and proportion axes, ticks, number labels;
//! * [`font`]: the bundled Liberation Sans and text measurement;
//! * [`render`](mod@render): SVG → PNG (resvg) and SVG → PDF (svg2pdf) with only the bundled font.
//!
//! Plots are views of the same results as the text and JSON reports: every
//! number drawn is formatted from a tau-core result ([`tau_core::PoolResult`],
//! [`tau_core::SubgroupResult`], ...), never recomputed; tau-plot fits no model.
//! Every figure is an SVG master, and [`render()`] turns it into PNG or PDF.
//! The library returns strings and bytes; writing files is the CLI's job.

pub mod bayes;
pub mod bubble;
pub mod font;
pub mod forest;
pub mod funnel;
pub mod multilevel;
pub mod render;
pub mod scale;
pub mod selection;
pub mod sensitivity;
pub mod svg;

pub use bayes::{bayes_density_svg, bayes_forest_svg};
pub use forest::{Fitted, ForestOptions, ForestPlot, Model, Models, Sort, forest};
pub use funnel::{FunnelSpec, funnel_svg};
pub use multilevel::multilevel_forest_svg;
pub use render::{ImageFormat, Rendered, render};
pub use selection::{SelectionWeightsSpec, selection_weights_svg};

use tau_core::ErrorKind;

/// Why a plot could not be made: the one error type of tau-plot.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum PlotError {
    /// No study records the moderator a plot option names.
    #[error("no study has the moderator '{name}'; {}", known_list(.known))]
    UnknownModerator {
        /// The name asked for.
        name: String,
        /// The moderators the studies do have.
        known: Vec<String>,
    },
    /// A plot option is out of range.
    #[error("{0}")]
    BadOption(String),
    /// The PNG resolution is not a positive number.
    #[error("the resolution must be a positive number of dots per inch (got {0})")]
    BadDpi(f64),
    /// The model of a bubble plot is not a line in one moderator.
    #[error(
        "a bubble plot needs a model with an intercept and one continuous moderator (got coefficients {0})"
    )]
    NotALine(String),
    /// PNG or PDF asked of a build without the `raster` feature.
    #[error(
        "this build of tau writes plots as .svg only (it was built without the 'raster' feature); name the output file *.svg"
    )]
    NoRaster,
    /// The bundled font could not be parsed (a broken build).
    #[error("the bundled font could not be read; this is a bug in tau's build")]
    Font,
    /// Drawing or rendering the plot failed.
    #[error("cannot render the plot: {0}")]
    Render(String),
}

impl PlotError {
    /// Bad options, moderators and formats are input errors; a failed
    /// drawing or rendering is an analysis error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            PlotError::Font | PlotError::Render(_) => ErrorKind::Analysis,
            _ => ErrorKind::Input,
        }
    }
}

/// A drawing-library error as [`PlotError::Render`].
pub(crate) fn render_error(e: impl std::fmt::Display) -> PlotError {
    PlotError::Render(e.to_string())
}

fn known_list(known: &[String]) -> String {
    if known.is_empty() {
        "the studies have no moderators".into()
    } else {
        format!("the studies have: {}", known.join(", "))
    }
}
