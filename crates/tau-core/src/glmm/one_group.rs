//! The random-intercept GLMM of one count per study, with an offset:
//!
//! xᵢ ~ Bin(nᵢ, expit ηᵢ) or xᵢ ~ Pois(exp ηᵢ), ηᵢ = oᵢ + β + τuᵢ,
//! uᵢ ~ N(0, 1),
//!
//! fitted as lme4's `glmer(... ~ 1 + (1 | study), offset = o, nAGQ = 7)` by
//! ML, each study's likelihood by 7-point adaptive Gauss-Hermite quadrature
//! (`glmm::agq`), maximised over (β, τ). Four of metafor's
//! `rma.glmm` models are this one model:
//! - `measure = "PLO"`: xᵢ events of nᵢ, binomial, oᵢ = 0;
//! - `measure = "OR", model = "CM.AL"`: aᵢ of aᵢ + cᵢ, binomial,
//!   oᵢ = log(n1ᵢ/n2ᵢ) (the conditional approximate likelihood);
//! - `measure = "IRR", model = "CM.EL"`: x1ᵢ of x1ᵢ + x2ᵢ, binomial,
//!   oᵢ = log(t1ᵢ/t2ᵢ) (the conditional binomial, exact for Poisson counts);
//! - `measure = "IRLN"`: xᵢ events in tᵢ, Poisson, oᵢ = log tᵢ.
//!
//! The SE of β̂ is the β entry of the inverse Hessian of −log L over
//! (β, τ) at the optimum (lme4's `vcov`; the β entry does not depend on how
//! τ is parameterised). Reported beside it, as metafor reports them:
//! - `QE_Wld`: the Wald test of the saturated model (one ηᵢ per study)
//!   against the common one, Σ wᵢ(lᵢ − l̄)² with lᵢ = logit(xᵢ/nᵢ) − oᵢ,
//!   wᵢ = xᵢ(nᵢ − xᵢ)/nᵢ (binomial) or lᵢ = log xᵢ − oᵢ, wᵢ = xᵢ (Poisson),
//!   l̄ = Σwᵢlᵢ/Σwᵢ; a study whose saturated estimate is infinite (xᵢ = 0,
//!   or xᵢ = nᵢ) adds its limit, 0. `QE_LRT` = 2(ll_sat − ll_common), the
//!   common model a glm by ML. Both on k − 1 df.
//! - I² = 100 τ²/(τ² + s²), H² = τ²/s² + 1, s² the typical within-study
//!   variance of escalc's vᵢ of the measure (passed in as weights 1/vᵢ).
//! - `logLik`: metafor's ll = ll_sat − ½ × lme4's `deviance()`, i.e.
//!   Σ log f(xᵢ | η̂ᵢ) at the conditional modes ûᵢ.

use super::agq::{self, Family, Observation};
use super::maximum::{
    Derivatives, Optimum, hessian_of_gradient, maximise_exact, typical_variance, wald_residual,
};
use super::proportions::{Found, GlmmError, GlmmFit};

/// One study: `x` events (of `n` trials for a binomial) and the offset.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Count {
    pub x: f64,
    pub n: f64,
    pub offset: f64,
}

impl Count {
    /// The observation at the linear predictor `eta` (offset added here).
    fn observation(&self, family: Family, eta: f64) -> [Observation; 1] {
        let a = self.offset + eta;
        [match family {
            Family::Binomial => Observation::binomial(self.x, self.n, a, 1.0),
            Family::Poisson => Observation::poisson(self.x, a, 1.0),
        }]
    }
}

/// xᵢ'β of every study.
pub(super) fn linear_predictors(x: &[Vec<f64>], beta: &[f64]) -> Vec<f64> {
    x.iter()
        .map(|row| row.iter().zip(beta).map(|(a, b)| a * b).sum())
        .collect()
}

/// The start of the common-effect glm: the pooled log odds (or log rate)
/// as the intercept where X has one in its first column, 0 elsewhere.
fn glm_start(counts: &[Count], x: &[Vec<f64>], family: Family) -> Vec<f64> {
    let (sx, sn) = counts
        .iter()
        .fold((0.0, 0.0), |(x, n), c| (x + c.x, n + c.n));
    let mean_offset = counts.iter().map(|c| c.offset).sum::<f64>() / counts.len() as f64;
    let pooled = match family {
        Family::Binomial => (sx / (sn - sx)).ln() - mean_offset,
        Family::Poisson => {
            let exposure: f64 = counts.iter().map(|c| c.offset.exp()).sum();
            (sx / exposure).ln()
        }
    };
    let mut start = vec![0.0; x[0].len()];
    if x.iter().all(|row| row[0] == 1.0) {
        start[0] = pooled;
    }
    start
}

/// The model's log-likelihood with its exact gradient
/// ([`agq::log_marginal_gradient`]); its Hessian by central differences of
/// the gradient, at τ = 0 the glm's exact one, −Σ xᵢxᵢ' Iᵢ.
struct OneGroup<'a> {
    counts: &'a [Count],
    x: &'a [Vec<f64>],
    family: Family,
}

impl Derivatives for OneGroup<'_> {
    fn value_gradient(&self, beta: &[f64], tau: f64) -> (f64, Vec<f64>) {
        let p = beta.len();
        let mut value = 0.0;
        let mut gradient = vec![0.0; p + 1];
        for ((c, row), eta) in self
            .counts
            .iter()
            .zip(self.x)
            .zip(linear_predictors(self.x, beta))
        {
            let m = agq::log_marginal_gradient(&c.observation(self.family, eta), tau);
            value += m.value;
            for (g, xij) in gradient.iter_mut().zip(row) {
                *g += xij * m.d_a[0];
            }
            gradient[p] += m.d_tau;
        }
        (value, gradient)
    }

    fn hessian(&self, beta: &[f64], tau: f64, with_tau: bool) -> Vec<Vec<f64>> {
        if with_tau {
            return hessian_of_gradient(self, beta, tau);
        }
        let p = beta.len();
        let mut h = vec![vec![0.0; p]; p];
        for ((c, row), eta) in self
            .counts
            .iter()
            .zip(self.x)
            .zip(linear_predictors(self.x, beta))
        {
            let info = match self.family {
                Family::Binomial => {
                    let q = agq::expit(c.offset + eta);
                    c.n * q * (1.0 - q)
                }
                Family::Poisson => (c.offset + eta).exp(),
            };
            for a in 0..p {
                for b in 0..p {
                    h[a][b] -= row[a] * row[b] * info;
                }
            }
        }
        h
    }
}

/// Fits the model with the intercept alone; `escalc_weights` are 1/vᵢ of
/// escalc's vᵢ for I² and H²; `level` in percent. The counts are checked by
/// the caller.
pub(crate) fn fit_one_group(
    counts: &[Count],
    family: Family,
    escalc_weights: &[f64],
    level: f64,
    max_iter: usize,
) -> Result<GlmmFit, GlmmError> {
    let x = vec![vec![1.0]; counts.len()];
    Ok(GlmmFit::new(
        fit_one_group_x(counts, &x, family, escalc_weights, max_iter)?,
        level,
    ))
}

/// Fits the model with the fixed part xᵢ'β (rows `x`, one per study).
pub(super) fn fit_one_group_x(
    counts: &[Count],
    x: &[Vec<f64>],
    family: Family,
    escalc_weights: &[f64],
    max_iter: usize,
) -> Result<Found, GlmmError> {
    let k = counts.len();
    if k < 2 {
        return Err(GlmmError::TooFewStudies);
    }
    let (sx, sn) = counts
        .iter()
        .fold((0.0, 0.0), |(x, n), c| (x + c.x, n + c.n));
    if sx == 0.0 || (family == Family::Binomial && sx == sn) {
        return Err(GlmmError::NoVariation);
    }
    let model = OneGroup { counts, x, family };
    let (Optimum { beta, tau, vcov }, _, ll_common) =
        maximise_exact(&model, &glm_start(counts, x, family), max_iter)?;
    let log_lik = |beta: &[f64], tau: f64| model.value_gradient(beta, tau).0;

    let term = |c: f64, q: f64| if c > 0.0 { c * q.ln() } else { 0.0 };
    let ll_sat: f64 = counts
        .iter()
        .map(|c| match family {
            Family::Binomial => {
                let p = c.x / c.n;
                agq::log_choose(c.n, c.x) + term(c.x, p) + term(c.n - c.x, 1.0 - p)
            }
            Family::Poisson => term(c.x, c.x) - c.x - statrs::function::gamma::ln_gamma(c.x + 1.0),
        })
        .sum();
    let p = beta.len();
    let qe_lrt = (2.0 * (ll_sat - ll_common)).max(0.0);
    let wl: Vec<Option<(f64, f64)>> = counts
        .iter()
        .map(|c| {
            (c.x > 0.0 && (family == Family::Poisson || c.x < c.n)).then(|| match family {
                Family::Binomial => (c.x * (c.n - c.x) / c.n, (c.x / (c.n - c.x)).ln() - c.offset),
                Family::Poisson => (c.x, c.x.ln() - c.offset),
            })
        })
        .collect();
    let qe_wld = wald_residual(x, &wl);
    let s2w = typical_variance(x, escalc_weights);
    let etas = linear_predictors(x, &beta);
    let log_lik_modes: f64 = counts
        .iter()
        .zip(&etas)
        .map(|(c, &eta)| {
            let obs = c.observation(family, eta);
            let u = if tau > 0.0 { agq::mode(&obs, tau) } else { 0.0 };
            obs[0].log_density(obs[0].a + tau * u)
        })
        .sum();
    Ok(Found {
        k,
        agq_log_lik: log_lik(&beta, tau) - ll_sat,
        beta,
        vcov,
        tau2: tau * tau,
        typical_variance: s2w,
        qe_wld,
        qe_lrt,
        qe_df: k - p,
        log_lik: log_lik_modes,
    })
}
