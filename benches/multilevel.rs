//! Three-level REML fits (`--random study/es_id`): 400 studies × 5 effect
//! sizes (k = 2000) and 20 000 × 5 (k = 10⁵), the model alone and with the
//! profile-likelihood CIs and likelihood-ratio tests of each level.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use tau_core::data::dataset::load_json;
use tau_core::multilevel::{MultilevelOptions, fit};
use tau_core::{Dataset, Measure};

/// A uniform number in (0, 1) from a SplitMix64 stream (no dependency needed).
fn uniform(state: &mut u64) -> f64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64 + 1e-17
}

/// A standard normal number (Box-Muller).
fn normal(state: &mut u64) -> f64 {
    let (u, v) = (uniform(state), uniform(state));
    (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
}

/// `studies` studies of 5 effect sizes: σ² = 0.05 between and 0.02 within studies.
fn data(studies: usize, seed: u64) -> Dataset {
    let mut state = seed;
    let mut records = Vec::with_capacity(studies * 5);
    for s in 0..studies {
        let u = 0.05f64.sqrt() * normal(&mut state);
        for e in 0..5 {
            let vi = 0.01 + 0.09 * uniform(&mut state);
            let yi = 0.3 + u + 0.02f64.sqrt() * normal(&mut state) + vi.sqrt() * normal(&mut state);
            records.push(format!(
                r#"{{"study": "{s}-{e}", "yi": {yi}, "vi": {vi}, "moderators": {{"study": {s}, "es_id": {e}}}}}"#
            ));
        }
    }
    let mut d = load_json(&format!("[{}]", records.join(",")), None).expect("valid");
    d.measure = Measure::GEN;
    d
}

fn options(full: bool) -> MultilevelOptions {
    MultilevelOptions {
        random: vec!["study".into(), "es_id".into()],
        profile: full,
        level_tests: full,
        ..MultilevelOptions::default()
    }
}

fn three_level(c: &mut Criterion) {
    for studies in [400, 20_000] {
        let d = data(studies, 1);
        let mut group = c.benchmark_group(format!("multilevel_k{}", studies * 5));
        group.sample_size(10);
        group.bench_function("reml", |b| b.iter(|| fit(black_box(&d), &options(false))));
        group.bench_function("reml_profile_lrt", |b| {
            b.iter(|| fit(black_box(&d), &options(true)))
        });
        group.finish();
    }
}

criterion_group!(benches, three_level);
criterion_main!(benches);
