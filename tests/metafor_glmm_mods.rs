//! tau against metafor: GLMMs with moderators (issue 30), through the
//! command line (`tau regress FILE --mods x --glmm MODEL`).
//!
//! Expected values: tests/fixtures/glmm_mods.json, written by
//! tests/fixtures/generate_glmm_mods.R with metafor 3.8.1 / lme4 /
//! BiasedUrn: `rma.glmm(measure, ..., mods = ~ x, model = MODEL)` for OR
//! (UM.FS, CM.AL, CM.EL) on metadat's dat.bcg (ablat; alloc) and
//! dat.nielweise2007 (year), IRR (UM.FS, CM.EL) on dat.nielweise2008
//! (year), PLO on dat.bcg's vaccinated arms (ablat) and IRLN on
//! dat.nielweise2008's arms (year).
//!
//! Tolerances (see [`LME4`] and [`CM_EL`] for why): against lme4 pushed to
//! the end, coefficients to 1e-4 of the larger of |β| and its SE, SEs, CIs
//! and QM to 5e-4 to 1e-3, τ², I², H² and the heterogeneity tests to 1e-5,
//! logLik to 1e-6; against OR CM.EL with metafor's defaults (pushing it to
//! the end takes R hours) 1e-3 and 1e-2, and tau's log-likelihood, the
//! maximised one for this model, must be at least metafor's. (The lme4
//! models' logLik is metafor's `fit.stats` ll, the saturated
//! log-likelihood less half lme4's deviance at the conditional modes, which
//! is not what the fit maximises.)
//! Where metafor could not fit the saturated model (its glm or Hessian
//! failed), its QE_Wld is null and not compared.

use crate::util::prec::close_to;
use serde_json::{Value, json};

fn cases() -> Vec<Value> {
    let all: Value = crate::util::fixture("glmm_mods.json");
    all["cases"].as_array().unwrap().clone()
}

fn run(case: &Value, dir: &crate::util::temp::TempDir, index: usize) -> Value {
    let file = dir.path(&format!("case{index}.json"));
    let studies = json!({ "measure": case["measure"], "studies": case["studies"] });
    std::fs::write(&file, serde_json::to_vec(&studies).unwrap()).unwrap();
    let mods: Vec<String> = case["mods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap().to_owned())
        .collect();
    let out = crate::util::tau()
        .args(["regress", &file, "--mods", &mods.join(",")])
        .args([
            "--glmm",
            case["model"].as_str().unwrap(),
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}: {}",
        case["name"],
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn check(what: &str, got: f64, want: f64, tol: f64, failures: &mut Vec<String>) {
    if !close_to(got, want, tol) {
        failures.push(format!(
            "{what}: tau {got} vs metafor {want} (relative {:.2e}, tolerance {tol:e})",
            (got - want).abs() / want.abs().max(1e-6)
        ));
    }
}

/// Relative tolerances of one kind of reference.
struct Tolerances {
    /// Coefficients, relative to the larger of |β| and its SE.
    estimate: f64,
    /// SEs (z and QM twice it); CI bounds relative to the SE.
    se: f64,
    /// p-values.
    p: f64,
    /// τ², I², H².
    tau2: f64,
    /// QE_Wld, QE_LRT.
    qe: f64,
    /// logLik.
    log_lik: f64,
}

/// lme4 with bobyqa to rhoend 1e-12. Its SEs come from a finite-difference
/// Hessian good to about 1e-4 (its default and pushed fits differ by that
/// much: PLO bcg's intercept SE 0.760567 and 0.760511, tau's 0.760563),
/// and the fixed effects of the two-stage fit stop about 1e-5 of an SE
/// short; the heterogeneity tests rest on metafor's glm fits with
/// epsilon 1e-8 (2e-6 off).
const LME4: Tolerances = Tolerances {
    estimate: 1e-4,
    se: 5e-4,
    p: 2e-3,
    tau2: 1e-5,
    qe: 1e-5,
    log_lik: 1e-6,
};

/// OR CM.EL with metafor's defaults: the likelihood integrated to 1.2e-4,
/// numDeriv's Hessian of it (SEs up to 1% off), the saturated model's
/// Hessian by numDeriv after optim's default stop (QE_Wld 6e-4 off).
const CM_EL: Tolerances = Tolerances {
    estimate: 1e-3,
    se: 1e-2,
    p: 2e-2,
    tau2: 1e-2,
    qe: 1e-3,
    log_lik: 1e-3,
};

#[test]
fn glmm_moderators_match_rma_glmm() {
    let dir = crate::util::temp::TempDir::new("glmm-mods");
    let mut failures = Vec::new();
    for (index, case) in cases().iter().enumerate() {
        let got = run(case, &dir, index);
        let name = format!(
            "{} {} {}",
            case["name"].as_str().unwrap(),
            case["measure"].as_str().unwrap(),
            case["model"].as_str().unwrap()
        );
        let tight = case["tight"].as_bool().unwrap();
        let tol = if tight { LME4 } else { CM_EL };
        assert_eq!(got["k"], case["k"], "{name}: k");
        assert_eq!(got["QE_df"], case["QE_df"], "{name}: QE_df");
        let coefficients = got["coefficients"].as_array().unwrap();
        let want = |key: &str, j: usize| case[key][j].as_f64().unwrap();
        for (j, c) in coefficients.iter().enumerate() {
            let at = |key: &str| c[key].as_f64().unwrap();
            let label = format!("{name} {}", c["name"]);
            let se = want("se", j);
            // Estimates and CI bounds on the scale of their SE.
            for (key, theirs, t) in [
                ("estimate", "beta", tol.estimate),
                ("ci_lower", "ci_lb", tol.se),
                ("ci_upper", "ci_ub", tol.se),
            ] {
                let (g, w) = (at(key), want(theirs, j));
                if (g - w).abs() > t * w.abs().max(se) {
                    failures.push(format!(
                        "{label} {key}: tau {g} vs metafor {w} (se {se}, tolerance {t:e} of the larger)"
                    ));
                }
            }
            check(&format!("{label} se"), at("se"), se, tol.se, &mut failures);
            let z = want("zval", j);
            check(
                &format!("{label} statistic"),
                at("statistic"),
                z,
                tol.se * 2.0,
                &mut failures,
            );
            check(
                &format!("{label} p"),
                at("p"),
                want("pval", j),
                tol.p,
                &mut failures,
            );
        }
        let tau2 = case["tau2"].as_f64().unwrap();
        let g = |key: &str| got[key].as_f64().unwrap();
        if tau2 == 0.0 {
            // metafor reports 0 on the boundary; tau too.
            if g("tau2") != 0.0 {
                failures.push(format!("{name} tau2: tau {} vs metafor 0", g("tau2")));
            }
        } else {
            check(
                &format!("{name} tau2"),
                g("tau2"),
                tau2,
                tol.tau2,
                &mut failures,
            );
            check(
                &format!("{name} I2"),
                g("I2"),
                case["I2"].as_f64().unwrap(),
                tol.tau2,
                &mut failures,
            );
        }
        check(
            &format!("{name} H2"),
            g("H2"),
            case["H2"].as_f64().unwrap(),
            tol.tau2,
            &mut failures,
        );
        check(
            &format!("{name} QM"),
            g("QM"),
            case["QM"].as_f64().unwrap(),
            tol.se * 2.0,
            &mut failures,
        );
        check(
            &format!("{name} QM_p"),
            g("QM_p"),
            case["QMp"].as_f64().unwrap(),
            tol.p,
            &mut failures,
        );
        for key in ["QE_Wld", "QE_LRT"] {
            if let Some(want) = case[key].as_f64() {
                check(
                    &format!("{name} {key}"),
                    g(key),
                    want,
                    tol.qe,
                    &mut failures,
                );
            }
        }
        let (ll, want_ll) = (g("logLik"), case["logLik"].as_f64().unwrap());
        check(
            &format!("{name} logLik"),
            ll,
            want_ll,
            tol.log_lik,
            &mut failures,
        );
        // OR CM.EL's logLik is the maximised likelihood: tau's at least
        // metafor's.
        if !tight && ll < want_ll - 1e-9 * want_ll.abs() {
            failures.push(format!(
                "{name}: tau's logLik {ll} below metafor's {want_ll}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn glmm_moderators_refuse_what_they_cannot_use() {
    let out = crate::util::tau()
        .args(["regress", "studies/bcg.json", "--measure", "OR"])
        .args(["--mods", "ablat", "--glmm", "UM.FS", "--btt", "ablat"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--btt"), "{stderr}");
}
