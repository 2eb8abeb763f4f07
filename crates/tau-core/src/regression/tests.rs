use super::*;
use crate::data::dataset::load_json;

const FILE: &str = r#"[
  {"study": "A", "yi": 0.10, "vi": 0.010, "moderators": {"year": 1990, "g": "a"}},
  {"study": "B", "yi": 0.30, "vi": 0.020, "moderators": {"year": 1995, "g": "b"}},
  {"study": "C", "yi": 0.65, "vi": 0.015, "moderators": {"year": 2000, "g": "a"}},
  {"study": "D", "yi": 0.50, "vi": 0.030, "moderators": {"g": "b"}},
  {"study": "E", "yi": 0.20, "vi": 0.020, "moderators": {"year": 2004, "g": "b"}},
  {"study": "F", "yi": 0.90, "vi": 0.025, "moderators": {"year": 2010, "g": "a"}}
]"#;

fn options(mods: &[&str], intercept: bool) -> RegressionOptions {
    RegressionOptions {
        fit: FitOptions::default(),
        design: DesignSpec {
            moderators: mods.iter().map(|m| m.to_string()).collect(),
            references: Vec::new(),
            intercept,
        },
        permutations: None,
    }
}

#[test]
fn missing_values_are_dropped_with_a_warning() {
    let data = load_json(FILE, None).unwrap();
    let r = regress(&data, &options(&["year"], true)).unwrap();
    assert_eq!(r.k, 5);
    assert_eq!(r.dropped, ["D"]);
    assert!(
        r.warnings
            .iter()
            .any(|w| w.to_string().contains("D (no year)")),
        "{:?}",
        r.warnings
    );
    assert!(r.r2.is_some());
    let weights: f64 = r.studies.iter().map(|s| s.weight).sum();
    assert!((weights - 100.0).abs() < 1e-9);
}

#[test]
fn prediction_at_the_design_rows_is_the_fitted_value() {
    let data = load_json(FILE, None).unwrap();
    let r = regress(&data, &options(&["year", "g"], true)).unwrap();
    for s in &r.studies {
        let p = r.predict_row(&s.x);
        assert!((p.estimate - s.fitted).abs() < 1e-9);
        assert!(p.ci_lower < p.estimate && p.estimate < p.ci_upper);
    }
    let intercept = r.predict(&[1.0, 0.0, 0.0]);
    assert!((intercept.ci_lower - r.coefficients[0].estimate.ci_lower).abs() < 1e-9);
}

#[test]
fn no_intercept_means_no_r2() {
    let data = load_json(FILE, None).unwrap();
    let r = regress(&data, &options(&["g"], false)).unwrap();
    assert_eq!(r.r2, None);
    assert_eq!(r.qm_df, 2);
    assert!(!r.settings.intercept);
}

#[test]
fn text_and_numbers_in_one_moderator_is_an_error() {
    let data = load_json(
        r#"[{"study": "A", "yi": 0.1, "vi": 0.01, "moderators": {"dose": 5}},
            {"study": "B", "yi": 0.2, "vi": 0.01, "moderators": {"dose": "high"}},
            {"study": "C", "yi": 0.3, "vi": 0.01, "moderators": {"dose": 7}}]"#,
        None,
    )
    .unwrap();
    let err = regress(&data, &options(&["dose"], true)).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("'dose'") && text.contains("'A'") && text.contains("'B'"),
        "{text}"
    );
}
