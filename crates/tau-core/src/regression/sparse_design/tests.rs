//! The sparse model matrix against the dense one (same numbers to 1e-10
//! relative; in fact to the last bit, since the same terms are summed in the
//! same order) and against metafor (tests/fixtures/moderators.json, written by
//! tests/fixtures/generate_moderators.R with metafor 3.8.1).

use proptest::prelude::*;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};

use super::*;
use crate::data::dataset::load_json;
use crate::model::{Control, FitOptions, Method, Test};
use crate::regression::{DesignSpec, RegressionOptions, RegressionResult, Storage, run};

/// A random design: an intercept (or not), a continuous moderator, a factor
/// of 2 to 9 levels and one of 2 or 3; variances over four orders of magnitude.
fn random_data(seed: u64) -> (Dataset, DesignSpec) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let k = rng.random_range(25..70usize);
    let site_levels = rng.random_range(2..10usize);
    let arm_levels = rng.random_range(2..4usize);
    let studies: Vec<Value> = (0..k)
        .map(|i| {
            // Every level occurs: the first studies run through them.
            let site = if i < site_levels {
                i
            } else {
                rng.random_range(0..site_levels)
            };
            let arm = if i < arm_levels {
                i
            } else {
                rng.random_range(0..arm_levels)
            };
            let effect = 0.1 * site as f64 - 0.2 * arm as f64;
            json!({
                "study": format!("S{i}"),
                "yi": effect + rng.random_range(-1.0..1.0),
                "vi": 10f64.powf(rng.random_range(-3.0..1.0)),
                "moderators": {
                    "x": rng.random_range(-2.0..5.0),
                    "site": format!("L{site}"),
                    "arm": format!("A{arm}"),
                },
            })
        })
        .collect();
    let text = json!({"measure": "GEN", "studies": studies}).to_string();
    let dataset = load_json(&text, None).expect("valid data");
    let spec = DesignSpec {
        moderators: vec!["x".into(), "site".into(), "arm".into()],
        references: Vec::new(),
        intercept: !seed.is_multiple_of(3),
    };
    (dataset, spec)
}

fn close(a: f64, b: f64) -> bool {
    a == b || (a.is_nan() && b.is_nan()) || (a - b).abs() <= 1e-10 * a.abs().max(b.abs())
}

fn numbers(r: &RegressionResult) -> Vec<f64> {
    let mut out = vec![r.qm, r.qm_p, r.qe, r.qe_p, r.tau2, r.i2, r.h2];
    out.extend(r.r2);
    for c in &r.coefficients {
        let e = &c.estimate;
        out.extend([e.value, e.se, e.statistic, e.p, e.ci_lower, e.ci_upper]);
    }
    out.extend(r.vcov.iter().flatten());
    for s in &r.studies {
        out.extend([s.fitted, s.weight]);
        out.extend(s.x.to_vec());
    }
    out
}

/// Every estimator and test gives the same result from both matrices.
fn dense_and_sparse_agree(seed: u64) {
    let (dataset, design) = random_data(seed);
    let mut fitted = 0;
    for method in Method::ALL {
        for test in Test::ALL {
            let options = RegressionOptions {
                fit: FitOptions {
                    method,
                    test,
                    level: 95.0,
                    control: Control::default(),
                },
                design: design.clone(),
                permutations: None,
            };
            let dense = run(&dataset, &options, true, &|_| {}, Storage::Auto);
            let sparse = run(&dataset, &options, true, &|_| {}, Storage::Sparse);
            match (dense, sparse) {
                (Ok(dense), Ok(sparse)) => {
                    let (a, b) = (numbers(&dense), numbers(&sparse));
                    assert_eq!(a.len(), b.len());
                    for (i, (x, y)) in a.iter().zip(&b).enumerate() {
                        assert!(
                            close(*x, *y),
                            "seed {seed} {method:?} {test:?} #{i}: {x} vs {y}"
                        );
                    }
                    assert_eq!(dense.settings, sparse.settings);
                    fitted += 1;
                }
                (Err(dense), Err(sparse)) => assert_eq!(dense, sparse, "seed {seed}"),
                (dense, sparse) => panic!("seed {seed} {method:?}: {dense:?} vs {sparse:?}"),
            }
        }
    }
    // Most estimators fit (PM may find no root): the comparison is not vacuous.
    assert!(fitted >= 12, "seed {seed}: only {fitted} fits");
}

#[test]
fn seeded_random_designs_give_the_dense_results() {
    for seed in 0..8 {
        dense_and_sparse_agree(seed);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]
    #[test]
    fn any_design_gives_the_dense_results(seed in any::<u64>()) {
        dense_and_sparse_agree(seed);
    }
}

/// X'DX, X'Wy and Xβ are the dense ones to the last bit.
#[test]
fn the_products_are_the_dense_ones() {
    let (dataset, spec) = random_data(7);
    let dense = design::build(&dataset, &spec).expect("full rank");
    let (layout, sparse) = build(&dataset, &spec).expect("full rank");
    assert_eq!(layout, dense.layout());
    let k = dense.x.nrows();
    let w: Vec<f64> = (0..k).map(|i| 1.0 / (1.0 + i as f64)).collect();
    let y: Vec<f64> = (0..k).map(|i| (i as f64).sin()).collect();
    let beta = DVector::from_fn(dense.x.ncols(), |j, _| 0.3 * j as f64 - 1.0);
    assert_eq!(
        sparse.cross_weighted(&|i| w[i]),
        dense.x.cross_weighted(&|i| w[i])
    );
    assert_eq!(sparse.weighted_sum(&w, &y), dense.x.weighted_sum(&w, &y));
    assert_eq!(sparse.times(&beta), ModelMatrix::times(&dense.x, &beta));
    for i in 0..k {
        assert_eq!(sparse.model_row(i).to_vec(), dense.x.model_row(i).to_vec());
    }
}

/// The sparse path reproduces metafor's `rma(yi, vi, mods = ...)` on every
/// regression of tests/fixtures/moderators.json, at the house tolerance 1e-6.
#[test]
fn sparse_regressions_match_metafor() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/moderators.json"
    );
    let fixture: Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("fixture")).expect("json");
    let cases = fixture["regressions"].as_array().expect("regressions");
    assert!(cases.len() >= 60);
    let close = |a: f64, e: &Value, what: &str, call: &str| {
        let e = e.as_f64().unwrap_or(f64::NAN);
        assert!(
            (a - e).abs() <= 1e-6 * e.abs().max(1e-6) || (e.is_nan() && !a.is_finite()),
            "{call}: {what} = {a}, metafor {e}"
        );
    };
    for case in cases {
        let call = case["call"].as_str().expect("call");
        let data = fixture["datasets"]
            .as_array()
            .expect("datasets")
            .iter()
            .find(|d| d["id"] == case["dataset"])
            .expect("dataset");
        let text = json!({"measure": data["measure"], "studies": data["studies"]}).to_string();
        let dataset = load_json(&text, None).expect("loads");
        let strings = |v: &Value| -> Vec<String> {
            v.as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|s| s.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default()
        };
        let references = case["references"]
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| (k.clone(), v.as_str().expect("level").to_owned()))
                    .collect()
            })
            .unwrap_or_default();
        let options = RegressionOptions {
            fit: FitOptions {
                method: Method::parse(case["method"].as_str().expect("method")).expect("known"),
                test: if case["test"] == "knha" {
                    Test::Knha
                } else {
                    Test::Z
                },
                level: case["level"].as_f64().unwrap_or(95.0),
                control: Control::default(),
            },
            design: DesignSpec {
                moderators: strings(&case["mods"]),
                references,
                intercept: case["intercept"].as_bool().expect("intercept"),
            },
            permutations: None,
        };
        let r = run(&dataset, &options, true, &|_| {}, Storage::Sparse)
            .unwrap_or_else(|e| panic!("{call}: {e}"));
        let expected = case["coefficients"].as_array().expect("coefficients");
        assert_eq!(r.coefficients.len(), expected.len(), "{call}");
        for (c, e) in r.coefficients.iter().zip(expected) {
            close(c.estimate.value, &e["estimate"], "estimate", call);
            close(c.estimate.se, &e["se"], "se", call);
            close(c.estimate.p, &e["p"], "p", call);
        }
        close(r.tau2, &case["tau2"], "tau2", call);
        close(r.qm, &case["QM"], "QM", call);
        close(r.qe, &case["QE"], "QE", call);
        close(r.i2, &case["I2"], "I2", call);
        if let Some(r2) = r.r2 {
            close(r2, &case["R2"], "R2", call);
        }
    }
}

/// A moderator collinear with earlier ones is named as on the dense path.
#[test]
fn collinearity_is_named_as_on_the_dense_path() {
    let studies: Vec<Value> = (0..12)
        .map(|i| {
            let g = ["a", "b", "c"][i % 3];
            json!({"study": format!("S{i}"), "yi": 0.1 * i as f64, "vi": 0.05,
                "moderators": {"g": g, "h": g, "x": i as f64}})
        })
        .collect();
    let text = json!({"measure": "GEN", "studies": studies}).to_string();
    let dataset = load_json(&text, None).expect("loads");
    let spec = DesignSpec {
        moderators: vec!["x".into(), "g".into(), "h".into()],
        references: Vec::new(),
        intercept: true,
    };
    let dense = design::build(&dataset, &spec).expect_err("collinear");
    let sparse = build(&dataset, &spec).expect_err("collinear");
    assert_eq!(dense, sparse);
    assert!(matches!(sparse, DesignError::Collinear { ref moderator, .. } if moderator == "h"));
}

/// p² beyond MAX_CELLS is refused with the size, the limit and what to do.
#[test]
fn too_many_coefficients_are_refused_with_the_remedy() {
    let levels = 7_100; // p = 7,100 > √(5·10⁷) ≈ 7,071
    let studies: Vec<Value> = (0..levels + 10)
        .map(|i| {
            json!({"study": format!("S{i}"), "yi": 0.1, "vi": 0.05,
                "moderators": {"site": format!("L{}", i % levels)}})
        })
        .collect();
    let text = json!({"measure": "GEN", "studies": studies}).to_string();
    let dataset = load_json(&text, None).expect("loads");
    let spec = DesignSpec {
        moderators: vec!["site".into()],
        references: Vec::new(),
        intercept: true,
    };
    let err = build(&dataset, &spec).expect_err("too large");
    assert_eq!(
        err.to_string(),
        "the model has 7100 coefficients, so its 7100 × 7100 matrices would have 50410000 cells (0.4 GB), more than tau handles (at most 50000000 cells, 400 MB); 'site' alone has 7099 columns: treat its levels as random effects (``random` site`), analyse them separately (`tau subgroup `by` site`), merge rare levels, or leave 'site' out"
    );
}
