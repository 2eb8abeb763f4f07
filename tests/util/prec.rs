//! Default tolerances, on the model of statrs' `prec.rs`. A test that needs
//! another tolerance says so, and why, where it uses it.

/// The default relative tolerance against metafor's values.
pub const RELATIVE: f64 = 1e-6;

/// Below this magnitude, expected values count as this large: near 0 the
/// comparison is absolute, to `relative`·`FLOOR`.
pub const FLOOR: f64 = 1e-6;

/// `actual` agrees with `expected` to [`RELATIVE`] (absolute 1e-12 near 0).
pub fn close(actual: f64, expected: f64) -> bool {
    close_to(actual, expected, RELATIVE)
}

/// `actual` agrees with `expected` to `relative` (absolute `relative`·[`FLOOR`] near 0).
pub fn close_to(actual: f64, expected: f64, relative: f64) -> bool {
    (actual - expected).abs() <= relative * expected.abs().max(FLOOR)
}
