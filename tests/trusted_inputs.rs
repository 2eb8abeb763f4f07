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

#[test]
fn a_number_too_large_for_double_precision_is_quoted_as_written() {
    let dir = folder(
        "overflow",
        &[("inf.csv", "study,yi,vi\nA,1e999,0.01\nB,0.2,0.02\n")],
    );
    refused_with(
        &dir,
        &["pool", "inf.csv"],
        "error: inf.csv: 1 bad record:\n  inf.csv: line 2, column 2 (yi): study 'A' (record 1): yi must be a finite number (got inf); write a number, or leave the field out if it is unknown (the value written, 1e999, is above about 1.8e308, the largest number in double precision)\n",
    );
}

#[test]
fn separator_and_decimal_messages_say_what_the_file_holds() {
    let dir = folder(
        "dialect",
        &[
            ("comma.csv", THREE),
            ("semi.csv", "study;yi;vi\nA;0,1;0,01\nB;0,2;0,02\n"),
            ("points.csv", "study;yi;vi\nA;0.1;0.01\nB;0.2;0.02\n"),
        ],
    );
    refused_with(
        &dir,
        &["pool", "comma.csv", "--sep", ";"],
        "error: comma.csv: line 1: no \"study\" column in the header (study,yi,vi); --sep ';' was given, but the header is separated by ',': pass --sep ',', or leave out --sep to find the separator from the header\n",
    );
    refused_with(
        &dir,
        &["pool", "semi.csv", "--decimal", "."],
        "error: semi.csv: line 2, column 2 (yi): expected a number, found \"0,1\", which has a decimal comma; --decimal . reads decimal points: leave out --decimal (or pass --decimal ,) to read decimal commas in this ';'-separated file\n",
    );
    refused_with(
        &dir,
        &["pool", "points.csv", "--decimal", ","],
        "error: points.csv: line 2, column 2 (yi): expected a number, found \"0.1\"; --decimal , reads numbers such as 12 or 0,35 (no point, no thousands separators): leave out --decimal if the file writes decimals with a point, and leave the cell empty if unknown\n",
    );
}

const REGRESS: &str = "study,yi,vi,x,z\nA,0.1,0.01,1,1\nB,0.2,0.02,2,3\nC,0.3,0.01,3,2\nD,0.5,0.02,4,5\nE,0.5,0.02,4,1\n";

#[test]
fn a_predict_file_is_never_the_report_file() {
    let dir = folder(
        "predict-same",
        &[("reg.csv", REGRESS), ("rows.csv", "x,z\n1,2\n")],
    );
    std::os::unix::fs::symlink("rows.csv", dir.0.join("link.csv")).unwrap();
    for target in ["rows.csv", "link.csv"] {
        let args = [
            "regress",
            "reg.csv",
            "--mods",
            "x,z",
            "--predict-file",
            "rows.csv",
            "-o",
            target,
        ];
        let (code, stdout, stderr) = run_in(&dir, &args);
        assert_eq!((code, stdout.as_str()), (2, ""), "{stderr}");
        assert!(
            stderr.ends_with(&format!("error: {target}: this is the --predict-file table; writing the report there would destroy it. Name another file with -o\n")),
            "{stderr}"
        );
        assert_eq!(
            std::fs::read_to_string(dir.0.join("rows.csv")).unwrap(),
            "x,z\n1,2\n"
        );
    }
}

#[test]
fn a_predict_file_is_read_as_study_files_are() {
    let dir = folder(
        "predict-dialect",
        &[
            ("reg.csv", REGRESS),
            ("semi.csv", "x;z\n1;2,5\n"),
            ("comma.csv", "x,z\n1,2.5\n"),
            ("ragged.csv", "x;z\n1,5;2;3\n"),
        ],
    );
    let predictions = |file: &str| {
        let args = [
            "regress",
            "reg.csv",
            "--mods",
            "x,z",
            "--predict-file",
            file,
            "--format",
            "json",
        ];
        let (code, stdout, stderr) = run_in(&dir, &args);
        assert_eq!(code, 0, "{stderr}");
        let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
        report["predictions"].clone()
    };
    assert_eq!(predictions("semi.csv"), predictions("comma.csv"));
    let (code, _, stderr) = run_in(
        &dir,
        &[
            "regress",
            "reg.csv",
            "--mods",
            "x,z",
            "--predict-file",
            "ragged.csv",
        ],
    );
    assert_eq!(code, 2);
    assert!(
        stderr.contains("error: --predict-file ragged.csv: line 2: 3 values for 2 moderators, reading the cells as separated by ';' (the separator the header uses most); check for a missing or extra ';', or quote values that contain one"),
        "{stderr}"
    );
}

#[test]
fn a_plot_and_the_report_never_share_a_file() {
    let dir = folder("plot-same", &[("three.csv", THREE)]);
    std::os::unix::fs::symlink("x.svg", dir.0.join("link.svg")).unwrap();
    for command in ["selection", "leave-one-out", "cumulative"] {
        for report in ["x.svg", "./x.svg", "link.svg"] {
            let args = [command, "three.csv", "--plot", "x.svg", "-o", report];
            refused_with(
                &dir,
                &args,
                &format!(
                    "error: {report}: --plot and -o name the same file, so one output would replace the other; give each its own file\n"
                ),
            );
            assert_eq!(dir.files(), ["link.svg", "three.csv"], "{args:?}");
        }
    }
}

#[test]
fn a_write_past_the_file_size_limit_leaves_no_temporary_file() {
    let mut text = String::from("study,yi,vi\n");
    for i in 0..300 {
        text.push_str(&format!(
            "Study {i},{},0.0{}\n",
            f64::from(i % 9) / 10.0,
            1 + i % 8
        ));
    }
    let dir = folder("xfsz", &[("many.csv", &text)]);
    let tau = assert_cmd::cargo::cargo_bin("tau");
    let out = std::process::Command::new("sh")
        .current_dir(&dir.0)
        .args([
            "-c",
            "ulimit -f 4; exec \"$0\" pool many.csv --format json -o out.json",
        ])
        .arg(&tau)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("out.json: cannot write: the file would be larger than the file-size limit (ulimit -f) or the file system allows"),
        "{stderr}"
    );
    assert_eq!(dir.files(), ["many.csv"]);
}

const REPEATED: &str = "study,yi,vi\nA,0.1,0.01\nA,0.2,0.02\nC,0.3,0.01\nD,0.5,0.01\n";

#[test]
fn an_exclusion_says_how_many_records_it_matched() {
    let dir = folder("exclude", &[("dup.csv", REPEATED)]);
    let (code, _, stderr) = run_in(&dir, &["pool", "dup.csv", "--exclude", "A"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        stderr,
        "note: dup.csv: --exclude \"A\" matched 2 records (1, 2), and left out all of them; to leave out one, name it as the output shows it, e.g. --exclude \"A (2)\"\n"
    );
}

#[test]
fn an_exclusion_accepts_the_label_the_output_shows() {
    let dir = folder("exclude-shown", &[("dup.csv", REPEATED)]);
    let (code, stdout, stderr) = run_in(
        &dir,
        &["pool", "dup.csv", "--exclude", "A (2)", "--format", "csv"],
    );
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        stderr,
        "note: dup.csv: --exclude \"A (2)\" left out record 2, labelled \"A\" in the file and shown as \"A (2)\" in the output\n"
    );
    let labels: Vec<&str> = stdout
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap())
        .collect();
    assert_eq!(labels, ["A", "C", "D"]);
    refused_with(
        &dir,
        &["pool", "dup.csv", "--exclude", "A (3)"],
        "error: dup.csv: --exclude \"A (3)\": no study has this label (labels are case-sensitive); the labels are: A, A, C, D\n",
    );
}

#[test]
fn a_label_with_a_line_break_survives_the_csv_view() {
    let dir = folder(
        "newline-label",
        &[(
            "nl.csv",
            "study,yi,vi\n\"Ames\n2001\",0.1,0.01\nB,0.2,0.02\nC,0.3,0.01\n",
        )],
    );
    let (code, stdout, stderr) = run_in(&dir, &["pool", "nl.csv", "--format", "csv"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("\n\"Ames\n2001\",0.1,0.01,"), "{stdout}");
    // The text view keeps the line intact.
    let (_, text, _) = run_in(&dir, &["pool", "nl.csv"]);
    assert!(text.contains("Ames\u{fffd}2001"), "{text}");
}

#[test]
fn a_long_rho_list_is_a_row_per_rho() {
    let mut text = String::from("study,yi,vi,cl\n");
    for i in 0..24 {
        text.push_str(&format!(
            "S{i},{},0.0{},c{}\n",
            f64::from(i % 5) / 10.0,
            1 + i % 4,
            i / 3
        ));
    }
    let dir = folder("rho-list", &[("ml.csv", &text)]);
    let rho: Vec<String> = (1..=40)
        .map(|i| format!("{}", f64::from(i) / 50.0))
        .collect();
    let rho = rho.join(",");
    let (code, stdout, stderr) = run_in(
        &dir,
        &[
            "pool", "ml.csv", "--random", "cl", "--robust", "cl", "--rho", &rho,
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.lines().all(|l| l.len() < 120), "{stdout}");
    assert!(stdout.contains("\nrho "), "{stdout}");
    assert_eq!(
        stdout.lines().filter(|l| l.starts_with("0.")).count(),
        40,
        "{stdout}"
    );
}
