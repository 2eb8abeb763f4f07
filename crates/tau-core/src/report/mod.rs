//! Views of results: plain text for people, JSON for programs, CSV for spreadsheets.
//! Each view reads the same result struct, so a number can never differ between them.

pub mod bias;
pub mod csv;
pub mod fixed;
pub mod json;
pub mod moderator_test;
pub mod regression;
pub mod sensitivity;
pub mod simulate;
pub mod subgroup;
pub mod table;
pub mod text;

pub use table::{Cells, aligned_table, table};

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
