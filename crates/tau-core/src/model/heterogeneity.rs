//! Confidence interval for τ² by the Q-profile method (Viechtbauer 2007), and
//! the matching intervals for I² and H².
//!
//! The bounds solve Q(τ²) = χ²_{k−p; 1−α/2} (lower) and Q(τ²) = χ²_{k−p; α/2}
//! (upper), where Q(τ²) = Σ wᵢ(τ²) eᵢ² is the generalised Q statistic, which
//! falls as τ² grows. As metafor's `confint.rma.uni()`, the search runs on
//! [0, max(100, 10 τ̂²)] with R's `uniroot()` and its default tolerance; a
//! bound that falls outside that interval is reported at the interval's end.

use super::matrix::ModelMatrix;
use serde::Serialize;

use super::tau2::Problem;
use super::wls::SingularDesign;
use crate::numerics::distribution::chisq_quantile;
use crate::numerics::zeroin::{R_UNIROOT_TOL, zeroin};

/// Q-profile confidence intervals for τ², I² (percent) and H².
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct HeterogeneityCi {
    /// [lower, upper] for τ².
    pub tau2: [f64; 2],
    /// [lower, upper] for I² in percent.
    pub i2: [f64; 2],
    /// [lower, upper] for H².
    pub h2: [f64; 2],
    /// True when even τ² = 0 gives a Q below the lower critical value: the
    /// interval is the null set and reported as [0, 0] (metafor prints "null set").
    pub null_set: bool,
    /// True when the upper bound lies beyond the search interval and is only a lower limit for it.
    pub upper_beyond_search: bool,
}

/// Computes the Q-profile interval at confidence `level` (percent).
pub fn q_profile_ci(
    yi: &[f64],
    vi: &[f64],
    x: &dyn ModelMatrix,
    tau2_hat: f64,
    typical_variance: f64,
    level: f64,
) -> Result<HeterogeneityCi, SingularDesign> {
    let problem = Problem {
        yc: yi,
        vi,
        x,
        weights: None,
    };
    let df = yi.len().saturating_sub(x.p()) as f64;
    let alpha = 1.0 - level / 100.0;
    let crit_upper = chisq_quantile(1.0 - alpha / 2.0, df);
    let crit_lower = chisq_quantile(alpha / 2.0, df);
    let (t_min, t_max) = (0.0, 100f64.max(10.0 * tau2_hat));
    let q_min = problem.generalised_q(t_min)?;
    let q_max = problem.generalised_q(t_max)?;

    let mut failure = None;
    let mut solve = |target: f64| {
        zeroin(
            |t| match problem.generalised_q(t) {
                Ok(q) => q - target,
                Err(e) => {
                    failure = Some(e);
                    0.0
                }
            },
            t_min,
            t_max,
            q_min - target,
            q_max - target,
            R_UNIROOT_TOL,
            1000,
        )
        .map_or(f64::NAN, |root| root.x)
    };

    // The upper bound, then the lower, in metafor's order of cases.
    let null_set = q_min < crit_lower;
    let mut upper_beyond_search = false;
    let mut upper = if null_set {
        t_min
    } else if q_max > crit_lower {
        upper_beyond_search = true;
        t_max
    } else {
        solve(crit_lower)
    };
    let lower = if q_max > crit_upper {
        upper = t_max;
        upper_beyond_search = true;
        t_max
    } else if q_min < crit_upper {
        t_min
    } else {
        solve(crit_upper)
    };
    if let Some(e) = failure {
        return Err(e);
    }
    // Clamped at 100 against a last-bit overshoot when t dwarfs the typical variance.
    let i2 = |t: f64| super::fit::at_most_100(100.0 * t / (typical_variance + t));
    let h2 = |t: f64| t / typical_variance + 1.0;
    Ok(HeterogeneityCi {
        tau2: [lower, upper],
        i2: [i2(lower), i2(upper)],
        h2: [h2(lower), h2(upper)],
        null_set,
        upper_beyond_search,
    })
}
