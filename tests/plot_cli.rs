//! The plot commands from the command line: every one writes SVG, PNG or PDF
//! by the file's extension and refuses others, and a failed run leaves an
//! existing file alone.

use crate::util::tau;
use crate::util::temp::TempDir;
use predicates::str::contains;

const BCG: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/studies/bcg.json");

fn assert_png(bytes: &[u8]) {
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "no PNG signature");
    assert_eq!(&bytes[12..16], b"IHDR");
    let width = u32::from_be_bytes(bytes[16..20].try_into().unwrap());
    let height = u32::from_be_bytes(bytes[20..24].try_into().unwrap());
    assert!(width > 100 && height > 100, "{width} x {height}");
    assert!(bytes.ends_with(b"IEND\xaeB`\x82"), "PNG is truncated");
}

fn assert_pdf(bytes: &[u8]) {
    assert!(bytes.starts_with(b"%PDF-"), "no PDF header");
    let tail = String::from_utf8_lossy(&bytes[bytes.len().saturating_sub(32)..]).into_owned();
    assert!(tail.contains("%%EOF"), "PDF is truncated");
    let text = String::from_utf8_lossy(bytes);
    assert!(text.contains("/FontFile2"), "the font is not embedded");
}

/// Every plot command, drawing BCG into `out`.
fn plot_commands(out: &str) -> Vec<Vec<&str>> {
    vec![
        vec!["forest", BCG, "--by", "alloc", "--dpi", "100", "-o", out],
        vec!["funnel", BCG, "--contours", "--dpi", "100", "-o", out],
        vec!["bubble", BCG, "--mod", "ablat", "--dpi", "100", "-o", out],
        vec!["baujat", BCG, "--dpi", "100", "-o", out],
        vec!["leave-one-out", BCG, "--plot", out],
        vec!["cumulative", BCG, "--plot", out],
    ]
}

#[test]
fn every_plot_command_writes_svg_png_and_pdf() {
    let dir = TempDir::new("plot-formats");
    for ext in ["svg", "png", "pdf"] {
        let out = dir.path(&format!("plot.{ext}"));
        for args in plot_commands(&out) {
            tau().args(&args).assert().success();
            let bytes = std::fs::read(&out).unwrap();
            match ext {
                "svg" => {
                    let svg = String::from_utf8(bytes).unwrap();
                    roxmltree::Document::parse(&svg).unwrap_or_else(|e| panic!("{}: {e}", args[0]));
                    // resvg reads it back, with the bundled font.
                    let tree = tau_plot::render::parse(&svg).unwrap();
                    assert!(tree.size().width() > 500.0, "{}", args[0]);
                    assert!(svg.contains("Liberation Sans"), "{}", args[0]);
                }
                "png" => assert_png(&bytes),
                _ => assert_pdf(&bytes),
            }
            std::fs::remove_file(&out).unwrap();
        }
    }
    assert!(dir.files().is_empty(), "{:?}", dir.files());
}

#[test]
fn every_plot_command_refuses_an_unknown_extension_without_touching_the_file() {
    let dir = TempDir::new("plot-extension");
    let fresh = dir.path("plot.jpg");
    let existing = dir.path("old.gif");
    std::fs::write(&existing, "an earlier picture").unwrap();
    for out in [&fresh, &existing] {
        for args in plot_commands(out) {
            tau()
                .args(&args)
                .assert()
                .code(2)
                .stdout("")
                .stderr(contains(format!(
                    "{out}: a plot file must end in .svg, .png or .pdf"
                )));
        }
    }
    assert_eq!(dir.files(), ["old.gif"]);
    assert_eq!(
        std::fs::read_to_string(&existing).unwrap(),
        "an earlier picture"
    );
}

#[test]
fn a_failed_run_leaves_the_existing_file_alone() {
    let dir = TempDir::new("forest-fail");
    let out = dir.path("plot.png");
    std::fs::write(&out, "an earlier plot").unwrap();
    tau()
        .args(["forest", BCG, "--by", "country", "-o", &out])
        .assert()
        .code(2)
        .stderr(contains(
            "no study has a moderator named 'country'; the moderators in the file are: ablat, alloc, year",
        ));
    tau()
        .args(["forest", BCG, "--width", "300", "-o", &out])
        .assert()
        .code(2)
        .stderr(contains("--width 300 leaves no room for the plot"));
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "an earlier plot");
    assert_eq!(
        dir.files(),
        ["plot.png"],
        "a temporary file was left behind"
    );
}

#[test]
fn conflicting_model_flags_are_refused() {
    tau()
        .args(["forest", BCG, "--common", "--common-only", "-o", "x.svg"])
        .assert()
        .code(2);
}

/// BCG under REML: metafor 3.8.1 `trimfill(res)` fills k0 = 1 study on the
/// right (see tests/fixtures/bias.json); the funnel draws it as an open point.
#[test]
fn funnel_trimfill_draws_the_filled_study() {
    let dir = TempDir::new("funnel-trimfill");
    let plain = dir.path("plain.svg");
    let filled = dir.path("filled.svg");
    tau().args(["funnel", BCG, "-o", &plain]).assert().success();
    tau()
        .args(["funnel", BCG, "--trimfill", "-o", &filled])
        .assert()
        .success();
    let plain = std::fs::read_to_string(&plain).unwrap();
    let filled = std::fs::read_to_string(&filled).unwrap();
    assert!(!plain.contains("Filled studies"));
    assert!(filled.contains("Filled studies"));
    // The open point is a white disc under an outline (2 circles); the
    // legend adds its open point (1 more).
    assert_eq!(
        filled.matches("<circle").count(),
        plain.matches("<circle").count() + 3
    );
    // Issue 14: the pooled and the adjusted estimate each have their line and entry.
    assert!(plain.contains("Pooled estimate") && !plain.contains("Trim-and-fill estimate"));
    assert!(filled.contains("Pooled estimate") && filled.contains("Trim-and-fill estimate"));
}

/// The width of an SVG and the size of a PNG, from their headers.
fn svg_width(svg: &str) -> f64 {
    let start = svg.find("width=\"").unwrap() + 7;
    let end = start + svg[start..].find('"').unwrap();
    svg[start..end].parse().unwrap()
}

fn png_size(bytes: &[u8]) -> (u32, u32) {
    let word =
        |at: usize| u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]);
    (word(16), word(20))
}

/// Issue 14: by default a forest plot fits a 17 cm journal column: 642.52 px
/// (17 / 2.54 × 96) in SVG, 2008 px wide in a PNG at the default 300 dpi.
/// BCG's text columns (the heterogeneity note is the widest) would crowd the
/// panel at 12 px, so the font shrinks to 9.22 px; a font size the user gives
/// is kept, and the figure is then wider than the column instead.
#[test]
fn the_default_forest_fits_a_17_cm_column_at_300_dpi() {
    let dir = TempDir::new("forest-width");
    let (svg, png) = (dir.path("f.svg"), dir.path("f.png"));
    for out in [&svg, &png] {
        tau().args(["forest", BCG, "-o", out]).assert().success();
    }
    let text = std::fs::read_to_string(&svg).unwrap();
    assert_eq!(svg_width(&text), 642.52);
    assert!(
        text.contains("font-size=\"9.22\""),
        "the font shrinks to fit"
    );
    assert_eq!(png_size(&std::fs::read(&png).unwrap()).0, 2008);

    tau()
        .args(["forest", BCG, "--font-size", "12", "-o", &svg])
        .assert()
        .success();
    let text = std::fs::read_to_string(&svg).unwrap();
    assert!(
        svg_width(&text) > 642.52,
        "12 px text columns need more room"
    );
    assert!(!text.contains("font-size=\"9.22\""));
}
