//! Fixed-point formatting of numbers, `{:.N}` without its cost.
//!
//! Rust's `format!("{x:.4}")` formats the exact binary value of `x` (Grisu
//! with a Dragon4 fallback), about half a microsecond a number; a 10⁶-study
//! report prints six numbers a study. [`push_fixed`] writes the same text
//! from one multiplication and integer arithmetic, and hands the few numbers
//! it cannot settle that way to `format!`:
//!
//! * s = |x|·10ᴺ is computed in floating point, so it differs from the exact
//!   product by at most half an ulp of s (one rounding; 10ᴺ is exact for N ≤ 22).
//! * Rounding s to an integer can only come out differently from rounding the
//!   exact product when the fraction of s lies within that error of ½ (a tie,
//!   which the exact formatter breaks to even). Those values, values with
//!   s ≥ 2⁵³ (no longer integers-exact) and non-finite values go to `format!`.
//!
//! The output is byte-identical to `format!` (tested on edge cases and by a
//! property test over random values and precisions).

use std::fmt::Write;

/// The largest number of decimals the fast path takes (10ᴺ must be exact and
/// leave room for the integer part below 2⁵³).
const MAX_FAST_DIGITS: usize = 9;

/// 2⁵³: below it every integer is a double, and `as u64` is exact.
const EXACT_INTEGERS: f64 = 9_007_199_254_740_992.0;

/// Appends `value` with `digits` decimals to `out`, exactly as
/// `write!(out, "{value:.digits$}")` would.
pub fn push_fixed(out: &mut String, value: f64, digits: usize) {
    if !fast(out, value, digits) {
        // Writing to a String cannot fail.
        let _ = write!(out, "{value:.digits$}");
    }
}

/// `value` with `digits` decimals, as `format!("{value:.digits$}")`.
pub fn fixed(value: f64, digits: usize) -> String {
    let mut out = String::with_capacity(24);
    push_fixed(&mut out, value, digits);
    out
}

/// The fast path; false when the value must go to the exact formatter.
fn fast(out: &mut String, value: f64, digits: usize) -> bool {
    if !value.is_finite() || digits > MAX_FAST_DIGITS {
        return false;
    }
    let scale = 10u64.pow(digits as u32);
    let s = value.abs() * scale as f64;
    if s >= EXACT_INTEGERS {
        return false;
    }
    let whole = s.floor();
    let fraction = s - whole; // exact: s and floor(s) share their exponent range
    // The exact product lies within half an ulp of s; an ulp of s is at most
    // s·2⁻⁵², so a margin of s·2⁻⁵⁰ (plus the smallest subnormal step for
    // s near 0) is safe.
    let margin = s * f64::EPSILON * 4.0 + f64::MIN_POSITIVE;
    if (fraction - 0.5).abs() <= margin {
        return false;
    }
    let rounded = whole as u64 + u64::from(fraction > 0.5);
    // Digits from the right: the decimals, the point, the integer part, the sign.
    let mut buffer = [0u8; 32];
    let mut at = buffer.len();
    let mut put = |byte: u8| {
        at -= 1;
        buffer[at] = byte;
    };
    let mut rest = rounded;
    for _ in 0..digits {
        put(b'0' + (rest % 10) as u8);
        rest /= 10;
    }
    if digits > 0 {
        put(b'.');
    }
    loop {
        put(b'0' + (rest % 10) as u8);
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    if value.is_sign_negative() {
        put(b'-');
    }
    match std::str::from_utf8(&buffer[at..]) {
        Ok(text) => {
            out.push_str(text);
            true
        }
        Err(_) => false, // unreachable: the buffer holds ASCII digits only
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn same(value: f64, digits: usize) {
        assert_eq!(
            fixed(value, digits),
            format!("{value:.digits$}"),
            "{value:e} with {digits} decimals"
        );
    }

    #[test]
    fn matches_format_on_edge_cases() {
        let values = [
            0.0,
            -0.0,
            0.5,
            1.5,
            2.5,
            -2.5,
            0.125,
            0.00005,
            0.00015,
            -0.00005,
            0.99995,
            9.99995,
            1.23456789,
            -1.23456789,
            123456.789,
            1e-300,
            -1e-300,
            5e-324,
            1e15,
            9.007199254740991e15,
            9.007199254740993e15,
            1e300,
            f64::MAX,
            f64::MIN_POSITIVE,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            0.1 + 0.2,
            1.0 / 3.0,
            2.0 / 3.0,
        ];
        for &v in &values {
            for digits in 0..=12 {
                same(v, digits);
            }
        }
    }

    #[test]
    fn matches_format_on_ties_at_every_precision() {
        // Exactly representable ties (k + 1/2)·2⁻ʲ and their neighbours.
        for k in 0..2000u32 {
            for j in 0..8 {
                let tie = (f64::from(k) + 0.5) / f64::from(1u32 << j);
                for v in [tie, f64::from_bits(tie.to_bits() + 1), -tie] {
                    for digits in 0..=6 {
                        same(v, digits);
                    }
                }
            }
        }
    }

    proptest! {
        #[test]
        fn matches_format_on_random_values(bits in any::<u64>(), digits in 0usize..12) {
            let v = f64::from_bits(bits);
            prop_assert_eq!(fixed(v, digits), format!("{v:.digits$}"));
        }

        #[test]
        fn matches_format_on_report_sized_values(v in -1e6f64..1e6, digits in 0usize..8) {
            prop_assert_eq!(fixed(v, digits), format!("{v:.digits$}"));
        }

        #[test]
        fn matches_format_on_decimal_ties(m in -100_000_000i64..100_000_000, digits in 1usize..8) {
            // m / 10^(digits+1) with last digit 5: decimal ties, never exact in binary.
            let v = (m * 10 + 5) as f64 / 10f64.powi(digits as i32 + 1);
            prop_assert_eq!(fixed(v, digits), format!("{v:.digits$}"));
        }
    }
}
