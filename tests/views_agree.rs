//! Every view of one analysis shows the same numbers (issue 26): under
//! `--robust` the CI, the prediction interval and the back-transformed
//! summary are the robust ones, as metafor's `predict(robust(...))` gives
//! them, in the JSON, the text report and the paper table alike.

use crate::util::{fixture, tau};
use serde::Deserialize;
use serde_json::Value;

#[derive(Deserialize)]
struct Fixture {
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    small_sample: String,
    call: String,
    estimate: f64,
    se: f64,
    ci_lower: f64,
    ci_upper: f64,
    pi_lower: f64,
    pi_upper: f64,
}

fn run(args: &[&str]) -> String {
    let output = tau().args(args).output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

fn close(actual: f64, expected: f64, what: &str) {
    assert!(
        (actual - expected).abs() <= 1e-6 * expected.abs().max(1e-3),
        "{what}: {actual} vs {expected}"
    );
}

#[test]
fn a_robust_pool_reports_robust_intervals_in_every_view() {
    let reference: Fixture = fixture("robust_predict.json");
    for case in &reference.cases {
        let args = [
            "pool",
            "studies/bcg.json",
            "--robust",
            "alloc",
            "--small-sample",
            &case.small_sample,
        ];
        let json: Value =
            serde_json::from_str(&run(&[&args[..], &["--format", "json"]].concat())).unwrap();
        let get = |key: &str| json[key].as_f64().unwrap();
        for (key, expected) in [
            ("estimate", case.estimate),
            ("se", case.se),
            ("ci_lower", case.ci_lower),
            ("ci_upper", case.ci_upper),
            ("pi_lower", case.pi_lower),
            ("pi_upper", case.pi_upper),
        ] {
            close(get(key), expected, &format!("{} {key}", case.call));
        }
        // Back-transformed from the same numbers (metafor's transf = exp).
        let rr = &json["transformed"];
        for key in ["ci_lower", "ci_upper", "pi_lower", "pi_upper"] {
            close(rr[key].as_f64().unwrap(), get(key).exp(), key);
        }
        // The working model's own values are kept, and differ.
        assert!(json["model_based"]["pi_lower"].as_f64().unwrap() > case.pi_lower + 0.1);
        // The text report prints the robust numbers where the model's were.
        let text = run(&args);
        for value in [
            get("ci_lower"),
            get("pi_lower"),
            rr["ci_upper"].as_f64().unwrap(),
        ] {
            let shown = format!("{value:.4}");
            assert!(text.contains(&shown), "{shown} not in:\n{text}");
        }
        assert!(text.contains("Model results (cluster-robust"), "{text}");
    }
}

/// The forest plot of a robust analysis draws the robust CI and prediction
/// interval (issue 26 item 2): the numbers of `tau pool --robust`.
#[test]
fn a_robust_forest_plot_draws_the_robust_intervals() {
    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("forest.svg");
    let svg_path = svg.to_str().unwrap();
    run(&[
        "forest",
        "studies/bcg.json",
        "--robust",
        "alloc",
        "-o",
        svg_path,
    ]);
    let drawn = std::fs::read_to_string(&svg).unwrap();
    let json: Value = serde_json::from_str(&run(&[
        "pool",
        "studies/bcg.json",
        "--robust",
        "alloc",
        "--format",
        "json",
    ]))
    .unwrap();
    let rr = &json["transformed"];
    let two = |key: &str| format!("{:.2}", rr[key].as_f64().unwrap());
    for text in [
        format!(">{}<", two("estimate")),
        format!(">[{},<", two("ci_lower")),
        format!(">{}]<", two("ci_upper")),
        format!(">[{},<", two("pi_lower")),
        format!(">{}]<", two("pi_upper")),
    ] {
        assert!(drawn.contains(&text), "{text} not drawn");
    }
    // The three-level model with robust inference is drawn too.
    run(&[
        "forest",
        "studies/parenting_ethnic_minorities.json",
        "--random",
        "trial/outcome",
        "--robust",
        "trial",
        "-o",
        svg_path,
    ]);
    assert!(std::fs::read_to_string(&svg).unwrap().starts_with("<svg"));
}

#[derive(Deserialize)]
struct RobustViews {
    multilevel_pooled: MultilevelPooled,
    subgroups: Subgroups,
    multilevel_subgroups: Subgroups,
}

#[derive(Deserialize)]
struct MultilevelPooled {
    call: String,
    estimate: f64,
    se: f64,
    ci_lower: f64,
    ci_upper: f64,
    pi_lower: f64,
    pi_upper: f64,
    vcov: f64,
    df: f64,
}

#[derive(Deserialize)]
struct Subgroups {
    call: String,
    means: Vec<Mean>,
    #[serde(rename = "QM")]
    qm: f64,
    #[serde(rename = "QM_df2")]
    qm_df2: f64,
    #[serde(rename = "QM_p")]
    qm_p: f64,
}

#[derive(Deserialize)]
struct Mean {
    name: String,
    estimate: f64,
    se: f64,
    df: f64,
    ci_lower: f64,
    ci_upper: f64,
}

const PARENTING: &str = "studies/parenting_ethnic_minorities.json";

/// The three-level model with robust inference: the summary, its CI, the
/// prediction interval (t on the robust df) and `vcov` are all robust, as
/// metafor's `predict(robust(rma.mv(...)))` and `vcov(robust(...))`
/// (tests/fixtures/generate_robust_views.R).
#[test]
fn a_robust_three_level_model_reports_robust_numbers_in_every_view() {
    let reference: RobustViews = fixture("robust_views.json");
    let r = &reference.multilevel_pooled;
    let args = [
        "pool",
        PARENTING,
        "--random",
        "trial/outcome",
        "--robust",
        "trial",
    ];
    let json: Value =
        serde_json::from_str(&run(&[&args[..], &["--format", "json"]].concat())).unwrap();
    let get = |key: &str| json[key].as_f64().unwrap();
    for (key, expected) in [
        ("estimate", r.estimate),
        ("se", r.se),
        ("ci_lower", r.ci_lower),
        ("ci_upper", r.ci_upper),
        ("pi_lower", r.pi_lower),
        ("pi_upper", r.pi_upper),
        ("df", r.df),
    ] {
        close(get(key), expected, &format!("{} {key}", r.call));
    }
    close(json["vcov"][0][0].as_f64().unwrap(), r.vcov, "vcov");
    // The working model's own values are kept under `model_based`.
    let model_vcov = json["model_based"]["vcov"][0][0].as_f64().unwrap();
    assert!((model_vcov - r.vcov).abs() > 1e-5, "{model_vcov}");
    assert!(json["model_based"]["pi_lower"].as_f64().unwrap() > r.pi_lower + 0.05);
    // The text report shows the robust numbers in the model block.
    let text = run(&args);
    for value in [r.ci_lower, r.pi_lower, r.pi_upper] {
        let shown = format!("{value:.4}");
        assert!(text.contains(&shown), "{shown} not in:\n{text}");
    }
    assert!(text.contains("Model Results (cluster-robust"), "{text}");
}

/// Subgroup means under `--robust` come from one factor model without
/// intercept, in the order `--levels` gives, and the test of their
/// differences from the model with treatment contrasts
/// (tests/fixtures/generate_robust_views.R): in JSON `groups` and
/// `coefficients`, and in the text report.
#[test]
fn robust_subgroup_means_are_the_robust_factor_model() {
    let reference: RobustViews = fixture("robust_views.json");
    let order = ["material", "both", "content"];
    for (case, random) in [
        (&reference.subgroups, None),
        (&reference.multilevel_subgroups, Some("trial/outcome")),
    ] {
        let mut args = vec![
            "subgroup",
            PARENTING,
            "--by",
            "adaptation",
            "--robust",
            "trial",
            "--levels",
            "material,both,content",
        ];
        if let Some(random) = random {
            args.extend(["--random", random]);
        }
        let json: Value =
            serde_json::from_str(&run(&[&args[..], &["--format", "json"]].concat())).unwrap();
        for (i, level) in order.iter().enumerate() {
            let expected = case
                .means
                .iter()
                .find(|m| m.name == format!("factor(adaptation){level}"))
                .unwrap();
            let what = format!("{} {level}", case.call);
            let group = &json["groups"][i];
            assert_eq!(group["level"], *level);
            let coefficient = &json["coefficients"][i];
            assert_eq!(coefficient["name"], format!("adaptation={level}"));
            for (key, value) in [
                ("estimate", expected.estimate),
                ("se", expected.se),
                ("ci_lower", expected.ci_lower),
                ("ci_upper", expected.ci_upper),
            ] {
                close(
                    group[key].as_f64().unwrap(),
                    value,
                    &format!("{what} {key}"),
                );
                close(
                    coefficient[key].as_f64().unwrap(),
                    value,
                    &format!("{what} {key}"),
                );
            }
            close(coefficient["df"].as_f64().unwrap(), expected.df, &what);
        }
        close(json["Q_between"].as_f64().unwrap(), case.qm, "Q_between");
        close(json["Q_between_df2"].as_f64().unwrap(), case.qm_df2, "df2");
        close(json["Q_between_p"].as_f64().unwrap(), case.qm_p, "p");
        let text = run(&args);
        let material = case
            .means
            .iter()
            .find(|m| m.name == "factor(adaptation)material")
            .unwrap();
        let shown = format!("{:.4}", material.ci_lower);
        assert!(text.contains(&shown), "{shown} not in:\n{text}");
        assert!(text.contains("cluster-robust"), "{text}");
    }
}

/// `tau forest --random --robust --by` draws the subgroup diamonds and the
/// overall diamond that `tau subgroup` and `tau pool` report with the same
/// flags (issue 26 item 2), sorted within subgroups with `--sort`.
#[test]
fn a_robust_multilevel_forest_plot_by_subgroup_draws_the_reported_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("forest.svg");
    let model = ["--random", "trial/outcome", "--robust", "trial"];
    let by = ["--by", "adaptation", "--levels", "material,both,content"];
    run(&[
        &["forest", PARENTING][..],
        &model,
        &by,
        &["--sort", "effect", "-o", svg.to_str().unwrap()],
    ]
    .concat());
    let drawn = std::fs::read_to_string(&svg).unwrap();
    let json = |args: &[&str]| -> Value {
        serde_json::from_str(&run(&[args, &model, &["--format", "json"]].concat())).unwrap()
    };
    let subgroups = json(&[&["subgroup", PARENTING][..], &by].concat());
    let pooled = json(&["pool", PARENTING]);
    let two = |v: &Value| format!("{:.2}", v.as_f64().unwrap()).replace('-', "\u{2212}");
    let mut expected: Vec<String> = subgroups["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            format!(
                "{} [{}, {}]",
                two(&g["estimate"]),
                two(&g["ci_lower"]),
                two(&g["ci_upper"])
            )
        })
        .collect();
    expected.push(format!(
        "{} [{}, {}]",
        two(&pooled["estimate"]),
        two(&pooled["ci_lower"]),
        two(&pooled["ci_upper"])
    ));
    expected.push(format!(
        "[{}, {}]",
        two(&pooled["pi_lower"]),
        two(&pooled["pi_upper"])
    ));
    for text in expected {
        assert!(drawn.contains(&format!(">{text}<")), "{text} not drawn");
    }
    let material = drawn.find("adaptation = material").unwrap();
    let both = drawn.find("adaptation = both").unwrap();
    assert!(material < both, "subgroups in the order of --levels");
}
