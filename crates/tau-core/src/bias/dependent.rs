//! Bias checks for dependent effect sizes (`tau bias --robust CLUSTER`),
//! after Rodgers & Pustejovsky (2021, "Evaluating meta-analytic methods to
//! detect selective reporting in the presence of dependent effect sizes",
//! Psychological Methods 26: 141–160): when studies report several effect
//! sizes, the classic checks treat them as independent and are too
//! confident. Here:
//!
//! * the 3PSM is fitted as before (working independence) with cluster-robust
//!   standard errors from the per-cluster scores ([`super::selection::robust`]).

use serde::Serialize;

use super::BiasError;
use super::selection::{Clusters, SelectionModel};
use super::summary::{AdjustedEstimate, BiasResult, adjusted_estimates, bias, three_psm};
use crate::data::dataset::Dataset;
use crate::model::FitOptions;
use crate::robust::uni::{cluster_groups, keep_clustered};
use crate::warning::Warning;

/// Which dependence to allow for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DependentSpec {
    /// The moderator holding the cluster identifier (usually the study).
    pub cluster: String,
}

/// The dependent-effects versions of the bias checks. Field names are the
/// JSON contract (`dependent` in `tau bias`'s JSON).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DependentBias {
    /// The cluster moderator.
    pub cluster: String,
    /// Number of clusters.
    pub clusters: usize,
    /// The 3PSM with cluster-robust standard errors (`null` when it could
    /// not be fitted; the warnings say why).
    pub selection: Option<SelectionModel>,
}

impl DependentBias {
    /// The rows of the side-by-side table.
    pub(crate) fn adjusted_estimates(&self) -> Vec<AdjustedEstimate> {
        let mut rows = Vec::new();
        if let Some(m) = &self.selection {
            let smallest = (0..m.delta.len())
                .filter(|&j| !m.delta_fixed[j])
                .map(|j| m.delta_p[j])
                .fold(f64::NAN, f64::min);
            rows.push(AdjustedEstimate {
                method: "3PSM, cluster-robust SE",
                estimate: m.estimate.value,
                ci_lower: m.estimate.ci_lower,
                ci_upper: m.estimate.ci_upper,
                test: "selection (robust z)",
                p: smallest,
                assumes: "as the 3PSM, with the effects of a cluster allowed to be correlated in any way",
            });
        }
        rows
    }
}

/// Every bias analysis on the records of `dataset` with a cluster value,
/// plus the dependent-effects checks of `spec`.
pub fn bias_dependent(
    dataset: &Dataset,
    options: &FitOptions,
    spec: &DependentSpec,
) -> Result<BiasResult, BiasError> {
    let kept = keep_clustered(dataset, &spec.cluster)?;
    let mut result = bias(&kept, options)?;
    let rows: Vec<usize> = (0..kept.studies.len()).collect();
    let clusters = Clusters {
        name: spec.cluster.clone(),
        groups: cluster_groups(&kept, &rows, &spec.cluster)?,
    };
    let (yi, vi) = (kept.yi(), kept.vi());
    let selection = three_psm(
        &yi,
        &vi,
        result.unadjusted.estimate,
        options,
        Some(&clusters),
    )
    .map_err(|e| {
        result.warnings.push(Warning::NotApplied(format!(
            "the 3PSM with cluster-robust standard errors: {e}"
        )))
    })
    .ok();
    result.dependent = Some(DependentBias {
        cluster: spec.cluster.clone(),
        clusters: clusters.groups.len(),
        selection,
    });
    result.adjusted = adjusted_estimates(&result);
    Ok(result)
}
