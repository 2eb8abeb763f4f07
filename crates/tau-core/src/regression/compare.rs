//! The likelihood-ratio test between two nested meta-regressions (metafor
//! `anova(full, reduced, refit = TRUE)`).
//!
//! Both models are fitted to the same studies: those with every moderator of
//! the full model. Models with different fixed effects have REML
//! likelihoods that cannot be compared, so REML fits are refitted with ML
//! (metafor's `refit = TRUE`). Then
//! LRT = deviance(reduced) − deviance(full), floored at 0, on as many degrees
//! of freedom as the full model has more parameters, with each model's fit
//! statistics ([`crate::model::fit_statistics`]). R² is the share of the
//! reduced model's τ² the extra moderators account for,
//! max(0, 100 (τ̂²ᵣ − τ̂²_f)/τ̂²ᵣ) (0 when τ̂²ᵣ = 0); for common-effect models,
//! the share of the residual variance QE/(k − p), as metafor computes it from
//! the two weighted least-squares fits.

use serde::Serialize;

use super::design::{self, DesignSpec};
use super::{DesignError, RegressionError};
use crate::data::dataset::Dataset;
use crate::fields::{FULL, REDUCED};
use crate::model::fit_statistics::{FitStatistics, mixed_effects};
use crate::model::{FitError, FitOptions, Method, ModelFit, fit, intercept_design};
use crate::numerics::distribution::chisq_sf;
use crate::settings::VERSION;
use crate::warning::{Warning, model_warnings};

/// One of the two models. Field names are the JSON contract.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelSummary {
    /// Its moderators (none: the intercept-only model).
    pub moderators: Vec<String>,
    /// Its coefficients.
    pub coefficients: Vec<String>,
    /// Parameters: the coefficients, and τ² unless the model is common-effect.
    pub parms: usize,
    /// Log-likelihood, deviance, AIC, BIC, AICc.
    #[serde(flatten)]
    pub fit_statistics: FitStatistics,
    /// Test statistic for residual heterogeneity.
    #[serde(rename = "QE")]
    pub qe: f64,
    /// Residual τ² (models with one τ²).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tau2: Option<f64>,
    /// The variance components of a multilevel model, in the order of
    /// `sigma2_names`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sigma2: Option<Vec<f64>>,
}

/// How a comparison was computed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CompareSettings {
    /// The estimator asked for.
    pub method: Method,
    /// The estimator the models were fitted with (ML for REML).
    pub fit_method: Method,
    /// The measure.
    pub measure: crate::Measure,
    /// tau's version.
    pub version: &'static str,
}

impl CompareSettings {
    /// The settings of a comparison asked for with `method`.
    pub(crate) fn new(method: Method, measure: crate::Measure) -> CompareSettings {
        CompareSettings {
            method,
            fit_method: refit_method(method),
            measure,
            version: VERSION,
        }
    }
}

/// The comparison. Field names are the JSON contract.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    /// Title of the data set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Studies both models were fitted to.
    pub k: usize,
    /// The full model.
    pub full: ModelSummary,
    /// The reduced model.
    pub reduced: ModelSummary,
    /// Likelihood-ratio statistic.
    #[serde(rename = "LRT")]
    pub lrt: f64,
    /// Its degrees of freedom: the difference in parameters.
    #[serde(rename = "LRT_df")]
    pub lrt_df: usize,
    /// Its p-value (χ²).
    #[serde(rename = "LRT_p")]
    pub lrt_p: f64,
    /// Share of the reduced model's residual heterogeneity the full model
    /// accounts for, percent (models with one τ²: metafor gives none for
    /// multilevel models).
    #[serde(rename = "R2", skip_serializing_if = "Option::is_none")]
    pub r2: Option<f64>,
    /// The names of the variance components of multilevel models.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sigma2_names: Option<Vec<String>>,
    /// Studies left out because they lack a moderator of the full model.
    pub dropped: Vec<String>,
    /// How it was computed.
    pub settings: CompareSettings,
    /// Things to know.
    pub warnings: Vec<Warning>,
}

/// Why two models could not be compared.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum CompareError {
    /// The reduced model has a moderator the full one lacks.
    #[error(
        "the models are not nested: '{0}' is in the reduced model but not in the full one; the full model must have every moderator of the reduced one, and more"
    )]
    NotNested(String),
    /// Both models have the same moderators.
    #[error(
        "the full and the reduced model have the same moderators, so there is nothing to test; leave at least one moderator of {FULL} out of {REDUCED}"
    )]
    Same,
    /// A model of another family (a multilevel model) could not be built
    /// or fitted.
    #[error("{which} model: {message}")]
    Other {
        /// "full" or "reduced".
        which: &'static str,
        /// What went wrong.
        message: String,
        /// Its kind.
        kind: crate::ErrorKind,
    },
    /// A model could not be built or fitted.
    #[error("{which} model: {error}")]
    Model {
        /// "full" or "reduced".
        which: &'static str,
        /// What went wrong.
        error: RegressionError,
    },
}

impl crate::Kinded for CompareError {
    fn kind(&self) -> crate::ErrorKind {
        match self {
            CompareError::Model { error, .. } => crate::Kinded::kind(error),
            CompareError::Other { kind, .. } => *kind,
            _ => crate::ErrorKind::Input,
        }
    }
}

/// Compares the model with moderators `full` to the one with `reduced`
/// (a subset; empty for the intercept-only model), fitted with `options`.
pub fn compare(
    dataset: &Dataset,
    full: &[String],
    reduced: &[String],
    options: &FitOptions,
) -> Result<Comparison, CompareError> {
    let (full, reduced) = nested(full, reduced)?;
    let spec = |moderators: Vec<String>| DesignSpec {
        moderators,
        references: Vec::new(),
        intercept: true,
    };
    let model_error =
        |which: &'static str| move |error: RegressionError| CompareError::Model { which, error };
    let full_design =
        design::build(dataset, &spec(full.clone())).map_err(|e| model_error("full")(e.into()))?;
    let mut used = dataset.clone();
    used.studies = full_design
        .rows
        .iter()
        .map(|&i| dataset.studies[i].clone())
        .collect();
    let (reduced_x, reduced_names) = if reduced.is_empty() {
        (
            intercept_design(used.studies.len()),
            vec![design::INTERCEPT.to_owned()],
        )
    } else {
        let d = design::build(&used, &spec(reduced.clone()))
            .map_err(|e: DesignError| model_error("reduced")(e.into()))?;
        (d.x, d.names)
    };
    let fit_method = refit_method(options.method);
    let fit_options = FitOptions {
        method: fit_method,
        ..*options
    };
    let (yi, vi) = (used.yi(), used.vi());
    let side = |which: &'static str, x: &nalgebra::DMatrix<f64>, names: Vec<String>, moderators| {
        let model = fit(&yi, &vi, x, &fit_options).map_err(|e| model_error(which)(e.into()))?;
        let statistics = mixed_effects(&yi, &vi, x, &model)
            .map_err(|e| model_error(which)(FitError::from(e).into()))?;
        let summary = ModelSummary {
            moderators,
            parms: model.p + usize::from(fit_method != Method::EE),
            coefficients: names,
            fit_statistics: statistics,
            qe: model.q,
            tau2: Some(model.tau2),
            sigma2: None,
        };
        Ok::<(ModelFit, ModelSummary), CompareError>((model, summary))
    };
    let (full_model, full_summary) = side("full", &full_design.x, full_design.names.clone(), full)?;
    let (reduced_model, reduced_summary) = side("reduced", &reduced_x, reduced_names, reduced)?;
    let lrt =
        (reduced_summary.fit_statistics.deviance - full_summary.fit_statistics.deviance).max(0.0);
    let lrt_df = full_summary.parms - reduced_summary.parms;
    let r2 = explained(&full_model, &reduced_model);
    let mut warnings = dataset.warnings.clone();
    if !full_design.dropped.is_empty() {
        warnings.push(Warning::MissingModerators {
            studies: full_design
                .dropped
                .iter()
                .map(|d| format!("{} (no {})", d.study, d.missing.join(", ")))
                .collect(),
        });
    }
    if !matches!(fit_method, Method::EE | Method::ML) {
        warnings.push(Warning::LrtEstimator(fit_method));
    }
    for w in model_warnings(&full_model)
        .into_iter()
        .chain(model_warnings(&reduced_model))
    {
        if !warnings.contains(&w) {
            warnings.push(w);
        }
    }
    Ok(Comparison {
        title: dataset.title.clone(),
        k: used.studies.len(),
        full: full_summary,
        reduced: reduced_summary,
        lrt,
        lrt_df,
        lrt_p: chisq_sf(lrt, lrt_df as f64),
        r2: Some(r2),
        sigma2_names: None,
        dropped: full_design
            .dropped
            .iter()
            .map(|d| d.study.clone())
            .collect(),
        settings: CompareSettings::new(options.method, dataset.measure),
        warnings,
    })
}

/// The moderators of the two models, trimmed, when the reduced model's are
/// a proper subset of the full model's.
pub(crate) fn nested(
    full: &[String],
    reduced: &[String],
) -> Result<(Vec<String>, Vec<String>), CompareError> {
    let full: Vec<String> = full.iter().map(|m| m.trim().to_owned()).collect();
    let reduced: Vec<String> = reduced.iter().map(|m| m.trim().to_owned()).collect();
    if let Some(extra) = reduced.iter().find(|m| !full.contains(m)) {
        return Err(CompareError::NotNested(extra.clone()));
    }
    if full.iter().all(|m| reduced.contains(m)) {
        return Err(CompareError::Same);
    }
    Ok((full, reduced))
}

/// The estimator the models are compared with: ML for REML (metafor's
/// `refit = TRUE`), else the one asked for.
pub(crate) fn refit_method(method: Method) -> Method {
    if method == Method::REML {
        Method::ML
    } else {
        method
    }
}

/// R² of the full over the reduced model (see the module docs).
fn explained(full: &ModelFit, reduced: &ModelFit) -> f64 {
    let share = if full.options.method == Method::EE {
        let s2 = |m: &ModelFit| m.q / m.q_df as f64;
        (s2(reduced) - s2(full)) / s2(reduced)
    } else if reduced.tau2 == 0.0 {
        0.0
    } else {
        (reduced.tau2 - full.tau2) / reduced.tau2
    };
    (100.0 * share).max(0.0)
}
