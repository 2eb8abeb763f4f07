//! Leave-one-out analysis (metafor `leave1out`): the model refitted k times,
//! each time without one study, to show whether the pooled estimate, its
//! significance or the heterogeneity hinge on a single study.
//!
//! Each refit uses the full model's estimator, test, level and iteration
//! control. Memory is O(k) per refit; the k refits run in parallel.

use serde::Serialize;

use super::{RefitRow, SensitivityError, each_study, failed_refits, without};
use crate::data::dataset::Dataset;
use crate::model::two_by_two::TableError;
use crate::model::{FitOptions, fit, intercept_design};
use crate::pool_tables::{TablesMethod, TablesSettings, pool_tables};
use crate::settings::Settings;

/// The leave-one-out table. Field names are the JSON contract.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LeaveOneOut {
    /// Title of the data set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Number of studies.
    pub k: usize,
    /// The model on all studies, for comparison (`study` is "all studies").
    pub overall: RefitRow,
    /// One row per study: the model without that study.
    pub studies: Vec<RefitRow>,
    /// How it was computed.
    pub settings: Settings,
    /// Refits that failed, and other things to know.
    pub warnings: Vec<crate::Warning>,
}

/// Refits the intercept-only model of `dataset` without each study in turn.
pub fn leave_one_out(
    dataset: &Dataset,
    options: &FitOptions,
) -> Result<LeaveOneOut, SensitivityError> {
    let (yi, vi) = (dataset.yi(), dataset.vi());
    let k = yi.len();
    if k < 2 {
        return Err(SensitivityError::TooFewStudies {
            what: "leave-one-out analysis",
            needed: 2,
            k,
        });
    }
    let full = fit(&yi, &vi, &intercept_design(k), options)?;
    let studies = each_study(k, |i| {
        RefitRow::refit(
            dataset.studies[i].label(),
            &without(&yi, i),
            &without(&vi, i),
            options,
        )
    });
    let mut warnings = dataset.warnings.clone();
    warnings.extend(failed_refits(&studies, "without"));
    Ok(LeaveOneOut {
        title: dataset.title.clone(),
        k,
        overall: RefitRow::from_fit("all studies", &full),
        studies,
        settings: Settings::new(options, dataset.measure, full.convergence),
        warnings,
    })
}

/// The leave-one-out table of a Mantel-Haenszel or Peto analysis. Field
/// names are the JSON contract (as [`LeaveOneOut`], without τ²).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TablesLeaveOneOut {
    /// Title of the data set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Number of studies.
    pub k: usize,
    /// The analysis of all studies (`study` is "all studies").
    pub overall: RefitRow,
    /// One row per study: the analysis without that study.
    pub studies: Vec<RefitRow>,
    /// How it was computed.
    pub settings: TablesSettings,
    /// Refits that failed, and other things to know.
    pub warnings: Vec<crate::Warning>,
}

/// Pools the 2×2 tables of `dataset` with `method` without each study in
/// turn (metafor `leave1out` of an `rma.mh` or `rma.peto` fit).
pub fn leave_one_out_tables(
    dataset: &Dataset,
    method: TablesMethod,
    level: f64,
) -> Result<TablesLeaveOneOut, TableError> {
    let k = dataset.studies.len();
    if k < 2 {
        return Err(TableError::TooFewStudies {
            what: "leave-one-out analysis",
            needed: 2,
            k,
        });
    }
    let full = pool_tables(dataset, method, level)?;
    let studies = each_study(k, |i| {
        let mut rest = Dataset {
            studies: Vec::with_capacity(k - 1),
            warnings: Vec::new(),
            ..Dataset::from_effects(dataset.measure, &[], &[])
        };
        rest.studies.extend(
            dataset
                .studies
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .map(|(_, s)| s.clone()),
        );
        let label = dataset.studies[i].label();
        match pool_tables(&rest, method, level) {
            Ok(r) => RefitRow::from_tables(label, &r),
            Err(e) => RefitRow {
                tau2: None,
                ..RefitRow::failed(label, k - 1, &e)
            },
        }
    });
    let mut warnings = full.warnings.clone();
    warnings.extend(failed_refits(&studies, "without"));
    Ok(TablesLeaveOneOut {
        title: dataset.title.clone(),
        k,
        overall: RefitRow::from_tables("all studies", &full),
        studies,
        settings: full.settings,
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::effect_size::measure::Measure;

    /// The parallel refits give exactly the sequential result, in study order.
    #[test]
    fn parallel_equals_sequential() {
        let yi: Vec<f64> = (0..40).map(|i| (i as f64 * 0.7).sin()).collect();
        let vi: Vec<f64> = (0..40).map(|i| 0.02 + 0.01 * (i % 7) as f64).collect();
        let data = Dataset::from_effects(Measure::GEN, &yi, &vi);
        let options = FitOptions::default();
        let sequential = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap()
            .install(|| leave_one_out(&data, &options).unwrap());
        let parallel = rayon::ThreadPoolBuilder::new()
            .num_threads(4)
            .build()
            .unwrap()
            .install(|| leave_one_out(&data, &options).unwrap());
        assert_eq!(sequential, parallel);
        assert_eq!(parallel.studies[3].study, "4");
    }
}
