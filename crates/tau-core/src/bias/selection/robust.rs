//! Cluster-robust standard errors for a step-function selection model fitted
//! to dependent effect sizes (Rodgers & Pustejovsky 2021; the approach of
//! jepusto/metaselection's `selection_model(vcov_type = "robust")`).
//!
//! The model is fitted as if the effects were independent (the "working
//! independence" likelihood ℓ = Σᵢ ℓᵢ of `super::likelihood`); its estimates
//! stay consistent when effects within a study are correlated, but the
//! Hessian-based variance does not. The sandwich replaces it:
//!
//! V = H⁻¹ (Σ_c s_c s_cᵀ) H⁻¹,  s_c = Σ_{i ∈ c} ∂ℓᵢ/∂θ,
//!
//! with H the Hessian of −ℓ (as the model-based variance uses it) and θ the
//! estimated parameters among (β, τ², δ) on their natural scale. No
//! small-sample factor is applied (the plain "CR0" sandwich).
//!
//! The per-effect scores of the step function are analytic. With
//! μ = xᵢ'β, s² = vᵢ + τ², interval j of the one-sided p-value holding the
//! outcomes (Lⱼ, Uⱼ] and Pⱼ = Φ((Uⱼ − μ)/s) − Φ((Lⱼ − μ)/s),
//! ℓᵢ = log δ_{j(i)} + log φ(yᵢ; μ, s²) − log Aᵢ with Aᵢ = Σⱼ δⱼ Pⱼ, so
//!
//! * ∂ℓᵢ/∂β = xᵢ [(yᵢ − μ)/s² − (∂A/∂μ)/A], ∂Pⱼ/∂μ = (φ(z_L) − φ(z_U))/s;
//! * ∂ℓᵢ/∂τ² = −1/(2s²) + (yᵢ − μ)²/(2s⁴) − (∂A/∂τ²)/A,
//!   ∂Pⱼ/∂τ² = (z_L φ(z_L) − z_U φ(z_U))/(2s²);
//! * ∂ℓᵢ/∂δⱼ = 1{j(i) = j}/δⱼ − Pⱼ/A.

use nalgebra::{DMatrix, DVector};

use super::likelihood::Likelihood;
use super::weight::{Alternative, quantile};

/// φ(z), 0 at ±∞.
fn phi(z: f64) -> f64 {
    if z.is_finite() {
        (-0.5 * z * z).exp() / (2.0 * std::f64::consts::PI).sqrt()
    } else {
        0.0
    }
}

/// z φ(z), 0 at ±∞.
fn z_phi(z: f64) -> f64 {
    if z.is_finite() { z * phi(z) } else { 0.0 }
}

/// Φ(b) − Φ(a) for a ≤ b, from the nearer tail.
fn probability(a: f64, b: f64) -> f64 {
    use super::weight::{lower, upper};
    if a > 0.0 {
        upper(a) - upper(b)
    } else {
        lower(b) - lower(a)
    }
}

impl Likelihood<'_> {
    /// The outcomes (L, U] whose one-sided p-value lies in interval `j` of
    /// the step function, for a study with standard error `se`.
    fn interval_bounds(&self, j: usize, se: f64) -> (f64, f64) {
        // The outcome at which the one-sided p-value equals c (0 and 1 at ±∞).
        let cut = |c: f64| {
            let z = if c <= 0.0 {
                f64::NEG_INFINITY
            } else if c >= 1.0 {
                f64::INFINITY
            } else {
                quantile(c)
            };
            match self.alternative {
                Alternative::Greater => -se * z,
                Alternative::Less => se * z,
            }
        };
        let below = if j == 0 { 0.0 } else { self.steps[j - 1] };
        let (a, b) = (cut(below), cut(self.steps[j]));
        if a <= b { (a, b) } else { (b, a) }
    }

    /// The per-effect scores ∂ℓᵢ/∂θ of a step-function model at (β, τ², δ),
    /// one row per effect, columns (β, τ², δ₁, …, δₙ) on the natural scale.
    pub(crate) fn step_scores(&self, beta: &[f64], tau2: f64, delta: &[f64]) -> DMatrix<f64> {
        let (k, p, n) = (self.yi.len(), beta.len(), delta.len());
        let mut scores = DMatrix::zeros(k, p + 1 + n);
        for i in 0..k {
            let (y, v) = (self.yi[i], self.vi[i]);
            let mu: f64 = self.x.row(i).iter().zip(beta).map(|(a, b)| a * b).sum();
            let s2 = v + tau2;
            let s = s2.sqrt();
            let se = v.sqrt();
            let (mut a, mut da_mu, mut da_tau2) = (0.0, 0.0, 0.0);
            let mut pj = vec![0.0; n];
            for (j, (prob, d)) in pj.iter_mut().zip(delta).enumerate() {
                let (lo, hi) = self.interval_bounds(j, se);
                let (z_lo, z_hi) = ((lo - mu) / s, (hi - mu) / s);
                *prob = probability(z_lo, z_hi);
                a += d * *prob;
                da_mu += d * (phi(z_lo) - phi(z_hi)) / s;
                da_tau2 += d * (z_phi(z_lo) - z_phi(z_hi)) / (2.0 * s2);
            }
            let r = y - mu;
            let d_mu = r / s2 - da_mu / a;
            for c in 0..p {
                scores[(i, c)] = self.x[(i, c)] * d_mu;
            }
            scores[(i, p)] = -0.5 / s2 + r * r / (2.0 * s2 * s2) - da_tau2 / a;
            let own = self.steps.iter().position(|&cut| self.pvals[i] <= cut);
            for (j, prob) in pj.iter().enumerate() {
                let hit = if own == Some(j) { 1.0 / delta[j] } else { 0.0 };
                scores[(i, p + 1 + j)] = hit - prob / a;
            }
        }
        scores
    }
}

/// The sandwich H⁻¹ (Σ_c s_c s_cᵀ) H⁻¹ over the parameters `wanted`
/// (columns of `scores`), with `bread` = H⁻¹ over the same parameters and
/// `groups` the rows of each cluster.
pub(crate) fn sandwich(
    bread: &DMatrix<f64>,
    scores: &DMatrix<f64>,
    wanted: &[usize],
    groups: &[(String, Vec<usize>)],
) -> DMatrix<f64> {
    let m = wanted.len();
    let mut meat = DMatrix::<f64>::zeros(m, m);
    for (_, rows) in groups {
        let s = DVector::from_fn(m, |a, _| {
            rows.iter().map(|&i| scores[(i, wanted[a])]).sum::<f64>()
        });
        meat += &s * s.transpose();
    }
    bread * meat * bread
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bias::selection::weight::SelectionType;

    /// The analytic scores equal central differences of each effect's log-likelihood.
    #[test]
    fn scores_are_the_derivatives_of_each_effects_log_likelihood() {
        let yi = [0.5, 0.45, 0.1, 0.05, -0.1, 0.6, 0.3];
        let vi: [f64; 7] = [0.04, 0.02, 0.05, 0.03, 0.04, 0.06, 0.01];
        let x = DMatrix::from_fn(7, 2, |i, j| if j == 0 { 1.0 } else { i as f64 / 3.0 });
        for alternative in [Alternative::Greater, Alternative::Less] {
            let steps = [0.025, 0.5, 1.0];
            let pvals: Vec<f64> = yi
                .iter()
                .zip(&vi)
                .map(|(&y, &v)| alternative.p_value(y, v.sqrt()))
                .collect();
            let theta = [0.2, -0.05, 0.03, 1.0, 0.6, 0.3];
            let one = |i: usize, t: &[f64]| {
                let l = Likelihood {
                    yi: &yi[i..=i],
                    vi: &vi[i..=i],
                    x: &x.rows(i, 1).into_owned(),
                    kind: SelectionType::Step,
                    alternative,
                    steps: &steps,
                    pvals: &pvals[i..=i],
                    pval_min: 0.0,
                };
                l.log_likelihood(&t[..2], t[2], &t[3..]).unwrap()
            };
            let full = Likelihood {
                yi: &yi,
                vi: &vi,
                x: &x,
                kind: SelectionType::Step,
                alternative,
                steps: &steps,
                pvals: &pvals,
                pval_min: 0.0,
            };
            let scores = full.step_scores(&theta[..2], theta[2], &theta[3..]);
            for i in 0..yi.len() {
                // δ₁ is fixed at 1 (the likelihood uses 1 in A), so its column is never used.
                for c in (0..theta.len()).filter(|&c| c != 3) {
                    let h = 1e-5;
                    let (mut up, mut down) = (theta, theta);
                    up[c] += h;
                    down[c] -= h;
                    let numeric = (one(i, &up) - one(i, &down)) / (2.0 * h);
                    assert!(
                        (scores[(i, c)] - numeric).abs() < 1e-6 * (1.0 + numeric.abs()),
                        "{alternative:?} effect {i} parameter {c}: {} vs {numeric}",
                        scores[(i, c)]
                    );
                }
            }
        }
    }
}
