//! Numerical edge cases against metafor: k = 1 and 2, equal outcomes, sampling
//! variances spanning 12 orders of magnitude, τ² exactly at its boundary, a
//! zero cell in every study, |yi| near 1e6, and estimators that run out of
//! iterations on purpose.
//!
//! Expected values: tests/fixtures/edge.json, written by
//! tests/fixtures/generate_edge.R with metafor 3.8.1 / R 4.2.2:
//! `rma(yi, vi, method, test)` with its defaults, `confint()`, `predict()`.
//!
//! Tolerance: relative 1e-6 for scale quantities (SE, τ², Q, I², ...). Location
//! quantities (estimate, CI and PI limits) are compared to 1e-6 of metafor's
//! SE instead: near |yi| = 1e6 a relative 1e-6 would allow an error of 1,
//! several standard errors.

use crate::util::prec::RELATIVE;
use serde::Deserialize;
use serde_json::Value;
use tau_core::data::dataset;
use tau_core::model::{Control, FitError, Tau2Error};
use tau_core::{Dataset, FitOptions, Method, Test, pool};

#[derive(Deserialize)]
struct Fixture {
    metafor_version: String,
    cases: Vec<Case>,
    nonconvergence: Nonconvergence,
}

#[derive(Deserialize)]
struct Case {
    id: String,
    measure: String,
    studies: Value,
    escalc: Escalc,
    fits: Vec<Value>,
}

#[derive(Deserialize)]
struct Escalc {
    yi: Vec<f64>,
    vi: Vec<f64>,
}

#[derive(Deserialize)]
struct Nonconvergence {
    measure: String,
    studies: Value,
    runs: Vec<Value>,
    fallbacks: Vec<Value>,
}

fn fixture() -> Fixture {
    crate::util::fixture("edge.json")
}

fn load(measure: &str, studies: &Value) -> Dataset {
    let file = serde_json::json!({"measure": measure, "studies": studies});
    dataset::load_json(&file.to_string(), None).expect("valid study file")
}

fn options(method: Method, test: Test, max_iter: usize, fallback: Option<Method>) -> FitOptions {
    FitOptions {
        method,
        test,
        level: 95.0,
        control: Control {
            max_iter,
            fallback,
            ..Control::default()
        },
    }
}

fn method_of(fit: &Value) -> Method {
    Method::parse(fit["method"].as_str().expect("method")).expect("known method")
}

fn test_of(fit: &Value) -> Test {
    if fit["test"] == "knha" {
        Test::Knha
    } else {
        Test::Z
    }
}

fn num(v: &Value, key: &str) -> f64 {
    v[key].as_f64().unwrap_or(f64::NAN)
}

/// Compares a pooled result with metafor's, collecting mismatches.
fn compare(case: &str, r: &tau_core::PoolResult, f: &Value, bad: &mut Vec<String>) {
    let se = num(f, "se");
    let mut check = |what: &str, actual: f64, expected: f64, tolerance: f64| {
        let ok = (expected.is_nan() && actual.is_nan()) || (actual - expected).abs() <= tolerance;
        if !ok {
            bad.push(format!(
                "{case}: {what} = {actual:.15e}, metafor {expected:.15e}"
            ));
        }
    };
    // 1e-6 of a standard error, plus rounding (the SE is 0 when every yi is equal).
    let location = |e: f64| RELATIVE * se + 1e-14 * e.abs();
    for (key, actual) in [
        ("estimate", r.estimate.value),
        ("ci_lower", r.estimate.ci_lower),
        ("ci_upper", r.estimate.ci_upper),
        ("pi_lower", r.pi_lower),
        ("pi_upper", r.pi_upper),
    ] {
        let expected = num(f, key);
        check(key, actual, expected, location(expected));
    }
    for (key, actual) in [
        ("se", r.estimate.se),
        ("tau2", r.tau2),
        ("Q", r.q),
        ("Q_p", r.q_p),
        ("I2", r.i2),
        ("H2", r.h2),
        ("p", r.estimate.p),
    ] {
        let expected = num(f, key);
        check(key, actual, expected, RELATIVE * expected.abs().max(1e-6));
    }
    // Near |yi| = 1e6 metafor's Q-profile CI loses digits to cancellation (it
    // forms Y'PY from the raw outcomes); the fixture then also holds the CI of
    // the shifted outcomes, which is the same interval computed accurately.
    let ci_key = if f.get("tau2_ci_shifted").is_some() {
        "tau2_ci_shifted"
    } else {
        "tau2_ci"
    };
    if let (Some(ci), Some(expected)) = (r.tau2_ci, f[ci_key].as_array()) {
        for (i, e) in expected.iter().enumerate() {
            let e = e.as_f64().unwrap_or(f64::NAN);
            check(
                &format!("tau2_ci[{i}]"),
                ci[i],
                e,
                RELATIVE * e.abs().max(1e-6),
            );
        }
    }
}

#[test]
fn edge_cases_match_metafor() {
    let fx = fixture();
    assert_eq!(fx.metafor_version, "3.8.1");
    let mut bad = Vec::new();
    let mut compared = 0;
    // vi_30_orders has its own test below.
    for case in fx
        .cases
        .iter()
        .filter(|c| c.id != "k1" && c.id != "vi_30_orders")
    {
        let data = load(&case.measure, &case.studies);
        for (i, s) in data.studies.iter().enumerate() {
            for (what, actual, expected) in [
                ("yi", s.yi, case.escalc.yi[i]),
                ("vi", s.vi, case.escalc.vi[i]),
            ] {
                if (actual - expected).abs() > RELATIVE * expected.abs() {
                    bad.push(format!(
                        "{} study {i}: {what} = {actual}, escalc {expected}",
                        case.id
                    ));
                }
            }
        }
        for f in &case.fits {
            let (method, test) = (method_of(f), test_of(f));
            let name = format!("{} {} {}", case.id, method.name(), test.name());
            assert!(f.get("error").is_none(), "{name}: metafor failed");
            let r = pool(&data, &options(method, test, 100, None))
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            compare(&name, &r, f, &mut bad);
            compared += 1;
        }
    }
    assert!(compared >= 9 * 2 * 9, "only {compared} fits compared");
    assert!(fx.cases.iter().any(|c| c.id == "vi_30_orders"));
    assert!(
        bad.is_empty(),
        "{} mismatches:\n{}",
        bad.len(),
        bad.join("\n")
    );
}

/// metafor fits a single study with τ² = 0 (its estimate and CI are the
/// study's own). tau refuses instead, saying what a single study can and
/// cannot give: a deliberate difference.
#[test]
fn a_single_study_is_a_clear_error() {
    let fx = fixture();
    let case = fx.cases.iter().find(|c| c.id == "k1").expect("k1 case");
    let data = load(&case.measure, &case.studies);
    for method in Method::ALL {
        let err = pool(&data, &options(method, Test::Z, 100, None)).expect_err("k = 1");
        assert!(
            matches!(err, FitError::TooFewStudies { k: 1, p: 1 }),
            "{err:?}"
        );
        let message = err.to_string();
        for needed in [
            "1 study cannot be pooled",
            "at least 2",
            "tau^2",
            "its own estimate",
        ] {
            assert!(message.contains(needed), "{message}");
        }
    }
}

/// Each case also carries the warning a reader needs.
#[test]
fn edge_cases_carry_their_warnings() {
    let fx = fixture();
    let warnings_of = |id: &str, method: Method, test: Test| {
        let case = fx.cases.iter().find(|c| c.id == id).expect("case");
        let data = load(&case.measure, &case.studies);
        pool(&data, &options(method, test, 100, None))
            .expect("fits")
            .warnings
    };
    let has = |warnings: &[tau_core::Warning], text: &str| {
        warnings.iter().any(|w| w.to_string().contains(text))
    };

    let w = warnings_of("vi_12_orders", Method::REML, Test::Z);
    assert!(has(&w, "numerically unstable"), "{w:?}");
    let w = warnings_of("tau2_boundary", Method::DL, Test::Z);
    assert!(has(&w, "on the boundary"), "{w:?}");
    let w = warnings_of("all_equal", Method::REML, Test::Z);
    assert!(has(&w, "empty set"), "{w:?}");
    let w = warnings_of("zero_cells_OR", Method::DL, Test::Z);
    assert!(has(&w, "1/2 added to every cell of 5 tables"), "{w:?}");
    assert!(has(&w, "truncated at 0"), "{w:?}");
    let w = warnings_of("k2", Method::EE, Test::Knha);
    assert!(has(&w, "Knapp-Hartung"), "{w:?}");
}

/// Fisher scoring (REML, ML, EB) with too few iterations fails in metafor and
/// in tau at the same limits. For PM, metafor's uniroot() only warns and
/// returns the unfinished root; tau makes that an error too (a deliberate
/// difference) and agrees on the limits at which the search finishes.
#[test]
fn running_out_of_iterations_is_an_error_at_metafor_limits() {
    let fx = fixture();
    let nc = &fx.nonconvergence;
    let data = load(&nc.measure, &nc.studies);
    for run in &nc.runs {
        let method = method_of(run);
        let max_iter = run["max_iter"].as_u64().expect("max_iter") as usize;
        let name = format!("{} max_iter {max_iter}", method.name());
        let metafor_failed = run.get("error").is_some()
            || run["warnings"].as_array().is_some_and(|w| {
                w.iter()
                    .any(|w| w.as_str().is_some_and(|w| w.contains("NOT_ converged")))
            });
        match pool(&data, &options(method, Test::Z, max_iter, None)) {
            Ok(r) => {
                assert!(!metafor_failed, "{name}: tau converged, metafor did not");
                let e = num(run, "tau2");
                assert!(
                    (r.tau2 - e).abs() <= RELATIVE * e,
                    "{name}: tau2 {} vs {e}",
                    r.tau2
                );
                assert!(r.settings.convergence.converged);
                assert!(r.settings.convergence.iterations <= max_iter, "{name}");
            }
            Err(err) => {
                assert!(
                    metafor_failed,
                    "{name}: tau failed ({err}), metafor converged"
                );
                let FitError::Tau2(Tau2Error::NotConverged {
                    method: m,
                    max_iter: limit,
                    last_change,
                }) = err
                else {
                    panic!("{name}: unexpected error {err:?}");
                };
                assert_eq!((m, limit), (method.name(), max_iter));
                assert!(
                    last_change.is_finite() && last_change > 0.0,
                    "{name}: {last_change}"
                );
                let message = err.to_string();
                for needed in [
                    method.name(),
                    "did not converge",
                    // The core names settings by their fields; the CLI writes
                    // them as flags (tests/bad_input.rs).
                    "`max_iter`",
                    "`fallback`",
                ] {
                    assert!(message.contains(needed), "{name}: {message}");
                }
            }
        }
    }
}

/// `--fallback DL` matches metafor's `method = c("REML", "DL")`, and the
/// result says the fallback was used.
#[test]
fn fallback_matches_metafor_method_vector() {
    let fx = fixture();
    let nc = &fx.nonconvergence;
    let data = load(&nc.measure, &nc.studies);
    for f in &nc.fallbacks {
        let method = method_of(f);
        assert_eq!(f["method_used"], "DL");
        let r = pool(&data, &options(method, Test::Z, 1, Some(Method::DL))).expect("fallback fits");
        let mut bad = Vec::new();
        compare(&format!("{} -> DL", method.name()), &r, f, &mut bad);
        assert!(bad.is_empty(), "{}", bad.join("\n"));
        assert_eq!(r.settings.method, Method::DL);
        let fallback = r
            .settings
            .convergence
            .fallback_from
            .expect("fallback recorded");
        assert_eq!(fallback.method, method);
        assert!(
            r.warnings
                .iter()
                .any(|w| w.to_string().contains("fallback DL")),
            "{:?}",
            r.warnings
        );
    }
    // A fallback that fails too names both failures.
    let err =
        pool(&data, &options(Method::REML, Test::Z, 1, Some(Method::ML))).expect_err("both fail");
    let message = err.to_string();
    assert!(
        message.contains("REML") && message.contains("and the fallback ML did not converge"),
        "{message}"
    );
}

/// Issue 18: sampling variances 1e-15, 1e-5, 1e5, 1e15. Fisher scoring from
/// the Hedges start (0) takes a first step far below the threshold and
/// stopped there (REML: τ² = 1.4e-6 instead of 0.004995, an SE 45 times too
/// small): tr PP had cancelled to rounding noise. tau now sums the traces
/// term by term when they cancel, checks the result against the DL estimate
/// and scores again from there when DL is better. REML then agrees with metafor; metafor's own ML and EB stop
/// short (ML at the local optimum 0, EB at 1.3e-12), so the fixture holds
/// their exact optimum (`exact_tau2`, found in R from the explicit P matrix)
/// and the fit metafor gives with τ² fixed there.
///
/// Only τ², the estimate, its SE and H² are compared: metafor's closed forms
/// at τ² = 0 (tr P, hence the typical variance, DL, I², H²) lose about 6 digits
/// to cancellation on these weights, as the fixture's pairwise-summed
/// `typical_variance_exact` shows; H² is compared with that instead.
#[test]
fn fisher_scoring_does_not_stop_short_on_extreme_variances() {
    let fx = fixture();
    let case = fx
        .cases
        .iter()
        .find(|c| c.id == "vi_30_orders")
        .expect("vi_30_orders case");
    let raw: Value = crate::util::fixture("edge.json");
    let raw_case = raw["cases"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["id"] == "vi_30_orders"))
        .expect("case");
    let typical = raw_case["typical_variance_exact"].as_f64().expect("s2");
    let data = load(&case.measure, &case.studies);
    for f in case
        .fits
        .iter()
        .filter(|f| matches!(method_of(f), Method::REML | Method::ML | Method::EB))
    {
        let (method, test) = (method_of(f), test_of(f));
        let name = format!("{} {}", method.name(), test.name());
        let r = pool(&data, &options(method, test, 100, None)).expect("fits");
        if method == Method::REML {
            assert!(f.get("tau2_from").is_none(), "metafor's own REML");
        } else {
            assert_eq!(f["tau2_from"], "exact_tau2", "{name}");
        }
        // EB's Fisher scoring stops once τ² changes by less than metafor's
        // absolute threshold 1e-5; on τ² = 0.0017 that leaves about 2e-6 of
        // relative error against the exact root.
        let tau2_tolerance = if method == Method::EB { 1e-5 } else { RELATIVE };
        for (what, actual, expected, tolerance) in [
            ("tau2", r.tau2, num(f, "tau2"), tau2_tolerance),
            ("estimate", r.estimate.value, num(f, "estimate"), RELATIVE),
            ("se", r.estimate.se, num(f, "se"), tau2_tolerance),
            ("H2", r.h2, r.tau2 / typical + 1.0, RELATIVE),
        ] {
            assert!(
                (actual - expected).abs() <= tolerance * expected.abs(),
                "{name}: {what} = {actual}, expected {expected}"
            );
        }
        assert!(r.settings.convergence.converged, "{name}");
        // REML's first step is right once tr PP is summed without
        // cancellation; ML and EB need the restart from DL.
        assert_eq!(
            r.settings.convergence.restarted_from.is_some(),
            method != Method::REML,
            "{name}: the restart is recorded"
        );
    }
}
