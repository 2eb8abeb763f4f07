//! Fit statistics: log-likelihood, deviance, AIC, BIC and AICc (metafor
//! `fitstats`, `logLik`, `deviance`, `AIC`, `BIC`).
//!
//! metafor reports the restricted (REML) statistics for a REML fit and the
//! maximum-likelihood ones for every other estimator, each evaluated at the
//! model's τ̂² and β̂ (`rma.uni`'s `fit.stats`, REML or ML column).

use super::matrix::ModelMatrix;
use nalgebra::DVector;
use serde::Serialize;

use super::fit::ModelFit;
use super::method::Method;
use super::wls::{SingularDesign, Wls, log_det_spd};

/// A fit's statistics, as metafor's `fitstats()` column of the fit.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct FitStatistics {
    /// Log-likelihood.
    #[serde(rename = "logLik")]
    pub log_lik: f64,
    /// Deviance: −2 times the log-likelihood less that of the saturated model.
    pub deviance: f64,
    /// Akaike's information criterion −2ℓ + 2q (q parameters).
    #[serde(rename = "AIC")]
    pub aic: f64,
    /// Bayesian information criterion −2ℓ + q·ln n.
    #[serde(rename = "BIC")]
    pub bic: f64,
    /// AIC with the small-sample correction −2ℓ + 2q·max(n, q + 2)/(max(n, q + 2) − q − 1).
    #[serde(rename = "AICc")]
    pub aicc: f64,
}

impl FitStatistics {
    /// The criteria of log-likelihood `log_lik` with `parms` parameters and
    /// `n` observations (k for ML, k − p for REML) and the deviance.
    pub(crate) fn new(log_lik: f64, deviance: f64, parms: f64, n: f64) -> FitStatistics {
        let m = n.max(parms + 2.0);
        FitStatistics {
            log_lik,
            deviance,
            aic: -2.0 * log_lik + 2.0 * parms,
            bic: -2.0 * log_lik + parms * n.ln(),
            aicc: -2.0 * log_lik + 2.0 * parms * m / (m - parms - 1.0),
        }
    }
}

/// −k/2·ln 2π − ½Σ ln vᵢ: the log-likelihood of the saturated model (each
/// outcome its own mean), which the ML deviance is measured from.
pub(crate) fn saturated(vi: &[f64]) -> f64 {
    let half_log_2pi = 0.5 * (2.0 * std::f64::consts::PI).ln();
    -(vi.len() as f64) * half_log_2pi - 0.5 * vi.iter().map(|v| v.ln()).sum::<f64>()
}

/// The maximum-likelihood statistics of a common-effect model with one
/// parameter (metafor `rma.mh`, `rma.peto`: the `ML` column): with the k
/// outcomes' sampling variances `vi` and the weighted residual sum of squares
/// `rss` = Σ(yᵢ − θ̂)²/vᵢ,
/// ℓ = −k/2·ln 2π − ½Σ ln vᵢ − ½·rss and the deviance −2(ℓ − Σ ln φ(0; vᵢ)) = rss.
pub fn common_effect_ml(vi: &[f64], rss: f64) -> FitStatistics {
    let log_lik = saturated(vi) - 0.5 * rss;
    let deviance = if vi.iter().all(|&v| v > 0.0) {
        -2.0 * (log_lik - saturated(vi))
    } else {
        -2.0 * log_lik
    };
    FitStatistics::new(log_lik, deviance, 1.0, vi.len() as f64)
}

/// The statistics of a fitted (mixed-)effects model y ~ X (metafor
/// `rma.uni`), with wᵢ = 1/(vᵢ + τ̂²) and RSS = Σ wᵢ(yᵢ − xᵢ'β̂) at the
/// model's β̂ (with user weights or unweighted, β̂ is not the
/// inverse-variance one, and metafor uses it all the same):
///
/// * ML: ℓ = −k/2·ln 2π − ½Σ ln(vᵢ + τ̂²) − ½·RSS, deviance −2(ℓ − ℓ_sat);
/// * REML: ℓ = −(k − p)/2·ln 2π + ½ ln|X'X| − ½Σ ln(vᵢ + τ̂²) − ½ ln|X'WX| − ½·RSS,
///   deviance −2ℓ;
///
/// with p + 1 parameters (p without τ² for the common-effect model); BIC and
/// AICc count k observations under ML and k − p under REML.
pub fn mixed_effects(
    yi: &[f64],
    vi: &[f64],
    x: &dyn ModelMatrix,
    model: &ModelFit,
) -> Result<FitStatistics, SingularDesign> {
    let (k, p) = (model.k as f64, model.p as f64);
    let parms = p + if model.options.method == Method::EE {
        0.0
    } else {
        1.0
    };
    let reml = model.options.method == Method::REML;
    let tau2 = model.tau2;
    let fitted = x.times(&DVector::from_column_slice(&model.beta));
    let rss: f64 = yi
        .iter()
        .zip(&fitted)
        .zip(vi)
        .map(|((y, f), v)| {
            let (w, e) = (1.0 / (v + tau2), y - f);
            w * e * e
        })
        .sum();
    let log_lik = at_rss(vi, x, tau2, rss, reml)?;
    Ok(if reml {
        FitStatistics::new(log_lik, -2.0 * log_lik, parms, k - p)
    } else {
        FitStatistics::new(log_lik, -2.0 * (log_lik - saturated(vi)), parms, k)
    })
}

/// The ML (`reml` false) or REML log-likelihood of the model y ~ X at `tau2`,
/// with β̂ its weighted least-squares estimate there (formulas at
/// [`mixed_effects`]; metafor's `logLik` of `rma(..., tau2 = tau2)`).
pub fn log_likelihood(
    yi: &[f64],
    vi: &[f64],
    x: &dyn ModelMatrix,
    tau2: f64,
    reml: bool,
) -> Result<f64, SingularDesign> {
    let w: Vec<f64> = vi.iter().map(|v| 1.0 / (v + tau2)).collect();
    let rss = Wls::fit(x, yi, &w)?.rss(&w);
    at_rss(vi, x, tau2, rss, reml)
}

/// The log-likelihood at `tau2` given the residual sum of squares
/// RSS = Σ (yᵢ − xᵢ'β̂)²/(vᵢ + τ²) (formulas at [`mixed_effects`]).
fn at_rss(
    vi: &[f64],
    x: &dyn ModelMatrix,
    tau2: f64,
    rss: f64,
    reml: bool,
) -> Result<f64, SingularDesign> {
    let (k, p) = (vi.len() as f64, x.p() as f64);
    let sum_log_v: f64 = vi.iter().map(|v| (v + tau2).ln()).sum();
    let log_2pi = (2.0 * std::f64::consts::PI).ln();
    Ok(if reml {
        let log_det_xtx = log_det_spd(&x.cross_weighted(&|_| 1.0))?;
        let log_det_xtwx = log_det_spd(&x.cross_weighted(&|i| 1.0 / (vi[i] + tau2)))?;
        -0.5 * (k - p) * log_2pi + 0.5 * log_det_xtx
            - 0.5 * sum_log_v
            - 0.5 * log_det_xtwx
            - 0.5 * rss
    } else {
        -0.5 * k * log_2pi - 0.5 * sum_log_v - 0.5 * rss
    })
}
