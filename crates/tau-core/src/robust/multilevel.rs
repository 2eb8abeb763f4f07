//! Robust inference for a multilevel (rma.mv-type) working model clustered
//! by a moderator, as metafor's `robust(rma.mv(...), cluster,
//! clubSandwich = TRUE)` computes it through clubSandwich's `vcovCR.rma.mv`.
//!
//! The working covariance of robust cluster j is the model's marginal
//! covariance block Φ_j = V_j + Σ_l σ̂²_l Z_lj Z_lj' (clubSandwich
//! `targetVariance.rma.mv`: the cluster's block of metafor's `M`), with V_j
//! holding the vcalc correlations ρ√(vᵢvⱼ) when `rho` is set, and the weights
//! are W_j = Φ_j⁻¹ (`weightMatrix.rma.mv` without user weights). The
//! residuals are e_j = y_j − X_j β̂ with β̂ the model's GLS estimates.
//!
//! The random effects must be nested in the robust clusters: every outermost
//! cluster of the random effects (and so every unit below it) lies in one
//! robust cluster. A robust cluster may hold several outermost clusters (a
//! coarser clustering, e.g. labs holding studies): its Φ_j is then their
//! blocks side by side. An outermost cluster that spans two robust clusters
//! is an error, as in clubSandwich ("Random effects are not nested within
//! clustering variable"); metafor's own `robust(adjust = TRUE)` would
//! accept it, but then the robust clusters are not independent under the
//! working model.
//!
//! Records without a cluster value are left out before the model is fitted,
//! with a warning, so that the model and its robust variance use the same
//! records. No k × k matrix is formed: each robust cluster's block is built
//! and factored on its own ([`super::sandwich`]).

use nalgebra::{DMatrix, DVector};

use super::RobustError;
use super::inference::{InferenceOptions, RobustResult, infer};
use super::sandwich::WorkingCluster;
use super::uni::{RobustSpec, keep_clustered};
use crate::data::dataset::Dataset;
use crate::data::moderator;
use crate::multilevel::fit::eval_error;
use crate::multilevel::likelihood::Problem;
use crate::multilevel::subgroup::as_factor;
use crate::multilevel::{
    MultilevelOptions, MultilevelResult, MultilevelSubgroups, Prepared, fit_subgroups,
};
use crate::regression::DesignSpec;

/// Fits the multilevel model of `options` to the records of `dataset` with
/// a value of the cluster moderator, and makes robust inference on its
/// coefficients (metafor `robust(rma.mv(...), cluster)`).
pub fn fitted(
    dataset: &Dataset,
    options: &MultilevelOptions,
    spec: &RobustSpec,
) -> Result<(MultilevelResult, RobustResult), RobustError> {
    let kept = keep_clustered(dataset, &spec.cluster)?;
    let prepared = Prepared::new(&kept, options)?;
    let result = prepared.fit(options)?;
    let mut robust = robust_at(&prepared, options, &result.sigma2, spec)?;
    robust.warnings.splice(
        0..0,
        kept.warnings[dataset.warnings.len()..].iter().cloned(),
    );
    Ok((result, robust))
}

/// The multilevel subgroup analysis of `by` ([`fit_subgroups`]), and robust
/// inference on it ([`super::subgroup::means`]): the robust means of the
/// cell-means model (metafor `robust(rma.mv(yi, V, mods = ~ factor(by) - 1,
/// ...), cluster)`) in the order of the groups, with the robust HTZ test of
/// the non-intercept coefficients of `mods = ~ factor(by)` as the test of
/// the subgroup differences. `options.design` is ignored.
pub fn subgroups(
    dataset: &Dataset,
    options: &MultilevelOptions,
    by: &str,
    order: Option<&[String]>,
    spec: &RobustSpec,
) -> Result<(MultilevelSubgroups, RobustResult), RobustError> {
    let kept = keep_clustered(dataset, &spec.cluster)?;
    let result = fit_subgroups(&kept, options, by, order)?;
    let factor = |intercept| MultilevelOptions {
        design: Some(DesignSpec {
            moderators: vec![by.to_owned()],
            references: Vec::new(),
            intercept,
        }),
        profile: false,
        level_tests: false,
        ..options.clone()
    };
    let data = as_factor(dataset, by);
    let (_, contrasts) = fitted(&data, &factor(true), spec)?;
    let (_, cell) = fitted(&data, &factor(false), spec)?;
    let levels: Vec<String> = result.groups.iter().map(|g| g.level.clone()).collect();
    let robust = super::subgroup::means(cell, &contrasts, by, &levels);
    Ok((result, robust))
}

/// Robust inference on the multilevel model of `options` with its variance
/// components fixed at `sigma2` (outermost level first), as for metafor's
/// `rma.mv(..., sigma2 = sigma2)`: β̂ is the GLS estimate at `sigma2`.
pub fn at_sigma2(
    dataset: &Dataset,
    options: &MultilevelOptions,
    sigma2: &[f64],
    spec: &RobustSpec,
) -> Result<RobustResult, RobustError> {
    let kept = keep_clustered(dataset, &spec.cluster)?;
    let prepared = Prepared::new(&kept, options)?;
    let levels = prepared.structure.levels();
    if sigma2.len() != levels || sigma2.iter().any(|s| !(s.is_finite() && *s >= 0.0)) {
        return Err(RobustError::Sigma2 {
            levels,
            given: sigma2.to_vec(),
        });
    }
    robust_at(&prepared, options, sigma2, spec)
}

/// Robust inference on the prepared model at `sigma2`.
pub(crate) fn robust_at(
    prepared: &Prepared<'_>,
    options: &MultilevelOptions,
    sigma2: &[f64],
    spec: &RobustSpec,
) -> Result<RobustResult, RobustError> {
    let problem = prepared.problem(options)?;
    let labels = &prepared.structure.labels;
    let eval = problem
        .evaluate(sigma2, false)
        .map_err(|e| RobustError::Multilevel(eval_error(e, labels)))?;
    let beta: Vec<f64> = eval.beta.iter().copied().collect();
    let clusters = working_clusters(prepared, &problem, sigma2, &beta, &spec.cluster)?;
    infer(
        &clusters,
        &beta,
        &InferenceOptions {
            names: &prepared.coefficient_names,
            tested: &prepared.tested,
            cluster: &spec.cluster,
            small_sample: spec.small_sample,
            level: options.level,
        },
    )
}

/// The working clusters of the model at `sigma2` with estimates `beta`: the
/// outermost blocks of the random effects grouped by the robust cluster
/// moderator `cluster`, in sorted order of its values.
fn working_clusters(
    prepared: &Prepared<'_>,
    problem: &Problem<'_>,
    sigma2: &[f64],
    beta: &[f64],
    cluster: &str,
) -> Result<Vec<WorkingCluster>, RobustError> {
    let structure = &prepared.structure;
    let column = moderator::column(&prepared.data, cluster)?;
    let groups = moderator::groups(&column);
    // The robust cluster of each record of the data set.
    let mut group_of = vec![usize::MAX; prepared.data.studies.len()];
    for (g, (_, studies)) in groups.iter().enumerate() {
        for &i in studies {
            group_of[i] = g;
        }
    }
    let study = |r: usize| prepared.rows[structure.order[r]];
    // The outermost blocks of each robust cluster.
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); groups.len()];
    for (b, block) in structure.blocks.iter().enumerate() {
        let g = group_of[study(block.start)];
        let rows = block.start..block.start + block.len;
        if let Some(r) = rows.clone().find(|&r| group_of[study(r)] != g) {
            let name = |g: usize| groups.get(g).map_or(String::new(), |(id, _)| id.clone());
            return Err(RobustError::NotNested {
                outer: structure.names[0].clone(),
                unit: structure.labels[b].clone(),
                cluster: cluster.to_owned(),
                values: [name(g), name(group_of[study(r)])],
            });
        }
        if let Some(m) = members.get_mut(g) {
            m.push(b);
        }
    }
    let p = problem.p;
    Ok(groups
        .iter()
        .zip(&members)
        .filter(|(_, blocks)| !blocks.is_empty())
        .map(|((id, _), blocks)| {
            let rows: Vec<usize> = blocks
                .iter()
                .flat_map(|&b| {
                    let block = &structure.blocks[b];
                    block.start..block.start + block.len
                })
                .collect();
            let n = rows.len();
            let x = DMatrix::from_fn(n, p, |a, c| problem.x[rows[a] * p + c]);
            let residuals = DVector::from_fn(n, |a, _| {
                let r = rows[a];
                problem.y[r] - (0..p).map(|c| problem.x[r * p + c] * beta[c]).sum::<f64>()
            });
            let mut phi = DMatrix::zeros(n, n);
            let mut at = 0;
            for &b in blocks {
                let m = problem.marginal_block(b, sigma2);
                let len = m.nrows();
                phi.view_mut((at, at), (len, len)).copy_from(&m);
                at += len;
            }
            WorkingCluster {
                id: id.clone(),
                x,
                residuals,
                phi,
            }
        })
        .collect())
}

/// The multilevel result as its robust inference reports it (metafor's
/// `predict(robust(rma.mv(...)))`): the summary's (or each coefficient's) SE,
/// t test and CI, the df and `vcov` are the robust ones, and the
/// prediction interval of an intercept-only model is
/// μ̂ ± t_{α/2, df} · √(SE_robust² + Σσ̂²).
pub fn robust_summary(result: &MultilevelResult, robust: &RobustResult) -> MultilevelResult {
    let mut out = result.clone();
    out.robust = true;
    let names: Vec<&str> = match &result.coefficients {
        Some(coefficients) => coefficients.iter().map(|c| c.name.as_str()).collect(),
        None => vec![crate::regression::INTERCEPT],
    };
    // The robust coefficients in the model's order (they are named alike).
    let order: Option<Vec<usize>> = names
        .iter()
        .map(|name| robust.coefficients.iter().position(|c| c.name == *name))
        .collect();
    let Some(order) = order else {
        return out;
    };
    out.vcov = order
        .iter()
        .map(|&i| order.iter().map(|&j| robust.vcov[i][j]).collect())
        .collect();
    let estimate = |c: &super::RobustCoefficient| crate::estimate::Estimate {
        value: c.estimate,
        se: c.se,
        statistic: c.statistic,
        p: c.p,
        ci_lower: c.ci_lower,
        ci_upper: c.ci_upper,
    };
    if let Some(coefficients) = &mut out.coefficients {
        for (coefficient, &i) in coefficients.iter_mut().zip(&order) {
            coefficient.estimate = estimate(&robust.coefficients[i]);
        }
        out.df = None;
        out.qm = Some(robust.qm);
        out.qm_df = Some(robust.qm_df);
        out.qm_df2 = robust.qm_df2;
        out.qm_p = Some(robust.qm_p);
        return out;
    }
    let c = &robust.coefficients[order[0]];
    out.summary = Some(estimate(c));
    out.df = c.df;
    let alpha = 1.0 - robust.robust.level / 100.0;
    let crit = c.df.map_or(f64::NAN, |df| {
        crate::numerics::distribution::t_upper(alpha / 2.0, df)
    });
    let half = crit * (c.se * c.se + result.sigma2.iter().sum::<f64>()).sqrt();
    out.pi_lower = Some(c.estimate - half);
    out.pi_upper = Some(c.estimate + half);
    out
}
