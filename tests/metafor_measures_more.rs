//! tau against metafor: the measures SMDH, ROM, IRR, IRD, IRLN, PFT, PAS and
//! UCOR (issue 15, item 2), through the binary.
//!
//! Expected values: tests/fixtures/measures_more.json, written by
//! tests/fixtures/generate_measures_more.R with metafor 3.8.1 / metadat 1.2.0 /
//! R 4.2.2: escalc()'s yi and vi with its defaults, and the REML pool
//! `rma(yi, vi)` with `predict()` and, where the measure has a natural scale,
//! `predict(res, transf = ...)`, on dat.normand1999, dat.hart1999,
//! dat.pritz1997, dat.molloy2014 and simulated records (zero events, tiny
//! groups).
//!
//! Tolerance: relative 1e-6.

use crate::util::prec::close;
use serde_json::Value;

fn cases() -> Vec<Value> {
    let all: Value = crate::util::fixture("measures_more.json");
    all["cases"].as_array().unwrap().clone()
}

/// `tau pool - --format json` on the case's study file.
fn pool(case: &Value) -> Value {
    let output = crate::util::tau()
        .args(["pool", "-", "--format", "json"])
        .write_stdin(case["data"].to_string())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}: {}",
        case["name"],
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

fn check(found: &mut Vec<String>, what: String, actual: &Value, expected: &Value) {
    let (Some(a), Some(e)) = (actual.as_f64(), expected.as_f64()) else {
        found.push(format!("{what}: tau {actual}, metafor {expected}"));
        return;
    };
    if !close(a, e) {
        found.push(format!("{what}: tau {a:.12e}, metafor {e:.12e}"));
    }
}

#[test]
fn effect_sizes_and_pools_match_metafor() {
    let cases = cases();
    assert_eq!(cases.len(), 16);
    let mut found = Vec::new();
    for case in &cases {
        let name = case["name"].as_str().unwrap();
        let json = pool(case);
        assert_eq!(json["settings"]["measure"], case["measure"], "{name}");
        let studies = json["studies"].as_array().unwrap();
        let yi = case["yi"].as_array().unwrap();
        assert_eq!(studies.len(), yi.len(), "{name}");
        for (i, study) in studies.iter().enumerate() {
            for key in ["yi", "vi"] {
                check(
                    &mut found,
                    format!("{name} {} {key}", study["study"]),
                    &study[key],
                    &case[key][i],
                );
            }
        }
        for key in [
            "estimate",
            "se",
            "statistic",
            "p",
            "ci_lower",
            "ci_upper",
            "tau2",
            "Q",
            "pi_lower",
            "pi_upper",
        ] {
            check(&mut found, format!("{name} {key}"), &json[key], &case[key]);
        }
        match case.get("transformed") {
            Some(expected) => {
                for key in ["estimate", "ci_lower", "ci_upper", "pi_lower", "pi_upper"] {
                    check(
                        &mut found,
                        format!("{name} transformed {key}"),
                        &json["transformed"][key],
                        &expected[key],
                    );
                }
            }
            None => assert!(json.get("transformed").is_none(), "{name}"),
        }
    }
    assert!(found.is_empty(), "{}", found.join("\n"));
}
