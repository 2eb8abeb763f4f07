//! The generalised Q estimators with the user's weights aᵢ (the `weight`
//! field, metafor's `weights =`), which also weight the fixed effects.
//!
//! With A = diag(aᵢ), P_A = A − AX(X'AX)⁻¹X'A and Q_A = y'P_A y, the
//! generalised Q statistic has expectation tr(P_A V) + τ² tr(P_A) and, for
//! normal outcomes, the distribution Σⱼ λⱼ(τ²) χ²₁ with λⱼ(τ²) the k − p
//! non-zero eigenvalues of S P_A S, S = diag(√(vᵢ + τ²)).

use super::chisq_mixture;
use super::convergence::{Control, Convergence, Tau2Error};
use super::residual_maker::ResidualMaker;
use super::tau2::{Problem, search_upper};
use super::wls::{SingularDesign, Wls};
use super::zeroin::zeroin;

/// The user's weights, or the error that the estimator needs them.
fn weights<'a>(problem: &Problem<'a>, method: &'static str) -> Result<&'a [f64], Tau2Error> {
    problem.weights.ok_or(Tau2Error::NeedsWeights { method })
}

/// Q_A = y'P_A y.
fn q_a(problem: &Problem<'_>, a: &[f64]) -> Result<f64, SingularDesign> {
    Ok(Wls::fit(problem.x, problem.yc, a)?.rss(a))
}

/// The generalised Q (method of moments) estimator (DerSimonian & Kacker
/// 2007; metafor `method = "GENQ"`): Q_A equals its expectation,
///
///   τ² = (Q_A − tr(P_A V)) / tr(P_A).
///
/// DL (aᵢ = 1/vᵢ) and HE (aᵢ = 1) are the special cases.
pub fn generalised_q(problem: &Problem<'_>) -> Result<f64, Tau2Error> {
    let a = weights(problem, "GENQ")?;
    let p = ResidualMaker::new(problem.x, a)?;
    let trace_pv = p.trace(&|i| problem.vi[i]);
    Ok((q_a(problem, a)? - trace_pv) / p.trace(&|_| 1.0))
}

/// The median-unbiased generalised Q estimator (Jackson 2013; metafor
/// `method = "GENQM"`): the τ² at which the observed Q_A is the median of
/// its distribution, P(Σ λⱼ(τ²) χ²₁ ≤ Q_A) = ½, computed exactly by
/// [`chisq_mixture::cdf`].
///
/// As metafor: τ² = 0 when P(… ≤ Q_A) < ½ already at τ² = 0, an error when
/// it is still above ½ at the upper end max(100, 10·MAD(y)²), and otherwise
/// R's `uniroot()` on that interval.
pub fn generalised_q_median(
    problem: &Problem<'_>,
    control: &Control,
) -> Result<(f64, Convergence), Tau2Error> {
    let a = weights(problem, "GENQM")?;
    let p = ResidualMaker::new(problem.x, a)?.dense();
    let q = q_a(problem, a)?;
    let df = problem.vi.len() - problem.x.p();
    let cdf = |tau2: f64| -> Result<f64, Tau2Error> {
        let s: Vec<f64> = problem.vi.iter().map(|v| (v + tau2).sqrt()).collect();
        let sps = nalgebra::DMatrix::from_fn(p.nrows(), p.ncols(), |i, j| s[i] * p[(i, j)] * s[j]);
        let mut lambda: Vec<f64> = sps.symmetric_eigenvalues().iter().copied().collect();
        lambda.sort_by(|x, y| y.total_cmp(x));
        lambda.truncate(df);
        chisq_mixture::cdf(q, &lambda).map_err(|_| Tau2Error::SeriesFailed { tau2 })
    };
    let upper = search_upper(problem);
    let f_lower = cdf(0.0)? - 0.5;
    if f_lower < 0.0 {
        return Ok((0.0, Convergence::closed_form()));
    }
    let f_upper = cdf(upper)? - 0.5;
    if f_upper > 0.0 {
        return Err(Tau2Error::NoRoot {
            method: "GENQM",
            upper,
        });
    }
    let mut failure = None;
    let root = zeroin(
        |tau2| match cdf(tau2) {
            Ok(value) => value - 0.5,
            Err(e) => {
                failure = Some(e);
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
    if let Some(e) = failure {
        return Err(e);
    }
    let root = root.map_err(|last| Tau2Error::NotConverged {
        method: "GENQM",
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
