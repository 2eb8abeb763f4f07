//! The normal–normal model yᵢ ~ N(θᵢ, σᵢ²), θᵢ ~ N(μ, τ²) given τ: the
//! likelihood of τ with μ integrated out, and the conditional posterior of μ
//! (Röver 2020, J. Stat. Softw. 93(6), eqs. 5–9; bayesmeta's
//! `likelihood(tau = t)` and `conditionalmoment(t)`).
//!
//! With a flat prior on μ the terms are the k studies; with μ ~ N(m₀, s₀²)
//! the prior is one more term (m₀, s₀²). With terms (zⱼ, vⱼ), vⱼ = σⱼ² + τ²
//! for the studies, the conditional posterior of μ is normal with variance
//! s²(τ) = 1/Σ vⱼ⁻¹ and mean m(τ) = s²(τ) Σ zⱼ/vⱼ, and
//!
//! log p(y | τ) = −½ ((n − 1) log 2π + Σ log vⱼ + Σ (zⱼ − m(τ))²/vⱼ + log Σ vⱼ⁻¹),
//!
//! n the number of terms: every constant included, so that with a proper
//! prior on μ it is the marginal likelihood of the model with τ fixed.

use super::prior::MuPrior;

pub(crate) const LN_2PI: f64 = 1.837_877_066_409_345_5;

/// The studies' estimates and within-study variances, and the prior of μ.
#[derive(Debug, Clone)]
pub(crate) struct NormalModel {
    pub y: Vec<f64>,
    pub sigma2: Vec<f64>,
    pub mu_prior: MuPrior,
}

/// The model given τ.
#[derive(Debug, Clone, Copy)]
pub(crate) struct GivenTau {
    /// log p(y | τ), μ integrated out against its prior.
    pub log_likelihood: f64,
    /// m(τ), the conditional posterior mean of μ.
    pub mean: f64,
    /// s²(τ), the conditional posterior variance of μ.
    pub var: f64,
}

impl NormalModel {
    /// The likelihood of τ and the conditional posterior of μ.
    pub fn given_tau(&self, tau: f64) -> GivenTau {
        let tau2 = tau * tau;
        let (mut sum_w, mut sum_wy, mut sum_log_v, mut terms) = (0.0, 0.0, 0.0, 0usize);
        if let MuPrior::Normal { mean, sd } = self.mu_prior {
            let v = sd * sd;
            sum_w += 1.0 / v;
            sum_wy += mean / v;
            sum_log_v += v.ln();
            terms += 1;
        }
        for (y, s2) in self.y.iter().zip(&self.sigma2) {
            let v = s2 + tau2;
            sum_w += 1.0 / v;
            sum_wy += y / v;
            sum_log_v += v.ln();
        }
        terms += self.y.len();
        let mean = sum_wy / sum_w;
        let mut q = 0.0;
        if let MuPrior::Normal { mean: m0, sd } = self.mu_prior {
            q += (m0 - mean).powi(2) / (sd * sd);
        }
        for (y, s2) in self.y.iter().zip(&self.sigma2) {
            q += (y - mean).powi(2) / (s2 + tau2);
        }
        GivenTau {
            log_likelihood: -0.5 * ((terms as f64 - 1.0) * LN_2PI + sum_log_v + q + sum_w.ln()),
            mean,
            var: 1.0 / sum_w,
        }
    }

    /// log p(y | μ, τ) = Σ log N(yᵢ; μ, σᵢ² + τ²).
    pub fn log_likelihood_at(&self, mu: f64, tau: f64) -> f64 {
        let tau2 = tau * tau;
        self.y
            .iter()
            .zip(&self.sigma2)
            .map(|(y, s2)| {
                let v = s2 + tau2;
                -0.5 * (LN_2PI + v.ln() + (y - mu).powi(2) / v)
            })
            .sum()
    }

    /// Exponent b of the likelihood's tail, p(y | τ) ~ τ^(−b) as τ → ∞:
    /// k − 1 with a flat prior on μ, k with a normal one.
    pub fn tail_exponent(&self) -> f64 {
        let k = self.y.len() as f64;
        match self.mu_prior {
            MuPrior::Flat => k - 1.0,
            MuPrior::Normal { .. } => k,
        }
    }

    /// The conditional posterior (mean, variance) of study i's θᵢ given τ and
    /// the conditional posterior (m, s²) of μ:
    /// E = (τ² yᵢ + σᵢ² m)/(σᵢ² + τ²), V = σᵢ²τ²/(σᵢ²+τ²) + (s σᵢ²/(σᵢ²+τ²))².
    pub fn study_given_tau(&self, i: usize, tau: f64, mu: &GivenTau) -> (f64, f64) {
        let s2 = self.sigma2[i];
        let tau2 = tau * tau;
        let d = s2 + tau2;
        let shrink = s2 / d;
        (
            (tau2 * self.y[i] + s2 * mu.mean) / d,
            s2 * tau2 / d + mu.var * shrink * shrink,
        )
    }
}
