//! What each row of a forest plot says and shows, before any geometry.
//! Every number comes from a [`PoolResult`] (the same struct `tau pool`
//! prints), formatted here and never recomputed.

use crate::dataset::Dataset;
use crate::model::FitOptions;
use crate::pool::{PoolResult, pool};

use super::super::PlotError;
use super::super::groups;
use super::super::scale::{Axis, Scale, axis_label, fixed, tick_label};
use super::columns::{DataColumn, data_columns};
use super::text;
use super::{ForestOptions, Model, Sort};

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
    /// A pooled estimate and its CI.
    Diamond {
        estimate: f64,
        lower: f64,
        upper: f64,
        model: Model,
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
    fn text(kind: RowKind, label: String) -> Row {
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

/// Everything the plot shows.
pub(super) struct Content {
    pub title: Option<String>,
    pub columns: Vec<DataColumn>,
    pub estimate_header: String,
    pub weight_group: Option<String>,
    pub weight_headers: Vec<String>,
    pub rows: Vec<Row>,
    pub axis: Axis,
    /// The line of no effect, where it lies on the axis.
    pub null: Option<f64>,
    /// The overall estimate of the first model, drawn as a dashed line.
    pub pooled: f64,
    pub xlab: String,
    pub favours: [Option<String>; 2],
    pub warnings: Vec<String>,
}

struct Builder<'a> {
    data: &'a Dataset,
    models: Vec<Model>,
    overall: &'a [PoolResult],
    columns: &'a [DataColumn],
    scale: Scale,
    digits: usize,
    max_weight: f64,
    rows: Vec<Row>,
}

/// Fits the models and lays out the rows.
pub(super) fn build(
    data: &Dataset,
    fits: &[(Model, FitOptions)],
    forest: &ForestOptions,
) -> Result<Content, PlotError> {
    let overall = fits
        .iter()
        .map(|(_, options)| pool(data, options))
        .collect::<Result<Vec<_>, _>>()?;
    let primary = &overall[0];
    let columns = if forest.data_columns {
        data_columns(data, &forest.arms)
    } else {
        Vec::new()
    };
    let models: Vec<Model> = fits.iter().map(|(m, _)| *m).collect();
    let mut b = Builder {
        data,
        models: models.clone(),
        overall: &overall,
        columns: &columns,
        scale: Scale::for_measure(data.measure),
        digits: forest.digits,
        max_weight: primary.studies.iter().map(|s| s.weight).fold(0.0, f64::max),
        rows: Vec::new(),
    };
    if let Sort::Moderator(name) = &forest.sort {
        groups::check_moderator(data, name)?;
    }
    let all: Vec<usize> = (0..data.studies.len()).collect();
    let mut tests = Vec::new();
    match &forest.by {
        None => b.studies(&all, &forest.sort),
        Some(moderator) => {
            let subgroups = groups::split(data, moderator)?;
            let mut level_fits = Vec::new();
            for (_, options) in fits {
                let level = groups::pool_subgroups(data, &subgroups, options)?;
                tests.push(groups::difference_test(data, &subgroups, &level, options)?);
                level_fits.push(level);
            }
            for (g, group) in subgroups.iter().enumerate() {
                b.rows.push(Row::text(
                    RowKind::Heading,
                    format!("{moderator}: {}", group.level),
                ));
                b.studies(&group.studies, &forest.sort);
                let fits: Option<Vec<&PoolResult>> =
                    level_fits.iter().map(|l| l[g].as_ref()).collect();
                match fits {
                    Some(fits) => {
                        b.summaries(&fits, &group.studies, false);
                        b.note(text::heterogeneity(fits[0]));
                    }
                    None => b.note("One study: no pooled estimate".into()),
                }
                b.rows.push(Row::text(RowKind::Gap, String::new()));
            }
        }
    }
    if forest.by.is_none() {
        b.rows.push(Row::text(RowKind::Gap, String::new()));
    }
    let overall_refs: Vec<&PoolResult> = overall.iter().collect();
    b.summaries(&overall_refs, &all, true);
    let show_pi = forest.prediction && models[0] == Model::Random;
    if show_pi {
        b.prediction(primary);
    }
    b.note(text::heterogeneity(primary));
    for (model, test) in models.iter().zip(&tests) {
        if let Some(test) = test {
            b.note(text::subgroup_test(test, *model, models.len() > 1));
        }
    }
    let null = data.measure.null_value();
    let axis = axis_for(&b.rows, b.scale, null, forest.xlim)?;
    let rows = b.rows;
    let mut warnings: Vec<String> = Vec::new();
    for result in &overall {
        for w in result.warnings.iter().skip(data.warnings.len()) {
            if !warnings.contains(w) {
                warnings.push(w.clone());
            }
        }
    }
    let (weight_group, weight_headers) = if models.len() > 1 {
        (
            Some("Weight".to_owned()),
            models
                .iter()
                .map(|m| text::model_short(*m).to_owned())
                .collect(),
        )
    } else {
        (None, vec!["Weight".to_owned()])
    };
    Ok(Content {
        title: forest.title.clone(),
        estimate_header: format!(
            "{} [{}% CI]",
            text::estimate_name(data.measure),
            tick_label(primary.settings.level)
        ),
        columns,
        weight_group,
        weight_headers,
        rows,
        null: null.filter(|n| *n >= axis.lo && *n <= axis.hi),
        axis,
        pooled: primary.estimate,
        xlab: forest
            .xlab
            .clone()
            .unwrap_or_else(|| axis_label(data.measure)),
        favours: [forest.favours_left.clone(), forest.favours_right.clone()],
        warnings,
    })
}

impl Builder<'_> {
    fn text3(&self, estimate: Option<f64>, lower: f64, upper: f64) -> EstimateText {
        let d = self.digits;
        EstimateText {
            estimate: estimate.map(|e| fixed(e, d)).unwrap_or_default(),
            lower: format!("[{},", fixed(lower, d)),
            upper: format!("{}]", fixed(upper, d)),
        }
    }

    fn percent(weight: f64) -> String {
        format!("{}%", fixed(weight, 1))
    }

    fn studies(&mut self, indices: &[usize], sort: &Sort) {
        let primary = &self.overall[0];
        for i in sorted(self.data, primary, indices, sort) {
            let study = &self.data.studies[i];
            let row = &primary.studies[i];
            let show = |x: f64| self.scale.to_display(x);
            self.rows.push(Row {
                kind: RowKind::Study,
                label: study.label().to_owned(),
                cells: self.columns.iter().map(|c| c.cell(&study.record)).collect(),
                estimate: Some(self.text3(
                    Some(show(row.yi)),
                    show(row.ci_lower),
                    show(row.ci_upper),
                )),
                weights: self
                    .overall
                    .iter()
                    .map(|r| Self::percent(r.studies[i].weight))
                    .collect(),
                mark: Mark::Square {
                    estimate: row.yi,
                    lower: row.ci_lower,
                    upper: row.ci_upper,
                    size: (row.weight / self.max_weight).sqrt(),
                },
            });
        }
    }

    /// Diamond rows, one per model; raw-data totals go on the first.
    fn summaries(&mut self, fits: &[&PoolResult], indices: &[usize], overall: bool) {
        for (m, (model, result)) in self.models.clone().iter().zip(fits).enumerate() {
            let records = || indices.iter().map(|&i| &self.data.studies[i].record);
            let cells = if m == 0 {
                self.columns.iter().map(|c| c.total(records())).collect()
            } else {
                vec![String::new(); self.columns.len()]
            };
            let estimate = match &result.transformed {
                Some(t) => self.text3(Some(t.estimate), t.ci_lower, t.ci_upper),
                None => self.text3(Some(result.estimate), result.ci_lower, result.ci_upper),
            };
            let weights = self
                .overall
                .iter()
                .enumerate()
                .map(|(w, r)| {
                    if w == m {
                        Self::percent(indices.iter().map(|&i| r.studies[i].weight).sum())
                    } else {
                        String::new()
                    }
                })
                .collect();
            let name = text::model_name(*model);
            let label = if overall && self.has_groups() {
                format!("Overall: {}", name.to_lowercase())
            } else {
                name.to_owned()
            };
            self.rows.push(Row {
                kind: RowKind::Summary { overall },
                label,
                cells,
                estimate: Some(estimate),
                weights,
                mark: Mark::Diamond {
                    estimate: result.estimate,
                    lower: result.ci_lower,
                    upper: result.ci_upper,
                    model: *model,
                },
            });
        }
    }

    fn has_groups(&self) -> bool {
        self.rows.iter().any(|r| r.kind == RowKind::Heading)
    }

    fn prediction(&mut self, result: &PoolResult) {
        let estimate = match &result.transformed {
            Some(t) => self.text3(None, t.pi_lower, t.pi_upper),
            None => self.text3(None, result.pi_lower, result.pi_upper),
        };
        self.rows.push(Row {
            estimate: Some(estimate),
            mark: Mark::Interval {
                lower: result.pi_lower,
                upper: result.pi_upper,
            },
            ..Row::text(RowKind::Prediction, "Prediction interval".into())
        });
    }

    fn note(&mut self, text: String) {
        self.rows.push(Row::text(RowKind::Note, text));
    }
}

/// The order of `indices` under `sort` (stable: ties keep file order).
fn sorted(data: &Dataset, primary: &PoolResult, indices: &[usize], sort: &Sort) -> Vec<usize> {
    let mut order = indices.to_vec();
    match sort {
        Sort::File => {}
        Sort::Effect => order.sort_by(|&a, &b| data.studies[a].yi.total_cmp(&data.studies[b].yi)),
        Sort::Weight => order.sort_by(|&a, &b| {
            primary.studies[b]
                .weight
                .total_cmp(&primary.studies[a].weight)
        }),
        Sort::Moderator(name) => {
            let value = |i: usize| data.studies[i].record.moderators.get(name);
            order.sort_by(|&a, &b| text::compare_moderators(value(a), value(b)));
        }
    }
    order
}

/// The axis: every estimate, pooled CI and prediction interval, the null,
/// and the study CIs, except that a CI reaching more than one median CI
/// width beyond the estimates is clipped (and drawn with an arrow).
fn axis_for(
    rows: &[Row],
    scale: Scale,
    null: Option<f64>,
    xlim: Option<(f64, f64)>,
) -> Result<Axis, PlotError> {
    if let Some((lo, hi)) = xlim {
        let (a, b) = (scale.from_display(lo), scale.from_display(hi));
        if !(a.is_finite() && b.is_finite() && a < b) {
            return Err(PlotError::BadOption(format!(
                "--xlim {lo},{hi} is not a range on this measure's scale: give two increasing values{}",
                if scale == Scale::Linear {
                    ""
                } else {
                    " inside the scale's range (e.g. ratios above 0)"
                }
            )));
        }
        return Ok(Axis::covering(scale, a, b));
    }
    let mut core: Vec<f64> = null.into_iter().collect();
    let mut study_cis = Vec::new();
    for row in rows {
        match row.mark {
            Mark::Square {
                estimate,
                lower,
                upper,
                ..
            } => {
                core.push(estimate);
                study_cis.push((lower, upper));
            }
            Mark::Diamond { lower, upper, .. } | Mark::Interval { lower, upper } => {
                core.extend([lower, upper]);
            }
            Mark::None => {}
        }
    }
    let finite = |v: &f64| v.is_finite();
    let lo = core
        .iter()
        .copied()
        .filter(finite)
        .fold(f64::INFINITY, f64::min);
    let hi = core
        .iter()
        .copied()
        .filter(finite)
        .fold(f64::NEG_INFINITY, f64::max);
    let mut widths: Vec<f64> = study_cis
        .iter()
        .map(|(l, u)| u - l)
        .filter(finite)
        .collect();
    widths.sort_by(f64::total_cmp);
    let reach = widths.get(widths.len() / 2).copied().unwrap_or(0.0);
    let lowest = study_cis
        .iter()
        .map(|c| c.0)
        .filter(finite)
        .fold(lo, f64::min);
    let highest = study_cis
        .iter()
        .map(|c| c.1)
        .filter(finite)
        .fold(hi, f64::max);
    Ok(Axis::covering(
        scale,
        lowest.max(lo - reach),
        highest.min(hi + reach),
    ))
}
