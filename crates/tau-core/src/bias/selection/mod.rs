//! Selection models for publication bias (metafor `selmodel` on an
//! `rma.uni` fit): the studies' outcomes are modelled as a random-effects
//! (or common-effect) meta-regression whose studies are published with a
//! probability w(p; δ) that depends on their one-sided p-value, and β, τ²
//! and δ are estimated together by maximum likelihood (Hedges 1992; Vevea &
//! Hedges 1995; Citkowicz & Vevea 2017; Preston, Ashby & Smyth 2004).
//!
//! The three-parameter selection model (3PSM) is the step function with one
//! cut-point at p = .025: studies significant in the favoured direction at
//! two-sided .05 have weight 1, the others δ₂ (δ₂ < 1: non-significant
//! studies are under-represented). The adjusted estimate is the model's β̂.
//!
//! Everything follows metafor 3.8: the refit by ML, the parametrisation
//! (log τ², δ mapped into [δ_min, 100] by a logistic function), the start
//! values, the optimiser (`optim`: R's BFGS with its numerical gradient),
//! standardised continuous moderators during the search, the integrals
//! (`integrate`: R's `integrate`), the Hessian (`hessian`: numDeriv
//! with r = 6) and Wald-type intervals for τ² and δ on their natural scale.

mod fit;
mod likelihood;
pub mod robust;
pub mod weight;

pub use fit::{
    Clusters, Coefficient, HeterogeneityLrt, Interval, MAX_STEPS, Omnibus, SelectionModel,
    SelectionOptions, SelectionRobust, SelectionSettings, Unadjusted, selection_model,
    selection_model_clustered,
};
pub use weight::{Alternative, SelectionType, weight};

use crate::ErrorKind;
use crate::data::dataset::Dataset;
use crate::fields::{ALTERNATIVE, ROBUST, STEPS, TYPE};
use crate::model::{FitError, intercept_design};
use crate::regression::design::{self, DesignError, DesignSpec, INTERCEPT};
use crate::robust::RobustError;
use crate::robust::uni::{cluster_groups, keep_clustered};
use crate::warning::Warning;

/// Fits a selection model to `dataset`, with the moderators of `moderators`
/// (if any) in the model as in metafor's `selmodel(rma(yi, vi, mods = ...))`.
pub fn selection(
    dataset: &Dataset,
    moderators: Option<&DesignSpec>,
    options: &SelectionOptions,
) -> Result<SelectionModel, SelectionError> {
    fit_dataset(dataset, moderators, options, None)
}

/// As [`selection`], for dependent effect sizes: the effects are clustered
/// by the moderator `cluster` (usually the study) and the standard errors
/// are cluster-robust ([`robust`]). Effects without a cluster value are left
/// out with a warning.
pub fn selection_clustered(
    dataset: &Dataset,
    moderators: Option<&DesignSpec>,
    options: &SelectionOptions,
    cluster: &str,
) -> Result<SelectionModel, SelectionError> {
    let kept = keep_clustered(dataset, cluster)?;
    let mut model = fit_dataset(&kept, moderators, options, Some(cluster))?;
    for (at, warning) in kept.warnings[dataset.warnings.len()..].iter().enumerate() {
        model.warnings.insert(at, warning.clone());
    }
    Ok(model)
}

fn fit_dataset(
    dataset: &Dataset,
    moderators: Option<&DesignSpec>,
    options: &SelectionOptions,
    cluster: Option<&str>,
) -> Result<SelectionModel, SelectionError> {
    let clusters = |rows: &[usize]| -> Result<Option<Clusters>, SelectionError> {
        cluster
            .map(|name| {
                Ok(Clusters {
                    name: name.to_owned(),
                    groups: cluster_groups(dataset, rows, name)?,
                })
            })
            .transpose()
    };
    let fit = |yi: &[f64],
               vi: &[f64],
               x: &nalgebra::DMatrix<f64>,
               names: &[String],
               intercept: bool,
               rows: &[usize]| match clusters(rows)? {
        None => selection_model(yi, vi, x, names, intercept, options),
        Some(c) => selection_model_clustered(yi, vi, x, names, intercept, options, &c),
    };
    match moderators {
        None => {
            let k = dataset.studies.len();
            let rows: Vec<usize> = (0..k).collect();
            fit(
                &dataset.yi(),
                &dataset.vi(),
                &intercept_design(k),
                &[INTERCEPT.to_owned()],
                true,
                &rows,
            )
        }
        Some(spec) => {
            let design = design::build(dataset, spec)?;
            let yi: Vec<f64> = design.rows.iter().map(|&i| dataset.studies[i].yi).collect();
            let vi: Vec<f64> = design.rows.iter().map(|&i| dataset.studies[i].vi).collect();
            let mut model = fit(
                &yi,
                &vi,
                &design.x,
                &design.names,
                design.intercept,
                &design.rows,
            )?;
            if !design.dropped.is_empty() {
                model.warnings.insert(
                    0,
                    Warning::MissingModerators {
                        studies: design
                            .dropped
                            .iter()
                            .map(|d| format!("{} (no {})", d.study, d.missing.join(", ")))
                            .collect(),
                    },
                );
            }
            Ok(model)
        }
    }
}

/// Why a selection model could not be fitted.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum SelectionError {
    /// A step function without cut-points.
    #[error(
        "a step-function selection model needs its cut-points: give {STEPS}, e.g. {STEPS} 0.025 for the three-parameter selection model (3PSM)"
    )]
    NoSteps,
    /// A cut-point outside the p-value scale.
    #[error(
        "the cut-point {value} makes no sense: cut-points are one-sided p-values strictly between 0 and 1 (p = 1 - Phi(yi/sei) for {ALTERNATIVE} greater, Phi(yi/sei) for less); a two-sided .05 is the one-sided 0.025, and 0.5 separates effects in the favoured direction from the others"
    )]
    BadStep {
        /// The value given.
        value: f64,
    },
    /// More cut-points than the fit can afford.
    #[error(
        "{given} cut-points are too many: a selection model takes at most {max} (each adds a weight to estimate, and the Hessian's cost grows with the cube of their number); merge them, e.g. {STEPS} 0.025,0.05,0.5"
    )]
    TooManySteps {
        /// Distinct cut-points given (without a final 1).
        given: usize,
        /// The limit, [`MAX_STEPS`].
        max: usize,
    },
    /// Only the step function takes more than one cut-point.
    #[error(
        "the {kind} selection model takes at most one cut-point (below it the weight is 1); only {TYPE} step takes several"
    )]
    OneStepOnly {
        /// The type.
        kind: &'static str,
    },
    /// An interval of p-values without a study.
    #[error(
        "no study has a one-sided p-value in the interval {interval}, so its selection weight cannot be estimated; use fewer cut-points (e.g. {STEPS} 0.025 alone) or move them so that each interval holds studies"
    )]
    EmptyInterval {
        /// The interval, e.g. "0.025 < p <= 0.5".
        interval: String,
    },
    /// More parameters than studies.
    #[error(
        "{k} studies are too few for a selection model with {parameters} parameters; use fewer cut-points or a common-effect model"
    )]
    TooFewStudies {
        /// Studies.
        k: usize,
        /// Parameters to estimate.
        parameters: usize,
    },
    /// Cluster-robust standard errors asked for with a continuous weight function.
    #[error(
        "cluster-robust standard errors ({ROBUST}) are available for step-function selection models only, not for the {kind} type: use {TYPE} step (e.g. {STEPS} 0.025, the 3PSM)"
    )]
    RobustStepOnly {
        /// The type.
        kind: &'static str,
    },
    /// Not more clusters than estimated parameters.
    #[error(
        "{clusters} clusters for {parameters} estimated parameters: the cluster-robust variance needs more clusters than parameters (and is unreliable with fewer than about 20); use fewer cut-points or drop {ROBUST}"
    )]
    TooFewClusters {
        /// Number of clusters.
        clusters: usize,
        /// Estimated parameters (β, τ², free δ).
        parameters: usize,
    },
    /// The cluster moderator could not be read.
    #[error(transparent)]
    Robust(#[from] RobustError),
    /// The moderators could not be turned into a model matrix.
    #[error(transparent)]
    Design(#[from] DesignError),
    /// The model without selection could not be fitted.
    #[error("the model without selection: {0}")]
    Fit(#[from] FitError),
    /// The likelihood's integral failed for a study.
    #[error(
        "the selection model's likelihood could not be integrated for study {study} ({reason}); try a step function ({TYPE} step) or another weight function"
    )]
    Integration {
        /// 1-based study number.
        study: usize,
        /// R's message.
        reason: &'static str,
    },
    /// The optimiser failed or ran out of iterations.
    #[error(
        "the selection model did not converge ({reason}); as metafor advises: use fewer cut-points (intervals with few studies make the likelihood flat), another weight function, or check for studies with extreme outcomes"
    )]
    NotConverged {
        /// What happened.
        reason: &'static str,
    },
}

impl SelectionError {
    /// Whose problem the error is.
    pub fn kind(&self) -> ErrorKind {
        match self {
            SelectionError::NoSteps
            | SelectionError::BadStep { .. }
            | SelectionError::TooManySteps { .. }
            | SelectionError::OneStepOnly { .. }
            | SelectionError::EmptyInterval { .. }
            | SelectionError::TooFewStudies { .. }
            | SelectionError::RobustStepOnly { .. }
            | SelectionError::TooFewClusters { .. }
            | SelectionError::Design(_) => ErrorKind::Input,
            SelectionError::Robust(e) => crate::Kinded::kind(e),
            SelectionError::Fit(
                FitError::TooFewStudies { .. }
                | FitError::BadVariance { .. }
                | FitError::BadLevel(_),
            ) => ErrorKind::Input,
            _ => ErrorKind::Analysis,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Control;

    fn options(kind: SelectionType, steps: &[f64]) -> SelectionOptions {
        SelectionOptions {
            kind,
            steps: steps.to_vec(),
            alternative: Alternative::Greater,
            common_effect: false,
            level: 95.0,
            control: Control::default(),
        }
    }

    fn fit(
        yi: &[f64],
        kind: SelectionType,
        steps: &[f64],
    ) -> Result<SelectionModel, SelectionError> {
        let vi = vec![0.04; yi.len()];
        let x = intercept_design(yi.len());
        selection_model(
            yi,
            &vi,
            &x,
            &[INTERCEPT.to_owned()],
            true,
            &options(kind, steps),
        )
    }

    const YI: [f64; 6] = [0.5, 0.45, 0.1, 0.05, -0.1, 0.6];

    #[test]
    fn nonsensical_steps_are_input_errors() {
        for steps in [&[0.0][..], &[-0.1], &[f64::NAN], &[1.5]] {
            let e = fit(&YI, SelectionType::Step, steps).unwrap_err();
            assert!(matches!(e, SelectionError::BadStep { .. }), "{e}");
            assert_eq!(e.kind(), ErrorKind::Input);
            assert!(e.to_string().contains("one-sided p-values"));
        }
        assert_eq!(
            fit(&YI, SelectionType::Step, &[]).unwrap_err(),
            SelectionError::NoSteps
        );
        assert!(matches!(
            fit(&YI, SelectionType::Power, &[0.025, 0.5]).unwrap_err(),
            SelectionError::OneStepOnly { .. }
        ));
    }

    #[test]
    fn a_trailing_one_is_the_end_of_the_last_interval() {
        // metafor: selmodel(res, type = "stepfun", steps = c(.05, .1, .5, 1))
        // and steps = c(.05, .1, .5) fit the same model (it appends the 1).
        let yi = [0.5, 0.45, 0.1, 0.05, -0.1, 0.6, 0.3, 0.2, 0.25, 0.02];
        let with_one = fit(&yi, SelectionType::Step, &[0.05, 0.1, 0.5, 1.0]).unwrap();
        let without = fit(&yi, SelectionType::Step, &[0.05, 0.1, 0.5]).unwrap();
        // (Debug, not ==: the fixed δ₁ has a NaN standard error.)
        assert_eq!(format!("{with_one:?}"), format!("{without:?}"));
        assert_eq!(with_one.settings.steps, [0.05, 0.1, 0.5, 1.0]);
        // A 1 alone leaves no cut-point.
        assert_eq!(
            fit(&YI, SelectionType::Step, &[1.0]).unwrap_err(),
            SelectionError::NoSteps
        );
    }

    #[test]
    fn too_many_cut_points_are_refused_before_fitting() {
        let steps: Vec<f64> = (1..=200).map(|j| f64::from(j) / 201.0).collect();
        let e = fit(&YI, SelectionType::Step, &steps).unwrap_err();
        assert_eq!(
            e,
            SelectionError::TooManySteps {
                given: 200,
                max: MAX_STEPS
            }
        );
        assert_eq!(e.kind(), ErrorKind::Input);
    }

    #[test]
    fn an_empty_interval_is_named() {
        // p-values (greater, se 0.2): 0.006, 0.012, 0.31, 0.40, 0.69, 0.001: none in (0.02, 0.3].
        let e = fit(&YI, SelectionType::Step, &[0.02, 0.3]).unwrap_err();
        assert_eq!(
            e,
            SelectionError::EmptyInterval {
                interval: "0.02 < p <= 0.3".into()
            }
        );
        assert_eq!(e.kind(), ErrorKind::Input);
    }

    #[test]
    fn too_few_studies_for_the_parameters() {
        let e = fit(&YI[..3], SelectionType::Step, &[0.025, 0.5]).unwrap_err();
        assert_eq!(
            e,
            SelectionError::TooFewStudies {
                k: 3,
                parameters: 4
            }
        );
    }

    #[test]
    fn sparse_intervals_are_warned_about() {
        let model = fit(&YI, SelectionType::Step, &[0.025]).unwrap();
        assert_eq!(
            model.intervals.iter().map(|i| i.k).collect::<Vec<_>>(),
            [3, 3]
        );
        assert!(model.warnings.is_empty(), "{:?}", model.warnings);
        let model = fit(&YI, SelectionType::Step, &[0.01]).unwrap();
        assert!(
            model
                .warnings
                .iter()
                .any(|w| w.to_string().contains("0 < p <= 0.01 (2 studies)"))
        );
    }
}
