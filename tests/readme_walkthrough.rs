//! The README's and the book's examples run exactly as printed.
//!
//! Every ```text block in README.md and in the book's pages (every `.md`
//! file under docs/src/) whose first line is `$ tau ...` is a command and what
//! it prints (standard error, then standard output, as a terminal shows them:
//! warnings come before the report). The test runs each command in a scratch
//! folder that holds links to this repository's `studies/` and `tests/`, so
//! that paths print as written and files the command writes (`-o`, `--plot`)
//! land there, and requires the printed text to match exactly. A ```text
//! block that starts with `$ ` but not with `$ tau ` is refused: every
//! command the documentation shows is run.
//!
//! After a deliberate change of output, regenerate the blocks with
//! `TAU_UPDATE_DOCS=1 cargo test --test tests readme_walkthrough` and review
//! the diff (`TAU_UPDATE_README=1` works too).

use crate::util::tau;
use std::path::{Path, PathBuf};

const FENCE: &str = "```";

/// The book's pages, under the repository root.
const BOOK: &str = "docs/src";

/// Each command's reference page, and the subcommand it must show running.
const COMMAND_PAGES: [(&str, &str); 15] = [
    ("commands/pool.md", "pool"),
    ("commands/subgroup.md", "subgroup"),
    ("commands/regress.md", "regress"),
    ("commands/compare.md", "compare"),
    ("commands/bubble.md", "bubble"),
    ("commands/forest.md", "forest"),
    ("commands/funnel.md", "funnel"),
    ("commands/schema.md", "schema"),
    ("commands/simulate.md", "simulate"),
    ("commands/bias.md", "bias"),
    ("commands/selection.md", "selection"),
    ("commands/leave-one-out.md", "leave-one-out"),
    ("commands/cumulative.md", "cumulative"),
    ("commands/influence.md", "influence"),
    ("commands/baujat.md", "baujat"),
];

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

/// A command block: the line range of its output in its page, the command and the expected output.
struct Example {
    first_output_line: usize,
    end_line: usize,
    command: String,
    expected: String,
}

/// The command blocks of one page (`name` is its path, for messages).
fn examples(page: &str, name: &str) -> Vec<Example> {
    let lines: Vec<&str> = page.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let command = lines.get(i + 1).filter(|l| l.starts_with("$ "));
        if let (true, Some(command)) = (lines[i] == format!("{FENCE}text"), command) {
            assert!(
                command.starts_with("$ tau "),
                "{name}:{}: a text block that shows a command runs `tau` (write other commands in a sh block)",
                i + 2
            );
            let end = (i + 2..lines.len())
                .find(|&j| lines[j] == FENCE)
                .unwrap_or_else(|| panic!("{name}:{}: the block is not closed", i + 1));
            let expected: String = lines[i + 2..end].iter().map(|l| format!("{l}\n")).collect();
            out.push(Example {
                first_output_line: i + 2,
                end_line: end,
                command: command[2..].to_owned(),
                expected,
            });
            i = end;
        }
        i += 1;
    }
    out
}

/// README.md and every page of the book, in a fixed order.
fn documents(root: &Path) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        for entry in entries {
            let entry = entry.expect("directory entry");
            let path = entry.path();
            // Not through links: docs/src/plots is a link to the figures.
            let kind = entry.file_type().expect("file type");
            if kind.is_dir() {
                walk(&path, out);
            } else if kind.is_file() && path.extension().is_some_and(|e| e == "md") {
                out.push(path);
            }
        }
    }
    let mut pages = Vec::new();
    walk(&root.join(BOOK), &mut pages);
    pages.sort();
    let mut all = vec![root.join("README.md")];
    all.extend(pages);
    all
}

/// A scratch folder with links to the repository's inputs.
fn scratch_folder(root: &Path) -> PathBuf {
    let scratch = std::env::temp_dir().join(format!("tau-docs-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).expect("scratch folder");
    for inputs in ["studies", "tests"] {
        let link = scratch.join(inputs);
        if !link.exists() {
            #[cfg(unix)]
            std::os::unix::fs::symlink(root.join(inputs), &link).expect("link to the inputs");
            #[cfg(windows)]
            std::os::windows::fs::symlink_dir(root.join(inputs), &link)
                .expect("link to the inputs");
        }
    }
    scratch
}

/// Runs `command` in `scratch` and returns what it printed, standard error first.
fn run(command: &str, scratch: &Path, page: &str) -> String {
    let words = split_words(command);
    assert_eq!(words[0], "tau", "{page}: {command}");
    let output = tau()
        .current_dir(scratch)
        .args(&words[1..])
        .output()
        .expect("runs");
    assert!(
        output.status.success(),
        "{page}: the documented command failed: {command}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    for (flag, file) in words.iter().zip(words.iter().skip(1)) {
        if flag == "-o" || flag == "--plot" {
            assert!(
                scratch.join(file).is_file(),
                "{page}: `{command}` wrote no {file}"
            );
        }
    }
    let mut printed = String::from_utf8_lossy(&output.stderr).into_owned();
    printed.push_str(&String::from_utf8_lossy(&output.stdout));
    // Trailing blank lines are not visible in a block.
    let trimmed = printed.trim_end();
    if trimmed.is_empty() {
        String::new()
    } else {
        format!("{trimmed}\n")
    }
}

/// Runs one page's examples; returns the mismatches, after rewriting the
/// page with the actual output when `update` is set.
fn check_page(path: &Path, root: &Path, scratch: &Path, update: bool) -> Vec<String> {
    let name = path
        .strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string();
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{name}: {e}"));
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let mut mismatches = Vec::new();
    // Backwards, so that replacing a block keeps earlier line numbers valid.
    for example in examples(&text, &name).iter().rev() {
        let actual = run(&example.command, scratch, &name);
        if actual != example.expected {
            mismatches.push(format!(
                "{name}:{}: $ {}\n--- documented\n{}--- actual\n{}",
                example.first_output_line, example.command, example.expected, actual
            ));
            lines.splice(
                example.first_output_line..example.end_line,
                actual.lines().map(str::to_owned),
            );
        }
    }
    if update && !mismatches.is_empty() {
        std::fs::write(path, lines.join("\n") + "\n").expect("page written");
    }
    mismatches
}

#[test]
fn readme_and_book_examples_run_as_printed() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let scratch = scratch_folder(&root);
    let update = std::env::var_os("TAU_UPDATE_DOCS").is_some()
        || std::env::var_os("TAU_UPDATE_README").is_some();
    let documents = documents(&root);
    // One thread per page: the commands of a page run in order, pages side by side.
    let mismatches: Vec<String> = std::thread::scope(|s| {
        let handles: Vec<_> = documents
            .iter()
            .map(|path| s.spawn(|| check_page(path, &root, &scratch, update)))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("a page's examples ran"))
            .collect()
    });
    std::fs::remove_dir_all(&scratch).ok();
    assert!(
        update || mismatches.is_empty(),
        "documented output differs (TAU_UPDATE_DOCS=1 regenerates it):\n{}",
        mismatches.join("\n")
    );
}

/// Every documented command is one the test runs: the tutorial and each
/// command's page show it running, and the README has its worked example.
#[test]
fn every_command_page_shows_its_command_running() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let read = |page: &str| {
        let path = root.join(page);
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{page}: {e}"));
        examples(&text, page)
    };
    assert!(!read("README.md").is_empty(), "README.md runs no example");
    let tutorial = read(&format!("{BOOK}/tutorial.md"));
    assert!(tutorial.len() >= 10, "the tutorial runs {}", tutorial.len());
    for (page, command) in COMMAND_PAGES {
        let page = format!("{BOOK}/{page}");
        let shown = read(&page)
            .iter()
            .any(|e| split_words(&e.command).get(1).map(String::as_str) == Some(command));
        assert!(shown, "{page} shows no `tau {command}` running");
    }
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
