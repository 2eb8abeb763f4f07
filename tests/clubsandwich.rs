//! tau's cluster-robust inference against clubSandwich and metafor.
//!
//! Expected values: tests/fixtures/robust.json, written by
//! tests/fixtures/generate_robust.R with metafor 3.8.1, clubSandwich 0.5.8 and
//! metadat 1.2.0: `robust(res, cluster, clubSandwich = TRUE)`,
//! `coef_test(res, vcov = "CR2", cluster, test = "Satterthwaite")`,
//! `Wald_test(res, constrain_zero(res$btt), vcov = "CR2", cluster, test = "HTZ")`
//! and `robust(res, cluster, adjust = TRUE)`, for rma.uni fits (REML, DL, EE;
//! dat.bcg, dat.white2020, dat.bornmann2007, simulated data) and rma.mv fits
//! (three-level and CHE with rho = 0.6; dat.bornmann2007, dat.white2020,
//! dat.bakdash2021, dat.lopez2019, simulated data), clusters of one to dozens.
//!
//! The library's core is checked on metafor's fitted models (β̂, τ̂² or σ̂²
//! and ρ from the fixture build each cluster's Φ_j); the rma.uni cases are
//! also run end to end from the study records, fitting the model in tau.
//! Tolerance: relative 1e-6 throughout.

use crate::util::prec::close;
use nalgebra::{DMatrix, DVector};
use serde_json::Value;
use tau_core::data::dataset;
use tau_core::model::{Control, FitOptions};
use tau_core::regression::{DesignSpec, RegressionOptions};
use tau_core::robust::inference::InferenceOptions;
use tau_core::robust::uni::{pooled, regression};
use tau_core::robust::{RobustResult, RobustSpec, SmallSample, WorkingCluster, infer};
use tau_core::{Kinded, Method, Test};

/// Cases where a cluster alone determines a coefficient (dat.bornmann2007
/// with document type: the only commentary is Wenneras (1997), one estimate):
/// clubSandwich takes a generalised inverse square root of the singular
/// (I − H_jj) block, and so does tau, with a warning naming the cluster
/// (see `singular_cluster_is_warned_about_by_name`).
const SINGULAR: [&str; 2] = ["bornmann_dl_doctype_study", "bornmann_3level_doctype"];

fn is_singular(case: &Value) -> bool {
    SINGULAR.iter().any(|id| case["id"] == *id)
}

fn all_cases() -> Vec<Value> {
    let fx: Value = crate::util::fixture("robust.json");
    fx["cases"].as_array().expect("cases").clone()
}

/// The case whose clubSandwich values carry rounding noise: Wood (1997) is
/// the only study of doctype Book, so its CR2 block is singular, but with
/// `year` (about 1990) in the model clubSandwich computes its smallest
/// eigenvalue as 1.4e-8 on a scale of 767 (tau: 9e-15 on 1.2), above its
/// absolute tolerance 1e-12; it inverts that noise (λ^(−1/2) ≈ 8300), which
/// moves the robust SEs by about 1e-5 relative. Compared at 1e-4 in
/// `singular_block_with_noise_in_clubsandwich`.
const NOISY: &str = "bornmann_dl_doctype_study";

/// The cases CR2 is compared on at 1e-6: the singular ones included, but
/// [`NOISY`].
fn cases() -> Vec<Value> {
    all_cases()
        .into_iter()
        .filter(|c| c["id"] != NOISY)
        .collect()
}

fn nums(v: &Value) -> Vec<f64> {
    match v {
        Value::Array(a) => a.iter().map(|x| x.as_f64().unwrap_or(f64::NAN)).collect(),
        other => vec![other.as_f64().unwrap_or(f64::NAN)],
    }
}

fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::Array(a) => a
            .iter()
            .map(|x| x.as_str().expect("text").to_owned())
            .collect(),
        Value::String(s) => vec![s.clone()],
        _ => panic!("not text: {v}"),
    }
}

/// `expected` NaN is R's NA: tau must give NaN (reported as NA) too.
fn check(id: &str, what: &str, actual: f64, expected: f64) {
    if expected.is_nan() {
        assert!(actual.is_nan(), "{id}: {what}: tau {actual} vs R NA");
        return;
    }
    assert!(
        close(actual, expected),
        "{id}: {what}: tau {actual} vs R {expected} (rel diff {:e})",
        ((actual - expected) / expected).abs()
    );
}

fn check_all(id: &str, what: &str, actual: &[f64], expected: &[f64]) {
    assert_eq!(actual.len(), expected.len(), "{id}: {what}: lengths");
    for (i, (a, e)) in actual.iter().zip(expected).enumerate() {
        check(id, &format!("{what}[{i}]"), *a, *e);
    }
}

/// The working clusters of a case, built from metafor's fitted model:
/// Φ_j = diag(vᵢ + τ̂²) for rma.uni; for rma.mv
/// Φ_j = V_j + σ̂²₁ 11' + σ̂²₂ I with V_j[a,b] = ρ √(v_a v_b) off the diagonal.
fn working_clusters(case: &Value) -> Vec<WorkingCluster> {
    let yi = nums(&case["yi"]);
    let vi = nums(&case["vi"]);
    let beta = nums(&case["beta"]);
    let rows: Vec<Vec<f64>> = case["X"].as_array().expect("X").iter().map(nums).collect();
    let ids = strings(&case["clusters"]);
    let p = beta.len();
    let (between, within, rho) = if case["model"] == "rma.mv" {
        let s = nums(&case["sigma2"]);
        (s[0], s[1], case["rho"].as_f64().expect("rho"))
    } else {
        (0.0, case["tau2"].as_f64().expect("tau2"), 0.0)
    };
    let mut levels: Vec<&String> = ids.iter().collect();
    levels.sort();
    levels.dedup();
    levels
        .into_iter()
        .map(|id| {
            let members: Vec<usize> = (0..ids.len()).filter(|&i| &ids[i] == id).collect();
            let n = members.len();
            let x = DMatrix::from_fn(n, p, |r, c| rows[members[r]][c]);
            let residuals = DVector::from_fn(n, |r, _| {
                let i = members[r];
                yi[i] - (0..p).map(|c| rows[i][c] * beta[c]).sum::<f64>()
            });
            let phi = DMatrix::from_fn(n, n, |a, b| {
                let (i, j) = (members[a], members[b]);
                if a == b {
                    vi[i] + between + within
                } else {
                    rho * (vi[i] * vi[j]).sqrt() + between
                }
            });
            WorkingCluster {
                id: id.clone(),
                x,
                residuals,
                phi,
            }
        })
        .collect()
}

fn tested(case: &Value) -> Vec<usize> {
    if case["names"].as_array().map_or(1, Vec::len) == 1 {
        return Vec::new();
    }
    nums(&case["btt"]).iter().map(|b| *b as usize - 1).collect()
}

fn run(case: &Value, small_sample: SmallSample) -> RobustResult {
    let names = strings(&case["names"]);
    infer(
        &working_clusters(case),
        &nums(&case["beta"]),
        &InferenceOptions {
            names: &names,
            tested: &tested(case),
            cluster: case["cluster"].as_str().expect("cluster"),
            small_sample,
            level: 95.0,
        },
    )
    .unwrap_or_else(|e| panic!("{}: {e}", case["id"]))
}

/// Compares a result with `robust(..., clubSandwich = TRUE)` (`cs`) or
/// `robust(..., adjust = TRUE)`.
fn compare(id: &str, r: &RobustResult, expected: &Value) {
    let col = |f: fn(&tau_core::robust::RobustCoefficient) -> f64| -> Vec<f64> {
        r.coefficients.iter().map(f).collect()
    };
    check_all(id, "se", &col(|c| c.se), &nums(&expected["se"]));
    check_all(
        id,
        "t",
        &col(|c| c.statistic),
        &nums(&expected["statistic"]),
    );
    let df = nums(&expected["df"]);
    let df = if df.len() == 1 {
        vec![df[0]; r.coefficients.len()]
    } else {
        df
    };
    check_all(id, "df", &col(|c| c.df.unwrap_or(f64::NAN)), &df);
    check_all(id, "p", &col(|c| c.p), &nums(&expected["p"]));
    check_all(
        id,
        "ci_lower",
        &col(|c| c.ci_lower),
        &nums(&expected["ci_lower"]),
    );
    check_all(
        id,
        "ci_upper",
        &col(|c| c.ci_upper),
        &nums(&expected["ci_upper"]),
    );
    check(id, "QM", r.qm, expected["QM"].as_f64().unwrap_or(f64::NAN));
    assert_eq!(
        r.qm_df as f64,
        expected["QM_df"].as_f64().expect("QM_df"),
        "{id}: QM_df"
    );
    check(
        id,
        "QM_df2",
        r.qm_df2.unwrap_or(f64::NAN),
        expected["QM_df2"].as_f64().expect("df2"),
    );
    check(
        id,
        "QM_p",
        r.qm_p,
        expected["QM_p"].as_f64().unwrap_or(f64::NAN),
    );
    assert_eq!(
        r.robust.clusters as f64,
        expected["n"].as_f64().expect("n"),
        "{id}: n"
    );
    let vcov: Vec<f64> = r.vcov.iter().flatten().copied().collect();
    let expected_vcov: Vec<f64> = expected["vcov"]
        .as_array()
        .expect("vcov")
        .iter()
        .flat_map(nums)
        .collect();
    check_all(id, "vcov", &vcov, &expected_vcov);
}

#[test]
fn cr2_satterthwaite_htz_match_robust_with_clubsandwich() {
    for case in cases() {
        let id = case["id"].as_str().expect("id");
        let r = run(&case, SmallSample::Satterthwaite);
        assert_eq!(r.robust.estimator, "CR2");
        compare(id, &r, &case["clubsandwich"]);
        check_all(
            id,
            "estimate",
            &r.coefficients
                .iter()
                .map(|c| c.estimate)
                .collect::<Vec<_>>(),
            &nums(&case["clubsandwich"]["beta"]),
        );
    }
}

#[test]
fn coefficient_tests_match_coef_test() {
    for case in cases() {
        let id = case["id"].as_str().expect("id");
        let r = run(&case, SmallSample::Satterthwaite);
        let ct = &case["coef_test"];
        let col = |f: fn(&tau_core::robust::RobustCoefficient) -> f64| -> Vec<f64> {
            r.coefficients.iter().map(f).collect()
        };
        check_all(id, "SE", &col(|c| c.se), &nums(&ct["SE"]));
        check_all(id, "tstat", &col(|c| c.statistic), &nums(&ct["tstat"]));
        check_all(
            id,
            "df_Satt",
            &col(|c| c.df.unwrap_or(f64::NAN)),
            &nums(&ct["df"]),
        );
        check_all(id, "p_Satt", &col(|c| c.p), &nums(&ct["p"]));
    }
}

#[test]
fn moderator_tests_match_wald_test_htz() {
    let mut seen = 0;
    for case in cases().into_iter().filter(|c| c.get("wald_test").is_some()) {
        let id = case["id"].as_str().expect("id");
        let r = run(&case, SmallSample::Satterthwaite);
        let wt = &case["wald_test"];
        check(id, "Fstat", r.qm, wt["Fstat"].as_f64().expect("F"));
        assert_eq!(r.qm_df as f64, wt["df_num"].as_f64().expect("q"));
        check(
            id,
            "df_denom",
            r.qm_df2.unwrap_or(f64::NAN),
            wt["df_denom"].as_f64().expect("df"),
        );
        check(id, "p_val", r.qm_p, wt["p_val"].as_f64().expect("p"));
        seen += 1;
    }
    assert!(seen >= 10, "HTZ cases: {seen}");
}

#[test]
fn singular_cluster_is_warned_about_by_name() {
    let mut seen = 0;
    for case in all_cases().into_iter().filter(is_singular) {
        let names = strings(&case["names"]);
        let r = infer(
            &working_clusters(&case),
            &nums(&case["beta"]),
            &InferenceOptions {
                names: &names,
                tested: &tested(&case),
                cluster: "study",
                small_sample: SmallSample::Satterthwaite,
                level: 95.0,
            },
        )
        .expect("clubSandwich answers, and so does tau");
        let warnings: Vec<String> = r.warnings.iter().map(ToString::to_string).collect();
        assert!(
            warnings
                .iter()
                .any(|w| w.contains("(I - H_jj) is singular") && w.contains("Wenneras (1997)")),
            "{warnings:?}"
        );
        seen += 1;
    }
    assert_eq!(seen, SINGULAR.len());
}

/// metafor's robust(adjust = TRUE) on every case; where the robust variance
/// of the moderators is singular (SINGULAR) metafor's QM is NA, and so is tau's.
#[test]
fn small_sample_none_matches_robust_adjust() {
    for case in all_cases() {
        let id = case["id"].as_str().expect("id");
        let r = run(&case, SmallSample::None);
        assert_eq!(r.robust.estimator, "CR1");
        compare(id, &r, &case["adjust"]);
    }
}

/// The rma.uni cases from the study records: tau fits the model, then makes
/// the robust inference clustered by the moderator.
#[test]
fn rma_uni_end_to_end_from_the_records() {
    for case in cases().into_iter().filter(|c| c["model"] == "rma.uni") {
        let id = case["id"].as_str().expect("id");
        let file = serde_json::json!({"measure": "GEN", "studies": case["studies"]});
        let data = dataset::load_json(&file.to_string(), None).expect("loads");
        let fit = FitOptions {
            method: Method::parse(case["method"].as_str().expect("method")).expect("known"),
            test: Test::Z,
            level: 95.0,
            control: Control::default(),
        };
        let cluster = case["cluster"].as_str().expect("cluster").to_owned();
        let names = strings(&case["names"]);
        for small_sample in [SmallSample::Satterthwaite, SmallSample::None] {
            let spec = RobustSpec {
                cluster: cluster.clone(),
                small_sample,
            };
            let robust = if names.len() == 1 {
                pooled(&data, &fit, &spec).expect("pooled").1
            } else {
                let moderators = moderators_of(&case);
                let options = RegressionOptions {
                    fit,
                    design: DesignSpec {
                        moderators,
                        references: Vec::new(),
                        intercept: true,
                    },
                    permutations: None,
                };
                regression(&data, &options, &spec).expect("regression").1
            };
            let expected = match small_sample {
                SmallSample::Satterthwaite => &case["clubsandwich"],
                SmallSample::None => &case["adjust"],
            };
            compare(id, &robust, expected);
        }
    }
}

/// The moderators of a case's formula, e.g. "rma(yi, vi, mods = ~ablat + x, ...)".
fn moderators_of(case: &Value) -> Vec<String> {
    let call = case["call"].as_str().expect("call");
    let formula = call
        .split("mods = ~")
        .nth(1)
        .expect("mods")
        .split(',')
        .next()
        .expect("formula");
    formula.split('+').map(|m| m.trim().to_owned()).collect()
}

// ---------------------------------------------------------------- bad input

fn records(studies: &[(&str, f64, f64, Option<Value>)]) -> tau_core::Dataset {
    let studies: Vec<Value> = studies
        .iter()
        .map(|(label, yi, vi, cluster)| {
            let mut m = serde_json::Map::new();
            if let Some(c) = cluster {
                m.insert("trial".into(), c.clone());
            }
            m.insert("dose".into(), Value::from(*yi * 3.0));
            serde_json::json!({"study": label, "yi": yi, "vi": vi, "moderators": m})
        })
        .collect();
    let file = serde_json::json!({"measure": "GEN", "studies": studies});
    dataset::load_json(&file.to_string(), None).expect("loads")
}

fn spec(cluster: &str) -> RobustSpec {
    RobustSpec {
        cluster: cluster.to_owned(),
        small_sample: SmallSample::Satterthwaite,
    }
}

fn six_studies(cluster_of: impl Fn(usize) -> Option<Value>) -> tau_core::Dataset {
    let data: Vec<(String, f64, f64)> = (0..6)
        .map(|i| {
            (
                format!("S{}", i + 1),
                0.1 * i as f64 - 0.2 * (i % 2) as f64,
                0.02 + 0.01 * i as f64,
            )
        })
        .collect();
    records(
        &data
            .iter()
            .enumerate()
            .map(|(i, (l, y, v))| (l.as_str(), *y, *v, cluster_of(i)))
            .collect::<Vec<_>>(),
    )
}

#[test]
fn unknown_cluster_moderator_lists_the_moderators() {
    let data = six_studies(|i| Some(Value::from(i / 2)));
    let err = pooled(&data, &FitOptions::default(), &spec("study_id")).expect_err("unknown");
    assert_eq!(err.kind(), tau_core::ErrorKind::Input);
    let message = err.to_string();
    assert!(message.contains("'study_id'"), "{message}");
    assert!(message.contains("dose, trial"), "{message}");
}

#[test]
fn studies_without_a_cluster_are_left_out_with_a_warning() {
    let data = six_studies(|i| (i != 4).then(|| Value::from(format!("T{}", i / 2))));
    let (pool, robust) = pooled(&data, &FitOptions::default(), &spec("trial")).expect("pooled");
    assert_eq!(pool.k, 5);
    assert_eq!(robust.robust.clusters, 3);
    assert!(
        pool.warnings
            .iter()
            .map(ToString::to_string)
            .any(|w| w.contains("1 study without")
                && w.contains("cluster moderator 'trial' left out")
                && w.contains("S5")),
        "{:?}",
        pool.warnings
    );
}

#[test]
fn one_cluster_is_an_error() {
    let data = six_studies(|_| Some(Value::from("all")));
    let err = pooled(&data, &FitOptions::default(), &spec("trial")).expect_err("one cluster");
    assert_eq!(err.kind(), tau_core::ErrorKind::Input);
    assert!(err.to_string().contains("same cluster ('all')"), "{err}");
}

#[test]
fn fewer_than_4_df_warn_and_name_the_coefficient() {
    // dat.bcg clustered by allocation: 3 clusters, Satterthwaite df 1.7.
    let case = cases()
        .into_iter()
        .find(|c| c["id"] == "bcg_dl_intercept_alloc")
        .expect("case");
    let r = run(&case, SmallSample::Satterthwaite);
    assert!(
        r.warnings
            .iter()
            .map(ToString::to_string)
            .any(|w| w.contains("'intrcpt'")
                && w.contains("1.73 degrees of freedom")
                && w.contains("fewer than 4")),
        "{:?}",
        r.warnings
    );
    // metafor's n − p = 2 df are as few.
    let none = run(&case, SmallSample::None);
    assert!(
        none.warnings[0]
            .to_string()
            .contains("'intrcpt' has 2.00 degrees of freedom"),
        "{:?}",
        none.warnings
    );
}

#[test]
fn robust_json_keys_are_the_contract() {
    let case = cases()
        .into_iter()
        .find(|c| c["id"] == "sim_reml_x_g_cid")
        .expect("case");
    let json = serde_json::to_value(run(&case, SmallSample::Satterthwaite)).expect("json");
    for key in [
        "QM",
        "QM_df",
        "QM_df2",
        "QM_p",
        "QM_distribution",
        "robust",
        "coefficients",
    ] {
        assert!(json.get(key).is_some(), "{key} in {json}");
    }
    assert_eq!(json["QM_distribution"], "F");
    assert_eq!(json["robust"]["type"], "CR2");
    assert_eq!(json["robust"]["small_sample"], "Satterthwaite/HTZ");
    assert_eq!(json["robust"]["cluster"], "cid");
    assert_eq!(json["robust"]["clusters"], 24);
    for key in [
        "estimate",
        "se",
        "statistic",
        "df",
        "p",
        "ci_lower",
        "ci_upper",
    ] {
        assert!(json["coefficients"][0].get(key).is_some(), "{key}");
    }
}

// ---------------------------------------------------------------- the command line

fn tau_json(args: &[&str]) -> Value {
    let output = crate::util::tau().args(args).output().expect("runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("JSON")
}

/// `tau regress --robust` on studies/bcg.json (the BCG trials as tau reads
/// them, RR as escalc computes it) gives the fixture's clubSandwich values,
/// in the JSON contract's places.
#[test]
fn cli_regress_robust_matches_clubsandwich() {
    let case = cases()
        .into_iter()
        .find(|c| c["id"] == "bcg_reml_ablat_alloc")
        .expect("case");
    let json = tau_json(&[
        "regress",
        "studies/bcg.json",
        "--mods",
        "ablat",
        "--robust",
        "alloc",
        "--format",
        "json",
    ]);
    let cs = &case["clubsandwich"];
    let coefficients = json["coefficients"].as_array().expect("coefficients");
    for (key, expected) in [
        ("se", "se"),
        ("df", "df"),
        ("p", "p"),
        ("ci_lower", "ci_lower"),
    ] {
        let actual: Vec<f64> = coefficients
            .iter()
            .map(|c| c[key].as_f64().expect("number"))
            .collect();
        check_all("cli regress", key, &actual, &nums(&cs[expected]));
    }
    check(
        "cli regress",
        "QM",
        json["QM"].as_f64().expect("QM"),
        cs["QM"].as_f64().expect("QM"),
    );
    check(
        "cli regress",
        "QM_df2",
        json["QM_df2"].as_f64().expect("df2"),
        cs["QM_df2"].as_f64().expect("df2"),
    );
    assert_eq!(json["QM_distribution"], "F");
    assert_eq!(json["robust"]["small_sample"], "Satterthwaite/HTZ");
    assert_eq!(json["robust"]["clusters"], 3);
    assert!(json["model_based"]["coefficients"].is_array());
}

/// `tau pool --robust --small-sample none` gives metafor's robust(adjust = TRUE)
/// at the top level, and says which was used.
#[test]
fn cli_pool_small_sample_none_matches_robust_adjust() {
    let case = cases()
        .into_iter()
        .find(|c| c["id"] == "bcg_dl_intercept_alloc")
        .expect("case");
    let json = tau_json(&[
        "pool",
        "studies/bcg.json",
        "--method",
        "DL",
        "--robust",
        "alloc",
        "--small-sample",
        "none",
        "--format",
        "json",
    ]);
    let ad = &case["adjust"];
    for key in ["se", "statistic", "p", "ci_lower", "ci_upper"] {
        check(
            "cli pool",
            key,
            json[key].as_f64().expect("number"),
            nums(&ad[key])[0],
        );
    }
    check(
        "cli pool",
        "df",
        json["df"].as_f64().expect("df"),
        ad["df"].as_f64().expect("df"),
    );
    assert_eq!(json["robust"]["type"], "CR1");
    assert_eq!(json["robust"]["small_sample"], "none");
    let text = crate::util::tau()
        .args(["pool", "studies/bcg.json", "--robust", "alloc"])
        .output()
        .expect("runs");
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("Robust inference (CR2, clusters: 3; cluster variable: alloc)"),
        "{text}"
    );
}

/// [`NOISY`]: tau's generalised inverse square root of Wood (1997)'s singular
/// block against clubSandwich's inverse of its rounding noise. Relative 1e-4,
/// not 1e-6: the noise moves clubSandwich's SEs by about 1.1e-5 (see NOISY).
#[test]
fn singular_block_with_noise_in_clubsandwich() {
    let case = all_cases()
        .into_iter()
        .find(|c| c["id"] == NOISY)
        .expect("case");
    let r = run(&case, SmallSample::Satterthwaite);
    let expected = nums(&case["clubsandwich"]["se"]);
    for (j, (c, e)) in r.coefficients.iter().zip(&expected).enumerate() {
        assert!(
            crate::util::prec::close_to(c.se, *e, 1e-4),
            "se[{j}]: tau {} vs clubSandwich {e}",
            c.se
        );
    }
}
