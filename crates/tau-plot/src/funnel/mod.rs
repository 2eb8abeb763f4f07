//! Funnel plots (metafor `funnel()`): each study's effect against its
//! standard error, the SE axis inverted so that large studies sit at the top.
//!
//! * Default: pseudo-confidence limits μ̂ ± z₁₋α/₂·SE around the pooled
//!   estimate μ̂ (metafor's default `refline = coef(res)`, no τ² added), the
//!   region inside them white on a light grey ground.
//! * Contour-enhanced (Peters et al. 2008, *J Clin Epidemiol* 61:991–996;
//!   metafor `funnel(res, level = c(90, 95, 99), shade = c("white",
//!   "gray55", "gray75"), refline = 0)`): regions where a study would be
//!   significant at p < .10, .05 and .01, centred at the null.
//! * Trim-and-fill: [`FunnelSpec::filled`] studies are drawn as open points.
//!
//! Drawn with plotters' SVG backend and the bundled font.

mod legend;

use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint};
use plotters::prelude::*;

use tau_core::data::dataset::Dataset;
use tau_core::numerics::distribution::normal_upper;
use tau_core::pool::PoolResult;

use legend::{draw_legend, legend};

use super::font::{FAMILY, Fonts, Weight, register_with_plotters};
use super::scale::{Axis, Scale, tick_label};
use super::{PlotError, render_error};

/// The contour levels and their shades, widest first (metafor's example).
const CONTOURS: [(f64, RGBColor, &str); 3] = [
    (0.01, RGBColor(0xBF, 0xBF, 0xBF), "0.01 < p ≤ 0.05"),
    (0.05, RGBColor(0x8C, 0x8C, 0x8C), "0.05 < p ≤ 0.10"),
    (0.10, RGBColor(0xFF, 0xFF, 0xFF), "p > 0.10"),
];
const GROUND: RGBColor = RGBColor(0xD3, 0xD3, 0xD3);
const INK: RGBColor = RGBColor(0x1A, 0x1A, 0x1A);

/// What a funnel plot shows.
#[derive(Debug, Clone, PartialEq)]
pub struct FunnelSpec {
    /// Studies as (yᵢ, SEᵢ), analysis scale.
    pub points: Vec<(f64, f64)>,
    /// Studies added by trim-and-fill, (yᵢ, SEᵢ), drawn as open points.
    pub filled: Vec<(f64, f64)>,
    /// The pooled estimate, drawn as a vertical line (solid on the plain
    /// funnel, dashed on the contour-enhanced one).
    pub estimate: f64,
    /// The trim-and-fill adjusted estimate, drawn as a long-dashed line
    /// beside the pooled one; the pseudo-confidence limits are then centred
    /// on it, as metafor's `funnel()` of a `trimfill` object does.
    pub adjusted: Option<f64>,
    /// A selection model's adjusted estimate, drawn as a dotted line, with
    /// its legend text.
    pub selection: Option<(String, f64)>,
    /// Level of the pseudo-confidence limits, percent.
    pub level: f64,
    /// Centre of the significance contours (the null).
    pub null: f64,
    /// Draw the contour-enhanced funnel instead of the pseudo-CI.
    pub contours: bool,
    /// How the effect axis is labelled.
    pub scale: Scale,
    /// Title.
    pub title: Option<String>,
    /// Effect axis label.
    pub xlab: String,
    /// Size in px.
    pub width: f64,
    /// Size in px.
    pub height: f64,
    /// Font size in px.
    pub font_size: f64,
}

impl FunnelSpec {
    /// The funnel of a pooled result: the studies of `data` (the data set
    /// that was pooled), the estimate and the level.
    pub fn from_pool(result: &PoolResult, data: &Dataset) -> FunnelSpec {
        let measure = result.settings.measure;
        FunnelSpec {
            points: data.studies.iter().map(|s| (s.yi, s.vi.sqrt())).collect(),
            filled: Vec::new(),
            estimate: result.estimate.value,
            adjusted: None,
            selection: None,
            level: result.settings.level,
            null: measure.null_value().unwrap_or(0.0),
            contours: false,
            scale: data.scale(),
            title: None,
            xlab: measure.axis_label(data.scale()).to_owned(),
            width: 640.0,
            height: 520.0,
            font_size: 13.0,
        }
    }
}

impl FunnelSpec {
    /// The funnel of an intercept-only multilevel model (`tau funnel
    /// --random`): the effect sizes it was fitted to, around its estimate.
    pub fn from_multilevel(
        result: &tau_core::multilevel::MultilevelResult,
        data: &Dataset,
    ) -> Result<FunnelSpec, PlotError> {
        let Some(pooled) = &result.summary else {
            return Err(PlotError::BadOption(
                "a funnel plot of a multilevel model is drawn around the estimate of the model without moderators".into(),
            ));
        };
        let measure = result.settings.measure;
        let points = crate::multilevel::clusters(data, result)?
            .iter()
            .flat_map(|(_, members)| members.iter().map(|&i| &data.studies[i]))
            .map(|s| (s.yi, s.vi.sqrt()))
            .collect();
        Ok(FunnelSpec {
            points,
            filled: Vec::new(),
            estimate: pooled.value,
            adjusted: None,
            selection: None,
            level: result.settings.level,
            null: measure.null_value().unwrap_or(0.0),
            contours: false,
            scale: data.scale(),
            title: None,
            xlab: measure.axis_label(data.scale()).to_owned(),
            width: 640.0,
            height: 520.0,
            font_size: 13.0,
        })
    }
}

/// plotters writes `font-size` as the size it is given divided by 1.24.
fn font(size: f64) -> FontDesc<'static> {
    FontDesc::new(FontFamily::Name(FAMILY), size * 1.24, FontStyle::Normal)
}

/// Draws the funnel plot as SVG.
pub fn funnel_svg(spec: &FunnelSpec) -> Result<String, PlotError> {
    register_with_plotters();
    let fonts = Fonts::load()?;
    let all: Vec<(f64, f64)> = spec.points.iter().chain(&spec.filled).copied().collect();
    let max_se = all.iter().map(|p| p.1).fold(0.0, f64::max);
    if all.is_empty() || !(max_se.is_finite() && max_se > 0.0) {
        return Err(PlotError::BadOption(
            "a funnel plot needs studies with positive, finite standard errors".into(),
        ));
    }
    let y_axis = Axis::covering(Scale::Linear, 0.0, max_se);
    let y_max = y_axis.hi;
    let (centre, z_outer) = if spec.contours {
        (spec.null, normal_upper(CONTOURS[0].0 / 2.0))
    } else {
        (
            spec.adjusted.unwrap_or(spec.estimate),
            normal_upper((1.0 - spec.level / 100.0) / 2.0),
        )
    };
    let (mut lo, mut hi) = (centre - z_outer * max_se, centre + z_outer * max_se);
    for y in all
        .iter()
        .map(|p| p.0)
        .chain(spec.adjusted)
        .chain(spec.selection.as_ref().map(|s| s.1))
        .chain([spec.estimate])
    {
        lo = lo.min(y);
        hi = hi.max(y);
    }
    let pad = 0.1 * (hi - lo);
    let mut x_axis = Axis::within(spec.scale, lo - pad, hi + pad);
    let f = spec.font_size;
    let legend_entries = legend(spec);
    let legend_width = if legend_entries.is_empty() {
        0.0
    } else {
        legend_entries
            .iter()
            .map(|(text, _)| fonts.width(text, f, Weight::Regular))
            .fold(0.0, f64::max)
            + 2.5 * f
    };

    let right_margin = if legend_entries.is_empty() {
        f
    } else {
        0.5 * f
    };
    let plot_width = spec.width - legend_width - 0.5 * f - f - right_margin - 4.6 * f;
    drop_crowded_ticks(&mut x_axis, &fonts, f, plot_width);

    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (spec.width as u32, spec.height as u32))
            .into_drawing_area();
        root.fill(&WHITE).map_err(render_error)?;
        let (plot_area, legend_area) = root.split_horizontally(spec.width - legend_width - 0.5 * f);
        let mut builder = ChartBuilder::on(&plot_area);
        builder
            .margin_top((1.2 * f) as u32)
            .margin_left(f as u32)
            .margin_right(right_margin as u32)
            .x_label_area_size((3.6 * f) as u32)
            .y_label_area_size((4.6 * f) as u32);
        if let Some(title) = &spec.title {
            builder.caption(title, font(1.2 * f));
        }
        let x_keys: Vec<f64> = x_axis.ticks.iter().map(|t| t.at).collect();
        let y_keys: Vec<f64> = y_axis.ticks.iter().map(|t| t.at).collect();
        let mut chart = builder
            .build_cartesian_2d(
                Ticked {
                    from: x_axis.lo,
                    to: x_axis.hi,
                    ticks: x_keys,
                },
                Ticked {
                    from: y_max,
                    to: 0.0,
                    ticks: y_keys,
                },
            )
            .map_err(render_error)?;
        chart.plotting_area().fill(&GROUND).map_err(render_error)?;
        let x_label = |v: &f64| {
            x_axis
                .ticks
                .iter()
                .find(|t| (t.at - v).abs() < 1e-9)
                .map_or_else(
                    || tick_label(spec.scale.to_display(*v)),
                    |t| t.label.clone(),
                )
        };
        chart
            .configure_mesh()
            .disable_x_mesh()
            .bold_line_style(WHITE.stroke_width(1))
            .light_line_style(TRANSPARENT)
            .x_label_formatter(&x_label)
            .y_label_formatter(&|v| tick_label(*v))
            .x_desc(spec.xlab.as_str())
            .y_desc("Standard error")
            .label_style(font(f))
            .axis_desc_style(font(f))
            .axis_style(INK.stroke_width(1))
            .draw()
            .map_err(render_error)?;

        let funnel = |p: f64| {
            let z = normal_upper(p / 2.0);
            vec![
                (centre - z * y_max, y_max),
                (centre, 0.0),
                (centre + z * y_max, y_max),
            ]
        };
        let dotted =
            |points: Vec<(f64, f64)>| DashedLineSeries::new(points, 2, 3, INK.stroke_width(1));
        if spec.contours {
            for (p, shade, _) in CONTOURS {
                chart
                    .draw_series(std::iter::once(Polygon::new(funnel(p), shade.filled())))
                    .map_err(render_error)?;
            }
        } else {
            let alpha = 1.0 - spec.level / 100.0;
            let edge = funnel(alpha);
            chart
                .draw_series(std::iter::once(Polygon::new(edge.clone(), WHITE.filled())))
                .map_err(render_error)?;
            chart
                .draw_series(dotted(edge[..2].to_vec()))
                .map_err(render_error)?;
            chart
                .draw_series(dotted(edge[1..].to_vec()))
                .map_err(render_error)?;
        }
        let vertical = |x: f64| vec![(x, 0.0), (x, y_max)];
        if spec.contours {
            let null = PathElement::new(vertical(spec.null), INK.stroke_width(1));
            chart
                .draw_series(std::iter::once(null))
                .map_err(render_error)?;
            let estimate =
                DashedLineSeries::new(vertical(spec.estimate), 5, 4, INK.stroke_width(1));
            chart.draw_series(estimate).map_err(render_error)?;
        } else {
            let estimate = PathElement::new(vertical(spec.estimate), INK.stroke_width(1));
            chart
                .draw_series(std::iter::once(estimate))
                .map_err(render_error)?;
        }
        if let Some(adjusted) = spec.adjusted {
            let line = DashedLineSeries::new(vertical(adjusted), 9, 4, INK.stroke_width(2));
            chart.draw_series(line).map_err(render_error)?;
        }
        if let Some((_, selection)) = &spec.selection {
            let line = DashedLineSeries::new(vertical(*selection), 2, 3, INK.stroke_width(2));
            chart.draw_series(line).map_err(render_error)?;
        }
        let radius = (0.26 * f).round().max(2.0) as i32;
        chart
            .draw_series(
                spec.filled
                    .iter()
                    .map(|&(y, se)| Circle::new((y, se), radius, WHITE.filled())),
            )
            .map_err(render_error)?;
        chart
            .draw_series(
                spec.filled
                    .iter()
                    .map(|&(y, se)| Circle::new((y, se), radius, INK.stroke_width(1))),
            )
            .map_err(render_error)?;
        chart
            .draw_series(
                spec.points
                    .iter()
                    .map(|&(y, se)| Circle::new((y, se), radius, INK.filled())),
            )
            .map_err(render_error)?;
        draw_legend(&legend_area, &legend_entries, f)?;
        root.present().map_err(render_error)?;
    }
    Ok(super::font::with_fallback_fonts(out))
}

/// Removes ticks whose labels would touch their left neighbour's.
fn drop_crowded_ticks(axis: &mut Axis, fonts: &Fonts, size: f64, width: f64) {
    let mut last_right = f64::NEG_INFINITY;
    let (lo, hi) = (axis.lo, axis.hi);
    axis.ticks.retain(|tick| {
        let centre = (tick.at - lo) / (hi - lo) * width;
        let half = fonts.width(&tick.label, size, Weight::Regular) / 2.0;
        let clear = centre - half >= last_right + 0.5 * size;
        if clear {
            last_right = centre + half;
        }
        clear
    });
}

/// A linear coordinate running `from` → `to` (either way round) with
/// the given tick positions.
struct Ticked {
    from: f64,
    to: f64,
    ticks: Vec<f64>,
}

impl Ranged for Ticked {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        let fraction = (value - self.from) / (self.to - self.from);
        limit.0 + (fraction * f64::from(limit.1 - limit.0)).round() as i32
    }

    fn key_points<Hint: KeyPointHint>(&self, _hint: Hint) -> Vec<f64> {
        self.ticks.clone()
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.from..self.to
    }
}
