//! The summary of a univariate posterior: mode, median, mean, standard
//! deviation, the central interval and the shortest interval (bayesmeta's
//! `summary` rows and `post.interval(method = "shortest")`).
//!
//! The shortest interval [a, b] with mass `level` has f(a) = f(b) for a
//! unimodal density f; it is found as the root in p of
//! f(Q(p + level)) − f(Q(p)), p ∈ (0, 1 − level), which locates it to
//! machine precision (bayesmeta minimises the width with `optimize()`,
//! whose default tolerance leaves about 1e-4). Where the density is highest
//! at an end of its support (τ with its mode at 0) the interval starts (or
//! ends) there.

use serde::{Deserialize, Serialize};

use super::mixture::Mixture;
use super::posterior::TauPosterior;

/// A posterior summary; `NaN` (JSON null) where a moment is infinite.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Summary {
    /// The posterior mode.
    pub mode: f64,
    /// The posterior median.
    pub median: f64,
    /// The posterior mean.
    pub mean: f64,
    /// The posterior standard deviation.
    pub sd: f64,
    /// Lower end of the central interval (quantile (1 − level)/2).
    pub ci_lower: f64,
    /// Upper end of the central interval.
    pub ci_upper: f64,
    /// The shortest interval with the same mass.
    pub ci_shortest: [f64; 2],
}

/// The upper quantile z of the standard normal, P(Z > z) = p.
pub(crate) fn normal_quantile_upper(p: f64) -> f64 {
    crate::numerics::distribution::normal_upper(p)
}

/// What the summary needs of a distribution.
pub(crate) trait Univariate {
    fn pdf(&self, x: f64) -> f64;
    fn quantile(&self, p: f64) -> f64;
}

impl Univariate for Mixture {
    fn pdf(&self, x: f64) -> f64 {
        Mixture::pdf(self, x)
    }
    fn quantile(&self, p: f64) -> f64 {
        Mixture::quantile(self, p)
    }
}

impl Univariate for TauPosterior {
    fn pdf(&self, x: f64) -> f64 {
        self.density(x)
    }
    fn quantile(&self, p: f64) -> f64 {
        TauPosterior::quantile(self, p)
    }
}

/// The shortest interval with mass `level` (a proportion).
pub(crate) fn shortest<D: Univariate>(d: &D, level: f64) -> [f64; 2] {
    let gap = |p: f64| d.pdf(d.quantile(p + level)) - d.pdf(d.quantile(p));
    let (lo, hi) = (0.0, 1.0 - level);
    let (g_lo, g_hi) = (gap(lo), gap(hi));
    let p = if g_lo.is_nan() || g_lo <= 0.0 {
        lo
    } else if g_hi.is_nan() || g_hi >= 0.0 {
        hi
    } else {
        match crate::numerics::zeroin::zeroin(gap, lo, hi, g_lo, g_hi, 1e-15, 1000) {
            Ok(root) | Err(root) => root.x,
        }
    };
    [d.quantile(p), d.quantile(p + level)]
}

/// The summary of a mixture at `level` (a proportion).
pub(crate) fn of_mixture(m: &Mixture, level: f64, finite_sd: bool) -> Summary {
    let (mean, sd) = m.moments();
    let alpha = (1.0 - level) / 2.0;
    Summary {
        mode: m.mode(),
        median: m.quantile(0.5),
        mean,
        sd: if finite_sd { sd } else { f64::NAN },
        ci_lower: m.quantile(alpha),
        ci_upper: m.quantile(1.0 - alpha),
        ci_shortest: shortest(m, level),
    }
}

/// The summary of the posterior of τ at `level` (a proportion). The mode is
/// Brent's maximum of the density on [lo, Q(0.9)] (the whole support when
/// it is bounded), or an end of the support where the density is higher.
pub(crate) fn of_tau(t: &TauPosterior, level: f64) -> Summary {
    let (mean, sd) = t.moments();
    let alpha = (1.0 - level) / 2.0;
    let (lo, hi) = t.map.support();
    let upper = if hi.is_finite() { hi } else { t.quantile(0.9) };
    let tol = 1e-12 * upper.max(f64::MIN_POSITIVE);
    let (inner, neg) = super::quadrature::fmin(|x| -t.density(x), lo, upper, tol);
    let mut mode = (inner, -neg);
    for end in [lo, hi] {
        if end.is_finite() {
            let f = t.density(end);
            if f.is_nan() || f.is_infinite() || f >= mode.1 {
                mode = (end, f);
            }
        }
    }
    Summary {
        mode: mode.0,
        median: t.quantile(0.5),
        mean,
        sd,
        ci_lower: t.quantile(alpha),
        ci_upper: t.quantile(1.0 - alpha),
        ci_shortest: shortest(t, level),
    }
}
