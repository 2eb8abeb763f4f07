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
    CommonEffect, Optimum, inverse, maximise, newton_concave, typical_variance, wald_residual,
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

/// The common-effect glm's log-likelihood at β, its gradient and
/// information.
fn glm_terms(
    counts: &[Count],
    x: &[Vec<f64>],
    family: Family,
    beta: &[f64],
) -> (f64, Vec<f64>, Vec<Vec<f64>>) {
    let p = beta.len();
    let etas = linear_predictors(x, beta);
    let mut value = 0.0;
    let mut score = vec![0.0; p];
    let mut info = vec![vec![0.0; p]; p];
    for ((c, row), eta) in counts.iter().zip(x).zip(etas) {
        let eta = c.offset + eta;
        let (s, i) = match family {
            Family::Binomial => {
                let p = agq::expit(eta);
                (c.x - c.n * p, c.n * p * (1.0 - p))
            }
            Family::Poisson => (c.x - eta.exp(), eta.exp()),
        };
        value += c.observation(family, 0.0)[0].log_density(eta);
        for a in 0..p {
            score[a] += row[a] * s;
            for b in 0..p {
                info[a][b] += row[a] * row[b] * i;
            }
        }
    }
    (value, score, info)
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
    let log_lik = |beta: &[f64], tau: f64| -> f64 {
        counts
            .iter()
            .zip(linear_predictors(x, beta))
            .map(|(c, eta)| agq::log_marginal(&c.observation(family, eta), tau))
            .sum()
    };
    let terms = |beta: &[f64]| glm_terms(counts, x, family, beta);
    let (common, common_info) = newton_concave(&terms, &glm_start(counts, x, family));
    if common.iter().any(|b| !b.is_finite()) {
        return Err(GlmmError::NotConverged);
    }
    let ll_common = log_lik(&common, 0.0);
    let mut common_vcov = || inverse(&common_info).ok_or(GlmmError::NotConverged);
    let Optimum { beta, tau, vcov } = maximise(
        &log_lik,
        CommonEffect {
            beta: common,
            log_lik: ll_common,
            vcov: &mut common_vcov,
        },
        max_iter,
    )?;

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
