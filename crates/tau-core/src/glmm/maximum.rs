//! The maximum of a GLMM's log-likelihood ℓ(β, τ) over the fixed effects
//! β = (β₁ … β_p) (the intercept alone, or with moderators) and τ, shared
//! by every model, each of which gives ℓ with its exact gradient
//! ([`Derivatives`]). The common-effect model (τ = 0) by BFGS on its
//! gradient, then Newton's method; the model by BFGS over (β, τ) with τ of
//! either sign (ℓ is even in τ; see `agq::TAU_START`) from the
//! common-effect β̂ and τ = 1/2, then Newton's method on the exact gradient
//! and Hessian, which takes the last 1e-4 that BFGS's relative stopping
//! rule can leave. The covariance of β̂ is the β block of the inverse
//! Hessian of −ℓ over (β, τ) (lme4's `vcov`; the block does not depend on
//! how τ is parameterised). Where no τ > 0 beats the common-effect model,
//! the fit is that model (τ̂ = 0) and its covariance the inverse of its
//! own information.
//!
//! Beside it, what every model reports with moderators: metafor's
//! `QE.Wld` ([`wald_residual`]) and the typical within-study variance of
//! I² and H² ([`typical_variance`]).

use nalgebra::{DMatrix, DVector};

use crate::numerics::optim::bfgs_with_gradient;

use super::agq;
use super::proportions::GlmmError;

/// BFGS's relative tolerance: it brings the search near the maximum,
/// Newton's method on the exact derivatives takes it the rest of the way.
const BFGS_RELTOL: f64 = 1e-10;

/// τ below this is taken as 0 (the optimum on the boundary).
pub(super) const TAU_ZERO: f64 = 1e-6;

/// The maximum: β̂, τ̂ and the covariance of β̂.
pub(super) struct Optimum {
    pub beta: Vec<f64>,
    pub tau: f64,
    pub vcov: Vec<Vec<f64>>,
}

/// The inverse of a symmetric positive-definite matrix; `None` where it is
/// not positive definite.
pub(super) fn inverse(h: &[Vec<f64>]) -> Option<Vec<Vec<f64>>> {
    let n = h.len();
    let m = DMatrix::from_fn(n, n, |i, j| h[i][j]);
    if m.iter().any(|v| !v.is_finite()) {
        return None;
    }
    let inv = nalgebra::Cholesky::new(m)?.inverse();
    Some(
        (0..n)
            .map(|i| (0..n).map(|j| inv[(i, j)]).collect())
            .collect(),
    )
}

/// The weighted residual sum of squares Σ wᵢ(lᵢ − xᵢ'b̂)² of the weighted
/// least-squares fit of the studies' own estimates lᵢ on their rows xᵢ,
/// over the studies whose estimate is finite (`Some((wᵢ, lᵢ))`): metafor's
/// `QE.Wld`, the Wald test that the saturated model's study effects follow
/// the model (invariant to how the saturated model is parameterised). A
/// rank-deficient fit (a moderator level whose studies all lack an
/// estimate) is projected by the SVD; 0 without any study.
pub(super) fn wald_residual(x: &[Vec<f64>], wl: &[Option<(f64, f64)>]) -> f64 {
    let used: Vec<(&Vec<f64>, f64, f64)> = x
        .iter()
        .zip(wl)
        .filter_map(|(row, e)| e.map(|(w, l)| (row, w, l)))
        .collect();
    if used.is_empty() {
        return 0.0;
    }
    let p = x[0].len();
    let a = DMatrix::from_fn(used.len(), p, |i, j| used[i].1.sqrt() * used[i].0[j]);
    let y = DVector::from_iterator(used.len(), used.iter().map(|(_, w, l)| w.sqrt() * l));
    let svd = a.clone().svd(true, true);
    let fitted = match svd.solve(&y, 1e-12 * svd.singular_values.max()) {
        Ok(b) => &a * b,
        Err(_) => return 0.0,
    };
    (y - fitted).norm_squared().max(0.0)
}

/// metafor's typical within-study variance of a model with moderators,
/// (k − p)/tr(P), P = W − WX(X'WX)⁻¹X'W, W = diag(1/vᵢ) of escalc's vᵢ
/// (with the intercept alone, (k − 1)Σwᵢ/((Σwᵢ)² − Σwᵢ²)).
pub(super) fn typical_variance(x: &[Vec<f64>], weights: &[f64]) -> f64 {
    let (k, p) = (x.len(), x[0].len());
    let xtwx = DMatrix::from_fn(p, p, |a, b| {
        x.iter()
            .zip(weights)
            .map(|(row, w)| w * row[a] * row[b])
            .sum()
    });
    let xtw2x = DMatrix::from_fn(p, p, |a, b| {
        x.iter()
            .zip(weights)
            .map(|(row, w)| w * w * row[a] * row[b])
            .sum()
    });
    let Some(inv): Option<DMatrix<f64>> = xtwx.try_inverse() else {
        return f64::NAN;
    };
    let trace = weights.iter().sum::<f64>() - (inv * xtw2x).trace();
    (k - p) as f64 / trace
}

/// A log-likelihood ℓ(β, τ) with its exact gradient and Hessian (the
/// profile of [`super::profile`]).
pub(super) trait Derivatives {
    /// ℓ and its gradient over (β, τ) (the τ entry ignored at τ = 0).
    fn value_gradient(&self, beta: &[f64], tau: f64) -> (f64, Vec<f64>);
    /// The Hessian over (β, τ), or over β alone (`with_tau` false), right
    /// after [`Derivatives::value_gradient`] at the same point.
    fn hessian(&self, beta: &[f64], tau: f64, with_tau: bool) -> Vec<Vec<f64>>;
}

/// [`maximise`] for a likelihood with exact derivatives: the common-effect
/// model by BFGS on its gradient then Newton's method; the model by BFGS
/// over (β, τ) from it, then Newton's method on the exact gradient and
/// Hessian. Returns the optimum, and the common-effect β̂ and its
/// log-likelihood (for `QE_LRT`).
pub(super) fn maximise_exact(
    ll: &dyn Derivatives,
    common_start: &[f64],
    max_iter: usize,
) -> Result<(Optimum, Vec<f64>, f64), GlmmError> {
    let p = common_start.len();
    let maxit = max_iter.max(500);
    // The common-effect likelihood is concave: Newton's method from the
    // start, BFGS first where that does not reach its maximum.
    let mut common = newton_exact(ll, common_start, 0.0)?.0;
    if !at_maximum(ll, &common) {
        let mut common_objective = |b: &[f64]| -> Result<(f64, Vec<f64>), GlmmError> {
            let (v, g) = ll.value_gradient(b, 0.0);
            Ok((-v, g[..p].iter().map(|x| -x).collect()))
        };
        let start = bfgs_with_gradient(&mut common_objective, common_start, BFGS_RELTOL, maxit)
            .map_err(|_| GlmmError::NotConverged)?;
        common = newton_exact(ll, &start, 0.0)?.0;
    }
    let (ll_common, _) = ll.value_gradient(&common, 0.0);
    let common_vcov = || -> Result<Vec<Vec<f64>>, GlmmError> {
        ll.value_gradient(&common, 0.0);
        let h = ll.hessian(&common, 0.0, false);
        inverse(&negated(&h)).ok_or(GlmmError::NotConverged)
    };
    let mut objective = |theta: &[f64]| -> Result<(f64, Vec<f64>), GlmmError> {
        let (v, mut g) = ll.value_gradient(&theta[..p], theta[p].abs());
        g[p] *= theta[p].signum();
        let v = if v.is_finite() { -v } else { f64::MAX.sqrt() };
        Ok((v, g.iter().map(|x| -x).collect()))
    };
    let mut start = common.clone();
    start.push(agq::TAU_START);
    let theta = scaled_bfgs(ll, &mut objective, &start, maxit)?;
    let boundary =
        |beta: &[f64], tau: f64| tau < TAU_ZERO || ll_common >= ll.value_gradient(beta, tau).0;
    let on_boundary = || -> Result<(Optimum, Vec<f64>, f64), GlmmError> {
        Ok((
            Optimum {
                beta: common.clone(),
                tau: 0.0,
                vcov: common_vcov()?,
            },
            common.clone(),
            ll_common,
        ))
    };
    if boundary(&theta[..p], theta[p].abs()) {
        return on_boundary();
    }
    let mut start = theta.clone();
    start[p] = start[p].abs();
    let (point, h_there) = newton_exact(ll, &start, 1.0)?;
    let tau = point[p].abs();
    if tau < TAU_ZERO {
        return on_boundary();
    }
    let h = h_there.unwrap_or_else(|| {
        ll.value_gradient(&point[..p], tau);
        ll.hessian(&point[..p], tau, true)
    });
    let vcov = inverse(&negated(&h)).ok_or(GlmmError::NotConverged)?;
    Ok((
        Optimum {
            beta: point[..p].to_vec(),
            tau,
            vcov: vcov[..p].iter().map(|row| row[..p].to_vec()).collect(),
        },
        common.clone(),
        ll_common,
    ))
}

/// Whether the gradient of the common-effect likelihood at β vanishes (to
/// 1e-6 of the likelihood's size).
fn at_maximum(ll: &dyn Derivatives, beta: &[f64]) -> bool {
    let (value, gradient) = ll.value_gradient(beta, 0.0);
    gradient[..beta.len()]
        .iter()
        .all(|g| g.abs() <= 1e-6 * (1.0 + value.abs()))
}

/// BFGS over (β, τ) from `start` in units of the curvature there: each
/// coordinate scaled by |H_ii|^(−1/2) of the Hessian at the start, so that
/// BFGS's first step, along the gradient, is about a Newton step rather
/// than one the size of the gradient (which leaves the study intercepts
/// far to go back).
fn scaled_bfgs(
    ll: &dyn Derivatives,
    objective: &mut crate::numerics::optim::ValueGradient<'_, GlmmError>,
    start: &[f64],
    maxit: usize,
) -> Result<Vec<f64>, GlmmError> {
    let p = start.len() - 1;
    ll.value_gradient(&start[..p], start[p]);
    let h = ll.hessian(&start[..p], start[p], true);
    let scales: Vec<f64> = (0..start.len())
        .map(|i| match 1.0 / h[i][i].abs().sqrt() {
            s if s.is_finite() && s > 0.0 => s,
            _ => 1.0,
        })
        .collect();
    let point = |y: &[f64]| -> Vec<f64> {
        start
            .iter()
            .zip(y)
            .zip(&scales)
            .map(|((a, y), s)| a + s * y)
            .collect()
    };
    let mut scaled = |y: &[f64]| -> Result<(f64, Vec<f64>), GlmmError> {
        let (v, g) = objective(&point(y))?;
        Ok((v, g.iter().zip(&scales).map(|(g, s)| g * s).collect()))
    };
    let y = bfgs_with_gradient(&mut scaled, &vec![0.0; start.len()], BFGS_RELTOL, maxit)
        .map_err(|_| GlmmError::NotConverged)?;
    Ok(point(&y))
}

/// A Hessian, row by row.
type Hessian = Vec<Vec<f64>>;

fn negated(h: &[Vec<f64>]) -> Vec<Vec<f64>> {
    h.iter()
        .map(|row| row.iter().map(|v| -v).collect())
        .collect()
}

/// Newton's method on ℓ from `start` over β (`tau` = 0: the common-effect
/// model) or over (β, τ) (`start` holding τ last), steps halved while
/// they lower ℓ; at most 20 steps. Returns the point, and the Hessian there
/// where the last step was below the tolerance (so that the caller need not
/// compute it again).
fn newton_exact(
    ll: &dyn Derivatives,
    start: &[f64],
    tau: f64,
) -> Result<(Vec<f64>, Option<Hessian>), GlmmError> {
    let with_tau = tau != 0.0;
    let p = start.len() - usize::from(with_tau);
    let split = |x: &[f64]| -> (Vec<f64>, f64) {
        if with_tau {
            (x[..p].to_vec(), x[p].abs())
        } else {
            (x.to_vec(), 0.0)
        }
    };
    let mut x = start.to_vec();
    for _ in 0..20 {
        let (beta, t) = split(&x);
        let (value, gradient) = ll.value_gradient(&beta, t);
        let n = x.len();
        let h = ll.hessian(&beta, t, with_tau);
        let m = DMatrix::from_fn(n, n, |i, j| -h[i][j]);
        let Some(chol) = nalgebra::Cholesky::new(m) else {
            break;
        };
        let mut step: Vec<f64> = chol
            .solve(&DVector::from_column_slice(&gradient[..n]))
            .iter()
            .copied()
            .collect();
        if step
            .iter()
            .zip(&x)
            .all(|(s, a)| s.abs() <= 1e-10 * (1.0 + a.abs()))
        {
            if with_tau {
                x[p] = x[p].abs();
            }
            return Ok((x, Some(h)));
        }
        let mut moved = false;
        for _ in 0..30 {
            let next: Vec<f64> = x.iter().zip(&step).map(|(a, s)| a + s).collect();
            let (b, t) = split(&next);
            if ll.value_gradient(&b, t).0 >= value {
                x = next;
                moved = true;
                break;
            }
            step.iter_mut().for_each(|s| *s *= 0.5);
        }
        if !moved {
            break;
        }
    }
    if with_tau {
        x[p] = x[p].abs();
    }
    Ok((x, None))
}

/// The Hessian of ℓ over (β, τ) by central differences of its exact
/// gradient (steps 1e-5 relative; τ's at most τ/2), made symmetric.
pub(super) fn hessian_of_gradient(ll: &dyn Derivatives, beta: &[f64], tau: f64) -> Vec<Vec<f64>> {
    let p = beta.len();
    let mut point = beta.to_vec();
    point.push(tau);
    let n = p + 1;
    let mut h = vec![vec![0.0; n]; n];
    #[allow(clippy::needless_range_loop)] // c is the column of h
    for c in 0..n {
        let mut step = 1e-5 * (1.0 + point[c].abs());
        if c == p {
            step = step.min(0.5 * tau);
        }
        let (mut up, mut down) = (point.clone(), point.clone());
        up[c] += step;
        down[c] -= step;
        let gu = ll.value_gradient(&up[..p], up[p]).1;
        let gd = ll.value_gradient(&down[..p], down[p]).1;
        for r in 0..n {
            h[r][c] = (gu[r] - gd[r]) / (2.0 * step);
        }
    }
    symmetrised(h)
}

/// (H + H')/2.
pub(super) fn symmetrised(h: Vec<Vec<f64>>) -> Vec<Vec<f64>> {
    (0..h.len())
        .map(|r| (0..h.len()).map(|c| 0.5 * (h[r][c] + h[c][r])).collect())
        .collect()
}
