//! Reading studies: effect sizes from raw records (metafor `escalc`), and
//! parsing a 10⁶-record JSON file into a data set.

use std::fmt::Write;
use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use tau_core::effect_size::compute;
use tau_core::effect_size::measure::Measure;
use tau_core::input::Record;

const RECORDS: usize = 10_000;

/// Makes the i-th record of a kind.
type MakeRecord = fn(usize) -> Record;

/// Deterministic, varied study data (no random numbers needed).
fn wobble(i: usize, scale: f64) -> f64 {
    1.0 + scale * ((i as f64) * 0.618_033_988_7).fract()
}

fn continuous(i: usize) -> Record {
    Record {
        study: format!("study {i}"),
        n1: Some((20.0 * wobble(i, 5.0)).round()),
        m1: Some(10.0 * wobble(i + 1, 0.3)),
        sd1: Some(2.0 * wobble(i + 2, 0.5)),
        n2: Some((20.0 * wobble(i + 3, 5.0)).round()),
        m2: Some(10.0 * wobble(i + 4, 0.2)),
        sd2: Some(2.0 * wobble(i + 5, 0.5)),
        ..Record::default()
    }
}

fn binary(i: usize) -> Record {
    let n1 = (50.0 * wobble(i, 4.0)).round();
    let n2 = (50.0 * wobble(i + 1, 4.0)).round();
    Record {
        study: format!("study {i}"),
        events1: Some((n1 * 0.3 * wobble(i + 2, 0.5)).round()),
        n1: Some(n1),
        events2: Some((n2 * 0.2 * wobble(i + 3, 0.5)).round()),
        n2: Some(n2),
        ..Record::default()
    }
}

fn generic(i: usize) -> Record {
    Record {
        study: format!("study {i}"),
        yi: Some(0.3 * wobble(i, 1.0) - 0.5),
        vi: Some(0.01 * wobble(i + 1, 3.0)),
        ..Record::default()
    }
}

fn effect_sizes(c: &mut Criterion) {
    let mut group = c.benchmark_group("effect_sizes_10000");
    group.throughput(Throughput::Elements(RECORDS as u64));
    let cases: [(Measure, MakeRecord); 5] = [
        (Measure::SMD, continuous),
        (Measure::MD, continuous),
        (Measure::OR, binary),
        (Measure::RR, binary),
        (Measure::GEN, generic),
    ];
    for (measure, make) in cases {
        let records: Vec<Record> = (0..RECORDS).map(make).collect();
        group.bench_function(BenchmarkId::from_parameter(measure.name()), |b| {
            b.iter(|| {
                records
                    .iter()
                    .map(|r| compute(black_box(r), measure).map_or(0.0, |es| es.yi))
                    .sum::<f64>()
            })
        });
    }
    group.finish();
}

/// A JSON study file of `k` generic records, as users write them.
fn json_file(k: usize) -> String {
    let mut text = String::with_capacity(k * 48);
    text.push_str("{\"measure\": \"GEN\", \"studies\": [\n");
    for i in 0..k {
        let separator = if i + 1 < k { "," } else { "" };
        let _ = writeln!(
            text,
            "{{\"study\": \"s{i}\", \"yi\": {:.6}, \"vi\": {:.6}}}{separator}",
            0.3 * wobble(i, 1.0) - 0.5,
            0.01 * wobble(i + 1, 3.0)
        );
    }
    text.push_str("]}\n");
    text
}

fn parse_json(c: &mut Criterion) {
    let k = 1_000_000;
    let text = json_file(k);
    let mut group = c.benchmark_group("load_json");
    group.sample_size(10);
    group.throughput(Throughput::Bytes(text.len() as u64));
    group.bench_function("1000000_records", |b| {
        b.iter(|| {
            tau_core::data::dataset::load_json(black_box(&text), None).map(|d| d.studies.len())
        })
    });
    group.finish();
}

criterion_group!(benches, effect_sizes, parse_json);
criterion_main!(benches);
