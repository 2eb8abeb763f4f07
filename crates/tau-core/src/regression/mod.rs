//! Mixed-effects meta-regression: yᵢ = xᵢ'β + uᵢ + εᵢ with moderators in X,
//! fitted by weighted least squares with any τ² estimator of [`crate::model`]
//! (metafor `rma(yi, vi, mods = ~ ...)`; Thompson & Sharp 1999, Viechtbauer 2010).
//!
//! Besides the coefficients it reports:
//!
//! * the omnibus test of the moderators, QM = β̂ᵦ' V⁻¹ β̂ᵦ over all
//!   coefficients but the intercept: χ²(m) under z tests, QM/m ~ F(m, k − p)
//!   under Knapp-Hartung;
//! * the test for residual heterogeneity QE = Σ (yᵢ − xᵢ'β̂)²/vᵢ ~ χ²(k − p);
//! * residual τ², and I² = 100 τ̂²/(τ̂² + s̃²) with s̃² = (k − p)/tr(P);
//! * metafor's pseudo-R², the share of τ² the moderators account for:
//!   R² = max(0, 100 (τ̂²₀ − τ̂²)/τ̂²₀), with τ̂²₀ from the intercept-only model
//!   fitted by the same estimator (0 when τ̂²₀ = 0; Raudenbush 2009). For the
//!   common-effect model metafor reports instead the adjusted R² of the
//!   weighted least-squares fit, max(0, 100 (1 − (QE/(k − p)) / (Q₀/(k − 1)))),
//!   and so does tau. Without an intercept there is no R²;
//! * optionally, permutation p-values ([`crate::regression::permutation`]).

pub mod compare;
pub mod design;
pub mod permutation;
pub mod predict;
mod rank;
mod result;
pub mod sparse_design;
pub mod subset_test;

use nalgebra::DMatrix;

use crate::data::dataset::Dataset;
use crate::model::fit_statistics::mixed_effects;
use crate::model::generalised_q::generalised_q_ci;
use crate::model::tau2_uncertainty::tau2_se;
use crate::model::{
    FitError, FitOptions, Method, ModelMatrix, Weights, fit, fit_weighted, intercept_design,
    q_profile_ci,
};
use crate::warning::Warning;
pub use design::{Design, DesignError, DesignSpec, INTERCEPT, Layout};
use permutation::{Observed, PermutationError, PermutationSpec};
pub use result::{Coefficient, Prediction, RegressionResult, RegressionSettings, RegressionStudy};
use sparse_design::SparseRows;

/// Everything that decides a meta-regression.
#[derive(Debug, Clone, PartialEq)]
pub struct RegressionOptions {
    /// Estimator, test, level.
    pub fit: FitOptions,
    /// Moderators, reference levels, intercept.
    pub design: DesignSpec,
    /// A permutation test, if wanted.
    pub permutations: Option<PermutationSpec>,
}

/// Why a meta-regression failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum RegressionError {
    /// The model matrix could not be built.
    #[error(transparent)]
    Design(#[from] DesignError),
    /// The model could not be fitted.
    #[error(transparent)]
    Fit(#[from] FitError),
    /// The permutation test failed.
    #[error(transparent)]
    Permutation(#[from] PermutationError),
}

impl crate::Kinded for RegressionError {
    fn kind(&self) -> crate::ErrorKind {
        match self {
            RegressionError::Design(e) => crate::Kinded::kind(e),
            RegressionError::Fit(e) => crate::Kinded::kind(e),
            RegressionError::Permutation(e) => crate::Kinded::kind(e),
        }
    }
}

/// Fits the meta-regression of `options` to `dataset`.
///
/// ```
/// use tau_core::data::dataset::load_json;
/// use tau_core::regression::{DesignSpec, RegressionOptions, regress};
///
/// let dataset = load_json(r#"{"measure": "GEN", "studies": [
///     {"study": "A", "yi": 0.1, "vi": 0.04, "moderators": {"year": 1990}},
///     {"study": "B", "yi": 0.3, "vi": 0.05, "moderators": {"year": 1995}},
///     {"study": "C", "yi": 0.6, "vi": 0.03, "moderators": {"year": 2000}},
///     {"study": "D", "yi": 0.8, "vi": 0.06, "moderators": {"year": 2005}}
/// ]}"#, None)?;
/// let options = RegressionOptions {
///     fit: Default::default(),
///     design: DesignSpec {
///         moderators: vec!["year".into()],
///         references: Vec::new(),
///         intercept: true,
///     },
///     permutations: None,
/// };
/// let result = regress(&dataset, &options)?;
/// assert_eq!(result.coefficients.len(), 2); // intercept and year
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn regress(
    dataset: &Dataset,
    options: &RegressionOptions,
) -> Result<RegressionResult, RegressionError> {
    regress_with_progress(dataset, options, &|_| {})
}

/// [`regress()`], calling `progress(total)` once per permutation fitted
/// (never without permutations), e.g. to drive a progress bar. Both weight
/// by 1/(vᵢ + τ̂²) and refuse a data set with user weights, which
/// [`regress_weighted()`] uses.
pub fn regress_with_progress(
    dataset: &Dataset,
    options: &RegressionOptions,
    progress: &(dyn Fn(usize) + Sync),
) -> Result<RegressionResult, RegressionError> {
    crate::pool::refuse_user_weights(
        dataset,
        "a meta-regression with the weights 1/(vi + tau^2) (regress())",
    )?;
    run(dataset, options, true, progress, Storage::Auto)
}

/// [`regress_with_progress()`], weighted by the studies' user weights when
/// they have them (metafor `rma(yi, vi, mods = ..., weights = w)`), or, with
/// `weighted` false, with equal weights (`weighted = FALSE`; an error when
/// the studies have weights). See [`crate::model::weighting`].
pub fn regress_weighted(
    dataset: &Dataset,
    options: &RegressionOptions,
    weighted: bool,
    progress: &(dyn Fn(usize) + Sync),
) -> Result<RegressionResult, RegressionError> {
    run(dataset, options, weighted, progress, Storage::Auto)
}

/// The cluster of each row of the model (`rows`: indices into the studies
/// of `dataset`) by the moderator `by`, numbered 0, 1, … in sorted order;
/// an error when a row has no cluster or X differs within a cluster.
fn permutation_clusters(
    dataset: &Dataset,
    rows: &[usize],
    x: &nalgebra::DMatrix<f64>,
    by: &str,
) -> Result<Vec<usize>, PermutationError> {
    let column = crate::data::moderator::column(dataset, by)
        .map_err(|e| PermutationError::Clusters(e.to_string()))?;
    let mut cluster_of = vec![usize::MAX; dataset.studies.len()];
    let groups = crate::data::moderator::groups(&column);
    for (c, (_, members)) in groups.iter().enumerate() {
        for &i in members {
            cluster_of[i] = c;
        }
    }
    let mut first: Vec<Option<usize>> = vec![None; groups.len()];
    let mut out = Vec::with_capacity(rows.len());
    for (r, &i) in rows.iter().enumerate() {
        let c = cluster_of[i];
        if c == usize::MAX {
            return Err(PermutationError::Clusters(format!(
                "study '{}' has no value of \"{by}\", whose clusters the permutation test permutes: give every study a value, or filter it out",
                dataset.studies[i].label()
            )));
        }
        match first[c] {
            None => first[c] = Some(r),
            Some(f) if x.row(f) != x.row(r) => {
                return Err(PermutationError::VariesWithinCluster {
                    by: by.to_owned(),
                    cluster: groups[c].0.clone(),
                    study: dataset.studies[i].label().to_owned(),
                });
            }
            Some(_) => {}
        }
        out.push(c);
    }
    // Clusters without a row in the model are left out of the numbering.
    let mut dense = vec![usize::MAX; groups.len()];
    let mut next = 0;
    for &c in &out {
        if dense[c] == usize::MAX {
            dense[c] = next;
            next += 1;
        }
    }
    Ok(out.into_iter().map(|c| dense[c]).collect())
}

/// How the model matrix is held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Storage {
    /// Dense, unless it exceeds [`design::MAX_CELLS`].
    Auto,
    /// By its non-zero entries whatever its size (the tests compare both).
    #[cfg_attr(not(test), allow(dead_code))]
    Sparse,
}

fn run(
    dataset: &Dataset,
    options: &RegressionOptions,
    weighted: bool,
    progress: &(dyn Fn(usize) + Sync),
    storage: Storage,
) -> Result<RegressionResult, RegressionError> {
    if let Some(spec) = &options.permutations {
        spec.validate()?;
    }
    let (layout, matrix) = model_matrix(dataset, options, storage)?;
    let x = matrix.as_model();
    let studies: Vec<_> = layout.rows.iter().map(|&i| &dataset.studies[i]).collect();
    let yi: Vec<f64> = studies.iter().map(|s| s.yi).collect();
    let vi: Vec<f64> = studies.iter().map(|s| s.vi).collect();
    let user: Option<Vec<f64>> = studies
        .iter()
        .any(|s| s.weight().is_some())
        .then(|| studies.iter().map(|s| s.weight().unwrap_or(0.0)).collect());
    let weights = crate::pool::weights_of(user.as_deref(), weighted)?;
    if options.permutations.is_some() && weights != Weights::InverseVariance {
        return Err(FitError::NotWithWeights {
            what: "the permutation test (`permutations`)",
            remedy: "leave out `permutations`, or the weights",
        }
        .into());
    }
    let model = fit_weighted(&yi, &vi, x, &options.fit, weights)?;
    let tested = layout.tested();
    let omnibus = model.omnibus(&tested).map_err(FitError::from)?;
    let fit_statistics = mixed_effects(&yi, &vi, x, &model).map_err(FitError::from)?;
    let ci = match model.options.method {
        Method::EE => None,
        // metafor's confint() of a GENQ or GENQM fit.
        Method::GENQ | Method::GENQM => Some(
            generalised_q_ci(
                (&yi, &vi),
                x,
                &model.weights,
                model.tau2,
                model.typical_variance,
                options.fit.level,
            )
            .map_err(FitError::from)?,
        ),
        _ => Some(
            q_profile_ci(
                &yi,
                &vi,
                x,
                model.tau2,
                model.typical_variance,
                options.fit.level,
            )
            .map_err(FitError::from)?,
        ),
    };
    let r2 = if layout.intercept {
        pseudo_r2(&yi, &vi, x, &options.fit, &model, weights)
    } else {
        None
    };
    // A permutation test refits a dense X with its rows reordered, so with
    // one asked for the model matrix is dense ([`model_matrix`]).
    let permutation = match (&options.permutations, &matrix) {
        (Some(spec), Matrix::Dense(x)) => Some(permutation::permutest(
            &Observed {
                yi: &yi,
                vi: &vi,
                x,
                tested: &tested,
                statistics: &model.statistic,
                qm: omnibus.statistic,
                clusters: match &spec.by {
                    Some(by) => Some(permutation_clusters(dataset, &layout.rows, x, by)?),
                    None => None,
                }
                .as_deref(),
            },
            &options.fit,
            spec,
            progress,
        )?),
        _ => None,
    };
    let mut result = result::assemble(
        dataset,
        &layout,
        x,
        &model,
        result::Summaries {
            omnibus,
            ci,
            fit_statistics,
            r2,
            tau2_se: tau2_se(&vi, x, &model).map_err(FitError::from)?,
        },
        permutation,
    );
    result.settings.model.weights = weights.weighting();
    if let (Some(spec), Matrix::Dense(x)) = (&options.permutations, &matrix)
        && spec.by.is_none()
        && permutes_cluster_moderators(dataset, &layout.rows, x)
    {
        result.warnings.push(Warning::PermutedByRecord {
            by: LABEL_CLUSTERS.into(),
        });
    }
    Ok(result)
}

/// The moderator that holds a repeated study label ([`Warning::RepeatedLabels`]).
const LABEL_CLUSTERS: &str = "study";

/// Whether the records come in clusters (records sharing a label, kept as
/// the moderator `study`) within which every moderator is constant: their
/// permutation test should permute whole clusters, the units that are
/// exchangeable under the null hypothesis.
fn permutes_cluster_moderators(dataset: &Dataset, rows: &[usize], x: &DMatrix<f64>) -> bool {
    let has_clusters = rows
        .iter()
        .any(|&i| dataset.studies[i].moderators.contains_key(LABEL_CLUSTERS));
    if !has_clusters {
        return false;
    }
    match permutation_clusters(dataset, rows, x, LABEL_CLUSTERS) {
        Ok(clusters) => {
            let count = clusters.iter().max().map_or(0, |&c| c + 1);
            count < rows.len()
        }
        Err(_) => false,
    }
}

/// The model matrix: dense, or held by its non-zero entries when the dense
/// one would exceed [`design::MAX_CELLS`] (never with a permutation test,
/// which then stops at the size limit).
enum Matrix {
    Dense(DMatrix<f64>),
    Sparse(SparseRows),
}

impl Matrix {
    fn as_model(&self) -> &dyn ModelMatrix {
        match self {
            Matrix::Dense(x) => x,
            Matrix::Sparse(x) => x,
        }
    }
}

fn model_matrix(
    dataset: &Dataset,
    options: &RegressionOptions,
    storage: Storage,
) -> Result<(Layout, Matrix), DesignError> {
    if storage == Storage::Sparse && options.permutations.is_none() {
        let (layout, x) = sparse_design::build(dataset, &options.design)?;
        return Ok((layout, Matrix::Sparse(x)));
    }
    match design::build(dataset, &options.design) {
        Err(DesignError::TooLarge { .. }) if options.permutations.is_none() => {
            let (layout, x) = sparse_design::build(dataset, &options.design)?;
            Ok((layout, Matrix::Sparse(x)))
        }
        Err(DesignError::TooLarge {
            rows,
            columns,
            largest,
            largest_columns,
        }) => Err(DesignError::TooLargeToPermute {
            rows,
            columns,
            largest,
            largest_columns,
        }),
        built => {
            let design = built?;
            Ok((design.layout(), Matrix::Dense(design.x)))
        }
    }
}

/// metafor's R² (see the module docs); `None` when the intercept-only model
/// fails. For the common-effect model with user or equal weights aᵢ it is
/// the adjusted R² of that weighted fit, as metafor's
/// `lm(yi ~ X, weights = a)`: 1 − (Σaᵢeᵢ²/(k − p)) / (Σaᵢ(yᵢ − ȳₐ)²/(k − 1)).
fn pseudo_r2(
    yi: &[f64],
    vi: &[f64],
    x: &dyn ModelMatrix,
    options: &FitOptions,
    model: &crate::model::ModelFit,
    weights: Weights<'_>,
) -> Option<f64> {
    let null = fit(yi, vi, &intercept_design(yi.len()), options).ok()?;
    let r2 = if options.method == Method::EE {
        let k = yi.len() as f64;
        let mean = yi.iter().sum::<f64>() / k;
        let (rss, tss) = match weights {
            Weights::InverseVariance => (model.q, null.q),
            Weights::User(_) | Weights::Equal => weighted_sums(yi, x, model),
        };
        if yi.iter().all(|y| *y == mean) || tss == 0.0 {
            0.0
        } else {
            1.0 - (rss / model.q_df as f64) / (tss / (k - 1.0))
        }
    } else if null.tau2 == 0.0 {
        0.0
    } else {
        (null.tau2 - model.tau2) / null.tau2
    };
    Some((100.0 * r2).max(0.0))
}

/// Σaᵢeᵢ² of the model's residuals and Σaᵢ(yᵢ − ȳₐ)² about the weighted
/// mean, with the model's weights aᵢ (the fitted values from its β̂).
fn weighted_sums(yi: &[f64], x: &dyn ModelMatrix, model: &crate::model::ModelFit) -> (f64, f64) {
    let a = &model.weights;
    let mean = yi.iter().zip(a).map(|(y, w)| w * y).sum::<f64>() / a.iter().sum::<f64>();
    let tss = yi.iter().zip(a).map(|(y, w)| w * (y - mean).powi(2)).sum();
    let fitted = x.times(&nalgebra::DVector::from_column_slice(&model.beta));
    let rss = yi
        .iter()
        .zip(&fitted)
        .zip(a)
        .map(|((y, f), w)| w * (y - f).powi(2))
        .sum();
    (rss, tss)
}

#[cfg(test)]
mod tests;
