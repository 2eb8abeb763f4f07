//! Fitting a general `rma.mv` model and writing its result in the
//! vocabulary of the multilevel result.

use super::GeneralOptions;
use super::likelihood::{Component, EvalError, Problem};
use super::optimise::{SearchError, maximise};
use super::prepare::Prepared;
use crate::estimate::Estimate;
use crate::model::Method;
use crate::model::wls::log_det_spd;
use crate::multilevel::fit::{inference_of, omnibus_of};
use crate::multilevel::i2::{i2, typical_variance};
use crate::multilevel::likelihood::LN_2PI;
use crate::multilevel::optimise::Convergence;
use crate::multilevel::{
    MultilevelError, MultilevelResult, MultilevelSettings, StructuredParameters,
};
use crate::numerics::distribution::chisq_sf;
use crate::regression::Coefficient;
use crate::settings::VERSION;
use crate::warning::Warning;

fn eval_error(e: EvalError, labels: &[String]) -> MultilevelError {
    match e {
        EvalError::Singular => MultilevelError::Singular,
        EvalError::NotPositiveDefinite(row) => MultilevelError::NotPositiveDefinite {
            cluster: labels.get(row).cloned().unwrap_or_default(),
        },
    }
}

/// Fits the general `rma.mv` model of `options` to `dataset`.
pub fn fit(
    dataset: &crate::data::dataset::Dataset,
    options: &GeneralOptions,
) -> Result<MultilevelResult, MultilevelError> {
    if !matches!(options.method, Method::REML | Method::ML) {
        return Err(MultilevelError::Method(options.method.name()));
    }
    if !(options.level > 0.0 && options.level < 100.0) {
        return Err(MultilevelError::BadLevel(options.level));
    }
    let prepared = Prepared::new(dataset, options)?;
    let Prepared {
        data,
        x,
        coefficient_names,
        tested,
        dropped,
        y,
        vi,
        components,
        sigma_names,
        sigma_levels,
        structured,
        labels,
        v_offdiagonal,
        mut warnings,
    } = prepared;
    let (k, p) = x.shape();
    let log_det_xtx = log_det_spd(&(x.transpose() * &x)).map_err(|_| MultilevelError::Singular)?;
    let reml = options.method == Method::REML;
    let problem = Problem::new(&y, &x, &vi, &v_offdiagonal, components, reml, log_det_xtx);
    let fixed = problem
        .evaluate(&[], false, false)
        .map_err(|e| eval_error(e, &labels))?;
    // Start: the residual variance of the fixed-effects fit beyond the
    // sampling variances, shared by every component.
    let mean_vi = vi.iter().sum::<f64>() / k as f64;
    let residual: f64 = (0..k)
        .map(|i| {
            let fitted: f64 = (0..p).map(|c| x[(i, c)] * fixed.beta[c]).sum();
            (y[i] - fitted).powi(2)
        })
        .sum::<f64>()
        / (k - p) as f64;
    let start_variance = (residual - mean_vi).max(0.1 * mean_vi);
    let mut start = Vec::new();
    let mut variances = Vec::new();
    for c in &problem.components {
        match c {
            Component::Sigma { fixed, .. } => {
                if !fixed {
                    start.push(start_variance.ln());
                    variances.push(true);
                }
            }
            Component::Structured { times, kind, .. } => {
                let n = times.len();
                start.extend(kind.start(n, start_variance));
                variances.extend((0..kind.n_params(n)).map(|j| j < kind.n_tau2(n)));
            }
        }
    }
    let maximum =
        maximise(&problem, &start, &variances, options.max_iter).map_err(|e| match e {
            SearchError::Start(e) => eval_error(e, &labels),
            SearchError::NotConverged {
                iterations,
                gradient,
            } => MultilevelError::NotConverged {
                iterations,
                gradient,
                change: f64::NAN,
            },
        })?;
    let eval = &maximum.eval;
    // The parameters back on metafor's scales.
    let mut sigma2 = Vec::new();
    let mut parameters = StructuredParameters::default();
    let mut next = 0;
    let mut nth_structured = 0;
    for c in &problem.components {
        let n = c.n_params();
        let eta = &maximum.eta[next..next + n];
        next += n;
        match c {
            Component::Sigma { fixed, .. } => sigma2.push(if *fixed { 0.0 } else { eta[0].exp() }),
            Component::Structured { times, kind, .. } => {
                let (tau2, rho) = kind.values(times.len(), eta);
                let rho = (!matches!(kind, super::Struct::DIAG | super::Struct::ID)).then_some(rho);
                let levels = Some(structured[nth_structured].levels.clone());
                if nth_structured == 0 {
                    parameters.tau2 = Some(tau2);
                    parameters.rho = rho;
                    parameters.g_levels = levels;
                } else {
                    parameters.gamma2 = Some(tau2);
                    parameters.phi = rho;
                    parameters.h_levels = levels;
                }
                nth_structured += 1;
            }
        }
    }
    let boundary = 1e-6 * mean_vi;
    let single: Vec<usize> = problem
        .components
        .iter()
        .filter(|c| matches!(c, Component::Sigma { .. }))
        .enumerate()
        .filter(|(_, c)| matches!(c, Component::Sigma { fixed: true, .. }))
        .map(|(j, _)| j)
        .collect();
    if !single.is_empty() {
        warnings.push(Warning::SingleUnitLevel {
            levels: single.iter().map(|&l| sigma_names[l].clone()).collect(),
        });
    }
    let at_zero: Vec<bool> = (0..sigma2.len())
        .map(|l| sigma2[l] < boundary && !single.contains(&l))
        .collect();
    let zero_names: Vec<String> = (0..sigma2.len())
        .filter(|&l| at_zero[l])
        .map(|l| sigma_names[l].clone())
        .collect();
    if !zero_names.is_empty() {
        warnings.push(Warning::Sigma2AtZero { levels: zero_names });
    }
    let inference = inference_of(&eval.beta, &eval.vcov, options.test, options.level, k);
    let omnibus = if tested.is_empty() {
        None
    } else {
        Some(omnibus_of(&eval.beta, &eval.vcov, &tested, inference.df)?)
    };
    let parms = (p + problem.n_params()) as f64;
    let (log_lik, n, deviance) = if reml {
        (eval.ll, (k - p) as f64, -2.0 * eval.ll)
    } else {
        let saturated = -0.5 * (k as f64 * LN_2PI + fixed.log_det_m);
        (eval.ll_ml, k as f64, -2.0 * (eval.ll_ml - saturated))
    };
    let bound = n.max(parms + 2.0);
    let typical = typical_variance(&x, &vi).map_err(|_| MultilevelError::Singular)?;
    let (i2_levels, i2_total) = i2(&sigma2, typical);
    let intercept_only = tested.is_empty() && p == 1;
    let estimate = |j: usize| Estimate {
        value: eval.beta[j],
        se: inference.se[j],
        statistic: inference.statistic[j],
        p: inference.p[j],
        ci_lower: inference.ci_lower[j],
        ci_upper: inference.ci_upper[j],
    };
    let (summary, coefficients) = if intercept_only {
        (Some(estimate(0)), None)
    } else {
        let coefficients = coefficient_names
            .iter()
            .enumerate()
            .map(|(j, name)| Coefficient {
                name: name.clone(),
                estimate: estimate(j),
                p_permutation: None,
            })
            .collect();
        (None, Some(coefficients))
    };
    // The prediction interval adds every σ²; with a structured term it
    // depends on the level of inner (metafor's tau2.levels), not given here.
    let pi = (intercept_only && structured.is_empty()).then(|| {
        let half = inference.crit * (eval.vcov[(0, 0)] + sigma2.iter().sum::<f64>()).sqrt();
        (eval.beta[0] - half, eval.beta[0] + half)
    });
    Ok(MultilevelResult {
        title: data.title.clone(),
        k,
        summary,
        coefficients,
        df: inference.df,
        qm: omnibus.map(|o| o.0),
        qm_df: omnibus.map(|o| o.1),
        qm_df2: omnibus.and_then(|o| o.2),
        qm_p: omnibus.map(|o| o.3),
        sigma2_at_zero: at_zero,
        sigma2,
        sigma2_names: sigma_names,
        sigma2_levels: sigma_levels,
        sigma2_ci: None,
        log_lik,
        deviance,
        aic: -2.0 * log_lik + 2.0 * parms,
        bic: -2.0 * log_lik + parms * n.ln(),
        aicc: -2.0 * log_lik + 2.0 * parms * bound / (bound - parms - 1.0),
        qe: fixed.rss.max(0.0),
        qe_df: k - p,
        qe_p: chisq_sf(fixed.rss.max(0.0), (k - p) as f64),
        i2_levels,
        i2_total,
        pi_lower: pi.map(|p| p.0),
        pi_upper: pi.map(|p| p.1),
        structured: parameters,
        level_tests: None,
        ranef: None,
        sigma2_ci_limit: Vec::new(),
        vcov: (0..p)
            .map(|a| (0..p).map(|b| eval.vcov[(a, b)]).collect())
            .collect(),
        dropped,
        settings: MultilevelSettings {
            method: options.method,
            test: options.test,
            level: options.level,
            measure: data.measure,
            random: options.terms.clone(),
            rho: None,
            structs: options.structs.clone(),
            general: true,
            convergence: Convergence {
                iterations: maximum.iterations,
                gradient: eval.gradient.iter().fold(0.0, |m, g| m.max(g.abs())),
                final_change: 0.0,
            },
            max_iter: options.max_iter,
            version: VERSION,
        },
        warnings,
        robust: false,
    })
}
