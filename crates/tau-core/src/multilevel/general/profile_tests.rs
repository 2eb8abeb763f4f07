//! Profile-likelihood CIs of general rma.mv fits against metafor's
//! `confint(res)`.
//!
//! Expected values: tests/fixtures/mv_ci.json, written by
//! tests/fixtures/generate_mv_ci.R (metafor 3.8.1, `confint()` with its
//! defaults on models of tests/fixtures/mv.json, fits and refits by optim's
//! BFGS with reltol 1e-12). For each limit the fixture also holds metafor's
//! own profile statistic there, s = 2[ℓ(θ̂) − ℓₚ(limit)] − χ²₁,.₉₅, which
//! is 0 at the exact limit.
//!
//! metafor finds each limit with `uniroot(tol = .Machine$double.eps^0.25)`,
//! so its limits are up to ~1.2e-4 (absolute) from the root, where s is
//! off 0 by up to a few hundredths. tau finds the root to 1e-10. The test
//! checks, for each limit found by a root search:
//! 1. the profiles agree: tau's s at metafor's limit equals metafor's s
//!    there to 1e-6 (both refit every other parameter);
//! 2. tau's limit is the root: |s| < 1e-6 there, and never further from 0
//!    than metafor's s at its own limit;
//! 3. the two limits differ by no more than uniroot's tolerance.
//!
//! A limit at an end of the search range (a variance's 0, a correlation's
//! ±1) must be that end in both (for UN's ρ, where tau's profile keeps G
//! positive definite and metafor's does not, tau may instead have an exact
//! root within 0.01 of ±1: sim_UN 0.99996, sim_UN_lab 0.9993 where metafor
//! reports 1); one metafor prints with a sign ("> 10") or
//! as NA is `None` in tau.

use serde_json::Value;

use super::maximised::Maximised;
use super::profile::profiled;
use super::tests::{FIXTURE, setup};
use super::{Struct, fit};
use crate::multilevel::general::likelihood::Component;
use crate::numerics::distribution::chisq_quantile;
use crate::numerics::zeroin::R_UNIROOT_TOL;

const CI_FIXTURE: &str = include_str!("../../../../../tests/fixtures/mv_ci.json");

/// s at `x` for metafor's parameter `what` (sigma2, tau2, rho, gamma2,
/// phi), number `j` (from 0).
fn statistic_at(m: &Maximised, what: &str, j: usize, x: f64, max_iter: usize) -> Option<f64> {
    let mut start = 0;
    let mut nth_sigma = 0;
    let mut nth_structured = 0;
    for (ci, c) in m.problem.components.iter().enumerate() {
        let local = match c {
            Component::Sigma { .. } => {
                nth_sigma += 1;
                (what == "sigma2" && nth_sigma == j + 1).then_some(0)
            }
            Component::Structured { times, kind, .. } => {
                nth_structured += 1;
                let n_tau2 = kind.n_tau2(times.len());
                match (what, nth_structured) {
                    ("tau2", 1) | ("gamma2", 2) => Some(j),
                    ("rho", 1) | ("phi", 2) => Some(n_tau2 + j),
                    _ => None,
                }
            }
        };
        if let Some(local) = local {
            let p = profiled(
                &m.problem,
                &|c| m.rebuild(c),
                &m.maximum,
                &m.variances,
                ci,
                local,
                start,
            )?;
            let (ll, _) = p.refit(x, &p.eta, max_iter)?;
            return Some(2.0 * (m.maximum.eval.ll - ll) - chisq_quantile(0.95, 1.0));
        }
        start += c.n_params();
    }
    None
}

#[test]
fn profile_cis_match_metafor_confint() {
    let fx: Value = serde_json::from_str(FIXTURE).unwrap();
    let cis: Value = serde_json::from_str(CI_FIXTURE).unwrap();
    let mut bad = Vec::new();
    let mut roots = 0;
    for reference in cis["models"].as_array().unwrap() {
        let id = reference["id"].as_str().unwrap();
        let case = fx["models"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["id"] == id)
            .unwrap();
        let (data, mut options) = setup(&fx, case);
        options.profile = true;
        let r = fit(&data, &options).unwrap();
        let m = Maximised::new(&data, &options).unwrap();
        let p = &r.structured;
        for (what, tau) in [
            ("sigma2", r.sigma2_ci.clone()),
            ("tau2", p.tau2_ci.clone()),
            ("rho", p.rho_ci.clone()),
            ("gamma2", p.gamma2_ci.clone()),
            ("phi", p.phi_ci.clone()),
        ] {
            let Some(expected) = reference[format!("{what}_ci")].as_array() else {
                assert!(
                    tau.as_ref().is_none_or(Vec::is_empty),
                    "{id}: tau has {what}_ci, metafor none"
                );
                continue;
            };
            let tau = tau.unwrap_or_else(|| panic!("{id}: no {what}_ci"));
            assert_eq!(tau.len(), expected.len(), "{id} {what}_ci");
            for (j, (t, e)) in tau.iter().zip(expected).enumerate() {
                for (side, name) in ["lower", "upper"].into_iter().enumerate() {
                    let at = format!("{id} {what}[{j}] {name}");
                    let limit = e[name].as_f64();
                    let sign = e[format!("{name}_sign")].as_str().unwrap_or("");
                    let s_metafor = e[format!("{name}_s")].as_f64();
                    match (t[side], limit) {
                        (None, None) => {}
                        (None, Some(_)) if !sign.is_empty() => {}
                        (Some(t), Some(l)) if sign.is_empty() => {
                            let end = [0.0, -1.0, 1.0].iter().any(|&end| (l - end).abs() < 1e-9);
                            if end {
                                // UN's ρ: tau's profile keeps G positive
                                // definite, metafor's does not (it holds ρ
                                // in a G built from the others), so that
                                // near ±1 tau's can reach χ² where
                                // metafor's does not: tau then has an exact
                                // root short of the end.
                                let un = match what {
                                    "rho" => options.structs.first(),
                                    "phi" => options.structs.get(1),
                                    _ => None,
                                } == Some(&Struct::UN);
                                let root_short_of_end = un
                                    && l.abs() == 1.0
                                    && (t - l).abs() < 1e-2
                                    && statistic_at(&m, what, j, t, options.max_iter)
                                        .is_some_and(|s| s.abs() < 1e-6);
                                if (t - l).abs() > 1e-9 && !root_short_of_end {
                                    bad.push(format!("{at}: tau {t}, metafor at the end {l}"));
                                }
                                continue;
                            }
                            roots += 1;
                            let s_tau_there = statistic_at(&m, what, j, l, options.max_iter);
                            let s_tau_own = statistic_at(&m, what, j, t, options.max_iter);
                            let (Some(s_there), Some(s_own), Some(s_m)) =
                                (s_tau_there, s_tau_own, s_metafor)
                            else {
                                bad.push(format!("{at}: no statistic"));
                                continue;
                            };
                            if (s_there - s_m).abs() > 1e-6 {
                                bad.push(format!(
                                    "{at}: profiles differ at {l}: tau s {s_there}, metafor {s_m}"
                                ));
                            }
                            if s_own.abs() > 1e-6 || s_own.abs() > s_m.abs().max(1e-9) {
                                bad.push(format!(
                                    "{at}: s at tau's limit {t} is {s_own} (metafor's {s_m})"
                                ));
                            }
                            if (t - l).abs() > R_UNIROOT_TOL {
                                bad.push(format!("{at}: tau {t} metafor {l}"));
                            }
                        }
                        (t, l) => bad.push(format!("{at}: tau {t:?}, metafor {l:?} '{sign}'")),
                    }
                }
            }
        }
    }
    assert!(roots > 20, "only {roots} limits by root search");
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

#[test]
fn un_correlations_are_profiled_in_a_reordered_problem() {
    // The reordering leaves the maximum where it was.
    let fx: Value = serde_json::from_str(FIXTURE).unwrap();
    let case = fx["models"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == "sim_UN")
        .unwrap();
    let (data, options) = setup(&fx, case);
    assert_eq!(options.structs, [Struct::UN]);
    let m = Maximised::new(&data, &options).unwrap();
    let rho = fit(&data, &options).unwrap().structured.rho.unwrap();
    for (j, r) in rho.iter().enumerate() {
        let s = statistic_at(&m, "rho", j, *r, options.max_iter).unwrap();
        let q = chisq_quantile(0.95, 1.0);
        assert!((s + q).abs() < 1e-8, "rho[{j}]: s {s}");
    }
}
