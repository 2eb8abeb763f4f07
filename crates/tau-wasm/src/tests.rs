//! The bindings against the library they wrap: the same numbers, the same messages.

use super::*;

const PARENTING: &str = include_str!("../../../studies/parenting_ethnic_minorities.json");

fn parse(text: &str) -> Value {
    serde_json::from_str(text).unwrap()
}

/// Whether `text` holds `value`, written as the bindings write it. (Text, not
/// parsed values: serde_json's default float parser may be 1 ulp off.)
fn holds<T: Serialize>(text: &str, value: &T) -> bool {
    text.contains(&to_value(value).to_string())
}

#[test]
fn analyse_returns_the_pooled_json_of_the_library() {
    let text = analyse(
        PARENTING,
        r#"{"method": "DL", "test": "knha", "level": 90, "by": "adaptation"}"#,
    );
    let out = parse(&text);
    assert_eq!(out["ok"], true, "{out}");
    let data = dataset::load_json(PARENTING, None).unwrap();
    let options = FitOptions {
        method: Method::DL,
        test: Test::Knha,
        level: 90.0,
        control: Control::default(),
    };
    let expected = tau_core::pool(&data, &options).unwrap();
    assert!(holds(&text, &PoolJson::new(&expected, &data)));
    assert_eq!(out["subgroup"]["settings"]["by"], "adaptation");
    assert!(out["forest_svg"].as_str().unwrap().starts_with("<svg"));
    assert!(out["funnel_svg"].as_str().unwrap().contains("<svg"));
}

#[test]
fn a_bad_record_is_reported_at_its_cell() {
    let csv = "study,yi,vi\nA,0.1,0.02\nB,0.3,-1\n";
    let out = parse(&read_file(csv, "broken.csv"));
    let expected = dataset::load_csv(csv, None)
        .unwrap_err()
        .in_file("broken.csv");
    assert_eq!(out["error"], expected.as_str());
    assert!(expected.contains("line 3, column 3 (vi)"), "{expected}");
    assert_eq!(out["issues"][0]["index"], 1);
    assert_eq!(out["issues"][0]["field"], "vi");
    assert_eq!(out["file"]["studies"][1]["vi"], -1.0);
    // The document the page edits is tau JSON, and analyse reports the same cell.
    let doc = out["file"].to_string();
    let analysed = parse(&analyse(
        &doc,
        r#"{"method": "REML", "test": "z", "level": 95}"#,
    ));
    assert_eq!(analysed["ok"], false);
    assert_eq!(analysed["issues"][0]["field"], "vi");
}

#[test]
fn simulate_is_tau_simulate() {
    let options = r#"{"k": 5, "tau2": 0.1, "mu": 0.2, "n_min": 20, "n_max": 50, "reps": 300,
        "methods": ["REML", "DL"], "tests": ["z", "knha"], "level": 95, "seed": 7}"#;
    let settings = simulation_settings(options).unwrap();
    let expected = sim::simulate(&settings).unwrap();
    assert!(holds(&simulate(options), &expected));
    let draws = parse(&tau2_draws(options, 100));
    assert_eq!(draws["draws"]["REML"].as_array().unwrap().len(), 100);
}

#[test]
fn bad_options_are_errors_not_panics() {
    let out = parse(&analyse(
        PARENTING,
        r#"{"method": "XX", "test": "z", "level": 95}"#,
    ));
    let error = out["error"].as_str().unwrap();
    assert!(error.contains("unknown method \"XX\""), "{error}");
    let out = parse(&simulate(r#"{"k": 1}"#));
    assert_eq!(out["ok"], false);
}

#[test]
fn studies_without_the_moderator_are_left_out_of_the_split_forest() {
    let doc = r#"{"studies": [
        {"study": "A", "yi": 0.1, "vi": 0.02, "moderators": {"g": "x"}},
        {"study": "B", "yi": 0.4, "vi": 0.03, "moderators": {"g": "x"}},
        {"study": "C", "yi": 0.2, "vi": 0.02, "moderators": {"g": "y"}},
        {"study": "D", "yi": 0.6, "vi": 0.04, "moderators": {"g": "y"}},
        {"study": "E", "yi": 0.3, "vi": 0.05, "moderators": {"g": null}}]}"#;
    let out = parse(&analyse(
        doc,
        r#"{"method": "DL", "test": "z", "level": 95, "by": "g"}"#,
    ));
    assert_eq!(out["ok"], true, "{out}");
    assert_eq!(out["pool"]["k"], 5);
    assert_eq!(out["subgroup"]["dropped"][0], "E");
    let forest = out["forest_svg"].as_str().unwrap();
    assert!(
        forest.contains(">A<") && !forest.contains(">E<"),
        "{forest}"
    );
}

#[test]
fn the_page_runs_any_analysis_request_as_the_core_does() {
    // The three-level model of the parenting example with robust inference:
    // the same request as `tau pool --random trial/outcome --robust trial`.
    let request = r#"{"random": ["trial/outcome"], "robust": "trial", "test": "t"}"#;
    let text = analyse(PARENTING, request);
    let out = parse(&text);
    assert_eq!(out["ok"], true, "{out}");
    let data = dataset::load_json(PARENTING, None).unwrap();
    let spec: Spec = serde_json::from_str(request).unwrap();
    let expected = tau_core::analysis::run(&spec, &data, &|_| {}).unwrap();
    assert_eq!(out["analysis"], parse(&expected.to_json(&data).to_string()));
    assert!(out["analysis"]["robust"].is_object(), "{out}");
    assert!(out["forest_svg"].as_str().unwrap().starts_with("<svg"));
}

#[test]
fn a_refused_request_names_its_fields() {
    let out = parse(&analyse(
        PARENTING,
        r#"{"random": ["trial"], "test": "knha", "fallback": "DL"}"#,
    ));
    assert_eq!(out["ok"], false);
    let fields: Vec<&str> = out["refusals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["test", "fallback"]);
    // The page shows field names, never the CLI's flags.
    assert!(!out["error"].as_str().unwrap().contains("--"), "{out}");
}

#[test]
fn a_level_of_0_95_is_a_95_percent_level() {
    let a = parse(&analyse(PARENTING, r#"{"level": 0.95}"#));
    let b = parse(&analyse(PARENTING, r#"{"level": 95}"#));
    assert_eq!(a["pool"], b["pool"]);
}

#[test]
fn plots_can_be_skipped_and_left_out_records_are_listed() {
    let doc = r#"{"studies": [
        {"study": "A", "yi": 0.1, "vi": 0.02},
        {"study": "B", "yi": 0.4, "vi": 0.03},
        {"study": "C", "yi": 0.2}]}"#;
    let out = parse(&analyse(doc, r#"{"plots": false}"#));
    assert_eq!(out["ok"], true, "{out}");
    assert!(out["forest_svg"].is_null() && out["plot_error"].is_null());
    assert_eq!(out["left_out"][0]["study"], "C");
    assert_eq!(out["left_out"][0]["record"], 3);
}

#[cfg(feature = "panels")]
#[test]
fn the_panels_are_the_library_entry_points_of_their_commands() {
    let data = dataset::load_json(PARENTING, None).unwrap();
    let options = FitOptions {
        method: Method::REML,
        test: Test::Z,
        level: 95.0,
        control: Control::default(),
    };
    let request = r#"{"method": "REML", "test": "z", "level": 95}"#;
    // tau leave-one-out
    let text = leave_one_out(PARENTING, request);
    let expected = tau_core::sensitivity::leave_one_out::leave_one_out(&data, &options).unwrap();
    assert!(holds(&text, &expected.studies), "{text}");
    assert!(parse(&text)["plot_svg"].as_str().unwrap().contains("<svg"));
    // tau bias: Egger, trim-and-fill and the 3PSM, and the funnel with the filled studies
    let text = bias(PARENTING, request);
    let expected = tau_core::bias::bias(&data, &options).unwrap();
    assert!(holds(&text, &expected.egger), "{text}");
    assert!(holds(&text, &expected.selection), "{text}");
    assert!(
        parse(&text)["funnel_svg"]
            .as_str()
            .unwrap()
            .contains("<svg")
    );
    // tau bayes
    let text = bayes(
        PARENTING,
        r#"{"level": 95, "tau_prior": "half-normal:0.5"}"#,
    );
    let prior = tau_core::bayes::TauPrior::parse("half-normal:0.5").unwrap();
    let expected = tau_core::bayes::fit(
        &data,
        &tau_core::bayes::BayesOptions {
            tau_prior: prior,
            mu_prior: tau_core::bayes::MuPrior::Flat,
            level: 95.0,
            average: false,
        },
    )
    .unwrap();
    assert!(holds(&text, &expected.mu), "{text}");
    assert!(
        parse(&text)["density_svg"]
            .as_str()
            .unwrap()
            .contains("<svg")
    );
    let bad = parse(&bayes(PARENTING, r#"{"tau_prior": "half-normal:-1"}"#));
    assert_eq!(bad["ok"], false);
    assert!(
        bad["error"].as_str().unwrap().contains("tau_prior"),
        "{bad}"
    );
    // A multilevel request is not a model with one tau^2.
    let ml = parse(&leave_one_out(
        PARENTING,
        r#"{"random": ["trial/outcome"]}"#,
    ));
    assert_eq!(ml["ok"], false);
}

/// A GLMM request draws the forest and funnel plots of `tau forest --glmm`
/// and `tau funnel --glmm`.
#[test]
fn a_glmm_has_forest_and_funnel_plots() {
    let hart = include_str!("../../../studies/hart1999.json");
    let out = parse(&analyse(hart, r#"{"glmm": "UM.RS"}"#));
    assert_eq!(out["ok"], true, "{out}");
    assert_eq!(out["analysis"]["model"], "UM.RS", "{out}");
    assert!(out["forest_svg"].as_str().unwrap().contains("<svg"));
    assert!(out["funnel_svg"].as_str().unwrap().contains("<svg"));
}

#[test]
fn regression_has_a_bubble_plot() {
    let out = parse(&analyse(
        PARENTING,
        r#"{"question": "regress", "mods": ["sessions"]}"#,
    ));
    assert_eq!(out["ok"], true, "{out}");
    assert!(out["bubble_svg"].as_str().unwrap().contains("<svg"));
    // A categorical moderator has no line to draw.
    let out = parse(&analyse(
        PARENTING,
        r#"{"question": "regress", "mods": ["adaptation"]}"#,
    ));
    assert!(out["bubble_svg"].is_null());
    let out = parse(&analyse(
        PARENTING,
        r#"{"random": ["trial/outcome"], "robust": "trial"}"#,
    ));
    assert_eq!(out["ok"], true, "{out}");
    assert!(out["analysis"]["robust"].is_object(), "{out}");
}

#[cfg(feature = "panels")]
#[test]
fn every_analysis_has_its_paper_tables() {
    for request in [
        r#"{"question": "regress", "mods": ["sessions"]}"#,
        r#"{}"#,
        r#"{"question": "subgroup", "by": "adaptation"}"#,
        r#"{"random": ["trial/outcome"], "robust": "trial"}"#,
    ] {
        let out = parse(&paper_tables(PARENTING, request));
        assert_eq!(out["ok"], true, "{out}");
        assert!(
            out["tables"]["markdown"].as_str().unwrap().contains("| "),
            "{out}"
        );
        assert!(
            out["tables"]["latex"]
                .as_str()
                .unwrap()
                .contains("\\begin{tabular}"),
            "{out}"
        );
    }
}
