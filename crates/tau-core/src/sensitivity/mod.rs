//! Sensitivity analyses: how the pooled result moves when studies are left
//! out one at a time ([`leave_one_out`], metafor `leave1out`), added one at a
//! time ([`cumulative`], metafor `cumul`), and case-deletion diagnostics
//! ([`influence`], metafor `influence`; [`baujat`], metafor `baujat`), and
//! the standardised residuals ([`residuals`], metafor `rstandard`).
//!
//! Every analysis refits the model once per study, exactly as metafor does
//! (same estimator, test, level and iteration control), so the numbers match
//! metafor's. Each refit copies the k − 1 (or fewer) remaining studies and
//! nothing else: memory is O(k) per refit and no k×k matrix is ever formed
//! (metafor builds several). The refits are independent and run in parallel
//! with rayon; results are collected in study order, so they are identical to
//! a sequential run.

pub mod baujat;
pub mod cumulative;
pub mod influence;
pub mod leave_one_out;
pub mod moderator_test;
pub mod multilevel_influence;
pub mod refits;
pub mod residuals;
pub mod tables_residuals;

use crate::par::*;
use nalgebra::DMatrix;
use serde::Serialize;

use crate::estimate::Estimate;
use crate::model::{Convergence, FitError, FitOptions, ModelFit, Test, fit};
use crate::numerics::distribution::normal_upper;

/// Why a sensitivity analysis could not be run at all (a failed refit only
/// leaves its own row empty, as in metafor).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum SensitivityError {
    /// Too few studies to leave one out.
    #[error(
        "{what} needs at least {needed} studies (got {k}): with fewer there is nothing to compare"
    )]
    TooFewStudies {
        /// The analysis.
        what: &'static str,
        /// How many are needed.
        needed: usize,
        /// How many there are.
        k: usize,
    },
    /// The order key has the wrong length or a missing value.
    #[error("{0}")]
    BadOrder(String),
    /// The model on all studies could not be fitted.
    #[error(transparent)]
    Fit(#[from] FitError),
    /// The model matrix of the moderators could not be built.
    #[error(transparent)]
    Design(#[from] crate::regression::DesignError),
}

impl crate::Kinded for SensitivityError {
    fn kind(&self) -> crate::ErrorKind {
        match self {
            SensitivityError::Fit(source) => crate::Kinded::kind(source),
            SensitivityError::Design(source) => crate::Kinded::kind(source),
            _ => crate::ErrorKind::Input,
        }
    }
}

/// One refitted model, as a row of a leave-one-out or cumulative table.
/// A refit that failed has every number NaN (`null` in JSON) and says why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RefitRow {
    /// The study left out (leave-one-out) or added last (cumulative).
    pub study: String,
    /// Number of studies in the refit.
    pub k: usize,
    /// Pooled estimate, its SE, test and CI.
    #[serde(flatten)]
    pub estimate: Estimate,
    /// Degrees of freedom of a t test (robust inference, a multilevel
    /// model's `test` t, Knapp-Hartung is not listed here).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub df: Option<f64>,
    /// Estimated τ² (absent for Mantel-Haenszel, Peto and multilevel
    /// models, as in metafor's `leave1out` and `cumul` of `rma.mh`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tau2: Option<f64>,
    /// The variance components of a multilevel model, outermost first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sigma2: Option<Vec<f64>>,
    /// I² in percent (absent for a multilevel model).
    #[serde(rename = "I2", skip_serializing_if = "Option::is_none")]
    pub i2: Option<f64>,
    /// H² (absent for a multilevel model).
    #[serde(rename = "H2", skip_serializing_if = "Option::is_none")]
    pub h2: Option<f64>,
    /// Cochran's Q of the refit (metafor's `QE`, the test for residual
    /// heterogeneity of a multilevel model; `leave1out` and `cumul` call it
    /// `Q`).
    #[serde(rename = "QE")]
    pub q: f64,
    /// Its p-value.
    #[serde(rename = "QE_p")]
    pub q_p: f64,
    /// Why the refit failed, when it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl RefitRow {
    /// The row of an intercept-only fit.
    fn from_fit(study: &str, m: &ModelFit) -> RefitRow {
        RefitRow {
            study: study.to_owned(),
            k: m.k,
            estimate: m.estimate(0),
            df: None,
            tau2: Some(m.tau2),
            sigma2: None,
            i2: Some(m.i2),
            h2: Some(m.h2),
            q: m.q,
            q_p: m.q_p,
            error: None,
        }
    }

    /// The row of a Mantel-Haenszel or Peto fit (no τ², as metafor's
    /// `leave1out.rma.mh`).
    pub fn from_tables(study: &str, r: &crate::pool_tables::TablesResult) -> RefitRow {
        RefitRow {
            study: study.to_owned(),
            k: r.k,
            estimate: r.estimate,
            df: None,
            tau2: None,
            sigma2: None,
            i2: Some(r.i2),
            h2: Some(r.h2),
            q: r.q,
            q_p: r.q_p,
            error: None,
        }
    }

    /// The empty row of a refit that failed.
    pub fn failed(study: &str, k: usize, error: &dyn std::fmt::Display) -> RefitRow {
        RefitRow {
            study: study.to_owned(),
            k,
            estimate: Estimate::NAN,
            df: None,
            tau2: Some(f64::NAN),
            sigma2: None,
            i2: Some(f64::NAN),
            h2: Some(f64::NAN),
            q: f64::NAN,
            q_p: f64::NAN,
            error: Some(error.to_string()),
        }
    }

    /// Refits and summarises, or records the failure.
    fn refit(study: &str, yi: &[f64], vi: &[f64], options: &FitOptions) -> RefitRow {
        let x = crate::model::intercept_design(yi.len());
        match fit_allowing_one(yi, vi, &x, options) {
            Ok(m) => RefitRow::from_fit(study, &m),
            Err(e) => RefitRow::failed(study, yi.len(), &e),
        }
    }
}

/// Fits the model as [`crate::model::fit()`] does, accepting a single study in an intercept-only
/// model as metafor's `rma.uni` does: τ² = 0, the study's own estimate with a
/// z test, Q = 0 (p = 1), I² = 0 and H² = 1.
pub fn fit_allowing_one(
    yi: &[f64],
    vi: &[f64],
    x: &DMatrix<f64>,
    options: &FitOptions,
) -> Result<ModelFit, FitError> {
    let intercept_only = x.ncols() == 1 && x.iter().all(|v| *v == 1.0);
    if !intercept_only || yi.len() != 1 {
        return fit(yi, vi, x, options);
    }
    let (y, v) = (yi[0], vi[0]);
    if !(v.is_finite() && v > 0.0) {
        return Err(FitError::BadVariance { index: 0, value: v });
    }
    let se = v.sqrt();
    let crit = normal_upper(options.alpha() / 2.0);
    let row = Estimate::wald(y, se, crit, None);
    Ok(ModelFit {
        k: 1,
        p: 1,
        options: FitOptions {
            test: Test::Z,
            ..*options
        },
        beta: vec![y],
        vcov: DMatrix::from_element(1, 1, v),
        se: vec![se],
        statistic: vec![row.statistic],
        p_values: vec![row.p],
        ci_lower: vec![row.ci_lower],
        ci_upper: vec![row.ci_upper],
        crit,
        df: None,
        s2w: 1.0,
        tau2: 0.0,
        tau2_se: None,
        convergence: Convergence::closed_form(),
        weights: vec![1.0 / v],
        q: 0.0,
        q_df: 0,
        q_p: 1.0,
        typical_variance: 0.0,
        i2: 0.0,
        h2: 1.0,
    })
}

/// `values` without entry `i` (an O(k) copy).
pub(crate) fn without(values: &[f64], i: usize) -> Vec<f64> {
    let mut out = Vec::with_capacity(values.len().saturating_sub(1));
    out.extend_from_slice(&values[..i]);
    out.extend_from_slice(&values[i + 1..]);
    out
}

/// Lists the refits that failed, for the warnings of a result.
pub fn failed_refits(rows: &[RefitRow], what: &'static str) -> Vec<crate::Warning> {
    rows.iter()
        .filter_map(|r| {
            r.error.as_ref().map(|e| crate::Warning::RefitFailed {
                what,
                study: r.study.clone(),
                error: e.clone(),
            })
        })
        .collect()
}

/// Runs `f(i)` for i = 0..k in parallel, in order.
pub(crate) fn each_study<T: Send>(k: usize, f: impl Fn(usize) -> T + Sync + Send) -> Vec<T> {
    (0..k).into_par_iter().map(f).collect()
}
