//! All bias analyses of one data set, for `tau bias`: each method runs on its
//! own, and one that cannot be done leaves its section empty with a warning
//! saying why, so the others are still reported.

use crate::Warning;
use serde::Serialize;

use super::{
    Begg, BiasError, Egger, FailSafe, PetPeese, TrimFill, begg, egger, fail_safe, pet_peese,
    trim_and_fill,
};
use crate::data::dataset::Dataset;
use crate::model::{FitOptions, fit, intercept_design};
use crate::settings::Settings;

/// α of the fail-safe numbers (metafor's default).
pub const FAILSAFE_ALPHA: f64 = 0.05;

/// The pooled estimate without any adjustment, for comparison.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Unadjusted {
    /// Pooled estimate.
    pub estimate: f64,
    /// Lower confidence limit.
    pub ci_lower: f64,
    /// Upper confidence limit.
    pub ci_upper: f64,
    /// Estimated τ².
    pub tau2: f64,
}

/// How the bias analyses were computed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BiasSettings {
    /// The model's settings (Egger's test and trim-and-fill use them).
    #[serde(flatten)]
    pub model: Settings,
    /// Trim-and-fill's estimator of the number of missing studies.
    pub trimfill_estimator: &'static str,
    /// Significance level of the fail-safe numbers.
    pub failsafe_alpha: f64,
    /// The PET-PEESE rule.
    pub pet_peese_rule: &'static str,
}

/// The `tau bias` report. Field names are the JSON contract; a section is
/// `null` when its method could not be applied (see `warnings`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BiasResult {
    /// Title of the data set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Number of studies.
    pub k: usize,
    /// The model's pooled estimate, unadjusted.
    pub unadjusted: Unadjusted,
    /// Egger's regression test.
    pub egger: Option<Egger>,
    /// Begg & Mazumdar's rank correlation.
    pub begg: Option<Begg>,
    /// Trim-and-fill.
    pub trimfill: Option<TrimFill>,
    /// Fail-safe numbers.
    pub failsafe: FailSafe,
    /// PET-PEESE.
    pub pet_peese: Option<PetPeese>,
    /// How it was computed.
    pub settings: BiasSettings,
    /// Methods that could not be applied, and why.
    pub warnings: Vec<Warning>,
}

/// Runs every bias analysis on `dataset` under `options`.
pub fn bias(dataset: &Dataset, options: &FitOptions) -> Result<BiasResult, BiasError> {
    let (yi, vi) = (dataset.yi(), dataset.vi());
    let k = yi.len();
    if k < 3 {
        return Err(BiasError::TooFewStudies {
            method: "a publication-bias analysis",
            needed: 3,
            k,
        });
    }
    let model = fit(&yi, &vi, &intercept_design(k), options)
        .map_err(|e| BiasError::fit("the random-effects model", e))?;
    let mut warnings = dataset.warnings.clone();
    let egger = keep(egger(&yi, &vi, options), &mut warnings);
    let begg = keep(begg(&yi, &vi), &mut warnings);
    let trimfill = keep(trim_and_fill(&yi, &vi, options, None), &mut warnings);
    let pet_peese = keep(pet_peese(&yi, &vi, options.level), &mut warnings);
    Ok(BiasResult {
        title: dataset.title.clone(),
        k,
        unadjusted: Unadjusted {
            estimate: model.beta[0],
            ci_lower: model.ci_lower[0],
            ci_upper: model.ci_upper[0],
            tau2: model.tau2,
        },
        egger,
        begg,
        trimfill,
        failsafe: fail_safe(&yi, &vi, FAILSAFE_ALPHA),
        pet_peese,
        settings: BiasSettings {
            model: Settings::new(options, dataset.measure, model.convergence),
            trimfill_estimator: "L0",
            failsafe_alpha: FAILSAFE_ALPHA,
            pet_peese_rule: super::pet_peese::RULE,
        },
        warnings,
    })
}

/// The section, or `None` with the reason added to the warnings.
fn keep<T>(section: Result<T, BiasError>, warnings: &mut Vec<Warning>) -> Option<T> {
    section
        .map_err(|e| warnings.push(Warning::NotApplied(e.to_string())))
        .ok()
}
