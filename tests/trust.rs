//! Issue 25, "numbers a reviewer can trust": inputs on which tau used to
//! refuse, hang or answer differently from metafor and clubSandwich. Each
//! test names where its expected values come from.

use serde_json::Value;

use crate::util::temp::TempDir;
use crate::util::{tau, without_provenance};

fn json_of(args: &[&str]) -> Value {
    let out = tau()
        .args(args)
        .args(["--format", "json"])
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "tau {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    without_provenance(&out.stdout)
}

/// Eight effects in four sites; `sites` is how each record writes its site.
fn grouped_csv(sites: [&str; 8]) -> String {
    let yi = [0.12, 0.35, -0.05, 0.41, 0.22, 0.30, 0.05, 0.18];
    let vi = [0.02, 0.03, 0.025, 0.04, 0.015, 0.035, 0.02, 0.03];
    let mut csv = String::from("study,es,site,yi,vi\n");
    for i in 0..8 {
        csv.push_str(&format!(
            "S{},{},{},{},{}\n",
            i / 2,
            i + 1,
            sites[i],
            yi[i],
            vi[i]
        ));
    }
    csv
}

/// R's `factor(c(0, -0))` has one level, and `factor(c(1, 1.0))` too: a
/// site written `0` in some records and `-0.0` in others is one cluster, one
/// random-effects unit and one subgroup, exactly as if every record wrote `0`.
#[test]
fn minus_zero_and_zero_are_one_group() {
    let (mixed, plain) = (TempDir::new("minus-zero"), TempDir::new("plus-zero"));
    let mixed = mixed.path("sites.csv");
    let plain = plain.path("sites.csv");
    std::fs::write(
        &mixed,
        grouped_csv(["0", "-0.0", "-0", "1.0", "1", "1", "2", "2.0"]),
    )
    .expect("writes");
    std::fs::write(
        &plain,
        grouped_csv(["0", "0", "0", "1", "1", "1", "2", "2"]),
    )
    .expect("writes");
    for args in [
        &["pool", "--robust", "site"][..],
        &["pool", "--random", "site/es"],
        &["subgroup", "--by", "site"],
    ] {
        let run = |file: &str| {
            let mut all = vec![args[0], file];
            all.extend(&args[1..]);
            json_of(&all)
        };
        let (from_mixed, from_plain) = (run(&mixed), run(&plain));
        assert_eq!(from_mixed, from_plain, "{args:?}");
    }
    let robust = json_of(&["pool", &mixed, "--robust", "site"]);
    assert_eq!(robust["robust"]["clusters"], 3, "{robust}");
}
