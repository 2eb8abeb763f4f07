//! What each row of a forest plot says and shows, before any geometry.
//! Every number comes from a [`PoolResult`] or a [`SubgroupResult`] (the
//! structs `tau pool` and `tau subgroup` print), formatted here and never
//! recomputed.

use tau_core::data::dataset::{Dataset, Study};
use tau_core::input::Record;
use tau_core::pool::PoolResult;
use tau_core::subgroup::{GroupResult, SubgroupResult};

use super::super::PlotError;
use super::super::scale::{Axis, Scale, fixed, tick_label};
use super::columns::{DataColumn, data_columns};
use super::range::axis_for;
use super::rows::{EstimateText, Mark, Row, RowKind};
use super::text;
use super::{Fitted, ForestOptions, Model, Sort};

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
}

/// A pooled estimate and its CI on the analysis scale: a diamond.
#[derive(Debug, Clone, Copy)]
struct Summary {
    estimate: f64,
    ci_lower: f64,
    ci_upper: f64,
}

impl Summary {
    fn of_pool(r: &PoolResult) -> Summary {
        Summary {
            estimate: r.estimate.value,
            ci_lower: r.estimate.ci_lower,
            ci_upper: r.estimate.ci_upper,
        }
    }

    fn of_group(g: &GroupResult) -> Summary {
        Summary {
            estimate: g.estimate.value,
            ci_lower: g.estimate.ci_lower,
            ci_upper: g.estimate.ci_upper,
        }
    }
}

struct Builder<'a> {
    data: &'a Dataset,
    models: Vec<Model>,
    overall: Vec<&'a PoolResult>,
    columns: &'a [DataColumn],
    scale: Scale,
    digits: usize,
    weight_digits: usize,
    max_weight: f64,
    rows: Vec<Row>,
}

/// The subgroup results of every model, checked to be of `data` and to agree
/// on the levels; `None` without subgroups.
fn subgroups<'a>(
    data: &Dataset,
    fitted: &[Fitted<'a>],
) -> Result<Option<Vec<&'a SubgroupResult>>, PlotError> {
    let results: Vec<&SubgroupResult> = fitted.iter().filter_map(|f| f.subgroups).collect();
    if results.is_empty() {
        return Ok(None);
    }
    let first = results[0];
    let same_levels = |r: &SubgroupResult| {
        r.groups.len() == first.groups.len()
            && r.groups
                .iter()
                .zip(&first.groups)
                .all(|(a, b)| a.level == b.level && a.studies == b.studies)
    };
    // Every study of the plot in exactly one level: studies without a value
    // of the moderator are left out of the data set before pooling.
    let mut covered: Vec<usize> = first
        .groups
        .iter()
        .flat_map(|g| g.studies.clone())
        .collect();
    covered.sort_unstable();
    let covers_data = covered.iter().copied().eq(0..data.studies.len());
    if results.len() != fitted.len() || !results.iter().all(|r| same_levels(r)) || !covers_data {
        return Err(PlotError::BadOption(
            "the subgroup results of a forest plot must be of its data set (every study in one level), one per model, with the same levels".into(),
        ));
    }
    Ok(Some(results))
}

/// Lays out the rows from the results.
pub(super) fn build(
    data: &Dataset,
    fitted: &[Fitted<'_>],
    forest: &ForestOptions,
) -> Result<Content, PlotError> {
    let Some(primary) = fitted.first().map(|f| f.pooled) else {
        return Err(PlotError::BadOption(
            "a forest plot needs at least one pooled model".into(),
        ));
    };
    if fitted
        .iter()
        .any(|f| f.pooled.weights.len() != data.studies.len())
    {
        return Err(PlotError::BadOption(
            "the pooled results of a forest plot must be of its data set".into(),
        ));
    }
    let levels = subgroups(data, fitted)?;
    let overall: Vec<&PoolResult> = fitted.iter().map(|f| f.pooled).collect();
    let columns = if forest.data_columns {
        data_columns(data, &forest.arms)
    } else {
        Vec::new()
    };
    let models: Vec<Model> = fitted.iter().map(|f| f.model).collect();
    let mut b = Builder {
        data,
        models: models.clone(),
        weight_digits: weight_digits(&overall),
        overall,
        columns: &columns,
        scale: data.scale(),
        digits: forest.digits,
        max_weight: primary.weights.iter().copied().fold(0.0, f64::max),
        rows: Vec::new(),
    };
    if let Sort::Moderator(name) = &forest.sort
        && !data.studies.iter().any(|s| s.moderators.contains_key(name))
    {
        return Err(PlotError::UnknownModerator {
            name: name.clone(),
            known: tau_core::data::moderator::moderator_names(data),
        });
    }
    let all: Vec<usize> = (0..data.studies.len()).collect();
    match &levels {
        None => {
            b.studies(&all, &forest.sort);
            b.rows.push(Row::text(RowKind::Gap, String::new()));
        }
        Some(results) => {
            let by = &results[0].settings.by;
            for (g, group) in results[0].groups.iter().enumerate() {
                let heading = forest
                    .level_labels
                    .iter()
                    .find(|(level, _)| *level == group.level)
                    .map_or_else(
                        || format!("{by}: {}", group.level),
                        |(_, name)| name.clone(),
                    );
                b.rows.push(Row::text(RowKind::Heading, heading));
                b.studies(&group.studies, &forest.sort);
                let fits: Vec<Summary> = results
                    .iter()
                    .map(|r| Summary::of_group(&r.groups[g]))
                    .collect();
                b.summaries(&fits, &group.studies, false);
                b.note(text::level_heterogeneity(group, results[0].settings.method));
                b.note(text::level_effect_test(group, results[0]));
                b.rows.push(Row::text(RowKind::Gap, String::new()));
            }
        }
    }
    let first_summary = b.rows.len();
    let overall_fits: Vec<Summary> = b.overall.iter().map(|r| Summary::of_pool(r)).collect();
    b.summaries(&overall_fits, &all, true);
    if forest.prediction && models[0] == Model::Random {
        // Right under the random-effects diamond it belongs to.
        let row = b.prediction(primary);
        b.rows.insert(first_summary + 1, row);
    }
    b.note(text::heterogeneity(primary));
    b.note(text::pooled_effect_test(primary));
    if let Some(results) = &levels {
        for (model, result) in models.iter().zip(results) {
            if let Some(test) = text::subgroup_test(result, *model, models.len() > 1) {
                b.note(test);
            }
        }
    }
    let null = data.measure.null_value();
    let axis = axis_for(&b.rows, b.scale, null, forest.xlim)?;
    let rows = b.rows;
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
            data.measure.column_name(data.scale()),
            tick_label(primary.settings.level)
        ),
        columns,
        weight_group,
        weight_headers,
        rows,
        null: null.filter(|n| *n >= axis.lo && *n <= axis.hi),
        axis,
        pooled: primary.estimate.value,
        xlab: forest
            .xlab
            .clone()
            .unwrap_or_else(|| data.measure.axis_label(data.scale()).to_owned()),
        favours: [forest.favours_left.clone(), forest.favours_right.clone()],
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

    fn percent(&self, weight: f64) -> String {
        format!("{}%", fixed(weight, self.weight_digits))
    }

    fn studies(&mut self, indices: &[usize], sort: &Sort) {
        let primary = self.overall[0];
        for i in sorted(self.data, |i| primary.weights[i], indices, sort) {
            let study = &self.data.studies[i];
            let row = primary.row(self.data, i);
            let show = |x: f64| self.scale.to_display(x);
            self.rows.push(Row {
                kind: RowKind::Study,
                label: study.label().to_owned(),
                cells: self.columns.iter().map(|c| c.cell(raw_of(study))).collect(),
                estimate: Some(self.text3(
                    Some(show(row.yi)),
                    show(row.ci_lower),
                    show(row.ci_upper),
                )),
                weights: self
                    .overall
                    .iter()
                    .map(|r| self.percent(r.weights[i]))
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
    fn summaries(&mut self, fits: &[Summary], indices: &[usize], overall: bool) {
        let scale = self.scale;
        let display = |x: f64| scale.to_display(x);
        for (m, (model, result)) in self.models.clone().iter().zip(fits).enumerate() {
            let records = || indices.iter().map(|&i| raw_of(&self.data.studies[i]));
            let cells = if m == 0 {
                self.columns.iter().map(|c| c.total(records())).collect()
            } else {
                vec![String::new(); self.columns.len()]
            };
            let estimate = self.text3(
                Some(display(result.estimate)),
                display(result.ci_lower),
                display(result.ci_upper),
            );
            let weights = self
                .overall
                .iter()
                .enumerate()
                .map(|(w, r)| {
                    if w == m {
                        self.percent(indices.iter().map(|&i| r.weights[i]).sum())
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
                    primary: m == 0,
                },
            });
        }
    }

    fn has_groups(&self) -> bool {
        self.rows.iter().any(|r| r.kind == RowKind::Heading)
    }

    fn prediction(&self, result: &PoolResult) -> Row {
        let estimate = match &result.transformed {
            Some(t) => self.text3(None, t.pi_lower, t.pi_upper),
            None => self.text3(None, result.pi_lower, result.pi_upper),
        };
        Row {
            estimate: Some(estimate),
            mark: Mark::Interval {
                lower: result.pi_lower,
                upper: result.pi_upper,
            },
            ..Row::text(RowKind::Prediction, "Prediction interval".into())
        }
    }

    fn note(&mut self, text: String) {
        self.rows.push(Row::text(RowKind::Note, text));
    }
}

/// Decimals of the weight column: one, or two when some weight is below
/// 0.1% (as in plots of hundreds of studies), so that no study shows "0.0%".
fn weight_digits(results: &[&PoolResult]) -> usize {
    let smallest = results
        .iter()
        .flat_map(|r| r.weights.iter().copied())
        .fold(f64::INFINITY, f64::min);
    if smallest < 0.095 { 2 } else { 1 }
}

/// The order of `indices` under `sort` (stable: ties keep file order);
/// `weight(i)` is study `i`'s weight in the model.
pub(crate) fn sorted(
    data: &Dataset,
    weight: impl Fn(usize) -> f64,
    indices: &[usize],
    sort: &Sort,
) -> Vec<usize> {
    let mut order = indices.to_vec();
    match sort {
        Sort::File => {}
        Sort::Effect => order.sort_by(|&a, &b| data.studies[a].yi.total_cmp(&data.studies[b].yi)),
        Sort::Weight => order.sort_by(|&a, &b| weight(b).total_cmp(&weight(a))),
        Sort::Moderator(name) => {
            let value = |i: usize| data.studies[i].moderators.get(name);
            order.sort_by(|&a, &b| text::compare_moderators(value(a), value(b)));
        }
    }
    order
}

/// A study's raw data, or an empty record (blank cells) when it was given as yi.
fn raw_of(study: &Study) -> &Record {
    static NO_RAW_DATA: std::sync::LazyLock<Record> = std::sync::LazyLock::new(Record::default);
    study.raw.as_deref().unwrap_or(&NO_RAW_DATA)
}
