//! The random-effects logistic model of proportions: metafor's
//! `rma.glmm(measure = "PLO", xi, ni)`, which fits
//! `glmer(cbind(xi, ni - xi) ~ 1 + (1 | study), family = binomial,
//! nAGQ = 7)` by ML:
//!
//! xᵢ ~ Bin(nᵢ, pᵢ), logit pᵢ = β + τ uᵢ, uᵢ ~ N(0, 1),
//!
//! each study's likelihood by 7-point adaptive Gauss-Hermite quadrature
//! (`glmm::agq`), maximised over (β, log τ). The SE of β̂ is the β entry
//! of the inverse Hessian of −log L over (β, τ) at the optimum (lme4's
//! `vcov`, which takes the Hessian over (θ, β); the β entry does not depend
//! on how τ is parameterised).
//!
//! Reported beside it, as metafor's `rma.glmm` reports them:
//! - `QE_Wld`: the Wald test of the saturated logistic model (one logit per
//!   study) against the common logit, Σ wᵢ(lᵢ − l̄)² with lᵢ = logit(xᵢ/nᵢ),
//!   wᵢ = xᵢ(nᵢ − xᵢ)/nᵢ, l̄ = Σwᵢlᵢ/Σwᵢ (a study with xᵢ = 0 or xᵢ = nᵢ
//!   contributes its limit, 0); `QE_LRT` = 2(ll_sat − ll_common); both on
//!   k − 1 df.
//! - I² = 100 τ²/(τ² + s²) and H² = τ²/s² + 1, with the typical
//!   within-study variance s² = (k − 1)Σwᵢ/((Σwᵢ)² − Σwᵢ²) of escalc's
//!   vᵢ = 1/xᵢ + 1/(nᵢ − xᵢ) (1/2 added to both cells of a study with a zero
//!   cell), wᵢ = 1/vᵢ.
//! - `logLik`: metafor's ll = ll_sat − ½ × lme4's `deviance()`, i.e.
//!   Σ log Bin(xᵢ | nᵢ, expit(β̂ + τ̂ ûᵢ)) at the conditional modes ûᵢ.

use crate::numerics::distribution::{chisq_sf, normal_two_sided_p, normal_upper};
use crate::numerics::hessian::hessian;
use crate::numerics::optim::bfgs_with;

use super::agq::{self, Observation};

/// The fit of [`fit_proportions`]; JSON keys as issue 30 names them
/// (metafor's with `.` written `_`).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[non_exhaustive]
pub struct GlmmFit {
    /// Number of studies.
    pub k: usize,
    /// β̂ (the log odds).
    pub estimate: f64,
    /// Its standard error.
    pub se: f64,
    /// z = β̂/se.
    pub statistic: f64,
    /// Two-sided p-value of z.
    pub p: f64,
    /// Wald CI of β at `level`.
    pub ci_lower: f64,
    /// Upper end of the CI.
    pub ci_upper: f64,
    /// τ̂².
    pub tau2: f64,
    /// Wald test of the saturated model.
    #[serde(rename = "QE_Wld")]
    pub qe_wld: f64,
    /// Its p-value.
    #[serde(rename = "QE_Wld_p")]
    pub qe_wld_p: f64,
    /// Likelihood-ratio test of the saturated model.
    #[serde(rename = "QE_LRT")]
    pub qe_lrt: f64,
    /// Its p-value.
    #[serde(rename = "QE_LRT_p")]
    pub qe_lrt_p: f64,
    /// Degrees of freedom of both tests (k − 1).
    #[serde(rename = "QE_df")]
    pub qe_df: usize,
    /// I² (%).
    #[serde(rename = "I2")]
    pub i2: f64,
    /// H².
    #[serde(rename = "H2")]
    pub h2: f64,
    /// metafor's logLik (see the module doc).
    #[serde(rename = "logLik")]
    pub log_lik: f64,
    /// The AGQ log-likelihood maximised, less the saturated model's (as
    /// lme4's `logLik` reports it for a binomial GLMM with nAGQ > 1: its
    /// AGQ deviance is measured from the saturated model).
    #[serde(skip)]
    pub agq_log_lik: f64,
}

/// metafor's `QE.Wld`: Cochran's Q of the studies' estimates `l` (logits, or
/// log odds ratios) with weights `w` = 1/vᵢ, over the studies without a
/// zero cell: Σ wᵢ(lᵢ − l̄)², l̄ = Σ wᵢlᵢ / Σ wᵢ; 0 without any such study.
pub(super) fn wald_q(wl: &[(f64, f64)]) -> f64 {
    let (sw, swl) = wl
        .iter()
        .fold((0.0, 0.0), |(sw, swl), (w, l)| (sw + w, swl + w * l));
    if sw <= 0.0 {
        return 0.0;
    }
    let mean = swl / sw;
    wl.iter()
        .map(|(w, l)| w * (l - mean).powi(2))
        .sum::<f64>()
        .max(0.0)
}

/// The typical within-study variance of I² and H² (Higgins & Thompson
/// 2002), (k − 1) Σwᵢ / ((Σwᵢ)² − Σwᵢ²), from the weights wᵢ = 1/vᵢ of
/// escalc's vᵢ (1/2 added to the cells of a table with a zero, as metafor).
pub(super) fn typical_variance(weights: impl Iterator<Item = f64>, k: usize) -> f64 {
    let (s1, s2) = weights.fold((0.0, 0.0), |(s1, s2), w| (s1 + w, s2 + w * w));
    (k as f64 - 1.0) * s1 / (s1 * s1 - s2)
}

/// Why a GLMM of proportions could not be fitted.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum GlmmError {
    /// Fewer than two studies.
    TooFewStudies,
    /// `xi` or `ni` of a study is not a count with 0 ≤ xi ≤ ni, ni > 0.
    BadCounts {
        /// The study's position (0-based).
        index: usize,
    },
    /// No study has an event, or every study has only events.
    NoVariation,
    /// The optimiser failed.
    NotConverged,
}

impl std::fmt::Display for GlmmError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GlmmError::TooFewStudies => write!(f, "a GLMM needs at least 2 studies"),
            GlmmError::BadCounts { index } => write!(
                f,
                "study {}: `xi` and `ni` must be counts with 0 <= xi <= ni and ni > 0",
                index + 1
            ),
            GlmmError::NoVariation => write!(
                f,
                "the studies have no events, or only events: the log odds cannot be estimated; check `xi` and `ni`"
            ),
            GlmmError::NotConverged => write!(
                f,
                "the GLMM likelihood could not be maximised; raise `max_iter` or check the counts"
            ),
        }
    }
}

impl std::error::Error for GlmmError {}

/// τ below this is taken as 0 (the optimum on the boundary).
const TAU_ZERO: f64 = 1e-6;

fn study(x: f64, n: f64, beta: f64) -> [Observation; 1] {
    [Observation {
        x,
        n,
        a: beta,
        z: 1.0,
    }]
}

/// Fits the model to events `xi` out of `ni`; `level` in percent.
pub fn fit_proportions(
    xi: &[f64],
    ni: &[f64],
    level: f64,
    max_iter: usize,
) -> Result<GlmmFit, GlmmError> {
    let k = xi.len();
    if k < 2 || ni.len() != k {
        return Err(GlmmError::TooFewStudies);
    }
    for (index, (&x, &n)) in xi.iter().zip(ni).enumerate() {
        let count = |v: f64| v.is_finite() && v >= 0.0 && v.fract() == 0.0;
        if !count(x) || !count(n) || n == 0.0 || x > n {
            return Err(GlmmError::BadCounts { index });
        }
    }
    let (sx, sn): (f64, f64) = (xi.iter().sum(), ni.iter().sum());
    if sx == 0.0 || sx == sn {
        return Err(GlmmError::NoVariation);
    }
    let log_lik = |beta: f64, tau: f64| -> f64 {
        xi.iter()
            .zip(ni)
            .map(|(&x, &n)| agq::log_marginal(&study(x, n, beta), tau))
            .sum()
    };
    let mut objective = |theta: &[f64]| -> Result<f64, GlmmError> {
        let v = -log_lik(theta[0], theta[1].exp());
        if v.is_finite() {
            Ok(v)
        } else {
            Ok(f64::MAX.sqrt())
        }
    };
    let common = (sx / (sn - sx)).ln();
    let theta = bfgs_with(
        &mut objective,
        &[common, 0.5f64.ln()],
        1e-14,
        max_iter.max(500),
    )
    .map_err(|_| GlmmError::NotConverged)?;
    let (beta, tau, agq_log_lik, var_beta) = if theta[1].exp() < TAU_ZERO {
        // On the boundary: the common-logit glm, SE from its information.
        let p = sx / sn;
        let info = sn * p * (1.0 - p);
        (common, 0.0, log_lik(common, 0.0), 1.0 / info)
    } else {
        // Hessian over (β, τ) of −log L.
        let mut natural = |t: &[f64]| -> Result<f64, GlmmError> { Ok(-log_lik(t[0], t[1])) };
        let point = [theta[0], theta[1].exp()];
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
    let crit = normal_upper((1.0 - level / 100.0) / 2.0);
    let statistic = beta / se;

    // Saturated and common-logit binomial log-likelihoods.
    let ll_sat: f64 = xi
        .iter()
        .zip(ni)
        .map(|(&x, &n)| {
            let p = x / n;
            let term = |c: f64, q: f64| if c > 0.0 { c * q.ln() } else { 0.0 };
            agq::log_choose(n, x) + term(x, p) + term(n - x, 1.0 - p)
        })
        .sum();
    let ll_common: f64 = xi
        .iter()
        .zip(ni)
        .map(|(&x, &n)| agq::log_binomial(x, n, common))
        .sum();
    let qe_df = k - 1;
    let qe_lrt = (2.0 * (ll_sat - ll_common)).max(0.0);
    let wl: Vec<(f64, f64)> = xi
        .iter()
        .zip(ni)
        .filter(|&(&x, &n)| x > 0.0 && x < n)
        .map(|(&x, &n)| (x * (n - x) / n, (x / (n - x)).ln()))
        .collect();
    let qe_wld = wald_q(&wl);

    // I², H² from escalc's vi.
    let weights = xi.iter().zip(ni).map(|(&x, &n)| {
        let (a, b) = if x == 0.0 || x == n {
            (x + 0.5, n - x + 0.5)
        } else {
            (x, n - x)
        };
        1.0 / (1.0 / a + 1.0 / b)
    });
    let s2w = typical_variance(weights, k);
    let tau2 = tau * tau;

    // metafor's logLik: the binomial log-likelihood at the conditional modes.
    let log_lik_modes: f64 = xi
        .iter()
        .zip(ni)
        .map(|(&x, &n)| {
            let u = if tau > 0.0 {
                agq::mode(&study(x, n, beta), tau)
            } else {
                0.0
            };
            agq::log_binomial(x, n, beta + tau * u)
        })
        .sum();

    Ok(GlmmFit {
        k,
        estimate: beta,
        se,
        statistic,
        p: normal_two_sided_p(statistic),
        ci_lower: beta - crit * se,
        ci_upper: beta + crit * se,
        tau2,
        qe_wld,
        qe_wld_p: chisq_sf(qe_wld, qe_df as f64),
        qe_lrt,
        qe_lrt_p: chisq_sf(qe_lrt, qe_df as f64),
        qe_df,
        i2: 100.0 * tau2 / (s2w + tau2),
        h2: tau2 / s2w + 1.0,
        log_lik: log_lik_modes,
        agq_log_lik: agq_log_lik - ll_sat,
    })
}
