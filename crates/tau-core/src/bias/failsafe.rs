//! Fail-safe N: how many unpublished null studies would have to exist to
//! overturn a result, under metafor's `fsn()` defaults (α = 0.05).
//!
//! * Rosenthal (1979), Stouffer's method: with zᵢ = yᵢ/√vᵢ and
//!   Z̄ = |Σzᵢ|/√k, N = k (Z̄ / z₁₋α)² − k, with the one-sided z₁₋α = 1.645.
//! * Orwin (1983): the number of studies averaging 0 that would bring the
//!   unweighted mean ȳ down to a target, N = k (ȳ − target)/target; metafor's
//!   default target is ȳ/2, which always gives N = k.
//! * Rosenberg (2005): the weighted (common-effect) version,
//!   N = k [(Σwᵢyᵢ / z₁₋α/₂)² − Σwᵢ] / Σwᵢ with wᵢ = 1/vᵢ and a two-sided test.
//!
//! Each N is truncated at 0 and rounded up (metafor rounds values within
//! √ε of an integer to it).

use serde::Serialize;

use crate::numerics::distribution::{normal_two_sided_p, normal_upper};

/// The three fail-safe numbers. Field names are the JSON contract.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FailSafe {
    /// Rosenthal's fail-safe N (`None` if it overflows).
    pub rosenthal: Option<u64>,
    /// One-sided p of Stouffer's combined test.
    pub rosenthal_p: f64,
    /// Orwin's fail-safe N (`None`, infinite, when the mean effect is exactly 0).
    pub orwin: Option<u64>,
    /// The target effect Orwin's N is computed for (the unweighted mean / 2).
    pub orwin_target: f64,
    /// Rosenberg's fail-safe N (`None` if it overflows).
    pub rosenberg: Option<u64>,
    /// Two-sided p of the common-effect z test.
    pub rosenberg_p: f64,
    /// Significance level.
    pub alpha: f64,
}

/// metafor's rounding: up to the next integer unless within √ε of one
/// (`None` for an infinite N).
fn round_up(n: f64) -> Option<u64> {
    if !n.is_finite() {
        None
    } else if (n - n.round()).abs() >= f64::EPSILON.sqrt() {
        Some(n.ceil() as u64)
    } else {
        Some(n.round() as u64)
    }
}

/// The three fail-safe numbers at significance level `alpha` (metafor `fsn`).
pub fn fail_safe(yi: &[f64], vi: &[f64], alpha: f64) -> FailSafe {
    let k = yi.len() as f64;
    let z_sum: f64 = yi.iter().zip(vi).map(|(y, v)| y / v.sqrt()).sum();
    let z_avg = (z_sum / k.sqrt()).abs();
    let rosenthal = (k * (z_avg / normal_upper(alpha)).powi(2) - k).max(0.0);

    let mean = yi.iter().sum::<f64>() / k;
    let target = mean / 2.0;
    let orwin = if target == 0.0 {
        f64::INFINITY
    } else {
        (k * (mean - target) / target).max(0.0)
    };

    let sum_w: f64 = vi.iter().map(|v| 1.0 / v).sum();
    let sum_wy: f64 = yi.iter().zip(vi).map(|(y, v)| y / v).sum();
    let z = (sum_wy / sum_w) / (1.0 / sum_w).sqrt();
    let excess = (sum_wy / normal_upper(alpha / 2.0)).powi(2) - sum_w;
    let rosenberg = (k * excess / sum_w).max(0.0);

    FailSafe {
        rosenthal: round_up(rosenthal),
        rosenthal_p: normal_two_sided_p(z_avg) / 2.0,
        orwin: round_up(orwin),
        orwin_target: target,
        rosenberg: round_up(rosenberg),
        rosenberg_p: normal_two_sided_p(z),
        alpha,
    }
}
