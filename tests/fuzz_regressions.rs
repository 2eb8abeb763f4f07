//! Inputs that crashed, hung or broke an invariant under fuzzing (see
//! fuzz/README.md), replayed through what the fuzz targets do: the JSON and
//! CSV readers, then pooling with every estimator under z and Knapp-Hartung.
//! Each file in tests/fuzz_regressions/ is named after the target that found
//! it and what went wrong.

use std::path::Path;

use tau_core::data::dataset;
use tau_core::model::Control;
use tau_core::{FitOptions, Method, PoolResult, Test, pool};

/// What every successful fit must satisfy (as fuzz/fuzz_targets/parse_and_fit.rs checks).
fn check(name: &str, r: &PoolResult) {
    assert!(
        r.estimate.value.is_finite(),
        "{name}: estimate {}",
        r.estimate.value
    );
    assert!(
        r.tau2 >= 0.0 && r.tau2.is_finite(),
        "{name}: tau2 {}",
        r.tau2
    );
    // NaN (reported as NA, with a warning) when rounding makes I² undefined.
    assert!(
        r.i2.is_nan() || (0.0..=100.0).contains(&r.i2),
        "{name}: I2 {}",
        r.i2
    );
    assert!(
        !r.i2.is_nan()
            || r.warnings
                .iter()
                .any(|w| w.to_string().contains("I^2 and H^2 cannot be computed")),
        "NaN I2 without a warning"
    );
    assert!(r.q >= 0.0, "{name}: Q {}", r.q);
    assert!(
        r.estimate.ci_lower <= r.estimate.value && r.estimate.value <= r.estimate.ci_upper,
        "{name}: CI [{}, {}] misses {}",
        r.estimate.ci_lower,
        r.estimate.ci_upper,
        r.estimate.value
    );
}

fn replay(name: &str, bytes: &[u8]) -> usize {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return 0;
    };
    let _ = dataset::load_csv(text, None);
    let _ = dataset::load_json(text, None);
    let loaded = if text.trim_start().starts_with(['{', '[']) {
        dataset::load_json(text, None)
    } else {
        dataset::load_csv(text, None)
    };
    let Ok(data) = loaded else {
        return 0;
    };
    let mut fits = 0;
    for method in Method::ALL {
        for test in [Test::Z, Test::Knha] {
            let options = FitOptions {
                method,
                test,
                level: 95.0,
                control: Control::default(),
            };
            if let Ok(result) = pool(&data, &options) {
                check(
                    &format!("{name} {} {}", method.name(), test.name()),
                    &result,
                );
                fits += 1;
            }
        }
    }
    fits
}

#[test]
fn fuzz_findings_stay_fixed() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz_regressions");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/fuzz_regressions")
        .map(|entry| entry.expect("entry").path())
        .collect();
    files.sort();
    assert!(!files.is_empty());
    for path in files {
        let name = path
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        replay(&name, &std::fs::read(&path).expect("readable"));
    }
}
