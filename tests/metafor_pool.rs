//! tau against metafor: effect sizes and pooled models.
//!
//! Expected values: tests/fixtures/pool.json, written by tests/fixtures/generate.R
//! with metafor 3.8.1 / metadat 1.2.0 / R 4.2.2 (Debian bookworm):
//! `escalc()` with its defaults, `rma(yi, vi, method, test, level)`, `confint(res)`
//! and `predict(res)`, for every measure × estimator × test × level.
//!
//! Tolerance: relative 1e-6 throughout. tau takes the same iterative steps as
//! metafor (Fisher scoring from the same start, R's `uniroot` for PM and the
//! Q-profile CI), so the loose default tolerances of those algorithms do not
//! need a loose comparison.

use crate::util::prec::close;
use serde::Deserialize;
use serde_json::Value;
use tau_core::data::dataset;
use tau_core::model::Control;
use tau_core::{FitOptions, Measure, Method, Test, pool};

#[derive(Deserialize)]
struct Fixtures {
    metafor_version: String,
    datasets: Vec<FixtureDataset>,
}

#[derive(Deserialize)]
struct FixtureDataset {
    id: String,
    measure: String,
    studies: Value,
    escalc: Escalc,
    fits: Vec<Value>,
}

#[derive(Deserialize)]
struct Escalc {
    yi: Vec<f64>,
    vi: Vec<f64>,
}

fn fixtures() -> Fixtures {
    crate::util::fixture("pool.json")
}

struct Mismatches(Vec<String>);

impl Mismatches {
    fn check(&mut self, case: &str, what: &str, actual: f64, expected: Option<f64>) {
        match expected {
            Some(e) if !close(actual, e) => self
                .0
                .push(format!("{case}: {what} = {actual:.12e}, metafor {e:.12e}")),
            None if actual.is_finite() => self
                .0
                .push(format!("{case}: {what} = {actual}, metafor null")),
            _ => {}
        }
    }
    fn assert_none(self) {
        assert!(
            self.0.is_empty(),
            "{} mismatches:\n{}",
            self.0.len(),
            self.0.join("\n")
        );
    }
}

fn load(ds: &FixtureDataset) -> tau_core::Dataset {
    let file = serde_json::json!({"measure": ds.measure, "studies": ds.studies});
    dataset::load_json(&file.to_string(), None).unwrap_or_else(|e| panic!("{}: {e}", ds.id))
}

#[test]
fn effect_sizes_match_escalc() {
    let fx = fixtures();
    let mut bad = Mismatches(Vec::new());
    for ds in &fx.datasets {
        let data = load(ds);
        assert_eq!(data.studies.len(), ds.escalc.yi.len(), "{}", ds.id);
        for (i, s) in data.studies.iter().enumerate() {
            let case = format!("{} study {}", ds.id, s.label());
            bad.check(&case, "yi", s.yi, Some(ds.escalc.yi[i]));
            bad.check(&case, "vi", s.vi, Some(ds.escalc.vi[i]));
        }
    }
    bad.assert_none();
}

fn num(v: &Value, key: &str) -> Option<f64> {
    v.get(key).and_then(Value::as_f64)
}

fn pair(v: &Value, key: &str, i: usize) -> Option<f64> {
    v.get(key).and_then(|a| a.get(i)).and_then(Value::as_f64)
}

#[test]
fn pooled_models_match_rma() {
    let fx = fixtures();
    assert_eq!(fx.metafor_version, "3.8.1");
    let mut bad = Mismatches(Vec::new());
    let mut cases = 0;
    for ds in &fx.datasets {
        let data = load(ds);
        for f in &ds.fits {
            let method =
                Method::parse(f["method"].as_str().expect("method")).expect("known method");
            let test = if f["test"] == "knha" {
                Test::Knha
            } else {
                Test::Z
            };
            let level = num(f, "level").expect("level");
            let case = format!("{} {} {} {}", ds.id, method.name(), test.name(), level);
            let options = FitOptions {
                method,
                test,
                level,
                control: Control::default(),
            };
            let r = pool(&data, &options).unwrap_or_else(|e| panic!("{case}: {e}"));
            cases += 1;
            for (key, actual) in [
                ("estimate", r.estimate.value),
                ("se", r.estimate.se),
                ("statistic", r.estimate.statistic),
                ("p", r.estimate.p),
                ("ci_lower", r.estimate.ci_lower),
                ("ci_upper", r.estimate.ci_upper),
                ("tau2", r.tau2),
                ("Q", r.q),
                ("Q_p", r.q_p),
                ("I2", r.i2),
                ("H2", r.h2),
                ("pi_lower", r.pi_lower),
                ("pi_upper", r.pi_upper),
            ] {
                bad.check(&case, key, actual, num(f, key));
            }
            for (key, ci) in [
                ("tau2_ci", r.tau2_ci),
                ("I2_ci", r.i2_ci),
                ("H2_ci", r.h2_ci),
            ] {
                for i in 0..2 {
                    let actual = ci.map_or(f64::NAN, |c| c[i]);
                    bad.check(&case, &format!("{key}[{i}]"), actual, pair(f, key, i));
                }
            }
            if let Some(iterations) = f.get("iterations").and_then(Value::as_u64)
                && r.settings.convergence.iterations as u64 != iterations
            {
                bad.0.push(format!(
                    "{case}: {} iterations, metafor {iterations}",
                    r.settings.convergence.iterations
                ));
            }
        }
    }
    assert!(cases >= 8 * 9 * 2 * 2, "only {cases} cases");
    bad.assert_none();
}

/// Every measure has a fixture: here, or for the measures of
/// tests/metafor_measures_more.rs in measures_more.json, or for PETO in the
/// `peto` section of estimators.json (tests/metafor_estimators.rs).
#[test]
fn every_measure_is_covered() {
    let fx = fixtures();
    // Pre-post and single means (tests/metafor_measures_prepost.rs) and the
    // measures of tests/metafor_measures_more.rs have their own fixtures.
    let prepost: Value = crate::util::fixture("measures_prepost.json");
    let more: Value = crate::util::fixture("measures_more.json");
    let estimators: Value = crate::util::fixture("estimators.json");
    let peto_covered = estimators["peto"].as_array().is_some_and(|p| !p.is_empty());
    let in_cases = |fixture: &Value, name: &str| {
        fixture["cases"]
            .as_array()
            .is_some_and(|cases| cases.iter().any(|c| c["measure"] == name))
    };
    for m in Measure::ALL {
        assert!(
            fx.datasets.iter().any(|d| d.measure == m.name())
                || in_cases(&prepost, m.name())
                || in_cases(&more, m.name())
                || (m == Measure::PETO && peto_covered),
            "no fixture for measure {m}"
        );
    }
}
