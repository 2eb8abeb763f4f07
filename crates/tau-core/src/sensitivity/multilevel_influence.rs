//! Case diagnostics of a nested multilevel model: metafor's `rstandard`,
//! `rstudent`, `hatvalues`, `cooks.distance` and `dfbetas` of an `rma.mv`
//! fit, per record or (`cluster`) per cluster of records.
//!
//! With M, W = M⁻¹, vb = (X'WX)⁻¹, β̂ and e = y − Xβ̂ of the model on all
//! records (`crate::multilevel::marginal`), and for a unit u (a record, or
//! the records of a cluster) β̂₍ᵤ₎, vb₍ᵤ₎ and σ̂²₍ᵤ₎ of the model refitted
//! without it, the variance components re-estimated (metafor's default
//! `reestimate = TRUE`):
//!
//! * hat value hᵢ = [X vb X'W]ᵢᵢ (`hatvalues.rma.mv`);
//! * standardised residual eᵢ / √[M − X vb X']ᵢᵢ, and per cluster
//!   X² = e_u'(M − X vb X')_u⁻¹e_u (`rstandard.rma.mv`);
//! * studentised (deleted) residual dᵢ = yᵢ − xᵢ'β̂₍ᵤ₎ over
//!   √[M(σ̂²₍ᵤ₎) + X vb₍ᵤ₎ X']ᵢᵢ, M at the refit's σ², and per cluster
//!   X² = d_u'(M(σ̂²₍ᵤ₎) + X vb₍ᵤ₎ X')_u⁻¹d_u (`rstudent.rma.mv`);
//! * Cook's distance (β̂ − β̂₍ᵤ₎)' vb⁻¹ (β̂ − β̂₍ᵤ₎) over every coefficient
//!   (`cooks.distance.rma.mv`);
//! * DFBETAS (β̂ⱼ − β̂₍ᵤ₎ⱼ) / √[(X'W(σ̂²₍ᵤ₎)X)⁻¹]ⱼⱼ, the weights of all
//!   records at the refit's σ² (`dfbetas.rma.mv`).
//!
//! A refit that fails, or that loses a coefficient (metafor's `coef.na`),
//! leaves its unit's refit quantities empty (metafor's `NA`) and says why.
//! Each block of M is factorised on its own, so a refit costs what a fit
//! costs plus Σ n_c³ for clusters of n_c records.

use std::sync::Arc;

use nalgebra::{DMatrix, DVector};
use serde::Serialize;

use super::each_study;
use super::influence::PerCoefficient;
use crate::data::dataset::Dataset;
use crate::data::moderator;
use crate::multilevel::marginal::Marginal;
use crate::multilevel::{MultilevelError, MultilevelOptions, MultilevelSettings, Prepared};
use crate::warning::Warning;

/// A residual with its standard error and their ratio (metafor's `resid`,
/// `se`, `z`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Residual {
    /// The residual.
    pub resid: f64,
    /// Its standard error.
    pub se: f64,
    /// resid / se.
    pub z: f64,
}

impl Residual {
    /// The residual `resid` with variance `variance` (a residual below
    /// 100 machine epsilons is 0, as metafor's).
    pub fn new(resid: f64, variance: f64) -> Residual {
        let resid = if resid.abs() < 100.0 * f64::EPSILON {
            0.0
        } else {
            resid
        };
        let se = variance.max(0.0).sqrt();
        Residual {
            resid,
            se,
            z: resid / se,
        }
    }
}

/// One record's diagnostics. Field names are the JSON contract.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecordDiagnostics {
    /// The record's label.
    pub study: String,
    /// Standardised residual (metafor's `rstandard`).
    pub rstandard: Residual,
    /// Studentised deleted residual (`rstudent`; with a cluster, the
    /// record's cluster left out).
    pub rstudent: Option<Residual>,
    /// Hat value (`hatvalues`).
    pub hat: f64,
    /// Cook's distance (per record without a cluster; see `clusters` with one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cooks_distance: Option<f64>,
    /// DFBETAS, one per coefficient (per record without a cluster).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dfbetas: Option<PerCoefficient>,
    /// Why the model without this record could not be fitted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// One cluster's diagnostics (with `cluster`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClusterDiagnostics {
    /// The cluster's value.
    pub cluster: String,
    /// Its records.
    pub k: usize,
    /// X² of its standardised residuals (`rstandard(cluster = )$cluster$X2`).
    #[serde(rename = "rstandard_X2")]
    pub rstandard_x2: Option<f64>,
    /// X² of its deleted residuals (`rstudent(cluster = )$cluster$X2`).
    #[serde(rename = "rstudent_X2")]
    pub rstudent_x2: Option<f64>,
    /// Cook's distance of the cluster.
    pub cooks_distance: Option<f64>,
    /// DFBETAS of the cluster.
    pub dfbetas: Option<PerCoefficient>,
    /// Why the model without this cluster could not be fitted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The case diagnostics of a multilevel model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MultilevelInfluence {
    /// Title of the data set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Records in the model.
    pub k: usize,
    /// The σ² of the model on all records.
    pub sigma2: Vec<f64>,
    /// Their levels' names.
    pub sigma2_names: Vec<String>,
    /// The coefficients' names.
    pub coefficients: Vec<String>,
    /// The moderator whose clusters are left out, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster: Option<String>,
    /// One row per record.
    pub studies: Vec<RecordDiagnostics>,
    /// One row per cluster, in sorted order (with `cluster`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clusters: Option<Vec<ClusterDiagnostics>>,
    /// How the model was fitted.
    pub settings: MultilevelSettings,
    /// Things to know.
    pub warnings: Vec<Warning>,
}

/// What a refit without one unit gives: the deleted residuals of its
/// records, their X², Cook's distance and DFBETAS.
struct Deleted {
    residuals: Vec<Residual>,
    x2: Option<f64>,
    cooks: f64,
    dfbetas: Vec<f64>,
}

/// The diagnostics of the nested multilevel model `options` on `dataset`,
/// per record or per cluster of the moderator `cluster`.
pub fn multilevel_influence(
    dataset: &Dataset,
    options: &MultilevelOptions,
    cluster: Option<&str>,
) -> Result<MultilevelInfluence, MultilevelError> {
    let options = MultilevelOptions {
        profile: false,
        level_tests: false,
        ..options.clone()
    };
    let rho = options.rho.unwrap_or(0.0);
    let prepared = Prepared::new(dataset, &options)?;
    let full = prepared.fit(&options)?;
    let marginal = Marginal::new(&prepared, &full.sigma2, rho)?;
    let names: Arc<[String]> = prepared.coefficient_names.clone().into();
    let k = prepared.rows.len();
    let units = units(&prepared, cluster)?;
    let refits = each_study(units.len(), |u| {
        deleted(&prepared, &options, &marginal, &units[u].1).map_err(|e| e.to_string())
    });
    let label = |r: usize| prepared.data.studies[prepared.rows[r]].label().to_owned();
    let mut studies: Vec<RecordDiagnostics> = (0..k)
        .map(|r| {
            let x = marginal.x_row(r);
            let variance = marginal.m_entry(r, r) - quadratic(&x, &marginal.vb, &x);
            RecordDiagnostics {
                study: label(r),
                rstandard: Residual::new(marginal.residual(r), variance),
                rstudent: None,
                hat: hat(&marginal, r),
                cooks_distance: None,
                dfbetas: None,
                error: None,
            }
        })
        .collect();
    let mut clusters = Vec::new();
    for ((name, members), refit) in units.iter().zip(&refits) {
        if let Ok(deleted) = refit {
            for (&r, residual) in members.iter().zip(&deleted.residuals) {
                studies[r].rstudent = Some(*residual);
            }
        }
        let dfbetas = refit.as_ref().ok().map(|d| PerCoefficient {
            names: names.clone(),
            values: d.dfbetas.clone(),
        });
        let cooks = refit.as_ref().ok().map(|d| d.cooks);
        let error = refit.as_ref().err().cloned();
        if cluster.is_none() {
            let row = &mut studies[members[0]];
            row.cooks_distance = cooks;
            row.dfbetas = dfbetas;
            row.error = error;
        } else {
            clusters.push(ClusterDiagnostics {
                cluster: name.clone(),
                k: members.len(),
                rstandard_x2: standardised_x2(&marginal, members),
                rstudent_x2: refit.as_ref().ok().and_then(|d| d.x2),
                cooks_distance: cooks,
                dfbetas,
                error,
            });
        }
    }
    let mut warnings = full.warnings.clone();
    warnings.extend(units.iter().zip(&refits).filter_map(|((name, _), refit)| {
        refit.as_ref().err().map(|error| Warning::RefitFailed {
            what: "without",
            study: name.clone(),
            error: error.clone(),
        })
    }));
    Ok(MultilevelInfluence {
        title: dataset.title.clone(),
        k,
        sigma2: full.sigma2.clone(),
        sigma2_names: full.sigma2_names.clone(),
        coefficients: prepared.coefficient_names.clone(),
        cluster: cluster.map(str::to_owned),
        studies,
        clusters: cluster.is_some().then_some(clusters),
        settings: full.settings.clone(),
        warnings,
    })
}

/// a'Bc.
fn quadratic(a: &DVector<f64>, b: &DMatrix<f64>, c: &DVector<f64>) -> f64 {
    (a.transpose() * b * c)[(0, 0)]
}

/// hᵣ = xᵣ' vb (X'W)ᵣ, the column of X'W of row r within its block.
fn hat(marginal: &Marginal, r: usize) -> f64 {
    let (c, position) = marginal.block_of[r];
    let xtw_column = marginal.x[c].transpose() * marginal.w[c].column(position);
    let h = quadratic(&marginal.x_row(r), &marginal.vb, &xtw_column);
    if h > 1.0 - 10.0 * f64::EPSILON {
        1.0
    } else {
        h
    }
}

/// X² of the standardised residuals of the model rows `members`; `None`
/// where their covariance is not positive definite (metafor's `NA`).
fn standardised_x2(marginal: &Marginal, members: &[usize]) -> Option<f64> {
    let rows: Vec<DVector<f64>> = members.iter().map(|&r| marginal.x_row(r)).collect();
    let n = members.len();
    let covariance = DMatrix::from_fn(n, n, |a, b| {
        marginal.m_entry(members[a], members[b]) - quadratic(&rows[a], &marginal.vb, &rows[b])
    });
    let e = DVector::from_iterator(n, members.iter().map(|&r| marginal.residual(r)));
    x2(covariance, &e)
}

/// e'S⁻¹e, `None` when S has an eigenvalue ≤ machine epsilon (as metafor).
fn x2(covariance: DMatrix<f64>, e: &DVector<f64>) -> Option<f64> {
    let smallest = covariance
        .clone()
        .symmetric_eigenvalues()
        .iter()
        .copied()
        .fold(f64::INFINITY, f64::min);
    if smallest <= f64::EPSILON {
        return None;
    }
    let inverse = covariance.cholesky()?.inverse();
    Some(quadratic(e, &inverse, e))
}

/// The units left out one at a time: each model row, or the model rows of
/// each cluster of `cluster` in sorted order (metafor's `order(ids)`).
fn units(
    prepared: &Prepared<'_>,
    cluster: Option<&str>,
) -> Result<Vec<(String, Vec<usize>)>, MultilevelError> {
    let Some(name) = cluster else {
        return Ok((0..prepared.rows.len())
            .map(|r| {
                (
                    prepared.data.studies[prepared.rows[r]].label().to_owned(),
                    vec![r],
                )
            })
            .collect());
    };
    let bad = |problem: String| MultilevelError::BadTerm {
        term: name.to_owned(),
        problem,
    };
    let data = &prepared.data;
    let column = moderator::column(data, name).map_err(|e| bad(e.to_string()))?;
    let mut model_row = vec![None; data.studies.len()];
    for (r, &i) in prepared.rows.iter().enumerate() {
        model_row[i] = Some(r);
    }
    if let Some(&i) = prepared.rows.iter().find(|&&i| !column.is_present(i)) {
        // metafor: "No missing values allowed in 'cluster' variable."
        return Err(bad(format!(
            "study '{}' has no value of \"{name}\", whose clusters are left out one at a time: give every record a value, or filter the record out",
            data.studies[i].label()
        )));
    }
    Ok(moderator::groups(&column)
        .into_iter()
        .map(|(label, records)| {
            let members: Vec<usize> = records.iter().filter_map(|&i| model_row[i]).collect();
            (label, members)
        })
        .filter(|(_, members)| !members.is_empty())
        .collect())
}

/// The model refitted without the model rows `members` (σ² re-estimated),
/// and what the diagnostics take from it.
fn deleted(
    prepared: &Prepared<'_>,
    options: &MultilevelOptions,
    marginal: &Marginal,
    members: &[usize],
) -> Result<Deleted, MultilevelError> {
    let rho = options.rho.unwrap_or(0.0);
    let mut left_out = vec![false; prepared.data.studies.len()];
    for &r in members {
        left_out[prepared.rows[r]] = true;
    }
    let mut flags = left_out.iter();
    let mut subset = prepared.data.as_ref().clone();
    subset.studies.retain(|_| !*flags.next().unwrap_or(&false));
    subset.warnings.clear();
    let refit_data = Prepared::new(&subset, options)?;
    if refit_data.coefficient_names != prepared.coefficient_names {
        return Err(MultilevelError::Singular);
    }
    let refit = refit_data.fit(options)?;
    let without = Marginal::new(&refit_data, &refit.sigma2, rho)?;
    // M and (X'WX)⁻¹ of all records at the refit's σ².
    let all_at_refit = Marginal::new(prepared, &refit.sigma2, rho)?;
    let rows: Vec<DVector<f64>> = members.iter().map(|&r| marginal.x_row(r)).collect();
    let n = members.len();
    let covariance = DMatrix::from_fn(n, n, |a, b| {
        all_at_refit.m_entry(members[a], members[b]) + quadratic(&rows[a], &without.vb, &rows[b])
    });
    let d = DVector::from_iterator(
        n,
        members
            .iter()
            .zip(&rows)
            .map(|(&r, x)| prepared.data.studies[prepared.rows[r]].yi - x.dot(&without.beta)),
    );
    let residuals = (0..n)
        .map(|a| Residual::new(d[a], covariance[(a, a)]))
        .collect();
    let dfb = &marginal.beta - &without.beta;
    let full_inverse = marginal
        .vb
        .clone()
        .cholesky()
        .ok_or(MultilevelError::Singular)?
        .inverse();
    Ok(Deleted {
        residuals,
        x2: x2(covariance, &d),
        cooks: quadratic(&dfb, &full_inverse, &dfb),
        dfbetas: (0..dfb.len())
            .map(|j| dfb[j] / all_at_refit.vb[(j, j)].sqrt())
            .collect(),
    })
}
