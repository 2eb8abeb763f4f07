//! Profile-likelihood confidence intervals for each σ², as metafor's
//! `confint(res, sigma2 = j)` computes them.
//!
//! The interval holds the values x of σ²ⱼ at which the likelihood ratio
//! statistic 2[ℓ(θ̂) − max ℓ(θ | σ²ⱼ = x)] stays below the χ²₁ quantile of
//! the confidence level, the other components re-estimated at each x. As in
//! metafor, the search runs over [0, max(10, 100 σ̂²ⱼ)] (10 when σ̂²ⱼ ≈ 0):
//! a lower limit below which the statistic never crosses is 0, and an upper
//! limit beyond the search range is reported as open (`None`; metafor
//! prints "> limit"). Limits are found by Brent's method to 1e-10 absolute.

use super::MultilevelError;
use super::fit::{Fitted, maximise_with};
use super::likelihood::Problem;
use crate::model::distribution::chisq_quantile;
use crate::model::zeroin::zeroin;

/// Absolute tolerance of the limits.
const TOL: f64 = 1e-10;

/// Root-search steps before a limit is given up.
const MAX_ITER: usize = 1000;

/// A profile-likelihood CI for one σ².
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProfileCi {
    /// Lower limit (0 when the statistic stays below the quantile down to 0).
    pub lower: f64,
    /// Upper limit; `None` when it lies beyond `limit`.
    pub upper: Option<f64>,
    /// The upper end of the search range.
    pub limit: f64,
}

/// The CI of σ²ⱼ of `full` at `level` percent.
pub fn profile_ci(
    problem: &Problem,
    full: &Fitted,
    j: usize,
    level: f64,
    max_iter: usize,
    labels: &[String],
) -> Result<ProfileCi, MultilevelError> {
    let estimate = full.sigma2[j];
    let objective = chisq_quantile(level / 100.0, 1.0);
    let levels = full.sigma2.len();
    // LRT − quantile at σ²ⱼ = x, the others re-fitted from the full estimates.
    let statistic = |x: f64| -> Result<f64, MultilevelError> {
        let mut fixed = vec![None; levels];
        fixed[j] = Some(x);
        let refit = maximise_with(problem, &full.sigma2, &fixed, max_iter, labels)?;
        Ok(2.0 * (full.eval.ll - refit.eval.ll) - objective)
    };
    let limit = if estimate <= f64::EPSILON.sqrt() {
        10.0
    } else {
        (100.0 * estimate).max(10.0)
    };
    let at_estimate = -objective;
    let mut failure = None;
    let mut root = |lo: f64, hi: f64, f_lo: f64, f_hi: f64| {
        let mut f = |x: f64| match statistic(x) {
            Ok(v) => v,
            Err(e) => {
                failure.get_or_insert(e);
                f64::NAN
            }
        };
        match zeroin(&mut f, lo, hi, f_lo, f_hi, TOL, MAX_ITER) {
            Ok(r) | Err(r) => r.x,
        }
    };
    let at_zero = statistic(0.0)?;
    let lower = if at_zero < 0.0 || estimate == 0.0 {
        0.0
    } else {
        root(0.0, estimate, at_zero, at_estimate)
    };
    let at_limit = statistic(limit)?;
    let upper = if at_limit < 0.0 {
        None
    } else {
        Some(root(estimate, limit, at_estimate, at_limit))
    };
    if let Some(e) = failure {
        return Err(e);
    }
    Ok(ProfileCi {
        lower,
        upper,
        limit,
    })
}
