//! Accumulating the fits of one estimator × test combination over replicates,
//! and the performance measures computed from the totals (Morris, White &
//! Crowther 2019, "Using simulation studies to evaluate statistical methods").

use serde::{Deserialize, Serialize};

use crate::model::ModelFit;

/// Running sums over the successful fits of one method × test, plus the
/// failures. A shard of a simulation (`simulate::shard`) writes its blocks'
/// tallies to JSON with the sums as exact decimal strings, so
/// that the merged shards add the same numbers in the same order as one run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tally {
    fits: u64,
    failed: u64,
    first_failure: Option<(u64, String)>,
    #[serde(with = "exact")]
    estimate_error: f64,
    #[serde(with = "exact")]
    estimate_error2: f64,
    #[serde(with = "exact")]
    tau2_error: f64,
    #[serde(with = "exact")]
    tau2_error2: f64,
    ci_covered: u64,
    #[serde(with = "exact")]
    ci_width: f64,
    pi_covered: u64,
    #[serde(with = "exact")]
    pi_width: f64,
    i2_fits: u64,
    #[serde(with = "exact")]
    i2: f64,
    #[serde(with = "exact")]
    i2_squares: f64,
    null_rejected: u64,
    q_rejected: u64,
}

/// An f64 as the shortest decimal string that reads back to the same bits
/// (Rust's `Display` and `parse`, both exact; serde_json's default number
/// parser may miss the last bit, and JSON has no NaN).
mod exact {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(value: &f64, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(value)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<f64, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse()
            .map_err(|_| serde::de::Error::custom(format!("not a number: \"{text}\"")))
    }
}

/// The truth a fit is judged against.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Truth {
    /// The true mean effect μ.
    pub mu: f64,
    /// The true τ².
    pub tau2: f64,
    /// The true effect of a new study.
    pub theta_new: f64,
    /// α of the tests: 1 − level/100.
    pub alpha: f64,
}

impl Tally {
    /// Adds one successful fit of an intercept-only model.
    pub fn add_fit(&mut self, fit: &ModelFit, truth: &Truth) {
        let estimate = fit.beta[0];
        let (pi_lower, pi_upper) = fit.prediction_interval();
        let (ci_lower, ci_upper) = (fit.ci_lower[0], fit.ci_upper[0]);
        self.fits += 1;
        let e = estimate - truth.mu;
        self.estimate_error += e;
        self.estimate_error2 += e * e;
        let t = fit.tau2 - truth.tau2;
        self.tau2_error += t;
        self.tau2_error2 += t * t;
        self.ci_covered += u64::from(ci_lower <= truth.mu && truth.mu <= ci_upper);
        self.ci_width += ci_upper - ci_lower;
        self.pi_covered += u64::from(pi_lower <= truth.theta_new && truth.theta_new <= pi_upper);
        self.pi_width += pi_upper - pi_lower;
        // NaN when rounding leaves the typical variance without a digit.
        if fit.i2.is_finite() {
            self.i2_fits += 1;
            self.i2 += fit.i2;
            self.i2_squares += fit.i2 * fit.i2;
        }
        self.null_rejected += u64::from(fit.p_values[0] < truth.alpha);
        self.q_rejected += u64::from(fit.q_p < truth.alpha);
    }

    /// Records a failed fit of replicate `index`.
    pub fn add_failure(&mut self, index: u64, message: impl FnOnce() -> String) {
        self.failed += 1;
        if self.first_failure.is_none() {
            self.first_failure = Some((index, message()));
        }
    }

    /// Adds the tally of later replicates.
    pub fn merge(&mut self, later: &Tally) {
        self.fits += later.fits;
        self.failed += later.failed;
        if self.first_failure.is_none() {
            self.first_failure.clone_from(&later.first_failure);
        }
        self.estimate_error += later.estimate_error;
        self.estimate_error2 += later.estimate_error2;
        self.tau2_error += later.tau2_error;
        self.tau2_error2 += later.tau2_error2;
        self.ci_covered += later.ci_covered;
        self.ci_width += later.ci_width;
        self.pi_covered += later.pi_covered;
        self.pi_width += later.pi_width;
        self.i2_fits += later.i2_fits;
        self.i2 += later.i2;
        self.i2_squares += later.i2_squares;
        self.null_rejected += later.null_rejected;
        self.q_rejected += later.q_rejected;
    }

    /// The performance measures.
    pub fn summary(&self) -> Performance {
        let n = self.fits as f64;
        let coverage = |covered: u64| {
            let c = covered as f64 / n;
            Proportion {
                value: c,
                mcse: (c * (1.0 - c) / n).sqrt(),
            }
        };
        Performance {
            fits: self.fits,
            failed: self.failed,
            first_failure: self.first_failure.as_ref().map(|(index, message)| Failure {
                replicate: *index,
                message: message.clone(),
            }),
            estimate: Accuracy::new(self.estimate_error, self.estimate_error2, n),
            tau2: Accuracy::new(self.tau2_error, self.tau2_error2, n),
            ci_coverage: coverage(self.ci_covered),
            ci_mean_width: self.ci_width / n,
            pi_coverage: coverage(self.pi_covered),
            pi_mean_width: self.pi_width / n,
            i2: Mean::new(self.i2, self.i2_squares, self.i2_fits as f64),
            null_rejection: coverage(self.null_rejected),
            q_rejection: coverage(self.q_rejected),
        }
    }
}

/// Bias and root mean squared error of an estimator.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Accuracy {
    /// Mean of (estimate − truth).
    pub bias: f64,
    /// Monte Carlo standard error of the bias: SD(estimate)/√n.
    pub bias_mcse: f64,
    /// √(mean of (estimate − truth)²).
    pub rmse: f64,
}

impl Accuracy {
    fn new(sum: f64, sum_squares: f64, n: f64) -> Accuracy {
        let bias = sum / n;
        let variance = ((sum_squares - sum * bias) / (n - 1.0)).max(0.0);
        Accuracy {
            bias,
            bias_mcse: (variance / n).sqrt(),
            rmse: (sum_squares / n).sqrt(),
        }
    }
}

/// The mean of a quantity without a true value (I²), with its Monte Carlo
/// standard error SD/√n.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Mean {
    /// The mean over the fits.
    pub value: f64,
    /// Its Monte Carlo standard error.
    pub mcse: f64,
}

impl Mean {
    fn new(sum: f64, sum_squares: f64, n: f64) -> Mean {
        let value = sum / n;
        let variance = ((sum_squares - sum * value) / (n - 1.0)).max(0.0);
        Mean {
            value,
            mcse: (variance / n).sqrt(),
        }
    }
}

/// A proportion with its Monte Carlo standard error √(c(1 − c)/n).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Proportion {
    /// The proportion.
    pub value: f64,
    /// Its Monte Carlo standard error.
    pub mcse: f64,
}

/// The first replicate whose fit failed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Failure {
    /// Replicate index (0-based; reproducible from the seed).
    pub replicate: u64,
    /// The error.
    pub message: String,
}

/// Performance of one method × test over the replicates. Failed fits are
/// counted, never dropped silently: every other measure is over the `fits`
/// that succeeded.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Performance {
    /// Successful fits.
    pub fits: u64,
    /// Fits that failed (e.g. no convergence).
    pub failed: u64,
    /// The first failure, to reproduce it.
    pub first_failure: Option<Failure>,
    /// Accuracy of the pooled estimate μ̂.
    pub estimate: Accuracy,
    /// Accuracy of τ̂².
    pub tau2: Accuracy,
    /// Share of confidence intervals that contain μ.
    pub ci_coverage: Proportion,
    /// Mean width of the confidence intervals.
    pub ci_mean_width: f64,
    /// Share of prediction intervals that contain the true effect of a new study.
    pub pi_coverage: Proportion,
    /// Mean width of the prediction intervals.
    pub pi_mean_width: f64,
    /// Mean of Î² in percent (Higgins & Thompson 2002, from each fit's τ̂²,
    /// as metafor's `I2`): how much of the spread looks like heterogeneity.
    pub i2: Mean,
    /// Share of tests of μ = 0 that reject it at α = 1 − level/100: the
    /// type I error rate when the true μ is 0, the power otherwise.
    pub null_rejection: Proportion,
    /// Share of Cochran's Q tests that reject homogeneity at the same α: the
    /// type I error rate when τ² = 0, the power otherwise (the same for every
    /// method, since Q does not depend on τ̂²).
    pub q_rejection: Proportion,
}
