//! Cluster-robust inference (CR2, Satterthwaite df for every coefficient and
//! the HTZ test of the moderators) at k = 10⁵ estimates in 20,000 clusters of
//! 1 to 9 estimates, for a three-level working model (full Φ_j blocks) with an
//! intercept and 3 moderators. Issue 13 asks for under 2 s.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use nalgebra::{DMatrix, DVector};
use tau_core::robust::inference::InferenceOptions;
use tau_core::robust::{SmallSample, WorkingCluster, infer};

/// A deterministic pseudo-random number in [0, 1).
fn unit(i: usize, salt: usize) -> f64 {
    let mut h = (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
        ^ (salt as u64).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    h ^= h >> 31;
    h = h.wrapping_mul(0x94D0_49BB_1331_11EB);
    h ^= h >> 29;
    (h >> 11) as f64 / (1u64 << 53) as f64
}

fn clusters(k: usize, j: usize) -> Vec<WorkingCluster> {
    // Sizes 1..=9 summing to k: start at 5 each, then move units at random.
    let mut sizes = vec![k / j; j];
    for c in 0..j {
        let other = (unit(c, 1) * j as f64) as usize;
        let step = (unit(c, 2) * 4.0) as usize;
        if sizes[c] > step && sizes[other] + step <= 9 {
            sizes[c] -= step;
            sizes[other] += step;
        }
    }
    let mut row = 0;
    sizes
        .iter()
        .enumerate()
        .map(|(c, &n)| {
            let x = DMatrix::from_fn(n, 4, |r, col| match col {
                0 => 1.0,
                1 => unit(row + r, 3),
                2 => f64::from(u8::from(unit(row + r, 4) < 0.3)),
                _ => unit(c, 5),
            });
            let residuals = DVector::from_fn(n, |r, _| unit(row + r, 6) - 0.5);
            let vi: Vec<f64> = (0..n).map(|r| 0.02 + 0.1 * unit(row + r, 7)).collect();
            let phi =
                DMatrix::from_fn(n, n, |a, b| if a == b { vi[a] + 0.05 + 0.02 } else { 0.05 });
            row += n;
            WorkingCluster {
                id: c.to_string(),
                x,
                residuals,
                phi,
            }
        })
        .collect()
}

fn cr2_k100000(c: &mut Criterion) {
    let data = clusters(100_000, 20_000);
    let beta = [0.3, 0.1, -0.2, 0.05];
    let names: Vec<String> = ["intrcpt", "x1", "x2", "x3"].map(String::from).to_vec();
    let tested = [1, 2, 3];
    let options = InferenceOptions {
        names: &names,
        tested: &tested,
        cluster: "study",
        small_sample: SmallSample::Satterthwaite,
        level: 95.0,
    };
    let mut group = c.benchmark_group("robust_cr2_k100000_j20000");
    group.sample_size(10);
    group.bench_function("satterthwaite_htz", |b| {
        b.iter(|| infer(black_box(&data), &beta, &options))
    });
    group.finish();
}

criterion_group!(benches, cr2_k100000);
criterion_main!(benches);
