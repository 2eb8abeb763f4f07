//! The fitted weight function of a selection model: the relative likelihood
//! of publication against the one-sided p-value (metafor's
//! `plot.rma.uni.selmodel`), a step plot for step functions. The curve is
//! read from the fitted model ([`SelectionModel::weight_at`]), never refitted;
//! text is set in the bundled font and the SVG is rendered to PNG or PDF by
//! [`super::render()`] like every other figure.

use plotters::prelude::*;

use super::font::FAMILY as FONT;
use super::{PlotError, render_error};
use tau_core::bias::selection::{SelectionModel, SelectionType};

/// What the weight-function plot shows.
#[derive(Debug, Clone, PartialEq)]
pub struct SelectionWeightsSpec {
    /// (p, w) points of the curve, in order of p; a step function has two points per jump.
    pub points: Vec<(f64, f64)>,
    /// Cut-points drawn as dotted vertical lines.
    pub steps: Vec<f64>,
    /// Title above the plot.
    pub title: String,
    /// Width and height in px.
    pub size: (u32, u32),
}

impl SelectionWeightsSpec {
    /// The curve of a fitted model on p ∈ [0, 1].
    pub fn from_model(model: &SelectionModel) -> SelectionWeightsSpec {
        let s = &model.settings;
        let cuts: Vec<f64> = s
            .steps
            .iter()
            .copied()
            .filter(|&c| c > 0.0 && c < 1.0)
            .collect();
        let points = if s.kind == SelectionType::Step {
            let mut points = Vec::new();
            let mut lower = 0.0;
            for (j, &upper) in s.steps.iter().enumerate() {
                points.push((lower, model.delta[j]));
                points.push((upper, model.delta[j]));
                lower = upper;
            }
            points
        } else {
            let lo = s.pval_min;
            let hi = 1.0 - s.pval_min;
            let mut ps: Vec<f64> = (0..=400)
                .map(|i| lo + (hi - lo) * f64::from(i) / 400.0)
                .collect();
            ps.extend(cuts.iter().flat_map(|&c| [c, c + 1e-9]));
            ps.sort_by(f64::total_cmp);
            ps.into_iter()
                .map(|p| (p, model.weight_at(p)))
                .filter(|(_, w)| w.is_finite())
                .collect()
        };
        SelectionWeightsSpec {
            points,
            steps: cuts,
            title: format!(
                "Selection model ({}): fitted weight function",
                s.kind.name()
            ),
            size: (640, 480),
        }
    }
}

/// Draws the weight function as SVG.
pub fn selection_weights_svg(spec: &SelectionWeightsSpec) -> Result<String, PlotError> {
    let y_max = spec
        .points
        .iter()
        .map(|p| p.1)
        .filter(|w| w.is_finite())
        .fold(1.0_f64, f64::max)
        * 1.1;
    let mut svg = String::new();
    {
        crate::font::register_with_plotters();
        let root = SVGBackend::with_string(&mut svg, spec.size).into_drawing_area();
        root.fill(&WHITE).map_err(render_error)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(&spec.title, (FONT, 16))
            .margin(15)
            .x_label_area_size(45)
            .y_label_area_size(60)
            .build_cartesian_2d(0.0..1.0, 0.0..y_max)
            .map_err(render_error)?;
        chart
            .configure_mesh()
            .light_line_style(TRANSPARENT)
            .x_desc("one-sided p-value")
            .y_desc("relative likelihood of selection")
            .label_style((FONT, 13))
            .draw()
            .map_err(render_error)?;
        for &cut in &spec.steps {
            chart
                .draw_series(DashedLineSeries::new(
                    [(cut, 0.0), (cut, y_max)],
                    3,
                    3,
                    BLACK.mix(0.5).stroke_width(1),
                ))
                .map_err(render_error)?;
        }
        chart
            .draw_series(LineSeries::new(
                spec.points.iter().copied(),
                BLACK.stroke_width(2),
            ))
            .map_err(render_error)?;
        root.present().map_err(render_error)?;
    }
    Ok(svg)
}
