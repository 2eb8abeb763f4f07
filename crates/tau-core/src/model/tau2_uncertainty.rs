//! The standard error of τ̂² and its Wald-type confidence interval (metafor
//! `rma.uni`'s `se.tau2` and `confint(res, type = "Wald")`).
//!
//! The SE of each estimator is in [`super::tau2_se`] (ML: √(2/Σwᵢ²), the
//! inverse Fisher information; REML: √(2/tr(PP)); the moments estimators:
//! the variance of their quadratic form).
//!
//! The Wald CI is τ̂² ± z₁₋α/₂·SE, its lower limit floored at 0, with the
//! matching limits of I² = 100 τ²/(s̃² + τ²) and H² = τ²/s̃² + 1.
//!
//! The profile-likelihood CI (metafor `confint(res, type = "PL")`) holds the
//! τ² whose likelihood ratio to the maximum stays below the χ²(1) quantile:
//! −2(ℓ(τ²) − ℓ(τ̂²)) = χ²₁;₁₋α, ℓ the REML log-likelihood for REML fits
//! and the ML one otherwise (β̂ re-estimated at each τ²). As metafor, each
//! limit is searched with R's `uniroot` between τ̂² and 0 or
//! max(100, 10τ̂²); a limit beyond the search interval is reported at its end.

use super::matrix::ModelMatrix;

use super::fit::ModelFit;
use super::fit_statistics::log_likelihood;
use super::heterogeneity::HeterogeneityCi;
use super::method::Method;
use super::wls::SingularDesign;
use crate::numerics::distribution::{chisq_quantile, normal_upper};
use crate::numerics::zeroin::{R_UNIROOT_TOL, zeroin};

/// SE(τ̂²) of the estimator the model was fitted with (every estimator but
/// EE; the formulas are in [`super::tau2_se`]), as the fit computed it.
pub fn tau2_se(
    _vi: &[f64],
    _x: &dyn ModelMatrix,
    model: &ModelFit,
) -> Result<Option<f64>, SingularDesign> {
    Ok(model.tau2_se)
}

/// The Wald-type CI of τ² at `level` percent, with I² and H² from the
/// typical sampling variance `typical_variance`.
pub fn wald_ci(tau2: f64, se: f64, typical_variance: f64, level: f64) -> HeterogeneityCi {
    let z = normal_upper((1.0 - level / 100.0) / 2.0);
    let bounds = [(tau2 - z * se).max(0.0), tau2 + z * se];
    HeterogeneityCi {
        tau2: bounds,
        i2: bounds.map(|t| 100.0 * t / (typical_variance + t)),
        h2: bounds.map(|t| t / typical_variance + 1.0),
        null_set: false,
        upper_beyond_search: false,
    }
}

/// The profile-likelihood CI of τ² at `level` percent for the model y ~ X
/// fitted with `method` to τ̂² = `tau2`, with I² and H² from the typical
/// sampling variance.
pub fn profile_ci(
    yi: &[f64],
    vi: &[f64],
    x: &dyn ModelMatrix,
    (tau2, method): (f64, Method),
    typical_variance: f64,
    level: f64,
) -> Result<HeterogeneityCi, SingularDesign> {
    let reml = method == Method::REML;
    let maximum = log_likelihood(yi, vi, x, tau2, reml)?;
    let crit = chisq_quantile(level / 100.0, 1.0);
    let mut failure = None;
    let mut objective = |t: f64| match log_likelihood(yi, vi, x, t, reml) {
        Ok(ll) => -2.0 * (ll - maximum) - crit,
        Err(e) => {
            failure = Some(e);
            f64::NAN
        }
    };
    let (t_min, t_max) = (0.0, 100f64.max(10.0 * tau2));
    let at_estimate = objective(tau2);
    let mut search = |from: f64, to: f64, f_from: f64| {
        zeroin(
            &mut objective,
            from,
            to,
            f_from,
            at_estimate,
            R_UNIROOT_TOL,
            1000,
        )
        .map_or(f64::NAN, |root| root.x)
    };
    let f_min = log_likelihood(yi, vi, x, t_min, reml).map(|ll| -2.0 * (ll - maximum) - crit)?;
    let lower = if f_min < 0.0 {
        t_min
    } else {
        search(t_min, tau2, f_min)
    };
    let f_max = log_likelihood(yi, vi, x, t_max, reml).map(|ll| -2.0 * (ll - maximum) - crit)?;
    let upper_beyond_search = f_max < 0.0;
    let upper = if upper_beyond_search {
        t_max
    } else {
        // uniroot's interval is (τ̂², max): the ends in that order.
        zeroin(
            &mut objective,
            tau2,
            t_max,
            at_estimate,
            f_max,
            R_UNIROOT_TOL,
            1000,
        )
        .map_or(f64::NAN, |root| root.x)
    };
    if let Some(e) = failure {
        return Err(e);
    }
    let bounds = [lower, upper];
    Ok(HeterogeneityCi {
        tau2: bounds,
        i2: bounds.map(|t| 100.0 * t / (typical_variance + t)),
        h2: bounds.map(|t| t / typical_variance + 1.0),
        null_set: false,
        upper_beyond_search,
    })
}
