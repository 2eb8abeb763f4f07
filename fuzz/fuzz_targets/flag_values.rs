//! Flag values for sizes and levels, checked by the library functions the
//! CLI calls after clap has parsed them: `--permutations` (regress, through
//! `PermutationSpec::validate` and the test itself), `simulate`'s `--k`,
//! `--reps`, `--n-min`, `--n-max`, `--tau2`, `--mu` and `--level`
//! (`simulate::Settings::validate`), and `--level` of a fit (`pool`).
//!
//! The input is up to eight lines, one value each, parsed as clap parses the
//! flag's type. Every value must give a result or an error, never a panic, an
//! abort or a huge allocation; an accepted value lies within the documented
//! limits, and what it accepts is run when it is cheap.

#![no_main]

use libfuzzer_sys::fuzz_target;
use tau_core::data::dataset;
use tau_core::model::Control;
use tau_core::regression::permutation::{MAX_ITERATIONS, PermutationSpec};
use tau_core::regression::{DesignSpec, RegressionError, RegressionOptions};
use tau_core::simulate::generate::MAX_STUDIES;
use tau_core::simulate::{self, Scenario, Settings};
use tau_core::{FitOptions, Method, Test, pool, regress};

/// Five studies, five distinct moderator values: 120 arrangements, so any
/// permutation count of 120 or more is an exact test of 120 fits.
const FIVE: &str =
    "study,yi,vi,x\nA,0.1,0.02,1\nB,0.3,0.03,2\nC,0.2,0.01,3\nD,0.6,0.04,4\nE,0.5,0.02,5\n";

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut lines = text.split('\n');
    let mut next = || lines.next().unwrap_or("").trim().to_owned();
    let permutations = next();
    let k = next();
    let reps = next();
    let n_min = next();
    let n_max = next();
    let level = next();
    let tau2 = next();
    let mu = next();
    let Ok(five) = dataset::load_csv(FIVE, None) else {
        panic!("the built-in data set loads");
    };
    let fit = |level: f64| FitOptions {
        method: Method::REML,
        test: Test::Z,
        level,
        control: Control::default(),
    };

    // --permutations (a u64 on the command line, a usize in the library).
    if let Ok(n) = permutations.parse::<u64>() {
        let iterations = usize::try_from(n).unwrap_or(usize::MAX);
        let spec = PermutationSpec {
            iterations,
            seed: 1,
            by: None,
        };
        let valid = spec.validate().is_ok();
        assert_eq!(valid, (2..=MAX_ITERATIONS).contains(&iterations));
        if let Err(e) = spec.validate() {
            assert!(e.to_string().len() < 200, "message: {e}");
        }
        let options = RegressionOptions {
            fit: fit(95.0),
            design: DesignSpec {
                moderators: vec!["x".into()],
                references: Vec::new(),
                intercept: true,
            },
            permutations: Some(spec),
        };
        match regress(&five, &options) {
            Ok(result) => {
                assert!(valid);
                let test = result.permutation.expect("a permutation result");
                assert_eq!(test.exact, iterations >= 120);
                assert!(test.iterations <= iterations.min(120));
                assert!((0.0..=1.0).contains(&test.qm_p));
            }
            Err(RegressionError::Permutation(_)) => assert!(!valid),
            Err(e) => panic!("{e}"),
        }
    }

    // simulate's sizes, level and parameters.
    if let (Ok(k), Ok(reps), Ok(n_min), Ok(n_max), Ok(level), Ok(tau2), Ok(mu)) = (
        k.parse::<usize>(),
        reps.parse::<u64>(),
        n_min.parse::<u32>(),
        n_max.parse::<u32>(),
        level.parse::<f64>(),
        tau2.parse::<f64>(),
        mu.parse::<f64>(),
    ) {
        let settings = Settings {
            scenario: Scenario {
                mu,
                tau2,
                k,
                n_min,
                n_max,
            },
            reps,
            methods: vec![Method::REML, Method::DL],
            tests: vec![Test::Z, Test::Knha],
            level,
            seed: 7,
            control: Control::default(),
        };
        match settings.validate() {
            Ok(()) => {
                assert!((2..=MAX_STUDIES).contains(&k));
                assert!(reps >= 1 && level > 0.0 && level < 100.0);
                // Run it when it is cheap.
                if k.saturating_mul(usize::try_from(reps).unwrap_or(usize::MAX)) <= 2_000 {
                    let result = simulate::simulate(&settings).expect("valid settings run");
                    for cell in &result.results {
                        assert_eq!(cell.performance.fits + cell.performance.failed, reps);
                    }
                }
            }
            Err(e) => assert!(e.to_string().len() < 300, "message: {e}"),
        }

        // --level of a fit.
        match pool(&five, &fit(level)) {
            Ok(r) => {
                assert!(level > 0.0 && level < 100.0, "level {level} accepted");
                assert!(
                    r.estimate.ci_lower <= r.estimate.value
                        && r.estimate.value <= r.estimate.ci_upper
                );
            }
            Err(e) => assert!(e.to_string().len() < 300, "message: {e}"),
        }
    }
});
