//! How a τ² estimate was reached: the iteration controls (metafor's
//! `control=` list), the record of convergence that every result carries, the
//! fallback estimator, and the ways estimation can fail.
//!
//! metafor stops Fisher scoring with an error when it runs out of iterations,
//! but its Paule-Mandel search only warns and returns the unfinished root;
//! tau treats both as failures, and `Control::fallback` (metafor's
//! `method = c("REML", "DL")`) chooses another estimator explicitly.

use serde::Serialize;

use super::method::Method;
use super::wls::SingularDesign;
use crate::fields::{FALLBACK, MAX_ITER, METHOD};
use crate::numerics::zeroin::R_UNIROOT_TOL;

/// Control settings of the iterative estimators (metafor's `control=` list),
/// and the estimator to fall back on when the chosen one fails.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Control {
    /// Stop Fisher scoring, and the DLIT and SJIT iterations, when τ²
    /// changes by less than this (metafor `threshold`, 1e-5).
    pub threshold: f64,
    /// Maximum number of iterations (metafor `maxiter`, 100).
    pub max_iter: usize,
    /// Tolerance of the PM, PMM and GENQM root searches and of the ML/REML check
    /// that τ² = 0 is not better (metafor `tol`, `.Machine$double.eps^0.25`).
    pub tol: f64,
    /// Estimator to use when the chosen one does not converge or finds no
    /// root, as metafor's `method = c("REML", "DL")` does. `None`: failure is an error.
    pub fallback: Option<Method>,
}

impl Default for Control {
    fn default() -> Self {
        Control {
            threshold: 1e-5,
            max_iter: 100,
            tol: R_UNIROOT_TOL,
            fallback: None,
        }
    }
}

/// How an estimate of τ² was reached.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Convergence {
    /// Iterations used (0 for closed-form estimators).
    pub iterations: usize,
    /// Whether the stopping rule was met.
    pub converged: bool,
    /// The last change in τ² (Fisher scoring) or the half-width of the last
    /// bracket around the root (PM); 0 for closed forms.
    pub final_change: f64,
    /// ML/REML only: τ² was set to 0 because the likelihood was higher there
    /// (metafor's `ll0check`).
    pub reset_to_zero: bool,
    /// ML, REML, EB only: where Fisher scoring from metafor's start first
    /// stopped, when the DerSimonian-Laird estimate was better there and the
    /// scoring was run again from it (a deliberate difference from metafor);
    /// `None` when it was not.
    pub restarted_from: Option<f64>,
    /// The negative value a closed-form estimator (DL, HE, HS) gave before
    /// τ² was truncated at 0, as metafor does; `None` when nothing was truncated.
    pub truncated_from: Option<f64>,
    /// The estimator that was asked for and failed, when τ² comes from the
    /// fallback estimator instead.
    pub fallback_from: Option<Fallback>,
}

impl Convergence {
    /// The record of a closed-form estimate: no iterations, nothing truncated.
    pub fn closed_form() -> Convergence {
        Convergence {
            iterations: 0,
            converged: true,
            final_change: 0.0,
            reset_to_zero: false,
            restarted_from: None,
            truncated_from: None,
            fallback_from: None,
        }
    }
}

/// An estimator that failed, and why; the fallback estimator was used instead.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fallback {
    /// The estimator that failed.
    pub method: Method,
    /// Its failure.
    pub error: Tau2Error,
}

impl Serialize for Fallback {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut out = serializer.serialize_struct("Fallback", 2)?;
        out.serialize_field("method", &self.method)?;
        out.serialize_field("reason", &self.error.reason())?;
        out.end()
    }
}

/// Why τ² could not be estimated.
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Tau2Error {
    /// The model matrix is singular.
    #[error(transparent)]
    Singular(#[from] SingularDesign),
    /// An iterative estimator ran out of iterations.
    #[error(
        "the {method} estimator {}; raise the limit with {MAX_ITER}, choose another estimator (e.g. {METHOD} {} or {METHOD} {}), or pass {FALLBACK} DL to use DL whenever {method} fails",
        self.reason(),
        if *method == "PM" { "REML" } else { "DL" },
        if *method == "PM" { "DL" } else { "PM" }
    )]
    NotConverged {
        /// The estimator.
        method: &'static str,
        /// The iteration limit it reached.
        max_iter: usize,
        /// The last change in τ² (Fisher scoring) or the half-width of the last bracket (PM).
        last_change: f64,
    },
    /// A root-finding estimator (PM, PMM, GENQM) found no root below the upper bound.
    #[error(
        "the {method} estimator {}: the data are extremely heterogeneous; try {METHOD} REML or {METHOD} DL, or {FALLBACK} DL",
        self.reason()
    )]
    NoRoot {
        /// The estimator.
        method: &'static str,
        /// The upper end of the search interval.
        upper: f64,
    },
    /// GENQ or GENQM without the user's weights, which they estimate with.
    #[error(
        "the {method} estimator weights the studies by their weight field, and these studies have none; give every study a weight, or choose another estimator (e.g. {METHOD} {})",
        if *method == "GENQ" { "DL" } else { "PMM" }
    )]
    NeedsWeights {
        /// The estimator.
        method: &'static str,
    },
    /// The series for the distribution of the generalised Q (GENQM) did not
    /// converge: the studies' weighted variances are extremely unequal.
    #[error(
        "the GENQM estimator could not evaluate the distribution of the generalised Q statistic at tau^2 = {tau2} (the weighted sampling variances are too unequal); choose another estimator (e.g. {METHOD} GENQ or {METHOD} PMM)"
    )]
    SeriesFailed {
        /// Where it failed.
        tau2: f64,
    },
    /// A closed-form estimate came out infinite or NaN: its denominator was
    /// lost to rounding (sampling variances dozens of orders of magnitude apart).
    #[error(
        "the {method} estimator {}; check the sampling variances for unit or typing errors, or try {METHOD} REML or {FALLBACK} REML",
        self.reason()
    )]
    NotFinite {
        /// The estimator.
        method: &'static str,
        /// What it gave.
        value: f64,
    },
}

impl crate::Kinded for Tau2Error {
    fn kind(&self) -> crate::ErrorKind {
        match self {
            // A request that cannot apply to these data: the user adds weights.
            Tau2Error::NeedsWeights { .. } => crate::ErrorKind::Input,
            _ => crate::ErrorKind::Analysis,
        }
    }
}

impl Tau2Error {
    /// What went wrong, without the remedies.
    pub fn reason(&self) -> String {
        match self {
            Tau2Error::Singular(e) => e.to_string(),
            Tau2Error::NotConverged {
                max_iter,
                last_change,
                ..
            } => format!(
                "did not converge within {max_iter} iteration{} (last change in tau^2: {})",
                if *max_iter == 1 { "" } else { "s" },
                if last_change.abs() >= 1e-2 {
                    format!("{last_change:.4}")
                } else {
                    format!("{last_change:.3e}")
                }
            ),
            Tau2Error::NoRoot {
                method: "GENQM",
                upper,
            } => format!(
                "found no tau^2 below {upper} at which the generalised Q statistic is the median of its distribution"
            ),
            Tau2Error::NoRoot { upper, .. } => {
                format!("found no root of the generalised Q statistic below tau^2 = {upper}")
            }
            Tau2Error::NeedsWeights { method } => {
                format!("needs the studies' weights (the weight field) for {method}")
            }
            Tau2Error::SeriesFailed { tau2 } => format!(
                "could not evaluate the distribution of the generalised Q statistic at tau^2 = {tau2}"
            ),
            Tau2Error::NotFinite { value, .. } => format!(
                "gave tau^2 = {value}: the sampling variances span too many orders of magnitude for double precision"
            ),
        }
    }
}
