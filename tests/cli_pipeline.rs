//! Nothing lost: a failed run leaves an existing report untouched, tau reads
//! standard input and writes standard output so it composes in pipelines, a
//! closed pipe ends it quietly, and warnings stay out of standard output.

use crate::util::tau;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command as Process, Stdio};

const ZERO_CELLS: &str = "study,events1,n1,events2,n2\nA,0,20,3,21\nB,0,35,5,33\nC,1,50,4,48\n";

/// A fresh folder for one test, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("tau-test-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("scratch folder");
        Scratch(dir)
    }
    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
    fn files(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&self.0)
            .expect("scratch folder")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn tau_path() -> PathBuf {
    assert_cmd::cargo::cargo_bin("tau")
}

fn bcg() -> &'static str {
    "studies/bcg.json"
}

#[test]
fn a_failed_run_leaves_the_existing_report_untouched() {
    let scratch = Scratch::new("untouched");
    let out = scratch.path("report.json");
    std::fs::write(&out, "previous report\n").expect("write");
    // Bad input (exit 2) and a failed analysis (exit 1).
    for (args, code) in [
        (vec!["pool", "tests/bad_inputs/generic.json"], 2),
        (vec!["pool", bcg(), "--max-iter", "1"], 1),
    ] {
        tau()
            .args(&args)
            .args(["--format", "json", "-o"])
            .arg(&out)
            .assert()
            .code(code);
        assert_eq!(
            std::fs::read_to_string(&out).expect("read"),
            "previous report\n"
        );
        assert_eq!(
            scratch.files(),
            ["report.json"],
            "a temporary file was left behind"
        );
    }
    // A successful run replaces it, leaving no temporary file.
    tau()
        .args(["pool", bcg(), "--format", "json", "-o"])
        .arg(&out)
        .assert()
        .success()
        .stdout("");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).expect("read")).expect("JSON report");
    assert_eq!(report["k"], 13);
    assert_eq!(scratch.files(), ["report.json"]);
}

#[test]
fn standard_input_and_output_compose() {
    let json =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(bcg())).expect("bcg");
    let from_file = tau()
        .args(["pool", bcg(), "--format", "json"])
        .output()
        .expect("runs");
    let from_stdin = tau()
        .args(["pool", "-", "--format", "json"])
        .write_stdin(json)
        .output()
        .expect("runs");
    assert!(
        from_stdin.status.success(),
        "{}",
        String::from_utf8_lossy(&from_stdin.stderr)
    );
    assert_eq!(
        crate::util::without_provenance(&from_stdin.stdout),
        crate::util::without_provenance(&from_file.stdout)
    );

    // CSV on standard input is recognised by its content.
    let csv = tau()
        .args(["pool", "-", "--measure", "OR", "--format", "csv"])
        .write_stdin(ZERO_CELLS)
        .output()
        .expect("runs");
    assert!(
        csv.status.success(),
        "{}",
        String::from_utf8_lossy(&csv.stderr)
    );
    let table = String::from_utf8(csv.stdout).expect("UTF-8");
    assert!(
        table.starts_with("study,yi,vi,sei,ci_lower,ci_upper,weight\n"),
        "{table}"
    );
    assert_eq!(table.lines().count(), 4);

    // A real pipeline: tau's CSV through a second process.
    let shell = Process::new("sh")
        .arg("-c")
        .arg(format!(
            "'{}' pool - --measure OR --format csv | wc -l",
            tau_path().display()
        ))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("sh");
    shell
        .stdin
        .as_ref()
        .expect("stdin")
        .write_all(ZERO_CELLS.as_bytes())
        .expect("write");
    let output = shell.wait_with_output().expect("sh runs");
    assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), "4");
}

#[test]
fn warnings_go_to_stderr_and_json_not_stdout() {
    let text = tau()
        .args(["pool", "-", "--measure", "OR", "--method", "DL"])
        .write_stdin(ZERO_CELLS)
        .output()
        .expect("runs");
    assert!(text.status.success());
    let (stdout, stderr) = (
        String::from_utf8_lossy(&text.stdout),
        String::from_utf8_lossy(&text.stderr),
    );
    assert!(
        stderr.contains(
            "warning: <stdin>: 1/2 added to every cell of 2 tables with a zero cell: A, B"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("warning: the DL estimate of tau^2 was negative"),
        "{stderr}"
    );
    assert!(!stdout.contains("warning"), "{stdout}");

    let json = tau()
        .args([
            "pool",
            "-",
            "--measure",
            "OR",
            "--method",
            "DL",
            "--format",
            "json",
        ])
        .write_stdin(ZERO_CELLS)
        .output()
        .expect("runs");
    let report: serde_json::Value = serde_json::from_slice(&json.stdout).expect("JSON");
    let warnings = report["warnings"].as_array().expect("warnings");
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert!(
        report["settings"]["convergence"]["truncated_from"]
            .as_f64()
            .is_some_and(|t| t < 0.0)
    );
}

#[test]
fn convergence_is_reported_in_text_and_json() {
    let text = tau().args(["pool", bcg()]).output().expect("runs");
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("Convergence: REML converged after 3 iterations (last change in tau^2: "),
        "{text}"
    );
    let fallback = tau()
        .args(["pool", bcg(), "--max-iter", "1", "--fallback", "DL"])
        .output()
        .expect("runs");
    assert!(fallback.status.success());
    let text = String::from_utf8_lossy(&fallback.stdout);
    assert!(text.contains("tau^2 estimator: DL"), "{text}");
    assert!(
        text.contains("the REML estimator did not converge within 1 iteration (last change in tau^2: 2.410e-4), so the fallback DL was used"),
        "{text}"
    );
    let json = tau()
        .args([
            "pool",
            bcg(),
            "--max-iter",
            "1",
            "--fallback",
            "DL",
            "--format",
            "json",
        ])
        .output()
        .expect("runs");
    let report: serde_json::Value = serde_json::from_slice(&json.stdout).expect("JSON");
    let settings = &report["settings"];
    assert_eq!(settings["method"], "DL");
    assert_eq!(settings["fallback"], "DL");
    assert_eq!(settings["convergence"]["converged"], true);
    assert_eq!(settings["convergence"]["fallback_from"]["method"], "REML");
    assert!(
        report["warnings"][0]
            .as_str()
            .is_some_and(|w| w.contains("fallback DL"))
    );
}

/// A reader that goes away (`tau ... | head -1`) ends tau quietly: exit 0 and
/// nothing on standard error. The read end is closed before tau writes, so
/// every write fails with a broken pipe.
#[test]
fn a_closed_pipe_ends_quietly() {
    for format in ["text", "json", "csv"] {
        let mut child = Process::new(tau_path())
            .args(["pool", bcg(), "--format", format])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawns");
        drop(child.stdout.take());
        let output = child.wait_with_output().expect("runs");
        assert_eq!(output.status.code(), Some(0), "{format}");
        assert!(
            output.stderr.is_empty(),
            "{format}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    // And as a shell user writes it.
    let output = Process::new("bash")
        .arg("-c")
        .arg(format!(
            "'{}' pool {} | head -1; echo \"status ${{PIPESTATUS[0]}}\"",
            tau_path().display(),
            bcg()
        ))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("bash");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.ends_with("status 0\n"), "{stdout}");
    assert!(
        output.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Warnings and errors written to a closed standard error do not turn into a crash.
#[test]
fn a_closed_stderr_is_not_a_crash() {
    for (args, code) in [
        (vec!["pool", "-", "--measure", "OR", "--method", "DL"], 0),
        (vec!["pool", "tests/bad_inputs/generic.json"], 2),
    ] {
        let mut child = Process::new(tau_path())
            .args(&args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawns");
        drop(child.stderr.take());
        // The second run reads a file, not stdin, and may exit before this
        // write: a broken pipe here is expected, and not what is tested.
        let _ = child
            .stdin
            .take()
            .expect("stdin")
            .write_all(ZERO_CELLS.as_bytes());
        assert_eq!(child.wait().expect("runs").code(), Some(code), "{args:?}");
    }
}

/// A byte-order mark, as Excel writes in "CSV UTF-8", is not part of the first header.
#[test]
fn a_byte_order_mark_is_ignored() {
    let scratch = Scratch::new("bom");
    let file = scratch.path("excel.csv");
    std::fs::write(&file, format!("\u{feff}{ZERO_CELLS}")).expect("write");
    tau()
        .args(["pool", "--measure", "OR"])
        .arg(&file)
        .assert()
        .success();
}
