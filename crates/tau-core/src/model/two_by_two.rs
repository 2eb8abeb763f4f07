//! The 2×2 tables of two-group binary studies, for the methods that pool the
//! tables themselves rather than each study's effect size (Mantel-Haenszel,
//! Peto): metafor's `ai, bi, ci, di`.

use crate::effect_size::measure::Measure;
use crate::error_kind::{ErrorKind, Kinded};
use crate::fields::{MEASURE, METHOD};

pub use crate::effect_size::two_by_two::Table;

/// Why the tables could not be pooled.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum TableError {
    /// The method does not pool this measure.
    #[error(
        "{METHOD} {method} pools {supported} only, not {measure}; use {MEASURE} {first} with events1, n1, events2, n2, or an inverse-variance {METHOD} such as EE or REML"
    )]
    Measure {
        /// "MH" or "PETO".
        method: &'static str,
        /// The measure asked for.
        measure: Measure,
        /// The measures the method pools, in words.
        supported: &'static str,
        /// The first of them, for the hint.
        first: &'static str,
    },
    /// A study without counts.
    #[error(
        "study '{label}' (record {}): {METHOD} {method} pools the 2x2 tables, so every study needs events1, n1, events2, n2; this one gives its effect size only. Give its counts, or use an inverse-variance {METHOD} such as EE or REML",
        index + 1
    )]
    NoCounts {
        /// "MH" or "PETO".
        method: &'static str,
        /// Zero-based record index.
        index: usize,
        /// The study label.
        label: String,
    },
    /// Fewer studies than the analysis needs.
    #[error("{what} needs at least {needed} studies (got {k})")]
    TooFewStudies {
        /// The analysis.
        what: &'static str,
        /// How many it needs.
        needed: usize,
        /// How many there are.
        k: usize,
    },
    /// The level is outside (0, 100).
    #[error("the confidence level must lie strictly between 0 and 100, e.g. 95 (got {0})")]
    BadLevel(f64),
    /// The pooled estimate does not exist for these tables.
    #[error("{0}")]
    Undefined(String),
}

impl Kinded for TableError {
    fn kind(&self) -> ErrorKind {
        match self {
            TableError::Measure { .. }
            | TableError::NoCounts { .. }
            | TableError::TooFewStudies { .. }
            | TableError::BadLevel(_) => ErrorKind::Input,
            TableError::Undefined(_) => ErrorKind::Analysis,
        }
    }
}
