//! `tau subgroup`, `tau regress` and `tau bubble` as a user runs them: the JSON
//! contracts (pinned by deserialising with `deny_unknown_fields`), exit codes
//! and the messages a user sees.

#![allow(dead_code)] // the contract structs exist to be deserialised, not read

use crate::util::tau;
use predicates::prelude::*;
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SubgroupJson {
    title: Option<String>,
    k: usize,
    groups: Vec<GroupJson>,
    #[serde(rename = "Q_between")]
    q_between: Option<f64>,
    #[serde(rename = "Q_between_df")]
    q_between_df: usize,
    #[serde(rename = "Q_between_df2")]
    q_between_df2: Option<f64>,
    #[serde(rename = "Q_between_p")]
    q_between_p: Option<f64>,
    #[serde(rename = "Q_between_distribution")]
    q_between_distribution: String,
    tau2_common: Option<f64>,
    dropped: Vec<String>,
    settings: serde_json::Value,
    warnings: Vec<String>,
    provenance: serde_json::Value,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GroupJson {
    level: String,
    k: usize,
    estimate: f64,
    se: f64,
    statistic: f64,
    p: f64,
    ci_lower: f64,
    ci_upper: f64,
    tau2: Option<f64>,
    #[serde(rename = "QE")]
    q: f64,
    #[serde(rename = "QE_df")]
    q_df: usize,
    #[serde(rename = "QE_p")]
    q_p: f64,
    #[serde(rename = "I2")]
    i2: Option<f64>,
    studies: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RegressionJson {
    title: Option<String>,
    k: usize,
    coefficients: Vec<CoefficientJson>,
    vcov: Vec<Vec<f64>>,
    df: Option<f64>,
    #[serde(rename = "QM")]
    qm: f64,
    #[serde(rename = "QM_df")]
    qm_df: usize,
    #[serde(rename = "QM_df2")]
    qm_df2: Option<f64>,
    #[serde(rename = "QM_p")]
    qm_p: f64,
    #[serde(rename = "QE")]
    qe: f64,
    #[serde(rename = "QE_df")]
    qe_df: usize,
    #[serde(rename = "QE_p")]
    qe_p: f64,
    tau2: f64,
    tau2_se: Option<f64>,
    tau2_ci: Option<[f64; 2]>,
    tau2_ci_type: Option<String>,
    #[serde(rename = "I2")]
    i2: f64,
    #[serde(rename = "I2_ci")]
    i2_ci: Option<[f64; 2]>,
    #[serde(rename = "H2")]
    h2: f64,
    #[serde(rename = "H2_ci")]
    h2_ci: Option<[f64; 2]>,
    #[serde(rename = "logLik")]
    log_lik: f64,
    deviance: f64,
    #[serde(rename = "AIC")]
    aic: f64,
    #[serde(rename = "BIC")]
    bic: f64,
    #[serde(rename = "AICc")]
    aicc: f64,
    btt: Option<serde_json::Value>,
    #[serde(rename = "R2")]
    r2: Option<f64>,
    permutation: Option<PermutationJson>,
    studies: Vec<serde_json::Value>,
    dropped: Vec<String>,
    settings: RegressionSettingsJson,
    warnings: Vec<String>,
    provenance: serde_json::Value,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CoefficientJson {
    name: String,
    estimate: f64,
    se: f64,
    statistic: f64,
    p: f64,
    ci_lower: f64,
    ci_upper: f64,
    p_permutation: Option<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PermutationJson {
    iterations: usize,
    exact: bool,
    seed: u64,
    #[serde(rename = "QM_p")]
    qm_p: f64,
    p: Vec<f64>,
    failed: usize,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RegressionSettingsJson {
    method: String,
    test: String,
    level: f64,
    measure: String,
    convergence: serde_json::Value,
    threshold: f64,
    max_iter: usize,
    tol: f64,
    fallback: Option<String>,
    version: String,
    moderators: Vec<String>,
    reference_levels: std::collections::BTreeMap<String, String>,
    intercept: bool,
}

fn json_of<T: for<'de> Deserialize<'de>>(args: &[&str]) -> T {
    let output = tau().args(args).output().expect("runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("the JSON contract")
}

#[test]
fn subgroup_json_contract() {
    let r: SubgroupJson = json_of(&[
        "subgroup",
        "studies/bcg.json",
        "--by",
        "alloc",
        "--format",
        "json",
    ]);
    assert_eq!(r.k, 13);
    let levels: Vec<&str> = r.groups.iter().map(|g| g.level.as_str()).collect();
    assert_eq!(levels, ["alternate", "random", "systematic"]);
    assert_eq!(r.q_between_df, 2);
    assert_eq!(r.q_between_distribution, "chisq");
    assert_eq!(r.settings["tau2"], "separate");
    assert_eq!(r.settings["by"], "alloc");

    let common: SubgroupJson = json_of(&[
        "subgroup",
        "studies/bcg.json",
        "--by",
        "alloc",
        "--tau2",
        "common",
        "--test",
        "knha",
        "--format",
        "json",
    ]);
    assert_eq!(common.q_between_distribution, "F");
    assert_eq!(common.q_between_df2, Some(10.0));
    assert!(common.tau2_common.is_some());
}

#[test]
fn regression_json_contract_and_reproducible_permutations() {
    let args = [
        "regress",
        "studies/bcg.json",
        "--mods",
        "ablat,alloc",
        "--reference",
        "alloc=random",
        "--permutations",
        "60",
        "--seed",
        "9",
        "--format",
        "json",
    ];
    let r: RegressionJson = json_of(&args);
    let names: Vec<&str> = r.coefficients.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        ["intrcpt", "ablat", "alloc=alternate", "alloc=systematic"]
    );
    assert_eq!(r.settings.reference_levels["alloc"], "random");
    let perm = r.permutation.as_ref().expect("permutation test");
    assert_eq!((perm.seed, perm.iterations, perm.exact), (9, 60, false));
    assert!(r.coefficients.iter().all(|c| c.p_permutation.is_some()));
    let again: RegressionJson = json_of(&args);
    assert_eq!(again.permutation.expect("again").p, perm.p);
}

#[test]
fn no_progress_bar_when_stderr_is_not_a_terminal() {
    tau()
        .args([
            "regress",
            "studies/bcg.json",
            "--mods",
            "ablat",
            "--permutations",
            "30",
        ])
        .assert()
        .success()
        .stderr(predicate::str::is_empty())
        .stdout(predicate::str::contains("pval*").and(predicate::str::contains("seed ")));
}

#[test]
fn csv_views() {
    tau()
        .args([
            "regress",
            "studies/bcg.json",
            "--mods",
            "ablat",
            "--format",
            "csv",
        ])
        .assert()
        .success()
        .stdout(predicate::str::starts_with(
            "name,estimate,se,statistic,p,ci_lower,ci_upper\nintrcpt,",
        ));
    tau()
        .args([
            "subgroup",
            "studies/bcg.json",
            "--by",
            "alloc",
            "--format",
            "csv",
        ])
        .assert()
        .success()
        .stdout(predicate::str::starts_with(
            "level,k,estimate,se,statistic,p,ci_lower,ci_upper,tau2,QE,QE_df,QE_p,I2\nalternate,2,",
        ));
}

#[test]
fn missing_moderator_values_are_dropped_and_named() {
    tau()
        .args([
            "regress",
            "studies/bangertdrowns2004.json",
            "--mods",
            "length",
        ])
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "2 studies left out for a missing moderator value",
        ))
        .stdout(predicate::str::contains("k = 46"));
}

#[test]
fn bad_moderators_are_input_errors_that_name_them() {
    let cases: [(&[&str], &str); 5] = [
        (
            &["regress", "studies/bcg.json", "--mods", "ablat,latitude"],
            "no study has a moderator named 'latitude'; the moderators in the file are: ablat, alloc, year",
        ),
        (
            &[
                "regress",
                "studies/bcg.json",
                "--mods",
                "alloc",
                "--reference",
                "alloc=none",
            ],
            "'none' is not a level of 'alloc' among the studies used; its levels are: alternate, random, systematic",
        ),
        (
            &[
                "regress",
                "studies/bcg.json",
                "--filter",
                "alloc=random",
                "--mods",
                "alloc",
            ],
            "moderator 'alloc' has only one level ('random')",
        ),
        (
            &[
                "subgroup",
                "studies/bcg.json",
                "--by",
                "alloc",
                "--filter",
                "alloc=randomised",
            ],
            "no study is kept by --filter alloc=randomised; the values of 'alloc' present are: alternate, random, systematic",
        ),
        (
            &[
                "bubble",
                "studies/bcg.json",
                "--mod",
                "alloc",
                "-o",
                "never.svg",
            ],
            "moderator 'alloc' is categorical (text); a bubble plot needs a continuous one",
        ),
    ];
    for (args, message) in cases {
        tau()
            .args(args)
            .assert()
            .code(2)
            .stderr(predicate::str::contains(message));
    }
    assert!(
        !std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("never.svg")
            .exists()
    );
}

#[test]
fn collinear_moderators_are_named() {
    let dir = std::env::temp_dir().join(format!("tau-collinear-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("collinear.csv");
    std::fs::write(
        &file,
        "study,yi,vi,dose,dose_mg,arm\nA,0.1,0.01,1,10,x\nB,0.3,0.02,2,20,y\nC,0.2,0.01,3,30,x\nD,0.5,0.03,4,40,y\nE,0.4,0.02,5,50,x\n",
    )
    .expect("write");
    tau()
        .args([
            "regress",
            file.to_str().expect("path"),
            "--mods",
            "dose,arm,dose_mg",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "moderator 'dose_mg' is collinear with the intercept and 'dose' and 'arm'",
        ));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn bubble_writes_an_svg_with_a_circle_per_study() {
    let dir = std::env::temp_dir().join(format!("tau-bubble-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let svg = dir.join("ablat.svg");
    tau()
        .args(["bubble", "studies/bcg.json", "--mod", "ablat", "-o"])
        .arg(&svg)
        .assert()
        .success();
    let text = std::fs::read_to_string(&svg).expect("svg written");
    assert!(text.starts_with("<svg"));
    // Each study is drawn twice: a filled disc and its outline.
    assert_eq!(text.matches("<circle").count(), 2 * 13);
    let texts: Vec<&str> = text.lines().map(str::trim).collect();
    assert!(texts.contains(&"ablat") && texts.contains(&"log risk ratio"));
    // PNG and PDF come from the same SVG (tests/plot_cli.rs); other formats are refused.
    tau()
        .args(["bubble", "studies/bcg.json", "--mod", "ablat", "-o"])
        .arg(dir.join("ablat.gif"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "a plot file must end in .svg, .png or .pdf",
        ));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn parenting_file_is_labelled_a_partial_reconstruction() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/studies/parenting_ethnic_minorities.json"
    );
    let file: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("file")).expect("JSON");
    assert!(
        file["title"]
            .as_str()
            .expect("title")
            .contains("PARTIAL RECONSTRUCTION")
    );
    let notes = file["notes"].as_str().expect("notes");
    for fact in [
        "NOT the published data set",
        "vi = 1/n1 + 1/n2 + d^2/(2(n1 + n2))",
        "Left out for want of a sample size: Coard et al. 2007",
        "parenting behaviour d = 0.30 (k = 18)",
        "parenting behaviour d = 0.54 (k = 7)",
    ] {
        assert!(notes.contains(fact), "notes lack {fact:?}");
    }
}
