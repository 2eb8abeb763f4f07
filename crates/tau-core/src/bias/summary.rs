//! All bias analyses of one data set, for `tau bias`: each method runs on its
//! own, and one that cannot be done leaves its section empty with a warning
//! saying why, so the others are still reported.

use crate::Warning;
use serde::Serialize;

use super::dependent::DependentBias;
use super::selection::{
    Alternative, Clusters, SelectionError, SelectionModel, SelectionOptions, SelectionType,
    selection_model, selection_model_clustered,
};
use super::{
    Begg, BiasError, Egger, FailSafe, PetPeese, TrimFill, begg, egger, fail_safe, pet_peese,
    trim_and_fill,
};
use crate::data::dataset::Dataset;
use crate::model::{FitOptions, Method, fit, intercept_design};
use crate::regression::INTERCEPT;
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
    /// The three-parameter selection model (step function at p = .025,
    /// selection favouring the direction of the pooled effect).
    pub selection: Option<SelectionModel>,
    /// The checks for dependent effect sizes (`tau bias --robust CLUSTER`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dependent: Option<DependentBias>,
    /// Every method's estimate side by side, with what it assumes.
    pub adjusted: Vec<AdjustedEstimate>,
    /// How it was computed.
    pub settings: BiasSettings,
    /// Methods that could not be applied, and why.
    pub warnings: Vec<Warning>,
}

/// One method's estimate of the effect, for the side-by-side table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AdjustedEstimate {
    /// The method.
    pub method: &'static str,
    /// Its estimate of the average effect.
    pub estimate: f64,
    /// Lower confidence limit.
    pub ci_lower: f64,
    /// Upper confidence limit.
    pub ci_upper: f64,
    /// What its bias test tests (empty when it has none).
    pub test: &'static str,
    /// The p-value of that test (NaN when there is none).
    pub p: f64,
    /// What the method assumes about how bias arises.
    pub assumes: &'static str,
}

/// The side-by-side table of every estimate: the unadjusted model and each
/// method that adjusts for small-study effects or selection (then the
/// dependent-effects versions, when they were asked for).
pub(crate) fn adjusted_estimates(r: &BiasResult) -> Vec<AdjustedEstimate> {
    let mut rows = vec![AdjustedEstimate {
        method: "Unadjusted model",
        estimate: r.unadjusted.estimate,
        ci_lower: r.unadjusted.ci_lower,
        ci_upper: r.unadjusted.ci_upper,
        test: "",
        p: f64::NAN,
        assumes: "no bias: every study that was done is in the analysis",
    }];
    if let Some(e) = &r.egger {
        rows.push(AdjustedEstimate {
            method: "Egger limit estimate",
            estimate: e.limit_estimate,
            ci_lower: e.limit_ci_lower,
            ci_upper: e.limit_ci_upper,
            test: "funnel asymmetry",
            p: e.p,
            assumes: "bias grows linearly with the standard error; the effect of an infinitely large study is unbiased",
        });
    }
    if let Some(t) = &r.trimfill {
        rows.push(AdjustedEstimate {
            method: "Trim-and-fill",
            estimate: t.estimate,
            ci_lower: t.ci_lower,
            ci_upper: t.ci_upper,
            test: "",
            p: f64::NAN,
            assumes: "the funnel was symmetric until the most extreme small studies on one side went missing",
        });
    }
    if let Some(pp) = &r.pet_peese {
        rows.push(AdjustedEstimate {
            method: if pp.selected == "PET" { "PET" } else { "PEESE" },
            estimate: pp.estimate,
            ci_lower: pp.ci_lower,
            ci_upper: pp.ci_upper,
            test: "",
            p: f64::NAN,
            assumes: "bias grows with the standard error (PET) or the variance (PEESE); unreliable with much heterogeneity",
        });
    }
    if let Some(m) = &r.selection {
        rows.push(AdjustedEstimate {
            method: "3PSM selection model",
            estimate: m.estimate.value,
            ci_lower: m.estimate.ci_lower,
            ci_upper: m.estimate.ci_upper,
            test: "selection (LRT)",
            p: m.LRT_p,
            assumes: "studies are published according to their one-sided p-value (cut-point .025) and true effects are normal",
        });
    }
    if let Some(d) = &r.dependent {
        rows.extend(d.adjusted_estimates());
    }
    rows
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
    let selection = three_psm(&yi, &vi, model.beta[0], options, None)
        .map_err(|e| {
            warnings.push(Warning::NotApplied(format!(
                "the three-parameter selection model (3PSM): {e}"
            )))
        })
        .ok();
    let mut result = BiasResult {
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
        selection,
        dependent: None,
        adjusted: Vec::new(),
        settings: BiasSettings {
            model: Settings::new(options, dataset.measure, model.convergence),
            trimfill_estimator: "L0",
            failsafe_alpha: FAILSAFE_ALPHA,
            pet_peese_rule: super::pet_peese::RULE,
        },
        warnings,
    };
    result.adjusted = adjusted_estimates(&result);
    Ok(result)
}

/// The 3PSM (one cut-point at p = .025) with selection favouring the
/// direction of the pooled effect, as `tau selection --steps 0.025` fits it;
/// with cluster-robust standard errors when `clusters` are given.
pub(crate) fn three_psm(
    yi: &[f64],
    vi: &[f64],
    pooled: f64,
    options: &FitOptions,
    clusters: Option<&Clusters>,
) -> Result<SelectionModel, SelectionError> {
    let selection = SelectionOptions {
        kind: SelectionType::Step,
        steps: vec![0.025],
        alternative: if pooled < 0.0 {
            Alternative::Less
        } else {
            Alternative::Greater
        },
        common_effect: options.method == Method::EE,
        level: options.level,
        control: options.control,
    };
    let x = intercept_design(yi.len());
    let names = [INTERCEPT.to_owned()];
    match clusters {
        None => selection_model(yi, vi, &x, &names, true, &selection),
        Some(c) => selection_model_clustered(yi, vi, &x, &names, true, &selection, c),
    }
}

/// The section, or `None` with the reason added to the warnings.
pub(crate) fn keep<T>(section: Result<T, BiasError>, warnings: &mut Vec<Warning>) -> Option<T> {
    section
        .map_err(|e| warnings.push(Warning::NotApplied(e.to_string())))
        .ok()
}
