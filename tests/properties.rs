//! Invariants of pooling, checked with proptest on random data sets for every
//! τ² estimator under z and Knapp-Hartung tests.
//!
//! * results do not depend on the order of the studies;
//! * shifting every yi by c shifts the estimate and its intervals by c and
//!   leaves τ², Q and I² alone;
//! * scaling every yi and √vi by s scales the estimate and SE by s and τ² by s²;
//! * τ² ≥ 0, I² ∈ [0, 100], H² ≥ 1, Q ≥ 0;
//! * with τ̂² = 0 the random-effects result is the common-effect one;
//! * the CI contains the estimate, and the prediction interval contains the CI;
//! * REML's τ̂² maximises the restricted likelihood over a grid that holds the
//!   DL and PM estimates, even when the sampling variances span up to 30
//!   orders of magnitude (issue 18: Fisher scoring once stopped after one
//!   tiny step far from the optimum).
//!
//! Tolerances. Reordering and shifting leave the iterations unchanged up to
//! rounding, so every estimator is held to 1e-9 relative (observed: 1e-13).
//! Rescaling is different for the iterative estimators: they stop on an
//! ABSOLUTE criterion, as metafor's do (Fisher scoring for REML, ML and EB when
//! τ² changes by less than 1e-5; Paule-Mandel when uniroot's bracket is
//! narrower than 1.22e-4), and 1e-5 in scaled units is 1e-5/s² in the original
//! ones. With the default controls the rescaled τ² then differs by up to about
//! 3e-3 (estimate: 2e-2 SE) in 27 000 trials, which is that precision, not an
//! error. So the scaling property refits them with tight controls
//! (threshold = tol = 1e-10, as metafor's `control = list(threshold, tol)`),
//! which tests that the estimators' fixed points scale, to 1e-6 relative.
//!
//! Case counts are bounded (64 per property) to keep `cargo test` fast; set
//! PROPTEST_CASES to run more. Failures are saved in
//! proptest-regressions/properties.txt and replayed first.

use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence};
use tau_core::model::{Control, FitError, Tau2Error};
use tau_core::{Dataset, FitOptions, Measure, Method, PoolResult, Test, pool};

fn config() -> Config {
    Config {
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(64),
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/proptest-regressions/properties.txt"
        )))),
        ..Config::default()
    }
}

fn options(method: Method, test: Test) -> FitOptions {
    FitOptions {
        method,
        test,
        level: 95.0,
        control: Control::default(),
    }
}

/// Pools yi, vi; `None` when the estimator legitimately fails (no convergence
/// or no root), which the invariants then do not concern.
fn fit(yi: &[f64], vi: &[f64], method: Method, test: Test) -> Option<PoolResult> {
    match pool(
        &Dataset::from_effects(Measure::GEN, yi, vi),
        &options(method, test),
    ) {
        Ok(r) => Some(r),
        Err(FitError::Tau2(Tau2Error::NotConverged { .. } | Tau2Error::NoRoot { .. })) => None,
        Err(e) => panic!("{}: unexpected error {e}", method.name()),
    }
}

/// Outcomes in [-5, 5] and sampling variances log-uniform on [0.001, 3].
fn studies() -> impl Strategy<Value = (Vec<f64>, Vec<f64>)> {
    (2usize..=25).prop_flat_map(|k| {
        (
            prop::collection::vec(-5.0f64..5.0, k),
            prop::collection::vec((-3.0f64..0.5).prop_map(|e| 10f64.powf(e)), k),
        )
    })
}

/// Data with little heterogeneity, so that many estimators give τ̂² = 0:
/// yᵢ = μ + zᵢ·√vᵢ/2 with |zᵢ| ≤ 1.
fn homogeneous_studies() -> impl Strategy<Value = (Vec<f64>, Vec<f64>)> {
    (2usize..=15, -3.0f64..3.0).prop_flat_map(|(k, mu)| {
        (
            prop::collection::vec(-1.0f64..1.0, k),
            prop::collection::vec((-3.0f64..0.5).prop_map(|e| 10f64.powf(e)), k),
        )
            .prop_map(move |(z, vi)| {
                let yi = z
                    .iter()
                    .zip(&vi)
                    .map(|(z, v)| mu + z * v.sqrt() / 2.0)
                    .collect();
                (yi, vi)
            })
    })
}

/// The estimators that need no user weights (GENQ and GENQM estimate with them).
fn method() -> impl Strategy<Value = Method> {
    let unweighted: Vec<Method> = Method::ALL
        .into_iter()
        .filter(|m| !m.needs_weights())
        .collect();
    prop::sample::select(unweighted)
}

fn test() -> impl Strategy<Value = Test> {
    prop::sample::select(vec![Test::Z, Test::Knha])
}

/// |a − b| within `relative` of the larger magnitude, with an absolute floor
/// of the same size for values near 0.
fn close(a: f64, b: f64, relative: f64) -> bool {
    (a - b).abs() <= relative * (1.0 + a.abs().max(b.abs()))
}

const ROUNDING: f64 = 1e-9;

proptest! {
    #![proptest_config(config())]

    #[test]
    fn bounds_hold((yi, vi) in studies(), method in method(), test in test()) {
        if let Some(r) = fit(&yi, &vi, method, test) {
            prop_assert!(r.estimate.value.is_finite() && r.estimate.se.is_finite());
            prop_assert!(r.tau2 >= 0.0 && r.tau2.is_finite(), "tau2 {}", r.tau2);
            prop_assert!((0.0..=100.0).contains(&r.i2), "I2 {}", r.i2);
            // For the common-effect model metafor's H² is Q/(k − 1), which
            // falls below 1 when Q < k − 1 (found by this property; the
            // property was wrong, not tau). Otherwise H² = τ²/ṽ + 1 ≥ 1.
            if method != Method::EE {
                prop_assert!(r.h2 >= 1.0, "H2 {}", r.h2);
            }
            prop_assert!(r.q >= 0.0, "Q {}", r.q);
            if let Some([lo, hi]) = r.tau2_ci {
                prop_assert!(0.0 <= lo && lo <= hi, "tau2 CI [{lo}, {hi}]");
            }
        }
    }

    #[test]
    fn intervals_nest((yi, vi) in studies(), method in method(), test in test()) {
        if let Some(r) = fit(&yi, &vi, method, test) {
            prop_assert!(r.estimate.ci_lower <= r.estimate.value && r.estimate.value <= r.estimate.ci_upper,
                "CI [{}, {}] misses {}", r.estimate.ci_lower, r.estimate.ci_upper, r.estimate.value);
            prop_assert!(r.pi_lower <= r.estimate.ci_lower && r.estimate.ci_upper <= r.pi_upper,
                "PI [{}, {}] inside CI [{}, {}]", r.pi_lower, r.pi_upper, r.estimate.ci_lower, r.estimate.ci_upper);
        }
    }

    #[test]
    fn study_order_does_not_matter(
        ((yi, vi), order) in studies().prop_flat_map(|(yi, vi)| {
            let k = yi.len();
            (Just((yi, vi)), Just((0..k).collect::<Vec<_>>()).prop_shuffle())
        }),
        method in method(),
        test in test(),
    ) {
        let yi2: Vec<f64> = order.iter().map(|&i| yi[i]).collect();
        let vi2: Vec<f64> = order.iter().map(|&i| vi[i]).collect();
        if let (Some(a), Some(b)) = (fit(&yi, &vi, method, test), fit(&yi2, &vi2, method, test)) {
            for (what, x, y) in [
                ("tau2", a.tau2, b.tau2),
                ("estimate", a.estimate.value, b.estimate.value),
                ("se", a.estimate.se, b.estimate.se),
                ("ci_lower", a.estimate.ci_lower, b.estimate.ci_lower),
                ("ci_upper", a.estimate.ci_upper, b.estimate.ci_upper),
                ("Q", a.q, b.q),
                ("I2", a.i2, b.i2),
            ] {
                prop_assert!(close(x, y, ROUNDING), "{what}: {x} vs {y}");
            }
        }
    }

    #[test]
    fn shifting_yi_shifts_the_estimate(
        (yi, vi) in studies(), c in -100.0f64..100.0, method in method(), test in test(),
    ) {
        let shifted: Vec<f64> = yi.iter().map(|y| y + c).collect();
        if let (Some(a), Some(b)) = (fit(&yi, &vi, method, test), fit(&shifted, &vi, method, test)) {
            // yi + c carries a rounding error of about |c|·ε, on top of ROUNDING.
            let relative = ROUNDING * (1.0 + c.abs());
            for (what, x, y) in [
                ("tau2", a.tau2, b.tau2),
                ("estimate", a.estimate.value + c, b.estimate.value),
                ("ci_lower", a.estimate.ci_lower + c, b.estimate.ci_lower),
                ("ci_upper", a.estimate.ci_upper + c, b.estimate.ci_upper),
                ("se", a.estimate.se, b.estimate.se),
                ("Q", a.q, b.q),
            ] {
                prop_assert!(close(x, y, relative), "{what}: {x} vs {y}");
            }
        }
    }

    #[test]
    fn scaling_yi_and_se_scales_the_estimate(
        (yi, vi) in studies(), log_s in -1.0f64..1.0, method in method(), test in test(),
    ) {
        // s in [0.1, 10]: the tight controls are absolute too, so a wider
        // range would need a looser tolerance at its ends.
        let s = 10f64.powf(log_s);
        let yi2: Vec<f64> = yi.iter().map(|y| y * s).collect();
        let vi2: Vec<f64> = vi.iter().map(|v| v * s * s).collect();
        // The stopping rules are in tau^2's units: on the data shrunk by s
        // they are tightened by s^2, so that both fits stop at least as close
        // to their maximum relative to their own tau^2 (with one absolute
        // threshold a tau^2 near 0 stopped 1/s^2 times looser on the shrunk
        // data, and I^2 ~ 1e-6 % differed by more than the floor).
        let tight = |y: &[f64], v: &[f64], shrink: f64| {
            let threshold = 1e-10 * shrink;
            let options = FitOptions {
                control: Control { threshold, tol: threshold, max_iter: 10_000, ..Control::default() },
                ..options(method, test)
            };
            pool(&Dataset::from_effects(Measure::GEN, y, v), &options).ok()
        };
        let shrink = (s * s).min(1.0);
        if let (Some(a), Some(b)) = (tight(&yi, &vi, 1.0), tight(&yi2, &vi2, shrink)) {
            for (what, x, y) in [
                ("tau2", a.tau2, b.tau2 / (s * s)),
                ("estimate", a.estimate.value, b.estimate.value / s),
                ("se", a.estimate.se, b.estimate.se / s),
                ("ci_lower", a.estimate.ci_lower, b.estimate.ci_lower / s),
                ("ci_upper", a.estimate.ci_upper, b.estimate.ci_upper / s),
                ("Q", a.q, b.q),
                ("I2", a.i2, b.i2),
            ] {
                prop_assert!(close(x, y, 1e-6), "{what}: {x} vs {y}");
            }
        }
    }

    #[test]
    fn zero_tau2_gives_the_common_effect_result(
        (yi, vi) in homogeneous_studies(), method in method(), test in test(),
    ) {
        let (Some(re), Some(ee)) = (fit(&yi, &vi, method, test), fit(&yi, &vi, Method::EE, test)) else {
            return Ok(());
        };
        if re.tau2 == 0.0 {
            for (what, x, y) in [
                ("estimate", re.estimate.value, ee.estimate.value),
                ("se", re.estimate.se, ee.estimate.se),
                ("ci_lower", re.estimate.ci_lower, ee.estimate.ci_lower),
                ("ci_upper", re.estimate.ci_upper, ee.estimate.ci_upper),
                ("Q", re.q, ee.q),
            ] {
                prop_assert!((x - y).abs() <= 1e-12 * (1.0 + y.abs()), "{what}: RE {x} vs EE {y}");
            }
        }
    }
}

/// Outcomes in [-1, 1] and sampling variances log-uniform over a window of
/// up to 30 orders of magnitude within [1e-15, 1e15].
fn extreme_studies() -> impl Strategy<Value = (Vec<f64>, Vec<f64>)> {
    (3usize..=12, -15.0f64..15.0, 0.0f64..=30.0).prop_flat_map(|(k, low, span)| {
        let high = (low + span).min(15.0);
        (
            prop::collection::vec(-1.0f64..1.0, k),
            prop::collection::vec((low..=high).prop_map(|e| 10f64.powf(e)), k),
        )
    })
}

/// The restricted log-likelihood of the intercept-only model at τ², up to a
/// constant, computed here from its definition (Viechtbauer 2005, eq. 11):
/// −½ Σ log(vᵢ + τ²) − ½ log Σ wᵢ − ½ Σ wᵢ (yᵢ − μ̂)².
fn restricted_log_likelihood(yi: &[f64], vi: &[f64], tau2: f64) -> f64 {
    let w: Vec<f64> = vi.iter().map(|v| 1.0 / (v + tau2)).collect();
    let sum_w: f64 = w.iter().sum();
    let mu = w.iter().zip(yi).map(|(w, y)| w * y).sum::<f64>() / sum_w;
    let rss: f64 = w.iter().zip(yi).map(|(w, y)| w * (y - mu) * (y - mu)).sum();
    -0.5 * vi.iter().map(|v| (v + tau2).ln()).sum::<f64>() - 0.5 * sum_w.ln() - 0.5 * rss
}

proptest! {
    #![proptest_config(config())]

    /// The grid: 0, the DL and PM estimates, and 10⁻¹⁶ … 10². The margin
    /// is metafor's `tol` (1.2e-4, as in its ll0check) plus 1e-9 relative for
    /// the rounding of a likelihood of terms up to ±35 (log 1e±15).
    #[test]
    fn reml_maximises_the_restricted_likelihood((yi, vi) in extreme_studies()) {
        let Some(reml) = fit(&yi, &vi, Method::REML, Test::Z) else {
            return Ok(());
        };
        let mut grid: Vec<f64> = (-16..=2).map(|e| 10f64.powi(e)).collect();
        grid.push(0.0);
        for method in [Method::DL, Method::PM] {
            if let Some(r) = fit(&yi, &vi, method, Test::Z) {
                grid.push(r.tau2);
            }
        }
        let at_estimate = restricted_log_likelihood(&yi, &vi, reml.tau2);
        for t in grid {
            let other = restricted_log_likelihood(&yi, &vi, t);
            prop_assert!(
                at_estimate >= other - 1.22e-4 - 1e-9 * other.abs(),
                "REML tau2 = {} has restricted log-likelihood {at_estimate}, but tau2 = {t} has {other}",
                reml.tau2
            );
        }
    }
}

/// The generator for `zero_tau2_gives_the_common_effect_result` must actually
/// produce τ̂² = 0, or the property is vacuous.
#[test]
fn homogeneous_data_often_give_zero_tau2() {
    let yi = [0.30, 0.32, 0.29, 0.31];
    let vi = [0.04, 0.05, 0.03, 0.06];
    for method in [Method::DL, Method::REML, Method::PM, Method::HS] {
        let r = fit(&yi, &vi, method, Test::Z).expect("fits");
        assert!(r.tau2 == 0.0, "{}: {}", method.name(), r.tau2);
    }
}

/// A restricted likelihood with two maxima: at τ² = 0, and higher at an
/// interior point beyond a dip (found by proptest). metafor's REML, from
/// its default start, stops at 0 (logLik −10.32383); started at 0.01 with
/// `threshold = 1e-12` (`rma(yi, vi, control = list(tau2.init = 0.01,
/// threshold = 1e-12))`, metafor 3.8.1) it finds τ² = 0.0778807351324596,
/// logLik −10.066884675831. tau scans the likelihood when scoring ends at 0
/// and reports the higher maximum; its scoring stops, as metafor's by
/// default, once τ² changes by less than 1e-5, so τ² is compared to that
/// threshold (the likelihood is flat there: it is within 1e-9 of the
/// likelihood at metafor's point).
#[test]
fn reml_finds_the_higher_maximum_beyond_a_dip() {
    let yi = [
        -0.5347672355422901,
        -0.6911445831916173,
        0.0,
        0.0,
        0.2886124783663727,
        0.0,
        0.0,
        0.0,
        0.0,
        0.0,
        0.0,
        0.0,
    ];
    let vi = [
        0.0008932841126089305,
        0.018925456589343626,
        1.0,
        1.0,
        0.13692856305550458,
        1.0,
        1.0,
        1.0,
        1.0,
        1.0,
        1.0,
        1.0,
    ];
    let reml = fit(&yi, &vi, Method::REML, Test::Z).expect("fits");
    assert!(
        (reml.tau2 - 0.0778807351324596).abs() < 1e-5,
        "{}",
        reml.tau2
    );
    let at = restricted_log_likelihood(&yi, &vi, reml.tau2);
    let metafor = restricted_log_likelihood(&yi, &vi, 0.0778807351324596);
    assert!(at >= metafor - 1e-9, "{at} {metafor}");
    assert!(at > restricted_log_likelihood(&yi, &vi, 0.0) + 0.25);
}
