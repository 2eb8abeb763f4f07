//! Leave-one-out and influence diagnostics at k = 10,000 studies (REML).
//!
//! Run with `cargo bench --bench sensitivity`; figures are in benches/README.md.

use criterion::{Criterion, criterion_group, criterion_main};
use tau_core::sensitivity::influence::influence;
use tau_core::sensitivity::leave_one_out::leave_one_out;
use tau_core::{Dataset, FitOptions, Measure};

/// A heterogeneous synthetic data set: deterministic, no random-number crate needed.
fn synthetic(k: usize) -> Dataset {
    let yi: Vec<f64> = (0..k)
        .map(|i| 0.3 + 0.4 * ((i as f64) * 1.618).sin() + 0.1 * ((i as f64) * 0.37).cos())
        .collect();
    let vi: Vec<f64> = (0..k)
        .map(|i| 0.01 + 0.2 * (((i as f64) * 2.3).sin() + 1.0) / 2.0)
        .collect();
    Dataset::from_effects(Measure::GEN, &yi, &vi)
}

fn bench(c: &mut Criterion) {
    let data = synthetic(10_000);
    let options = FitOptions::default();
    let mut group = c.benchmark_group("k = 10000, REML");
    group.sample_size(10);
    group.bench_function("leave_one_out", |b| {
        b.iter(|| leave_one_out(&data, &options).expect("fits"))
    });
    group.bench_function("influence", |b| {
        b.iter(|| influence(&data, &options).expect("fits"))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
