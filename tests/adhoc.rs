//! `--test adhoc` (metafor's `test = "adhoc"`: Knapp-Hartung with its
//! variance factor floored at 1) and the warning when plain Knapp-Hartung
//! shrinks a subgroup's SE (issue 26 item 5). Expected values:
//! tests/fixtures/generate_adhoc.R (metafor 3.8.1 on dat.bcg).

use crate::util::{fixture, tau};
use serde_json::Value;

fn json(args: &[&str]) -> (Value, String) {
    let output = tau()
        .args(args)
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    (
        serde_json::from_slice(&output.stdout).unwrap(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn close(actual: &Value, expected: &Value, what: &str) {
    let (a, e) = (actual.as_f64().unwrap(), expected.as_f64().unwrap());
    assert!(
        (a - e).abs() <= 1e-6 * e.abs().max(1e-3),
        "{what}: {a} vs {e}"
    );
}

const KEYS: [&str; 5] = ["estimate", "se", "p", "ci_lower", "ci_upper"];

#[test]
fn adhoc_matches_metafor_in_pool_regress_and_subgroup() {
    let reference: Value = fixture("adhoc.json");
    let (pool, _) = json(&["pool", "studies/bcg.json", "--test", "adhoc"]);
    for key in KEYS {
        close(&pool[key], &reference["pool"][key], key);
    }
    let (reg, _) = json(&[
        "regress",
        "studies/bcg.json",
        "--mods",
        "ablat",
        "--test",
        "adhoc",
    ]);
    for i in 0..2 {
        for key in KEYS {
            close(
                &reg["coefficients"][i][key],
                &reference["regression"]["coefficients"][i][key],
                key,
            );
        }
    }
    close(&reg["QM"], &reference["regression"]["QM"], "QM");
    for (test, name) in [("adhoc", "adhoc"), ("knha", "knha")] {
        let (sub, warnings) = json(&[
            "subgroup",
            "studies/bcg.json",
            "--by",
            "alloc",
            "--test",
            test,
        ]);
        for (i, group) in reference["subgroups"]
            .as_array()
            .unwrap()
            .iter()
            .enumerate()
        {
            assert_eq!(sub["groups"][i]["level"], group["level"]);
            for key in KEYS {
                close(&sub["groups"][i][key], &group[name][key], key);
            }
        }
        // knha shrank the SE of 'random' (0.2531 < its z SE); adhoc did not.
        let warned = warnings.contains("Knapp-Hartung made the standard error smaller");
        assert_eq!(warned, test == "knha", "{warnings}");
        if warned {
            assert!(warnings.contains("'random'") && warnings.contains("--test adhoc"));
        }
    }
}
