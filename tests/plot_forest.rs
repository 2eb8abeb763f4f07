//! The structure of forest plots: every label drawn, one diamond per
//! subgroup and overall, squares scaled by weight, text that equals
//! `tau pool --format json`, and labels that never run into other columns.

use crate::util::plots::forest_of;
use crate::util::temp::TempDir;
use assert_cmd::Command;
use roxmltree::{Document, Node};
use serde_json::Value;
use tau_core::FitOptions;
use tau_core::data::dataset;
use tau_plot::font::{Fonts, Weight};
use tau_plot::{ForestOptions, Models};

const BCG: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/studies/bcg.json");

fn bcg() -> tau_core::Dataset {
    dataset::load_json(&std::fs::read_to_string(BCG).unwrap(), None).unwrap()
}

fn has_class(node: &Node, class: &str) -> bool {
    node.attribute("class")
        .is_some_and(|c| c.split(' ').any(|part| part == class))
}

fn all<'a, 'i>(doc: &'a Document<'i>, class: &str) -> Vec<Node<'a, 'i>> {
    doc.descendants().filter(|n| has_class(n, class)).collect()
}

fn child<'a, 'i>(row: &Node<'a, 'i>, class: &str) -> Option<Node<'a, 'i>> {
    row.descendants().find(|n| has_class(n, class))
}

fn text_of(row: &Node, class: &str) -> String {
    child(row, class)
        .and_then(|n| n.text())
        .unwrap_or_default()
        .to_owned()
}

fn attr(node: &Node, name: &str) -> f64 {
    node.attribute(name).unwrap().parse().unwrap()
}

/// "−0.43" → -0.43; "[0.13," → 0.13; "12.3%" → 12.3.
fn number(text: &str) -> f64 {
    text.replace('\u{2212}', "-")
        .trim_matches(|c| matches!(c, '[' | ']' | ',' | '%'))
        .parse()
        .unwrap_or_else(|_| panic!("not a number: {text:?}"))
}

fn tau(args: &[&str]) -> Command {
    let mut cmd = crate::util::tau();
    cmd.args(args);
    cmd
}

#[test]
fn every_study_label_is_drawn_once() {
    let plot = forest_of(
        &bcg(),
        &FitOptions::default(),
        &ForestOptions::default(),
        None,
    );
    let doc = Document::parse(&plot.svg).unwrap();
    let labels: Vec<String> = all(&doc, "study")
        .iter()
        .map(|r| text_of(r, "label"))
        .collect();
    let expected: Vec<String> = bcg().studies.iter().map(|s| s.label().to_owned()).collect();
    assert_eq!(labels, expected);
}

#[test]
fn one_diamond_per_subgroup_and_one_overall() {
    let options = ForestOptions {
        ..ForestOptions::default()
    };
    let plot = forest_of(&bcg(), &FitOptions::default(), &options, Some("alloc"));
    let doc = Document::parse(&plot.svg).unwrap();
    assert_eq!(all(&doc, "diamond").len(), 4);
    assert_eq!(all(&doc, "subgroup").len(), 3);
    assert_eq!(all(&doc, "overall").len(), 1);
    let headings: Vec<String> = all(&doc, "heading")
        .iter()
        .map(|r| text_of(r, "label"))
        .collect();
    assert_eq!(
        headings,
        ["alloc: alternate", "alloc: random", "alloc: systematic"]
    );
    let notes: Vec<String> = all(&doc, "note")
        .iter()
        .map(|r| text_of(r, "label"))
        .collect();
    assert_eq!(
        notes
            .iter()
            .filter(|n| n.starts_with("Heterogeneity"))
            .count(),
        4
    );
    // metafor: rma(est, sei = se, method = "EE") on the REML level estimates
    // (the test of `tau subgroup`, checked against metafor in metafor_moderators).
    assert!(notes.contains(&"Test for subgroup differences: Q(2) = 1.86, p = 0.394".to_owned()));

    let both = ForestOptions {
        models: Models::Both,
        ..options
    };
    let plot = forest_of(&bcg(), &FitOptions::default(), &both, Some("alloc"));
    let doc = Document::parse(&plot.svg).unwrap();
    assert_eq!(all(&doc, "random").len(), 4);
    assert_eq!(all(&doc, "common").len(), 4);
}

#[test]
fn square_areas_are_proportional_to_weights() {
    let plot = forest_of(
        &bcg(),
        &FitOptions::default(),
        &ForestOptions::default(),
        None,
    );
    let doc = Document::parse(&plot.svg).unwrap();
    let data = bcg();
    let result = tau_core::pool(&data, &FitOptions::default()).unwrap();
    let rows = all(&doc, "study");
    let sides: Vec<f64> = rows
        .iter()
        .map(|r| attr(&child(r, "square").unwrap(), "width"))
        .collect();
    let smallest = sides.iter().copied().fold(f64::INFINITY, f64::min);
    let largest = sides.iter().copied().fold(0.0, f64::max);
    let max_weight = result.weights.iter().copied().fold(0.0, f64::max);
    for (row, (side, study)) in rows.iter().zip(sides.iter().zip(result.rows(&data))) {
        assert_eq!(attr(&child(row, "square").unwrap(), "height"), *side);
        let expected = largest * (study.weight / max_weight).sqrt();
        if expected > smallest + 0.1 {
            // Coordinates are written to 0.01 px.
            assert!(
                (side - expected).abs() < 0.011,
                "{}: side {side}, expected {expected}",
                study.study
            );
        } else {
            assert!(
                *side >= expected - 0.011,
                "{}: below the minimum size",
                study.study
            );
        }
    }
}

#[test]
fn text_columns_equal_the_json_of_pool() {
    let dir = TempDir::new("forest-pool");
    let svg_path = dir.0.join("bcg.svg");
    tau(&["forest", BCG, "-o", svg_path.to_str().unwrap()])
        .assert()
        .success();
    let output = tau(&["pool", BCG, "--format", "json"]).output().unwrap();
    let json: Value = serde_json::from_slice(&output.stdout).unwrap();
    let svg = std::fs::read_to_string(&svg_path).unwrap();
    let doc = Document::parse(&svg).unwrap();
    let rounds_to = |text: &str, value: f64, digits: i32| {
        let scale = 10f64.powi(digits);
        assert_eq!(
            number(text),
            (value * scale).round() / scale,
            "{text} vs {value}"
        );
    };
    let rows = all(&doc, "study");
    let studies = json["studies"].as_array().unwrap();
    assert_eq!(rows.len(), studies.len());
    for (row, study) in rows.iter().zip(studies) {
        assert_eq!(text_of(row, "label"), study["study"].as_str().unwrap());
        let f = |key: &str| study[key].as_f64().unwrap().exp();
        rounds_to(&text_of(row, "estimate"), f("yi"), 2);
        rounds_to(&text_of(row, "lower"), f("ci_lower"), 2);
        rounds_to(&text_of(row, "upper"), f("ci_upper"), 2);
        rounds_to(
            &text_of(row, "weight"),
            study["weight"].as_f64().unwrap(),
            1,
        );
    }
    let t = &json["transformed"];
    let summary = &all(&doc, "summary")[0];
    rounds_to(
        &text_of(summary, "estimate"),
        t["estimate"].as_f64().unwrap(),
        2,
    );
    rounds_to(
        &text_of(summary, "lower"),
        t["ci_lower"].as_f64().unwrap(),
        2,
    );
    rounds_to(
        &text_of(summary, "upper"),
        t["ci_upper"].as_f64().unwrap(),
        2,
    );
    let pi = &all(&doc, "prediction")[0];
    rounds_to(&text_of(pi, "lower"), t["pi_lower"].as_f64().unwrap(), 2);
    rounds_to(&text_of(pi, "upper"), t["pi_upper"].as_f64().unwrap(), 2);
    let note = text_of(&all(&doc, "note")[0], "label");
    let expected = format!(
        "Heterogeneity: τ² = {:.2} (REML), I² = {:.1}%, Q({}) = {:.2}, p < 0.001",
        json["tau2"].as_f64().unwrap(),
        json["I2"].as_f64().unwrap(),
        json["QE_df"].as_u64().unwrap(),
        json["QE"].as_f64().unwrap()
    );
    assert_eq!(note, expected);
}

#[test]
fn sorting_and_model_choices() {
    use tau_plot::Sort;
    let data = bcg();
    let result = tau_core::pool(&data, &FitOptions::default()).unwrap();
    let labels = |options: &ForestOptions| {
        let plot = forest_of(&data, &FitOptions::default(), options, None);
        let doc = Document::parse(&plot.svg).unwrap();
        all(&doc, "study")
            .iter()
            .map(|r| text_of(r, "label"))
            .collect::<Vec<_>>()
    };
    let by_effect = labels(&ForestOptions {
        sort: Sort::Effect,
        ..ForestOptions::default()
    });
    let mut expected: Vec<_> = result.rows(&data).collect();
    expected.sort_by(|a, b| a.yi.total_cmp(&b.yi));
    assert_eq!(
        by_effect,
        expected
            .iter()
            .map(|s| s.study.to_owned())
            .collect::<Vec<_>>()
    );
    let by_weight = labels(&ForestOptions {
        sort: Sort::Weight,
        ..ForestOptions::default()
    });
    assert_eq!(by_weight[0], "TPT Madras 1980");
    let by_year = labels(&ForestOptions {
        sort: Sort::Moderator("year".into()),
        ..ForestOptions::default()
    });
    assert_eq!(by_year[0], "Aronson 1948");
    assert_eq!(by_year[12], "TPT Madras 1980");

    let options = ForestOptions {
        models: Models::Common,
        prediction: false,
        ..ForestOptions::default()
    };
    let plot = forest_of(&data, &FitOptions::default(), &options, None);
    let doc = Document::parse(&plot.svg).unwrap();
    let diamonds = all(&doc, "diamond");
    assert_eq!(diamonds.len(), 1);
    assert!(has_class(&diamonds[0], "common"));
    assert_eq!(
        diamonds[0].attribute("fill"),
        Some("#1a1a1a"),
        "the only diamond is filled"
    );
    assert!(all(&doc, "prediction").is_empty());
    let note = text_of(&all(&doc, "note")[0], "label");
    assert!(note.starts_with("Heterogeneity: I² = "), "{note}");
}

#[test]
fn long_labels_do_not_run_into_other_columns() {
    let long =
        "A study whose label goes on and on: the Multicentre Randomised Trial of Everything (2024)";
    let text = std::fs::read_to_string(BCG)
        .unwrap()
        .replace("Aronson 1948", long);
    let data = dataset::load_json(&text, None).unwrap();
    let plot = forest_of(
        &data,
        &FitOptions::default(),
        &ForestOptions::default(),
        None,
    );
    let doc = Document::parse(&plot.svg).unwrap();
    let fonts = Fonts::load().unwrap();
    let right_end = |node: &Node| {
        let width = fonts.width(
            node.text().unwrap(),
            attr(node, "font-size"),
            Weight::Regular,
        );
        match node.attribute("text-anchor") {
            Some("end") => (attr(node, "x") - width, attr(node, "x")),
            _ => (attr(node, "x"), attr(node, "x") + width),
        }
    };
    let panel_left = attr(&all(&doc, "axis-line")[0], "x1");
    for row in all(&doc, "study") {
        let (_, label_end) = right_end(&child(&row, "label").unwrap());
        let first_cell = row
            .descendants()
            .filter(|n| has_class(n, "cell"))
            .map(|n| right_end(&n).0)
            .fold(f64::INFINITY, f64::min);
        assert!(label_end < first_cell, "label runs into the data columns");
        assert!(label_end < panel_left, "label runs into the plot");
    }
}

/// `tau forest --by` draws the levels, order and numbers of
/// `tau subgroup --by --format json` on the same file and flags.
fn forest_agrees_with_subgroup(file: &str, flags: &[&str], back: fn(f64) -> f64) {
    let dir = TempDir::new("forest-by");
    let svg_path = dir.0.join("by.svg");
    let mut forest = vec![
        "forest",
        file,
        "--digits",
        "4",
        "-o",
        svg_path.to_str().unwrap(),
    ];
    forest.extend_from_slice(flags);
    let forest_run = tau(&forest).output().unwrap();
    assert!(forest_run.status.success(), "{forest_run:?}");
    let mut subgroup = vec!["subgroup", file, "--format", "json"];
    subgroup.extend_from_slice(flags);
    let subgroup_run = tau(&subgroup).output().unwrap();
    assert!(subgroup_run.status.success(), "{subgroup_run:?}");
    // The same warnings (e.g. studies left out, one-study levels).
    assert_eq!(forest_run.stderr, subgroup_run.stderr);
    let json: Value = serde_json::from_slice(&subgroup_run.stdout).unwrap();
    let svg = std::fs::read_to_string(&svg_path).unwrap();
    let doc = Document::parse(&svg).unwrap();
    let by = json["settings"]["by"].as_str().unwrap();
    let groups = json["groups"].as_array().unwrap();
    let headings: Vec<String> = all(&doc, "heading")
        .iter()
        .map(|r| text_of(r, "label"))
        .collect();
    let levels: Vec<String> = groups
        .iter()
        .map(|g| format!("{by}: {}", g["level"].as_str().unwrap()))
        .collect();
    assert_eq!(headings, levels);
    let diamonds = all(&doc, "subgroup");
    assert_eq!(diamonds.len(), groups.len());
    let rounds_to = |text: &str, value: f64| {
        assert_eq!(
            number(text),
            (value * 1e4).round() / 1e4,
            "{text} vs {value}"
        );
    };
    for (row, group) in diamonds.iter().zip(groups) {
        let f = |key: &str| back(group[key].as_f64().unwrap());
        rounds_to(&text_of(row, "estimate"), f("estimate"));
        rounds_to(&text_of(row, "lower"), f("ci_lower"));
        rounds_to(&text_of(row, "upper"), f("ci_upper"));
    }
    // Studies drawn: those subgroup pooled, level by level.
    assert_eq!(all(&doc, "study").len() as u64, json["k"].as_u64().unwrap());
    let notes: Vec<String> = all(&doc, "note")
        .iter()
        .map(|r| text_of(r, "label"))
        .collect();
    let level_notes = notes
        .iter()
        .filter(|n| n.starts_with("One study") || n.starts_with("Heterogeneity"));
    for (note, group) in level_notes.zip(groups) {
        match group["tau2"].as_f64() {
            Some(_) => assert!(
                note.contains(&format!(
                    "Q({}) = {:.2}",
                    group["QE_df"].as_u64().unwrap(),
                    group["QE"].as_f64().unwrap()
                )),
                "{note}"
            ),
            None => assert!(note.starts_with("One study"), "{note}"),
        }
    }
    let test = format!(
        "Test for subgroup differences: Q({}) = {:.2}",
        json["Q_between_df"].as_u64().unwrap(),
        json["Q_between"].as_f64().unwrap()
    );
    assert!(
        notes.iter().any(|n| n.starts_with(&test)),
        "{test} in {notes:?}"
    );
}

#[test]
fn forest_by_draws_what_subgroup_by_reports() {
    let parenting = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/studies/parenting_ethnic_minorities.json"
    );
    forest_agrees_with_subgroup(parenting, &["--by", "adaptation"], |x| x);
    forest_agrees_with_subgroup(
        parenting,
        &["--by", "adaptation", "--levels", "material,both,content"],
        |x| x,
    );
    forest_agrees_with_subgroup(BCG, &["--by", "alloc"], f64::exp);
    forest_agrees_with_subgroup(BCG, &["--by", "alloc", "--method", "DL"], f64::exp);
    // A one-study level and a study without a value of the moderator.
    let dir = TempDir::new("forest-uneven");
    let file = dir.0.join("uneven.json");
    std::fs::write(
        &file,
        r#"[
  {"study": "A", "yi": 0.10, "vi": 0.010, "moderators": {"g": "x"}},
  {"study": "B", "yi": 0.30, "vi": 0.020, "moderators": {"g": "x"}},
  {"study": "C", "yi": 0.65, "vi": 0.015, "moderators": {"g": "x"}},
  {"study": "D", "yi": 0.50, "vi": 0.030, "moderators": {"g": "y"}},
  {"study": "E", "yi": 0.20, "vi": 0.020},
  {"study": "F", "yi": 0.90, "vi": 0.025, "moderators": {"g": "z"}},
  {"study": "G", "yi": 0.70, "vi": 0.040, "moderators": {"g": "z"}}
]"#,
    )
    .unwrap();
    forest_agrees_with_subgroup(file.to_str().unwrap(), &["--by", "g"], |x| x);
}

#[test]
fn levels_must_name_every_level_once() {
    for (levels, problem) in [
        ("random,systematic", "the list leaves out alternate"),
        (
            "random,systematic,alternate,blinded",
            "there is no level 'blinded'",
        ),
    ] {
        for command in [&["forest", "-o", "never.svg"][..], &["subgroup"]] {
            let mut args = command.to_vec();
            args.extend([BCG, "--by", "alloc", "--levels", levels]);
            let output = tau(&args).output().unwrap();
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert_eq!(output.status.code(), Some(2), "{stderr}");
            assert!(stderr.contains(problem), "{stderr}");
            assert!(
                stderr.contains("the levels of 'alloc' are: alternate, random, systematic"),
                "{stderr}"
            );
        }
    }
}
