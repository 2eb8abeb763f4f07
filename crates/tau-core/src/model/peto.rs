//! Peto's one-step odds ratio from 2×2 tables (Yusuf et al. 1985; metafor
//! `rma.peto`).
//!
//! With Eᵢ = n₁ᵢm₁ᵢ/Nᵢ the expected events in group 1 and
//! Vᵢ = m₁ᵢm₂ᵢn₁ᵢn₂ᵢ/(Nᵢ²(Nᵢ − 1)) their hypergeometric variance (m₁ᵢ, m₂ᵢ
//! events and non-events), the log odds ratio is Σ(aᵢ − Eᵢ)/ΣVᵢ with SE
//! 1/√ΣVᵢ, and the heterogeneity statistic is Σ(aᵢ − Eᵢ)²/Vᵢ − (Σ(aᵢ − Eᵢ))²/ΣVᵢ
//! over the tables with Vᵢ > 0. The tables are used as they are.

use super::two_by_two::Table;
use crate::effect_size::two_by_two::observed_minus_expected;
pub use crate::effect_size::two_by_two::study_log_odds_ratio;

/// Peto's estimate.
#[derive(Debug, Clone, PartialEq)]
pub struct Peto {
    /// The log odds ratio; `None` when one outcome never occurs (ΣVᵢ = 0).
    pub estimate: Option<(f64, f64)>,
    /// Each table's weight Vᵢ (metafor `weights.rma.peto`).
    pub weights: Vec<f64>,
    /// The heterogeneity statistic Q.
    pub q: f64,
}

/// Peto's odds ratio from `tables`.
pub fn peto(tables: &[Table]) -> Peto {
    let parts: Vec<(f64, f64)> = tables.iter().map(observed_minus_expected).collect();
    let total_v: f64 = parts.iter().map(|p| p.1).sum();
    let total_oe: f64 = parts.iter().map(|p| p.0).sum();
    let estimate = (total_v > 0.0).then(|| (total_oe / total_v, (1.0 / total_v).sqrt()));
    let q = if total_v > 0.0 {
        let within: f64 = parts
            .iter()
            .filter(|p| p.1 > 0.0)
            .map(|(oe, v)| oe * oe / v)
            .sum();
        (within - total_oe * total_oe / total_v).max(0.0)
    } else {
        0.0
    };
    Peto {
        estimate,
        weights: parts.iter().map(|p| p.1).collect(),
        q,
    }
}
