//! The forest plot of a multilevel model (`tau forest --random`): the
//! effect sizes grouped under their outermost cluster (a bold heading per
//! cluster, in order of first appearance), each with its confidence
//! interval, then the multilevel model's diamond, its prediction interval
//! (every σ² added, as metafor's `predict`) and the variance components.
//!
//! Drawn from the [`MultilevelResult`] that `tau pool --random` prints; the
//! effect sizes' intervals are yᵢ ± z·√vᵢ as in every forest plot. Squares
//! have an area proportional to 1/vᵢ (the model's weights are not a single
//! vector when effect sizes share clusters). Options are those of the
//! ordinary forest plot that apply: title, axis label and limits, the
//! favours labels, width, font size, digits and the prediction interval.

use tau_core::data::dataset::Dataset;
use tau_core::multilevel::{MultilevelResult, MultilevelSubgroups, grouping_label};
use tau_core::numerics::distribution::normal_upper;

use super::PlotError;
use super::font::{Fonts, Weight};
use super::forest::{COLUMN_WIDTH, DEFAULT_FONT_SIZE, ForestOptions, Sort};
use super::scale::{Axis, fixed};
use super::svg::{Anchor, Stroke, SvgWriter, TextStyle};

/// One row of the plot.
enum Row {
    /// The heading of an outermost cluster.
    Cluster(String),
    /// An effect size: label, estimate, CI, inverse variance.
    Effect {
        label: String,
        value: f64,
        lower: f64,
        upper: f64,
        precision: f64,
    },
    /// The pooled diamond.
    Diamond {
        label: String,
        value: f64,
        lower: f64,
        upper: f64,
    },
    /// The prediction interval.
    Prediction { lower: f64, upper: f64 },
    /// A line of text under the model.
    Note(String),
}

const BLACK: &str = "#000000";
const GREY: &str = "#555555";

/// Draws the forest plot of the intercept-only multilevel model `result`
/// of `data`: the effect sizes under their outermost cluster or, with
/// `groups` (the same model with the subgroups as a factor, `tau subgroup
/// --random`), under their subgroup with its diamond; within a cluster or
/// subgroup in the order of `options.sort` (by weight: by 1/vᵢ).
pub fn multilevel_forest_svg(
    data: &Dataset,
    result: &MultilevelResult,
    groups: Option<&MultilevelSubgroups>,
    options: &ForestOptions,
) -> Result<String, PlotError> {
    let fs = options.font_size.unwrap_or(DEFAULT_FONT_SIZE);
    if !(fs.is_finite() && fs >= 4.0) {
        return Err(PlotError::BadOption(format!(
            "the font size must be at least 4 px (got {fs})"
        )));
    }
    let Some(pooled) = &result.summary else {
        return Err(PlotError::BadOption(
            "a forest plot of a multilevel model draws the model without moderators; use tau pool --random for its estimate".into(),
        ));
    };
    let s = &result.settings;
    let scale = data.scale();
    let z = normal_upper((1.0 - s.level / 100.0) / 2.0);
    let rows = rows(data, result, groups, pooled, z, options)?;
    let fonts = Fonts::load()?;
    let digits = options.digits;
    let show = |v: f64| fixed(scale.to_display(v), digits);
    let ci_text = |value: Option<f64>, lower: f64, upper: f64| match value {
        Some(v) => format!("{} [{}, {}]", show(v), show(lower), show(upper)),
        None => format!("[{}, {}]", show(lower), show(upper)),
    };
    // Axis: every CI and the prediction interval, or --xlim.
    let (lo, hi) = rows
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), r| match r {
            Row::Effect { lower, upper, .. }
            | Row::Diamond { lower, upper, .. }
            | Row::Prediction { lower, upper } => (lo.min(*lower), hi.max(*upper)),
            _ => (lo, hi),
        });
    if !(lo.is_finite() && hi.is_finite()) {
        return Err(PlotError::BadOption(
            "the effect sizes have no finite confidence intervals to draw".into(),
        ));
    }
    let axis = match options.xlim {
        Some((a, b)) => {
            let (a, b) = (scale.from_display(a), scale.from_display(b));
            if !(a.is_finite() && b.is_finite() && a < b) {
                return Err(PlotError::BadOption(
                    "--xlim needs two increasing values on the plotted scale".into(),
                ));
            }
            Axis::covering(scale, a, b)
        }
        None => Axis::covering(scale, lo, hi),
    };
    // Columns: labels, the plot, the estimates.
    let regular = |size: f64, anchor: Anchor| TextStyle {
        size,
        weight: Weight::Regular,
        anchor,
        fill: BLACK,
    };
    let bold = |anchor: Anchor| TextStyle {
        weight: Weight::Bold,
        ..regular(fs, anchor)
    };
    let indent = fs;
    let mut label_width = fonts.width("Study", fs, Weight::Bold);
    let mut text_width = fonts.width(&estimate_header(s.level), fs, Weight::Bold);
    for row in &rows {
        match row {
            Row::Cluster(name) => {
                label_width = label_width.max(fonts.width(name, fs, Weight::Bold))
            }
            Row::Effect {
                label,
                value,
                lower,
                upper,
                ..
            } => {
                label_width = label_width.max(indent + fonts.width(label, fs, Weight::Regular));
                text_width = text_width.max(fonts.width(
                    &ci_text(Some(*value), *lower, *upper),
                    fs,
                    Weight::Regular,
                ));
            }
            Row::Diamond {
                label,
                value,
                lower,
                upper,
            } => {
                label_width = label_width.max(fonts.width(label, fs, Weight::Bold));
                text_width = text_width.max(fonts.width(
                    &ci_text(Some(*value), *lower, *upper),
                    fs,
                    Weight::Bold,
                ));
            }
            Row::Prediction { lower, upper } => {
                label_width =
                    label_width.max(fonts.width("Prediction interval", fs, Weight::Regular));
                text_width = text_width.max(fonts.width(
                    &ci_text(None, *lower, *upper),
                    fs,
                    Weight::Regular,
                ));
            }
            Row::Note(_) => {}
        }
    }
    let margin = fs;
    let gap = 1.5 * fs;
    let fixed_width = 2.0 * margin + label_width + text_width + 2.0 * gap;
    let plot_width = match options.width {
        Some(w) if w.is_finite() => {
            let plot = w - fixed_width;
            if plot < 5.0 * fs {
                return Err(PlotError::BadOption(format!(
                    "--width {w} leaves no room for the plot column: the labels and estimates take {} px",
                    fixed_width.ceil()
                )));
            }
            plot
        }
        // As the study-level forest: a 17 cm journal column when the text leaves room.
        _ => (COLUMN_WIDTH - fixed_width).max(8.0 * fs),
    };
    let width = fixed_width + plot_width;
    let row_height = 1.6 * fs;
    let title_height = if options.title.is_some() {
        2.0 * fs
    } else {
        0.0
    };
    let top = margin + title_height + row_height;
    let body = row_height * rows.len() as f64;
    let height = top + body + 5.0 * fs + margin;
    let x0 = margin + label_width + gap;
    let x_of = |v: f64| x0 + plot_width * axis.fraction(v.clamp(axis.lo, axis.hi));
    let text_x = x0 + plot_width + gap + text_width;
    let mut svg = SvgWriter::new(width, height, options.title.as_deref());
    if let Some(title) = &options.title {
        svg.text(
            width / 2.0,
            margin + 1.2 * fs,
            title,
            &TextStyle {
                size: 1.25 * fs,
                ..bold(Anchor::Middle)
            },
            Some("title"),
        );
    }
    let header_y = margin + title_height + 0.8 * row_height;
    svg.text(margin, header_y, "Study", &bold(Anchor::Start), None);
    svg.text(
        text_x,
        header_y,
        &estimate_header(s.level),
        &bold(Anchor::End),
        None,
    );
    let baseline = |i: usize| top + row_height * (i as f64 + 0.7);
    let center = |i: usize| top + row_height * (i as f64 + 0.5);
    let line = Stroke {
        color: BLACK,
        width: 1.0,
        dash: None,
    };
    let max_precision = rows
        .iter()
        .filter_map(|r| match r {
            Row::Effect { precision, .. } => Some(*precision),
            _ => None,
        })
        .fold(0.0, f64::max);
    // Reference lines: no effect, and the pooled estimate.
    let bottom = top + body;
    if let Some(null) = data.measure.null_value()
        && null >= axis.lo
        && null <= axis.hi
    {
        svg.line((x_of(null), top), (x_of(null), bottom), &line, Some("null"));
    }
    svg.line(
        (x_of(pooled.value), top),
        (x_of(pooled.value), bottom),
        &Stroke {
            color: GREY,
            width: 1.0,
            dash: Some("4 3"),
        },
        Some("pooled"),
    );
    svg.open("rows");
    for (i, row) in rows.iter().enumerate() {
        let (y, c) = (baseline(i), center(i));
        match row {
            Row::Cluster(name) => svg.text(margin, y, name, &bold(Anchor::Start), Some("cluster")),
            Row::Effect {
                label,
                value,
                lower,
                upper,
                precision,
            } => {
                svg.text(margin + indent, y, label, &regular(fs, Anchor::Start), None);
                svg.line((x_of(*lower), c), (x_of(*upper), c), &line, None);
                let side = 0.3 * fs + 0.6 * fs * (precision / max_precision).sqrt();
                if *value >= axis.lo && *value <= axis.hi {
                    svg.rect(
                        (x_of(*value) - side / 2.0, c - side / 2.0),
                        (side, side),
                        BLACK,
                        None,
                        Some("effect"),
                    );
                }
                svg.text(
                    text_x,
                    y,
                    &ci_text(Some(*value), *lower, *upper),
                    &regular(fs, Anchor::End),
                    None,
                );
            }
            Row::Diamond {
                label,
                value,
                lower,
                upper,
            } => {
                svg.line(
                    (margin, c - 0.5 * row_height),
                    (text_x, c - 0.5 * row_height),
                    &line,
                    None,
                );
                svg.text(margin, y, label, &bold(Anchor::Start), None);
                let half = 0.4 * fs;
                svg.polygon(
                    &[
                        (x_of(*lower), c),
                        (x_of(*value), c - half),
                        (x_of(*upper), c),
                        (x_of(*value), c + half),
                    ],
                    BLACK,
                    None,
                    Some("diamond"),
                );
                svg.text(
                    text_x,
                    y,
                    &ci_text(Some(*value), *lower, *upper),
                    &bold(Anchor::End),
                    None,
                );
            }
            Row::Prediction { lower, upper } => {
                svg.text(
                    margin,
                    y,
                    "Prediction interval",
                    &regular(fs, Anchor::Start),
                    None,
                );
                let tick = 0.3 * fs;
                svg.line(
                    (x_of(*lower), c),
                    (x_of(*upper), c),
                    &line,
                    Some("prediction"),
                );
                for x in [x_of(*lower), x_of(*upper)] {
                    svg.line((x, c - tick), (x, c + tick), &line, None);
                }
                svg.text(
                    text_x,
                    y,
                    &ci_text(None, *lower, *upper),
                    &regular(fs, Anchor::End),
                    None,
                );
            }
            Row::Note(text) => svg.text(
                margin,
                y,
                text,
                &TextStyle {
                    fill: GREY,
                    ..regular(0.9 * fs, Anchor::Start)
                },
                Some("note"),
            ),
        }
    }
    svg.close();
    // The axis.
    svg.open("axis");
    svg.line((x0, bottom), (x0 + plot_width, bottom), &line, None);
    for tick in &axis.ticks {
        let x = x_of(tick.at);
        svg.line((x, bottom), (x, bottom + 0.4 * fs), &line, None);
        svg.text(
            x,
            bottom + 1.5 * fs,
            &tick.label,
            &regular(0.9 * fs, Anchor::Middle),
            None,
        );
    }
    let xlab = options
        .xlab
        .clone()
        .unwrap_or_else(|| data.measure.axis_label(data.scale()).to_owned());
    svg.text(
        x0 + plot_width / 2.0,
        bottom + 3.0 * fs,
        &xlab,
        &regular(fs, Anchor::Middle),
        Some("xlab"),
    );
    let favours_y = bottom + 4.4 * fs;
    let middle = data
        .measure
        .null_value()
        .filter(|n| *n > axis.lo && *n < axis.hi)
        .map_or(x0 + plot_width / 2.0, x_of);
    if let Some(left) = &options.favours_left {
        svg.text(
            middle - 0.5 * fs,
            favours_y,
            left,
            &regular(0.9 * fs, Anchor::End),
            None,
        );
    }
    if let Some(right) = &options.favours_right {
        svg.text(
            middle + 0.5 * fs,
            favours_y,
            right,
            &regular(0.9 * fs, Anchor::Start),
            None,
        );
    }
    svg.close();
    Ok(svg.finish())
}

fn estimate_header(level: f64) -> String {
    format!("Estimate [{}% CI]", fixed(level, 0))
}

/// The rows: each cluster's effect sizes under its heading, then the model.
fn rows(
    data: &Dataset,
    result: &MultilevelResult,
    groups: Option<&MultilevelSubgroups>,
    pooled: &tau_core::Estimate,
    z: f64,
    options: &ForestOptions,
) -> Result<Vec<Row>, PlotError> {
    let s = &result.settings;
    let Some(outer) = s.random.first() else {
        return Err(PlotError::BadOption(
            "the multilevel model has no grouping variables".into(),
        ));
    };
    if let Sort::Moderator(name) = &options.sort
        && !data.studies.iter().any(|s| s.moderators.contains_key(name))
    {
        return Err(PlotError::UnknownModerator {
            name: name.clone(),
            known: tau_core::data::moderator::moderator_names(data),
        });
    }
    let clusters = clusters(data, result)?;
    let used: usize = clusters.iter().map(|(_, m)| m.len()).sum();
    let mut rows = Vec::with_capacity(used + 2 * clusters.len() + 4);
    let effect = |i: usize| {
        let study = &data.studies[i];
        let se = study.vi.sqrt();
        Row::Effect {
            label: study.label().to_owned(),
            value: study.yi,
            lower: study.yi - z * se,
            upper: study.yi + z * se,
            precision: 1.0 / study.vi,
        }
    };
    let order = |members: &[usize]| {
        crate::forest::sorted(data, |i| 1.0 / data.studies[i].vi, members, &options.sort)
    };
    match groups {
        None => {
            for (cluster, members) in &clusters {
                rows.push(Row::Cluster(format!("{outer} {cluster}")));
                rows.extend(order(members).into_iter().map(effect));
            }
        }
        Some(subgroups) => {
            let fitted: Vec<usize> = clusters.iter().flat_map(|(_, m)| m.clone()).collect();
            for group in &subgroups.groups {
                let members: Vec<usize> = fitted
                    .iter()
                    .copied()
                    .filter(|&i| {
                        data.studies[i]
                            .moderators
                            .get(subgroups.by.as_str())
                            .and_then(grouping_label)
                            .is_some_and(|level| level == group.level)
                    })
                    .collect();
                let mut members = members;
                members.sort_unstable();
                let heading = options
                    .level_labels
                    .iter()
                    .find(|(level, _)| *level == group.level)
                    .map_or_else(
                        || format!("{} = {}", subgroups.by, group.level),
                        |(_, name)| name.clone(),
                    );
                rows.push(Row::Cluster(heading));
                rows.extend(order(&members).into_iter().map(effect));
                let e = &group.estimate;
                rows.push(Row::Diamond {
                    label: format!("Subgroup (k = {})", group.k),
                    value: e.value,
                    lower: e.ci_lower,
                    upper: e.ci_upper,
                });
            }
        }
    }
    if let Some(subgroups) = groups {
        let statistic = match subgroups.q_between_df2 {
            Some(df2) => format!(
                "F({}, {}) = {}",
                subgroups.q_between_df,
                fixed(df2, 2),
                fixed(subgroups.q_between, 2)
            ),
            None => format!(
                "QM({}) = {}",
                subgroups.q_between_df,
                fixed(subgroups.q_between, 2)
            ),
        };
        rows.push(Row::Note(format!(
            "Test of subgroup differences{}: {statistic}, p = {}",
            if result.robust {
                " (cluster-robust)"
            } else {
                ""
            },
            fixed(subgroups.q_between_p, 3)
        )));
    }
    rows.push(Row::Diamond {
        label: format!(
            "Multilevel model ({}; {}{})",
            s.method.name(),
            s.random.join("/"),
            if result.robust {
                "; cluster-robust CI"
            } else {
                ""
            }
        ),
        value: pooled.value,
        lower: pooled.ci_lower,
        upper: pooled.ci_upper,
    });
    if options.prediction
        && let (Some(lower), Some(upper)) = (result.pi_lower, result.pi_upper)
    {
        rows.push(Row::Prediction { lower, upper });
    }
    let components: Vec<String> = result
        .sigma2_names
        .iter()
        .zip(&result.sigma2)
        .zip(&result.i2_levels)
        .map(|((name, s2), i2)| format!("{name} {} (I² {}%)", fixed(*s2, 4), fixed(*i2, 1)))
        .collect();
    rows.push(Row::Note(format!(
        "σ²: {}; total I² = {}%",
        components.join(", "),
        fixed(result.i2_total, 1)
    )));
    Ok(rows)
}

/// The effect sizes `result` was fitted to (those of `data` with every
/// grouping value), by outermost cluster in order of first appearance.
pub(crate) fn clusters(
    data: &Dataset,
    result: &MultilevelResult,
) -> Result<Vec<(String, Vec<usize>)>, PlotError> {
    let mut clusters: Vec<(String, Vec<usize>)> = Vec::new();
    for (i, study) in data.studies.iter().enumerate() {
        let labels: Option<Vec<String>> = result
            .settings
            .random
            .iter()
            .map(|n| study.moderators.get(n).and_then(grouping_label))
            .collect();
        let Some(outer) = labels.and_then(|l| l.into_iter().next()) else {
            continue;
        };
        match clusters.iter_mut().find(|(c, _)| *c == outer) {
            Some((_, members)) => members.push(i),
            None => clusters.push((outer, vec![i])),
        }
    }
    let used: usize = clusters.iter().map(|(_, m)| m.len()).sum();
    if used != result.k {
        return Err(PlotError::BadOption(format!(
            "the multilevel result has {} effect sizes and the plot's data set {used} with every grouping value: draw the model of the plot's own data set",
            result.k
        )));
    }
    Ok(clusters)
}
