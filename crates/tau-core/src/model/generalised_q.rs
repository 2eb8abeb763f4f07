//! The generalised Q estimators with the user's weights aᵢ (the `weight`
//! field, metafor's `weights =`), which also weight the fixed effects.
//!
//! With A = diag(aᵢ), P_A = A − AX(X'AX)⁻¹X'A and Q_A = y'P_A y, the
//! generalised Q statistic has expectation tr(P_A V) + τ² tr(P_A) and, for
//! normal outcomes, the distribution Σⱼ λⱼ(τ²) χ²₁ with λⱼ(τ²) the k − p
//! non-zero eigenvalues of S P_A S, S = diag(√(vᵢ + τ²)).

use nalgebra::DMatrix;

use super::chisq_mixture;
use super::convergence::{Control, Convergence, Tau2Error};
use super::heterogeneity::HeterogeneityCi;
use super::matrix::ModelMatrix;
use super::paule_mandel::search_upper;
use super::residual_maker::ResidualMaker;
use super::tau2::Problem;
use super::wls::{SingularDesign, Wls};
use crate::numerics::zeroin::{R_UNIROOT_TOL, zeroin};

/// The distribution of the generalised Q statistic Q_A as a function of τ²,
/// at its observed value.
struct Distribution<'a> {
    /// P_A, k×k.
    p: DMatrix<f64>,
    /// The observed Q_A.
    q: f64,
    /// k − p: the number of non-zero eigenvalues.
    df: usize,
    vi: &'a [f64],
}

impl<'a> Distribution<'a> {
    fn new(
        x: &dyn ModelMatrix,
        y: &[f64],
        vi: &'a [f64],
        a: &[f64],
    ) -> Result<Distribution<'a>, SingularDesign> {
        Ok(Distribution {
            p: ResidualMaker::new(x, a)?.dense(),
            q: Wls::fit(x, y, a)?.rss(a),
            df: vi.len().saturating_sub(x.p()),
            vi,
        })
    }

    /// P(Q_A ≤ q_observed) when the true heterogeneity is `tau2`.
    fn cdf(&self, tau2: f64) -> Result<f64, Tau2Error> {
        let s: Vec<f64> = self.vi.iter().map(|v| (v + tau2).sqrt()).collect();
        let (rows, cols) = self.p.shape();
        let sps = DMatrix::from_fn(rows, cols, |i, j| s[i] * self.p[(i, j)] * s[j]);
        let mut lambda: Vec<f64> = sps.symmetric_eigenvalues().iter().copied().collect();
        lambda.sort_by(|x, y| y.total_cmp(x));
        lambda.truncate(self.df);
        chisq_mixture::cdf(self.q, &lambda).map_err(|_| Tau2Error::SeriesFailed { tau2 })
    }
}

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
    let distribution = Distribution::new(problem.x, problem.yc, problem.vi, a)?;
    let cdf = |tau2: f64| distribution.cdf(tau2);
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

/// The generalised Q confidence interval for τ² (Jackson 2013; metafor's
/// `confint()` of a GENQ or GENQM fit, `type = "GENQ"`) at `level`
/// percent, with the matching I² and H² from the typical sampling variance.
///
/// With F(τ²) = P(Q_A ≤ q_observed | τ²), which falls as τ² grows, the
/// limits solve F = 1 − α/2 (lower) and F = α/2 (upper) on
/// [0, max(100, 10τ̂²)] with R's `uniroot()`, in metafor's order of cases:
/// a limit beyond an end of the interval is reported at that end, and when
/// F(0) < α/2 the interval is the null set, [0, 0].
pub fn generalised_q_ci(
    (yi, vi): (&[f64], &[f64]),
    x: &dyn ModelMatrix,
    weights: &[f64],
    tau2_hat: f64,
    typical_variance: f64,
    level: f64,
) -> Result<HeterogeneityCi, Tau2Error> {
    let distribution = Distribution::new(x, yi, vi, weights)?;
    let alpha = 1.0 - level / 100.0;
    let (t_min, t_max) = (0.0, 100f64.max(10.0 * tau2_hat));
    let (f_min, f_max) = (distribution.cdf(t_min)?, distribution.cdf(t_max)?);
    let mut failure = None;
    let mut solve = |target: f64| {
        zeroin(
            |t| match distribution.cdf(t) {
                Ok(f) => f - target,
                Err(e) => {
                    failure = Some(e);
                    0.0
                }
            },
            t_min,
            t_max,
            f_min - target,
            f_max - target,
            R_UNIROOT_TOL,
            1000,
        )
        .map_or(f64::NAN, |root| root.x)
    };
    // metafor's upper tail Qq = 1 − F; the upper limit, then the lower.
    let null_set = 1.0 - f_min > 1.0 - alpha / 2.0;
    let mut upper_beyond_search = false;
    let mut upper = if null_set {
        t_min
    } else if 1.0 - f_max < 1.0 - alpha / 2.0 {
        upper_beyond_search = true;
        t_max
    } else {
        solve(alpha / 2.0)
    };
    let lower = if 1.0 - f_max < alpha / 2.0 {
        upper = t_max;
        upper_beyond_search = true;
        t_max
    } else if 1.0 - f_min > alpha / 2.0 {
        t_min
    } else {
        solve(1.0 - alpha / 2.0)
    };
    if let Some(e) = failure {
        return Err(e);
    }
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
