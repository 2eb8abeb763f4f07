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
            // tau's name of the heterogeneity test is metafor's QE.
            let tau_key = if key == "Q" { "QE" } else { key };
            check(
                &mut found,
                format!("{name} {key}"),
                &json[tau_key],
                &case[key],
            );
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

/// Where escalc's `gsl::hyperg_2F1` is off (even n from 8 to 22, |r| up to
/// about 0.07), tau gives the exact unbiased r. Expected: r·₂F₁(½, ½; (n−2)/2;
/// 1 − r²) and (1 − u²)²/(n − 1) from Python's mpmath 1.3.0 at 40 digits;
/// metafor 3.8.1 gives yi = 0.056624778595 and −0.031936917474 here.
#[test]
fn unbiased_correlation_is_exact_where_gsl_is_not() {
    let data = r#"{"measure": "UCOR", "studies": [
        {"study": "A", "r": 0.05, "n": 8},
        {"study": "B", "r": -0.03, "n": 12}]}"#;
    let output = crate::util::tau()
        .args(["pool", "-", "--format", "json"])
        .write_stdin(data)
        .output()
        .unwrap();
    assert!(output.status.success());
    let json: Value = serde_json::from_slice(&output.stdout).unwrap();
    let expected = [
        (0.05655354975516169, 0.1419448030240847),
        (-0.03192733612466527, 0.09072384813637794),
    ];
    for (study, (yi, vi)) in json["studies"].as_array().unwrap().iter().zip(expected) {
        // 1e-12: ₂F₁ is summed to rounding error (see numerics/hypergeometric.rs).
        let (a, b) = (study["yi"].as_f64().unwrap(), study["vi"].as_f64().unwrap());
        assert!(crate::util::prec::close_to(a, yi, 1e-12), "{a} vs {yi}");
        assert!(crate::util::prec::close_to(b, vi, 1e-12), "{b} vs {vi}");
    }
}

/// Rate records read from CSV (the new columns time1, time2) give the JSON
/// file's effect sizes: dat.hart1999 under IRR, as in the fixture.
#[test]
fn rates_read_from_csv() {
    let case = cases()
        .into_iter()
        .find(|c| c["name"] == "irr_hart1999")
        .unwrap();
    let mut csv = String::from("# measure: IRR\nstudy,events1,time1,events2,time2\n");
    for s in case["data"]["studies"].as_array().unwrap() {
        csv += &format!(
            "{},{},{},{},{}\n",
            s["study"].as_str().unwrap(),
            s["events1"],
            s["time1"],
            s["events2"],
            s["time2"]
        );
    }
    let output = crate::util::tau()
        .args(["pool", "-", "--format", "json"])
        .write_stdin(csv)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let json: Value = serde_json::from_slice(&output.stdout).unwrap();
    let mut found = Vec::new();
    for (i, study) in json["studies"].as_array().unwrap().iter().enumerate() {
        check(&mut found, format!("yi {i}"), &study["yi"], &case["yi"][i]);
    }
    assert!(found.is_empty(), "{}", found.join("\n"));
}

/// `tau schema` knows the person-time fields and the new measures.
#[test]
fn schema_lists_the_new_fields_and_measures() {
    let output = crate::util::tau().arg("schema").output().unwrap();
    let schema: Value = serde_json::from_slice(&output.stdout).unwrap();
    let fields = &schema["$defs"]["record"]["properties"];
    for field in ["time1", "time2", "time"] {
        assert!(fields.get(field).is_some(), "{field}");
    }
    let measures = schema["$defs"]["file"]["properties"]["measure"]["enum"]
        .as_array()
        .unwrap();
    for measure in ["SMDH", "ROM", "IRR", "IRD", "IRLN", "PFT", "PAS", "UCOR"] {
        assert!(measures.iter().any(|m| m == measure), "{measure}");
    }
}

/// Bad rate records stop the run with exit 2 (the messages are in docs/src/errors.md).
#[test]
fn bad_rates_exit_2() {
    for file in [
        "tests/bad_inputs/rates.json",
        "tests/bad_inputs/rate.json",
        "tests/bad_inputs/ratio_of_means.json",
        "tests/bad_inputs/unbiased_correlation.json",
        "tests/bad_inputs/transformed_proportion.json",
    ] {
        let output = crate::util::tau()
            .args(["pool", file, "--strict"])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{file}");
    }
}

/// Every view shows PFT on the proportion scale, back-transformed at the
/// harmonic mean of n as metafor's `predict(res, transf = transf.ipft.hm,
/// targs = list(ni = ni))` (the fixture's `transformed`): the JSON, the
/// paper table and the forest plot's text (both at 2 decimals) agree.
#[test]
fn pft_views_back_transform_alike() {
    let case = cases()
        .into_iter()
        .find(|c| c["measure"] == "PFT")
        .expect("a PFT case");
    let t = &case["transformed"];
    let two = |key: &str| format!("{:.2}", t[key].as_f64().unwrap());
    let expected = format!(
        "{} [{}, {}]",
        two("estimate"),
        two("ci_lower"),
        two("ci_upper")
    );
    let json = pool(&case);
    assert!(close(
        json["transformed"]["estimate"].as_f64().unwrap(),
        t["estimate"].as_f64().unwrap(),
    ));
    let markdown = crate::util::tau()
        .args(["pool", "-", "--format", "markdown", "--digits", "2"])
        .write_stdin(case["data"].to_string())
        .output()
        .unwrap();
    let markdown = String::from_utf8_lossy(&markdown.stdout);
    assert!(markdown.contains(&expected), "{expected} in\n{markdown}");
    assert!(markdown.contains("proportion [95% CI]"), "{markdown}");
    let dir = crate::util::temp::TempDir::new("pft-views");
    let (svg, input) = (dir.path("forest.svg"), dir.path("pft.json"));
    std::fs::write(&input, case["data"].to_string()).unwrap();
    let output = crate::util::tau()
        .args(["forest", &input, "-o", &svg])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let svg = std::fs::read_to_string(&svg).unwrap();
    // The plot puts the estimate and each end of its CI in their own text.
    for part in [
        format!(">{}<", two("estimate")),
        format!(">[{},<", two("ci_lower")),
        format!(">{}]<", two("ci_upper")),
    ] {
        assert!(svg.contains(&part), "{part} in the forest plot");
    }
    assert!(svg.contains(">Proportion<"), "the axis says Proportion");
}
