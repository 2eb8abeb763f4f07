//! Subgroups in a multilevel model: one model with the subgroup as a factor
//! and variance components common to all subgroups, as metafor's
//! `rma.mv(yi, V, mods = ~ factor(g) - 1, random = ~ 1 | A/B)`.
//!
//! Each level's estimate is its coefficient in that cell-means model. The
//! test of subgroup differences (Q_between) is the omnibus test of the
//! non-intercept coefficients of the same model with treatment contrasts,
//! `mods = ~ factor(g)`: QM on L − 1 df (χ² under z, F with k − L
//! denominator df under t), which equals metafor's
//! `anova(res, X = contrasts)` of the cell-means fit (both parametrisations
//! span the same columns, so σ² and the likelihood are the same).
//!
//! The subgroup moderator is always a factor: a number is a label (as
//! R's `factor()`), and levels are listed sorted as [`crate::subgroup`](mod@crate::subgroup)
//! sorts them (numbers numerically) unless an order is given.

use std::sync::Arc;

use serde::Serialize;

use super::{MultilevelError, MultilevelOptions, MultilevelResult, fit};
use crate::data::dataset::Dataset;
use crate::data::moderator;
use crate::estimate::Estimate;
use crate::input::Moderator;
use crate::regression::DesignSpec;

/// One subgroup. Field names are the JSON contract.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MultilevelGroup {
    /// The level.
    pub level: String,
    /// Number of effect sizes.
    pub k: usize,
    /// Its coefficient in the cell-means model.
    #[serde(flatten)]
    pub estimate: Estimate,
}

/// The subgroup analysis. Field names are the JSON contract: the
/// cell-means model's fields (its `coefficients` are named `g=level`),
/// then `by`, `groups` and the test of subgroup differences.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MultilevelSubgroups {
    /// The cell-means model (`mods = ~ factor(g) - 1`).
    #[serde(flatten)]
    pub model: MultilevelResult,
    /// The moderator whose levels are the subgroups.
    pub by: String,
    /// One row per level, in the order asked for (default: sorted).
    pub groups: Vec<MultilevelGroup>,
    /// Test of subgroup differences: QM of `mods = ~ factor(g)` (χ², or F under t).
    #[serde(rename = "Q_between")]
    pub q_between: f64,
    /// Its (numerator) degrees of freedom, L − 1.
    #[serde(rename = "Q_between_df")]
    pub q_between_df: usize,
    /// Its denominator degrees of freedom under t (k − L).
    #[serde(rename = "Q_between_df2", skip_serializing_if = "Option::is_none")]
    pub q_between_df2: Option<f64>,
    /// Its p-value.
    #[serde(rename = "Q_between_p")]
    pub q_between_p: f64,
}

/// `dataset` with the numbers of moderator `by` made labels (R's `factor()`).
pub(crate) fn as_factor(dataset: &Dataset, by: &str) -> Dataset {
    let mut data = dataset.clone();
    for study in &mut data.studies {
        if let Some(Moderator::Number(x)) = study.moderators.get(by) {
            let label = Moderator::Text(Arc::from(x.to_string()));
            study.moderators.insert(Arc::from(by), label);
        }
    }
    data
}

/// Fits the subgroup model of `by` (`options.design` is ignored); `order`
/// lists every level once to set their order.
pub fn fit_subgroups(
    dataset: &Dataset,
    options: &MultilevelOptions,
    by: &str,
    order: Option<&[String]>,
) -> Result<MultilevelSubgroups, MultilevelError> {
    // The levels as the subgroup analysis sorts them, before numbers become labels.
    let column = moderator::column(dataset, by).map_err(|e| MultilevelError::Subgroup {
        by: by.to_owned(),
        problem: e.to_string(),
    })?;
    let sorted: Vec<String> = moderator::groups(&column)
        .into_iter()
        .map(|(level, _)| level)
        .collect();
    let data = as_factor(dataset, by);
    let design = |intercept| DesignSpec {
        moderators: vec![by.to_owned()],
        references: Vec::new(),
        intercept,
    };
    let cells = fit(
        &data,
        &MultilevelOptions {
            design: Some(design(false)),
            ..options.clone()
        },
    )?;
    let coefficients = cells.coefficients.as_deref().unwrap_or_default();
    let prefix = format!("{by}=");
    let fitted: Vec<(String, Estimate)> = coefficients
        .iter()
        .map(|c| {
            (
                c.name.strip_prefix(&prefix).unwrap_or(&c.name).to_owned(),
                c.estimate,
            )
        })
        .collect();
    if fitted.len() < 2 {
        return Err(MultilevelError::Subgroup {
            by: by.to_owned(),
            problem: format!(
                "it has one level ({}) among the effect sizes used, so there are no subgroups to compare",
                fitted.first().map_or("none", |f| f.0.as_str())
            ),
        });
    }
    let present: Vec<(String, ())> = sorted
        .into_iter()
        .filter(|l| fitted.iter().any(|f| &f.0 == l))
        .map(|l| (l, ()))
        .collect();
    let levels =
        crate::subgroup::order_levels(present, by, order).map_err(MultilevelError::Levels)?;
    // Effect sizes per level: those with every grouping value and a value of `by`.
    let used = |study: &crate::data::dataset::Study| {
        options.random.iter().all(|n| {
            study
                .moderators
                .get(n)
                .is_some_and(|m| !matches!(m, Moderator::Missing))
        })
    };
    let groups = levels
        .iter()
        .filter_map(|(level, ())| {
            let estimate = fitted.iter().find(|f| &f.0 == level)?.1;
            let k = data
                .studies
                .iter()
                .filter(|s| used(s))
                .filter(|s| {
                    s.moderators
                        .get(by)
                        .and_then(Moderator::category)
                        .is_some_and(|l| &l == level)
                })
                .count();
            Some(MultilevelGroup {
                level: level.clone(),
                k,
                estimate,
            })
        })
        .collect();
    let contrasts = fit(
        &data,
        &MultilevelOptions {
            design: Some(design(true)),
            profile: false,
            level_tests: false,
            ..options.clone()
        },
    )?;
    let (Some(q), Some(df), Some(p)) = (contrasts.qm, contrasts.qm_df, contrasts.qm_p) else {
        return Err(MultilevelError::Singular);
    };
    Ok(MultilevelSubgroups {
        model: cells,
        by: by.to_owned(),
        groups,
        q_between: q,
        q_between_df: df,
        q_between_df2: contrasts.qm_df2,
        q_between_p: p,
    })
}
