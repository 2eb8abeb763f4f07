//! User weights of multilevel fits against metafor's `rma.mv(..., W = w)`.
//!
//! Expected values: tests/fixtures/mv_weights.json, written by
//! tests/fixtures/generate_mv_weights.R (metafor 3.8.1, w = 1/sqrt(vi), on
//! dat.bornmann2007 and the simulated data of generate_mv.R; optim's BFGS
//! with reltol 1e-12). metafor's optimiser stops ~1e-6 (relative) from the
//! maximum in the variance parameters, which the coefficients and standard
//! errors inherit: they agree to 1e-5 relative, as in
//! `tests::general_fits_match_metafor`, and so does QM; logLik, deviance,
//! AIC, BIC, AICc and QE to 1e-6.

use serde_json::Value;

use super::fit;
use super::tests::setup;

const FIXTURE: &str = include_str!("../../../../../tests/fixtures/mv_weights.json");

fn close(what: &str, t: f64, m: f64, tolerance: f64, bad: &mut Vec<String>) {
    if (t - m).abs() > tolerance * m.abs().max(1e-3) {
        bad.push(format!("{what}: tau {t} metafor {m}"));
    }
}

fn numbers(v: &Value) -> Vec<f64> {
    v.as_array()
        .map(|a| a.iter().filter_map(Value::as_f64).collect())
        .unwrap_or_default()
}

#[test]
fn weighted_fits_match_metafor() {
    let fx: Value = serde_json::from_str(FIXTURE).unwrap();
    let mut bad = Vec::new();
    for case in fx["models"].as_array().unwrap() {
        let id = case["id"].as_str().unwrap();
        let (data, mut options) = setup(&fx, case);
        assert!(data.weights().is_some(), "{id}: no weights read");
        options.profile = case["sigma2_ci"].is_array();
        let r = fit(&data, &options).unwrap_or_else(|e| panic!("{id}: {e}"));
        let (beta, se): (Vec<f64>, Vec<f64>) = match (&r.summary, &r.coefficients) {
            (Some(s), _) => (vec![s.value], vec![s.se]),
            (None, Some(c)) => c.iter().map(|c| (c.estimate.value, c.estimate.se)).unzip(),
            _ => (Vec::new(), Vec::new()),
        };
        for (what, tau, key) in [
            ("beta", beta, "beta"),
            ("se", se, "se"),
            ("sigma2", r.sigma2.clone(), "sigma2"),
            (
                "tau2",
                r.structured.tau2.clone().unwrap_or_default(),
                "tau2",
            ),
            ("rho", r.structured.rho.clone().unwrap_or_default(), "rho"),
        ] {
            let m = numbers(&case[key]);
            assert_eq!(tau.len(), m.len(), "{id} {what}");
            for (j, (t, m)) in tau.iter().zip(&m).enumerate() {
                close(&format!("{id} {what}[{j}]"), *t, *m, 1e-5, &mut bad);
            }
        }
        for (a, row) in case["vb"].as_array().unwrap().iter().enumerate() {
            for (b, m) in numbers(row).iter().enumerate() {
                let t = r.vcov[a][b];
                let scale = (r.vcov[a][a] * r.vcov[b][b]).sqrt();
                if (t - m).abs() > 1e-5 * scale {
                    bad.push(format!("{id} vcov[{a}][{b}]: tau {t} metafor {m}"));
                }
            }
        }
        let stats = vec![
            ("logLik", r.log_lik),
            ("deviance", r.deviance),
            ("AIC", r.aic),
            ("BIC", r.bic),
            ("AICc", r.aicc),
            ("QE", r.qe),
        ];
        for (name, t) in stats {
            let m = case[name].as_f64().unwrap();
            close(&format!("{id} {name}"), t, m, 1e-6, &mut bad);
        }
        // QM is a function of the coefficients and their covariance, so
        // within their 1e-5.
        if let Some(qm) = r.qm {
            close(
                &format!("{id} QM"),
                qm,
                case["QM"].as_f64().unwrap(),
                1e-5,
                &mut bad,
            );
        }
        // Profile CIs: as in profile_tests, tau's limit is the root
        // metafor's uniroot approaches to its tolerance.
        if let Some(cis) = case["sigma2_ci"].as_array() {
            let tau = r.sigma2_ci.clone().unwrap();
            for (j, (t, m)) in tau.iter().zip(cis).enumerate() {
                for (side, name) in ["lower", "upper"].into_iter().enumerate() {
                    let (Some(t), Some(l)) = (t[side], m[name].as_f64()) else {
                        bad.push(format!("{id} sigma2_ci[{j}] {name}: missing"));
                        continue;
                    };
                    if (t - l).abs() > crate::numerics::zeroin::R_UNIROOT_TOL {
                        bad.push(format!("{id} sigma2_ci[{j}] {name}: tau {t} metafor {l}"));
                    }
                }
            }
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}
