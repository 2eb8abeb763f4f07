//! Paper-ready output (issue 14): wording that does not depend on the sign
//! of the effects, labels that say what the numbers are, back-transformed
//! results, and `--format markdown` / `latex` tables. Run through the binary
//! as a user would. (Defect 5, plots written as real PNGs by leave-one-out,
//! cumulative and baujat, is covered by
//! `plot_cli::every_plot_command_writes_svg_png_and_pdf`; defect 7, the funnel's
//! pooled and trim-and-fill lines, by `plot_cli::funnel_trimfill_draws_the_filled_study`.)

use crate::util::tau;
use serde_json::Value;

const BCG: &str = "studies/bcg.json";

/// Standard output of a successful run.
fn stdout_of(args: &[&str], stdin: Option<String>) -> String {
    let mut command = tau();
    command.args(args);
    if let Some(text) = stdin {
        command.write_stdin(text);
    }
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// A GEN data set whose small studies lie further from zero on the side of
/// `sign`: yi = sign·(0.2 + 1.2·SE) ± 0.01 (simulated; Egger's test is then
/// clearly significant).
fn small_study_data(sign: f64) -> String {
    let studies: Vec<String> = (0..12)
        .map(|i| {
            let se = 0.05 + 0.05 * f64::from(i);
            let noise = if i % 2 == 0 { 0.01 } else { -0.01 };
            let yi = sign * (0.2 + 1.2 * se) + noise;
            format!(r#"{{"study": "S{i}", "yi": {yi}, "vi": {}}}"#, se * se)
        })
        .collect();
    format!(
        r#"{{"measure": "GEN", "studies": [{}]}}"#,
        studies.join(", ")
    )
}

/// Defect 6: "Smaller studies report smaller effects" was printed where the
/// small studies showed larger benefits on a scale where benefit is negative.
#[test]
fn egger_wording_is_relative_to_zero_whatever_the_sign() {
    for sign in [-1.0, 1.0] {
        let text = stdout_of(&["bias", "-"], Some(small_study_data(sign)));
        assert!(
            text.contains("Smaller studies report effects further from zero than larger ones"),
            "sign {sign}:\n{text}"
        );
        assert!(!text.contains("smaller effects"), "{text}");
    }
}

/// Defect 8: the heading says what the numbers are, not "measure: RR" above
/// log risk ratios, and GEN is explained where it appears.
#[test]
fn headings_name_the_scale_of_the_numbers() {
    let text = stdout_of(&["pool", BCG], None);
    assert!(
        text.contains("measure: log risk ratio (RR after back-transformation)"),
        "{text}"
    );
    assert!(!text.contains("measure: RR)"), "{text}");
    let text = stdout_of(&["pool", "-"], Some(small_study_data(1.0)));
    assert!(
        text.contains("GEN: generic effect sizes, analysed as given in yi and vi"),
        "{text}"
    );
}

/// Defect 8: "1 studies", and level names that read as part of the sentence
/// ("…CI: both"): counts agree with their noun, level names are quoted.
#[test]
fn one_study_and_quoted_level_names() {
    let data = r#"{"measure": "GEN", "studies": [
        {"study": "A", "yi": 0.1, "vi": 0.02, "moderators": {"arm": "both", "x": 1}},
        {"study": "B", "yi": 0.3, "vi": 0.03, "moderators": {"arm": "one", "x": 2}},
        {"study": "C", "yi": 0.2, "vi": 0.02, "moderators": {"arm": "one", "x": 3}},
        {"study": "D", "yi": 0.5, "vi": 0.04, "moderators": {"arm": "one", "x": 4}},
        {"study": "E", "yi": 0.4, "vi": 0.03, "moderators": {"arm": "one"}}
    ]}"#;
    let output = tau()
        .args(["subgroup", "-", "--by", "arm"])
        .write_stdin(data)
        .output()
        .unwrap();
    assert!(output.status.success());
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("normal-theory CI: 'both'"), "{stderr}");
    let text = stdout_of(&["regress", "-", "--mods", "x"], Some(data.into()));
    assert!(
        text.contains("1 study left out for a missing moderator value"),
        "{text}"
    );
    let text = stdout_of(
        &["subgroup", "-", "--by", "arm", "--filter", "arm=one"],
        Some(data.into()),
    );
    assert!(text.contains("; 1 level;"), "{text}");
}

/// Feature 4: subgroup, leave-one-out, cumulative and regress give
/// back-transformed results, as pool does; each is exp() of the number on
/// the log scale in the JSON report.
#[test]
fn back_transformed_results_everywhere() {
    let json: Value = serde_json::from_str(&stdout_of(
        &["subgroup", BCG, "--by", "alloc", "--format", "json"],
        None,
    ))
    .unwrap();
    let random = &json["groups"][1];
    assert_eq!(random["level"], "random");
    let rr = random["estimate"].as_f64().unwrap().exp();
    let text = stdout_of(&["subgroup", BCG, "--by", "alloc"], None);
    assert!(text.contains("Back-transformed (RR):"), "{text}");
    assert!(text.contains(&format!("random      {rr:.4}")), "{text}");
    for command in ["leave-one-out", "cumulative"] {
        let text = stdout_of(&[command, BCG], None);
        assert!(text.contains("Back-transformed (RR):"), "{command}: {text}");
    }
    let text = stdout_of(&["regress", BCG, "--mods", "ablat"], None);
    assert!(
        text.contains("Predicted values, back-transformed (RR):"),
        "{text}"
    );
}

/// Feature 5: a Markdown table for the paper, rounded to --digits, with n,
/// estimate [CI] and weight per study and the pooled rows; the pooled RR is
/// the JSON report's back-transformed estimate, rounded.
#[test]
fn markdown_pool_table() {
    let json: Value =
        serde_json::from_str(&stdout_of(&["pool", BCG, "--format", "json"], None)).unwrap();
    let t = &json["transformed"];
    let cell = |digits: usize| {
        let f = |key: &str| format!("{:.digits$}", t[key].as_f64().unwrap());
        format!("{} [{}, {}]", f("estimate"), f("ci_lower"), f("ci_upper"))
    };
    let md = stdout_of(&["pool", BCG, "--format", "markdown"], None);
    assert!(
        md.contains("| Study | n | RR [95% CI] | Weight (%) |"),
        "{md}"
    );
    assert!(
        md.contains("| Aronson 1948 | 262 | 0.41 [0.13, 1.26] | 5.1 |"),
        "{md}"
    );
    assert!(
        md.contains(&format!(
            "| **Random-effects model (REML)** | 357347 | {} | 100.0 |",
            cell(2)
        )),
        "{md}"
    );
    assert!(md.contains("Q(12) = 152.23, p < .001"), "{md}");
    assert!(
        md.contains("Test for overall effect: z = -3.97, p < .001"),
        "{md}"
    );
    let md = stdout_of(
        &["pool", BCG, "--format", "markdown", "--digits", "3"],
        None,
    );
    assert!(md.contains(&cell(3)), "{md}");
    // CSV keeps full precision.
    let csv = stdout_of(&["pool", BCG, "--format", "csv"], None);
    assert!(csv.contains("-0.8893113339202054"), "{csv}");
}

/// Feature 5: LaTeX tables for subgroup, regress and bias, and Markdown for
/// the refits; results without a paper table say so before any work.
#[test]
fn latex_tables_and_results_without_one() {
    let tex = stdout_of(
        &["subgroup", BCG, "--by", "alloc", "--format", "latex"],
        None,
    );
    for part in [
        "\\begin{tabular}{lrrrrr}",
        "\\toprule",
        "Subgroup & k & RR [95\\% CI] & p & $\\tau^2$ & I$^2$ (\\%) \\\\",
        "random & 7 & 0.38 [0.22, 0.65] & $<$ .001 & 0.39 & 89.9 \\\\",
        "Test for subgroup differences: Q(2) = 1.86, p = .394.",
        "\\end{table}",
    ] {
        assert!(tex.contains(part), "lacks {part}:\n{tex}");
    }
    let tex = stdout_of(
        &["regress", BCG, "--mods", "ablat", "--format", "latex"],
        None,
    );
    assert!(
        tex.contains("ablat & -0.03 [-0.04, -0.01] & 0.01 & -4.04 & $<$ .001 \\\\"),
        "{tex}"
    );
    let md = stdout_of(&["bias", BCG, "--format", "markdown"], None);
    assert!(
        md.contains("| Egger's regression test | z = -0.80;"),
        "{md}"
    );
    let md = stdout_of(&["leave-one-out", BCG, "--format", "markdown"], None);
    assert!(
        md.contains("| **All studies** | 13 | 0.49 [0.34, 0.70] |"),
        "{md}"
    );
    tau()
        .args(["influence", BCG, "--format", "latex"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "tau influence has no table for a paper, so --format latex is not available",
        ));
}

/// Feature 6: a forest plot a journal accepts: a test for the overall effect
/// per subgroup and overall (z here; t(df) under Knapp-Hartung), the SVG font
/// with fallbacks, an x-range that holds every CI (arrows only beyond
/// --xlim), and one number of decimals per raw-data column.
#[test]
fn forest_plot_for_a_journal() {
    let dir = crate::util::temp::TempDir::new("paper-forest");
    let out = dir.path("forest.svg");
    let svg = |args: &[&str]| {
        let mut all = vec!["forest"];
        all.extend_from_slice(args);
        all.extend(["-o", &out]);
        tau().args(&all).assert().success();
        std::fs::read_to_string(&out).unwrap()
    };
    let plot = svg(&[BCG, "--by", "alloc"]);
    // The three levels' z and the overall z of tau subgroup / tau pool.
    for line in [
        "Test for overall effect: z = −1.92, p = 0.055",
        "Test for overall effect: z = −3.52, p &lt; 0.001",
        "Test for overall effect: z = −1.18, p = 0.238",
        "Test for overall effect: z = −3.97, p &lt; 0.001",
    ] {
        assert!(plot.contains(line), "lacks {line}");
    }
    assert!(plot.contains(r#"font-family="Liberation Sans, Arial, Helvetica, sans-serif""#));
    assert!(
        !plot.contains(r#"class="arrow""#),
        "a CI is cut without --xlim"
    );
    let plot = svg(&[
        BCG,
        "--by",
        "alloc",
        "--levels",
        "random,alternate,systematic",
        "--level-labels",
        "Randomised,Alternate allocation,Systematic allocation",
    ]);
    let random = plot.find(">Randomised<").expect("the display name");
    let alternate = plot
        .find(">Alternate allocation<")
        .expect("the display name");
    assert!(random < alternate && !plot.contains("alloc: random"));
    tau()
        .args([
            "forest",
            BCG,
            "--by",
            "alloc",
            "--levels",
            "random,alternate,systematic",
            "--level-labels",
            "Randomised",
            "-o",
            &dir.path("never.svg"),
        ])
        .assert()
        .code(2);
    assert!(!std::path::Path::new(&dir.path("never.svg")).exists());
    let plot = svg(&[BCG, "--test", "knha"]);
    assert!(
        plot.contains("Test for overall effect: t(12) = −3.95, p = 0.002"),
        "{plot}"
    );
    let plot = svg(&[BCG, "--xlim", "0.2,2"]);
    assert!(
        plot.contains(r#"class="arrow""#),
        "--xlim cuts CIs, with arrows"
    );
    let data = r#"{"measure": "MD", "studies": [
        {"study": "A", "m1": 12.5, "sd1": 3, "n1": 20, "m2": 10, "sd2": 3.25, "n2": 22},
        {"study": "B", "m1": 8, "sd1": 2.5, "n1": 30, "m2": 7.75, "sd2": 2, "n2": 28}
    ]}"#;
    tau()
        .args(["forest", "-", "-o", &out])
        .write_stdin(data)
        .assert()
        .success();
    let plot = std::fs::read_to_string(&out).unwrap();
    for cell in [
        ">8.0<", ">12.5<", ">3.0<", ">2.5<", ">10.00<", ">7.75<", ">2.00<", ">3.25<", ">20<",
    ] {
        assert!(plot.contains(cell), "lacks {cell}");
    }
}

/// Issue 26, item 4: a robust analysis has a paper table, and it shows the
/// robust numbers the JSON reports (not the model-based ones).
#[test]
fn a_robust_analysis_has_a_paper_table_of_its_robust_numbers() {
    let file = "studies/parenting_ethnic_minorities.json";
    let model = [file, "--random", "trial/outcome", "--robust", "trial"];
    let json: Value = serde_json::from_str(&stdout_of(
        &[&["pool"][..], &model, &["--format", "json"]].concat(),
        None,
    ))
    .unwrap();
    let markdown = stdout_of(
        &[
            &["pool"][..],
            &model,
            &["--format", "markdown", "--digits", "4"],
        ]
        .concat(),
        None,
    );
    let four = |key: &str| format!("{:.4}", json[key].as_f64().unwrap());
    let row = format!(
        "| intrcpt | {} [{}, {}] | {} |",
        four("estimate"),
        four("ci_lower"),
        four("ci_upper"),
        four("se")
    );
    assert!(markdown.contains(&row), "{row}\n{markdown}");
    assert!(
        markdown.contains("clustered by trial (7 clusters)"),
        "{markdown}"
    );
    // The model-based CI is not the one shown.
    let model_based = format!("{:.4}", json["model_based"]["ci_lower"].as_f64().unwrap());
    assert!(!markdown.contains(&model_based), "{markdown}");
    let latex = stdout_of(
        &[&["pool"][..], &model, &["--format", "latex"]].concat(),
        None,
    );
    assert!(latex.contains("with cluster-robust inference"), "{latex}");
}

/// A GLMM's table for a paper shows the numbers of its JSON, rounded and
/// back-transformed (the odds ratio of BCG's tables by UM.FS).
#[test]
fn a_glmm_has_a_paper_table_of_its_numbers() {
    let args = ["pool", BCG, "--measure", "OR", "--glmm", "UM.FS"];
    let json: Value = serde_json::from_str(&stdout_of(
        &[&args[..], &["--format", "json"]].concat(),
        None,
    ))
    .unwrap();
    let md = stdout_of(&[&args[..], &["--format", "markdown"]].concat(), None);
    let num = |key: &str| json[key].as_f64().unwrap();
    let row = format!(
        "| Random-effects GLMM (UM.FS) | {:.2} [{:.2}, {:.2}] |",
        num("estimate").exp(),
        num("ci_lower").exp(),
        num("ci_upper").exp()
    );
    assert!(md.contains(&row), "lacks {row}:\n{md}");
    let heterogeneity = format!(
        "τ² = {:.2}, I² = {:.1}%; Wald test Q(12) = {:.2}",
        num("tau2"),
        num("I2"),
        num("QE_Wld")
    );
    assert!(md.contains(&heterogeneity), "lacks {heterogeneity}:\n{md}");
    let tex = stdout_of(&[&args[..], &["--format", "latex"]].concat(), None);
    assert!(tex.contains("Model & OR [95\\% CI] \\\\"), "{tex}");
}
