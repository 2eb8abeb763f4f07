//! The data-generating model of `tau simulate`.
//!
//! One replicate is one meta-analysis of k two-arm studies of a standardised
//! mean difference, drawn under the normal-normal random-effects model:
//!
//! 1. for each study i = 1..k, in order: per-arm sizes n₁ᵢ, n₂ᵢ drawn
//!    independently and uniformly from the integers [n_min, n_max]; the
//!    sampling variance is the large-sample SMD variance at the true mean
//!    effect, vᵢ = 1/n₁ᵢ + 1/n₂ᵢ + μ²/(2(n₁ᵢ + n₂ᵢ)) (Hedges 1981; metafor
//!    `escalc(measure = "SMD", vtype = "LS")`), treated as known; the outcome is
//!    yᵢ = μ + √(τ² + vᵢ)·zᵢ with zᵢ ~ N(0, 1), i.e. yᵢ = θᵢ + εᵢ with
//!    θᵢ ~ N(μ, τ²) and εᵢ ~ N(0, vᵢ);
//! 2. then the true effect of a new study, θ_new = μ + τ·z_new, against which
//!    prediction intervals are judged.
//!
//! Replicate r draws from its own random stream: ChaCha8 seeded with
//! `seed_from_u64(seed)` and switched to stream r (`set_stream(r)`), so every
//! replicate's data depend on (seed, r) alone, never on which thread drew them
//! or in what order.

use crate::fields::K;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use serde::Serialize;

/// The most studies in one simulated meta-analysis: 10⁶. Each worker thread
/// holds one replicate and its fit, about 100 bytes a study (100 MB here).
pub const MAX_STUDIES: usize = 1_000_000;

/// The true parameters and study sizes of the simulated meta-analyses.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// The true mean effect μ.
    pub mu: f64,
    /// The true between-study variance τ².
    pub tau2: f64,
    /// Studies per meta-analysis.
    pub k: usize,
    /// Smallest per-arm sample size.
    pub n_min: u32,
    /// Largest per-arm sample size.
    pub n_max: u32,
}

/// What is wrong with a scenario.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ScenarioError {
    /// μ is not a finite number.
    #[error("the true effect mu must be a finite number (got {0})")]
    BadMu(f64),
    /// τ² is negative or not finite.
    #[error("tau^2 must be a finite number >= 0 (got {0})")]
    BadTau2(f64),
    /// Fewer than two studies.
    #[error("k must be at least 2 to estimate tau^2 (got {0})")]
    TooFewStudies(usize),
    /// More studies than one replicate may hold.
    #[error(
        "k = {0} studies per meta-analysis is more than tau simulates (at most {MAX_STUDIES}, about 100 MB per thread); use a smaller {K}"
    )]
    TooManyStudies(usize),
    /// The sample-size range is empty or too small.
    #[error(
        "the per-arm sample sizes must satisfy 2 <= n-min <= n-max (got n-min = {n_min}, n-max = {n_max})"
    )]
    BadSizes {
        /// Smallest size.
        n_min: u32,
        /// Largest size.
        n_max: u32,
    },
}

impl crate::Kinded for ScenarioError {
    fn kind(&self) -> crate::ErrorKind {
        crate::ErrorKind::Input
    }
}

/// One simulated meta-analysis.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Replicate {
    /// Observed outcomes.
    pub yi: Vec<f64>,
    /// Their (known) sampling variances.
    pub vi: Vec<f64>,
    /// The true effect of a new study, for prediction-interval coverage.
    pub theta_new: f64,
}

impl Scenario {
    /// Checks the parameters.
    pub fn validate(&self) -> Result<(), ScenarioError> {
        if !self.mu.is_finite() {
            return Err(ScenarioError::BadMu(self.mu));
        }
        if !(self.tau2.is_finite() && self.tau2 >= 0.0) {
            return Err(ScenarioError::BadTau2(self.tau2));
        }
        if self.k < 2 {
            return Err(ScenarioError::TooFewStudies(self.k));
        }
        if self.k > MAX_STUDIES {
            return Err(ScenarioError::TooManyStudies(self.k));
        }
        if self.n_min < 2 || self.n_min > self.n_max {
            return Err(ScenarioError::BadSizes {
                n_min: self.n_min,
                n_max: self.n_max,
            });
        }
        Ok(())
    }

    /// Draws replicate `index` of the simulation seeded with `seed` into `out`
    /// (its buffers are reused).
    pub fn draw_into(&self, seed: u64, index: u64, out: &mut Replicate) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(index);
        out.yi.clear();
        out.vi.clear();
        for _ in 0..self.k {
            let n1 = f64::from(rng.random_range(self.n_min..=self.n_max));
            let n2 = f64::from(rng.random_range(self.n_min..=self.n_max));
            let vi = 1.0 / n1 + 1.0 / n2 + self.mu * self.mu / (2.0 * (n1 + n2));
            let z: f64 = rng.sample(StandardNormal);
            out.yi.push(self.mu + (self.tau2 + vi).sqrt() * z);
            out.vi.push(vi);
        }
        let z_new: f64 = rng.sample(StandardNormal);
        out.theta_new = self.mu + self.tau2.sqrt() * z_new;
    }

    /// Draws replicate `index` of the simulation seeded with `seed`.
    pub fn draw(&self, seed: u64, index: u64) -> Replicate {
        let mut out = Replicate::default();
        self.draw_into(seed, index, &mut out);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCENARIO: Scenario = Scenario {
        mu: 0.5,
        tau2: 0.1,
        k: 8,
        n_min: 20,
        n_max: 200,
    };

    #[test]
    fn replicates_depend_on_seed_and_index_only() {
        let a = SCENARIO.draw(7, 3);
        let mut b = SCENARIO.draw(7, 99);
        SCENARIO.draw_into(7, 3, &mut b);
        assert_eq!(a, b);
        assert_ne!(a, SCENARIO.draw(7, 4));
        assert_ne!(a, SCENARIO.draw(8, 3));
    }

    #[test]
    fn variances_follow_the_smd_formula_within_the_size_range() {
        let r = SCENARIO.draw(1, 0);
        assert_eq!(r.yi.len(), 8);
        // n1 = n2 = 200 gives the smallest variance, n1 = n2 = 20 the largest.
        let v = |n: f64| 2.0 / n + 0.25 / (4.0 * n);
        assert!(r.vi.iter().all(|&vi| vi >= v(200.0) && vi <= v(20.0)));
    }

    #[test]
    fn bad_scenarios_are_rejected() {
        let bad = [
            Scenario {
                mu: f64::NAN,
                ..SCENARIO
            },
            Scenario {
                tau2: -0.1,
                ..SCENARIO
            },
            Scenario { k: 1, ..SCENARIO },
            Scenario {
                n_min: 1,
                ..SCENARIO
            },
            Scenario {
                n_min: 50,
                n_max: 40,
                ..SCENARIO
            },
        ];
        for s in bad {
            assert!(s.validate().is_err(), "{s:?}");
        }
        assert!(SCENARIO.validate().is_ok());
    }
}
