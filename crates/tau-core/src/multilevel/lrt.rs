//! The likelihood-ratio test of each level: the model without that level
//! (its σ² fixed at 0) against the full model, as metafor's
//! `anova(full, reduced)`: LRT = 2(ℓ_full − ℓ_reduced), floored at 0 (and 0
//! without a refit for a level whose σ² is estimated at 0), on
//! 1 df (the difference in the number of parameters), p from χ²₁.
//! Under REML both likelihoods are restricted ones, which is valid because
//! the fixed effects are the same. As in metafor, p is not halved for a
//! variance on the boundary (conservative; Stram & Lee 1994).

use serde::Serialize;

use super::MultilevelError;
use super::fit::{Fitted, maximise_with};
use super::likelihood::Problem;
use crate::numerics::distribution::chisq_sf;
use crate::par::*;

/// The test of one level. Field names are the JSON contract.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LevelTest {
    /// The level left out (e.g. "study/es_id").
    pub level: String,
    /// The log-likelihood of the model without it.
    #[serde(rename = "logLik")]
    pub log_lik: f64,
    /// The likelihood-ratio statistic.
    #[serde(rename = "LRT")]
    pub lrt: f64,
    /// Its degrees of freedom.
    pub df: usize,
    /// Its p-value.
    pub p: f64,
}

/// Tests each level of `full`.
pub fn level_tests(
    problem: &Problem,
    full: &Fitted,
    names: &[String],
    max_iter: usize,
    labels: &[String],
) -> Result<Vec<LevelTest>, MultilevelError> {
    let levels = full.sigma2.len();
    (0..levels)
        .into_par_iter()
        .map(|j| {
            // A σ² estimated at 0 leaves nothing to test: the reduced model
            // is the full one (a refit would only differ by its tolerance).
            let reduced_ll = if full.sigma2[j] == 0.0 {
                full.eval.ll
            } else {
                let mut fixed = vec![None; levels];
                fixed[j] = Some(0.0);
                maximise_with(problem, &full.sigma2, &fixed, max_iter, labels)?
                    .eval
                    .ll
            };
            let lrt = (2.0 * (full.eval.ll - reduced_ll)).max(0.0);
            Ok(LevelTest {
                level: names[j].clone(),
                log_lik: reduced_ll,
                lrt,
                df: 1,
                p: chisq_sf(lrt, 1.0),
            })
        })
        .collect()
}
