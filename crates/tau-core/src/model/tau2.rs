//! Estimators of the between-study variance τ², under metafor's names.
//!
//! Each estimator follows `metafor::rma.uni` (Viechtbauer 2005; 2010) to the
//! step, including its start values, step halving and stopping rule, so that
//! iterative estimates agree with metafor's to far better than the
//! convergence threshold. As in metafor, τ² is estimated from the mean-centred
//! outcomes (which changes nothing when the model has an intercept).

pub use super::convergence::{Control, Convergence, Fallback, Tau2Error};
use super::matrix::ModelMatrix;
pub use super::method::Method;
pub use super::paule_mandel::{paule_mandel, paule_mandel_median};
use super::quadratic_forms::{self, Forms, Wanted};
use super::wls::SingularDesign;
use super::{generalised_q, tau2_iterated as iterated};

/// The data an estimator sees: outcomes, sampling variances and the design.
#[derive(Debug, Clone, Copy)]
pub struct Problem<'a> {
    /// Mean-centred outcomes (metafor's `Ymc`).
    pub yc: &'a [f64],
    /// Sampling variances.
    pub vi: &'a [f64],
    /// The k×p model matrix.
    pub x: &'a dyn ModelMatrix,
    /// The user's weights aᵢ (the `weight` field), which GENQ and GENQM
    /// estimate with; `None` without them.
    pub weights: Option<&'a [f64]>,
}

impl Problem<'_> {
    pub(crate) fn k(&self) -> f64 {
        self.vi.len() as f64
    }
    pub(crate) fn p(&self) -> f64 {
        self.x.p() as f64
    }
    /// Quadratic forms and traces of P(τ²), with weights 1/(vᵢ + τ²).
    pub fn forms(&self, tau2: f64, wanted: Wanted) -> Result<Forms, SingularDesign> {
        quadratic_forms::at_tau2(self.x, self.yc, self.vi, tau2, wanted)
    }
    /// Generalised Q: y'P(τ²)y with weights 1/(vᵢ + τ²).
    pub fn generalised_q(&self, tau2: f64) -> Result<f64, SingularDesign> {
        quadratic_forms::q_at(self.x, self.yc, self.vi, tau2)
    }
}

/// Estimates τ² with `method`. The result is truncated at 0, as in metafor.
pub fn estimate(
    method: Method,
    problem: &Problem<'_>,
    control: &Control,
) -> Result<(f64, Convergence), Tau2Error> {
    // Truncated at 0 as in metafor; a non-finite value is an error, since
    // NaN.max(0) would silently give 0.
    let closed = |tau2: f64| {
        if !tau2.is_finite() {
            return Err(Tau2Error::NotFinite {
                method: method.name(),
                value: tau2,
            });
        }
        let convergence = Convergence {
            truncated_from: (tau2 < 0.0).then_some(tau2),
            ..Convergence::closed_form()
        };
        Ok((tau2.max(0.0), convergence))
    };
    Ok(match method {
        Method::EE => closed(0.0)?,
        Method::DL => closed(dersimonian_laird(problem)?)?,
        Method::HE => closed(hedges(problem)?)?,
        Method::HS => closed(hunter_schmidt(problem)?)?,
        Method::HSk => closed(hunter_schmidt_k(problem)?)?,
        Method::SJ => closed(sidik_jonkman(problem)?)?,
        Method::GENQ => closed(generalised_q::generalised_q(problem)?)?,
        Method::PM => paule_mandel(problem, control)?,
        Method::PMM => paule_mandel_median(problem, control)?,
        Method::DLIT => iterated::dersimonian_laird_iterated(problem, control)?,
        Method::SJIT => iterated::sidik_jonkman_iterated(problem, control)?,
        Method::GENQM => generalised_q::generalised_q_median(problem, control)?,
        Method::ML | Method::REML | Method::EB => fisher_scoring(method, problem, control)?,
    })
}

/// DerSimonian-Laird: τ² = (Q − (k − p)) / tr(P), with weights 1/vᵢ.
pub fn dersimonian_laird(problem: &Problem<'_>) -> Result<f64, SingularDesign> {
    let forms = problem.forms(0.0, Wanted::TR_P)?;
    Ok((forms.rss - (problem.k() - problem.p())) / forms.tr_p)
}

/// Hedges: τ² = (RSS_OLS − tr(P₀V)) / (k − p), with P₀ the unweighted residual maker.
///
/// tr(P₀V) = Σ vᵢ − tr((X'X)⁻¹ X'VX).
pub fn hedges(problem: &Problem<'_>) -> Result<f64, SingularDesign> {
    let (rss, tr_pv) = quadratic_forms::unweighted(problem.x, problem.yc, problem.vi)?;
    Ok((rss - tr_pv) / (problem.k() - problem.p()))
}

/// Hunter-Schmidt (Hunter & Schmidt 2004): τ² = (Q − k) / Σ wᵢ, with weights 1/vᵢ
/// (metafor `method = "HS"`).
pub fn hunter_schmidt(problem: &Problem<'_>) -> Result<f64, SingularDesign> {
    let forms = problem.forms(0.0, Wanted::Q)?;
    Ok((forms.rss - problem.k()) / forms.sum_w)
}

/// Hunter-Schmidt with the small-sample correction k/(k − p) of Q
/// (Hunter & Schmidt 2004; metafor `method = "HSk"`):
/// τ² = (Q·k/(k − p) − k) / Σ wᵢ, with weights 1/vᵢ.
pub fn hunter_schmidt_k(problem: &Problem<'_>) -> Result<f64, SingularDesign> {
    let (k, p) = (problem.k(), problem.p());
    let forms = problem.forms(0.0, Wanted::Q)?;
    Ok((k / (k - p) * forms.rss - k) / forms.sum_w)
}

/// Sidik-Jonkman: τ₀² = Σ(yᵢ − ȳ)²/k, then τ² = τ₀² · y'P(τ₀²)y / (k − p).
pub fn sidik_jonkman(problem: &Problem<'_>) -> Result<f64, SingularDesign> {
    let tau2_0 = problem.yc.iter().map(|y| y * y).sum::<f64>() / problem.k();
    Ok(tau2_0 * problem.generalised_q(tau2_0)? / (problem.k() - problem.p()))
}

/// Fisher scoring for ML, REML and EB, started at the Hedges estimate.
///
/// Updates (with W = diag(1/(vᵢ + τ²))):
/// * ML: Δ = (y'PPy − Σwᵢ) / Σwᵢ²;
/// * REML: Δ = (y'PPy − tr P) / tr PP;
/// * EB: Δ = (y'Py · k/(k − p) − k) / Σwᵢ.
///
/// A step that would make τ² negative is halved until it does not. Iteration
/// stops when |Δτ²| < threshold; more than `max_iter` iterations is failure.
///
/// metafor's absolute stopping rule can stop far from the optimum when the
/// sampling variances span dozens of orders of magnitude, a step from a start
/// near 0 can be tiny (the most precise study dominates) and the iteration
/// stops at once; and the ML and REML likelihoods can have two modes, of
/// which scoring finds the nearer. So, unlike metafor, when the variances are
/// at least [`EXTREME_VARIANCE_RATIO`] apart, or scoring ends at τ² = 0, the
/// result is checked against
/// the DerSimonian-Laird and (ML, REML) Paule-Mandel estimates: when
/// one is better by the estimator's own criterion ([`is_better`]), the scoring
/// is run again from there, and its result kept when it is better still. On
/// ordinary data the check never fires, and the iteration is metafor's step
/// by step.
fn fisher_scoring(
    method: Method,
    problem: &Problem<'_>,
    control: &Control,
) -> Result<(f64, Convergence), Tau2Error> {
    let (mut tau2, mut iterations, mut change) =
        score_from(method, problem, control, hedges(problem)?.max(0.0))?;
    let mut restarted_from = None;
    let (min, max) = problem
        .vi
        .iter()
        .fold((f64::INFINITY, 0.0f64), |(lo, hi), v| {
            (lo.min(*v), hi.max(*v))
        });
    // A result on the boundary is checked on any data: there metafor's
    // scoring can stop at τ² = 0 below an interior maximum (its profile()
    // then warns that the likelihood is higher elsewhere).
    if max / min < EXTREME_VARIANCE_RATIO && tau2 > 0.0 {
        return finish(method, problem, control, tau2, iterations, change, None);
    }
    // The DL estimate, and for ML and REML (whose likelihood can have two
    // modes) the PM estimate, which EB's equation already is.
    let pm = || -> Option<f64> {
        matches!(method, Method::ML | Method::REML)
            .then(|| paule_mandel(problem, control).ok().map(|(t, _)| t))
            .flatten()
    };
    let dl = dersimonian_laird(problem)?.max(0.0);
    let scan = if tau2 == 0.0 && matches!(method, Method::ML | Method::REML) {
        best_on_grid(method, problem)?
    } else {
        None
    };
    for start in [Some(dl), pm(), scan].into_iter().flatten() {
        if start.is_finite()
            && start != tau2
            && is_better(method, problem, start, tau2, control.tol)?
        {
            let (again, more, last) = score_from(method, problem, control, start)?;
            iterations += more;
            if is_better(method, problem, again, tau2, 0.0)? {
                restarted_from.get_or_insert(tau2);
                tau2 = again;
                change = last;
            }
        }
    }
    finish(
        method,
        problem,
        control,
        tau2,
        iterations,
        change,
        restarted_from,
    )
}

/// ML and REML at τ² = 0: the likelihood can rise again beyond a dip
/// after 0, to an interior maximum that neither the DL nor the PM estimate
/// (both 0 then) leads to. The best of 25 points from 10⁻⁶ s to 10 s, s =
/// Σ(yᵢ − ȳ)²/k (Sidik & Jonkman's start), log-spaced, is a start to score
/// from; `None` when the outcomes do not vary.
fn best_on_grid(method: Method, problem: &Problem<'_>) -> Result<Option<f64>, SingularDesign> {
    let s = problem.yc.iter().map(|y| y * y).sum::<f64>() / problem.k();
    if !(s.is_finite() && s > 0.0) {
        return Ok(None);
    }
    let mut best: Option<(f64, f64)> = None;
    for j in 0..25 {
        let t = s * 10f64.powf(-6.0 + 7.0 * f64::from(j) / 24.0);
        let ll = log_likelihood(method, problem, t)?;
        if ll.is_finite() && best.is_none_or(|(_, b)| ll > b) {
            best = Some((t, ll));
        }
    }
    Ok(best.map(|(t, _)| t))
}

/// metafor's `evtol`: sampling variances 1e7 or more apart make the weights
/// so unequal that the results may be numerically unstable. Only then is a
/// Fisher-scoring result checked against the moments estimates (which costs a
/// root search), so that ordinary fits are metafor's and as fast.
pub const EXTREME_VARIANCE_RATIO: f64 = 1e7;

/// metafor's `ll0check` (ML, REML: τ² = 0 when the likelihood is higher
/// there) and the record of convergence.
fn finish(
    method: Method,
    problem: &Problem<'_>,
    control: &Control,
    mut tau2: f64,
    iterations: usize,
    change: f64,
    restarted_from: Option<f64>,
) -> Result<(f64, Convergence), Tau2Error> {
    let mut reset_to_zero = false;
    if matches!(method, Method::ML | Method::REML)
        && tau2 > control.threshold
        && log_likelihood(method, problem, 0.0)? - log_likelihood(method, problem, tau2)?
            > control.tol
    {
        tau2 = 0.0;
        reset_to_zero = true;
    }
    Ok((
        tau2.max(0.0),
        Convergence {
            iterations,
            final_change: change,
            reset_to_zero,
            restarted_from,
            ..Convergence::closed_form()
        },
    ))
}

/// Fisher scoring from `start` until |Δτ²| < threshold: τ², the iterations
/// used and the last change.
fn score_from(
    method: Method,
    problem: &Problem<'_>,
    control: &Control,
    start: f64,
) -> Result<(f64, usize, f64), Tau2Error> {
    let (k, p) = (problem.k(), problem.p());
    let mut tau2 = start;
    let mut change = control.threshold + 1.0;
    let mut iterations = 0;
    while change > control.threshold {
        iterations += 1;
        let wanted = if method == Method::REML {
            Wanted::TRACES
        } else {
            Wanted::Q
        };
        let f = problem.forms(tau2, wanted)?;
        let mut adj = match method {
            Method::ML => (f.rss_pp - f.sum_w) / f.sum_w2,
            Method::REML => (f.rss_pp - f.tr_p) / f.tr_pp,
            _ => (f.rss * k / (k - p) - k) / f.sum_w,
        };
        // metafor sets a NaN step to 0. An infinite step (weights that
        // overflowed) is treated the same way: halving it would never end.
        if !adj.is_finite() {
            adj = 0.0;
        }
        while tau2 + adj < 0.0 {
            adj /= 2.0;
        }
        let old = tau2;
        tau2 += adj;
        change = (old - tau2).abs();
        if iterations > control.max_iter {
            return Err(Tau2Error::NotConverged {
                method: method.name(),
                max_iter: control.max_iter,
                last_change: change,
            });
        }
    }
    Ok((tau2, iterations, change))
}

/// Whether `candidate` beats `current` by the estimator's own criterion by
/// more than `tol`, so that the scoring stopped short of the optimum:
/// * ML, REML: the log-likelihood is higher (`tol` as in metafor's `ll0check`);
/// * EB: its estimating equation y'Py · k/(k − p) = k (the Paule-Mandel
///   equation) is off by more than `tol`·k at `current`, and less off at `candidate`.
fn is_better(
    method: Method,
    problem: &Problem<'_>,
    candidate: f64,
    current: f64,
    tol: f64,
) -> Result<bool, SingularDesign> {
    Ok(match method {
        Method::ML | Method::REML => {
            log_likelihood(method, problem, candidate)? - log_likelihood(method, problem, current)?
                > tol
        }
        _ => {
            let (k, p) = (problem.k(), problem.p());
            let off = |t: f64| -> Result<f64, SingularDesign> {
                Ok((problem.generalised_q(t)? * k / (k - p) - k).abs())
            };
            let at_current = off(current)?;
            at_current > tol * k && off(candidate)? < at_current
        }
    })
}

/// The ML or REML log-likelihood at τ² (up to what metafor's `ll0check` compares).
fn log_likelihood(method: Method, problem: &Problem<'_>, tau2: f64) -> Result<f64, SingularDesign> {
    let (k, p) = (problem.k(), problem.p());
    let wanted = if method == Method::ML {
        Wanted::Q
    } else {
        Wanted::LOG_DET
    };
    let f = problem.forms(tau2, wanted)?;
    let sum_log_v: f64 = problem.vi.iter().map(|v| (v + tau2).ln()).sum();
    let two_pi = 2.0 * std::f64::consts::PI;
    Ok(match method {
        Method::ML => -0.5 * k * two_pi.ln() - 0.5 * sum_log_v - 0.5 * f.rss,
        _ => -0.5 * (k - p) * two_pi.ln() - 0.5 * sum_log_v - 0.5 * f.log_det - 0.5 * f.rss,
    })
}
