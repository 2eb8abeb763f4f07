//! Bayesian random-effects meta-analysis, as R's bayesmeta (Röver 2020,
//! J. Stat. Softw. 93(6)), with model averaging as metaBMA (Gronau et al.
//! 2017; Gronau, Heck, Berkhout, Haaf & Wagenmakers 2021).
//!
//! The model is yᵢ ~ N(θᵢ, σᵢ²), θᵢ ~ N(μ, τ²), σᵢ² the known within-study
//! variances, with priors p(τ) ([`TauPrior`]) and p(μ) ([`MuPrior`], flat by
//! default). Everything is computed by numerical integration, without
//! sampling:
//!
//! * the marginal posterior of τ, p(τ | y) ∝ p(τ) p(y | τ), with μ integrated
//!   out analytically (`likelihood`), by adaptive Gauss–Kronrod quadrature
//!   to a relative error of 10⁻¹⁰ (`posterior`);
//! * the posteriors of μ, of a new study's θ (the predictive distribution) and
//!   of each θᵢ (shrinkage) as mixtures of the normal conditionals over the
//!   rule's nodes (`mixture`);
//! * for each: mode, median, mean, sd, the central and the shortest interval
//!   ([`summary`]);
//! * with proper priors on both, the marginal likelihood and bayesmeta's
//!   Bayes factors BF₀₁ for τ = 0 and μ = 0 (`bayesfactor["actual", ]`);
//! * with `average`, the four models {μ = 0, μ free} × {τ = 0, τ > 0}
//!   ([`average`](mod@average)).
//!
//! bayesmeta's defaults (a τ grid at δ = 0.01 and `optimize()`'s default
//! tolerance) are accurate to about 1e-3; the results here are the exact
//! integrals to about 1e-9, and match bayesmeta run with δ = 1e-5 and R's
//! `integrate()` at tight tolerances.

pub mod average;
pub(crate) mod likelihood;
pub(crate) mod mixture;
pub(crate) mod posterior;
pub mod prior;
pub(crate) mod quadrature;
pub mod summary;

use serde::{Deserialize, Serialize};

use crate::data::dataset::Dataset;
use crate::error_kind::{ErrorKind, Kinded};
use likelihood::{LN_2PI, NormalModel};
use mixture::Mixture;
use posterior::{TauMap, TauPosterior};
use prior::PriorDensity;

pub use average::{Averaged, AveragedModel, AveragedMu, InclusionBf, Models};
pub use prior::{MuPrior, TauPrior};
pub use summary::Summary;

/// What to compute; the page sends it as JSON.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BayesOptions {
    /// The prior of τ.
    pub tau_prior: TauPrior,
    /// The prior of μ (flat when left out).
    #[serde(default)]
    pub mu_prior: MuPrior,
    /// The level of the intervals, in percent (95).
    #[serde(default = "default_level")]
    pub level: f64,
    /// Average over the four models (needs proper priors on μ and τ).
    #[serde(default)]
    pub average: bool,
}

fn default_level() -> f64 {
    95.0
}

/// Why a Bayesian analysis could not be done.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum BayesError {
    /// A prior is malformed or its parameters are out of range.
    #[error("`{field}`: {message}")]
    Prior {
        /// `tau_prior` or `mu_prior`.
        field: &'static str,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// A setting is out of range.
    #[error("`{field}`: {message}")]
    Option {
        /// The setting.
        field: &'static str,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// A study's effect or variance cannot enter the model.
    #[error("study '{study}': `{field}` must be {need} (got {value})")]
    Study {
        /// The study's label.
        study: String,
        /// `yi` or `vi`.
        field: &'static str,
        /// What it must be.
        need: &'static str,
        /// The value found.
        value: f64,
    },
    /// No studies.
    #[error("a Bayesian meta-analysis needs at least one study (got none)")]
    NoStudies,
    /// The posterior does not integrate: an improper prior with too few studies.
    #[error(
        "`tau_prior`: the improper {prior} prior with {k} studies and a {mu} prior on mu gives an improper posterior (it does not integrate); choose a proper prior such as half-normal:0.5{more}"
    )]
    ImproperPosterior {
        /// The prior's label.
        prior: String,
        /// The number of studies.
        k: usize,
        /// The prior of μ, `flat` or `normal`.
        mu: &'static str,
        /// A second way out, where there is one.
        more: &'static str,
    },
    /// The quadrature failed.
    #[error(
        "the numerical integration failed: {0}; try another prior, or check the studies for extreme values"
    )]
    Integration(&'static str),
}

impl Kinded for BayesError {
    fn kind(&self) -> ErrorKind {
        match self {
            BayesError::Integration(_) => ErrorKind::Analysis,
            _ => ErrorKind::Input,
        }
    }
}

/// bayesmeta's Bayes factors BF₀₁.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BayesFactors {
    /// p(y | τ = 0) / p(y).
    #[serde(rename = "tau=0")]
    pub tau_zero: f64,
    /// p(y | μ = 0) / p(y).
    #[serde(rename = "mu=0")]
    pub mu_zero: f64,
}

/// The posterior of one study's true effect θᵢ.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StudyPosterior {
    /// The study's label.
    pub study: String,
    /// Its estimate yᵢ.
    pub yi: f64,
    /// Its within-study variance σᵢ².
    pub vi: f64,
    /// Posterior mean of θᵢ.
    pub mean: f64,
    /// Posterior standard deviation of θᵢ.
    pub sd: f64,
    /// Posterior median of θᵢ.
    pub median: f64,
    /// Lower end of the central interval.
    pub ci_lower: f64,
    /// Upper end of the central interval.
    pub ci_upper: f64,
}

/// Points (x, density) of the posterior densities, for plots.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Densities {
    /// p(τ | y) from 0 to its 99.5% quantile.
    pub tau: Vec<[f64; 2]>,
    /// p(μ | y) between its 0.25% and 99.75% quantiles.
    pub mu: Vec<[f64; 2]>,
}

/// How the result was computed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BayesSettings {
    /// The prior of τ.
    pub tau_prior: TauPrior,
    /// The prior of μ.
    pub mu_prior: MuPrior,
    /// Level of the intervals in percent.
    pub level: f64,
    /// Whether the four models were averaged.
    pub average: bool,
    /// The method, in words.
    pub method: String,
    /// Nodes of the τ rule (mixture components).
    pub nodes: usize,
    /// Relative tolerance of the quadrature.
    pub rel_tol: f64,
    /// tau's version.
    pub version: String,
}

/// The result of [`fit`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BayesResult {
    /// Number of studies.
    pub k: usize,
    /// The effect-size measure's name (SMD, OR, ...).
    pub measure: String,
    /// Posterior of the heterogeneity τ.
    pub tau: Summary,
    /// Posterior of the overall effect μ.
    pub mu: Summary,
    /// Predictive distribution of a new study's true effect.
    pub theta_new: Summary,
    /// p(y), where both priors are proper.
    pub marginal_likelihood: Option<f64>,
    /// log p(y), where both priors are proper.
    pub log_marginal_likelihood: Option<f64>,
    /// BF₀₁ for τ = 0 and μ = 0, where both priors are proper.
    pub bayes_factor: Option<BayesFactors>,
    /// Posterior of each study's true effect (shrinkage).
    pub studies: Vec<StudyPosterior>,
    /// The four models (with `average`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub models: Option<Models>,
    /// Inclusion Bayes factors (with `average`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub inclusion_bf: Option<InclusionBf>,
    /// The model-averaged posterior of μ (with `average`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub averaged: Option<Averaged>,
    /// Points of the posterior densities of τ and μ.
    pub density: Densities,
    /// Notes on the result (moments that do not exist).
    pub notes: Vec<String>,
    /// How it was computed.
    pub settings: BayesSettings,
}

fn check_studies(data: &Dataset) -> Result<(), BayesError> {
    if data.studies.is_empty() {
        return Err(BayesError::NoStudies);
    }
    for s in &data.studies {
        if !s.yi.is_finite() {
            return Err(BayesError::Study {
                study: s.label().to_owned(),
                field: "yi",
                need: "a finite number",
                value: s.yi,
            });
        }
        if !(s.vi.is_finite() && s.vi > 0.0) {
            return Err(BayesError::Study {
                study: s.label().to_owned(),
                field: "vi",
                need: "a positive, finite variance",
                value: s.vi,
            });
        }
    }
    Ok(())
}

fn check_options(o: &BayesOptions, k: usize, model: &NormalModel) -> Result<(), BayesError> {
    o.tau_prior.validate()?;
    o.mu_prior.validate()?;
    if !(o.level > 0.0 && o.level < 100.0) {
        return Err(BayesError::Option {
            field: "level",
            message: format!(
                "the level is a percentage between 0 and 100, e.g. 95 (got {})",
                o.level
            ),
        });
    }
    if o.tau_prior == TauPrior::I2 && k < 2 {
        return Err(BayesError::Prior {
            field: "tau_prior",
            message: "the i2 prior needs at least two studies (I^2 is not defined for one); choose another prior".into(),
        });
    }
    if !o.tau_prior.is_proper() && o.tau_prior.tail_exponent() + model.tail_exponent() <= 1.0 {
        let flat = o.mu_prior == MuPrior::Flat;
        return Err(BayesError::ImproperPosterior {
            prior: o.tau_prior.label(),
            k,
            mu: if flat { "flat" } else { "normal" },
            more: if flat {
                ", or a normal prior on mu"
            } else {
                ""
            },
        });
    }
    if o.average {
        if o.mu_prior == MuPrior::Flat {
            return Err(BayesError::Prior {
                field: "mu_prior",
                message: "model averaging compares models with and without an effect, which needs a proper prior on mu; give one, e.g. normal:0,1 on the scale of the effect sizes".into(),
            });
        }
        if !o.tau_prior.is_proper() {
            return Err(BayesError::Prior {
                field: "tau_prior",
                message: format!(
                    "model averaging compares models with and without heterogeneity, which needs a proper prior on tau, not the improper {} prior; choose e.g. half-normal:0.5",
                    o.tau_prior.label()
                ),
            });
        }
    }
    Ok(())
}

/// Fits the Bayesian random-effects model to `data`.
pub fn fit(data: &Dataset, options: &BayesOptions) -> Result<BayesResult, BayesError> {
    check_studies(data)?;
    let k = data.studies.len();
    let model = NormalModel {
        y: data.yi(),
        sigma2: data.vi(),
        mu_prior: options.mu_prior,
    };
    check_options(options, k, &model)?;
    let level = options.level / 100.0;
    let mut prior = PriorDensity::new(options.tau_prior, &model.sigma2);
    let map = TauMap::new(options.tau_prior.support(), prior.s0());
    if options.tau_prior == TauPrior::Conventional {
        let log_norm = posterior::log_integral(&map, |t| prior.log_density(t))?;
        prior.set_log_norm(log_norm);
    }
    let tail = options.tau_prior.tail_exponent() + model.tail_exponent();
    let post = TauPosterior::new(model, prior, map, tail)?;
    let mut notes = Vec::new();

    let tau = summary::of_tau(&post, level);
    let mu_mix = Mixture::new(post.nodes.iter().map(|n| (n.weight, n.mu.mean, n.mu.var)));
    let theta_mix = Mixture::new(
        post.nodes
            .iter()
            .map(|n| (n.weight, n.mu.mean, n.mu.var + n.tau * n.tau)),
    );
    let mu = summary::of_mixture(&mu_mix, level, post.finite_mu_var);
    let theta_new = summary::of_mixture(&theta_mix, level, post.finite_theta_var);
    if !post.finite_tau_mean {
        notes.push("the posterior mean of tau is infinite under this prior (its tail is too heavy): it is reported as missing".into());
    } else if !post.finite_tau_var {
        notes.push("the posterior variance of tau is infinite under this prior: its sd is reported as missing".into());
    }
    if !post.finite_mu_var {
        notes.push("the posterior variance of mu is infinite under this prior: its sd is reported as missing".into());
    }
    if !post.finite_theta_var {
        notes.push("the predictive variance of a new study's effect is infinite under this prior: its sd is reported as missing".into());
    }

    let studies = study_posteriors(data, &post, level);
    let proper = options.tau_prior.is_proper() && options.mu_prior != MuPrior::Flat;
    let mut result = BayesResult {
        k,
        measure: data.measure.to_string(),
        tau,
        mu,
        theta_new,
        marginal_likelihood: None,
        log_marginal_likelihood: None,
        bayes_factor: None,
        studies,
        models: None,
        inclusion_bf: None,
        averaged: None,
        density: densities(&post, &mu_mix),
        notes,
        settings: BayesSettings {
            tau_prior: options.tau_prior,
            mu_prior: options.mu_prior,
            level: options.level,
            average: options.average,
            method: "numerical integration: adaptive Gauss-Kronrod (7/15) quadrature of the marginal posterior of tau; mu, theta_new and the theta_i as mixtures of normals over its nodes".into(),
            nodes: post.nodes.len(),
            rel_tol: posterior::REL_TOL,
            version: crate::settings::VERSION.into(),
        },
    };
    if proper {
        let log_ml = log_marginal_likelihoods(&post)?;
        result.log_marginal_likelihood = Some(log_ml[3]);
        result.marginal_likelihood = Some(log_ml[3].exp());
        result.bayes_factor = Some(BayesFactors {
            tau_zero: (log_ml[1] - log_ml[3]).exp(),
            mu_zero: (log_ml[2] - log_ml[3]).exp(),
        });
        if options.average {
            let fixed = post.model.given_tau(0.0);
            let (models, inclusion, averaged) =
                average::average(log_ml, (fixed.mean, fixed.var), &mu_mix, level);
            result.models = Some(models);
            result.inclusion_bf = Some(inclusion);
            result.averaged = Some(averaged);
        }
    }
    Ok(result)
}

/// log p(y) of fixed_H0, fixed_H1, random_H0 and random_H1 ([`average`](mod@average)).
fn log_marginal_likelihoods(post: &TauPosterior) -> Result<[f64; 4], BayesError> {
    let model = &post.model;
    let fixed_h0: f64 = model
        .y
        .iter()
        .zip(&model.sigma2)
        .map(|(y, s2)| -0.5 * (LN_2PI + s2.ln() + y * y / s2))
        .sum();
    let fixed_h1 = model.given_tau(0.0).log_likelihood;
    let random_h0 = posterior::log_integral(&post.map, |t| {
        post.prior.log_density(t) + model.log_likelihood_at(0.0, t)
    })?;
    Ok([fixed_h0, fixed_h1, random_h0, post.log_evidence])
}

/// The posterior of each θᵢ: a mixture over the nodes of its normal conditionals.
fn study_posteriors(data: &Dataset, post: &TauPosterior, level: f64) -> Vec<StudyPosterior> {
    let alpha = (1.0 - level) / 2.0;
    let z = summary::normal_quantile_upper(alpha);
    data.studies
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let mix = Mixture::new(post.nodes.iter().map(|n| {
                let (mean, var) = post.model.study_given_tau(i, n.tau, &n.mu);
                (n.weight, mean, var)
            }));
            let (mean, sd) = mix.moments();
            StudyPosterior {
                study: s.label().to_owned(),
                yi: s.yi,
                vi: s.vi,
                mean,
                sd,
                median: mix.quantile_from(0.5, mean),
                ci_lower: mix.quantile_from(alpha, mean - z * sd),
                ci_upper: mix.quantile_from(1.0 - alpha, mean + z * sd),
            }
        })
        .collect()
}

/// 101 points of each posterior density.
fn densities(post: &TauPosterior, mu: &Mixture) -> Densities {
    let (lo, hi) = post.map.support();
    let top = if hi.is_finite() {
        hi
    } else {
        post.quantile(0.995)
    };
    let tau = (0..=100)
        .map(|i| {
            let t = lo + (top - lo) * f64::from(i) / 100.0;
            [t, post.density(t)]
        })
        .collect();
    let (a, b) = (mu.quantile(0.0025), mu.quantile(0.9975));
    let mu = (0..=100)
        .map(|i| {
            let x = a + (b - a) * f64::from(i) / 100.0;
            [x, mu.pdf(x)]
        })
        .collect();
    Densities { tau, mu }
}
