//! Trim-and-fill (Duval & Tweedie 2000, Biometrics 56: 455–463; JASA 95:
//! 89–98), as metafor's `trimfill.rma.uni` with its defaults: the L0
//! estimator of the number of missing studies, at most 100 iterations, and
//! the side of the funnel where studies are missing taken from the sign of
//! the SE coefficient in Egger's regression (negative: missing on the right).
//!
//! With the outcomes flipped so that studies are missing on the left and
//! sorted in ascending order, each iteration fits the model to the k − k₀
//! smallest outcomes, ranks |yᵢ − μ̂| over all k studies, and sets
//!
//!   L₀ = (4 Sᵣ − k(k + 1)) / (2k − 1),  k₀ = max(0, round(L₀)),
//!
//! with Sᵣ the sum of the ranks of the studies above μ̂ (ties ranked in order
//! of appearance, R's `round` halving to even). When k₀ no longer changes,
//! the k₀ most extreme studies are mirrored about μ̂ (ỹ = 2μ̂ − y, same vᵢ)
//! and the model is refitted to the k + k₀ studies.
//!
//! Deliberate difference: metafor refits the filled data with `rma()`'s
//! default test and level (z, 95%) whatever the model's; tau keeps the
//! model's test and level, as it does when k₀ = 0. At the defaults they agree.

use std::cmp::Ordering;

use serde::Serialize;

use super::BiasError;
use super::egger::se_design;
use crate::model::{FitOptions, fit, intercept_design};
use crate::sensitivity::fit_allowing_one;

/// metafor's `maxiter`.
pub const MAX_ITER: usize = 100;

/// The side of the funnel plot where studies are thought to be missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    /// Missing studies have smaller outcomes than the pooled estimate.
    Left,
    /// Missing studies have larger outcomes.
    Right,
}

impl Side {
    /// "left" or "right".
    pub fn name(self) -> &'static str {
        match self {
            Side::Left => "left",
            Side::Right => "right",
        }
    }
}

/// A study imputed by trim-and-fill.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct FilledStudy {
    /// Mirrored outcome 2μ̂ − yᵢ.
    pub yi: f64,
    /// The mirrored study's sampling variance.
    pub vi: f64,
}

/// The trim-and-fill result. Field names are the JSON contract.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrimFill {
    /// Estimated number of missing studies.
    pub k0: usize,
    /// Standard error of L₀ (metafor's `se.k0`).
    pub k0_se: f64,
    /// Side where studies were filled.
    pub side: Side,
    /// Pooled estimate with the filled studies.
    pub estimate: f64,
    /// Its standard error.
    pub se: f64,
    /// Lower confidence limit.
    pub ci_lower: f64,
    /// Upper confidence limit.
    pub ci_upper: f64,
    /// τ² with the filled studies.
    pub tau2: f64,
    /// Iterations of the trimming loop.
    pub iterations: usize,
    /// The imputed studies, on the analysis scale (for funnel plots).
    pub filled: Vec<FilledStudy>,
}

/// The side of missing studies from Egger's regression (metafor's rule).
pub fn estimate_side(yi: &[f64], vi: &[f64], options: &FitOptions) -> Result<Side, BiasError> {
    let m = fit(yi, vi, &se_design(vi), options)
        .map_err(|e| BiasError::fit("trim-and-fill (choosing the side)", e))?;
    Ok(if m.beta[1] < 0.0 {
        Side::Right
    } else {
        Side::Left
    })
}

/// Trim-and-fill with the L0 estimator; `side: None` estimates it as metafor does.
pub fn trim_and_fill(
    yi: &[f64],
    vi: &[f64],
    options: &FitOptions,
    side: Option<Side>,
) -> Result<TrimFill, BiasError> {
    let k = yi.len();
    let fit_error = |e| BiasError::fit("trim-and-fill", e);
    if k < 3 {
        return Err(BiasError::TooFewStudies {
            method: "trim-and-fill",
            needed: 3,
            k,
        });
    }
    let side = match side {
        Some(side) => side,
        None => estimate_side(yi, vi, options)?,
    };
    let flip = if side == Side::Right { -1.0 } else { 1.0 };
    let mut order: Vec<usize> = (0..k).collect();
    order.sort_by(|&a, &b| {
        (flip * yi[a])
            .partial_cmp(&(flip * yi[b]))
            .unwrap_or(Ordering::Equal)
    });
    let ys: Vec<f64> = order.iter().map(|&i| flip * yi[i]).collect();
    let vs: Vec<f64> = order.iter().map(|&i| vi[i]).collect();

    let kf = k as f64;
    let (mut k0, mut k0_saved, mut k0_se, mut beta) = (0usize, None, 0.0, 0.0);
    let mut iterations = 0;
    while k0_saved != Some(k0) {
        k0_saved = Some(k0);
        iterations += 1;
        if iterations > MAX_ITER {
            return Err(BiasError::TrimFillNotConverged(MAX_ITER));
        }
        let kept = k - k0;
        beta = fit_allowing_one(&ys[..kept], &vs[..kept], &intercept_design(kept), options)
            .map_err(fit_error)?
            .beta[0];
        let centred: Vec<f64> = ys.iter().map(|y| y - beta).collect();
        let sr = positive_rank_sum(&centred);
        let l0 = (4.0 * sr - kf * (kf + 1.0)) / (2.0 * kf - 1.0);
        let var_sr =
            (kf * (kf + 1.0) * (2.0 * kf + 1.0) + 10.0 * l0.powi(3) + 27.0 * l0 * l0 + 17.0 * l0
                - 18.0 * kf * l0 * l0
                - 18.0 * kf * l0
                + 6.0 * kf * kf * l0)
                / 24.0;
        k0_se = (4.0 * var_sr.sqrt() / (2.0 * kf - 1.0)).max(0.0);
        // L₀ ≤ k(k + 1)/(2k − 1), so at least one study is always kept.
        k0 = l0.round_ties_even().max(0.0) as usize;
    }

    let filled: Vec<FilledStudy> = (k - k0..k)
        .map(|i| {
            // metafor's arithmetic, so the mirrored values agree to the bit.
            let c = (ys[i] - beta) - beta;
            FilledStudy {
                yi: if side == Side::Right { c } else { -c },
                vi: vs[i],
            }
        })
        .collect();
    let mut y_all = yi.to_vec();
    let mut v_all = vi.to_vec();
    y_all.extend(filled.iter().map(|f| f.yi));
    v_all.extend(filled.iter().map(|f| f.vi));
    let m = fit(&y_all, &v_all, &intercept_design(y_all.len()), options).map_err(fit_error)?;
    Ok(TrimFill {
        k0,
        k0_se,
        side,
        estimate: m.beta[0],
        se: m.se[0],
        ci_lower: m.ci_lower[0],
        ci_upper: m.ci_upper[0],
        tau2: m.tau2,
        iterations,
        filled,
    })
}

/// Sᵣ: the sum of the ranks of |cᵢ| (ties in order of appearance) over the cᵢ > 0.
fn positive_rank_sum(centred: &[f64]) -> f64 {
    let mut by_size: Vec<usize> = (0..centred.len()).collect();
    by_size.sort_by(|&a, &b| centred[a].abs().total_cmp(&centred[b].abs()));
    by_size
        .iter()
        .enumerate()
        .filter(|&(_, &i)| centred[i] > 0.0)
        .map(|(rank, _)| (rank + 1) as f64)
        .sum()
}
