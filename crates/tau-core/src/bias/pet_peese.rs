//! PET-PEESE (Stanley & Doucouliagos 2014, "Meta-regression approximations
//! to reduce publication selection bias", Research Synthesis Methods 5:
//! 60–78).
//!
//! Both are weighted least-squares meta-regressions with weights 1/vᵢ and a
//! multiplicative dispersion factor (R's `lm(yi ~ sei, weights = 1/vi)`),
//! with t tests and intervals on k − 2 degrees of freedom:
//!
//! * PET: yᵢ = β₀ + β₁·seᵢ; the intercept β₀ is the effect at SE = 0;
//! * PEESE: yᵢ = β₀ + β₁·vᵢ; the intercept again.
//!
//! Conditional rule used by tau: if PET's intercept differs from 0 at
//! two-sided p < 0.05, there is probably a genuine effect and PEESE's
//! intercept (less biased when the effect is not 0) is reported; otherwise
//! PET's. Stanley & Doucouliagos also describe a one-sided version; tau uses
//! the two-sided test to match the rest of its output.

use serde::Serialize;

use super::BiasError;
use super::egger::se_design;
use crate::estimate::Estimate;
use crate::model::{FitOptions, Method, Test, fit};
use nalgebra::DMatrix;

/// Significance level of the conditional rule.
pub const PET_ALPHA: f64 = 0.05;

/// The conditional rule, in words.
pub const RULE: &str = "PEESE if PET's intercept differs from 0 at two-sided p < 0.05, else PET (Stanley & Doucouliagos 2014); both are WLS regressions with weights 1/vi and t tests on k - 2 df";

/// One limit (intercept) estimate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Limit {
    /// The intercept (the effect expected at SE = 0), its SE, t test and CI.
    #[serde(flatten)]
    pub estimate: Estimate,
    /// The slope on SE (PET) or on the variance (PEESE).
    pub slope: f64,
}

/// PET, PEESE and the conditional estimate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PetPeese {
    /// Precision-effect test.
    pub pet: Limit,
    /// Precision-effect estimate with standard error.
    pub peese: Limit,
    /// "PET" or "PEESE".
    pub selected: &'static str,
    /// The selected intercept.
    pub estimate: f64,
    /// Its lower confidence limit.
    pub ci_lower: f64,
    /// Its upper confidence limit.
    pub ci_upper: f64,
    /// Degrees of freedom of the t tests.
    pub df: f64,
    /// The rule used.
    pub rule: &'static str,
}

/// PET and PEESE at confidence `level` (percent).
pub fn pet_peese(yi: &[f64], vi: &[f64], level: f64) -> Result<PetPeese, BiasError> {
    // The common-effect model with the Knapp-Hartung factor is exactly WLS with
    // weights 1/vᵢ, residual variance estimated, and t(k − p) tests.
    let options = FitOptions {
        method: Method::EE,
        test: Test::Knha,
        level,
        ..FitOptions::default()
    };
    let limit = |x: &DMatrix<f64>, name: &'static str| {
        fit(yi, vi, x, &options)
            .map_err(|e| BiasError::fit(name, e))
            .map(|m| Limit {
                estimate: m.estimate(0),
                slope: m.beta[1],
            })
    };
    let pet = limit(&se_design(vi), "PET")?;
    let var_design = DMatrix::from_fn(vi.len(), 2, |i, j| if j == 0 { 1.0 } else { vi[i] });
    let peese = limit(&var_design, "PEESE")?;
    let (selected, chosen) = if pet.estimate.p < PET_ALPHA {
        ("PEESE", &peese)
    } else {
        ("PET", &pet)
    };
    Ok(PetPeese {
        selected,
        estimate: chosen.estimate.value,
        ci_lower: chosen.estimate.ci_lower,
        ci_upper: chosen.estimate.ci_upper,
        df: (yi.len() - 2) as f64,
        rule: RULE,
        pet,
        peese,
    })
}
