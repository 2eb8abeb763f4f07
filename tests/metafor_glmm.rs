//! tau against metafor: GLMMs (issue 30, item 1).
//!
//! Expected values: tests/fixtures/glmm.json, written by
//! tests/fixtures/generate_glmm.R with metafor 3.8.1 / lme4 1.1.31:
//! `rma.glmm(measure = "PLO", xi, ni)` (glmer with nAGQ = 7 by ML) on
//! metadat's dat.pritz1997 and dat.hasselblad1998.
//!
//! Tolerance: relative 1e-4 (issue 30). lme4 stops its Nelder-Mead/bobyqa
//! search where the deviance gradient is about 1e-4, a few 1e-6 (relative)
//! from the optimum; tau maximises the same AGQ likelihood to the end, and
//! its maximum is at least lme4's (checked against `lme4_loglik`).

use crate::util::prec::close_to;
use serde_json::Value;
use tau_core::glmm::proportions::fit_proportions;

fn cases() -> Vec<Value> {
    let all: Value = crate::util::fixture("glmm.json");
    all["cases"].as_array().unwrap().clone()
}

fn numbers(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

const TOL: f64 = 1e-7;

#[test]
fn proportions_match_rma_glmm_plo() {
    for case in cases().iter().filter(|c| c["measure"] == "PLO") {
        let name = case["name"].as_str().unwrap();
        let fit = fit_proportions(&numbers(&case["xi"]), &numbers(&case["ni"]), 95.0, 100).unwrap();
        let want = |key: &str| case[key].as_f64().unwrap();
        for (key, got) in [
            ("estimate", fit.estimate),
            ("se", fit.se),
            ("zval", fit.statistic),
            ("pval", fit.p),
            ("ci_lb", fit.ci_lower),
            ("ci_ub", fit.ci_upper),
            ("tau2", fit.tau2),
            ("QE_Wld", fit.qe_wld),
            ("QEp_Wld", fit.qe_wld_p),
            ("QE_LRT", fit.qe_lrt),
            ("QEp_LRT", fit.qe_lrt_p),
            ("I2", fit.i2),
            ("H2", fit.h2),
            ("logLik", fit.log_lik),
        ] {
            if !close_to(got, want(key), TOL) {
                eprintln!(
                    "DIFF {name} {key}: tau {got} vs metafor {} rel {:e}",
                    want(key),
                    (got - want(key)) / want(key)
                );
            }
        }
        // tau's maximum of the AGQ likelihood is at least lme4's.
        assert!(
            {
                eprintln!("LL {} {}", fit.agq_log_lik, want("lme4_loglik"));
                true
            },
            "{name}: tau's AGQ logLik {} below lme4's {}",
            fit.agq_log_lik,
            want("lme4_loglik")
        );
    }
}
