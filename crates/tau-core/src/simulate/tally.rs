//! Accumulating the fits of one estimator × test combination over replicates,
//! and the performance measures computed from the totals (Morris, White &
//! Crowther 2019, "Using simulation studies to evaluate statistical methods").

use serde::Serialize;

use crate::model::ModelFit;

/// Running sums over the successful fits of one method × test, plus the failures.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tally {
    fits: u64,
    failed: u64,
    first_failure: Option<(u64, String)>,
    estimate_error: f64,
    estimate_error2: f64,
    tau2_error: f64,
    tau2_error2: f64,
    ci_covered: u64,
    ci_width: f64,
    pi_covered: u64,
    pi_width: f64,
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
}
