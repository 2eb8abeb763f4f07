//! Multilevel meta-analysis: metafor's `rma.mv` with nested random effects,
//! for effect sizes that depend on each other within studies.
//!
//! The model is y = Xβ + Σₗ uₗ + e with uₗ ~ N(0, σ²ₗ) for each nested level
//! of `random = A/B/C` (B nested in A, C in B) and e ~ N(0, V). V is diagonal
//! (the vᵢ), or with `rho` block-diagonal by the outermost cluster with
//! Cov(eᵢ, eⱼ) = ρ√(vᵢvⱼ), as metafor's `vcalc(vi, cluster = A, obs = row,
//! rho = ρ)`. With `random = study/es_id` and one es_id per record this is the
//! three-level model (Van den Noortgate et al. 2013; Assink & Wibbelink 2016).
//!
//! * [`structure`]: the nesting, the outermost clusters as blocks;
//! * [`likelihood`]: REML/ML log-likelihood with gradient and Hessian,
//!   cluster by cluster (no k×k matrix);
//! * [`optimise`]: Newton/Fisher scoring on σ² ≥ 0;
//! * [`fit`](mod@fit): coefficients, QM, QE, fit statistics;
//! * [`profile`], [`lrt`], [`i2`]: profile-likelihood CIs of each σ², the
//!   likelihood-ratio test of each level, I² per level;
//! * [`result`]: the result, whose field names are the JSON contract;
//! * [`subgroup`](mod@subgroup): subgroups as a factor with common variance
//!   components, and the test of their differences.

pub mod compare;
pub mod fit;
pub mod general;
pub mod i2;
pub mod likelihood;
pub mod lrt;
pub(crate) mod marginal;
pub mod nested;
pub mod optimise;
pub mod profile;
pub mod ranef;
pub mod result;
pub mod structure;
pub mod subgroup;
pub mod vcalc;

use nalgebra::DMatrix;
use serde::Serialize;

use crate::data::dataset::Dataset;
use crate::data::moderator::moderator_names;
use crate::error_kind::ErrorKind;
use crate::fields::{FIT_ONLY, MAX_ITER, METHOD, RANDOM, RHO, STRUCT};
use crate::input::Moderator;
use crate::input::moderators::FnvMap;
use crate::model::Method;
use crate::model::wls::log_det_spd;
use crate::regression::design::{self, DesignError, DesignSpec};
use crate::warning::Warning;
use likelihood::Problem;
pub use result::{MultilevelResult, MultilevelSettings, StructuredParameters};
use structure::{LevelIssue, MAX_LEVELS, Structure};
pub use subgroup::{MultilevelGroup, MultilevelSubgroups, fit_subgroups};

/// How the coefficients are tested (metafor's `test` of `rma.mv`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Test {
    /// Wald-type z tests (the default).
    Z,
    /// t tests with k − p degrees of freedom (`test = "t"`).
    T,
}

impl Test {
    /// Parses `z` or `t` (case-insensitive).
    pub fn parse(name: &str) -> Option<Test> {
        match name.to_ascii_lowercase().as_str() {
            "z" => Some(Test::Z),
            "t" => Some(Test::T),
            _ => None,
        }
    }
}

/// Everything that decides a multilevel model.
#[derive(Debug, Clone, PartialEq)]
pub struct MultilevelOptions {
    /// The grouping variables, outermost first (`--random study/es_id`).
    pub random: Vec<String>,
    /// Correlation of the sampling errors within an outermost cluster.
    pub rho: Option<f64>,
    /// REML or ML.
    pub method: Method,
    /// z or t.
    pub test: Test,
    /// Confidence level in percent.
    pub level: f64,
    /// Iteration limit of the optimiser.
    pub max_iter: usize,
    /// Moderators; `None` for the intercept-only model.
    pub design: Option<DesignSpec>,
    /// Whether to compute the profile-likelihood CIs of the σ².
    pub profile: bool,
    /// Whether to test each level by a likelihood-ratio test.
    pub level_tests: bool,
}

impl Default for MultilevelOptions {
    fn default() -> Self {
        MultilevelOptions {
            random: Vec::new(),
            rho: None,
            method: Method::REML,
            test: Test::Z,
            level: 95.0,
            max_iter: 100,
            design: None,
            profile: true,
            level_tests: true,
        }
    }
}

/// Why a multilevel model could not be fitted.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum MultilevelError {
    /// No grouping variable.
    #[error("no grouping variables: name the levels outermost first, e.g. {RANDOM} study/es_id")]
    NoLevels,
    /// A grouping variable named twice.
    #[error("grouping variable '{0}' is named twice in the random effects; name each level once")]
    RepeatedLevel(String),
    /// Too many levels.
    #[error("{0} nested levels are more than the {MAX_LEVELS} tau fits; drop levels from {RANDOM}")]
    TooManyLevels(usize),
    /// An estimator other than REML or ML.
    #[error(
        "the {0} estimator cannot be used for a multilevel model: its variance components are estimated by REML or ML ({METHOD} REML or {METHOD} ML)"
    )]
    Method(&'static str),
    /// ρ outside [0, 1).
    #[error(
        "rho must lie in [0, 1) (got {0}): it is the correlation between the sampling errors of effect sizes in the same cluster, e.g. {RHO} 0.6"
    )]
    BadRho(f64),
    /// The level is outside (0, 100).
    #[error("the confidence level must lie strictly between 0 and 100, e.g. 95 (got {0})")]
    BadLevel(f64),
    /// A grouping variable that no record has.
    #[error("no study has a grouping variable named '{name}'; {}", grouping_phrase(.available))]
    UnknownGrouping {
        /// The name asked for.
        name: String,
        /// The moderators there are.
        available: Vec<String>,
    },
    /// Every record lacks a grouping value.
    #[error(
        "no study has a value for every grouping variable ({}): add them to each record under \"moderators\"",
        .0.join(", ")
    )]
    NoCompleteStudies(Vec<String>),
    /// The model matrix could not be built.
    #[error(transparent)]
    Design(#[from] DesignError),
    /// Too few effect sizes.
    #[error(
        "{k} effect size{} for {p} coefficient{}: at least {} are needed to fit a multilevel model; add studies or drop moderators",
        if *k == 1 { "" } else { "s" }, if *p == 1 { "" } else { "s" }, p + 1
    )]
    TooFew {
        /// Effect sizes.
        k: usize,
        /// Coefficients.
        p: usize,
    },
    /// A sampling variance that is not positive and finite.
    #[error("study '{study}': the sampling variance must be positive and finite (got {value})")]
    BadVariance {
        /// The study label.
        study: String,
        /// The value.
        value: f64,
    },
    /// A block of V (or of the marginal covariance) is not positive definite.
    #[error(
        "the covariance matrix of the effect sizes in cluster '{cluster}' is not positive definite: check their sampling variances (and {RHO})"
    )]
    NotPositiveDefinite {
        /// The outermost cluster's label.
        cluster: String,
    },
    /// With ρ, an outermost cluster too large for its dense covariance block.
    #[error(
        "cluster '{cluster}' holds {size} effect sizes: with {RHO} each cluster's covariance matrix is factorised as a whole (memory n^2, time n^3 per likelihood evaluation), and tau fits clusters of at most {max} effect sizes that way; split the cluster (a finer outermost level in {RANDOM}), or leave out {RHO}"
    )]
    RhoClusterTooLarge {
        /// The outermost cluster's label.
        cluster: String,
        /// Its number of effect sizes.
        size: usize,
        /// [`MAX_RHO_CLUSTER`].
        max: usize,
    },
    /// X'WX is singular.
    #[error("the model matrix X'WX is singular: a moderator is constant or collinear with others")]
    Singular,
    /// The optimiser did not converge.
    #[error(
        "the estimation of the variance components did not converge within {iterations} iterations (largest gradient {gradient:.3e}, last change in a sigma^2 {change:.3e}); raise the limit with {MAX_ITER}, or drop a level with few units from {RANDOM}"
    )]
    NotConverged {
        /// Iterations used.
        iterations: usize,
        /// Largest absolute gradient.
        gradient: f64,
        /// Last change in a σ².
        change: f64,
    },
    /// A random term that cannot be read.
    #[error("random term '{term}': {problem}")]
    BadTerm {
        /// The term as written.
        term: String,
        /// What is wrong and how to write it.
        problem: String,
    },
    /// Structured terms and structures do not pair up.
    #[error(
        "{terms} structured random term{} (inner | outer) but {structs} structure{} in {STRUCT}: give one structure (CS, HCS, UN, DIAG, ID, AR, HAR, CAR or GEN) per structured term, in order",
        if *terms == 1 { "" } else { "s" }, if *structs == 1 { "" } else { "s" }
    )]
    StructCount {
        /// Structured terms.
        terms: usize,
        /// Structures given.
        structs: usize,
    },
    /// A known covariance or correlation matrix that cannot be used.
    #[error("{what}: {problem}")]
    KnownMatrix {
        /// Which matrix (and entry).
        what: String,
        /// What is wrong and how to fix it.
        problem: String,
    },
    /// User weights (metafor's `W`) that cannot be used.
    #[error("user weights (the weight field; metafor's rma.mv W): {0}")]
    Weights(String),
    /// More than two structured terms.
    #[error(
        "{0} structured random terms (inner | outer): a model has at most two (metafor's G and H matrices); write the others as ~ 1 | g terms"
    )]
    TooManyStructured(usize),
    /// The search for a limit of a profile-likelihood CI did not end.
    #[error(
        "the profile-likelihood CI of the sigma^2 of level '{level}' was not found within {refits} refits of the model; leave the CIs out with {FIT_ONLY}, and please report the data set"
    )]
    ProfileCi {
        /// The level.
        level: String,
        /// Refits tried.
        refits: usize,
    },
    /// The subgroup moderator cannot make subgroups.
    #[error("subgroups by '{by}': {problem}")]
    Subgroup {
        /// The moderator.
        by: String,
        /// What is wrong.
        problem: String,
    },
    /// `--levels` names a level the subgroup moderator does not have, names
    /// one twice, or leaves one out.
    #[error(transparent)]
    Levels(crate::subgroup::SubgroupError),
}

impl crate::Kinded for MultilevelError {
    fn kind(&self) -> ErrorKind {
        match self {
            MultilevelError::Design(e) => crate::Kinded::kind(e),
            MultilevelError::Singular
            | MultilevelError::NotConverged { .. }
            | MultilevelError::ProfileCi { .. } => ErrorKind::Analysis,
            _ => ErrorKind::Input,
        }
    }
}

fn grouping_phrase(available: &[String]) -> String {
    if available.is_empty() {
        "the file has no moderators: add the grouping variables (e.g. study, es_id) to each record under \"moderators\"".into()
    } else {
        format!(
            "the moderators in the file are: {} (names are case-sensitive)",
            available.join(", ")
        )
    }
}

/// The model matrix of a multilevel model and what goes with it.
pub(crate) struct ModelMatrix {
    /// k × p, one row per record used.
    pub x: DMatrix<f64>,
    /// Coefficient names.
    pub names: Vec<String>,
    /// The records used (indices into the data set).
    pub rows: Vec<usize>,
    /// The coefficients the omnibus test covers.
    pub tested: Vec<usize>,
    /// Records left out for a missing moderator.
    pub dropped: Vec<String>,
}

/// The model matrix of `design` on `data` (an intercept without one); records
/// missing a moderator are left out with a warning. Refuses fewer records
/// than coefficients and a sampling variance that is not positive and finite.
pub(crate) fn model_matrix(
    data: &Dataset,
    design: Option<&DesignSpec>,
    warnings: &mut Vec<Warning>,
) -> Result<ModelMatrix, MultilevelError> {
    let matrix = match design {
        Some(spec) => {
            let d = design::build(data, spec)?;
            if !d.dropped.is_empty() {
                warnings.push(Warning::MissingModerators {
                    studies: d
                        .dropped
                        .iter()
                        .map(|s| format!("{} (no {})", s.study, s.missing.join(", ")))
                        .collect(),
                });
            }
            ModelMatrix {
                tested: d.tested(),
                dropped: d.dropped.iter().map(|s| s.study.clone()).collect(),
                x: d.x,
                names: d.names,
                rows: d.rows,
            }
        }
        None => {
            let k = data.studies.len();
            ModelMatrix {
                x: DMatrix::from_element(k, 1, 1.0),
                names: vec![crate::regression::INTERCEPT.to_owned()],
                rows: (0..k).collect(),
                tested: Vec::new(),
                dropped: Vec::new(),
            }
        }
    };
    let (k, p) = matrix.x.shape();
    if k <= p {
        return Err(MultilevelError::TooFew { k, p });
    }
    for &i in &matrix.rows {
        let study = &data.studies[i];
        if !(study.vi.is_finite() && study.vi > 0.0) {
            return Err(MultilevelError::BadVariance {
                study: study.label().to_owned(),
                value: study.vi,
            });
        }
    }
    Ok(matrix)
}

/// A grouping value as a label: numbers and text alike (`None`: missing,
/// and the record is left out of the model).
pub fn grouping_label(value: &Moderator) -> Option<String> {
    grouping_text(value, &mut String::new()).map(str::to_owned)
}

/// [`grouping_label`] without an allocation for text and truth values: a
/// number is written into `buffer`.
pub(crate) fn grouping_text<'a>(value: &'a Moderator, buffer: &'a mut String) -> Option<&'a str> {
    use std::fmt::Write;
    match value {
        Moderator::Number(x) => {
            buffer.clear();
            let _ = write!(buffer, "{x}");
            Some(buffer)
        }
        Moderator::Text(s) => Some(s),
        Moderator::Bool(b) => Some(if *b { "true" } else { "false" }),
        Moderator::Missing => None,
    }
}

/// The labels of one grouping variable, numbered in order of appearance.
#[derive(Default)]
struct LabelTable {
    numbers: FnvMap<String, u32>,
    /// The number of each numeric value seen (by its bits), so that a
    /// number is written out once, not once per record.
    values: FnvMap<u64, u32>,
    labels: Vec<String>,
    /// A number written out, reused from record to record.
    buffer: String,
}

impl LabelTable {
    /// The number of `value`'s label (as [`grouping_label`] writes it);
    /// `None` for a missing value.
    fn number(&mut self, value: &Moderator) -> Option<u32> {
        if let Moderator::Number(x) = value {
            // Values with other bits may still write the same label:
            // text_number gives them the same number.
            let bits = x.to_bits();
            if let Some(&number) = self.values.get(&bits) {
                return Some(number);
            }
            let number = self.text_number(value)?;
            self.values.insert(bits, number);
            return Some(number);
        }
        self.text_number(value)
    }

    /// [`LabelTable::number`] by the label written out.
    fn text_number(&mut self, value: &Moderator) -> Option<u32> {
        let label = grouping_text(value, &mut self.buffer)?;
        if let Some(&number) = self.numbers.get(label) {
            return Some(number);
        }
        let number = self.labels.len() as u32;
        self.numbers.insert(label.to_owned(), number);
        self.labels.push(label.to_owned());
        Some(number)
    }
}

/// The most effect sizes an outermost cluster may hold when `rho` is set.
/// The likelihood then factorises each cluster's n × n covariance matrix
/// (O(n²) memory, O(n³) time per evaluation, and a fit takes dozens of
/// evaluations, its profile CIs hundreds): 20,000 effect sizes in one cluster
/// needed 3.2 GB and did not finish. Refused past this size, before fitting.
pub const MAX_RHO_CLUSTER: usize = 1000;

/// Fits the multilevel model of `options` to `dataset`.
pub fn fit(
    dataset: &Dataset,
    options: &MultilevelOptions,
) -> Result<MultilevelResult, MultilevelError> {
    Prepared::new(dataset, options)?.fit(options)
}

/// A multilevel model's data as [`fit`] uses them: the records kept (those
/// with every grouping value and moderator), the model matrix and the
/// nesting. Robust inference ([`crate::robust::multilevel`]) builds its
/// working clusters from the same.
pub(crate) struct Prepared<'d> {
    /// The records with every grouping value (all of `dataset`, or a copy without the others).
    pub data: std::borrow::Cow<'d, Dataset>,
    /// The model matrix, one row per record used, in the order of `rows`.
    pub x: DMatrix<f64>,
    /// The coefficient names.
    pub coefficient_names: Vec<String>,
    /// `rows[r]`: the index in `data.studies` of model row r.
    pub rows: Vec<usize>,
    /// The coefficients QM tests.
    pub tested: Vec<usize>,
    /// Records left out for a missing moderator.
    pub dropped: Vec<String>,
    /// The nesting of the model rows.
    pub structure: Structure,
    /// The sampling variances of the model rows.
    pub vi: Vec<f64>,
    /// Warnings so far.
    pub warnings: Vec<Warning>,
}

impl<'d> Prepared<'d> {
    /// Checks the options and the records and prepares the model.
    pub(crate) fn new(
        dataset: &'d Dataset,
        options: &MultilevelOptions,
    ) -> Result<Prepared<'d>, MultilevelError> {
        check_options(options)?;
        let names = &options.random;
        for name in names {
            if !dataset.studies.iter().any(|s| {
                s.moderators
                    .get(name)
                    .is_some_and(|m| !matches!(m, Moderator::Missing))
            }) {
                if dataset
                    .studies
                    .iter()
                    .any(|s| s.moderators.contains_key(name))
                {
                    return Err(MultilevelError::NoCompleteStudies(names.clone()));
                }
                return Err(MultilevelError::UnknownGrouping {
                    name: name.clone(),
                    available: moderator_names(dataset),
                });
            }
        }
        // Records without a grouping value are left out. Each level's labels
        // are numbered in a table of their own (one copy of each label, not
        // one per record).
        let mut warnings = Vec::new();
        let mut tables: Vec<LabelTable> = names.iter().map(|_| LabelTable::default()).collect();
        let mut groups: Vec<Vec<u32>> =
            vec![Vec::with_capacity(dataset.studies.len()); names.len()];
        let mut missing: Vec<String> = Vec::new();
        let mut keep = Vec::with_capacity(dataset.studies.len());
        let mut ids = vec![0u32; names.len()];
        for study in &dataset.studies {
            let complete = names
                .iter()
                .zip(&mut tables)
                .zip(&mut ids)
                .all(|((n, table), id)| {
                    match study
                        .moderators
                        .get(n)
                        .and_then(|value| table.number(value))
                    {
                        Some(number) => {
                            *id = number;
                            true
                        }
                        None => false,
                    }
                });
            keep.push(complete);
            if complete {
                for (g, &id) in groups.iter_mut().zip(&ids) {
                    g.push(id);
                }
            } else {
                missing.push(study.label().to_owned());
            }
        }
        if groups[0].is_empty() {
            return Err(MultilevelError::NoCompleteStudies(names.clone()));
        }
        let data = if missing.is_empty() {
            std::borrow::Cow::Borrowed(dataset)
        } else {
            warnings.push(Warning::NoGrouping {
                variables: names.clone(),
                studies: missing.clone(),
            });
            let mut flags = keep.iter();
            let mut copy = dataset.clone();
            copy.studies.retain(|_| *flags.next().unwrap_or(&false));
            std::borrow::Cow::Owned(copy)
        };
        // The model matrix; records missing a moderator are left out too.
        let ModelMatrix {
            x,
            names: coefficient_names,
            rows,
            tested,
            dropped,
        } = model_matrix(&data, options.design.as_ref(), &mut warnings)?;
        // Only the outermost labels are needed from here (for messages).
        let outer = std::mem::take(&mut tables[0].labels);
        drop(tables);
        let labels: Vec<Vec<u32>> = if rows.len() == groups[0].len() {
            groups
        } else {
            groups
                .iter()
                .map(|g| rows.iter().map(|&i| g[i]).collect())
                .collect()
        };
        let structure = Structure::new(names, &labels, |id| {
            outer.get(id as usize).cloned().unwrap_or_default()
        });
        drop(labels);
        if options.rho.is_some()
            && let Some((index, block)) =
                (structure.blocks.iter().enumerate()).find(|(_, b)| b.len > MAX_RHO_CLUSTER)
        {
            return Err(MultilevelError::RhoClusterTooLarge {
                cluster: structure.labels.get(index).cloned().unwrap_or_default(),
                size: block.len,
                max: MAX_RHO_CLUSTER,
            });
        }
        for LevelIssue { level } in structure.issues() {
            warnings.push(Warning::LevelNotIdentifiable {
                inner: names[level].clone(),
                outer: names[level - 1].clone(),
                level: structure.names[level].clone(),
            });
        }
        let vi: Vec<f64> = rows.iter().map(|&i| data.studies[i].vi).collect();
        Ok(Prepared {
            data,
            x,
            coefficient_names,
            rows,
            tested,
            dropped,
            structure,
            vi,
            warnings,
        })
    }

    /// The likelihood problem, rows in the blocked order of the structure.
    pub(crate) fn problem(
        &self,
        options: &MultilevelOptions,
    ) -> Result<Problem<'_>, MultilevelError> {
        let (x, rows, p) = (&self.x, &self.rows, self.x.ncols());
        let order = &self.structure.order;
        Ok(Problem {
            structure: &self.structure,
            y: order
                .iter()
                .map(|&r| self.data.studies[rows[r]].yi)
                .collect(),
            v: order.iter().map(|&r| self.vi[r]).collect(),
            x: order
                .iter()
                .flat_map(|&r| (0..p).map(move |c| (r, c)))
                .map(|(r, c)| x[(r, c)])
                .collect(),
            p,
            rho: options.rho.unwrap_or(0.0),
            reml: options.method == Method::REML,
            log_det_xtx: log_det_spd(&(x.transpose() * x))
                .map_err(|_| MultilevelError::Singular)?,
        })
    }

    /// Fits the model.
    pub(crate) fn fit(
        &self,
        options: &MultilevelOptions,
    ) -> Result<MultilevelResult, MultilevelError> {
        let problem = self.problem(options)?;
        result::assemble(
            &self.data,
            options,
            &problem,
            &result::Model {
                x: &self.x,
                vi: &self.vi,
                coefficient_names: self.coefficient_names.clone(),
                tested: self.tested.clone(),
                dropped: self.dropped.clone(),
            },
            self.warnings.clone(),
        )
    }
}

fn check_options(options: &MultilevelOptions) -> Result<(), MultilevelError> {
    let names = &options.random;
    if names.is_empty() {
        return Err(MultilevelError::NoLevels);
    }
    if names.len() > MAX_LEVELS {
        return Err(MultilevelError::TooManyLevels(names.len()));
    }
    for (i, name) in names.iter().enumerate() {
        if names[..i].contains(name) {
            return Err(MultilevelError::RepeatedLevel(name.clone()));
        }
    }
    if !matches!(options.method, Method::REML | Method::ML) {
        return Err(MultilevelError::Method(options.method.name()));
    }
    if let Some(rho) = options.rho
        && !(0.0..1.0).contains(&rho)
    {
        return Err(MultilevelError::BadRho(rho));
    }
    if !(options.level > 0.0 && options.level < 100.0) {
        return Err(MultilevelError::BadLevel(options.level));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
