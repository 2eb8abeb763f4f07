//! Bubble plot of a meta-regression on one continuous moderator (metafor
//! `regplot`): each study is a circle at (moderator, yᵢ) whose area is
//! proportional to its weight in the model, under the fitted line
//! β̂₀ + β̂₁x and its confidence band x₀'β̂ ± c √(x₀' V x₀).
//!
//! Everything drawn comes from the [`RegressionResult`], the same numbers
//! `tau regress` prints.

use plotters::prelude::*;

use tau_core::regression::RegressionResult;

use super::font::FAMILY;
use super::{PlotError, render_error};

/// Size and labels of the figure.
#[derive(Debug, Clone, PartialEq)]
pub struct BubbleOptions {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Title above the plot.
    pub title: Option<String>,
    /// Label of the horizontal axis (the moderator).
    pub x_label: String,
    /// Label of the vertical axis (the effect size).
    pub y_label: String,
}

/// Points along the fitted line.
const LINE_POINTS: usize = 200;
/// Radius in pixels of the heaviest study's circle.
const MAX_RADIUS: f64 = 14.0;
/// Smallest radius, so that light studies stay visible.
const MIN_RADIUS: f64 = 2.0;

/// Draws the bubble plot of `result`, a model `intrcpt + moderator`, as SVG text.
pub fn bubble_svg(result: &RegressionResult, options: &BubbleOptions) -> Result<String, PlotError> {
    let names: Vec<&str> = result
        .coefficients
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    if names.len() != 2 || !result.settings.intercept {
        return Err(PlotError::NotALine(names.join(", ")));
    }
    let points: Vec<(f64, f64, f64)> = result
        .studies
        .iter()
        .map(|s| (s.x.get(1), s.yi, s.weight))
        .collect();
    let (x_min, x_max) = bounds(points.iter().map(|p| p.0));
    let line: Vec<(f64, f64, f64, f64)> = (0..LINE_POINTS)
        .map(|i| {
            let x = x_min + (x_max - x_min) * i as f64 / (LINE_POINTS - 1) as f64;
            let p = result.predict(&[1.0, x]);
            (x, p.estimate, p.ci_lower, p.ci_upper)
        })
        .collect();
    let (y_min, y_max) = bounds(
        points
            .iter()
            .map(|p| p.1)
            .chain(line.iter().flat_map(|l| [l.2, l.3])),
    );
    let max_weight = points.iter().map(|p| p.2).fold(0.0, f64::max);
    let radius = |w: f64| (MAX_RADIUS * (w / max_weight).sqrt()).max(MIN_RADIUS);

    let mut svg = String::new();
    draw(&mut svg, options, (x_min, x_max), (y_min, y_max), |chart| {
        let band: Vec<(f64, f64)> = line
            .iter()
            .map(|l| (l.0, l.3))
            .chain(line.iter().rev().map(|l| (l.0, l.2)))
            .collect();
        chart.draw_series(std::iter::once(Polygon::new(band, BLUE.mix(0.15))))?;
        chart.draw_series(LineSeries::new(
            line.iter().map(|l| (l.0, l.1)),
            BLUE.stroke_width(2),
        ))?;
        chart.draw_series(
            points
                .iter()
                .map(|&(x, y, w)| Circle::new((x, y), radius(w), BLACK.mix(0.35).filled())),
        )?;
        chart.draw_series(
            points
                .iter()
                .map(|&(x, y, w)| Circle::new((x, y), radius(w), BLACK.stroke_width(1))),
        )?;
        Ok(())
    })
    .map_err(render_error)?;
    Ok(super::font::with_fallback_fonts(svg))
}

type Chart<'a, 'b> = ChartContext<
    'a,
    SVGBackend<'b>,
    Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
>;
type DrawResult<T> = Result<T, DrawingAreaErrorKind<std::io::Error>>;

fn draw(
    svg: &mut String,
    options: &BubbleOptions,
    x: (f64, f64),
    y: (f64, f64),
    series: impl FnOnce(&mut Chart<'_, '_>) -> DrawResult<()>,
) -> DrawResult<()> {
    crate::font::register_with_plotters();
    let root = SVGBackend::with_string(svg, (options.width, options.height)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut builder = ChartBuilder::on(&root);
    builder
        .margin(20)
        .x_label_area_size(50)
        .y_label_area_size(70);
    if let Some(title) = &options.title {
        builder.caption(title, (FAMILY, title_size(title, options.width)));
    }
    let (x_range, y_range) = (pad(x), pad(y));
    let (x_decimals, y_decimals) = (decimals(&x_range), decimals(&y_range));
    let mut chart = builder.build_cartesian_2d(x_range, y_range)?;
    chart
        .configure_mesh()
        .disable_mesh()
        .x_label_formatter(&|v| tick_label(*v, x_decimals))
        .y_label_formatter(&|v| tick_label(*v, y_decimals))
        .x_desc(options.x_label.as_str())
        .y_desc(options.y_label.as_str())
        .label_style((FAMILY, 14))
        .axis_desc_style((FAMILY, 15))
        .draw()?;
    series(&mut chart)?;
    root.present()
}

/// A title font size that fits the width (about 0.48 em per character), at most 18.
fn title_size(title: &str, width: u32) -> f64 {
    let fits = (f64::from(width) - 40.0) / (0.48 * title.chars().count().max(1) as f64);
    fits.clamp(9.0, 18.0)
}

/// Decimals for tick labels about a tenth of the range apart.
fn decimals(range: &std::ops::Range<f64>) -> usize {
    let step = (range.end - range.start) / 10.0;
    (-step.log10()).ceil().clamp(0.0, 6.0) as usize
}

/// A tick label with `decimals` decimals, never "-0".
fn tick_label(value: f64, decimals: usize) -> String {
    let text = format!("{value:.decimals$}");
    if text
        .trim_start_matches('-')
        .chars()
        .all(|c| c == '0' || c == '.')
    {
        text.trim_start_matches('-').to_owned()
    } else {
        text
    }
}

/// The smallest and largest finite value (a unit range around a single value).
fn bounds(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    if !lo.is_finite() {
        (0.0, 1.0)
    } else if lo == hi {
        (lo - 0.5, hi + 0.5)
    } else {
        (lo, hi)
    }
}

/// Widens a range by 5% on each side.
fn pad((lo, hi): (f64, f64)) -> std::ops::Range<f64> {
    let margin = 0.05 * (hi - lo);
    (lo - margin)..(hi + margin)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tick_labels_are_tidy() {
        assert_eq!(tick_label(-0.0001, 1), "0.0");
        assert_eq!(tick_label(8.0, decimals(&(7.5..18.5))), "8");
        assert_eq!(tick_label(-0.25, decimals(&(-0.5..0.9))), "-0.2");
    }
}
