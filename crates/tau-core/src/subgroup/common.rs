//! Subgroups with a common τ²: one mixed-effects model with the moderator as
//! a factor (see the parent module for the formulas).

use crate::warning::{Warning, model_warnings};
use nalgebra::DMatrix;

use super::{Between, GroupResult, Levels, Outcome, SubgroupError, SubgroupOptions};
use crate::data::dataset::Dataset;
use crate::model::{FitError, Method, fit};
use crate::numerics::distribution::chisq_sf;

/// The most levels `--tau2 common` accepts: its model has a column per level,
/// and fitting costs O(k·L²).
pub const MAX_COMMON_LEVELS: usize = 200;

pub(super) fn fit_common(
    dataset: &Dataset,
    options: &SubgroupOptions,
    levels: &Levels,
) -> Result<Outcome, SubgroupError> {
    if !(2..=MAX_COMMON_LEVELS).contains(&levels.len()) {
        return Err(SubgroupError::CommonLevels {
            by: options.by.clone(),
            levels: levels.len(),
            max: MAX_COMMON_LEVELS,
        });
    }
    let wrap = |source: FitError| SubgroupError::Common {
        by: options.by.clone(),
        source,
    };
    let mut rows: Vec<(usize, usize)> = levels
        .iter()
        .enumerate()
        .flat_map(|(l, (_, studies))| studies.iter().map(move |&i| (i, l)))
        .collect();
    rows.sort_unstable();
    let yi: Vec<f64> = rows.iter().map(|&(i, _)| dataset.studies[i].yi).collect();
    let vi: Vec<f64> = rows.iter().map(|&(i, _)| dataset.studies[i].vi).collect();
    let count = levels.len();
    // Cell means: a 0/1 column per level (`~ factor(g) - 1`).
    let cells = DMatrix::from_fn(rows.len(), count, |r, l| {
        f64::from(u8::from(rows[r].1 == l))
    });
    // Treatment contrasts: the intercept and a dummy per level but the first (`~ factor(g)`).
    let contrasts = DMatrix::from_fn(rows.len(), count, |r, l| {
        f64::from(u8::from(l == 0 || rows[r].1 == l))
    });
    let by_cell = fit(&yi, &vi, &cells, &options.fit).map_err(wrap)?;
    let by_contrast = fit(&yi, &vi, &contrasts, &options.fit).map_err(wrap)?;
    let tested: Vec<usize> = (1..count).collect();
    let qm = by_contrast
        .omnibus(&tested)
        .map_err(|e| wrap(FitError::from(e)))?;
    let tau2 = by_cell.tau2;
    let groups = levels
        .iter()
        .enumerate()
        .map(|(l, (level, studies))| {
            let yl: Vec<f64> = studies.iter().map(|&i| dataset.studies[i].yi).collect();
            let vl: Vec<f64> = studies.iter().map(|&i| dataset.studies[i].vi).collect();
            let within = Within::of(&yl, &vl);
            let single = studies.len() == 1;
            GroupResult {
                level: level.clone(),
                k: studies.len(),
                estimate: by_cell.estimate(l),
                tau2: (!single).then_some(tau2),
                q: within.q,
                q_df: studies.len() - 1,
                q_p: within.q_p,
                i2: (!single).then(|| within.i2(options.fit.method, tau2)),
                studies: studies.clone(),
                labels: Vec::new(),
            }
        })
        .collect();
    let mut warnings = Vec::new();
    let single: Vec<String> = levels
        .iter()
        .filter(|(_, s)| s.len() == 1)
        .map(|(l, _)| l.clone())
        .collect();
    if !single.is_empty() {
        warnings.push(Warning::SingleStudyGroups {
            levels: single,
            common_tau2: true,
            knha: options.fit.test.is_knapp_hartung(),
        });
    }
    warnings.extend(model_warnings(&by_cell));
    Ok(Outcome {
        groups,
        between: Some(Between {
            statistic: qm.statistic,
            df2: qm.df2,
            p: qm.p,
        }),
        tau2_common: Some(tau2),
        warnings,
    })
}

/// A level's own heterogeneity under the common-effect model.
struct Within {
    /// Cochran's Q = Σ wᵢ (yᵢ − ȳ_w)², wᵢ = 1/vᵢ.
    q: f64,
    /// Its p-value on k − 1 df (1 for a single study, as metafor).
    q_p: f64,
    /// Typical sampling variance s̃² = (k − 1)/tr(P), tr(P) = Σw − Σw²/Σw.
    typical_variance: f64,
    /// k − 1.
    df: f64,
}

impl Within {
    fn of(yi: &[f64], vi: &[f64]) -> Within {
        let w: Vec<f64> = vi.iter().map(|v| 1.0 / v).collect();
        let sum_w: f64 = w.iter().sum();
        let mean = yi.iter().zip(&w).map(|(y, w)| w * y).sum::<f64>() / sum_w;
        let q: f64 = yi.iter().zip(&w).map(|(y, w)| w * (y - mean).powi(2)).sum();
        let df = (yi.len() - 1) as f64;
        let trace_p = sum_w - w.iter().map(|w| w * w).sum::<f64>() / sum_w;
        Within {
            q,
            q_p: if df > 0.0 { chisq_sf(q, df) } else { 1.0 },
            typical_variance: df / trace_p,
            df,
        }
    }

    /// I² with the common τ²: 100 τ²/(τ² + s̃²); for the common-effect model
    /// metafor's 100 (Q − df)/Q, floored at 0.
    fn i2(&self, method: Method, tau2: f64) -> f64 {
        match method {
            Method::EE if self.q > 0.0 => (100.0 * (self.q - self.df) / self.q).max(0.0),
            Method::EE => 0.0,
            _ => 100.0 * tau2 / (self.typical_variance + tau2),
        }
    }
}
