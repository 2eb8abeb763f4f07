//! Robust inference for an rma.uni-type model (pooling, meta-regression)
//! clustered by a moderator: the working covariance of cluster j is
//! Φ_j = diag(vᵢ + τ̂²), as clubSandwich's `targetVariance.rma.uni` takes it,
//! and the model's weights are 1/(vᵢ + τ̂²) (metafor `robust.rma.uni`).
//!
//! The cluster moderator holds an identifier, a number or text; usually the
//! study. Studies without a value are left out before the model is fitted,
//! with a warning, so that the model and its robust variance use the same studies.

use nalgebra::{DMatrix, DVector};

use super::RobustError;
use super::inference::{InferenceOptions, RobustResult, SmallSample, infer};
use super::sandwich::WorkingCluster;
use crate::data::dataset::Dataset;
use crate::data::moderator;
use crate::model::{FitOptions, intercept_design};
use crate::pool::{PoolResult, pool};
use crate::regression::{RegressionOptions, RegressionResult, design, regress};
use crate::warning::Warning;

/// What robust inference to make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RobustSpec {
    /// The moderator holding the cluster identifier.
    pub cluster: String,
    /// The small-sample correction.
    pub small_sample: SmallSample,
}

/// A fitted rma.uni-type model: outcomes, sampling variances, design,
/// estimates and τ̂² (0 for the common-effect model).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct UniModel<'a> {
    /// Outcomes.
    pub yi: &'a [f64],
    /// Sampling variances.
    pub vi: &'a [f64],
    /// The k × p design.
    pub x: &'a DMatrix<f64>,
    /// Estimates.
    pub beta: &'a [f64],
    /// τ̂².
    pub tau2: f64,
}

/// The clusters of `model`: `groups` lists each cluster's identifier and
/// its rows of the model.
pub fn working_clusters(
    model: &UniModel<'_>,
    groups: &[(String, Vec<usize>)],
) -> Vec<WorkingCluster> {
    let p = model.x.ncols();
    groups
        .iter()
        .map(|(id, rows)| {
            let x = DMatrix::from_fn(rows.len(), p, |r, c| model.x[(rows[r], c)]);
            let residuals = DVector::from_fn(rows.len(), |r, _| {
                let i = rows[r];
                model.yi[i] - (0..p).map(|c| model.x[(i, c)] * model.beta[c]).sum::<f64>()
            });
            let phi = DMatrix::from_diagonal(&DVector::from_fn(rows.len(), |r, _| {
                model.vi[rows[r]] + model.tau2
            }));
            WorkingCluster {
                id: id.clone(),
                x,
                residuals,
                phi,
            }
        })
        .collect()
}

/// Robust inference on `model` with the clusters `groups` (see [`working_clusters`]).
pub fn robust_uni(
    model: &UniModel<'_>,
    groups: &[(String, Vec<usize>)],
    options: &InferenceOptions<'_>,
) -> Result<RobustResult, RobustError> {
    infer(&working_clusters(model, groups), model.beta, options)
}

/// The studies of `dataset` with a value of the cluster moderator; the
/// others are left out with a warning added to the data set's warnings.
/// Errors when the moderator does not exist (listing those that do).
pub fn keep_clustered(dataset: &Dataset, cluster: &str) -> Result<Dataset, RobustError> {
    let column = moderator::column(dataset, cluster)?;
    let missing: Vec<String> = (0..dataset.studies.len())
        .filter(|&i| !column.is_present(i))
        .map(|i| dataset.studies[i].label().to_owned())
        .collect();
    let mut kept = Dataset {
        studies: (0..dataset.studies.len())
            .filter(|&i| column.is_present(i))
            .map(|i| dataset.studies[i].clone())
            .collect(),
        ..dataset.clone()
    };
    if !missing.is_empty() {
        kept.warnings.push(Warning::NoCluster {
            cluster: cluster.to_owned(),
            studies: missing,
        });
    }
    Ok(kept)
}

/// The clusters among the studies `rows` of `dataset` (indices into its
/// studies, in model order): each cluster's identifier and its positions in
/// `rows`, clusters in sorted order of the identifier.
pub fn cluster_groups(
    dataset: &Dataset,
    rows: &[usize],
    cluster: &str,
) -> Result<Vec<(String, Vec<usize>)>, RobustError> {
    let column = moderator::column(dataset, cluster)?;
    let mut position = vec![None; dataset.studies.len()];
    for (r, &i) in rows.iter().enumerate() {
        position[i] = Some(r);
    }
    Ok(moderator::groups(&column)
        .into_iter()
        .map(|(id, studies)| {
            (
                id,
                studies
                    .iter()
                    .filter_map(|&i| position[i])
                    .collect::<Vec<_>>(),
            )
        })
        .filter(|(_, members)| !members.is_empty())
        .collect())
}

/// The pooled model of the studies with a cluster value, and robust
/// inference on its estimate (metafor `robust(rma(yi, vi), cluster)`).
pub fn pooled(
    dataset: &Dataset,
    options: &FitOptions,
    spec: &RobustSpec,
) -> Result<(PoolResult, RobustResult), RobustError> {
    let dataset = keep_clustered(dataset, &spec.cluster)?;
    let result = pool(&dataset, options)?;
    let rows: Vec<usize> = (0..dataset.studies.len()).collect();
    let groups = cluster_groups(&dataset, &rows, &spec.cluster)?;
    let (yi, vi) = (dataset.yi(), dataset.vi());
    let x = intercept_design(yi.len());
    let model = UniModel {
        yi: &yi,
        vi: &vi,
        x: &x,
        beta: &[result.estimate.value],
        tau2: result.tau2,
    };
    let names = [design::INTERCEPT.to_owned()];
    let robust = robust_uni(
        &model,
        &groups,
        &InferenceOptions {
            names: &names,
            tested: &[],
            cluster: &spec.cluster,
            small_sample: spec.small_sample,
            level: options.level,
        },
    )?;
    Ok((result, robust))
}

/// The meta-regression of the studies with a cluster value, and robust
/// inference on its coefficients (metafor `robust(rma(yi, vi, mods), cluster)`).
pub fn regression(
    dataset: &Dataset,
    options: &RegressionOptions,
    spec: &RobustSpec,
) -> Result<(RegressionResult, RobustResult), RobustError> {
    let dataset = keep_clustered(dataset, &spec.cluster)?;
    let result = regress(&dataset, options)?;
    let design = design::build(&dataset, &options.design)?;
    let groups = cluster_groups(&dataset, &design.rows, &spec.cluster)?;
    let (yi, vi): (Vec<f64>, Vec<f64>) = result.studies.iter().map(|s| (s.yi, s.vi)).unzip();
    let beta: Vec<f64> = result
        .coefficients
        .iter()
        .map(|c| c.estimate.value)
        .collect();
    let names: Vec<String> = result.coefficients.iter().map(|c| c.name.clone()).collect();
    let model = UniModel {
        yi: &yi,
        vi: &vi,
        x: &design.x,
        beta: &beta,
        tau2: result.tau2,
    };
    let robust = robust_uni(
        &model,
        &groups,
        &InferenceOptions {
            names: &names,
            tested: &design.tested(),
            cluster: &spec.cluster,
            small_sample: spec.small_sample,
            level: options.fit.level,
        },
    )?;
    Ok((result, robust))
}

/// The pooled result as its robust inference reports it, so that every
/// number derived from the estimate agrees with the robust test (as
/// metafor's `predict(robust(res, cluster), transf = ...)`): the estimate's
/// SE, t statistic, p and CI and the df are the robust ones, and the
/// prediction interval is
///
/// μ̂ ± t_{α/2, df} · √(SE_robust² + τ̂²)
///
/// on the robust df; the back-transformed summary is recomputed from them.
/// Heterogeneity, weights and fit statistics are the working model's.
pub fn robust_pooled(result: &PoolResult, dataset: &Dataset, robust: &RobustResult) -> PoolResult {
    let Some(c) = robust.coefficients.first() else {
        return result.clone();
    };
    let mut out = result.clone();
    out.estimate = crate::estimate::Estimate {
        value: c.estimate,
        se: c.se,
        statistic: c.statistic,
        p: c.p,
        ci_lower: c.ci_lower,
        ci_upper: c.ci_upper,
    };
    out.df = c.df;
    out.robust = true;
    let alpha = 1.0 - robust.robust.level / 100.0;
    let crit = match c.df {
        Some(df) => crate::numerics::distribution::t_upper(alpha / 2.0, df),
        None => f64::NAN,
    };
    let half = crit * (c.se * c.se + result.tau2).sqrt();
    out.pi_lower = c.estimate - half;
    out.pi_upper = c.estimate + half;
    out.transformed =
        crate::pool::back_transform(dataset).map(|(scale, f)| crate::pool::Transformed {
            scale,
            estimate: f(c.estimate),
            ci_lower: f(c.ci_lower),
            ci_upper: f(c.ci_upper),
            pi_lower: f(out.pi_lower),
            pi_upper: f(out.pi_upper),
        });
    out
}
