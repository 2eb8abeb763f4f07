//! Views of results: plain text for people, JSON for programs, CSV for
//! spreadsheets, Markdown and LaTeX tables for papers.
//! Each view reads the same result struct, so a number can never differ between them.
//!
//! [`write_report`] writes any [`Report`] in a [`Format`]; each format's views
//! are in its own file ([`text`], [`json`], [`csv`], [`markdown`], [`latex`]),
//! one `impl` per result (the paper formats share [`paper`]'s tables),
//! and the longer texts and tables in per-result modules ([`subgroup`],
//! [`regression`], [`multilevel`], [`bias`], [`sensitivity`], [`simulate`]).

pub mod bayes;
pub mod bias;
pub mod compare;
pub mod csv;
pub mod fixed;
pub mod format;
pub mod json;
pub mod latex;
pub mod markdown;
pub mod moderator_test;
pub mod multilevel;
pub mod paper;
pub mod predict;
pub mod regression;
pub mod rho;
pub mod robust;
pub mod selection;
pub mod sensitivity;
pub mod simulate;
pub mod subgroup;
pub mod table;
pub mod text;

pub use format::{Format, Report, write_report};
pub use table::{Cells, aligned_table, table};

use crate::data::dataset::Dataset;
use crate::pool::PoolResult;

/// A model's report followed by its robust inference ([`robust`]): text is
/// the model's then the robust block, JSON the model's with the robust values
/// in place ([`robust::json`]), CSV the robust coefficient table.
#[derive(Debug, Clone, Copy)]
pub struct RobustReport<'a, M: ?Sized> {
    /// The model's own report.
    pub model: &'a M,
    /// Its robust inference.
    pub robust: &'a crate::robust::RobustResult,
    /// What the omnibus test covers ("moderators", "subgroup differences").
    pub tested: &'a str,
}

/// A pooled result with the data set it pooled: its report lists the studies.
#[derive(Debug, Clone, Copy)]
pub struct PoolReport<'a> {
    /// The pooled result.
    pub result: &'a PoolResult,
    /// The data set that was pooled.
    pub data: &'a Dataset,
}

/// Formats a number with `digits` decimals, as metafor prints (NaN as "NA";
/// huge and tiny numbers in scientific notation, see [`push_num`]).
pub fn fmt_num(value: f64, digits: usize) -> String {
    let mut out = String::with_capacity(24);
    push_num(&mut out, value, digits);
    out
}

/// Appends [`fmt_num`]'s text to `out`.
///
/// Numbers of 10⁶ and beyond, and numbers other than 0 that `digits` decimals
/// would show as 0, are written in R's scientific notation with `digits`
/// decimals (`1.2346e+06`, `3.0000e-15`): fixed point would print 300 digits
/// for 1e300, and 0.0000 for 1e-15. Text only; JSON keeps every digit.
pub fn push_num(out: &mut String, value: f64, digits: usize) {
    let magnitude = value.abs();
    if value.is_nan() {
        out.push_str("NA");
    } else if magnitude.is_finite()
        && (magnitude >= 1e6 || magnitude > 0.0 && magnitude < 0.5 * 10f64.powi(-(digits as i32)))
    {
        push_scientific(out, value, digits);
    } else {
        fixed::push_fixed(out, value, digits);
    }
}

/// `value` as R prints it in scientific notation: `digits` decimals and a
/// signed exponent of at least two digits (`-1.5000e-07`).
fn push_scientific(out: &mut String, value: f64, digits: usize) {
    use std::fmt::Write;
    let text = format!("{value:.digits$e}");
    let (mantissa, exponent) = text.split_once('e').unwrap_or((&text, "0"));
    let (sign, exponent) = match exponent.strip_prefix('-') {
        Some(e) => ('-', e),
        None => ('+', exponent),
    };
    // Writing to a String cannot fail.
    let _ = write!(out, "{mantissa}e{sign}{exponent:0>2}");
}

/// Formats a p-value as metafor does: "<.0001" below 1e-4, else 4 decimals.
pub fn fmt_p(p: f64) -> String {
    if p.is_nan() {
        "NA".into()
    } else if p < 1e-4 {
        "<.0001".into()
    } else {
        fixed::fixed(p, 4)
    }
}
