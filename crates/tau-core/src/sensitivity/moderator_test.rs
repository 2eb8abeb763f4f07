//! Leave-one-out for a moderator claim: the test of subgroup differences
//! (Q_between) or the omnibus test of a meta-regression (QM) recomputed
//! without each study in turn, so that a reviewer sees whether one study
//! carries the moderator effect (as `leave1out` does for the pooled
//! estimate in metafor; there, for a moderator, one refits
//! `rma(yi, vi, mods = ..., subset = -i)` for each i).
//!
//! Each refit is the full analysis ([`subgroup`] or [`regress`]) on the
//! other k − 1 studies, with the same options; a refit that fails (e.g. a
//! level left with no study) leaves its row empty with a warning. Rows are
//! computed in parallel and returned in study order.

use crate::par::*;
use serde::Serialize;

use crate::Warning;
use crate::data::dataset::Dataset;
use crate::regression::{RegressionError, RegressionOptions, regress};
use crate::subgroup::{SubgroupError, SubgroupOptions, subgroup};

/// Which moderator test is recomputed.
#[derive(Debug, Clone, PartialEq)]
pub enum ModeratorTest {
    /// Q_between of a subgroup analysis.
    Subgroup(SubgroupOptions),
    /// QM of a meta-regression (without its permutation test).
    Regression(RegressionOptions),
}

/// The test on a set of studies: statistic, df, p.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct TestValue {
    /// Q_between or QM (an F statistic under Knapp-Hartung).
    pub statistic: f64,
    /// Its (numerator) degrees of freedom.
    pub df: usize,
    /// Its p-value.
    pub p: f64,
}

/// The test without one study.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WithoutStudy {
    /// The study left out.
    pub study: String,
    /// The test without it (its fields absent when the refit failed).
    #[serde(flatten)]
    pub test: Option<TestValue>,
}

/// The moderator test with all studies and without each one.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModeratorLeaveOneOut {
    /// `"Q_between"` or `"QM"`.
    pub statistic: &'static str,
    /// The moderator (`--by`) or moderators (`--mods`).
    pub moderators: Vec<String>,
    /// The test with every study.
    pub all: TestValue,
    /// The test without each study, in study order.
    pub studies: Vec<WithoutStudy>,
    /// Things to know.
    pub warnings: Vec<Warning>,
}

/// Why the analysis could not be run at all.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ModeratorTestError {
    /// The subgroup analysis with every study failed.
    #[error(transparent)]
    Subgroup(#[from] SubgroupError),
    /// The meta-regression with every study failed.
    #[error(transparent)]
    Regression(#[from] RegressionError),
    /// A single subgroup: nothing to test.
    #[error(
        "'{0}' has a single level among the studies, so there is no test of subgroup differences to recompute"
    )]
    NoTest(String),
}

impl crate::Kinded for ModeratorTestError {
    fn kind(&self) -> crate::ErrorKind {
        match self {
            ModeratorTestError::Subgroup(e) => e.kind(),
            ModeratorTestError::Regression(e) => e.kind(),
            ModeratorTestError::NoTest(_) => crate::ErrorKind::Input,
        }
    }
}

/// Runs `test` on `dataset`, then without each study in turn.
pub fn moderator_leave_one_out(
    dataset: &Dataset,
    test: &ModeratorTest,
) -> Result<ModeratorLeaveOneOut, ModeratorTestError> {
    let all = run(dataset, test)?;
    let rows: Vec<(WithoutStudy, Option<Warning>)> = (0..dataset.studies.len())
        .into_par_iter()
        .map(|i| {
            let mut rest = dataset.clone();
            let left = rest.studies.remove(i);
            let study = left.label().to_owned();
            match run(&rest, test) {
                Ok(value) => (
                    WithoutStudy {
                        study,
                        test: Some(value),
                    },
                    None,
                ),
                Err(e) => (
                    WithoutStudy {
                        study: study.clone(),
                        test: None,
                    },
                    Some(Warning::RefitFailed {
                        what: "without",
                        study,
                        error: e.to_string(),
                    }),
                ),
            }
        })
        .collect();
    let (studies, warnings): (Vec<_>, Vec<_>) = rows.into_iter().unzip();
    Ok(ModeratorLeaveOneOut {
        statistic: match test {
            ModeratorTest::Subgroup(_) => "Q_between",
            ModeratorTest::Regression(_) => "QM",
        },
        moderators: match test {
            ModeratorTest::Subgroup(options) => vec![options.by.clone()],
            ModeratorTest::Regression(options) => options.design.moderators.clone(),
        },
        all,
        studies,
        warnings: warnings.into_iter().flatten().collect(),
    })
}

fn run(dataset: &Dataset, test: &ModeratorTest) -> Result<TestValue, ModeratorTestError> {
    match test {
        ModeratorTest::Subgroup(options) => {
            let result = subgroup(dataset, options)?;
            match (result.q_between, result.q_between_p) {
                (Some(statistic), Some(p)) => Ok(TestValue {
                    statistic,
                    df: result.q_between_df,
                    p,
                }),
                _ => Err(ModeratorTestError::NoTest(options.by.clone())),
            }
        }
        ModeratorTest::Regression(options) => {
            let options = RegressionOptions {
                permutations: None,
                ..options.clone()
            };
            let result = regress(dataset, &options)?;
            Ok(TestValue {
                statistic: result.qm,
                df: result.qm_df,
                p: result.qm_p,
            })
        }
    }
}
