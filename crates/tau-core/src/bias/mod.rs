//! Small-study effects and publication bias: funnel-plot asymmetry tests
//! ([`egger`](mod@egger), [`begg`](mod@begg)), the trim-and-fill adjustment ([`trimfill`]),
//! fail-safe N ([`failsafe`]), PET-PEESE ([`pet_peese`](mod@pet_peese)) and selection
//! models ([`selection`], metafor's `selmodel`), each under metafor's defaults, and
//! [`summary`] gathers them, with every estimate side by side, for `tau bias`.
//!
//! None of them can prove or rule out publication bias: asymmetry can come
//! from true heterogeneity, chance or design differences between small and
//! large studies, and all of these tests have little power when k < 10
//! (Sterne et al. 2011, BMJ 343: d4002).

pub mod begg;
pub mod dependent;
pub mod egger;
pub mod failsafe;
pub mod pet_peese;
pub mod selection;
pub mod summary;
pub mod trimfill;

pub use begg::{Begg, begg};
pub use dependent::{DependentBias, DependentSpec, bias_dependent};
pub use egger::{Egger, egger};
pub use failsafe::{FailSafe, fail_safe};
pub use pet_peese::{PetPeese, pet_peese};
pub use summary::{BiasResult, bias};
pub use trimfill::{FilledStudy, Side, TrimFill, trim_and_fill};

use crate::model::FitError;
use crate::robust::RobustError;

/// Why a bias analysis could not be done.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum BiasError {
    /// Too few studies for the method.
    #[error("{method} needs at least {needed} studies (got {k})")]
    TooFewStudies {
        /// The method.
        method: &'static str,
        /// How many it needs.
        needed: usize,
        /// How many there are.
        k: usize,
    },
    /// Every study has the same standard error, so there is no funnel to be asymmetric.
    #[error(
        "{method} needs studies of different precision: every study has the same standard error, so there is no funnel to be asymmetric"
    )]
    EqualStandardErrors {
        /// The method.
        method: &'static str,
    },
    /// Every study has the same standardised effect, so no ranking is possible.
    #[error(
        "{method} needs studies whose effects differ: every study has the same standardised effect"
    )]
    EqualEffects {
        /// The method.
        method: &'static str,
    },
    /// Trim-and-fill kept changing its estimate of the number of missing studies.
    #[error(
        "trim-and-fill did not settle on a number of missing studies in {0} iterations; the funnel is too irregular for it"
    )]
    TrimFillNotConverged(usize),
    /// A dependent-effects check failed: the cluster moderator cannot be
    /// used, or the robust multilevel regression could not be fitted.
    #[error(transparent)]
    Robust(#[from] RobustError),
    /// A model could not be fitted (the message is the fitting error's own,
    /// which names the estimator; `method` says which bias method failed).
    #[error("{source}")]
    Fit {
        /// The method.
        method: &'static str,
        /// The fitting error.
        source: FitError,
    },
}

impl crate::Kinded for BiasError {
    fn kind(&self) -> crate::ErrorKind {
        match self {
            BiasError::Fit { source, .. } => crate::Kinded::kind(source),
            BiasError::Robust(e) => crate::Kinded::kind(e),
            BiasError::TrimFillNotConverged(_) => crate::ErrorKind::Analysis,
            _ => crate::ErrorKind::Input,
        }
    }
}

impl BiasError {
    /// Wraps a fitting error, naming singular designs for what they mean here.
    pub(crate) fn fit(method: &'static str, source: FitError) -> BiasError {
        match source {
            FitError::Tau2(crate::model::Tau2Error::Singular(_)) => {
                BiasError::EqualStandardErrors { method }
            }
            FitError::TooFewStudies { k, p } => BiasError::TooFewStudies {
                method,
                needed: p + 1,
                k,
            },
            source => BiasError::Fit { method, source },
        }
    }
}
