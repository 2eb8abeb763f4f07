//! The plotted range of a forest plot.

use super::super::PlotError;
use super::super::scale::{Axis, Scale};
use super::rows::{Mark, Row};

/// The axis: every estimate, every CI (studies and pooled), the prediction
/// interval and the null, extended to the next tick beyond them, so that no
/// CI is cut; only a range given with `--xlim` cuts CIs (drawn with arrows).
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
    let all = core
        .iter()
        .copied()
        .chain(study_cis.iter().flat_map(|&(l, u)| [l, u]))
        .filter(finite);
    let (lo, hi) = all.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    Ok(Axis::covering(scale, lo, hi))
}
