//! General `rma.mv` models: crossed and nested random intercepts and
//! structured random effects, with a dense covariance matrix per block of
//! linked effect sizes.
//!
//! The model is y = Xβ + Σ_c Z_c u_c + e, e ~ N(0, V), with one component
//! per random term as metafor writes them:
//!
//! * `study` (`~ 1 | study`): one σ², units the levels of `study`;
//! * `study/es` (`~ 1 | study/es`): one σ² per nesting level, named
//!   "study" and "study/es" (metafor's `s.names`);
//! * `outcome | study` with a [`Struct`] (`~ outcome | study, struct =
//!   "UN"`): G over the levels of `outcome`, shared by the effect sizes of
//!   one study; a second structured term has H (metafor's `gamma2`, `phi`).
//!
//! The coefficients are the GLS estimates under M = V + Σ_c Z_c G_c Z_cᵀ
//! and the variance parameters maximise the (restricted) likelihood
//! (`general::likelihood`, `general::optimise`). A model that is one nested term is
//! fitted by the faster recursion of [`crate::multilevel`]; this module
//! fits the others.

mod blocks;
mod component;
pub mod covariance;
mod equations;
mod henderson;
pub(crate) mod likelihood;
mod maximised;
pub(crate) mod optimise;
mod prepare;
mod profile;
#[cfg(test)]
mod profile_tests;
mod ranef;
#[cfg(test)]
mod ranef_tests;
mod result;
mod spd;
#[cfg(test)]
mod tests;
mod weights;
#[cfg(test)]
mod weights_tests;

pub use covariance::Struct;
pub use prepare::Term;
pub use ranef::ranef;
pub use result::fit;

use crate::model::Method;
use crate::regression::design::DesignSpec;

use super::Test;

/// Everything that decides a general `rma.mv` model.
#[derive(Debug, Clone, PartialEq)]
pub struct GeneralOptions {
    /// The random terms, in order, as written (`study`, `study/es`,
    /// `outcome | study`).
    pub terms: Vec<String>,
    /// The structure of each structured term, in order (metafor's `struct`).
    pub structs: Vec<Struct>,
    /// REML or ML.
    pub method: Method,
    /// z or t.
    pub test: Test,
    /// Confidence level in percent.
    pub level: f64,
    /// Iteration limit of the optimiser (BFGS runs up to ten times as
    /// many steps).
    pub max_iter: usize,
    /// Moderators; `None` for the intercept-only model.
    pub design: Option<DesignSpec>,
    /// Known sampling covariances (metafor's `V` as a matrix): (record,
    /// record, covariance); a pair with one record twice is its variance
    /// (in place of its `vi`), pairs not listed are 0.
    pub vcov: Vec<(String, String, f64)>,
    /// Known correlation matrices of `~ 1 | g` terms (metafor's `R`).
    pub corr: Vec<KnownCorrelation>,
    /// Whether to compute the profile-likelihood CIs of the variances.
    pub profile: bool,
}

/// A known correlation matrix over the levels of a grouping variable
/// (metafor's `R = list(g = M)`, e.g. a phylogeny): the term `g` must be
/// one of the random terms. A covariance matrix is scaled to correlations
/// (metafor's `Rscale = "cor"`).
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KnownCorrelation {
    /// The grouping variable (`species` for `~ 1 | species`).
    pub term: String,
    /// The level names, in the matrix's order; it may hold levels no
    /// record has.
    pub levels: Vec<String>,
    /// The matrix, row by row.
    pub matrix: Vec<Vec<f64>>,
}

impl Default for GeneralOptions {
    fn default() -> Self {
        GeneralOptions {
            terms: Vec::new(),
            structs: Vec::new(),
            method: Method::REML,
            test: Test::Z,
            level: 95.0,
            max_iter: 100,
            design: None,
            vcov: Vec::new(),
            corr: Vec::new(),
            profile: true,
        }
    }
}

/// Whether `terms` need the general fit: more than one term, or a
/// structured one. A single nested term (`study/es`) is fitted by the
/// nested recursion.
pub fn needs_general(terms: &[String]) -> bool {
    terms.len() > 1 || terms.iter().any(|t| t.contains('|'))
}
