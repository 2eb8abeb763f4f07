//! SVG plots of the sensitivity analyses: a forest-style plot of the
//! leave-one-out or cumulative estimates with their confidence intervals, and
//! the Baujat plot. Both are drawn from the same result structs the text and
//! JSON reports read, so the numbers cannot differ between them. Text is set
//! in the bundled font ([`super::font`]), and the SVG is rendered to PNG or
//! PDF by [`super::render()`] like every other figure.

use plotters::coord::Shift;
use plotters::prelude::*;

use tau_core::sensitivity::RefitRow;
use tau_core::sensitivity::baujat::Baujat;

use super::font::FAMILY as FONT;
use super::{PlotError, render_error as plot_error};

const WIDTH: u32 = 900;
const ROW_HEIGHT: u32 = 20;

/// A finite range covering `values` with 5% padding on each side (−1..1 when there are none).
fn padded_range(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    if !lo.is_finite() {
        return (-1.0, 1.0);
    }
    let pad = if hi > lo {
        0.05 * (hi - lo)
    } else {
        0.5_f64.max(lo.abs() * 0.1)
    };
    (lo - pad, hi + pad)
}

/// A forest-style plot: one line per refit, its estimate as a square and its
/// confidence interval as a line, top to bottom in table order, with a dashed
/// vertical line at `reference` (the estimate from all studies).
pub fn refit_forest_svg(
    title: &str,
    x_label: &str,
    rows: &[RefitRow],
    reference: Option<f64>,
) -> Result<String, PlotError> {
    let n = rows.len().max(1);
    let height = 120 + ROW_HEIGHT * n as u32;
    let label_width = rows
        .iter()
        .map(|r| r.study.chars().count())
        .max()
        .unwrap_or(10)
        .clamp(10, 45) as u32
        * 7
        + 10;
    let (x_min, x_max) = padded_range(
        rows.iter()
            .flat_map(|r| [r.estimate.ci_lower, r.estimate.ci_upper])
            .chain(reference),
    );
    let mut svg = String::new();
    {
        crate::font::register_with_plotters();
        let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
        root.fill(&WHITE).map_err(plot_error)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, (FONT, 18))
            .margin(15)
            .x_label_area_size(45)
            .y_label_area_size(label_width)
            .build_cartesian_2d(x_min..x_max, (0..n).into_segmented())
            .map_err(plot_error)?;
        // Row i is drawn at segment n − 1 − i, so the table reads top to bottom.
        let label = |v: &SegmentValue<usize>| match v {
            SegmentValue::CenterOf(j) if *j < rows.len() => rows[n - 1 - j].study.clone(),
            _ => String::new(),
        };
        chart
            .configure_mesh()
            .disable_y_mesh()
            .light_line_style(TRANSPARENT)
            .y_labels(n)
            .y_label_formatter(&label)
            .x_desc(x_label)
            .label_style((FONT, 13))
            .draw()
            .map_err(plot_error)?;
        if let Some(r) = reference {
            chart
                .draw_series(DashedLineSeries::new(
                    [(r, SegmentValue::Exact(0)), (r, SegmentValue::Last)],
                    5,
                    4,
                    BLACK.mix(0.6).stroke_width(1),
                ))
                .map_err(plot_error)?;
        }
        let drawn = rows.iter().enumerate().filter(|(_, r)| {
            r.estimate.value.is_finite()
                && r.estimate.ci_lower.is_finite()
                && r.estimate.ci_upper.is_finite()
        });
        chart
            .draw_series(drawn.clone().map(|(i, r)| {
                let y = SegmentValue::CenterOf(n - 1 - i);
                PathElement::new(
                    [(r.estimate.ci_lower, y.clone()), (r.estimate.ci_upper, y)],
                    BLACK,
                )
            }))
            .map_err(plot_error)?;
        chart
            .draw_series(drawn.map(|(i, r)| {
                EmptyElement::at((r.estimate.value, SegmentValue::CenterOf(n - 1 - i)))
                    + Rectangle::new([(-4, -4), (4, 4)], BLACK.filled())
            }))
            .map_err(plot_error)?;
        root.present().map_err(plot_error)?;
    }
    Ok(svg)
}

/// The Baujat plot: each study's contribution to heterogeneity (x) against
/// its influence on the pooled result (y), labelled with the study names.
pub fn baujat_svg(result: &Baujat, x_label: &str) -> Result<String, PlotError> {
    let finite = |v: f64| if v.is_finite() { v } else { 0.0 };
    let x_max = result
        .studies
        .iter()
        .map(|p| finite(p.x))
        .fold(0.0, f64::max);
    let y_max = result
        .studies
        .iter()
        .map(|p| finite(p.y))
        .fold(0.0, f64::max);
    // Room on the right for the labels of the rightmost points.
    let (x_max, y_max) = (1.25 * x_max.max(1e-8), 1.1 * y_max.max(1e-8));
    let title = result.title.as_deref().unwrap_or("Baujat plot");
    let mut svg = String::new();
    {
        crate::font::register_with_plotters();
        let root = SVGBackend::with_string(&mut svg, (WIDTH, 650)).into_drawing_area();
        root.fill(&WHITE).map_err(plot_error)?;
        draw_baujat(&root, result, title, x_label, x_max, y_max)?;
        root.present().map_err(plot_error)?;
    }
    Ok(svg)
}

fn draw_baujat(
    root: &DrawingArea<SVGBackend<'_>, Shift>,
    result: &Baujat,
    title: &str,
    x_label: &str,
    x_max: f64,
    y_max: f64,
) -> Result<(), PlotError> {
    let mut chart = ChartBuilder::on(root)
        .caption(title, (FONT, 18))
        .margin(20)
        .x_label_area_size(45)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..x_max, 0.0..y_max)
        .map_err(plot_error)?;
    chart
        .configure_mesh()
        .light_line_style(TRANSPARENT)
        .x_desc(x_label)
        .y_desc("Influence on the pooled result")
        .label_style((FONT, 13))
        .draw()
        .map_err(plot_error)?;
    let points = result
        .studies
        .iter()
        .filter(|p| p.x.is_finite() && p.y.is_finite());
    chart
        .draw_series(points.map(|p| {
            EmptyElement::at((p.x, p.y))
                + Circle::new((0, 0), 3, BLACK.filled())
                + Text::new(p.study.clone(), (5, -12), (FONT, 12))
        }))
        .map_err(plot_error)?;
    Ok(())
}
