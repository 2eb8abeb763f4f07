//! Snapshots of the reports of `tau` on studies/bcg.json (metadat's
//! dat.bcg), in every format: they pin the exact bytes, so a change in how a
//! report is laid out shows up as a reviewable diff. The numbers themselves
//! are checked against metafor elsewhere (metafor_pool, metafor_moderators,
//! metafor_bias).

use crate::util::tau;

/// Standard output of `tau ARGS`, which must succeed.
fn report(args: &[&str]) -> String {
    let out = tau().args(args).output().unwrap();
    assert!(
        out.status.success(),
        "tau {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

const BCG: &str = "studies/bcg.json";

/// The analyses, named for their snapshots.
const ANALYSES: &[(&str, &[&str])] = &[
    ("pool", &["pool", BCG]),
    (
        "pool_dl_knha",
        &["pool", BCG, "--method", "DL", "--test", "knha"],
    ),
    ("subgroup", &["subgroup", BCG, "--by", "alloc"]),
    (
        "subgroup_common",
        &["subgroup", BCG, "--by", "alloc", "--tau2", "common"],
    ),
    ("regress", &["regress", BCG, "--mods", "ablat,year"]),
    ("regress_factor", &["regress", BCG, "--mods", "alloc"]),
    ("leave_one_out", &["leave-one-out", BCG]),
    ("cumulative", &["cumulative", BCG]),
    ("influence", &["influence", BCG]),
];

#[test]
fn text_reports() {
    for (name, args) in ANALYSES {
        insta::assert_snapshot!(format!("{name}_text"), report(args));
    }
    insta::assert_snapshot!("bias_text", report(&["bias", BCG]));
}

#[test]
fn json_reports() {
    for (name, args) in ANALYSES {
        let mut args = args.to_vec();
        args.extend(["--format", "json"]);
        insta::assert_snapshot!(format!("{name}_json"), report(&args));
    }
    insta::assert_snapshot!("bias_json", report(&["bias", BCG, "--format", "json"]));
}

#[test]
fn csv_reports() {
    for (name, args) in ANALYSES {
        let mut args = args.to_vec();
        args.extend(["--format", "csv"]);
        insta::assert_snapshot!(format!("{name}_csv"), report(&args));
    }
}

#[test]
fn simulate_reports() {
    for format in ["text", "json", "csv"] {
        let args = [
            "simulate",
            "--k",
            "5",
            "--tau2",
            "0.1",
            "--reps",
            "50",
            "--seed",
            "7",
            "--methods",
            "REML,DL",
            "--test",
            "z,knha",
            "--threads",
            "1",
            "--format",
            format,
        ];
        insta::assert_snapshot!(format!("simulate_{format}"), report(&args));
    }
}
