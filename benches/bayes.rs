//! A full Bayesian meta-analysis (`tau_core::bayes::fit`): the posterior of
//! τ by adaptive quadrature, the summaries of τ, μ and θ_new with their
//! shortest intervals, the posterior of every θᵢ, the marginal likelihood and
//! Bayes factors, and model averaging over the four models, at k = 50
//! (half-normal(0.5) prior on τ, N(0, 1) on μ). Issue 31 asks for under 10 ms.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use tau_core::bayes::{BayesOptions, MuPrior, TauPrior, fit};
use tau_core::{Dataset, Measure};

/// A deterministic pseudo-random number in [0, 1).
fn unit(i: usize, salt: usize) -> f64 {
    let mut h = (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
        ^ (salt as u64).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    h ^= h >> 31;
    h = h.wrapping_mul(0x94D0_49BB_1331_11EB);
    h ^= h >> 29;
    (h >> 11) as f64 / (1u64 << 53) as f64
}

/// k log odds ratios around 0.3 with τ = 0.2 and variances from 0.02 to 0.3.
fn studies(k: usize) -> Dataset {
    let vi: Vec<f64> = (0..k).map(|i| 0.02 + 0.28 * unit(i, 1)).collect();
    let yi: Vec<f64> = (0..k)
        .map(|i| 0.3 + (unit(i, 2) - 0.5) * 0.7 + (unit(i, 3) - 0.5) * 2.0 * vi[i].sqrt())
        .collect();
    Dataset::from_effects(Measure::OR, &yi, &vi)
}

fn bench(c: &mut Criterion) {
    let data = studies(50);
    let options = BayesOptions {
        tau_prior: TauPrior::HalfNormal { scale: 0.5 },
        mu_prior: MuPrior::Normal { mean: 0.0, sd: 1.0 },
        level: 95.0,
        average: true,
    };
    c.bench_function("bayes k=50 with averaging", |b| {
        b.iter(|| fit(black_box(&data), black_box(&options)).expect("fit"))
    });
    let flat = BayesOptions {
        tau_prior: TauPrior::HalfCauchy { scale: 0.5 },
        mu_prior: MuPrior::Flat,
        level: 95.0,
        average: false,
    };
    c.bench_function("bayes k=50 half-Cauchy, flat mu", |b| {
        b.iter(|| fit(black_box(&data), black_box(&flat)).expect("fit"))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
