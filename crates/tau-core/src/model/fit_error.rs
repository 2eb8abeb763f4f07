//! Why a model could not be fitted, in words that say how to fix it.

use super::tau2::Tau2Error;
use super::wls::SingularDesign;
use crate::fields::{FALLBACK, MAX_ITER, WEIGHTED};

/// Why a model could not be fitted.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum FitError {
    /// Fewer studies than coefficients plus one.
    #[error("{}", too_few_studies(*k, *p))]
    TooFewStudies {
        /// Number of studies.
        k: usize,
        /// Number of coefficients.
        p: usize,
    },
    /// A sampling variance is not positive and finite.
    #[error(
        "study {} (in input order): the sampling variance must be positive and finite (got {value})",
        index + 1
    )]
    BadVariance {
        /// Zero-based position.
        index: usize,
        /// The offending value.
        value: f64,
    },
    /// A user weight is not positive and finite (or missing, read as 0).
    #[error(
        "study {} (in input order): the weight must be positive and finite (got {value}); give every study a weight, or none",
        index + 1
    )]
    BadWeight {
        /// Zero-based position.
        index: usize,
        /// The offending value.
        value: f64,
    },
    /// Equal weights asked for, but the studies have their own.
    #[error(
        "the studies have weights (the weight field), and an unweighted fit would ignore them: leave out {WEIGHTED}, or remove the weight field"
    )]
    UnweightedWithWeights,
    /// An analysis that metafor does not define for user or equal weights.
    #[error(
        "{} is not available with user weights (the weight field) or {WEIGHTED}; {}",
        crate::fields::named(what),
        crate::fields::named(remedy)
    )]
    NotWithWeights {
        /// The analysis refused.
        what: &'static str,
        /// What to do instead.
        remedy: &'static str,
    },
    /// Not one user weight per study (a programming error in the caller).
    #[error("{k} outcomes and {weights} weights: give one weight per study")]
    WeightCount {
        /// Number of outcomes.
        k: usize,
        /// Number of weights.
        weights: usize,
    },
    /// The inputs do not have matching lengths (a programming error in the caller).
    #[error(
        "{yi} outcomes, {vi} sampling variances and {rows} rows in the model matrix: they must match"
    )]
    Dimensions {
        /// Number of outcomes.
        yi: usize,
        /// Number of sampling variances.
        vi: usize,
        /// Rows of the model matrix.
        rows: usize,
    },
    /// The level is outside (0, 100).
    #[error("the confidence level must lie strictly between 0 and 100, e.g. 95 (got {0})")]
    BadLevel(f64),
    /// τ² estimation failed.
    #[error(transparent)]
    Tau2(#[from] Tau2Error),
    /// The chosen estimator failed, and so did the fallback.
    #[error(
        "the {method} estimator {}, and the fallback {fallback} {} too; raise the limit with {MAX_ITER}, or fall back on a closed-form estimator such as {FALLBACK} DL",
        first.reason(),
        second.reason()
    )]
    FallbackFailed {
        /// The chosen estimator.
        method: &'static str,
        /// Its failure (boxed to keep the error small).
        first: Box<Tau2Error>,
        /// The fallback estimator.
        fallback: &'static str,
        /// Its failure.
        second: Box<Tau2Error>,
    },
    /// The arithmetic overflowed or lost all precision.
    #[error(
        "the {what} is not a finite number: the outcomes or sampling variances are too extreme for double precision (e.g. variances near 0 or above 1e300); rescale the outcomes (other units) or check the data for typos"
    )]
    NotFinite {
        /// The quantity that came out infinite or NaN.
        what: &'static str,
    },
}

impl crate::Kinded for FitError {
    fn kind(&self) -> crate::ErrorKind {
        match self {
            FitError::TooFewStudies { .. }
            | FitError::BadVariance { .. }
            | FitError::BadWeight { .. }
            | FitError::UnweightedWithWeights
            | FitError::NotWithWeights { .. }
            | FitError::BadLevel(_)
            | FitError::Tau2(super::Tau2Error::NeedsWeights { .. }) => crate::ErrorKind::Input,
            _ => crate::ErrorKind::Analysis,
        }
    }
}

fn too_few_studies(k: usize, p: usize) -> String {
    if p == 1 {
        format!(
            "{k} {} cannot be pooled: at least 2 are needed to estimate tau^2, I^2 and the Q test. A single study gives only its own estimate yi with CI yi ± 1.96·√vi; add studies, or report that study alone",
            if k == 1 { "study" } else { "studies" }
        )
    } else {
        format!(
            "{k} {} for {p} model coefficients: at least {} are needed to estimate tau^2 and test the coefficients; drop moderators or add studies",
            if k == 1 { "study" } else { "studies" },
            p + 1
        )
    }
}

impl From<SingularDesign> for FitError {
    fn from(e: SingularDesign) -> Self {
        FitError::Tau2(Tau2Error::Singular(e))
    }
}
