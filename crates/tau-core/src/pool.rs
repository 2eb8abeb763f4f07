//! Pooling: the common-effect or random-effects summary of a data set, with
//! heterogeneity statistics, the Q-profile CI for τ² and the prediction
//! interval (metafor `rma()`, `confint()` and `predict()`).
//!
//! The prediction interval is μ̂ ± c·√(SE(μ̂)² + τ̂²), with c the normal
//! quantile under z tests and the t(k − 1) quantile under Knapp-Hartung
//! (as metafor's `predict.rma`; Riley et al. 2011 discuss the alternatives).

use crate::warning::{Warning, ci_warnings, model_warnings, variance_ratio_warning};
use serde::Serialize;

use crate::data::dataset::{Dataset, Study};
use crate::effect_size::measure::DataBackTransform;
use crate::estimate::Estimate;
use crate::model::blup::{Blup, BlupInput, blup};
use crate::model::fit_statistics::{FitStatistics, mixed_effects};
use crate::model::generalised_q::generalised_q_ci;
use crate::model::tau2_uncertainty::{profile_ci, tau2_se, wald_ci};
use crate::model::{
    FitError, FitOptions, HeterogeneityCi, Method, ModelFit, Weights, fit_weighted,
    intercept_design, q_profile_ci,
};
use crate::numerics::distribution::normal_upper;
use crate::settings::Settings;

/// One study's line in the results, made on demand from the data set and
/// the weights ([`PoolResult::rows`]): at 10⁶ studies a stored table would
/// double the memory of the data set.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StudyRow<'a> {
    /// Label.
    pub study: &'a str,
    /// Outcome.
    pub yi: f64,
    /// Sampling variance.
    pub vi: f64,
    /// Standard error √vᵢ.
    pub sei: f64,
    /// Lower limit of the study's normal-theory CI.
    pub ci_lower: f64,
    /// Upper limit.
    pub ci_upper: f64,
    /// Weight in the pooled estimate, percent.
    pub weight: f64,
}

/// Back-transformed summary for measures with a natural scale (OR, RR, r, proportion).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Transformed {
    /// Name of the scale, e.g. "RR".
    pub scale: &'static str,
    /// Back-transformed estimate.
    pub estimate: f64,
    /// Back-transformed CI.
    pub ci_lower: f64,
    /// Back-transformed CI.
    pub ci_upper: f64,
    /// Back-transformed prediction interval.
    pub pi_lower: f64,
    /// Back-transformed prediction interval.
    pub pi_upper: f64,
}

/// The pooled result. Field names are the JSON contract.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PoolResult {
    /// Title of the data set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Number of studies.
    pub k: usize,
    /// Pooled estimate, its SE, test and CI.
    #[serde(flatten)]
    pub estimate: Estimate,
    /// Degrees of freedom of the t test (Knapp-Hartung only).
    pub df: Option<f64>,
    /// Estimated τ².
    pub tau2: f64,
    /// Standard error of τ̂² (ML, REML, EB, PM; metafor `se.tau2`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tau2_se: Option<f64>,
    /// τ = √τ².
    pub tau: f64,
    /// Q-profile CI for τ² (`null` for the common-effect model), or the
    /// Wald-type one after [`PoolResult::use_wald_tau2_ci`].
    pub tau2_ci: Option<[f64; 2]>,
    /// `"Wald"`, `"profile"` or `"GENQ"` when `tau2_ci`, `I2_ci` and `H2_ci`
    /// are Wald-type, profile-likelihood or generalised Q CIs (the last for
    /// GENQ and GENQM fits, as metafor's `confint()`); Q-profile otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tau2_ci_type: Option<&'static str>,
    /// I² in percent.
    #[serde(rename = "I2")]
    pub i2: f64,
    /// Q-profile CI for I².
    #[serde(rename = "I2_ci")]
    pub i2_ci: Option<[f64; 2]>,
    /// H².
    #[serde(rename = "H2")]
    pub h2: f64,
    /// Q-profile CI for H².
    #[serde(rename = "H2_ci")]
    pub h2_ci: Option<[f64; 2]>,
    /// Cochran's Q.
    #[serde(rename = "QE")]
    pub q: f64,
    /// Its degrees of freedom.
    #[serde(rename = "QE_df")]
    pub q_df: usize,
    /// Its p-value.
    #[serde(rename = "QE_p")]
    pub q_p: f64,
    /// Log-likelihood, deviance, AIC, BIC, AICc (metafor `fitstats`: REML
    /// for a REML fit, ML otherwise).
    #[serde(flatten)]
    pub fit_statistics: FitStatistics,
    /// Lower prediction limit.
    pub pi_lower: f64,
    /// Upper prediction limit.
    pub pi_upper: f64,
    /// Back-transformed summary, for OR, RR, ZCOR, PLO, MNLN, IRR, IRLN, PAS and PFT.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transformed: Option<Transformed>,
    /// The studies' BLUPs (`--blup`), when asked for ([`PoolResult::blups`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blups: Option<Vec<Blup>>,
    /// Each study's weight in the pooled estimate, percent, in data-set
    /// order. The per-study table is [`PoolResult::rows`]; in JSON it is
    /// the `studies` array of [`crate::report::json::PoolJson`].
    #[serde(skip)]
    pub weights: Vec<f64>,
    /// How it was computed.
    pub settings: Settings,
    /// Whether the estimate's SE, test, CI and prediction interval are
    /// those of cluster-robust inference
    /// ([`crate::robust::uni::robust_pooled`]) rather than the model's.
    #[serde(skip)]
    pub robust: bool,
    /// Things to know about the data or the fit.
    pub warnings: Vec<Warning>,
    /// The typical sampling variance of I² and H².
    #[serde(skip)]
    pub typical_variance: f64,
    /// The critical value of the CIs (normal or t quantile).
    #[serde(skip)]
    pub crit: f64,
}

impl PoolResult {
    /// Replaces the Q-profile CIs of τ², I² and H² by the profile-likelihood
    /// ones (metafor `confint(res, type = "PL")`), from `dataset`, the data
    /// set that was pooled; false, and nothing changed, for the
    /// common-effect model; an error with user weights or unweighted.
    pub fn use_profile_tau2_ci(&mut self, dataset: &Dataset) -> Result<bool, FitError> {
        if !self.settings.weights.is_inverse_variance() {
            return Err(FitError::NotWithWeights {
                what: "the profile-likelihood CI of tau^2 (`tau2_ci` profile)",
                remedy: "use the Q-profile CI (the default) or `tau2_ci` wald",
            });
        }
        if self.settings.method == Method::EE {
            return Ok(false);
        }
        let (yi, vi) = (dataset.yi(), dataset.vi());
        let ci = profile_ci(
            &yi,
            &vi,
            &intercept_design(yi.len()),
            (self.tau2, self.settings.method),
            self.typical_variance,
            self.settings.level,
        )?;
        self.tau2_ci = Some(ci.tau2);
        self.i2_ci = Some(ci.i2);
        self.h2_ci = Some(ci.h2);
        self.tau2_ci_type = Some("profile");
        Ok(true)
    }

    /// Replaces the Q-profile CIs of τ², I² and H² by the Wald-type ones
    /// (metafor `confint(res, type = "Wald")`); false, and nothing changed,
    /// when the estimator has no SE of τ̂².
    pub fn use_wald_tau2_ci(&mut self) -> bool {
        let Some(se) = self.tau2_se else {
            return false;
        };
        let ci = wald_ci(self.tau2, se, self.typical_variance, self.settings.level);
        self.tau2_ci = Some(ci.tau2);
        self.i2_ci = Some(ci.i2);
        self.h2_ci = Some(ci.h2);
        self.tau2_ci_type = Some("Wald");
        true
    }

    /// The BLUP of each study of `dataset`, the data set that was pooled
    /// (metafor `blup(res)`; [`crate::model::blup`] with xᵢ'β̂ = μ̂ and
    /// xᵢ'V xᵢ = SE(μ̂)²).
    pub fn blups(&self, dataset: &Dataset) -> Vec<Blup> {
        dataset
            .studies
            .iter()
            .map(|study| {
                let input = BlupInput {
                    study: study.label(),
                    yi: study.yi,
                    vi: study.vi,
                    fitted: self.estimate.value,
                    fitted_variance: self.estimate.se * self.estimate.se,
                };
                blup(&input, self.tau2, self.crit)
            })
            .collect()
    }

    /// The per-study table: each study of `dataset` (the data set that was
    /// pooled) with its normal-theory CI, yᵢ ± z₁₋α/₂·√vᵢ (metafor's
    /// `summary(escalc(...))`), and its weight.
    pub fn rows<'a>(&'a self, dataset: &'a Dataset) -> impl ExactSizeIterator<Item = StudyRow<'a>> {
        let z = self.study_z();
        dataset
            .studies
            .iter()
            .zip(&self.weights)
            .map(move |(study, &weight)| study_row(study, weight, z))
    }

    /// Row `i` of [`PoolResult::rows`].
    pub fn row<'a>(&'a self, dataset: &'a Dataset, i: usize) -> StudyRow<'a> {
        study_row(&dataset.studies[i], self.weights[i], self.study_z())
    }

    fn study_z(&self) -> f64 {
        normal_upper((1.0 - self.settings.level / 100.0) / 2.0)
    }
}

fn study_row(study: &Study, weight: f64, z: f64) -> StudyRow<'_> {
    let sei = study.vi.sqrt();
    StudyRow {
        study: study.label(),
        yi: study.yi,
        vi: study.vi,
        sei,
        ci_lower: study.yi - z * sei,
        ci_upper: study.yi + z * sei,
        weight,
    }
}

/// Pools the studies of `dataset` (metafor `rma(yi, vi)`).
///
/// ```
/// use tau_core::{Dataset, FitOptions, Measure, pool};
///
/// let dataset = Dataset::from_effects(Measure::SMD, &[0.12, 0.45, 0.31], &[0.04, 0.09, 0.02]);
/// let result = pool(&dataset, &FitOptions::default())?; // REML, z test, 95% CI
/// assert_eq!(result.k, 3);
/// let e = &result.estimate; // the pooled Estimate: value, se, statistic, p, CI
/// assert!(e.ci_lower < e.value && e.value < e.ci_upper);
/// # Ok::<(), tau_core::model::FitError>(())
/// ```
///
/// The weights are 1/(vᵢ + τ̂²); a data set with user weights is refused
/// ([`FitError::NotWithWeights`]): [`pool_with()`] uses them.
pub fn pool(dataset: &Dataset, options: &FitOptions) -> Result<PoolResult, FitError> {
    refuse_user_weights(dataset, "pooling with the weights 1/(vi + tau^2) (pool())")?;
    pool_with(dataset, options, true)
}

/// [`FitError::NotWithWeights`] when the studies of `dataset` have user
/// weights, for the analyses that would otherwise ignore them.
pub fn refuse_user_weights(dataset: &Dataset, what: &'static str) -> Result<(), FitError> {
    match dataset.first_weighted() {
        None => Ok(()),
        Some(_) => Err(FitError::NotWithWeights {
            what,
            remedy: "pool_with() and regress_weighted() use the weights",
        }),
    }
}

/// [`pool()`], weighted by the studies' user weights when they have them
/// (metafor `rma(yi, vi, weights = w)`), or, with `weighted` false, with
/// equal weights (`rma(yi, vi, weighted = FALSE)`; an error when the
/// studies have weights). See [`crate::model::weighting`].
///
/// ```
/// use tau_core::{Dataset, FitOptions, Measure, pool, pool_with};
///
/// let data = Dataset::from_effects(Measure::SMD, &[0.12, 0.45, 0.31], &[0.04, 0.09, 0.02])
///     .with_weights(&[50.0, 20.0, 80.0]);
/// assert!(pool(&data, &FitOptions::default()).is_err()); // would ignore the weights
/// let result = pool_with(&data, &FitOptions::default(), true)?;
/// assert!((result.weights[2] - 100.0 * 80.0 / 150.0).abs() < 1e-12); // percent
/// # Ok::<(), tau_core::model::FitError>(())
/// ```
pub fn pool_with(
    dataset: &Dataset,
    options: &FitOptions,
    weighted: bool,
) -> Result<PoolResult, FitError> {
    let yi = dataset.yi();
    let vi = dataset.vi();
    let x = intercept_design(yi.len());
    let user = dataset.weights();
    let weights = weights_of(user.as_deref(), weighted)?;
    let model = fit_weighted(&yi, &vi, &x, options, weights)?;
    // The estimator actually used: the fallback when the chosen one failed.
    let heterogeneity_ci = match model.options.method {
        Method::EE => None,
        // metafor's confint() of a GENQ or GENQM fit.
        Method::GENQ | Method::GENQM => Some(generalised_q_ci(
            (&yi, &vi),
            &x,
            &model.weights,
            model.tau2,
            model.typical_variance,
            options.level,
        )?),
        _ => Some(q_profile_ci(
            &yi,
            &vi,
            &x,
            model.tau2,
            model.typical_variance,
            options.level,
        )?),
    };
    let fit_statistics = mixed_effects(&yi, &vi, &x, &model)?;
    let mut result = assemble(dataset, &model, heterogeneity_ci, fit_statistics);
    result.tau2_se = tau2_se(&vi, &x, &model)?;
    if model.options.method.needs_weights() {
        result.tau2_ci_type = Some("GENQ");
    }
    result.settings.weights = weights.weighting();
    Ok(result)
}

/// The measure's back-transformation for this data set ([`Dataset::scale`]).
pub(crate) fn back_transform(dataset: &Dataset) -> Option<(&'static str, DataBackTransform)> {
    let scale = dataset.scale();
    if scale.is_linear() {
        return None;
    }
    let to: DataBackTransform = Box::new(move |x| scale.to_display(x));
    Some((dataset.measure.shown_as()?, to))
}

/// The weights of a fit: the user's when given, equal when not `weighted`.
pub(crate) fn weights_of(user: Option<&[f64]>, weighted: bool) -> Result<Weights<'_>, FitError> {
    match (user, weighted) {
        (None, true) => Ok(Weights::InverseVariance),
        (Some(w), true) => Ok(Weights::User(w)),
        (None, false) => Ok(Weights::Equal),
        (Some(_), false) => Err(FitError::UnweightedWithWeights),
    }
}

fn assemble(
    dataset: &Dataset,
    model: &ModelFit,
    ci: Option<HeterogeneityCi>,
    fit_statistics: FitStatistics,
) -> PoolResult {
    let estimate = model.estimate(0);
    let (pi_lower, pi_upper) = model.prediction_interval();
    let total_weight: f64 = model.weights.iter().sum();
    let weights = model
        .weights
        .iter()
        .map(|w| 100.0 * w / total_weight)
        .collect();
    let transformed = back_transform(dataset).map(|(scale, f)| Transformed {
        scale,
        estimate: f(estimate.value),
        ci_lower: f(estimate.ci_lower),
        ci_upper: f(estimate.ci_upper),
        pi_lower: f(pi_lower),
        pi_upper: f(pi_upper),
    });
    let mut warnings = dataset.warnings.clone();
    warnings.extend(variance_ratio_warning(&dataset.vi()));
    warnings.extend(model_warnings(model));
    if let Some(ci) = &ci {
        warnings.extend(ci_warnings(ci));
    }
    PoolResult {
        title: dataset.title.clone(),
        k: model.k,
        estimate: model.estimate(0),
        df: model.df,
        tau2: model.tau2,
        tau2_se: None,
        tau: model.tau2.sqrt(),
        tau2_ci: ci.map(|c| c.tau2),
        tau2_ci_type: None,
        i2: model.i2,
        i2_ci: ci.map(|c| c.i2),
        h2: model.h2,
        h2_ci: ci.map(|c| c.h2),
        q: model.q,
        q_df: model.q_df,
        q_p: model.q_p,
        fit_statistics,
        pi_lower,
        pi_upper,
        transformed,
        blups: None,
        weights,
        robust: false,
        settings: Settings::new(&model.options, dataset.measure, model.convergence),
        warnings,
        typical_variance: model.typical_variance,
        crit: model.crit,
    }
}
