//! Permutation tests for meta-regression (Higgins & Thompson 2004;
//! Viechtbauer et al. 2015), as metafor 3.8-1's `permutest.rma.uni` does them.
//!
//! The rows of the model matrix X are permuted against the outcomes and their
//! sampling variances, the model is refitted with the same estimator and test,
//! and the observed statistics are compared with their permutation
//! distribution:
//!
//! * QM: p = #{QM* ≥ QM − ε} / n;
//! * each coefficient: p = #{|z*ⱼ| ≥ |zⱼ| − ε} / n (t statistics under Knapp-Hartung),
//!
//! with ε = √(machine ε) ≈ 1.5e-8 (metafor's `comptol`) and n the number of
//! permutations that could be fitted.
//!
//! * **Exact test**, when the number of distinct arrangements of X's rows,
//!   k! / ∏ nᵍ! over groups of identical rows, is at most the number of
//!   iterations asked for (metafor's rule): every arrangement is fitted once,
//!   the observed one among them.
//! * **Random permutations** otherwise: with N iterations, the observed data
//!   count as the first and N − 1 random permutations follow (as in metafor, so
//!   p ≥ 1/N). Permutation r draws from a ChaCha8 stream r of the seed, so the
//!   results do not depend on the number of threads. A permutation whose model
//!   cannot be fitted is redrawn, as metafor redraws it.
//!
//! * **By cluster** (`by`, not in metafor): the moderators of a cluster-level
//!   design (every record of a cluster has the same row of X, e.g. a
//!   trial-level moderator with several effect sizes per trial) move
//!   together: the clusters' rows of X are permuted among the clusters, and
//!   every record of a cluster takes the row of the cluster it is assigned.
//!   Under the null hypothesis the clusters, not the records, are
//!   exchangeable, so this is the permutation test of a cluster-level
//!   moderator; the exact test counts the distinct arrangements of the
//!   clusters' rows, C! / ∏ nᵍ!. A design whose rows differ within a
//!   cluster is refused.
//!
//! Permutations are fitted in chunks and only counted, never stored, so the
//! memory used does not grow with N. N is at most [`MAX_ITERATIONS`].
//!
//! metafor's sign-flipping test for intercept-only models is not needed here:
//! a meta-regression always has a moderator.

use crate::par::*;
use nalgebra::DMatrix;
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use crate::fields::{METHOD, PERMUTATIONS, PERMUTE_BY};
use crate::model::{FitError, FitOptions, fit};

/// metafor's `comptol`: statistics this close to the observed one count as at least as extreme.
pub const COMPARISON_TOLERANCE: f64 = 1.490_116_119_384_765_6e-8;

/// How many times a random permutation whose model fails is redrawn.
const MAX_REDRAWS: usize = 100;

/// The most permutations tau runs: 10⁸, five orders of magnitude above the
/// usual 1000 (at a few microseconds per fit, minutes to hours of work).
pub const MAX_ITERATIONS: usize = 100_000_000;

/// Random permutations fitted between two tallies.
const CHUNK: usize = 1 << 16;

/// Row labels held at once while enumerating an exact test (32 MB).
const EXACT_CHUNK_LABELS: usize = 1 << 22;

/// What to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PermutationSpec {
    /// Number of iterations N, counting the observed data (metafor's `iter`).
    pub iterations: usize,
    /// Seed of the random permutations.
    pub seed: u64,
    /// Permute whole clusters of this moderator (`None`: records).
    pub by: Option<String>,
}

/// Permutation p-values.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PermutationResult {
    /// Permutations fitted, the observed data included.
    pub iterations: usize,
    /// Whether every distinct arrangement was fitted (an exact test).
    pub exact: bool,
    /// The seed of the random permutations.
    pub seed: u64,
    /// Permutation p-value of QM.
    #[serde(rename = "QM_p")]
    pub qm_p: f64,
    /// Permutation p-value of each coefficient, in model order.
    pub p: Vec<f64>,
    /// Arrangements whose model could not be fitted (exact test only; left out of n).
    pub failed: usize,
    /// The moderator whose clusters were permuted (absent: records).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
}

/// Why a permutation test could not be run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum PermutationError {
    /// Fewer than two iterations.
    #[error("the number of permutations must be at least 2 (got {0}); 1000 or more is usual")]
    TooFewIterations(usize),
    /// More iterations than tau runs.
    #[error(
        "{requested} permutations are more than tau runs (at most {MAX_ITERATIONS}); 1000 to 100000 are usual, e.g. {PERMUTATIONS} 10000"
    )]
    TooManyIterations {
        /// The number asked for.
        requested: usize,
    },
    /// A random permutation kept failing.
    #[error(
        "permutation {replicate}: the model could not be fitted in {MAX_REDRAWS} draws ({source}); try another estimator, e.g. {METHOD} DL"
    )]
    Redraws {
        /// The permutation.
        replicate: usize,
        /// The last failure.
        source: FitError,
    },
    /// No arrangement could be fitted.
    #[error("no permutation of the data could be fitted; try another estimator, e.g. {METHOD} DL")]
    NothingFitted,
    /// The clusters of `by` could not be formed.
    #[error("{0}")]
    Clusters(String),
    /// The moderators vary within a cluster of `by`.
    #[error(
        "the moderators differ within cluster '{cluster}' of \"{by}\" (study '{study}'): a permutation by cluster ({PERMUTE_BY}) moves each cluster's moderator values together, so every moderator must be constant within a cluster (a cluster-level moderator); leave out {PERMUTE_BY} to permute records"
    )]
    VariesWithinCluster {
        /// The cluster moderator.
        by: String,
        /// The cluster.
        cluster: String,
        /// The first record that differs from its cluster's first.
        study: String,
    },
}

impl crate::Kinded for PermutationError {
    fn kind(&self) -> crate::ErrorKind {
        match self {
            // A count that cannot be run is a bad request (exit 2).
            PermutationError::TooFewIterations(_)
            | PermutationError::TooManyIterations { .. }
            | PermutationError::Clusters(_)
            | PermutationError::VariesWithinCluster { .. } => crate::ErrorKind::Input,
            _ => crate::ErrorKind::Analysis,
        }
    }
}

/// The data and observed statistics of a fitted meta-regression.
#[derive(Debug, Clone, Copy)]
pub struct Observed<'a> {
    /// Outcomes.
    pub yi: &'a [f64],
    /// Sampling variances.
    pub vi: &'a [f64],
    /// Model matrix.
    pub x: &'a DMatrix<f64>,
    /// Coefficients in the omnibus test.
    pub tested: &'a [usize],
    /// Observed z (or t) statistics.
    pub statistics: &'a [f64],
    /// Observed QM (an F statistic under Knapp-Hartung).
    pub qm: f64,
    /// The cluster of each row (0-based, dense), to permute clusters; `None`
    /// permutes rows.
    pub clusters: Option<&'a [usize]>,
}

/// What is permuted: the rows of X, or the clusters' rows of a
/// cluster-level X.
struct Units {
    /// One row per unit.
    x: DMatrix<f64>,
    /// For clusters: each row's cluster, and each cluster's first row.
    clusters: Option<(Vec<usize>, Vec<usize>)>,
}

impl Units {
    fn of(data: &Observed<'_>) -> Units {
        let Some(cluster_of) = data.clusters else {
            return Units {
                x: data.x.clone(),
                clusters: None,
            };
        };
        let count = cluster_of.iter().max().map_or(0, |c| c + 1);
        let mut first = vec![usize::MAX; count];
        for (row, &c) in cluster_of.iter().enumerate() {
            if first[c] == usize::MAX {
                first[c] = row;
            }
        }
        let x = DMatrix::from_fn(count, data.x.ncols(), |c, j| data.x[(first[c], j)]);
        Units {
            x,
            clusters: Some((cluster_of.to_vec(), first)),
        }
    }

    fn len(&self) -> usize {
        self.x.nrows()
    }

    /// The order of X's rows that an order of the units gives: row i takes
    /// the row of unit `order[unit of i]`.
    fn rows(&self, order: &[usize]) -> Vec<usize> {
        match &self.clusters {
            None => order.to_vec(),
            Some((cluster_of, first)) => cluster_of.iter().map(|&c| first[order[c]]).collect(),
        }
    }
}

/// One fitted arrangement: its statistics and QM.
type Replicate = (Vec<f64>, f64);

impl PermutationSpec {
    /// Checks the number of iterations: at least 2, at most [`MAX_ITERATIONS`].
    pub fn validate(&self) -> Result<(), PermutationError> {
        if self.iterations < 2 {
            return Err(PermutationError::TooFewIterations(self.iterations));
        }
        if self.iterations > MAX_ITERATIONS {
            return Err(PermutationError::TooManyIterations {
                requested: self.iterations,
            });
        }
        Ok(())
    }
}

/// Counts of permutations fitted, failed, and at least as extreme as the
/// observed data in QM and in each coefficient's statistic.
#[derive(Debug, Clone, PartialEq)]
struct Tally {
    fitted: usize,
    failed: usize,
    qm: usize,
    coefficients: Vec<usize>,
}

impl Tally {
    fn new(data: &Observed<'_>) -> Tally {
        Tally {
            fitted: 0,
            failed: 0,
            qm: 0,
            coefficients: vec![0; data.statistics.len()],
        }
    }

    fn add(&mut self, data: &Observed<'_>, replicate: Option<&Replicate>) {
        let Some((statistics, qm)) = replicate else {
            self.failed += 1;
            return;
        };
        self.fitted += 1;
        if *qm >= data.qm - COMPARISON_TOLERANCE {
            self.qm += 1;
        }
        for ((count, z), observed) in self
            .coefficients
            .iter_mut()
            .zip(statistics)
            .zip(data.statistics)
        {
            if z.abs() >= observed.abs() - COMPARISON_TOLERANCE {
                *count += 1;
            }
        }
    }
}

/// Runs the permutation test. `progress(total)` is called once per
/// permutation fitted, with the number of permutations planned.
pub fn permutest(
    data: &Observed<'_>,
    options: &FitOptions,
    spec: &PermutationSpec,
    progress: &(dyn Fn(usize) + Sync),
) -> Result<PermutationResult, PermutationError> {
    spec.validate()?;
    let units = Units::of(data);
    let groups = row_groups(&units.x);
    let exact_count = multinomial(&groups, spec.iterations);
    let (tally, exact) = match exact_count {
        Some(count) => (
            exact_tally(data, options, &units, &groups, &|_| progress(count)),
            true,
        ),
        None => (random_tally(data, options, &units, spec, progress)?, false),
    };
    if tally.fitted == 0 {
        return Err(PermutationError::NothingFitted);
    }
    let share = |count: usize| count as f64 / tally.fitted as f64;
    Ok(PermutationResult {
        iterations: tally.fitted,
        exact,
        seed: spec.seed,
        qm_p: share(tally.qm),
        p: tally.coefficients.iter().map(|&c| share(c)).collect(),
        failed: tally.failed,
        by: spec.by.clone(),
    })
}

/// Fits the model with X's rows in the order `order` (row i of the new X is row order[i]).
fn refit(
    data: &Observed<'_>,
    options: &FitOptions,
    order: &[usize],
) -> Result<Replicate, FitError> {
    let x = DMatrix::from_fn(data.x.nrows(), data.x.ncols(), |i, j| data.x[(order[i], j)]);
    let model = fit(data.yi, data.vi, &x, options)?;
    let qm = model.omnibus(data.tested)?.statistic;
    Ok((model.statistic, qm))
}

/// The observed data and N − 1 random permutations, fitted a chunk at a time.
fn random_tally(
    data: &Observed<'_>,
    options: &FitOptions,
    units: &Units,
    spec: &PermutationSpec,
    progress: &(dyn Fn(usize) + Sync),
) -> Result<Tally, PermutationError> {
    let k = units.len();
    let mut tally = Tally::new(data);
    tally.add(data, Some(&(data.statistics.to_vec(), data.qm)));
    let mut first = 1;
    while first < spec.iterations {
        let last = spec.iterations.min(first.saturating_add(CHUNK));
        let results: Vec<Result<Replicate, PermutationError>> = (first..last)
            .into_par_iter()
            .map(|replicate| {
                let mut rng = ChaCha8Rng::seed_from_u64(spec.seed);
                rng.set_stream(replicate as u64);
                let mut order: Vec<usize> = (0..k).collect();
                let mut draws = 0;
                loop {
                    order.shuffle(&mut rng);
                    draws += 1;
                    match refit(data, options, &units.rows(&order)) {
                        Ok(r) => {
                            progress(spec.iterations);
                            return Ok(r);
                        }
                        Err(source) if draws == MAX_REDRAWS => {
                            return Err(PermutationError::Redraws { replicate, source });
                        }
                        Err(_) => {}
                    }
                }
            })
            .collect();
        for result in results {
            tally.add(data, Some(&result?));
        }
        first = last;
    }
    progress(spec.iterations);
    Ok(tally)
}

/// Every distinct arrangement once, enumerated a chunk at a time.
fn exact_tally(
    data: &Observed<'_>,
    options: &FitOptions,
    units: &Units,
    groups: &RowGroups,
    progress: &(dyn Fn(usize) + Sync),
) -> Tally {
    let chunk = (EXACT_CHUNK_LABELS / groups.sorted_labels.len().max(1)).clamp(1, CHUNK);
    let mut tally = Tally::new(data);
    let mut arrangement = groups.sorted_labels.clone();
    let mut more = true;
    while more {
        let mut arrangements = Vec::with_capacity(chunk);
        while more && arrangements.len() < chunk {
            arrangements.push(arrangement.clone());
            more = next_permutation(&mut arrangement);
        }
        let results: Vec<Option<Replicate>> = arrangements
            .par_iter()
            .map(|labels| {
                let order: Vec<usize> = labels.iter().map(|&g| groups.representative[g]).collect();
                let result = refit(data, options, &units.rows(&order)).ok();
                progress(0);
                result
            })
            .collect();
        for result in &results {
            tally.add(data, result.as_ref());
        }
    }
    tally
}

/// Rows of X grouped by identical content.
#[derive(Debug, Clone, PartialEq)]
struct RowGroups {
    /// Number of rows in each group.
    sizes: Vec<usize>,
    /// One row index per group.
    representative: Vec<usize>,
    /// Group labels of all rows, sorted ascending (the first arrangement).
    sorted_labels: Vec<usize>,
}

fn row_groups(x: &DMatrix<f64>) -> RowGroups {
    let row = |i: usize| x.row(i).iter().copied().collect::<Vec<f64>>();
    let mut order: Vec<usize> = (0..x.nrows()).collect();
    order.sort_by(|&a, &b| {
        row(a)
            .iter()
            .zip(row(b).iter())
            .map(|(u, v)| u.total_cmp(v))
            .find(|o| o.is_ne())
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    let mut sizes: Vec<usize> = Vec::new();
    let mut representative = Vec::new();
    let mut sorted_labels = Vec::with_capacity(order.len());
    for (position, &i) in order.iter().enumerate() {
        let same = position > 0 && row(order[position - 1]) == row(i);
        if same {
            if let Some(last) = sizes.last_mut() {
                *last += 1;
            }
        } else {
            sizes.push(1);
            representative.push(i);
        }
        sorted_labels.push(sizes.len() - 1);
    }
    RowGroups {
        sizes,
        representative,
        sorted_labels,
    }
}

/// k! / ∏ nᵍ!, the number of distinct arrangements, if it is at most `limit`.
fn multinomial(groups: &RowGroups, limit: usize) -> Option<usize> {
    let mut count: u128 = 1;
    let mut placed: u128 = 0;
    for &size in &groups.sizes {
        // Multiply by C(placed + size, size), one factor at a time; every partial product is an integer.
        for i in 1..=size as u128 {
            placed += 1;
            count = count.checked_mul(placed)? / i;
            if count > limit as u128 {
                return None;
            }
        }
    }
    usize::try_from(count).ok()
}

/// The next arrangement in lexicographic order (false after the last); it
/// visits each distinct arrangement of a multiset once.
fn next_permutation(v: &mut [usize]) -> bool {
    let Some(i) = (1..v.len()).rev().find(|&i| v[i - 1] < v[i]) else {
        return false;
    };
    let pivot = i - 1;
    let Some(j) = (i..v.len()).rev().find(|&j| v[j] > v[pivot]) else {
        return false;
    };
    v.swap(pivot, j);
    v[i..].reverse();
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_distinct_arrangements() {
        let x = DMatrix::from_row_slice(5, 2, &[1., 0., 1., 1., 1., 0., 1., 2., 1., 0.]);
        let groups = row_groups(&x);
        assert_eq!(groups.sizes, [3, 1, 1]);
        assert_eq!(multinomial(&groups, 1000), Some(20));
        assert_eq!(multinomial(&groups, 19), None);
        let mut labels = groups.sorted_labels.clone();
        let mut seen = 1;
        while next_permutation(&mut labels) {
            seen += 1;
        }
        assert_eq!(seen, 20);
    }

    #[test]
    fn huge_counts_do_not_overflow() {
        let x = DMatrix::from_fn(200, 1, |i, _| i as f64);
        assert_eq!(multinomial(&row_groups(&x), usize::MAX), None);
    }
}
