//! Axes: the scale a measure is shown on, "nice" tick marks and number labels.
//!
//! Values are always stored on the analysis scale (log RR, Fisher's z, ...).
//! A [`Scale`] maps them to the scale readers know (RR, r, proportion), where
//! ticks are chosen, so a ratio axis is logarithmic with ticks such as
//! 0.2, 0.5, 1, 2 (as metafor's `forest(..., atransf = exp)`).

pub use tau_core::effect_size::scale::Scale;

/// A tick mark: where it goes (analysis scale) and what it says.
#[derive(Debug, Clone, PartialEq)]
pub struct Tick {
    /// Position on the analysis scale.
    pub at: f64,
    /// Label on the display scale.
    pub label: String,
}

/// An axis: its extent on the analysis scale and its ticks.
#[derive(Debug, Clone, PartialEq)]
pub struct Axis {
    /// The display scale.
    pub scale: Scale,
    /// Left end (analysis scale).
    pub lo: f64,
    /// Right end (analysis scale).
    pub hi: f64,
    /// Tick marks, left to right, all within [lo, hi].
    pub ticks: Vec<Tick>,
}

impl Axis {
    /// An axis covering at least [`lo`, `hi`] (analysis scale), widened to
    /// the nearest ticks outside that range where the display scale allows.
    pub fn covering(scale: Scale, lo: f64, hi: f64) -> Axis {
        let (lo, hi) = if hi - lo > 1e-12 {
            (lo, hi)
        } else {
            let pad = 0.5 * lo.abs().max(0.1);
            (lo - pad, hi + pad)
        };
        let (a, b) = (scale.to_display(lo), scale.to_display(hi));
        let display = match scale {
            Scale::Linear => linear_ticks(a, b, 5),
            Scale::Log => log_ticks(a, b),
            Scale::Tanh => bounded_ticks(scale, lo, hi, &TANH_TICKS),
            Scale::Logistic => bounded_ticks(scale, lo, hi, &LOGISTIC_TICKS),
            Scale::ArcsineSquareRoot | Scale::FreemanTukey { .. } => {
                bounded_ticks(scale, lo, hi, &PROPORTION_TICKS)
            }
        };
        let ticks: Vec<Tick> = display
            .into_iter()
            .map(|v| (scale.from_display(v), v))
            .filter(|(at, _)| at.is_finite())
            .map(|(at, v)| Tick {
                at,
                label: tick_label(v),
            })
            .collect();
        let first = ticks.first().map_or(lo, |t| t.at);
        let last = ticks.last().map_or(hi, |t| t.at);
        Axis {
            scale,
            lo: lo.min(first),
            hi: hi.max(last),
            ticks,
        }
    }

    /// An axis over exactly [`lo`, `hi`], with the ticks that fall inside.
    pub fn within(scale: Scale, lo: f64, hi: f64) -> Axis {
        let mut axis = Axis::covering(scale, lo, hi);
        let tolerance = 1e-9 * (hi - lo).abs().max(1e-12);
        axis.ticks
            .retain(|t| t.at >= lo - tolerance && t.at <= hi + tolerance);
        Axis { lo, hi, ..axis }
    }

    /// Where `x` lies along the axis, 0 at the left end and 1 at the right.
    pub fn fraction(&self, x: f64) -> f64 {
        (x - self.lo) / (self.hi - self.lo)
    }
}

/// A step of 1, 2, 2.5 or 5 × 10^k giving about `target` intervals over `span`.
fn nice_step(span: f64, target: usize) -> f64 {
    let raw = span / target as f64;
    let magnitude = 10f64.powf(raw.log10().floor());
    let nice = match raw / magnitude {
        n if n <= 1.0 => 1.0,
        n if n <= 2.0 => 2.0,
        n if n <= 2.5 => 2.5,
        n if n <= 5.0 => 5.0,
        _ => 10.0,
    };
    nice * magnitude
}

/// Evenly spaced ticks from the last multiple of the step at or below `a`
/// to the first at or above `b`.
fn linear_ticks(a: f64, b: f64, target: usize) -> Vec<f64> {
    let step = nice_step(b - a, target);
    let first = (a / step + 1e-9).floor() as i64;
    let last = (b / step - 1e-9).ceil() as i64;
    (first..=last).map(|i| i as f64 * step).collect()
}

/// Ticks for a log axis over the display range [a, b] (both > 0): evenly
/// spaced where the range is narrow (0.8, 0.9, 1, 1.1), then 1–2–5 per
/// decade, then powers of 10.
fn log_ticks(a: f64, b: f64) -> Vec<f64> {
    let ratio = b / a;
    if ratio < 3.0 {
        let ticks = linear_ticks(a, b, 4);
        if ticks.first().is_some_and(|&t| t > 0.0) {
            return ticks;
        }
    }
    let (low, high) = (a.log10().floor() as i32, b.log10().ceil() as i32);
    let multipliers: &[f64] = if ratio <= 300.0 {
        &[1.0, 2.0, 5.0]
    } else {
        &[1.0]
    };
    let decade_step = ((high - low) as f64 / 7.0).ceil().max(1.0) as i32;
    let mut candidates = Vec::new();
    let mut exponent = low;
    while exponent <= high {
        for m in multipliers {
            candidates.push(m * 10f64.powi(exponent));
        }
        exponent += decade_step;
    }
    let first = candidates
        .iter()
        .rposition(|&t| t <= a * (1.0 + 1e-9))
        .unwrap_or(0);
    let last = candidates
        .iter()
        .position(|&t| t >= b * (1.0 - 1e-9))
        .unwrap_or(candidates.len() - 1);
    candidates[first..=last].to_vec()
}

/// Candidate ticks for correlations, most wanted first: even steps, then
/// closer towards ±1, where Fisher's z stretches the scale.
const TANH_TICKS: [f64; 19] = [
    0.0, -0.2, 0.2, -0.4, 0.4, -0.6, 0.6, -0.8, 0.8, -0.9, 0.9, -0.95, 0.95, -0.99, 0.99, -0.995,
    0.995, -0.999, 0.999,
];

/// Candidate ticks for proportions on the logit scale, most wanted first.
const LOGISTIC_TICKS: [f64; 19] = [
    0.5, 0.1, 0.9, 0.2, 0.8, 0.3, 0.7, 0.05, 0.95, 0.01, 0.99, 0.02, 0.98, 0.005, 0.995, 0.001,
    0.999, 0.4, 0.6,
];

/// Candidate ticks for proportions on the arcsine square root scale, most
/// wanted first.
const PROPORTION_TICKS: [f64; 13] = [
    0.0, 1.0, 0.5, 0.1, 0.9, 0.2, 0.8, 0.3, 0.7, 0.4, 0.6, 0.05, 0.95,
];

/// Ticks for a bounded display scale: candidates inside the range, taken in
/// order of preference while at least 1/12 of the axis from those taken.
fn bounded_ticks(scale: Scale, lo: f64, hi: f64, candidates: &[f64]) -> Vec<f64> {
    let spacing = (hi - lo) / 12.0;
    let mut taken: Vec<(f64, f64)> = Vec::new();
    for &v in candidates {
        let at = scale.from_display(v);
        if at >= lo && at <= hi && taken.iter().all(|(a, _)| (at - a).abs() >= spacing) {
            taken.push((at, v));
        }
    }
    taken.sort_by(|a, b| a.0.total_cmp(&b.0));
    taken.into_iter().map(|(_, v)| v).collect()
}

/// A tick value in its shortest form: "0.5", "2", "−1.5".
pub fn tick_label(v: f64) -> String {
    let text = format!("{v:.6}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    let text = if text == "-0" { "0" } else { text };
    text.replace('-', "\u{2212}")
}

/// A number with `digits` decimals and a typographic minus sign; "NA" for NaN.
pub fn fixed(v: f64, digits: usize) -> String {
    if v.is_nan() {
        return "NA".into();
    }
    if v.is_infinite() {
        return if v > 0.0 {
            "∞".into()
        } else {
            "\u{2212}∞".into()
        };
    }
    let text = format!("{v:.digits$}");
    let negative_zero = text.starts_with('-') && text[1..].chars().all(|c| c == '0' || c == '.');
    if negative_zero {
        text[1..].to_owned()
    } else {
        text.replace('-', "\u{2212}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(axis: &Axis) -> Vec<&str> {
        axis.ticks.iter().map(|t| t.label.as_str()).collect()
    }

    #[test]
    fn linear_axes_end_on_round_numbers() {
        let axis = Axis::covering(Scale::Linear, -1.63, 0.45);
        assert_eq!(labels(&axis), ["−2", "−1.5", "−1", "−0.5", "0", "0.5"]);
        assert_eq!((axis.lo, axis.hi), (-2.0, 0.5));
    }

    #[test]
    fn ratio_axes_are_logarithmic() {
        let axis = Axis::covering(Scale::Log, (0.05f64).ln(), (1.8f64).ln());
        assert_eq!(labels(&axis), ["0.05", "0.1", "0.2", "0.5", "1", "2"]);
        let narrow = Axis::covering(Scale::Log, (0.8f64).ln(), (1.3f64).ln());
        assert_eq!(labels(&narrow), ["0.8", "1", "1.2", "1.4"]);
        let wide = Axis::covering(Scale::Log, (0.001f64).ln(), (50.0f64).ln());
        assert_eq!(labels(&wide), ["0.001", "0.01", "0.1", "1", "10", "100"]);
        for axis in [axis, narrow, wide] {
            assert!(
                axis.ticks
                    .iter()
                    .all(|t| t.at >= axis.lo - 1e-12 && t.at <= axis.hi + 1e-12)
            );
        }
    }

    #[test]
    fn axes_starting_at_a_tick_do_not_grow() {
        let axis = Axis::covering(Scale::Linear, 0.0, 0.73);
        assert_eq!(labels(&axis), ["0", "0.2", "0.4", "0.6", "0.8"]);
        let inside = Axis::within(Scale::Linear, -0.13, 0.73);
        assert_eq!(labels(&inside), ["0", "0.2", "0.4", "0.6"]);
        assert_eq!((inside.lo, inside.hi), (-0.13, 0.73));
    }

    #[test]
    fn bounded_scales_keep_ticks_inside_their_range() {
        let axis = Axis::covering(Scale::Tanh, -0.3, 2.5);
        assert_eq!(labels(&axis), ["0", "0.4", "0.6", "0.8", "0.9", "0.95"]);
        assert_eq!((axis.lo, axis.hi), (-0.3, 2.5));
        let axis = Axis::covering(Scale::Logistic, -3.0, 0.5);
        assert_eq!(
            labels(&axis),
            ["0.05", "0.1", "0.2", "0.3", "0.4", "0.5", "0.6"]
        );
        let axis = Axis::covering(Scale::ArcsineSquareRoot, -0.2, 1.0);
        assert_eq!(
            labels(&axis),
            ["0", "0.1", "0.2", "0.3", "0.4", "0.5", "0.6", "0.7"]
        );
        assert_eq!((axis.lo, axis.hi), (-0.2, 1.0));
    }

    #[test]
    fn numbers_use_a_real_minus_sign() {
        assert_eq!(fixed(-0.4312, 2), "−0.43");
        assert_eq!(fixed(-0.001, 2), "0.00");
        assert_eq!(fixed(1.005, 1), "1.0");
        assert_eq!(tick_label(0.30000000000000004), "0.3");
    }
}
