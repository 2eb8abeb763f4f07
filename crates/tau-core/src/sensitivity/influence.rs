//! Case-deletion diagnostics (Viechtbauer & Cheung 2010, "Outlier and
//! influence diagnostics for meta-analysis", Research Synthesis Methods 1:
//! 112–125; metafor `influence.rma.uni`).
//!
//! For study i, let β̂, V = Var(β̂), τ̂² and wⱼ = 1/(vⱼ + τ̂²) come from the model
//! on all k studies, and β̂₍ᵢ₎, V₍ᵢ₎, τ̂²₍ᵢ₎, s²₍ᵢ₎ (the Knapp-Hartung factor,
//! 1 under z) and QE₍ᵢ₎ from the model refitted without study i. With
//! ŷᵢ = xᵢ'β̂ and ŷᵢ₍ᵢ₎ = xᵢ'β̂₍ᵢ₎:
//!
//! * hat value hᵢ = wᵢ xᵢ'(X'WX)⁻¹xᵢ, computed row by row
//!   ([`crate::model::wls::hat_values`]), never from the k×k hat matrix;
//! * weight = 100 wᵢ / Σwⱼ (percent);
//! * externally studentised residual
//!   rstudentᵢ = (yᵢ − ŷᵢ₍ᵢ₎) / √(s²₍ᵢ₎ vᵢ + xᵢ'V₍ᵢ₎xᵢ + s²₍ᵢ₎ τ̂²₍ᵢ₎), reported
//!   with its numerator and denominator (metafor's `rstudent`: `resid`, `se`, `z`);
//! * DFFITSᵢ = (ŷᵢ − ŷᵢ₍ᵢ₎) / √(s²₍ᵢ₎ hᵢ (τ̂²₍ᵢ₎ + vᵢ));
//! * Cook's distance Dᵢ = (β̂ − β̂₍ᵢ₎)' V⁻¹ (β̂ − β̂₍ᵢ₎);
//! * COVRATIOᵢ = det V₍ᵢ₎ / det V;
//! * DFBETASᵢⱼ = (β̂ⱼ − β̂₍ᵢ₎ⱼ) / √(s²₍ᵢ₎ [(X'W₍ᵢ₎X)⁻¹]ⱼⱼ), where W₍ᵢ₎ holds
//!   1/(vₗ + τ̂²₍ᵢ₎) for all k studies (a p×p sum over the studies).
//!
//! metafor's flag: a study is influential when |DFFITS| > 3√(p/(k − p)), or
//! the χ²(p) distribution function at Dᵢ exceeds 0.5, or hᵢ > 3p/k, or any
//! |DFBETAS| > 1 (`print.infl.rma.uni`; Cook's distance and COVRATIO cover
//! all p coefficients, metafor's default `btt`).
//!
//! The intercept-only model is the case X = 1; with moderators
//! ([`InfluenceOptions::design`]) X is the model matrix of `tau regress`
//! ([`crate::regression::design`]) over the studies with every moderator,
//! and the others are left out with a warning, as metafor's `na.omit` does.
//!
//! Every quantity is O(k·p²) per study on top of the refit; memory is O(k)
//! per refit (metafor forms k×k matrices for the hat values and weights).

use std::sync::Arc;

use nalgebra::DMatrix;
use serde::Serialize;
use serde::ser::SerializeMap;

use super::residuals::{StandardizedResidual, standardized_residuals};
use super::{SensitivityError, each_study, fit_allowing_one};
use crate::data::dataset::Dataset;
use crate::model::wls::{cross_weighted, hat_values, invert_spd};
use crate::model::{FitError, FitOptions, ModelFit, fit, intercept_design};
use crate::numerics::distribution::chisq_sf;
use crate::regression::design::{self, DesignSpec, INTERCEPT};
use crate::settings::Settings;

/// What an influence analysis computes.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct InfluenceOptions {
    /// Estimator, test, level.
    pub fit: FitOptions,
    /// The moderators of a meta-regression (`None`: the intercept-only model).
    pub design: Option<DesignSpec>,
    /// Also the standardised residuals of the model on all studies.
    pub residuals: bool,
}

/// One value per coefficient, written in JSON as an object keyed by the
/// coefficient names (`intrcpt`, a moderator, or `moderator=level`).
#[derive(Debug, Clone, PartialEq)]
pub struct PerCoefficient {
    /// The coefficient names, shared by every study.
    pub names: Arc<[String]>,
    /// The values, in the order of `names`.
    pub values: Vec<f64>,
}

impl Serialize for PerCoefficient {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.values.len()))?;
        for (name, value) in self.names.iter().zip(&self.values) {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}

/// One study's diagnostics. Field names are the JSON contract.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InfluenceStudy {
    /// Study label.
    pub study: String,
    /// Externally studentised residual, z (metafor's `rstudent(res)$z`).
    pub rstudent: f64,
    /// Its numerator, the deleted residual yᵢ − xᵢ'β̂₍ᵢ₎ (`rstudent(res)$resid`).
    pub rstudent_resid: f64,
    /// Its denominator, √(s²₍ᵢ₎ vᵢ + xᵢ'V₍ᵢ₎xᵢ + s²₍ᵢ₎ τ̂²₍ᵢ₎) (`rstudent(res)$se`).
    pub rstudent_se: f64,
    /// DFFITS.
    pub dffits: f64,
    /// Cook's distance.
    pub cooks_distance: f64,
    /// Covariance ratio.
    pub cov_ratio: f64,
    /// τ² of the model without the study.
    pub tau2_deleted: f64,
    /// Residual heterogeneity Q of the model without the study.
    #[serde(rename = "QE_deleted")]
    pub qe_deleted: f64,
    /// Hat value (leverage).
    pub hat: f64,
    /// Weight in the full model, percent.
    pub weight: f64,
    /// DFBETAS, one per coefficient.
    pub dfbetas: PerCoefficient,
    /// metafor's flag (see the module docs).
    pub influential: bool,
    /// Why the model without this study could not be fitted, when it could not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The diagnostics of every study.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Influence {
    /// Title of the data set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Number of studies.
    pub k: usize,
    /// Number of coefficients (metafor's `res$p`; not named `p`, which is a
    /// p-value in every other report).
    #[serde(rename = "n_coefficients")]
    pub p: usize,
    /// The coefficient names, in model order.
    pub coefficients: Vec<String>,
    /// τ² of the full model.
    pub tau2: f64,
    /// QE of the full model.
    #[serde(rename = "QE")]
    pub q: f64,
    /// One row per study.
    pub studies: Vec<InfluenceStudy>,
    /// The standardised residuals of the model on all studies, when asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub residuals: Option<Vec<StandardizedResidual>>,
    /// The flag rule, in words.
    pub rule: String,
    /// How it was computed.
    pub settings: Settings,
    /// Refits that failed, and other things to know.
    pub warnings: Vec<crate::Warning>,
}

/// What a refit without study i contributes: coefficients, their
/// variance-covariance matrix, τ², QE and the Knapp-Hartung factor.
#[derive(Debug, Clone)]
pub(crate) struct Deleted {
    pub beta: Vec<f64>,
    pub vcov: DMatrix<f64>,
    pub tau2: f64,
    pub q: f64,
    pub s2w: f64,
}

/// Refits without study `i`, keeping only what the diagnostics need.
pub(crate) fn refit_without(
    yi: &[f64],
    vi: &[f64],
    x: &DMatrix<f64>,
    i: usize,
    options: &FitOptions,
) -> Result<Deleted, FitError> {
    let y = super::without(yi, i);
    let v = super::without(vi, i);
    let d = fit_allowing_one(&y, &v, &x.clone().remove_row(i), options)?;
    Ok(Deleted {
        beta: d.beta,
        vcov: d.vcov,
        tau2: d.tau2,
        q: d.q,
        s2w: d.s2w,
    })
}

/// xᵢ'a for a coefficient vector a.
pub(crate) fn row_dot(x: &DMatrix<f64>, i: usize, a: &[f64]) -> f64 {
    a.iter().enumerate().map(|(j, aj)| x[(i, j)] * aj).sum()
}

/// xᵢ'Mxᵢ for a p×p matrix M.
pub(crate) fn row_quadratic(x: &DMatrix<f64>, i: usize, m: &DMatrix<f64>) -> f64 {
    let row = x.row(i);
    (row * m * row.transpose())[(0, 0)]
}

/// The flag rule, in words.
fn rule(k: usize, p: usize) -> String {
    format!(
        "influential (metafor's rule): |dffits| > 3*sqrt(p/(k-p)) = {:.4}, or pchisq(cooks_distance, df = p) > 0.5, or hat > 3*p/k = {:.4}, or any |dfbetas| > 1 (k = {k}, p = {p})",
        3.0 * (p as f64 / (k - p) as f64).sqrt(),
        3.0 * p as f64 / k as f64
    )
}

/// Diagnostics for the intercept-only model of `dataset`.
pub fn influence(dataset: &Dataset, options: &FitOptions) -> Result<Influence, SensitivityError> {
    influence_with(
        dataset,
        &InfluenceOptions {
            fit: *options,
            ..InfluenceOptions::default()
        },
    )
}

/// Diagnostics (and, if asked, standardised residuals) for the model of
/// `options`: intercept-only, or a meta-regression on the studies with every
/// moderator.
pub fn influence_with(
    dataset: &Dataset,
    options: &InfluenceOptions,
) -> Result<Influence, SensitivityError> {
    let Some(spec) = &options.design else {
        let rows: Vec<usize> = (0..dataset.studies.len()).collect();
        let x = intercept_design(rows.len());
        return analyse(dataset, &rows, &x, &[INTERCEPT.to_owned()], options);
    };
    let design = design::build(dataset, spec)?;
    let mut result = analyse(dataset, &design.rows, &design.x, &design.names, options)?;
    if let Some(warning) = design::missing_moderators(&design.dropped) {
        // after the data set's warnings, before those of the refits
        result.warnings.insert(dataset.warnings.len(), warning);
    }
    Ok(result)
}

/// Diagnostics for the model with design `x` (k×p, one row per study of
/// `dataset`) and coefficient names `names`.
pub fn influence_regression(
    dataset: &Dataset,
    x: &DMatrix<f64>,
    names: &[String],
    options: &FitOptions,
) -> Result<Influence, SensitivityError> {
    let rows: Vec<usize> = (0..dataset.studies.len()).collect();
    let options = InfluenceOptions {
        fit: *options,
        ..InfluenceOptions::default()
    };
    analyse(dataset, &rows, x, names, &options)
}

/// The analysis of the studies `rows` of `dataset`, whose design is `x`.
fn analyse(
    dataset: &Dataset,
    rows: &[usize],
    x: &DMatrix<f64>,
    names: &[String],
    options: &InfluenceOptions,
) -> Result<Influence, SensitivityError> {
    let yi: Vec<f64> = rows.iter().map(|&r| dataset.studies[r].yi).collect();
    let vi: Vec<f64> = rows.iter().map(|&r| dataset.studies[r].vi).collect();
    let label = |i: usize| dataset.studies[rows[i]].label();
    let k = yi.len();
    if k < 2 {
        return Err(SensitivityError::TooFewStudies {
            what: "the influence analysis",
            needed: 2,
            k,
        });
    }
    let model = FullModel::new(&yi, &vi, x, &options.fit)?;
    let names: Arc<[String]> = names.into();
    let studies = each_study(k, |i| model.diagnose(i, label(i), &names));
    let mut warnings = dataset.warnings.clone();
    warnings.extend(studies.iter().filter_map(|s| {
        s.error.as_ref().map(|e| crate::Warning::RefitFailed {
            what: "without",
            study: s.study.clone(),
            error: e.clone(),
        })
    }));
    let residuals = options
        .residuals
        .then(|| standardized_residuals(&yi, &vi, x, &model.fit, &model.hat, (0..k).map(label)));
    Ok(Influence {
        title: dataset.title.clone(),
        k,
        p: model.fit.p,
        coefficients: names.to_vec(),
        tau2: model.fit.tau2,
        q: model.fit.q,
        studies,
        residuals,
        rule: rule(k, model.fit.p),
        settings: Settings::new(&options.fit, dataset.measure, model.fit.convergence),
        warnings,
    })
}

/// The model on all studies and what every study's diagnostics share.
struct FullModel<'a> {
    yi: &'a [f64],
    vi: &'a [f64],
    x: &'a DMatrix<f64>,
    options: &'a FitOptions,
    fit: ModelFit,
    vcov_inv: DMatrix<f64>,
    vcov_det: f64,
    hat: Vec<f64>,
    total_weight: f64,
}

impl<'a> FullModel<'a> {
    fn new(
        yi: &'a [f64],
        vi: &'a [f64],
        x: &'a DMatrix<f64>,
        options: &'a FitOptions,
    ) -> Result<FullModel<'a>, FitError> {
        let fit = fit(yi, vi, x, options)?;
        let vcov_inv = invert_spd(fit.vcov.clone())?;
        // The hat matrix uses the unscaled (X'WX)⁻¹ even under Knapp-Hartung.
        let xtwx_inv = invert_spd(cross_weighted(x, |j| fit.weights[j]))?;
        // metafor rounds hat values within 10 ulps of 1 up to 1.
        let hat = hat_values(x, &fit.weights, &xtwx_inv)
            .into_iter()
            .map(|h| {
                if h > 1.0 - 10.0 * f64::EPSILON {
                    1.0
                } else {
                    h
                }
            })
            .collect();
        Ok(FullModel {
            yi,
            vi,
            x,
            options,
            vcov_det: fit.vcov.determinant(),
            total_weight: fit.weights.iter().sum(),
            fit,
            vcov_inv,
            hat,
        })
    }

    /// The diagnostics of study i (NaN where the refit without it failed).
    fn diagnose(&self, i: usize, label: &str, names: &Arc<[String]>) -> InfluenceStudy {
        let (k, p) = (self.fit.k, self.fit.p);
        let hat = self.hat[i];
        let mut row = InfluenceStudy {
            study: label.to_owned(),
            rstudent: f64::NAN,
            rstudent_resid: f64::NAN,
            rstudent_se: f64::NAN,
            dffits: f64::NAN,
            cooks_distance: f64::NAN,
            cov_ratio: f64::NAN,
            tau2_deleted: f64::NAN,
            qe_deleted: f64::NAN,
            hat,
            weight: 100.0 * self.fit.weights[i] / self.total_weight,
            dfbetas: PerCoefficient {
                names: Arc::clone(names),
                values: vec![f64::NAN; p],
            },
            influential: false,
            error: None,
        };
        match refit_without(self.yi, self.vi, self.x, i, self.options) {
            Ok(d) => self.fill(&mut row, &d, i),
            Err(e) => row.error = Some(e.to_string()),
        }
        // NaN criteria are false, as metafor's NA flags print as not influential.
        row.influential = row.dffits.abs() > 3.0 * (p as f64 / (k - p) as f64).sqrt()
            || chisq_sf(row.cooks_distance, p as f64) < 0.5
            || hat > 3.0 * p as f64 / k as f64
            || row.dfbetas.values.iter().any(|b| b.abs() > 1.0);
        row
    }

    fn fill(&self, row: &mut InfluenceStudy, d: &Deleted, i: usize) {
        let (x, vi) = (self.x, self.vi[i]);
        let pred = row_dot(x, i, &self.fit.beta);
        let pred_deleted = row_dot(x, i, &d.beta);
        let var_pred_deleted = row_quadratic(x, i, &d.vcov);
        let mut resid = self.yi[i] - pred_deleted;
        if resid.abs() < 100.0 * f64::EPSILON {
            resid = 0.0;
        }
        row.rstudent_resid = resid;
        row.rstudent_se = (vi * d.s2w + var_pred_deleted + d.tau2 * d.s2w).sqrt();
        row.rstudent = resid / row.rstudent_se;
        row.dffits = (pred - pred_deleted) / (d.s2w * row.hat * (d.tau2 + vi)).sqrt();
        let dfb: Vec<f64> = self
            .fit
            .beta
            .iter()
            .zip(&d.beta)
            .map(|(a, b)| a - b)
            .collect();
        if let Ok(vb) = invert_spd(cross_weighted(x, |j| 1.0 / (self.vi[j] + d.tau2))) {
            row.dfbetas.values = (0..dfb.len())
                .map(|j| dfb[j] / (d.s2w * vb[(j, j)]).sqrt())
                .collect();
        }
        let p = dfb.len();
        row.cooks_distance = (0..p)
            .flat_map(|a| (0..p).map(move |b| (a, b)))
            .map(|(a, b)| dfb[a] * self.vcov_inv[(a, b)] * dfb[b])
            .sum();
        row.cov_ratio = d.vcov.determinant() / self.vcov_det;
        row.tau2_deleted = d.tau2;
        row.qe_deleted = d.q;
    }
}
