//! The iterated moments estimators DLIT and SJIT, with metafor's start
//! values and stopping rule: iterate until τ² changes by less than
//! `threshold` (1e-5); more than `max_iter` (100) iterations is failure
//! (metafor stops with "Iterative DL/SJ estimator did not converge").

use super::convergence::{Control, Convergence, Tau2Error};
use super::residual_maker::ResidualMaker;
use super::tau2::Problem;

/// DerSimonian-Laird iterated to convergence (DerSimonian & Kacker 2007;
/// metafor `method = "DLIT"`): from τ² = 0, repeat the general method of
/// moments at the current weights wᵢ = 1/(vᵢ + τ²),
///
///   τ² ← max(0, (Q_w − tr(P_w V)) / tr(P_w)),  Q_w = y'P_w y,
///
/// whose fixed point is the Paule-Mandel estimate. This is metafor's update
/// since 4.6-0; metafor 3.8 subtracted k − p instead of tr(P_w V), which is
/// right only at the first step.
pub fn dersimonian_laird_iterated(
    problem: &Problem<'_>,
    control: &Control,
) -> Result<(f64, Convergence), Tau2Error> {
    iterate(control, "DLIT", 0.0, |tau2| {
        let w: Vec<f64> = problem.vi.iter().map(|v| 1.0 / (v + tau2)).collect();
        let q = problem.generalised_q(tau2)?;
        let p = ResidualMaker::new(problem.x, &w)?;
        let next = (q - p.trace(&|i| problem.vi[i])) / p.trace(&|_| 1.0);
        Ok(next.max(0.0))
    })
}

/// Sidik-Jonkman iterated to convergence (Sidik & Jonkman 2007; metafor
/// `method = "SJIT"`): from τ₀² = Σ(yᵢ − ȳ)²/k (metafor's
/// `var(yi)·(k − 1)/k`), repeat τ² ← τ²·y'P(τ²)y/(k − p).
pub fn sidik_jonkman_iterated(
    problem: &Problem<'_>,
    control: &Control,
) -> Result<(f64, Convergence), Tau2Error> {
    let (k, p) = (problem.k(), problem.p());
    let start = problem.yc.iter().map(|y| y * y).sum::<f64>() / k;
    iterate(control, "SJIT", start, |tau2| {
        Ok(tau2 * problem.generalised_q(tau2)? / (k - p))
    })
}

/// Applies `step` from `start` until |Δτ²| ≤ threshold, as metafor's
/// `while (change > con$threshold)` loop.
fn iterate(
    control: &Control,
    method: &'static str,
    start: f64,
    mut step: impl FnMut(f64) -> Result<f64, Tau2Error>,
) -> Result<(f64, Convergence), Tau2Error> {
    let mut tau2 = start;
    let mut change = control.threshold + 1.0;
    let mut iterations = 0;
    while change > control.threshold {
        iterations += 1;
        let next = step(tau2)?;
        if !next.is_finite() {
            return Err(Tau2Error::NotFinite {
                method,
                value: next,
            });
        }
        change = (next - tau2).abs();
        tau2 = next;
        if iterations > control.max_iter {
            return Err(Tau2Error::NotConverged {
                method,
                max_iter: control.max_iter,
                last_change: change,
            });
        }
    }
    Ok((
        tau2.max(0.0),
        Convergence {
            iterations,
            final_change: change,
            ..Convergence::closed_form()
        },
    ))
}
