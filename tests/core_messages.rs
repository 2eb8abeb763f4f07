//! No string literal of tau-core names a command-line flag: the core's
//! messages (errors, warnings, report lines) name a setting by its field in
//! backticks (`` `max_iter` ``), and each front end writes it in its own
//! words (the CLI its flag, through `src/cli/fields.rs`; the page its
//! control). A flag in the core would reach the page's readers, who have no
//! flags.

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The string literals of Rust source `text` with the line each starts on:
/// plain, byte and raw strings; comments, character literals and lifetimes
/// are skipped.
fn string_literals(text: &str) -> Vec<(usize, String)> {
    let chars: Vec<char> = text.chars().collect();
    let at = |i: usize| chars.get(i).copied().unwrap_or('\0');
    let is_ident = |c: char| c.is_alphanumeric() || c == '_';
    let mut out = Vec::new();
    let (mut i, mut line) = (0, 1);
    while i < chars.len() {
        let c = chars[i];
        if c == '\n' {
            line += 1;
            i += 1;
        } else if c == '/' && at(i + 1) == '/' {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && at(i + 1) == '*' {
            i += 2;
            while i < chars.len() && !(chars[i] == '*' && at(i + 1) == '/') {
                line += usize::from(chars[i] == '\n');
                i += 1;
            }
            i += 2;
        } else if c == '\'' {
            // A character literal ('"', '\'', '\u{60}') or a lifetime ('a).
            if at(i + 1) == '\\' {
                i += 2;
                while i < chars.len() && chars[i] != '\'' {
                    i += 1;
                }
                i += 1;
            } else if at(i + 2) == '\'' {
                i += 3;
            } else {
                i += 1;
            }
        } else if (c == 'r' || c == 'b') && (i == 0 || !is_ident(chars[i - 1])) {
            // b"…", r"…", r#"…"#, br#"…"#, or an identifier starting with r or b.
            let mut j = i + 1;
            if c == 'b' && at(j) == 'r' {
                j += 1;
            }
            let raw = c == 'r' || at(i + 1) == 'r';
            let mut hashes = 0;
            while raw && at(j) == '#' {
                hashes += 1;
                j += 1;
            }
            if at(j) != '"' {
                i += 1;
                continue;
            }
            let start = line;
            let (literal, end) = if raw {
                let close: String = std::iter::once('"')
                    .chain(std::iter::repeat_n('#', hashes))
                    .collect();
                let body: String = chars[j + 1..].iter().collect();
                let length = body.find(&close).unwrap_or(body.len());
                let literal: String = body[..length].to_owned();
                let end = j + 1 + literal.chars().count() + close.chars().count();
                (literal, end)
            } else {
                quoted(&chars, j)
            };
            line += literal.matches('\n').count();
            out.push((start, literal));
            i = end;
        } else if c == '"' {
            let (literal, end) = quoted(&chars, i);
            out.push((line, literal.clone()));
            line += literal.matches('\n').count();
            i = end;
        } else {
            i += 1;
        }
    }
    out
}

/// The escaped string that opens at `chars[open]` (a `"`), and the index
/// after its closing quote.
fn quoted(chars: &[char], open: usize) -> (String, usize) {
    let mut literal = String::new();
    let mut i = open + 1;
    while i < chars.len() && chars[i] != '"' {
        if chars[i] == '\\' {
            literal.push(chars[i]);
            i += 1;
        }
        if let Some(&c) = chars.get(i) {
            literal.push(c);
        }
        i += 1;
    }
    (literal, i + 1)
}

/// The first flag (`--word`) that `literal` names, if any.
fn flag_in(literal: &str) -> Option<&str> {
    literal.match_indices("--").find_map(|(at, _)| {
        let before = literal[..at].chars().next_back();
        let after = &literal[at + 2..];
        let starts_word = after.starts_with(|c: char| c.is_ascii_lowercase());
        let free = before.is_none_or(|c| !(c.is_alphanumeric() || c == '-' || c == '_'));
        (starts_word && free).then(|| {
            let end = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
                .unwrap_or(after.len());
            &literal[at..at + 2 + end]
        })
    })
}

#[test]
fn no_core_string_literal_names_a_flag() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("crates/tau-core/src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut found = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        for (line, literal) in string_literals(&text) {
            if let Some(flag) = flag_in(&literal) {
                let shown = file.strip_prefix(&src).unwrap().display();
                found.push(format!("  {shown}:{line}: {flag} in {literal:?}"));
            }
        }
    }
    assert!(
        found.is_empty(),
        "tau-core names flags; write the field in backticks instead (`max_iter`, \
         named by the front end: src/cli/fields.rs):\n{}",
        found.join("\n")
    );
}

#[test]
fn the_reader_finds_literals_and_flags() {
    let source = r##"
        // "--comment" is not a literal
        let a = '"'; let b: &'static str = "one --max-iter";
        /* "--block" */ let c = r#"raw "--fit-only""#; let d = b"--k";
        let e = "escaped \" --sep"; let f = "a-b --c---- x--y ---";
    "##;
    let literals = string_literals(source);
    let flags: Vec<Option<&str>> = literals.iter().map(|(_, l)| flag_in(l)).collect();
    assert_eq!(
        flags,
        [
            Some("--max-iter"),
            Some("--fit-only"),
            Some("--k"),
            Some("--sep"),
            Some("--c----")
        ]
    );
    assert_eq!(string_literals(source)[0].0, 3);
}
