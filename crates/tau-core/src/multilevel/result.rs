//! The result of a multilevel model. Field names are the JSON contract.

use nalgebra::DMatrix;
use serde::Serialize;

use crate::estimate::Estimate;

use super::fit::{self as model, FitStatistics, Fitted};
use super::i2::{i2, typical_variance};
use super::likelihood::Problem;
use super::lrt::{LevelTest, level_tests};
use super::optimise::Convergence;
use super::profile::profile_ci;
use super::{MultilevelError, MultilevelOptions, Test};
use crate::data::dataset::Dataset;
use crate::effect_size::measure::Measure;
use crate::model::Method;
use crate::numerics::distribution::chisq_sf;
use crate::par::*;
use crate::regression::Coefficient;
use crate::settings::VERSION;
use crate::warning::Warning;

/// How a multilevel model was computed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MultilevelSettings {
    /// REML or ML.
    pub method: Method,
    /// z or t.
    pub test: Test,
    /// Confidence level in percent.
    pub level: f64,
    /// Effect-size measure.
    pub measure: Measure,
    /// The grouping variables, outermost first.
    pub random: Vec<String>,
    /// Correlation of the sampling errors within an outermost cluster (`null`: V diagonal).
    pub rho: Option<f64>,
    /// The structures of the structured terms, in order (metafor's `struct`).
    #[serde(rename = "struct", skip_serializing_if = "Vec::is_empty")]
    pub structs: Vec<super::general::Struct>,
    /// Whether the general fit (BFGS and Newton over all parameters)
    /// rather than the nested recursion computed it.
    #[serde(skip)]
    pub general: bool,
    /// Whether the records' user weights gave the coefficients (metafor's
    /// `rma.mv(..., W = w)`); absent without them.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub user_weights: bool,
    /// How the variance components were reached.
    pub convergence: Convergence,
    /// Iteration limit.
    pub max_iter: usize,
    /// tau's version.
    pub version: &'static str,
}

/// A fitted multilevel model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MultilevelResult {
    /// Title of the data set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Number of effect sizes in the model.
    pub k: usize,
    /// The pooled estimate (intercept-only models).
    #[serde(flatten)]
    pub summary: Option<Estimate>,
    /// The coefficients (models with moderators).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub coefficients: Option<Vec<Coefficient>>,
    /// Degrees of freedom of the t tests (`test = t`).
    pub df: Option<f64>,
    /// Omnibus test of the moderators: χ² under z, F under t.
    #[serde(rename = "QM", skip_serializing_if = "Option::is_none")]
    pub qm: Option<f64>,
    /// Its (numerator) degrees of freedom.
    #[serde(rename = "QM_df", skip_serializing_if = "Option::is_none")]
    pub qm_df: Option<usize>,
    /// Denominator degrees of freedom of the F test.
    #[serde(rename = "QM_df2", skip_serializing_if = "Option::is_none")]
    pub qm_df2: Option<f64>,
    /// Its p-value.
    #[serde(rename = "QM_p", skip_serializing_if = "Option::is_none")]
    pub qm_p: Option<f64>,
    /// The variance components, outermost level first.
    pub sigma2: Vec<f64>,
    /// Whether each σ² lies on the boundary (0).
    pub sigma2_at_zero: Vec<bool>,
    /// The levels, as metafor names them ("study", "study/es_id").
    pub sigma2_names: Vec<String>,
    /// The number of units at each level.
    pub sigma2_levels: Vec<usize>,
    /// Profile-likelihood CIs of each σ² (an upper limit beyond the
    /// search range is `null`).
    pub sigma2_ci: Option<Vec<[Option<f64>; 2]>>,
    /// The log-likelihood (restricted under REML).
    #[serde(rename = "logLik")]
    pub log_lik: f64,
    /// Deviance.
    pub deviance: f64,
    /// AIC.
    #[serde(rename = "AIC")]
    pub aic: f64,
    /// BIC.
    #[serde(rename = "BIC")]
    pub bic: f64,
    /// AICc.
    #[serde(rename = "AICc")]
    pub aicc: f64,
    /// Test for residual heterogeneity.
    #[serde(rename = "QE")]
    pub qe: f64,
    /// Its degrees of freedom, k − p.
    #[serde(rename = "QE_df")]
    pub qe_df: usize,
    /// Its p-value.
    #[serde(rename = "QE_p")]
    pub qe_p: f64,
    /// I² of each level, percent.
    #[serde(rename = "I2_levels")]
    pub i2_levels: Vec<f64>,
    /// I² of all levels together, percent.
    #[serde(rename = "I2_total")]
    pub i2_total: f64,
    /// Prediction interval with every variance component added (intercept-only models).
    pub pi_lower: Option<f64>,
    /// Upper prediction limit.
    pub pi_upper: Option<f64>,
    /// The parameters of structured terms (`inner | outer`), absent
    /// without them.
    #[serde(flatten)]
    pub structured: StructuredParameters,
    /// The likelihood-ratio test of each level.
    pub level_tests: Option<Vec<LevelTest>>,
    /// The BLUPs of the random effects of each level (`blup`; metafor's
    /// `ranef`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ranef: Option<super::ranef::Ranef>,
    /// The search limit of each profile CI (an upper limit beyond it is `null`).
    #[serde(skip)]
    pub sigma2_ci_limit: Vec<f64>,
    /// The coefficients' variance-covariance matrix, row by row.
    pub vcov: Vec<Vec<f64>>,
    /// Records left out for a missing moderator.
    pub dropped: Vec<String>,
    /// How it was computed.
    pub settings: MultilevelSettings,
    /// Things to know.
    pub warnings: Vec<Warning>,
    /// Whether the coefficients, `vcov` and the prediction interval are
    /// those of cluster-robust inference
    /// ([`crate::robust::multilevel::robust_summary`]) rather than the model's.
    #[serde(skip)]
    pub robust: bool,
}

/// The variances and correlations of the structured terms of a general
/// `rma.mv` model, in metafor's order (`res$tau2`, `res$rho`, `res$gamma2`,
/// `res$phi`); each absent where the model has no such parameter.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct StructuredParameters {
    /// τ² of the first structured term (one per inner level for HCS,
    /// DIAG, HAR, UN; levels as `g_levels`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tau2: Option<Vec<f64>>,
    /// ρ of the first structured term (UN: the lower triangle column by
    /// column).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rho: Option<Vec<f64>>,
    /// Profile-likelihood CIs of each τ² (metafor's `confint(res, tau2 =
    /// j)`; an upper limit beyond the search range is `null`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tau2_ci: Option<Vec<[Option<f64>; 2]>>,
    /// Profile-likelihood CI of ρ (CS, HCS, AR, HAR, CAR; metafor's
    /// `confint(res, rho = 1)`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rho_ci: Option<Vec<[Option<f64>; 2]>>,
    /// The inner levels of the first structured term, sorted as metafor's
    /// `factor()` in the C locale (metafor's `g.levels.f[[1]]`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub g_levels: Option<Vec<String>>,
    /// γ² of the second structured term.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gamma2: Option<Vec<f64>>,
    /// φ of the second structured term.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phi: Option<Vec<f64>>,
    /// Profile-likelihood CIs of each γ².
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gamma2_ci: Option<Vec<[Option<f64>; 2]>>,
    /// Profile-likelihood CI of φ.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phi_ci: Option<Vec<[Option<f64>; 2]>>,
    /// The inner levels of the second structured term.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub h_levels: Option<Vec<String>>,
}

/// The model matrix and what goes with it.
pub(super) struct Model<'a> {
    /// k×p model matrix, rows in data-set order of the studies used.
    pub x: &'a DMatrix<f64>,
    /// Their sampling variances.
    pub vi: &'a [f64],
    /// Coefficient names.
    pub coefficient_names: Vec<String>,
    /// The coefficients QM tests (empty: no QM).
    pub tested: Vec<usize>,
    /// Records left out for a missing moderator.
    pub dropped: Vec<String>,
}

pub(super) fn assemble(
    dataset: &Dataset,
    options: &MultilevelOptions,
    problem: &Problem,
    model: &Model,
    mut warnings: Vec<Warning>,
) -> Result<MultilevelResult, MultilevelError> {
    let structure = problem.structure;
    let labels = &structure.labels;
    let (k, p) = (problem.k(), problem.p);
    let levels = structure.levels();
    // QE and the saturated likelihood: the fit under V alone.
    let fixed_only = problem
        .evaluate(&vec![0.0; levels], false)
        .map_err(|e| model::eval_error(e, labels))?;
    let qe = fixed_only.rss.max(0.0);
    let fitted: Fitted = model::fit(problem, &fixed_only, options.max_iter, labels)?;
    let eval = &fitted.eval;
    if !(eval.ll.is_finite() && eval.beta.iter().all(|b| b.is_finite())) {
        return Err(MultilevelError::Singular);
    }
    let inference = model::inference(eval, options.test, options.level, k);
    let omnibus = if model.tested.is_empty() {
        None
    } else {
        Some(model::omnibus(eval, &model.tested, inference.df)?)
    };
    // metafor counts the estimated components only (`sigma2.fix`).
    let single = model::single_unit_levels(problem);
    if !single.is_empty() {
        warnings.push(Warning::SingleUnitLevel {
            levels: single.iter().map(|&l| structure.names[l].clone()).collect(),
        });
    }
    let parms = p + levels - single.len();
    let FitStatistics {
        log_lik,
        deviance,
        aic,
        bic,
        aicc,
    } = model::fit_statistics(eval, problem.reml, k, p, parms, fixed_only.log_det_m);
    let typical = typical_variance(model.x, model.vi).map_err(|_| MultilevelError::Singular)?;
    let (i2_levels, i2_total) = i2(&fitted.sigma2, typical);
    let intercept_only = model.tested.is_empty() && p == 1;
    let (summary, coefficients, pi) = if intercept_only {
        let half = inference.crit * (eval.vcov[(0, 0)] + fitted.sigma2.iter().sum::<f64>()).sqrt();
        (
            Some(Estimate {
                value: eval.beta[0],
                se: inference.se[0],
                statistic: inference.statistic[0],
                p: inference.p[0],
                ci_lower: inference.ci_lower[0],
                ci_upper: inference.ci_upper[0],
            }),
            None,
            Some((eval.beta[0] - half, eval.beta[0] + half)),
        )
    } else {
        let coefficients = model
            .coefficient_names
            .iter()
            .enumerate()
            .map(|(j, name)| Coefficient {
                name: name.clone(),
                estimate: Estimate {
                    value: eval.beta[j],
                    se: inference.se[j],
                    statistic: inference.statistic[j],
                    p: inference.p[j],
                    ci_lower: inference.ci_lower[j],
                    ci_upper: inference.ci_upper[j],
                },
                p_permutation: None,
            })
            .collect();
        (None, Some(coefficients), None)
    };
    let at_zero: Vec<String> = (0..levels)
        .filter(|&l| fitted.sigma2[l] == 0.0 && !single.contains(&l))
        .map(|l| structure.names[l].clone())
        .collect();
    if !at_zero.is_empty() {
        warnings.push(Warning::Sigma2AtZero { levels: at_zero });
    }
    // The profile CIs and the level tests refit the model many times, each
    // independently of the others: all run in parallel.
    let (profiles, level_tests) = join(
        || {
            options
                .profile
                .then(|| {
                    (0..levels)
                        .into_par_iter()
                        .map(|j| {
                            if single.contains(&j) {
                                // Fixed, not estimated: no interval (as metafor's confint).
                                return Ok(None);
                            }
                            profile_ci(problem, &fitted, j, options.level, options.max_iter, labels)
                                .map(Some)
                        })
                        .collect::<Result<Vec<_>, _>>()
                })
                .transpose()
        },
        || {
            options
                .level_tests
                .then(|| level_tests(problem, &fitted, &structure.names, options.max_iter, labels))
                .transpose()
        },
    );
    let mut sigma2_ci_limit = Vec::new();
    let sigma2_ci = profiles?.map(|profiles| {
        let mut cis = Vec::with_capacity(levels);
        for (j, ci) in profiles.into_iter().enumerate() {
            let Some(ci) = ci else {
                sigma2_ci_limit.push(f64::NAN);
                cis.push([None, None]);
                continue;
            };
            if ci.upper.is_none() {
                warnings.push(Warning::Sigma2CiBeyondSearch {
                    level: structure.names[j].clone(),
                    limit: ci.limit,
                });
            }
            sigma2_ci_limit.push(ci.limit);
            cis.push([Some(ci.lower), ci.upper]);
        }
        cis
    });
    let level_tests = level_tests?;
    Ok(MultilevelResult {
        title: dataset.title.clone(),
        k,
        summary,
        coefficients,
        df: inference.df,
        qm: omnibus.map(|o| o.0),
        qm_df: omnibus.map(|o| o.1),
        qm_df2: omnibus.and_then(|o| o.2),
        qm_p: omnibus.map(|o| o.3),
        sigma2_at_zero: (0..levels)
            .map(|l| fitted.sigma2[l] == 0.0 && !single.contains(&l))
            .collect(),
        sigma2: fitted.sigma2.clone(),
        sigma2_names: structure.names.clone(),
        sigma2_levels: structure.units.clone(),
        sigma2_ci,
        log_lik,
        deviance,
        aic,
        bic,
        aicc,
        qe,
        qe_df: k - p,
        qe_p: chisq_sf(qe, (k - p) as f64),
        i2_levels,
        i2_total,
        pi_lower: pi.map(|p| p.0),
        pi_upper: pi.map(|p| p.1),
        structured: StructuredParameters::default(),
        level_tests,
        ranef: None,
        sigma2_ci_limit,
        vcov: (0..p)
            .map(|a| (0..p).map(|b| eval.vcov[(a, b)]).collect())
            .collect(),
        dropped: model.dropped.clone(),
        settings: MultilevelSettings {
            user_weights: false,
            method: options.method,
            test: options.test,
            level: options.level,
            measure: dataset.measure,
            random: options.random.clone(),
            rho: options.rho,
            structs: Vec::new(),
            general: false,
            convergence: fitted.convergence,
            max_iter: options.max_iter,
            version: VERSION,
        },
        warnings,
        robust: false,
    })
}
