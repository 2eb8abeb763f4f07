//! Subgroup blocks of forest plots against metafor.
//!
//! Expected values: tests/fixtures/subgroups.json, written by
//! tests/fixtures/generate_subgroups.R with metafor 3.8.1 / metadat 1.2.0:
//! `rma(yi, vi, subset = level, method, test)` per level, and the test for
//! subgroup differences `rma(est, sei = se, method = "EE")$QE`.
//! Tolerance: relative 1e-6, as for pooling.

use crate::util::prec::close;
use serde::Deserialize;
use tau_core::data::dataset;
use tau_core::model::Control;
use tau_core::{FitOptions, Method, Test};
use tau_plot::groups::{difference_test, pool_subgroups, split};

#[derive(Deserialize)]
struct Fixtures {
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    file: String,
    moderator: String,
    method: String,
    test: String,
    levels: Vec<Level>,
    between: Between,
}

#[derive(Deserialize)]
struct Level {
    level: String,
    k: usize,
    estimate: f64,
    se: f64,
    ci_lower: f64,
    ci_upper: f64,
    tau2: f64,
    #[serde(rename = "I2")]
    i2: f64,
    #[serde(rename = "Q")]
    q: f64,
}

#[derive(Deserialize)]
struct Between {
    #[serde(rename = "Q")]
    q: f64,
    df: usize,
    p: f64,
}

#[test]
fn subgroup_blocks_match_metafor() {
    let root = env!("CARGO_MANIFEST_DIR");
    let text = std::fs::read_to_string(format!("{root}/tests/fixtures/subgroups.json")).unwrap();
    let fixtures: Fixtures = serde_json::from_str(&text).unwrap();
    assert_eq!(fixtures.cases.len(), 10);
    let mut failures = Vec::new();
    for case in &fixtures.cases {
        let data = dataset::load_json(
            &std::fs::read_to_string(format!("{root}/{}", case.file)).unwrap(),
            None,
        )
        .unwrap();
        let options = FitOptions {
            method: *Method::ALL
                .iter()
                .find(|m| m.name() == case.method)
                .unwrap(),
            test: if case.test == "knha" {
                Test::Knha
            } else {
                Test::Z
            },
            level: 95.0,
            control: Control::default(),
        };
        let groups = split(&data, &case.moderator).unwrap();
        let fits = pool_subgroups(&data, &groups, &options).unwrap();
        let name = format!(
            "{} by {} ({}, {})",
            case.file, case.moderator, case.method, case.test
        );
        assert_eq!(groups.len(), case.levels.len(), "{name}");
        for ((group, fit), expected) in groups.iter().zip(&fits).zip(&case.levels) {
            assert_eq!(group.level, expected.level, "{name}");
            assert_eq!(group.studies.len(), expected.k, "{name}");
            let fit = fit.as_ref().unwrap();
            for (what, actual, wanted) in [
                ("estimate", fit.estimate, expected.estimate),
                ("se", fit.se, expected.se),
                ("ci_lower", fit.ci_lower, expected.ci_lower),
                ("ci_upper", fit.ci_upper, expected.ci_upper),
                ("tau2", fit.tau2, expected.tau2),
                ("I2", fit.i2, expected.i2),
                ("Q", fit.q, expected.q),
            ] {
                if !close(actual, wanted) {
                    failures.push(format!(
                        "{name}, level {}: {what} = {actual}, metafor {wanted}",
                        group.level
                    ));
                }
            }
        }
        let test = difference_test(&data, &groups, &fits, &options)
            .unwrap()
            .unwrap();
        assert_eq!(test.df, case.between.df, "{name}");
        for (what, actual, wanted) in [("Q", test.q, case.between.q), ("p", test.p, case.between.p)]
        {
            if !close(actual, wanted) {
                failures.push(format!(
                    "{name}: between-subgroup {what} = {actual}, metafor {wanted}"
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
