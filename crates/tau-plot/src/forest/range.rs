//! The plotted range of a forest plot.

use super::super::PlotError;
use super::super::scale::{Axis, Scale};
use super::rows::{Mark, Row};

/// The axis: every estimate, pooled CI and prediction interval, the null,
/// and the study CIs, except that a CI reaching more than one median CI
/// width beyond the estimates is clipped (and drawn with an arrow).
pub(super) fn axis_for(
    rows: &[Row],
    scale: Scale,
    null: Option<f64>,
    xlim: Option<(f64, f64)>,
) -> Result<Axis, PlotError> {
    if let Some((lo, hi)) = xlim {
        let (a, b) = (scale.from_display(lo), scale.from_display(hi));
        if !(a.is_finite() && b.is_finite() && a < b) {
            return Err(PlotError::BadOption(format!(
                "--xlim {lo},{hi} is not a range on this measure's scale: give two increasing values{}",
                if scale == Scale::Linear {
                    ""
                } else {
                    " inside the scale's range (e.g. ratios above 0)"
                }
            )));
        }
        return Ok(Axis::covering(scale, a, b));
    }
    let mut core: Vec<f64> = null.into_iter().collect();
    let mut study_cis = Vec::new();
    for row in rows {
        match row.mark {
            Mark::Square {
                estimate,
                lower,
                upper,
                ..
            } => {
                core.push(estimate);
                study_cis.push((lower, upper));
            }
            Mark::Diamond { lower, upper, .. } | Mark::Interval { lower, upper } => {
                core.extend([lower, upper]);
            }
            Mark::None => {}
        }
    }
    let finite = |v: &f64| v.is_finite();
    let lo = core
        .iter()
        .copied()
        .filter(finite)
        .fold(f64::INFINITY, f64::min);
    let hi = core
        .iter()
        .copied()
        .filter(finite)
        .fold(f64::NEG_INFINITY, f64::max);
    let mut widths: Vec<f64> = study_cis
        .iter()
        .map(|(l, u)| u - l)
        .filter(finite)
        .collect();
    widths.sort_by(f64::total_cmp);
    let reach = widths.get(widths.len() / 2).copied().unwrap_or(0.0);
    let lowest = study_cis
        .iter()
        .map(|c| c.0)
        .filter(finite)
        .fold(lo, f64::min);
    let highest = study_cis
        .iter()
        .map(|c| c.1)
        .filter(finite)
        .fold(hi, f64::max);
    Ok(Axis::covering(
        scale,
        lowest.max(lo - reach),
        highest.min(hi + reach),
    ))
}
