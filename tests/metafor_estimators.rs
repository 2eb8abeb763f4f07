//! tau against metafor: the τ² estimators DLIT, SJIT, HSk, PMM, GENQ and
//! GENQM, the standard error of τ̂² of every estimator (metafor `se.tau2`),
//! pooled and in meta-regressions, through the binary, with the CI of τ²
//! that metafor's `confint()` gives (Q-profile; generalised Q for GENQ and
//! GENQM); and the measure PETO.
//!
//! Expected values: tests/fixtures/estimators.json, written by
//! tests/fixtures/generate_estimators.R with metafor 3.8.1 / metadat 1.2.0
//! (GENQM through CompQuadForm 1.4.3) on dat.bcg (moderators ablat and
//! alloc; weights: total sample size, for GENQ and GENQM) and
//! dat.normand1999 (weights n1i + n2i); DLIT from
//! tests/fixtures/estimators_current.json, the same script run on metafor
//! 5.1-12, because metafor 4.6-0 changed DLIT (see docs/src/estimators.md).
//! Each case records its metafor call. Tolerance: relative 1e-6.

use serde_json::Value;

use crate::util::prec::close_to;
use crate::util::temp::TempDir;
use crate::util::{fixture, tau};

/// The fixture's data sets as study files in `dir`, with and without the
/// records' `weight`: (id, weighted path, unweighted path).
fn study_files(fx: &Value, dir: &TempDir) -> Vec<(String, String, String)> {
    fx["datasets"]
        .as_array()
        .expect("datasets")
        .iter()
        .map(|ds| {
            let id = ds["id"].as_str().expect("id").to_owned();
            let weighted = dir.path(&format!("{id}.json"));
            let file = serde_json::json!({"measure": ds["measure"], "studies": ds["studies"]});
            std::fs::write(&weighted, file.to_string()).expect("writes");
            let mut plain = file.clone();
            for study in plain["studies"].as_array_mut().expect("studies") {
                study.as_object_mut().expect("record").remove("weight");
            }
            let unweighted = dir.path(&format!("{id}_unweighted.json"));
            std::fs::write(&unweighted, plain.to_string()).expect("writes");
            (id, weighted, unweighted)
        })
        .collect()
}

fn run_json(args: &[&str]) -> Value {
    let output = tau().args(args).output().expect("runs");
    assert!(
        output.status.success(),
        "tau {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("JSON report")
}

/// Collects mismatches so that one run reports all of them.
#[derive(Default)]
struct Mismatches(Vec<String>);

impl Mismatches {
    fn check(&mut self, case: &str, what: &str, actual: &Value, expected: &Value, tol: f64) {
        match (actual.as_f64(), expected.as_f64()) {
            (Some(a), Some(e)) if close_to(a, e, tol) => {}
            (None, None) => {}
            (a, e) => self
                .0
                .push(format!("{case}: {what} = {a:?}, metafor {e:?}")),
        }
    }
}

/// Runs every case of `fx` and compares it with metafor.
fn check_cases(fx: &Value, name: &str) {
    let dir = TempDir::new(name);
    let files = study_files(fx, &dir);
    let mut bad = Mismatches::default();
    let cases = fx["cases"].as_array().expect("cases");
    for case in cases {
        let dataset = case["dataset"].as_str().expect("dataset");
        let name = format!("{dataset} {}", case["call"].as_str().expect("call"));
        let (_, weighted, unweighted) = files
            .iter()
            .find(|(id, ..)| id == dataset)
            .expect("dataset");
        let file = if case["weighted"] == true {
            weighted
        } else {
            unweighted
        };
        let mods: Vec<&str> = case["mods"]
            .as_array()
            .expect("mods")
            .iter()
            .map(|m| m.as_str().expect("name"))
            .collect();
        let mods = mods.join(",");
        let method = case["method"].as_str().expect("method");
        let mut args = vec![if mods.is_empty() { "pool" } else { "regress" }, file];
        if !mods.is_empty() {
            args.extend(["--mods", &mods]);
        }
        args.extend(["--method", method, "--format", "json"]);
        let r = run_json(&args);
        assert_eq!(r["settings"]["method"], method, "{name}");
        let tol = 1e-6;
        let coefficients: Vec<&Value> = if mods.is_empty() {
            vec![&r]
        } else {
            r["coefficients"]
                .as_array()
                .expect("coefficients")
                .iter()
                .collect()
        };
        let expected = case["coefficients"].as_array().expect("coefficients");
        assert_eq!(coefficients.len(), expected.len(), "{name}");
        for (j, (actual, expected)) in coefficients.iter().zip(expected).enumerate() {
            for key in ["estimate", "se"] {
                bad.check(
                    &name,
                    &format!("{key}[{j}]"),
                    &actual[key],
                    &expected[key],
                    tol,
                );
            }
        }
        bad.check(&name, "QE", &r["QE"], &case["QE"], tol);
        for key in ["tau2", "tau2_se", "I2", "H2"] {
            bad.check(&name, key, &r[key], &case[key], tol);
        }
        // The Q-profile CI, or for GENQ and GENQM the generalised Q CI.
        for (key, kind) in [("tau2_ci", Value::Null), ("tau2_ci_genq", "GENQ".into())] {
            if let Some(expected) = case.get(key) {
                assert_eq!(r["tau2_ci_type"], kind, "{name}");
                for side in 0..2 {
                    let what = format!("{key}[{side}]");
                    bad.check(&name, &what, &r["tau2_ci"][side], &expected[side], tol);
                }
            }
        }
    }
    assert!(
        bad.0.is_empty(),
        "{} mismatches in {} cases:\n{}",
        bad.0.len(),
        cases.len(),
        bad.0.join("\n")
    );
}

#[test]
fn estimators_and_their_standard_errors_match_metafor() {
    check_cases(&fixture("estimators.json"), "estimators");
}

/// DLIT as metafor computes it since 4.6-0 (metafor 5.1-12).
#[test]
fn iterated_dersimonian_laird_matches_current_metafor() {
    check_cases(&fixture("estimators_current.json"), "estimators_current");
}

/// escalc("PETO", ...) per study, and rma(yi, vi) on them (metafor 3.8.1).
#[test]
fn peto_log_odds_ratios_match_metafor() {
    let fx: Value = fixture("estimators.json");
    let dir = TempDir::new("peto");
    for set in fx["peto"].as_array().expect("peto") {
        let id = set["dataset"].as_str().expect("dataset");
        let path = dir.path(&format!("{id}.json"));
        let file = serde_json::json!({"measure": "PETO", "studies": set["studies"]});
        std::fs::write(&path, file.to_string()).expect("writes");
        let r = run_json(&["pool", &path, "--format", "json"]);
        let studies = r["studies"].as_array().expect("studies");
        let (yi, vi) = (
            set["yi"].as_array().expect("yi"),
            set["vi"].as_array().expect("vi"),
        );
        assert_eq!(studies.len(), yi.len(), "{id}");
        for (i, study) in studies.iter().enumerate() {
            for (key, expected) in [("yi", &yi[i]), ("vi", &vi[i])] {
                let (a, e) = (
                    study[key].as_f64().expect("number"),
                    expected.as_f64().expect("number"),
                );
                assert!(
                    close_to(a, e, 1e-9),
                    "{id} study {i}: {key} = {a}, metafor {e}"
                );
            }
        }
        for key in ["estimate", "se", "tau2"] {
            let (a, e) = (
                r[key].as_f64().expect("number"),
                set["pooled"][key].as_f64().expect("number"),
            );
            assert!(close_to(a, e, 1e-6), "{id}: {key} = {a}, metafor {e}");
        }
        assert_eq!(r["transformed"]["scale"], "OR", "{id}");
    }
}

/// GENQ and GENQM estimate with the records' weights: without them they are
/// refused as bad input (exit 2), naming the field and a remedy.
#[test]
fn generalised_q_without_weights_is_refused() {
    for method in ["GENQ", "GENQM"] {
        let output = tau()
            .args(["pool", "studies/bcg.json", "--method", method])
            .output()
            .expect("runs");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{method}: {stderr}");
        assert!(
            stderr.contains(&format!(
                "studies/bcg.json: the {method} estimator weights the studies by their weight field, and these studies have none; give every study a weight"
            )),
            "{stderr}"
        );
    }
}
