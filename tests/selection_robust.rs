//! tau against R: step-function selection models with cluster-robust
//! standard errors (dependent effect sizes).
//!
//! Expected values: tests/fixtures/selection_robust.json, written by
//! tests/fixtures/generate_selection_robust.R: metafor 3.8.1's `selmodel`
//! fits the model, the per-effect scores are `numDeriv::jacobian` of each
//! effect's log-likelihood contribution (tau's are analytic), summed per
//! cluster, and the sandwich uses metafor's own Hessian. Data:
//! dat.bornmann2007 (66 effects in 21 studies) and simulated clustered data
//! with selection (76 effects in 40 studies), one and two cut-points, both
//! directions, ML and EE, with a moderator.
//!
//! Tolerance: relative 1e-5, the selection-model contract, for the
//! estimates, standard errors and z statistics. The estimates agree to 1e-9;
//! the robust SEs to about 3e-6, because the sandwich uses the numerical
//! Hessian twice, and tau's and metafor's Hessians agree to about 1e-6 (the
//! model-based SEs, tests/metafor_selection.rs). Two derived values magnify
//! that: a CI limit near 0 (b − 1.96·se is a difference) and a small p-value
//! (its relative error is about z² times that of z). So CI limits are
//! compared within 1e-5 of their standard error, and p-values at 1e-5·max(1, z²).

use crate::util::prec::close_to;
use nalgebra::DMatrix;
use serde_json::Value;
use tau_core::bias::selection::{
    Alternative, Clusters, SelectionOptions, SelectionType, selection_model_clustered,
};
use tau_core::model::Control;

const TOLERANCE: f64 = 1e-5;

fn numbers(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap_or(f64::NAN))
        .collect()
}

fn check(errors: &mut Vec<String>, case: &str, what: &str, actual: &[f64], expected: &Value) {
    let expected = numbers(expected);
    assert_eq!(actual.len(), expected.len(), "{case}: {what}");
    for (i, (a, e)) in actual.iter().zip(&expected).enumerate() {
        let same = (a.is_nan() && e.is_nan()) || close_to(*a, *e, TOLERANCE);
        if !same {
            errors.push(format!("{case}: {what}[{}] = {a:.10e}, R {e:.10e}", i + 1));
        }
    }
}

/// CI limits within 1e-5 of their standard error `se` (module docs).
fn check_limits(
    errors: &mut Vec<String>,
    case: &str,
    what: &str,
    actual: &[f64],
    expected: &Value,
    se: &[f64],
) {
    let expected = numbers(expected);
    assert_eq!(actual.len(), expected.len(), "{case}: {what}");
    for (i, ((a, e), s)) in actual.iter().zip(&expected).zip(se).enumerate() {
        let same = (a.is_nan() && e.is_nan()) || (a - e).abs() <= TOLERANCE * s;
        if !same {
            errors.push(format!(
                "{case}: {what}[{}] = {a:.10e}, R {e:.10e} (se {s:.4e})",
                i + 1
            ));
        }
    }
}

/// Two-sided p-values at 1e-5·max(1, z²) relative (module docs).
fn check_p(
    errors: &mut Vec<String>,
    case: &str,
    what: &str,
    actual: &[f64],
    expected: &Value,
    z: &[f64],
) {
    let expected = numbers(expected);
    assert_eq!(actual.len(), expected.len(), "{case}: {what}");
    for (i, ((a, e), z)) in actual.iter().zip(&expected).zip(z).enumerate() {
        let tolerance = TOLERANCE * (z * z).max(1.0);
        let same = (a.is_nan() && e.is_nan()) || close_to(*a, *e, tolerance);
        if !same {
            errors.push(format!(
                "{case}: {what}[{}] = {a:.10e}, R {e:.10e} (z {z:.3})",
                i + 1
            ));
        }
    }
}

#[test]
fn robust_selection_models_match_the_r_sandwich() {
    let fixtures: Value = crate::util::fixture("selection_robust.json");
    let mut errors = Vec::new();
    for case in fixtures["cases"].as_array().unwrap() {
        let name = format!(
            "{} {} steps={} {} mods={}",
            case["data"].as_str().unwrap(),
            case["method"].as_str().unwrap(),
            case["steps"],
            case["alternative"].as_str().unwrap(),
            case["x_names"]
        );
        let yi = numbers(&case["yi"]);
        let vi = numbers(&case["vi"]);
        let columns: Vec<Vec<f64>> = case["x"].as_array().unwrap().iter().map(numbers).collect();
        let x = DMatrix::from_fn(yi.len(), columns.len(), |i, j| columns[j][i]);
        let names: Vec<String> = case["x_names"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n.as_str().unwrap().to_owned())
            .collect();
        let ids: Vec<&str> = case["cluster"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap())
            .collect();
        let mut groups: Vec<(String, Vec<usize>)> = Vec::new();
        for (i, id) in ids.iter().enumerate() {
            match groups.iter_mut().find(|(g, _)| g == id) {
                Some((_, rows)) => rows.push(i),
                None => groups.push(((*id).to_owned(), vec![i])),
            }
        }
        let options = SelectionOptions {
            kind: SelectionType::Step,
            steps: numbers(&case["steps"]),
            alternative: match case["alternative"].as_str().unwrap() {
                "less" => Alternative::Less,
                _ => Alternative::Greater,
            },
            common_effect: case["method"] == "EE",
            level: 95.0,
            control: Control::default(),
        };
        let clusters = Clusters {
            name: "cluster".into(),
            groups,
        };
        let r = selection_model_clustered(&yi, &vi, &x, &names, true, &options, &clusters)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let robust = r.robust.as_ref().expect("robust");
        assert_eq!(robust.kind, "CR0");
        assert_eq!(
            robust.clusters as f64,
            case["clusters"].as_f64().unwrap(),
            "{name}"
        );
        let e = &mut errors;
        let coef = |f: fn(&tau_core::Estimate) -> f64| {
            r.coefficients
                .iter()
                .map(|c| f(&c.estimate))
                .collect::<Vec<_>>()
        };
        check(e, &name, "beta", &coef(|x| x.value), &case["beta"]);
        check(
            e,
            &name,
            "model se",
            &[robust.model_se],
            &Value::from(vec![case["model_se"][0].clone()]),
        );
        check(e, &name, "se", &coef(|x| x.se), &case["se"]);
        check(e, &name, "zval", &coef(|x| x.statistic), &case["zval"]);
        let (se, z) = (coef(|x| x.se), coef(|x| x.statistic));
        check_p(e, &name, "pval", &coef(|x| x.p), &case["pval"], &z);
        check_limits(
            e,
            &name,
            "ci.lb",
            &coef(|x| x.ci_lower),
            &case["ci_lb"],
            &se,
        );
        check_limits(
            e,
            &name,
            "ci.ub",
            &coef(|x| x.ci_upper),
            &case["ci_ub"],
            &se,
        );
        if let Some(qm) = &r.moderators_test {
            check(
                e,
                &name,
                "QM",
                &[qm.statistic, qm.p],
                &Value::from(vec![case["QM"].clone(), case["QMp"].clone()]),
            );
        }
        if case["method"] == "ML" {
            check(
                e,
                &name,
                "tau2 (se)",
                &[r.tau2, r.tau2_se],
                &Value::from(vec![case["tau2"].clone(), case["se_tau2"].clone()]),
            );
            check_limits(
                e,
                &name,
                "tau2 ci",
                &r.tau2_ci,
                &Value::from(vec![case["ci_lb_tau2"].clone(), case["ci_ub_tau2"].clone()]),
                &[r.tau2_se; 2],
            );
        }
        check(e, &name, "delta", &r.delta, &case["delta"]);
        check(e, &name, "se.delta", &r.delta_se, &case["se_delta"]);
        check(
            e,
            &name,
            "zval.delta",
            &r.delta_statistic,
            &case["zval_delta"],
        );
        check_p(
            e,
            &name,
            "pval.delta",
            &r.delta_p,
            &case["pval_delta"],
            &r.delta_statistic,
        );
        let lb: Vec<f64> = r.delta_ci.iter().map(|ci| ci[0]).collect();
        let ub: Vec<f64> = r.delta_ci.iter().map(|ci| ci[1]).collect();
        check_limits(
            e,
            &name,
            "ci.lb.delta",
            &lb,
            &case["ci_lb_delta"],
            &r.delta_se,
        );
        check_limits(
            e,
            &name,
            "ci.ub.delta",
            &ub,
            &case["ci_ub_delta"],
            &r.delta_se,
        );
    }
    assert!(
        errors.is_empty(),
        "{} values differ:\n{}",
        errors.len(),
        errors.join("\n")
    );
}

/// `tau selection --robust CLUSTER` end to end: the simulated file written by
/// the fixture script, the 3PSM (ML, steps 0.025, greater), and the JSON
/// keys of the contract with the robust values of the fixture's third case.
#[test]
fn cli_reports_the_robust_3psm() {
    let fixtures: Value = crate::util::fixture("selection_robust.json");
    let case = &fixtures["cases"][2];
    assert_eq!(case["data"], "simulated");
    assert_eq!(case["method"], "ML");
    assert_eq!(numbers(&case["steps"]), [0.025]);
    assert_eq!(case["x_names"].as_array().unwrap().len(), 1);
    let run = |format: &str| {
        let output = crate::util::tau()
            .args([
                "selection",
                "tests/fixtures/selection_clustered_studies.json",
                "--steps",
                "0.025",
                "--robust",
                "cluster",
                "--format",
                format,
            ])
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    };
    let json: Value = serde_json::from_str(&run("json")).unwrap();
    assert_eq!(json["robust"]["type"], "CR0");
    assert_eq!(json["robust"]["cluster"], "cluster");
    assert_eq!(json["robust"]["clusters"], 40);
    let mut errors = Vec::new();
    for (key, expected) in [
        ("estimate", &case["beta"]),
        ("se", &case["se"]),
        ("statistic", &case["zval"]),
        ("delta_se", &case["se_delta"]),
    ] {
        let actual = match &json[key] {
            Value::Array(values) => values
                .iter()
                .map(|v| v.as_f64().unwrap_or(f64::NAN))
                .collect(),
            v => vec![v.as_f64().unwrap()],
        };
        check(&mut errors, "cli", key, &actual, expected);
    }
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    let text = run("text");
    assert!(text.contains("Cluster-robust standard errors"), "{text}");
    assert!(text.contains("clusters: 40, by 'cluster'"), "{text}");
}

/// `tau bias --robust CLUSTER` adds the cluster-robust 3PSM to the report and
/// to the side-by-side table, with the values of the fixture's third case.
#[test]
fn bias_table_gets_the_robust_3psm() {
    let fixtures: Value = crate::util::fixture("selection_robust.json");
    let case = &fixtures["cases"][2];
    let output = crate::util::tau()
        .args([
            "bias",
            "tests/fixtures/selection_clustered_studies.json",
            "--robust",
            "cluster",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let json: Value = serde_json::from_slice(&output.stdout).unwrap();
    let dependent = &json["dependent"];
    assert_eq!(dependent["cluster"], "cluster");
    assert_eq!(dependent["clusters"], 40);
    let selection = &dependent["selection"];
    assert_eq!(selection["robust"]["type"], "CR0");
    let mut errors = Vec::new();
    for (key, expected) in [("se", &case["se"]), ("statistic", &case["zval"])] {
        check(
            &mut errors,
            "bias",
            key,
            &[selection[key].as_f64().unwrap()],
            expected,
        );
    }
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    let row = json["adjusted"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["method"] == "3PSM, cluster-robust SE")
        .expect("a row for the robust 3PSM");
    assert_eq!(row["ci_lower"], selection["ci_lower"]);
}
