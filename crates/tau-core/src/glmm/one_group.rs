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

use crate::numerics::hessian::hessian;
use crate::numerics::optim::bfgs_with;

use super::polish::newton_polish;

use super::agq::{self, Family, Observation};
use super::proportions::{Found, GlmmError, GlmmFit, typical_variance, wald_q};

/// One study: `x` events (of `n` trials for a binomial) and the offset.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Count {
    pub x: f64,
    pub n: f64,
    pub offset: f64,
}

impl Count {
    fn observation(&self, family: Family, beta: f64) -> [Observation; 1] {
        let a = self.offset + beta;
        [match family {
            Family::Binomial => Observation::binomial(self.x, self.n, a, 1.0),
            Family::Poisson => Observation::poisson(self.x, a, 1.0),
        }]
    }
}

/// τ below this is taken as 0 (the optimum on the boundary).
const TAU_ZERO: f64 = 1e-6;

/// The common-effect glm's β̂ (Newton's method on its concave
/// log-likelihood, steps halved while they lower it) and its information.
fn common_effect(counts: &[Count], family: Family) -> (f64, f64) {
    let ll = |beta: f64| -> f64 {
        counts
            .iter()
            .map(|c| c.observation(family, beta)[0].log_density(c.offset + beta))
            .sum()
    };
    let derivatives = |beta: f64| -> (f64, f64) {
        counts.iter().fold((0.0, 0.0), |(s, i), c| {
            let eta = c.offset + beta;
            let (score, info) = match family {
                Family::Binomial => {
                    let p = agq::expit(eta);
                    (c.x - c.n * p, c.n * p * (1.0 - p))
                }
                Family::Poisson => (c.x - eta.exp(), eta.exp()),
            };
            (s + score, i + info)
        })
    };
    let (sx, sn) = counts
        .iter()
        .fold((0.0, 0.0), |(x, n), c| (x + c.x, n + c.n));
    let mean_offset = counts.iter().map(|c| c.offset).sum::<f64>() / counts.len() as f64;
    let mut beta = match family {
        Family::Binomial => (sx / (sn - sx)).ln() - mean_offset,
        Family::Poisson => {
            let exposure: f64 = counts.iter().map(|c| c.offset.exp()).sum();
            (sx / exposure).ln()
        }
    };
    let mut value = ll(beta);
    for _ in 0..200 {
        let (score, info) = derivatives(beta);
        let mut step = score / info;
        let mut next = ll(beta + step);
        let mut halvings = 0;
        while next.partial_cmp(&value).is_none_or(|o| o.is_lt()) && halvings < 60 {
            step *= 0.5;
            next = ll(beta + step);
            halvings += 1;
        }
        if halvings == 60 {
            break;
        }
        beta += step;
        value = next;
        if step.abs() <= 1e-13 * (1.0 + beta.abs()) {
            break;
        }
    }
    (beta, derivatives(beta).1)
}

/// Fits the model; `escalc_weights` are 1/vᵢ of escalc's vᵢ for I² and H²;
/// `level` in percent. The counts are checked by the caller.
pub(crate) fn fit_one_group(
    counts: &[Count],
    family: Family,
    escalc_weights: &[f64],
    level: f64,
    max_iter: usize,
) -> Result<GlmmFit, GlmmError> {
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
    let log_lik = |beta: f64, tau: f64| -> f64 {
        counts
            .iter()
            .map(|c| agq::log_marginal(&c.observation(family, beta), tau))
            .sum()
    };
    let mut objective = |theta: &[f64]| -> Result<f64, GlmmError> {
        let v = -log_lik(theta[0], theta[1].abs());
        Ok(if v.is_finite() { v } else { f64::MAX.sqrt() })
    };
    let (common, common_info) = common_effect(counts, family);
    if !common.is_finite() {
        return Err(GlmmError::NotConverged);
    }
    let theta = bfgs_with(
        &mut objective,
        &[common, agq::TAU_START],
        1e-14,
        max_iter.max(500),
    )
    .map_err(|_| GlmmError::NotConverged)?;
    // On the boundary where no τ > 0 beats the common-effect model.
    let boundary =
        theta[1].abs() < TAU_ZERO || log_lik(common, 0.0) >= log_lik(theta[0], theta[1].abs());
    let (beta, tau, agq_log_lik, var_beta) = if boundary {
        // On the boundary: the common-effect glm, SE from its information.
        (common, 0.0, log_lik(common, 0.0), 1.0 / common_info)
    } else {
        let mut natural = |t: &[f64]| -> Result<f64, GlmmError> { Ok(-log_lik(t[0], t[1])) };
        let polished = newton_polish(&mut natural, &[theta[0], theta[1].abs()]);
        let point = [polished[0], polished[1].abs()];
        let h = hessian(&mut natural, &point, &[0, 1])?;
        let det = h[0][0] * h[1][1] - h[0][1] * h[1][0];
        if !(det > 0.0 && h[1][1] > 0.0) {
            return Err(GlmmError::NotConverged);
        }
        (
            point[0],
            point[1],
            log_lik(point[0], point[1]),
            h[1][1] / det,
        )
    };
    let se = var_beta.sqrt();

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
    let ll_common = log_lik(common, 0.0);
    let qe_df = k - 1;
    let qe_lrt = (2.0 * (ll_sat - ll_common)).max(0.0);
    let wl: Vec<(f64, f64)> = counts
        .iter()
        .filter(|c| c.x > 0.0 && (family == Family::Poisson || c.x < c.n))
        .map(|c| match family {
            Family::Binomial => (c.x * (c.n - c.x) / c.n, (c.x / (c.n - c.x)).ln() - c.offset),
            Family::Poisson => (c.x, c.x.ln() - c.offset),
        })
        .collect();
    let qe_wld = wald_q(&wl);
    let s2w = typical_variance(escalc_weights.iter().copied(), k);
    let tau2 = tau * tau;

    let log_lik_modes: f64 = counts
        .iter()
        .map(|c| {
            let obs = c.observation(family, beta);
            let u = if tau > 0.0 { agq::mode(&obs, tau) } else { 0.0 };
            obs[0].log_density(obs[0].a + tau * u)
        })
        .sum();

    Ok(GlmmFit::new(
        Found {
            k,
            estimate: beta,
            se,
            tau2,
            typical_variance: s2w,
            qe_wld,
            qe_lrt,
            qe_df,
            log_lik: log_lik_modes,
            agq_log_lik: agq_log_lik - ll_sat,
        },
        level,
    ))
}
