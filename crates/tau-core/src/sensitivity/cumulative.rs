//! Cumulative meta-analysis (metafor `cumul`): the model refitted on the first
//! 1, 2, …, k studies in a given order (usually publication year), to show how
//! the evidence accumulated.
//!
//! The order is the file order, or ascending values of a numeric moderator;
//! ties keep their file order (a stable sort, as R's `order()`). The first row
//! is a single study: its own estimate with a z-based CI, τ² = 0, Q = 0,
//! I² = 0 (as metafor). Memory is O(k) per refit; the refits run in parallel.

use serde::Serialize;

use super::{RefitRow, SensitivityError, each_study, failed_refits, fit_allowing_one};
use crate::data::dataset::Dataset;
use crate::input::Moderator;
use crate::model::{FitOptions, intercept_design};
use crate::settings::Settings;

/// The cumulative table. Field names are the JSON contract.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cumulative {
    /// Title of the data set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Number of studies.
    pub k: usize,
    /// The moderator the studies were sorted by (`null`: file order).
    pub order: Option<String>,
    /// Row i: the model on the first i studies; `study` is the one added last.
    pub studies: Vec<RefitRow>,
    /// How it was computed.
    pub settings: Settings,
    /// Refits that failed, and other things to know.
    pub warnings: Vec<crate::Warning>,
}

/// The study indices sorted by the numeric moderator `name` (stable, ascending).
pub fn order_by(dataset: &Dataset, name: &str) -> Result<Vec<usize>, SensitivityError> {
    if dataset
        .studies
        .iter()
        .all(|s| s.moderators.get(name).is_none())
    {
        let unknown = crate::data::moderator::ModeratorError::Unknown {
            name: name.to_owned(),
            available: crate::data::moderator::moderator_names(dataset),
        };
        return Err(SensitivityError::BadOrder(unknown.to_string()));
    }
    let mut keys = Vec::with_capacity(dataset.studies.len());
    for (index, study) in dataset.studies.iter().enumerate() {
        match study.moderators.get(name) {
            Some(Moderator::Number(v)) if v.is_finite() => keys.push((*v, index)),
            other => {
                let got = match other {
                    None | Some(Moderator::Missing) => "none".to_owned(),
                    Some(m) => format!("{:?}", m.category().unwrap_or_default()),
                };
                return Err(SensitivityError::BadOrder(format!(
                    "study '{}' (record {}): cumulative order needs a number in moderator \"{name}\" for every study (got {got})",
                    study.label(),
                    index + 1
                )));
            }
        }
    }
    keys.sort_by(|a, b| a.0.total_cmp(&b.0));
    Ok(keys.into_iter().map(|(_, i)| i).collect())
}

/// Fits the intercept-only model to the first 1, 2, …, k studies, taken in
/// file order or sorted by the numeric moderator `order`.
pub fn cumulative(
    dataset: &Dataset,
    order: Option<&str>,
    options: &FitOptions,
) -> Result<Cumulative, SensitivityError> {
    let k = dataset.studies.len();
    if k == 0 {
        return Err(SensitivityError::TooFewStudies {
            what: "a cumulative meta-analysis",
            needed: 1,
            k,
        });
    }
    let sequence = match order {
        Some(name) => order_by(dataset, name)?,
        None => (0..k).collect(),
    };
    let yi: Vec<f64> = sequence.iter().map(|&i| dataset.studies[i].yi).collect();
    let vi: Vec<f64> = sequence.iter().map(|&i| dataset.studies[i].vi).collect();
    // The settings record the model on all studies (as the last row).
    let convergence = fit_allowing_one(&yi, &vi, &intercept_design(k), options)?.convergence;
    let studies = each_study(k, |n| {
        let label = dataset.studies[sequence[n]].label();
        RefitRow::refit(label, &yi[..=n], &vi[..=n], options)
    });
    let mut warnings = dataset.warnings.clone();
    warnings.extend(failed_refits(&studies, "up to"));
    Ok(Cumulative {
        title: dataset.title.clone(),
        k,
        order: order.map(str::to_owned),
        studies,
        settings: Settings::new(options, dataset.measure, convergence),
        warnings,
    })
}
