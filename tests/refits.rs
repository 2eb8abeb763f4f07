//! tau's leave-one-out and cumulative analyses of any model against metafor:
//! `tau leave-one-out` / `tau cumulative` with `--random`, `--robust`,
//! `--cluster` and `--method MH/PETO`, through `--format json`.
//!
//! Expected values: tests/fixtures/refits.json, written by
//! tests/fixtures/generate_refits.R (metafor 3.8.1, clubSandwich 0.5.8) on
//! dat.bornmann2007 (66 log odds ratios in 21 studies, and their 2x2
//! tables): each row is `rma.mv(yi, vi, random = ~ 1 | study/obs)` (with
//! `robust(clubSandwich = TRUE)`), or `rma(yi, vi)`, refitted on the records
//! kept (metafor 4's `leave1out(x, cluster = )` does the same for rma.uni;
//! metafor has no leave1out for rma.mv), and metafor's own
//! `cumul(rma.mh(...))` and `cumul(rma.peto(...))`.
//!
//! Tolerance: relative 1e-6 for a model with one τ² and for Mantel-Haenszel
//! and Peto. A multilevel row (every number of it) at 1e-5, or ten times
//! metafor's own `agreement` where that is larger, as in
//! tests/metafor_multilevel.rs: metafor stops nlminb at a relative change of
//! 1e-10 in the log-likelihood, which pins σ̂² only to about 1e-6 to 1e-5
//! (its nlminb and BFGS disagree by up to 1.7e-5 on the small cumulative
//! fits), and every other number of the row inherits that; a CI limit near 0
//! (the difference of two numbers of the size of the SE) relative to the
//! SE. A σ² metafor puts
//! below 1e-7 is on the boundary: metafor optimises log σ², tau reports 0.

use crate::util::prec::close_to;
use serde_json::Value;

const TOLERANCE: f64 = 1e-6;
const MULTILEVEL_TOLERANCE: f64 = 1e-5;
/// Below this, metafor's σ² (from exp of its parameter) is a boundary value.
const BOUNDARY: f64 = 1e-7;

fn run(args: &[&str]) -> Value {
    let output = crate::util::tau().args(args).output().unwrap();
    assert!(
        output.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

fn number(v: &Value) -> f64 {
    v.as_f64().unwrap_or(f64::NAN)
}

#[test]
fn refits_of_every_model_match_metafor() {
    let fixtures: Value = crate::util::fixture("refits.json");
    let mut errors = Vec::new();
    let mut compared = 0;
    for case in fixtures["cases"].as_array().unwrap() {
        let id = case["id"].as_str().unwrap();
        let command: Vec<&str> = case["command"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        let file = if id.starts_with("cumul_mh") || id.starts_with("cumul_peto") {
            "tests/fixtures/bornmann2007_tables.json"
        } else {
            "tests/fixtures/bornmann2007_studies.json"
        };
        let mut args = vec![command[0], file];
        args.extend(&command[1..]);
        args.extend(["--format", "json"]);
        let tau = run(&args);
        let rows = tau["studies"].as_array().unwrap();
        for expected in case["rows"].as_array().unwrap() {
            let label = expected["study"].as_str().unwrap();
            let Some(row) = rows.iter().find(|r| r["study"] == label) else {
                errors.push(format!("{id}: no row '{label}'"));
                continue;
            };
            assert_eq!(row["k"], expected["k"], "{id} {label}");
            let object = expected.as_object().unwrap();
            let tolerance = match object.get("agreement") {
                Some(agreement) => MULTILEVEL_TOLERANCE.max(10.0 * number(agreement)),
                None => TOLERANCE,
            };
            for (key, value) in object {
                let pairs: Vec<(f64, f64)> = match key.as_str() {
                    "study" | "k" | "agreement" => continue,
                    "sigma2" => value
                        .as_array()
                        .unwrap()
                        .iter()
                        .enumerate()
                        .map(|(l, e)| (number(&row["sigma2"][l]), number(e)))
                        .collect(),
                    // tau's name of the heterogeneity test is metafor's QE.
                    "Q" => vec![(number(&row["QE"]), number(value))],
                    "Q_p" => vec![(number(&row["QE_p"]), number(value))],
                    _ => vec![(number(&row[key]), number(value))],
                };
                for (actual, expected) in pairs {
                    compared += 1;
                    let boundary = key == "sigma2" && expected < BOUNDARY;
                    // A CI limit near 0 is the difference of two numbers
                    // of the size of the SE: compared relative to the SE.
                    let scale = number(&object["se"]).abs();
                    let agrees = if boundary {
                        (0.0..BOUNDARY).contains(&actual)
                    } else if key.starts_with("ci_") {
                        (actual - expected).abs() <= tolerance * expected.abs().max(scale)
                    } else {
                        close_to(actual, expected, tolerance)
                    };
                    if !agrees {
                        errors.push(format!(
                            "{id} without/up to '{label}': {key} = {actual:.10e}, metafor {expected:.10e}"
                        ));
                    }
                }
            }
            // Mantel-Haenszel and Peto have no tau^2 (as metafor's cumul of rma.mh).
            if !object.contains_key("tau2") {
                assert!(row.get("tau2").is_none(), "{id} {label}: {row}");
            }
        }
    }
    assert!(compared > 3000, "only {compared} numbers compared");
    assert!(errors.is_empty(), "{}", errors.join("\n"));
}

/// Combinations the refits cannot use are refused (exit 2), naming the flag.
#[test]
fn combinations_the_refits_cannot_use_are_refused() {
    let studies = "tests/fixtures/bornmann2007_studies.json";
    let tables = "tests/fixtures/bornmann2007_tables.json";
    for (args, flag) in [
        (
            &[
                "leave-one-out",
                tables,
                "--random",
                "study/obs",
                "--method",
                "MH",
            ][..],
            "--method",
        ),
        (
            &[
                "cumulative",
                tables,
                "--method",
                "PETO",
                "--robust",
                "study",
            ][..],
            "--robust",
        ),
        (
            &["cumulative", tables, "--method", "MH", "--test", "knha"][..],
            "--test",
        ),
        (
            &[
                "leave-one-out",
                studies,
                "--random",
                "study/obs",
                "--test",
                "knha",
            ][..],
            "--test",
        ),
        (
            &[
                "leave-one-out",
                studies,
                "--random",
                "study/obs",
                "--robust",
                "study",
                "--rho",
                "0.3,0.6",
            ][..],
            "--rho",
        ),
        (
            &["leave-one-out", studies, "--cluster", "nothing"][..],
            "nothing",
        ),
    ] {
        let output = crate::util::tau().args(args).output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(flag), "{args:?}: {stderr}");
    }
}
