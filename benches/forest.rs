//! Forest plots of 1000 studies: the SVG (layout and writing), and the PNG
//! rendered from it. Target: a readable, tall figure in under a second.
//!
//! Run with `cargo bench --bench forest`.

use criterion::{Criterion, criterion_group, criterion_main};
use tau_core::{Dataset, FitOptions, Measure, pool};
use tau_plot::{Fitted, ForestOptions, ImageFormat, Model, forest, render};

/// 1000 log risk ratios with varied precision, deterministic.
fn studies(k: usize) -> Dataset {
    let mut state: u64 = 0x2545_F491_4F6C_DD1D;
    let mut uniform = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let (mut yi, mut vi) = (Vec::with_capacity(k), Vec::with_capacity(k));
    for _ in 0..k {
        let v = 0.01 + 0.5 * uniform().powi(2);
        vi.push(v);
        yi.push(-0.4 + 0.3 * (uniform() - 0.5) + v.sqrt() * (uniform() - 0.5) * 2.0);
    }
    Dataset::from_effects(Measure::RR, &yi, &vi)
}

fn bench(c: &mut Criterion) {
    let data = studies(1000);
    let options = ForestOptions::default();
    let Ok(pooled) = pool(&data, &FitOptions::default()) else {
        return;
    };
    let fitted = [Fitted {
        model: Model::Random,
        pooled: &pooled,
        subgroups: None,
    }];
    c.bench_function("forest 1000 studies: svg", |b| {
        b.iter(|| forest(&data, &fitted, &options).map(|p| p.svg.len()))
    });
    let svg = forest(&data, &fitted, &options)
        .map(|p| p.svg)
        .unwrap_or_default();
    let mut group = c.benchmark_group("forest 1000 studies");
    group.sample_size(10);
    group.bench_function("png at 96 dpi", |b| {
        b.iter(|| render(&svg, ImageFormat::Png, 96.0).map(|r| r.bytes.len()))
    });
    group.bench_function("pdf", |b| {
        b.iter(|| render(&svg, ImageFormat::Pdf, 96.0).map(|r| r.bytes.len()))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
