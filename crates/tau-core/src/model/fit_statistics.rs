//! Fit statistics: log-likelihood, deviance, AIC, BIC and AICc (metafor
//! `fitstats`, `logLik`, `deviance`, `AIC`, `BIC`).

use serde::Serialize;

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
    /// Bayesian information criterion −2ℓ + q·ln k.
    #[serde(rename = "BIC")]
    pub bic: f64,
    /// AIC with the small-sample correction −2ℓ + 2q·max(k, q + 2)/(max(k, q + 2) − q − 1).
    #[serde(rename = "AICc")]
    pub aicc: f64,
}

/// The maximum-likelihood statistics of a common-effect model with one
/// parameter (metafor `rma.mh`, `rma.peto`: the `ML` column): with the k
/// outcomes' sampling variances `vi` and the weighted residual sum of squares
/// `rss` = Σ(yᵢ − θ̂)²/vᵢ,
/// ℓ = −k/2·ln 2π − ½Σ ln vᵢ − ½·rss and the deviance −2(ℓ − Σ ln φ(0; vᵢ)) = rss.
pub fn common_effect_ml(vi: &[f64], rss: f64) -> FitStatistics {
    let k = vi.len() as f64;
    let half_log_2pi = 0.5 * (2.0 * std::f64::consts::PI).ln();
    let sum_log_v: f64 = vi.iter().map(|v| v.ln()).sum();
    let log_lik = -k * half_log_2pi - 0.5 * sum_log_v - 0.5 * rss;
    let saturated = -k * half_log_2pi - 0.5 * sum_log_v;
    let deviance = if vi.iter().all(|&v| v > 0.0) {
        -2.0 * (log_lik - saturated)
    } else {
        -2.0 * log_lik
    };
    let q = 1.0;
    let m = k.max(q + 2.0);
    FitStatistics {
        log_lik,
        deviance,
        aic: -2.0 * log_lik + 2.0 * q,
        bic: -2.0 * log_lik + q * k.ln(),
        aicc: -2.0 * log_lik + 2.0 * q * m / (m - q - 1.0),
    }
}
