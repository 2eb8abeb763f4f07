//! Effect sizes and their sampling variances from study records, as metafor's
//! `escalc()` computes them with its defaults.
//!
//! * SMD: Hedges' g = c(m)·(m₁ − m₂)/s_p with the exact correction
//!   c(m) = Γ(m/2) / (√(m/2) Γ((m−1)/2)), m = n₁ + n₂ − 2, and the large-sample
//!   variance v = 1/n₁ + 1/n₂ + g²/(2(n₁ + n₂)) (Hedges 1981; metafor `vtype = "LS"`).
//!   From a t statistic, d = t·√(1/n₁ + 1/n₂), then the same correction.
//! * MD: m₁ − m₂, v = sd₁²/n₁ + sd₂²/n₂.
//! * OR, RR (log scale), RD from the 2×2 table (a, b, c, d) = (events₁, n₁ − events₁,
//!   events₂, n₂ − events₂); a table with a zero cell gets 1/2 added to every
//!   cell (metafor `add = 1/2, to = "only0"`).
//!   log OR = ln(ad/bc), v = 1/a + 1/b + 1/c + 1/d; log RR = ln((a/n₁)/(c/n₂)),
//!   v = 1/a − 1/n₁ + 1/c − 1/n₂; RD = a/n₁ − c/n₂, v = p₁(1−p₁)/n₁ + p₂(1−p₂)/n₂.
//! * PETO (Yusuf et al. 1985; metafor `escalc("PETO")`), from the same table
//!   and correction: yᵢ = (a − E)/V, vᵢ = 1/V, with E = (a + c)n₁/N the
//!   expected events in group 1 and V = (a + c)(b + d)n₁n₂/(N²(N − 1)) their
//!   hypergeometric variance ([`crate::model::peto::study_log_odds_ratio`]).
//! * ZCOR: atanh(r), v = 1/(n − 3). COR: r, v = (1 − r²)²/(n − 1).
//! * PR: p = x/n, v = p(1 − p)/n. PLO: ln(x/(n − x)), v = 1/x + 1/(n − x); a zero
//!   cell (x = 0 or x = n) gets 1/2 added to x and n − x.
//! * Generic: yi with vi, or sei (v = sei²), or an estimate with a CI: on the log
//!   scale for OR/RR/IRR, sei = (upper − lower) / (2 z₁₋α/₂).
//! * Pre-post (one group of n measured twice; metafor's m1i = m_post,
//!   m2i = m_pre, sd1i = sd_pre, sd2i = sd_post, ri = r), with the change
//!   post − pre and its SD s_d = √(sd_pre² + sd_post² − 2r·sd_pre·sd_post):
//!   MC: m_post − m_pre, v = s_d²/n (Gibbons et al. 1993).
//!   SMCC: g = c(n − 1)·(m_post − m_pre)/s_d, v = 1/n + g²/(2n) (Gibbons et al. 1993).
//!   SMCR: g = c(n − 1)·(m_post − m_pre)/sd_pre, v = 2(1 − r)/n + g²/(2n)
//!   (Becker 1988; metafor `vtype = "LS"`).
//! * Single means: MN: m, v = sd²/n. MNLN: ln m, v = sd²/(n m²).
//!
//! Rates, transformed proportions, UCOR, SMDH, ROM (metafor 3.8 `escalc` defaults):
//! * SMDH (Bonett 2008a, eq. 8; 2009, eq. 5): d = c(m)·(m₁ − m₂)/s with
//!   s² = (sd₁² + sd₂²)/2, m = n₁ + n₂ − 2, and
//!   v = d²(sd₁⁴/(n₁−1) + sd₂⁴/(n₂−1))/(8s⁴) + (sd₁²/(n₁−1) + sd₂²/(n₂−1))/s²
//!   (`vtype = "LS"`; the d in it is the corrected one). This is current
//!   metafor (≥ 4.0); metafor 3.8 multiplied v by c(m)².
//!   See docs/src/metafor-differences-smdh.md.
//! * ROM (Hedges, Gurevitch & Curtis 1999): ln(m₁/m₂), v = sd₁²/(n₁m₁²) + sd₂²/(n₂m₂²).
//! * IRR, IRD from events x and person-time t of two groups; when either count is 0,
//!   1/2 is added to both (`add = 1/2, to = "only0"`). IRR: ln(x₁/t₁) − ln(x₂/t₂),
//!   v = 1/x₁ + 1/x₂. IRD: x₁/t₁ − x₂/t₂, v = x₁/t₁² + x₂/t₂².
//! * IRLN: ln(x/t), v = 1/x; x = 0 becomes 1/2.
//! * PAS: asin √(x/n), v = 1/(4n). PFT (Freeman & Tukey 1950):
//!   ½[asin √(x/(n+1)) + asin √((x+1)/(n+1))], v = 1/(4n + 2). No zero-cell
//!   correction (metafor's `add = 0` for these).
//! * UCOR (Olkin & Pratt 1958): r·₂F₁(½, ½; (n − 2)/2; 1 − r²), v = (1 − u²)²/(n − 1)
//!   with u the unbiased r (`vtype = "LS"`); needs n > 4.

mod error;
mod form;
pub mod measure;
pub mod scale;
pub mod two_by_two;

use statrs::function::gamma::ln_gamma;

pub use error::EffectSizeError;
use error::{Result, check, check_lazy, require, require_valid};
pub use form::DataForm;

use crate::effect_size::measure::Measure;
use crate::input::Record;
use crate::numerics::distribution::normal_upper;

/// An effect size on the analysis scale.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EffectSize {
    /// The outcome yᵢ.
    pub yi: f64,
    /// Its sampling variance vᵢ.
    pub vi: f64,
    /// Whether 1/2 was added to the cells because one of them was zero.
    pub zero_cell_corrected: bool,
}

/// Computes the effect size of one record under `measure`.
pub fn compute(record: &Record, measure: Measure) -> Result<EffectSize> {
    let form = DataForm::of(record).ok_or(EffectSizeError::NoData)?;
    let wrong = || EffectSizeError::WrongMeasure {
        form: form.name(),
        measure,
        allowed: form.allowed(),
    };
    let plain = |yi: f64, vi: f64| EffectSize {
        yi,
        vi,
        zero_cell_corrected: false,
    };
    let es = match form {
        DataForm::Generic => generic(record).map(|(yi, vi)| plain(yi, vi)),
        DataForm::EstimateCi => from_ci(record, measure).map(|(yi, vi)| plain(yi, vi)),
        DataForm::Continuous => match measure {
            Measure::SMD | Measure::MD | Measure::SMDH | Measure::ROM => {
                continuous(record, measure).map(|(yi, vi)| plain(yi, vi))
            }
            _ => Err(wrong()),
        },
        DataForm::Binary => match measure {
            Measure::OR | Measure::RR | Measure::RD | Measure::PETO => binary(record, measure),
            _ => Err(wrong()),
        },
        DataForm::Correlation => match measure {
            Measure::ZCOR | Measure::COR | Measure::UCOR => {
                correlation(record, measure).map(|(yi, vi)| plain(yi, vi))
            }
            _ => Err(wrong()),
        },
        DataForm::Proportion => match measure {
            Measure::PR | Measure::PLO => proportion(record, measure),
            Measure::PFT | Measure::PAS => {
                arcsine_proportion(record, measure).map(|(yi, vi)| plain(yi, vi))
            }
            _ => Err(wrong()),
        },
        DataForm::TStatistic => match measure {
            Measure::SMD => t_statistic(record).map(|(yi, vi)| plain(yi, vi)),
            _ => Err(wrong()),
        },
        DataForm::PrePost => match measure {
            Measure::SMCR | Measure::SMCC | Measure::MC => {
                pre_post(record, measure).map(|(yi, vi)| plain(yi, vi))
            }
            _ => Err(wrong()),
        },
        DataForm::Mean => match measure {
            Measure::MN | Measure::MNLN => {
                single_mean(record, measure).map(|(yi, vi)| plain(yi, vi))
            }
            _ => Err(wrong()),
        },
        DataForm::IncidenceRates => match measure {
            Measure::IRR | Measure::IRD => incidence_rates(record, measure),
            _ => Err(wrong()),
        },
        DataForm::IncidenceRate => match measure {
            Measure::IRLN => incidence_rate(record),
            _ => Err(wrong()),
        },
    }?;
    // Every input passed its checks, yet extreme magnitudes can still
    // overflow or underflow (e.g. sei = 1e-200 squares to 0).
    if es.yi.is_finite() && es.vi.is_finite() && es.vi > 0.0 {
        Ok(es)
    } else {
        Err(EffectSizeError::Degenerate {
            yi: es.yi,
            vi: es.vi,
        })
    }
}

fn generic(record: &Record) -> Result<(f64, f64)> {
    const NEEDS: &str = "yi with vi or sei";
    let yi = require("yi", record.yi, "generic", NEEDS)?;
    let vi = match (record.vi, record.sei) {
        (Some(_), Some(_)) => {
            return Err(EffectSizeError::Conflict {
                field: "vi",
                other: "sei",
            });
        }
        (Some(_), None) => {
            let vi = require("vi", record.vi, "generic", NEEDS)?;
            check(
                vi > 0.0,
                "vi",
                "must be > 0",
                vi,
                "; a sampling variance is positive: check for a typo, or give a standard error as sei",
            )?;
            vi
        }
        (None, Some(_)) => {
            let sei = require("sei", record.sei, "generic", NEEDS)?;
            check(
                sei > 0.0,
                "sei",
                "must be > 0",
                sei,
                "; a standard error is positive: check for a typo",
            )?;
            sei * sei
        }
        (None, None) => {
            return Err(EffectSizeError::Missing {
                field: "vi",
                form: "generic",
                needs: NEEDS,
            });
        }
    };
    Ok((yi, vi))
}

fn from_ci(record: &Record, measure: Measure) -> Result<(f64, f64)> {
    const FORM: &str = "estimate-and-CI";
    const NEEDS: &str = "estimate, ci_lower and ci_upper (and optionally ci_level)";
    let estimate = require("estimate", record.estimate, FORM, NEEDS)?;
    let lower = require("ci_lower", record.ci_lower, FORM, NEEDS)?;
    let upper = require("ci_upper", record.ci_upper, FORM, NEEDS)?;
    let level = match record.ci_level {
        Some(level) => {
            check(
                level > 1.0 && level < 100.0,
                "ci_level",
                "must be a percentage between 1 and 100, e.g. 95",
                level,
                "; write 95 for a 95% CI, not 0.95",
            )?;
            level
        }
        None => 95.0,
    };
    check_lazy(
        lower < upper,
        "ci_lower",
        || format!("must be below ci_upper = {upper}"),
        lower,
        "; swap ci_lower and ci_upper if the CI was entered reversed",
    )?;
    check_lazy(
        lower <= estimate && estimate <= upper,
        "estimate",
        || format!("must lie within its CI [{lower}, {upper}]"),
        estimate,
        "; check that the estimate and both limits are on the same scale",
    )?;
    let (estimate, lower, upper) = if measure.is_ratio() {
        check_lazy(
            lower > 0.0,
            "ci_lower",
            || format!("must be > 0 for a ratio measure ({measure})"),
            lower,
            "; give the ratios as reported, not their logarithms",
        )?;
        (estimate.ln(), lower.ln(), upper.ln())
    } else {
        (estimate, lower, upper)
    };
    let z = normal_upper((1.0 - level / 100.0) / 2.0);
    let sei = (upper - lower) / (2.0 * z);
    Ok((estimate, sei * sei))
}

/// Hedges' exact small-sample correction c(m) = Γ(m/2) / (√(m/2) Γ((m−1)/2)).
pub fn hedges_correction(m: f64) -> f64 {
    (ln_gamma(m / 2.0) - (m / 2.0).sqrt().ln() - ln_gamma((m - 1.0) / 2.0)).exp()
}

const TWO_FOR_SD_HINT: &str =
    "; a group needs two or more participants to have a standard deviation";
const SD_HINT: &str = "; a standard deviation of 0 or less is impossible for measured data: check the value (from a standard error, sd = se·√n)";

fn group_sizes(record: &Record, form: &'static str, needs: &'static str) -> Result<(f64, f64)> {
    let n1 = require("n1", record.n1, form, needs)?;
    let n2 = require("n2", record.n2, form, needs)?;
    check(n1 >= 2.0, "n1", "must be at least 2", n1, TWO_FOR_SD_HINT)?;
    check(n2 >= 2.0, "n2", "must be at least 2", n2, TWO_FOR_SD_HINT)?;
    Ok((n1, n2))
}

fn continuous(record: &Record, measure: Measure) -> Result<(f64, f64)> {
    const FORM: &str = "two-group continuous";
    const NEEDS: &str = "n1, m1, sd1, n2, m2, sd2";
    let (n1, n2) = group_sizes(record, FORM, NEEDS)?;
    let m1 = require("m1", record.m1, FORM, NEEDS)?;
    let m2 = require("m2", record.m2, FORM, NEEDS)?;
    let sd1 = require("sd1", record.sd1, FORM, NEEDS)?;
    let sd2 = require("sd2", record.sd2, FORM, NEEDS)?;
    check(sd1 > 0.0, "sd1", "must be > 0", sd1, SD_HINT)?;
    check(sd2 > 0.0, "sd2", "must be > 0", sd2, SD_HINT)?;
    match measure {
        Measure::MD => return Ok((m1 - m2, sd1 * sd1 / n1 + sd2 * sd2 / n2)),
        Measure::SMDH => return Ok(smdh(m1 - m2, sd1, sd2, n1, n2)),
        Measure::ROM => {
            const MEAN_HINT: &str = "; a ratio of means needs positive means (counts, lengths, concentrations): use MD or SMD for outcomes that can be 0 or negative";
            let requirement = "must be > 0 for the log ratio of means (ROM)";
            check(m1 > 0.0, "m1", requirement, m1, MEAN_HINT)?;
            check(m2 > 0.0, "m2", requirement, m2, MEAN_HINT)?;
            return Ok((
                (m1 / m2).ln(),
                sd1 * sd1 / (n1 * m1 * m1) + sd2 * sd2 / (n2 * m2 * m2),
            ));
        }
        _ => {}
    }
    let pooled_sd = (((n1 - 1.0) * sd1 * sd1 + (n2 - 1.0) * sd2 * sd2) / (n1 + n2 - 2.0)).sqrt();
    Ok(hedges_g((m1 - m2) / pooled_sd, n1, n2))
}

/// SMDH: the bias-corrected standardised mean difference with the average of
/// the two variances as standardiser, and its large-sample variance (see the
/// module documentation; metafor ≥ 4.0 `escalc(measure = "SMDH")`, which
/// no longer multiplies the variance by the squared bias correction).
fn smdh(difference: f64, sd1: f64, sd2: f64, n1: f64, n2: f64) -> (f64, f64) {
    let correction = hedges_correction(n1 + n2 - 2.0);
    let (v1, v2) = (sd1 * sd1, sd2 * sd2);
    let mean_variance = (v1 + v2) / 2.0;
    let d = correction * difference / mean_variance.sqrt();
    let vi = d * d * (v1 * v1 / (n1 - 1.0) + v2 * v2 / (n2 - 1.0))
        / (8.0 * mean_variance * mean_variance)
        + (v1 / (n1 - 1.0) + v2 / (n2 - 1.0)) / mean_variance;
    (d, vi)
}

/// Hedges' g and its large-sample variance from Cohen's d.
fn hedges_g(d: f64, n1: f64, n2: f64) -> (f64, f64) {
    let g = hedges_correction(n1 + n2 - 2.0) * d;
    (g, 1.0 / n1 + 1.0 / n2 + g * g / (2.0 * (n1 + n2)))
}

fn t_statistic(record: &Record) -> Result<(f64, f64)> {
    const FORM: &str = "t-statistic";
    const NEEDS: &str = "t, n1, n2";
    let t = require("t", record.t, FORM, NEEDS)?;
    let (n1, n2) = group_sizes(record, FORM, NEEDS)?;
    Ok(hedges_g(t * (1.0 / n1 + 1.0 / n2).sqrt(), n1, n2))
}

fn count(
    field: &'static str,
    value: Option<f64>,
    form: &'static str,
    needs: &'static str,
) -> Result<f64> {
    require_valid(
        field,
        value,
        form,
        needs,
        |v| v >= 0.0,
        "must be ≥ 0",
        "; it is a number of events",
    )
}

fn binary(record: &Record, measure: Measure) -> Result<EffectSize> {
    const FORM: &str = "two-group binary";
    const NEEDS: &str = "events1, n1, events2, n2";
    let events1 = count("events1", record.events1, FORM, NEEDS)?;
    let events2 = count("events2", record.events2, FORM, NEEDS)?;
    let n1 = require("n1", record.n1, FORM, NEEDS)?;
    let n2 = require("n2", record.n2, FORM, NEEDS)?;
    const SIZE_HINT: &str = "; it is the size of the group";
    const EVENTS_HINT: &str =
        "; n1 and n2 are the groups' total sizes (events plus non-events), not their non-events";
    check(n1 >= 1.0, "n1", "must be at least 1", n1, SIZE_HINT)?;
    check(n2 >= 1.0, "n2", "must be at least 1", n2, SIZE_HINT)?;
    check_lazy(
        events1 <= n1,
        "events1",
        || format!("cannot exceed n1 = {n1}"),
        events1,
        EVENTS_HINT,
    )?;
    check_lazy(
        events2 <= n2,
        "events2",
        || format!("cannot exceed n2 = {n2}"),
        events2,
        EVENTS_HINT,
    )?;
    let (mut a, mut b, mut c, mut d) = (events1, n1 - events1, events2, n2 - events2);
    let corrected = [a, b, c, d].contains(&0.0);
    if measure == Measure::PETO {
        let (yi, vi) = two_by_two::study_log_odds_ratio(&two_by_two::Table { a, b, c, d });
        return Ok(EffectSize {
            yi,
            vi,
            zero_cell_corrected: corrected,
        });
    }
    if corrected {
        a += 0.5;
        b += 0.5;
        c += 0.5;
        d += 0.5;
    }
    let (n1, n2) = (a + b, c + d);
    let (yi, vi) = match measure {
        Measure::OR => (
            (a * d / (b * c)).ln(),
            1.0 / a + 1.0 / b + 1.0 / c + 1.0 / d,
        ),
        Measure::RR => (
            ((a / n1) / (c / n2)).ln(),
            1.0 / a - 1.0 / n1 + 1.0 / c - 1.0 / n2,
        ),
        _ => {
            let (p1, p2) = (a / n1, c / n2);
            (p1 - p2, p1 * (1.0 - p1) / n1 + p2 * (1.0 - p2) / n2)
        }
    };
    Ok(EffectSize {
        yi,
        vi,
        zero_cell_corrected: corrected,
    })
}

fn correlation(record: &Record, measure: Measure) -> Result<(f64, f64)> {
    const FORM: &str = "correlation";
    const NEEDS: &str = "r, n";
    let r = require("r", record.r, FORM, NEEDS)?;
    let n = require("n", record.n, FORM, NEEDS)?;
    check(
        r.abs() < 1.0,
        "r",
        "must lie strictly between -1 and 1",
        r,
        "; give the correlation itself, not a percentage or a Fisher z value",
    )?;
    if measure == Measure::UCOR {
        check(
            n > 4.0,
            "n",
            "must be more than 4 for the unbiased correlation (UCOR)",
            n,
            "; use measure COR for such small samples",
        )?;
        let u = r * crate::numerics::hypergeometric::hyp2f1(0.5, 0.5, (n - 2.0) / 2.0, 1.0 - r * r);
        return Ok((u, (1.0 - u * u).powi(2) / (n - 1.0)));
    }
    if measure == Measure::ZCOR {
        check(
            n > 3.0,
            "n",
            "must be more than 3 for Fisher's z, whose variance is 1/(n - 3)",
            n,
            "; use measure COR for such small samples",
        )?;
        Ok((r.atanh(), 1.0 / (n - 3.0)))
    } else {
        check(
            n > 1.0,
            "n",
            "must be more than 1",
            n,
            "; it is the sample size",
        )?;
        Ok((r, (1.0 - r * r).powi(2) / (n - 1.0)))
    }
}

/// A record's events and sample size, checked.
fn events_of_n(record: &Record) -> Result<(f64, f64)> {
    const FORM: &str = "single-proportion";
    const NEEDS: &str = "events, n";
    let events = count("events", record.events, FORM, NEEDS)?;
    let n = require("n", record.n, FORM, NEEDS)?;
    check(
        n >= 1.0,
        "n",
        "must be at least 1",
        n,
        "; it is the sample size",
    )?;
    check_lazy(
        events <= n,
        "events",
        || format!("cannot exceed n = {n}"),
        events,
        "; n is the total sample size, not the number of non-events",
    )?;
    Ok((events, n))
}

fn proportion(record: &Record, measure: Measure) -> Result<EffectSize> {
    let (events, n) = events_of_n(record)?;
    let (mut x, mut m) = (events, n - events);
    let corrected = x == 0.0 || m == 0.0;
    if corrected {
        x += 0.5;
        m += 0.5;
    }
    let n = x + m;
    let (yi, vi) = if measure == Measure::PR {
        let p = x / n;
        (p, p * (1.0 - p) / n)
    } else {
        ((x / m).ln(), 1.0 / x + 1.0 / m)
    };
    Ok(EffectSize {
        yi,
        vi,
        zero_cell_corrected: corrected,
    })
}

/// PAS and PFT, the arcsine square root and Freeman–Tukey double arcsine of a
/// proportion, without a zero-cell correction.
fn arcsine_proportion(record: &Record, measure: Measure) -> Result<(f64, f64)> {
    let (x, n) = events_of_n(record)?;
    Ok(if measure == Measure::PAS {
        ((x / n).sqrt().asin(), 1.0 / (4.0 * n))
    } else {
        (
            0.5 * ((x / (n + 1.0)).sqrt().asin() + ((x + 1.0) / (n + 1.0)).sqrt().asin()),
            1.0 / (4.0 * n + 2.0),
        )
    })
}

fn person_time(
    field: &'static str,
    value: Option<f64>,
    form: &'static str,
    needs: &'static str,
) -> Result<f64> {
    require_valid(
        field,
        value,
        form,
        needs,
        |v| v > 0.0,
        "must be > 0",
        "; it is the person-time at risk (e.g. person-years) in which the events were counted",
    )
}

/// IRR and IRD from two groups' events and person-time; 1/2 is added to both
/// counts when either is 0.
fn incidence_rates(record: &Record, measure: Measure) -> Result<EffectSize> {
    const FORM: &str = "two-group incidence-rate";
    const NEEDS: &str = "events1, time1, events2, time2";
    let mut x1 = count("events1", record.events1, FORM, NEEDS)?;
    let t1 = person_time("time1", record.time1, FORM, NEEDS)?;
    let mut x2 = count("events2", record.events2, FORM, NEEDS)?;
    let t2 = person_time("time2", record.time2, FORM, NEEDS)?;
    let corrected = x1 == 0.0 || x2 == 0.0;
    if corrected {
        x1 += 0.5;
        x2 += 0.5;
    }
    let (rate1, rate2) = (x1 / t1, x2 / t2);
    let (yi, vi) = if measure == Measure::IRR {
        (rate1.ln() - rate2.ln(), 1.0 / x1 + 1.0 / x2)
    } else {
        (rate1 - rate2, rate1 / t1 + rate2 / t2)
    };
    Ok(EffectSize {
        yi,
        vi,
        zero_cell_corrected: corrected,
    })
}

/// IRLN, the log incidence rate of one group; 0 events become 1/2.
fn incidence_rate(record: &Record) -> Result<EffectSize> {
    const FORM: &str = "single incidence-rate";
    const NEEDS: &str = "events, time";
    let mut x = count("events", record.events, FORM, NEEDS)?;
    let t = person_time("time", record.time, FORM, NEEDS)?;
    let corrected = x == 0.0;
    if corrected {
        x = 0.5;
    }
    Ok(EffectSize {
        yi: (x / t).ln(),
        vi: 1.0 / x,
        zero_cell_corrected: corrected,
    })
}

/// A standard deviation: present, finite and positive.
fn positive_sd(
    field: &'static str,
    value: Option<f64>,
    form: &'static str,
    needs: &'static str,
) -> Result<f64> {
    require_valid(
        field,
        value,
        form,
        needs,
        |sd| sd > 0.0,
        "must be > 0",
        SD_HINT,
    )
}

/// MC, SMCC and SMCR from one group's means and SDs before and after, its
/// size and the pre-post correlation, as metafor's `escalc()` with
/// m1i = m_post, m2i = m_pre, sd1i = sd_pre, sd2i = sd_post (see the module
/// documentation for the formulas). SMCR needs no sd_post, but one given is checked.
fn pre_post(record: &Record, measure: Measure) -> Result<(f64, f64)> {
    const FORM: &str = "pre-post";
    let needs = if measure == Measure::SMCR {
        "m_pre, m_post, sd_pre, n, r"
    } else {
        "m_pre, m_post, sd_pre, sd_post, n, r"
    };
    let n = require("n", record.n, FORM, needs)?;
    let m_pre = require("m_pre", record.m_pre, FORM, needs)?;
    let m_post = require("m_post", record.m_post, FORM, needs)?;
    let sd_pre = positive_sd("sd_pre", record.sd_pre, FORM, needs)?;
    // SMCR standardises by sd_pre alone: an sd_post is only checked.
    let sd_post = match record.sd_post {
        None if measure == Measure::SMCR => f64::NAN,
        sd_post => positive_sd("sd_post", sd_post, FORM, needs)?,
    };
    if record.r.is_none() {
        return Err(EffectSizeError::NoPrePostCorrelation);
    }
    let r = require_valid(
        "r",
        record.r,
        FORM,
        needs,
        |r| r.abs() < 1.0,
        "must lie strictly between -1 and 1",
        "; it is the correlation between the pre and post scores of the same participants",
    )?;
    if measure == Measure::MC {
        check(n >= 2.0, "n", "must be at least 2", n, TWO_FOR_SD_HINT)?;
    } else {
        check(
            n > 2.0,
            "n",
            "must be more than 2 for the small-sample correction c(n - 1) of a standardised mean change",
            n,
            "; use measure MC for such small samples",
        )?;
    }
    let change = m_post - m_pre;
    // The variance of the change scores (metafor: sd1i² + sd2i² − 2·ri·sd1i·sd2i).
    let change_variance = sd_pre * sd_pre + sd_post * sd_post - 2.0 * r * sd_pre * sd_post;
    Ok(match measure {
        Measure::SMCR => {
            let g = hedges_correction(n - 1.0) * change / sd_pre;
            (g, 2.0 * (1.0 - r) / n + g * g / (2.0 * n))
        }
        Measure::SMCC => {
            let g = hedges_correction(n - 1.0) * change / change_variance.sqrt();
            (g, 1.0 / n + g * g / (2.0 * n))
        }
        _ => (change, change_variance / n),
    })
}

/// MN and MNLN from one group's mean, SD and size, as metafor's `escalc()`
/// with mi = m, sdi = sd, ni = n.
fn single_mean(record: &Record, measure: Measure) -> Result<(f64, f64)> {
    const FORM: &str = "single-mean";
    const NEEDS: &str = "m, sd, n";
    let m = require("m", record.m, FORM, NEEDS)?;
    let sd = positive_sd("sd", record.sd, FORM, NEEDS)?;
    let n = require_valid(
        "n",
        record.n,
        FORM,
        NEEDS,
        |n| n >= 2.0,
        "must be at least 2",
        TWO_FOR_SD_HINT,
    )?;
    if measure == Measure::MN {
        return Ok((m, sd * sd / n));
    }
    check(
        m > 0.0,
        "m",
        "must be > 0 for MNLN, the log of the mean",
        m,
        "; use measure MN for means that can be 0 or negative",
    )?;
    Ok((m.ln(), sd * sd / (n * m * m)))
}
