//! The README's examples run exactly as printed.
//!
//! Every ```text block in README.md whose first line is `$ tau ...` is a
//! command and what it prints (standard error, then standard output, as a
//! terminal shows them: warnings come before the report). The test runs each
//! command in a scratch folder — with `studies/...` arguments pointed at this
//! repository's studies — and requires the printed text to match exactly.
//!
//! After a deliberate change of output, regenerate the blocks with
//! `TAU_UPDATE_README=1 cargo test --test readme_walkthrough`.

use crate::util::tau;
use std::path::{Path, PathBuf};

const FENCE: &str = "```";

/// Splits a command line at spaces, keeping "double-quoted" words together.
fn split_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quoted = false;
    let mut started = false;
    for c in line.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                started = true;
            }
            ' ' if !quoted => {
                if started {
                    words.push(std::mem::take(&mut word));
                    started = false;
                }
            }
            _ => {
                word.push(c);
                started = true;
            }
        }
    }
    if started {
        words.push(word);
    }
    words
}

/// A command block: the line range of its output in the README, the command and the expected output.
struct Example {
    first_output_line: usize,
    end_line: usize,
    command: String,
    expected: String,
}

fn examples(readme: &str) -> Vec<Example> {
    let lines: Vec<&str> = readme.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if lines[i] == format!("{FENCE}text")
            && lines.get(i + 1).is_some_and(|l| l.starts_with("$ tau "))
        {
            let end = (i + 2..lines.len())
                .find(|&j| lines[j] == FENCE)
                .expect("closed block");
            let expected: String = lines[i + 2..end].iter().map(|l| format!("{l}\n")).collect();
            out.push(Example {
                first_output_line: i + 2,
                end_line: end,
                command: lines[i + 1][2..].to_owned(),
                expected,
            });
            i = end;
        }
        i += 1;
    }
    out
}

fn run(command: &str, scratch: &Path, root: &Path) -> String {
    let words = split_words(command);
    assert_eq!(words[0], "tau", "{command}");
    let args: Vec<String> = words[1..]
        .iter()
        .map(|w| {
            if w.starts_with("studies/") {
                root.join(w).to_string_lossy().into_owned()
            } else {
                w.clone()
            }
        })
        .collect();
    let output = tau()
        .current_dir(scratch)
        .args(&args)
        .output()
        .expect("runs");
    assert!(
        output.status.success(),
        "README command failed: {command}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let mut printed = String::from_utf8_lossy(&output.stderr).into_owned();
    printed.push_str(&String::from_utf8_lossy(&output.stdout));
    // Trailing blank lines are not visible in a README block.
    printed.trim_end().to_owned()
        + if printed.trim_end().is_empty() {
            ""
        } else {
            "\n"
        }
}

#[test]
fn readme_examples_run_as_printed() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let readme_path = root.join("README.md");
    let readme = std::fs::read_to_string(&readme_path).expect("README");
    let examples = examples(&readme);
    assert!(examples.len() >= 5, "found {} examples", examples.len());
    let scratch = std::env::temp_dir().join(format!("tau-readme-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).expect("scratch folder");
    let update = std::env::var_os("TAU_UPDATE_README").is_some();
    let mut lines: Vec<String> = readme.lines().map(str::to_owned).collect();
    let mut mismatches = Vec::new();
    // Backwards, so that replacing a block keeps earlier line numbers valid.
    for example in examples.iter().rev() {
        let actual = run(&example.command, &scratch, &root);
        if actual != example.expected {
            mismatches.push(format!(
                "$ {}\n--- README\n{}--- actual\n{}",
                example.command, example.expected, actual
            ));
            lines.splice(
                example.first_output_line..example.end_line,
                actual.lines().map(str::to_owned),
            );
        }
    }
    if update && !mismatches.is_empty() {
        std::fs::write(&readme_path, lines.join("\n") + "\n").expect("README written");
    }
    assert!(
        scratch.join("sessions.svg").exists(),
        "the bubble example writes sessions.svg"
    );
    std::fs::remove_dir_all(&scratch).ok();
    assert!(
        update || mismatches.is_empty(),
        "README output differs (TAU_UPDATE_README=1 regenerates it):\n{}",
        mismatches.join("\n")
    );
}

#[test]
fn words_are_split_like_a_shell_would() {
    assert_eq!(
        split_words(r#"tau pool f.json --filter "outcome=parenting behaviour" -o x"#),
        [
            "tau",
            "pool",
            "f.json",
            "--filter",
            "outcome=parenting behaviour",
            "-o",
            "x"
        ]
    );
}
