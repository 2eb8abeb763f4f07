//! `tau simulate`: reproducibility across thread counts, the performance
//! measures against a direct computation, failure accounting, and the CLI.

use crate::util::tau;
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::Value;
use tau_core::model::{Control, FitOptions, Method, Test, fit, intercept_design};
use tau_core::simulate::{
    BLOCK, Scenario, Settings, SimulationResult, simulate, simulate_with_progress,
};

fn settings(reps: u64) -> Settings {
    Settings {
        scenario: Scenario {
            mu: 0.4,
            tau2: 0.08,
            k: 6,
            n_min: 10,
            n_max: 60,
        },
        reps,
        methods: vec![Method::DL, Method::REML, Method::PM],
        tests: vec![Test::Z, Test::Knha],
        level: 90.0,
        seed: 20240601,
        control: Control::default(),
    }
}

fn run_on(threads: usize, settings: &Settings) -> SimulationResult {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("thread pool")
        .install(|| simulate(settings).expect("valid settings"))
}

#[test]
fn results_do_not_depend_on_the_thread_count() {
    // Several blocks, the last one partial.
    let s = settings(5 * BLOCK + 17);
    let one = run_on(1, &s);
    let two = run_on(2, &s);
    let three = run_on(3, &s);
    // PartialEq on f64: equal means bit-identical here (no NaN in these results).
    assert_eq!(one, two);
    assert_eq!(one, three);
}

#[test]
fn progress_reports_every_replicate() {
    let s = settings(2 * BLOCK + 5);
    let done = AtomicU64::new(0);
    simulate_with_progress(&s, &|n| {
        done.fetch_add(n, Ordering::Relaxed);
    })
    .expect("valid settings");
    assert_eq!(done.load(Ordering::Relaxed), s.reps);
}

/// The measures equal a direct, sequential computation from the same replicates.
#[test]
fn measures_match_a_direct_computation() {
    let s = settings(40);
    let result = simulate(&s).expect("valid settings");
    let x = intercept_design(s.scenario.k);
    let mut cell = 0;
    for &method in &s.methods {
        for &test in &s.tests {
            let options = FitOptions {
                method,
                test,
                level: s.level,
                control: s.control,
            };
            let (mut err, mut err2, mut t_err2, mut ci, mut pi) = (0.0, 0.0, 0.0, 0, 0);
            let (mut i2, mut null, mut q) = (0.0, 0, 0);
            let alpha = 1.0 - s.level / 100.0;
            for r in 0..s.reps {
                let data = s.scenario.draw(s.seed, r);
                let m = fit(&data.yi, &data.vi, &x, &options).expect("fit");
                let e = m.beta[0] - s.scenario.mu;
                err += e;
                err2 += e * e;
                t_err2 += (m.tau2 - s.scenario.tau2).powi(2);
                ci += usize::from(m.ci_lower[0] <= s.scenario.mu && s.scenario.mu <= m.ci_upper[0]);
                let half = m.crit * (m.se[0] * m.se[0] + m.tau2).sqrt();
                pi += usize::from((data.theta_new - m.beta[0]).abs() <= half);
                i2 += m.i2;
                null += usize::from(m.p_values[0] < alpha);
                q += usize::from(m.q_p < alpha);
            }
            let got = &result.results[cell];
            assert_eq!((got.method, got.test), (method, test));
            let p = &got.performance;
            let n = s.reps as f64;
            let close = |a: f64, b: f64| (a - b).abs() <= 1e-12 * b.abs().max(1.0);
            assert_eq!(p.fits, s.reps);
            assert_eq!(p.failed, 0);
            assert!(close(p.estimate.bias, err / n));
            assert!(close(p.estimate.rmse, (err2 / n).sqrt()));
            assert!(close(p.tau2.rmse, (t_err2 / n).sqrt()));
            assert!(close(p.ci_coverage.value, ci as f64 / n));
            assert!(close(p.pi_coverage.value, pi as f64 / n));
            assert!(close(p.i2.value, i2 / n));
            assert!(close(p.null_rejection.value, null as f64 / n));
            assert!(close(p.q_rejection.value, q as f64 / n));
            cell += 1;
        }
    }
}

#[test]
fn failed_fits_are_counted_not_dropped() {
    let mut s = settings(30);
    s.methods = vec![Method::DL, Method::REML];
    s.tests = vec![Test::Z];
    // One Fisher-scoring step is never enough: every REML fit fails.
    s.control.max_iter = 0;
    let result = simulate(&s).expect("valid settings");
    let dl = &result.results[0].performance;
    assert_eq!((dl.fits, dl.failed), (30, 0));
    let reml = &result.results[1].performance;
    assert_eq!((reml.fits, reml.failed), (0, 30));
    let first = reml.first_failure.as_ref().expect("failure recorded");
    assert_eq!(first.replicate, 0);
    assert!(
        first.message.contains("did not converge"),
        "{}",
        first.message
    );
    assert!(reml.ci_coverage.value.is_nan());
}

#[test]
fn bad_settings_are_rejected() {
    let mut s = settings(10);
    s.reps = 0;
    assert!(simulate(&s).is_err());
    let mut s = settings(10);
    s.methods.clear();
    assert!(simulate(&s).is_err());
    let mut s = settings(10);
    s.scenario.k = 1;
    assert!(simulate(&s).is_err());
}

#[test]
fn cli_writes_json_with_seed_settings_and_version() {
    let output = tau()
        .args([
            "simulate", "--k", "5", "--tau2", "0.1", "--mu", "-0.2", "--reps", "300",
        ])
        .args([
            "--methods",
            "dl,REML",
            "--test",
            "z,knha",
            "--seed",
            "7",
            "--threads",
            "2",
        ])
        .args(["--format", "json"])
        .output()
        .expect("runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let json: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(json["settings"]["seed"], 7);
    assert_eq!(json["settings"]["scenario"]["mu"], -0.2);
    assert_eq!(json["version"], env!("CARGO_PKG_VERSION"));
    let cells = json["results"].as_array().expect("results");
    assert_eq!(cells.len(), 4);
    assert_eq!(cells[3]["method"], "REML");
    assert_eq!(cells[3]["test"], "knha");
    assert_eq!(
        cells[3]["fits"].as_u64().expect("fits") + cells[3]["failed"].as_u64().expect("failed"),
        300
    );
    // The same seed gives the same report with one thread.
    let again = tau()
        .args([
            "simulate", "--k", "5", "--tau2", "0.1", "--mu", "-0.2", "--reps", "300",
        ])
        .args([
            "--methods",
            "DL,REML",
            "--test",
            "z,knha",
            "--seed",
            "7",
            "--threads",
            "1",
        ])
        .args(["--format", "json"])
        .output()
        .expect("runs");
    assert_eq!(
        crate::util::without_provenance(&output.stdout),
        crate::util::without_provenance(&again.stdout)
    );
}

#[test]
fn cli_text_report_and_bad_input() {
    tau()
        .args([
            "simulate", "--k", "4", "--tau2", "0", "--reps", "50", "--seed", "3",
        ])
        .assert()
        .success()
        .stdout(predicates::str::contains("CI cover"))
        .stdout(predicates::str::contains("seed 3"));
    tau()
        .args(["simulate", "--k", "1", "--tau2", "0.1"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("k must be at least 2"));
    tau()
        .args([
            "simulate", "--k", "5", "--tau2", "0.1", "--n-min", "50", "--n-max", "10",
        ])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("n-min <= n-max"));
    tau()
        .args(["simulate", "--k", "5", "--tau2", "-0.1"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "tau^2 must be a finite number >= 0",
        ));
}

/// `tau simulate` writes the paper formats its `--help` offers (issue 28),
/// in fixed-point decimals.
#[test]
fn paper_tables_in_fixed_point() {
    let args = [
        "simulate",
        "--k",
        "5",
        "--tau2",
        "0.1",
        "--reps",
        "300",
        "--seed",
        "4",
        "--methods",
        "DL,REML",
        "--test",
        "z,knha",
    ];
    let out = tau()
        .args(args)
        .args(["--format", "markdown", "--digits", "3"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0));
    let table = String::from_utf8_lossy(&out.stdout);
    for column in [
        "Mean I² (%)",
        "CI coverage (%)",
        "PI coverage (%)",
        "Reject Q (%)",
    ] {
        assert!(table.contains(column), "{column}: {table}");
    }
    assert_eq!(table.matches("| REML | knha |").count(), 1, "{table}");
    assert!(!table.contains("e-0") && !table.contains("e+0"), "{table}");
    let out = tau()
        .args(args)
        .args(["--format", "latex"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("\\begin{tabular}"));
}

/// Shards of a simulation (`--shard i/n`), merged in any order, give the
/// single run's JSON byte for byte (all but the provenance, which records
/// each run's own command line).
#[test]
fn sharded_and_merged_equals_the_single_run() {
    let dir = tempfile::tempdir().expect("temp dir");
    let args = [
        "simulate",
        "--k",
        "6",
        "--tau2",
        "0.08",
        "--mu",
        "0.4",
        "--reps",
        "1300",
        "--seed",
        "20240601",
        "--methods",
        "DL,REML,PM",
        "--test",
        "z,knha",
        "--level",
        "90",
    ];
    let single = tau()
        .args(args)
        .args(["--format", "json"])
        .output()
        .expect("runs");
    assert_eq!(single.status.code(), Some(0));
    let mut files = Vec::new();
    for index in [3, 1, 4, 2] {
        let file = dir.path().join(format!("shard{index}.json"));
        tau()
            .args(args)
            .args(["--shard", &format!("{index}/4"), "--threads", "2", "-o"])
            .arg(&file)
            .assert()
            .success();
        files.push(file);
    }
    let merged = tau()
        .args(["simulate", "merge", "--format", "json"])
        .args(&files)
        .output()
        .expect("runs");
    assert_eq!(
        merged.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&merged.stderr)
    );
    let result_part = |bytes: &[u8]| {
        let text = String::from_utf8_lossy(bytes).into_owned();
        let at = text.find("\"provenance\"").expect("provenance member");
        text[..at].to_owned()
    };
    assert_eq!(result_part(&merged.stdout), result_part(&single.stdout));
    // A shard missing, or one from another seed, is refused.
    tau()
        .args(["simulate", "merge"])
        .args(&files[..3])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("missing of 4: 2"));
    tau()
        .args(["simulate", "--k", "6", "--tau2", "0.08", "--shard", "1/2"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("--seed"));
}
