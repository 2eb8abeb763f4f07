//! Issue 25 ("Numbers a reviewer can trust"), the input, output-file and
//! message items: each met through the `tau` binary as a user meets it, with
//! the exact text on standard error. No number is checked here (the
//! analyses are those of the other suites); what is checked is that a file
//! is read as written, never destroyed, and that every message is true and
//! of bounded length.

use crate::util::tau;
use crate::util::temp::TempDir;

/// Runs tau in `dir` with `args`; returns (exit code, stdout, stderr).
fn run_in(dir: &TempDir, args: &[&str]) -> (i32, String, String) {
    let out = tau().current_dir(&dir.0).args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A folder holding `files` (name, contents).
fn folder(name: &str, files: &[(&str, &str)]) -> TempDir {
    let dir = TempDir::new(name);
    for (file, contents) in files {
        std::fs::write(dir.0.join(file), contents).unwrap();
    }
    dir
}

/// A failed run: exit 2, nothing on standard output, and exactly `message`
/// on standard error.
fn refused_with(dir: &TempDir, args: &[&str], message: &str) {
    let (code, stdout, stderr) = run_in(dir, args);
    assert_eq!((code, stdout.as_str()), (2, ""), "{args:?}: {stderr}");
    assert_eq!(stderr, message, "{args:?}");
}

const THREE: &str = "study,yi,vi\nA,0.1,0.01\nB,0.2,0.02\nC,0.3,0.01\n";

#[test]
fn header_cells_are_trimmed_of_spaces_and_stray_quotes() {
    // A space before a quote makes the csv reader keep the quotes: `" yi "`.
    let dir = folder(
        "header-trim",
        &[(
            "spaced.csv",
            "\"study\", \" yi \",\"vi \"\nA,0.1,0.01\nB,0.2,0.02\nC,0.3,0.01\n",
        )],
    );
    let (code, stdout, stderr) = run_in(&dir, &["pool", "spaced.csv", "--format", "json"]);
    assert_eq!(code, 0, "{stderr}");
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["k"], 3, "{stdout}");
}

#[test]
fn no_effect_data_names_the_columns_not_recognised() {
    let dir = folder(
        "unrecognised",
        &[("var.csv", "study,yi,Variance\nA,0.1,0.01\nB,0.2,0.02\n")],
    );
    refused_with(
        &dir,
        &["pool", "var.csv"],
        "error: var.csv: no study is left: every study was left out: 'A' (vi missing), 'B' (vi missing); the column \"Variance\" was not recognised as a record field and was read as a moderator; effect data need columns named as the fields, such as yi and vi (see tau schema); check --filter and --exclude, or fill in the missing effect data\n",
    );
}

#[test]
fn a_json_file_starting_with_a_comment_is_told_json_has_none() {
    let dir = folder(
        "json-comment",
        &[(
            "c.json",
            "// the BCG trials\n{\"studies\": [{\"study\": \"A\", \"yi\": 1, \"vi\": 1}]}\n",
        )],
    );
    refused_with(
        &dir,
        &["pool", "c.json"],
        "error: c.json:1:1: a comment: JSON has no comments; remove it, or move the note into \"notes\" or a moderator\n",
    );
}

#[test]
fn tiny_cut_points_are_written_in_e_notation() {
    let dir = folder("steps", &[("three.csv", THREE)]);
    let (code, stdout, stderr) = run_in(&dir, &["selection", "three.csv", "--steps", "1e-300"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("in the p-value interval 0 < p <= 1e-300 (0 studies)"),
        "{stderr}"
    );
    assert!(stdout.contains("steps = 1e-300, 1)"), "{stdout}");
    assert!(
        !format!("{stdout}{stderr}").contains("0000000000"),
        "{stdout}{stderr}"
    );
}

/// A moderator with 20,000 levels, one per study.
fn many_levels() -> String {
    let mut text = String::from("study,yi,vi,g\n");
    for i in 0..20_000 {
        text.push_str(&format!("S{i},{},0.01,L{i}\n", f64::from(i % 7) / 10.0));
    }
    text
}

#[test]
fn an_unknown_level_lists_the_nearest_levels_and_counts_the_rest() {
    let dir = folder("levels", &[("big.csv", &many_levels())]);
    refused_with(
        &dir,
        &["subgroup", "big.csv", "--by", "g", "--levels", "L12345x"],
        "note: big.csv: columns read as moderators: 'g'\nerror: big.csv: --levels for 'g': there is no level 'L12345x'; the levels of 'g' are: L10345, L11345, L12045, L12145, L12245, L12305, L12315, L12345, and 19992 more\n",
    );
    refused_with(
        &dir,
        &["pool", "big.csv", "--filter", "g=L12345x"],
        "error: big.csv: no study is kept by --filter g=L12345x; the values of 'g' present are: L10345, L11345, L12045, L12145, L12245, L12305, L12315, L12345, and 19992 more\n",
    );
}
