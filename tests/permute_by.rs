//! `tau regress --permutations N --permute-by CLUSTER`: the permutation test
//! of a cluster-level moderator, permuting whole clusters.
//!
//! Expected values: tests/fixtures/permute_by.json, written by
//! tests/fixtures/generate_permute_by.R (metafor 3.8.1): `rma(yi, vi, mods =
//! ~ type)` refitted for every distinct assignment of the 10 clusters'
//! `type` to the clusters (252), p-values as metafor's permutest counts them
//! (metafor itself permutes rows only). The p-values are fractions of 252,
//! so they agree exactly (relative 1e-12).

use crate::util::prec::close_to;
use serde_json::Value;

const FILE: &str = "tests/fixtures/bornmann2007_permute.json";

#[test]
fn permuting_clusters_matches_the_enumeration_in_r() {
    let expected: Value = crate::util::fixture("permute_by.json");
    let output = crate::util::tau()
        .args([
            "regress",
            FILE,
            "--mods",
            "type",
            "--permutations",
            "1000",
            "--permute-by",
            "study",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let tau: Value = serde_json::from_slice(&output.stdout).unwrap();
    let permutation = &tau["permutation"];
    assert_eq!(permutation["exact"], true, "{permutation}");
    assert_eq!(permutation["iterations"], expected["arrangements"]);
    assert_eq!(permutation["by"], "study");
    let pairs = [(
        permutation["QM_p"].as_f64().unwrap(),
        expected["QM_p"].as_f64().unwrap(),
    )]
    .into_iter()
    .chain((0..2).map(|j| {
        (
            permutation["p"][j].as_f64().unwrap(),
            expected["p"][j].as_f64().unwrap(),
        )
    }));
    for (actual, expected) in pairs {
        assert!(close_to(actual, expected, 1e-12), "{actual} vs {expected}");
    }
}

#[test]
fn a_moderator_that_varies_within_a_cluster_is_refused() {
    let output = crate::util::tau()
        .args([
            "regress",
            "tests/fixtures/bornmann2007_studies.json",
            "--mods",
            "obs",
            "--permutations",
            "100",
            "--permute-by",
            "study",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("constant within a cluster"), "{stderr}");
    assert!(stderr.contains("--permute-by"), "{stderr}");
}

#[test]
fn permute_by_needs_permutations_and_a_regression() {
    for args in [
        &[
            "regress",
            FILE,
            "--mods",
            "type",
            "--robust",
            "study",
            "--permutations",
            "100",
        ][..],
        &[
            "subgroup",
            FILE,
            "--by",
            "type",
            "--robust",
            "study",
            "--permutations",
            "100",
        ][..],
    ] {
        let output = crate::util::tau().args(args).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("--permutations"), "{args:?}: {stderr}");
    }
}

/// Records sharing a label whose moderators are constant within each label
/// (a cluster-level moderator): permuting records draws a warning that
/// names the flag which permutes clusters; permuting clusters does not, nor
/// does a moderator that varies within clusters.
#[test]
fn permuting_records_of_a_cluster_level_moderator_warns() {
    let csv = "study,yi,vi,x,z\nA,0.1,0.01,1,1\nA,0.3,0.02,1,0\nB,0.5,0.01,0,1\nB,0.2,0.03,0,0\nC,0.4,0.02,1,1\nC,0.6,0.01,1,0\nD,0.0,0.02,0,1\nD,0.1,0.02,0,0\nE,0.3,0.01,1,1\nF,0.2,0.02,0,0\n";
    let run = |args: &[&str]| {
        let output = crate::util::tau()
            .args(["regress", "-", "--permutations", "200", "--seed", "1"])
            .args(args)
            .write_stdin(csv)
            .output()
            .unwrap();
        assert!(output.status.success(), "{args:?}");
        String::from_utf8_lossy(&output.stderr).into_owned()
    };
    let warning = "--permute-by study permutes whole clusters";
    assert!(run(&["--mods", "x"]).contains(warning));
    assert!(!run(&["--mods", "x", "--permute-by", "study"]).contains(warning));
    assert!(!run(&["--mods", "z"]).contains(warning));
}
