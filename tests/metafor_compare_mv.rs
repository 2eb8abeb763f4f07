//! `tau compare --random study/obs`: the likelihood-ratio test between two
//! nested three-level models.
//!
//! Expected values: tests/fixtures/compare_mv.json, written by
//! tests/fixtures/generate_compare_mv.R (metafor 3.8.1): `anova(full,
//! reduced)` of `rma.mv(yi, vi, mods = ..., random = ~ 1 | study/obs,
//! method = "ML")` on dat.bornmann2007 (REML asks are refitted with ML, as
//! metafor's `refit = TRUE`). Relative tolerance 1e-6; the σ² at 1e-5
//! relative: they differ by up to 1.2e-6 along the flat top of the
//! likelihood, where tau's log-likelihood is the higher (by up to 8e-11,
//! asserted below), so metafor's optimiser stopped that short.

use crate::util::prec::close_to;
use serde_json::Value;

const FILE: &str = "tests/fixtures/bornmann2007_tables.json";

fn check(what: &str, actual: &Value, expected: &Value, tolerance: f64) {
    let (a, e) = (actual.as_f64().unwrap(), expected.as_f64().unwrap());
    assert!(close_to(a, e, tolerance), "{what}: tau {a}, metafor {e}");
}

#[test]
fn multilevel_comparisons_match_metafor_anova() {
    let fixture: Value = crate::util::fixture("compare_mv.json");
    for case in fixture["cases"].as_array().unwrap() {
        let full: Vec<&str> = (case["full"].as_array().unwrap().iter())
            .map(|m| m.as_str().unwrap())
            .collect();
        let output = crate::util::tau()
            .args(["compare", FILE, "--random", "study/obs", "--format", "json"])
            .args(["--full", &full.join(","), "--method"])
            .arg(case["method"].as_str().unwrap())
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let json: Value = serde_json::from_slice(&output.stdout).unwrap();
        let id = case["id"].as_str().unwrap();
        assert_eq!(json["k"], case["k"], "{id}");
        assert_eq!(json["LRT_df"], case["LRT_df"], "{id}");
        check(&format!("{id} LRT"), &json["LRT"], &case["LRT"], 1e-6);
        check(&format!("{id} LRT_p"), &json["LRT_p"], &case["LRT_p"], 1e-6);
        assert_eq!(json["settings"]["fit_method"], "ML", "{id}");
        for side in ["full", "reduced"] {
            let (t, m) = (&json[side], &case["models"][side]);
            assert_eq!(t["parms"], m["parms"], "{id} {side}");
            let (ll, reference) = (t["logLik"].as_f64().unwrap(), m["logLik"].as_f64().unwrap());
            assert!(
                ll >= reference - 1e-12,
                "{id} {side}: tau's maximum {ll} < metafor's {reference}"
            );
            for key in ["logLik", "deviance", "AIC", "BIC", "AICc", "QE"] {
                check(&format!("{id} {side} {key}"), &t[key], &m[key], 1e-6);
            }
            for (i, s) in m["sigma2"].as_array().unwrap().iter().enumerate() {
                check(
                    &format!("{id} {side} sigma2[{i}]"),
                    &t["sigma2"][i],
                    s,
                    1e-5,
                );
            }
        }
        assert_eq!(
            json["sigma2_names"],
            serde_json::json!(["study", "study/obs"])
        );
    }
}

/// A likelihood-ratio test has no cluster-robust form, and crossed terms
/// are not compared: both refused before fitting (exit 2), naming what to
/// do instead.
#[test]
fn robust_and_crossed_comparisons_are_refused() {
    let robust = crate::util::tau()
        .args(["compare", FILE, "--full", "year", "--robust", "study"])
        .output()
        .unwrap();
    assert_eq!(robust.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&robust.stderr).contains("--btt"));
    let crossed = crate::util::tau()
        .args([
            "compare", FILE, "--full", "year", "--random", "study", "--random", "obs",
        ])
        .output()
        .unwrap();
    assert_eq!(crossed.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&crossed.stderr).contains("crossed or structured"));
}
