//! Forest and funnel plots of GLMM fits (`tau forest --glmm`, `tau funnel
//! --glmm`; metafor's `forest()` and `funnel()` of an `rma.glmm` fit): the
//! studies' escalc outcomes, double-zero tables left out, around the
//! GLMM's estimate and CI. Every view of one analysis shows the same
//! numbers: the diamond is `tau pool --glmm`'s estimate and CI.

use crate::util::tau;
use serde_json::Value;
use tau_core::data::dataset;
use tau_core::glmm::pooled_view::pooled_view;
use tau_core::glmm::{GlmmModel, GlmmOptions, fit};
use tau_plot::{Fitted, ForestOptions, FunnelSpec, Model, forest, funnel_svg};

/// Five small trials and a double-zero one, which the GLMM leaves out.
const STUDIES: &str = r#"{
  "measure": "OR",
  "studies": [
    {"study": "Alpha & Beta 2001", "events1": 12, "n1": 100, "events2": 20, "n2": 98},
    {"study": "Gamma 2005", "events1": 30, "n1": 250, "events2": 41, "n2": 245},
    {"study": "Delta <pilot>", "events1": 2, "n1": 20, "events2": 1, "n2": 21},
    {"study": "Nil 2010", "events1": 0, "n1": 30, "events2": 0, "n2": 28},
    {"study": "Epsilon 2019", "events1": 45, "n1": 400, "events2": 70, "n2": 410},
    {"study": "Zeta 2020", "events1": 8, "n1": 60, "events2": 9, "n2": 58}
  ]
}"#;

fn run(args: &[&str]) -> String {
    let output = tau().args(args).output().unwrap();
    assert!(
        output.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// `tau forest --glmm UM.RS` draws the odds ratio and CI that
/// `tau pool --glmm UM.RS --format json` reports (exp of its log odds
/// ratio), and `tau funnel --glmm` draws its plot.
#[test]
fn a_glmm_forest_plot_draws_the_pooled_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("forest.svg");
    let svg_path = svg.to_str().unwrap();
    let args = ["studies/bcg.json", "--measure", "OR", "--glmm", "UM.RS"];
    run(&[&["forest"][..], &args, &["-o", svg_path]].concat());
    let drawn = std::fs::read_to_string(&svg).unwrap();
    let json: Value =
        serde_json::from_str(&run(&[&["pool"][..], &args, &["--format", "json"]].concat()))
            .unwrap();
    let or = |key: &str| format!("{:.2}", json[key].as_f64().unwrap().exp());
    let se = json["se"].as_f64().unwrap();
    let tau2 = json["tau2"].as_f64().unwrap();
    let half = 1.959963984540054 * (se * se + tau2).sqrt();
    let pi = |sign: f64| {
        format!(
            "{:.2}",
            (json["estimate"].as_f64().unwrap() + sign * half).exp()
        )
    };
    for text in [
        format!(">{}<", or("estimate")),
        format!(">[{},<", or("ci_lower")),
        format!(">{}]<", or("ci_upper")),
        format!(">[{},<", pi(-1.0)),
        format!(">{}]<", pi(1.0)),
        format!("Q(12) = {:.2}", json["QE_Wld"].as_f64().unwrap()),
    ] {
        assert!(drawn.contains(&text), "{text} not drawn");
    }
    let funnel = dir.path().join("funnel.svg");
    run(&[&["funnel"][..], &args, &["-o", funnel.to_str().unwrap()]].concat());
    assert!(
        std::fs::read_to_string(&funnel)
            .unwrap()
            .starts_with("<svg")
    );
}

/// The view of a GLMM: the studies it was fitted to (the double-zero table
/// left out) with escalc's yi and vi, around its estimate.
#[test]
fn a_glmm_view_leaves_out_double_zero_tables() {
    let data = dataset::load_json(STUDIES, None).unwrap();
    let options = GlmmOptions {
        model: GlmmModel::UmRs,
        level: 95.0,
        max_iter: 100,
        t_test: false,
    };
    let result = fit(&data, &options).unwrap();
    let (shown, view) = pooled_view(&result, &data).unwrap();
    assert_eq!(shown.studies.len(), 5);
    assert!(shown.studies.iter().all(|s| s.label() != "Nil 2010"));
    assert_eq!(view.estimate.value, result.fit.estimate);
    assert_eq!(view.estimate.ci_lower, result.fit.ci_lower);
    assert_eq!(view.tau2, result.fit.tau2);
    let total: f64 = view.weights.iter().sum();
    assert!((total - 100.0).abs() < 1e-9);
    let spec = FunnelSpec::from_pool(&view, &shown);
    assert_eq!(spec.estimate, result.fit.estimate);
    assert_eq!(spec.points.len(), 5);
}

#[test]
fn glmm_forest_and_funnel_svg_snapshots() {
    let data = dataset::load_json(STUDIES, None).unwrap();
    let options = GlmmOptions {
        model: GlmmModel::UmRs,
        level: 95.0,
        max_iter: 100,
        t_test: false,
    };
    let result = fit(&data, &options).unwrap();
    let (shown, view) = pooled_view(&result, &data).unwrap();
    let fitted = [Fitted {
        model: Model::Random,
        pooled: &view,
        subgroups: None,
    }];
    let forest_options = ForestOptions {
        title: Some("Five small trials, UM.RS".into()),
        ..ForestOptions::default()
    };
    let plot = forest(&shown, &fitted, &forest_options).unwrap();
    insta::assert_snapshot!("forest_glmm", plot.svg);
    let spec = FunnelSpec::from_pool(&view, &shown);
    insta::assert_snapshot!("funnel_glmm", funnel_svg(&spec).unwrap());
}

/// What a GLMM's plot cannot draw is refused by its flag (exit 2).
#[test]
fn a_glmm_plot_refuses_what_it_cannot_draw() {
    for (args, needle) in [
        (
            vec![
                "forest",
                "studies/hart1999.json",
                "--glmm",
                "UM.RS",
                "--by",
                "x",
            ],
            "--by cannot be used with --glmm",
        ),
        (
            vec![
                "forest",
                "studies/hart1999.json",
                "--glmm",
                "UM.RS",
                "--common",
            ],
            "--common cannot be used with --glmm",
        ),
        (
            vec![
                "funnel",
                "studies/hart1999.json",
                "--glmm",
                "CM.EL",
                "--trimfill",
            ],
            "--trimfill cannot be used with --glmm",
        ),
        (
            vec!["forest", "studies/bcg.json", "--glmm", "UM.RS"],
            "rma.glmm(measure = \"RR\", model = \"UM.RS\") is not built yet",
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let svg = dir.path().join("plot.svg");
        let out = tau()
            .args(&args)
            .args(["-o", svg.to_str().unwrap()])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
        assert!(!svg.exists(), "{args:?} wrote a plot");
    }
}
