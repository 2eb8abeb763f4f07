//! Numbers as metafor prints them: `digits` decimals, R's scientific
//! notation where fixed point would mislead, "NA" for NaN, and p-values as
//! `format.pval` with `digits = 4` ("<.0001"). The text views ([`crate::report`])
//! and the warnings ([`crate::warning`]) both write numbers this way.

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
        super::fixed::push_fixed(out, value, digits);
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
        super::fixed::fixed(p, 4)
    }
}
