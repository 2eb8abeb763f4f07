//! Forest plots: one row per study (label, raw data, square and whiskers,
//! estimate with CI, weight), then the pooled diamonds, the prediction
//! interval, heterogeneity and, with subgroups, a block per moderator level
//! and the test for subgroup differences.
//!
//! The plot fits nothing: it is drawn from the [`tau_core::PoolResult`] of
//! each model shown and, split by a moderator, from the
//! [`tau_core::subgroup::SubgroupResult`] of each model (the same results
//! `tau pool` and `tau subgroup` print, so the levels, their order, their
//! labels and their numbers are those of `tau subgroup`).
//!
//! Built in three steps: `content` decides what each row says and shows
//! (formatting the numbers of those results), `layout` measures
//! every string with the bundled font and places the columns and rows, and
//! `draw` writes the SVG. The SVG is written directly rather than through
//! plotters, because the layout is a table with a plot column and needs
//! sub-pixel placement and measured text; the funnel plot uses plotters.
//!
//! Squares have an area proportional to the study's weight (with a minimum
//! visible size); whiskers that leave the axis end in arrows; ratio measures
//! are drawn on a log axis with ratio labels, as metafor's
//! `forest(res, atransf = exp)`.

mod columns;
mod content;
pub(crate) use content::sorted;
mod draw;
mod layout;
pub use layout::{COLUMN_WIDTH, DEFAULT_FONT_SIZE};
mod range;
mod rows;
mod text;

use tau_core::data::dataset::Dataset;
use tau_core::model::{FitOptions, Method};
use tau_core::pool::PoolResult;
use tau_core::subgroup::SubgroupResult;

use super::PlotError;
use super::font::Fonts;

/// Which pooled models the plot shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Models {
    /// The random-effects model (with the chosen τ² estimator).
    Random,
    /// The common-effect model only.
    Common,
    /// Both; the random-effects model sets the weights and square sizes.
    Both,
}

/// The order of studies (within each subgroup).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sort {
    /// As in the file.
    File,
    /// By effect size, smallest first.
    Effect,
    /// By weight, largest first.
    Weight,
    /// By a moderator's value (numbers ascending, text alphabetically, missing last).
    Moderator(String),
}

/// What the forest plot shows and how it looks.
#[derive(Debug, Clone, PartialEq)]
pub struct ForestOptions {
    /// Study order.
    pub sort: Sort,
    /// Pooled models shown.
    pub models: Models,
    /// Show the prediction interval (random-effects model only).
    pub prediction: bool,
    /// Title above the plot.
    pub title: Option<String>,
    /// Axis label (default: the measure's name).
    pub xlab: Option<String>,
    /// Total width in px (SVG user units, 1/96 in); `None`: a 17 cm journal
    /// column ([`COLUMN_WIDTH`]), wider only when the text needs it.
    pub width: Option<f64>,
    /// Label under the left end of the axis, e.g. "Favours vaccine".
    pub favours_left: Option<String>,
    /// Label under the right end of the axis.
    pub favours_right: Option<String>,
    /// Names of the two arms in the raw-data columns.
    pub arms: [String; 2],
    /// Show raw-data columns (events, means, sizes) when the records have them.
    pub data_columns: bool,
    /// Axis limits on the display scale (e.g. risk ratios), widened to the nearest ticks.
    pub xlim: Option<(f64, f64)>,
    /// Decimals of the estimates and CIs.
    pub digits: usize,
    /// Font size in px; `None`: 12 px, smaller (down to 9 px) where the
    /// text columns would crowd the panel out of the 17 cm column.
    pub font_size: Option<f64>,
    /// Display names of subgroup levels, (level, name): a level named here
    /// is headed by its name instead of "moderator: level".
    pub level_labels: Vec<(String, String)>,
}

impl Default for ForestOptions {
    fn default() -> Self {
        ForestOptions {
            sort: Sort::File,
            models: Models::Random,
            prediction: true,
            title: None,
            xlab: None,
            width: None,
            favours_left: None,
            favours_right: None,
            arms: ["Treatment".into(), "Control".into()],
            data_columns: true,
            xlim: None,
            digits: 2,
            font_size: None,
            level_labels: Vec::new(),
        }
    }
}

/// A pooled model drawn as a diamond.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Model {
    /// Random effects.
    Random,
    /// Common effect.
    Common,
}

impl ForestOptions {
    /// The models the plot shows, primary first, with the fit options to pool
    /// them with. A common-effect `--method EE` is the common-effect model.
    pub fn fits(&self, options: &FitOptions) -> Vec<(Model, FitOptions)> {
        let common = FitOptions {
            method: Method::EE,
            ..*options
        };
        match (self.models, options.method) {
            (_, Method::EE) | (Models::Common, _) => vec![(Model::Common, common)],
            (Models::Random, _) => vec![(Model::Random, *options)],
            (Models::Both, _) => vec![(Model::Random, *options), (Model::Common, common)],
        }
    }
}

/// One model of the plot: its pooled result and, split by a moderator, its
/// subgroup result (both computed from the plot's data set).
#[derive(Debug, Clone, Copy)]
pub struct Fitted<'a> {
    /// Which model.
    pub model: Model,
    /// The model pooled over all studies of the plot.
    pub pooled: &'a PoolResult,
    /// The model per level of the moderator (`tau subgroup --by`).
    pub subgroups: Option<&'a SubgroupResult>,
}

/// A drawn forest plot.
#[derive(Debug, Clone, PartialEq)]
pub struct ForestPlot {
    /// The SVG document.
    pub svg: String,
}

/// Draws the forest plot of `data` from the results of the models in
/// `fitted` (primary first, as [`ForestOptions::fits`] lists them).
pub fn forest(
    data: &Dataset,
    fitted: &[Fitted<'_>],
    forest: &ForestOptions,
) -> Result<ForestPlot, PlotError> {
    if let Some(size) = forest.font_size.filter(|s| !(s.is_finite() && *s >= 4.0)) {
        return Err(PlotError::BadOption(format!(
            "the font size must be at least 4 px (got {size})"
        )));
    }
    let fonts = Fonts::load()?;
    let content = content::build(data, fitted, forest)?;
    let layout = layout::Layout::new(&content, &fonts, forest)?;
    Ok(ForestPlot {
        svg: draw::draw(&content, &layout),
    })
}
