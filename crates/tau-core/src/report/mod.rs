//! Views of results: plain text for people, JSON for programs, CSV for
//! spreadsheets, Markdown and LaTeX tables for papers.
//! Each view reads the same result struct, so a number can never differ between them.
//!
//! [`write_report`] writes any [`Report`] in a [`Format`]; each format's views
//! are in its own file ([`text`], [`json`], [`csv`], [`markdown`], [`latex`]),
//! one `impl` per result (the paper formats share [`paper`]'s tables),
//! and the longer texts and tables in per-result modules ([`subgroup`],
//! [`regression`], [`bias`], [`sensitivity`], [`simulate`]).

pub mod bias;
pub mod csv;
pub mod fixed;
pub mod format;
pub mod json;
pub mod latex;
pub mod markdown;
pub mod paper;
pub mod regression;
pub mod sensitivity;
pub mod simulate;
pub mod subgroup;
pub mod table;
pub mod text;

pub use format::{Format, Report, write_report};
pub use table::{Cells, aligned_table, table};

use crate::data::dataset::Dataset;
use crate::pool::PoolResult;

/// A pooled result with the data set it pooled: its report lists the studies.
#[derive(Debug, Clone, Copy)]
pub struct PoolReport<'a> {
    /// The pooled result.
    pub result: &'a PoolResult,
    /// The data set that was pooled.
    pub data: &'a Dataset,
}

/// Formats a number with `digits` decimals, as metafor prints (NaN as "NA").
pub fn fmt_num(value: f64, digits: usize) -> String {
    let mut out = String::with_capacity(24);
    push_num(&mut out, value, digits);
    out
}

/// Appends [`fmt_num`]'s text to `out`.
pub fn push_num(out: &mut String, value: f64, digits: usize) {
    if value.is_nan() {
        out.push_str("NA");
    } else {
        fixed::push_fixed(out, value, digits);
    }
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
