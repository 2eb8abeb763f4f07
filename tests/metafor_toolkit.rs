//! tau against metafor: the rest of the single-level toolkit (issue 15).
//!
//! Expected values: tests/fixtures/toolkit.json, written by
//! tests/fixtures/generate_toolkit.R with metafor 3.8.1 / metadat 1.2.0 /
//! R 4.2.2: `rma.mh` (OR, RR, RD) and `rma.peto` (with `fitstats` and `leave1out` of each) with their default
//! zero-cell handling, on dat.bcg, dat.nielweise2007 (zero cells and a table
//! without events), dat.li2007 and dat.yusuf1985 (table 9, complete tables).
//!
//! Tolerance: relative 1e-6 (closed forms throughout).

use crate::util::prec::close;
use serde_json::Value;
use tau_core::data::dataset::load_json;
use tau_core::sensitivity::leave_one_out::leave_one_out_tables;
use tau_core::{TablesMethod, TablesResult, pool_tables};

fn fixtures() -> Value {
    crate::util::fixture("toolkit.json")
}

/// Compares `actual` with the fixture's `key`; `null` means NA in R.
fn check(found: &mut Vec<String>, case: &str, key: &str, actual: f64, expected: &Value) {
    match expected.as_f64() {
        Some(e) if !close(actual, e) => {
            found.push(format!("{case}: {key} = {actual:.12e}, metafor {e:.12e}"))
        }
        None if !actual.is_nan() => found.push(format!("{case}: {key} = {actual}, metafor NA")),
        _ => {}
    }
}

fn run(case: &Value, method: TablesMethod) -> TablesResult {
    let text = case["data"].to_string();
    let data = load_json(&text, None).unwrap();
    pool_tables(&data, method, 95.0).unwrap()
}

fn compare(section: &str, method: TablesMethod) {
    let all = fixtures();
    let cases = all[section].as_array().unwrap();
    assert!(cases.len() >= 4);
    let mut found = Vec::new();
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let r = run(case, method);
        let e = &r.estimate;
        for (key, actual) in [
            ("estimate", e.value),
            ("se", e.se),
            ("statistic", e.statistic),
            ("p", e.p),
            ("ci_lower", e.ci_lower),
            ("ci_upper", e.ci_upper),
            ("Q", r.q),
            ("Q_df", r.q_df as f64),
            ("Q_p", r.q_p),
            ("I2", r.i2),
            ("H2", r.h2),
            ("logLik", r.fit_statistics.log_lik),
            ("deviance", r.fit_statistics.deviance),
            ("AIC", r.fit_statistics.aic),
            ("BIC", r.fit_statistics.bic),
            ("AICc", r.fit_statistics.aicc),
        ] {
            check(&mut found, name, key, actual, &case[key]);
        }
        let weights = case["weights"].as_array().unwrap();
        assert_eq!(weights.len(), r.studies.len(), "{name}");
        for (row, w) in r.studies.iter().zip(weights) {
            check(
                &mut found,
                name,
                &format!("weight {}", row.study),
                row.weight,
                w,
            );
        }
        let data = load_json(&case["data"].to_string(), None).unwrap();
        let loo = leave_one_out_tables(&data, method, 95.0).unwrap();
        let expected = &case["leave1out"];
        for (i, row) in loo.studies.iter().enumerate() {
            let case = format!("{name} leave1out without {}", row.study);
            for (key, actual) in [
                ("estimate", row.estimate.value),
                ("se", row.estimate.se),
                ("p", row.estimate.p),
                ("ci_lower", row.estimate.ci_lower),
                ("ci_upper", row.estimate.ci_upper),
                ("Q", row.q),
                ("Q_p", row.q_p),
                ("I2", row.i2.unwrap_or(f64::NAN)),
                ("H2", row.h2.unwrap_or(f64::NAN)),
            ] {
                check(&mut found, &case, key, actual, &expected[key][i]);
            }
        }
        let tests = [
            ("CMH", r.cmh),
            ("CMH_p", r.cmh_p),
            ("Tarone", r.tarone),
            ("Tarone_p", r.tarone_p),
            ("Tarone_df", r.tarone_df.map(|d| d as f64)),
        ];
        for (key, actual) in tests {
            match (&case.get(key), actual) {
                (Some(expected), Some(actual)) => check(&mut found, name, key, actual, expected),
                (None, None) => {}
                (expected, actual) => found.push(format!(
                    "{name}: {key}: tau {actual:?}, metafor {expected:?}"
                )),
            }
        }
    }
    assert!(
        found.is_empty(),
        "{} mismatches:\n{}",
        found.len(),
        found.join("\n")
    );
}

#[test]
fn mantel_haenszel_matches_rma_mh() {
    compare("mh", TablesMethod::MH);
}

#[test]
fn peto_matches_rma_peto() {
    compare("peto", TablesMethod::PETO);
}

#[test]
fn double_zero_tables_are_named() {
    let all = fixtures();
    let case = all["mh"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "nielweise2007 OR")
        .unwrap();
    let r = run(case, TablesMethod::MH);
    let text = r.warnings.iter().map(|w| w.to_string()).collect::<String>();
    assert!(text.contains("Yucel 2004"), "{text}");
    // metafor: k = 18 tables, Q over the 17 with events.
    assert_eq!((r.k, r.q_df), (18, 16));
}

/// `tau pool --method MH --format json` on the BCG file: the key
/// contract, and the same numbers as the library (the fixture's "bcg OR").
#[test]
fn cli_mh_json_keys() {
    let output = crate::util::tau()
        .args([
            "pool",
            "studies/bcg.json",
            "--method",
            "MH",
            "--measure",
            "OR",
        ])
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let json: Value = serde_json::from_slice(&output.stdout).unwrap();
    for key in [
        "k",
        "estimate",
        "se",
        "ci_lower",
        "ci_upper",
        "statistic",
        "p",
        "QE",
        "QE_df",
        "QE_p",
        "I2",
        "H2",
        "logLik",
        "deviance",
        "AIC",
        "BIC",
        "AICc",
        "CMH",
        "CMH_p",
        "Tarone",
        "Tarone_p",
        "studies",
        "warnings",
    ] {
        assert!(json.get(key).is_some(), "missing {key}: {json}");
    }
    assert_eq!(json["settings"]["method"], "MH");
    let all = fixtures();
    let expected = all["mh"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "bcg OR")
        .unwrap();
    assert!(close(
        json["estimate"].as_f64().unwrap(),
        expected["estimate"].as_f64().unwrap()
    ));
    assert!(close(
        json["CMH"].as_f64().unwrap(),
        expected["CMH"].as_f64().unwrap()
    ));
}

/// Peto on risk ratios, MH on a correlation, MH outside `tau pool`, MH
/// with a robust variance and MH without counts are refused with exit 2; no
/// events anywhere is exit 1.
#[test]
fn cli_mh_refusals() {
    let cases: [(&[&str], i32, &str); 6] = [
        // Peto pools odds ratios whatever the file's measure (issue 26), with a note.
        (
            &["pool", "studies/bcg.json", "--method", "PETO"],
            0,
            "Peto's method pools odds ratios",
        ),
        (
            &[
                "pool",
                "studies/bcg.json",
                "--method",
                "MH",
                "--measure",
                "SMD",
            ],
            2,
            "",
        ),
        (
            &[
                "regress",
                "studies/bcg.json",
                "--mods",
                "ablat",
                "--method",
                "MH",
            ],
            2,
            "tau cumulative and tau influence only",
        ),
        (
            &[
                "pool",
                "studies/bcg.json",
                "--method",
                "MH",
                "--robust",
                "year",
            ],
            2,
            "no robust variance",
        ),
        (
            &[
                "pool",
                "tests/bad_inputs/mh_effect_sizes.json",
                "--method",
                "MH",
            ],
            2,
            "'Berg 2004' (record 2)",
        ),
        (
            &[
                "pool",
                "tests/bad_inputs/mh_no_events.json",
                "--method",
                "PETO",
            ],
            1,
            "never occurs",
        ),
    ];
    for (args, code, text) in cases {
        let output = crate::util::tau().args(args).output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(code), "{args:?}: {stderr}");
        assert!(stderr.contains(text), "{args:?}: {stderr}");
    }
    // ... giving the numbers of the same tables read as odds ratios.
    let json = |extra: &[&str]| -> serde_json::Value {
        let output = crate::util::tau()
            .args([
                "pool",
                "studies/bcg.json",
                "--method",
                "PETO",
                "--format",
                "json",
            ])
            .args(extra)
            .output()
            .unwrap();
        serde_json::from_slice(&output.stdout).unwrap()
    };
    let (from_rr, as_or) = (json(&[]), json(&["--measure", "OR"]));
    for key in ["estimate", "se", "ci_lower", "ci_upper", "QE"] {
        assert_eq!(from_rr[key], as_or[key], "{key}");
    }
}

/// The CSV view lists every study with its MH weight.
#[test]
fn cli_mh_csv() {
    let output = crate::util::tau()
        .args([
            "pool",
            "studies/bcg.json",
            "--method",
            "MH",
            "--format",
            "csv",
        ])
        .output()
        .unwrap();
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(
        text.starts_with("study,yi,vi,sei,ci_lower,ci_upper,weight\n"),
        "{text}"
    );
    assert_eq!(text.lines().count(), 14);
}

/// The paper table of an MH analysis: a row per study with its weight, then
/// the pooled row; leave-one-out with MH has one too.
#[test]
fn cli_mh_paper_tables() {
    let output = crate::util::tau()
        .args(["pool", "studies/bcg.json", "--method", "MH"])
        .args(["--measure", "OR", "--format", "markdown"])
        .output()
        .unwrap();
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(
        text.contains("| Study | OR [95% CI] | Weight (%) |"),
        "{text}"
    );
    assert!(
        text.contains("| **Common-effect model (Mantel-Haenszel)** | 0.62 [0.57, 0.68] | 100.0 |"),
        "{text}"
    );
    assert!(text.contains("Cochran-Mantel-Haenszel test"), "{text}");
    let output = crate::util::tau()
        .args(["leave-one-out", "studies/bcg.json", "--method", "PETO"])
        .args(["--measure", "OR", "--format", "latex"])
        .output()
        .unwrap();
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(
        text.contains("Leave-one-out analysis (Peto method)"),
        "{text}"
    );
}

/// `tau leave-one-out --method PETO --format json` gives the refits with
/// `settings.method` "PETO"; the numbers are checked against `leave1out` above.
#[test]
fn cli_leave_one_out_peto() {
    let output = crate::util::tau()
        .args([
            "leave-one-out",
            "studies/bcg.json",
            "--method",
            "PETO",
            "--measure",
            "OR",
        ])
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let json: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["settings"]["method"], "PETO");
    assert_eq!(json["studies"].as_array().unwrap().len(), 13);
}

/// The library refuses what the CLI cannot send: no studies, a bad level,
/// and leave-one-out of a single study.
#[test]
fn tables_guard_their_inputs() {
    use tau_core::{Dataset, Measure};
    let empty = Dataset::from_effects(Measure::OR, &[], &[]);
    assert!(pool_tables(&empty, TablesMethod::MH, 95.0).is_err());
    let all = fixtures();
    let case = &all["peto"][0];
    let data = load_json(&case["data"].to_string(), None).unwrap();
    assert!(pool_tables(&data, TablesMethod::PETO, 100.0).is_err());
    let one = Dataset {
        studies: data.studies[..1].to_vec(),
        ..data.clone()
    };
    assert!(leave_one_out_tables(&one, TablesMethod::PETO, 95.0).is_err());
    assert!(pool_tables(&one, TablesMethod::PETO, 95.0).is_ok());
}
