//! The bundled study files in studies/ reproduce the published analyses.
//!
//! Expected values: tests/fixtures/published.json, written by
//! tests/fixtures/make_studies.R with metafor 3.8.1 on the metadat data sets
//! the study files were converted from (each analysis records its R call).
//! The files are run through the `tau` binary, exactly as a user would.

use crate::util::prec::close;
use crate::util::tau;
use serde_json::Value;

#[test]
fn study_files_reproduce_metafor() {
    let published: Value = crate::util::fixture("published.json");
    let analyses = published["analyses"].as_array().expect("analyses");
    assert!(analyses.len() >= 3);
    for analysis in analyses {
        let expected = &analysis["results"];
        let method = expected["method"].as_str().expect("method");
        let output = tau()
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .args([
                "pool",
                analysis["study_file"].as_str().expect("file"),
                "--method",
                method,
                "--format",
                "json",
            ])
            .output()
            .expect("runs");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let actual: Value = serde_json::from_slice(&output.stdout).expect("JSON output");
        for key in [
            "k",
            "estimate",
            "se",
            "statistic",
            "p",
            "ci_lower",
            "ci_upper",
            "tau2",
            "tau",
            "I2",
            "H2",
            "Q",
            "Q_p",
            "pi_lower",
            "pi_upper",
        ] {
            // tau's name of the heterogeneity test is metafor's QE.
            let tau_key = match key {
                "Q" => "QE",
                "Q_p" => "QE_p",
                other => other,
            };
            let (a, e) = (
                actual[tau_key].as_f64().expect("number"),
                expected[key].as_f64().expect("number"),
            );
            assert!(
                close(a, e),
                "{} {key}: tau {a}, metafor {e}",
                analysis["id"]
            );
        }
        for key in ["tau2_ci", "I2_ci", "H2_ci"] {
            for i in 0..2 {
                let (a, e) = (
                    actual[key][i].as_f64().expect("number"),
                    expected[key][i].as_f64().expect("number"),
                );
                assert!(
                    close(a, e),
                    "{} {key}[{i}]: tau {a}, metafor {e}",
                    analysis["id"]
                );
            }
        }
    }
}
