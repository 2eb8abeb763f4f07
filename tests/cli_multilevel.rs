//! `--random` on `pool`, `regress` and `subgroup` as a user runs them: the
//! JSON equals the library's result (which tests/metafor_multilevel.rs
//! checks against metafor's rma.mv), the text report reads as metafor's
//! print(rma.mv), every refusal, and bad input.
//!
//! Data: the data sets of tests/fixtures/multilevel.json (written to a
//! scratch folder), and tests/bad_inputs/multilevel.json (made up: six
//! trials with two or three effect sizes each, one record without a trial).

use crate::util::prec::close_to;
use crate::util::temp::TempDir;
use crate::util::{fixture, tau, without_provenance};
use predicates::prelude::*;
use serde_json::Value;
use tau_core::data::dataset;
use tau_core::multilevel::{self, MultilevelOptions, Test};
use tau_core::regression::DesignSpec;

const BAD: &str = "tests/bad_inputs/multilevel.json";

/// A fixture data set as a study file in `dir`, and loaded.
fn data_file(dir: &TempDir, id: &str) -> (String, tau_core::Dataset) {
    let fx: Value = fixture("multilevel.json");
    let ds = fx["datasets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["id"] == id)
        .unwrap();
    let text = serde_json::json!({"measure": ds["measure"], "studies": ds["studies"]}).to_string();
    let path = dir.path(&format!("{id}.json"));
    std::fs::write(&path, &text).unwrap();
    (path, dataset::load_json(&text, None).unwrap())
}

fn case(kind: &str, id: &str) -> Value {
    let fx: Value = fixture("multilevel.json");
    fx[kind]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap()
        .clone()
}

fn json_of(args: &[&str]) -> Value {
    let out = tau()
        .args(args)
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "tau {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    without_provenance(&out.stdout)
}

fn text_of(args: &[&str]) -> String {
    let out = tau().args(args).output().unwrap();
    assert!(
        out.status.success(),
        "tau {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The same JSON, numbers equal up to the last bit or two: serde_json
/// (without its float_roundtrip feature) may read a number back one ulp
/// off, so numbers are compared at a relative 1e-14.
fn same_json(actual: &Value, expected: &Value, at: &str) {
    match (actual, expected) {
        (Value::Number(a), Value::Number(e)) => {
            let (a, e) = (a.as_f64().unwrap(), e.as_f64().unwrap());
            assert!(
                (a - e).abs() <= 1e-14 * e.abs(),
                "{at}: {a} in the CLI's JSON, {e} from the library"
            );
        }
        (Value::Array(a), Value::Array(e)) => {
            assert_eq!(a.len(), e.len(), "{at}: length");
            for (i, (a, e)) in a.iter().zip(e).enumerate() {
                same_json(a, e, &format!("{at}[{i}]"));
            }
        }
        (Value::Object(a), Value::Object(e)) => {
            let keys = |o: &serde_json::Map<String, Value>| o.keys().cloned().collect::<Vec<_>>();
            assert_eq!(keys(a), keys(e), "{at}: keys");
            for (key, value) in a {
                same_json(value, &e[key], &format!("{at}.{key}"));
            }
        }
        _ => assert_eq!(actual, expected, "{at}"),
    }
}

fn options(random: &[&str]) -> MultilevelOptions {
    MultilevelOptions {
        random: random.iter().map(|s| s.to_string()).collect(),
        ..MultilevelOptions::default()
    }
}

#[test]
fn pool_json_is_the_library_result_and_metafors() {
    let dir = TempDir::new("ml-pool");
    let (file, data) = data_file(&dir, "bornmann");
    let json = json_of(&["pool", &file, "--random", "study/obs"]);
    let library = multilevel::fit(&data, &options(&["study", "obs"])).unwrap();
    same_json(&json, &serde_json::to_value(&library).unwrap(), "$");
    // The contract's keys.
    for key in [
        "estimate",
        "se",
        "statistic",
        "p",
        "ci_lower",
        "ci_upper",
        "sigma2",
        "sigma2_names",
        "sigma2_levels",
        "sigma2_ci",
        "logLik",
        "deviance",
        "AIC",
        "BIC",
        "AICc",
        "QE",
        "QE_df",
        "QE_p",
        "I2_levels",
        "I2_total",
        "pi_lower",
        "pi_upper",
        "level_tests",
    ] {
        assert!(json.get(key).is_some(), "JSON key {key}");
    }
    assert_eq!(
        json["settings"]["random"],
        serde_json::json!(["study", "obs"])
    );
    assert_eq!(json["settings"]["rho"], Value::Null);
    // And metafor's numbers (bornmann-reml of the fixture; metafor converged tightly).
    let expected = case("models", "bornmann-reml");
    for (ours, theirs) in [
        (&json["estimate"], &expected["coefficients"][0]["estimate"]),
        (&json["sigma2"][0], &expected["sigma2"][0]),
        (&json["sigma2"][1], &expected["sigma2"][1]),
        (&json["pi_lower"], &expected["pi_lower"]),
        (&json["logLik"], &expected["logLik"]),
    ] {
        assert!(
            close_to(ours.as_f64().unwrap(), theirs.as_f64().unwrap(), 1e-5),
            "{ours} vs metafor {theirs}"
        );
    }
}

#[test]
fn rho_test_t_and_moderators_reach_the_library() {
    let dir = TempDir::new("ml-regress");
    let (file, data) = data_file(&dir, "white");
    let json = json_of(&[
        "regress",
        &file,
        "--mods",
        "exp_obs",
        "--random",
        "study_id/obs",
        "--rho",
        "0.6",
        "--test",
        "t",
    ]);
    let library = multilevel::fit(
        &data,
        &MultilevelOptions {
            rho: Some(0.6),
            test: Test::T,
            design: Some(DesignSpec {
                moderators: vec!["exp_obs".into()],
                references: Vec::new(),
                intercept: true,
            }),
            ..options(&["study_id", "obs"])
        },
    )
    .unwrap();
    same_json(&json, &serde_json::to_value(&library).unwrap(), "$");
    assert_eq!(json["settings"]["rho"], 0.6);
    let expected = case("models", "white-rho-expobs");
    let slope = json["coefficients"][1]["estimate"].as_f64().unwrap();
    let theirs = expected["coefficients"][1]["estimate"].as_f64().unwrap();
    assert!(close_to(slope, theirs, 1e-5), "{slope} vs metafor {theirs}");
}

#[test]
fn subgroup_json_is_the_library_result_and_metafors() {
    let dir = TempDir::new("ml-subgroup");
    let (file, data) = data_file(&dir, "bornmann");
    let json = json_of(&["subgroup", &file, "--by", "type", "--random", "study/obs"]);
    let library =
        multilevel::fit_subgroups(&data, &options(&["study", "obs"]), "type", None).unwrap();
    same_json(&json, &serde_json::to_value(&library).unwrap(), "$");
    let expected = case("subgroups", "bornmann-by-type");
    for (ours, theirs) in [
        (&json["Q_between"], &expected["Q_between"]),
        (
            &json["groups"][0]["estimate"],
            &expected["groups"][0]["estimate"],
        ),
        (
            &json["groups"][1]["ci_upper"],
            &expected["groups"][1]["ci_upper"],
        ),
    ] {
        assert!(
            close_to(ours.as_f64().unwrap(), theirs.as_f64().unwrap(), 1e-5),
            "{ours} vs metafor {theirs}"
        );
    }
    assert_eq!(json["groups"][0]["level"], "Fellowship");
    assert_eq!(json["groups"][0]["k"], 26);
    // --levels orders the rows; --tau2 common says what --random does anyway.
    let ordered = json_of(&[
        "subgroup",
        &file,
        "--by",
        "type",
        "--random",
        "study/obs",
        "--levels",
        "Grant,Fellowship",
        "--tau2",
        "common",
    ]);
    assert_eq!(ordered["groups"][0]["level"], "Grant");
    assert_eq!(ordered["Q_between"], json["Q_between"]);
}

/// The layout of metafor's print(rma.mv(yi, vi, random = ~ 1 | study/obs,
/// data = dat.bornmann2007 after escalc("OR"))), its predict() and
/// anova(full, reduced), numbers as metafor 3.8.1 printed them.
#[test]
fn text_reads_as_metafors_print() {
    let dir = TempDir::new("ml-text");
    let (file, _) = data_file(&dir, "bornmann");
    let text = text_of(&["pool", &file, "--random", "study/obs"]);
    for line in [
        "Multivariate Meta-Analysis Model (k = 66; method: REML",
        "Variance Components:",
        "sigma^2.1  0.0161  0.1268     21     no      study",
        "sigma^2.2  0.0038  0.0613     66     no  study/obs",
        "Test for Heterogeneity:\nQ(df = 65) = 221.2850, p-val <.0001",
        "Model Results:",
        " -0.1010  0.0417  -2.4196  0.0155  -0.1828  -0.0192",
        "[-0.3889, 0.1869]",
        "Likelihood-ratio test per level",
        "study      -18.5564  10.9449   1  0.0009",
        "-13.0839   26.1678  32.1678  38.6910  32.5612",
        "Convergence: REML converged",
    ] {
        assert!(text.contains(line), "missing {line:?} in\n{text}");
    }
    // confint(res): sigma^2.1 0.0161 [0.0040, 0.0555]; tau's lower bound is
    // 0.0039 at 4 decimals (the fixture compares the full numbers at 1e-5).
    assert!(text.contains("0.0555"), "{text}");
    let regress = text_of(&[
        "regress",
        &file,
        "--mods",
        "type",
        "--random",
        "study/obs",
        "--test",
        "t",
    ]);
    for line in [
        "Test for Residual Heterogeneity:\nQE(df = 64) = 133.4811",
        "Test of Moderators (coefficient 2):\nF(df1 = 1, df2 = 64) = 11.2312, p-val = 0.0014",
        "intrcpt      -0.2010  0.0429  -4.6816  64  <.0001  -0.2868  -0.1152",
    ] {
        assert!(regress.contains(line), "missing {line:?} in\n{regress}");
    }
    let subgroup = text_of(&["subgroup", &file, "--by", "type", "--random", "study/obs"]);
    for line in [
        "Test of Subgroup Differences (QM of mods = ~ factor(type)):\nQM(df = 1) = 11.2312",
        "Fellowship  26   -0.2010  0.0429  -4.6816  <.0001  -0.2852  -0.1169",
    ] {
        assert!(subgroup.contains(line), "missing {line:?} in\n{subgroup}");
    }
}

#[test]
fn csv_and_paper_formats() {
    let dir = TempDir::new("ml-formats");
    let (file, _) = data_file(&dir, "bornmann");
    let csv = text_of(&["pool", &file, "--random", "study/obs", "--format", "csv"]);
    assert!(
        csv.starts_with("name,estimate,se,statistic,p,ci_lower,ci_upper\nintrcpt,-0.1009885569")
    );
    let csv = text_of(&[
        "subgroup",
        &file,
        "--by",
        "type",
        "--random",
        "study/obs",
        "--format",
        "csv",
    ]);
    assert_eq!(csv.lines().count(), 3);
    assert!(csv.starts_with("level,k,estimate"));
    let md = text_of(&[
        "pool",
        &file,
        "--random",
        "study/obs",
        "--format",
        "markdown",
    ]);
    assert!(
        md.contains("Multilevel model (random = study/obs; k = 66; REML)"),
        "{md}"
    );
    assert!(md.contains("σ²(study) = 0.02"), "{md}");
    let tex = text_of(&[
        "subgroup",
        &file,
        "--by",
        "type",
        "--random",
        "study/obs",
        "--format",
        "latex",
    ]);
    assert!(tex.contains("Fellowship & 26"), "{tex}");
}

#[test]
fn filters_and_exclusions_keep_working() {
    let all = json_of(&["pool", BAD, "--random", "trial/es_id"]);
    let filtered = json_of(&[
        "pool",
        BAD,
        "--random",
        "trial/es_id",
        "--filter",
        "outcome!=parent",
    ]);
    let excluded = json_of(&[
        "pool",
        BAD,
        "--random",
        "trial/es_id",
        "--exclude",
        "Ames 1",
    ]);
    assert_eq!(all["k"], 14);
    assert_eq!(filtered["k"], 11);
    assert_eq!(excluded["k"], 13);
    let ml = json_of(&[
        "pool",
        BAD,
        "--random",
        "trial/es_id",
        "--method",
        "ML",
        "--level",
        "90",
    ]);
    assert_eq!(ml["settings"]["method"], "ML");
    assert_eq!(ml["settings"]["level"], 90.0);
    // A numeric subgroup moderator is a factor, its levels sorted numerically.
    let by_es = json_of(&["subgroup", BAD, "--by", "es_id", "--random", "trial/es_id"]);
    let levels: Vec<&str> = by_es["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["level"].as_str().unwrap())
        .collect();
    assert_eq!(levels, ["1", "2", "3"]);
}

/// Runs `tau args`, expecting exit code `code` and `message` on standard error.
fn refused(args: &[&str], code: i32, message: &str) {
    tau()
        .args(args)
        .assert()
        .code(code)
        .stdout(predicate::str::is_empty())
        .stderr(predicate::str::contains(message));
}

#[test]
fn flags_a_multilevel_model_cannot_use_are_refused() {
    let with = |extra: &[&'static str], command: &'static str| -> Vec<&'static str> {
        let mut args = vec![command, BAD, "--random", "trial/es_id"];
        args.extend_from_slice(extra);
        args
    };
    refused(
        &with(&["--test", "knha"], "pool"),
        2,
        "--test knha cannot be used with --random: Knapp-Hartung rescales",
    );
    refused(&["pool", BAD, "--test", "t"], 2, "write --test knha");
    refused(
        &["regress", BAD, "--mods", "year", "--test", "t"],
        2,
        "write --test knha",
    );
    refused(
        &with(&["--fallback", "DL"], "pool"),
        2,
        "--fallback cannot be used with --random",
    );
    refused(
        &with(&["--mods", "year", "--permutations", "100"], "regress"),
        2,
        "--permutations cannot be used with --random",
    );
    refused(
        &with(&["--by", "outcome", "--permutations", "100"], "subgroup"),
        2,
        "--permutations cannot be used with --random",
    );
    refused(
        &with(&["--by", "outcome", "--tau2", "separate"], "subgroup"),
        2,
        "--tau2 separate cannot be used with --random",
    );
    refused(
        &with(&["--method", "DL"], "pool"),
        2,
        "the DL estimator cannot be used for a multilevel model",
    );
    refused(
        &with(&["--rho", "0.5,0.8"], "pool"),
        2,
        "a list of rho values needs --robust",
    );
    refused(&["pool", BAD, "--rho", "0.5"], 2, "--random");
    refused(
        &with(&["--tau2-ci", "wald"], "pool"),
        2,
        "--tau2-ci cannot be used with --random",
    );
    refused(
        &with(&["--mods", "year", "--tau2-ci", "profile"], "regress"),
        2,
        "--tau2-ci cannot be used with --random",
    );
    refused(
        &with(&["--mods", "year", "--btt", "year"], "regress"),
        2,
        "--btt cannot be used with --random",
    );
    refused(
        &with(&["--method", "MH"], "pool"),
        2,
        "--method MH cannot be used with --random",
    );
}

#[test]
fn bad_input_is_named() {
    refused(
        &["pool", BAD, "--random", "Trial/es_id"],
        2,
        "no study has a grouping variable named 'Trial'; the moderators in the file are: es_id, outcome, trial, year",
    );
    refused(
        &["pool", BAD, "--random", "trial/es_id", "--rho", "1"],
        2,
        "rho must lie in [0, 1) (got 1)",
    );
    refused(
        &["pool", BAD, "--random", "trial/es_id", "--rho", "-0.2"],
        2,
        "rho must lie in [0, 1) (got -0.2)",
    );
    refused(
        &["pool", BAD, "--random", "trial//es_id"],
        2,
        "has an empty level",
    );
    refused(
        &[
            "subgroup",
            BAD,
            "--by",
            "outcome",
            "--random",
            "trial/es_id",
            "--levels",
            "child,parent",
        ],
        2,
        "--levels for 'outcome': the list leaves out parenting",
    );
    refused(
        &[
            "subgroup",
            BAD,
            "--by",
            "outcome",
            "--random",
            "trial/es_id",
            "--filter",
            "outcome=child",
        ],
        2,
        "subgroups by 'outcome': it has one level (child)",
    );
    // Non-convergence is an error (exit 1) naming the remedy, never a number.
    let dir = TempDir::new("ml-converge");
    let (file, _) = data_file(&dir, "bornmann");
    tau()
        .args(["pool", &file, "--random", "study/obs", "--max-iter", "2"])
        .assert()
        .code(1)
        .stdout(predicate::str::is_empty())
        .stderr(predicate::str::contains(
            "did not converge within 2 iterations",
        ))
        .stderr(predicate::str::contains("raise the limit with --max-iter"));
    // A record without a grouping value: left out, named.
    tau()
        .args(["pool", BAD, "--random", "trial/es_id"])
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "1 study without a value for every grouping variable (trial, es_id) left out: Baker 2",
        ));
    // year is unique per record: written outermost, trial cannot vary within it.
    tau()
        .args(["pool", BAD, "--random", "year/trial"])
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "'trial' does not vary within 'year'",
        ))
        .stderr(predicate::str::contains("--random trial/year"));
    // One es_id per year everywhere: that level is not identifiable.
    tau()
        .args(["pool", BAD, "--random", "year/es_id"])
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "so the variance at level 'year/es_id' cannot be told apart from the one above it",
        ));
}

#[test]
fn forest_and_funnel_draw_the_multilevel_model() {
    let dir = TempDir::new("ml-plots");
    let (file, data) = data_file(&dir, "bornmann");
    let forest = dir.path("forest.svg");
    tau()
        .args(["forest", &file, "--random", "study/obs", "-o", &forest])
        .assert()
        .success();
    let svg = std::fs::read_to_string(&forest).unwrap();
    // A heading per study (21 outermost clusters), a square per effect size,
    // the diamond and the prediction interval of the model.
    assert_eq!(svg.matches("class=\"cluster\"").count(), 21);
    assert_eq!(svg.matches("class=\"effect\"").count(), 66);
    assert!(svg.contains("class=\"diamond\""));
    assert!(svg.contains("Prediction interval"));
    let library = multilevel::fit(&data, &options(&["study", "obs"])).unwrap();
    let pooled = library.summary.unwrap();
    // The estimate as an odds ratio, two decimals: exp(-0.1010) = 0.90.
    assert!(
        svg.contains(&format!("{:.2} [", pooled.value.exp())),
        "{svg}"
    );
    let funnel = dir.path("funnel.svg");
    tau()
        .args([
            "funnel",
            &file,
            "--random",
            "study/obs",
            "--contours",
            "-o",
            &funnel,
        ])
        .assert()
        .success();
    assert!(std::fs::read_to_string(&funnel).unwrap().contains("<svg"));
    // Refusals write nothing.
    let refused_plot = |args: &[&str], message: &str| {
        tau()
            .args(args)
            .assert()
            .code(2)
            .stderr(predicate::str::contains(message));
    };
    let bad = dir.path("bad.svg");
    // Subgroups of the multilevel model (issue 26): under their subgroup.
    let by = dir.path("by.svg");
    tau()
        .args([
            "forest",
            &file,
            "--random",
            "study/obs",
            "--by",
            "type",
            "--sort",
            "effect",
            "-o",
            &by,
        ])
        .assert()
        .success();
    assert!(std::fs::read_to_string(&by).unwrap().contains("type = "));
    refused_plot(
        &[
            "forest",
            &file,
            "--random",
            "study/obs",
            "--common",
            "-o",
            &bad,
        ],
        "--common cannot be used with --random",
    );
    refused_plot(
        &[
            "forest",
            &file,
            "--random",
            "study/obs",
            "--test",
            "knha",
            "-o",
            &bad,
        ],
        "--test knha cannot be used with --random",
    );
    refused_plot(
        &["forest", &file, "--random", "Study/obs", "-o", &bad],
        "no study has a grouping variable named 'Study'",
    );
    refused_plot(
        &[
            "funnel",
            &file,
            "--random",
            "study/obs",
            "--trimfill",
            "-o",
            &bad,
        ],
        "--trimfill cannot be used with --random",
    );
    refused_plot(
        &[
            "funnel",
            &file,
            "--random",
            "study/obs",
            "--selection",
            "0.025",
            "-o",
            &bad,
        ],
        "--selection cannot be used with --random",
    );
    assert!(!std::path::Path::new(&bad).exists());
}

/// `--fit-only` fits the same model without the profile CIs and the
/// likelihood-ratio tests: the model's numbers are those of the full run,
/// and `sigma2_ci` and `level_tests` are null.
#[test]
fn fit_only_leaves_out_the_profile_cis_and_level_tests() {
    let dir = TempDir::new("ml-fit-only");
    let (file, _) = data_file(&dir, "bornmann");
    let full = json_of(&["pool", &file, "--random", "study/obs"]);
    let fit = json_of(&["pool", &file, "--random", "study/obs", "--fit-only"]);
    for key in [
        "estimate",
        "se",
        "sigma2",
        "logLik",
        "QE",
        "I2_levels",
        "pi_lower",
    ] {
        assert_eq!(fit[key], full[key], "{key}");
    }
    assert!(full["sigma2_ci"].is_array() && full["level_tests"].is_array());
    assert!(fit["sigma2_ci"].is_null() && fit["level_tests"].is_null());
    refused(&["pool", BAD, "--fit-only"], 2, "--random");
}

/// The label column names the outermost cluster when records share it
/// (issue 26 item 6): `--random study/es` on a CSV whose `study` column
/// repeats gives the numbers of the same file with the cluster as an
/// explicit column.
#[test]
fn a_repeated_study_label_is_the_outermost_cluster() {
    let dir = tempfile::tempdir().unwrap();
    let rows = [
        ("A", 1, 0.1, 0.01),
        ("A", 2, 0.2, 0.02),
        ("B", 1, 0.3, 0.01),
        ("B", 2, 0.5, 0.03),
        ("C", 1, 0.0, 0.02),
        ("C", 2, 0.1, 0.01),
        ("D", 1, 0.4, 0.02),
    ];
    let mut shared = String::from("study,es,yi,vi\n");
    let mut explicit = String::from("study,trial,es,yi,vi\n");
    for (i, (s, es, yi, vi)) in rows.iter().enumerate() {
        shared.push_str(&format!("{s},{es},{yi},{vi}\n"));
        explicit.push_str(&format!("row{i},{s},{es},{yi},{vi}\n"));
    }
    let (a, b) = (
        dir.path().join("shared.csv"),
        dir.path().join("explicit.csv"),
    );
    std::fs::write(&a, shared).unwrap();
    std::fs::write(&b, explicit).unwrap();
    let fit = |path: &std::path::Path, random: &str| -> serde_json::Value {
        let out = tau()
            .args([
                "pool",
                path.to_str().unwrap(),
                "--random",
                random,
                "--format",
                "json",
            ])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let (x, y) = (fit(&a, "study/es"), fit(&b, "trial/es"));
    for key in ["estimate", "se", "logLik"] {
        assert!(
            (x[key].as_f64().unwrap() - y[key].as_f64().unwrap()).abs() < 1e-12,
            "{key}"
        );
    }
    assert_eq!(x["sigma2"], y["sigma2"]);
}
