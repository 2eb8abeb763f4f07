//! Issue 25, "numbers a reviewer can trust": inputs on which tau used to
//! refuse, hang or answer differently from metafor and clubSandwich. Each
//! test names where its expected values come from.

use serde_json::Value;

use crate::util::prec::close_to;
use crate::util::temp::TempDir;
use crate::util::{fixture, tau, without_provenance};

/// End to end through a multilevel fit: metafor stops its optimiser at
/// rel.tol 1e-10 in the log-likelihood, which pins σ̂² (and every number
/// after it) only to about 1e-6 to 1e-5 relative (as
/// tests/metafor_robust_multilevel.rs).
const END_TO_END: f64 = 1e-5;

/// The case `id` of tests/fixtures/trust.json (tests/fixtures/generate_trust.R,
/// metafor 3.8.1, clubSandwich 0.5.8, metadat 1.2.0), its data written to `dir`.
fn case(id: &str, dir: &TempDir) -> (Value, String) {
    let fx: Value = fixture("trust.json");
    let case = fx["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .find(|c| c["id"] == id)
        .expect("case")
        .clone();
    let path = dir.path(&format!("{id}.json"));
    std::fs::write(&path, case["data"].to_string()).expect("writes");
    (case, path)
}

/// Collects every mismatch of a case before failing.
struct Checks {
    case: String,
    tolerance: f64,
    bad: Vec<String>,
}

impl Checks {
    fn new(case: &Value, tolerance: f64) -> Checks {
        Checks {
            case: case["call"].as_str().expect("call").to_owned(),
            tolerance,
            bad: Vec::new(),
        }
    }

    fn num(&mut self, what: &str, actual: &Value, expected: &Value) {
        match (actual.as_f64(), expected.as_f64()) {
            (Some(a), Some(e)) if close_to(a, e, self.tolerance) => {}
            (a, e) => self.bad.push(format!("{what} = {a:?}, R {e:?}")),
        }
    }

    fn done(self) {
        assert!(
            self.bad.is_empty(),
            "{}:\n{}",
            self.case,
            self.bad.join("\n")
        );
    }
}

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

/// A moderator level (Canada) in one study only makes that study's CR2 block
/// (I − H_jj) singular. clubSandwich answers, taking G_j^(−1/2) with its
/// `matrix_power` (eigenvalues ≤ 1e-12 → 0); tau refused. Expected:
/// `robust(rma.mv(yi, vi, mods = ~ country, random = ~ 1 | study/obs),
/// cluster = study, clubSandwich = TRUE)` on dat.bornmann2007.
#[test]
fn cr2_with_a_singular_block_matches_clubsandwich() {
    let dir = TempDir::new("cr2-singular");
    let (case, path) = case("cr2_singular", &dir);
    let r = json_of(&[
        "regress",
        &path,
        "--random",
        "study/obs",
        "--mods",
        "country",
        "--robust",
        "study",
    ]);
    let mut c = Checks::new(&case, END_TO_END);
    let coefficients = r["coefficients"].as_array().expect("coefficients");
    assert_eq!(coefficients.len(), 5);
    for (j, coefficient) in coefficients.iter().enumerate() {
        assert_eq!(coefficient["name"], case["names"][j]);
        c.num(
            &format!("beta[{j}]"),
            &coefficient["estimate"],
            &case["beta"][j],
        );
        for (key, r_key) in [
            ("se", "se"),
            ("df", "df"),
            ("p", "p"),
            ("ci_lower", "ci_lower"),
            ("ci_upper", "ci_upper"),
        ] {
            c.num(&format!("{key}[{j}]"), &coefficient[key], &case[r_key][j]);
        }
    }
    for key in ["QM", "QM_df2", "QM_p"] {
        c.num(key, &r[key], &case[key]);
    }
    c.done();
    assert_eq!(r["robust"]["type"], "CR2");
    let cluster = case["singular_cluster"].as_str().expect("cluster");
    let warned = r["warnings"]
        .as_array()
        .expect("warnings")
        .iter()
        .filter_map(Value::as_str)
        .any(|w| w.contains("CR2 adjustment (I - H_jj) is singular") && w.contains(cluster));
    assert!(warned, "no warning naming {cluster}: {}", r["warnings"]);
}

/// Every record in one study under `--random study/es`: the study level has
/// one unit. metafor fixes its σ² at 0 and answers; tau did not converge.
/// Expected: `rma.mv(yi, vi, random = ~ 1 | study/es)` on dat.bcg (log risk
/// ratios) with one study, its fitstats() (2 parameters) and
/// `confint(res, control = list(tol = 1e-12))`.
#[test]
fn a_level_with_one_unit_is_fixed_at_zero_as_metafor() {
    let dir = TempDir::new("one-unit");
    let (case, path) = case("one_unit_level", &dir);
    let r = json_of(&["pool", &path, "--random", "study/es"]);
    let mut c = Checks::new(&case, END_TO_END);
    assert_eq!(r["sigma2"][0], 0.0);
    c.num("sigma2[1]", &r["sigma2"][1], &case["sigma2"][1]);
    for key in ["estimate", "se", "ci_lower", "ci_upper"] {
        c.num(key, &r[key], &case[key]);
    }
    for key in ["logLik", "AIC", "BIC", "AICc"] {
        c.num(key, &r[key], &case[key]);
    }
    c.num(
        "sigma2_ci[1] lower",
        &r["sigma2_ci"][1][0],
        &case["sigma2_2_ci"][0],
    );
    c.num(
        "sigma2_ci[1] upper",
        &r["sigma2_ci"][1][1],
        &case["sigma2_2_ci"][1],
    );
    c.done();
    assert_eq!(r["sigma2_ci"][0], serde_json::json!([null, null]));
    assert_eq!(r["sigma2_at_zero"][0], false, "fixed, not estimated at 0");
    let warnings = r["warnings"].to_string();
    assert!(
        warnings.contains("level 'study' has a single unit") && warnings.contains("fixed at 0"),
        "{warnings}"
    );
    // The text says which σ² is fixed, as metafor's `fixed` column.
    let out = tau()
        .args(["pool", &path, "--random", "study/es"])
        .output()
        .expect("runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.lines()
            .any(|l| l.starts_with("sigma^2.1") && l.contains(" yes ") && l.contains("study")),
        "{text}"
    );
}

/// Effect sizes of one cluster, as a study file (`n` records).
fn one_cluster(n: usize) -> String {
    let studies: Vec<Value> = (0..n)
        .map(|i| {
            let x = i as f64;
            serde_json::json!({
                "study": format!("e{i}"),
                "yi": 0.2 + 0.3 * (0.37 * x).sin(),
                "vi": 0.01 + 0.09 * (0.5 + 0.5 * (1.3 * x).cos()),
                "moderators": {"lab": if i == 0 { "B" } else { "A" }, "es": i}
            })
        })
        .collect();
    serde_json::json!({ "studies": studies }).to_string()
}

/// With --rho each outermost cluster's covariance matrix is factorised whole
/// (O(n²) memory, O(n³) per evaluation): 20,000 effect sizes in one cluster
/// gave no answer in 30 s. tau now refuses a cluster past
/// `MAX_RHO_CLUSTER` (1000) at once, naming it and the limit.
#[test]
fn a_cluster_too_large_for_rho_is_refused_at_once() {
    let dir = TempDir::new("rho-size");
    let path = dir.path("big.json");
    std::fs::write(&path, one_cluster(20_000)).expect("writes");
    let started = std::time::Instant::now();
    let out = tau()
        .args(["pool", &path, "--random", "lab/es", "--rho", "0.5"])
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("cluster 'A' holds 19999 effect sizes") && stderr.contains("at most 1000"),
        "{stderr}"
    );
    assert!(
        started.elapsed().as_secs() < 30,
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(tau_core::multilevel::MAX_RHO_CLUSTER, 1000);
}

/// 200 cut-points on 2,000 studies ran for hours (the Hessian costs
/// O(k·cut-points³)); they are refused at once with the limit.
#[test]
fn two_hundred_cut_points_are_refused_at_once() {
    let dir = TempDir::new("many-steps");
    let path = dir.path("k2000.json");
    std::fs::write(&path, one_cluster(2_000)).expect("writes");
    let steps: Vec<String> = (1..=200).map(|j| format!("{}", j as f64 / 201.0)).collect();
    let started = std::time::Instant::now();
    let out = tau()
        .args(["selection", &path, "--steps", &steps.join(",")])
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("200 cut-points are too many") && stderr.contains("at most 30"),
        "{stderr}"
    );
    assert!(
        started.elapsed().as_secs() < 30,
        "took {:?}",
        started.elapsed()
    );
}

/// metafor users write `steps = c(.05, .1, .5, 1)`: the trailing 1 is the end
/// of the last interval, which metafor appends when it is missing; tau said
/// "the cut-point 1 makes no sense". Both spellings are one model.
#[test]
fn steps_with_a_trailing_one_are_metafors_steps() {
    let run = |steps: &str| {
        json_of(&[
            "selection",
            "studies/bcg.json",
            "--steps",
            steps,
            "--alternative",
            "less",
        ])
    };
    assert_eq!(run("0.05,0.1,0.5,1"), run("0.05,0.1,0.5"));
}

/// The beta selection model on dat.baskerville2012 (k = 23): metafor's optim
/// stops at τ² = 2.45e-6 (ℓ = −2.792404) and tau near there (ℓ = −2.792516,
/// with a Hessian that could not be inverted, so no SE at all). The
/// likelihood rises towards τ² = 0: tau now tries the fit with τ² = 0 when the
/// search ends below metafor's `tau2tol` = min(vᵢ/10, 1e-4), keeps it when it
/// is not worse, and takes the Hessian over β and δ alone (τ²'s SE is NA), as
/// current metafor does below `tau2tol`. Expected: `selmodel(rma(smd, se^2,
/// method = 'ML', tau2 = 0), type = 'beta', control = list(reltol = 1e-15))`.
#[test]
fn beta_selection_model_reaches_its_optimum_at_tau2_zero() {
    let dir = TempDir::new("beta-zero");
    let (case, path) = case("beta_at_zero", &dir);
    let r = json_of(&["selection", &path, "--type", "beta"]);
    let mut c = Checks::new(&case, crate::util::prec::RELATIVE);
    c.num("logLik", &r["log_likelihood"], &case["logLik"]);
    c.num("estimate", &r["estimate"], &case["estimate"]);
    c.num("se", &r["se"], &case["se"]);
    for j in 0..2 {
        c.num(&format!("delta[{j}]"), &r["delta"][j], &case["delta"][j]);
        c.num(
            &format!("delta_se[{j}]"),
            &r["delta_se"][j],
            &case["delta_se"][j],
        );
    }
    c.done();
    assert_eq!(r["tau2"], 0.0);
    assert_eq!(r["tau2_se"], Value::Null);
    let default_ll = case["metafor_default"]["logLik"].as_f64().expect("logLik");
    assert!(r["log_likelihood"].as_f64().expect("logLik") > default_ll);
    assert_eq!(r["warnings"], serde_json::json!([]));
}
