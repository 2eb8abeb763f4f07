//! The maximum of the profile log-likelihood in α: Newton-Raphson with the
//! exact Hessian ([`super::likelihood`]), step halving, and metafor's start.
//!
//! metafor starts its optimiser (`nlminb`) from the fixed-effects regression
//! of ln rᵢ² on Z with variances 4 seᵢ²/rᵢ², where rᵢ are the residuals of
//! the location model fitted with the Hedges (`HE`) τ² and seᵢ² their
//! variances (`rstandard`); tau starts there too. metafor's optimiser stops up
//! to 3e-5 (relative) short of the maximum; Newton-Raphson is run until the
//! step is below 1e-10 (relative), so tau's point is the maximum to rounding.

use nalgebra::{Cholesky, DMatrix, DVector};

use super::LocationScaleError;
use super::likelihood::{AtAlpha, Problem};
use crate::model::wls::{SingularDesign, cross_weighted, invert_spd};

/// The maximum: α̂, the model there, and the iterations used.
#[derive(Debug, Clone)]
pub(super) struct Optimum {
    pub alpha: DVector<f64>,
    pub at: AtAlpha,
    pub iterations: usize,
}

/// A step smaller than this (relative to max(1, |α|)) ends the search.
const STEP_TOLERANCE: f64 = 1e-10;

/// Maximises ℓ(α) from metafor's start in at most `max_iter` Newton steps.
pub(super) fn maximise(problem: &Problem, max_iter: usize) -> Result<Optimum, LocationScaleError> {
    let mut alpha = start(problem).unwrap_or_else(|| fallback_start(problem));
    let mut at = problem.at(&alpha)?;
    for iteration in 1..=max_iter {
        let (gradient, hessian) = problem.derivatives(&at);
        let direction = ascent_direction(&gradient, -hessian);
        let mut step = 1.0;
        let mut moved = false;
        for _ in 0..60 {
            let candidate = &alpha + &direction * step;
            if let Ok(next) = problem.at(&candidate)
                && next.log_lik.is_finite()
                && next.log_lik >= at.log_lik - 1e-12 * at.log_lik.abs().max(1.0)
            {
                alpha = candidate;
                at = next;
                moved = true;
                break;
            }
            step /= 2.0;
        }
        let size = (&direction * step).amax();
        if !moved || size <= STEP_TOLERANCE * alpha.amax().max(1.0) {
            return Ok(Optimum {
                alpha,
                at,
                iterations: iteration,
            });
        }
    }
    Err(LocationScaleError::NotConverged {
        iterations: max_iter,
    })
}

/// The Newton direction (−H)⁻¹g, with −H shifted along its diagonal until
/// positive definite where ℓ is not concave.
fn ascent_direction(gradient: &DVector<f64>, neg_hessian: DMatrix<f64>) -> DVector<f64> {
    let scale = neg_hessian.diagonal().amax().max(1e-8);
    let mut shift = 0.0;
    for _ in 0..40 {
        let shifted = &neg_hessian + DMatrix::identity(gradient.len(), gradient.len()) * shift;
        if let Some(chol) = Cholesky::new(shifted) {
            return chol.solve(gradient);
        }
        shift = if shift == 0.0 {
            scale * 1e-6
        } else {
            shift * 10.0
        };
    }
    gradient / scale
}

/// metafor's start (module docs); `None` when a residual is 0 or a
/// matrix is singular.
fn start(problem: &Problem) -> Option<DVector<f64>> {
    let (k, p) = (problem.yi.len(), problem.x.ncols());
    let x = problem.x;
    let leverage = |c: &DMatrix<f64>, i: usize| {
        let xi = x.row(i).transpose();
        (xi.transpose() * c * &xi)[(0, 0)]
    };
    // Hedges' τ²: (RSS_OLS − Σ vᵢ(1 − hᵢ))/(k − p), at least 0.
    let ones = vec![1.0; k];
    let ols = wls(problem, &ones).ok()?;
    let rss: f64 = ols.1.iter().map(|r| r * r).sum();
    let trace_pv: f64 = (0..k)
        .map(|i| problem.vi[i] * (1.0 - leverage(&ols.0, i)))
        .sum();
    let tau2 = ((rss - trace_pv) / (k - p) as f64).max(0.0);
    let w: Vec<f64> = problem.vi.iter().map(|v| 1.0 / (v + tau2)).collect();
    let (c, residuals) = wls(problem, &w).ok()?;
    let mut log_r2 = Vec::with_capacity(k);
    let mut weight = Vec::with_capacity(k);
    for (i, r) in residuals.iter().enumerate() {
        let se2 = problem.vi[i] + tau2 - leverage(&c, i);
        let r2 = r * r;
        if r2 <= 0.0 || se2 <= 0.0 {
            return None;
        }
        log_r2.push(r2.ln());
        weight.push(r2 / (4.0 * se2));
    }
    let ztwz = invert_spd(cross_weighted(problem.z, |i| weight[i])).ok()?;
    let ztwy = problem.z.tr_mul(&DVector::from_iterator(
        k,
        (0..k).map(|i| weight[i] * log_r2[i]),
    ));
    let alpha = ztwz * ztwy;
    alpha.iter().all(|a| a.is_finite()).then_some(alpha)
}

/// ln of a small τ² in the intercept, 0 elsewhere.
fn fallback_start(problem: &Problem) -> DVector<f64> {
    let mut alpha = DVector::zeros(problem.z.ncols());
    let mean_v = problem.vi.iter().sum::<f64>() / problem.vi.len() as f64;
    alpha[0] = (mean_v / 10.0).ln();
    alpha
}

/// (X'WX)⁻¹ and the residuals of the weighted least-squares fit.
fn wls(problem: &Problem, w: &[f64]) -> Result<(DMatrix<f64>, Vec<f64>), SingularDesign> {
    let k = problem.yi.len();
    let c = invert_spd(cross_weighted(problem.x, |i| w[i]))?;
    let xtwy = problem.x.tr_mul(&DVector::from_iterator(
        k,
        (0..k).map(|i| w[i] * problem.yi[i]),
    ));
    let fitted = problem.x * (&c * xtwy);
    Ok((c, (0..k).map(|i| problem.yi[i] - fitted[i]).collect()))
}
