//! The maximum of a general `rma.mv` model's likelihood, with what its
//! profile-likelihood CIs and its result need.

use super::GeneralOptions;
use super::likelihood::{Component, EvalError, Evaluation, Problem};
use super::optimise::{Maximum, SearchError, maximise};
use super::prepare::Prepared;
use super::weights::{MAX_WEIGHTED, WeightedData, WeightedFit, weighted_fit};
use crate::model::Method;
use crate::model::wls::log_det_spd;
use crate::multilevel::MultilevelError;

pub(super) fn eval_error(e: EvalError, labels: &[String]) -> MultilevelError {
    match e {
        EvalError::Singular => MultilevelError::Singular,
        EvalError::NotPositiveDefinite(row) => MultilevelError::NotPositiveDefinite {
            cluster: labels.get(row).cloned().unwrap_or_default(),
        },
    }
}

fn search_error(e: SearchError, labels: &[String]) -> MultilevelError {
    match e {
        SearchError::Start(e) => eval_error(e, labels),
        SearchError::NotConverged {
            iterations,
            gradient,
        } => MultilevelError::NotConverged {
            iterations,
            gradient,
            change: f64::NAN,
        },
    }
}

/// A model at its maximum.
pub(super) struct Maximised {
    /// The data, model matrix and terms (`components` moved into `problem`).
    pub prepared: Prepared,
    /// The likelihood.
    pub problem: Problem,
    /// The fixed-effects fit (M = V).
    pub fixed: Evaluation,
    /// The maximum.
    pub maximum: Maximum,
    /// Whether each parameter is a log-variance.
    pub variances: Vec<bool>,
    /// REML (or ML).
    pub reml: bool,
    /// log|XᵀX|.
    pub log_det_xtx: f64,
    /// The mean sampling variance.
    pub mean_vi: f64,
    /// The final fit with the records' user weights, if they have them.
    pub weighted: Option<WeightedFit>,
}

impl Maximised {
    /// Prepares the model of `options` on `dataset` and maximises its
    /// likelihood.
    pub fn new(
        dataset: &crate::data::dataset::Dataset,
        options: &GeneralOptions,
    ) -> Result<Maximised, MultilevelError> {
        if !matches!(options.method, Method::REML | Method::ML) {
            return Err(MultilevelError::Method(options.method.name()));
        }
        if !(options.level > 0.0 && options.level < 100.0) {
            return Err(MultilevelError::BadLevel(options.level));
        }
        let mut prepared = Prepared::new(dataset, options)?;
        let components = std::mem::take(&mut prepared.components);
        let Prepared {
            x,
            y,
            vi,
            labels,
            v_offdiagonal,
            ..
        } = &prepared;
        let (k, p) = x.shape();
        let log_det_xtx =
            log_det_spd(&(x.transpose() * x)).map_err(|_| MultilevelError::Singular)?;
        let reml = options.method == Method::REML;
        let problem = Problem::new(y, x, vi, v_offdiagonal, components, reml, log_det_xtx);
        let fixed = problem
            .evaluate(&[], false, false)
            .map_err(|e| eval_error(e, labels))?;
        // Start: the residual variance of the fixed-effects fit beyond the
        // sampling variances, shared by every component.
        let mean_vi = vi.iter().sum::<f64>() / k as f64;
        let residual: f64 = (0..k)
            .map(|i| {
                let fitted: f64 = (0..p).map(|c| x[(i, c)] * fixed.beta[c]).sum();
                (y[i] - fitted).powi(2)
            })
            .sum::<f64>()
            / (k - p) as f64;
        let start_variance = (residual - mean_vi).max(0.1 * mean_vi);
        let mut start = Vec::new();
        let mut variances = Vec::new();
        for c in &problem.components {
            match c {
                Component::Sigma { fixed, .. } => {
                    if !fixed {
                        start.push(start_variance.ln());
                        variances.push(true);
                    }
                }
                Component::Structured { times, kind, .. } => {
                    let n = times.len();
                    start.extend(kind.start(n, start_variance));
                    variances.extend((0..kind.n_params(n)).map(|j| j < kind.n_tau2(n)));
                }
            }
        }
        let maximum = maximise(&problem, &start, &variances, options.max_iter)
            .map_err(|e| search_error(e, labels))?;
        let mut maximised = Maximised {
            prepared,
            problem,
            fixed,
            maximum,
            variances,
            reml,
            log_det_xtx,
            mean_vi,
            weighted: None,
        };
        if let Some(data) = maximised.weighted_data() {
            if k > MAX_WEIGHTED {
                return Err(MultilevelError::Weights(format!(
                    "{k} effect sizes are more than the {MAX_WEIGHTED} a weighted fit takes (its marginal covariance matrix is formed densely); remove the weight field to fit the model by its inverse marginal covariance"
                )));
            }
            let fit = weighted_fit(&maximised.problem, &data, &maximised.maximum.eta)
                .map_err(|e| eval_error(e, &maximised.prepared.labels))?;
            maximised.weighted = Some(fit);
        }
        Ok(maximised)
    }

    /// The data of the final fit with user weights, if the records have them.
    pub fn weighted_data(&self) -> Option<WeightedData<'_>> {
        let p = &self.prepared;
        p.weights.as_ref().map(|weights| WeightedData {
            y: &p.y,
            x: &p.x,
            vi: &p.vi,
            v_offdiagonal: &p.v_offdiagonal,
            weights,
        })
    }

    /// The problem of the same data with other components (a reordering of
    /// a term's levels).
    pub fn rebuild(&self, components: Vec<Component>) -> Problem {
        let p = &self.prepared;
        Problem::new(
            &p.y,
            &p.x,
            &p.vi,
            &p.v_offdiagonal,
            components,
            self.reml,
            self.log_det_xtx,
        )
    }
}
