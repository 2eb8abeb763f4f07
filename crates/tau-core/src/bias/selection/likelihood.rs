//! The log-likelihood of a selection model (Hedges 1992; Vevea & Hedges
//! 1995; metafor `.selmodel.ll.stepfun` and `.selmodel.ll.cont`):
//!
//! ℓ = Σᵢ [ log w(pᵢ) + log φ(yᵢ; xᵢ'β, vᵢ + τ²) − log Aᵢ ],
//! Aᵢ = ∫ w(p(y)) φ(y; xᵢ'β, vᵢ + τ²) dy,
//!
//! the density of the observed outcome reweighted by its chance of being
//! published. For a step function Aᵢ is a sum of normal probabilities
//! between the outcomes at which p crosses the cut-points; for the other
//! types it is integrated as R's `integrate` does ([`crate::numerics::integrate`]).

use nalgebra::DMatrix;

use super::weight::{Alternative, SelectionType, lower, quantile, upper, weight};
use crate::numerics::integrate::{IntegrationFailure, integrate_real_line};

/// R's `integrate` defaults as metafor uses them: rel.tol = abs.tol = ε^¼, 100 subdivisions.
const INTEGRATE_TOL: f64 = 1.220_703_125e-4;
const SUBDIVISIONS: usize = 100;

/// log √(2π).
#[allow(clippy::excessive_precision)]
const LN_SQRT_2PI: f64 = 0.918_938_533_204_672_741_780_329_736_406;
/// 1/√(2π).
#[allow(clippy::excessive_precision)]
const ONE_OVER_SQRT_2PI: f64 = 0.398_942_280_401_432_677_939_946_059_934;

/// log φ(y; mean, sd²) (R `dnorm(log = TRUE)`).
pub(crate) fn log_density(y: f64, mean: f64, sd: f64) -> f64 {
    let z = (y - mean) / sd;
    -(LN_SQRT_2PI + 0.5 * z * z + sd.ln())
}

/// φ(y; mean, sd²) as R's `dnorm` computes it (exact splitting of z² in the tail).
fn density(y: f64, mean: f64, sd: f64) -> f64 {
    let z = ((y - mean) / sd).abs();
    if !z.is_finite() {
        return 0.0;
    }
    if z < 5.0 {
        return ONE_OVER_SQRT_2PI * (-0.5 * z * z).exp() / sd;
    }
    // sqrt(-2 ln 2 (DBL_MIN_EXP + 1 - DBL_MANT_DIG)), beyond which φ underflows.
    if z > (-2.0 * std::f64::consts::LN_2 * f64::from(f64::MIN_EXP + 1 - 53)).sqrt() {
        return 0.0;
    }
    let z1 = (z * 65536.0).round() / 65536.0;
    let z2 = z - z1;
    ONE_OVER_SQRT_2PI / sd * ((-0.5 * z1 * z1).exp() * ((-0.5 * z2 - z1) * z2).exp())
}

/// The data and the fixed parts of a selection model.
#[derive(Debug, Clone)]
pub(crate) struct Likelihood<'a> {
    pub yi: &'a [f64],
    pub vi: &'a [f64],
    pub x: &'a DMatrix<f64>,
    pub kind: SelectionType,
    pub alternative: Alternative,
    /// Cut-points, 1 last (step); for the other types the one cut-point (0 when none).
    pub steps: &'a [f64],
    /// One-sided p-values clamped to [pval_min, 1 − pval_min].
    pub pvals: &'a [f64],
    pub pval_min: f64,
}

impl Likelihood<'_> {
    /// ℓ(β, τ², δ). An integral R's `integrate` would fail on is an error, as in metafor.
    pub fn log_likelihood(
        &self,
        beta: &[f64],
        tau2: f64,
        delta: &[f64],
    ) -> Result<f64, (usize, IntegrationFailure)> {
        let mut ll = 0.0;
        for (i, ((&y, &v), &p)) in self.yi.iter().zip(self.vi).zip(self.pvals).enumerate() {
            let yhat: f64 = self.x.row(i).iter().zip(beta).map(|(a, b)| a * b).sum();
            let sd = (v + tau2).sqrt();
            let a = match self.kind {
                SelectionType::Step => self.step_area(v, yhat, sd, delta),
                _ => self.area(v, yhat, sd, delta).map_err(|e| (i, e))?,
            };
            ll += weight(self.kind, p, delta, self.steps).ln() + log_density(y, yhat, sd) - a.ln();
        }
        Ok(ll)
    }

    /// Aᵢ for a step function, in closed form (metafor `.selmodel.ll.stepfun`).
    fn step_area(&self, v: f64, yhat: f64, sd: f64, delta: &[f64]) -> f64 {
        let n = self.steps.len();
        let se = v.sqrt();
        // The outcome at which the one-sided p-value equals the cut-point, and
        // the probability of the favoured side of it.
        type Map = fn(f64) -> f64;
        let (cut, beyond, before): (Map, Map, Map) = match self.alternative {
            Alternative::Greater => (|s| -quantile(s), upper, lower),
            Alternative::Less => (quantile, lower, upper),
        };
        let prob = |j: usize| beyond((se * cut(self.steps[j]) - yhat) / sd);
        let mut a = prob(0);
        for (j, d) in delta.iter().enumerate().take(n).skip(1) {
            if j < n - 1 {
                a += d * (prob(j) - prob(j - 1));
            } else {
                a += d * before((se * cut(self.steps[j - 1]) - yhat) / sd);
            }
        }
        a
    }

    /// Aᵢ for a continuous weight function, by R's `integrate` (metafor `.selmodel.int`).
    fn area(&self, v: f64, yhat: f64, sd: f64, delta: &[f64]) -> Result<f64, IntegrationFailure> {
        let se = v.sqrt();
        let mut integrand = |y: f64| {
            let p = self
                .alternative
                .p_value(y, se)
                .max(self.pval_min)
                .min(1.0 - self.pval_min);
            weight(self.kind, p, delta, self.steps) * density(y, yhat, sd)
        };
        integrate_real_line(&mut integrand, INTEGRATE_TOL, SUBDIVISIONS)
    }
}
