//! tau against metafor: the BLUPs (`ranef`) and the case diagnostics
//! (`rstandard`, `rstudent`, `hatvalues`, `cooks.distance`, `dfbetas`, with
//! and without `cluster =`) of multilevel models with nested random
//! intercepts, and the standardised and studentised residuals of
//! Mantel-Haenszel and Peto fits.
//!
//! Expected values: tests/fixtures/mv_diagnostics.json, written by
//! tests/fixtures/generate_mv_diagnostics.R with metafor 3.8.1 on
//! dat.bornmann2007 and dat.white2020 (each model records its metafor call).
//! Tolerance: relative 1e-6 (`util::prec::RELATIVE`), absolute 1e-12 near 0,
//! for what comes from the fit on all records (BLUPs, rstandard, hat values)
//! and for Mantel-Haenszel and Peto; 1e-4 for what metafor refits (see
//! [`REFITS`]) and on the flat likelihood of `born_rho` (see
//! [`full_fit_tolerance`]).

use crate::util::prec::{FLOOR, RELATIVE};
use serde_json::{Value, json};
use tau_core::Dataset;
use tau_core::analysis::{self, Analysis, Spec, diagnostics};
use tau_core::data::dataset;

fn fixtures() -> Value {
    crate::util::fixture("mv_diagnostics.json")
}

fn load(fx: &Value, id: &str) -> Dataset {
    let ds = fx["datasets"]
        .as_array()
        .expect("datasets")
        .iter()
        .find(|d| d["id"] == id)
        .expect("dataset");
    let file = json!({"measure": ds["measure"], "studies": ds["studies"]});
    dataset::load_json(&file.to_string(), None).expect("loads")
}

fn numbers(v: &Value) -> Vec<Option<f64>> {
    v.as_array()
        .expect("array")
        .iter()
        .map(Value::as_f64)
        .collect()
}

/// √x of each number of `values` (null stays null).
fn square_roots(values: &Value) -> Value {
    numbers(values)
        .into_iter()
        .map(|v| v.map(f64::sqrt))
        .collect::<Vec<_>>()
        .into()
}

/// The request of a fixture model: `tau pool` or `tau regress` with `random`.
fn spec(case: &Value, blup: bool) -> Spec {
    let random = case["random"].as_array().expect("random");
    let term = format!(
        "{}/{}",
        random[0].as_str().expect("outer"),
        random[1].as_str().expect("inner")
    );
    let mods = case["mods"].as_array().cloned().unwrap_or_default();
    let mut request = json!({
        "question": if mods.is_empty() { "pool" } else { "regress" },
        "random": [term],
        "method": case["method"],
        "test": case["test"],
        "mods": mods,
        "blup": blup,
        "fit_only": true,
    });
    if let Some(rho) = case["rho"].as_f64() {
        request["rho"] = json!([rho]);
    }
    serde_json::from_value(request).expect("a valid request")
}

/// The diagnostics that refit the model without each record or cluster
/// (rstudent, cooks.distance, dfbetas): metafor's refits run nlminb from
/// the full fit's σ² (Nelder-Mead fails in many of them) and stop up to
/// ~1e-5 (relative) short of the REML maximum, which moves these values by
/// as much; tau's refits converge to the maximum.
const REFITS: f64 = 1e-4;

/// The full-fit quantities of `id`: 1e-6 (`util::prec::RELATIVE`), except
/// `born_rho`, whose REML surface is so flat along σ² that tau's Newton
/// steps stop 1e-10 short in log-likelihood (-22.312031820245 against the
/// -22.312031820152 of a tight Nelder-Mead) with σ² 3e-6 apart (relative);
/// the BLUPs and residuals move by up to 1e-5.
fn full_fit_tolerance(id: &str) -> f64 {
    if id == "born_rho" { 1e-4 } else { RELATIVE }
}

/// Collects mismatches so that one run reports all of them.
struct Check {
    errors: Vec<String>,
    tolerance: f64,
    /// Below this magnitude, values are compared absolutely (to
    /// `tolerance`·`floor`).
    floor: f64,
}

impl Default for Check {
    fn default() -> Self {
        Check {
            errors: Vec::new(),
            tolerance: RELATIVE,
            floor: FLOOR,
        }
    }
}

/// DFBETAS and √(Cook's distance) are differences β̂ − β̂₍ᵤ₎ on the scale of
/// their SE, read against 1 (metafor's flag); a tiny one is compared to an
/// absolute `REFITS`·0.1 = 1e-5, since metafor's refit β̂₍ᵤ₎ carries ~1e-6 of
/// that scale from its stopping short.
const DIFFERENCE_FLOOR: f64 = 0.1;

impl Check {
    fn num(&mut self, what: &str, actual: Option<f64>, expected: Option<f64>) {
        match (actual, expected) {
            (Some(a), Some(e)) if (a - e).abs() <= self.tolerance * e.abs().max(self.floor) => {}
            (None, None) => {}
            _ => self.errors.push(format!(
                "{what}: tau {actual:?}, metafor {expected:?} (relative tolerance {})",
                self.tolerance
            )),
        }
    }

    fn all(&mut self, what: &str, actual: &[Option<f64>], expected: &Value) {
        let expected = numbers(expected);
        if actual.len() != expected.len() {
            self.errors.push(format!(
                "{what}: tau has {} values, metafor {}",
                actual.len(),
                expected.len()
            ));
            return;
        }
        for (i, (a, e)) in actual.iter().zip(&expected).enumerate() {
            self.num(&format!("{what}[{i}]"), *a, *e);
        }
    }

    /// Like [`Check::all`], with each value compared relative to the
    /// larger of itself and its standard error: a BLUP near 0 (a unit close
    /// to the mean) is compared on the scale of its uncertainty, since σ²
    /// that agree to 1e-7 (both at the REML maximum, log-likelihoods equal
    /// to 1e-13) move it by ~1e-10.
    fn scaled(&mut self, what: &str, actual: &[f64], expected: &Value, se: &Value) {
        let (expected, se) = (numbers(expected), numbers(se));
        assert_eq!(actual.len(), expected.len(), "{what}: number of values");
        for (i, ((a, e), s)) in actual.iter().zip(&expected).zip(&se).enumerate() {
            let (Some(e), Some(s)) = (e, s) else {
                self.errors
                    .push(format!("{what}[{i}]: metafor has no value"));
                continue;
            };
            if (a - e).abs() > self.tolerance * e.abs().max(*s) {
                self.errors.push(format!(
                    "{what}[{i}]: tau {a}, metafor {e} (se {s}, relative tolerance {})",
                    self.tolerance
                ));
            }
        }
    }

    fn done(self) {
        assert!(self.errors.is_empty(), "{}", self.errors.join("\n"));
    }
}

#[test]
fn ranef_matches_metafor() {
    let fx = fixtures();
    let mut check = Check::default();
    for case in fx["models"].as_array().expect("models") {
        let id = case["id"].as_str().expect("id");
        check.tolerance = full_fit_tolerance(id);
        let data = load(&fx, case["dataset"].as_str().expect("dataset"));
        let analysis = analysis::run(&spec(case, true), &data, &|_| {}).expect("fits");
        let Analysis::Multilevel(result) = analysis else {
            panic!("{id}: not a multilevel model")
        };
        let ranef = result.ranef.expect("ranef");
        let expected = case["ranef"].as_object().expect("ranef");
        let names: Vec<&str> = ranef.components.iter().map(|(n, _)| n.as_str()).collect();
        let metafor_names: Vec<&str> = expected.keys().map(String::as_str).collect();
        assert_eq!(names, metafor_names, "{id}: components");
        for (name, effects) in &ranef.components {
            let e = &expected[name];
            let levels: Vec<&str> = effects.iter().map(|u| u.level.as_str()).collect();
            let metafor_levels: Vec<&str> = e["level"]
                .as_array()
                .expect("levels")
                .iter()
                .map(|l| l.as_str().expect("level"))
                .collect();
            assert_eq!(levels, metafor_levels, "{id} {name}: levels");
            let what = |column: &str| format!("{id} {name} {column}");
            check.scaled(
                &what("intrcpt"),
                &effects.iter().map(|u| u.intrcpt).collect::<Vec<_>>(),
                &e["intrcpt"],
                &e["se"],
            );
            check.all(
                &what("se"),
                &effects.iter().map(|u| Some(u.se)).collect::<Vec<_>>(),
                &e["se"],
            );
            check.scaled(
                &what("pi_lower"),
                &effects.iter().map(|u| u.pi_lower).collect::<Vec<_>>(),
                &e["pi_lower"],
                &e["se"],
            );
            check.scaled(
                &what("pi_upper"),
                &effects.iter().map(|u| u.pi_upper).collect::<Vec<_>>(),
                &e["pi_upper"],
                &e["se"],
            );
        }
    }
    check.done();
}

#[test]
fn record_diagnostics_match_metafor() {
    let fx = fixtures();
    let mut check = Check::default();
    let mut cases_with_refits = 0;
    for case in fx["models"].as_array().expect("models") {
        let id = case["id"].as_str().expect("id");
        check.tolerance = full_fit_tolerance(id);
        let data = load(&fx, case["dataset"].as_str().expect("dataset"));
        let r = diagnostics::multilevel(&spec(case, false), &data, None).expect("diagnostics");
        check.all(
            &format!("{id} sigma2"),
            &r.sigma2.iter().map(|&s| Some(s)).collect::<Vec<_>>(),
            &case["sigma2"],
        );
        let studies = &r.studies;
        // A model recorded without the refit diagnostics (see the R script).
        let refits = !case["rstudent"].is_null();
        cases_with_refits += usize::from(refits);
        for (part, field) in [("resid", 0), ("se", 1), ("z", 2)] {
            let pick = |x: &tau_core::sensitivity::multilevel_influence::Residual| match field {
                0 => x.resid,
                1 => x.se,
                _ => x.z,
            };
            check.all(
                &format!("{id} rstandard {part}"),
                &studies
                    .iter()
                    .map(|s| Some(pick(&s.rstandard)))
                    .collect::<Vec<_>>(),
                &case["rstandard"][part],
            );
            if refits {
                check.tolerance = REFITS;
                check.all(
                    &format!("{id} rstudent {part}"),
                    &studies
                        .iter()
                        .map(|s| s.rstudent.map(|x| pick(&x)))
                        .collect::<Vec<_>>(),
                    &case["rstudent"][part],
                );
                check.tolerance = full_fit_tolerance(id);
            }
        }
        check.all(
            &format!("{id} hat"),
            &studies.iter().map(|s| Some(s.hat)).collect::<Vec<_>>(),
            &case["hat"],
        );
        if !refits {
            continue;
        }
        check.tolerance = REFITS;
        check.floor = DIFFERENCE_FLOOR;
        check.all(
            &format!("{id} sqrt(cooks)"),
            &studies
                .iter()
                .map(|s| s.cooks_distance.map(f64::sqrt))
                .collect::<Vec<_>>(),
            &square_roots(&case["cooks_distance"]),
        );
        for (j, column) in case["dfbetas"]
            .as_object()
            .expect("dfbetas")
            .values()
            .enumerate()
        {
            let actual: Vec<Option<f64>> = studies
                .iter()
                .map(|s| s.dfbetas.as_ref().map(|d| d.values[j]))
                .collect();
            check.all(&format!("{id} dfbetas[{j}]"), &actual, column);
        }
        check.floor = FLOOR;
    }
    assert!(cases_with_refits >= 3, "the fixture has refit diagnostics");
    check.done();
}

#[test]
fn cluster_diagnostics_match_metafor() {
    let fx = fixtures();
    let mut check = Check::default();
    for case in fx["models"].as_array().expect("models") {
        let id = case["id"].as_str().expect("id");
        check.tolerance = full_fit_tolerance(id);
        let data = load(&fx, case["dataset"].as_str().expect("dataset"));
        let expected = &case["clusters"];
        let cluster = expected["cluster"].as_str().expect("cluster");
        let r =
            diagnostics::multilevel(&spec(case, false), &data, Some(cluster)).expect("diagnostics");
        let clusters = r.clusters.as_ref().expect("clusters");
        let ids: Vec<&str> = clusters.iter().map(|c| c.cluster.as_str()).collect();
        let metafor_ids: Vec<&str> = expected["id"]
            .as_array()
            .expect("ids")
            .iter()
            .map(|v| v.as_str().expect("id"))
            .collect();
        assert_eq!(ids, metafor_ids, "{id}: clusters");
        check.all(
            &format!("{id} k"),
            &clusters
                .iter()
                .map(|c| Some(c.k as f64))
                .collect::<Vec<_>>(),
            &expected["k"],
        );
        check.all(
            &format!("{id} rstandard X2"),
            &clusters.iter().map(|c| c.rstandard_x2).collect::<Vec<_>>(),
            &expected["rstandard_X2"],
        );
        if expected["rstudent_X2"].is_null() {
            continue;
        }
        check.tolerance = REFITS;
        check.all(
            &format!("{id} rstudent X2"),
            &clusters.iter().map(|c| c.rstudent_x2).collect::<Vec<_>>(),
            &expected["rstudent_X2"],
        );
        check.floor = DIFFERENCE_FLOOR;
        check.all(
            &format!("{id} cluster sqrt(cooks)"),
            &clusters
                .iter()
                .map(|c| c.cooks_distance.map(f64::sqrt))
                .collect::<Vec<_>>(),
            &square_roots(&expected["cooks_distance"]),
        );
        for (j, column) in expected["dfbetas"]
            .as_object()
            .expect("dfbetas")
            .values()
            .enumerate()
        {
            let actual: Vec<Option<f64>> = clusters
                .iter()
                .map(|c| c.dfbetas.as_ref().map(|d| d.values[j]))
                .collect();
            check.all(&format!("{id} cluster dfbetas[{j}]"), &actual, column);
        }
        check.floor = FLOOR;
        for part in ["resid", "se", "z"] {
            let actual: Vec<Option<f64>> = r
                .studies
                .iter()
                .map(|s| {
                    s.rstudent.map(|x| match part {
                        "resid" => x.resid,
                        "se" => x.se,
                        _ => x.z,
                    })
                })
                .collect();
            check.all(
                &format!("{id} cluster rstudent {part}"),
                &actual,
                &expected["rstudent"][part],
            );
        }
    }
    check.done();
}

#[test]
fn tables_residuals_match_metafor() {
    let fx = fixtures();
    let mut check = Check::default();
    for case in fx["tables"].as_array().expect("tables") {
        let id = case["id"].as_str().expect("id");
        let data = load(&fx, case["dataset"].as_str().expect("dataset"));
        let request: Spec =
            serde_json::from_value(json!({"method": case["method"]})).expect("a valid request");
        let r = diagnostics::tables_residuals(&request, &data).expect("residuals");
        for part in ["resid", "se", "z"] {
            let pick = |x: &tau_core::sensitivity::multilevel_influence::Residual| match part {
                "resid" => x.resid,
                "se" => x.se,
                _ => x.z,
            };
            let standard: Vec<Option<f64>> =
                r.studies.iter().map(|s| Some(pick(&s.rstandard))).collect();
            let student: Vec<Option<f64>> = r
                .studies
                .iter()
                .map(|s| s.rstudent.map(|x| pick(&x)))
                .collect();
            check.all(
                &format!("{id} rstandard {part}"),
                &standard,
                &case["rstandard"][part],
            );
            check.all(
                &format!("{id} rstudent {part}"),
                &student,
                &case["rstudent"][part],
            );
        }
    }
    check.done();
}

/// The same number, but for the last bit that serde_json's default float
/// parser may lose when it reads the report back.
fn same(shown: Option<f64>, computed: Option<f64>) -> bool {
    match (shown, computed) {
        (Some(a), Some(b)) => crate::util::prec::close_to(a, b, 1e-14),
        (a, b) => a == b,
    }
}

/// `tau influence --random` and `tau pool --random --blup` as a user runs
/// them: the JSON carries the library's numbers, keyed as documented.
#[test]
fn the_cli_reports_the_library_values() {
    let file = "studies/parenting_ethnic_minorities.json";
    let out = crate::util::tau()
        .args([
            "influence",
            file,
            "--random",
            "trial/outcome",
            "--cluster",
            "trial",
            "--format",
            "json",
        ])
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json = crate::util::without_provenance(&out.stdout);
    let text = std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(file))
        .expect("reads");
    let data = dataset::load_json(&text, None).expect("loads");
    let request: Spec =
        serde_json::from_value(json!({"random": ["trial/outcome"]})).expect("a valid request");
    let r = diagnostics::multilevel(&request, &data, Some("trial")).expect("diagnostics");
    let clusters = json["clusters"].as_array().expect("clusters");
    assert_eq!(clusters.len(), r.clusters.as_ref().expect("clusters").len());
    for (shown, computed) in clusters.iter().zip(r.clusters.as_ref().expect("clusters")) {
        assert_eq!(shown["cluster"], computed.cluster.as_str());
        assert!(same(
            shown["cooks_distance"].as_f64(),
            computed.cooks_distance
        ));
    }
    for (shown, computed) in json["studies"]
        .as_array()
        .expect("studies")
        .iter()
        .zip(&r.studies)
    {
        assert!(same(shown["hat"].as_f64(), Some(computed.hat)));
        assert!(same(
            shown["rstandard"]["z"].as_f64(),
            Some(computed.rstandard.z)
        ));
    }
    let out = crate::util::tau()
        .args([
            "pool",
            file,
            "--random",
            "trial/outcome",
            "--blup",
            "--fit-only",
            "--format",
            "json",
        ])
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json = crate::util::without_provenance(&out.stdout);
    let ranef = json["ranef"].as_object().expect("ranef");
    assert_eq!(ranef.keys().collect::<Vec<_>>(), ["trial", "trial/outcome"]);
    assert_eq!(ranef["trial"].as_array().expect("units").len(), 7);
}

/// What is not built, or not in metafor, is refused before the file is read.
#[test]
fn what_metafor_lacks_is_refused_with_exit_2() {
    for args in [
        &[
            "influence",
            "no-such-file.json",
            "--random",
            "trial/outcome",
            "--robust",
            "trial",
        ][..],
        &[
            "influence",
            "no-such-file.json",
            "--random",
            "trial",
            "--random",
            "outcome",
        ],
        &[
            "influence",
            "no-such-file.json",
            "--method",
            "MH",
            "--mods",
            "year",
        ],
        &[
            "pool",
            "no-such-file.json",
            "--random",
            "phylo",
            "--corr",
            "phylo=studies/phylo_sim_corr.csv",
            "--blup",
        ],
        &[
            "subgroup",
            "no-such-file.json",
            "--by",
            "g",
            "--random",
            "trial/outcome",
            "--blup",
        ],
    ] {
        let out = crate::util::tau().args(args).output().expect("runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "tau {args:?}: {stderr}");
        assert!(
            !stderr.contains("no-such-file"),
            "tau {args:?} read the file: {stderr}"
        );
    }
}
