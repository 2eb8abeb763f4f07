//! The Mantel-Haenszel common-effect estimate of the odds ratio, risk ratio
//! or risk difference from 2×2 tables, with the Cochran-Mantel-Haenszel test
//! and Tarone's test of homogeneity of odds ratios (metafor `rma.mh`).
//!
//! With Rᵢ = aᵢdᵢ/Nᵢ and Sᵢ = bᵢcᵢ/Nᵢ, the MH odds ratio is ΣRᵢ/ΣSᵢ (Mantel &
//! Haenszel 1959) with the variance of its log by Robins, Breslow & Greenland
//! (1986); the risk ratio is Σaᵢn₂ᵢ/Nᵢ / Σcᵢn₁ᵢ/Nᵢ and the risk difference
//! Σ(aᵢn₂ᵢ − cᵢn₁ᵢ)/Nᵢ / Σn₁ᵢn₂ᵢ/Nᵢ, with the variances of Greenland & Robins
//! (1985). The tables are used as they are, without a zero-cell correction
//! (metafor's `add = c(1/2, 0)`, `to = c("only0", "none")`).

use super::two_by_two::Table;
use crate::effect_size::measure::Measure;
use crate::numerics::distribution::chisq_sf;

/// The Mantel-Haenszel estimate.
#[derive(Debug, Clone, PartialEq)]
pub struct MantelHaenszel {
    /// The estimate on the analysis scale (log OR, log RR, or RD); `None`
    /// when it does not exist (no events, or no non-events, anywhere).
    pub estimate: Option<(f64, f64)>,
    /// Each table's Mantel-Haenszel weight (metafor `weights.rma.mh`):
    /// bᵢcᵢ/Nᵢ (OR), cᵢn₁ᵢ/Nᵢ (RR) or n₁ᵢn₂ᵢ/Nᵢ (RD).
    pub weights: Vec<f64>,
    /// For OR: the Cochran-Mantel-Haenszel test (with continuity correction,
    /// as metafor's `correct = TRUE`) and its p-value on 1 df.
    pub cmh: Option<(f64, f64)>,
    /// For OR: Tarone's test of homogeneity, its p-value and its degrees of
    /// freedom (tables with a positive expected count, less one).
    pub tarone: Option<(f64, f64, usize)>,
}

/// Mantel-Haenszel estimate of `measure` (OR, RR or RD) from `tables`.
pub fn mantel_haenszel(tables: &[Table], measure: Measure) -> MantelHaenszel {
    match measure {
        Measure::OR => odds_ratio(tables),
        Measure::RR => risk_ratio(tables),
        _ => risk_difference(tables),
    }
}

fn sum(tables: &[Table], f: impl Fn(&Table) -> f64) -> f64 {
    tables.iter().map(f).sum()
}

fn odds_ratio(tables: &[Table]) -> MantelHaenszel {
    let r = sum(tables, |t| t.a / t.n() * t.d);
    let s = sum(tables, |t| t.b / t.n() * t.c);
    let estimate = (r > 0.0 && s > 0.0).then(|| {
        let p = |t: &Table| t.a / t.n() + t.d / t.n();
        let q = |t: &Table| t.b / t.n() + t.c / t.n();
        let ri = |t: &Table| t.a / t.n() * t.d;
        let si = |t: &Table| t.b / t.n() * t.c;
        let variance = 0.5
            * (sum(tables, |t| p(t) * ri(t)) / (r * r)
                + sum(tables, |t| p(t) * si(t) + q(t) * ri(t)) / (r * s)
                + sum(tables, |t| q(t) * si(t)) / (s * s));
        ((r / s).ln(), variance.sqrt())
    });
    MantelHaenszel {
        estimate,
        weights: tables.iter().map(|t| t.b / t.n() * t.c).collect(),
        cmh: cmh(tables),
        tarone: estimate.map(|(beta, _)| tarone(tables, beta.exp())),
    }
}

/// The Cochran-Mantel-Haenszel statistic with continuity correction:
/// (|Σ(aᵢ − n₁ᵢm₁ᵢ/Nᵢ)| − ½)² / Σ n₁ᵢn₂ᵢm₁ᵢm₂ᵢ / (Nᵢ²(Nᵢ − 1)), with m₁ᵢ, m₂ᵢ the
/// events and non-events (metafor `rma.mh`, `MH`).
fn cmh(tables: &[Table]) -> Option<(f64, f64)> {
    let events = sum(tables, |t| t.a + t.c);
    let non_events = sum(tables, |t| t.b + t.d);
    if events == 0.0 || non_events == 0.0 {
        return None;
    }
    let deviation = sum(tables, |t| t.a - t.n1() / t.n() * (t.a + t.c));
    let variance = sum(tables, |t| {
        t.n1() / t.n() * (t.n2() / t.n()) * ((t.a + t.c) * ((t.b + t.d) / (t.n() - 1.0)))
    });
    let statistic = (deviation.abs() - 0.5).powi(2) / variance;
    Some((statistic, chisq_sf(statistic, 1.0)))
}

/// Tarone's (1985) corrected Breslow-Day statistic at the MH odds ratio ψ:
/// the expected count of each table under ψ solves a quadratic; tables with
/// a positive expected count and both outcomes count (metafor `rma.mh`, `TA`).
fn tarone(tables: &[Table], psi: f64) -> (f64, f64, usize) {
    let mut breslow_day = 0.0;
    let mut deviation = 0.0;
    let mut information = 0.0;
    let mut k: usize = 0;
    for t in tables {
        let (n1, n2, xt, yt) = (t.n1(), t.n2(), t.a + t.c, t.b + t.d);
        let n11 = if psi == 1.0 {
            n1 / t.n() * xt
        } else {
            let a = psi * (n1 + xt) + (n2 - xt);
            let b = (a * a - 4.0 * n1 * xt * psi * (psi - 1.0)).sqrt();
            (a - b) / (2.0 * (psi - 1.0))
        };
        if !(n11 > 0.0 && xt > 0.0 && yt > 0.0) {
            continue;
        }
        let (n12, n21) = (n1 - n11, xt - n11);
        let n22 = n11 - n1 - xt + t.n();
        let v = 1.0 / (1.0 / n11 + 1.0 / n12 + 1.0 / n21 + 1.0 / n22);
        breslow_day += (t.a - n11).powi(2) / v;
        deviation += t.a - n11;
        information += v;
        k += 1;
    }
    let breslow_day = breslow_day.max(0.0);
    let statistic = (breslow_day - deviation * deviation / information).max(0.0);
    let p = if k > 1 {
        chisq_sf(statistic, (k - 1) as f64)
    } else {
        f64::NAN
    };
    (statistic, p, k.saturating_sub(1))
}

fn risk_ratio(tables: &[Table]) -> MantelHaenszel {
    let r = sum(tables, |t| t.a * (t.n2() / t.n()));
    let s = sum(tables, |t| t.c * (t.n1() / t.n()));
    let any_events = sum(tables, |t| t.a) > 0.0 && sum(tables, |t| t.c) > 0.0;
    let estimate = any_events.then(|| {
        let numerator = sum(tables, |t| {
            t.n1() / t.n() * (t.n2() / t.n()) * (t.a + t.c) - t.a / t.n() * t.c
        });
        ((r / s).ln(), (numerator / (r * s)).sqrt())
    });
    MantelHaenszel {
        estimate,
        weights: tables.iter().map(|t| t.c / t.n() * t.n1()).collect(),
        cmh: None,
        tarone: None,
    }
}

fn risk_difference(tables: &[Table]) -> MantelHaenszel {
    let denominator = sum(tables, |t| t.n1() * (t.n2() / t.n()));
    let beta = sum(tables, |t| t.a * (t.n2() / t.n()) - t.c * (t.n1() / t.n())) / denominator;
    let variance = (beta
        * sum(tables, |t| {
            t.c * (t.n1() / t.n()).powi(2) - t.a * (t.n2() / t.n()).powi(2)
                + t.n1() / t.n() * (t.n2() / t.n()) * (t.n2() - t.n1()) / 2.0
        })
        + sum(tables, |t| {
            t.a * (t.n2() - t.c) / t.n() + t.c * (t.n1() - t.a) / t.n()
        }) / 2.0)
        / (denominator * denominator);
    MantelHaenszel {
        estimate: Some((beta, variance.sqrt())),
        weights: tables.iter().map(|t| t.n1() / t.n() * t.n2()).collect(),
        cmh: None,
        tarone: None,
    }
}
