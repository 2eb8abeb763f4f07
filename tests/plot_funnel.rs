//! Funnel plots: one point per study, open points for filled studies, and
//! the contour-enhanced form with its legend.

use roxmltree::Document;
use tau_core::data::dataset;
use tau_core::{FitOptions, pool};
use tau_plot::{FunnelSpec, funnel_svg};

fn bcg_spec() -> FunnelSpec {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/studies/bcg.json")).unwrap();
    let data = dataset::load_json(&text, None).unwrap();
    FunnelSpec::from_pool(&pool(&data, &FitOptions::default()).unwrap(), &data)
}

fn circles(svg: &str, fill: &str) -> usize {
    let doc = Document::parse(svg).unwrap();
    doc.descendants()
        .filter(|n| n.has_tag_name("circle") && n.attribute("fill") == Some(fill))
        .count()
}

#[test]
fn every_study_is_a_point() {
    let spec = bcg_spec();
    let svg = funnel_svg(&spec).unwrap();
    // 13 studies and the legend's swatch (issue 14: the plain funnel has a legend).
    assert_eq!(circles(&svg, "#1A1A1A"), 14);
    assert!(svg.contains("Standard error"));
    assert!(svg.contains("Risk ratio (log scale)"));
    for legend in ["Studies", "Pooled estimate", "95% pseudo-CI"] {
        assert!(svg.contains(legend), "legend lacks {legend}");
    }
}

#[test]
fn filled_studies_are_open_points_with_a_legend() {
    let mut spec = bcg_spec();
    spec.filled = vec![(0.4, 0.3), (0.9, 0.5), (1.2, 0.6)];
    let svg = funnel_svg(&spec).unwrap();
    // 13 studies and the legend's swatch; the 3 filled studies (the legend's open point is an outline).
    assert_eq!(circles(&svg, "#1A1A1A"), 14);
    assert_eq!(circles(&svg, "#FFFFFF"), 3);
    assert!(svg.contains("Filled studies"));
}

#[test]
fn contours_shade_three_significance_regions() {
    let mut spec = bcg_spec();
    spec.contours = true;
    let svg = funnel_svg(&spec).unwrap();
    for legend in [
        "p ≤ 0.01",
        "0.01 &lt; p ≤ 0.05",
        "0.05 &lt; p ≤ 0.10",
        "p &gt; 0.10",
    ] {
        assert!(svg.contains(legend), "legend lacks {legend}");
    }
    let doc = Document::parse(&svg).unwrap();
    assert_eq!(
        doc.descendants()
            .filter(|n| n.has_tag_name("polygon"))
            .count(),
        3
    );
}
