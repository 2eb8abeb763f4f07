//! Snapshots of the SVG of small fixed plots. The SVG holds no dates,
//! random ids or machine-dependent measures, so it is byte-for-byte stable;
//! a change in layout shows up here as a reviewable diff.

use crate::util::plots::forest_of;
use tau_core::data::dataset;
use tau_core::{FitOptions, pool};
use tau_plot::{ForestOptions, FunnelSpec, Models, funnel_svg};

const STUDIES: &str = r#"{
  "measure": "OR",
  "studies": [
    {"study": "Alpha & Beta 2001", "events1": 12, "n1": 100, "events2": 20, "n2": 98, "moderators": {"region": "Europe"}},
    {"study": "Gamma 2005", "events1": 30, "n1": 250, "events2": 41, "n2": 245, "moderators": {"region": "Europe"}},
    {"study": "Delta <pilot>", "events1": 2, "n1": 20, "events2": 1, "n2": 21, "moderators": {"region": "Asia"}},
    {"study": "Epsilon 2019", "events1": 45, "n1": 400, "events2": 70, "n2": 410, "moderators": {"region": "Asia"}},
    {"study": "Zeta 2020", "events1": 8, "n1": 60, "events2": 9, "n2": 58, "moderators": {"region": "Asia"}}
  ]
}"#;

#[test]
fn forest_svg_snapshot() {
    let data = dataset::load_json(STUDIES, None).unwrap();
    let options = ForestOptions {
        models: Models::Both,
        title: Some("Five small trials".into()),
        favours_left: Some("Favours treatment".into()),
        favours_right: Some("Favours control".into()),
        ..ForestOptions::default()
    };
    let plot = forest_of(&data, &FitOptions::default(), &options, Some("region"));
    insta::assert_snapshot!("forest_small", plot.svg);
}

#[test]
fn funnel_svg_snapshot() {
    let data = dataset::load_json(STUDIES, None).unwrap();
    let mut spec = FunnelSpec::from_pool(&pool(&data, &FitOptions::default()).unwrap(), &data);
    spec.contours = true;
    spec.filled = vec![(0.2, 0.45)];
    insta::assert_snapshot!("funnel_small", funnel_svg(&spec).unwrap());
}
