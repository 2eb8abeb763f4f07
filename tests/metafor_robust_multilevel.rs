//! tau's cluster-robust inference on multilevel working models against
//! metafor and clubSandwich.
//!
//! Expected values: tests/fixtures/robust_multilevel.json, written by
//! tests/fixtures/generate_robust_multilevel.R with metafor 3.8.1,
//! clubSandwich 0.5.8 and metadat 1.2.0: `robust(rma.mv(...), cluster,
//! clubSandwich = TRUE)`, `Wald_test(..., test = "HTZ")` and
//! `robust(..., adjust = TRUE)` for three-level, four-level and CHE
//! (vcalc, ρ = 0.2, 0.5, 0.6, 0.8) models, REML and ML, intercept-only and
//! with continuous and categorical moderators (dat.bornmann2007,
//! dat.white2020, dat.bakdash2021, dat.lopez2019, simulated data with
//! studies of one to four effect sizes in labs), clustered by the outermost
//! random level or by a coarser one (labs).
//!
//! Tolerances: the robust step, fed metafor's σ̂² (`at_sigma2`), at relative
//! 1e-6 (the house's). End to end, with σ̂² fitted by tau, at 1e-5: metafor
//! stops its optimiser at rel.tol 1e-10 in the log-likelihood, which pins
//! σ̂² (and so every robust number) only to about 1e-6 to 1e-5 relative
//! (tests/metafor_multilevel.rs compares the fits themselves at 1e-5).
//! Where metafor's own optimisers disagree by more (the fixture's
//! `agreement`: nlminb against BFGS, largest relative difference of the σ̂²),
//! the end-to-end tolerance is ten times that disagreement, since metafor's
//! σ̂² is then only that accurate (sim_4level_g_lab_reml: 1.2e-5; there
//! tau's σ̂² has the higher restricted likelihood, and agrees with BFGS to
//! 4e-7).

use crate::util::prec::{RELATIVE, close_to};
use serde_json::Value;
use tau_core::data::dataset;
use tau_core::multilevel::{MultilevelOptions, Test};
use tau_core::regression::DesignSpec;
use tau_core::report::text::TextView;
use tau_core::report::{Format, write_report};
use tau_core::robust::multilevel::{at_sigma2, fitted};
use tau_core::robust::{RobustResult, RobustSpec, SmallSample, rho_sensitivity};
use tau_core::{Dataset, Kinded, Method};

/// End to end: σ̂² fitted by tau (see the module docs).
const END_TO_END: f64 = 1e-5;

fn fixtures() -> Value {
    crate::util::fixture("robust_multilevel.json")
}

fn models(fx: &Value) -> Vec<Value> {
    fx["models"].as_array().expect("models").clone()
}

fn load(fx: &Value, id: &str) -> Dataset {
    let ds = fx["datasets"]
        .as_array()
        .expect("datasets")
        .iter()
        .find(|d| d["id"] == id)
        .expect("dataset");
    let file = serde_json::json!({"measure": ds["measure"], "studies": ds["studies"]});
    dataset::load_json(&file.to_string(), None).expect("loads")
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|s| s.as_str().expect("string").to_owned())
        .collect()
}

fn nums(v: &Value) -> Vec<f64> {
    match v {
        Value::Array(a) => a.iter().map(|x| x.as_f64().unwrap_or(f64::NAN)).collect(),
        other => vec![other.as_f64().unwrap_or(f64::NAN)],
    }
}

fn options(case: &Value) -> MultilevelOptions {
    MultilevelOptions {
        random: strings(&case["random"]),
        rho: case["rho"].as_f64(),
        method: Method::parse(case["method"].as_str().expect("method")).expect("known"),
        test: Test::Z,
        design: case["mods"].as_array().map(|_| DesignSpec {
            moderators: strings(&case["mods"]),
            references: Vec::new(),
            intercept: true,
        }),
        profile: false,
        level_tests: false,
        ..MultilevelOptions::default()
    }
}

fn spec(case: &Value, small_sample: SmallSample) -> RobustSpec {
    RobustSpec {
        cluster: case["cluster"].as_str().expect("cluster").to_owned(),
        small_sample,
    }
}

/// Collects mismatches so that one run reports all of them.
struct Check {
    case: String,
    tolerance: f64,
    bad: Vec<String>,
}

impl Check {
    fn num(&mut self, what: &str, actual: f64, expected: f64) {
        let ok = if expected.is_nan() {
            actual.is_nan()
        } else {
            close_to(actual, expected, self.tolerance)
        };
        if !ok {
            self.bad.push(format!(
                "{}: {what}: tau {actual:?} vs R {expected:?}",
                self.case
            ));
        }
    }

    fn all(&mut self, what: &str, actual: &[f64], expected: &[f64]) {
        if actual.len() != expected.len() {
            self.bad.push(format!("{}: {what}: lengths", self.case));
            return;
        }
        for (i, (a, e)) in actual.iter().zip(expected).enumerate() {
            self.num(&format!("{what}[{i}]"), *a, *e);
        }
    }

    /// A robust result against `robust(clubSandwich = TRUE)` or `robust(adjust = TRUE)`.
    fn robust(&mut self, r: &RobustResult, expected: &Value) {
        let col = |f: fn(&tau_core::robust::RobustCoefficient) -> f64| -> Vec<f64> {
            r.coefficients.iter().map(f).collect()
        };
        self.all("se", &col(|c| c.se), &nums(&expected["se"]));
        self.all("t", &col(|c| c.statistic), &nums(&expected["statistic"]));
        let mut df = nums(&expected["df"]);
        if df.len() == 1 {
            df = vec![df[0]; r.coefficients.len()];
        }
        self.all("df", &col(|c| c.df.unwrap_or(f64::NAN)), &df);
        self.all("p", &col(|c| c.p), &nums(&expected["p"]));
        self.all(
            "ci_lower",
            &col(|c| c.ci_lower),
            &nums(&expected["ci_lower"]),
        );
        self.all(
            "ci_upper",
            &col(|c| c.ci_upper),
            &nums(&expected["ci_upper"]),
        );
        self.num("QM", r.qm, nums(&expected["QM"])[0]);
        self.num("QM_df", r.qm_df as f64, nums(&expected["QM_df"])[0]);
        self.num(
            "QM_df2",
            r.qm_df2.unwrap_or(f64::NAN),
            nums(&expected["QM_df2"])[0],
        );
        self.num("QM_p", r.qm_p, nums(&expected["QM_p"])[0]);
        self.num("n", r.robust.clusters as f64, nums(&expected["n"])[0]);
        let vcov: Vec<f64> = r.vcov.iter().flatten().copied().collect();
        let expected_vcov: Vec<f64> = expected["vcov"]
            .as_array()
            .expect("vcov")
            .iter()
            .flat_map(nums)
            .collect();
        self.all("vcov", &vcov, &expected_vcov);
    }

    fn wald(&mut self, r: &RobustResult, case: &Value) {
        if let Some(wt) = case.get("wald_test") {
            self.num("HTZ F", r.qm, nums(&wt["Fstat"])[0]);
            self.num("HTZ df_num", r.qm_df as f64, nums(&wt["df_num"])[0]);
            self.num(
                "HTZ df_denom",
                r.qm_df2.unwrap_or(f64::NAN),
                nums(&wt["df_denom"])[0],
            );
            self.num("HTZ p", r.qm_p, nums(&wt["p_val"])[0]);
        }
    }

    fn finish(bad: Vec<String>) {
        assert!(
            bad.is_empty(),
            "{} mismatches:\n{}",
            bad.len(),
            bad.join("\n")
        );
    }
}

fn label(case: &Value) -> String {
    format!(
        "{} ({})",
        case["id"].as_str().expect("id"),
        case["call"].as_str().expect("call")
    )
}

/// The robust step on metafor's fitted variance components, at 1e-6.
#[test]
fn robust_inference_at_metafors_sigma2_matches_clubsandwich_and_metafor() {
    let fx = fixtures();
    assert_eq!(fx["metafor_version"], "3.8.1");
    assert_eq!(fx["clubSandwich_version"], "0.5.8");
    let cases = models(&fx);
    assert!(cases.len() >= 16);
    let mut bad = Vec::new();
    for case in &cases {
        let data = load(&fx, case["dataset"].as_str().expect("dataset"));
        let sigma2 = nums(&case["sigma2"]);
        let mut c = Check {
            case: label(case),
            tolerance: RELATIVE,
            bad: Vec::new(),
        };
        for small_sample in [SmallSample::Satterthwaite, SmallSample::None] {
            let r = at_sigma2(&data, &options(case), &sigma2, &spec(case, small_sample))
                .unwrap_or_else(|e| panic!("{}: {e}", c.case));
            let estimates: Vec<f64> = r.coefficients.iter().map(|c| c.estimate).collect();
            c.all("beta", &estimates, &nums(&case["beta"]));
            let names: Vec<String> = r.coefficients.iter().map(|c| c.name.clone()).collect();
            assert_eq!(names.len(), strings(&case["names"]).len(), "{}", c.case);
            match small_sample {
                SmallSample::Satterthwaite => {
                    assert_eq!(r.robust.estimator, "CR2");
                    c.robust(&r, &case["clubsandwich"]);
                    c.wald(&r, case);
                }
                SmallSample::None => {
                    assert_eq!(r.robust.estimator, "CR1");
                    c.robust(&r, &case["adjust"]);
                }
            }
        }
        bad.extend(c.bad);
    }
    Check::finish(bad);
}

/// The whole path from the records: tau fits σ̂², then makes the robust
/// inference, at 1e-5 (see the module docs).
#[test]
fn robust_multilevel_end_to_end_matches_robust_rma_mv() {
    let fx = fixtures();
    let mut bad = Vec::new();
    for case in models(&fx) {
        let data = load(&fx, case["dataset"].as_str().expect("dataset"));
        let mut c = Check {
            case: label(&case),
            tolerance: END_TO_END.max(10.0 * nums(&case["agreement"])[0]),
            bad: Vec::new(),
        };
        for small_sample in [SmallSample::Satterthwaite, SmallSample::None] {
            let (model, r) = fitted(&data, &options(&case), &spec(&case, small_sample))
                .unwrap_or_else(|e| panic!("{}: {e}", c.case));
            assert_eq!(model.k as u64, case["k"].as_u64().expect("k"), "{}", c.case);
            c.all("sigma2", &model.sigma2, &nums(&case["sigma2"]));
            match small_sample {
                SmallSample::Satterthwaite => {
                    c.robust(&r, &case["clubsandwich"]);
                    c.wald(&r, &case);
                }
                SmallSample::None => c.robust(&r, &case["adjust"]),
            }
        }
        bad.extend(c.bad);
    }
    Check::finish(bad);
}

fn case(fx: &Value, id: &str) -> Value {
    models(fx)
        .into_iter()
        .find(|c| c["id"] == id)
        .expect("case")
}

/// Robust clusters finer than the outermost random level (studies within
/// labs, with `--random lab/cid/es`): clubSandwich refuses ("Random effects
/// are not nested within clustering variable"), and so does tau, naming the
/// lab and the two clusters.
#[test]
fn random_effects_not_nested_in_the_clusters_is_an_error() {
    let fx = fixtures();
    let case = case(&fx, "sim_4level_g_lab_reml");
    let data = load(&fx, "sim");
    let mut robust = spec(&case, SmallSample::Satterthwaite);
    robust.cluster = "cid".into();
    let err = fitted(&data, &options(&case), &robust).expect_err("not nested");
    assert_eq!(err.kind(), tau_core::ErrorKind::Input);
    let message = err.to_string();
    assert!(
        message.starts_with(
            "lab 'labA' holds effect sizes of two clusters of 'cid' ('201' and '213')"
        ),
        "{message}"
    );
    assert!(
        message.contains("must be nested in the robust clusters"),
        "{message}"
    );
}

/// Records without a cluster value are left out of the model and the robust
/// inference, with a warning naming them; fewer than 4 df are warned about.
#[test]
fn records_without_a_cluster_are_left_out_with_a_warning() {
    let fx = fixtures();
    let case = case(&fx, "sim_che_x_g_reml");
    let mut data = load(&fx, "sim");
    data.studies[0]
        .moderators
        .insert("cid", tau_core::input::Moderator::Missing);
    let (model, r) = fitted(
        &data,
        &options(&case),
        &spec(&case, SmallSample::Satterthwaite),
    )
    .expect("fits");
    assert_eq!(model.k, 67);
    assert_eq!(r.robust.clusters, 29);
    assert!(
        r.warnings[0]
            .to_string()
            .contains("without a value of the cluster moderator 'cid' left out: c201-1"),
        "{:?}",
        r.warnings
    );
}

#[test]
fn few_satterthwaite_df_are_warned_about_by_coefficient() {
    let fx = fixtures();
    let case = case(&fx, "bakdash_che_measure_reml");
    let data = load(&fx, "bakdash");
    let r = at_sigma2(
        &data,
        &options(&case),
        &nums(&case["sigma2"]),
        &spec(&case, SmallSample::Satterthwaite),
    )
    .expect("robust");
    let warnings: Vec<String> = r.warnings.iter().map(ToString::to_string).collect();
    // intrcpt has 2.06 df, SA_measure levels as few: each is named.
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("'intrcpt' has 2.06 degrees of freedom")),
        "{warnings:?}"
    );
    assert!(warnings.len() >= 6, "{warnings:?}");
}

#[test]
fn sigma2_of_the_wrong_length_is_an_error() {
    let fx = fixtures();
    let case = case(&fx, "sim_3level_x_ml");
    let data = load(&fx, "sim");
    let err = at_sigma2(
        &data,
        &options(&case),
        &[0.1],
        &spec(&case, SmallSample::Satterthwaite),
    )
    .expect_err("one sigma2 for two levels");
    assert!(err.to_string().contains("2 variance component"), "{err}");
}

/// `rho_sensitivity` at ρ = 0.2, 0.5, 0.8 against the three metafor fits of
/// each series, end to end (so at 1e-5, see the module docs).
#[test]
fn rho_sensitivity_matches_the_fits_at_each_rho() {
    let fx = fixtures();
    let all = models(&fx);
    let mut bad = Vec::new();
    let mut series = 0;
    for base in all.iter().filter(|c| {
        all.iter()
            .any(|s| s["sensitivity"].as_str() == c["id"].as_str())
    }) {
        series += 1;
        let mut fits: Vec<&Value> = all
            .iter()
            .filter(|s| s["sensitivity"].as_str() == base["id"].as_str())
            .collect();
        fits.sort_by(|a, b| {
            a["rho"]
                .as_f64()
                .partial_cmp(&b["rho"].as_f64())
                .expect("rho")
        });
        let rhos: Vec<f64> = fits
            .iter()
            .map(|f| f["rho"].as_f64().expect("rho"))
            .collect();
        assert_eq!(rhos, [0.2, 0.5, 0.8]);
        let data = load(&fx, base["dataset"].as_str().expect("dataset"));
        let r = rho_sensitivity(
            &data,
            &options(base),
            &rhos,
            &spec(base, SmallSample::Satterthwaite),
        )
        .unwrap_or_else(|e| panic!("{}: {e}", base["id"]));
        assert_eq!(r.fits.len(), 3);
        assert_eq!(
            r.robust.clusters as f64,
            nums(&fits[0]["clubsandwich"]["n"])[0]
        );
        for (fit, expected) in r.fits.iter().zip(&fits) {
            let mut c = Check {
                case: label(expected),
                tolerance: END_TO_END.max(10.0 * nums(&expected["agreement"])[0]),
                bad: Vec::new(),
            };
            assert_eq!(fit.rho, expected["rho"].as_f64().expect("rho"));
            c.all("sigma2", &fit.sigma2, &nums(&expected["sigma2"]));
            let col = |f: fn(&tau_core::robust::RobustCoefficient) -> f64| -> Vec<f64> {
                fit.coefficients.iter().map(f).collect()
            };
            c.all("beta", &col(|c| c.estimate), &nums(&expected["beta"]));
            let cs = &expected["clubsandwich"];
            c.all("se", &col(|c| c.se), &nums(&cs["se"]));
            c.all("df", &col(|c| c.df.unwrap_or(f64::NAN)), &nums(&cs["df"]));
            c.all("p", &col(|c| c.p), &nums(&cs["p"]));
            match expected.get("wald_test") {
                Some(wt) => {
                    c.num("HTZ F", fit.qm.expect("QM"), nums(&wt["Fstat"])[0]);
                    c.num(
                        "HTZ df2",
                        fit.qm_df2.expect("df2"),
                        nums(&wt["df_denom"])[0],
                    );
                    c.num("HTZ p", fit.qm_p.expect("p"), nums(&wt["p_val"])[0]);
                }
                None => assert!(fit.qm.is_none(), "{}", c.case),
            }
            bad.extend(c.bad);
        }
    }
    assert_eq!(series, 2);
    Check::finish(bad);
}

/// The views of the sensitivity table: text side by side (a column per ρ),
/// JSON with the contract's keys, CSV a row per ρ.
#[test]
fn rho_sensitivity_views() {
    let fx = fixtures();
    let base = case(&fx, "sim_che_x_g_reml");
    let data = load(&fx, "sim");
    let r = rho_sensitivity(
        &data,
        &options(&base),
        &[0.2, 0.5, 0.8],
        &spec(&base, SmallSample::Satterthwaite),
    )
    .expect("fits");
    let text = r.text();
    assert!(
        text.starts_with(
            "Sensitivity to the assumed correlation rho (robust inference: CR2, clusters: 30; cluster variable: cid)"
        ),
        "{text}"
    );
    let header = text.lines().nth(3).expect("header");
    assert!(
        header.contains("rho = 0.2")
            && header.contains("rho = 0.5")
            && header.contains("rho = 0.8"),
        "{text}"
    );
    for label in [
        "sigma^2.1 (cid)",
        "sigma^2.2 (cid/es)",
        "  se (robust)",
        "HTZ test of moderators: F",
    ] {
        assert!(text.contains(label), "{label}: {text}");
    }
    let json = serde_json::to_value(&r).expect("json");
    assert_eq!(json["robust"]["type"], "CR2");
    assert_eq!(json["robust"]["small_sample"], "Satterthwaite/HTZ");
    assert_eq!(json["QM_distribution"], "F");
    for key in [
        "rho",
        "sigma2",
        "coefficients",
        "QM",
        "QM_df",
        "QM_df2",
        "QM_p",
    ] {
        assert!(json["fits"][1].get(key).is_some(), "{key}");
    }
    let mut csv = Vec::new();
    write_report(&r, Format::Csv, &mut csv).expect("csv");
    let csv = String::from_utf8(csv).expect("utf-8");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 4, "{csv}");
    assert!(
        lines[0].starts_with("rho,sigma2 cid,sigma2 cid/es,intrcpt estimate,intrcpt se,intrcpt df,intrcpt p,x estimate"),
        "{csv}"
    );
    assert!(lines[2].starts_with("0.5,"), "{csv}");
}

// ---------------------------------------------------------------- command line

/// A fixture data set as a file of tau records.
fn records_file(fx: &Value, id: &str) -> tempfile::NamedTempFile {
    let ds = fx["datasets"]
        .as_array()
        .expect("datasets")
        .iter()
        .find(|d| d["id"] == id)
        .expect("dataset");
    let file = tempfile::Builder::new()
        .suffix(".json")
        .tempfile()
        .expect("temporary file");
    let body = serde_json::json!({"measure": ds["measure"], "studies": ds["studies"]});
    std::fs::write(file.path(), body.to_string()).expect("writes");
    file
}

/// `tau regress --random --rho --robust` gives the library's robust numbers
/// (and so clubSandwich's) in the JSON contract of issue 13.
#[test]
fn cli_regress_random_robust_is_the_library_result() {
    let fx = fixtures();
    let case = case(&fx, "sim_che_x_g_reml");
    let file = records_file(&fx, "sim");
    let output = crate::util::tau()
        .arg("regress")
        .arg(file.path())
        .args(["--mods", "x,g", "--random", "cid/es", "--rho", "0.6"])
        .args(["--robust", "cid", "--format", "json"])
        .output()
        .expect("runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let json: Value = serde_json::from_slice(&output.stdout).expect("json");
    let (_, r) = fitted(
        &load(&fx, "sim"),
        &options(&case),
        &spec(&case, SmallSample::Satterthwaite),
    )
    .expect("fits");
    assert_eq!(json["robust"]["type"], "CR2");
    assert_eq!(json["robust"]["cluster"], "cid");
    assert_eq!(json["robust"]["clusters"], 30);
    assert_eq!(json["robust"]["small_sample"], "Satterthwaite/HTZ");
    assert_eq!(json["QM_distribution"], "F");
    assert!(close_to(json["QM"].as_f64().expect("QM"), r.qm, 1e-14));
    assert!(close_to(
        json["QM_df2"].as_f64().expect("QM_df2"),
        r.qm_df2.expect("df2"),
        1e-14
    ));
    for (j, c) in r.coefficients.iter().enumerate() {
        let row = &json["coefficients"][j];
        for (key, value) in [
            ("estimate", c.estimate),
            ("se", c.se),
            ("statistic", c.statistic),
            ("p", c.p),
            ("ci_lower", c.ci_lower),
            ("ci_upper", c.ci_upper),
        ] {
            // The same numbers, but for the last bit of the JSON text.
            let json = row[key].as_f64().expect("number");
            assert!(
                close_to(json, value, 1e-14),
                "{key}[{j}]: {json} vs {value}"
            );
        }
        let df = row["df"].as_f64().expect("df");
        assert!(close_to(df, c.df.expect("df"), 1e-14), "df[{j}]");
    }
    // The model-based values are kept beside the robust ones.
    assert!(json["model_based"]["coefficients"].is_array());
}

#[test]
fn cli_pool_random_robust_text_and_small_sample_none() {
    let fx = fixtures();
    let file = records_file(&fx, "lopez");
    let output = crate::util::tau()
        .arg("pool")
        .arg(file.path())
        .args(["--random", "study/es", "--rho", "0.6", "--method", "ML"])
        .args(["--robust", "study", "--small-sample", "none"])
        .output()
        .expect("runs");
    assert!(output.status.success());
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.contains("Robust inference (CR1, clusters: 76; cluster variable: study)"),
        "{text}"
    );
    assert!(text.contains("Multivariate Meta-Analysis Model"), "{text}");
    // metafor's robust(adjust = TRUE): the SE of lopez_che_intercept_ml.
    let case = case(&fx, "lopez_che_intercept_ml");
    let se = nums(&case["adjust"]["se"])[0];
    assert!(text.contains(&format!("{se:.4}")), "{se}: {text}");
}

#[test]
fn cli_rho_list_prints_the_sensitivity_table() {
    let fx = fixtures();
    let file = records_file(&fx, "sim");
    let output = crate::util::tau()
        .arg("regress")
        .arg(file.path())
        .args([
            "--mods",
            "x,g",
            "--random",
            "cid/es",
            "--rho",
            "0.2,0.5,0.8",
        ])
        .args(["--robust", "cid"])
        .output()
        .expect("runs");
    assert!(output.status.success());
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.starts_with("Sensitivity to the assumed correlation rho"),
        "{text}"
    );
    assert!(
        text.contains("rho = 0.2") && text.contains("rho = 0.8"),
        "{text}"
    );
    assert!(text.contains("HTZ test of moderators: F"), "{text}");
}

#[test]
fn cli_clusters_finer_than_the_outermost_level_are_refused() {
    let output = crate::util::tau()
        .args(["pool", "tests/bad_inputs/robust_multilevel.json"])
        .args(["--random", "lab/trial", "--robust", "trial"])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("lab 'North' holds effect sizes of two clusters of 'trial' ('A' and 'B')"),
        "{stderr}"
    );
}
