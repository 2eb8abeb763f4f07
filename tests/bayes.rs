//! tau bayes against exact integrals of bayesmeta's model.
//!
//! Expected values: tests/fixtures/bayes.json, written by
//! tests/fixtures/generate_bayes.R: R's integrate() (rel.tol 1e-12),
//! uniroot() and optimize() applied to the formulas of Röver (2020, J. Stat.
//! Softw. 93(6)), the model of bayesmeta 3.4, on 22 analyses of 15 metadat
//! data sets (k from 2 to 50), with 16 τ priors and parameterisations, flat
//! and normal priors on μ, and model averaging (metaBMA's bma()) in eight.
//! The script also runs bayesmeta(delta = 1e-5, epsilon = 1e-12) as a check
//! of the formulas and prints its largest difference.
//!
//! Tolerance: relative 1e-6 (absolute 1e-12 near 0), except the modes: a
//! mode is the maximum of a flat function, which both optimize() and tau
//! locate only to about √ε relative, so modes are checked at 1e-5.

use crate::util::prec::{close, close_to};
use serde_json::Value;
use tau_core::Dataset;
use tau_core::bayes::{BayesOptions, BayesResult, MuPrior, Summary, TauPrior, fit};
use tau_core::effect_size::measure::Measure;

fn fixture() -> Value {
    let text = std::fs::read_to_string("tests/fixtures/bayes.json").expect("bayes.json");
    serde_json::from_str(&text).expect("valid JSON")
}

fn numbers(v: &Value) -> Vec<f64> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_f64().unwrap_or(f64::NAN))
        .collect()
}

fn num(v: &Value) -> f64 {
    v.as_f64().unwrap_or(f64::NAN)
}

fn run(case: &Value) -> BayesResult {
    let measure = Measure::parse(case["measure"].as_str().unwrap()).unwrap();
    let mut data = Dataset::from_effects(measure, &numbers(&case["yi"]), &numbers(&case["vi"]));
    for (study, label) in data
        .studies
        .iter_mut()
        .zip(case["labels"].as_array().unwrap())
    {
        study.label = label.as_str().unwrap().into();
    }
    let options = BayesOptions {
        tau_prior: TauPrior::parse(case["tau_prior"].as_str().unwrap()).unwrap(),
        mu_prior: MuPrior::parse(case["mu_prior"].as_str().unwrap()).unwrap(),
        level: num(&case["level"]),
        average: case["average"].as_bool().unwrap(),
    };
    fit(&data, &options).unwrap()
}

fn name(case: &Value) -> String {
    format!(
        "{} tau_prior={} mu_prior={} average={} level={}",
        case["data"], case["tau_prior"], case["mu_prior"], case["average"], case["level"]
    )
}

/// Checks a number; NaN (R's NA, a moment that does not exist) must match NaN.
fn check(failures: &mut Vec<String>, what: &str, actual: f64, expected: &Value, tol: f64) {
    let expected = num(expected);
    let ok = if expected.is_nan() {
        actual.is_nan()
    } else {
        close_to(actual, expected, tol)
    };
    if !ok {
        failures.push(format!(
            "{what}: tau {actual:.12e}, R {expected:.12e} (rel {:.1e})",
            (actual - expected).abs() / expected.abs().max(1e-300)
        ));
    }
}

fn check_summary(failures: &mut Vec<String>, what: &str, s: &Summary, r: &Value) {
    check(failures, &format!("{what}.mode"), s.mode, &r["mode"], 1e-5);
    for (field, value) in [
        ("median", s.median),
        ("mean", s.mean),
        ("sd", s.sd),
        ("ci_lower", s.ci_lower),
        ("ci_upper", s.ci_upper),
    ] {
        check(failures, &format!("{what}.{field}"), value, &r[field], 1e-6);
    }
    let shortest = r["ci_shortest"].as_array().unwrap();
    check(
        failures,
        &format!("{what}.ci_shortest[0]"),
        s.ci_shortest[0],
        &shortest[0],
        1e-6,
    );
    check(
        failures,
        &format!("{what}.ci_shortest[1]"),
        s.ci_shortest[1],
        &shortest[1],
        1e-6,
    );
}

#[test]
fn matches_exact_integrals() {
    let fixture = fixture();
    let cases = fixture["cases"].as_array().unwrap();
    assert!(cases.len() >= 20);
    let mut failures = Vec::new();
    for case in cases {
        let r = run(case);
        let mut f = Vec::new();
        check_summary(&mut f, "tau", &r.tau, &case["tau"]);
        check_summary(&mut f, "mu", &r.mu, &case["mu"]);
        check_summary(&mut f, "theta_new", &r.theta_new, &case["theta_new"]);
        for (s, e) in r.studies.iter().zip(case["studies"].as_array().unwrap()) {
            assert_eq!(s.study, e["study"].as_str().unwrap());
            for (field, value) in [
                ("mean", s.mean),
                ("sd", s.sd),
                ("median", s.median),
                ("ci_lower", s.ci_lower),
                ("ci_upper", s.ci_upper),
            ] {
                check(
                    &mut f,
                    &format!("study {}.{field}", s.study),
                    value,
                    &e[field],
                    1e-6,
                );
            }
        }
        match (
            &r.log_marginal_likelihood,
            case.get("log_marginal_likelihood"),
        ) {
            (Some(l), Some(e)) => {
                check(&mut f, "log_marginal_likelihood", *l, e, 1e-6);
                let bf = r.bayes_factor.unwrap();
                check(
                    &mut f,
                    "bf tau=0",
                    bf.tau_zero,
                    &case["bayes_factor"]["tau=0"],
                    1e-6,
                );
                check(
                    &mut f,
                    "bf mu=0",
                    bf.mu_zero,
                    &case["bayes_factor"]["mu=0"],
                    1e-6,
                );
            }
            (None, None) => {}
            (a, e) => f.push(format!("marginal likelihood: tau {a:?}, R {e:?}")),
        }
        if let Some(models) = case.get("models") {
            let m = r.models.expect("models");
            for (key, model) in [
                ("fixed_H0", m.fixed_h0),
                ("fixed_H1", m.fixed_h1),
                ("random_H0", m.random_h0),
                ("random_H1", m.random_h1),
            ] {
                let e = &models[key];
                check(
                    &mut f,
                    &format!("{key}.log_ml"),
                    model.log_marginal_likelihood,
                    &e["log_marginal_likelihood"],
                    1e-6,
                );
                check(
                    &mut f,
                    &format!("{key}.posterior_prob"),
                    model.posterior_prob,
                    &e["posterior_prob"],
                    1e-6,
                );
            }
            let inc = r.inclusion_bf.unwrap();
            check(
                &mut f,
                "inclusion effect",
                inc.effect,
                &case["inclusion_bf"]["effect"],
                1e-6,
            );
            check(
                &mut f,
                "inclusion heterogeneity",
                inc.heterogeneity,
                &case["inclusion_bf"]["heterogeneity"],
                1e-6,
            );
            let a = r.averaged.unwrap().mu;
            let e = &case["averaged"]["mu"];
            for (field, value) in [
                ("mean", a.mean),
                ("median", a.median),
                ("ci_lower", a.ci_lower),
                ("ci_upper", a.ci_upper),
            ] {
                check(&mut f, &format!("averaged.{field}"), value, &e[field], 1e-6);
            }
        } else {
            assert!(r.models.is_none());
        }
        if !f.is_empty() {
            failures.push(format!("{}:\n  {}", name(case), f.join("\n  ")));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn options_read_back_from_json() {
    let options: BayesOptions = serde_json::from_str(
        r#"{"tau_prior": {"family": "half-normal", "scale": 0.5}, "mu_prior": {"family": "normal", "mean": 0, "sd": 4}, "average": true}"#,
    )
    .unwrap();
    assert_eq!(options.tau_prior, TauPrior::HalfNormal { scale: 0.5 });
    assert!(close(options.level, 95.0));
    let text = serde_json::to_string(&options).unwrap();
    assert_eq!(
        serde_json::from_str::<BayesOptions>(&text).unwrap(),
        options
    );
}

#[test]
fn refusals_name_the_field() {
    let data = Dataset::from_effects(Measure::SMD, &[0.1, 0.4], &[0.04, 0.05]);
    let flat = BayesOptions {
        tau_prior: TauPrior::HalfNormal { scale: 0.5 },
        mu_prior: MuPrior::Flat,
        level: 95.0,
        average: true,
    };
    let e = fit(&data, &flat).unwrap_err().to_string();
    assert!(e.starts_with("`mu_prior`: model averaging"), "{e}");
    let improper = BayesOptions {
        tau_prior: TauPrior::UniformImproper,
        average: false,
        ..flat
    };
    let e = fit(&data, &improper).unwrap_err().to_string();
    assert!(
        e.starts_with("`tau_prior`: the improper uniform prior with 2 studies"),
        "{e}"
    );
    let e = TauPrior::parse("half-normal:-1").unwrap_err().to_string();
    assert!(e.contains("`tau_prior`") && e.contains("positive"), "{e}");
    let e = TauPrior::parse("gamma:1,2").unwrap_err().to_string();
    assert!(e.contains("unknown prior"), "{e}");
    let bad = Dataset::from_effects(Measure::SMD, &[0.1, 0.4], &[0.04, 0.0]);
    let e = fit(&bad, &improper).unwrap_err().to_string();
    assert!(e.contains("`vi`"), "{e}");
}

mod cli {
    use crate::util::tau;
    use serde_json::Value;

    fn temp_path(name: &str) -> std::path::PathBuf {
        std::env::temp_dir().join(format!("tau-cli-bayes-{}-{name}", std::process::id()))
    }

    #[test]
    fn json_report_has_the_contract_keys() {
        let output = tau()
            .args([
                "bayes",
                "studies/bcg.json",
                "--tau-prior",
                "half-normal:0.5",
                "--mu-prior",
                "normal:0,4",
                "--average",
                "--format",
                "json",
            ])
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let v: Value = serde_json::from_slice(&output.stdout).unwrap();
        for key in ["tau", "mu", "theta_new"] {
            for field in [
                "mode",
                "median",
                "mean",
                "sd",
                "ci_lower",
                "ci_upper",
                "ci_shortest",
            ] {
                assert!(v[key].get(field).is_some(), "{key}.{field}");
            }
        }
        for key in [
            "marginal_likelihood",
            "log_marginal_likelihood",
            "studies",
            "inclusion_bf",
            "averaged",
        ] {
            assert!(v.get(key).is_some(), "{key}");
        }
        assert!(v["bayes_factor"].get("tau=0").is_some());
        assert!(v["models"]["random_H1"].get("posterior_prob").is_some());
        assert_eq!(v["studies"].as_array().unwrap().len(), 13);
    }

    #[test]
    fn text_and_plots() {
        let forest = temp_path("forest.svg");
        let density = temp_path("density.svg");
        let output = tau()
            .args([
                "bayes",
                "studies/bcg.json",
                "--tau-prior",
                "half-cauchy:0.5",
                "--plot",
            ])
            .arg(&forest)
            .arg("--density-plot")
            .arg(&density)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let text = String::from_utf8_lossy(&output.stdout);
        assert!(
            text.contains("Bayesian Random-Effects Model (k = 13"),
            "{text}"
        );
        assert!(text.contains("Reading: given these priors"), "{text}");
        for path in [&forest, &density] {
            let svg = std::fs::read_to_string(path).unwrap();
            assert!(svg.starts_with("<svg"), "{}", &svg[..svg.len().min(80)]);
            let _ = std::fs::remove_file(path);
        }
    }

    #[test]
    fn refusals() {
        let run = |args: &[&str]| {
            let output = tau().args(args).output().unwrap();
            (
                output.status.code(),
                String::from_utf8_lossy(&output.stderr).into_owned(),
            )
        };
        let (code, err) = run(&[
            "bayes",
            "studies/bcg.json",
            "--tau-prior",
            "half-normal:0.5",
            "--mods",
            "ablat",
        ]);
        assert_eq!(code, Some(2));
        assert!(
            err.contains("--mods is not available") && err.contains("bmr"),
            "{err}"
        );
        let (code, err) = run(&[
            "bayes",
            "studies/bcg.json",
            "--tau-prior",
            "half-normal:0.5",
            "--average",
        ]);
        assert_eq!(code, Some(2));
        assert!(
            err.contains("--average needs a proper prior on mu"),
            "{err}"
        );
        let (code, err) = run(&["bayes", "studies/bcg.json", "--tau-prior", "gamma:2"]);
        assert_eq!(code, Some(2));
        assert!(err.contains("unknown prior"), "{err}");
    }
}
