//! Every command's `--help` opens with the text `tau --help` lists for it.
//! The commands' flags are defined only when they run (clap's `defer`, for
//! start-up time), so this guards against a flag struct's text replacing
//! the command's own.

use crate::util::tau;

/// The (command, first line of its about) pairs that `tau --help` lists.
fn listed() -> Vec<(String, String)> {
    let out = tau().arg("--help").output().expect("tau runs");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| {
            let (name, about) = l.trim().split_once(' ')?;
            Some((name.to_owned(), about.trim().to_owned()))
        })
        .filter(|(name, _)| name != "help")
        .collect()
}

#[test]
fn every_command_help_opens_with_its_listed_about() {
    let commands = listed();
    assert!(
        commands.len() >= 18,
        "tau --help lists the commands: {commands:?}"
    );
    for (name, about) in commands {
        let out = tau()
            .args([name.as_str(), "--help"])
            .output()
            .expect("tau runs");
        assert!(out.status.success(), "tau {name} --help");
        let text = String::from_utf8_lossy(&out.stdout);
        let first = text.lines().next().unwrap_or_default();
        assert!(
            first.starts_with(about.trim_end_matches('.')),
            "tau {name} --help opens with {first:?}, but tau --help lists {about:?}"
        );
    }
}

#[test]
fn completions_and_man_page_know_every_flag() {
    // The deferred flags must still reach the generated scripts.
    let out = tau()
        .args(["completions", "bash"])
        .output()
        .expect("tau runs");
    let script = String::from_utf8_lossy(&out.stdout);
    for flag in [
        "--random",
        "--robust",
        "--permute-by",
        "--average",
        "--steps",
    ] {
        assert!(script.contains(flag), "bash completions lack {flag}");
    }
    let out = tau().arg("man").output().expect("tau runs");
    assert!(String::from_utf8_lossy(&out.stdout).contains("pool"));
}
