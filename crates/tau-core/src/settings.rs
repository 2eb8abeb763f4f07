//! How a result was computed: the settings recorded in every result, and
//! tau's version.

use serde::Serialize;

use crate::effect_size::measure::Measure;
use crate::model::{Convergence, FitOptions, Method, Test, Weighting};

/// The version of tau, recorded in every result.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// How a result was computed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Settings {
    /// τ² estimator (metafor name).
    pub method: Method,
    /// Inference: z or knha.
    pub test: Test,
    /// Confidence level in percent.
    pub level: f64,
    /// Effect-size measure.
    pub measure: Measure,
    /// How τ² was reached.
    pub convergence: Convergence,
    /// Convergence threshold for iterative estimators.
    pub threshold: f64,
    /// Iteration limit for iterative estimators.
    pub max_iter: usize,
    /// Tolerance of the Paule-Mandel root search (metafor `tol`).
    pub tol: f64,
    /// The estimator to use when the chosen one fails (`--fallback`); see
    /// `convergence.fallback_from` for whether it was used.
    pub fallback: Option<Method>,
    /// How the fixed effects were weighted: `"user"` or `"unweighted"`
    /// (left out for the default inverse-variance weights).
    #[serde(skip_serializing_if = "Weighting::is_inverse_variance")]
    pub weights: Weighting,
    /// tau's version.
    pub version: &'static str,
}

impl Settings {
    /// Records the options of a fit.
    pub fn new(options: &FitOptions, measure: Measure, convergence: Convergence) -> Settings {
        Settings {
            method: options.method,
            test: options.test,
            level: options.level,
            measure,
            convergence,
            threshold: options.control.threshold,
            max_iter: options.control.max_iter,
            tol: options.control.tol,
            fallback: options.control.fallback,
            weights: Weighting::InverseVariance,
            version: VERSION,
        }
    }
}
