//! Bad input and edge cases of the multilevel entry point.

use super::*;
use crate::data::dataset::load_json;

/// Three studies with two or three effect sizes each; study C lacks es_id on one record.
const FILE: &str = r#"[
  {"study": "A1", "yi": 0.10, "vi": 0.02, "moderators": {"trial": "A", "es_id": 1, "dose": 1}},
  {"study": "A2", "yi": 0.35, "vi": 0.03, "moderators": {"trial": "A", "es_id": 2, "dose": 2}},
  {"study": "B1", "yi": 0.52, "vi": 0.02, "moderators": {"trial": "B", "es_id": 1, "dose": 1}},
  {"study": "B2", "yi": 0.61, "vi": 0.04, "moderators": {"trial": "B", "es_id": 2, "dose": 3}},
  {"study": "B3", "yi": 0.44, "vi": 0.02, "moderators": {"trial": "B", "es_id": 3, "dose": 2}},
  {"study": "C1", "yi": -0.05, "vi": 0.05, "moderators": {"trial": "C", "es_id": 1, "dose": 1}},
  {"study": "C2", "yi": 0.12, "vi": 0.03, "moderators": {"trial": "C", "es_id": "two", "dose": 2}},
  {"study": "C3", "yi": 0.20, "vi": 0.03, "moderators": {"trial": "C", "dose": 3}},
  {"study": "D1", "yi": 0.30, "vi": 0.02, "moderators": {"trial": "D", "es_id": 1, "dose": 2}},
  {"study": "D2", "yi": 0.25, "vi": 0.03, "moderators": {"trial": "D", "es_id": 2, "dose": 1}}
]"#;

fn options(random: &[&str]) -> MultilevelOptions {
    MultilevelOptions {
        random: random.iter().map(|s| s.to_string()).collect(),
        ..MultilevelOptions::default()
    }
}

#[test]
fn a_record_without_a_grouping_value_is_left_out_with_a_warning() {
    let d = load_json(FILE, None).unwrap();
    let r = fit(&d, &options(&["trial", "es_id"])).unwrap();
    assert_eq!(r.k, 9);
    assert_eq!(r.sigma2_levels, [4, 9]);
    assert!(
        r.warnings
            .iter()
            .map(ToString::to_string)
            .any(|w| w.contains("C3") && w.contains("trial, es_id")),
        "{:?}",
        r.warnings
    );
    // Numbers and text are labels alike.
    assert!(r.sigma2.iter().all(|s| s.is_finite() && *s >= 0.0));
    let json = serde_json::to_value(&r).unwrap();
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
        "settings",
    ] {
        assert!(json.get(key).is_some(), "JSON lacks {key}");
    }
    assert_eq!(
        json["settings"]["random"],
        serde_json::json!(["trial", "es_id"])
    );
    assert!(json.get("coefficients").is_none());
}

#[test]
fn moderators_give_coefficients_and_qm() {
    let d = load_json(FILE, None).unwrap();
    let o = MultilevelOptions {
        design: Some(DesignSpec {
            moderators: vec!["dose".into()],
            references: Vec::new(),
            intercept: true,
        }),
        test: Test::T,
        ..options(&["trial", "es_id"])
    };
    let r = fit(&d, &o).unwrap();
    let c = r.coefficients.as_ref().unwrap();
    assert_eq!(c.len(), 2);
    assert_eq!(r.df, Some(7.0));
    assert_eq!(r.qm_df, Some(1));
    assert_eq!(r.qm_df2, Some(7.0));
    // QM under t is the squared t statistic of the one moderator.
    assert!((r.qm.unwrap() - c[1].estimate.statistic.powi(2)).abs() < 1e-9);
    assert!(r.pi_lower.is_none() && r.summary.is_none());
}

#[test]
fn an_unknown_grouping_variable_lists_the_moderators() {
    let d = load_json(FILE, None).unwrap();
    let err = fit(&d, &options(&["study_id", "es_id"])).unwrap_err();
    assert_eq!(crate::Kinded::kind(&err), ErrorKind::Input);
    let text = err.to_string();
    assert!(
        text.contains("'study_id'") && text.contains("dose, es_id, trial"),
        "{text}"
    );
}

#[test]
fn bad_options_are_input_errors() {
    let d = load_json(FILE, None).unwrap();
    for rho in [-0.1, 1.0, f64::NAN] {
        let err = fit(
            &d,
            &MultilevelOptions {
                rho: Some(rho),
                ..options(&["trial"])
            },
        )
        .unwrap_err();
        assert!(matches!(err, MultilevelError::BadRho(_)), "{err}");
        assert!(err.to_string().contains("[0, 1)"));
    }
    let err = fit(
        &d,
        &MultilevelOptions {
            method: Method::DL,
            ..options(&["trial"])
        },
    )
    .unwrap_err();
    assert!(err.to_string().contains("REML or ML"), "{err}");
    assert_eq!(crate::Kinded::kind(&err), ErrorKind::Input);
    assert!(matches!(
        fit(&d, &options(&[])),
        Err(MultilevelError::NoLevels)
    ));
    assert!(matches!(
        fit(&d, &options(&["trial", "trial"])),
        Err(MultilevelError::RepeatedLevel(_))
    ));
}

#[test]
fn a_level_that_does_not_vary_within_its_cluster_is_warned_about() {
    // row/trial: every effect size is its own cluster and trials recur across them.
    let reversed = load_json(
        r#"[{"study": "1", "yi": 0.1, "vi": 0.02, "moderators": {"row": 1, "trial": "A"}},
            {"study": "2", "yi": 0.3, "vi": 0.02, "moderators": {"row": 2, "trial": "A"}},
            {"study": "3", "yi": 0.2, "vi": 0.02, "moderators": {"row": 3, "trial": "B"}},
            {"study": "4", "yi": 0.6, "vi": 0.02, "moderators": {"row": 4, "trial": "B"}}]"#,
        None,
    )
    .unwrap();
    let r = fit(&reversed, &options(&["row", "trial"])).unwrap();
    assert!(
        r.warnings
            .iter()
            .map(ToString::to_string)
            .any(|w| w.contains("'trial' does not vary within 'row'")
                && w.contains("`random` trial/row")),
        "{:?}",
        r.warnings
    );
    let d = load_json(FILE, None).unwrap();
    // trial/dose/es_id: es_id is unique within (trial, dose) here, so the
    // innermost level has one unit per cluster.
    let r = fit(&d, &options(&["trial", "es_id", "dose"])).unwrap();
    assert!(
        r.warnings
            .iter()
            .map(ToString::to_string)
            .any(|w| w.contains("not identifiable") && w.contains("'dose'")),
        "{:?}",
        r.warnings
    );
    // The two inseparable components share the variance equally, as metafor's
    // log-scale optimiser leaves them from equal starting values.
    assert!(
        (r.sigma2[1] - r.sigma2[2]).abs() <= 1e-8 * r.sigma2[1].max(1e-8),
        "{:?}",
        r.sigma2
    );
}

#[test]
fn a_covariance_block_that_is_not_positive_definite_names_its_cluster() {
    let names = ["trial".to_owned()];
    let labels = vec![vec!["A", "A", "B"]];
    let s = Structure::new(&names, &labels, str::to_owned);
    let problem = Problem {
        structure: &s,
        y: vec![0.1, 0.2, 0.3],
        v: vec![0.1, 0.1, -0.1],
        x: vec![1.0; 3],
        p: 1,
        rho: 0.0,
        reml: true,
        log_det_xtx: 3f64.ln(),
    };
    let e = problem.evaluate(&[0.0], false).unwrap_err();
    let err = fit::eval_error(e, &s.labels);
    assert!(err.to_string().contains("cluster 'B'"), "{err}");
    assert_eq!(crate::Kinded::kind(&err), ErrorKind::Input);
}

#[test]
fn a_variance_at_the_boundary_is_exactly_zero() {
    // Effect sizes within a trial agree closely: no within-trial variance.
    let file = r#"[
      {"study": "1", "yi": 0.10, "vi": 0.04, "moderators": {"trial": "A", "es": 1}},
      {"study": "2", "yi": 0.11, "vi": 0.04, "moderators": {"trial": "A", "es": 2}},
      {"study": "3", "yi": 0.60, "vi": 0.04, "moderators": {"trial": "B", "es": 1}},
      {"study": "4", "yi": 0.61, "vi": 0.04, "moderators": {"trial": "B", "es": 2}},
      {"study": "5", "yi": -0.3, "vi": 0.04, "moderators": {"trial": "C", "es": 1}},
      {"study": "6", "yi": -0.31, "vi": 0.04, "moderators": {"trial": "C", "es": 2}}
    ]"#;
    let d = load_json(file, None).unwrap();
    let r = fit(&d, &options(&["trial", "es"])).unwrap();
    assert_eq!(r.sigma2[1], 0.0);
    assert_eq!(r.sigma2_at_zero, [false, true]);
    let ci = r.sigma2_ci.as_ref().unwrap();
    assert_eq!(ci[1][0], Some(0.0));
    let tests = r.level_tests.as_ref().unwrap();
    // The reduced model is the full one: LRT 0 up to rounding.
    assert!(
        tests[1].lrt < 1e-12 && tests[1].p > 0.999_999,
        "{:?}",
        tests[1]
    );
}

#[test]
fn a_profile_ci_that_is_not_found_says_so_and_how_to_go_on() {
    let err = MultilevelError::ProfileCi {
        level: "study/es_id".into(),
        refits: 200,
    };
    let message = err.to_string();
    assert!(
        message.contains("level 'study/es_id'") && message.contains("`fit_only`"),
        "{message}"
    );
    assert!(!message.contains("`max_iter`"), "{message}");
    assert_eq!(crate::Kinded::kind(&err), ErrorKind::Analysis);
}
