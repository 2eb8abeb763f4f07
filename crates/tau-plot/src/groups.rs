//! Subgroups for `--by`: the studies split by the levels of a moderator,
//! each level pooled on its own, and the test for subgroup differences.
//!
//! Each level is pooled by [`tau_core::pool()`] with the plot's options, so every
//! level has its own τ² (as `meta`'s default for random-effects subgroup
//! analyses). The test for subgroup differences is Cochran's Q across the
//! level estimates, Q_b = Σ (μ̂ⱼ − μ̄)² / SE(μ̂ⱼ)², with μ̄ their
//! inverse-variance mean and df = levels − 1: metafor
//! `rma(est, sei = se, method = "EE")$QE` on the level estimates (Borenstein
//! et al. 2009, *Introduction to Meta-Analysis*, ch. 19). A level with a
//! single study has no pooled estimate; it enters the test with the study's
//! own yᵢ and √vᵢ.
//!
//! This stands in for the subgroup module; plots only need [`Subgroup`],
//! [`pool_subgroups`] and [`difference_test`].

use tau_core::data::dataset::{Dataset, Study};
use tau_core::input::Moderator;
use tau_core::model::{FitOptions, Method, Test, fit, intercept_design};
use tau_core::pool::{PoolResult, pool};

use super::PlotError;
use super::scale::tick_label;

/// One level of a moderator and the studies that have it.
#[derive(Debug, Clone, PartialEq)]
pub struct Subgroup {
    /// The level, as written in the file.
    pub level: String,
    /// Indices of its studies in the data set, in file order.
    pub studies: Vec<usize>,
}

/// Cochran's Q between subgroups.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DifferenceTest {
    /// Q between levels.
    pub q: f64,
    /// Its degrees of freedom: levels − 1.
    pub df: usize,
    /// Its p-value (χ² with `df` degrees of freedom).
    pub p: f64,
}

/// A moderator value as a category label; numbers are written plainly.
pub fn level_label(value: &Moderator) -> Option<String> {
    match value {
        Moderator::Number(v) => Some(tick_label(*v).replace('\u{2212}', "-")),
        Moderator::Missing => None,
        other => other.category(),
    }
}

/// Checks that at least one study records `moderator`.
pub fn check_moderator(data: &Dataset, moderator: &str) -> Result<(), PlotError> {
    if data
        .studies
        .iter()
        .any(|s| s.moderators.contains_key(moderator))
    {
        return Ok(());
    }
    Err(PlotError::UnknownModerator {
        name: moderator.into(),
        known: tau_core::data::moderator::moderator_names(data),
    })
}

/// Splits the studies by the levels of `moderator`, in the order the levels
/// first appear in the file.
pub fn split(data: &Dataset, moderator: &str) -> Result<Vec<Subgroup>, PlotError> {
    check_moderator(data, moderator)?;
    let mut groups: Vec<Subgroup> = Vec::new();
    for (index, study) in data.studies.iter().enumerate() {
        let level = study
            .moderators
            .get(moderator)
            .and_then(level_label)
            .ok_or_else(|| PlotError::MissingModerator {
                study: study.label().into(),
                name: moderator.into(),
            })?;
        match groups.iter_mut().find(|g| g.level == level) {
            Some(group) => group.studies.push(index),
            None => groups.push(Subgroup {
                level,
                studies: vec![index],
            }),
        }
    }
    Ok(groups)
}

fn subset(data: &Dataset, indices: &[usize]) -> Dataset {
    Dataset {
        studies: indices.iter().map(|&i| data.studies[i].clone()).collect(),
        warnings: Vec::new(),
        ..data.clone()
    }
}

/// Pools each subgroup; `None` for a level with a single study.
pub fn pool_subgroups(
    data: &Dataset,
    groups: &[Subgroup],
    options: &FitOptions,
) -> Result<Vec<Option<PoolResult>>, PlotError> {
    groups
        .iter()
        .map(|group| {
            if group.studies.len() < 2 {
                return Ok(None);
            }
            pool(&subset(data, &group.studies), options)
                .map(Some)
                .map_err(|source| PlotError::Subgroup {
                    level: group.level.clone(),
                    source,
                })
        })
        .collect()
}

/// The test for subgroup differences; `None` with fewer than two levels.
pub fn difference_test(
    data: &Dataset,
    groups: &[Subgroup],
    fits: &[Option<PoolResult>],
    options: &FitOptions,
) -> Result<Option<DifferenceTest>, PlotError> {
    if groups.len() < 2 {
        return Ok(None);
    }
    let (estimates, variances): (Vec<f64>, Vec<f64>) = groups
        .iter()
        .zip(fits)
        .map(|(group, fit)| match fit {
            Some(result) => (result.estimate, result.se * result.se),
            None => {
                let study: &Study = &data.studies[group.studies[0]];
                (study.yi, study.vi)
            }
        })
        .unzip();
    let common = FitOptions {
        method: Method::EE,
        test: Test::Z,
        ..*options
    };
    let between = fit(
        &estimates,
        &variances,
        &intercept_design(estimates.len()),
        &common,
    )?;
    Ok(Some(DifferenceTest {
        q: between.q,
        df: between.q_df,
        p: between.q_p,
    }))
}
