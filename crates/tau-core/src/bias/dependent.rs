//! Bias checks for dependent effect sizes (`tau bias --robust CLUSTER`),
//! after Rodgers & Pustejovsky (2021, "Evaluating meta-analytic methods to
//! detect selective reporting in the presence of dependent effect sizes",
//! Psychological Methods 26: 141–160): when studies report several effect
//! sizes, the classic checks treat them as independent and are too
//! confident. Here:
//!
//! * the 3PSM is fitted as before (working independence) with cluster-robust
//!   standard errors from the per-cluster scores ([`super::selection::robust`]);
//! * with a multilevel working model (`--random study/es_id`, optionally
//!   `--rho`), Egger's regression test and PET-PEESE are multilevel
//!   meta-regressions on the standard error (Egger, PET: `mods = ~ sqrt(vi)`)
//!   or the variance (PEESE: `mods = ~ vi`), each with CR2 standard errors and
//!   Satterthwaite t tests: metafor's `robust(rma.mv(yi, V, mods, random =
//!   ~ 1 | study/es_id), cluster = study, clubSandwich = TRUE)`. Egger's test
//!   is the robust test of the slope; PET and PEESE are the intercepts, and
//!   the PET-PEESE rule is tau's single-level one ([`super::pet_peese::PET_ALPHA`],
//!   two-sided) applied to the robust test of PET's intercept.

use std::sync::Arc;

use serde::Serialize;

use super::BiasError;
use super::pet_peese::PET_ALPHA;
use super::selection::{Clusters, SelectionModel};
use super::summary::{AdjustedEstimate, BiasResult, adjusted_estimates, bias, keep, three_psm};
use crate::data::dataset::Dataset;
use crate::input::Moderator;
use crate::model::FitOptions;
use crate::multilevel::MultilevelOptions;
use crate::regression::DesignSpec;
use crate::robust::uni::{cluster_groups, keep_clustered};
use crate::robust::{RobustCoefficient, RobustError, RobustSpec, SmallSample};
use crate::warning::Warning;

/// The moderator names under which the standard error and the variance
/// enter the regressions (metafor's coefficient names for `~ sqrt(vi)` and `~ vi`).
pub const SEI: &str = "sqrt(vi)";
/// See [`SEI`].
pub const VI: &str = "vi";

/// The PET-PEESE rule of the dependent-effects version, in words.
pub const RULE: &str = "PEESE if PET's intercept differs from 0 at two-sided p < 0.05 by its robust (CR2, Satterthwaite) t test, else PET; both are multilevel meta-regressions (on sqrt(vi) and on vi) with the working model's random effects";

/// Which dependence to allow for.
#[derive(Debug, Clone, PartialEq)]
pub struct DependentSpec {
    /// The moderator holding the cluster identifier (usually the study).
    pub cluster: String,
    /// The multilevel working model of Egger's test and PET-PEESE (its
    /// `design` is replaced); `None`: only the robust 3PSM.
    pub multilevel: Option<MultilevelOptions>,
}

/// One multilevel meta-regression on a measure of precision, with robust tests.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PrecisionRegression {
    /// The intercept: the effect expected at SE = 0 (PET, PEESE).
    pub intercept: RobustCoefficient,
    /// The slope on sqrt(vi) or vi (Egger's test is the slope on sqrt(vi)).
    pub slope: RobustCoefficient,
    /// The working model's variance components, outermost level first.
    pub sigma2: Vec<f64>,
}

/// PET-PEESE of dependent effects.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DependentPetPeese {
    /// The regression on sqrt(vi) (Egger's model; PET is its intercept).
    pub pet: PrecisionRegression,
    /// The regression on vi (PEESE is its intercept).
    pub peese: PrecisionRegression,
    /// "PET" or "PEESE".
    pub selected: &'static str,
    /// The rule used.
    pub rule: &'static str,
}

impl DependentPetPeese {
    /// The selected intercept.
    pub fn selected_intercept(&self) -> &RobustCoefficient {
        if self.selected == "PET" {
            &self.pet.intercept
        } else {
            &self.peese.intercept
        }
    }
}

/// The dependent-effects versions of the bias checks. Field names are the
/// JSON contract (`dependent` in `tau bias`'s JSON).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DependentBias {
    /// The cluster moderator.
    pub cluster: String,
    /// Number of clusters.
    pub clusters: usize,
    /// The working model of the regressions, as metafor's `random` formula
    /// (e.g. `~ 1 | study/es_id`), with ρ when the sampling errors are correlated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub working_model: Option<String>,
    /// The pooled estimate without adjustment, allowing for the dependence:
    /// the working model's intercept-only fit (or, without one, the
    /// random-effects model) with a CR2 robust t test and CI (metafor's
    /// `robust(rma.mv(yi, V, random = ...), cluster, clubSandwich = TRUE)`,
    /// or `robust(rma(yi, vi), cluster, clubSandwich = TRUE)`); `null` when it
    /// could not be fitted (the warnings say why).
    pub unadjusted: Option<RobustCoefficient>,
    /// Egger's regression test: the robust t test of the slope on sqrt(vi)
    /// (`null` without a working model or when it could not be fitted).
    pub egger: Option<RobustCoefficient>,
    /// PET-PEESE as multilevel meta-regressions with robust tests.
    pub pet_peese: Option<DependentPetPeese>,
    /// The 3PSM with cluster-robust standard errors (`null` when it could
    /// not be fitted; the warnings say why).
    pub selection: Option<SelectionModel>,
    /// Things to know about the regressions (records left out, robust
    /// tests with fewer than 4 df).
    pub warnings: Vec<Warning>,
}

impl DependentBias {
    /// The rows of the side-by-side table.
    pub(crate) fn adjusted_estimates(&self) -> Vec<AdjustedEstimate> {
        let mut rows = Vec::new();
        if let Some(u) = &self.unadjusted {
            rows.push(AdjustedEstimate {
                method: if self.working_model.is_some() {
                    "Unadjusted, multilevel CR2"
                } else {
                    "Unadjusted, cluster-robust CR2"
                },
                estimate: u.estimate,
                ci_lower: u.ci_lower,
                ci_upper: u.ci_upper,
                test: "",
                p: f64::NAN,
                assumes: "no bias; effects nested in clusters, robust CI",
            });
        }
        if let (Some(egger), Some(pp)) = (&self.egger, &self.pet_peese) {
            let limit = &pp.pet.intercept;
            rows.push(AdjustedEstimate {
                method: "Egger, multilevel CR2",
                estimate: limit.estimate,
                ci_lower: limit.ci_lower,
                ci_upper: limit.ci_upper,
                test: "funnel asymmetry (robust t)",
                p: egger.p,
                assumes: "as Egger's test, with effects nested in clusters (the working model) and robust tests",
            });
        }
        if let Some(pp) = &self.pet_peese {
            let chosen = pp.selected_intercept();
            rows.push(AdjustedEstimate {
                method: if pp.selected == "PET" {
                    "PET, multilevel CR2"
                } else {
                    "PEESE, multilevel CR2"
                },
                estimate: chosen.estimate,
                ci_lower: chosen.ci_lower,
                ci_upper: chosen.ci_upper,
                test: "",
                p: f64::NAN,
                assumes: "as PET-PEESE, with effects nested in clusters (the working model) and robust tests",
            });
        }
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
    let (mut egger, mut pet_peese, mut working_model) = (None, None, None);
    let mut warnings = Vec::new();
    let unadjusted = keep(
        dependent_unadjusted(&kept, options, spec, &mut warnings),
        &mut result.warnings,
    );
    if let Some(options) = &spec.multilevel {
        working_model = Some(describe(options));
        pet_peese = keep(
            dependent_pet_peese(&kept, options, &spec.cluster, &mut warnings),
            &mut result.warnings,
        );
        egger = pet_peese.as_ref().map(|pp| pp.pet.slope.clone());
    }
    result.dependent = Some(DependentBias {
        cluster: spec.cluster.clone(),
        clusters: clusters.groups.len(),
        working_model,
        unadjusted,
        egger,
        pet_peese,
        selection,
        warnings,
    });
    result.adjusted = adjusted_estimates(&result);
    Ok(result)
}

/// The unadjusted pooled estimate with CR2 robust inference: the working
/// model's intercept-only fit, or the random-effects model without one.
fn dependent_unadjusted(
    dataset: &Dataset,
    options: &FitOptions,
    spec: &DependentSpec,
    warnings: &mut Vec<Warning>,
) -> Result<RobustCoefficient, BiasError> {
    let robust_spec = RobustSpec {
        cluster: spec.cluster.clone(),
        small_sample: SmallSample::Satterthwaite,
    };
    let robust = match &spec.multilevel {
        Some(multilevel) => {
            let multilevel = MultilevelOptions {
                design: None,
                profile: false,
                level_tests: false,
                ..multilevel.clone()
            };
            crate::robust::multilevel::fitted(dataset, &multilevel, &robust_spec)?.1
        }
        None => crate::robust::uni::pooled(dataset, options, &robust_spec)?.1,
    };
    for warning in &robust.warnings {
        if !warnings.contains(warning) {
            warnings.push(warning.clone());
        }
    }
    robust
        .coefficients
        .into_iter()
        .next()
        .ok_or(BiasError::Robust(RobustError::SingularBread))
}

/// metafor's `random` formula of the working model, with ρ.
fn describe(options: &MultilevelOptions) -> String {
    let random = format!("~ 1 | {}", options.random.join("/"));
    match options.rho {
        Some(rho) => format!("{random}, rho = {rho}"),
        None => random,
    }
}

/// `dataset` with the moderators [`SEI`] and [`VI`] added to every record.
fn with_precision(dataset: &Dataset) -> Dataset {
    let (sei, vi): (Arc<str>, Arc<str>) = (SEI.into(), VI.into());
    let mut out = dataset.clone();
    for study in &mut out.studies {
        let v = study.vi;
        study
            .moderators
            .insert(sei.clone(), Moderator::Number(v.sqrt()));
        study.moderators.insert(vi.clone(), Moderator::Number(v));
    }
    out
}

/// The multilevel meta-regression on `moderator` with robust tests; its
/// warnings go to `warnings`.
fn regression(
    dataset: &Dataset,
    options: &MultilevelOptions,
    cluster: &str,
    moderator: &str,
    warnings: &mut Vec<Warning>,
) -> Result<PrecisionRegression, BiasError> {
    let options = MultilevelOptions {
        design: Some(DesignSpec {
            moderators: vec![moderator.to_owned()],
            references: Vec::new(),
            intercept: true,
        }),
        profile: false,
        level_tests: false,
        ..options.clone()
    };
    let spec = RobustSpec {
        cluster: cluster.to_owned(),
        small_sample: SmallSample::Satterthwaite,
    };
    let (fit, robust) = crate::robust::multilevel::fitted(dataset, &options, &spec)?;
    // The model's (records left out) and the robust tests' (unreliable df),
    // once each although PET and PEESE share the records.
    for warning in fit.warnings.iter().chain(&robust.warnings) {
        if !warnings.contains(warning) {
            warnings.push(warning.clone());
        }
    }
    let [intercept, slope] = <[RobustCoefficient; 2]>::try_from(robust.coefficients)
        .map_err(|_| BiasError::Robust(RobustError::SingularBread))?;
    Ok(PrecisionRegression {
        intercept,
        slope,
        sigma2: fit.sigma2,
    })
}

/// Egger's model (PET) and PEESE as robust multilevel meta-regressions.
fn dependent_pet_peese(
    dataset: &Dataset,
    options: &MultilevelOptions,
    cluster: &str,
    warnings: &mut Vec<Warning>,
) -> Result<DependentPetPeese, BiasError> {
    let data = with_precision(dataset);
    let pet = regression(&data, options, cluster, SEI, warnings)?;
    let peese = regression(&data, options, cluster, VI, warnings)?;
    let selected = if pet.intercept.p < PET_ALPHA {
        "PEESE"
    } else {
        "PET"
    };
    Ok(DependentPetPeese {
        pet,
        peese,
        selected,
        rule: RULE,
    })
}
