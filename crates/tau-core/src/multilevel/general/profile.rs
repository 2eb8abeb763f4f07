//! Profile-likelihood CIs of the parameters of a general `rma.mv` model
//! (each σ² of a `~ 1 | g` term; each τ², γ² and ρ, φ of a structured
//! term), as metafor's `confint(res)` computes them (`confint.rma.mv`, one
//! parameter at a time: `sigma2 = j`, `tau2 = j`, `rho = j`, `gamma2 = j`,
//! `phi = j`).
//!
//! The interval holds the values x at which s(x) = 2[ℓ(θ̂) − ℓₚ(x)] −
//! χ²₁,₁₋α stays below 0, ℓₚ(x) re-estimating every other parameter with
//! this one held at x. As `confint.rma.mv`, the search runs over
//! [0, max(10, 100 x̂)] for a variance (10 when x̂ ≤ √ε), [−1, 1] for the ρ
//! of CS, HCS and UN, [min(0, ρ̂), 1] for AR, HAR and CAR. At each end: where
//! the profile cannot be evaluated there (M not positive definite), the end
//! moves a tenth of its distance towards the estimate, up to ten times
//! (metafor's `eptries`); where s at the end is below 0 the end is the
//! limit, otherwise the limit is the root of s between the end and the
//! estimate, found by Brent's method (R's `uniroot`) to 1e-10 rather than
//! metafor's `tol = .Machine$double.eps^0.25`, so that s is 0 at tau's limit
//! where metafor's can be off by a few hundredths.
//!
//! A limit is `None` where metafor prints it with a sign or as `NA`: an
//! upper variance limit at the end of the range (metafor's "> limit"), an
//! end that had to move and still gives s < 0 ("<", ">"), the lower end 0
//! of an AR, HAR or CAR ρ where s < 0 (metafor's "<0"), or a limit the
//! profile could not reach. A correlation of ±1 is held at ±(1 − 1e−12).
//!
//! The ρ's of UN: tau writes UN's correlation matrix through the canonical
//! partial correlations of its Cholesky factor (`covariance`), where only
//! the correlations of the first level are single parameters. To profile
//! ρ(a, b) the inner levels are reordered so that b comes first and a
//! second; ρ(a, b) is then the first partial correlation, and holding it
//! leaves every other correlation free, G positive definite. (metafor holds
//! ρ(a, b) in a G built from the other parameters, which need not be
//! positive definite; the two profiles agree wherever the refit's G is.)

use nalgebra::DMatrix;

use super::covariance::Struct;
use super::likelihood::{Component, Problem};
use super::optimise::{Maximum, maximise_holding};
use super::weights::{WeightedData, weighted_fit};
use crate::numerics::distribution::chisq_quantile;
use crate::numerics::zeroin::zeroin;

/// The log-variance that stands for a variance of 0 (e^−40 ≈ 4e−18).
const LOG_ZERO: f64 = -40.0;

/// Tolerance of the limits.
const TOL: f64 = 1e-10;

/// How close to ±1 a correlation at the end of its range is held.
const EDGE: f64 = 1e-12;

/// metafor's `eptries`: how often an end that cannot be evaluated moves.
const END_TRIES: usize = 10;

/// How a profiled parameter is written in η.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scale {
    /// A variance: η = log x.
    Variance,
    /// A correlation searched over [−1, 1]: η = atanh x (CS, HCS, UN).
    Correlation,
    /// A correlation searched over [min(0, ρ̂), 1]: η = atanh x (AR, HAR).
    Autoregressive,
    /// A correlation in (0, 1): η = logit x (CAR).
    Logistic,
}

impl Scale {
    fn to_eta(self, x: f64) -> f64 {
        match self {
            Scale::Variance if x > 0.0 => x.ln().max(LOG_ZERO),
            Scale::Variance => LOG_ZERO,
            Scale::Correlation | Scale::Autoregressive => x.clamp(EDGE - 1.0, 1.0 - EDGE).atanh(),
            Scale::Logistic => {
                let x = x.clamp(EDGE, 1.0 - EDGE);
                (x / (1.0 - x)).ln()
            }
        }
    }

    fn of_eta(self, eta: f64) -> f64 {
        match self {
            Scale::Variance if eta <= LOG_ZERO => 0.0,
            Scale::Variance => eta.exp(),
            Scale::Correlation | Scale::Autoregressive => eta.tanh(),
            Scale::Logistic => 1.0 / (1.0 + (-eta).exp()),
        }
    }

    /// metafor's `vc.min` and `vc.max` around the estimate.
    fn range(self, estimate: f64) -> (f64, f64) {
        match self {
            Scale::Variance if estimate <= f64::EPSILON.sqrt() => (0.0, 10.0),
            Scale::Variance => (0.0, (100.0 * estimate).max(10.0)),
            Scale::Correlation => (-1.0, 1.0),
            Scale::Autoregressive | Scale::Logistic => (estimate.min(0.0), 1.0),
        }
    }
}

/// A profile-likelihood CI of one parameter.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct ParameterCi {
    /// Lower limit (`None`: below a moved end, or not found).
    pub lower: Option<f64>,
    /// Upper limit (`None`: beyond the range, or not found).
    pub upper: Option<f64>,
    /// The upper end of the search range.
    pub limit: f64,
    /// Whether the upper limit lies beyond `limit` (metafor's "> limit").
    pub beyond: bool,
}

/// One parameter's profile: the problem it is written in (for a ρ of UN,
/// with the levels reordered), the full fit's parameters there, which one
/// is held and on what scale.
pub(crate) struct Profiled<'a> {
    pub problem: std::borrow::Cow<'a, Problem>,
    pub eta: Vec<f64>,
    pub index: usize,
    pub scale: Scale,
    pub variances: &'a [bool],
    /// With user weights, ℓ is that of the final weighted fit at each
    /// refit's variance parameters (metafor's `logLik` of each refit).
    pub weighted: Option<WeightedData<'a>>,
}

impl Profiled<'_> {
    /// The estimate on its own scale.
    pub fn estimate(&self) -> f64 {
        self.scale.of_eta(self.eta[self.index])
    }

    /// ℓₚ(x): the maximum of ℓ with the parameter held at `x`, started from
    /// `from` (the full fit, or a nearby point of the profile), and the
    /// parameters there. `None` where no start can be evaluated.
    pub fn refit(&self, x: f64, from: &[f64], max_iter: usize) -> Option<(f64, Vec<f64>)> {
        // A correlation at ±1 (tanh or logistic of a large η) hardly moves
        // from its start: its gradient in η vanishes. A refit from such a
        // start may stay there below the constrained maximum, so it is also
        // refitted from the correlation pulled in to |η| = 3, 1 and 0
        // (|ρ| ≈ 0.995, 0.76, 0), and the best refit kept.
        const SATURATED: f64 = 3.0;
        let saturated =
            |j: usize, e: f64| !self.variances[j] && j != self.index && e.abs() > SATURATED;
        let first = self.refit_from(x, from, max_iter);
        if !from.iter().enumerate().any(|(j, &e)| saturated(j, e)) {
            return first;
        }
        [SATURATED, 1.0, 0.0]
            .into_iter()
            .filter_map(|to| {
                let pulled: Vec<f64> = (from.iter().enumerate())
                    .map(|(j, &e)| if saturated(j, e) { to.copysign(e) } else { e })
                    .collect();
                self.refit_from(x, &pulled, max_iter)
            })
            .chain(first)
            .max_by(|a, b| a.0.total_cmp(&b.0))
    }

    /// [`Profiled::refit`] from one start.
    fn refit_from(&self, x: f64, from: &[f64], max_iter: usize) -> Option<(f64, Vec<f64>)> {
        let mut held = vec![false; from.len()];
        held[self.index] = true;
        let mut start = from.to_vec();
        start[self.index] = self.scale.to_eta(x);
        // Where M is not positive definite at the start, the other
        // variances shrink until it is.
        for _ in 0..8 {
            match maximise_holding(&self.problem, &start, self.variances, &held, max_iter) {
                Ok(m) => return Some((m.eval.ll, m.eta)),
                Err(super::optimise::SearchError::Start(_)) => {
                    for (j, e) in start.iter_mut().enumerate() {
                        if self.variances[j] && j != self.index {
                            *e -= 2.0;
                        }
                    }
                }
                Err(_) => return None,
            }
        }
        None
    }
}

/// The CI of `profiled` around the full fit's log-likelihood `ll_hat` at
/// `level` percent.
pub(crate) fn parameter_ci(
    profiled: &Profiled,
    ll_hat: f64,
    level: f64,
    max_iter: usize,
) -> ParameterCi {
    let estimate = profiled.estimate();
    let objective = chisq_quantile(level / 100.0, 1.0);
    let (min, max) = profiled.scale.range(estimate);
    // Refits start from the nearest point of the profile already found
    // inside the interval (s < 0): a continuation from the estimate. Points
    // beyond it can be poor starts (near an end of a correlation's range
    // the variances shrink to keep M positive definite).
    let mut points: Vec<(f64, Vec<f64>)> = vec![(estimate, profiled.eta.clone())];
    let mut s = |x: f64| -> Option<f64> {
        let from = points
            .iter()
            .min_by(|a, b| (a.0 - x).abs().total_cmp(&(b.0 - x).abs()))
            .map_or_else(|| profiled.eta.clone(), |p| p.1.clone());
        let (mut ll, eta) = profiled
            .refit(x, &from, max_iter)
            .or_else(|| profiled.refit(x, &profiled.eta, max_iter))?;
        if let Some(data) = &profiled.weighted {
            ll = weighted_fit(&profiled.problem, data, &eta).ok()?.ll;
        }
        let s = 2.0 * (ll_hat - ll) - objective;
        if s < 0.0 {
            points.push((x, eta));
        }
        Some(s)
    };
    let at_estimate = -objective;
    // metafor signs a correlation's limit at an end short of ±1 (AR's
    // lower end at 0: "< 0"), as an end that had to move.
    let correlation = profiled.scale != Scale::Variance;
    let lower = search_end(
        &mut s,
        estimate,
        min,
        at_estimate,
        false,
        correlation && min > -1.0,
    );
    let upper = search_end(
        &mut s,
        estimate,
        max,
        at_estimate,
        true,
        correlation && max < 1.0,
    );
    // An upper variance limit at the end of the range is open.
    let beyond = profiled.scale == Scale::Variance && upper.is_some_and(|u| u >= max);
    ParameterCi {
        lower,
        upper: upper.filter(|_| !beyond),
        limit: max,
        beyond,
    }
}

/// One limit: from `end` towards `estimate` as `confint.rma.mv` searches;
/// `signed`: an end with s < 0 is only a bound (`None`).
fn search_end(
    s: &mut impl FnMut(f64) -> Option<f64>,
    estimate: f64,
    end: f64,
    at_estimate: f64,
    upper: bool,
    signed: bool,
) -> Option<f64> {
    let step = (end - estimate) / END_TRIES as f64;
    for i in 0..END_TRIES {
        let at = end - i as f64 * step;
        let Some(s_end) = s(at) else {
            continue;
        };
        if s_end < 0.0 || at == estimate {
            // A moved end is only a bound on the limit (metafor's sign).
            return (i == 0 && !signed).then_some(at);
        }
        let (a, b, sa, sb) = if upper {
            (estimate, at, at_estimate, s_end)
        } else {
            (at, estimate, s_end, at_estimate)
        };
        let f = |x: f64| s(x).unwrap_or(f64::NAN);
        return zeroin(f, a, b, sa, sb, TOL, 1000)
            .ok()
            .map(|r| r.x)
            .filter(|x| x.is_finite());
    }
    None
}

/// The profile of parameter `index` of `problem` (in the parameters of
/// component `component`, `local` among them), on its scale.
pub(crate) fn profiled<'a>(
    problem: &'a Problem,
    rebuild: &dyn Fn(Vec<Component>) -> Problem,
    maximum: &Maximum,
    variances: &'a [bool],
    component: usize,
    local: usize,
    start: usize,
) -> Option<Profiled<'a>> {
    let index = start + local;
    let c = &problem.components[component];
    let scale = match c {
        Component::Sigma { fixed: true, .. } => return None,
        Component::Sigma { .. } => Scale::Variance,
        Component::Structured { times, kind, .. } => {
            let n_tau2 = kind.n_tau2(times.len());
            if local < n_tau2 {
                Scale::Variance
            } else {
                match kind {
                    Struct::CS | Struct::HCS => Scale::Correlation,
                    Struct::AR | Struct::HAR => Scale::Autoregressive,
                    Struct::CAR => Scale::Logistic,
                    Struct::UN | Struct::GEN => {
                        return un_correlation(
                            problem,
                            rebuild,
                            maximum,
                            variances,
                            component,
                            start,
                            local - n_tau2,
                        );
                    }
                    Struct::DIAG | Struct::ID => return None,
                }
            }
        }
    };
    Some(Profiled {
        problem: std::borrow::Cow::Borrowed(problem),
        eta: maximum.eta.clone(),
        index,
        scale,
        variances,
        weighted: None,
    })
}

/// The profile of the `nth` ρ of the UN component `component` (metafor's
/// order: the lower triangle column by column), in a problem whose inner
/// levels are reordered so that it is the first partial correlation.
fn un_correlation<'a>(
    problem: &Problem,
    rebuild: &dyn Fn(Vec<Component>) -> Problem,
    maximum: &Maximum,
    variances: &'a [bool],
    component: usize,
    start: usize,
    nth: usize,
) -> Option<Profiled<'a>> {
    let Component::Structured {
        outer,
        inner,
        times,
        kind,
        design,
    } = &problem.components[component]
    else {
        return None;
    };
    let n = times.len();
    let (a, b) = lower_triangle_pair(n, nth)?;
    // New order: b, a, then the others in order.
    let mut order = vec![b, a];
    order.extend((0..n).filter(|&l| l != a && l != b));
    let mut position = vec![0u32; n];
    for (new, &old) in order.iter().enumerate() {
        position[old] = new as u32;
    }
    let n_params = kind.n_params(n);
    let eta = &maximum.eta[start..start + n_params];
    let g = kind.matrix(times, eta);
    let permuted = DMatrix::from_fn(n, n, |i, j| g[(order[i], order[j])]);
    let mut local = un_parameters(&permuted)?;
    let mut components = problem.components.clone();
    components[component] = Component::Structured {
        outer: outer.clone(),
        // GEN: the columns of the inner design move instead of the levels.
        inner: match design {
            None => inner.iter().map(|&l| position[l as usize]).collect(),
            Some(_) => inner.clone(),
        },
        times: order.iter().map(|&l| times[l]).collect(),
        kind: *kind,
        design: design
            .as_ref()
            .map(|z| DMatrix::from_fn(z.nrows(), n, |i, j| z[(i, order[j])])),
    };
    let mut full = maximum.eta.clone();
    full.splice(start..start + n_params, local.drain(..));
    Some(Profiled {
        problem: std::borrow::Cow::Owned(rebuild(components)),
        eta: full,
        index: start + n,
        scale: Scale::Correlation,
        variances,
        weighted: None,
    })
}

/// The (row, column) of the `nth` element of the strict lower triangle of
/// an n × n matrix taken column by column (metafor's order of UN's ρ).
fn lower_triangle_pair(n: usize, nth: usize) -> Option<(usize, usize)> {
    let mut next = 0;
    for j in 0..n {
        for i in j + 1..n {
            if next == nth {
                return Some((i, j));
            }
            next += 1;
        }
    }
    None
}

/// UN's parameters (log τ², then atanh of the canonical partial
/// correlations row by row) of a positive definite G: the inverse of
/// `Struct::UN.matrix`.
fn un_parameters(g: &DMatrix<f64>) -> Option<Vec<f64>> {
    let n = g.nrows();
    let sd: Vec<f64> = (0..n).map(|a| g[(a, a)].sqrt()).collect();
    let r = DMatrix::from_fn(n, n, |a, b| g[(a, b)] / (sd[a] * sd[b]));
    let l = nalgebra::Cholesky::new(r)?.l();
    let mut eta: Vec<f64> = (0..n).map(|a| g[(a, a)].ln()).collect();
    for i in 0..n {
        let mut left: f64 = 1.0;
        for j in 0..i {
            let z = (l[(i, j)] / left.max(f64::MIN_POSITIVE).sqrt()).clamp(EDGE - 1.0, 1.0 - EDGE);
            eta.push(z.atanh());
            left -= l[(i, j)] * l[(i, j)];
        }
    }
    Some(eta)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn un_parameters_invert_the_matrix() {
        let eta = [0.1, -0.5, 0.3, 0.4, -0.2, 0.7];
        let g = Struct::UN.matrix(&[0.0, 1.0, 2.0], &eta);
        let back = un_parameters(&g).unwrap();
        for (a, b) in eta.iter().zip(&back) {
            assert!((a - b).abs() < 1e-10, "{eta:?} {back:?}");
        }
    }

    #[test]
    fn lower_triangle_is_column_by_column() {
        assert_eq!(lower_triangle_pair(3, 0), Some((1, 0)));
        assert_eq!(lower_triangle_pair(3, 1), Some((2, 0)));
        assert_eq!(lower_triangle_pair(3, 2), Some((2, 1)));
        assert_eq!(lower_triangle_pair(3, 3), None);
    }
}
