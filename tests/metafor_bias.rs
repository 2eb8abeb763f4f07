//! tau against metafor: publication bias and sensitivity analyses.
//!
//! Expected values: tests/fixtures/bias.json, written by
//! tests/fixtures/generate_bias.R with metafor 3.8.1 / metadat 1.2.0 / R 4.2.2
//! (`regtest`, `ranktest`, `trimfill`, `fsn`, `leave1out`, `cumul`,
//! `influence`, `baujat`, and `lm()` for PET-PEESE) on five metadat data sets
//! under REML, DL, PM and EE with z tests and REML with Knapp-Hartung.
//!
//! Tolerance: relative 1e-6 throughout, including the iterative pieces
//! (trim-and-fill's loop, every refit's τ²): tau takes metafor's steps.

use crate::util::prec::close;
use nalgebra::DMatrix;
use serde_json::Value;
use tau_core::bias::{begg, egger, fail_safe, pet_peese, trim_and_fill};
use tau_core::input::Moderator;
use tau_core::sensitivity::baujat::baujat_regression;
use tau_core::sensitivity::cumulative::cumulative;
use tau_core::sensitivity::influence::influence_regression;
use tau_core::sensitivity::leave_one_out::leave_one_out;
use tau_core::sensitivity::{RefitRow, baujat, influence};
use tau_core::{Dataset, FitOptions, Measure, Method, Test};

fn fixtures() -> Value {
    crate::util::fixture("bias.json")
}

/// |actual − expected| ≤ 1e-6 · |expected|, with an absolute floor of 1e-12 for values at 0.

#[derive(Default)]
struct Mismatches {
    found: Vec<String>,
    checked: usize,
}

impl Mismatches {
    /// Compares with a fixture value; `null` in the fixture means NA/NaN in R.
    fn check(&mut self, case: &str, what: &str, actual: f64, expected: &Value) {
        self.checked += 1;
        match expected.as_f64() {
            Some(e) if !close(actual, e) => self
                .found
                .push(format!("{case}: {what} = {actual:.12e}, metafor {e:.12e}")),
            None if !actual.is_nan() => self
                .found
                .push(format!("{case}: {what} = {actual}, metafor null")),
            _ => {}
        }
    }
    fn check_all(&mut self, case: &str, what: &str, actual: &[f64], expected: &Value) {
        let expected = expected.as_array().expect("array");
        assert_eq!(actual.len(), expected.len(), "{case}: {what} length");
        for (i, (a, e)) in actual.iter().zip(expected).enumerate() {
            self.check(case, &format!("{what}[{}]", i + 1), *a, e);
        }
    }
    fn assert_none(self, min_checked: usize) {
        assert!(
            self.found.is_empty(),
            "{} mismatches:\n{}",
            self.found.len(),
            self.found.join("\n")
        );
        assert!(
            self.checked >= min_checked,
            "only {} values checked",
            self.checked
        );
    }
}

/// A fail-safe number as metafor reports it (`Inf` for `None`).
fn count(n: Option<u64>) -> f64 {
    n.map_or(f64::INFINITY, |n| n as f64)
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_f64().expect("number"))
        .collect()
}

fn data(ds: &Value) -> Dataset {
    let mut data = Dataset::from_effects(Measure::GEN, &floats(&ds["yi"]), &floats(&ds["vi"]));
    if let Some(order) = ds.get("order") {
        for (study, year) in data.studies.iter_mut().zip(floats(order)) {
            study.moderators.insert("year", Moderator::Number(year));
        }
    }
    data
}

fn options(model: &Value) -> (String, FitOptions) {
    let method = Method::parse(model["method"].as_str().expect("method")).expect("method");
    let test = if model["test"] == "knha" {
        Test::Knha
    } else {
        Test::Z
    };
    let name = format!("{} {}", method.name(), test.name());
    (
        name,
        FitOptions {
            method,
            test,
            ..FitOptions::default()
        },
    )
}

fn datasets(fx: &Value) -> &Vec<Value> {
    assert_eq!(fx["metafor_version"], "3.8.1");
    let all = fx["datasets"].as_array().expect("datasets");
    assert!(all.len() >= 5);
    all
}

#[test]
fn model_free_tests_match_ranktest_fsn_and_lm() {
    let fx = fixtures();
    let mut bad = Mismatches::default();
    for ds in datasets(&fx) {
        let id = ds["id"].as_str().expect("id");
        let (yi, vi) = (floats(&ds["yi"]), floats(&ds["vi"]));
        let b = begg(&yi, &vi).expect("begg");
        bad.check(id, "begg tau", b.tau, &ds["begg"]["tau"]);
        bad.check(id, "begg p", b.p, &ds["begg"]["p"]);
        let tied = ds["begg"].get("warnings").is_some();
        assert_eq!(b.p_method, if tied { "normal" } else { "exact" }, "{id}");

        let f = fail_safe(&yi, &vi, 0.05);
        let e = &ds["failsafe"];
        for (key, actual) in [
            ("rosenthal", count(f.rosenthal)),
            ("rosenthal_p", f.rosenthal_p),
            ("orwin", count(f.orwin)),
            ("orwin_target", f.orwin_target),
            ("rosenberg", count(f.rosenberg)),
            ("rosenberg_p", f.rosenberg_p),
        ] {
            bad.check(id, &format!("fsn {key}"), actual, &e[key]);
        }

        let pp = pet_peese(&yi, &vi, 95.0).expect("pet-peese");
        for (name, limit, e) in [
            ("pet", &pp.pet, &ds["pet"]),
            ("peese", &pp.peese, &ds["peese"]),
        ] {
            for (key, actual) in [
                ("estimate", limit.estimate.value),
                ("se", limit.estimate.se),
                ("statistic", limit.estimate.statistic),
                ("p", limit.estimate.p),
                ("ci_lower", limit.estimate.ci_lower),
                ("ci_upper", limit.estimate.ci_upper),
                ("slope", limit.slope),
            ] {
                bad.check(id, &format!("{name} {key}"), actual, &e[key]);
            }
        }
    }
    bad.assert_none(5 * 20);
}

#[test]
fn egger_and_trimfill_match_regtest_and_trimfill() {
    let fx = fixtures();
    let mut bad = Mismatches::default();
    for ds in datasets(&fx) {
        let (yi, vi) = (floats(&ds["yi"]), floats(&ds["vi"]));
        for model in ds["models"].as_array().expect("models") {
            let (name, opts) = options(model);
            let case = format!("{} {name}", ds["id"].as_str().expect("id"));
            let eg = egger(&yi, &vi, &opts).expect("egger");
            let e = &model["egger"];
            for (key, actual) in [
                ("statistic", eg.statistic),
                ("p", eg.p),
                ("limit_estimate", eg.limit_estimate),
                ("limit_ci_lower", eg.limit_ci_lower),
                ("limit_ci_upper", eg.limit_ci_upper),
                ("slope", eg.slope),
                ("tau2", eg.tau2),
            ] {
                bad.check(&case, &format!("egger {key}"), actual, &e[key]);
            }

            let tf = trim_and_fill(&yi, &vi, &opts, None).expect("trimfill");
            let e = &model["trimfill"];
            assert_eq!(tf.side.name(), e["side"], "{case}");
            assert_eq!(tf.k0 as u64, e["k0"].as_u64().expect("k0"), "{case}");
            for (key, actual) in [
                ("k0_se", tf.k0_se),
                ("estimate", tf.estimate),
                ("se", tf.se),
                ("ci_lower", tf.ci_lower),
                ("ci_upper", tf.ci_upper),
                ("tau2", tf.tau2),
            ] {
                bad.check(&case, &format!("trimfill {key}"), actual, &e[key]);
            }
            let filled: Vec<f64> = tf.filled.iter().map(|f| f.yi).collect();
            bad.check_all(&case, "trimfill filled yi", &filled, &e["filled_yi"]);
            let filled: Vec<f64> = tf.filled.iter().map(|f| f.vi).collect();
            bad.check_all(&case, "trimfill filled vi", &filled, &e["filled_vi"]);
        }
    }
    bad.assert_none(5 * 5 * 13);
}

fn check_rows(bad: &mut Mismatches, case: &str, rows: &[RefitRow], e: &Value) {
    let column = |f: fn(&RefitRow) -> f64| rows.iter().map(f).collect::<Vec<f64>>();
    for (key, actual) in [
        ("estimate", column(|r| r.estimate.value)),
        ("se", column(|r| r.estimate.se)),
        ("statistic", column(|r| r.estimate.statistic)),
        ("p", column(|r| r.estimate.p)),
        ("ci_lower", column(|r| r.estimate.ci_lower)),
        ("ci_upper", column(|r| r.estimate.ci_upper)),
        ("Q", column(|r| r.q)),
        ("Q_p", column(|r| r.q_p)),
        ("tau2", column(|r| r.tau2.unwrap_or(f64::NAN))),
        ("I2", column(|r| r.i2.unwrap_or(f64::NAN))),
        ("H2", column(|r| r.h2.unwrap_or(f64::NAN))),
    ] {
        bad.check_all(case, key, &actual, &e[key]);
    }
}

#[test]
fn leave_one_out_and_cumulative_match_leave1out_and_cumul() {
    let fx = fixtures();
    let mut bad = Mismatches::default();
    for ds in datasets(&fx) {
        let data = data(ds);
        let order = ds.get("order").map(|_| "year");
        for model in ds["models"].as_array().expect("models") {
            let (name, opts) = options(model);
            let case = format!("{} {name}", ds["id"].as_str().expect("id"));
            let loo = leave_one_out(&data, &opts).expect("leave-one-out");
            check_rows(
                &mut bad,
                &format!("{case} leave1out"),
                &loo.studies,
                &model["leave_one_out"],
            );
            let cum = cumulative(&data, order, &opts).expect("cumulative");
            check_rows(
                &mut bad,
                &format!("{case} cumul"),
                &cum.studies,
                &model["cumulative"],
            );
        }
    }
    bad.assert_none(2 * 11 * 5 * 200);
}

fn check_influence(
    bad: &mut Mismatches,
    case: &str,
    data: &Dataset,
    x: &DMatrix<f64>,
    opts: &FitOptions,
    e: &Value,
) {
    let names = ["intrcpt", "moderator"].map(String::from);
    let inf = influence_regression(data, x, &names[..x.ncols()], opts).expect("influence");
    let column =
        |f: fn(&influence::InfluenceStudy) -> f64| inf.studies.iter().map(f).collect::<Vec<f64>>();
    for (key, actual) in [
        ("rstudent", column(|s| s.rstudent)),
        ("dffits", column(|s| s.dffits)),
        ("cooks_distance", column(|s| s.cooks_distance)),
        ("cov_ratio", column(|s| s.cov_ratio)),
        ("tau2_deleted", column(|s| s.tau2_deleted)),
        ("QE_deleted", column(|s| s.qe_deleted)),
        ("hat", column(|s| s.hat)),
        ("weight", column(|s| s.weight)),
    ] {
        bad.check_all(case, key, &actual, &e[key]);
    }
    for (i, (s, expected)) in inf
        .studies
        .iter()
        .zip(e["dfbetas"].as_array().expect("dfbetas"))
        .enumerate()
    {
        bad.check_all(
            case,
            &format!("dfbetas[{}]", i + 1),
            &s.dfbetas.values,
            expected,
        );
    }
    let flags: Vec<bool> = inf.studies.iter().map(|s| s.influential).collect();
    let expected: Vec<bool> = e["influential"]
        .as_array()
        .expect("flags")
        .iter()
        .map(|v| v.as_bool().expect("bool"))
        .collect();
    if flags != expected {
        bad.found.push(format!(
            "{case}: influential {flags:?}, metafor {expected:?}"
        ));
    }
    let bj = baujat_regression(data, x, opts).expect("baujat");
    let bx: Vec<f64> = bj.studies.iter().map(|p| p.x).collect();
    let by: Vec<f64> = bj.studies.iter().map(|p| p.y).collect();
    bad.check_all(case, "baujat x", &bx, &e["baujat_x"]);
    bad.check_all(case, "baujat y", &by, &e["baujat_y"]);
}

#[test]
fn influence_and_baujat_match_metafor() {
    let fx = fixtures();
    let mut bad = Mismatches::default();
    for ds in datasets(&fx) {
        let data = data(ds);
        let k = data.studies.len();
        let id = ds["id"].as_str().expect("id");
        for model in ds["models"].as_array().expect("models") {
            let (name, opts) = options(model);
            let x = tau_core::model::intercept_design(k);
            check_influence(
                &mut bad,
                &format!("{id} {name}"),
                &data,
                &x,
                &opts,
                &model["influence"],
            );
            let bj = baujat::baujat(&data, &opts).expect("baujat");
            assert_eq!(bj.studies.len(), k);
        }
        for model in ds
            .get("regression")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let (name, opts) = options(model);
            let m = floats(&model["moderator"]);
            let x = DMatrix::from_fn(k, 2, |i, j| if j == 0 { 1.0 } else { m[i] });
            check_influence(
                &mut bad,
                &format!("{id} {name} ~ moderator"),
                &data,
                &x,
                &opts,
                model,
            );
        }
    }
    bad.assert_none(5 * 5 * 200);
}
