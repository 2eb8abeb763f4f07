//! Bayesian model averaging over the four models {μ = 0, μ free} ×
//! {τ = 0, τ > 0} (Gronau et al. 2017, Compr. Results Soc. Psychol. 2(1); metaBMA's
//! `meta_bma()`/`bma()`), each with prior probability ¼.
//!
//! The log marginal likelihoods, every constant included:
//!
//! * `fixed_H0` (μ = 0, τ = 0): Σᵢ log N(yᵢ; 0, σᵢ²);
//! * `fixed_H1` (μ ~ prior, τ = 0): log p(y | τ = 0) (`likelihood`);
//! * `random_H0` (μ = 0, τ ~ prior): log ∫ p(τ) Πᵢ N(yᵢ; 0, σᵢ²+τ²) dτ;
//! * `random_H1` (μ and τ ~ priors): log ∫ p(τ) p(y | τ) dτ.
//!
//! Posterior probabilities are proportional to ¼ × marginal likelihood;
//! the inclusion Bayes factors are the posterior odds of the models with
//! the effect (with heterogeneity) against those without, divided by the
//! prior odds (1). The averaged posterior of μ is the mixture of its
//! posteriors under `fixed_H1` (normal) and `random_H1`, weighted by their
//! posterior probabilities renormalised to sum to 1.

use serde::{Deserialize, Serialize};

use super::mixture::Mixture;

/// One of the four models.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AveragedModel {
    /// Prior probability (0.25).
    pub prior_prob: f64,
    /// log p(y | model).
    pub log_marginal_likelihood: f64,
    /// Posterior probability.
    pub posterior_prob: f64,
}

/// The four models.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Models {
    /// μ = 0, τ = 0.
    #[serde(rename = "fixed_H0")]
    pub fixed_h0: AveragedModel,
    /// μ free, τ = 0.
    #[serde(rename = "fixed_H1")]
    pub fixed_h1: AveragedModel,
    /// μ = 0, τ > 0.
    #[serde(rename = "random_H0")]
    pub random_h0: AveragedModel,
    /// μ free, τ > 0.
    #[serde(rename = "random_H1")]
    pub random_h1: AveragedModel,
}

/// The inclusion Bayes factors.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InclusionBf {
    /// Models with μ free against μ = 0.
    pub effect: f64,
    /// Models with τ > 0 against τ = 0.
    pub heterogeneity: f64,
}

/// The model-averaged posterior of μ.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AveragedMu {
    /// Posterior mean.
    pub mean: f64,
    /// Posterior median.
    pub median: f64,
    /// Lower end of the central interval.
    pub ci_lower: f64,
    /// Upper end of the central interval.
    pub ci_upper: f64,
}

/// The averaged posterior of μ (in `mu`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Averaged {
    /// The model-averaged posterior of μ.
    pub mu: AveragedMu,
}

/// The log marginal likelihoods in the order fixed_H0, fixed_H1, random_H0,
/// random_H1, and the two posteriors of μ under H1, to the averaged result.
pub(crate) fn average(
    log_ml: [f64; 4],
    fixed_mu: (f64, f64),
    random_mu: &Mixture,
    level: f64,
) -> (Models, InclusionBf, Averaged) {
    let top = log_ml.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let odds: Vec<f64> = log_ml.iter().map(|l| (l - top).exp()).collect();
    let total: f64 = odds.iter().sum();
    let post: Vec<f64> = odds.iter().map(|o| o / total).collect();
    let model = |i: usize| AveragedModel {
        prior_prob: 0.25,
        log_marginal_likelihood: log_ml[i],
        posterior_prob: post[i],
    };
    let models = Models {
        fixed_h0: model(0),
        fixed_h1: model(1),
        random_h0: model(2),
        random_h1: model(3),
    };
    let inclusion = InclusionBf {
        effect: (odds[1] + odds[3]) / (odds[0] + odds[2]),
        heterogeneity: (odds[2] + odds[3]) / (odds[0] + odds[1]),
    };
    let fixed_weight = odds[1] / (odds[1] + odds[3]);
    let fixed = Mixture::new(std::iter::once((1.0, fixed_mu.0, fixed_mu.1)));
    let mixture = Mixture::blend(&fixed, fixed_weight, random_mu);
    let alpha = (1.0 - level) / 2.0;
    let averaged = Averaged {
        mu: AveragedMu {
            mean: mixture.moments().0,
            median: mixture.quantile(0.5),
            ci_lower: mixture.quantile(alpha),
            ci_upper: mixture.quantile(1.0 - alpha),
        },
    };
    (models, inclusion, averaged)
}
