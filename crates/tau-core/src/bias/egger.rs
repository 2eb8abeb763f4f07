//! Egger's regression test for funnel-plot asymmetry (Egger et al. 1997, BMJ
//! 315: 629–634), in metafor's default form `regtest(res)`: the mixed-effects
//! meta-regression yᵢ = β₀ + β₁·seᵢ + uᵢ + εᵢ, fitted with the model's own τ²
//! estimator, test and level (Sterne & Egger 2005).
//!
//! The test of β₁ = 0 is the asymmetry test; β₀, the expected effect of a
//! study with SE → 0, is the "limit estimate" (Stanley's PET under this model).

use nalgebra::DMatrix;
use serde::Serialize;

use super::BiasError;
use crate::model::{FitOptions, fit};

/// The result of Egger's test.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Egger {
    /// z (or t under Knapp-Hartung) statistic of the SE coefficient.
    pub statistic: f64,
    /// Its two-sided p-value.
    pub p: f64,
    /// Degrees of freedom of the t test (Knapp-Hartung only).
    pub df: Option<f64>,
    /// The intercept: the effect expected at SE = 0.
    pub limit_estimate: f64,
    /// Its lower confidence limit.
    pub limit_ci_lower: f64,
    /// Its upper confidence limit.
    pub limit_ci_upper: f64,
    /// The SE coefficient (positive: small studies show larger effects).
    pub slope: f64,
    /// Residual τ² of the regression.
    pub tau2: f64,
}

/// The design [1, √vᵢ].
pub(crate) fn se_design(vi: &[f64]) -> DMatrix<f64> {
    DMatrix::from_fn(vi.len(), 2, |i, j| if j == 0 { 1.0 } else { vi[i].sqrt() })
}

/// Egger's test with the model's estimator, test and level (metafor `regtest`).
pub fn egger(yi: &[f64], vi: &[f64], options: &FitOptions) -> Result<Egger, BiasError> {
    let m = fit(yi, vi, &se_design(vi), options).map_err(|e| BiasError::fit("Egger's test", e))?;
    Ok(Egger {
        statistic: m.statistic[1],
        p: m.p_values[1],
        df: m.df,
        limit_estimate: m.beta[0],
        limit_ci_lower: m.ci_lower[0],
        limit_ci_upper: m.ci_upper[0],
        slope: m.beta[1],
        tau2: m.tau2,
    })
}
