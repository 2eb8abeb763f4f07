//! Permutation test of subgroup differences: how often Q_between is at least
//! as large when the studies' levels are shuffled (Higgins & Thompson 2004;
//! as metafor's `permutest()` does for QM, here for the subgroup statistic).
//!
//! The level sizes stay as observed; the studies with a value of the
//! moderator are dealt to the levels at random, every level is refitted as
//! [`subgroup`](super::subgroup) fits it (separate or common τ²), and
//! p = #{Q*_between ≥ Q_between − ε} / N over N iterations, the observed
//! data counting as the first (so p ≥ 1/N), with ε metafor's `comptol`.
//! Under common τ² this is the random-permutation test of metafor's
//! `permutest(rma(yi, vi, mods = ~ factor(g)))` for QM. Permutation r draws
//! from ChaCha8 stream r of the seed, so the result does not depend on the
//! number of threads; an arrangement whose model fails is redrawn.

use crate::par::*;
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use super::{SubgroupError, SubgroupOptions, SubgroupResult, Tau2Mode, common, separate};
use crate::data::dataset::Dataset;
use crate::fields::METHOD;
use crate::regression::permutation::{COMPARISON_TOLERANCE, PermutationSpec};

/// How many times an arrangement whose model fails is redrawn.
const MAX_REDRAWS: usize = 100;

/// The permutation p-value of Q_between.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SubgroupPermutation {
    /// Iterations N, the observed data included.
    pub iterations: usize,
    /// The seed of the random permutations.
    pub seed: u64,
    /// Permutation p-value of Q_between.
    #[serde(rename = "Q_between_p")]
    pub q_between_p: f64,
}

/// Runs the permutation test of `result`, the subgroup analysis of `options` on `dataset`.
pub fn permutation_test(
    dataset: &Dataset,
    options: &SubgroupOptions,
    result: &SubgroupResult,
    spec: &PermutationSpec,
) -> Result<SubgroupPermutation, SubgroupError> {
    let Some(observed) = result.q_between else {
        return Err(SubgroupError::Permutation(
            "there is no test of subgroup differences to permute: it needs two or more levels"
                .into(),
        ));
    };
    if spec.iterations < 2 {
        return Err(SubgroupError::Permutation(format!(
            "the number of permutations must be at least 2 (got {}); 1000 or more is usual",
            spec.iterations
        )));
    }
    let names: Vec<&str> = result.groups.iter().map(|g| g.level.as_str()).collect();
    let sizes: Vec<usize> = result.groups.iter().map(|g| g.studies.len()).collect();
    let mut rows: Vec<usize> = result
        .groups
        .iter()
        .flat_map(|g| g.studies.iter().copied())
        .collect();
    rows.sort_unstable();
    let at_least_as_large = (1..spec.iterations)
        .into_par_iter()
        .map(|replicate| {
            let mut rng = ChaCha8Rng::seed_from_u64(spec.seed);
            rng.set_stream(replicate as u64);
            let mut order = rows.clone();
            let mut draws = 0;
            loop {
                order.shuffle(&mut rng);
                draws += 1;
                match q_between(dataset, options, &names, &sizes, &order) {
                    Ok(q) => return Ok(q >= observed - COMPARISON_TOLERANCE),
                    Err(e) if draws == MAX_REDRAWS => {
                        return Err(SubgroupError::Permutation(format!(
                            "permutation {replicate}: the subgroups could not be fitted in {MAX_REDRAWS} draws ({e}); try another estimator, e.g. {METHOD} DL"
                        )));
                    }
                    Err(_) => {}
                }
            }
        })
        .collect::<Result<Vec<bool>, SubgroupError>>()?;
    let count = 1 + at_least_as_large.iter().filter(|&&b| b).count();
    Ok(SubgroupPermutation {
        iterations: spec.iterations,
        seed: spec.seed,
        q_between_p: count as f64 / spec.iterations as f64,
    })
}

/// Q_between with the studies `order` dealt to the levels in turn (`sizes[l]` to level l).
fn q_between(
    dataset: &Dataset,
    options: &SubgroupOptions,
    names: &[&str],
    sizes: &[usize],
    order: &[usize],
) -> Result<f64, SubgroupError> {
    let mut start = 0;
    let levels: Vec<(String, Vec<usize>)> = names
        .iter()
        .zip(sizes)
        .map(|(name, &size)| {
            let mut studies = order[start..start + size].to_vec();
            studies.sort_unstable();
            start += size;
            ((*name).to_owned(), studies)
        })
        .collect();
    let outcome = match options.tau2 {
        Tau2Mode::Separate => separate::fit_separate(dataset, options, &levels)?,
        Tau2Mode::Common => common::fit_common(dataset, options, &levels)?,
    };
    outcome
        .between
        .map(|b| b.statistic)
        .ok_or_else(|| SubgroupError::Permutation("no test of subgroup differences".into()))
}
