//! Figures of a Bayesian meta-analysis ([`BayesResult`]): a forest plot of
//! each study's estimate with its confidence interval (grey) and the
//! posterior of its true effect θᵢ with its credible interval (black, the
//! shrinkage), with μ and θ_new below; and the posterior densities of τ and
//! μ side by side. Every number is read from the result; nothing is refitted.

use plotters::prelude::*;

use super::font::FAMILY as FONT;
use super::{PlotError, render_error};
use tau_core::bayes::BayesResult;

const WIDTH: u32 = 900;
const ROW_HEIGHT: u32 = 24;

/// One line of the forest plot.
struct Row {
    label: String,
    estimate: f64,
    lower: f64,
    upper: f64,
    observed: Option<(f64, f64, f64)>,
    summary: bool,
}

fn rows(r: &BayesResult) -> Vec<Row> {
    let z = tau_core::numerics::distribution::normal_upper((1.0 - r.settings.level / 100.0) / 2.0);
    let mut rows: Vec<Row> = r
        .studies
        .iter()
        .map(|s| Row {
            label: s.study.clone(),
            estimate: s.median,
            lower: s.ci_lower,
            upper: s.ci_upper,
            observed: Some((s.yi, s.yi - z * s.vi.sqrt(), s.yi + z * s.vi.sqrt())),
            summary: false,
        })
        .collect();
    rows.push(Row {
        label: "mu (overall effect)".into(),
        estimate: r.mu.median,
        lower: r.mu.ci_lower,
        upper: r.mu.ci_upper,
        observed: None,
        summary: true,
    });
    rows.push(Row {
        label: "theta_new (new study)".into(),
        estimate: r.theta_new.median,
        lower: r.theta_new.ci_lower,
        upper: r.theta_new.ci_upper,
        observed: None,
        summary: true,
    });
    rows
}

fn range(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(v), b.max(v))
        });
    if !lo.is_finite() || hi <= lo {
        return (lo.min(0.0) - 1.0, hi.max(0.0) + 1.0);
    }
    let pad = 0.05 * (hi - lo);
    (lo - pad, hi + pad)
}

/// The forest plot with posterior intervals and shrinkage, as SVG.
pub fn bayes_forest_svg(r: &BayesResult) -> Result<String, PlotError> {
    let rows = rows(r);
    let n = rows.len();
    let height = 130 + ROW_HEIGHT * n as u32;
    let label_width = rows
        .iter()
        .map(|row| row.label.chars().count())
        .max()
        .unwrap_or(10)
        .clamp(10, 45) as u32
        * 7
        + 10;
    let (x_min, x_max) = range(rows.iter().flat_map(|row| {
        let obs = row.observed.map_or([f64::NAN; 2], |o| [o.1, o.2]);
        [row.lower, row.upper, obs[0], obs[1]]
    }));
    let y_of = |i: usize| (n - i) as f64;
    let level = tau_core::report::fmt_num(r.settings.level, 0);
    let mut svg = String::new();
    {
        crate::font::register_with_plotters();
        let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
        root.fill(&WHITE).map_err(render_error)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(
                format!("Bayesian meta-analysis: posterior medians and {level}% intervals"),
                (FONT, 17),
            )
            .margin(15)
            .x_label_area_size(45)
            .y_label_area_size(label_width)
            .build_cartesian_2d(x_min..x_max, 0.3..(n as f64 + 0.7))
            .map_err(render_error)?;
        let label = |y: &f64| {
            let i = n as f64 - y.round();
            if (y - y.round()).abs() < 1e-6 && i >= 0.0 && (i as usize) < n {
                rows[i as usize].label.clone()
            } else {
                String::new()
            }
        };
        chart
            .configure_mesh()
            .disable_y_mesh()
            .light_line_style(TRANSPARENT)
            .y_labels(n + 1)
            .y_label_formatter(&label)
            .x_desc(format!(
                "{} (grey: estimate and {level}% CI; black: posterior of the true effect)",
                r.measure
            ))
            .label_style((FONT, 13))
            .draw()
            .map_err(render_error)?;
        let grey = RGBColor(150, 150, 150);
        for (i, row) in rows.iter().enumerate() {
            let y = y_of(i);
            if let Some((yi, lo, hi)) = row.observed {
                let yo = y + 0.22;
                chart
                    .draw_series([PathElement::new([(lo, yo), (hi, yo)], grey.stroke_width(1))])
                    .map_err(render_error)?;
                chart
                    .draw_series([EmptyElement::at((yi, yo))
                        + Rectangle::new([(-3, -3), (3, 3)], grey.filled())])
                    .map_err(render_error)?;
                chart
                    .draw_series([PathElement::new(
                        [(yi, yo), (row.estimate, y)],
                        grey.mix(0.6).stroke_width(1),
                    )])
                    .map_err(render_error)?;
            }
            if row.lower.is_finite() && row.upper.is_finite() {
                chart
                    .draw_series([PathElement::new(
                        [(row.lower, y), (row.upper, y)],
                        BLACK.stroke_width(if row.summary { 2 } else { 1 }),
                    )])
                    .map_err(render_error)?;
            }
            if row.summary {
                let h = 0.25;
                chart
                    .draw_series([Polygon::new(
                        vec![
                            (row.lower, y),
                            (row.estimate, y + h),
                            (row.upper, y),
                            (row.estimate, y - h),
                        ],
                        BLACK.filled(),
                    )])
                    .map_err(render_error)?;
            } else {
                chart
                    .draw_series([EmptyElement::at((row.estimate, y))
                        + Rectangle::new([(-4, -4), (4, 4)], BLACK.filled())])
                    .map_err(render_error)?;
            }
        }
        chart
            .draw_series(DashedLineSeries::new(
                [(r.mu.median, 0.3), (r.mu.median, n as f64 + 0.7)],
                5,
                4,
                BLACK.mix(0.5).stroke_width(1),
            ))
            .map_err(render_error)?;
        root.present().map_err(render_error)?;
    }
    Ok(svg)
}

/// The posterior densities of τ (left) and μ (right), with the central
/// intervals marked, as SVG.
pub fn bayes_density_svg(r: &BayesResult) -> Result<String, PlotError> {
    let mut svg = String::new();
    {
        crate::font::register_with_plotters();
        let root = SVGBackend::with_string(&mut svg, (WIDTH, 420)).into_drawing_area();
        root.fill(&WHITE).map_err(render_error)?;
        let (left, right) = root.split_horizontally(WIDTH / 2);
        let level = tau_core::report::fmt_num(r.settings.level, 0);
        for (area, points, summary, name) in [
            (&left, &r.density.tau, &r.tau, "tau (heterogeneity)"),
            (&right, &r.density.mu, &r.mu, "mu (overall effect)"),
        ] {
            let finite: Vec<(f64, f64)> = points
                .iter()
                .map(|p| (p[0], p[1]))
                .filter(|p| p.0.is_finite() && p.1.is_finite())
                .collect();
            let (x_min, x_max) = range(finite.iter().map(|p| p.0));
            let y_max = finite.iter().map(|p| p.1).fold(0.0, f64::max).max(1e-12) * 1.08;
            let mut chart = ChartBuilder::on(area)
                .caption(format!("posterior of {name}"), (FONT, 15))
                .margin(12)
                .x_label_area_size(40)
                .y_label_area_size(55)
                .build_cartesian_2d(x_min..x_max, 0.0..y_max)
                .map_err(render_error)?;
            chart
                .configure_mesh()
                .light_line_style(TRANSPARENT)
                .x_desc(format!(
                    "median and {level}% interval dashed; prior of tau: {}",
                    r.settings.tau_prior.label()
                ))
                .y_desc("density")
                .label_style((FONT, 12))
                .draw()
                .map_err(render_error)?;
            let inside: Vec<(f64, f64)> = finite
                .iter()
                .copied()
                .filter(|p| p.0 >= summary.ci_lower && p.0 <= summary.ci_upper)
                .collect();
            chart
                .draw_series(AreaSeries::new(inside, 0.0, BLUE.mix(0.15)))
                .map_err(render_error)?;
            chart
                .draw_series(LineSeries::new(finite, BLACK.stroke_width(2)))
                .map_err(render_error)?;
            for x in [summary.ci_lower, summary.median, summary.ci_upper] {
                if x.is_finite() {
                    chart
                        .draw_series(DashedLineSeries::new(
                            [(x, 0.0), (x, y_max)],
                            4,
                            3,
                            BLACK.mix(0.5).stroke_width(1),
                        ))
                        .map_err(render_error)?;
                }
            }
        }
        root.present().map_err(render_error)?;
    }
    Ok(svg)
}
