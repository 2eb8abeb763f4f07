//! The random-effects logistic model of proportions: metafor's
//! `rma.glmm(measure = "PLO", xi, ni)`, which fits
//! `glmer(cbind(xi, ni - xi) ~ 1 + (1 | study), family = binomial,
//! nAGQ = 7)` by ML:
//!
//! xᵢ ~ Bin(nᵢ, pᵢ), logit pᵢ = β + τ uᵢ, uᵢ ~ N(0, 1),
//!
//! each study's likelihood by 7-point adaptive Gauss-Hermite quadrature
//! (`glmm::agq`), maximised over (β, τ). The SE of β̂ is the β entry
//! of the inverse Hessian of −log L over (β, τ) at the optimum (lme4's
//! `vcov`, which takes the Hessian over (θ, β); the β entry does not depend
//! on how τ is parameterised).
//!
//! The fit is the one-group binomial-normal model (`glmm::one_group`) with no offset. Reported beside it, as
//! metafor's `rma.glmm` reports them:
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

use crate::numerics::distribution::{
    chisq_sf, normal_two_sided_p, normal_upper, t_two_sided_p, t_upper,
};

use super::agq::Family;
use super::one_group::{Count, fit_one_group};

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

/// What a GLMM fitter finds, from which [`GlmmFit::new`] derives the rest.
pub(super) struct Found {
    /// Number of studies.
    pub k: usize,
    /// β̂: the intercept, then the moderators' coefficients.
    pub beta: Vec<f64>,
    /// The covariance of β̂.
    pub vcov: Vec<Vec<f64>>,
    /// τ̂².
    pub tau2: f64,
    /// The typical within-study variance of I² and H².
    pub typical_variance: f64,
    /// Wald test of the saturated model.
    pub qe_wld: f64,
    /// Likelihood-ratio test of the saturated model.
    pub qe_lrt: f64,
    /// Degrees of freedom of both tests.
    pub qe_df: usize,
    /// metafor's logLik.
    pub log_lik: f64,
    /// The maximised log-likelihood less the saturated model's.
    pub agq_log_lik: f64,
}

impl GlmmFit {
    /// The fit of what a fitter `found` (with the intercept alone): z = β̂/se with its two-sided p, the
    /// Wald CI β̂ ± z₁₋α/₂·se at `level`, the χ² p-values of the
    /// heterogeneity tests, I² = 100 τ̂²/(s² + τ̂²) and H² = τ̂²/s² + 1 with s²
    /// the typical within-study variance (metafor's `rma.glmm`).
    pub(super) fn new(found: Found, level: f64) -> GlmmFit {
        let Found {
            k,
            beta,
            vcov,
            tau2,
            typical_variance: s2w,
            qe_wld,
            qe_lrt,
            qe_df,
            log_lik,
            agq_log_lik,
        } = found;
        let crit = normal_upper((1.0 - level / 100.0) / 2.0);
        let (estimate, se) = (beta[0], vcov[0][0].sqrt());
        let statistic = estimate / se;
        GlmmFit {
            k,
            estimate,
            se,
            statistic,
            p: normal_two_sided_p(statistic),
            ci_lower: estimate - crit * se,
            ci_upper: estimate + crit * se,
            tau2,
            qe_wld,
            qe_wld_p: chisq_sf(qe_wld, qe_df as f64),
            qe_lrt,
            qe_lrt_p: chisq_sf(qe_lrt, qe_df as f64),
            qe_df,
            i2: 100.0 * tau2 / (s2w + tau2),
            h2: tau2 / s2w + 1.0,
            log_lik,
            agq_log_lik,
        }
    }
}

impl GlmmFit {
    /// The t test of metafor's `test = "t"` on `df` degrees of freedom: the
    /// same t = β̂/se, p = 2 P(T_df > |t|), CI β̂ ± t_df,1−α/2 · se.
    pub(super) fn use_t(&mut self, df: f64, level: f64) {
        let crit = t_upper((1.0 - level / 100.0) / 2.0, df);
        self.p = t_two_sided_p(self.statistic, df);
        self.ci_lower = self.estimate - crit * self.se;
        self.ci_upper = self.estimate + crit * self.se;
    }
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
    /// Events or person-time of a study are not counts and positive times.
    BadRates {
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
            GlmmError::BadRates { index } => write!(
                f,
                "study {}: events must be counts (0, 1, 2, ...) and person-time must be > 0; check `events1`, `time1`, `events2` and `time2` (or `events` and `time`)",
                index + 1
            ),
            GlmmError::NoVariation => write!(
                f,
                "the studies have no events (or, of proportions, only events): the GLMM cannot be estimated; check the events"
            ),
            GlmmError::NotConverged => write!(
                f,
                "the GLMM likelihood could not be maximised; raise `max_iter` or check the counts"
            ),
        }
    }
}

impl std::error::Error for GlmmError {}

/// Fits the model to events `xi` out of `ni`; `level` in percent.
pub fn fit_proportions(
    xi: &[f64],
    ni: &[f64],
    level: f64,
    max_iter: usize,
) -> Result<GlmmFit, GlmmError> {
    if xi.len() < 2 || ni.len() != xi.len() {
        return Err(GlmmError::TooFewStudies);
    }
    check_counts(xi, ni)?;
    let counts: Vec<Count> = xi
        .iter()
        .zip(ni)
        .map(|(&x, &n)| Count { x, n, offset: 0.0 })
        .collect();
    fit_one_group(
        &counts,
        Family::Binomial,
        &escalc_weights(xi, ni),
        level,
        max_iter,
    )
}

/// Checks that every `xi` of `ni` is a count with 0 ≤ xi ≤ ni, ni > 0.
pub(super) fn check_counts(xi: &[f64], ni: &[f64]) -> Result<(), GlmmError> {
    for (index, (&x, &n)) in xi.iter().zip(ni).enumerate() {
        let count = |v: f64| v.is_finite() && v >= 0.0 && v.fract() == 0.0;
        if !count(x) || !count(n) || n == 0.0 || x > n {
            return Err(GlmmError::BadCounts { index });
        }
    }
    Ok(())
}

/// 1/vᵢ of escalc's vi = 1/x + 1/(n - x), 1/2 added to both cells of a
/// study with a zero cell.
pub(super) fn escalc_weights(xi: &[f64], ni: &[f64]) -> Vec<f64> {
    xi.iter()
        .zip(ni)
        .map(|(&x, &n)| {
            let (a, b) = if x == 0.0 || x == n {
                (x + 0.5, n - x + 0.5)
            } else {
                (x, n - x)
            };
            1.0 / (1.0 / a + 1.0 / b)
        })
        .collect()
}
