//! The marginal log-likelihood of one study in a binomial GLMM with one
//! normal random effect, by 7-point adaptive Gauss-Hermite quadrature, as
//! lme4's `glmer(nAGQ = 7)` computes it.
//!
//! A study holds binomial observations xⱼ ~ Bin(nⱼ, pⱼ) with
//! logit pⱼ = aⱼ + τ zⱼ u (aⱼ the fixed part, zⱼ the loading of the random
//! effect: 1 for a proportion, ±1/2 for the two groups of a 2×2 table under
//! metafor's coding 1/2), u ~ N(0, 1). With
//!
//! g(u) = Σⱼ log Bin(xⱼ | nⱼ, pⱼ(u)) − u²/2 − ½ log 2π,
//!
//! the conditional mode û maximises g (strictly concave: g'' ≤ −1), the
//! scale is σ̂ = (−g''(û))^{−1/2}, and (Liu & Pierce 1994; lme4's `GHrule`)
//!
//! L ≈ √2 σ̂ Σₖ wₖ exp(tₖ²) exp g(û + √2 σ̂ tₖ)
//!
//! over the 7 roots tₖ of the Hermite polynomial H₇ with weights wₖ.

use statrs::function::gamma::ln_gamma;

/// Roots of H₇ (physicists'), non-negative half.
const NODES: [f64; 4] = [
    0.0,
    0.816_287_882_858_964_7,
    1.673_551_628_767_471_4,
    2.651_961_356_835_233_4,
];
/// Their Gauss-Hermite weights (Σ over all 7 = √π).
const WEIGHTS: [f64; 4] = [
    0.810_264_617_556_807_3,
    0.425_607_252_610_127_8,
    0.054_515_582_819_127_03,
    0.000_971_781_245_099_519_2,
];

/// The response distribution of an observation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Family {
    /// x ~ Bin(n, expit η) (logit link).
    Binomial,
    /// x ~ Pois(exp η) (log link; `n` unused).
    Poisson,
}

/// One observation of a study: `x` events (in `n` trials for a binomial),
/// fixed linear predictor `a` (offset included), loading `z` of the random
/// effect.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Observation {
    pub x: f64,
    pub n: f64,
    pub a: f64,
    pub z: f64,
    pub family: Family,
    /// The normalising constant of the density: log C(n, x), or
    /// −log x! (added once per study, not at every point of the rule).
    pub log_constant: f64,
}

impl Observation {
    /// A binomial observation.
    pub(crate) fn binomial(x: f64, n: f64, a: f64, z: f64) -> Observation {
        Observation {
            x,
            n,
            a,
            z,
            family: Family::Binomial,
            log_constant: log_choose(n, x),
        }
    }

    /// A Poisson observation.
    pub(crate) fn poisson(x: f64, a: f64, z: f64) -> Observation {
        Observation {
            x,
            n: 0.0,
            a,
            z,
            family: Family::Poisson,
            log_constant: -ln_gamma(x + 1.0),
        }
    }

    /// log f(x | η), the normalising constant included.
    pub(crate) fn log_density(&self, eta: f64) -> f64 {
        self.log_constant + self.log_kernel(eta)
    }

    /// log f(x | η) without its normalising constant.
    fn log_kernel(&self, eta: f64) -> f64 {
        match self.family {
            Family::Binomial => self.x * eta - self.n * log1p_exp(eta),
            Family::Poisson => self.x * eta - eta.exp(),
        }
    }

    /// The first three derivatives of log f(x | η) in η: the score, minus
    /// the information, and the information's derivative with its sign
    /// turned (binomial: x − np, −np(1 − p), −np(1 − p)(1 − 2p); Poisson:
    /// x − μ, −μ, −μ).
    fn derivatives(&self, eta: f64) -> (f64, f64, f64) {
        match self.family {
            Family::Binomial => {
                let p = expit(eta);
                let info = self.n * p * (1.0 - p);
                (self.x - self.n * p, -info, -info * (1.0 - 2.0 * p))
            }
            Family::Poisson => {
                let mu = eta.exp();
                (self.x - mu, -mu, -mu)
            }
        }
    }

    /// d/dη and −d²/dη² of log f(x | η).
    fn score_information(&self, eta: f64) -> (f64, f64) {
        match self.family {
            Family::Binomial => {
                let p = expit(eta);
                (self.x - self.n * p, self.n * p * (1.0 - p))
            }
            Family::Poisson => {
                let mu = eta.exp();
                (self.x - mu, mu)
            }
        }
    }
}

/// The optimisers search over (β, τ) with τ of either sign: the
/// likelihood is even in τ (u and −u have the same distribution), and
/// smooth at τ = 0, so a maximum on the boundary is reached as τ → 0
/// instead of ln τ → −∞. τ̂ is |τ| at the optimum.
pub(crate) const TAU_START: f64 = 0.5;

/// log C(n, x).
pub(crate) fn log_choose(n: f64, x: f64) -> f64 {
    ln_gamma(n + 1.0) - ln_gamma(x + 1.0) - ln_gamma(n - x + 1.0)
}

/// log(1 + eᵗ) without overflow.
fn log1p_exp(t: f64) -> f64 {
    if t > 0.0 {
        t + (-t).exp().ln_1p()
    } else {
        t.exp().ln_1p()
    }
}

pub(crate) fn expit(t: f64) -> f64 {
    1.0 / (1.0 + (-t).exp())
}

/// g(u), g'(u) and g''(u) of the study, without the densities'
/// normalising constants.
fn g(obs: &[Observation], tau: f64, u: f64) -> (f64, f64, f64) {
    let mut value = -0.5 * u * u - 0.5 * (2.0 * std::f64::consts::PI).ln();
    let mut d1 = -u;
    let mut d2 = -1.0;
    for o in obs {
        let eta = o.a + tau * o.z * u;
        let (score, information) = o.score_information(eta);
        value += o.log_kernel(eta);
        d1 += tau * o.z * score;
        d2 -= tau * tau * o.z * o.z * information;
    }
    (value, d1, d2)
}

/// The conditional mode û of the study's random effect (in units of τ):
/// Newton's method on the concave g, halving steps that do not increase g.
pub(crate) fn mode(obs: &[Observation], tau: f64) -> f64 {
    let mut u = 0.0;
    let (mut value, mut d1, mut d2) = g(obs, tau, u);
    for _ in 0..200 {
        let mut step = -d1 / d2;
        let mut next = g(obs, tau, u + step);
        let mut halvings = 0;
        // A NaN value counts as no increase.
        // (Below 1e-6 the Newton step is taken as it is: there g changes
        // below its rounding.)
        while step.abs() > 1e-6 * (1.0 + u.abs())
            && next.0.partial_cmp(&value).is_none_or(|o| o.is_lt())
            && halvings < 60
        {
            step *= 0.5;
            next = g(obs, tau, u + step);
            halvings += 1;
        }
        u += step;
        (value, d1, d2) = next;
        if step.abs() <= 1e-12 * (1.0 + u.abs()) {
            break;
        }
    }
    u
}

/// The study's log marginal likelihood by 7-point adaptive Gauss-Hermite
/// quadrature (`tau` = 0: the plain binomial log-likelihood). The fits use
/// [`log_marginal_gradient`], whose value is this one's, bit for bit.
#[allow(dead_code)]
pub(crate) fn log_marginal(obs: &[Observation], tau: f64) -> f64 {
    if tau == 0.0 {
        return obs.iter().map(|o| o.log_density(o.a)).sum();
    }
    let u_hat = mode(obs, tau);
    let (g_hat, _, d2) = g(obs, tau, u_hat);
    let sigma = (-1.0 / d2).sqrt();
    let scale = std::f64::consts::SQRT_2 * sigma;
    let mut sum = WEIGHTS[0];
    for k in 1..NODES.len() {
        let t = NODES[k];
        for sign in [-1.0, 1.0] {
            let (gk, _, _) = g(obs, tau, u_hat + sign * scale * t);
            sum += WEIGHTS[k] * (t * t + gk - g_hat).exp();
        }
    }
    g_hat + scale.ln() + sum.ln() + log_constants(obs)
}

/// Σ of the observations' normalising constants.
fn log_constants(obs: &[Observation]) -> f64 {
    obs.iter().map(|o| o.log_constant).sum()
}

/// A study's log marginal likelihood ([`log_marginal`]) with its exact
/// gradient: with respect to each observation's fixed predictor aⱼ
/// (`d_a`, in the order of the observations) and to τ (`d_tau`).
/// `curvature` approximates the second derivative in a shift of every aⱼ
/// together (the study intercept), the nodes held fixed: a Newton step's
/// direction, not a number of the fit.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Marginal {
    pub value: f64,
    pub d_a: Vec<f64>,
    pub d_tau: f64,
    pub curvature: f64,
}

/// [`log_marginal`] and its exact derivatives. The rule's value is
/// log L = log(√2 σ̂) + log Σₖ Wₖ exp g(vₖ), vₖ = û + √2 σ̂ tₖ,
/// Wₖ = wₖ exp(tₖ²), with û the mode of g and σ̂ = D^(−1/2), D = −g₂(û)
/// (g₁, g₂, g₃ the derivatives of g in u); so for a parameter θ (each aⱼ,
/// and τ), with πₖ the normalised terms,
///
/// d log L/dθ = d log σ̂/dθ + Σₖ πₖ [∂g/∂θ(vₖ) + g₁(vₖ)(dû/dθ + √2 tₖ dσ̂/dθ)],
///
/// dû/dθ = ∂g₁/∂θ(û)/D (the mode's implicit derivative), and
/// d log σ̂/dθ = −½ (dD/dθ)/D with dD/dθ = −(∂g₂/∂θ(û) + g₃(û) dû/dθ).
/// With ℓⱼ⁽ʳ⁾ the derivatives of observation j's log density in η,
/// ∂/∂aⱼ of (g, g₁, g₂) at u are (ℓⱼ′, τzⱼℓⱼ″, τ²zⱼ²ℓⱼ‴), and ∂/∂τ of them
/// Σⱼ (zⱼuℓⱼ′, zⱼℓⱼ′ + τzⱼ²uℓⱼ″, 2τzⱼ²ℓⱼ″ + τ²zⱼ³uℓⱼ‴).
pub(crate) fn log_marginal_gradient(obs: &[Observation], tau: f64) -> Marginal {
    let m = obs.len();
    if tau == 0.0 {
        let mut value = 0.0;
        let mut d_a = Vec::with_capacity(m);
        let mut curvature = 0.0;
        for o in obs {
            value += o.log_density(o.a);
            let (l1, l2, _) = o.derivatives(o.a);
            d_a.push(l1);
            curvature += l2;
        }
        return Marginal {
            value,
            d_a,
            d_tau: 0.0,
            curvature,
        };
    }
    let u_hat = mode(obs, tau);
    let (g_hat, _, g2) = g(obs, tau, u_hat);
    let d = -g2;
    let sigma = (1.0 / d).sqrt();
    let scale = std::f64::consts::SQRT_2 * sigma;
    // At the mode: ∂g₁/∂θ and ∂g₂/∂θ for θ = a₁ … a_m, τ; and g₃.
    let mut dg1 = vec![0.0; m + 1];
    let mut dg2 = vec![0.0; m + 1];
    let mut g3 = 0.0;
    for (j, o) in obs.iter().enumerate() {
        let (l1, l2, l3) = o.derivatives(o.a + tau * o.z * u_hat);
        let z = o.z;
        dg1[j] = tau * z * l2;
        dg2[j] = tau * tau * z * z * l3;
        dg1[m] += z * l1 + tau * z * z * u_hat * l2;
        dg2[m] += 2.0 * tau * z * z * l2 + tau * tau * z * z * z * u_hat * l3;
        g3 += tau * tau * tau * z * z * z * l3;
    }
    let du: Vec<f64> = dg1.iter().map(|v| v / d).collect();
    let dlog_sigma: Vec<f64> = (0..=m).map(|i| 0.5 * (dg2[i] + g3 * du[i]) / d).collect();
    // The nodes, in log_marginal's order and arithmetic.
    let mut sum = WEIGHTS[0];
    let mut terms: Vec<(f64, f64)> = vec![(0.0, WEIGHTS[0])];
    for k in 1..NODES.len() {
        let t = NODES[k];
        for sign in [-1.0, 1.0] {
            let (gk, _, _) = g(obs, tau, u_hat + sign * scale * t);
            let w = WEIGHTS[k] * (t * t + gk - g_hat).exp();
            sum += w;
            terms.push((sign * t, w));
        }
    }
    let value = g_hat + scale.ln() + sum.ln() + log_constants(obs);
    let mut d_a = vec![0.0; m];
    let mut d_tau = 0.0;
    let (mut s_mean, mut s2_mean, mut h_mean) = (0.0, 0.0, 0.0);
    let mut dg = vec![0.0; m + 1];
    for &(t, w) in &terms {
        let pi = w / sum;
        let v = u_hat + scale * t;
        let mut g1 = -v;
        let (mut s_total, mut h_total) = (0.0, 0.0);
        dg[m] = 0.0;
        for (j, o) in obs.iter().enumerate() {
            let (l1, l2, _) = o.derivatives(o.a + tau * o.z * v);
            g1 += tau * o.z * l1;
            dg[j] = l1;
            dg[m] += o.z * v * l1;
            s_total += l1;
            h_total += l2;
        }
        for i in 0..=m {
            let dv = du[i] + std::f64::consts::SQRT_2 * t * sigma * dlog_sigma[i];
            let term = pi * (dg[i] + g1 * dv);
            if i < m {
                d_a[i] += term;
            } else {
                d_tau += term;
            }
        }
        s_mean += pi * s_total;
        s2_mean += pi * s_total * s_total;
        h_mean += pi * h_total;
    }
    for (i, d) in d_a.iter_mut().enumerate() {
        *d += dlog_sigma[i];
    }
    d_tau += dlog_sigma[m];
    let curvature = h_mean + (s2_mean - s_mean * s_mean);
    Marginal {
        value,
        d_a,
        d_tau,
        curvature: if curvature < 0.0 { curvature } else { h_mean },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_integrate_polynomials() {
        // Σ w = √π, Σ w t² = √π/2, Σ w t⁴ = 3√π/4.
        let pi_sqrt = std::f64::consts::PI.sqrt();
        for (power, exact) in [(0, pi_sqrt), (2, pi_sqrt / 2.0), (4, 0.75 * pi_sqrt)] {
            let mut s = WEIGHTS[0] * if power == 0 { 1.0 } else { 0.0 };
            for k in 1..4 {
                s += 2.0 * WEIGHTS[k] * NODES[k].powi(power);
            }
            assert!((s - exact).abs() < 1e-14, "{power}: {s} vs {exact}");
        }
    }

    #[test]
    fn gaussian_integrand_is_exact() {
        // With no data g is the log normal density: L = 1.
        assert!(log_marginal(&[], 1.0).abs() < 1e-14);
    }

    #[test]
    fn gradient_matches_central_differences() {
        let at = |a1: f64, a2: f64, family: Family| -> Vec<Observation> {
            match family {
                Family::Binomial => vec![
                    Observation::binomial(7.0, 40.0, a1, 0.5),
                    Observation::binomial(2.0, 35.0, a2, -0.5),
                ],
                Family::Poisson => vec![
                    Observation::poisson(7.0, a1, 0.5),
                    Observation::poisson(2.0, a2, -0.5),
                ],
            }
        };
        for family in [Family::Binomial, Family::Poisson] {
            let (a1, a2, tau) = (-1.2, -2.1, 0.9);
            let m = log_marginal_gradient(&at(a1, a2, family), tau);
            assert_eq!(m.value, log_marginal(&at(a1, a2, family), tau));
            let h = 1e-5;
            let f = |a1, a2, tau| log_marginal(&at(a1, a2, family), tau);
            let numeric = [
                (f(a1 + h, a2, tau) - f(a1 - h, a2, tau)) / (2.0 * h),
                (f(a1, a2 + h, tau) - f(a1, a2 - h, tau)) / (2.0 * h),
                (f(a1, a2, tau + h) - f(a1, a2, tau - h)) / (2.0 * h),
            ];
            let exact = [m.d_a[0], m.d_a[1], m.d_tau];
            for (e, n) in exact.iter().zip(numeric) {
                assert!(
                    (e - n).abs() < 1e-8 * (1.0 + n.abs()),
                    "{family:?}: {e} vs {n}"
                );
            }
        }
    }

    #[test]
    fn matches_fine_quadrature() {
        // A study of 3/20 at logit -1, τ = 0.8: against a trapezoid sum.
        let obs = [Observation::binomial(3.0, 20.0, -1.0, 1.0)];
        let tau = 0.8;
        let h = 1e-3;
        let mut s = 0.0;
        let mut u = -12.0;
        while u <= 12.0 {
            s += h * g(&obs, tau, u).0.exp();
            u += h;
        }
        // (g leaves out the normalising constant log C(20, 3).)
        let exact = s.ln() + log_choose(20.0, 3.0);
        let agq = log_marginal(&obs, tau);
        assert!((agq - exact).abs() < 1e-5, "{agq} vs {exact}");
    }
}
