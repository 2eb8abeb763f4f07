//! The result of a location-scale model, whose field names are the JSON
//! contract (metafor's `res$alpha`, `res$QS` ... under tau's names).

use serde::Serialize;

use crate::effect_size::measure::Measure;
use crate::model::Method;
use crate::model::fit_statistics::FitStatistics;
use crate::regression::Coefficient;
use crate::regression::design::Term;
use crate::regression::predict::ModeratorValue;
use crate::warning::Warning;

/// One study in the model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LocationScaleStudy {
    /// Label.
    pub study: String,
    /// Outcome.
    pub yi: f64,
    /// Sampling variance.
    pub vi: f64,
    /// Fitted value xᵢ'β̂.
    pub fitted: f64,
    /// Its τ̂²ᵢ = exp(zᵢ'α̂) (metafor `res$tau2`).
    pub tau2: f64,
    /// Its I² = 100 τ̂²ᵢ/(s̃² + τ̂²ᵢ), percent (metafor `res$I2`).
    #[serde(rename = "I2")]
    pub i2: f64,
    /// Its H² = τ̂²ᵢ/s̃² + 1 (metafor `res$H2`).
    #[serde(rename = "H2")]
    pub h2: f64,
    /// Weight in the location model, percent.
    pub weight: f64,
}

/// ln τ² and τ² at given scale moderator values (metafor `predict(res,
/// newscale = z0)`; the τ² columns with `transf = exp`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScalePrediction {
    /// Each scale moderator with its value, in model order (a JSON object).
    #[serde(serialize_with = "as_map")]
    pub moderators: Vec<(String, ModeratorValue)>,
    /// z₀'α̂ = ln τ².
    pub pred: f64,
    /// √(z₀' Var(α̂) z₀).
    pub se: f64,
    /// Lower confidence limit of ln τ².
    pub ci_lower: f64,
    /// Upper confidence limit of ln τ².
    pub ci_upper: f64,
    /// τ² = exp(pred).
    pub tau2: f64,
    /// exp(ci_lower).
    pub tau2_ci_lower: f64,
    /// exp(ci_upper).
    pub tau2_ci_upper: f64,
}

fn as_map<S: serde::Serializer>(
    pairs: &[(String, ModeratorValue)],
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_map(pairs.iter().map(|(k, v)| (k, v)))
}

/// How a location-scale model was computed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LocationScaleSettings {
    /// REML or ML.
    pub method: Method,
    /// z tests (the only tests of a location-scale model in tau).
    pub test: &'static str,
    /// Confidence level in percent.
    pub level: f64,
    /// Effect-size measure.
    pub measure: Measure,
    /// The link of the scale model: `log`, ln τ²ᵢ = zᵢ'α.
    pub link: &'static str,
    /// Location moderators, in model order.
    pub moderators: Vec<String>,
    /// Scale moderators, in model order.
    pub scale: Vec<String>,
    /// Newton-Raphson iterations used for α̂.
    pub iterations: usize,
    /// Their limit.
    pub max_iter: usize,
    /// tau's version.
    pub version: &'static str,
}

/// A fitted location-scale model. Field names are the JSON contract.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LocationScaleResult {
    /// Title of the data set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Studies in the model.
    pub k: usize,
    /// Location coefficients β̂: the intercept, then each moderator's columns.
    pub coefficients: Vec<Coefficient>,
    /// Their variance-covariance matrix, row by row.
    pub vcov: Vec<Vec<f64>>,
    /// Omnibus test of the location moderators (none for an intercept-only location model).
    #[serde(rename = "QM", skip_serializing_if = "Option::is_none")]
    pub qm: Option<f64>,
    /// Its degrees of freedom.
    #[serde(rename = "QM_df", skip_serializing_if = "Option::is_none")]
    pub qm_df: Option<usize>,
    /// Its p-value.
    #[serde(rename = "QM_p", skip_serializing_if = "Option::is_none")]
    pub qm_p: Option<f64>,
    /// Test for residual heterogeneity (common-effect weights, as metafor).
    #[serde(rename = "QE")]
    pub qe: f64,
    /// Its degrees of freedom, k − p.
    #[serde(rename = "QE_df")]
    pub qe_df: usize,
    /// Its p-value.
    #[serde(rename = "QE_p")]
    pub qe_p: f64,
    /// Scale coefficients α̂: `intrcpt`, then each scale moderator's columns.
    pub alpha: Vec<Coefficient>,
    /// Their variance-covariance matrix (the inverse of the negative Hessian).
    pub alpha_vcov: Vec<Vec<f64>>,
    /// Wald test of the scale coefficients but the intercept.
    #[serde(rename = "QS")]
    pub qs: f64,
    /// Its degrees of freedom, q − 1.
    #[serde(rename = "QS_df")]
    pub qs_df: usize,
    /// Its p-value.
    #[serde(rename = "QS_p")]
    pub qs_p: f64,
    /// Log-likelihood, deviance, AIC, BIC, AICc (REML for a REML fit, ML otherwise).
    #[serde(flatten)]
    pub fit_statistics: FitStatistics,
    /// τ² at new scale values (`predict`), when asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub predictions: Option<Vec<ScalePrediction>>,
    /// The studies in the model, with their τ̂².
    pub studies: Vec<LocationScaleStudy>,
    /// Studies left out because a location or scale moderator is missing.
    pub dropped: Vec<String>,
    /// How it was computed.
    pub settings: LocationScaleSettings,
    /// Things to know.
    pub warnings: Vec<Warning>,
    /// The critical value of the CIs.
    #[serde(skip)]
    pub crit: f64,
    /// How each scale moderator is coded.
    #[serde(skip)]
    pub scale_terms: Vec<Term>,
}
