//! `tau pool` / `tau regress` with crossed and structured random terms and
//! known matrices (issue 29): the flags reach the general rma.mv fit, and
//! what is not built is refused by name. The fits themselves are checked
//! against metafor in tau-core (`multilevel::general::tests`, fixture
//! tests/fixtures/mv.json from tests/fixtures/generate_mv.R); the values
//! here are that fixture's (metafor 3.8.1).

use crate::util::{fixture, tau, without_provenance};
use predicates::prelude::*;
use serde_json::Value;

const SIM: &str = "studies/multivariate_sim.json";

/// The JSON of `tau args`, without the profile CIs (`--fit-only`: they
/// are checked in tau-core, and take most of the time of a debug build).
fn json_of(args: &[&str]) -> Value {
    let out = tau()
        .args(args)
        .args(["--format", "json", "--fit-only"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "tau {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    without_provenance(&out.stdout)
}

fn metafor(id: &str) -> Value {
    let fx: Value = fixture("mv.json");
    fx["models"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == id)
        .unwrap()
        .clone()
}

fn close(actual: &Value, expected: &Value, what: &str) {
    let (a, e) = (actual.as_array().unwrap(), expected.as_array().unwrap());
    assert_eq!(a.len(), e.len(), "{what}");
    for (a, e) in a.iter().zip(e) {
        let (a, e) = (a.as_f64().unwrap(), e.as_f64().unwrap());
        assert!(
            (a - e).abs() <= 1e-5 * e.abs().max(1e-3),
            "{what}: tau {a} metafor {e}"
        );
    }
}

#[test]
fn repeated_random_flags_are_crossed_terms() {
    let r = json_of(&["pool", SIM, "--random", "study/outcome", "--random", "lab"]);
    let m = metafor("sim_crossed");
    assert_eq!(
        r["sigma2_names"],
        serde_json::json!(["study", "study/outcome", "lab"])
    );
    close(&r["sigma2"], &m["sigma2"], "sigma2");
    assert!(r.get("tau2").is_none() && r.get("rho").is_none());
}

#[test]
fn structured_terms_give_tau2_rho_and_levels() {
    let r = json_of(&[
        "regress",
        SIM,
        "--mods",
        "outcome",
        "--no-intercept",
        "--random",
        "outcome | study",
        "--struct",
        "UN",
    ]);
    let m = metafor("sim_UN_ML");
    assert_eq!(r["g_levels"], serde_json::json!(["a", "b", "c"]));
    assert_eq!(r["settings"]["struct"], serde_json::json!(["UN"]));
    assert_eq!(r["rho"].as_array().unwrap().len(), 3);
    // sim_UN_ML is the ML fit; REML is the default here, so only the shapes
    // are compared, then the ML fit's values.
    let ml = json_of(&[
        "regress",
        SIM,
        "--mods",
        "outcome",
        "--no-intercept",
        "--random",
        "outcome | study",
        "--struct",
        "UN",
        "--method",
        "ML",
    ]);
    close(&ml["tau2"], &m["tau2"], "tau2");
    close(&ml["rho"], &m["rho"], "rho");
    let diag = json_of(&["pool", SIM, "--random", "outcome|study", "--struct", "DIAG"]);
    assert!(diag.get("rho").is_none() && diag.get("tau2").is_some());
}

#[test]
fn known_matrices_are_read_from_csv() {
    let r = json_of(&[
        "regress",
        SIM,
        "--mods",
        "outcome",
        "--no-intercept",
        "--random",
        "outcome | study",
        "--struct",
        "UN",
        "--vcov",
        "studies/multivariate_sim_vcov.csv",
    ]);
    let m = metafor("sim_V_UN");
    close(&r["tau2"], &m["tau2"], "tau2 with V");
    close(&r["rho"], &m["rho"], "rho with V");
    let p = json_of(&[
        "pool",
        "studies/phylo_sim.json",
        "--random",
        "species",
        "--random",
        "phylo",
        "--corr",
        "phylo=studies/phylo_sim_corr.csv",
    ]);
    close(&p["sigma2"], &metafor("phylo_R")["sigma2"], "sigma2 with R");
}

fn refused(args: &[&str], message: &str) {
    tau()
        .args(args)
        .assert()
        .code(2)
        .stdout(predicate::str::is_empty())
        .stderr(predicate::str::contains(message));
}

#[test]
fn what_is_not_built_is_refused_by_name() {
    refused(
        &["pool", SIM, "--random", "outcome | study"],
        "--random has 1 structured term (inner | outer) and --struct 0 structures",
    );
    refused(
        &[
            "pool",
            SIM,
            "--random",
            "outcome | study",
            "--struct",
            "UNR",
        ],
        "UNR and PHYBM are not structures metafor's rma.mv accepts",
    );
    refused(
        &[
            "pool",
            SIM,
            "--random",
            "outcome | study",
            "--struct",
            "GEN",
        ],
        "the GEN structure takes the values of 'outcome' as random slopes, so they must be numbers",
    );
    refused(
        &[
            "pool", SIM, "--random", "study", "--random", "lab", "--robust", "study",
        ],
        "metafor's robust() of rma.mv",
    );
    refused(
        &[
            "pool", SIM, "--random", "study", "--random", "lab", "--rho", "0.5",
        ],
        "--rho cannot be used with --random",
    );
    refused(
        &["pool", SIM, "--random", "study", "--struct", "CS"],
        "--struct gives the structure of a structured random term",
    );
    refused(
        &[
            "forest",
            SIM,
            "--random",
            "study",
            "--random",
            "lab",
            "-o",
            "/tmp/mv-never-written.svg",
        ],
        "crossed or structured terms",
    );
    refused(
        &[
            "pool",
            SIM,
            "--random",
            "study",
            "--random",
            "lab",
            "--vcov",
            "studies/phylo_sim_corr.csv",
        ],
        "the header must be study_i,study_j,cov",
    );
    refused(
        &[
            "pool",
            SIM,
            "--random",
            "study",
            "--random",
            "lab",
            "--corr",
            "lab=studies/phylo_sim_corr.csv",
        ],
        "it has no row for level",
    );
}

/// `tau vcalc` writes the matrix that metafor's `vcalc()` gives:
/// studies/multivariate_sim_vcov.csv was written by
/// tests/fixtures/generate_mv.R from `vcalc(vi, cluster = study, obs =
/// outcome, rho = 0.5)`; every entry agrees to 1e-15 relative. (Every
/// design of tests/fixtures/generate_vcalc.R is checked in the core.)
#[test]
fn vcalc_writes_the_matrix_metafor_builds() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("V.csv");
    crate::util::tau()
        .args([
            "vcalc",
            SIM,
            "--cluster",
            "study",
            "--obs",
            "outcome",
            "--rho",
            "0.5",
            "-o",
        ])
        .arg(&out)
        .assert()
        .success();
    let read = |path: &std::path::Path| -> Vec<(String, String, f64)> {
        let mut r = csv::Reader::from_path(path).unwrap();
        let mut rows: Vec<(String, String, f64)> = r
            .records()
            .map(|rec| {
                let rec = rec.unwrap();
                (
                    rec[0].to_owned(),
                    rec[1].to_owned(),
                    rec[2].parse().unwrap(),
                )
            })
            .collect();
        rows.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
        rows
    };
    let (tau, metafor) = (
        read(&out),
        read(std::path::Path::new("studies/multivariate_sim_vcov.csv")),
    );
    assert_eq!(tau.len(), metafor.len());
    for (t, m) in tau.iter().zip(&metafor) {
        assert_eq!((&t.0, &t.1), (&m.0, &m.1));
        assert!((t.2 - m.2).abs() <= 1e-15 * m.2.abs(), "{t:?} {m:?}");
    }
    refused(
        &["vcalc", SIM, "--cluster", "study", "--obs", "outcome"],
        "--rho is needed with --obs or --type",
    );
    refused(
        &["vcalc", SIM, "--cluster", "study", "--time1", "x"],
        "--phi is needed with --time1",
    );
}

/// The records' `weight` reaches nested and crossed fits (metafor's
/// `rma.mv(..., W = w)`; tests/fixtures/mv_weights.json from
/// tests/fixtures/generate_mv_weights.R, checked in full in tau-core's
/// `multilevel::general::weights_tests`).
#[test]
fn user_weights_reach_multilevel_fits() {
    let fx: Value = fixture("mv_weights.json");
    let dataset = |id: &str| {
        fx["datasets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["id"] == id)
            .unwrap()["studies"]
            .clone()
    };
    let model = |id: &str| {
        fx["models"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["id"] == id)
            .unwrap()
            .clone()
    };
    for (id, data, random) in [
        ("nested_sim", "sim", vec!["--random", "study/outcome"]),
        (
            "crossed_bornmann",
            "bornmann",
            vec!["--random", "study", "--random", "country"],
        ),
    ] {
        let path = std::env::temp_dir().join(format!(
            "tau-cli-mv-weights-{}-{id}.json",
            std::process::id()
        ));
        let file = serde_json::json!({"measure": "GEN", "studies": dataset(data)});
        std::fs::write(&path, file.to_string()).unwrap();
        let path_str = path.to_str().unwrap();
        let mut args = vec!["pool", path_str];
        args.extend(random);
        let out = json_of(&args);
        let _ = std::fs::remove_file(&path);
        let m = model(id);
        for (tau, metafor) in [
            (&out["estimate"], &m["beta"][0]),
            (&out["se"], &m["se"][0]),
            (&out["logLik"], &m["logLik"]),
        ] {
            let (t, e) = (tau.as_f64().unwrap(), metafor.as_f64().unwrap());
            assert!((t - e).abs() <= 1e-5 * e.abs(), "{id}: tau {t} metafor {e}");
        }
        close(&out["sigma2"], &m["sigma2"], id);
    }
}

/// `--blup` of a crossed model gives metafor's ranef per term
/// (tests/fixtures/mv_ranef.json from tests/fixtures/generate_mv_ranef.R).
#[test]
fn blups_of_crossed_terms() {
    let fx: Value = fixture("mv_ranef.json");
    let m = fx["models"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == "sim_crossed")
        .unwrap()
        .clone();
    let out = json_of(&[
        "pool",
        SIM,
        "--random",
        "study/outcome",
        "--random",
        "lab",
        "--blup",
    ]);
    for term in ["study", "study/outcome", "lab"] {
        let (tau, metafor) = (
            out["ranef"][term].as_array().unwrap(),
            m["ranef"][term].as_array().unwrap(),
        );
        assert_eq!(tau.len(), metafor.len(), "{term}");
        for (t, e) in tau.iter().zip(metafor) {
            assert_eq!(t["level"], e["level"], "{term}");
            let (a, b) = (
                t["intrcpt"].as_f64().unwrap(),
                e["intrcpt"].as_f64().unwrap(),
            );
            let se = e["se"].as_f64().unwrap();
            assert!(
                (a - b).abs() <= 1e-5 * b.abs().max(se),
                "{term}: tau {a} metafor {b}"
            );
        }
    }
}

/// Profile-likelihood CIs of every variance and correlation parameter
/// (metafor's confint(); checked against metafor in tau-core's
/// `multilevel::general::profile_tests`), left out by `--fit-only`.
#[test]
fn profile_cis_of_structured_terms() {
    let args = [
        "pool",
        "studies/fine1993_long.json",
        "--random",
        "time | study",
        "--struct",
        "AR",
        "--format",
        "json",
    ];
    let out = tau().args(args).output().unwrap();
    assert!(out.status.success());
    let r = without_provenance(&out.stdout);
    assert_eq!(r["tau2_ci"].as_array().unwrap().len(), 1);
    // AR's ρ is searched over [0, 1]: its lower limit lies below (metafor's
    // "<0"), null here.
    assert_eq!(r["rho_ci"][0][0], Value::Null);
    assert!(r["rho_ci"][0][1].as_f64().unwrap() > 0.8);
    let fit_only = json_of(&args[..6]);
    assert!(fit_only.get("tau2_ci").is_none() && fit_only.get("rho_ci").is_none());
}
