//! tau against metafor: pre-post measures (SMCR, SMCC, MC) and single means
//! (MN, MNLN), through the binary.
//!
//! Expected values: tests/fixtures/measures_prepost.json, written by
//! tests/fixtures/generate_measures_prepost.R with metafor 3.8.1 / metadat
//! 1.2.0: `escalc()` with its defaults (m1i = m_post, m2i = m_pre,
//! sd1i = sd_pre, sd2i = sd_post, ni = n, ri = r; mi = m, sdi = sd, ni = n)
//! and `rma(yi, vi)` (REML), on metadat's dat.lehmann2018 (within-subject
//! experiments) and dat.normand1999, and on simulated records. The cases
//! with an `ri` leave r out of the records and pass `--ri`.
//!
//! Tolerance: relative 1e-6 throughout.

use crate::util::prec::close;
use crate::util::tau;
use crate::util::temp::TempDir;
use serde::Deserialize;
use serde_json::{Value, json};

#[derive(Deserialize)]
struct Fixtures {
    metafor_version: String,
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    id: String,
    measure: String,
    #[serde(default)]
    ri: Option<f64>,
    studies: Value,
    escalc: Escalc,
    rma: Value,
}

#[derive(Deserialize)]
struct Escalc {
    yi: Vec<f64>,
    vi: Vec<f64>,
}

fn fixtures() -> Fixtures {
    crate::util::fixture("measures_prepost.json")
}

/// `tau pool FILE --format json` on the case's records (with `--ri` where
/// the case assumes one), and its stderr.
fn pool(case: &Case, dir: &TempDir) -> (Value, String) {
    let file = dir.path(&format!("{}.json", case.id));
    let study_file = json!({"measure": case.measure, "studies": case.studies});
    std::fs::write(&file, study_file.to_string()).unwrap();
    let mut command = tau();
    command.args(["pool", &file, "--format", "json"]);
    if let Some(ri) = case.ri {
        command.args(["--ri", &ri.to_string()]);
    }
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "{}: {}",
        case.id,
        String::from_utf8_lossy(&output.stderr)
    );
    (
        serde_json::from_slice(&output.stdout).unwrap(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn effect_sizes_and_pooled_models_match_metafor() {
    let fx = fixtures();
    assert_eq!(fx.metafor_version, "3.8.1");
    let dir = TempDir::new("measures-prepost");
    let mut bad = Vec::new();
    let mut check = |case: &str, what: &str, actual: Option<f64>, expected: Option<f64>| match (
        actual, expected,
    ) {
        (Some(a), Some(e)) if close(a, e) => {}
        _ => bad.push(format!("{case}: {what} = {actual:?}, metafor {expected:?}")),
    };
    for case in &fx.cases {
        let (report, _) = pool(case, &dir);
        let studies = report["studies"].as_array().unwrap();
        assert_eq!(studies.len(), case.escalc.yi.len(), "{}", case.id);
        for (i, study) in studies.iter().enumerate() {
            let at = format!("{} study {}", case.id, i + 1);
            check(&at, "yi", study["yi"].as_f64(), Some(case.escalc.yi[i]));
            check(&at, "vi", study["vi"].as_f64(), Some(case.escalc.vi[i]));
        }
        for key in ["estimate", "se", "tau2"] {
            check(&case.id, key, report[key].as_f64(), case.rma[key].as_f64());
        }
        if let Some(expected) = case.rma.get("transformed") {
            assert_eq!(report["transformed"]["scale"], "mean", "{}", case.id);
            for key in ["estimate", "ci_lower", "ci_upper"] {
                check(
                    &case.id,
                    &format!("transformed {key}"),
                    report["transformed"][key].as_f64(),
                    expected[key].as_f64(),
                );
            }
        }
    }
    assert!(
        bad.is_empty(),
        "{} mismatches:\n{}",
        bad.len(),
        bad.join("\n")
    );
}

#[test]
fn every_new_measure_is_covered() {
    let fx = fixtures();
    for measure in ["SMCR", "SMCC", "MC", "MN", "MNLN"] {
        assert!(
            fx.cases
                .iter()
                .any(|c| c.measure == measure && c.ri.is_none()),
            "no fixture for measure {measure}"
        );
    }
}

#[test]
fn an_assumed_correlation_is_reported_in_text_and_json() {
    let fx = fixtures();
    let case = fx.cases.iter().find(|c| c.ri.is_some()).unwrap();
    let dir = TempDir::new("measures-prepost-ri");
    let (report, stderr) = pool(case, &dir);
    let warnings = report["warnings"].as_array().unwrap();
    assert!(
        warnings
            .iter()
            .any(|w| w.as_str().unwrap().starts_with(
                "pre-post correlation r = 0.5 assumed (--ri) for 12 studies without r"
            )),
        "{warnings:?}"
    );
    assert!(
        stderr.contains("warning:") && stderr.contains("r = 0.5 assumed (--ri)"),
        "{stderr}"
    );
}

#[test]
fn pre_post_records_without_r_need_ri() {
    let fx = fixtures();
    let mut case = fx
        .cases
        .into_iter()
        .find(|c| c.ri.is_some() && c.measure == "MC")
        .unwrap();
    case.ri = None;
    let dir = TempDir::new("measures-prepost-no-ri");
    let file = dir.path("no_r.json");
    let study_file = json!({"measure": case.measure, "studies": case.studies});
    std::fs::write(&file, study_file.to_string()).unwrap();
    let output = tau().args(["pool", &file]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("(record 1): r is missing: pre-post data need the correlation r")
            && stderr.contains("pass --ri VALUE"),
        "{stderr}"
    );
    // A record that gives r keeps it: --ri only fills in the missing ones.
    let mut studies = case.studies.as_array().unwrap().clone();
    studies[0]["r"] = json!(0.9);
    let study_file = json!({"measure": "MC", "studies": studies});
    std::fs::write(&file, study_file.to_string()).unwrap();
    let output = tau()
        .args(["pool", &file, "--ri", "0.5", "--format", "json"])
        .output()
        .unwrap();
    assert!(output.status.success());
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    let warning = report["warnings"][0].as_str().unwrap();
    assert!(warning.contains("for 11 studies without r"), "{warning}");
    assert!(
        !warning.contains(studies[0]["study"].as_str().unwrap()),
        "{warning}"
    );
}

#[test]
fn ri_must_be_a_correlation() {
    for value in ["1", "-1.5", "x"] {
        let output = tau()
            .args(["pool", "tests/bad_inputs/prepost.json", "--ri", value])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "--ri {value}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("strictly between -1 and 1"),
            "--ri {value}: {stderr}"
        );
    }
    // A negative correlation is one.
    let output = tau()
        .args([
            "pool",
            "tests/warning_inputs/prepost_no_r.csv",
            "--ri",
            "-0.3",
        ])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}
