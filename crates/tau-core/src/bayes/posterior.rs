//! The marginal posterior of τ, p(τ | y) ∝ p(τ) p(y | τ), by adaptive
//! quadrature, and the rule it leaves behind for every other integral.
//!
//! bayesmeta (Röver 2020, section 3) integrates p(τ | y) with R's
//! `integrate()` and approximates the posterior of μ by a mixture of normals
//! on a grid of τ values chosen so that neighbouring conditionals differ by at
//! most a symmetrised Kullback–Leibler divergence δ (Röver & Friede 2017).
//! Here the mixture's weights are the nodes of one adaptive Gauss–Kronrod
//! rule ([`super::quadrature::adaptive`]) on the map
//! τ = lo + s (x/(1−x))², x ∈ (0, 1), of the prior's support [lo, ∞)
//! (τ = lo + (hi − lo) x on a bounded support), with s = s₀ the typical
//! within-study standard error. The rule is refined until the posterior's
//! normalising constant, E[τ], E[τ²], E[μ], E[μ²] and E[θ_new²] all have an
//! estimated relative error below 10⁻¹⁰; the moments that the tails make
//! infinite (p(τ | y) ~ τ^(−a−b), a the prior's and b the likelihood's tail
//! exponent) are left out and reported as missing.

use super::BayesError;
use super::likelihood::{GivenTau, NormalModel};
use super::prior::PriorDensity;
use super::quadrature::{Panel, adaptive, kronrod};

/// Relative tolerance of the adaptive rule.
pub(crate) const REL_TOL: f64 = 1e-10;
/// The most panels the rule may use.
const MAX_PANELS: usize = 400;

/// The map from x ∈ (0, 1) to τ.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TauMap {
    lo: f64,
    hi: f64,
    scale: f64,
}

impl TauMap {
    pub fn new(support: (f64, f64), scale: f64) -> TauMap {
        TauMap {
            lo: support.0,
            hi: support.1,
            scale,
        }
    }

    /// τ(x) and dτ/dx.
    pub fn at(&self, x: f64) -> (f64, f64) {
        if self.hi.is_finite() {
            (self.lo + (self.hi - self.lo) * x, self.hi - self.lo)
        } else {
            let r = x / (1.0 - x);
            (
                self.lo + self.scale * r * r,
                2.0 * self.scale * x / (1.0 - x).powi(3),
            )
        }
    }

    /// x(τ), the inverse of [`TauMap::at`].
    #[cfg(test)]
    pub fn inverse(&self, tau: f64) -> f64 {
        if self.hi.is_finite() {
            ((tau - self.lo) / (self.hi - self.lo)).clamp(0.0, 1.0)
        } else {
            let r = ((tau - self.lo).max(0.0) / self.scale).sqrt();
            r / (1.0 + r)
        }
    }

    pub fn support(&self) -> (f64, f64) {
        (self.lo, self.hi)
    }
}

/// A node of the rule: τ, its posterior weight, and μ's conditional posterior.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Node {
    pub tau: f64,
    pub weight: f64,
    pub mu: GivenTau,
}

/// The largest of `log_f` on a coarse grid of x, to scale the integrand.
fn peak(map: &TauMap, log_f: &impl Fn(f64) -> f64) -> f64 {
    (1..64)
        .map(|i| {
            let (tau, jac) = map.at(f64::from(i) / 64.0);
            log_f(tau) + jac.ln()
        })
        .filter(|v| v.is_finite())
        .fold(f64::NEG_INFINITY, f64::max)
}

/// log ∫ exp(log_f(τ)) dτ over the map's support.
pub(crate) fn log_integral(map: &TauMap, log_f: impl Fn(f64) -> f64) -> Result<f64, BayesError> {
    let shift = peak(map, &log_f);
    if !shift.is_finite() {
        return Err(BayesError::Integration("the integrand vanishes everywhere"));
    }
    let panels = adaptive(
        |x| {
            let (tau, jac) = map.at(x);
            let v = (log_f(tau) - shift).exp() * jac;
            [if v.is_nan() { 0.0 } else { v }]
        },
        0.0,
        1.0,
        8,
        REL_TOL,
        [true],
        MAX_PANELS,
    )
    .map_err(|_| BayesError::Integration("the integral did not converge"))?;
    let total: f64 = panels.iter().map(|p| p.value[0]).sum();
    Ok(shift + total.ln())
}

/// The posterior of τ and the mixture rule.
#[derive(Debug, Clone)]
pub(crate) struct TauPosterior {
    pub model: NormalModel,
    pub prior: PriorDensity,
    pub map: TauMap,
    /// log ∫ p(τ) p(y | τ) dτ.
    pub log_evidence: f64,
    /// (x_lo, x_hi, posterior mass below x_lo) of each panel.
    panels: Vec<(f64, f64, f64)>,
    pub nodes: Vec<Node>,
    /// Which of E[τ], E[τ²], E[μ²] (and Var μ), E[θ_new²] are finite.
    pub finite_tau_mean: bool,
    pub finite_tau_var: bool,
    pub finite_mu_var: bool,
    pub finite_theta_var: bool,
}

impl TauPosterior {
    /// Integrates the posterior of τ.
    pub fn new(
        model: NormalModel,
        prior: PriorDensity,
        map: TauMap,
        tail: f64,
    ) -> Result<TauPosterior, BayesError> {
        let finite = |r: f64| tail - r > 1.0;
        let mu_r = match model.mu_prior {
            super::prior::MuPrior::Flat => 2.0,
            super::prior::MuPrior::Normal { .. } => 0.0,
        };
        let checked = [
            true,
            finite(1.0),
            finite(2.0),
            true,
            finite(mu_r),
            finite(2.0),
        ];
        let log_post = |tau: f64| prior.log_density(tau) + model.given_tau(tau).log_likelihood;
        let shift = peak(&map, &log_post);
        if !shift.is_finite() {
            return Err(BayesError::Integration(
                "the posterior of tau vanishes everywhere",
            ));
        }
        let integrand = |x: f64| {
            let (tau, jac) = map.at(x);
            let given = model.given_tau(tau);
            let f = (prior.log_density(tau) + given.log_likelihood - shift).exp() * jac;
            if f.is_nan() || f <= 0.0 || f.is_infinite() {
                return [0.0; 6];
            }
            let m2 = given.mean * given.mean + given.var;
            [
                f,
                f * tau,
                f * tau * tau,
                f * given.mean,
                f * m2,
                f * (m2 + tau * tau),
            ]
        };
        let panels: Vec<Panel<6>> = adaptive(integrand, 0.0, 1.0, 8, REL_TOL, checked, MAX_PANELS)
            .map_err(|_| {
                BayesError::Integration("the posterior of tau could not be integrated to 1e-10")
            })?;
        let total: f64 = panels.iter().map(|p| p.value[0]).sum();
        if !(total > 0.0 && total.is_finite()) {
            return Err(BayesError::Integration(
                "the posterior of tau vanishes everywhere",
            ));
        }
        let log_evidence = shift + total.ln();
        let mut cumulative = 0.0;
        let mut edges = Vec::with_capacity(panels.len());
        let mut nodes = Vec::with_capacity(15 * panels.len());
        for p in &panels {
            edges.push((p.lo, p.hi, cumulative));
            cumulative += p.value[0] / total;
            for (x, w) in super::quadrature::kronrod_nodes(p.lo, p.hi) {
                let (tau, jac) = map.at(x);
                let mu = model.given_tau(tau);
                let f = (prior.log_density(tau) + mu.log_likelihood - log_evidence).exp() * jac;
                if f > 0.0 && f.is_finite() {
                    nodes.push(Node {
                        tau,
                        weight: w * f,
                        mu,
                    });
                }
            }
        }
        Ok(TauPosterior {
            model,
            prior,
            map,
            log_evidence,
            panels: edges,
            nodes,
            finite_tau_mean: checked[1],
            finite_tau_var: checked[2],
            finite_mu_var: checked[4],
            finite_theta_var: checked[5],
        })
    }

    /// p(τ | y).
    pub fn density(&self, tau: f64) -> f64 {
        let (lo, hi) = self.map.support();
        if tau < lo || tau > hi || tau.is_infinite() {
            return 0.0;
        }
        (self.prior.log_density(tau) + self.model.given_tau(tau).log_likelihood - self.log_evidence)
            .exp()
    }

    /// The density in x (p(τ(x) | y) dτ/dx).
    fn density_x(&self, x: f64) -> f64 {
        let (tau, jac) = self.map.at(x);
        let v = self.density(tau) * jac;
        if v.is_finite() { v } else { 0.0 }
    }

    /// P(τ ≤ tau | y).
    #[cfg(test)]
    pub fn cdf(&self, tau: f64) -> f64 {
        let x = self.map.inverse(tau);
        if x <= 0.0 {
            return 0.0;
        }
        if x >= 1.0 {
            return 1.0;
        }
        let i = self
            .panels
            .partition_point(|p| p.1 <= x)
            .min(self.panels.len() - 1);
        let (lo, _, before) = self.panels[i];
        (before + kronrod(lo, x, |u| self.density_x(u))).clamp(0.0, 1.0)
    }

    /// The p-quantile of τ.
    pub fn quantile(&self, p: f64) -> f64 {
        if p <= 0.0 {
            return self.map.support().0;
        }
        if p >= 1.0 {
            return self.map.support().1;
        }
        let i = self.panels.partition_point(|q| q.2 <= p).saturating_sub(1);
        let (lo, hi, before) = self.panels[i];
        let x = super::quadrature::newton_root(
            |x| {
                (
                    before + kronrod(lo, x, |u| self.density_x(u)),
                    self.density_x(x),
                )
            },
            p,
            lo,
            hi,
            0.5 * (lo + hi),
        );
        self.map.at(x).0
    }

    /// Posterior mean and standard deviation of τ (NaN where infinite).
    pub fn moments(&self) -> (f64, f64) {
        let (mut m1, mut m2) = (0.0, 0.0);
        for n in &self.nodes {
            m1 += n.weight * n.tau;
            m2 += n.weight * n.tau * n.tau;
        }
        let mean = if self.finite_tau_mean { m1 } else { f64::NAN };
        let sd = if self.finite_tau_var {
            (m2 - m1 * m1).max(0.0).sqrt()
        } else {
            f64::NAN
        };
        (mean, sd)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bayes::prior::{MuPrior, TauPrior};

    #[test]
    fn quantiles_invert_the_distribution_function() {
        let model = NormalModel {
            y: vec![-0.9, -1.6, -1.3, -0.2, 0.0, 0.4],
            sigma2: vec![0.33, 0.19, 0.42, 0.05, 0.004, 0.53],
            mu_prior: MuPrior::Flat,
        };
        let prior = PriorDensity::new(TauPrior::HalfCauchy { scale: 0.5 }, &model.sigma2);
        let map = TauMap::new((0.0, f64::INFINITY), prior.s0());
        let tail = 2.0 + model.tail_exponent();
        let post = TauPosterior::new(model, prior, map, tail).unwrap();
        let mass: f64 = post.nodes.iter().map(|n| n.weight).sum();
        assert!((mass - 1.0).abs() < 1e-12);
        for p in [0.025, 0.1, 0.5, 0.9, 0.975] {
            let q = post.quantile(p);
            assert!((post.cdf(q) - p).abs() < 1e-12, "p = {p}");
            assert!((map.at(map.inverse(q)).0 - q).abs() < 1e-12 * q.max(1.0));
        }
    }
}
