//! The distribution function of a positive linear combination of
//! independent χ²₁ variables, Q = Σ λⱼ χ²₁, by Ruben's (1962) series as
//! Farebrother (1984, algorithm AS 204) evaluates it; metafor's GENQM
//! estimator reads it through `CompQuadForm::farebrother`.
//!
//! With β ≤ min λⱼ, γⱼ = 1 − β/λⱼ ∈ [0, 1) and n terms,
//!
//!   P(Q ≤ q) = Σₘ aₘ P(χ²ₙ₊₂ₘ ≤ q/β),
//!   a₀ = Πⱼ (β/λⱼ)^½,  aₘ = (1/m) Σᵣ₌₁..ₘ gᵣ aₘ₋ᵣ,  gᵣ = ½ Σⱼ γⱼʳ,
//!
//! a mixture: every aₘ ≥ 0 and Σ aₘ = 1. The χ² distribution functions
//! follow from P(χ²ᵥ₊₂ ≤ z) = P(χ²ᵥ ≤ z) − e^(−z/2) (z/2)^(ν/2) / Γ(ν/2 + 1).
//! Because the weights form a mixture and P(χ²ᵥ ≤ z) falls with ν, the
//! sum after m terms is short by at most (1 − Σᵣ≤ₘ aᵣ)·P(χ²ₙ₊₂ₘ ≤ z); the
//! series stops when that bound is below [`EPS`]. β = min λⱼ (AS 204's
//! `mode = 1`, CompQuadForm's default).

use statrs::function::gamma::ln_gamma;

use crate::numerics::distribution::chisq_sf;

/// The error bound at which the series stops (CompQuadForm's default `eps`
/// is 1e-10; tau asks for more, as the terms are cheap).
pub const EPS: f64 = 1e-13;

/// The most terms summed (CompQuadForm's default `maxit`).
pub const MAX_TERMS: usize = 100_000;

/// Why the series gave no value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SeriesError {
    /// A weight λⱼ is not positive and finite.
    BadWeight(f64),
    /// [`MAX_TERMS`] terms left the error bound above [`EPS`] (the weights
    /// are very unequal), or a₀ underflowed (very many of them).
    NotConverged,
}

/// P(Σ λⱼ χ²₁ ≤ q) for the weights `lambda` (positive).
pub fn cdf(q: f64, lambda: &[f64]) -> Result<f64, SeriesError> {
    if let Some(&bad) = lambda.iter().find(|l| !(l.is_finite() && **l > 0.0)) {
        return Err(SeriesError::BadWeight(bad));
    }
    if lambda.is_empty() {
        // Q = 0.
        return Ok(if q >= 0.0 { 1.0 } else { 0.0 });
    }
    if q <= 0.0 {
        return Ok(0.0);
    }
    let beta = lambda.iter().copied().fold(f64::INFINITY, f64::min);
    let gamma: Vec<f64> = lambda.iter().map(|l| 1.0 - beta / l).collect();
    let a0 = (0.5 * lambda.iter().map(|l| (beta / l).ln()).sum::<f64>()).exp();
    if a0 <= 0.0 {
        return Err(SeriesError::NotConverged);
    }
    let z = q / beta;
    let mut nu = lambda.len() as f64;
    // P(χ²ᵥ ≤ z) and the decrement e^(−z/2)(z/2)^(ν/2)/Γ(ν/2 + 1), in logs.
    let mut chisq = 1.0 - chisq_sf(z, nu);
    let mut log_step = 0.5 * nu * (0.5 * z).ln() - 0.5 * z - ln_gamma(0.5 * nu + 1.0);
    let mut total = a0 * chisq;
    let mut weights = vec![a0];
    let mut powers = vec![1.0; gamma.len()];
    let mut g = Vec::new();
    let mut mass = a0;
    for m in 1..=MAX_TERMS {
        for (power, gj) in powers.iter_mut().zip(&gamma) {
            *power *= gj;
        }
        g.push(0.5 * powers.iter().sum::<f64>());
        let am = (1..=m).map(|r| g[r - 1] * weights[m - r]).sum::<f64>() / m as f64;
        weights.push(am);
        chisq -= log_step.exp();
        log_step += (0.5 * z).ln() - (0.5 * nu + 1.0).ln();
        nu += 2.0;
        let chisq_m = chisq.max(0.0);
        total += am * chisq_m;
        mass += am;
        if (1.0 - mass).max(0.0) * chisq_m < EPS {
            return Ok(total.clamp(0.0, 1.0));
        }
    }
    Err(SeriesError::NotConverged)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Equal weights: Q/λ is χ² with n degrees of freedom (the series is a₀ alone).
    #[test]
    fn equal_weights_are_a_scaled_chi_square() {
        let p = cdf(6.0, &[2.0, 2.0, 2.0]).expect("converges");
        assert!((p - (1.0 - chisq_sf(3.0, 3.0))).abs() < 1e-14, "{p}");
    }

    /// Reference: CompQuadForm 1.4.3 (R 4.2.2),
    /// 1 - farebrother(5, c(3, 1, 0.5))$Qq = 0.68778172397901627; its own
    /// series stops at eps = 1e-10, hence the tolerance.
    #[test]
    fn unequal_weights_match_compquadform() {
        let p = cdf(5.0, &[3.0, 1.0, 0.5]).expect("converges");
        assert!((p - 0.687_781_723_979_016_3).abs() < 1e-10, "{p}");
    }

    #[test]
    fn bad_weights_and_the_origin() {
        assert_eq!(cdf(1.0, &[1.0, 0.0]), Err(SeriesError::BadWeight(0.0)));
        assert_eq!(cdf(0.0, &[1.0, 2.0]), Ok(0.0));
    }
}
