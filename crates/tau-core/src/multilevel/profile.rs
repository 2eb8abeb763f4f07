//! Profile-likelihood confidence intervals for each σ², as metafor's
//! `confint(res, sigma2 = j)` computes them.
//!
//! The interval holds the values x of σ²ⱼ at which the likelihood ratio
//! statistic s(x) = 2[ℓ(θ̂) − ℓₚ(x)] − χ²₁,₁₋α stays below 0, where
//! ℓₚ(x) = max ℓ(θ | σ²ⱼ = x) re-estimates the other components at each x.
//! As in metafor, the search runs over [0, max(10, 100 σ̂²ⱼ)] (10 when
//! σ̂²ⱼ ≈ 0): a lower limit the statistic does not reach above 0 is 0, and an
//! upper limit beyond the search range is reported as open (`None`; metafor
//! prints "> limit").
//!
//! metafor finds each limit with `uniroot` over the whole range. tau walks
//! out from σ̂²ⱼ with Newton steps on s, whose slope comes free with each
//! refit: by the envelope theorem s'(x) = −2 ∂ℓ/∂σ²ⱼ at the refitted
//! components. The first step is the quadratic approximation of the profile,
//! σ̂²ⱼ ± √(χ²₁,₁₋α / I), with I = −(Hⱼⱼ − Hⱼₒ Hₒₒ⁻¹ Hₒⱼ) the profile's
//! curvature from the Hessian H of the full fit (o the components free to
//! move). Once s changes sign the root is refined by Newton steps kept
//! inside the bracket (bisection when a step leaves it) to 1e-10 absolute.
//! Each refit starts where the tangent of the path at the previous point,
//! dθₒ/dx = (−Hₒₒ)⁻¹Hₒⱼ, puts the other components. The two limits are
//! found in parallel.

use nalgebra::DMatrix;

use super::MultilevelError;
use super::fit::{Fitted, maximise_with};
use super::likelihood::Problem;
use crate::numerics::distribution::chisq_quantile;
use crate::par::join;

/// Absolute tolerance of the limits.
const TOL: f64 = 1e-10;

/// Refits per limit before the search is given up.
const MAX_STEPS: usize = 200;

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

/// One point of the profile.
struct Point {
    /// σ²ⱼ.
    x: f64,
    /// s(x).
    s: f64,
    /// s'(x).
    slope: f64,
    /// Every component of the refit at x.
    sigma2: Vec<f64>,
    /// How the other components move with x there (0 for x itself and for
    /// components held at 0).
    tangent: Vec<f64>,
}

/// The profile of σ²ⱼ around a full fit.
struct Profile<'a> {
    problem: &'a Problem<'a>,
    full: &'a Fitted,
    j: usize,
    objective: f64,
    max_iter: usize,
    labels: &'a [String],
}

impl Profile<'_> {
    /// s and s' at x, refitting the other components from `start`.
    /// s and s' at x, refitting the other components from where the tangent
    /// at `from` predicts them.
    fn at(&self, x: f64, from: &Point) -> Result<Point, MultilevelError> {
        let start: Vec<f64> = (from.sigma2.iter().zip(&from.tangent))
            .map(|(s, t)| (s + t * (x - from.x)).max(0.0))
            .collect();
        let mut fixed = vec![None; start.len()];
        fixed[self.j] = Some(x);
        let refit = maximise_with(self.problem, &start, &fixed, self.max_iter, self.labels)?;
        let tangent = tangent(&refit, self.j).map_or_else(|| vec![0.0; start.len()], |(t, _)| t);
        Ok(Point {
            x,
            s: 2.0 * (self.full.eval.ll - refit.eval.ll) - self.objective,
            slope: -2.0 * refit.eval.gradient[self.j],
            sigma2: refit.sigma2,
            tangent,
        })
    }

    /// The point of the full fit: s = −quantile, s' = 0.
    fn estimate(&self) -> Point {
        let n = self.full.sigma2.len();
        Point {
            x: self.full.sigma2[self.j],
            s: -self.objective,
            slope: 0.0,
            sigma2: self.full.sigma2.clone(),
            tangent: tangent(self.full, self.j).map_or_else(|| vec![0.0; n], |(t, _)| t),
        }
    }

    /// The first crossing of s = 0 walking from the estimate towards `bound`
    /// (0 or the end of the search range), starting with `first`; `None`
    /// when s stays below 0 up to `bound`.
    fn crossing(&self, bound: f64, first: f64) -> Result<Option<f64>, MultilevelError> {
        let estimate = self.estimate();
        let towards = (bound - estimate.x).signum();
        let mut inside = estimate;
        let mut x = first;
        // Walk until s changes sign.
        let mut outside = None;
        for _ in 0..MAX_STEPS {
            let point = self.at(x, &inside)?;
            if point.s >= 0.0 {
                outside = Some(point);
                break;
            }
            if x == bound {
                return Ok(None);
            }
            let gone = (point.x - inside.x).abs();
            inside = point;
            // A Newton step where s rises towards the bound, at least as far
            // again as the last step and never past the bound.
            let newton = inside.x - inside.s / inside.slope;
            let reach = if inside.slope * towards > 0.0 && newton.is_finite() {
                (newton - inside.x).abs().max(gone)
            } else {
                2.0 * gone
            };
            x = clamp_towards(inside.x + towards * reach, bound, towards);
        }
        let Some(mut outside) = outside else {
            return Err(self.not_found());
        };
        // Refine inside the bracket [inside, outside], Newton from the
        // newest point.
        let mut newest_outside = true;
        for _ in 0..MAX_STEPS {
            let (lo, hi) = (inside.x.min(outside.x), inside.x.max(outside.x));
            if hi - lo <= TOL {
                return Ok(Some(0.5 * (lo + hi)));
            }
            let newest = if newest_outside { &outside } else { &inside };
            let newton = newest.x - newest.s / newest.slope;
            let within = newton > lo && newton < hi;
            if within && (newton - newest.x).abs() <= TOL {
                return Ok(Some(newton));
            }
            let x = if within { newton } else { 0.5 * (lo + hi) };
            let point = self.at(x, newest)?;
            newest_outside = point.s >= 0.0;
            if newest_outside {
                outside = point;
            } else {
                inside = point;
            }
        }
        Err(self.not_found())
    }

    fn not_found(&self) -> MultilevelError {
        MultilevelError::ProfileCi {
            level: self.problem.structure.names[self.j].clone(),
            refits: MAX_STEPS,
        }
    }
}

/// `x`, no further than `bound` in the direction `towards`.
fn clamp_towards(x: f64, bound: f64, towards: f64) -> f64 {
    if (x - bound) * towards > 0.0 {
        bound
    } else {
        x
    }
}

/// The tangent of the profile path at a fit with σ²ⱼ held: how the other
/// components free to move change with σ²ⱼ, dθₒ/dx = (−Hₒₒ)⁻¹Hₒⱼ (the
/// implicit function theorem on ∂ℓ/∂θₒ = 0), with 0 elsewhere; and the
/// profile's curvature −d²ℓₚ/dx² = −(Hⱼⱼ + Hⱼₒ dθₒ/dx), the Schur complement
/// of the Hessian H. `None` where −Hₒₒ is not positive definite.
fn tangent(fit: &Fitted, j: usize) -> Option<(Vec<f64>, f64)> {
    let h = &fit.eval.hessian;
    let n = fit.sigma2.len();
    let others: Vec<usize> = (0..n)
        .filter(|&l| l != j && !(fit.sigma2[l] == 0.0 && fit.eval.gradient[l] <= 0.0))
        .collect();
    let mut tangent = vec![0.0; n];
    let mut curvature = h[(j, j)];
    if !others.is_empty() {
        let m = others.len();
        let hoo = DMatrix::from_fn(m, m, |a, b| -h[(others[a], others[b])]);
        let hoj = nalgebra::DVector::from_fn(m, |a, _| h[(others[a], j)]);
        let solved = nalgebra::Cholesky::new(hoo)?.solve(&hoj);
        curvature += solved.dot(&hoj);
        for (a, &l) in others.iter().enumerate() {
            tangent[l] = solved[a];
        }
    }
    tangent
        .iter()
        .all(|t| t.is_finite())
        .then_some((tangent, -curvature))
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
    let limit = if estimate <= f64::EPSILON.sqrt() {
        10.0
    } else {
        (100.0 * estimate).max(10.0)
    };
    let profile = Profile {
        problem,
        full,
        j,
        objective,
        max_iter,
        labels,
    };
    let scale = problem.v.iter().sum::<f64>() / problem.v.len() as f64;
    let half_width = tangent(full, j)
        .map(|(_, c)| c)
        .filter(|c| c.is_finite() && *c > 0.0)
        .map(|c| (objective / c).sqrt())
        .unwrap_or(estimate.max(scale));
    let (lower, upper) = join(
        || -> Result<f64, MultilevelError> {
            if estimate == 0.0 {
                Ok(0.0)
            } else {
                let first = (estimate - half_width).max(0.0);
                Ok(profile.crossing(0.0, first)?.unwrap_or(0.0))
            }
        },
        || profile.crossing(limit, (estimate + half_width).min(limit)),
    );
    Ok(ProfileCi {
        lower: lower?,
        upper: upper?,
        limit,
    })
}
