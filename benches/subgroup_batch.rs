//! `tau subgroup --by analysis` as a batch: 2000 separate meta-analyses of
//! k = 20 studies each, REML with z tests (the library call, without file I/O).
//! Figures are recorded in benches/README.md.

use criterion::{Criterion, criterion_group, criterion_main};
use tau_core::data::dataset::load_json;
use tau_core::model::{fit, intercept_design};
use tau_core::subgroup::{SubgroupOptions, Tau2Mode, subgroup};
use tau_core::{Dataset, FitOptions};

/// `analyses` meta-analyses of `k` studies: true effects N(0.3, τ²) with τ²
/// between 0.02 and 0.12, sampling variances between 0.01 and 0.21, outcomes
/// drawn around the true effects (normal draws by Box-Muller from a fixed
/// xorshift sequence, so every run fits the same data). About 1 analysis in
/// 300 makes REML's Fisher scoring oscillate past metafor's 100 iterations
/// (metafor fails on the same data); such analyses are redrawn, so that the
/// benchmark times a batch that runs to the end.
fn batch(analyses: usize, k: usize) -> Dataset {
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut uniform = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        ((state >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    };
    let mut normal = move || {
        let (u1, u2) = (uniform(), uniform());
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    };
    let mut records = Vec::with_capacity(analyses * k);
    let mut redrawn = 0;
    for a in 0..analyses {
        let (yi, vi) = loop {
            let tau2: f64 = 0.02 + 0.1 * (0.5 + 0.5 * normal().tanh());
            let vi: Vec<f64> = (0..k)
                .map(|_| 0.01 + 0.2 * (0.5 + 0.5 * normal().tanh()))
                .collect();
            let yi: Vec<f64> = vi
                .iter()
                .map(|v| 0.3 + tau2.sqrt() * normal() + v.sqrt() * normal())
                .collect();
            if fit(&yi, &vi, &intercept_design(k), &FitOptions::default()).is_ok() {
                break (yi, vi);
            }
            redrawn += 1;
        };
        for (i, (yi, vi)) in yi.iter().zip(&vi).enumerate() {
            records.push(format!(
                r#"{{"study":"a{a}s{i}","yi":{yi},"vi":{vi},"moderators":{{"analysis":{a}}}}}"#
            ));
        }
    }
    eprintln!("{analyses} analyses of k = {k}; {redrawn} redrawn for REML non-convergence");
    load_json(&format!("[{}]", records.join(",")), None).expect("valid batch")
}

fn subgroup_batch(c: &mut Criterion) {
    let data = batch(2000, 20);
    let options = SubgroupOptions {
        fit: FitOptions::default(),
        by: "analysis".into(),
        tau2: Tau2Mode::Separate,
        levels: None,
    };
    c.bench_function("subgroup 2000 x k=20 REML", |b| {
        b.iter(|| subgroup(&data, &options).expect("fits"))
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = subgroup_batch
}
criterion_main!(benches);
