//! tau against metafor: influence diagnostics and standardised residuals of
//! meta-regressions (`tau influence --mods ... --residuals`).
//!
//! Expected values: tests/fixtures/influence_mods.json, written by
//! tests/fixtures/generate_influence_mods.R with metafor 3.8.1 / metadat 1.2.0
//! (`influence(res)`, `rstandard(res)` and `rstudent(res)` for `rma(yi, vi, mods = ...)` on
//! dat.bcg, dat.bangertdrowns2004 and dat.mcdaniel1994, REML and DL, z and
//! knha, and for the intercept-only model on dat.bcg; each case records its
//! call).
//!
//! Tolerance: relative 1e-6 ([`RELATIVE`]), absolute 1e-12 near 0.

use serde_json::Value;
use tau_core::data::dataset;
use tau_core::model::{Control, FitOptions};
use tau_core::regression::DesignSpec;
use tau_core::sensitivity::influence::{Influence, InfluenceOptions, influence_with};
use tau_core::{Dataset, Method, Test};

use crate::util::prec::{RELATIVE, close};
use crate::util::tau;
use crate::util::temp::TempDir;

fn fixtures() -> Value {
    crate::util::fixture("influence_mods.json")
}

/// The tau input file of data set `id`, as JSON text.
fn input(fx: &Value, id: &str) -> String {
    let ds = fx["datasets"]
        .as_array()
        .expect("datasets")
        .iter()
        .find(|d| d["id"] == id)
        .expect("dataset");
    serde_json::json!({"measure": ds["measure"], "studies": ds["studies"]}).to_string()
}

fn load(fx: &Value, id: &str) -> Dataset {
    dataset::load_json(&input(fx, id), None).expect("loads")
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|s| s.as_str().expect("string").to_owned())
        .collect()
}

fn references(case: &Value) -> Vec<(String, String)> {
    case["references"]
        .as_object()
        .map_or_else(Vec::new, |refs| {
            refs.iter()
                .map(|(m, l)| (m.clone(), l.as_str().expect("level").to_owned()))
                .collect()
        })
}

fn options(case: &Value) -> InfluenceOptions {
    InfluenceOptions {
        fit: FitOptions {
            method: Method::parse(case["method"].as_str().expect("method")).expect("known"),
            test: if case["test"] == "knha" {
                Test::Knha
            } else {
                Test::Z
            },
            level: 95.0,
            control: Control::default(),
        },
        // no moderators: the intercept-only model (`tau influence` without --mods)
        design: Some(strings(&case["mods"]))
            .filter(|mods| !mods.is_empty())
            .map(|moderators| DesignSpec {
                moderators,
                references: references(case),
                intercept: case["intercept"].as_bool().expect("intercept"),
            }),
        residuals: true,
    }
}

/// Collects mismatches so that one run reports all of them.
#[derive(Default)]
struct Mismatches(Vec<String>);

impl Mismatches {
    /// `null` in the fixture (metafor's NA) expects a non-finite value.
    fn check(&mut self, case: &str, what: &str, actual: f64, expected: &Value) {
        let ok = match expected.as_f64() {
            Some(e) => close(actual, e),
            None => !actual.is_finite(),
        };
        if !ok {
            self.0
                .push(format!("{case}: {what} = {actual:?}, metafor {expected}"));
        }
    }

    fn column(&mut self, case: &str, what: &str, actual: &[f64], expected: &Value) {
        let expected = expected.as_array().expect("array");
        if actual.len() != expected.len() {
            self.0.push(format!(
                "{case}: {what} has {} values, metafor {}",
                actual.len(),
                expected.len()
            ));
            return;
        }
        for (i, (a, e)) in actual.iter().zip(expected).enumerate() {
            self.check(case, &format!("{what}[{}]", i + 1), *a, e);
        }
    }
}

fn case_name(case: &Value) -> String {
    format!(
        "{} ~ {} {} {}{}",
        case["dataset"].as_str().expect("dataset"),
        Some(strings(&case["mods"]).join(" + "))
            .filter(|m| !m.is_empty())
            .unwrap_or_else(|| "1".into()),
        case["method"].as_str().expect("method"),
        case["test"].as_str().expect("test"),
        if case["intercept"] == false {
            " (no intercept)"
        } else {
            ""
        }
    )
}

fn compare(bad: &mut Mismatches, name: &str, r: &Influence, case: &Value) {
    assert_eq!(r.k, case["k"].as_u64().expect("k") as usize, "{name}: k");
    assert_eq!(r.coefficients, strings(&case["names"]), "{name}: names");
    let labels: Vec<String> = r.studies.iter().map(|s| s.study.clone()).collect();
    assert_eq!(labels, strings(&case["labels"]), "{name}: studies");
    bad.check(name, "tau2", r.tau2, &case["tau2"]);
    bad.check(name, "QE", r.q, &case["QE"]);
    let e = &case["influence"];
    let column = |f: fn(&tau_core::sensitivity::influence::InfluenceStudy) -> f64| {
        r.studies.iter().map(f).collect::<Vec<f64>>()
    };
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
        bad.column(name, key, &actual, &e[key]);
    }
    let dfbetas = e["dfbetas"].as_array().expect("dfbetas");
    for (s, expected) in r.studies.iter().zip(dfbetas) {
        for (coefficient, value) in s.dfbetas.names.iter().zip(&s.dfbetas.values) {
            bad.check(
                name,
                &format!("dfbetas[{}][{coefficient}]", s.study),
                *value,
                &expected[coefficient],
            );
        }
    }
    let flags: Vec<Value> = r
        .studies
        .iter()
        .map(|s| Value::Bool(s.influential))
        .collect();
    if flags.as_slice() != e["influential"].as_array().expect("flags").as_slice() {
        bad.0.push(format!("{name}: influential flags differ"));
    }
    let residuals = r.residuals.as_ref().expect("residuals asked for");
    let e = &case["residuals"];
    for (key, actual) in [
        (
            "resid",
            residuals.iter().map(|x| x.resid).collect::<Vec<_>>(),
        ),
        ("se", residuals.iter().map(|x| x.se).collect()),
        ("z", residuals.iter().map(|x| x.z).collect()),
    ] {
        bad.column(name, &format!("rstandard {key}"), &actual, &e[key]);
    }
    let e = &case["studentized"];
    for (key, actual) in [
        ("resid", column(|s| s.rstudent_resid)),
        ("se", column(|s| s.rstudent_se)),
        ("z", column(|s| s.rstudent)),
    ] {
        bad.column(name, &format!("rstudent {key}"), &actual, &e[key]);
    }
}

#[test]
fn influence_of_meta_regressions_matches_metafor() {
    let fx = fixtures();
    let cases = fx["cases"].as_array().expect("cases");
    let mut bad = Mismatches::default();
    for case in cases {
        let data = load(&fx, case["dataset"].as_str().expect("dataset"));
        let name = case_name(case);
        let r = influence_with(&data, &options(case)).expect("influence");
        compare(&mut bad, &name, &r, case);
    }
    assert!(
        bad.0.is_empty(),
        "{} mismatches in {} cases (relative {RELATIVE}):\n{}",
        bad.0.len(),
        cases.len(),
        bad.0.join("\n")
    );
    // The fixture exercises the flag, dropped studies and a reference level.
    assert!(cases.iter().any(|c| {
        c["influence"]["influential"]
            .as_array()
            .expect("flags")
            .contains(&Value::Bool(true))
    }));
}

/// The command line gives the same numbers, with the JSON keys of the contract.
#[test]
fn cli_influence_with_mods_matches_metafor() {
    let fx = fixtures();
    let dir = TempDir::new("influence-mods");
    let mut checked = 0;
    for case in fx["cases"].as_array().expect("cases") {
        // one case per model form and data set is enough for the flags
        if case["method"] != "REML" || case["test"] != "knha" {
            continue;
        }
        let id = case["dataset"].as_str().expect("dataset");
        let file = dir.path(&format!("{id}.json"));
        std::fs::write(&file, input(&fx, id)).expect("writes");
        let mut args = vec!["influence".to_owned(), file];
        let mods = strings(&case["mods"]);
        if !mods.is_empty() {
            args.extend(["--mods".into(), mods.join(",")]);
        }
        args.extend([
            "--test".into(),
            "knha".into(),
            "--residuals".into(),
            "--format".into(),
            "json".into(),
        ]);
        for (m, l) in references(case) {
            args.extend(["--reference".into(), format!("{m}={l}")]);
        }
        if case["intercept"] == false {
            args.push("--no-intercept".into());
        }
        let output = tau().args(&args).output().expect("runs");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let json: Value = serde_json::from_slice(&output.stdout).expect("JSON");
        let name = case_name(case);
        assert_eq!(json["coefficients"], case["names"], "{name}");
        let e = &case["influence"];
        for (i, study) in json["studies"]
            .as_array()
            .expect("studies")
            .iter()
            .enumerate()
        {
            for key in ["rstudent", "dffits", "cooks_distance", "hat", "QE_deleted"] {
                let expected = e[key][i].as_f64().expect("number");
                assert!(
                    close(study[key].as_f64().expect("number"), expected),
                    "{name} {key}[{i}]"
                );
            }
            let dfbetas = study["dfbetas"].as_object().expect("dfbetas object");
            let expected = e["dfbetas"][i].as_object().expect("object");
            // In the model's order (JSON objects keep their order).
            let names = strings(&case["names"]);
            assert_eq!(
                dfbetas.keys().collect::<Vec<_>>(),
                names.iter().collect::<Vec<_>>(),
                "{name}: dfbetas keyed by coefficient"
            );
            for (coefficient, value) in expected {
                assert!(
                    close(
                        dfbetas[coefficient].as_f64().expect("number"),
                        value.as_f64().expect("number")
                    ),
                    "{name} dfbetas[{i}][{coefficient}]"
                );
            }
            assert_eq!(study["influential"], e["influential"][i], "{name}");
            let residual = &json["residuals"][i];
            assert_eq!(residual["study"], study["study"]);
            for key in ["resid", "se", "z"] {
                let expected = case["residuals"][key][i].as_f64().expect("number");
                assert!(
                    close(residual[key].as_f64().expect("number"), expected),
                    "{name} rstandard {key}[{i}]"
                );
            }
        }
        let dropped = json["warnings"]
            .as_array()
            .expect("warnings")
            .iter()
            .any(|w| w.to_string().contains("missing moderator"));
        let k_file = fx["datasets"]
            .as_array()
            .expect("datasets")
            .iter()
            .find(|d| d["id"] == id)
            .expect("dataset")["studies"]
            .as_array()
            .expect("studies")
            .len();
        assert_eq!(
            dropped,
            case["k"].as_u64() != Some(k_file as u64),
            "{name}: a warning names the studies left out"
        );
        checked += 1;
    }
    assert_eq!(checked, 10);
}

#[test]
fn csv_and_text_name_the_coefficients() {
    let out = tau()
        .args([
            "influence",
            "studies/bcg.json",
            "--mods",
            "ablat",
            "--residuals",
            "--format",
            "csv",
        ])
        .output()
        .expect("runs");
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).starts_with(
        "study,rstudent,dffits,cooks_distance,cov_ratio,tau2_deleted,QE_deleted,hat,weight,dfbetas_intrcpt,dfbetas_ablat,influential,resid,resid_se,resid_z\n"
    ));
    let out = tau()
        .args(["influence", "studies/bcg.json", "--mods", "ablat"])
        .output()
        .expect("runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("\nDFBETAS\n"), "{text}");
    assert!(text.contains("intrcpt    ablat"), "{text}");
    assert!(!text.contains("Standardised residuals"), "{text}");
}

#[test]
fn bad_flags_are_refused_with_a_reason() {
    for (args, message) in [
        (
            &["--mods", "ablat", "--random", "trial", "--random", "es"][..],
            "the case diagnostics of crossed or structured random terms",
        ),
        (
            &["--mods", "alloc", "--reference", "alloc"][..],
            "--reference \"alloc\" is not of the form MODERATOR=LEVEL",
        ),
        (&["--mods", "latitude"][..], "latitude"),
        (&["--reference", "alloc=random"][..], "--mods"),
    ] {
        let out = tau()
            .arg("influence")
            .arg("studies/bcg.json")
            .args(args)
            .output()
            .expect("runs");
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(message), "{args:?}: {stderr}");
    }
}
