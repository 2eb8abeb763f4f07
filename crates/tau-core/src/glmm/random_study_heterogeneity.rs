//! The heterogeneity tests of the GLMM with random study effects
//! ([`super::random_study`], metafor's `model = "UM.RS"`), from two more
//! Laplace fits with random study intercepts (SD σ) and no random
//! treatment effect, as metafor 3.8.1 fits them with lme4 (`nAGQ = 1`):
//!
//! - the common-effect model, `glmer(y ~ -1 + group1 + const + (1 | study))`:
//!   one treatment effect β;
//! - the saturated model, `glmer(y ~ -1 + group1 + const + study:group1 +
//!   (1 | study))`: one treatment effect βᵢ per study.
//!
//! `QE_LRT` = 2(ll_saturated − ll_common). `QE_Wld` is metafor's Wald test
//! of the k − 1 `study:group1` coefficients (the βᵢ less the last study's)
//! with lme4's `vcov`, the inverse Hessian of −log L over (σ, c, β₁…βₖ):
//! the test that the βᵢ are equal, which does not depend on the contrasts
//! chosen,
//!
//! QE_Wld = min_μ (β̂ − μ1)'V⁻¹(β̂ − μ1) = β̂'Mβ̂ − (1'Mβ̂)²/(1'M1),
//!
//! with M = V⁻¹ = A − B D⁻¹ B' the Schur complement of the Hessian's
//! (c, σ) block D (A diagonal: each βᵢ enters one study only). The βᵢ are
//! profiled out of the maximisation (each maximises its own study's
//! likelihood). A study whose treated group has no events (or, of a
//! binomial, only events) has no finite βᵢ: its treated group's likelihood
//! tends to 1 as βᵢ → ∓∞, so the saturated model takes that limit (the
//! study adds its control group only) and its βᵢ, of infinite variance,
//! leaves the Wald test. lme4 stops somewhere along that ray, so metafor's
//! `QE_Wld` depends there on where its optimiser stopped.

use nalgebra::{DMatrix, DVector};

use super::proportions::GlmmError;
use super::random_study::{Pair, SD_ZERO, laplace, local_hessian, maximise, start_eta};

/// The common-effect fit (τ = 0).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct CommonEffect {
    /// β̂.
    pub beta: f64,
    /// The intercept ĉ.
    pub c: f64,
    /// σ̂, the SD of the study intercepts.
    pub sigma: f64,
    /// Its Laplace log-likelihood.
    pub log_lik: f64,
}

/// Fits the common-effect model.
pub(super) fn common_effect(pairs: &[Pair], max_iter: usize) -> Result<CommonEffect, GlmmError> {
    let objective = |x: &[f64]| {
        let ll: f64 = pairs
            .iter()
            .map(|p| laplace(&p.rows(x[0], x[1]), p.family, x[2].abs(), 0.0))
            .sum();
        if ll.is_finite() { -ll } else { f64::MAX.sqrt() }
    };
    let k = pairs.len() as f64;
    let (mut beta, mut c) = (0.0, 0.0);
    for p in pairs {
        let control = start_eta(p.family, p.control);
        beta += (start_eta(p.family, p.treated) - control) / k;
        c += control / k;
    }
    let x = maximise(&objective, &[beta, c, 1.0], &[2], max_iter)?;
    Ok(CommonEffect {
        beta: x[0],
        c: x[1],
        sigma: x[2],
        log_lik: -objective(&x),
    })
}

/// The saturated fit: its log-likelihood and the Wald test.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Saturated {
    /// Its Laplace log-likelihood.
    pub log_lik: f64,
    /// `QE_Wld`.
    pub wald: f64,
}

/// The treated group's own effect βᵢ that maximises the study's likelihood
/// at (c, σ): Newton's method on central differences, steps halved while
/// they lower it.
fn best_effect(p: &Pair, c: f64, sigma: f64) -> f64 {
    let f = |b: f64| laplace(&p.rows(b, c), p.family, sigma, 0.0);
    let mut b = p.treated_start(c);
    let mut value = f(b);
    let h = 1e-4;
    for _ in 0..100 {
        let (up, down) = (f(b + h), f(b - h));
        let d1 = (up - down) / (2.0 * h);
        let d2 = (up - 2.0 * value + down) / (h * h);
        let mut step = if d2 < 0.0 { -d1 / d2 } else { d1.signum() };
        let mut halvings = 0;
        let mut next = f(b + step);
        while next.partial_cmp(&value).is_none_or(|o| o.is_lt()) && halvings < 60 {
            step *= 0.5;
            next = f(b + step);
            halvings += 1;
        }
        if halvings == 60 {
            break;
        }
        b += step;
        value = next;
        if step.abs() <= 1e-11 * (1.0 + b.abs()) {
            break;
        }
    }
    b
}

/// One study's log-likelihood in the saturated model at (c, σ), its βᵢ
/// (if finite) profiled out.
fn study_profile(p: &Pair, c: f64, sigma: f64) -> (f64, Option<f64>) {
    if p.treated_is_finite() {
        let b = best_effect(p, c, sigma);
        (laplace(&p.rows(b, c), p.family, sigma, 0.0), Some(b))
    } else {
        (laplace(&p.control_row(c), p.family, sigma, 0.0), None)
    }
}

/// Fits the saturated model from the common-effect fit, and computes the
/// Wald test (module doc).
pub(super) fn saturated(
    pairs: &[Pair],
    common: &CommonEffect,
    max_iter: usize,
) -> Result<Saturated, GlmmError> {
    let objective = |x: &[f64]| {
        let ll: f64 = pairs
            .iter()
            .map(|p| study_profile(p, x[0], x[1].abs()).0)
            .sum();
        if ll.is_finite() { -ll } else { f64::MAX.sqrt() }
    };
    let start = [common.c, common.sigma.max(0.1)];
    let x = maximise(&objective, &start, &[1], max_iter)?;
    let (c, sigma) = (x[0], x[1]);
    let log_lik = -objective(&x);
    // The (c, σ) block, σ left out on the boundary.
    let r = if sigma > SD_ZERO { 2 } else { 1 };
    let mut d = DMatrix::<f64>::zeros(r, r);
    let (mut a, mut b, mut effects) = (Vec::new(), Vec::new(), Vec::new());
    for p in pairs {
        match study_profile(p, c, sigma).1 {
            Some(beta) => {
                let f = |t: &[f64]| -laplace(&p.rows(t[0], t[1]), p.family, t[2].abs(), 0.0);
                let wanted: Vec<usize> = (0..=r).collect();
                let h = local_hessian(&f, &[beta, c, sigma], &wanted)?;
                a.push(h[0][0]);
                b.push(DVector::from_fn(r, |j, _| h[0][j + 1]));
                d += DMatrix::from_fn(r, r, |i, j| h[i + 1][j + 1]);
                effects.push(beta);
            }
            None => {
                let f = |t: &[f64]| -laplace(&p.control_row(t[0]), p.family, t[1].abs(), 0.0);
                let wanted: Vec<usize> = (0..r).collect();
                let h = local_hessian(&f, &[c, sigma], &wanted)?;
                d += DMatrix::from_fn(r, r, |i, j| h[i][j]);
            }
        }
    }
    let m = effects.len();
    if m < 2 {
        return Ok(Saturated { log_lik, wald: 0.0 });
    }
    let d_inverse = d.cholesky().ok_or(GlmmError::NotConverged)?.inverse();
    let schur = DMatrix::from_fn(m, m, |i, j| {
        let diagonal = if i == j { a[i] } else { 0.0 };
        diagonal - (b[i].transpose() * &d_inverse * &b[j])[(0, 0)]
    });
    let beta = DVector::from_vec(effects);
    let ones = DVector::from_element(m, 1.0);
    let m_beta = &schur * &beta;
    let m_ones = &schur * &ones;
    let wald = beta.dot(&m_beta) - ones.dot(&m_beta).powi(2) / ones.dot(&m_ones);
    Ok(Saturated {
        log_lik,
        wald: wald.max(0.0),
    })
}
