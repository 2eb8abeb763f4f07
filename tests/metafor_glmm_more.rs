//! tau against metafor: the conditional GLMMs of 2×2 tables and the GLMMs
//! of events over person-time (issue 30, item 1).
//!
//! Expected values: tests/fixtures/glmm_more.json, written by
//! tests/fixtures/generate_glmm_more.R with metafor 3.8.1 / lme4 1.1.31 /
//! BiasedUrn: `rma.glmm(measure = "OR", model = "CM.AL" | "CM.EL")` on
//! metadat's dat.bcg, dat.nielweise2007 and dat.collins1985a (outcome b),
//! `rma.glmm(measure = "IRR", model = "CM.EL")` and
//! `rma.glmm(measure = "IRLN")` on dat.nielweise2008 and dat.hart1999.
//!
//! Tolerances. The heterogeneity tests do not depend on the GLMM's
//! optimiser and match to 1e-6 metafor with its glm fits run to the end
//! (`tight`, glm's epsilon 1e-14; its default 1e-8 leaves IRR UM.FS's
//! `QE_Wld` 2e-6 off), except CM.EL's `QE_Wld`, which metafor
//! computes from numDeriv's Hessian of a likelihood integrated at relative
//! tolerance 1.2e-4 (bcg: 268.6 by default, 163.19 with the integral and
//! the Hessian taken to the end, `tight`; tau's 163.19 is the Fisher
//! information's). The fit is compared with the reference taken to the end
//! (`tight`: lme4 with bobyqa to rhoend 1e-12; metafor's CM.EL with
//! integrate at 1e-12 and optim at reltol 1e-15) to 1e-5 (estimate, tau2)
//! and 2e-5 (se: lme4's and numDeriv's SEs are finite-difference Hessians),
//! and tau's maximised log-likelihood is at least the reference's. metafor's
//! default numbers are compared to 1e-4 as issue 30 asks (1e-3 for CM.EL's
//! tau2 and se, whose integral is only good to 1.2e-4).

use crate::util::prec::close_to;
use serde_json::Value;
use tau_core::glmm::conditional::{fit_odds_ratios_cm_al, fit_rate_ratios_cm_el, fit_rates};
use tau_core::glmm::conditional_exact::fit_exact_conditional;
use tau_core::glmm::odds_ratios::Table;
use tau_core::glmm::proportions::GlmmFit;
use tau_core::glmm::rate_ratios::{Rates, fit_rate_ratios};

fn cases() -> Vec<Value> {
    let all: Value = crate::util::fixture("glmm_more.json");
    all["cases"].as_array().unwrap().clone()
}

fn numbers(case: &Value, key: &str) -> Vec<f64> {
    case[key]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

fn tables(case: &Value) -> Vec<Table> {
    let (ai, n1i, ci, n2i) = (
        numbers(case, "ai"),
        numbers(case, "n1i"),
        numbers(case, "ci"),
        numbers(case, "n2i"),
    );
    (0..ai.len())
        .map(|i| Table {
            ai: ai[i],
            n1i: n1i[i],
            ci: ci[i],
            n2i: n2i[i],
        })
        .collect()
}

fn fit(case: &Value) -> GlmmFit {
    match (
        case["measure"].as_str().unwrap(),
        case["model"].as_str().unwrap(),
    ) {
        ("OR", "CM.AL") => fit_odds_ratios_cm_al(&tables(case), 95.0, 100).unwrap(),
        ("OR", "CM.EL") => fit_exact_conditional(&tables(case), 95.0, 100).unwrap(),
        ("IRR", model) => {
            let (x1, t1, x2, t2) = (
                numbers(case, "x1i"),
                numbers(case, "t1i"),
                numbers(case, "x2i"),
                numbers(case, "t2i"),
            );
            let rates: Vec<Rates> = (0..x1.len())
                .map(|i| Rates {
                    x1i: x1[i],
                    t1i: t1[i],
                    x2i: x2[i],
                    t2i: t2[i],
                })
                .collect();
            if model == "CM.EL" {
                fit_rate_ratios_cm_el(&rates, 95.0, 100).unwrap()
            } else {
                fit_rate_ratios(&rates, 95.0, 100).unwrap()
            }
        }
        ("IRLN", _) => fit_rates(&numbers(case, "xi"), &numbers(case, "ti"), 95.0, 100).unwrap(),
        other => panic!("no fitter for {other:?}"),
    }
}

#[test]
fn conditional_and_rate_glmms_match_rma_glmm() {
    for case in cases().iter() {
        let name = format!(
            "{} {} {}",
            case["name"].as_str().unwrap(),
            case["measure"].as_str().unwrap(),
            case["model"].as_str().unwrap()
        );
        let exact = case["model"] == "CM.EL" && case["measure"] == "OR";
        let got = fit(case);
        let want = |key: &str| case[key].as_f64().unwrap();
        let tight = |key: &str| case["tight"][key].as_f64().unwrap();
        assert_eq!(got.k as f64, want("k"), "{name}");
        let mut heterogeneity = vec![("QE_LRT", got.qe_lrt), ("QEp_LRT", got.qe_lrt_p)];
        if !exact {
            heterogeneity.extend([("QE_Wld", got.qe_wld), ("QEp_Wld", got.qe_wld_p)]);
        }
        for (key, value) in heterogeneity {
            // metafor's glm fits stop at glm's default epsilon (IRR UM.FS:
            // QE_Wld 2e-6 short); `tight` runs them to the end.
            let reference = match case["tight"].get(key) {
                Some(v) => v.as_f64().unwrap(),
                None => want(key),
            };
            assert!(
                close_to(value, reference, 1e-6),
                "{name} {key}: tau {value} vs metafor {reference}"
            );
        }
        if exact {
            assert!(
                close_to(got.qe_wld, want("QE_Wld_fisher"), 1e-6),
                "{name} QE_Wld: tau {} vs BiasedUrn's {}",
                got.qe_wld,
                want("QE_Wld_fisher")
            );
        }
        for (key, value, tol) in [
            ("estimate", got.estimate, 1e-5),
            ("se", got.se, 2e-5),
            ("tau2", got.tau2, 1e-5),
        ] {
            assert!(
                close_to(value, tight(key), tol),
                "{name} {key}: tau {value} vs reference to the end {}",
                tight(key)
            );
        }
        let (reference_ll, tau_ll) = if exact {
            (tight("logLik"), got.log_lik)
        } else {
            (tight("lme4_loglik"), got.agq_log_lik)
        };
        assert!(
            tau_ll >= reference_ll - 1e-9,
            "{name}: tau's maximised logLik {tau_ll} below the reference's {reference_ll}"
        );
        // Where metafor's default stops further from the optimum than
        // the tolerance (collins1985a CM.AL: tau2 1.3e-4 from lme4's
        // optimum taken to the end), its own distance, doubled, is the
        // tolerance.
        let gap = ["estimate", "se", "tau2"]
            .iter()
            .map(|key| 2.0 * (want(key) - tight(key)).abs() / tight(key).abs().max(1e-300))
            .fold(0.0, f64::max);
        let loose = if exact { 1e-3 } else { 1e-4f64.max(gap) };
        let near = 1e-4f64.max(gap);
        for (key, value, tol) in [
            ("estimate", got.estimate, near),
            ("se", got.se, loose),
            ("zval", got.statistic, loose),
            ("tau2", got.tau2, loose),
            ("I2", got.i2, loose),
            ("H2", got.h2, loose),
            ("logLik", got.log_lik, near),
        ] {
            assert!(
                close_to(value, want(key), tol),
                "{name} {key}: tau {value} vs metafor {}",
                want(key)
            );
        }
        // A CI bound near 0 magnifies the relative error of the estimate
        // and the SE (nielweise2008 IRR: the upper bound is -0.0104): the
        // bounds are compared on the scale of the SE.
        for (key, value) in [("ci_lb", got.ci_lower), ("ci_ub", got.ci_upper)] {
            let scale = want(key).abs().max(want("se"));
            assert!(
                (value - want(key)).abs() <= loose * scale,
                "{name} {key}: tau {value} vs metafor {}",
                want(key)
            );
        }
    }
}

/// The same fit through `tau pool studies/hart1999.json` (the data of
/// dat.hart1999, written by the same script); IRR's CM.AL is fitted as
/// CM.EL, as metafor does.
#[test]
fn cli_pools_rate_ratios_by_glmm() {
    let case = cases()
        .into_iter()
        .find(|c| c["name"] == "hart1999" && c["model"] == "CM.EL")
        .unwrap();
    for model in ["CM.EL", "CM.AL"] {
        let out = crate::util::tau()
            .args([
                "pool",
                "studies/hart1999.json",
                "--glmm",
                model,
                "--format",
                "json",
            ])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let got: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(got["model"], "CM.EL");
        assert_eq!(got["measure"], "IRR");
        for (key, want) in [
            ("estimate", "estimate"),
            ("se", "se"),
            ("tau2", "tau2"),
            ("QE_LRT", "QE_LRT"),
            ("logLik", "logLik"),
        ] {
            let (g, w) = (got[key].as_f64().unwrap(), case[want].as_f64().unwrap());
            assert!(
                close_to(g, w, 1e-6),
                "{model} {key}: tau {g} vs metafor {w}"
            );
        }
    }
}
