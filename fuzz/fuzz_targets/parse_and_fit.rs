//! Parse a study file (JSON when it starts with `{` or `[`, CSV otherwise),
//! then pool it with every estimator under z and Knapp-Hartung tests. Every
//! input must give a result or an error, never a panic, and a result must obey
//! the invariants a reader relies on.

#![no_main]

use libfuzzer_sys::fuzz_target;
use tau_core::data::dataset;
use tau_core::model::Control;
use tau_core::{FitOptions, Method, PoolResult, Test, pool};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let loaded = if text.trim_start().starts_with(['{', '[']) {
        dataset::load_json(text, None)
    } else {
        dataset::load_csv(text, None)
    };
    let Ok(data) = loaded else {
        return;
    };
    for method in Method::ALL {
        for test in [Test::Z, Test::Knha] {
            let options = FitOptions {
                method,
                test,
                level: 95.0,
                control: Control::default(),
            };
            if let Ok(result) = pool(&data, &options) {
                check(&result);
            }
        }
    }
});

/// What every successful fit must satisfy.
fn check(r: &PoolResult) {
    assert!(r.estimate.value.is_finite(), "estimate {}", r.estimate.value);
    assert!(r.tau2 >= 0.0 && r.tau2.is_finite(), "tau2 {}", r.tau2);
    // NaN (reported as NA, with a warning) when rounding makes I² undefined.
    assert!(
        r.i2.is_nan() || (0.0..=100.0).contains(&r.i2),
        "I2 {}",
        r.i2
    );
    assert!(
        !r.i2.is_nan()
            || r.warnings
                .iter()
                .any(|w| w.to_string().contains("I^2 and H^2 cannot be computed")),
        "NaN I2 without a warning"
    );
    assert!(r.q >= 0.0, "Q {}", r.q);
    assert!(
        r.estimate.ci_lower <= r.estimate.value && r.estimate.value <= r.estimate.ci_upper,
        "CI [{}, {}] misses {}",
        r.ci_lower,
        r.ci_upper,
        r.estimate.value
    );
}
