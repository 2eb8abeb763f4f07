//! docs/src/errors.md shows real messages: every ```console block there starts
//! with `$ tau ...`, and the rest of the block must be exactly what that
//! command prints on standard error (run from the repository root).
//!
//! After changing a message, regenerate the examples with
//! `TAU_UPDATE_DOCS=1 cargo test --test errors_doc` and review the diff.

use crate::util::tau;

const DOC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/src/errors.md");

/// A console block: the line index of its command, the command, and the output shown.
struct Example {
    command_line: usize,
    args: Vec<String>,
    shown: String,
}

fn examples(doc: &str) -> Vec<Example> {
    let lines: Vec<&str> = doc.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if lines[i].trim_end() == "```console" {
            let command_line = i + 1;
            let command = lines[command_line]
                .strip_prefix("$ tau ")
                .unwrap_or_else(|| {
                    panic!(
                        "docs/src/errors.md:{}: a console block starts with `$ tau`",
                        command_line + 1
                    )
                });
            let end = (command_line..lines.len())
                .find(|&j| lines[j].trim_end() == "```")
                .expect("closed block");
            out.push(Example {
                command_line,
                args: command.split_whitespace().map(str::to_owned).collect(),
                shown: lines[command_line + 1..end]
                    .iter()
                    .map(|l| format!("{l}\n"))
                    .collect(),
            });
            i = end;
        }
        i += 1;
    }
    out
}

fn stderr_of(args: &[String]) -> String {
    let output = tau()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .output()
        .expect("runs");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn error_examples_are_current() {
    let doc = std::fs::read_to_string(DOC).expect("docs/src/errors.md");
    let examples = examples(&doc);
    assert!(examples.len() >= 30, "only {} examples", examples.len());
    let update = std::env::var_os("TAU_UPDATE_DOCS").is_some();
    let mut lines: Vec<String> = doc.lines().map(str::to_owned).collect();
    let mut stale = Vec::new();
    // From the last block up, so that rewriting one keeps earlier line numbers valid.
    for example in examples.iter().rev() {
        let actual = stderr_of(&example.args);
        if actual != example.shown {
            stale.push(format!(
                "docs/src/errors.md:{}: `tau {}` now prints:\n{actual}",
                example.command_line + 1,
                example.args.join(" ")
            ));
            let shown_lines = example.shown.lines().count();
            let start = example.command_line + 1;
            lines.splice(
                start..start + shown_lines,
                actual.lines().map(str::to_owned),
            );
        }
    }
    if update && !stale.is_empty() {
        std::fs::write(DOC, lines.join("\n") + "\n").expect("write docs/src/errors.md");
        return;
    }
    assert!(
        stale.is_empty(),
        "{} stale examples (TAU_UPDATE_DOCS=1 rewrites them):\n{}",
        stale.len(),
        stale.join("\n")
    );
}
