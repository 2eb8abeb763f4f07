//! The unconditional binomial-normal model of 2×2 tables with fixed study
//! effects: metafor's `rma.glmm(measure = "OR", ai, n1i, ci, n2i,
//! model = "UM.FS")`, which fits (metafor 3.8.1, lme4)
//! `glmer(cbind(x, n - x) ~ -1 + group1 + study + (group - 1 | study),
//! family = binomial, nAGQ = 7)` by ML:
//!
//! logit p_{i,treated} = αᵢ + β + τuᵢ/2, logit p_{i,control} = αᵢ − τuᵢ/2,
//! uᵢ ~ N(0, 1) (coding 1/2 of the random effect; the fixed effect coded
//! 1/0 gives the same β̂). Double-zero (and double-all) tables are left out.
//!
//! Each study's likelihood is the 7-point adaptive Gauss-Hermite
//! quadrature of `glmm::agq`. The study intercepts αᵢ are profiled out
//! (each maximises its own study's likelihood, by Newton's method), and the
//! profile log-likelihood is maximised over (β, τ). At the optimum the
//! inverse Hessian of the profile over (β, τ) is the (β, τ) block of the
//! inverse of the full Hessian, so the SE of β̂ is lme4's `vcov`.
//!
//! Beside it, as metafor reports them: `QE_Wld`, the Wald test of the
//! saturated model (one log odds ratio per table) against the common-effect
//! model, Σ wᵢ(θᵢ − θ̄)² with θᵢ the table's log odds ratio and
//! wᵢ = 1/(1/a + 1/b + 1/c + 1/d) (a table with a zero cell adds its limit,
//! 0); `QE_LRT` = 2(ll_sat − ll_common) with the common-effect glm fitted
//! by ML; I², H² from escalc's vᵢ (1/2 added to each cell of a table with a
//! zero cell); `logLik` = Σ log Bin at the conditional modes.

use statrs::function::gamma::ln_gamma;

use super::agq::{self, Family, Observation};
use super::maximum::{Optimum, maximise_exact, typical_variance, wald_residual};
use super::one_group::linear_predictors;
use super::profile::Profile;
use super::proportions::{Found, GlmmError, GlmmFit};

/// One 2×2 table: events and sizes of the treated and control groups.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Table {
    /// Events, treated.
    pub ai: f64,
    /// Size, treated.
    pub n1i: f64,
    /// Events, control.
    pub ci: f64,
    /// Size, control.
    pub n2i: f64,
}

/// The two groups of a study: events `x` of `n` trials (binomial), or in
/// person-time `n` (Poisson, offset log n).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Arms {
    pub x1: f64,
    pub n1: f64,
    pub x2: f64,
    pub n2: f64,
    pub family: Family,
}

impl Arms {
    pub(super) fn observations(&self, alpha: f64, beta: f64) -> [Observation; 2] {
        match self.family {
            Family::Binomial => [
                Observation::binomial(self.x1, self.n1, alpha + beta, 0.5),
                Observation::binomial(self.x2, self.n2, alpha, -0.5),
            ],
            Family::Poisson => [
                Observation::poisson(self.x1, alpha + beta + self.n1.ln(), 0.5),
                Observation::poisson(self.x2, alpha + self.n2.ln(), -0.5),
            ],
        }
    }

    /// The study's intercept under a common rate or risk.
    pub(super) fn pooled_intercept(&self) -> f64 {
        match self.family {
            Family::Binomial => {
                let pooled = (self.x1 + self.x2 + 0.5) / (self.n1 + self.n2 + 1.0);
                (pooled / (1.0 - pooled)).ln()
            }
            Family::Poisson => ((self.x1 + self.x2 + 0.5) / (self.n1 + self.n2)).ln(),
        }
    }

    /// The saturated log-likelihood of the two groups.
    fn saturated(&self) -> f64 {
        let term = |c: f64, q: f64| if c > 0.0 { c * q.ln() } else { 0.0 };
        let one = |x: f64, n: f64| match self.family {
            Family::Binomial => {
                let p = x / n;
                agq::log_choose(n, x) + term(x, p) + term(n - x, 1.0 - p)
            }
            Family::Poisson => term(x, x) - x - ln_gamma(x + 1.0),
        };
        one(self.x1, self.n1) + one(self.x2, self.n2)
    }

    /// The study's own effect and its Wald weight (1/variance), where
    /// finite: the log odds ratio with 1/(1/a + 1/b + 1/c + 1/d), or the
    /// log rate ratio with 1/(1/x1 + 1/x2).
    fn own_effect(&self) -> Option<(f64, f64)> {
        match self.family {
            Family::Binomial => {
                let (a, b, c, d) = (self.x1, self.n1 - self.x1, self.x2, self.n2 - self.x2);
                (a > 0.0 && b > 0.0 && c > 0.0 && d > 0.0).then(|| {
                    (
                        1.0 / (1.0 / a + 1.0 / b + 1.0 / c + 1.0 / d),
                        (a * d / (b * c)).ln(),
                    )
                })
            }
            Family::Poisson => (self.x1 > 0.0 && self.x2 > 0.0).then(|| {
                (
                    1.0 / (1.0 / self.x1 + 1.0 / self.x2),
                    (self.x1 / self.n1).ln() - (self.x2 / self.n2).ln(),
                )
            }),
        }
    }
}

impl Table {
    pub(crate) fn arms(&self) -> Arms {
        Arms {
            x1: self.ai,
            n1: self.n1i,
            x2: self.ci,
            n2: self.n2i,
            family: Family::Binomial,
        }
    }

    /// No events, or only events, in both groups.
    pub(crate) fn uninformative(&self) -> bool {
        (self.ai == 0.0 && self.ci == 0.0) || (self.ai == self.n1i && self.ci == self.n2i)
    }
}

/// Checks the counts, and leaves out the double-zero (and double-all)
/// tables; at least 2 must remain.
pub(crate) fn informative_tables(tables: &[Table]) -> Result<Vec<Table>, GlmmError> {
    for (index, t) in tables.iter().enumerate() {
        let count = |v: f64| v.is_finite() && v >= 0.0 && v.fract() == 0.0;
        if ![t.ai, t.n1i, t.ci, t.n2i].into_iter().all(count)
            || t.n1i == 0.0
            || t.n2i == 0.0
            || t.ai > t.n1i
            || t.ci > t.n2i
        {
            return Err(GlmmError::BadCounts { index });
        }
    }
    let tables: Vec<Table> = tables
        .iter()
        .copied()
        .filter(|t| !t.uninformative())
        .collect();
    if tables.len() < 2 {
        return Err(GlmmError::TooFewStudies);
    }
    Ok(tables)
}

/// 1/vᵢ of escalc's log odds ratios (1/2 added to each cell of a table
/// with a zero cell), for I² and H².
pub(crate) fn escalc_weights(tables: &[Table]) -> Vec<f64> {
    tables
        .iter()
        .map(|t| {
            let (mut a, mut b, mut c, mut d) = (t.ai, t.n1i - t.ai, t.ci, t.n2i - t.ci);
            if a == 0.0 || b == 0.0 || c == 0.0 || d == 0.0 {
                (a, b, c, d) = (a + 0.5, b + 0.5, c + 0.5, d + 0.5);
            }
            1.0 / (1.0 / a + 1.0 / b + 1.0 / c + 1.0 / d)
        })
        .collect()
}

/// Fits the model to the tables; `level` in percent. Returns the fit and the
/// number of tables used (double-zero tables left out).
pub fn fit_odds_ratios(
    tables: &[Table],
    level: f64,
    max_iter: usize,
) -> Result<GlmmFit, GlmmError> {
    let tables = informative_tables(tables)?;
    let weights = escalc_weights(&tables);
    let arms: Vec<Arms> = tables.iter().map(Table::arms).collect();
    fit_two_groups(&arms, &weights, level, max_iter)
}

/// Fits the model of [`fit_odds_ratios`] to binomial or Poisson arms;
/// `weights` are 1/vᵢ of escalc's vᵢ, for I² and H².
pub(crate) fn fit_two_groups(
    tables: &[Arms],
    weights: &[f64],
    level: f64,
    max_iter: usize,
) -> Result<GlmmFit, GlmmError> {
    let x = vec![vec![1.0]; tables.len()];
    Ok(GlmmFit::new(
        fit_two_groups_x(tables, &x, weights, max_iter)?,
        level,
    ))
}

/// Fits the model with the treatment effect xᵢ'β of each study (rows `x`,
/// metafor's `X.fit` times `group1`).
pub(super) fn fit_two_groups_x(
    tables: &[Arms],
    x: &[Vec<f64>],
    weights: &[f64],
    max_iter: usize,
) -> Result<Found, GlmmError> {
    let k = tables.len();
    let p = x[0].len();
    let profile = Profile::new(tables, x);
    let (Optimum { beta, tau, vcov }, _, ll_common) =
        maximise_exact(&profile, &vec![0.0; p], max_iter)?;
    let effects = linear_predictors(x, &beta);
    let (agq_ll, _) = profile.value_gradient(&beta, tau);
    let alphas = profile.alphas();

    let ll_sat: f64 = tables.iter().map(Arms::saturated).sum();
    let qe_lrt = (2.0 * (ll_sat - ll_common)).max(0.0);
    let wl: Vec<Option<(f64, f64)>> = tables.iter().map(Arms::own_effect).collect();
    let qe_wld = wald_residual(x, &wl);
    let s2w = typical_variance(x, weights);
    let log_lik_modes: f64 = tables
        .iter()
        .zip(&alphas)
        .zip(&effects)
        .map(|((t, &alpha), &effect)| {
            let obs = t.observations(alpha, effect);
            let u = if tau > 0.0 { agq::mode(&obs, tau) } else { 0.0 };
            obs.iter()
                .map(|o| o.log_density(o.a + tau * o.z * u))
                .sum::<f64>()
        })
        .sum();
    Ok(Found {
        k,
        beta,
        vcov,
        tau2: tau * tau,
        typical_variance: s2w,
        qe_wld,
        qe_lrt,
        qe_df: k - p,
        log_lik: log_lik_modes,
        agq_log_lik: agq_ll - ll_sat,
    })
}
