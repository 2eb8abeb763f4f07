//! What can be wrong with one record's effect data, and the checks that say so.

use crate::effect_size::measure::Measure;
use crate::fields::{MEASURE, RI};

/// A number for a message: as written for ordinary sizes, in scientific
/// notation from 1e6 and below 1e-4 (1e300 is not 301 digits long).
pub struct ShortNumber(pub f64);

impl std::fmt::Display for ShortNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let magnitude = self.0.abs();
        if magnitude.is_finite() && (magnitude >= 1e6 || magnitude > 0.0 && magnitude < 1e-4) {
            write!(f, "{:e}", self.0)
        } else {
            write!(f, "{}", self.0)
        }
    }
}

/// A problem with one record's effect data. `field` names the offending field.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum EffectSizeError {
    /// A field holds an impossible value.
    #[error("{field} {requirement} (got {}){hint}", ShortNumber(*value))]
    Invalid {
        /// The field.
        field: &'static str,
        /// What it must be, e.g. "must be > 0".
        requirement: String,
        /// What it holds.
        value: f64,
        /// How to fix it: empty, or "; " and a remedy.
        hint: &'static str,
    },
    /// A field the data form needs is absent.
    #[error(
        "{field} is missing: {form} data need {needs}; add it{}",
        if matches!(*form, "generic" | "estimate-and-CI") { "" } else { ", or give yi with vi instead" }
    )]
    Missing {
        /// The missing field.
        field: &'static str,
        /// The form the other fields imply.
        form: &'static str,
        /// All the fields the form needs.
        needs: &'static str,
    },
    /// No effect data at all.
    #[error(
        "no effect data: give yi with vi or sei; estimate with ci_lower and ci_upper; or raw data (n1, m1, sd1, n2, m2, sd2 / events1, n1, events2, n2 / r, n / events, n / t, n1, n2 / m_pre, m_post, sd_pre, sd_post, n, r / m, sd, n / events1, time1, events2, time2 / events, time)"
    )]
    NoData,
    /// Pre-post data without the pre-post correlation, and no value assumed for it.
    #[error(
        "r is missing: pre-post data need the correlation r between the pre and post scores for the sampling variance; add it, or pass {RI} VALUE to assume one value for every record without r (the output then says so)"
    )]
    NoPrePostCorrelation,
    /// The data do not fit the measure.
    #[error(
        "{form} data cannot give measure {measure}; use {allowed} (set \"measure\" in the file or pass {MEASURE})"
    )]
    WrongMeasure {
        /// The data form.
        form: &'static str,
        /// The requested measure.
        measure: Measure,
        /// The measures that fit.
        allowed: &'static str,
    },
    /// A field that is not used by this form sits beside the data (e.g. both vi and sei).
    #[error("{field} and {other} are both given: give only one of them")]
    Conflict {
        /// The first field.
        field: &'static str,
        /// The second field.
        other: &'static str,
    },
    /// Valid-looking values whose effect size or variance is not a usable number.
    #[error(
        "these values give yi = {yi} and vi = {vi}: an effect size needs a finite yi and a positive, finite vi; the values are too extreme for double precision, check them for typos"
    )]
    Degenerate {
        /// The outcome computed.
        yi: f64,
        /// The sampling variance computed.
        vi: f64,
    },
}

impl crate::Kinded for EffectSizeError {
    fn kind(&self) -> crate::ErrorKind {
        crate::ErrorKind::Input
    }
}

impl EffectSizeError {
    /// The field the error is about, if any.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            EffectSizeError::Invalid { field, .. }
            | EffectSizeError::Missing { field, .. }
            | EffectSizeError::Conflict { field, .. } => Some(field),
            EffectSizeError::NoPrePostCorrelation => Some("r"),
            EffectSizeError::NoData
            | EffectSizeError::WrongMeasure { .. }
            | EffectSizeError::Degenerate { .. } => None,
        }
    }
}

pub(super) type Result<T> = std::result::Result<T, EffectSizeError>;

pub(super) fn require(
    field: &'static str,
    value: Option<f64>,
    form: &'static str,
    needs: &'static str,
) -> Result<f64> {
    let value = value.ok_or(EffectSizeError::Missing { field, form, needs })?;
    check(
        value.is_finite(),
        field,
        "must be a finite number",
        value,
        "; write a number, or leave the field out if it is unknown",
    )?;
    Ok(value)
}

/// [`require`], then [`check`] that the value passes `valid`.
pub(super) fn require_valid(
    field: &'static str,
    value: Option<f64>,
    form: &'static str,
    needs: &'static str,
    valid: fn(f64) -> bool,
    requirement: &str,
    hint: &'static str,
) -> Result<f64> {
    let value = require(field, value, form, needs)?;
    check(valid(value), field, requirement, value, hint)?;
    Ok(value)
}

/// `Ok` when `ok`, else the error "`field` `requirement` (got `value`)`hint`".
pub(super) fn check(
    ok: bool,
    field: &'static str,
    requirement: &str,
    value: f64,
    hint: &'static str,
) -> Result<()> {
    if ok {
        Ok(())
    } else {
        Err(EffectSizeError::Invalid {
            field,
            requirement: requirement.to_owned(),
            value,
            hint,
        })
    }
}

/// [`check`] with a requirement built only when the check fails (most checks
/// pass, and formatting numbers costs more than computing the effect size).
pub(super) fn check_lazy(
    ok: bool,
    field: &'static str,
    requirement: impl FnOnce() -> String,
    value: f64,
    hint: &'static str,
) -> Result<()> {
    if ok {
        Ok(())
    } else {
        check(false, field, &requirement(), value, hint)
    }
}
