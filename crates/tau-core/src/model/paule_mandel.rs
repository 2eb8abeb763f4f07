//! The Paule-Mandel estimators: the τ² at which the generalised Q statistic
//! y'P(τ²)y, weights 1/(vᵢ + τ²), equals its expectation (PM) or its median
//! (PMM), found as metafor finds it, with R's `uniroot()` on
//! [0, max(100, 10·MAD(y)²)].

use super::convergence::{Control, Convergence, Tau2Error};
use super::tau2::Problem;
use crate::numerics::distribution::chisq_quantile;
use crate::numerics::zeroin::zeroin;

/// Paule-Mandel (Paule & Mandel 1982): the τ² at which the generalised Q
/// equals its expectation k − p (metafor `method = "PM"`).
///
/// Searched on [0, max(100, 10·MAD(y)²)] with R's `uniroot()` settings, as metafor does.
pub fn paule_mandel(
    problem: &Problem<'_>,
    control: &Control,
) -> Result<(f64, Convergence), Tau2Error> {
    q_equals(problem, control, "PM", problem.k() - problem.p())
}

/// Median-unbiased Paule-Mandel (Viechtbauer 2021; metafor `method = "PMM"`):
/// the τ² at which the generalised Q equals the median of χ²(k − p), its
/// distribution at the true τ², searched as [`paule_mandel`].
pub fn paule_mandel_median(
    problem: &Problem<'_>,
    control: &Control,
) -> Result<(f64, Convergence), Tau2Error> {
    let median = chisq_quantile(0.5, problem.k() - problem.p());
    q_equals(problem, control, "PMM", median)
}

/// The upper end of the root searches of PM, PMM and GENQM: metafor's
/// `tau2.max`, max(100, 10·MAD(y)²).
pub(crate) fn search_upper(problem: &Problem<'_>) -> f64 {
    100f64.max(10.0 * mad(problem.yc).powi(2))
}

/// The τ² at which the generalised Q equals `target`: 0 when Q(0) is below
/// it already, an error when Q(upper) is still above it.
fn q_equals(
    problem: &Problem<'_>,
    control: &Control,
    method: &'static str,
    target: f64,
) -> Result<(f64, Convergence), Tau2Error> {
    let upper = search_upper(problem);
    let f_lower = problem.generalised_q(0.0)? - target;
    if f_lower < 0.0 {
        return Ok((0.0, Convergence::closed_form()));
    }
    let f_upper = problem.generalised_q(upper)? - target;
    if f_upper > 0.0 {
        return Err(Tau2Error::NoRoot { method, upper });
    }
    let mut singular = None;
    let root = zeroin(
        |tau2| match problem.generalised_q(tau2) {
            Ok(q) => q - target,
            Err(e) => {
                singular = Some(e);
                0.0
            }
        },
        0.0,
        upper,
        f_lower,
        f_upper,
        control.tol,
        control.max_iter,
    );
    if let Some(e) = singular {
        return Err(e.into());
    }
    let root = root.map_err(|last| Tau2Error::NotConverged {
        method,
        max_iter: control.max_iter,
        last_change: last.precision,
    })?;
    Ok((
        root.x.max(0.0),
        Convergence {
            iterations: root.iterations,
            final_change: root.precision,
            ..Convergence::closed_form()
        },
    ))
}

/// Median absolute deviation scaled for consistency at the normal, as R's `mad()`.
fn mad(y: &[f64]) -> f64 {
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        let n = v.len();
        if n == 0 {
            return 0.0;
        }
        if n % 2 == 1 {
            v[n / 2]
        } else {
            (v[n / 2 - 1] + v[n / 2]) / 2.0
        }
    };
    let mut values = y.to_vec();
    let centre = median(&mut values);
    let mut deviations: Vec<f64> = y.iter().map(|v| (v - centre).abs()).collect();
    1.4826 * median(&mut deviations)
}
