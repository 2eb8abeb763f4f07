//! tau against metafor: meta-regressions, subgroup analyses and permutation tests.
//!
//! Expected values: tests/fixtures/moderators.json, written by
//! tests/fixtures/generate_moderators.R with metafor 3.8.1 / metadat 1.2.0 /
//! R 4.2.2 on dat.bcg, dat.mcdaniel1994 and dat.bangertdrowns2004 (each case
//! records its metafor call or recipe).
//!
//! Tolerance: relative 1e-6 for every fitted quantity, as for pooling.
//! Permutation p-values: exact tests are deterministic and compared at 1e-9;
//! random ones are Monte Carlo estimates on both sides and are compared within
//! 4 Monte Carlo standard errors (see `permutation_p_values_match_permutest`).

use crate::util::prec::RELATIVE;
use serde_json::Value;
use tau_core::data::dataset;
use tau_core::model::{Control, FitOptions};
use tau_core::regression::permutation::PermutationSpec;
use tau_core::regression::{DesignSpec, RegressionOptions, regress};
use tau_core::subgroup::{SubgroupOptions, Tau2Mode, subgroup};
use tau_core::{Dataset, Method, Test};

fn fixtures() -> Value {
    crate::util::fixture("moderators.json")
}

fn load(fx: &Value, id: &str) -> Dataset {
    let ds = fx["datasets"]
        .as_array()
        .expect("datasets")
        .iter()
        .find(|d| d["id"] == id)
        .expect("dataset");
    let file = serde_json::json!({"measure": ds["measure"], "studies": ds["studies"]});
    dataset::load_json(&file.to_string(), None).expect("loads")
}

fn options(case: &Value) -> FitOptions {
    FitOptions {
        method: Method::parse(case["method"].as_str().expect("method")).expect("known"),
        test: if case["test"] == "knha" {
            Test::Knha
        } else {
            Test::Z
        },
        level: case["level"].as_f64().unwrap_or(95.0),
        control: Control::default(),
    }
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|s| s.as_str().expect("string").to_owned())
        .collect()
}

/// Collects mismatches so that one run reports all of them.
#[derive(Default)]
struct Mismatches(Vec<String>);

impl Mismatches {
    /// Compares at relative 1e-6 (absolute below 1e-6); `null` expects a missing or non-finite value.
    fn check(&mut self, case: &str, what: &str, actual: Option<f64>, expected: &Value) {
        match (actual, expected.as_f64()) {
            (Some(a), Some(e)) if (a - e).abs() <= RELATIVE * e.abs().max(1e-6) => {}
            (None, None) => {}
            (Some(a), None) if !a.is_finite() => {}
            (a, e) => self
                .0
                .push(format!("{case}: {what} = {a:?}, metafor {e:?}")),
        }
    }

    fn assert_none(self, cases: usize) {
        assert!(
            self.0.is_empty(),
            "{} mismatches in {cases} cases:\n{}",
            self.0.len(),
            self.0.join("\n")
        );
    }
}

#[test]
fn regressions_match_rma_with_mods() {
    let fx = fixtures();
    assert_eq!(fx["metafor_version"], "3.8.1");
    let mut bad = Mismatches::default();
    let cases = fx["regressions"].as_array().expect("regressions");
    assert!(cases.len() >= 60);
    for case in cases {
        let label = case["call"].as_str().expect("call").to_owned();
        let data = load(&fx, case["dataset"].as_str().expect("dataset"));
        let references = case["references"]
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| (k.clone(), v.as_str().expect("level").to_owned()))
                    .collect()
            })
            .unwrap_or_default();
        let spec = RegressionOptions {
            fit: options(case),
            design: DesignSpec {
                moderators: strings(&case["mods"]),
                references,
                intercept: case["intercept"].as_bool().expect("intercept"),
            },
            permutations: None,
        };
        let r = regress(&data, &spec).unwrap_or_else(|e| panic!("{label}: {e}"));
        assert_eq!(r.k as u64, case["k"].as_u64().expect("k"), "{label}");
        let expected = case["coefficients"].as_array().expect("coefficients");
        assert_eq!(r.coefficients.len(), expected.len(), "{label}");
        for (c, e) in r.coefficients.iter().zip(expected) {
            let what = |field: &str| format!("{} {field} ({})", c.name, e["name"]);
            bad.check(
                &label,
                &what("estimate"),
                Some(c.estimate.value),
                &e["estimate"],
            );
            bad.check(&label, &what("se"), Some(c.estimate.se), &e["se"]);
            bad.check(
                &label,
                &what("statistic"),
                Some(c.estimate.statistic),
                &e["statistic"],
            );
            bad.check(&label, &what("p"), Some(c.estimate.p), &e["p"]);
            bad.check(
                &label,
                &what("ci_lower"),
                Some(c.estimate.ci_lower),
                &e["ci_lower"],
            );
            bad.check(
                &label,
                &what("ci_upper"),
                Some(c.estimate.ci_upper),
                &e["ci_upper"],
            );
        }
        bad.check(&label, "QM", Some(r.qm), &case["QM"]);
        bad.check(&label, "QM_df", Some(r.qm_df as f64), &case["QM_df"]);
        bad.check(&label, "QM_df2", r.qm_df2, &case["QM_df2"]);
        bad.check(&label, "QM_p", Some(r.qm_p), &case["QM_p"]);
        bad.check(&label, "QE", Some(r.qe), &case["QE"]);
        bad.check(&label, "QE_df", Some(r.qe_df as f64), &case["QE_df"]);
        bad.check(&label, "QE_p", Some(r.qe_p), &case["QE_p"]);
        bad.check(&label, "tau2", Some(r.tau2), &case["tau2"]);
        bad.check(&label, "I2", Some(r.i2), &case["I2"]);
        bad.check(&label, "H2", Some(r.h2), &case["H2"]);
        bad.check(&label, "R2", r.r2, &case["R2"]);
    }
    bad.assert_none(cases.len());
}

#[test]
fn subgroups_match_metafor() {
    let fx = fixtures();
    let mut bad = Mismatches::default();
    let cases = fx["subgroups"].as_array().expect("subgroups");
    assert!(cases.len() >= 40);
    for case in cases {
        let by = case["by"].as_str().expect("by");
        let tau2 = if case["tau2"] == "common" {
            Tau2Mode::Common
        } else {
            Tau2Mode::Separate
        };
        let label = format!(
            "{} by {by}, {} tau2, {} {} {}",
            case["dataset"], case["tau2"], case["method"], case["test"], case["level"]
        );
        let data = load(&fx, case["dataset"].as_str().expect("dataset"));
        let spec = SubgroupOptions {
            fit: options(case),
            by: by.to_owned(),
            tau2,
            levels: None,
        };
        let r = subgroup(&data, &spec).unwrap_or_else(|e| panic!("{label}: {e}"));
        assert_eq!(r.k as u64, case["k"].as_u64().expect("k"), "{label}");
        let expected = case["groups"].as_array().expect("groups");
        let levels: Vec<&str> = r.groups.iter().map(|g| g.level.as_str()).collect();
        let expected_levels: Vec<&str> = expected
            .iter()
            .map(|g| g["level"].as_str().expect("level"))
            .collect();
        assert_eq!(levels, expected_levels, "{label}");
        for (g, e) in r.groups.iter().zip(expected) {
            let what = |field: &str| format!("level {} {field}", g.level);
            assert_eq!(g.k as u64, e["k"].as_u64().expect("k"), "{label}");
            bad.check(
                &label,
                &what("estimate"),
                Some(g.estimate.value),
                &e["estimate"],
            );
            bad.check(&label, &what("se"), Some(g.estimate.se), &e["se"]);
            bad.check(
                &label,
                &what("statistic"),
                Some(g.estimate.statistic),
                &e["statistic"],
            );
            bad.check(&label, &what("p"), Some(g.estimate.p), &e["p"]);
            bad.check(
                &label,
                &what("ci_lower"),
                Some(g.estimate.ci_lower),
                &e["ci_lower"],
            );
            bad.check(
                &label,
                &what("ci_upper"),
                Some(g.estimate.ci_upper),
                &e["ci_upper"],
            );
            bad.check(&label, &what("tau2"), g.tau2, &e["tau2"]);
            bad.check(&label, &what("Q"), Some(g.q), &e["Q"]);
            bad.check(&label, &what("Q_df"), Some(g.q_df as f64), &e["Q_df"]);
            bad.check(&label, &what("Q_p"), Some(g.q_p), &e["Q_p"]);
            bad.check(&label, &what("I2"), g.i2, &e["I2"]);
        }
        bad.check(&label, "Q_between", r.q_between, &case["Q_between"]);
        bad.check(
            &label,
            "Q_between_df",
            Some(r.q_between_df as f64),
            &case["Q_between_df"],
        );
        bad.check(
            &label,
            "Q_between_df2",
            r.q_between_df2,
            &case["Q_between_df2"],
        );
        bad.check(&label, "Q_between_p", r.q_between_p, &case["Q_between_p"]);
        bad.check(&label, "tau2_common", r.tau2_common, &case["tau2_common"]);
    }
    bad.assert_none(cases.len());
}

/// Permutation iterations on the Rust side for random (non-exact) tests: enough
/// for a meaningful comparison, few enough to keep the suite fast.
const RUST_ITERATIONS: usize = 1000;

/// Exact tests must agree to rounding. Random tests estimate the same p on
/// both sides, metafor with n₁ = 5000 draws and tau with n₂ = 1000 (other
/// seeds, other generator): the difference has standard error
/// √(p(1 − p)(1/n₁ + 1/n₂)), and we allow 4 of them (plus 1/n₂ for p near 0 or
/// 1, where the binomial approximation fails). A real discrepancy in what is
/// permuted or how p is counted shows up far beyond that.
#[test]
fn permutation_p_values_match_permutest() {
    let fx = fixtures();
    let cases = fx["permutations"].as_array().expect("permutations");
    let mut failures = Vec::new();
    for (i, case) in cases.iter().enumerate() {
        let mut data = load(&fx, case["dataset"].as_str().expect("dataset"));
        if let Some(rows) = case["rows"].as_array() {
            let keep: Vec<usize> = rows
                .iter()
                .map(|r| r.as_u64().expect("row") as usize - 1)
                .collect();
            data.studies = keep.iter().map(|&r| data.studies[r].clone()).collect();
        }
        let exact = case["exact"].as_bool().expect("exact");
        let metafor_iterations = case["iterations"].as_u64().expect("iterations") as usize;
        let iterations = if exact { 5000 } else { RUST_ITERATIONS };
        let spec = RegressionOptions {
            fit: options(case),
            design: DesignSpec {
                moderators: strings(&case["mods"]),
                references: Vec::new(),
                intercept: true,
            },
            permutations: Some(PermutationSpec {
                iterations,
                seed: 20_240_000 + i as u64,
                by: None,
            }),
        };
        let r = regress(&data, &spec).expect("fits");
        let perm = r.permutation.as_ref().expect("permutation result");
        assert_eq!(perm.exact, exact, "case {i}");
        let label = format!("case {i} ({:?} ~ {})", case["dataset"], case["mods"]);
        let mut compare = |what: String, actual: f64, expected: f64| {
            let tolerance = if exact {
                1e-9
            } else {
                let n1 = metafor_iterations as f64;
                let n2 = iterations as f64;
                4.0 * (expected * (1.0 - expected) * (1.0 / n1 + 1.0 / n2)).sqrt() + 1.0 / n2
            };
            if (actual - expected).abs() > tolerance {
                failures.push(format!(
                    "{label} {what}: tau {actual}, metafor {expected} (tolerance {tolerance:.4})"
                ));
            }
        };
        if exact {
            assert_eq!(perm.iterations, metafor_iterations, "{label}");
            assert_eq!(
                perm.failed as u64,
                case["failed"].as_u64().expect("failed"),
                "{label}"
            );
        }
        compare(
            "QM_p".into(),
            perm.qm_p,
            case["QM_p"].as_f64().expect("QM_p"),
        );
        for (j, p) in case["p"].as_array().expect("p").iter().enumerate() {
            compare(format!("p[{j}]"), perm.p[j], p.as_f64().expect("p"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn permutations_do_not_depend_on_thread_count() {
    let fx = fixtures();
    let data = load(&fx, "bcg");
    let spec = RegressionOptions {
        fit: FitOptions::default(),
        design: DesignSpec {
            moderators: vec!["ablat".into(), "alloc".into()],
            references: Vec::new(),
            intercept: true,
        },
        permutations: Some(PermutationSpec {
            iterations: 200,
            seed: 7,
            by: None,
        }),
    };
    let run = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("pool")
            .install(|| regress(&data, &spec).expect("fits").permutation)
    };
    let one = run(1);
    assert_eq!(one, run(3));
    assert_eq!(one.as_ref().map(|p| p.seed), Some(7));
}
