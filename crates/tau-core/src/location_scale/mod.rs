//! Location-scale models: a meta-regression whose heterogeneity has its own
//! moderators, yᵢ = xᵢ'β + uᵢ + εᵢ with uᵢ ~ N(0, τ²ᵢ) and
//! ln τ²ᵢ = zᵢ'α (Viechtbauer & López-López 2022; metafor's
//! `rma(yi, vi, mods = ~ a, scale = ~ b + c)`, the log link).
//!
//! α is estimated by REML or ML (metafor's `method`), with β profiled out by
//! weighted least squares ([`likelihood`]); the standard errors of α̂ come
//! from the inverse of the exact Hessian of that log-likelihood (metafor
//! differentiates it numerically). β̂ and its tests are those of weighted
//! least squares with wᵢ = 1/(vᵢ + τ̂²ᵢ). QS tests the scale coefficients
//! but the intercept (χ² with q − 1 df), as QM tests the location ones.
//!
//! Studies lacking a location or a scale moderator are left out, as metafor
//! does.

pub mod likelihood;
mod optimise;
mod result;

use nalgebra::{DMatrix, DVector};

use crate::data::dataset::Dataset;
use crate::data::moderator::{self, ModeratorError};
use crate::estimate::Estimate;
use crate::fields::{MAX_ITER, METHOD, SCALE};
use crate::model::Method;
use crate::model::fit::wald_test;
use crate::model::fit_statistics::FitStatistics;
use crate::model::wls::{SingularDesign, invert_spd};
use crate::numerics::distribution::{chisq_sf, normal_upper};
use crate::regression::design::{self, Design, DesignError, DesignSpec, DroppedStudy};
use crate::regression::predict::{PredictError, PredictSpec, resolve_terms, row_entries};
use crate::regression::{Coefficient, INTERCEPT};
pub use result::{LocationScaleResult, LocationScaleSettings, LocationScaleStudy, ScalePrediction};

/// Everything that decides a location-scale model.
#[derive(Debug, Clone, PartialEq)]
pub struct LocationScaleOptions {
    /// REML or ML.
    pub method: Method,
    /// Confidence level in percent.
    pub level: f64,
    /// Iteration limit of the Newton-Raphson search for α̂.
    pub max_iter: usize,
    /// Location moderators (empty: intercept only), reference levels and
    /// whether the location model has an intercept.
    pub location: DesignSpec,
    /// Scale moderators; the scale model always has an intercept.
    pub scale: Vec<String>,
}

/// Why a location-scale model could not be fitted.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum LocationScaleError {
    /// `method` is neither REML nor ML.
    #[error(
        "a location-scale model ({SCALE}) is fitted by REML or ML (metafor's rma with scale =); got {METHOD} {0}: write {METHOD} REML or ML"
    )]
    Method(&'static str),
    /// A moderator cannot be read.
    #[error(transparent)]
    Moderator(#[from] ModeratorError),
    /// The location model matrix cannot be built.
    #[error(transparent)]
    Location(DesignError),
    /// The scale model matrix cannot be built.
    #[error("in the scale model ({SCALE}): {0}")]
    Scale(DesignError),
    /// Too few studies for the parameters.
    #[error(
        "a location-scale model with {p} location and {q} scale coefficients needs at least {} studies with every moderator; {k} have them",
        .p + .q
    )]
    TooFewStudies {
        /// Studies used.
        k: usize,
        /// Location coefficients.
        p: usize,
        /// Scale coefficients.
        q: usize,
    },
    /// X'WX or the Hessian is singular.
    #[error("{0} (in the location-scale model)")]
    Singular(#[from] SingularDesign),
    /// Newton-Raphson did not reach the maximum.
    #[error(
        "the scale coefficients did not converge in {iterations} iterations (the log-likelihood may have no maximum, e.g. a tau^2 that tends to 0 for a level of a scale moderator); raise {MAX_ITER}, or simplify the scale model"
    )]
    NotConverged {
        /// Iterations used.
        iterations: usize,
    },
    /// A prediction at scale values failed.
    #[error(transparent)]
    Predict(#[from] PredictError),
}

impl crate::Kinded for LocationScaleError {
    fn kind(&self) -> crate::ErrorKind {
        match self {
            LocationScaleError::Method(_)
            | LocationScaleError::Moderator(_)
            | LocationScaleError::Location(_)
            | LocationScaleError::Scale(_)
            | LocationScaleError::TooFewStudies { .. }
            | LocationScaleError::Predict(_) => crate::ErrorKind::Input,
            LocationScaleError::Singular(_) | LocationScaleError::NotConverged { .. } => {
                crate::ErrorKind::Analysis
            }
        }
    }
}

/// The studies with every location and scale moderator, and the others.
fn complete_cases(
    dataset: &Dataset,
    names: &[&String],
) -> Result<(Dataset, Vec<DroppedStudy>), ModeratorError> {
    let columns = names
        .iter()
        .map(|n| moderator::column(dataset, n))
        .collect::<Result<Vec<_>, _>>()?;
    let mut kept = Vec::new();
    let mut dropped = Vec::new();
    for (i, study) in dataset.studies.iter().enumerate() {
        let missing: Vec<String> = names
            .iter()
            .zip(&columns)
            .filter(|(_, c)| !c.is_present(i))
            .map(|(n, _)| (*n).clone())
            .collect();
        if missing.is_empty() {
            kept.push(study.clone());
        } else {
            dropped.push(DroppedStudy {
                study: study.label().to_owned(),
                missing,
            });
        }
    }
    Ok((
        Dataset {
            studies: kept,
            ..dataset.clone()
        },
        dropped,
    ))
}

/// The location design: the moderators' model matrix, or the intercept.
fn location_design(data: &Dataset, spec: &DesignSpec) -> Result<Design, LocationScaleError> {
    if spec.moderators.is_empty() {
        let k = data.studies.len();
        return Ok(Design {
            x: DMatrix::from_element(k, 1, 1.0),
            names: vec![INTERCEPT.to_owned()],
            intercept: true,
            terms: Vec::new(),
            rows: (0..k).collect(),
            dropped: Vec::new(),
        });
    }
    design::build(data, spec).map_err(LocationScaleError::Location)
}

/// Fits the location-scale model of `options` to `dataset`.
pub fn fit(
    dataset: &Dataset,
    options: &LocationScaleOptions,
) -> Result<LocationScaleResult, LocationScaleError> {
    let reml = match options.method {
        Method::REML => true,
        Method::ML => false,
        other => return Err(LocationScaleError::Method(other.name())),
    };
    let names: Vec<&String> = options
        .location
        .moderators
        .iter()
        .chain(
            options
                .scale
                .iter()
                .filter(|s| !options.location.moderators.contains(s)),
        )
        .collect();
    let (data, dropped) = complete_cases(dataset, &names)?;
    let (scale_refs, location_refs): (Vec<_>, Vec<_>) = options
        .location
        .references
        .iter()
        .cloned()
        .partition(|(m, _)| options.scale.contains(m) && !options.location.moderators.contains(m));
    let location = location_design(
        &data,
        &DesignSpec {
            references: location_refs,
            ..options.location.clone()
        },
    )?;
    let scale = design::build(
        &data,
        &DesignSpec {
            moderators: options.scale.clone(),
            references: scale_refs,
            intercept: true,
        },
    )
    .map_err(LocationScaleError::Scale)?;
    let (k, p, q) = (data.studies.len(), location.x.ncols(), scale.x.ncols());
    if k < p + q {
        return Err(LocationScaleError::TooFewStudies { k, p, q });
    }
    let yi = data.yi();
    let vi = data.vi();
    let problem = likelihood::Problem {
        yi: &yi,
        vi: &vi,
        x: &location.x,
        z: &scale.x,
        reml,
    };
    let optimum = optimise::maximise(&problem, options.max_iter)?;
    assemble(
        &data, options, &problem, &location, &scale, optimum, dropped,
    )
}

/// The result at the optimum: both coefficient tables, the tests, the fit
/// statistics and the studies.
fn assemble(
    data: &Dataset,
    options: &LocationScaleOptions,
    problem: &likelihood::Problem,
    location: &Design,
    scale: &Design,
    optimum: optimise::Optimum,
    dropped: Vec<DroppedStudy>,
) -> Result<LocationScaleResult, LocationScaleError> {
    let (k, p, q) = (problem.yi.len(), location.x.ncols(), scale.x.ncols());
    let crit = normal_upper((1.0 - options.level / 100.0) / 2.0);
    let at = &optimum.at;
    let (_, hessian) = problem.derivatives(at);
    let alpha_vcov = invert_spd(-hessian)?;
    let table = |names: &[String], values: &DVector<f64>, vcov: &DMatrix<f64>| {
        names
            .iter()
            .enumerate()
            .map(|(j, name)| Coefficient {
                name: name.clone(),
                estimate: Estimate::wald(values[j], vcov[(j, j)].sqrt(), crit, None),
                p_permutation: None,
            })
            .collect::<Vec<_>>()
    };
    let qs = wald_test(
        optimum.alpha.as_slice(),
        |a, b| alpha_vcov[(a, b)],
        &(1..q).collect::<Vec<_>>(),
        None,
    )?;
    let qm = (location.intercept && p > 1)
        .then(|| {
            wald_test(
                at.beta.as_slice(),
                |a, b| at.c[(a, b)],
                &location.tested(),
                None,
            )
        })
        .transpose()?;
    // QE: the common-effect residual sum of squares, as for every rma.uni.
    let fe_w: Vec<f64> = problem.vi.iter().map(|v| 1.0 / v).collect();
    let fe = crate::model::wls::Wls::fit(problem.x, problem.yi, &fe_w)?;
    let qe = fe.rss(&fe_w).max(0.0);
    let qe_df = k - p;
    // The typical sampling variance (k − p)/tr(P) of I² and H², P = W − WX(X'WX)⁻¹X'W at w = 1/v.
    let trace_p: f64 = (0..k)
        .map(|i| {
            let xi = problem.x.row(i).transpose();
            fe_w[i] - fe_w[i] * fe_w[i] * (xi.transpose() * &fe.xtwx_inv * &xi)[(0, 0)]
        })
        .sum();
    let typical = qe_df as f64 / trace_p;
    let sum_w: f64 = at.w.iter().sum();
    let fitted = problem.x * &at.beta;
    let studies = data
        .studies
        .iter()
        .enumerate()
        .map(|(i, s)| LocationScaleStudy {
            study: s.label().to_owned(),
            yi: problem.yi[i],
            vi: problem.vi[i],
            fitted: fitted[i],
            tau2: at.tau2[i],
            i2: 100.0 * at.tau2[i] / (typical + at.tau2[i]),
            h2: at.tau2[i] / typical + 1.0,
            weight: 100.0 * at.w[i] / sum_w,
        })
        .collect();
    let parms = (p + q) as f64;
    let n = if problem.reml {
        (k - p) as f64
    } else {
        k as f64
    };
    let deviance = if problem.reml {
        -2.0 * at.log_lik
    } else {
        -2.0 * (at.log_lik - crate::model::fit_statistics::saturated(problem.vi))
    };
    Ok(LocationScaleResult {
        title: data.title.clone(),
        k,
        coefficients: table(&location.names, &at.beta, &at.c),
        vcov: matrix_rows(&at.c),
        qm: qm.map(|t| t.statistic),
        qm_df: qm.map(|t| t.df1),
        qm_p: qm.map(|t| t.p),
        qe,
        qe_df,
        qe_p: chisq_sf(qe, qe_df as f64),
        alpha: table(&scale.names, &optimum.alpha, &alpha_vcov),
        alpha_vcov: matrix_rows(&alpha_vcov),
        qs: qs.statistic,
        qs_df: qs.df1,
        qs_p: qs.p,
        fit_statistics: FitStatistics::new(at.log_lik, deviance, parms, n),
        predictions: None,
        studies,
        dropped: dropped
            .iter()
            .map(|d| format!("{} (no {})", d.study, d.missing.join(", ")))
            .collect(),
        settings: LocationScaleSettings {
            method: options.method,
            test: "z",
            level: options.level,
            measure: data.measure,
            link: "log",
            moderators: location.terms.iter().map(|t| t.moderator.clone()).collect(),
            scale: options.scale.clone(),
            iterations: optimum.iterations,
            max_iter: options.max_iter,
            version: crate::settings::VERSION,
        },
        warnings: crate::regression::design::missing_moderators(&dropped)
            .into_iter()
            .collect(),
        crit,
        scale_terms: scale.terms.clone(),
    })
}

fn matrix_rows(m: &DMatrix<f64>) -> Vec<Vec<f64>> {
    (0..m.nrows())
        .map(|i| m.row(i).iter().copied().collect())
        .collect()
}

impl LocationScaleResult {
    /// ln τ² and τ² at the scale moderator values of `spec`, with their CIs
    /// (metafor's `predict(res, newscale = z0)`, and with `transf = exp`).
    pub fn predict_at(&self, spec: &PredictSpec) -> Result<ScalePrediction, PredictError> {
        let moderators = resolve_terms(&self.scale_terms, spec)?;
        let q = self.alpha.len();
        let mut z0 = vec![0.0; q];
        for (j, value) in row_entries(&self.scale_terms, true, &moderators) {
            z0[j] = value;
        }
        let pred: f64 = (0..q).map(|j| z0[j] * self.alpha[j].estimate.value).sum();
        let var: f64 = (0..q)
            .flat_map(|a| (0..q).map(move |b| (a, b)))
            .map(|(a, b)| z0[a] * self.alpha_vcov[a][b] * z0[b])
            .sum();
        let se = var.sqrt();
        let (ci_lower, ci_upper) = (pred - self.crit * se, pred + self.crit * se);
        Ok(ScalePrediction {
            moderators,
            pred,
            se,
            ci_lower,
            ci_upper,
            tau2: pred.exp(),
            tau2_ci_lower: ci_lower.exp(),
            tau2_ci_upper: ci_upper.exp(),
        })
    }
}
