//! The conditional model of 2×2 tables with the exact likelihood: metafor's
//! `rma.glmm(measure = "OR", ai, n1i, ci, n2i, model = "CM.EL")`
//! (van Houwelingen, Zwinderman & Stijnen 1993; Stijnen, Hamza & Özdemir
//! 2010).
//!
//! Given the events mᵢ = aᵢ + cᵢ of table i, aᵢ follows Fisher's
//! non-central hypergeometric distribution with log odds ratio θᵢ:
//!
//! P(aᵢ | θᵢ) = C(n1ᵢ, aᵢ) C(n2ᵢ, mᵢ − aᵢ) e^{aᵢθᵢ} / Σⱼ C(n1ᵢ, j) C(n2ᵢ, mᵢ − j) e^{jθᵢ},
//!
//! j over max(0, mᵢ − n2ᵢ) … min(n1ᵢ, mᵢ) (BiasedUrn's `dFNCHypergeo`),
//! and θᵢ ~ N(μ, τ²). Each table's likelihood ∫ P(aᵢ | μ + τu) φ(u) du is
//! computed by adaptive Gauss-Hermite quadrature with 32 nodes, centred at
//! the mode of the integrand and scaled by its curvature (the integrand is
//! log-concave: d²/dθ² log P = −Var_θ(X)); metafor integrates it with R's
//! `integrate` at relative tolerance 1.2e-4, which is why its
//! log-likelihood, and its numerical Hessian, are a little off. (μ, τ)
//! maximise the log-likelihood; the SE of μ̂ comes from the Hessian over
//! (μ, τ) at the optimum.
//!
//! Beside it, as metafor reports them:
//! - `QE_LRT` = 2(ll_sat − ll_common), with ll_common the conditional
//!   likelihood maximised by one θ, and ll_sat by one θᵢ per table (a table
//!   with aᵢ at an end of its support has its supremum, log 1 = 0).
//! - `QE_Wld` = Σ Iᵢ(θ̂ᵢ − θ̄)², θ̄ = ΣIᵢθ̂ᵢ/ΣIᵢ, over the tables whose
//!   conditional MLE θ̂ᵢ is finite, with Iᵢ = Var_{θ̂ᵢ}(X) the Fisher
//!   information (the Wald test that the saturated model's table effects
//!   are equal, whatever their parameterisation).
//! - I², H² from escalc's vᵢ, as for the other models of 2×2 tables;
//!   `logLik` the maximised log-likelihood (metafor's ll).

use std::sync::OnceLock;

use super::agq::log_choose;
use super::maximum::{
    Derivatives, Optimum, hessian_of_gradient, maximise_exact, typical_variance, wald_residual,
};
use super::odds_ratios::{Table, escalc_weights, informative_tables};
use super::one_group::linear_predictors;
use super::proportions::{Found, GlmmError, GlmmFit};

/// Nodes of the adaptive Gauss-Hermite rule for the integral over θ.
const NODES: usize = 32;

/// Gauss-Hermite nodes tₖ and weights wₖ·e^{tₖ²} (physicists' H_n), by
/// Newton's method on the normalised recurrence (Press et al., Numerical
/// Recipes, `gauher`).
fn gauss_hermite() -> &'static [(f64, f64)] {
    static RULE: OnceLock<Vec<(f64, f64)>> = OnceLock::new();
    RULE.get_or_init(|| {
        let n = NODES;
        let pim4 = std::f64::consts::PI.powf(-0.25);
        let nf = n as f64;
        let mut nodes = vec![0.0; n];
        let mut rule = vec![(0.0, 0.0); n];
        let mut z = 0.0;
        for i in 0..n.div_ceil(2) {
            z = match i {
                0 => (2.0 * nf + 1.0).sqrt() - 1.85575 * (2.0 * nf + 1.0).powf(-1.0 / 6.0),
                1 => z - 1.14 * nf.powf(0.426) / z,
                2 => 1.86 * z - 0.86 * nodes[0],
                3 => 1.91 * z - 0.91 * nodes[1],
                _ => 2.0 * z - nodes[i - 2],
            };
            let mut derivative = 1.0;
            for _ in 0..100 {
                let (mut p1, mut p2) = (pim4, 0.0);
                for j in 0..n {
                    let p3 = p2;
                    p2 = p1;
                    let jf = j as f64;
                    p1 = z * (2.0 / (jf + 1.0)).sqrt() * p2 - (jf / (jf + 1.0)).sqrt() * p3;
                }
                derivative = (2.0 * nf).sqrt() * p2;
                let step = p1 / derivative;
                z -= step;
                if step.abs() <= 1e-15 * z.abs().max(1.0) {
                    break;
                }
            }
            nodes[i] = z;
            let w = 2.0 / (derivative * derivative) * (z * z).exp();
            rule[i] = (z, w);
            rule[n - 1 - i] = (-z, w);
        }
        rule
    })
}

/// A table's support and log weights log C(n1, j) + log C(n2, m − j).
#[derive(Debug, Clone)]
struct Support {
    /// The smallest possible aᵢ.
    lo: f64,
    /// Log weights over the support, from `lo` up.
    log_weights: Vec<f64>,
    /// Their differences cⱼ₊₁ − cⱼ (decreasing).
    steps: Vec<f64>,
    /// e^(cⱼ₊₁ − cⱼ).
    ratios: Vec<f64>,
    /// The observed aᵢ.
    a: f64,
}

/// log P(a | θ), E_θ X, Var_θ X and the third cumulant of one table.
#[derive(Debug, Clone, Copy)]
struct Moments {
    log_p: f64,
    mean: f64,
    variance: f64,
    third: f64,
}

impl Support {
    fn new(t: &Table) -> Support {
        let m = t.ai + t.ci;
        let lo = (m - t.n2i).max(0.0);
        let hi = t.n1i.min(m);
        let log_weights = (0..=(hi - lo) as usize)
            .map(|j| {
                let j = lo + j as f64;
                log_choose(t.n1i, j) + log_choose(t.n2i, m - j)
            })
            .collect::<Vec<f64>>();
        let steps: Vec<f64> = log_weights.windows(2).map(|w| w[1] - w[0]).collect();
        let ratios = steps.iter().map(|d| d.exp()).collect();
        Support {
            lo,
            log_weights,
            steps,
            ratios,
            a: t.ai,
        }
    }

    fn hi(&self) -> f64 {
        self.lo + (self.log_weights.len() - 1) as f64
    }

    /// Moments of X, summed about the largest term (so that large tables
    /// keep their digits). The log terms cⱼ + jθ are concave in j: the
    /// largest is where the differences cⱼ − cⱼ₋₁ (decreasing, cached)
    /// fall below −θ, found by bisection, and the sums walk out from it
    /// and stop where a term falls below e⁻⁴⁰ of it.
    fn moments(&self, theta: f64) -> Moments {
        let term = |j: usize| self.log_weights[j] + j as f64 * theta;
        let peak = self.steps.partition_point(|&d| d + theta > 0.0);
        let top = term(peak);
        let (mut s0, mut s1, mut s2, mut s3) = (0.0, 0.0, 0.0, 0.0);
        let mut add = |j: usize, e: f64| -> bool {
            let jf = j as f64 - peak as f64;
            s0 += e;
            s1 += jf * e;
            s2 += jf * jf * e;
            s3 += jf * jf * jf * e;
            e > 4e-18
        };
        // Each term from its neighbour: eᶿ times the cached e^(cⱼ − cⱼ₋₁),
        // a product where an exponential would cost twenty times more.
        // (Beyond e^±700 each term is its own exponential.)
        let odds = theta.exp();
        let products = odds.is_finite() && odds > 0.0;
        let mut e = 1.0;
        for j in peak..self.log_weights.len() {
            if j > peak {
                e = match products {
                    true => e * (self.ratios[j - 1] * odds),
                    false => (term(j) - top).exp(),
                };
            }
            if !add(j, e) {
                break;
            }
        }
        let mut e = 1.0;
        for j in (0..peak).rev() {
            e = match products {
                true => e / (self.ratios[j] * odds),
                false => (term(j) - top).exp(),
            };
            if !add(j, e) {
                break;
            }
        }
        let mean = s1 / s0;
        let variance = (s2 / s0 - mean * mean).max(0.0);
        let shifted = self.a - self.lo;
        Moments {
            log_p: self.log_weights[shifted as usize] + shifted * theta - top - s0.ln(),
            mean: mean + peak as f64 + self.lo,
            variance,
            third: s3 / s0 - 3.0 * mean * s2 / s0 + 2.0 * mean * mean * mean,
        }
    }

    /// The mode û of g(u) = log P(a | μ + τu) − u²/2 (Newton's method on
    /// the concave g, steps halved while they lower it, taken as they are
    /// once below 1e-6), g(û) and g''(û).
    fn mode(&self, mu: f64, tau: f64) -> (f64, f64, f64) {
        let g = |u: f64| -> (f64, f64, f64) {
            let m = self.moments(mu + tau * u);
            (
                m.log_p - 0.5 * u * u,
                tau * (self.a - m.mean) - u,
                -tau * tau * m.variance - 1.0,
            )
        };
        let mut u = 0.0;
        let (mut value, mut d1, mut d2) = g(u);
        for _ in 0..200 {
            let mut step = -d1 / d2;
            let mut next = g(u + step);
            let mut halvings = 0;
            while step.abs() > 1e-6 * (1.0 + u.abs())
                && next.0.partial_cmp(&value).is_none_or(|o| o.is_lt())
                && halvings < 60
            {
                step *= 0.5;
                next = g(u + step);
                halvings += 1;
            }
            u += step;
            (value, d1, d2) = next;
            if step.abs() <= 1e-12 * (1.0 + u.abs()) {
                break;
            }
        }
        (u, value, d2)
    }

    /// log ∫ P(a | μ + τu) φ(u) du by adaptive Gauss-Hermite quadrature.
    #[cfg(test)]
    fn log_marginal(&self, mu: f64, tau: f64) -> f64 {
        self.log_marginal_gradient(mu, tau).0
    }

    /// `Support::log_marginal` with its exact derivatives in μ and τ, by
    /// the chain rule of `agq::log_marginal_gradient` with one
    /// "observation" θ = μ + τu whose log density log P(a | θ) has the
    /// derivatives a − E_θX, −Var_θX and −κ₃ (the third cumulant).
    fn log_marginal_gradient(&self, mu: f64, tau: f64) -> (f64, f64, f64) {
        if tau == 0.0 {
            let m = self.moments(mu);
            return (m.log_p, self.a - m.mean, 0.0);
        }
        let (u_hat, value_hat, g2) = self.mode(mu, tau);
        let d = -g2;
        let sigma = (1.0 / d).sqrt();
        let scale = std::f64::consts::SQRT_2 * sigma;
        let at = self.moments(mu + tau * u_hat);
        let (l1, l2, l3) = (self.a - at.mean, -at.variance, -at.third);
        // ∂g₁/∂θ and ∂g₂/∂θ at the mode for θ = μ, τ; and g₃.
        let dg1 = [tau * l2, l1 + tau * u_hat * l2];
        let dg2 = [tau * tau * l3, 2.0 * tau * l2 + tau * tau * u_hat * l3];
        let g3 = tau * tau * tau * l3;
        let du = [dg1[0] / d, dg1[1] / d];
        let dlog_sigma = [
            0.5 * (dg2[0] + g3 * du[0]) / d,
            0.5 * (dg2[1] + g3 * du[1]) / d,
        ];
        let mut sum = 0.0;
        let mut grad = [0.0; 2];
        for &(t, w) in gauss_hermite() {
            let v = u_hat + scale * t;
            let m = self.moments(mu + tau * v);
            let weight = w * (m.log_p - 0.5 * v * v - value_hat).exp();
            let l1 = self.a - m.mean;
            let g1 = tau * l1 - v;
            let dg = [l1, v * l1];
            sum += weight;
            for i in 0..2 {
                let dv = du[i] + std::f64::consts::SQRT_2 * t * sigma * dlog_sigma[i];
                grad[i] += weight * (dg[i] + g1 * dv);
            }
        }
        let value = value_hat - 0.5 * (2.0 * std::f64::consts::PI).ln() + scale.ln() + sum.ln();
        (
            value,
            grad[0] / sum + dlog_sigma[0],
            grad[1] / sum + dlog_sigma[1],
        )
    }

    /// The conditional MLE of θ and its log-likelihood and information;
    /// `None` where aᵢ is at an end of the support (θ̂ infinite).
    fn saturated(&self) -> Option<(f64, Moments)> {
        if self.a <= self.lo || self.a >= self.hi() {
            return None;
        }
        let theta = newton(|theta| {
            let m = self.moments(theta);
            (m.log_p, self.a - m.mean, m.variance)
        });
        Some((theta, self.moments(theta)))
    }
}

/// Maximises a concave function of one variable from 0, given its value,
/// first derivative and minus its second.
fn newton(f: impl Fn(f64) -> (f64, f64, f64)) -> f64 {
    let mut x = 0.0;
    let (mut value, mut score, mut info) = f(x);
    for _ in 0..500 {
        let mut step = if info > 0.0 {
            score / info
        } else {
            score.signum()
        };
        let mut next = f(x + step);
        let mut halvings = 0;
        while next.0.partial_cmp(&value).is_none_or(|o| o.is_lt()) && halvings < 60 {
            step *= 0.5;
            next = f(x + step);
            halvings += 1;
        }
        if halvings == 60 {
            break;
        }
        x += step;
        (value, score, info) = next;
        if step.abs() <= 1e-13 * (1.0 + x.abs()) {
            break;
        }
    }
    x
}

/// The log-likelihood of the tables with θᵢ ~ N(xᵢ'β, τ²), with its
/// exact gradient; its Hessian by central differences of the gradient (at
/// τ = 0 the exact information −Σ xᵢxᵢ' Var X).
struct Exact<'a> {
    supports: &'a [Support],
    x: &'a [Vec<f64>],
}

impl Derivatives for Exact<'_> {
    fn value_gradient(&self, beta: &[f64], tau: f64) -> (f64, Vec<f64>) {
        let p = beta.len();
        let mut value = 0.0;
        let mut gradient = vec![0.0; p + 1];
        for ((s, row), mu) in self
            .supports
            .iter()
            .zip(self.x)
            .zip(linear_predictors(self.x, beta))
        {
            let (v, d_mu, d_tau) = s.log_marginal_gradient(mu, tau);
            value += v;
            for (g, xij) in gradient.iter_mut().zip(row) {
                *g += xij * d_mu;
            }
            gradient[p] += d_tau;
        }
        (value, gradient)
    }

    fn hessian(&self, beta: &[f64], tau: f64, with_tau: bool) -> Vec<Vec<f64>> {
        if with_tau {
            return hessian_of_gradient(self, beta, tau);
        }
        let p = beta.len();
        let mut h = vec![vec![0.0; p]; p];
        for ((s, row), theta) in self
            .supports
            .iter()
            .zip(self.x)
            .zip(linear_predictors(self.x, beta))
        {
            let variance = s.moments(theta).variance;
            for a in 0..p {
                for b in 0..p {
                    h[a][b] -= row[a] * row[b] * variance;
                }
            }
        }
        h
    }
}

/// Fits the model to the tables; `level` in percent.
pub fn fit_exact_conditional(
    tables: &[Table],
    level: f64,
    max_iter: usize,
) -> Result<GlmmFit, GlmmError> {
    let tables = informative_tables(tables)?;
    let x = vec![vec![1.0]; tables.len()];
    Ok(GlmmFit::new(
        fit_exact_conditional_x(&tables, &x, max_iter)?,
        level,
    ))
}

/// Fits the model with θᵢ ~ N(xᵢ'β, τ²) (rows `x`) to informative tables.
pub(super) fn fit_exact_conditional_x(
    tables: &[Table],
    x: &[Vec<f64>],
    max_iter: usize,
) -> Result<Found, GlmmError> {
    let k = tables.len();
    let p = x[0].len();
    let supports: Vec<Support> = tables.iter().map(Support::new).collect();
    let model = Exact {
        supports: &supports,
        x,
    };
    let (Optimum { beta, tau, vcov }, _, ll_common) =
        maximise_exact(&model, &vec![0.0; p], max_iter)?;
    let ll = model.value_gradient(&beta, tau).0;

    let saturated: Vec<Option<(f64, Moments)>> = supports.iter().map(Support::saturated).collect();
    let ll_sat: f64 = saturated
        .iter()
        .map(|s| s.map_or(0.0, |(_, m)| m.log_p))
        .sum();
    let qe_lrt = (2.0 * (ll_sat - ll_common)).max(0.0);
    let wl: Vec<Option<(f64, f64)>> = saturated
        .iter()
        .map(|s| s.map(|(theta, m)| (m.variance, theta)))
        .collect();
    let qe_wld = wald_residual(x, &wl);
    let s2w = typical_variance(x, &escalc_weights(tables));
    Ok(Found {
        k,
        beta,
        vcov,
        tau2: tau * tau,
        typical_variance: s2w,
        qe_wld,
        qe_lrt,
        qe_df: k - p,
        log_lik: ll,
        agq_log_lik: ll,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::numerics::integrate::integrate_real_line;

    #[test]
    fn rule_integrates_polynomials() {
        // Σ wₖ e^{-tₖ²} tₖ^{2p} = Γ(p + 1/2).
        let pi_sqrt = std::f64::consts::PI.sqrt();
        for (power, exact) in [(0, pi_sqrt), (2, pi_sqrt / 2.0), (4, 0.75 * pi_sqrt)] {
            let s: f64 = gauss_hermite()
                .iter()
                .map(|&(t, w)| w * (-t * t).exp() * t.powi(power))
                .sum();
            assert!((s - exact).abs() < 1e-13, "{power}: {s} vs {exact}");
        }
    }

    #[test]
    fn probabilities_sum_to_one() {
        let t = Table {
            ai: 4.0,
            n1i: 123.0,
            ci: 11.0,
            n2i: 139.0,
        };
        let s = Support::new(&t);
        let total: f64 = (0..s.log_weights.len())
            .map(|j| {
                let mut other = s.clone();
                other.a = s.lo + j as f64;
                other.moments(-0.7).log_p.exp()
            })
            .sum();
        assert!((total - 1.0).abs() < 1e-13, "{total}");
    }

    #[test]
    fn quadrature_matches_quadpack() {
        // Tables of dat.bcg and one with a zero cell, against QUADPACK at
        // tolerance 1e-13.
        for (t, mu, tau) in [
            ((4.0, 123.0, 11.0, 139.0), -0.7, 0.6),
            ((505.0, 88391.0, 499.0, 88391.0), -0.7, 0.6),
            ((0.0, 40.0, 3.0, 38.0), 0.2, 1.5),
        ] {
            let s = Support::new(&Table {
                ai: t.0,
                n1i: t.1,
                ci: t.2,
                n2i: t.3,
            });
            let mut f = |theta: f64| {
                let z = (theta - mu) / tau;
                (s.moments(theta).log_p - 0.5 * z * z).exp()
                    / (tau * (2.0 * std::f64::consts::PI).sqrt())
            };
            let exact = integrate_real_line(&mut f, 1e-13, 1000).unwrap().ln();
            let agq = s.log_marginal(mu, tau);
            assert!((agq - exact).abs() < 1e-10, "{t:?}: {agq} vs {exact}");
        }
    }
}
