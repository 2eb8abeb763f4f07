//! Sensitivity of robust inference to the assumed within-cluster
//! correlation ρ of the correlated-and-hierarchical-effects (CHE) working
//! model: the model is fitted at each ρ of a list (metafor `vcalc(vi,
//! cluster, obs, rho)` then `rma.mv` then `robust(clubSandwich = TRUE)`), and
//! the estimates, robust SEs, σ̂²s and the robust test of the moderators are
//! reported side by side.
//!
//! ρ is rarely known; Pustejovsky & Tipton (2022) recommend this check. The
//! robust SEs stay valid whatever ρ (that is what robust inference buys), but
//! the weights, and so the estimates and their precision, move with it.

use serde::Serialize;

use super::RobustError;
use super::inference::{RobustCoefficient, RobustInfo};
use super::multilevel::robust_at;
use super::uni::{RobustSpec, keep_clustered};
use crate::data::dataset::Dataset;
use crate::model::Method;
use crate::multilevel::{MultilevelError, MultilevelOptions, Prepared};
use crate::warning::Warning;

/// The model and its robust inference at one ρ. Field names are the JSON contract.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RhoFit {
    /// The assumed correlation.
    pub rho: f64,
    /// The variance components, outermost level first.
    pub sigma2: Vec<f64>,
    /// The coefficients with their robust inference.
    pub coefficients: Vec<RobustCoefficient>,
    /// The robust test of the moderators (HTZ F, or F with `small_sample`
    /// none); absent for an intercept-only model.
    #[serde(rename = "QM", skip_serializing_if = "Option::is_none")]
    pub qm: Option<f64>,
    /// Its numerator df.
    #[serde(rename = "QM_df", skip_serializing_if = "Option::is_none")]
    pub qm_df: Option<usize>,
    /// Its denominator df (`null` when undefined).
    #[serde(rename = "QM_df2", skip_serializing_if = "Option::is_none")]
    pub qm_df2: Option<f64>,
    /// Its p-value.
    #[serde(rename = "QM_p", skip_serializing_if = "Option::is_none")]
    pub qm_p: Option<f64>,
    /// The model's and the robust inference's warnings at this ρ.
    pub warnings: Vec<Warning>,
}

/// The ρ sensitivity analysis. Field names are the JSON contract.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RhoSensitivity {
    /// Title of the data set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Number of effect sizes.
    pub k: usize,
    /// The grouping variables, outermost first.
    pub random: Vec<String>,
    /// The levels, as metafor names them.
    pub sigma2_names: Vec<String>,
    /// REML or ML.
    pub method: Method,
    /// Estimator, cluster, number of clusters, small-sample correction.
    pub robust: RobustInfo,
    /// Always "F".
    #[serde(rename = "QM_distribution")]
    pub qm_distribution: &'static str,
    /// One fit per ρ, in the order given.
    pub fits: Vec<RhoFit>,
    /// Records left out (no cluster value, no grouping value, a missing moderator).
    pub warnings: Vec<Warning>,
}

/// Fits the multilevel model of `options` at each ρ of `rhos` (its own
/// `rho` is ignored) to the records of `dataset` with a cluster value, with
/// robust inference clustered by `spec`. The profile CIs and level tests of
/// `options` are not computed.
pub fn rho_sensitivity(
    dataset: &Dataset,
    options: &MultilevelOptions,
    rhos: &[f64],
    spec: &RobustSpec,
) -> Result<RhoSensitivity, RobustError> {
    if let Some(&bad) = rhos.iter().find(|r| !(0.0..1.0).contains(*r)) {
        return Err(MultilevelError::BadRho(bad).into());
    }
    let kept = keep_clustered(dataset, &spec.cluster)?;
    let mut options = MultilevelOptions {
        profile: false,
        level_tests: false,
        rho: rhos.first().copied(),
        ..options.clone()
    };
    let prepared = Prepared::new(&kept, &options)?;
    let mut warnings: Vec<Warning> = kept.warnings[dataset.warnings.len()..].to_vec();
    warnings.extend(prepared.warnings.iter().cloned());
    let moderators = !prepared.tested.is_empty();
    let mut fits = Vec::with_capacity(rhos.len());
    let mut info = None;
    let mut k = 0;
    for &rho in rhos {
        options.rho = Some(rho);
        let model = prepared.fit(&options)?;
        let robust = robust_at(&prepared, &options, &model.sigma2, spec)?;
        k = model.k;
        info = Some(robust.robust.clone());
        let mut fit_warnings: Vec<Warning> = model
            .warnings
            .into_iter()
            .filter(|w| !warnings.contains(w))
            .collect();
        fit_warnings.extend(robust.warnings);
        fits.push(RhoFit {
            rho,
            sigma2: model.sigma2,
            coefficients: robust.coefficients,
            qm: moderators.then_some(robust.qm),
            qm_df: moderators.then_some(robust.qm_df),
            qm_df2: if moderators { robust.qm_df2 } else { None },
            qm_p: moderators.then_some(robust.qm_p),
            warnings: fit_warnings,
        });
    }
    let robust = info.ok_or(RobustError::NoRho)?;
    Ok(RhoSensitivity {
        title: kept.title.clone(),
        k,
        random: options.random.clone(),
        sigma2_names: prepared.structure.names.clone(),
        method: options.method,
        robust,
        qm_distribution: "F",
        fits,
        warnings,
    })
}
