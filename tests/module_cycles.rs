//! tau-core's top-level modules import each other without a cycle: the
//! numerics ground floor at the bottom, then input, effect sizes, models,
//! warnings, data, the analyses, and the reports on top. A cycle means two
//! modules that can only be understood (and changed) together.
//!
//! The test reads the core's sources and collects, per top-level module
//! (`pool.rs`, `model/`, …), every `crate::X` path outside comments,
//! including `crate::{X, Y::Z}` groups and names that lib.rs re-exports
//! (`crate::Warning` is `warning`). Imports within a module use `super::`
//! and never climb out of it, so `crate::` paths are every edge.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Module → the modules it imports → the files that import it.
type Graph = BTreeMap<String, BTreeMap<String, BTreeSet<String>>>;

fn core_src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("crates/tau-core/src")
}

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

/// The text without `//` comments (doc comments link freely across layers).
fn without_comments(text: &str) -> String {
    text.lines()
        .map(|line| match line.find("//") {
            Some(at) => &line[..at],
            None => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// The first segment of every path that follows `crate::` in `text`.
fn crate_paths(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (at, _) in text.match_indices("crate::") {
        if text[..at].ends_with(|c: char| is_ident(c)) {
            continue; // `tau_crate::`, not ours
        }
        let rest = &text[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // `crate::{a, b::c, d::{e, f}}`: the first segment of each item.
            let mut depth = 0;
            let mut item = String::new();
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        out.push(first_segment(&item));
                        item.clear();
                        continue;
                    }
                    _ => {}
                }
                item.push(c);
            }
            out.push(first_segment(&item));
        } else {
            out.push(first_segment(rest));
        }
    }
    out.retain(|s| !s.is_empty());
    out
}

fn first_segment(path: &str) -> String {
    path.trim_start()
        .chars()
        .take_while(|&c| is_ident(c))
        .collect()
}

/// Names that lib.rs re-exports (`pub use warning::Warning;`) → their module.
fn reexports(lib: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for statement in without_comments(lib).split(';') {
        let Some(path) = statement.trim().strip_prefix("pub use ") else {
            continue;
        };
        let Some((module, names)) = path.split_once("::") else {
            continue;
        };
        for name in names
            .split(|c: char| !is_ident(c))
            .filter(|n| !n.is_empty())
        {
            out.insert(name.to_owned(), module.to_owned());
        }
    }
    out
}

fn graph() -> Graph {
    let src = core_src();
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let top = |path: &Path| -> String {
        let relative = path.strip_prefix(&src).unwrap();
        let first = relative.components().next().unwrap();
        let name = first.as_os_str().to_str().unwrap();
        name.strip_suffix(".rs").unwrap_or(name).to_owned()
    };
    let modules: BTreeSet<String> = files.iter().map(|f| top(f)).collect();
    let lib = std::fs::read_to_string(src.join("lib.rs")).unwrap();
    let renamed = reexports(&lib);
    let mut graph = Graph::new();
    for file in &files {
        let from = top(file);
        if from == "lib" {
            continue;
        }
        let text = without_comments(&std::fs::read_to_string(file).unwrap());
        for segment in crate_paths(&text) {
            let to = renamed.get(&segment).cloned().unwrap_or(segment);
            if to != from && modules.contains(&to) {
                let shown = file.strip_prefix(&src).unwrap().display().to_string();
                graph
                    .entry(from.clone())
                    .or_default()
                    .entry(to)
                    .or_default()
                    .insert(shown);
            }
        }
    }
    graph
}

/// A cycle of `graph` as its modules in order (first repeated last), if any.
fn find_cycle(graph: &Graph) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &Graph,
        done: &mut BTreeSet<String>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            let mut cycle = path[at..].to_vec();
            cycle.push(node.to_owned());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flat_map(|edges| edges.keys()) {
            if let Some(cycle) = visit(next, graph, done, path) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|node| visit(node, graph, &mut done, &mut Vec::new()))
}

#[test]
fn tau_core_modules_form_no_cycle() {
    let graph = graph();
    if let Some(cycle) = find_cycle(&graph) {
        let edges: Vec<String> = cycle
            .windows(2)
            .map(|pair| {
                format!(
                    "  {} -> {}: {:?}",
                    pair[0], pair[1], graph[&pair[0]][&pair[1]]
                )
            })
            .collect();
        panic!(
            "tau-core's modules import each other in a cycle:\n{}",
            edges.join("\n")
        );
    }
}

#[test]
fn numerics_imports_nothing_of_tau() {
    let graph = graph();
    assert_eq!(
        graph.get("numerics"),
        None,
        "the ground floor imports tau modules"
    );
}

#[test]
fn the_reader_sees_paths_and_groups() {
    let text = "use crate::model::{A, B};\nuse crate::{data::x, warning::{W, V}, Kinded};\nlet z = crate::pool::f();";
    assert_eq!(
        crate_paths(text),
        ["model", "data", "warning", "Kinded", "pool"]
    );
    let mut graph = Graph::new();
    graph
        .entry("a".into())
        .or_default()
        .entry("b".into())
        .or_default();
    graph
        .entry("b".into())
        .or_default()
        .entry("a".into())
        .or_default();
    assert_eq!(find_cycle(&graph).unwrap(), ["a", "b", "a"]);
}
