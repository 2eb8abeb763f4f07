//! The 2×2 tables of two-group binary studies, for the methods that pool the
//! tables themselves rather than each study's effect size (Mantel-Haenszel,
//! Peto): metafor's `ai, bi, ci, di`.

use crate::effect_size::measure::Measure;
use crate::error_kind::{ErrorKind, Kinded};
use crate::fields::{MEASURE, METHOD};

/// One study's 2×2 table: events and non-events in group 1 (`a`, `b`) and
/// group 2 (`c`, `d`), as metafor's `ai, bi, ci, di`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Table {
    /// Events in group 1.
    pub a: f64,
    /// Non-events in group 1.
    pub b: f64,
    /// Events in group 2.
    pub c: f64,
    /// Non-events in group 2.
    pub d: f64,
}

impl Table {
    /// Size of group 1.
    pub fn n1(&self) -> f64 {
        self.a + self.b
    }

    /// Size of group 2.
    pub fn n2(&self) -> f64 {
        self.c + self.d
    }

    /// Total size.
    pub fn n(&self) -> f64 {
        self.a + self.b + self.c + self.d
    }

    /// No events in either group, or no non-events in either group: the table
    /// says nothing about the odds ratio (metafor's `drop00`).
    pub fn is_double_zero(&self) -> bool {
        (self.a == 0.0 && self.c == 0.0) || (self.b == 0.0 && self.d == 0.0)
    }
}

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
