//! Defects found by an adversarial run of hostile and extreme inputs
//! (issue 18), each met through the `tau` binary as a user meets it.
//!
//! Expected numbers come from tests/fixtures/edge.json (metafor 3.8.1, written
//! by tests/fixtures/generate_edge.R) where a number is checked.

use std::path::PathBuf;

use crate::util::prec::RELATIVE;
use crate::util::tau;
use serde_json::Value;

/// Writes `contents` to a fresh file named `name` in a scratch folder of this
/// test process and returns its path.
fn scratch(name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tau-adversarial-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    path
}

/// Runs tau with `args`; returns (exit code, stdout, stderr).
fn run(args: &[&str]) -> (i32, String, String) {
    let out = tau().args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A failed run: exit 2, nothing on standard output, and every fragment in the message.
fn refused(args: &[&str], fragments: &[&str]) {
    let (code, stdout, stderr) = run(args);
    assert_eq!(code, 2, "{args:?}: {stderr}");
    assert!(stdout.is_empty(), "{args:?}: {stdout}");
    for fragment in fragments {
        assert!(
            stderr.contains(fragment),
            "{args:?}: no {fragment:?} in\n{stderr}"
        );
    }
}

/// A study file of generic records (label, yi, vi).
fn generic(records: &[(&str, f64, f64)]) -> String {
    let studies: Vec<Value> = records
        .iter()
        .map(|(s, yi, vi)| serde_json::json!({"study": s, "yi": yi, "vi": vi}))
        .collect();
    serde_json::json!({"measure": "GEN", "studies": studies}).to_string()
}

fn json_of(args: &[&str]) -> Value {
    let (code, stdout, stderr) = run(args);
    assert_eq!(code, 0, "{args:?}: {stderr}");
    serde_json::from_str(&stdout).unwrap()
}

/// Item 1: variances 1e-15, 1e-5, 1e5, 1e15. REML stopped after one tiny
/// Fisher step at τ² = 1.4e-6 (SE 0.0011); metafor's optimum is 0.004995
/// (SE 0.0500), the vi_30_orders case of edge.json.
#[test]
fn reml_does_not_stop_at_a_tiny_first_step() {
    let file = scratch(
        "vi_30_orders.json",
        generic(&[
            ("A", 0.1, 1e-15),
            ("B", 0.2, 1e-5),
            ("C", 0.1, 1e5),
            ("D", 0.2, 1e15),
        ]),
    );
    let edge: Value = crate::util::fixture("edge.json");
    let case = edge["cases"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["id"] == "vi_30_orders"))
        .unwrap();
    for method in ["REML", "ML", "EB"] {
        let expected = case["fits"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["method"] == method && f["test"] == "z")
            .unwrap();
        let r = json_of(&[
            "pool",
            file.to_str().unwrap(),
            "--method",
            method,
            "--format",
            "json",
        ]);
        // EB: Fisher scoring stops within metafor's absolute threshold 1e-5
        // of the exact root (0.0017), about 2e-6 relative.
        let tolerance = if method == "EB" { 1e-5 } else { RELATIVE };
        for key in ["tau2", "se"] {
            let (a, e) = (r[key].as_f64().unwrap(), expected[key].as_f64().unwrap());
            assert!((a - e).abs() <= tolerance * e, "{method} {key}: {a} vs {e}");
        }
    }
}

/// Item 2: `--level 0.95` gave a 0.95% CI without a word. It is now read as
/// a proportion, as metafor does, and a note says so; 1 is refused.
#[test]
fn a_proportion_level_is_read_as_metafor_reads_it() {
    let (code, proportion, stderr) = run(&["pool", "studies/bcg.json", "--level", "0.95"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("--level 0.95 is read as a proportion"),
        "{stderr}"
    );
    assert!(stderr.contains("95% intervals"), "{stderr}");
    let (_, percent, _) = run(&["pool", "studies/bcg.json", "--level", "95"]);
    assert_eq!(proportion, percent);
    let (_, simulated, stderr) = run(&[
        "simulate", "--k", "5", "--tau2", "0.1", "--reps", "20", "--seed", "1", "--level", "0.9",
    ]);
    assert!(stderr.contains("90% intervals"), "{stderr}");
    assert!(!simulated.is_empty());
    for level in ["1", "0", "100", "-5", "nan"] {
        refused(
            &["pool", "studies/bcg.json", "--level", level],
            &["--level", "a proportion below 1"],
        );
    }
}

const TWO_TABLES: &str = r#"[{"study": "A", "events1": 3, "n1": 20, "events2": 5, "n2": 20}, {"study": "B", "events1": 4, "n1": 30, "events2": 9, "n2": 31}]"#;

/// Item 3: keys are read as JSON reads them. An escaped `"me\u0061sure"` is
/// the measure (it was dropped silently to GEN); a repeated top-level key is
/// an error (a `null` then `"OR"` gave "no measure is given"); an escaped
/// `"studies"` key keeps the line and column of later errors.
#[test]
fn escaped_and_repeated_top_level_keys() {
    let escaped = scratch(
        "escaped_measure.json",
        format!(r#"{{"me\u0061sure": "OR", "studies": {TWO_TABLES}}}"#),
    );
    let plain = scratch(
        "plain_measure.json",
        format!(r#"{{"measure": "OR", "studies": {TWO_TABLES}}}"#),
    );
    let (code, escaped_out, stderr) = run(&["pool", escaped.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        escaped_out.contains("measure: log odds ratio (OR after back-transformation)"),
        "{escaped_out}"
    );
    let (_, plain_out, _) = run(&["pool", plain.to_str().unwrap()]);
    assert_eq!(
        escaped_out.replace("escaped_measure", "plain_measure"),
        plain_out
    );

    let repeated = scratch(
        "repeated_measure.json",
        format!(r#"{{"measure": null, "measure": "OR", "studies": {TWO_TABLES}}}"#),
    );
    refused(
        &["pool", repeated.to_str().unwrap()],
        &[
            "repeated_measure.json:1:",
            "duplicate top-level field `measure`",
            "once",
        ],
    );

    let studies = scratch(
        "escaped_studies.json",
        "{\"measure\": \"GEN\", \"stud\\u0069es\": [\n{\"study\": \"A\", \"yi\": 0.1, \"vi\": 0.1},\n{\"study\": \"B\", \"yi\": 0.1, \"vi\": \"x\"}]}",
    );
    refused(
        &["pool", studies.to_str().unwrap()],
        &["escaped_studies.json:3:", "study 'B' (record 2), field vi"],
    );
}

/// Item 4: a repeated moderator kept the last value silently; it is an
/// error, as a repeated record field is.
#[test]
fn a_repeated_moderator_is_an_error() {
    let file = scratch(
        "repeated_moderator.json",
        "{\"measure\": \"GEN\", \"studies\": [\n{\"study\": \"A\", \"yi\": 0.1, \"vi\": 0.1, \"moderators\": {\"g\": 1, \"g\": 2}},\n{\"study\": \"B\", \"yi\": 0.1, \"vi\": 0.2}]}",
    );
    refused(
        &["pool", file.to_str().unwrap()],
        &[
            "repeated_moderator.json:2:",
            "study 'A' (record 1)",
            "duplicate moderator `g`",
            "once per record",
        ],
    );
}

/// Item 19: a negative seed or level is refused for what it is, not with
/// clap's tip to write `-- -1`; `--permutations 0` is a usage error (exit 2).
#[test]
fn negative_and_zero_flag_values_are_usage_errors() {
    for args in [
        &["pool", "studies/bcg.json", "--level", "-5"][..],
        &["simulate", "--k", "5", "--tau2", "0.1", "--seed", "-1"],
        &[
            "regress",
            "studies/bcg.json",
            "--mods",
            "ablat",
            "--permutations",
            "10",
            "--seed",
            "-1",
        ],
    ] {
        let (code, stdout, stderr) = run(args);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(stdout.is_empty());
        assert!(!stderr.contains("-- -"), "{args:?}: {stderr}");
        assert!(
            stderr.contains("negative") || stderr.contains("(got -5)"),
            "{stderr}"
        );
    }
    refused(
        &[
            "regress",
            "studies/bcg.json",
            "--mods",
            "ablat",
            "--permutations",
            "0",
        ],
        &["--permutations", "at least 2 (got 0)"],
    );
}

/// Item 5: every variance 1e-300 gave I² and H² as NA, blaming a wide spread
/// of variances; metafor gives I² = 100. The traces are now summed with
/// weights scaled by their largest (no overflow).
#[test]
fn tiny_equal_variances_give_i2_of_100() {
    let file = scratch(
        "tiny_variances.json",
        generic(&[("A", 0.1, 1e-300), ("B", 0.3, 1e-300), ("C", 0.2, 1e-300)]),
    );
    let r = json_of(&["pool", file.to_str().unwrap(), "--format", "json"]);
    assert_eq!(r["I2"].as_f64(), Some(100.0), "{r}");
    assert!(r["H2"].as_f64().is_some_and(|h2| h2 > 1e297), "{r}");
    let (_, _, stderr) = run(&["pool", file.to_str().unwrap()]);
    assert!(!stderr.contains("spread"), "{stderr}");
}

/// Item 6: an empty JSON label was accepted (CSV refuses it); repeated
/// labels made influence output ambiguous. Empty labels are refused, repeated
/// ones are warned about and numbered.
#[test]
fn empty_and_repeated_labels() {
    let empty = scratch(
        "empty_label.json",
        generic(&[("A", 0.1, 0.01), ("", 0.3, 0.02), ("C", 0.2, 0.03)]),
    );
    refused(
        &["pool", empty.to_str().unwrap()],
        &[
            "empty_label.json:1:",
            "(record 2)",
            "field study",
            "the study label is empty",
        ],
    );
    let repeated = scratch(
        "repeated_labels.json",
        generic(&[
            ("A", 0.1, 0.01),
            ("A", 0.3, 0.02),
            ("A (2)", 0.2, 0.03),
            ("B", 0.9, 0.01),
            ("A", 0.4, 0.04),
        ]),
    );
    let (code, stdout, stderr) = run(&["influence", repeated.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("2 studies repeat an earlier label ('A')"),
        "{stderr}"
    );
    let labels: Vec<&str> = stdout
        .lines()
        .filter_map(|l| l.get(..6))
        .filter(|l| l.starts_with('A') || l.starts_with('B'))
        .map(str::trim_end)
        .collect();
    assert_eq!(labels, ["A", "A (3)", "A (2)", "B", "A (4)"], "{stdout}");
}

/// Item 17: huge numbers were printed as 300-digit fixed-point strings in
/// text; they are now in R's scientific notation (JSON keeps every digit).
#[test]
fn huge_and_tiny_numbers_print_in_scientific_notation() {
    let file = scratch(
        "huge_variances.json",
        generic(&[("A", 0.1, 1e-300), ("B", 0.3, 1e-300), ("C", 0.2, 1e300)]),
    );
    let (code, stdout, stderr) = run(&["pool", file.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("1.0000e+300"), "{stdout}");
    assert!(stdout.contains("1.0000e-300"), "{stdout}");
    assert!(stdout.lines().all(|l| l.len() < 200), "{stdout}");
    let r = json_of(&["pool", file.to_str().unwrap(), "--format", "json"]);
    assert!(r.to_string().contains("\"vi\":1e+300"), "{r}");
}

/// Item 18: control characters in a label went raw into the SVG (which then
/// failed to parse) and into the terminal; they are shown as U+FFFD.
#[test]
fn control_characters_in_labels_are_made_visible() {
    let file = scratch(
        "control_label.json",
        generic(&[
            ("A\u{1b}[31mred", 0.1, 0.01),
            ("B\u{0}", 0.3, 0.02),
            ("C", 0.2, 0.03),
        ]),
    );
    let (code, stdout, stderr) = run(&["pool", file.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    assert!(!stdout.contains('\u{1b}') && !stdout.contains('\u{0}'));
    assert!(
        stdout.contains("A\u{fffd}[31mred") && stdout.contains("B\u{fffd}"),
        "{stdout}"
    );
    let svg = file.with_extension("svg");
    let (code, _, stderr) = run(&[
        "forest",
        file.to_str().unwrap(),
        "-o",
        svg.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{stderr}");
    let text = std::fs::read_to_string(&svg).unwrap();
    roxmltree::Document::parse(&text).expect("the SVG parses");
    assert!(text.contains("A\u{fffd}[31mred"));

    // A category with ESC, as a subgroup label.
    let grouped = scratch(
        "control_category.json",
        r#"{"measure": "GEN", "studies": [
            {"study": "A", "yi": 0.1, "vi": 0.01, "moderators": {"g": "x\u001by"}},
            {"study": "B", "yi": 0.3, "vi": 0.02, "moderators": {"g": "x\u001by"}},
            {"study": "C", "yi": 0.2, "vi": 0.03, "moderators": {"g": "z"}},
            {"study": "D", "yi": 0.25, "vi": 0.03, "moderators": {"g": "z"}}]}"#,
    );
    let svg = grouped.with_extension("svg");
    let (code, _, stderr) = run(&[
        "forest",
        grouped.to_str().unwrap(),
        "--by",
        "g",
        "-o",
        svg.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{stderr}");
    let text = std::fs::read_to_string(&svg).unwrap();
    roxmltree::Document::parse(&text).expect("the SVG parses");
    assert!(text.contains("x\u{fffd}y"));
    let (_, stdout, _) = run(&["subgroup", grouped.to_str().unwrap(), "--by", "g"]);
    assert!(
        stdout.contains("x\u{fffd}y") && !stdout.contains('\u{1b}'),
        "{stdout}"
    );
}

/// Item 19, messages: a typo in `cumulative --order` lists the moderators
/// (it blamed the first study); `subgroup --by` on a number with a value per
/// study suggests `regress`; a moderator of 1e201 is too large, not
/// "collinear"; vi = 1e-400 says it underflows; a JSON comment says JSON has
/// none; single-quoted keys print no stray `?:`.
#[test]
fn messages_name_the_real_cause() {
    let records: Vec<Value> = (0..30)
        .map(|i| {
            serde_json::json!({"study": format!("S{i}"), "yi": 0.1 * f64::from(i % 7),
                "vi": 0.01 + 0.001 * f64::from(i),
                "moderators": {"year": 1990.0 + 0.37 * f64::from(i), "big": 1e201 * f64::from(i + 1)}})
        })
        .collect();
    let file = scratch(
        "moderated.json",
        serde_json::json!({"measure": "GEN", "studies": records}).to_string(),
    );
    let path = file.to_str().unwrap();
    refused(
        &["cumulative", path, "--order", "yaer"],
        &["no study has a moderator named 'yaer'", "big, year"],
    );
    let (code, _, stderr) = run(&["subgroup", path, "--by", "year"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("tau regress --mods year"), "{stderr}");
    refused(
        &["regress", path, "--mods", "big"],
        &["moderator 'big' has values as large as 3.0e202", "rescale"],
    );
    let (_, _, stderr) = run(&["regress", path, "--mods", "big"]);
    assert!(!stderr.contains("collinear"), "{stderr}");

    let underflow = scratch(
        "underflow.json",
        r#"{"measure": "GEN", "studies": [{"study": "A", "yi": 0.1, "vi": 1e-400}, {"study": "B", "yi": 0.2, "vi": 0.1}]}"#,
    );
    refused(
        &["pool", underflow.to_str().unwrap()],
        &["vi must be > 0", "1e-400", "underflows to 0"],
    );
    // The same in CSV, with a decimal point and with a decimal comma.
    let underflow = scratch("underflow.csv", "study,yi,vi\nA,0.1,1e-400\nB,0.2,0.1\n");
    refused(
        &["pool", underflow.to_str().unwrap()],
        &[
            "line 2, column 3 (vi)",
            "(got 0)",
            "1e-400",
            "underflows to 0",
        ],
    );
    let underflow = scratch(
        "underflow_comma.csv",
        "study;yi;vi\nA;0,1;2,5e-400\nB;0,2;0,1\n",
    );
    refused(
        &["pool", underflow.to_str().unwrap()],
        &["vi must be > 0", "2,5e-400", "underflows to 0"],
    );
    let comment = scratch(
        "comment.json",
        "{\"measure\": \"GEN\",\n  // the trials\n  \"studies\": []}",
    );
    refused(
        &["pool", comment.to_str().unwrap()],
        &["comment.json:2:3:", "JSON has no comments"],
    );
    let quoted = scratch("single_quotes.json", "{'measure': 'GEN', 'studies': []}");
    let (code, _, stderr) = run(&["pool", quoted.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(!stderr.contains("?:"), "{stderr}");
    assert!(stderr.contains("double quotes"), "{stderr}");
}

/// Item 15: messages quote at most about 80 characters and list at most 20
/// header names, the duplicate-header check is linear, and a file of NUL
/// bytes is "not a text file".
#[test]
fn messages_stay_short_on_huge_input() {
    let huge_cell = scratch(
        "huge_cell.csv",
        format!("study,yi,vi\nA,{}x,0.1\n", "1".repeat(5_000_000)),
    );
    let (code, _, stderr) = run(&["pool", huge_cell.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(
        stderr.len() < 600 && stderr.contains("(5000001 characters)"),
        "{stderr}"
    );

    let huge_string = scratch(
        "huge_string.json",
        generic(&[("A", 0.1, 0.1)]).replace("0.1,", &format!("\"{}\",", "1".repeat(5_000_000))),
    );
    let (code, _, stderr) = run(&["pool", huge_string.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(
        stderr.len() < 600 && stderr.contains("characters left out"),
        "{stderr}"
    );

    let names: Vec<String> = (0..200_000).map(|i| format!("c{i}")).collect();
    let wide = scratch(
        "wide.csv",
        format!("{}\n{}\n", names.join(","), vec!["1"; 200_000].join(",")),
    );
    let started = std::time::Instant::now();
    let (code, _, stderr) = run(&["pool", wide.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(
        stderr.len() < 600 && stderr.contains("and 199980 more"),
        "{stderr}"
    );
    assert!(started.elapsed().as_secs() < 20, "{:?}", started.elapsed());

    for name in ["nul.csv", "nul.json"] {
        let nul = scratch(name, vec![0u8; 1 << 20]);
        let (code, _, stderr) = run(&["pool", nul.to_str().unwrap()]);
        assert_eq!(code, 2);
        assert!(
            stderr.len() < 400 && stderr.contains("not a text file"),
            "{stderr}"
        );
    }
}

/// Item 16: CSV messages name the cause: CR-only line ends keep their line
/// numbers, a `.csv` holding JSON says so, `YI`/`VI` headers are recognised as
/// `yi`/`vi` look-alikes, a transposed sheet is recognised.
#[test]
fn csv_messages_name_the_cause() {
    let cr = scratch("cr_only.csv", "study,yi,vi\rA,0.1,0.01\rB,0.2,x\r");
    refused(&["pool", cr.to_str().unwrap()], &["line 3, column 3 (vi)"]);
    let json = scratch("json_inside.csv", generic(&[("A", 0.1, 0.01)]));
    refused(
        &["pool", json.to_str().unwrap()],
        &["holds JSON, not CSV", ".json"],
    );
    // Issue 14 reads headers that differ in case as the field, with a note;
    // a one-letter field is matched exactly, so `N` alone is still refused.
    let upper = scratch("upper.csv", "study,YI,VI\nA,0.1,0.01\nB,0.2,0.02\n");
    let (code, _, stderr) = run(&["pool", upper.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("'YI' as yi, 'VI' as vi"), "{stderr}");
    let transposed = scratch(
        "transposed.csv",
        "study,Ames,Berg,Cole\nyi,0.1,0.2,0.3\nvi,0.01,0.02,0.03\n",
    );
    refused(
        &["pool", transposed.to_str().unwrap()],
        &["transposed", "one study per row"],
    );
}
