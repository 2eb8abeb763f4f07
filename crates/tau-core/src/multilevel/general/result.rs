//! Fitting a general `rma.mv` model and writing its result in the
//! vocabulary of the multilevel result.

use super::GeneralOptions;
use super::likelihood::Component;
use super::maximised::Maximised;
use super::prepare::Prepared;
use super::profile::{ParameterCi, parameter_ci, profiled};
use crate::estimate::Estimate;
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

/// The profile CIs of a component: one per σ² (none for one held at 0), or
/// one per τ² and ρ of a structured term (none for DIAG's and ID's ρ).
struct ComponentCis {
    variances: Vec<Option<ParameterCi>>,
    correlations: Vec<Option<ParameterCi>>,
}

fn variance_cis(m: &Maximised, options: &GeneralOptions) -> Vec<ComponentCis> {
    let problem = &m.problem;
    let rebuild = |c| m.rebuild(c);
    let ll_hat = m.weighted.as_ref().map_or(m.maximum.eval.ll, |w| w.ll);
    let mut start = 0;
    let mut out = Vec::with_capacity(problem.components.len());
    for (ci, c) in problem.components.iter().enumerate() {
        let n = c.n_params();
        let n_variances = match c {
            Component::Sigma { .. } => 1,
            Component::Structured { times, kind, .. } => kind.n_tau2(times.len()),
        };
        let cis: Vec<Option<ParameterCi>> = (0..n.max(n_variances))
            .map(|local| {
                let mut p = profiled(
                    problem,
                    &rebuild,
                    &m.maximum,
                    &m.variances,
                    ci,
                    local,
                    start,
                )?;
                p.weighted = m.weighted_data();
                Some(parameter_ci(&p, ll_hat, options.level, options.max_iter))
            })
            .collect();
        let (variance_part, correlation_part) = cis.split_at(n_variances);
        out.push(ComponentCis {
            variances: variance_part.to_vec(),
            correlations: correlation_part.to_vec(),
        });
        start += n;
    }
    out
}

fn pairs(cis: &[Option<ParameterCi>]) -> Vec<[Option<f64>; 2]> {
    cis.iter()
        .map(|ci| ci.map_or([None, None], |ci| [ci.lower, ci.upper]))
        .collect()
}

/// Fits the general `rma.mv` model of `options` to `dataset`.
pub fn fit(
    dataset: &crate::data::dataset::Dataset,
    options: &GeneralOptions,
) -> Result<MultilevelResult, MultilevelError> {
    let maximised = Maximised::new(dataset, options)?;
    let cis = options.profile.then(|| variance_cis(&maximised, options));
    let Maximised {
        prepared,
        problem,
        fixed: fixed_fit,
        maximum,
        reml,
        mean_vi,
        weighted,
        ..
    } = maximised;
    let Prepared {
        data,
        x,
        coefficient_names,
        tested,
        dropped,
        vi,
        sigma_names,
        sigma_levels,
        structured,
        mut warnings,
        ..
    } = prepared;
    let (k, p) = x.shape();
    // With user weights, the coefficients, their covariance and ℓ are
    // those of the final weighted fit.
    let mut eval = maximum.eval.clone();
    let weighted_fit = weighted.is_some();
    if let Some(w) = weighted {
        eval.beta = w.beta;
        eval.vcov = w.vcov;
        eval.ll = w.ll;
        eval.ll_ml = w.ll_ml;
    }
    let eval = &eval;
    // The parameters back on metafor's scales.
    let mut sigma2 = Vec::new();
    let mut parameters = StructuredParameters::default();
    let mut next = 0;
    let mut nth_structured = 0;
    let mut sigma2_ci = Vec::new();
    let mut sigma2_ci_limit = Vec::new();
    for (ci, c) in problem.components.iter().enumerate() {
        let component_cis = cis.as_ref().map(|cis| &cis[ci]);
        let n = c.n_params();
        let eta = &maximum.eta[next..next + n];
        next += n;
        match c {
            Component::Sigma { fixed, .. } => {
                sigma2.push(if *fixed { 0.0 } else { eta[0].exp() });
                if let Some(cis) = component_cis {
                    sigma2_ci.extend(pairs(&cis.variances));
                    sigma2_ci_limit.push(
                        cis.variances[0]
                            .filter(|ci| ci.beyond)
                            .map_or(f64::NAN, |ci| ci.limit),
                    );
                    if let Some(ci) = cis.variances[0].filter(|ci| ci.beyond) {
                        warnings.push(Warning::Sigma2CiBeyondSearch {
                            level: sigma_names[sigma2.len() - 1].clone(),
                            limit: ci.limit,
                        });
                    }
                }
            }
            Component::Structured { times, kind, .. } => {
                let (tau2, rho) = kind.values(times.len(), eta);
                let rho = (!matches!(kind, super::Struct::DIAG | super::Struct::ID)).then_some(rho);
                let levels = Some(structured[nth_structured].levels.clone());
                let variance_cis = component_cis.map(|c| pairs(&c.variances));
                let correlation_cis = component_cis
                    .filter(|c| !c.correlations.is_empty())
                    .map(|c| pairs(&c.correlations));
                if nth_structured == 0 {
                    parameters.tau2 = Some(tau2);
                    parameters.rho = rho;
                    parameters.g_levels = levels;
                    parameters.tau2_ci = variance_cis;
                    parameters.rho_ci = correlation_cis;
                } else {
                    parameters.gamma2 = Some(tau2);
                    parameters.phi = rho;
                    parameters.h_levels = levels;
                    parameters.gamma2_ci = variance_cis;
                    parameters.phi_ci = correlation_cis;
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
        let saturated = -0.5 * (k as f64 * LN_2PI + fixed_fit.log_det_m);
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
        sigma2_ci: cis.is_some().then_some(sigma2_ci),
        log_lik,
        deviance,
        aic: -2.0 * log_lik + 2.0 * parms,
        bic: -2.0 * log_lik + parms * n.ln(),
        aicc: -2.0 * log_lik + 2.0 * parms * bound / (bound - parms - 1.0),
        qe: fixed_fit.rss.max(0.0),
        qe_df: k - p,
        qe_p: chisq_sf(fixed_fit.rss.max(0.0), (k - p) as f64),
        i2_levels,
        i2_total,
        pi_lower: pi.map(|p| p.0),
        pi_upper: pi.map(|p| p.1),
        structured: parameters,
        level_tests: None,
        ranef: None,
        sigma2_ci_limit,
        vcov: (0..p)
            .map(|a| (0..p).map(|b| eval.vcov[(a, b)]).collect())
            .collect(),
        dropped,
        settings: MultilevelSettings {
            user_weights: weighted_fit,
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
