//! Maximising the (restricted) likelihood over the variance components σ² ≥ 0.
//!
//! metafor's `rma.mv` hands −ℓ(exp(θ)) to `nlminb`, so a σ² on the boundary is
//! only approached (as a tiny positive number). tau works on σ² itself with
//! the analytic gradient and Hessian of [`super::likelihood`]: a Newton step
//! where the observed information is positive definite, a Fisher-scoring step
//! (expected information, pseudo-inverted) elsewhere, halved until the
//! likelihood does not decrease, and projected onto σ² ≥ 0. A component at 0
//! whose gradient points outward stays there (the bound is active) and is
//! reported as on the boundary. Iteration stops when no component changes
//! by more than [`CHANGE_TOL`] relative to max(σ², mean vᵢ), or when the
//! next step would not (it is then not taken).

use nalgebra::{DMatrix, DVector, SymmetricEigen};
use serde::Serialize;

use super::likelihood::{EvalError, Evaluation, Problem};

/// Relative change in σ² below which the iteration has converged.
pub const CHANGE_TOL: f64 = 1e-10;

/// A converged σ² below this times the typical sampling variance is tried at 0.
const ZERO_TOL: f64 = 1e-8;

/// Halvings of a step before the line search gives up.
const MAX_HALVINGS: usize = 60;

/// How the variance components were reached. Field names are the JSON contract.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Convergence {
    /// Iterations used.
    pub iterations: usize,
    /// Largest absolute gradient of the log-likelihood over the components
    /// not held at a bound, at the solution.
    pub gradient: f64,
    /// The largest change in a σ² in the last iteration (the step left, not
    /// taken, when that step is below the tolerance).
    pub final_change: f64,
}

/// The maximum.
#[derive(Debug, Clone)]
pub struct Optimum {
    /// The variance components, outermost level first.
    pub sigma2: Vec<f64>,
    /// The likelihood and GLS fit there.
    pub eval: Evaluation,
    /// How it was reached.
    pub convergence: Convergence,
}

/// Why the maximisation failed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum OptimiseError {
    /// The likelihood could not be evaluated.
    Eval(EvalError),
    /// The iteration limit was reached.
    NotConverged(Convergence),
}

impl From<EvalError> for OptimiseError {
    fn from(e: EvalError) -> Self {
        OptimiseError::Eval(e)
    }
}

/// Maximises the likelihood of `problem` from `start`; components with a
/// value in `fixed` are held there. `scale` is a typical sampling variance.
pub fn maximise(
    problem: &Problem,
    start: &[f64],
    fixed: &[Option<f64>],
    scale: f64,
    max_iter: usize,
) -> Result<Optimum, OptimiseError> {
    let levels = start.len();
    let mut theta: Vec<f64> = start
        .iter()
        .zip(fixed)
        .map(|(s, f)| f.unwrap_or(s.max(0.0)))
        .collect();
    let mut eval = problem.evaluate(&theta, true)?;
    let mut record = Convergence {
        iterations: 0,
        gradient: 0.0,
        final_change: 0.0,
    };
    for iteration in 1..=max_iter {
        // Components free to move: not fixed, and not held at 0 by an outward gradient.
        let free: Vec<usize> = (0..levels)
            .filter(|&l| fixed[l].is_none() && !(theta[l] == 0.0 && eval.gradient[l] <= 0.0))
            .collect();
        record.gradient = free
            .iter()
            .map(|&l| eval.gradient[l].abs())
            .fold(0.0, f64::max);
        if free.is_empty() {
            record.iterations = iteration - 1;
            return finish(problem, theta, eval, fixed, scale, record);
        }
        let g = DVector::from_iterator(free.len(), free.iter().map(|&l| eval.gradient[l]));
        let sub = |m: &DMatrix<f64>| {
            DMatrix::from_fn(free.len(), free.len(), |a, b| m[(free[a], free[b])])
        };
        let step = newton_step(&(-sub(&eval.hessian)), &g)
            .unwrap_or_else(|| pseudo_solve(&sub(&eval.information), &g));
        // A step already below the tolerance need not be taken: the point is
        // as close to the maximum as the step says (the evaluation it would
        // cost changes no σ² by more than the tolerance).
        let (mut change, mut relative) = (0.0f64, 0.0f64);
        for (a, &l) in free.iter().enumerate() {
            let d = step[a].abs();
            change = change.max(d);
            relative = relative.max(d / theta[l].max(scale));
        }
        if relative <= CHANGE_TOL {
            record.iterations = iteration;
            record.final_change = change;
            return finish(problem, theta, eval, fixed, scale, record);
        }
        // Halve the step until the likelihood does not decrease.
        let mut t = 1.0;
        let mut accepted = None;
        for _ in 0..MAX_HALVINGS {
            let mut trial = theta.clone();
            for (a, &l) in free.iter().enumerate() {
                trial[l] = (theta[l] + t * step[a]).max(0.0);
            }
            let next = problem.evaluate(&trial, true)?;
            if next.ll >= eval.ll - 1e-13 * eval.ll.abs().max(1.0) {
                accepted = Some((trial, next));
                break;
            }
            t *= 0.5;
        }
        record.iterations = iteration;
        let Some((trial, next)) = accepted else {
            // No ascent along the step: the gradient is numerically zero.
            return finish(problem, theta, eval, fixed, scale, record);
        };
        let mut change: f64 = 0.0;
        let mut relative: f64 = 0.0;
        for l in 0..levels {
            let d = (trial[l] - theta[l]).abs();
            change = change.max(d);
            relative = relative.max(d / trial[l].max(scale));
        }
        record.final_change = change;
        theta = trial;
        eval = next;
        if relative <= CHANGE_TOL {
            return finish(problem, theta, eval, fixed, scale, record);
        }
    }
    Err(OptimiseError::NotConverged(record))
}

/// The optimum at `theta`: a component left a rounding error above 0 is put
/// on the bound when the likelihood does not rise from there (the gradient
/// at 0 points outward), and metafor counts a σ² ≤ 10ε as 0.
fn finish(
    problem: &Problem,
    mut theta: Vec<f64>,
    mut eval: Evaluation,
    fixed: &[Option<f64>],
    scale: f64,
    mut record: Convergence,
) -> Result<Optimum, OptimiseError> {
    let levels = theta.len();
    for l in 0..levels {
        if fixed[l].is_none() && theta[l] > 0.0 && theta[l] <= ZERO_TOL * scale {
            let mut zero = theta.clone();
            zero[l] = 0.0;
            let at_zero = problem.evaluate(&zero, true)?;
            if at_zero.gradient[l] <= 0.0 || at_zero.ll >= eval.ll {
                theta = zero;
                eval = at_zero;
            }
        }
    }
    for t in &mut theta {
        if *t <= 10.0 * f64::EPSILON {
            *t = 0.0;
        }
    }
    record.gradient = (0..levels)
        .filter(|&l| fixed[l].is_none() && !(theta[l] == 0.0 && eval.gradient[l] <= 0.0))
        .map(|l| eval.gradient[l].abs())
        .fold(0.0, f64::max);
    Ok(Optimum {
        sigma2: theta,
        eval,
        convergence: record,
    })
}

/// N⁻¹g when the observed information N is positive definite and the step ascends.
fn newton_step(n: &DMatrix<f64>, g: &DVector<f64>) -> Option<DVector<f64>> {
    let chol = nalgebra::Cholesky::new(n.clone())?;
    let step = chol.solve(g);
    (step.dot(g) > 0.0 && step.iter().all(|s| s.is_finite())).then_some(step)
}

/// I⁺g with the pseudo-inverse of the expected information: directions the
/// data do not inform (a level with one unit per cluster) are not moved.
fn pseudo_solve(info: &DMatrix<f64>, g: &DVector<f64>) -> DVector<f64> {
    let eigen = SymmetricEigen::new(info.clone());
    let largest = eigen.eigenvalues.iter().fold(0.0f64, |a, v| a.max(v.abs()));
    let mut out = DVector::zeros(g.len());
    for (i, &lambda) in eigen.eigenvalues.iter().enumerate() {
        if lambda > largest * 1e-10 {
            let u = eigen.eigenvectors.column(i);
            out += u * (u.dot(g) / lambda);
        }
    }
    out
}
