//! Fitting random-effects models: DL, REML and PM at k = 10, 1000 and 10⁶,
//! meta-regression with 5 moderators at k = 10⁴, and a batch of 2000 separate
//! k = 20 REML fits in parallel.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use nalgebra::DMatrix;
use rayon::prelude::*;
use tau_core::model::{FitOptions, Method, fit, intercept_design};
use tau_core::simulate::{Replicate, Scenario};

fn data(k: usize, seed: u64) -> Replicate {
    Scenario {
        mu: 0.3,
        tau2: 0.05,
        k,
        n_min: 20,
        n_max: 200,
    }
    .draw(seed, 0)
}

fn options(method: Method) -> FitOptions {
    FitOptions {
        method,
        ..FitOptions::default()
    }
}

fn estimators(c: &mut Criterion) {
    for k in [10, 1000, 1_000_000] {
        let d = data(k, 1);
        let x = intercept_design(k);
        let mut group = c.benchmark_group(format!("fit_k{k}"));
        if k >= 1_000_000 {
            group.sample_size(10);
        }
        for method in [Method::DL, Method::REML, Method::PM] {
            group.bench_function(BenchmarkId::from_parameter(method.name()), |b| {
                b.iter(|| fit(black_box(&d.yi), &d.vi, &x, &options(method)))
            });
        }
        group.finish();
    }
}

fn meta_regression(c: &mut Criterion) {
    let k = 10_000;
    let d = data(k, 2);
    // An intercept and 5 moderators (a mix of continuous and 0/1 columns).
    let x = DMatrix::from_fn(k, 6, |i, j| match j {
        0 => 1.0,
        1 => (i % 97) as f64 / 97.0,
        2 => ((i * 31) % 101) as f64,
        3 => f64::from(u8::from(i % 3 == 0)),
        4 => f64::from(u8::from(i % 5 < 2)),
        _ => ((i as f64) * 0.37).sin(),
    });
    let mut group = c.benchmark_group("meta_regression_k10000_p6");
    for method in [Method::DL, Method::REML] {
        group.bench_function(BenchmarkId::from_parameter(method.name()), |b| {
            b.iter(|| fit(black_box(&d.yi), &d.vi, &x, &options(method)))
        });
    }
    group.finish();
}

fn batch(c: &mut Criterion) {
    let sets: Vec<Replicate> = (0..2000).map(|i| data(20, 100 + i)).collect();
    let x = intercept_design(20);
    c.bench_function("batch_2000_x_k20_REML", |b| {
        b.iter(|| {
            sets.par_iter()
                .map(|d| fit(&d.yi, &d.vi, &x, &options(Method::REML)).map(|m| m.tau2))
                .collect::<Vec<_>>()
        })
    });
}

criterion_group!(benches, estimators, meta_regression, batch);
criterion_main!(benches);
