//! The result of a meta-regression, whose field names are the JSON contract,
//! and predictions from it (metafor `predict.rma`).

use crate::warning::{Warning, ci_warnings, model_warnings};
use std::collections::BTreeMap;

use serde::Serialize;

use super::design::{Layout, Term, TermKind};
use crate::data::dataset::Dataset;
use crate::estimate::Estimate;
use crate::model::fit_statistics::FitStatistics;
use crate::model::{HeterogeneityCi, ModelFit, ModelMatrix, ModelRow, OmnibusTest};
use crate::regression::permutation::PermutationResult;
use crate::settings::Settings;

/// One coefficient.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Coefficient {
    /// `intrcpt`, a continuous moderator's name, or `moderator=level` for a dummy.
    pub name: String,
    /// Estimate, SE, z (t under Knapp-Hartung), p and CI.
    #[serde(flatten)]
    pub estimate: Estimate,
    /// Permutation p-value, when a permutation test was run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p_permutation: Option<f64>,
}

/// One study in the model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RegressionStudy {
    /// Label.
    pub study: String,
    /// Outcome.
    pub yi: f64,
    /// Sampling variance.
    pub vi: f64,
    /// Its row of the model matrix, one value per coefficient (held by its
    /// non-zero entries, written out in full).
    pub x: ModelRow,
    /// Fitted value xᵢ'β̂.
    pub fitted: f64,
    /// Weight in the model, percent.
    pub weight: f64,
}

/// How a meta-regression was computed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RegressionSettings {
    /// Estimator, test, level, measure, convergence, version.
    #[serde(flatten)]
    pub model: Settings,
    /// The moderators, in model order.
    pub moderators: Vec<String>,
    /// The reference level of each dummy-coded moderator.
    pub reference_levels: BTreeMap<String, String>,
    /// Whether the model has an intercept.
    pub intercept: bool,
}

/// A fitted meta-regression. Field names are the JSON contract.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RegressionResult {
    /// Title of the data set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Studies in the model.
    pub k: usize,
    /// Coefficients: the intercept, then each moderator's columns.
    pub coefficients: Vec<Coefficient>,
    /// Their variance-covariance matrix, row by row.
    pub vcov: Vec<Vec<f64>>,
    /// Degrees of freedom of the t tests (Knapp-Hartung only).
    pub df: Option<f64>,
    /// Omnibus test of the moderators: χ² under z, F under Knapp-Hartung.
    #[serde(rename = "QM")]
    pub qm: f64,
    /// Its (numerator) degrees of freedom.
    #[serde(rename = "QM_df")]
    pub qm_df: usize,
    /// Denominator degrees of freedom of the F test (Knapp-Hartung only).
    #[serde(rename = "QM_df2", skip_serializing_if = "Option::is_none")]
    pub qm_df2: Option<f64>,
    /// Its p-value.
    #[serde(rename = "QM_p")]
    pub qm_p: f64,
    /// The test of a subset of the coefficients (`--btt`), when asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub btt: Option<super::subset_test::SubsetTest>,
    /// Test for residual heterogeneity.
    #[serde(rename = "QE")]
    pub qe: f64,
    /// Its degrees of freedom, k − p.
    #[serde(rename = "QE_df")]
    pub qe_df: usize,
    /// Its p-value.
    #[serde(rename = "QE_p")]
    pub qe_p: f64,
    /// Residual τ².
    pub tau2: f64,
    /// Standard error of the residual τ̂² (ML, REML, EB, PM; metafor `se.tau2`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tau2_se: Option<f64>,
    /// Q-profile CI of the residual τ² (`null` for the common-effect model;
    /// metafor `confint(res)`), or the Wald-type one after
    /// [`RegressionResult::use_wald_tau2_ci`].
    pub tau2_ci: Option<[f64; 2]>,
    /// `"Wald"` or `"profile"` when `tau2_ci`, `I2_ci` and `H2_ci` are
    /// Wald-type or profile-likelihood CIs (Q-profile otherwise).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tau2_ci_type: Option<&'static str>,
    /// Residual I², percent.
    #[serde(rename = "I2")]
    pub i2: f64,
    /// Q-profile CI of the residual I².
    #[serde(rename = "I2_ci")]
    pub i2_ci: Option<[f64; 2]>,
    /// Residual H².
    #[serde(rename = "H2")]
    pub h2: f64,
    /// Q-profile CI of the residual H².
    #[serde(rename = "H2_ci")]
    pub h2_ci: Option<[f64; 2]>,
    /// Log-likelihood, deviance, AIC, BIC, AICc (metafor `fitstats`: REML
    /// for a REML fit, ML otherwise).
    #[serde(flatten)]
    pub fit_statistics: FitStatistics,
    /// Pseudo-R², percent (`null` without an intercept, or when the intercept-only model fails).
    #[serde(rename = "R2")]
    pub r2: Option<f64>,
    /// Permutation test, when run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub permutation: Option<PermutationResult>,
    /// Predictions at new moderator values (`--predict`), when asked for
    /// ([`RegressionResult::predict_at`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub predictions: Option<Vec<super::predict::PredictedValue>>,
    /// The studies' BLUPs (`--blup`), when asked for ([`RegressionResult::blups`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blups: Option<Vec<crate::model::blup::Blup>>,
    /// The studies in the model.
    pub studies: Vec<RegressionStudy>,
    /// Studies left out because a used moderator is missing.
    pub dropped: Vec<String>,
    /// How it was computed.
    pub settings: RegressionSettings,
    /// Things to know.
    pub warnings: Vec<Warning>,
    /// The critical value of the CIs (normal or t quantile).
    #[serde(skip)]
    pub crit: f64,
    /// The typical sampling variance of I² and H².
    #[serde(skip)]
    pub typical_variance: f64,
    /// How each moderator is coded in the model matrix.
    #[serde(skip)]
    pub terms: Vec<Term>,
}

/// A predicted mean effect at given moderator values, with its CI.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Prediction {
    /// x₀'β̂.
    pub estimate: f64,
    /// √(x₀' V x₀).
    pub se: f64,
    /// Lower confidence limit.
    pub ci_lower: f64,
    /// Upper confidence limit.
    pub ci_upper: f64,
}

impl RegressionResult {
    /// Replaces the Q-profile CIs of the residual τ², I² and H² by the
    /// profile-likelihood ones (metafor `confint(res, type = "PL")`); false,
    /// and nothing changed, for the common-effect model; an error with user
    /// weights or unweighted.
    pub fn use_profile_tau2_ci(&mut self) -> Result<bool, crate::model::FitError> {
        if !self.settings.model.weights.is_inverse_variance() {
            return Err(crate::model::FitError::NotWithWeights {
                what: "the profile-likelihood CI of tau^2 (`tau2_ci` profile)",
                remedy: "use the Q-profile CI (the default) or `tau2_ci` wald",
            });
        }
        let s = &self.settings.model;
        if s.method == crate::model::Method::EE {
            return Ok(false);
        }
        let yi: Vec<f64> = self.studies.iter().map(|st| st.yi).collect();
        let vi: Vec<f64> = self.studies.iter().map(|st| st.vi).collect();
        // The model matrix from the studies' rows as they are held (by their
        // non-zero entries), so a model with a many-level factor stays small.
        let x = super::sparse_design::SparseRows::new(
            self.coefficients.len(),
            self.studies.iter().map(|st| st.x.entries().to_vec()),
        );
        let ci = crate::model::tau2_uncertainty::profile_ci(
            &yi,
            &vi,
            &x,
            (self.tau2, s.method),
            self.typical_variance,
            s.level,
        )?;
        self.tau2_ci = Some(ci.tau2);
        self.i2_ci = Some(ci.i2);
        self.h2_ci = Some(ci.h2);
        self.tau2_ci_type = Some("profile");
        Ok(true)
    }

    /// Replaces the Q-profile CIs of the residual τ², I² and H² by the
    /// Wald-type ones (metafor `confint(res, type = "Wald")`); false, and
    /// nothing changed, when the estimator has no SE of τ̂².
    pub fn use_wald_tau2_ci(&mut self) -> bool {
        let Some(se) = self.tau2_se else {
            return false;
        };
        let ci = crate::model::tau2_uncertainty::wald_ci(
            self.tau2,
            se,
            self.typical_variance,
            self.settings.model.level,
        );
        self.tau2_ci = Some(ci.tau2);
        self.i2_ci = Some(ci.i2);
        self.h2_ci = Some(ci.h2);
        self.tau2_ci_type = Some("Wald");
        true
    }

    /// The predicted mean effect for the model-matrix row `x0`
    /// (metafor `predict(res, newmods = ...)`): x₀'β̂ ± c √(x₀' V x₀),
    /// with c the critical value of the model's CIs.
    pub fn predict(&self, x0: &[f64]) -> Prediction {
        self.predict_row(&ModelRow::new(
            x0.len(),
            x0.iter().copied().enumerate().collect(),
        ))
    }

    /// [`Self::predict`] for a row held by its non-zero entries, in
    /// O(entries²): a study's row of a factor with thousands of levels.
    pub fn predict_row(&self, x0: &ModelRow) -> Prediction {
        let crit = self.crit;
        let entries = x0.entries();
        let estimate: f64 = entries
            .iter()
            .map(|&(a, x)| x * self.coefficients[a].estimate.value)
            .sum();
        let mut variance = 0.0;
        for &(a, xa) in entries {
            for &(b, xb) in entries {
                variance += xa * self.vcov[a][b] * xb;
            }
        }
        let se = variance.max(0.0).sqrt();
        Prediction {
            estimate,
            se,
            ci_lower: estimate - crit * se,
            ci_upper: estimate + crit * se,
        }
    }
}

/// What a meta-regression reports beside the fit itself.
pub(super) struct Summaries {
    /// The omnibus test of the moderators.
    pub omnibus: OmnibusTest,
    /// The Q-profile CIs of τ², I² and H² (`None` for the common-effect model).
    pub ci: Option<HeterogeneityCi>,
    /// logLik, deviance, AIC, BIC, AICc.
    pub fit_statistics: FitStatistics,
    /// Pseudo-R².
    pub r2: Option<f64>,
    /// SE of τ̂².
    pub tau2_se: Option<f64>,
}

pub(super) fn assemble(
    dataset: &Dataset,
    design: &Layout,
    x: &dyn ModelMatrix,
    model: &ModelFit,
    summaries: Summaries,
    permutation: Option<PermutationResult>,
) -> RegressionResult {
    let Summaries {
        omnibus,
        ci,
        fit_statistics,
        r2,
        tau2_se,
    } = summaries;
    let coefficients = design
        .names
        .iter()
        .enumerate()
        .map(|(j, name)| Coefficient {
            name: name.clone(),
            estimate: model.estimate(j),
            p_permutation: permutation.as_ref().map(|p| p.p[j]),
        })
        .collect();
    let total_weight: f64 = model.weights.iter().sum();
    let studies = design
        .rows
        .iter()
        .enumerate()
        .map(|(r, &i)| {
            let s = &dataset.studies[i];
            let x = x.model_row(r);
            RegressionStudy {
                study: s.label().to_owned(),
                yi: s.yi,
                vi: s.vi,
                fitted: x.entries().iter().map(|&(a, v)| v * model.beta[a]).sum(),
                x,
                weight: 100.0 * model.weights[r] / total_weight,
            }
        })
        .collect();
    let reference_levels = design
        .terms
        .iter()
        .filter_map(|t| match &t.kind {
            TermKind::Categorical {
                reference: Some(level),
                ..
            } => Some((t.moderator.clone(), level.clone())),
            _ => None,
        })
        .collect();
    let dropped: Vec<String> = design.dropped.iter().map(|d| d.study.clone()).collect();
    RegressionResult {
        title: dataset.title.clone(),
        k: model.k,
        coefficients,
        vcov: model
            .vcov
            .row_iter()
            .map(|r| r.iter().copied().collect())
            .collect(),
        df: model.df,
        qm: omnibus.statistic,
        qm_df: omnibus.df1,
        qm_df2: omnibus.df2,
        qm_p: omnibus.p,
        btt: None,
        qe: model.q,
        qe_df: model.q_df,
        qe_p: model.q_p,
        tau2: model.tau2,
        tau2_se,
        tau2_ci: ci.map(|c| c.tau2),
        tau2_ci_type: model.options.method.needs_weights().then_some("GENQ"),
        i2: model.i2,
        i2_ci: ci.map(|c| c.i2),
        h2: model.h2,
        h2_ci: ci.map(|c| c.h2),
        fit_statistics,
        r2,
        permutation,
        predictions: None,
        blups: None,
        studies,
        settings: RegressionSettings {
            model: Settings::new(&model.options, dataset.measure, model.convergence),
            moderators: design.terms.iter().map(|t| t.moderator.clone()).collect(),
            reference_levels,
            intercept: design.intercept,
        },
        warnings: warnings(dataset, design, model, ci.as_ref()),
        dropped,
        crit: model.crit,
        typical_variance: model.typical_variance,
        terms: design.terms.clone(),
    }
}

fn warnings(
    dataset: &Dataset,
    design: &Layout,
    model: &ModelFit,
    ci: Option<&HeterogeneityCi>,
) -> Vec<Warning> {
    let mut warnings = dataset.warnings.clone();
    warnings.extend(super::design::missing_moderators(&design.dropped));
    warnings.extend(model_warnings(model));
    if let Some(ci) = ci {
        warnings.extend(ci_warnings(ci));
    }
    warnings
}
