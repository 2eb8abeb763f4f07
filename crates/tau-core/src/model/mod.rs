//! Model fitting: weighted least squares, τ² estimators, inference and heterogeneity.

pub mod blup;
pub mod chisq_mixture;
pub mod convergence;
pub mod fit;
pub mod fit_error;
pub mod fit_statistics;
pub mod generalised_q;
pub mod heterogeneity;
pub mod mantel_haenszel;
pub mod matrix;
pub mod method;
pub mod paule_mandel;
pub mod peto;
pub mod quadratic_forms;
pub mod residual_maker;
pub mod tau2;
pub mod tau2_iterated;
pub mod tau2_se;
pub mod tau2_uncertainty;
pub mod two_by_two;
pub mod weighting;
pub mod wls;

pub use convergence::{Control, Convergence, Fallback, Tau2Error};
pub use fit::{
    FitError, FitOptions, ModelFit, OmnibusTest, Test, fit, fit_weighted, intercept_design,
};
pub use heterogeneity::{HeterogeneityCi, q_profile_ci};
pub use matrix::{ModelMatrix, ModelRow};
pub use method::Method;
pub use weighting::{Weighting, Weights};
