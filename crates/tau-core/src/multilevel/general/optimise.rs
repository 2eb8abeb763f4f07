//! Maximising the log-likelihood of a general `rma.mv` model over the
//! unconstrained parameters η: BFGS with the analytic gradient and a
//! backtracking line search (Nocedal & Wright 2006, Algorithm 6.1), then
//! Newton steps with a finite-difference Hessian of the gradient on the
//! parameters away from the boundary, so that the point reached is the
//! maximum to about 1e-10 rather than where a tolerance on ℓ stops.

use nalgebra::{DMatrix, DVector};

use super::likelihood::{EvalError, Evaluation, Problem};

/// Where the search ended.
#[derive(Debug, Clone)]
pub(crate) struct Maximum {
    /// The parameters.
    pub eta: Vec<f64>,
    /// The evaluation there, with the gradient.
    pub eval: Evaluation,
    /// BFGS iterations used.
    pub iterations: usize,
}

/// Why the search failed.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum SearchError {
    /// The start cannot be evaluated.
    Start(EvalError),
    /// The gradient is still large after `iterations`.
    NotConverged {
        /// Iterations used.
        iterations: usize,
        /// Largest |∂ℓ/∂η|.
        gradient: f64,
    },
}

/// A parameter below this is a variance on the boundary (σ² < 1e-13 on
/// the log scale), left out of the Newton steps.
const BOUNDARY: f64 = -30.0;

fn largest(g: &[f64]) -> f64 {
    g.iter().fold(0.0, |m, x| m.max(x.abs()))
}

/// Maximises ℓ from `start`. `variances[j]`: whether parameter j is a
/// log-variance (may run to the boundary).
pub(crate) fn maximise(
    problem: &Problem,
    start: &[f64],
    variances: &[bool],
    max_iter: usize,
) -> Result<Maximum, SearchError> {
    maximise_holding(
        problem,
        start,
        variances,
        &vec![false; start.len()],
        max_iter,
    )
}

/// [`maximise`] over the parameters not `held` (those stay at `start`):
/// their gradient is set to 0, so that neither BFGS nor Newton moves them.
pub(crate) fn maximise_holding(
    problem: &Problem,
    start: &[f64],
    variances: &[bool],
    held: &[bool],
    max_iter: usize,
) -> Result<Maximum, SearchError> {
    let n = start.len();
    let mut eta = start.to_vec();
    let evaluate = |eta: &[f64]| {
        problem.evaluate(eta, true, true).map(|mut e| {
            for (g, &h) in e.gradient.iter_mut().zip(held) {
                if h {
                    *g = 0.0;
                }
            }
            e
        })
    };
    let mut eval = evaluate(&eta).map_err(SearchError::Start)?;
    if n == 0 {
        return Ok(Maximum {
            eta,
            eval,
            iterations: 0,
        });
    }
    let mut h = DMatrix::<f64>::identity(n, n);
    let mut iterations = 0;
    let mut restarted = false;
    let limit = max_iter.max(1) * 10;
    while iterations < limit {
        iterations += 1;
        let g = DVector::from_column_slice(&eval.gradient);
        if largest(&eval.gradient) < 1e-9 {
            break;
        }
        // Ascent direction; steps of at most 5 on the log scale.
        let mut d = &h * &g;
        if d.dot(&g) <= 0.0 {
            h = DMatrix::identity(n, n);
            d = g.clone();
        }
        let size = d.amax();
        if size > 5.0 {
            d *= 5.0 / size;
        }
        let slope = d.dot(&g);
        let mut t = 1.0;
        let mut accepted = None;
        for _ in 0..60 {
            let trial: Vec<f64> = eta.iter().zip(d.iter()).map(|(e, s)| e + t * s).collect();
            if let Ok(next) = evaluate(&trial)
                && next.ll >= eval.ll + 1e-4 * t * slope
            {
                accepted = Some((trial, next));
                break;
            }
            t *= 0.5;
        }
        let Some((trial, next)) = accepted else {
            break;
        };
        let s = DVector::from_iterator(n, trial.iter().zip(&eta).map(|(a, b)| a - b));
        // y is the change in the gradient of −ℓ.
        let y = DVector::from_iterator(
            n,
            eval.gradient.iter().zip(&next.gradient).map(|(a, b)| a - b),
        );
        let sy = s.dot(&y);
        let change = (next.ll - eval.ll).abs();
        eta = trial;
        eval = next;
        if sy > 1e-12 {
            let rho = 1.0 / sy;
            let i = DMatrix::<f64>::identity(n, n);
            let left = &i - rho * &s * y.transpose();
            let right = &i - rho * &y * s.transpose();
            h = &left * &h * &right + rho * &s * s.transpose();
        }
        // On 10⁴ effect sizes ℓ carries rounding noise of ~1e-11: a step
        // of δ near the maximum raises ℓ by about g·δ, below that noise
        // once |g| < ~1e-5, so steps shrink to nothing (or to zero) while
        // the gradient is still that large. Stop at a tiny step, whatever
        // the gradient, and let the Newton steps finish.
        let tiny_step = s.amax() < 1e-9 * (1.0 + eta.iter().fold(0.0f64, |m, e| m.max(e.abs())));
        // Far from the maximum a tiny step means a badly scaled H: start
        // BFGS afresh once rather than stop.
        if tiny_step && largest(&eval.gradient) > 1e-3 && !restarted {
            h = DMatrix::identity(n, n);
            restarted = true;
            continue;
        }
        if tiny_step || (change < 1e-15 * (1.0 + eval.ll.abs()) && largest(&eval.gradient) < 1e-6) {
            break;
        }
    }
    newton(&evaluate, &mut eta, &mut eval, variances, held);
    let gradient = largest(&eval.gradient);
    // A log-variance running to the boundary has a gradient ∝ σ² → 0;
    // the others must have reached a stationary point.
    if gradient > 1e-4 {
        return Err(SearchError::NotConverged {
            iterations,
            gradient,
        });
    }
    Ok(Maximum {
        eta,
        eval,
        iterations,
    })
}

/// Newton steps on the interior parameters not held while they raise ℓ.
fn newton(
    evaluate: &impl Fn(&[f64]) -> Result<Evaluation, EvalError>,
    eta: &mut Vec<f64>,
    eval: &mut Evaluation,
    variances: &[bool],
    held: &[bool],
) {
    for _ in 0..20 {
        let free: Vec<usize> = (0..eta.len())
            .filter(|&j| !(held[j] || variances[j] && eta[j] < BOUNDARY))
            .collect();
        let m = free.len();
        if m == 0 {
            return;
        }
        let mut hess = DMatrix::<f64>::zeros(m, m);
        for (a, &j) in free.iter().enumerate() {
            let h = 1e-5 * (1.0 + eta[j].abs());
            let mut plus = eta.clone();
            plus[j] += h;
            let mut minus = eta.clone();
            minus[j] -= h;
            let (Ok(up), Ok(down)) = (evaluate(&plus), evaluate(&minus)) else {
                return;
            };
            for (b, &l) in free.iter().enumerate() {
                hess[(b, a)] = (up.gradient[l] - down.gradient[l]) / (2.0 * h);
            }
        }
        let hess = (&hess + hess.transpose()) * 0.5;
        // −H must be positive definite at a maximum.
        let Some(chol) = nalgebra::Cholesky::new(-hess) else {
            return;
        };
        let g = DVector::from_iterator(m, free.iter().map(|&j| eval.gradient[j]));
        let step = chol.solve(&g);
        let mut trial = eta.clone();
        for (a, &j) in free.iter().enumerate() {
            trial[j] += step[a];
        }
        let Ok(next) = evaluate(&trial) else {
            return;
        };
        // Near the maximum ℓ changes by less than its rounding noise; a
        // step that shrinks the gradient is then still progress.
        let scale = 1.0 + eval.ll.abs();
        let fell = eval.ll - next.ll;
        let shrinks = largest(&next.gradient) < largest(&eval.gradient);
        if fell > 1e-12 * scale && !(shrinks && fell < 1e-9 * scale) {
            return;
        }
        *eta = trial;
        *eval = next;
        if step.amax() < 1e-10 {
            return;
        }
    }
}
