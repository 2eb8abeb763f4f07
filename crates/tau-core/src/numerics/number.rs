//! Numbers as messages and labels quote them: short enough to read.
//!
//! Rust's `Display` writes the shortest text that reads back as the same
//! number, but never in e-notation: `1e300` becomes 301 digits and `1e-300`
//! 300 decimals. [`readable`] keeps `Display` between 1e-5 and 1e15 (where it
//! is short) and switches to e-notation outside, as R's `format` does for
//! such numbers (`1e+300`).

/// `x` as the shortest text that reads back as the same number: plain
/// decimals for 1e-5 <= |x| < 1e15 (and 0), e-notation beyond (`1e300`,
/// `2.5e-300`).
pub fn readable(x: f64) -> String {
    let magnitude = x.abs();
    if x == 0.0 || !x.is_finite() || (1e-5..1e15).contains(&magnitude) {
        x.to_string()
    } else {
        format!("{x:e}")
    }
}

#[cfg(test)]
mod tests {
    use super::readable;

    #[test]
    fn plain_in_range_and_e_notation_beyond() {
        assert_eq!(readable(0.025), "0.025");
        assert_eq!(readable(0.0), "0");
        assert_eq!(readable(-3.5), "-3.5");
        assert_eq!(readable(123456789012345.0), "123456789012345");
        assert_eq!(readable(1e15), "1e15");
        assert_eq!(readable(1e300), "1e300");
        assert_eq!(readable(1e-300), "1e-300");
        assert_eq!(readable(-2.5e-7), "-2.5e-7");
        assert_eq!(readable(f64::INFINITY), "inf");
        for x in [1e300, 1.234_567_890_123_4e-300, 0.1, 7e22] {
            assert_eq!(readable(x).parse::<f64>(), Ok(x), "round trip of {x}");
        }
    }
}
