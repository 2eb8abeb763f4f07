//! Subgroup analysis: one pooled result per level of a moderator, and the
//! test for subgroup differences (Borenstein et al. 2009, ch. 19).
//!
//! * **Separate τ²** (the default; meta's `tau.common = FALSE`): each level is
//!   pooled on its own, as metafor `rma(yi, vi, subset = g == level)`. A level
//!   with one study reports that study's estimate, SE and normal-theory CI
//!   (metafor does the same for k = 1, with z even under Knapp-Hartung); its
//!   τ² and I² cannot be estimated and are left empty. The test of
//!   differences is the fixed-effect Q across the level estimates,
//!   Q_between = Σ wₗ (θ̂ₗ − θ̄)² with wₗ = 1/SEₗ² and df = L − 1
//!   (metafor `rma(est, sei = se, method = "EE")$QE`).
//! * **Common τ²** ([`Tau2Mode::Common`]): one mixed-effects model with the
//!   moderator as a factor. The level estimates are the coefficients of
//!   `rma(yi, vi, mods = ~ factor(g) - 1)`, every level shares its τ², and
//!   Q_between is the omnibus QM of `rma(yi, vi, mods = ~ factor(g))`:
//!   χ²(L − 1) under z, an F(L − 1, k − L) statistic under Knapp-Hartung.
//!   Each level's Q is its own Cochran's Q, its I² is
//!   100 τ̂²/(τ̂² + s̃²ₗ) with the level's typical variance s̃²ₗ (as
//!   `rma(yi, vi, subset = ..., tau2 = τ̂²)`).
//!
//! Levels are sorted (numbers numerically, text by code point) and fitted in
//! parallel; the results do not depend on the number of threads. No Q-profile
//! CIs are computed, so that thousands of levels stay fast.

mod common;

use rayon::prelude::*;
use serde::Serialize;

use crate::dataset::Dataset;
use crate::measure::Measure;
use crate::model::distribution::{chisq_sf, normal_two_sided_p, normal_upper};
use crate::model::{FitError, FitOptions, Method, Test, fit, intercept_design};
use crate::moderator::{self, ModeratorError, list_labels};
use crate::pool::VERSION;

/// How τ² is estimated across subgroups.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Tau2Mode {
    /// A τ² per subgroup.
    Separate,
    /// One τ² shared by all subgroups (a mixed-effects model).
    Common,
}

/// Everything that decides a subgroup analysis.
#[derive(Debug, Clone, PartialEq)]
pub struct SubgroupOptions {
    /// Estimator, test, level.
    pub fit: FitOptions,
    /// The moderator whose levels are the subgroups.
    pub by: String,
    /// Separate or common τ².
    pub tau2: Tau2Mode,
}

/// One subgroup's pooled result. Field names are the JSON contract.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupResult {
    /// The level.
    pub level: String,
    /// Number of studies.
    pub k: usize,
    /// Pooled estimate.
    pub estimate: f64,
    /// Its standard error.
    pub se: f64,
    /// z, or t under Knapp-Hartung.
    pub statistic: f64,
    /// Two-sided p-value.
    pub p: f64,
    /// Lower confidence limit.
    pub ci_lower: f64,
    /// Upper confidence limit.
    pub ci_upper: f64,
    /// τ² (`null` for a single study).
    pub tau2: Option<f64>,
    /// Cochran's Q within the subgroup.
    #[serde(rename = "Q")]
    pub q: f64,
    /// Its degrees of freedom, k − 1.
    #[serde(rename = "Q_df")]
    pub q_df: usize,
    /// Its p-value.
    #[serde(rename = "Q_p")]
    pub q_p: f64,
    /// I² in percent (`null` for a single study).
    #[serde(rename = "I2")]
    pub i2: Option<f64>,
}

/// How a subgroup analysis was computed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SubgroupSettings {
    /// The moderator.
    pub by: String,
    /// Separate or common τ².
    pub tau2: Tau2Mode,
    /// τ² estimator.
    pub method: Method,
    /// z or knha.
    pub test: Test,
    /// Confidence level in percent.
    pub level: f64,
    /// Effect-size measure.
    pub measure: Measure,
    /// Convergence threshold of iterative estimators.
    pub threshold: f64,
    /// Iteration limit of iterative estimators.
    pub max_iter: usize,
    /// tau's version.
    pub version: &'static str,
}

/// The subgroup analysis. Field names are the JSON contract.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SubgroupResult {
    /// Title of the data set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Studies in the analysis.
    pub k: usize,
    /// One result per level, levels sorted.
    pub groups: Vec<GroupResult>,
    /// Test of subgroup differences (`null` with a single level).
    #[serde(rename = "Q_between")]
    pub q_between: Option<f64>,
    /// Its (numerator) degrees of freedom, L − 1.
    #[serde(rename = "Q_between_df")]
    pub q_between_df: usize,
    /// Denominator df when Q_between is an F statistic (common τ² under Knapp-Hartung).
    #[serde(rename = "Q_between_df2", skip_serializing_if = "Option::is_none")]
    pub q_between_df2: Option<f64>,
    /// Its p-value.
    #[serde(rename = "Q_between_p")]
    pub q_between_p: Option<f64>,
    /// "chisq", or "F" for common τ² under Knapp-Hartung.
    #[serde(rename = "Q_between_distribution")]
    pub q_between_distribution: &'static str,
    /// The shared τ² (common τ² only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tau2_common: Option<f64>,
    /// Studies left out because the moderator is missing.
    pub dropped: Vec<String>,
    /// How it was computed.
    pub settings: SubgroupSettings,
    /// Things to know.
    pub warnings: Vec<String>,
}

/// Why a subgroup analysis failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum SubgroupError {
    /// The moderator cannot be used.
    #[error(transparent)]
    Moderator(#[from] ModeratorError),
    /// One subgroup could not be pooled.
    #[error("subgroup {by} = '{level}' (k = {k}): {source}")]
    Level {
        /// The moderator.
        by: String,
        /// The level.
        level: String,
        /// Its number of studies.
        k: usize,
        /// Why.
        source: FitError,
    },
    /// The common-τ² model could not be fitted.
    #[error("the mixed-effects model with '{by}' as a factor: {source}")]
    Common {
        /// The moderator.
        by: String,
        /// Why.
        source: FitError,
    },
    /// Common τ² with too few or too many levels.
    #[error(
        "--tau2 common fits one model with a coefficient per level and needs 2 to {max} levels; '{by}' has {levels}. Use the default separate tau^2"
    )]
    CommonLevels {
        /// The moderator.
        by: String,
        /// Its number of levels.
        levels: usize,
        /// The most levels allowed.
        max: usize,
    },
}

/// Runs the subgroup analysis of `options` on `dataset`.
pub fn subgroup(
    dataset: &Dataset,
    options: &SubgroupOptions,
) -> Result<SubgroupResult, SubgroupError> {
    let column = moderator::column(dataset, &options.by)?;
    let levels = moderator::groups(&column);
    let dropped: Vec<String> = dataset
        .studies
        .iter()
        .enumerate()
        .filter(|(i, _)| !column.is_present(*i))
        .map(|(_, s)| s.label().to_owned())
        .collect();
    let mut warnings = dataset.warnings.clone();
    if !dropped.is_empty() {
        warnings.push(format!(
            "{} {} without a value of '{}' left out: {}",
            dropped.len(),
            if dropped.len() == 1 {
                "study"
            } else {
                "studies"
            },
            options.by,
            list_labels(&dropped)
        ));
    }
    let outcome = match options.tau2 {
        Tau2Mode::Separate => separate(dataset, options, &levels)?,
        Tau2Mode::Common => common::fit_common(dataset, options, &levels)?,
    };
    warnings.extend(outcome.warnings);
    Ok(SubgroupResult {
        title: dataset.title.clone(),
        k: outcome.groups.iter().map(|g| g.k).sum(),
        groups: outcome.groups,
        q_between: outcome.between.map(|b| b.statistic),
        q_between_df: levels.len().saturating_sub(1),
        q_between_df2: outcome.between.and_then(|b| b.df2),
        q_between_p: outcome.between.map(|b| b.p),
        q_between_distribution: if outcome.between.and_then(|b| b.df2).is_some() {
            "F"
        } else {
            "chisq"
        },
        tau2_common: outcome.tau2_common,
        dropped,
        settings: SubgroupSettings {
            by: options.by.clone(),
            tau2: options.tau2,
            method: options.fit.method,
            test: options.fit.test,
            level: options.fit.level,
            measure: dataset.measure,
            threshold: options.fit.control.threshold,
            max_iter: options.fit.control.max_iter,
            version: VERSION,
        },
        warnings,
    })
}

/// The test of differences: statistic, df2 (F only), p.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Between {
    statistic: f64,
    df2: Option<f64>,
    p: f64,
}

/// What each variant computes.
struct Outcome {
    groups: Vec<GroupResult>,
    between: Option<Between>,
    tau2_common: Option<f64>,
    warnings: Vec<String>,
}

type Levels = [(String, Vec<usize>)];

fn separate(
    dataset: &Dataset,
    options: &SubgroupOptions,
    levels: &Levels,
) -> Result<Outcome, SubgroupError> {
    let fitted: Vec<Result<(GroupResult, bool), SubgroupError>> = levels
        .par_iter()
        .map(|(level, rows)| pool_level(dataset, options, level, rows))
        .collect();
    let mut groups = Vec::with_capacity(levels.len());
    let mut reset = Vec::new();
    for result in fitted {
        let (group, reset_to_zero) = result?;
        if reset_to_zero {
            reset.push(group.level.clone());
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
        warnings.push(format!(
            "one study only, so no tau^2 or I^2 and a normal-theory CI{}: {}",
            if options.fit.test == Test::Knha {
                " (Knapp-Hartung needs k >= 2)"
            } else {
                ""
            },
            list_labels(&single)
        ));
    }
    if !reset.is_empty() {
        warnings.push(format!(
            "the {} likelihood was higher at tau^2 = 0 than where Fisher scoring stopped, so tau^2 was set to 0 (as metafor does) in: {}",
            options.fit.method.name(),
            list_labels(&reset)
        ));
    }
    Ok(Outcome {
        between: q_between(&groups),
        groups,
        tau2_common: None,
        warnings,
    })
}

/// Pools one level; the flag says whether ML/REML reset τ² to 0.
fn pool_level(
    dataset: &Dataset,
    options: &SubgroupOptions,
    level: &str,
    rows: &[usize],
) -> Result<(GroupResult, bool), SubgroupError> {
    let yi: Vec<f64> = rows.iter().map(|&i| dataset.studies[i].yi).collect();
    let vi: Vec<f64> = rows.iter().map(|&i| dataset.studies[i].vi).collect();
    if rows.len() == 1 {
        return Ok((single_study(level, yi[0], vi[0], &options.fit), false));
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
        estimate: model.beta[0],
        se: model.se[0],
        statistic: model.statistic[0],
        p: model.p_values[0],
        ci_lower: model.ci_lower[0],
        ci_upper: model.ci_upper[0],
        tau2: Some(model.tau2),
        q: model.q,
        q_df: model.q_df,
        q_p: model.q_p,
        i2: Some(model.i2),
    };
    Ok((group, model.convergence.reset_to_zero))
}

/// A level with one study: its own estimate with a normal-theory CI (metafor `rma` with k = 1).
fn single_study(level: &str, yi: f64, vi: f64, options: &FitOptions) -> GroupResult {
    let se = vi.sqrt();
    let crit = normal_upper(options.alpha() / 2.0);
    GroupResult {
        level: level.to_owned(),
        k: 1,
        estimate: yi,
        se,
        statistic: yi / se,
        p: normal_two_sided_p(yi / se),
        ci_lower: yi - crit * se,
        ci_upper: yi + crit * se,
        tau2: None,
        q: 0.0,
        q_df: 0,
        q_p: 1.0,
        i2: None,
    }
}

/// Q_between = Σ wₗ (θ̂ₗ − θ̄)², wₗ = 1/SEₗ², on L − 1 df; `None` below two levels.
fn q_between(groups: &[GroupResult]) -> Option<Between> {
    if groups.len() < 2 {
        return None;
    }
    let weights: Vec<f64> = groups.iter().map(|g| 1.0 / (g.se * g.se)).collect();
    let total: f64 = weights.iter().sum();
    let mean = groups
        .iter()
        .zip(&weights)
        .map(|(g, w)| w * g.estimate)
        .sum::<f64>()
        / total;
    let statistic: f64 = groups
        .iter()
        .zip(&weights)
        .map(|(g, w)| w * (g.estimate - mean).powi(2))
        .sum();
    Some(Between {
        statistic,
        df2: None,
        p: chisq_sf(statistic, (groups.len() - 1) as f64),
    })
}

#[cfg(test)]
mod tests;
