//! Leave-one-out and cumulative analyses of any analysis request: the model
//! a [`Spec`] describes (a model with one τ², 2×2 tables by Mantel-Haenszel
//! or Peto, a multilevel model, each with or without cluster-robust
//! inference) refitted by [`run()`] without each record or cluster, or on
//! the first 1, 2, … records or clusters. Each refit is the model `tau pool`
//! fits with the same settings, so a refit's row and `tau pool` on the same
//! records agree to the last digit.
//!
//! - Leaving out clusters follows metafor's `leave1out(x, cluster = )`
//!   (`leave1out.rma.uni`, metafor 4.0 and later): one row per cluster, the
//!   clusters in sorted order, the model refitted on the records of the
//!   other clusters. metafor has no `leave1out` for `rma.mv`; the refits are
//!   those of `rma.mv(..., subset = cluster != id)`, and with `robust` the
//!   robust inference of each refit (`robust(fit, cluster)`).
//! - The cumulative analysis follows metafor's `cumul` (`cumul.rma.uni`,
//!   `cumul.rma.mh`, `cumul.rma.peto`): the records in file order or sorted
//!   by a numeric moderator (stable, as R's `order()`); with a cluster, whole
//!   clusters are added, in the order of their first record.
//!
//! A refit that fails leaves its row empty and says why (metafor leaves it
//! `NA`), as the leave-one-out analysis of one τ² does.

use crate::data::dataset::Dataset;
use crate::data::moderator;
use crate::estimate::Estimate;
use crate::sensitivity::{RefitRow, cumulative::order_by, each_study, failed_refits};
use crate::warning::Warning;

pub use crate::sensitivity::refits::{RefitKind, Refits};

use super::run::{Analysis, AnalysisError, run};
use super::spec::{Field, MethodChoice, Question, Spec};
use super::validate::{Refusal, Refusals};

/// Refits the model of `spec` without each record, or (`cluster`) without
/// each cluster of that moderator.
pub fn leave_one_out(
    spec: &Spec,
    data: &Dataset,
    cluster: Option<&str>,
) -> Result<Refits, AnalysisError> {
    let full = fit_all(spec, data)?;
    let units = units(data, &(0..data.studies.len()).collect::<Vec<_>>(), cluster)?;
    if units.len() < 2 {
        return Err(AnalysisError::Data(format!(
            "a leave-one-out analysis needs at least 2 {} (got {})",
            plural(cluster),
            units.len()
        )));
    }
    let rows = each_study(units.len(), |u| {
        let (label, members) = &units[u];
        let kept: Vec<usize> = (0..data.studies.len())
            .filter(|i| !members.contains(i))
            .collect();
        refit(spec, data, label, &kept)
    });
    let overall = row_of("all studies", &full).unwrap_or_else(|| {
        RefitRow::failed("all studies", data.studies.len(), &"no pooled estimate")
    });
    Ok(assemble(
        spec,
        data,
        &full,
        RefitKind::LeaveOneOut,
        cluster,
        None,
        Some(overall),
        rows,
    ))
}

/// Refits the model of `spec` on the first 1, 2, … records (or clusters),
/// in file order or sorted by the numeric moderator `order`.
pub fn cumulative(
    spec: &Spec,
    data: &Dataset,
    order: Option<&str>,
    cluster: Option<&str>,
) -> Result<Refits, AnalysisError> {
    let full = fit_all(spec, data)?;
    let sequence = match order {
        Some(name) => order_by(data, name).map_err(|e| AnalysisError::Data(e.to_string()))?,
        None => (0..data.studies.len()).collect(),
    };
    let mut units = units(data, &sequence, cluster)?;
    if cluster.is_some() {
        // Clusters enter in the order of their first record in the sequence.
        let rank = |members: &[usize]| {
            members
                .iter()
                .filter_map(|m| sequence.iter().position(|s| s == m))
                .min()
                .unwrap_or(usize::MAX)
        };
        units.sort_by_key(|(_, members)| rank(members));
    }
    let rows = each_study(units.len(), |u| {
        let kept: Vec<usize> = units[..=u]
            .iter()
            .flat_map(|(_, members)| members.iter().copied())
            .collect();
        refit(spec, data, &units[u].0, &kept)
    });
    Ok(assemble(
        spec,
        data,
        &full,
        RefitKind::Cumulative,
        cluster,
        order,
        None,
        rows,
    ))
}

/// The model on all records, pooled. A multilevel model is fitted only
/// (`fit_only`): the rows need the estimate and the σ², not the profile CIs
/// and the test of each level, which refit the model many times.
fn fit_all(spec: &Spec, data: &Dataset) -> Result<Analysis, AnalysisError> {
    if spec.rho.len() > 1 {
        return Err(AnalysisError::Refused(Refusals(vec![Refusal {
            field: Field::Rho,
            message: "a list of `rho` values is a sensitivity analysis of its own (tau pool); refit one working model here: give one value, e.g. `rho` 0.6".into(),
        }])));
    }
    let spec = Spec {
        question: Question::Pool,
        fit_only: spec.fit_only || !spec.random.is_empty(),
        ..spec.clone()
    };
    run(&spec, data, &|_| {})
}

/// "studies" or "clusters of `cluster`".
fn plural(cluster: Option<&str>) -> String {
    match cluster {
        Some(name) => format!("clusters of \"{name}\""),
        None => "studies".to_owned(),
    }
}

/// The units to leave out or add, each a label and its records (indices
/// into the studies of `data`): each record of `sequence`, or each cluster
/// in sorted order of its value (as `leave1out(cluster = )`).
fn units(
    data: &Dataset,
    sequence: &[usize],
    cluster: Option<&str>,
) -> Result<Vec<(String, Vec<usize>)>, AnalysisError> {
    let Some(name) = cluster else {
        return Ok(sequence
            .iter()
            .map(|&i| (data.studies[i].label().to_owned(), vec![i]))
            .collect());
    };
    let column = moderator::column(data, name).map_err(|e| AnalysisError::Data(e.to_string()))?;
    if let Some(i) = (0..data.studies.len()).find(|&i| !column.is_present(i)) {
        // metafor: "No missing values allowed in 'cluster' variable."
        return Err(AnalysisError::Data(format!(
            "study '{}' (record {}) has no value of \"{name}\", whose clusters are left out or added one at a time: give every record a value, or filter the record out",
            data.studies[i].label(),
            i + 1
        )));
    }
    Ok(moderator::groups(&column))
}

/// The model of `spec` on the records `kept` of `data`, as a row labelled
/// `label` (an empty row, with the reason, when it cannot be fitted).
fn refit(spec: &Spec, data: &Dataset, label: &str, kept: &[usize]) -> RefitRow {
    let subset = Dataset {
        studies: kept.iter().map(|&i| data.studies[i].clone()).collect(),
        warnings: Vec::new(),
        ..data.clone()
    };
    match fit_all(spec, &subset) {
        Ok(analysis) => row_of(label, &analysis)
            .unwrap_or_else(|| RefitRow::failed(label, kept.len(), &"no pooled estimate")),
        Err(e) => {
            let message = e.to_string();
            let mut row = RefitRow::failed(label, kept.len(), &message);
            shape_failed(&mut row, spec);
            row
        }
    }
}

/// A failed row has the columns of the model's other rows.
fn shape_failed(row: &mut RefitRow, spec: &Spec) {
    match spec.method {
        MethodChoice::Tables(_) => row.tau2 = None,
        MethodChoice::Model(_) if !spec.random.is_empty() => {
            row.tau2 = None;
            row.i2 = None;
            row.h2 = None;
        }
        MethodChoice::Model(_) => {}
    }
}

/// The row of a pooled analysis: its estimate (the robust one under
/// `robust`), its test's df, and its heterogeneity.
pub fn row_of(label: &str, analysis: &Analysis) -> Option<RefitRow> {
    match analysis {
        Analysis::Pool(r) => Some(RefitRow {
            study: label.to_owned(),
            k: r.k,
            estimate: r.estimate,
            df: r.df,
            tau2: Some(r.tau2),
            sigma2: None,
            i2: Some(r.i2),
            h2: Some(r.h2),
            q: r.q,
            q_p: r.q_p,
            error: None,
        }),
        Analysis::Tables(r) => Some(RefitRow::from_tables(label, r)),
        Analysis::Multilevel(r) => Some(RefitRow {
            study: label.to_owned(),
            k: r.k,
            estimate: r.summary?,
            df: r.df,
            tau2: None,
            sigma2: Some(r.sigma2.clone()),
            i2: None,
            h2: None,
            q: r.qe,
            q_p: r.qe_p,
            error: None,
        }),
        Analysis::Robust { model, robust, .. } => {
            let mut row = row_of(label, model)?;
            let c = robust.coefficients.first()?;
            row.estimate = Estimate {
                value: c.estimate,
                se: c.se,
                statistic: c.statistic,
                p: c.p,
                ci_lower: c.ci_lower,
                ci_upper: c.ci_upper,
            };
            row.df = c.df;
            Some(row)
        }
        _ => None,
    }
}

/// The model of `spec`, in words ("multilevel model (REML; random: a/b) with
/// cluster-robust inference (CR2, clusters: a)").
fn describe(spec: &Spec, full: &Analysis) -> String {
    let model = match spec.method {
        MethodChoice::Tables(method) => format!("common-effect model ({})", method.name()),
        MethodChoice::Model(method) if !spec.random.is_empty() => format!(
            "multilevel model ({}; random: {})",
            method.name(),
            spec.random.join("/")
        ),
        MethodChoice::Model(method) => format!("model with one tau^2 ({})", method.name()),
    };
    match full {
        Analysis::Robust { robust, .. } => {
            let tests = match robust.robust.small_sample {
                crate::robust::SmallSample::Satterthwaite => "Satterthwaite t tests",
                crate::robust::SmallSample::None => "t tests on clusters - p df",
            };
            format!(
                "{model} with cluster-robust inference ({}, {tests}; clusters: {})",
                robust.robust.estimator, robust.robust.cluster
            )
        }
        _ => model,
    }
}

/// The settings object of the analysis's JSON (that of the working model
/// under `robust`).
fn settings_of(value: &serde_json::Value) -> serde_json::Value {
    value
        .get("settings")
        .or_else(|| value.get("model").and_then(|m| m.get("settings")))
        .cloned()
        .unwrap_or(serde_json::Value::Null)
}

#[allow(clippy::too_many_arguments)]
fn assemble(
    spec: &Spec,
    data: &Dataset,
    full: &Analysis,
    analysis: RefitKind,
    cluster: Option<&str>,
    order: Option<&str>,
    overall: Option<RefitRow>,
    studies: Vec<RefitRow>,
) -> Refits {
    let sigma2_names = match full {
        Analysis::Multilevel(r) => r.sigma2_names.clone(),
        Analysis::Robust { model, .. } => match model.as_ref() {
            Analysis::Multilevel(r) => r.sigma2_names.clone(),
            _ => Vec::new(),
        },
        _ => Vec::new(),
    };
    let mut warnings: Vec<Warning> = full.warnings().into_iter().cloned().collect();
    let what = match analysis {
        RefitKind::LeaveOneOut => "without",
        RefitKind::Cumulative => "up to",
    };
    warnings.extend(failed_refits(&studies, what));
    Refits {
        title: data.title.clone(),
        analysis,
        k: data.studies.len(),
        model: describe(spec, full),
        cluster: cluster.map(str::to_owned),
        order: order.map(str::to_owned),
        overall,
        studies,
        sigma2_names,
        settings: settings_of(&full.to_json(data)),
        measure: data.measure,
        level: spec.level,
        warnings,
    }
}
