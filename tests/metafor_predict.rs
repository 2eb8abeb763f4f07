//! tau against metafor: predictions at new moderator values and BLUPs
//! (issue 15, item 4).
//!
//! Expected values: tests/fixtures/predict.json, written by
//! tests/fixtures/generate_predict.R with metafor 3.8.1 / metadat 1.2.0:
//! `predict(res, newmods = x0)` (and with `transf = exp` for RR,
//! `transf.ztor` for ZCOR) and `blup(res)` for models `rma(yi, vi, mods,
//! method, test)` on studies/bcg.json (log RR), studies/mcdaniel1994.json
//! (ZCOR) and studies/bangertdrowns2004.json, the same data as metadat's
//! dat.bcg, dat.mcdaniel1994 and dat.bangertdrowns2004. x0 is built in R by
//! `model.matrix()` from the same specification tau reads.
//!
//! Tolerance: relative 1e-6.

use crate::util::prec::close;
use crate::util::tau;
use serde_json::Value;
use tau_core::data::dataset::{Dataset, load_json};
use tau_core::model::blup::Blup;
use tau_core::model::{FitOptions, Method, Test};
use tau_core::regression::predict::{PredictError, PredictSpec};
use tau_core::regression::{DesignSpec, RegressionOptions, RegressionResult, regress};

fn cases() -> Vec<Value> {
    let all: Value = crate::util::fixture("predict.json");
    all["cases"].as_array().unwrap().clone()
}

fn dataset(case: &Value) -> Dataset {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(case["file"].as_str().unwrap());
    load_json(&std::fs::read_to_string(path).unwrap(), None).unwrap()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_owned())
        .collect()
}

fn fit_options(case: &Value) -> FitOptions {
    FitOptions {
        method: Method::parse(case["method"].as_str().unwrap()).unwrap(),
        test: Test::parse(case["test"].as_str().unwrap()).unwrap(),
        ..FitOptions::default()
    }
}

fn regression(case: &Value) -> RegressionResult {
    let references = case["references"].as_array().map_or_else(Vec::new, |r| {
        r.iter()
            .map(|pair| {
                let pair = strings(pair);
                (pair[0].clone(), pair[1].clone())
            })
            .collect()
    });
    regress(
        &dataset(case),
        &RegressionOptions {
            fit: fit_options(case),
            design: DesignSpec {
                moderators: strings(&case["mods"]),
                references,
                intercept: case["intercept"].as_bool().unwrap(),
            },
            permutations: None,
        },
    )
    .unwrap()
}

fn check(found: &mut Vec<String>, what: &str, actual: f64, expected: &Value) {
    let e = expected.as_f64().unwrap();
    if !close(actual, e) {
        found.push(format!("{what} = {actual:.12e}, metafor {e:.12e}"));
    }
}

fn check_blups(found: &mut Vec<String>, name: &str, blups: &[Blup], expected: &Value) {
    assert_eq!(
        blups.iter().map(|b| b.study.clone()).collect::<Vec<_>>(),
        strings(&expected["study"]),
        "{name}: the studies of blup()"
    );
    for (i, b) in blups.iter().enumerate() {
        for (key, actual) in [
            ("pred", b.pred),
            ("se", b.se),
            ("pi_lower", b.pi_lower),
            ("pi_upper", b.pi_upper),
        ] {
            check(
                found,
                &format!("{name}: blup {} {key}", b.study),
                actual,
                &expected[key][i],
            );
        }
    }
}

/// `predict(res, newmods = ...)` for every specification of every case.
#[test]
fn predictions_match_predict() {
    let mut found = Vec::new();
    let mut n = 0;
    for case in cases().iter().filter(|c| c.get("predict").is_some()) {
        let name = case["name"].as_str().unwrap();
        let r = regression(case);
        check(&mut found, &format!("{name}: tau2"), r.tau2, &case["tau2"]);
        for expected in case["predict"].as_array().unwrap() {
            let spec = expected["spec"].as_str().unwrap();
            let p = r.predict_at(&PredictSpec::parse(spec).unwrap()).unwrap();
            let what = format!("{name} at {spec}");
            // metafor leaves out the PI of a common-effect model, where
            // tau^2 = 0 makes it the CI.
            let pi = |key: &str, ci: &str| {
                if expected[key].is_null() {
                    expected[ci].clone()
                } else {
                    expected[key].clone()
                }
            };
            for (key, actual, e) in [
                ("pred", p.pred, expected["pred"].clone()),
                ("se", p.se, expected["se"].clone()),
                ("ci_lower", p.ci_lower, expected["ci_lower"].clone()),
                ("ci_upper", p.ci_upper, expected["ci_upper"].clone()),
                ("pi_lower", p.pi_lower, pi("pi_lower", "ci_lower")),
                ("pi_upper", p.pi_upper, pi("pi_upper", "ci_upper")),
            ] {
                check(&mut found, &format!("{what}: {key}"), actual, &e);
            }
            match (&p.transformed, expected.get("transformed")) {
                (Some(t), Some(e)) => {
                    for (key, actual) in [
                        ("estimate", t.estimate),
                        ("ci_lower", t.ci_lower),
                        ("ci_upper", t.ci_upper),
                    ] {
                        check(
                            &mut found,
                            &format!("{what}: transformed {key}"),
                            actual,
                            &e[key],
                        );
                    }
                    for (key, ci, actual) in [
                        ("pi_lower", "ci_lower", t.pi_lower),
                        ("pi_upper", "ci_upper", t.pi_upper),
                    ] {
                        let e = if e[key].is_null() { &e[ci] } else { &e[key] };
                        check(&mut found, &format!("{what}: transformed {key}"), actual, e);
                    }
                }
                (None, None) => {}
                _ => found.push(format!(
                    "{what}: back-transformation present on one side only"
                )),
            }
            n += 1;
        }
    }
    assert!(n >= 20, "{n} predictions");
    assert!(found.is_empty(), "{}", found.join("\n"));
}

/// `blup(res)` for meta-regressions (`RegressionResult::blups`) and
/// intercept-only models (`PoolResult::blups`).
#[test]
fn blups_match_blup() {
    let mut found = Vec::new();
    for case in cases() {
        let name = case["name"].as_str().unwrap();
        let blups = if case["mods"].as_array().unwrap().is_empty() {
            let data = dataset(&case);
            let r = tau_core::pool(&data, &fit_options(&case)).unwrap();
            check(&mut found, &format!("{name}: tau2"), r.tau2, &case["tau2"]);
            r.blups(&data)
        } else {
            regression(&case).blups()
        };
        check_blups(&mut found, name, &blups, &case["blup"]);
    }
    assert!(found.is_empty(), "{}", found.join("\n"));
}

/// Specifications that do not fit the model are refused with what is wrong.
#[test]
fn specifications_that_do_not_fit_the_model_are_refused() {
    let case = cases()
        .into_iter()
        .find(|c| {
            c["name"]
                .as_str()
                .unwrap()
                .starts_with("bcg REML knha ablat+alloc")
        })
        .unwrap();
    let r = regression(&case);
    let refused = |spec: &str| {
        r.predict_at(&PredictSpec::parse(spec).unwrap())
            .unwrap_err()
    };
    assert!(
        matches!(refused("ablat=30,alloc=random,year=1970"), PredictError::NotInModel { moderator, .. } if moderator == "year")
    );
    assert!(
        matches!(refused("ablat=30"), PredictError::Missing { missing, .. } if missing == ["alloc"])
    );
    assert!(matches!(
        refused("ablat=thirty,alloc=random"),
        PredictError::NotANumber { .. }
    ));
    assert!(matches!(
        refused("ablat=inf,alloc=random"),
        PredictError::NotANumber { .. }
    ));
    assert!(
        matches!(refused("ablat=30,alloc=Random"), PredictError::UnknownLevel { levels, .. } if levels == ["alternate", "random", "systematic"])
    );
}

/// The case called `name`.
fn case(name: &str) -> Value {
    cases()
        .into_iter()
        .find(|c| c["name"].as_str().unwrap().trim() == name)
        .unwrap()
}

fn json_of(args: &[&str]) -> Value {
    let out = tau().args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// `tau regress --predict` writes `predictions` with metafor's values.
#[test]
fn regress_predict_writes_predictions() {
    let case = case("bcg REML knha ablat+alloc");
    let mut args = vec![
        "regress",
        "studies/bcg.json",
        "--mods",
        "ablat,alloc",
        "--test",
        "knha",
        "--format",
        "json",
    ];
    let expected = case["predict"].as_array().unwrap();
    for p in expected {
        args.extend(["--predict", p["spec"].as_str().unwrap()]);
    }
    let json = json_of(&args);
    let predictions = json["predictions"].as_array().unwrap();
    assert_eq!(predictions.len(), expected.len());
    let mut found = Vec::new();
    for (p, e) in predictions.iter().zip(expected) {
        let spec = e["spec"].as_str().unwrap();
        for key in ["pred", "se", "ci_lower", "ci_upper", "pi_lower", "pi_upper"] {
            check(
                &mut found,
                &format!("{spec}: {key}"),
                p[key].as_f64().unwrap(),
                &e[key],
            );
        }
        check(
            &mut found,
            &format!("{spec}: transformed"),
            p["transformed"]["estimate"].as_f64().unwrap(),
            &e["transformed"]["estimate"],
        );
    }
    assert!(found.is_empty(), "{}", found.join("\n"));
    // The moderators in model order, numbers as numbers and levels as text.
    let moderators = predictions[2]["moderators"].as_object().unwrap();
    assert_eq!(moderators.keys().collect::<Vec<_>>(), ["ablat", "alloc"]);
    assert_eq!(moderators["ablat"], 33.0);
    assert_eq!(moderators["alloc"], "alternate");
    assert!(json.get("blups").is_none());
}

/// `tau pool --blup` and `tau regress --blup` write `blups` with metafor's values.
#[test]
fn blup_flag_writes_blups() {
    for (name, args) in [
        (
            "bcg REML z",
            vec!["pool", "studies/bcg.json", "--blup", "--format", "json"],
        ),
        (
            "bcg REML z ablat+year",
            vec![
                "regress",
                "studies/bcg.json",
                "--mods",
                "ablat,year",
                "--blup",
                "--format",
                "json",
            ],
        ),
    ] {
        let json = json_of(&args);
        let blups: Vec<Blup> = json["blups"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| Blup {
                study: b["study"].as_str().unwrap().to_owned(),
                pred: b["pred"].as_f64().unwrap(),
                se: b["se"].as_f64().unwrap(),
                pi_lower: b["pi_lower"].as_f64().unwrap(),
                pi_upper: b["pi_upper"].as_f64().unwrap(),
            })
            .collect();
        let mut found = Vec::new();
        check_blups(&mut found, name, &blups, &case(name)["blup"]);
        assert!(found.is_empty(), "{}", found.join("\n"));
    }
}

/// The text report shows the tables after the model; CSV gives the table asked for.
#[test]
fn text_and_csv_show_the_tables() {
    let out = tau()
        .args(["regress", "studies/bcg.json", "--mods", "ablat,alloc"])
        .args(["--predict", "ablat=30,alloc=random", "--blup"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let predicted = text
        .find("\nPredicted values at new moderator values:")
        .unwrap();
    let back = text
        .find("\nPredicted values at new moderator values, back-transformed (RR):")
        .unwrap();
    let blups = text.find("\nBLUPs (best linear unbiased").unwrap();
    assert!(text.find("Model results").unwrap() < predicted && predicted < back && back < blups);
    assert!(text.contains("ablat   alloc     pred      se"), "{text}");

    let out = tau()
        .args([
            "regress",
            "studies/bcg.json",
            "--mods",
            "ablat,alloc",
            "--format",
            "csv",
        ])
        .args([
            "--predict",
            "ablat=30,alloc=random",
            "--predict",
            "ablat=40,alloc=systematic",
        ])
        .output()
        .unwrap();
    let csv = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "ablat,alloc,pred,se,ci_lower,ci_upper,pi_lower,pi_upper,pred_RR,ci_lower_RR,ci_upper_RR,pi_lower_RR,pi_upper_RR"
    );
    assert_eq!(lines.len(), 3);
    assert!(lines[2].starts_with("40,systematic,"));

    let out = tau()
        .args(["pool", "studies/bcg.json", "--blup", "--format", "csv"])
        .output()
        .unwrap();
    let csv = String::from_utf8(out.stdout).unwrap();
    assert!(csv.starts_with("study,pred,se,pi_lower,pi_upper\nAronson 1948,"));
    assert_eq!(csv.lines().count(), 14);

    let out = tau()
        .args(["pool", "studies/bcg.json", "--blup"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.find("\nStudies:").unwrap() < text.find("\nBLUPs").unwrap());
}

/// Bad `--predict` and `--blup` uses are refused (exit 2) with what is wrong.
#[test]
fn bad_uses_are_refused() {
    for (args, message) in [
        (
            vec![
                "regress",
                "studies/bcg.json",
                "--mods",
                "ablat,year",
                "--predict",
                "ablat=30,yr=1970",
            ],
            "studies/bcg.json: --predict \"ablat=30,yr=1970\": 'yr' is not a moderator of the model; its moderators are: ablat, year",
        ),
        (
            vec![
                "regress",
                "studies/bcg.json",
                "--mods",
                "ablat,alloc",
                "--predict",
                "ablat=30,alloc=Random",
            ],
            "'Random' is not a level of 'alloc' among the studies in the model; its levels are: alternate, random, systematic",
        ),
        (
            vec![
                "regress",
                "studies/bcg.json",
                "--mods",
                "ablat,year",
                "--predict",
                "ablat=30",
            ],
            "--predict \"ablat=30\" has no value for 'year'",
        ),
        (
            vec![
                "regress",
                "studies/bcg.json",
                "--mods",
                "ablat",
                "--predict",
                "ablat:30",
            ],
            "--predict \"ablat:30\": 'ablat:30' is not of the form NAME=VALUE",
        ),
        (
            vec![
                "regress",
                "studies/bcg.json",
                "--mods",
                "ablat",
                "--predict",
                "ablat=30",
                "--blup",
                "--format",
                "csv",
            ],
            "--format csv writes one table",
        ),
        (
            vec![
                "regress",
                "studies/bcg.json",
                "--mods",
                "ablat",
                "--blup",
                "--format",
                "latex",
            ],
            "--blup is not shown in --format latex",
        ),
        (
            vec![
                "regress",
                "tests/bad_inputs/multilevel.json",
                "--mods",
                "year",
                "--random",
                "trial/es_id",
                "--predict",
                "year=2000",
            ],
            "--predict cannot be used with --random",
        ),
        (
            vec![
                "pool",
                "studies/phylo_sim.json",
                "--random",
                "species",
                "--random",
                "phylo",
                "--corr",
                "phylo=studies/phylo_sim_corr.csv",
                "--blup",
            ],
            "the BLUPs of a term with a known --corr matrix",
        ),
        (
            vec!["pool", "studies/bcg.json", "--method", "MH", "--blup"],
            "--method MH pools the 2x2 tables directly and has no BLUPs",
        ),
        (
            vec!["pool", "studies/bcg.json", "--blup", "--robust", "alloc"],
            "cannot be used with",
        ),
    ] {
        let out = tau().args(&args).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(message), "{args:?}: {stderr}");
    }
}

/// `--predict-file` gives, row by row, what the same values given to
/// `--predict` give (those are checked against metafor above), after the
/// `--predict` specifications.
#[test]
fn predict_file_rows_are_predictions() {
    let base = [
        "regress",
        "studies/bcg.json",
        "--mods",
        "ablat,alloc",
        "--format",
        "json",
    ];
    let from_file = json_of(
        &[
            &base[..],
            &[
                "--predict",
                "ablat=10,alloc=random",
                "--predict-file",
                "tests/predict/bcg_rows.csv",
            ],
        ]
        .concat(),
    );
    let from_flags = json_of(
        &[
            &base[..],
            &[
                "--predict",
                "ablat=10,alloc=random",
                "--predict",
                "ablat=30,alloc=random",
                "--predict",
                "ablat=50,alloc=systematic",
            ],
        ]
        .concat(),
    );
    assert_eq!(from_file["predictions"], from_flags["predictions"]);
    assert_eq!(from_file["predictions"].as_array().map(Vec::len), Some(3));
}

/// A table that cannot be read, or a row the model cannot take, is refused
/// naming the file and the line.
#[test]
fn bad_predict_files_are_refused_with_file_and_line() {
    for (file, expected) in [
        (
            "tests/predict/short_row.csv",
            "--predict-file tests/predict/short_row.csv: line 2: 1 values for 2 moderators",
        ),
        (
            "tests/predict/unknown_level.csv",
            "tests/predict/unknown_level.csv line 2: ablat=30,alloc=nope\": 'nope' is not a level of 'alloc'",
        ),
        (
            "tests/predict/missing.csv",
            "--predict-file tests/predict/missing.csv: ",
        ),
    ] {
        let out = tau()
            .args([
                "regress",
                "studies/bcg.json",
                "--mods",
                "ablat,alloc",
                "--predict-file",
                file,
            ])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{file}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(expected), "{file}: {stderr}");
    }
}
