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
//! Levels are sorted (numbers numerically, text by code point, labels as
//! [`moderator::groups`] writes them) unless [`SubgroupOptions::levels`] sets
//! the order; studies without a value of the moderator are left out with a
//! warning naming them. Levels are fitted in
//! parallel; the results do not depend on the number of threads. No Q-profile
//! CIs are computed, so that thousands of levels stay fast.

mod common;
pub mod permutation;
mod separate;

use crate::Warning;
use serde::Serialize;

use crate::data::dataset::Dataset;
use crate::data::moderator::{self, ModeratorError};
use crate::effect_size::measure::Measure;
use crate::estimate::Estimate;
use crate::fields::{LEVELS, PERMUTATIONS, TAU2};
use crate::model::{FitError, FitOptions, Method, Test};
use crate::settings::VERSION;
use crate::text::list_labels;

/// How τ² is estimated across subgroups.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
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
    /// The order of the levels; `None` sorts them (numbers numerically, text
    /// by code point). When given it must name every level exactly once.
    pub levels: Option<Vec<String>>,
}

/// One subgroup's pooled result. Field names are the JSON contract.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupResult {
    /// The level.
    pub level: String,
    /// Number of studies.
    pub k: usize,
    /// Pooled estimate, its SE, z (t under Knapp-Hartung), p and CI.
    #[serde(flatten)]
    pub estimate: Estimate,
    /// τ² (`null` for a single study).
    pub tau2: Option<f64>,
    /// Cochran's Q within the subgroup.
    #[serde(rename = "QE")]
    pub q: f64,
    /// Its degrees of freedom, k − 1.
    #[serde(rename = "QE_df")]
    pub q_df: usize,
    /// Its p-value.
    #[serde(rename = "QE_p")]
    pub q_p: f64,
    /// I² in percent (`null` for a single study).
    #[serde(rename = "I2")]
    pub i2: Option<f64>,
    /// Indices of its studies in the data set, in file order (not in JSON).
    #[serde(skip)]
    pub studies: Vec<usize>,
    /// The labels of its studies, in file order (JSON `studies`).
    #[serde(rename = "studies")]
    pub labels: Vec<String>,
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
    /// The permutation test of Q_between, when asked for
    /// ([`permutation::permutation_test`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub permutation: Option<permutation::SubgroupPermutation>,
    /// Studies left out because the moderator is missing.
    pub dropped: Vec<String>,
    /// How it was computed.
    pub settings: SubgroupSettings,
    /// Things to know.
    pub warnings: Vec<Warning>,
    /// Whether the group means and the test of differences are those of
    /// cluster-robust inference ([`crate::robust::subgroup::uni_shown`]).
    #[serde(skip)]
    pub robust: bool,
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
    /// `--levels` names a level the moderator does not have, names one twice, or leaves one out.
    #[error(
        "{LEVELS} for '{by}': {problem}; the levels of '{by}' are: {}",
        crate::input::nearest::nearest_listed(asked, available)
    )]
    Levels {
        /// The moderator.
        by: String,
        /// The level the message is about (the nearest levels are listed).
        asked: String,
        /// What is wrong with the list.
        problem: String,
        /// The levels there are, sorted.
        available: Vec<String>,
    },
    /// The permutation test of subgroup differences could not be run.
    #[error("{PERMUTATIONS}: {0}")]
    Permutation(String),
    /// Common τ² with too few or too many levels.
    #[error(
        "{TAU2} common fits one model with a coefficient per level and needs 2 to {max} levels; '{by}' has {levels}. Use the default separate tau^2"
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

impl crate::Kinded for SubgroupError {
    fn kind(&self) -> crate::ErrorKind {
        match self {
            SubgroupError::Level { source, .. } | SubgroupError::Common { source, .. } => {
                crate::Kinded::kind(source)
            }
            // As the permutation test of a meta-regression: a failed analysis.
            SubgroupError::Permutation(_) => crate::ErrorKind::Analysis,
            _ => crate::ErrorKind::Input,
        }
    }
}

/// Runs the subgroup analysis of `options` on `dataset`.
///
/// ```
/// use tau_core::data::dataset::load_json;
/// use tau_core::subgroup::{SubgroupOptions, Tau2Mode, subgroup};
///
/// let dataset = load_json(r#"{"measure": "GEN", "studies": [
///     {"study": "A", "yi": 0.1, "vi": 0.04, "moderators": {"arm": "x"}},
///     {"study": "B", "yi": 0.3, "vi": 0.05, "moderators": {"arm": "x"}},
///     {"study": "C", "yi": 0.6, "vi": 0.03, "moderators": {"arm": "y"}},
///     {"study": "D", "yi": 0.8, "vi": 0.06, "moderators": {"arm": "y"}}
/// ]}"#, None)?;
/// let options = SubgroupOptions {
///     fit: Default::default(),
///     by: "arm".into(),
///     tau2: Tau2Mode::Separate,
///     levels: None,
/// };
/// let result = subgroup(&dataset, &options)?;
/// assert_eq!(result.groups.len(), 2);
/// assert!(result.q_between_p.is_some());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn subgroup(
    dataset: &Dataset,
    options: &SubgroupOptions,
) -> Result<SubgroupResult, SubgroupError> {
    let column = moderator::column(dataset, &options.by)?;
    let used: Vec<usize> = (0..dataset.studies.len()).collect();
    let nearly_unique = match moderator::check_categorical(dataset, &options.by, &column, &used) {
        Err(e @ ModeratorError::NearlyUnique { .. }) => Some(Warning::NearlyUnique(e.to_string())),
        other => other.map(|()| None)?,
    };
    let levels = order_levels(
        moderator::groups(&column),
        &options.by,
        options.levels.as_deref(),
    )?;
    let dropped: Vec<String> = dataset
        .studies
        .iter()
        .enumerate()
        .filter(|(i, _)| !column.is_present(*i))
        .map(|(_, s)| s.label().to_owned())
        .collect();
    let mut warnings = dataset.warnings.clone();
    warnings.extend(nearly_unique);
    // A number with about one study per value is a continuous moderator:
    // one subgroup per value is rarely what was meant.
    if matches!(column, moderator::Column::Continuous(_))
        && levels.len() > 10
        && 2 * levels.len() > dataset.studies.len()
    {
        warnings.push(crate::Warning::NearlyContinuous {
            by: options.by.clone(),
            levels: levels.len(),
            k: dataset.studies.len(),
        });
    }
    if !dropped.is_empty() {
        warnings.push(Warning::NoGroup {
            by: options.by.clone(),
            studies: dropped.clone(),
        });
    }
    let outcome = match options.tau2 {
        Tau2Mode::Separate => separate::fit_separate(dataset, options, &levels)?,
        Tau2Mode::Common => common::fit_common(dataset, options, &levels)?,
    };
    warnings.extend(outcome.warnings);
    let mut groups = outcome.groups;
    for group in &mut groups {
        group.labels = group
            .studies
            .iter()
            .map(|&i| dataset.studies[i].label().to_owned())
            .collect();
    }
    Ok(SubgroupResult {
        title: dataset.title.clone(),
        k: groups.iter().map(|g| g.k).sum(),
        groups,
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
        permutation: None,
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
        robust: false,
    })
}

/// The levels in the order `options.levels` asks for (sorted when it is `None`).
/// The levels (with what goes with each) in the order `wanted` gives
/// (`--levels`), which must name each once; `sorted` as they are without it.
pub(crate) fn order_levels<T: Clone>(
    sorted: Vec<(String, T)>,
    by: &str,
    wanted: Option<&[String]>,
) -> Result<Vec<(String, T)>, SubgroupError> {
    let Some(wanted) = wanted else {
        return Ok(sorted);
    };
    let fail = |asked: &str, problem: String, sorted: &[(String, T)]| SubgroupError::Levels {
        by: by.to_owned(),
        asked: asked.to_owned(),
        problem,
        available: sorted.iter().map(|(l, _)| l.clone()).collect(),
    };
    let mut slots: Vec<Option<(String, T)>> = sorted.iter().cloned().map(Some).collect();
    let mut ordered = Vec::with_capacity(sorted.len());
    for name in wanted {
        match sorted.iter().position(|(l, _)| l == name) {
            None => return Err(fail(name, format!("there is no level '{name}'"), &sorted)),
            Some(i) => match slots[i].take() {
                Some(level) => ordered.push(level),
                None => return Err(fail(name, format!("'{name}' is listed twice"), &sorted)),
            },
        }
    }
    let missing: Vec<String> = slots.into_iter().flatten().map(|(l, _)| l).collect();
    if !missing.is_empty() {
        return Err(fail(
            &missing[0],
            format!("the list leaves out {}", list_labels(&missing)),
            &sorted,
        ));
    }
    Ok(ordered)
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
    warnings: Vec<Warning>,
}

type Levels = [(String, Vec<usize>)];

#[cfg(test)]
mod tests;
