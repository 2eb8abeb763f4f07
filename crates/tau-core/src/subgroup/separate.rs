//! Subgroups with a separate τ² each (see the parent module for the formulas).

use crate::Warning;
use crate::par::*;

use super::{Between, GroupResult, Levels, Outcome, SubgroupError, SubgroupOptions};
use crate::data::dataset::Dataset;
use crate::estimate::Estimate;
use crate::model::{FitOptions, fit, intercept_design};
use crate::numerics::distribution::{chisq_sf, normal_upper};

pub(super) fn fit_separate(
    dataset: &Dataset,
    options: &SubgroupOptions,
    levels: &Levels,
) -> Result<Outcome, SubgroupError> {
    let fitted: Vec<Result<(GroupResult, bool, bool), SubgroupError>> = levels
        .par_iter()
        .map(|(level, rows)| pool_level(dataset, options, level, rows))
        .collect();
    let mut groups = Vec::with_capacity(levels.len());
    let mut reset = Vec::new();
    let mut shrunk = Vec::new();
    for result in fitted {
        let (group, reset_to_zero, knha_shrank) = result?;
        if reset_to_zero {
            reset.push(group.level.clone());
        }
        if knha_shrank {
            shrunk.push(group.level.clone());
        }
        groups.push(group);
    }
    let mut warnings = Vec::new();
    let single: Vec<String> = groups
        .iter()
        .filter(|g| g.k == 1)
        .map(|g| g.level.clone())
        .collect();
    if !single.is_empty() {
        warnings.push(Warning::SingleStudyGroups {
            levels: single,
            common_tau2: false,
            knha: options.fit.test.is_knapp_hartung(),
        });
    }
    if !shrunk.is_empty() {
        warnings.push(Warning::KnhaShrinks { levels: shrunk });
    }
    if !reset.is_empty() {
        warnings.push(Warning::ResetToZero {
            method: options.fit.method,
            levels: reset,
        });
    }
    Ok(Outcome {
        between: q_between(&groups),
        groups,
        tau2_common: None,
        warnings,
    })
}

/// Pools one level; the flags say whether ML/REML reset τ² to 0 and whether
/// Knapp-Hartung (`knha`, not `adhoc`) made the SE smaller than z's.
fn pool_level(
    dataset: &Dataset,
    options: &SubgroupOptions,
    level: &str,
    rows: &[usize],
) -> Result<(GroupResult, bool, bool), SubgroupError> {
    let yi: Vec<f64> = rows.iter().map(|&i| dataset.studies[i].yi).collect();
    let vi: Vec<f64> = rows.iter().map(|&i| dataset.studies[i].vi).collect();
    if rows.len() == 1 {
        return Ok((
            single_study(level, rows[0], yi[0], vi[0], &options.fit),
            false,
            false,
        ));
    }
    let model = fit(&yi, &vi, &intercept_design(yi.len()), &options.fit).map_err(|source| {
        SubgroupError::Level {
            by: options.by.clone(),
            level: level.to_owned(),
            k: rows.len(),
            source,
        }
    })?;
    let group = GroupResult {
        level: level.to_owned(),
        k: model.k,
        estimate: model.estimate(0),
        tau2: Some(model.tau2),
        q: model.q,
        q_df: model.q_df,
        q_p: model.q_p,
        i2: Some(model.i2),
        studies: rows.to_vec(),
        labels: Vec::new(),
    };
    let shrank = options.fit.test == crate::model::Test::Knha && model.s2w < 1.0;
    Ok((group, model.convergence.reset_to_zero, shrank))
}

/// A level with one study: its own estimate with a normal-theory CI (metafor `rma` with k = 1).
fn single_study(level: &str, row: usize, yi: f64, vi: f64, options: &FitOptions) -> GroupResult {
    let se = vi.sqrt();
    let crit = normal_upper(options.alpha() / 2.0);
    GroupResult {
        level: level.to_owned(),
        k: 1,
        estimate: Estimate::wald(yi, se, crit, None),
        tau2: None,
        q: 0.0,
        q_df: 0,
        q_p: 1.0,
        i2: None,
        studies: vec![row],
        labels: Vec::new(),
    }
}

/// Q_between = Σ wₗ (θ̂ₗ − θ̄)², wₗ = 1/SEₗ², on L − 1 df; `None` below two levels.
fn q_between(groups: &[GroupResult]) -> Option<Between> {
    if groups.len() < 2 {
        return None;
    }
    let weights: Vec<f64> = groups
        .iter()
        .map(|g| 1.0 / (g.estimate.se * g.estimate.se))
        .collect();
    let total: f64 = weights.iter().sum();
    let mean = groups
        .iter()
        .zip(&weights)
        .map(|(g, w)| w * g.estimate.value)
        .sum::<f64>()
        / total;
    let statistic: f64 = groups
        .iter()
        .zip(&weights)
        .map(|(g, w)| w * (g.estimate.value - mean).powi(2))
        .sum();
    Some(Between {
        statistic,
        df2: None,
        p: chisq_sf(statistic, (groups.len() - 1) as f64),
    })
}
