//! The bias and sensitivity subcommands, run as a user would: JSON contracts
//! (pinned with `deny_unknown_fields`, so a change of keys is deliberate),
//! plots, exit codes and error messages. End-to-end numbers are compared with
//! tests/fixtures/bias.json (metafor 3.8.1 on dat.bcg, REML).

use crate::util::tau;
use std::path::PathBuf;

use predicates::prelude::*;
use serde::Deserialize;
use serde_json::Value;

fn json_of(args: &[&str]) -> Value {
    let output = tau().args(args).output().expect("runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("JSON output")
}

fn temp_path(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("tau-cli-bias-{}-{name}", std::process::id()))
}

fn bcg_reml() -> Value {
    let fx: Value = crate::util::fixture("bias.json");
    fx["datasets"]
        .as_array()
        .expect("datasets")
        .iter()
        .find(|d| d["id"] == "bcg")
        .expect("bcg")
        .clone()
}

fn close(actual: &Value, expected: &Value) -> bool {
    let (a, e) = (
        actual.as_f64().expect("number"),
        expected.as_f64().expect("number"),
    );
    (a - e).abs() <= 1e-6 * e.abs().max(1e-6)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct BiasJson {
    title: String,
    k: usize,
    unadjusted: Value,
    egger: EggerJson,
    begg: BeggJson,
    trimfill: TrimFillJson,
    failsafe: FailSafeJson,
    pet_peese: Value,
    selection: Value,
    adjusted: Vec<Value>,
    settings: Value,
    warnings: Vec<String>,
    provenance: Value,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct EggerJson {
    statistic: f64,
    p: f64,
    df: Option<f64>,
    limit_estimate: f64,
    limit_ci_lower: f64,
    limit_ci_upper: f64,
    slope: f64,
    tau2: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct BeggJson {
    tau: f64,
    p: f64,
    p_method: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct TrimFillJson {
    k0: usize,
    k0_se: f64,
    side: String,
    estimate: f64,
    se: f64,
    ci_lower: f64,
    ci_upper: f64,
    tau2: f64,
    iterations: usize,
    filled: Vec<Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct FailSafeJson {
    rosenthal: Option<u64>,
    rosenthal_p: f64,
    orwin: Option<u64>,
    orwin_target: f64,
    rosenberg: Option<u64>,
    rosenberg_p: f64,
    alpha: f64,
}

#[test]
fn bias_json_has_the_contract_keys_and_metafor_numbers() {
    let out = json_of(&["bias", "studies/bcg.json", "--format", "json"]);
    let parsed: BiasJson = serde_json::from_value(out.clone()).expect("contract");
    assert_eq!(parsed.k, 13);
    assert_eq!(parsed.trimfill.filled.len(), parsed.trimfill.k0);
    let fx = bcg_reml();
    let model = &fx["models"][0];
    assert_eq!(model["method"], "REML");
    assert_eq!(model["test"], "z");
    for key in ["statistic", "p", "limit_estimate"] {
        assert!(
            close(&out["egger"][key], &model["egger"][key]),
            "egger {key}"
        );
    }
    for key in ["tau", "p"] {
        assert!(close(&out["begg"][key], &fx["begg"][key]), "begg {key}");
    }
    for key in ["estimate", "se", "ci_lower", "ci_upper", "tau2"] {
        assert!(
            close(&out["trimfill"][key], &model["trimfill"][key]),
            "trimfill {key}"
        );
    }
    assert_eq!(out["trimfill"]["side"], model["trimfill"]["side"]);
    for key in ["rosenthal", "orwin", "rosenberg"] {
        assert!(
            close(&out["failsafe"][key], &fx["failsafe"][key]),
            "failsafe {key}"
        );
    }
    assert!(close(
        &out["pet_peese"]["pet"]["estimate"],
        &fx["pet"]["estimate"]
    ));
    assert!(close(
        &out["pet_peese"]["peese"]["estimate"],
        &fx["peese"]["estimate"]
    ));
    assert_eq!(out["settings"]["method"], "REML");
    assert_eq!(out["settings"]["trimfill_estimator"], "L0");
}

#[test]
fn bias_text_explains_each_method() {
    tau()
        .args(["bias", "studies/bcg.json"])
        .assert()
        .success()
        .stdout(predicate::str::contains("Egger's regression test"))
        .stdout(predicate::str::contains("Begg & Mazumdar"))
        .stdout(predicate::str::contains("Trim-and-fill"))
        .stdout(predicate::str::contains("Fail-safe N"))
        .stdout(predicate::str::contains("PET-PEESE"))
        .stdout(predicate::str::contains("Rule: PEESE if PET's intercept"));
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code, non_snake_case)]
struct RefitJson {
    study: String,
    k: usize,
    estimate: f64,
    se: f64,
    ci_lower: f64,
    ci_upper: f64,
    statistic: f64,
    p: f64,
    tau2: f64,
    I2: f64,
    H2: f64,
    QE: f64,
    QE_p: f64,
}

#[test]
fn leave_one_out_json_matches_leave1out_and_draws_a_plot() {
    let svg = temp_path("loo.svg");
    let out = json_of(&[
        "leave-one-out",
        "studies/bcg.json",
        "--format",
        "json",
        "--plot",
        svg.to_str().expect("path"),
    ]);
    let rows: Vec<RefitJson> = serde_json::from_value(out["studies"].clone()).expect("contract");
    assert_eq!(rows.len(), 13);
    assert_eq!(rows[0].study, "Aronson 1948");
    let expected = &bcg_reml()["models"][0]["leave_one_out"];
    for (i, row) in out["studies"].as_array().expect("rows").iter().enumerate() {
        for key in [
            "estimate", "se", "ci_lower", "ci_upper", "p", "tau2", "I2", "Q",
        ] {
            // tau's name of the heterogeneity test is metafor's QE.
            let tau_key = if key == "Q" { "QE" } else { key };
            assert!(close(&row[tau_key], &expected[key][i]), "row {i} {key}");
        }
    }
    let drawn = std::fs::read_to_string(&svg).expect("plot written");
    assert!(drawn.starts_with("<svg") && drawn.contains("Aronson 1948"));
    std::fs::remove_file(&svg).ok();
}

#[test]
fn cumulative_follows_the_order_moderator() {
    let out = json_of(&[
        "cumulative",
        "studies/bcg.json",
        "--order",
        "year",
        "--format",
        "json",
    ]);
    assert_eq!(out["order"], "year");
    let rows = out["studies"].as_array().expect("rows");
    assert_eq!(rows[0]["study"], "Aronson 1948");
    assert_eq!(rows[2]["study"], "Stein & Aronson 1953");
    let expected = &bcg_reml()["models"][0]["cumulative"];
    for (i, row) in rows.iter().enumerate() {
        assert!(close(&row["estimate"], &expected["estimate"][i]), "row {i}");
    }
}

#[test]
fn cumulative_rejects_a_categorical_order() {
    tau()
        .args(["cumulative", "studies/bcg.json", "--order", "alloc"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("studies/bcg.json"))
        .stderr(predicate::str::contains("study 'Aronson 1948'"))
        .stderr(predicate::str::contains("moderator \"alloc\""));
}

#[test]
fn influence_csv_and_json() {
    tau()
        .args(["influence", "studies/bcg.json", "--format", "csv"])
        .assert()
        .success()
        .stdout(predicate::str::starts_with(
            "study,rstudent,dffits,cooks_distance,cov_ratio,tau2_deleted,QE_deleted,hat,weight,dfbetas_intrcpt,influential\n",
        ));
    let out = json_of(&["influence", "studies/bcg.json", "--format", "json"]);
    let expected = &bcg_reml()["models"][0]["influence"];
    for (i, row) in out["studies"].as_array().expect("rows").iter().enumerate() {
        for key in [
            "rstudent",
            "dffits",
            "cooks_distance",
            "cov_ratio",
            "tau2_deleted",
            "QE_deleted",
            "hat",
            "weight",
        ] {
            assert!(close(&row[key], &expected[key][i]), "row {i} {key}");
        }
        assert_eq!(row["influential"], expected["influential"][i]);
    }
}

#[test]
fn baujat_writes_an_svg() {
    let svg = temp_path("baujat.svg");
    tau()
        .args([
            "baujat",
            "studies/bcg.json",
            "-o",
            svg.to_str().expect("path"),
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains("Hart & Sutherland 1977"));
    let drawn = std::fs::read_to_string(&svg).expect("plot written");
    assert!(drawn.starts_with("<svg") && drawn.contains("Squared Pearson residual"));
    std::fs::remove_file(&svg).ok();
}

#[test]
fn too_few_studies_and_csv_are_usage_errors() {
    let two = r#"{"studies": [{"study": "a", "yi": 0.1, "vi": 0.01}, {"study": "b", "yi": 0.3, "vi": 0.02}]}"#;
    tau()
        .args(["bias", "-"])
        .write_stdin(two)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("at least 3 studies (got 2)"));
    tau()
        .args(["bias", "studies/bcg.json", "--format", "csv"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--format text or --format json"));
    // Two studies are enough to leave one out: each refit is a single study, as in metafor.
    let out: Value = serde_json::from_slice(
        &tau()
            .args(["leave-one-out", "-", "--format", "json"])
            .write_stdin(two)
            .output()
            .expect("runs")
            .stdout,
    )
    .expect("JSON");
    assert_eq!(out["studies"][0]["estimate"], 0.3);
    assert_eq!(out["studies"][0]["tau2"], 0.0);
}

/// Issue 26: the bias table shows the 3PSM, back-transforms its estimates as
/// its note says (on BCG, RR), and the numbers are the JSON's (which
/// tests/metafor_selection.rs and this file check against metafor) rounded.
#[test]
fn bias_table_has_the_3psm_and_agrees_with_the_json() {
    let json = json_of(&["bias", "studies/bcg.json", "--format", "json"]);
    let output = tau()
        .args(["bias", "studies/bcg.json", "--format", "markdown"])
        .output()
        .expect("runs");
    assert!(output.status.success());
    let md = String::from_utf8_lossy(&output.stdout);
    let rr = |key: &Value| format!("{:.2}", key.as_f64().expect("number").exp());
    let u = &json["unadjusted"];
    let unadjusted = format!(
        "| Unadjusted estimate | {} [{}, {}] |",
        rr(&u["estimate"]),
        rr(&u["ci_lower"]),
        rr(&u["ci_upper"])
    );
    assert!(md.contains(&unadjusted), "{unadjusted}\n{md}");
    let s = &json["selection"];
    let three_psm = format!(
        "| 3PSM selection model | adjusted estimate {} [{}, {}]; δ = {:.2} | .{:.0} |",
        rr(&s["estimate"]),
        rr(&s["ci_lower"]),
        rr(&s["ci_upper"]),
        s["delta"][1].as_f64().unwrap(),
        1000.0 * s["LRT_p"].as_f64().unwrap()
    );
    assert!(md.contains(&three_psm), "{three_psm}\n{md}");
    assert!(
        md.contains("estimates and CIs are shown as RR (back-transformed)"),
        "{md}"
    );
}

/// Issue 26: the dependent-effects rows of the bias table start with their
/// own unadjusted estimate (the robust multilevel fit, checked against
/// metafor + clubSandwich in tests/bias_dependent.rs), not the independent one.
#[test]
fn dependent_bias_table_leads_with_the_dependent_fit() {
    let file = "tests/fixtures/bornmann2007_studies.json";
    let args = ["bias", file, "--robust", "study", "--random", "study/obs"];
    let json = json_of(&[&args[..], &["--format", "json"]].concat());
    let output = tau()
        .args(args)
        .args(["--format", "latex"])
        .output()
        .expect("runs");
    assert!(output.status.success());
    let tex = String::from_utf8_lossy(&output.stdout);
    let u = &json["dependent"]["unadjusted"];
    let or = |key: &str| format!("{:.2}", u[key].as_f64().expect("number").exp());
    let row = format!(
        "Unadjusted estimate, multilevel CR2 & {} [{}, {}] &",
        or("estimate"),
        or("ci_lower"),
        or("ci_upper")
    );
    assert!(tex.contains(&row), "{row}\n{tex}");
    for part in ["Egger's test, multilevel CR2", "3PSM, cluster-robust SE"] {
        assert!(tex.contains(part), "{part}\n{tex}");
    }
    // δ = 1.84 > 1 here: read as the opposite of publication bias.
    assert!(tex.contains("opposite of publication bias"), "{tex}");
}

/// Issue 26: `tau selection` has a paper table (it was refused after
/// fitting, exit 1), and a weight above 1 is not read as publication bias.
#[test]
fn selection_has_a_paper_table_and_reads_delta_above_one() {
    let file = "tests/fixtures/bornmann2007_studies.json";
    let output = tau()
        .args([
            "selection",
            file,
            "--steps",
            "0.025",
            "--alternative",
            "less",
            "--format",
            "markdown",
        ])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(0));
    let md = String::from_utf8_lossy(&output.stdout);
    for part in [
        "| Parameter | Estimate [95% CI] | SE | z | p |",
        "| δ (0 < p <= 0.025; k = ",
        "Likelihood-ratio test of no selection",
        "opposite of publication bias",
    ] {
        assert!(md.contains(part), "{part}\n{md}");
    }
    let output = tau()
        .args([
            "selection",
            file,
            "--steps",
            "0.025",
            "--alternative",
            "less",
        ])
        .output()
        .expect("runs");
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("opposite of publication bias"), "{text}");
    assert!(
        !text.contains("published more often for some p-values"),
        "{text}"
    );
}
