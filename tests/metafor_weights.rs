//! tau against metafor: user weights (the record field `weight`, metafor's
//! `weights =`) and unweighted fits (`--unweighted`, `weighted = FALSE`),
//! pooled and in meta-regressions, through the binary.
//!
//! Expected values: tests/fixtures/weights.json, written by
//! tests/fixtures/generate_weights.R with metafor 3.8.1 / metadat 1.2.0 on
//! dat.bcg (weights: total sample size) and dat.bangertdrowns2004 (weights:
//! ni); each case records its metafor call. Tolerance: relative 1e-6.

use serde_json::Value;

use crate::util::prec::close;
use crate::util::temp::TempDir;
use crate::util::{fixture, tau};

/// The fixture's data sets, written as study files in `dir`: (id, path).
fn study_files(fx: &Value, dir: &TempDir) -> Vec<(String, String)> {
    fx["datasets"]
        .as_array()
        .expect("datasets")
        .iter()
        .map(|ds| {
            let id = ds["id"].as_str().expect("id").to_owned();
            let path = dir.path(&format!("{id}.json"));
            let file = serde_json::json!({"measure": ds["measure"], "studies": ds["studies"]});
            std::fs::write(&path, file.to_string()).expect("writes");
            (id, path)
        })
        .collect()
}

/// Without weights: the same records less their `weight`, for `--unweighted`.
fn unweighted_file(path: &str) -> String {
    let mut file: Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("reads")).expect("JSON");
    for study in file["studies"].as_array_mut().expect("studies") {
        study.as_object_mut().expect("record").remove("weight");
    }
    let out = path.replace(".json", "_unweighted.json");
    std::fs::write(&out, file.to_string()).expect("writes");
    out
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
    fn check(&mut self, case: &str, what: &str, actual: &Value, expected: &Value) {
        match (actual.as_f64(), expected.as_f64()) {
            (Some(a), Some(e)) if close(a, e) => {}
            (None, None) => {}
            (a, e) => self
                .0
                .push(format!("{case}: {what} = {a:?}, metafor {e:?}")),
        }
    }
}

#[test]
fn user_weights_and_unweighted_fits_match_metafor() {
    let fx: Value = fixture("weights.json");
    let dir = TempDir::new("weights");
    let files = study_files(&fx, &dir);
    let mut bad = Mismatches::default();
    let cases = fx["cases"].as_array().expect("cases");
    for case in cases {
        let name = case["call"].as_str().expect("call").to_owned();
        let name = format!("{} {name}", case["dataset"].as_str().expect("dataset"));
        let (_, weighted) = files
            .iter()
            .find(|(id, _)| case["dataset"] == id.as_str())
            .expect("dataset");
        let unweighted = case["weighting"] == "unweighted";
        let file = if unweighted {
            unweighted_file(weighted)
        } else {
            weighted.clone()
        };
        let mods: Vec<&str> = case["mods"]
            .as_array()
            .expect("mods")
            .iter()
            .map(|m| m.as_str().expect("name"))
            .collect();
        let mods = mods.join(",");
        let mut args = vec![if mods.is_empty() { "pool" } else { "regress" }, &file];
        if !mods.is_empty() {
            args.extend(["--mods", &mods]);
        }
        let method = case["method"].as_str().expect("method");
        let test = case["test"].as_str().expect("test");
        args.extend(["--method", method, "--test", test, "--format", "json"]);
        if unweighted {
            args.push("--unweighted");
        }
        let r = run_json(&args);
        let expected_weighting = if unweighted { "unweighted" } else { "user" };
        assert_eq!(r["settings"]["weights"], expected_weighting, "{name}");
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
            for key in ["estimate", "se", "statistic", "p", "ci_lower", "ci_upper"] {
                bad.check(&name, &format!("{key}[{j}]"), &actual[key], &expected[key]);
            }
        }
        bad.check(&name, "QE", &r["QE"], &case["QE"]);
        bad.check(&name, "QE_p", &r["QE_p"], &case["QE_p"]);
        for key in [
            "tau2", "I2", "H2", "logLik", "deviance", "AIC", "BIC", "AICc",
        ] {
            bad.check(&name, key, &r[key], &case[key]);
        }
        if mods.is_empty() && case.get("pi_lower").is_some() {
            bad.check(&name, "pi_lower", &r["pi_lower"], &case["pi_lower"]);
            bad.check(&name, "pi_upper", &r["pi_upper"], &case["pi_upper"]);
        } else if !mods.is_empty() {
            for key in ["QM", "QM_p", "R2"] {
                bad.check(&name, key, &r[key], &case[key]);
            }
        }
        if case.get("tau2_se").is_some() {
            bad.check(&name, "tau2_se", &r["tau2_se"], &case["tau2_se"]);
        }
        for key in ["tau2_ci", "I2_ci"] {
            if let Some(expected) = case.get(key) {
                for side in 0..2 {
                    bad.check(
                        &name,
                        &format!("{key}[{side}]"),
                        &r[key][side],
                        &expected[side],
                    );
                }
            }
        }
        let studies = r["studies"].as_array().expect("studies");
        let weights = case["weights"].as_array().expect("weights");
        assert_eq!(studies.len(), weights.len(), "{name}: studies");
        for (i, (study, weight)) in studies.iter().zip(weights).enumerate() {
            bad.check(&name, &format!("weight[{i}]"), &study["weight"], weight);
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

/// The analyses that do not use user weights refuse a file that has them,
/// naming the file, the study and the field.
#[test]
fn analyses_without_weights_refuse_them() {
    for args in [
        &["leave-one-out", "studies/bcg_weighted.json"][..],
        &["subgroup", "studies/bcg_weighted.json", "--by", "alloc"],
        &[
            "regress",
            "studies/bcg_weighted.json",
            "--mods",
            "ablat",
            "--robust",
            "alloc",
        ],
        &["pool", "studies/bcg_weighted.json", "--robust", "alloc"],
    ] {
        let output = tau().args(args).output().expect("runs");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains(
                "studies/bcg_weighted.json: study 'Aronson 1948' has a weight (the weight field)"
            ) && stderr.contains("remove the weight field"),
            "{args:?}: {stderr}"
        );
    }
    let output = tau()
        .args([
            "regress",
            "studies/bcg_weighted.json",
            "--mods",
            "ablat",
            "--permutations",
            "100",
        ])
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("--permutations) is not available with user weights"),
        "{stderr}"
    );
}

/// The forest plot's weights column shows the user weights in percent
/// (metafor's `weights(res)` of the weighted fit; the BCG fixture's case).
#[test]
fn forest_shows_the_user_weights() {
    let dir = TempDir::new("weights-forest");
    let svg = dir.path("forest.svg");
    tau()
        .args(["forest", "studies/bcg_weighted.json", "--output", &svg])
        .assert()
        .success();
    let svg = std::fs::read_to_string(&svg).expect("the plot");
    let fx: Value = fixture("weights.json");
    let case = fx["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .find(|c| {
            c["dataset"] == "bcg"
                && c["weighting"] == "user"
                && c["method"] == "REML"
                && c["test"] == "z"
                && c["mods"].as_array().is_some_and(Vec::is_empty)
        })
        .expect("the BCG REML case");
    for weight in case["weights"].as_array().expect("weights") {
        let shown = format!(">{:.2}%<", weight.as_f64().expect("a number"));
        assert!(svg.contains(&shown), "no {shown} in the plot");
    }
}

/// Weights are relative: the BCG file with every weight multiplied by 1e-300
/// or 1e300 gives metafor's fit of the unscaled weights (metafor 3.8.1,
/// `rma(yi, vi, weights = w * 1e-300)` and `w * 1e300` give the same
/// estimate, SE and CI as `weights = w`; tau called X'WX singular, or the
/// SE 0, and refused 1e300 as too extreme).
#[test]
fn weights_scaled_by_1e300_either_way_give_metafors_fit() {
    let fx: Value = fixture("weights.json");
    let dir = TempDir::new("weights-scaled");
    let bcg = fx["datasets"]
        .as_array()
        .expect("datasets")
        .iter()
        .find(|ds| ds["id"] == "bcg")
        .expect("bcg");
    let mut bad = Mismatches::default();
    for (at, scale) in [1e-300, 1e300].into_iter().enumerate() {
        let mut studies = bcg["studies"].clone();
        for study in studies.as_array_mut().expect("studies") {
            let w = study["weight"].as_f64().expect("weight");
            study["weight"] = serde_json::json!(w * scale);
        }
        let path = dir.path(&format!("bcg_{at}.json"));
        let file = serde_json::json!({"measure": bcg["measure"], "studies": studies});
        std::fs::write(&path, file.to_string()).expect("writes");
        for case in fx["cases"]
            .as_array()
            .expect("cases")
            .iter()
            .filter(|c| c["dataset"] == "bcg" && c["weighting"] == "user" && c["test"] == "z")
        {
            let name = format!("x{scale:e} {}", case["call"].as_str().expect("call"));
            let mods: Vec<&str> = case["mods"]
                .as_array()
                .expect("mods")
                .iter()
                .map(|m| m.as_str().expect("name"))
                .collect();
            let mods = mods.join(",");
            let method = case["method"].as_str().expect("method");
            let mut args = vec![if mods.is_empty() { "pool" } else { "regress" }, &path];
            if !mods.is_empty() {
                args.extend(["--mods", &mods]);
            }
            args.extend(["--method", method, "--format", "json"]);
            let r = run_json(&args);
            let actual: Vec<&Value> = if mods.is_empty() {
                vec![&r]
            } else {
                r["coefficients"]
                    .as_array()
                    .expect("coefficients")
                    .iter()
                    .collect()
            };
            let expected = case["coefficients"].as_array().expect("coefficients");
            for (j, (a, e)) in actual.iter().zip(expected).enumerate() {
                for key in ["estimate", "se", "ci_lower", "ci_upper"] {
                    bad.check(&name, &format!("{key}[{j}]"), &a[key], &e[key]);
                }
            }
            let studies = r["studies"].as_array().expect("studies");
            for (i, (s, w)) in studies
                .iter()
                .zip(case["weights"].as_array().expect("weights"))
                .enumerate()
            {
                bad.check(&name, &format!("weight[{i}]"), &s["weight"], w);
            }
        }
    }
    assert!(bad.0.is_empty(), "{}", bad.0.join("\n"));
}

/// A weight column that is NA in every row: metafor 3.8.1 drops every study
/// (`rma(yi, vi, weights = rep(NA, 13))`: "Processing terminated since
/// k = 0"); tau refuses, naming the column, instead of ignoring it.
#[test]
fn a_weight_column_that_is_na_throughout_is_refused() {
    let dir = TempDir::new("weights-na");
    let csv = dir.path("na.csv");
    std::fs::write(
        &csv,
        "study,yi,vi,weight\nA,0.1,0.02,NA\nB,0.3,0.03,NA\nC,-0.2,0.05,\n",
    )
    .expect("writes");
    let json = dir.path("na.json");
    std::fs::write(
        &json,
        r#"{"studies": [{"study": "A", "yi": 0.1, "vi": 0.02, "weight": null},
                        {"study": "B", "yi": 0.3, "vi": 0.03, "weight": null}]}"#,
    )
    .expect("writes");
    for file in [&csv, &json] {
        let output = tau().args(["pool", file]).output().expect("runs");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{file}: {stderr}");
        assert!(
            stderr.contains("weight is missing (NA) in every record")
                && stderr.contains("remove the weight column"),
            "{file}: {stderr}"
        );
    }
    // Without the column, the usual inverse-variance fit.
    let plain = dir.path("plain.csv");
    std::fs::write(&plain, "study,yi,vi\nA,0.1,0.02\nB,0.3,0.03\n").expect("writes");
    tau().args(["pool", &plain]).assert().success();
}
