//! The priors of a Bayesian random-effects meta-analysis: on the
//! heterogeneity τ ([`TauPrior`], named as bayesmeta's `tau.prior` and its
//! `dhalfnormal`, `dhalfcauchy`, … densities) and on the overall effect μ
//! ([`MuPrior`], bayesmeta's `mu.prior`).
//!
//! The study-dependent priors use the within-study standard errors σᵢ
//! (Röver 2020, J. Stat. Softw. 93(6), section 2.4):
//!
//! * `jeffreys`: p(τ) ∝ √(Σᵢ (τ/(σᵢ²+τ²))²) (improper; Tibshirani 1989);
//! * `overall-jeffreys`: p(τ) ∝ √(Σᵢ 1/(σᵢ²+τ²) · Σᵢ (τ/(σᵢ²+τ²))²) (improper);
//! * `berger-deely`: p(τ) ∝ τ ∏ᵢ (σᵢ²+τ²)^(−1/k) (improper);
//! * `conventional`: p(τ) ∝ τ ∏ᵢ (σᵢ²+τ²)^(−3/(2k)) (proper, normalised numerically);
//! * `dumouchel`: p(τ) = s₀/(s₀+τ)², s₀² = k/Σᵢ σᵢ⁻²;
//! * `shrinkage` (uniform shrinkage): p(τ) = 2τ s₀²/(s₀²+τ²)²;
//! * `i2` (uniform on I²): p(τ) = 2σ̂²τ/(σ̂²+τ²)², σ̂² of Higgins & Thompson (2002, eq. 9);
//! * `sqrt` (uniform on √τ): p(τ) ∝ τ^(−1/2) (improper);
//! * `uniform` without bounds: p(τ) ∝ 1 (improper).

use serde::{Deserialize, Serialize};

use super::BayesError;

/// The prior of the heterogeneity τ (a standard deviation, τ ≥ 0).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "family", rename_all = "kebab-case", deny_unknown_fields)]
pub enum TauPrior {
    /// Half-normal with scale `scale`: p(τ) = 2/s φ(τ/s).
    HalfNormal {
        /// The scale s (> 0).
        scale: f64,
    },
    /// Half-Cauchy: p(τ) = 2/(π s (1 + (τ/s)²)).
    HalfCauchy {
        /// The scale s (> 0).
        scale: f64,
    },
    /// Half-Student-t: p(τ) = 2/s t_ν(τ/s).
    HalfT {
        /// The scale s (> 0).
        scale: f64,
        /// The degrees of freedom ν (> 0).
        df: f64,
    },
    /// Half-logistic: p(τ) = 2 e^(−τ/s) / (s (1 + e^(−τ/s))²).
    HalfLogistic {
        /// The scale s (> 0).
        scale: f64,
    },
    /// Exponential: p(τ) = r e^(−rτ).
    Exponential {
        /// The rate r (> 0).
        rate: f64,
    },
    /// Uniform on [lower, upper] (proper).
    Uniform {
        /// The lower bound (≥ 0).
        lower: f64,
        /// The upper bound (> lower).
        upper: f64,
    },
    /// Log-normal: log τ ~ N(M, S²).
    Lognormal {
        /// The mean M of log τ.
        meanlog: f64,
        /// The standard deviation S of log τ (> 0).
        sdlog: f64,
    },
    /// Jeffreys' prior (improper).
    Jeffreys,
    /// The "overall" Jeffreys prior (improper).
    OverallJeffreys,
    /// The Berger–Deely prior (improper).
    BergerDeely,
    /// The conventional prior (proper).
    Conventional,
    /// DuMouchel's prior (proper).
    Dumouchel,
    /// The uniform shrinkage prior (proper).
    Shrinkage,
    /// Uniform on I² (proper).
    I2,
    /// Uniform on √τ (improper).
    Sqrt,
    /// Uniform on [0, ∞) (improper).
    UniformImproper,
}

/// The prior of the overall effect μ.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
#[serde(tag = "family", rename_all = "kebab-case", deny_unknown_fields)]
pub enum MuPrior {
    /// The improper uniform prior (bayesmeta's default).
    #[default]
    Flat,
    /// μ ~ N(mean, sd²).
    Normal {
        /// The prior mean.
        mean: f64,
        /// The prior standard deviation (> 0).
        sd: f64,
    },
}

/// What a τ prior needs of the data: the σᵢ² and the constants made of them.
#[derive(Debug, Clone)]
pub(crate) struct PriorDensity {
    prior: TauPrior,
    sigma2: Vec<f64>,
    /// s₀² = k / Σ σᵢ⁻² (DuMouchel, shrinkage).
    s02: f64,
    /// σ̂² of Higgins & Thompson (I²).
    sigma2hat: f64,
    /// log of the normalising constant (the conventional prior).
    log_norm: f64,
}

fn invalid(message: String) -> BayesError {
    BayesError::Prior {
        field: "tau_prior",
        message,
    }
}

fn positive(value: f64, what: &str, family: &str) -> Result<(), BayesError> {
    if value.is_finite() && value > 0.0 {
        Ok(())
    } else {
        Err(invalid(format!(
            "the {what} of the {family} prior must be a positive number (got {value})"
        )))
    }
}

impl TauPrior {
    /// Reads the command-line form: `half-normal:S`, `half-cauchy:S`,
    /// `half-t:S,DF`, `half-logistic:S`, `exponential:R`, `uniform:A,B`,
    /// `lognormal:M,S`, or a parameter-free name (`jeffreys`,
    /// `overall-jeffreys`, `berger-deely`, `conventional`, `dumouchel`,
    /// `shrinkage`, `i2`, `sqrt`, `uniform`).
    pub fn parse(text: &str) -> Result<TauPrior, BayesError> {
        let text = text.trim();
        let (name, args) = text.split_once(':').unwrap_or((text, ""));
        let name = name.trim().to_ascii_lowercase().replace('_', "-");
        let numbers: Vec<f64> = if args.trim().is_empty() {
            Vec::new()
        } else {
            args.split(',')
                .map(|a| {
                    a.trim().parse::<f64>().map_err(|_| {
                        invalid(format!(
                            "{a:?} in {text:?} is not a number; write e.g. half-normal:0.5"
                        ))
                    })
                })
                .collect::<Result<_, _>>()?
        };
        let want = |n: usize, form: &str| -> Result<(), BayesError> {
            if numbers.len() == n {
                Ok(())
            } else {
                Err(invalid(format!(
                    "the {name} prior takes {n} number{} ({form}), got {}",
                    if n == 1 { "" } else { "s" },
                    numbers.len()
                )))
            }
        };
        let prior = match name.as_str() {
            "half-normal" | "halfnormal" => {
                want(1, "half-normal:SCALE")?;
                TauPrior::HalfNormal { scale: numbers[0] }
            }
            "half-cauchy" | "halfcauchy" => {
                want(1, "half-cauchy:SCALE")?;
                TauPrior::HalfCauchy { scale: numbers[0] }
            }
            "half-t" | "halft" | "half-student" => {
                want(2, "half-t:SCALE,DF")?;
                TauPrior::HalfT {
                    scale: numbers[0],
                    df: numbers[1],
                }
            }
            "half-logistic" | "halflogistic" => {
                want(1, "half-logistic:SCALE")?;
                TauPrior::HalfLogistic { scale: numbers[0] }
            }
            "exponential" | "exp" => {
                want(1, "exponential:RATE")?;
                TauPrior::Exponential { rate: numbers[0] }
            }
            "lognormal" | "log-normal" => {
                want(2, "lognormal:MEANLOG,SDLOG")?;
                TauPrior::Lognormal {
                    meanlog: numbers[0],
                    sdlog: numbers[1],
                }
            }
            "uniform" if numbers.is_empty() => TauPrior::UniformImproper,
            "uniform" => {
                want(2, "uniform:LOWER,UPPER, e.g. uniform:0,2")?;
                TauPrior::Uniform {
                    lower: numbers[0],
                    upper: numbers[1],
                }
            }
            other => {
                let prior = match other {
                    "jeffreys" => TauPrior::Jeffreys,
                    "overall-jeffreys" | "overalljeffreys" => TauPrior::OverallJeffreys,
                    "berger-deely" | "bergerdeely" => TauPrior::BergerDeely,
                    "conventional" => TauPrior::Conventional,
                    "dumouchel" => TauPrior::Dumouchel,
                    "shrinkage" => TauPrior::Shrinkage,
                    "i2" => TauPrior::I2,
                    "sqrt" => TauPrior::Sqrt,
                    _ => {
                        return Err(invalid(format!(
                            "unknown prior {text:?}; use one of {}",
                            TauPrior::NAMES
                        )));
                    }
                };
                want(0, "no parameters")?;
                prior
            }
        };
        prior.validate()?;
        Ok(prior)
    }

    /// The names [`TauPrior::parse`] reads, for messages and `--help`.
    pub const NAMES: &'static str = "half-normal:S, half-cauchy:S, half-t:S,DF, half-logistic:S, exponential:R, uniform:A,B, lognormal:M,S, jeffreys, overall-jeffreys, berger-deely, conventional, dumouchel, shrinkage, i2, sqrt, uniform";

    /// Checks the parameters (a prior deserialised from JSON is checked here too).
    pub fn validate(&self) -> Result<(), BayesError> {
        match *self {
            TauPrior::HalfNormal { scale } => positive(scale, "scale", "half-normal"),
            TauPrior::HalfCauchy { scale } => positive(scale, "scale", "half-Cauchy"),
            TauPrior::HalfLogistic { scale } => positive(scale, "scale", "half-logistic"),
            TauPrior::HalfT { scale, df } => {
                positive(scale, "scale", "half-t")?;
                positive(df, "degrees of freedom", "half-t")
            }
            TauPrior::Exponential { rate } => positive(rate, "rate", "exponential"),
            TauPrior::Lognormal { meanlog, sdlog } => {
                if !meanlog.is_finite() {
                    return Err(invalid(format!(
                        "the mean of log tau of the lognormal prior must be a finite number (got {meanlog})"
                    )));
                }
                positive(sdlog, "standard deviation of log tau", "lognormal")
            }
            TauPrior::Uniform { lower, upper } => {
                if lower.is_finite() && upper.is_finite() && lower >= 0.0 && upper > lower {
                    Ok(())
                } else {
                    Err(invalid(format!(
                        "the uniform prior needs 0 <= lower < upper, both finite (got {lower}, {upper}); write e.g. uniform:0,2, or plain uniform for the improper prior"
                    )))
                }
            }
            _ => Ok(()),
        }
    }

    /// The name and parameters, as the command line writes them.
    pub fn label(&self) -> String {
        match *self {
            TauPrior::HalfNormal { scale } => format!("half-normal:{scale}"),
            TauPrior::HalfCauchy { scale } => format!("half-cauchy:{scale}"),
            TauPrior::HalfT { scale, df } => format!("half-t:{scale},{df}"),
            TauPrior::HalfLogistic { scale } => format!("half-logistic:{scale}"),
            TauPrior::Exponential { rate } => format!("exponential:{rate}"),
            TauPrior::Uniform { lower, upper } => format!("uniform:{lower},{upper}"),
            TauPrior::Lognormal { meanlog, sdlog } => format!("lognormal:{meanlog},{sdlog}"),
            TauPrior::Jeffreys => "jeffreys".into(),
            TauPrior::OverallJeffreys => "overall-jeffreys".into(),
            TauPrior::BergerDeely => "berger-deely".into(),
            TauPrior::Conventional => "conventional".into(),
            TauPrior::Dumouchel => "dumouchel".into(),
            TauPrior::Shrinkage => "shrinkage".into(),
            TauPrior::I2 => "i2".into(),
            TauPrior::Sqrt => "sqrt".into(),
            TauPrior::UniformImproper => "uniform".into(),
        }
    }

    /// Whether the prior integrates to 1 (bayesmeta's `tau.prior.proper`).
    pub fn is_proper(&self) -> bool {
        !matches!(
            self,
            TauPrior::Jeffreys
                | TauPrior::OverallJeffreys
                | TauPrior::BergerDeely
                | TauPrior::Sqrt
                | TauPrior::UniformImproper
        )
    }

    /// a in p(τ) ~ τ^(−a) as τ → ∞ (infinite for light tails and bounded support).
    pub(crate) fn tail_exponent(&self) -> f64 {
        match *self {
            TauPrior::HalfCauchy { .. } | TauPrior::Dumouchel => 2.0,
            TauPrior::HalfT { df, .. } => df + 1.0,
            TauPrior::Jeffreys | TauPrior::BergerDeely => 1.0,
            TauPrior::OverallJeffreys | TauPrior::Conventional => 2.0,
            TauPrior::Shrinkage | TauPrior::I2 => 3.0,
            TauPrior::Sqrt => 0.5,
            TauPrior::UniformImproper => 0.0,
            _ => f64::INFINITY,
        }
    }

    /// The support [lower, upper] of the prior.
    pub(crate) fn support(&self) -> (f64, f64) {
        match *self {
            TauPrior::Uniform { lower, upper } => (lower, upper),
            _ => (0.0, f64::INFINITY),
        }
    }
}

impl MuPrior {
    /// Reads `flat` or `normal:MEAN,SD`.
    pub fn parse(text: &str) -> Result<MuPrior, BayesError> {
        let text = text.trim();
        let err = |message: String| BayesError::Prior {
            field: "mu_prior",
            message,
        };
        let (name, args) = text.split_once(':').unwrap_or((text, ""));
        match name.trim().to_ascii_lowercase().as_str() {
            "flat" | "uniform" if args.trim().is_empty() => Ok(MuPrior::Flat),
            "normal" => {
                let numbers: Vec<f64> = args
                    .split(',')
                    .map(|a| a.trim().parse::<f64>())
                    .collect::<Result<_, _>>()
                    .map_err(|_| {
                        err(format!(
                            "{text:?}: write the normal prior as normal:MEAN,SD, e.g. normal:0,4"
                        ))
                    })?;
                let [mean, sd] = numbers[..] else {
                    return Err(err(format!(
                        "{text:?}: the normal prior takes two numbers, normal:MEAN,SD, e.g. normal:0,4"
                    )));
                };
                let prior = MuPrior::Normal { mean, sd };
                prior.validate()?;
                Ok(prior)
            }
            _ => Err(err(format!(
                "unknown prior {text:?}; use flat or normal:MEAN,SD"
            ))),
        }
    }

    /// Checks the parameters.
    pub fn validate(&self) -> Result<(), BayesError> {
        match *self {
            MuPrior::Flat => Ok(()),
            MuPrior::Normal { mean, sd } if mean.is_finite() && sd.is_finite() && sd > 0.0 => {
                Ok(())
            }
            MuPrior::Normal { mean, sd } => Err(BayesError::Prior {
                field: "mu_prior",
                message: format!(
                    "the normal prior needs a finite mean and a positive, finite sd (got mean {mean}, sd {sd})"
                ),
            }),
        }
    }

    /// `flat` or `normal:MEAN,SD`.
    pub fn label(&self) -> String {
        match *self {
            MuPrior::Flat => "flat".into(),
            MuPrior::Normal { mean, sd } => format!("normal:{mean},{sd}"),
        }
    }
}

const LN_2PI: f64 = 1.837_877_066_409_345_5;

impl PriorDensity {
    /// The prior with the data's constants; `log_norm` is set by the caller
    /// for the conventional prior (see [`PriorDensity::set_log_norm`]).
    pub(crate) fn new(prior: TauPrior, sigma2: &[f64]) -> PriorDensity {
        let k = sigma2.len() as f64;
        let sum_w: f64 = sigma2.iter().map(|s| 1.0 / s).sum();
        let sum_w2: f64 = sigma2.iter().map(|s| 1.0 / (s * s)).sum();
        PriorDensity {
            prior,
            sigma2: sigma2.to_vec(),
            s02: k / sum_w,
            sigma2hat: (k - 1.0) * sum_w / (sum_w * sum_w - sum_w2),
            log_norm: 0.0,
        }
    }

    /// Divides the density by exp(`log_norm`) from now on.
    pub(crate) fn set_log_norm(&mut self, log_norm: f64) {
        self.log_norm = log_norm;
    }

    /// s₀ = √(k/Σσᵢ⁻²), a typical within-study standard error.
    pub(crate) fn s0(&self) -> f64 {
        self.s02.sqrt()
    }

    /// log p(τ) (−∞ outside the support; unnormalised for improper priors).
    pub(crate) fn log_density(&self, tau: f64) -> f64 {
        if tau < 0.0 {
            return f64::NEG_INFINITY;
        }
        let k = self.sigma2.len() as f64;
        let value = match self.prior {
            TauPrior::HalfNormal { scale } => {
                std::f64::consts::LN_2 - scale.ln() - 0.5 * LN_2PI - 0.5 * (tau / scale).powi(2)
            }
            TauPrior::HalfCauchy { scale } => {
                (2.0 / (std::f64::consts::PI * scale)).ln() - (tau / scale).powi(2).ln_1p()
            }
            TauPrior::HalfT { scale, df } => {
                let z = tau / scale;
                std::f64::consts::LN_2 - scale.ln() + ln_gamma((df + 1.0) / 2.0)
                    - ln_gamma(df / 2.0)
                    - 0.5 * (df * std::f64::consts::PI).ln()
                    - (df + 1.0) / 2.0 * (z * z / df).ln_1p()
            }
            TauPrior::HalfLogistic { scale } => {
                let z = tau / scale;
                std::f64::consts::LN_2 - z - scale.ln() - 2.0 * (-z).exp().ln_1p()
            }
            TauPrior::Exponential { rate } => rate.ln() - rate * tau,
            TauPrior::Uniform { lower, upper } => {
                if tau < lower || tau > upper {
                    f64::NEG_INFINITY
                } else {
                    -(upper - lower).ln()
                }
            }
            TauPrior::Lognormal { meanlog, sdlog } => {
                if tau == 0.0 {
                    f64::NEG_INFINITY
                } else {
                    let z = (tau.ln() - meanlog) / sdlog;
                    -0.5 * LN_2PI - sdlog.ln() - tau.ln() - 0.5 * z * z
                }
            }
            TauPrior::Jeffreys => {
                let sum: f64 = self
                    .sigma2
                    .iter()
                    .map(|s| (tau / (s + tau * tau)).powi(2))
                    .sum();
                0.5 * sum.ln()
            }
            TauPrior::OverallJeffreys => {
                let (a, b) = self.sigma2.iter().fold((0.0, 0.0), |(a, b), s| {
                    let d = s + tau * tau;
                    (a + 1.0 / d, b + (tau / d).powi(2))
                });
                0.5 * (a * b).ln()
            }
            TauPrior::BergerDeely => {
                let sum: f64 = self.sigma2.iter().map(|s| (s + tau * tau).ln()).sum();
                tau.ln() - sum / k
            }
            TauPrior::Conventional => {
                let sum: f64 = self.sigma2.iter().map(|s| (s + tau * tau).ln()).sum();
                tau.ln() - 1.5 / k * sum
            }
            TauPrior::Dumouchel => {
                let s0 = self.s02.sqrt();
                s0.ln() - 2.0 * (s0 + tau).ln()
            }
            TauPrior::Shrinkage => (2.0 * tau * self.s02).ln() - 2.0 * (self.s02 + tau * tau).ln(),
            TauPrior::I2 => {
                let s = self.sigma2hat;
                (2.0 * s * tau).ln() - 2.0 * (s + tau * tau).ln()
            }
            TauPrior::Sqrt => -0.5 * tau.ln(),
            TauPrior::UniformImproper => 0.0,
        };
        value - self.log_norm
    }
}

/// log Γ(x) for x > 0 (statrs' Lanczos approximation, 1e-15 relative).
fn ln_gamma(x: f64) -> f64 {
    statrs::function::gamma::ln_gamma(x)
}
