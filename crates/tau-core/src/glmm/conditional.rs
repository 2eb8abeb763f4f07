//! The GLMMs that are the one-group (`glmm::one_group`) random-intercept model of one
//! count per study with an offset (metafor 3.8.1, lme4, `nAGQ = 7`):
//! - [`fit_odds_ratios_cm_al`]: `rma.glmm(measure = "OR", ai, n1i, ci, n2i,
//!   model = "CM.AL")`, the conditional approximate likelihood of 2×2
//!   tables: aᵢ | aᵢ + cᵢ ~ Bin(aᵢ + cᵢ, expit(log(n1ᵢ/n2ᵢ) + θᵢ)),
//!   θᵢ ~ N(μ, τ²) (the binomial approximation of the non-central
//!   hypergeometric distribution, good where events are rare);
//! - [`fit_rate_ratios_cm_el`]: `rma.glmm(measure = "IRR", x1i, t1i, x2i,
//!   t2i, model = "CM.EL")`, x1ᵢ | x1ᵢ + x2ᵢ ~ Bin(x1ᵢ + x2ᵢ,
//!   expit(log(t1ᵢ/t2ᵢ) + θᵢ)), exact for Poisson counts (metafor's default
//!   for IRR: it fits CM.AL as CM.EL);
//! - [`fit_rates`]: `rma.glmm(measure = "IRLN", xi, ti)`,
//!   xᵢ ~ Pois(tᵢ e^{θᵢ}), θᵢ ~ N(μ, τ²).
//!
//! Double-zero tables (and tables with only events) and studies with no
//! events in either group are left out, as metafor's `drop00`.

use super::agq::Family;
use super::odds_ratios::{self, Table, informative_tables};
use super::one_group::{Count, fit_one_group};
use super::proportions::{GlmmError, GlmmFit};
use super::rate_ratios::{Rates, escalc_weights, informative_rates, is_count, is_time};

/// metafor's `model = "CM.AL"` for odds ratios; `level` in percent.
pub fn fit_odds_ratios_cm_al(
    tables: &[Table],
    level: f64,
    max_iter: usize,
) -> Result<GlmmFit, GlmmError> {
    let tables = informative_tables(tables)?;
    let weights = odds_ratios::escalc_weights(&tables);
    fit_one_group(
        &table_counts(&tables),
        Family::Binomial,
        &weights,
        level,
        max_iter,
    )
}

/// metafor's `model = "CM.EL"` for incidence rate ratios; `level` in
/// percent. Studies without events are left out.
pub fn fit_rate_ratios_cm_el(
    rates: &[Rates],
    level: f64,
    max_iter: usize,
) -> Result<GlmmFit, GlmmError> {
    let rates = informative_rates(rates)?;
    let weights = escalc_weights(&rates);
    fit_one_group(
        &rate_ratio_counts(&rates),
        Family::Binomial,
        &weights,
        level,
        max_iter,
    )
}

/// metafor's `measure = "IRLN"`: events `xi` in person-time `ti`; `level`
/// in percent.
pub fn fit_rates(
    xi: &[f64],
    ti: &[f64],
    level: f64,
    max_iter: usize,
) -> Result<GlmmFit, GlmmError> {
    if xi.len() < 2 || ti.len() != xi.len() {
        return Err(GlmmError::TooFewStudies);
    }
    check_rates(xi, ti)?;
    fit_one_group(
        &rate_counts(xi, ti),
        Family::Poisson,
        &rate_weights(xi),
        level,
        max_iter,
    )
}

/// CM.AL's count of a 2×2 table: aᵢ of aᵢ + cᵢ, offset log(n1ᵢ/n2ᵢ).
pub(super) fn table_counts(tables: &[Table]) -> Vec<Count> {
    tables
        .iter()
        .map(|t| Count {
            x: t.ai,
            n: t.ai + t.ci,
            offset: (t.n1i / t.n2i).ln(),
        })
        .collect()
}

/// IRR CM.EL's count of a study: x1ᵢ of x1ᵢ + x2ᵢ, offset log(t1ᵢ/t2ᵢ).
pub(super) fn rate_ratio_counts(rates: &[Rates]) -> Vec<Count> {
    rates
        .iter()
        .map(|r| Count {
            x: r.x1i,
            n: r.x1i + r.x2i,
            offset: (r.t1i / r.t2i).ln(),
        })
        .collect()
}

/// IRLN's Poisson count: xᵢ events, offset log(tᵢ).
pub(super) fn rate_counts(xi: &[f64], ti: &[f64]) -> Vec<Count> {
    xi.iter()
        .zip(ti)
        .map(|(&x, &t)| Count {
            x,
            n: 0.0,
            offset: t.ln(),
        })
        .collect()
}

/// Checks that every `xi` is a count and every `ti` a positive time.
pub(super) fn check_rates(xi: &[f64], ti: &[f64]) -> Result<(), GlmmError> {
    for (index, (&x, &t)) in xi.iter().zip(ti).enumerate() {
        if !(is_count(x) && is_time(t)) {
            return Err(GlmmError::BadRates { index });
        }
    }
    Ok(())
}

/// 1/vᵢ of escalc's IRLN vi = 1/x, 0 events taken as 1/2.
pub(super) fn rate_weights(xi: &[f64]) -> Vec<f64> {
    xi.iter().map(|&x| if x == 0.0 { 0.5 } else { x }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::glmm::conditional_exact::fit_exact_conditional;
    use crate::glmm::rate_ratios::fit_rate_ratios;

    fn rates(x1: f64, t1: f64) -> Vec<Rates> {
        vec![
            Rates {
                x1i: x1,
                t1i: t1,
                x2i: 4.0,
                t2i: 100.0,
            },
            Rates {
                x1i: 3.0,
                t1i: 120.0,
                x2i: 6.0,
                t2i: 110.0,
            },
        ]
    }

    #[test]
    fn bad_rates_are_refused_not_fitted() {
        for (x1, t1) in [(2.5, 100.0), (-1.0, 100.0), (2.0, 0.0), (2.0, f64::NAN)] {
            let data = rates(x1, t1);
            assert_eq!(
                fit_rate_ratios_cm_el(&data, 95.0, 100),
                Err(GlmmError::BadRates { index: 0 })
            );
            assert_eq!(
                fit_rate_ratios(&data, 95.0, 100),
                Err(GlmmError::BadRates { index: 0 })
            );
        }
        assert_eq!(
            fit_rates(&[2.0, 3.0], &[10.0, -1.0], 95.0, 100),
            Err(GlmmError::BadRates { index: 1 })
        );
    }

    #[test]
    fn studies_without_events_are_left_out() {
        // One study has no events: one is left, too few to fit.
        let mut data = rates(0.0, 100.0);
        data[0].x2i = 0.0;
        assert_eq!(
            fit_rate_ratios_cm_el(&data, 95.0, 100),
            Err(GlmmError::TooFewStudies)
        );
        let tables = [
            Table {
                ai: 0.0,
                n1i: 10.0,
                ci: 0.0,
                n2i: 12.0,
            },
            Table {
                ai: 2.0,
                n1i: 10.0,
                ci: 5.0,
                n2i: 12.0,
            },
        ];
        assert_eq!(
            fit_exact_conditional(&tables, 95.0, 100),
            Err(GlmmError::TooFewStudies)
        );
        assert_eq!(
            fit_odds_ratios_cm_al(&tables, 95.0, 100),
            Err(GlmmError::TooFewStudies)
        );
    }
}
