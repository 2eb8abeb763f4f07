//! The unconditional GLMM with random study effects: metafor's
//! `rma.glmm(measure = "OR" | "IRR", model = "UM.RS")`, which fits (metafor
//! 3.8.1, lme4; nAGQ set to 1, the only choice glmer allows here)
//! `glmer(y ~ -1 + group1 + const + (group || study), nAGQ = 1)` by ML,
//! binomial for 2×2 tables (OR), Poisson with offset log(person-time) for
//! events over person-time (IRR):
//!
//! η_{i,treated} = c + β + σuᵢ + τvᵢ/2, η_{i,control} = c − … = c + σuᵢ − τvᵢ/2,
//!
//! uᵢ, vᵢ ~ N(0, 1) independent (`cor = FALSE`): σ² (`sigma2`) is the
//! variance of the study intercepts, τ² that of the treatment effects; the
//! fixed treatment effect is coded 1/0, its random one ±1/2.
//!
//! **The Laplace approximation** (lme4's `nAGQ = 1`; Pinheiro & Bates 1995):
//! with gᵢ(w) = Σⱼ log f(yᵢⱼ | ηᵢⱼ(w)) − |w|²/2 over the study's random
//! effects w = (uᵢ, vᵢ), its conditional mode ŵ (Newton's method on the
//! exact gradient and Hessian; gᵢ is strictly concave under the canonical
//! links) and Hᵢ = −∇²gᵢ(ŵ) = I + ΛZᵢ'WᵢZᵢΛ,
//!
//! log Lᵢ ≈ gᵢ(ŵ) − ½ log det Hᵢ,
//!
//! which is lme4's penalised-IRLS Laplace deviance (Bates et al. 2015,
//! eq. 50) with the normalising constants of f. log L = Σᵢ log Lᵢ is
//! maximised over (β, c, σ, τ); the SE of β̂ is the β entry of the inverse
//! Hessian of −log L over (σ, τ, β, c), which is lme4's `vcov`
//! (`use.hessian = TRUE`: its finite-difference Hessian of the deviance
//! over (θ, β)). A variance on the boundary (0) leaves the Hessian: the
//! likelihood is even in σ and τ, so its cross-derivatives there are 0.
//!
//! **Heterogeneity tests**, as metafor computes them for UM.RS, from two
//! more Laplace fits (`glmm/random_study_heterogeneity.rs`): the common-effect
//! model (τ = 0) and the saturated model (one treatment effect βᵢ per
//! study, random intercepts); `QE_LRT` = 2(ll_saturated − ll_common),
//! `QE_Wld` the Wald test that the βᵢ are equal, both on k − 1 df.
//! I² and H² from τ̂² and escalc's vᵢ (1/2 added to zero cells); `logLik`
//! is the Laplace log-likelihood at the optimum (metafor's `fit.stats` ll).
//! Double-zero tables are left out (`drop00`).

use nalgebra::DMatrix;

use crate::numerics::hessian::hessian;
use crate::numerics::optim::bfgs_with;

use super::agq::{Family, Observation};
use super::maximum::typical_variance;
use super::odds_ratios::{Table, informative_tables};
use super::polish::newton_polish;
use super::proportions::{Found, GlmmError, GlmmFit};
use super::random_study_heterogeneity::{common_effect, saturated};
use super::rate_ratios::{Rates, informative_rates};

/// One group of a study: `y` events of `n` trials (binomial), or in
/// person-time `n` (Poisson, offset log n).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Arm {
    pub y: f64,
    pub n: f64,
}

/// One study: its treated and control groups.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Pair {
    pub treated: Arm,
    pub control: Arm,
    pub family: Family,
}

/// One row of the Laplace approximation: a group with its fixed linear
/// predictor (offset included) and its loading on the random treatment
/// effect (±1/2).
#[derive(Debug, Clone, Copy)]
pub(super) struct Row {
    pub arm: Arm,
    pub eta: f64,
    pub half: f64,
}

impl Pair {
    fn offset(&self, arm: Arm) -> f64 {
        match self.family {
            Family::Binomial => 0.0,
            Family::Poisson => arm.n.ln(),
        }
    }

    /// The two rows at fixed effects: the treated group's effect `beta`
    /// (coded 1/0) and the intercept `c`.
    pub(super) fn rows(&self, beta: f64, c: f64) -> [Row; 2] {
        [
            Row {
                arm: self.treated,
                eta: self.offset(self.treated) + c + beta,
                half: 0.5,
            },
            Row {
                arm: self.control,
                eta: self.offset(self.control) + c,
                half: -0.5,
            },
        ]
    }

    /// The control group's row alone (a study whose treated group's own
    /// effect runs off to ±∞ in the saturated model adds only this).
    pub(super) fn control_row(&self, c: f64) -> [Row; 1] {
        [self.rows(0.0, c)[1]]
    }

    /// Whether the treated group has an effect of its own that is finite:
    /// some, but not only, events (binomial), or some events (Poisson).
    pub(super) fn treated_is_finite(&self) -> bool {
        let Arm { y, n } = self.treated;
        match self.family {
            Family::Binomial => y > 0.0 && y < n,
            Family::Poisson => y > 0.0,
        }
    }

    /// A start for the treated group's linear predictor less `c`.
    pub(super) fn treated_start(&self, c: f64) -> f64 {
        start_eta(self.family, self.treated) - c
    }
}

/// A group's linear predictor from its counts (1/2 added).
pub(super) fn start_eta(family: Family, arm: Arm) -> f64 {
    match family {
        Family::Binomial => ((arm.y + 0.5) / (arm.n - arm.y + 0.5)).ln(),
        Family::Poisson => ((arm.y + 0.5) / arm.n).ln(),
    }
}

/// log f(y | η), d/dη and −d²/dη².
fn density(family: Family, arm: Arm, eta: f64) -> (f64, f64, f64) {
    let log_f = match family {
        Family::Binomial => Observation::binomial(arm.y, arm.n, eta, 0.0).log_density(eta),
        Family::Poisson => Observation::poisson(arm.y, eta, 0.0).log_density(eta),
    };
    match family {
        Family::Binomial => {
            let p = 1.0 / (1.0 + (-eta).exp());
            (log_f, arm.y - arm.n * p, arm.n * p * (1.0 - p))
        }
        Family::Poisson => {
            let mu = eta.exp();
            (log_f, arm.y - mu, mu)
        }
    }
}

/// The Laplace approximation of one study's log-likelihood with random
/// intercept SD `sigma` and random treatment-effect SD `tau` (module doc).
pub(super) fn laplace(rows: &[Row], family: Family, sigma: f64, tau: f64) -> f64 {
    // g, its gradient and its negative Hessian at w = (u, v).
    let at = |w: [f64; 2]| {
        let (mut g, mut grad, mut neg) = (
            -0.5 * (w[0] * w[0] + w[1] * w[1]),
            [-w[0], -w[1]],
            [1.0, 0.0, 1.0],
        );
        for row in rows {
            let z = [sigma, tau * row.half];
            let eta = row.eta + z[0] * w[0] + z[1] * w[1];
            let (log_f, score, info) = density(family, row.arm, eta);
            g += log_f;
            grad[0] += z[0] * score;
            grad[1] += z[1] * score;
            neg[0] += z[0] * z[0] * info;
            neg[1] += z[0] * z[1] * info;
            neg[2] += z[1] * z[1] * info;
        }
        (g, grad, neg)
    };
    let mut w = [0.0, 0.0];
    let (mut g, mut grad, mut neg) = at(w);
    for _ in 0..200 {
        let det = neg[0] * neg[2] - neg[1] * neg[1];
        let mut step = [
            (neg[2] * grad[0] - neg[1] * grad[1]) / det,
            (neg[0] * grad[1] - neg[1] * grad[0]) / det,
        ];
        let mut moved = false;
        for _ in 0..60 {
            let next = [w[0] + step[0], w[1] + step[1]];
            let trial = at(next);
            // Near the mode a Newton step changes g by less than its
            // rounding: accept it there, or the mode stops ~1e-7 short
            // and the log-determinant with it.
            if trial.0 >= g - 1e-12 * (1.0 + g.abs()) {
                moved = step[0] != 0.0 || step[1] != 0.0;
                w = next;
                (g, grad, neg) = trial;
                break;
            }
            step = [step[0] / 2.0, step[1] / 2.0];
        }
        let small = |s: f64, x: f64| s.abs() <= 1e-13 * (1.0 + x.abs());
        if !moved || (small(step[0], w[0]) && small(step[1], w[1])) {
            break;
        }
    }
    g - 0.5 * (neg[0] * neg[2] - neg[1] * neg[1]).ln()
}

/// −log L of `pairs` at (β, c, σ, τ) (the SDs taken as |σ|, |τ|).
fn negative_log_lik(pairs: &[Pair], x: &[f64]) -> f64 {
    let (beta, c, sigma, tau) = (x[0], x[1], x[2].abs(), x[3].abs());
    let ll: f64 = pairs
        .iter()
        .map(|p| laplace(&p.rows(beta, c), p.family, sigma, tau))
        .sum();
    if ll.is_finite() { -ll } else { f64::MAX.sqrt() }
}

/// Below this an SD is taken as 0 (the optimum on the boundary).
pub(super) const SD_ZERO: f64 = 1e-4;

/// Maximises `objective` (a −log L) from `start` by BFGS and Newton's
/// method; the SDs at `sds` that end below [`SD_ZERO`] are set to 0 and
/// the rest maximised again. Returns the point, SDs non-negative.
pub(super) fn maximise(
    objective: &dyn Fn(&[f64]) -> f64,
    start: &[f64],
    sds: &[usize],
    max_iter: usize,
) -> Result<Vec<f64>, GlmmError> {
    let mut f = |x: &[f64]| -> Result<f64, GlmmError> { Ok(objective(x)) };
    let found =
        bfgs_with(&mut f, start, 1e-14, max_iter.max(500)).map_err(|_| GlmmError::NotConverged)?;
    let mut x = newton_polish(&mut f, &found);
    let zero: Vec<usize> = sds
        .iter()
        .copied()
        .filter(|&i| x[i].abs() < SD_ZERO)
        .collect();
    for &i in sds {
        x[i] = x[i].abs();
    }
    if zero.is_empty() {
        return Ok(x);
    }
    let free: Vec<usize> = (0..x.len()).filter(|i| !zero.contains(i)).collect();
    let full = |sub: &[f64]| {
        let mut point = vec![0.0; x.len()];
        for (&i, &v) in free.iter().zip(sub) {
            point[i] = v;
        }
        point
    };
    let mut g = |sub: &[f64]| -> Result<f64, GlmmError> { Ok(objective(&full(sub))) };
    let sub: Vec<f64> = free.iter().map(|&i| x[i]).collect();
    let sub = newton_polish(&mut g, &sub);
    let mut point = full(&sub);
    for &i in sds {
        point[i] = point[i].abs();
    }
    Ok(point)
}

/// The Hessian of `f` at `x` over the coordinates `wanted` by
/// [`hessian`]'s Richardson extrapolation over 6 halvings of a first step
/// of [`STEP`] in every coordinate (rather than 0.1|xᵢ|: the Laplace
/// likelihood bends too fast for steps of a tenth of a parameter).
pub(super) fn local_hessian(
    f: &dyn Fn(&[f64]) -> f64,
    x: &[f64],
    wanted: &[usize],
) -> Result<Vec<Vec<f64>>, GlmmError> {
    // `hessian` steps 1e-4 from a point at 0: f on t = (x' - x)/SCALE.
    let scale = STEP / 1e-4;
    let mut shifted = |t: &[f64]| -> Result<f64, GlmmError> {
        let point: Vec<f64> = x.iter().zip(t).map(|(a, b)| a + scale * b).collect();
        Ok(f(&point))
    };
    let h = hessian(&mut shifted, &vec![0.0; x.len()], wanted)?;
    Ok(h.into_iter()
        .map(|row| row.into_iter().map(|v| v / (scale * scale)).collect())
        .collect())
}

/// The first step of [`local_hessian`].
const STEP: f64 = 1e-2;

/// The inverse of the Hessian of `objective` at `x` over the coordinates
/// `free`, in their order; `None` where it is not positive definite.
pub(super) fn inverse_hessian(
    objective: &dyn Fn(&[f64]) -> f64,
    x: &[f64],
    free: &[usize],
) -> Result<Option<DMatrix<f64>>, GlmmError> {
    let h = local_hessian(objective, x, free)?;
    let m = DMatrix::from_fn(free.len(), free.len(), |a, b| h[free[a]][free[b]]);
    Ok(m.cholesky().map(|c| c.inverse()))
}

/// Fits metafor's `model = "UM.RS"` to the studies; `weights` are 1/vᵢ of
/// escalc's vᵢ (for I² and H²); `level` in percent. Returns the fit and σ̂².
pub(super) fn fit_pairs(
    pairs: &[Pair],
    weights: &[f64],
    level: f64,
    max_iter: usize,
) -> Result<(GlmmFit, f64), GlmmError> {
    let k = pairs.len();
    let common = common_effect(pairs, max_iter)?;
    let objective = |x: &[f64]| negative_log_lik(pairs, x);
    let start = [common.beta, common.c, common.sigma.max(0.1), 0.5];
    let x = maximise(&objective, &start, &[2, 3], max_iter)?;
    let free: Vec<usize> = (0..4).filter(|&i| i < 2 || x[i] > 0.0).collect();
    let inverse = inverse_hessian(&objective, &x, &free)?.ok_or(GlmmError::NotConverged)?;
    let log_lik = -objective(&x);
    let sat = saturated(pairs, &common, max_iter)?;
    let s2w = typical_variance(&vec![vec![1.0]; k], weights);
    let fit = GlmmFit::new(
        Found {
            k,
            beta: vec![x[0]],
            vcov: vec![vec![inverse[(0, 0)]]],
            tau2: x[3] * x[3],
            typical_variance: s2w,
            qe_wld: sat.wald,
            qe_lrt: (2.0 * (sat.log_lik - common.log_lik)).max(0.0),
            qe_df: k - 1,
            log_lik,
            agq_log_lik: log_lik,
        },
        level,
    );
    Ok((fit, x[2] * x[2]))
}

/// Fits `model = "UM.RS"` to 2×2 tables (measure OR); returns the fit and
/// σ̂², the variance of the study intercepts.
pub fn fit_odds_ratios_rs(
    tables: &[Table],
    level: f64,
    max_iter: usize,
) -> Result<(GlmmFit, f64), GlmmError> {
    let tables = informative_tables(tables)?;
    let weights = super::odds_ratios::escalc_weights(&tables);
    let pairs: Vec<Pair> = tables
        .iter()
        .map(|t| Pair {
            treated: Arm { y: t.ai, n: t.n1i },
            control: Arm { y: t.ci, n: t.n2i },
            family: Family::Binomial,
        })
        .collect();
    fit_pairs(&pairs, &weights, level, max_iter)
}

/// Fits `model = "UM.RS"` to events over person-time (measure IRR);
/// returns the fit and σ̂².
pub fn fit_rate_ratios_rs(
    rates: &[Rates],
    level: f64,
    max_iter: usize,
) -> Result<(GlmmFit, f64), GlmmError> {
    let rates = informative_rates(rates)?;
    let weights = super::rate_ratios::escalc_weights(&rates);
    let pairs: Vec<Pair> = rates
        .iter()
        .map(|r| Pair {
            treated: Arm { y: r.x1i, n: r.t1i },
            control: Arm { y: r.x2i, n: r.t2i },
            family: Family::Poisson,
        })
        .collect();
    fit_pairs(&pairs, &weights, level, max_iter)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// With τ = 0 and one row the Laplace approximation of a Poisson count
    /// with a normal random intercept matches the integral closely, and
    /// with σ = τ = 0 it is the log-density itself.
    #[test]
    fn laplace_reduces_to_the_density_without_random_effects() {
        let arm = Arm { y: 3.0, n: 10.0 };
        let row = Row {
            arm,
            eta: -1.0,
            half: 0.5,
        };
        let direct = Observation::binomial(3.0, 10.0, -1.0, 0.0).log_density(-1.0);
        let got = laplace(&[row], Family::Binomial, 0.0, 0.0);
        assert!((got - direct).abs() < 1e-13, "{got} vs {direct}");
    }

    #[test]
    fn laplace_is_even_in_the_sds() {
        let rows = [
            Row {
                arm: Arm { y: 4.0, n: 20.0 },
                eta: -1.2,
                half: 0.5,
            },
            Row {
                arm: Arm { y: 9.0, n: 25.0 },
                eta: -0.7,
                half: -0.5,
            },
        ];
        let a = laplace(&rows, Family::Binomial, 0.8, 0.4);
        let b = laplace(&rows, Family::Binomial, -0.8, -0.4);
        assert!((a - b).abs() < 1e-12);
    }
}
