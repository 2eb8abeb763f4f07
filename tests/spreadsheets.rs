//! From the spreadsheet a researcher has to the analysis (issue 28): `.xlsx`
//! and `.ods` read directly, CSV exports in Windows-1252 and UTF-16 with
//! their trailing separators, `--columns` for headers tau does not
//! recognise, and `--reverse` / `"reverse": true` for outcomes where lower
//! is better.
//!
//! The spreadsheets and exports are written by
//! tests/fixtures/sheets/make_sheets.py from tau's bundled study files; each
//! must give exactly (bit for bit) the report of the clean CSV of the same
//! numbers. Reversed effects are checked against metafor 3.8.1:
//! tests/fixtures/reverse.json, written by tests/fixtures/generate_reverse.R
//! (escalc with the two groups swapped, then rma(yi, vi, method = "REML"),
//! on dat.normand1999 and dat.bcg). Tolerance: relative 1e-6.

use serde_json::Value;

use crate::util::prec::{close, close_to};
use crate::util::temp::TempDir;
use crate::util::{fixture, tau, without_provenance};

const SHEETS: &str = "tests/fixtures/sheets";
const DUTCH_COLUMNS: &str =
    "study=studie,n1=n_exp,m1=M_exp,sd1=SD_exp,n2=n_ctl,m2=M_ctl,sd2=SD_ctl";

/// The JSON report of `tau pool` on `args`, without provenance, and its
/// standard error.
fn pool_json(args: &[&str]) -> (Value, String) {
    let out = tau()
        .arg("pool")
        .args(args)
        .args(["--format", "json"])
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        without_provenance(&out.stdout),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The standard error of a run that must fail with exit code 2.
fn refused(args: &[&str]) -> String {
    let out = tau().args(args).output().expect("runs");
    assert_eq!(out.status.code(), Some(2), "{args:?}");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn path(file: &str) -> String {
    format!("{SHEETS}/{file}")
}

#[test]
fn xlsx_and_ods_give_the_numbers_of_the_clean_csv() {
    let (csv, _) = pool_json(&[&path("bangert.csv")]);
    for sheet in ["bangert.xlsx", "bangert.ods"] {
        let (report, notes) = pool_json(&[&path(sheet)]);
        assert_eq!(report, csv, "{sheet}");
        assert!(notes.contains("read sheet 'Data'"), "{notes}");
    }
}

#[test]
fn a_dutch_sheet_is_read_with_its_columns_line_or_columns() {
    let (csv, _) = pool_json(&[&path("normand.csv"), "--measure", "MD"]);
    // Sheet "Gegevens" starts at B3 below "# measure: MD" and "# columns: ...".
    let (xlsx, notes) = pool_json(&[&path("normand_dutch.xlsx"), "--sheet", "Gegevens"]);
    assert_eq!(xlsx, csv);
    assert!(notes.contains("'M_exp' as m1"), "{notes}");
    // The .ods has "# measure:" and "MD" in two cells, and no columns line.
    let (ods, _) = pool_json(&[&path("normand_dutch.ods"), "--columns", DUTCH_COLUMNS]);
    assert_eq!(ods, csv);
}

#[test]
fn excel_exports_in_windows_1252_and_utf16_are_read() {
    let (csv, _) = pool_json(&[&path("normand.csv"), "--measure", "MD"]);
    let csv = csv.to_string();
    // ';'-separated, decimal commas, "# measure: MD;;;;;;" and ";;;;;;" rows.
    let (export, notes) = pool_json(&[&path("normand_export.csv"), "--columns", DUTCH_COLUMNS]);
    assert_eq!(export.to_string().replace("Umeå", "Umea"), csv);
    assert!(
        notes.contains("normand_export.csv: read as Windows-1252 text (not UTF-8)"),
        "{notes}"
    );
    let (utf16, notes) = pool_json(&[&path("normand_utf16.csv"), "--measure", "MD"]);
    assert!(utf16.to_string().contains("Umeå"));
    assert_eq!(utf16.to_string().replace("Umeå", "Umea"), csv);
    assert!(notes.contains("read as UTF-16LE text"), "{notes}");
}

#[test]
fn sheet_errors_name_the_cell() {
    let err = refused(&["pool", &path("normand_dutch.xlsx"), "--sheet", "Fout"]);
    assert!(
        err.contains("normand_dutch.xlsx: Fout!E6 (SD_exp): expected a number, found \"n.b.\""),
        "{err}"
    );
    // The first sheet holds notes: the message names the sheets.
    let err = refused(&["pool", &path("normand_dutch.xlsx")]);
    assert!(
        err.contains("'Lees mij'!1:1: no \"study\" column")
            && err.contains("pass --sheet NAME if another sheet holds the studies (the workbook's sheets: 'Lees mij', 'Gegevens', 'Fout', 'Negatief')"),
        "{err}"
    );
    let err = refused(&["pool", &path("normand_dutch.xlsx"), "--sheet", "Data"]);
    assert!(
        err.contains(
            "the workbook has no sheet \"Data\"; its sheets are Lees mij, Gegevens, Fout, Negatief"
        ),
        "{err}"
    );
    let err = refused(&["pool", &path("bangert.csv"), "--sheet", "Data"]);
    assert!(
        err.contains("--sheet \"Data\" picks a sheet of a spreadsheet"),
        "{err}"
    );
}

#[test]
fn a_bad_record_in_a_sheet_is_located_by_cell() {
    let err = refused(&["pool", &path("normand_dutch.xlsx"), "--sheet", "Negatief"]);
    assert!(
        err.contains("normand_dutch.xlsx: 1 bad record:\n  ")
            && err.contains("normand_dutch.xlsx: Negatief!E7 (sd1): study 'Orpington-Severe' (record 4): sd1 must be"),
        "{err}"
    );
}

#[test]
fn unrecognised_columns_are_named_with_a_mapping() {
    let dir = TempDir::new("dutch");
    let file = dir.path("dutch.csv");
    std::fs::write(
        &file,
        "# measure: SMD;;;;;;\nstudy;n_exp;M_exp;SD_exp;n_ctl;M_ctl;SD_ctl\nA;20;5,1;2;20;6;2,2\nB;30;4;1,5;31;4,5;1,4\n;;;;;;\n",
    )
    .expect("writes");
    let err = refused(&["pool", &file]);
    assert!(
        err.contains("every study was left out: 'A' (no effect data), 'B' (no effect data)")
            && err.contains("columns read as moderators, not as effect data: 'n_exp', 'M_exp', 'SD_exp', 'n_ctl', 'M_ctl', 'SD_ctl'")
            && err.contains("nearest record fields: n_exp → n1?, M_exp → m1?, SD_exp → sd1?, n_ctl → n2?, M_ctl → m2?, SD_ctl → sd2?")
            && err.contains("--columns n1=n_exp,m1=M_exp,sd1=SD_exp,n2=n_ctl,m2=M_ctl,sd2=SD_ctl"),
        "{err}"
    );
    // The mapping the message gives works, on the command line or in the file.
    let mapping = "n1=n_exp,m1=M_exp,sd1=SD_exp,n2=n_ctl,m2=M_ctl,sd2=SD_ctl";
    let (given, _) = pool_json(&[&file, "--columns", mapping]);
    let text = std::fs::read_to_string(&file).expect("reads");
    let with_line = dir.path("dutch_line.csv");
    std::fs::write(&with_line, format!("# columns: {mapping};;;\n{text}")).expect("writes");
    let (in_file, _) = pool_json(&[&with_line]);
    assert_eq!(given, in_file);
    assert_eq!(given["k"], 2);
    let err = refused(&["pool", &file, "--columns", "m1=Mexp"]);
    assert!(
        err.contains("--columns m1=Mexp: no column is called \"Mexp\""),
        "{err}"
    );
    let err = refused(&["pool", &file, "--columns", "mean1=M_exp"]);
    assert!(err.contains("\"mean1\" is no record field"), "{err}");
}

/// The metafor case `id` of tests/fixtures/reverse.json.
fn reverse_case(id: &str) -> Value {
    let fx: Value = fixture("reverse.json");
    fx["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .find(|c| c["id"] == id)
        .expect("case")
        .clone()
}

fn check_against_metafor(report: &Value, case: &Value) {
    let what = case["call"].as_str().unwrap_or_default();
    for (ours, theirs) in [
        ("estimate", "estimate"),
        ("se", "se"),
        ("ci_lower", "ci_lower"),
        ("ci_upper", "ci_upper"),
        ("tau2", "tau2"),
    ] {
        let (a, b) = (
            report[ours].as_f64().expect(ours),
            case[theirs].as_f64().expect(theirs),
        );
        assert!(close(a, b), "{what}: {ours} {a} vs metafor {b}");
    }
    let studies = report["studies"].as_array().expect("studies");
    for (i, study) in studies.iter().enumerate() {
        let (yi, expected) = (
            study["yi"].as_f64().expect("yi"),
            case["yi"][i].as_f64().expect("yi"),
        );
        assert!(
            close_to(yi, expected, 1e-9),
            "{what}: study {i} yi {yi} vs {expected}"
        );
    }
}

#[test]
fn reverse_field_turns_raw_differences_round() {
    // metafor 3.8-1, escalc("MD") with the groups of the Orpington studies
    // swapped, rma(yi, vi, method = "REML"), dat.normand1999.
    let case = reverse_case("normand");
    let dir = TempDir::new("reverse");
    let mut file: Value =
        serde_json::from_str(&std::fs::read_to_string("studies/normand1999.json").expect("reads"))
            .expect("JSON");
    for study in file["studies"].as_array_mut().expect("studies") {
        if study["study"]
            .as_str()
            .is_some_and(|s| s.starts_with("Orpington"))
        {
            study["reverse"] = Value::Bool(true);
        }
    }
    let path = dir.path("normand.json");
    std::fs::write(&path, file.to_string()).expect("writes");
    let (report, notes) = pool_json(&[&path]);
    check_against_metafor(&report, &case);
    let said = "effects turned round where lower is better (yi -> -yi; a ratio becomes its reciprocal) for 3 studies (the reverse field): 'Orpington-Mild', 'Orpington-Moderate', 'Orpington-Severe'";
    assert!(notes.contains(said), "{notes}");
    assert!(
        report["warnings"][0].as_str().is_some_and(|w| w == said),
        "{report}"
    );
    let text = tau().args(["pool", &path]).output().expect("runs");
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains(&format!("\nNote: {said}.\n")), "{text}");
}

#[test]
fn reverse_flag_turns_ratios_into_their_reciprocals() {
    // metafor 3.8-1, escalc("RR") with the groups of the alloc == "random"
    // trials swapped, rma(yi, vi, method = "REML"), dat.bcg.
    let case = reverse_case("bcg");
    let out = tau()
        .args([
            "pool",
            "studies/bcg.json",
            "--reverse",
            "alloc=random",
            "--format",
            "json",
        ])
        .output()
        .expect("runs");
    assert!(out.status.success());
    let report: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    check_against_metafor(&report, &case);
    let reversed = &report["provenance"]["input"]["reversed"];
    assert_eq!(reversed["by"][0], "--reverse alloc=random");
    assert_eq!(reversed["studies"], case["reversed"]);
    // A CSV column `reverse` does the same as the rule.
    let err = refused(&["pool", "studies/bcg.json", "--reverse", "alloc=Random"]);
    assert!(
        err.contains("--reverse alloc=Random: no study has \"alloc\" = \"Random\""),
        "{err}"
    );
}

#[test]
fn reverse_is_refused_without_a_direction() {
    let dir = TempDir::new("reverse_pr");
    let file = dir.path("pr.csv");
    std::fs::write(
        &file,
        "# measure: PR\nstudy,events,n,reverse\nA,3,10,yes\nB,4,12,\n",
    )
    .expect("writes");
    let err = refused(&["pool", &file]);
    assert!(
        err.contains("line 3, column 4 (reverse): study 'A' (record 1)")
            && err.contains("PR is a single-group measure with no direction to turn"),
        "{err}"
    );
    let bad = dir.path("bad.csv");
    std::fs::write(&bad, "study,yi,vi,reverse\nA,1,1,maybe\n").expect("writes");
    let err = refused(&["pool", &bad]);
    assert!(
        err.contains("line 2, column 4 (reverse): reverse must be true or false"),
        "{err}"
    );
}

/// The subcommands `tau --help` lists.
fn subcommands() -> Vec<String> {
    let help = tau().arg("--help").output().expect("runs");
    let help = String::from_utf8_lossy(&help.stdout).into_owned();
    let commands: Vec<String> = help
        .split("Commands:")
        .nth(1)
        .expect("a Commands section")
        .lines()
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
        .filter(|c| c != "help")
        .collect();
    assert!(commands.len() > 15, "{commands:?}");
    commands
}

#[test]
fn completions_cover_every_subcommand() {
    let commands = subcommands();
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let out = tau().args(["completions", shell]).output().expect("runs");
        assert!(out.status.success(), "{shell}");
        let script = String::from_utf8_lossy(&out.stdout);
        for command in &commands {
            assert!(script.contains(command.as_str()), "{shell}: no {command}");
        }
    }
    let err = refused(&["completions", "tcsh"]);
    assert!(err.contains("invalid value 'tcsh'"), "{err}");
}

#[test]
fn the_man_page_lists_every_subcommand() {
    let out = tau().arg("man").output().expect("runs");
    assert!(out.status.success());
    let page = String::from_utf8_lossy(&out.stdout);
    assert!(page.contains("\n.TH tau 1 "), "{page}");
    // roff writes a hyphen as \-: the SUBCOMMANDS section lists tau\-pool(1).
    for command in subcommands() {
        let entry = format!("tau\\-{}(1)", command.replace('-', "\\-"));
        assert!(page.contains(&entry), "no {entry}");
    }
}

/// tests/fixtures/sheets/review.rm5, a hand-written RevMan 5 review, against
/// CSV files holding the numbers this test states.
#[test]
fn revman_outcomes_read_as_their_numbers() {
    let review = path("review.rm5");
    let dir = TempDir::new("revman");
    let csv = |name: &str, text: &str| {
        let file = dir.path(name);
        std::fs::write(&file, text).expect("writes");
        file
    };
    let c1 = "1 Parent training vs waiting list";
    let dich = csv(
        "dich.csv",
        &format!(
            "# measure: RR\nstudy,events1,n1,events2,n2,comparison,outcome,subgroup\n\
             Ames 2001,12,40,20,38,{c1},1.1 Clinical range at follow-up,1.1.1 Group format\n\
             Berg 2004,8,55,15,52,{c1},1.1 Clinical range at follow-up,1.1.1 Group format\n\
             Cole 2010,5,30,9,31,{c1},1.1 Clinical range at follow-up,1.1.2 Individual format\n"
        ),
    );
    assert_eq!(
        pool_json(&[&review, "--outcome", "1.1"]).0,
        pool_json(&[&dich]).0
    );
    let cont = csv(
        "cont.csv",
        &format!(
            "# measure: SMD\nstudy,m1,sd1,n1,m2,sd2,n2,comparison,outcome\n\
             Ames 2001,120.5,25.1,40,135.2,27.3,38,{c1},1.2 ECBI intensity\n\
             Berg 2004,110.2,22.4,55,128.9,24.0,52,{c1},1.2 ECBI intensity\n\
             Cole 2010,118.0,30.2,30,121.7,29.5,31,{c1},1.2 ECBI intensity\n"
        ),
    );
    assert_eq!(
        pool_json(&[&review, "--outcome", "1.2"]).0,
        pool_json(&[&cont]).0
    );
    // A study the review does not list is labelled from its ID (STD-Dunn-2015).
    let (md, _) = pool_json(&[&review, "--outcome", "2.1"]);
    assert_eq!(md["studies"][0]["study"], "Dunn 2015");
    assert!(close(
        md["studies"][0]["yi"].as_f64().expect("yi"),
        115.3 - 119.8
    ));
    let err = refused(&["pool", &review]);
    assert!(
        err.contains("the review has dichotomous and continuous outcomes")
            && err.contains("1.1 Clinical range at follow-up (dichotomous, 3 studies), 1.2 ECBI intensity (continuous, 3 studies), 2.1 ECBI intensity (continuous, 2 studies)"),
        "{err}"
    );
    let err = refused(&["pool", &review, "--outcome", "3.1"]);
    assert!(
        err.contains("--outcome \"3.1\": no outcome with study data"),
        "{err}"
    );
}
