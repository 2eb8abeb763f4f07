//! tau against metafor: fit statistics, tests of a subset of coefficients and
//! likelihood-ratio tests between nested models (issue 15, item 3).
//!
//! Expected values: tests/fixtures/toolkit.json (sections `fitstats`, `btt`,
//! `compare`, data in `model_data`), written by
//! tests/fixtures/generate_toolkit.R with metafor 3.8.1 / metadat 1.2.0:
//! `fitstats(rma(...))` for every estimator, `anova(res, btt = ...)` and
//! `anova(full, reduced, refit = TRUE)`, on dat.bcg (log RR),
//! dat.bangertdrowns2004 and dat.mcdaniel1994 (ZCOR).
//!
//! Tolerance: relative 1e-6.

use crate::util::prec::close;
use serde_json::Value;
use tau_core::data::dataset::{Dataset, load_json};
use tau_core::model::{FitOptions, Method, Test};
use tau_core::regression::compare::compare;
use tau_core::regression::subset_test::subset_test;
use tau_core::regression::{DesignSpec, RegressionOptions, regress};

fn fixtures() -> Value {
    crate::util::fixture("toolkit.json")
}

/// The data set a case names.
fn data(all: &Value, case: &Value) -> Dataset {
    let name = case["data"].as_str().unwrap();
    load_json(&all["model_data"][name].to_string(), None).unwrap()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_owned())
        .collect()
}

fn options(case: &Value) -> FitOptions {
    FitOptions {
        method: Method::parse(case["method"].as_str().unwrap()).unwrap(),
        test: case["test"]
            .as_str()
            .map_or(Test::Z, |t| Test::parse(t).unwrap()),
        ..FitOptions::default()
    }
}

/// Compares `actual` with the fixture's `key`.
fn check(found: &mut Vec<String>, case: &str, key: &str, actual: f64, expected: &Value) {
    let e = expected[key].as_f64().unwrap();
    if !close(actual, e) {
        found.push(format!("{case}: {key} = {actual:.12e}, metafor {e:.12e}"));
    }
}

fn check_fit_statistics(
    found: &mut Vec<String>,
    name: &str,
    f: &tau_core::model::fit_statistics::FitStatistics,
    expected: &Value,
) {
    for (key, actual) in [
        ("logLik", f.log_lik),
        ("deviance", f.deviance),
        ("AIC", f.aic),
        ("BIC", f.bic),
        ("AICc", f.aicc),
    ] {
        check(found, name, key, actual, expected);
    }
}

/// `fitstats()` of `rma()` with and without moderators, every estimator:
/// `pool` for the intercept-only models, `regress` for the others.
#[test]
fn fit_statistics_match_fitstats() {
    let all = fixtures();
    let cases = all["fitstats"].as_array().unwrap();
    assert!(cases.len() >= 80);
    let mut found = Vec::new();
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let data = data(&all, case);
        let mods = strings(&case["mods"]);
        let fit = options(case);
        let (statistics, tau2) = if mods.is_empty() {
            let r = tau_core::pool(&data, &fit).unwrap();
            (r.fit_statistics, r.tau2)
        } else {
            let r = regress(
                &data,
                &RegressionOptions {
                    fit,
                    design: DesignSpec {
                        moderators: mods,
                        references: Vec::new(),
                        intercept: true,
                    },
                    permutations: None,
                },
            )
            .unwrap();
            (r.fit_statistics, r.tau2)
        };
        check(&mut found, name, "tau2", tau2, case);
        check_fit_statistics(&mut found, name, &statistics, case);
    }
    assert!(found.is_empty(), "{}", found.join("\n"));
}

fn regression(data: &Dataset, fit: FitOptions, mods: Vec<String>) -> tau_core::RegressionResult {
    regress(
        data,
        &RegressionOptions {
            fit,
            design: DesignSpec {
                moderators: mods,
                references: Vec::new(),
                intercept: true,
            },
            permutations: None,
        },
    )
    .unwrap()
}

/// `anova(res, btt = ...)`: a moderator names all of its columns.
#[test]
fn subset_tests_match_anova_btt() {
    let all = fixtures();
    let cases = all["btt"].as_array().unwrap();
    assert!(cases.len() >= 20);
    let mut found = Vec::new();
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let r = regression(&data(&all, case), options(case), strings(&case["mods"]));
        let t = subset_test(&r, &strings(&case["btt"])).unwrap();
        assert_eq!(
            t.coefficients.len(),
            case["coefficients"].as_array().unwrap().len(),
            "{name}"
        );
        check(&mut found, name, "QM", t.qm, case);
        check(&mut found, name, "QM_df", t.qm_df as f64, case);
        check(&mut found, name, "QM_p", t.qm_p, case);
        match t.qm_df2 {
            Some(df2) => check(&mut found, name, "QM_df2", df2, case),
            None => assert!(case.get("QM_df2").is_none(), "{name}"),
        }
    }
    assert!(found.is_empty(), "{}", found.join("\n"));
}

/// A coefficient can be named as tau names it; an unknown name is exit 2
/// with the model's moderators and coefficients listed.
#[test]
fn cli_btt() {
    let output = crate::util::tau()
        .args(["regress", "studies/bcg.json", "--mods", "ablat,year,alloc"])
        .args(["--btt", "alloc=random,year", "--format", "json"])
        .output()
        .unwrap();
    assert!(output.status.success());
    let json: Value = serde_json::from_slice(&output.stdout).unwrap();
    let btt = &json["btt"];
    assert_eq!(
        btt["coefficients"],
        serde_json::json!(["year", "alloc=random"])
    );
    assert_eq!(btt["QM_df"], 2);
    assert!(btt["QM"].as_f64().unwrap() > 0.0 && btt["QM_p"].as_f64().unwrap() < 1.0);
    let output = crate::util::tau()
        .args([
            "regress",
            "studies/bcg.json",
            "--mods",
            "ablat",
            "--btt",
            "year",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("'year' is not in the model") && stderr.contains("(intrcpt, ablat)"),
        "{stderr}"
    );
}

/// `anova(full, reduced, refit = TRUE)`: REML fits refitted with ML, both
/// models fitted to the studies with every moderator of the full one (the R
/// script subsets the data; tau is given the whole file).
#[test]
fn likelihood_ratio_tests_match_anova() {
    let all = fixtures();
    let cases = all["compare"].as_array().unwrap();
    assert!(cases.len() >= 16);
    let mut found = Vec::new();
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let r = compare(
            &data(&all, case),
            &strings(&case["full_mods"]),
            &strings(&case["reduced_mods"]),
            &options(case),
        )
        .unwrap();
        assert_eq!(
            r.settings.fit_method.name(),
            case["fit_method"].as_str().unwrap(),
            "{name}"
        );
        assert_eq!(r.k as f64, case["k"].as_f64().unwrap(), "{name}");
        check(&mut found, name, "LRT_df", r.lrt_df as f64, case);
        check(&mut found, name, "LRT_p", r.lrt_p, case);
        check(&mut found, name, "R2", r.r2.unwrap_or(f64::NAN), case);
        // The LRT is a difference of deviances: compared absolutely, to the
        // same 1e-6 relative to the deviances (it is 0 in one case).
        let scale = r.full.fit_statistics.deviance.abs().max(1.0);
        let expected = case["LRT"].as_f64().unwrap();
        if (r.lrt - expected).abs() > 1e-6 * scale {
            found.push(format!("{name}: LRT = {}, metafor {expected}", r.lrt));
        }
        for (side, m) in [("full", &r.full), ("reduced", &r.reduced)] {
            let e = &case[side];
            let label = format!("{name} ({side})");
            check_fit_statistics(&mut found, &label, &m.fit_statistics, e);
            check(&mut found, &label, "parms", m.parms as f64, e);
            check(&mut found, &label, "QE", m.qe, e);
            check(&mut found, &label, "tau2", m.tau2.unwrap_or(f64::NAN), e);
        }
    }
    assert!(found.is_empty(), "{}", found.join("\n"));
}

/// The JSON contract of `tau compare`, and its refusals.
#[test]
fn cli_compare() {
    let output = crate::util::tau()
        .args(["compare", "studies/bcg.json", "--full", "ablat,year"])
        .args(["--reduced", "ablat", "--format", "json"])
        .output()
        .unwrap();
    assert!(output.status.success());
    let json: Value = serde_json::from_slice(&output.stdout).unwrap();
    for key in ["LRT", "LRT_df", "LRT_p", "R2", "k"] {
        assert!(json[key].is_number(), "{key}");
    }
    for side in ["full", "reduced"] {
        for key in [
            "logLik", "deviance", "AIC", "BIC", "AICc", "parms", "QE", "tau2",
        ] {
            assert!(json[side][key].is_number(), "{side}.{key}");
        }
    }
    assert_eq!(json["settings"]["fit_method"], "ML");
    assert_eq!(json["LRT_df"], 1);
    for (args, text) in [
        (["--full", "ablat", "--reduced", "year"], "not nested"),
        (["--full", "ablat", "--reduced", "ablat"], "same moderators"),
    ] {
        let output = crate::util::tau()
            .args(["compare", "studies/bcg.json"])
            .args(args)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&output.stderr).contains(text));
    }
}

fn check_pair(
    found: &mut Vec<String>,
    case: &str,
    key: &str,
    actual: Option<[f64; 2]>,
    expected: &Value,
) {
    let e = expected[key].as_array().unwrap();
    match actual {
        Some(pair) => {
            for (a, e) in pair.iter().zip(e) {
                let e = e.as_f64().unwrap();
                if !close(*a, e) {
                    found.push(format!("{case}: {key} = {a:.12e}, metafor {e:.12e}"));
                }
            }
        }
        None => found.push(format!("{case}: no {key}")),
    }
}

/// `confint(res)`: the Q-profile CI of the residual τ², I² and H², with and
/// without moderators (`tau2` section).
#[test]
fn residual_tau2_ci_matches_confint() {
    let all = fixtures();
    let cases = all["tau2"].as_array().unwrap();
    assert!(cases.len() >= 50);
    let mut found = Vec::new();
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let data = data(&all, case);
        let mods = strings(&case["mods"]);
        let fit = options(case);
        let (tau2, cis) = if mods.is_empty() {
            let r = tau_core::pool(&data, &fit).unwrap();
            (r.tau2, [r.tau2_ci, r.i2_ci, r.h2_ci])
        } else {
            let r = regression(&data, fit, mods);
            (r.tau2, [r.tau2_ci, r.i2_ci, r.h2_ci])
        };
        check(&mut found, name, "tau2", tau2, case);
        for (key, ci) in ["tau2_ci", "I2_ci", "H2_ci"].into_iter().zip(cis) {
            check_pair(&mut found, name, key, ci, case);
        }
    }
    assert!(found.is_empty(), "{}", found.join("\n"));
}

/// `se.tau2` (ML, REML, EB, PM, DL, SJ) and `confint(res, type = "Wald")`,
/// with and without moderators: every estimator has its SE.
#[test]
fn tau2_se_and_wald_ci_match_metafor() {
    let all = fixtures();
    let cases = all["tau2"].as_array().unwrap();
    let mut found = Vec::new();
    let mut compared = 0;
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let data = data(&all, case);
        let mods = strings(&case["mods"]);
        let fit = options(case);
        let (se, wald, cis) = if mods.is_empty() {
            let mut r = tau_core::pool(&data, &fit).unwrap();
            let wald = r.use_wald_tau2_ci();
            (r.tau2_se, wald, [r.tau2_ci, r.i2_ci, r.h2_ci])
        } else {
            let mut r = regression(&data, fit, mods);
            let wald = r.use_wald_tau2_ci();
            (r.tau2_se, wald, [r.tau2_ci, r.i2_ci, r.h2_ci])
        };
        let Some(se) = se else {
            panic!("{name} ({}): no SE of tau^2", fit.method.name());
        };
        compared += 1;
        assert!(wald, "{name}");
        check(&mut found, name, "se_tau2", se, case);
        for (key, ci) in ["tau2_ci_wald", "I2_ci_wald", "H2_ci_wald"]
            .into_iter()
            .zip(cis)
        {
            check_pair(&mut found, name, key, ci, case);
        }
    }
    assert_eq!(compared, cases.len());
    assert!(found.is_empty(), "{}", found.join("\n"));
}

/// `confint(res, type = "PL")`: the profile-likelihood CI of the (residual)
/// τ², I² and H², every estimator of the `tau2` section.
#[test]
fn profile_likelihood_ci_matches_confint_pl() {
    let all = fixtures();
    let cases = all["tau2"].as_array().unwrap();
    let mut found = Vec::new();
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let data = data(&all, case);
        let mods = strings(&case["mods"]);
        let fit = options(case);
        let cis = if mods.is_empty() {
            let mut r = tau_core::pool(&data, &fit).unwrap();
            assert!(r.use_profile_tau2_ci(&data).unwrap());
            [r.tau2_ci, r.i2_ci, r.h2_ci]
        } else {
            let mut r = regression(&data, fit, mods);
            assert!(r.use_profile_tau2_ci().unwrap());
            [r.tau2_ci, r.i2_ci, r.h2_ci]
        };
        for (key, ci) in ["tau2_ci_profile", "I2_ci_profile", "H2_ci_profile"]
            .into_iter()
            .zip(cis)
        {
            check_pair(&mut found, name, key, ci, case);
        }
    }
    assert!(found.is_empty(), "{}", found.join("\n"));
}

/// `--tau2-ci wald|profile` on the CLI: the JSON names the kind of CI.
#[test]
fn cli_tau2_ci() {
    for (command, kind) in [("pool", "wald"), ("regress", "profile")] {
        let output = crate::util::tau()
            .args([
                command,
                "studies/bcg.json",
                "--tau2-ci",
                kind,
                "--format",
                "json",
            ])
            .args(if command == "regress" {
                &["--mods", "ablat"][..]
            } else {
                &[][..]
            })
            .output()
            .unwrap();
        assert!(output.status.success(), "{command} {kind}");
        let json: Value = serde_json::from_slice(&output.stdout).unwrap();
        let expected = if kind == "wald" { "Wald" } else { "profile" };
        assert_eq!(json["tau2_ci_type"], expected);
        assert!(json["tau2_se"].as_f64().unwrap() > 0.0);
    }
    let output = crate::util::tau()
        .args([
            "pool",
            "studies/bcg.json",
            "--method",
            "EE",
            "--tau2-ci",
            "wald",
        ])
        .output()
        .unwrap();
    // Every tau^2 estimator has its SE now (metafor's se.tau2), so only the
    // common-effect model, which has no tau^2, is refused.
    assert_eq!(output.status.code(), Some(2));
}
