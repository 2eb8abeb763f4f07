//! Cluster-robust inference for dependent effect sizes: the CR2 sandwich with
//! Satterthwaite t tests and the HTZ Wald test, as clubSandwich 0.5 computes
//! them for metafor's `robust(res, cluster, clubSandwich = TRUE)`, or metafor's
//! own `robust(res, cluster, adjust = TRUE)` (`small_sample = none`).
//!
//! * [`sandwich`]: the robust variance, cluster by cluster, for any working
//!   model given its covariance blocks Φ_j ([`WorkingCluster`]);
//! * [`satterthwaite`] and [`htz`]: the small-sample tests;
//! * [`inference`]: the coefficient table and the omnibus test
//!   ([`RobustResult`], whose field names are the JSON contract);
//! * [`uni`]: the whole path for an rma.uni-type model (pooling or
//!   meta-regression) clustered by a moderator;
//! * [`multilevel`](mod@multilevel): the same for a multilevel (rma.mv-type)
//!   working model, and [`rho`]: its sensitivity to the assumed ρ.
//!
//! Pustejovsky & Tipton (2022) explain the combination of a working model
//! with robust inference; Tipton (2015) advises against trusting tests with
//! fewer than 4 Satterthwaite degrees of freedom.

pub mod htz;
pub mod inference;
pub mod multilevel;
pub mod rho;
pub mod sandwich;
pub mod satterthwaite;
pub mod subgroup;
pub mod uni;

pub use inference::{RobustCoefficient, RobustInfo, RobustResult, SmallSample, infer};
pub use rho::{RhoFit, RhoSensitivity, rho_sensitivity};
pub use sandwich::WorkingCluster;
pub use uni::{RobustSpec, UniModel, robust_uni};

use crate::data::moderator::ModeratorError;
use crate::error_kind::ErrorKind;
use crate::fields::{RANDOM, RHO, ROBUST};
use crate::model::FitError;
use crate::multilevel::MultilevelError;
use crate::regression::{DesignError, RegressionError};

/// Why no robust inference could be made.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum RobustError {
    /// The cluster moderator cannot be read (unknown name: the message lists the moderators).
    #[error("{ROBUST}: {0}")]
    Cluster(#[from] ModeratorError),
    /// All studies are in one cluster.
    #[error(
        "every study is in the same cluster ('{id}'), so no cluster-robust variance exists; robust inference needs at least two clusters (usually more than 10): check the cluster moderator"
    )]
    OneCluster {
        /// The one cluster.
        id: String,
    },
    /// Not more clusters than coefficients.
    #[error(
        "{clusters} clusters for {p} coefficients: cluster-robust inference needs more clusters than coefficients (as metafor's robust()); use fewer moderators or a finer cluster variable"
    )]
    TooFewClusters {
        /// Number of clusters.
        clusters: usize,
        /// Number of coefficients.
        p: usize,
    },
    /// A cluster's blocks do not fit together (a caller's mistake).
    #[error(
        "cluster '{id}': its design rows, residuals and covariance block differ in size, or it is empty"
    )]
    Dimensions {
        /// The cluster.
        id: String,
    },
    /// A covariance block is not positive definite.
    #[error(
        "cluster '{id}': the working covariance matrix of its estimates is not positive definite; check the sampling variances and the assumed correlation"
    )]
    NotPositiveDefinite {
        /// The cluster.
        id: String,
    },
    /// Σ X'WX is singular.
    #[error("the model matrix X'WX is singular: a moderator is constant or collinear with others")]
    SingularBread,
    /// I − H_jj is singular for a cluster.
    #[error(
        "cluster '{id}': the CR2 adjustment needs (I - H_jj) to be invertible, and it is singular for this cluster; check for a cluster that determines a coefficient on its own (a moderator level, or the only non-zero values of a moderator, found in this cluster alone)"
    )]
    SingularCluster {
        /// The cluster.
        id: String,
    },
    /// The working model could not be fitted.
    #[error(transparent)]
    Fit(#[from] FitError),
    /// The meta-regression could not be fitted.
    #[error(transparent)]
    Regression(#[from] RegressionError),
    /// The model matrix could not be built.
    #[error(transparent)]
    Design(#[from] DesignError),
    /// The multilevel working model could not be fitted.
    #[error(transparent)]
    Multilevel(#[from] MultilevelError),
    /// An outermost unit of the random effects spans two robust clusters.
    #[error(
        "{outer} '{unit}' holds effect sizes of two clusters of '{cluster}' ('{}' and '{}'): the random effects must be nested in the robust clusters (as clubSandwich requires); use the outermost grouping variable of {RANDOM}, or one that holds whole {outer} units, as the cluster",
        .values[0], .values[1]
    )]
    NotNested {
        /// The outermost grouping variable.
        outer: String,
        /// Its unit that spans two clusters.
        unit: String,
        /// The cluster moderator.
        cluster: String,
        /// Two of the cluster values found in the unit.
        values: [String; 2],
    },
    /// Variance components given for the wrong number of levels, or negative.
    #[error(
        "the model has {levels} variance component(s), and {given:?} were given: give one non-negative sigma^2 per level, outermost first"
    )]
    Sigma2 {
        /// Number of levels.
        levels: usize,
        /// The values given.
        given: Vec<f64>,
    },
    /// A ρ sensitivity analysis without a ρ.
    #[error("no value of rho to fit: list them, e.g. {RHO} 0.2,0.5,0.8")]
    NoRho,
    /// The robust variance of the tested coefficients is singular.
    #[error(
        "the robust variance-covariance matrix of the tested coefficients is singular, so no Wald test exists; check for a moderator that no cluster's residuals inform"
    )]
    SingularRobustVcov,
}

impl crate::Kinded for RobustError {
    /// The input's problem (cluster variable, number of clusters, the
    /// model's own input errors) or the analysis's (singular matrices).
    fn kind(&self) -> ErrorKind {
        match self {
            RobustError::Cluster(e) => e.kind(),
            RobustError::Fit(e) => e.kind(),
            RobustError::Regression(e) => e.kind(),
            RobustError::Design(e) => e.kind(),
            RobustError::Multilevel(e) => e.kind(),
            RobustError::OneCluster { .. }
            | RobustError::TooFewClusters { .. }
            | RobustError::Dimensions { .. }
            | RobustError::NotNested { .. }
            | RobustError::Sigma2 { .. }
            | RobustError::NoRho => ErrorKind::Input,
            RobustError::NotPositiveDefinite { .. }
            | RobustError::SingularBread
            | RobustError::SingularCluster { .. }
            | RobustError::SingularRobustVcov => ErrorKind::Analysis,
        }
    }
}
