//! Two-group events over person-time (measure IRR): the studies' data, and
//! the unconditional Poisson-normal model with fixed study effects,
//! metafor's `rma.glmm(measure = "IRR", x1i, t1i, x2i, t2i,
//! model = "UM.FS")`, which fits (metafor 3.8.1, lme4)
//! `glmer(x ~ -1 + group1 + study + (group - 1 | study), offset = log(t),
//! family = poisson, nAGQ = 7)` by ML:
//!
//! log μ_{i,1} = log t1ᵢ + αᵢ + β + τuᵢ/2, log μ_{i,2} = log t2ᵢ + αᵢ − τuᵢ/2,
//!
//! fitted as [`super::odds_ratios`] fits the binomial model of 2×2 tables
//! (study intercepts profiled out, 7-point adaptive Gauss-Hermite
//! quadrature). `QE_Wld` is Σ wᵢ(θᵢ − θ̄)² over the studies' log rate
//! ratios θᵢ with wᵢ = 1/(1/x1ᵢ + 1/x2ᵢ) (a study with no events in a group
//! adds its limit, 0); I² and H² from escalc's vᵢ = 1/x1ᵢ + 1/x2ᵢ (1/2
//! added to both counts where one is 0). Studies with no events in either
//! group are left out, as metafor's `drop00`. The conditional model
//! (`model = "CM.EL"`) is in [`super::conditional`].

use super::agq::Family;
use super::odds_ratios::{Arms, fit_two_groups};
use super::proportions::{GlmmError, GlmmFit};

/// One study's events and person-time in two groups.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rates {
    /// Events, group 1.
    pub x1i: f64,
    /// Person-time, group 1.
    pub t1i: f64,
    /// Events, group 2.
    pub x2i: f64,
    /// Person-time, group 2.
    pub t2i: f64,
}

impl Rates {
    /// The two groups, events over person-time.
    pub(crate) fn arms(&self) -> Arms {
        Arms {
            x1: self.x1i,
            n1: self.t1i,
            x2: self.x2i,
            n2: self.t2i,
            family: Family::Poisson,
        }
    }
}

pub(crate) fn is_count(v: f64) -> bool {
    v.is_finite() && v >= 0.0 && v.fract() == 0.0
}

pub(crate) fn is_time(v: f64) -> bool {
    v.is_finite() && v > 0.0
}

/// Checks the data, and leaves out the studies with no events; at least 2
/// must remain.
pub(crate) fn informative_rates(rates: &[Rates]) -> Result<Vec<Rates>, GlmmError> {
    for (index, r) in rates.iter().enumerate() {
        if !(is_count(r.x1i) && is_count(r.x2i) && is_time(r.t1i) && is_time(r.t2i)) {
            return Err(GlmmError::BadRates { index });
        }
    }
    let rates: Vec<Rates> = rates
        .iter()
        .copied()
        .filter(|r| r.x1i > 0.0 || r.x2i > 0.0)
        .collect();
    if rates.len() < 2 {
        return Err(GlmmError::TooFewStudies);
    }
    Ok(rates)
}

/// 1/vᵢ of escalc's log rate ratios, vᵢ = 1/x1 + 1/x2 (1/2 added to both
/// where either is 0).
pub(crate) fn escalc_weights(rates: &[Rates]) -> Vec<f64> {
    rates
        .iter()
        .map(|r| {
            let (x1, x2) = if r.x1i == 0.0 || r.x2i == 0.0 {
                (r.x1i + 0.5, r.x2i + 0.5)
            } else {
                (r.x1i, r.x2i)
            };
            1.0 / (1.0 / x1 + 1.0 / x2)
        })
        .collect()
}

/// Fits metafor's `model = "UM.FS"` for incidence rate ratios; `level` in
/// percent.
pub fn fit_rate_ratios(rates: &[Rates], level: f64, max_iter: usize) -> Result<GlmmFit, GlmmError> {
    let rates = informative_rates(rates)?;
    let arms: Vec<Arms> = rates.iter().map(Rates::arms).collect();
    fit_two_groups(&arms, &escalc_weights(&rates), level, max_iter)
}
