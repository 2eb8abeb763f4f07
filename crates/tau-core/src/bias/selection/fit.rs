//! Fitting a selection model as metafor's `selmodel.rma.uni` does, and the
//! result with its tests.

use nalgebra::{DMatrix, DVector};
use serde::Serialize;

use super::SelectionError;
use super::likelihood::{Likelihood, log_density};
use super::robust::sandwich;
use super::weight::{Alternative, DeltaSpec, SelectionType};
use crate::estimate::Estimate;
use crate::model::{Control, FitOptions, Method, Test, fit};
use crate::numerics::distribution::{chisq_sf, normal_two_sided_p, normal_upper};
use crate::numerics::hessian::hessian;
use crate::numerics::integrate::IntegrationFailure;
use crate::numerics::optim::{OptimFailure, bfgs, bfgs_with};
use crate::warning::Warning;

/// What selection model to fit.
#[derive(Debug, Clone, PartialEq)]
pub struct SelectionOptions {
    /// The weight function.
    pub kind: SelectionType,
    /// Cut-points on the one-sided p-values (step: one or more; the other
    /// types: at most one, below which the weight is 1).
    pub steps: Vec<f64>,
    /// The favoured direction.
    pub alternative: Alternative,
    /// A common-effect model (τ² = 0) instead of random effects.
    pub common_effect: bool,
    /// Confidence level in percent.
    pub level: f64,
    /// Iteration control of the model without selection.
    pub control: Control,
}

/// One coefficient of the selection model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Coefficient {
    /// metafor's name (`intrcpt` or the moderator's column).
    pub name: String,
    /// Estimate, SE (from the Hessian), z, p and CI.
    #[serde(flatten)]
    pub estimate: Estimate,
}

/// The Wald test of the moderators (all coefficients but the intercept).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Omnibus {
    /// QM.
    pub statistic: f64,
    /// Its degrees of freedom.
    pub df: usize,
    /// χ² p-value.
    pub p: f64,
}

/// The likelihood-ratio test of τ² = 0 within the selection model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HeterogeneityLrt {
    /// LRT statistic (1 df).
    pub statistic: f64,
    /// χ²(1) p-value.
    pub p: f64,
}

/// One interval of one-sided p-values and the studies in it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Interval {
    /// Exclusive lower limit.
    pub lower: f64,
    /// Inclusive upper limit.
    pub upper: f64,
    /// Number of studies.
    pub k: usize,
}

impl Interval {
    /// metafor's label, e.g. `0.025 < p <= 1`.
    pub fn label(&self) -> String {
        use crate::numerics::number::readable;
        format!("{} < p <= {}", readable(self.lower), readable(self.upper))
    }
}

/// The model without selection (ML or common-effect), for comparison.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Unadjusted {
    /// The first coefficient (the pooled estimate without moderators).
    pub estimate: f64,
    /// Its standard error.
    pub se: f64,
    /// Lower confidence limit.
    pub ci_lower: f64,
    /// Upper confidence limit.
    pub ci_upper: f64,
    /// τ² by ML (0 for the common-effect model).
    pub tau2: f64,
    /// Its log-likelihood.
    pub log_likelihood: f64,
}

/// How the selection model was fitted.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SelectionSettings {
    /// The weight function.
    #[serde(rename = "type")]
    pub kind: SelectionType,
    /// The cut-points used (for a step function, with 1 last as in metafor).
    pub steps: Vec<f64>,
    /// The favoured direction.
    pub alternative: Alternative,
    /// "ML" (random effects) or "EE" (common effect).
    pub method: &'static str,
    /// Confidence level in percent.
    pub level: f64,
    /// Smallest p-value used (metafor's `pval.min`).
    pub pval_min: f64,
}

/// The clusters of dependent effect sizes, for cluster-robust standard errors.
#[derive(Debug, Clone, PartialEq)]
pub struct Clusters {
    /// The moderator holding the cluster identifier.
    pub name: String,
    /// Each cluster's identifier and its effects (rows of the model).
    pub groups: Vec<(String, Vec<usize>)>,
}

/// How the standard errors were made cluster-robust (JSON `robust`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SelectionRobust {
    /// "CR0": the sandwich of the per-cluster scores, without small-sample factor.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The cluster moderator.
    pub cluster: String,
    /// Number of clusters.
    pub clusters: usize,
    /// The Hessian-based (model-based) standard error of the adjusted
    /// estimate, which treats the effects as independent, for comparison.
    pub model_se: f64,
}

/// A fitted selection model. Field names are the JSON contract.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[allow(non_snake_case)]
pub struct SelectionModel {
    /// Number of studies.
    pub k: usize,
    /// The adjusted estimate (the first coefficient), its SE, z, p and CI.
    #[serde(flatten)]
    pub estimate: Estimate,
    /// Every coefficient (one without moderators).
    pub coefficients: Vec<Coefficient>,
    /// Test of the moderators, when there are any.
    pub moderators_test: Option<Omnibus>,
    /// τ² (0 for the common-effect model).
    pub tau2: f64,
    /// Its standard error (Hessian).
    pub tau2_se: f64,
    /// Wald-type interval for τ², truncated at 0 (metafor's `ci.lb.tau2`, `ci.ub.tau2`).
    pub tau2_ci: [f64; 2],
    /// The selection parameters in metafor's order (first fixed at 1 for a step function).
    pub delta: Vec<f64>,
    /// Whether each δ was fixed rather than estimated.
    pub delta_fixed: Vec<bool>,
    /// Their standard errors (null when fixed).
    pub delta_se: Vec<f64>,
    /// Wald-type intervals, truncated at the lower bound 0.
    pub delta_ci: Vec<[f64; 2]>,
    /// z statistics against no selection (δ = 1 for step and beta, 0 otherwise).
    pub delta_statistic: Vec<f64>,
    /// Their two-sided p-values.
    pub delta_p: Vec<f64>,
    /// Likelihood-ratio test of the selection parameters (no selection).
    pub LRT: f64,
    /// Its degrees of freedom.
    pub LRT_df: usize,
    /// Its p-value.
    pub LRT_p: f64,
    /// Likelihood-ratio test of τ² = 0 in the selection model (random effects only).
    pub heterogeneity: Option<HeterogeneityLrt>,
    /// Log-likelihood of the selection model.
    pub log_likelihood: f64,
    /// The model without selection.
    pub unadjusted: Unadjusted,
    /// Intervals of the one-sided p-values with their study counts (when there are cut-points).
    pub intervals: Vec<Interval>,
    /// How it was computed.
    pub settings: SelectionSettings,
    /// Cluster-robust standard errors (`se`, `delta_se`, `tau2_se` and every
    /// test and interval are then robust), when clusters were given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub robust: Option<SelectionRobust>,
    /// Things to know about the fit.
    pub warnings: Vec<Warning>,
}

impl SelectionModel {
    /// The fitted weight function at the one-sided p-value `p`.
    pub fn weight_at(&self, p: f64) -> f64 {
        let p = p
            .max(self.settings.pval_min)
            .min(1.0 - self.settings.pval_min);
        super::weight::weight(self.settings.kind, p, &self.delta, &self.settings.steps)
    }
}

/// Values held fixed in the likelihood (metafor's `tau2.val`, `delta.val`).
struct Fixed {
    tau2: Option<f64>,
    delta: Vec<Option<f64>>,
}

/// (β, τ², δ) from metafor's parameter vector: τ² on the log scale and δ
/// mapped by δ = min + (max − min)/(1 + e^(−x)) when `transformed`.
fn unpack(
    par: &[f64],
    p: usize,
    transformed: bool,
    fixed: &Fixed,
    spec: &DeltaSpec,
) -> (Vec<f64>, f64, Vec<f64>) {
    let beta = par[..p].to_vec();
    let mut tau2 = if transformed { par[p].exp() } else { par[p] };
    if let Some(value) = fixed.tau2 {
        tau2 = value;
    }
    if tau2 < f64::EPSILON * 10.0 {
        tau2 = 0.0;
    }
    let delta = par[p + 1..]
        .iter()
        .enumerate()
        .map(|(j, &d)| match fixed.delta[j] {
            Some(value) => value,
            None if transformed => spec.min[j] + (spec.max[j] - spec.min[j]) / (1.0 + (-d).exp()),
            None => d,
        })
        .collect();
    (beta, tau2, delta)
}

/// Standardises the continuous columns of X as metafor does before the search
/// (`scaleX`); returns the scaled X and the matrix M with β = M β_scaled.
fn scale_design(x: &DMatrix<f64>, intercept: bool) -> (DMatrix<f64>, Option<DMatrix<f64>>) {
    let (k, p) = x.shape();
    if !intercept || p < 2 {
        return (x.clone(), None);
    }
    let mut scaled = x.clone();
    let mut m = DMatrix::identity(p, p);
    for j in 1..p {
        let column = x.column(j);
        let is_dummy = column
            .iter()
            .all(|&v| v.abs() < 1e-8 || (v - 1.0).abs() < 1e-8);
        if is_dummy {
            continue;
        }
        let mean = column.sum() / k as f64;
        let sd = (column.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (k as f64 - 1.0)).sqrt();
        m[(0, j)] = -mean / sd;
        m[(j, j)] = 1.0 / sd;
        for i in 0..k {
            scaled[(i, j)] = (x[(i, j)] - mean) / sd;
        }
    }
    (scaled, Some(m))
}

/// max(value, bound), but NaN (R's NA) stays NaN.
fn truncate(value: f64, bound: f64) -> f64 {
    if value < bound { bound } else { value }
}

/// Inverts a symmetric positive-definite matrix by Cholesky (R `chol2inv(chol(.))`).
fn invert(h: DMatrix<f64>) -> Option<DMatrix<f64>> {
    let inverse = h.cholesky()?.inverse();
    inverse.iter().all(|v| v.is_finite()).then_some(inverse)
}

fn optim_error(failure: OptimFailure<(usize, IntegrationFailure)>) -> SelectionError {
    match failure {
        OptimFailure::Objective((study, e)) => SelectionError::Integration {
            study: study + 1,
            reason: e.message(),
        },
        OptimFailure::InitialNotFinite => SelectionError::NotConverged {
            reason: "the likelihood is not finite at the start values",
        },
        OptimFailure::GradientNotFinite => SelectionError::NotConverged {
            reason: "the likelihood's gradient is not finite",
        },
        OptimFailure::MaxIterations => SelectionError::NotConverged {
            reason: "no convergence in 100 iterations of the BFGS optimiser",
        },
    }
}

/// The most cut-points a step function may have. Each cut-point adds a
/// parameter and an interval, so one likelihood costs O(k·cut-points) and the
/// Hessian (numDeriv's `genD`, O(parameters²) likelihoods) O(k·cut-points³):
/// 200 cut-points on 2,000 studies ran for hours. Beyond a few dozen the
/// intervals hold too few studies to estimate their weights anyway.
pub const MAX_STEPS: usize = 30;

/// metafor's `deltatol`: a step function's δ below this counts as fixed in
/// the Hessian.
const DELTATOL: f64 = 1e-4;

/// Checks the cut-points and returns them as metafor uses them: sorted,
/// without duplicates, with 1 appended (step, or another type with a cut-point);
/// `[0]` for another type without one. A cut-point 1 is the end of the last
/// interval, which metafor appends when it is missing: `steps = c(.05, .1, .5, 1)`
/// and `c(.05, .1, .5)` are the same model there, and here.
fn prepare_steps(kind: SelectionType, steps: &[f64]) -> Result<Vec<f64>, SelectionError> {
    #[allow(clippy::float_cmp)] // exactly 1, as metafor's `steps[length(steps)] != 1`
    let steps: Vec<f64> = steps.iter().copied().filter(|&s| s != 1.0).collect();
    if let Some(&value) = steps
        .iter()
        .find(|s| !(s.is_finite() && **s > 0.0 && **s < 1.0))
    {
        return Err(SelectionError::BadStep { value });
    }
    let mut sorted = steps;
    sorted.sort_by(f64::total_cmp);
    sorted.dedup();
    if sorted.len() > MAX_STEPS {
        return Err(SelectionError::TooManySteps {
            given: sorted.len(),
            max: MAX_STEPS,
        });
    }
    match kind {
        SelectionType::Step if sorted.is_empty() => Err(SelectionError::NoSteps),
        SelectionType::Beta => Ok(vec![0.0]),
        SelectionType::Step => {
            sorted.push(1.0);
            Ok(sorted)
        }
        _ if sorted.len() > 1 => Err(SelectionError::OneStepOnly { kind: kind.name() }),
        _ if sorted.is_empty() => Ok(vec![0.0]),
        _ => {
            sorted.push(1.0);
            Ok(sorted)
        }
    }
}

/// Fits the selection model of `options` to outcomes `yi` with sampling
/// variances `vi` and model matrix `x` (columns `names`; `intercept` when
/// column 0 is the intercept).
pub fn selection_model(
    yi: &[f64],
    vi: &[f64],
    x: &DMatrix<f64>,
    names: &[String],
    intercept: bool,
    options: &SelectionOptions,
) -> Result<SelectionModel, SelectionError> {
    fit_selection(yi, vi, x, names, intercept, options, None)
}

/// As [`selection_model`], with cluster-robust standard errors for the
/// dependent effects grouped by `clusters` (step functions only; see
/// [`super::robust`]).
pub fn selection_model_clustered(
    yi: &[f64],
    vi: &[f64],
    x: &DMatrix<f64>,
    names: &[String],
    intercept: bool,
    options: &SelectionOptions,
    clusters: &Clusters,
) -> Result<SelectionModel, SelectionError> {
    fit_selection(yi, vi, x, names, intercept, options, Some(clusters))
}

fn fit_selection(
    yi: &[f64],
    vi: &[f64],
    x: &DMatrix<f64>,
    names: &[String],
    intercept: bool,
    options: &SelectionOptions,
    clusters: Option<&Clusters>,
) -> Result<SelectionModel, SelectionError> {
    let kind = options.kind;
    if clusters.is_some() && kind != SelectionType::Step {
        return Err(SelectionError::RobustStepOnly { kind: kind.name() });
    }
    let mut warnings = Vec::new();
    if kind == SelectionType::Beta && !options.steps.is_empty() {
        warnings.push(Warning::StepsIgnored);
    }
    let steps = prepare_steps(kind, &options.steps)?;
    let has_intervals = steps.len() > 1;
    let base_options = FitOptions {
        method: if options.common_effect {
            Method::EE
        } else {
            Method::ML
        },
        test: Test::Z,
        level: options.level,
        control: options.control,
    };
    let base = fit(yi, vi, x, &base_options)?;
    let (k, p) = (yi.len(), x.ncols());
    let spec = DeltaSpec::of(kind, steps.len());
    let deltas = spec.init.len();
    let fixed = Fixed {
        tau2: options.common_effect.then_some(0.0),
        delta: (0..deltas)
            .map(|j| (kind == SelectionType::Step && j == 0).then_some(1.0))
            .collect(),
    };
    let free_deltas = fixed.delta.iter().filter(|d| d.is_none()).count();
    let parameters = p + usize::from(!options.common_effect) + free_deltas;
    if k < parameters {
        return Err(SelectionError::TooFewStudies { k, parameters });
    }
    if let Some(c) = clusters
        && c.groups.len() <= parameters
    {
        return Err(SelectionError::TooFewClusters {
            clusters: c.groups.len(),
            parameters,
        });
    }

    let pvals: Vec<f64> = yi
        .iter()
        .zip(vi)
        .map(|(&y, &v)| {
            options
                .alternative
                .p_value(y, v.sqrt())
                .max(spec.pval_min)
                .min(1.0 - spec.pval_min)
        })
        .collect();
    let intervals: Vec<Interval> = if has_intervals {
        (0..steps.len())
            .map(|j| Interval {
                lower: if j == 0 { 0.0 } else { steps[j - 1] },
                upper: steps[j],
                k: pvals
                    .iter()
                    .filter(|&&pv| steps.iter().position(|&s| pv <= s) == Some(j))
                    .count(),
            })
            .collect()
    } else {
        Vec::new()
    };
    for (j, interval) in intervals.iter().enumerate() {
        let free = kind != SelectionType::Step || fixed.delta[j].is_none();
        if interval.k == 0 && free {
            return Err(SelectionError::EmptyInterval {
                interval: interval.label(),
            });
        }
    }
    let sparse: Vec<(String, usize)> = intervals
        .iter()
        .filter(|i| i.k < 3)
        .map(|i| (i.label(), i.k))
        .collect();
    if !sparse.is_empty() {
        warnings.push(Warning::SparseIntervals { intervals: sparse });
    }

    let (xs, scale) = scale_design(x, intercept);
    let mut beta_init: Vec<f64> = base.beta.clone();
    if let Some(m) = &scale {
        let inverse = m
            .clone()
            .try_inverse()
            .ok_or(SelectionError::NotConverged {
                reason: "the moderators could not be standardised for the search",
            })?;
        beta_init = (inverse * DVector::from_vec(beta_init))
            .iter()
            .copied()
            .collect();
    }
    let likelihood = Likelihood {
        yi,
        vi,
        x: &xs,
        kind,
        alternative: options.alternative,
        steps: &steps,
        pvals: &pvals,
        pval_min: spec.pval_min,
    };
    let mut start = beta_init;
    start.push((base.tau2 + 0.001).ln());
    start.extend(
        spec.init
            .iter()
            .zip(fixed.delta.iter())
            .enumerate()
            .map(|(j, (&init, f))| {
                let value = f.unwrap_or(init);
                ((value - spec.min[j]) / (spec.max[j] - value)).ln()
            }),
    );

    let objective = |par: &[f64], transformed: bool, fixed: &Fixed| {
        let (beta, tau2, delta) = unpack(par, p, transformed, fixed, &spec);
        likelihood.log_likelihood(&beta, tau2, &delta).map(|ll| -ll)
    };
    let mut par =
        bfgs(&mut |par: &[f64]| objective(par, true, &fixed), &start).map_err(optim_error)?;
    let mut ll =
        -objective(&par, true, &fixed).map_err(|e| optim_error(OptimFailure::Objective(e)))?;
    // metafor's `tau2tol`: min(vᵢ/10, 10⁻⁴).
    let tau2tol = vi.iter().fold(1e-4_f64, |m, v| m.min(v / 10.0));
    let mut tau2_at_zero = false;
    if !options.common_effect && unpack(&par, p, true, &fixed, &spec).1 < tau2tol {
        // log τ² cannot reach the boundary: where the search ends near it,
        // the fit with τ² = 0 is tried, and kept when its likelihood is not
        // lower (dat.baskerville2012, beta: ℓ = −2.792247 at τ² = 0, where
        // metafor stops at τ² = 2.45e-6, ℓ = −2.792404).
        let at_zero = Fixed {
            tau2: Some(0.0),
            delta: fixed.delta.clone(),
        };
        // metafor has no path to follow here: the refit converges fully
        // (optim's reltol 1e-15, as `control = list(reltol = 1e-15)`).
        if let Ok(par0) = bfgs_with(
            &mut |x: &[f64]| objective(x, true, &at_zero),
            &par,
            1e-15,
            1000,
        ) && let Ok(value) = objective(&par0, true, &at_zero)
            && -value >= ll
        {
            par = par0;
            par[p] = f64::NEG_INFINITY;
            ll = -value;
            tau2_at_zero = true;
        }
    }
    let fitted = Fixed {
        tau2: if tau2_at_zero { Some(0.0) } else { fixed.tau2 },
        delta: fixed.delta.clone(),
    };
    let (beta_s, tau2, delta) = unpack(&par, p, true, &fitted, &spec);
    let root = f64::EPSILON.powf(0.25);
    if delta
        .iter()
        .enumerate()
        .any(|(j, &d)| d <= spec.min[j] + root || d >= spec.max[j] - 100.0 * root)
    {
        warnings.push(Warning::DeltaAtBound);
    }

    // Hessian on the natural scale at (β, τ², δ), over the estimated parameters.
    let mut natural: Vec<f64> = beta_s.clone();
    natural.push(tau2);
    natural.extend(&delta);
    // metafor's rule for the Hessian: a τ² below `tau2tol`, and a δ of a
    // step function below `deltatol` (10⁻⁴), count as fixed there (their
    // SEs are NA), so that a flat or one-sided likelihood at the boundary
    // does not make the Hessian singular.
    let mut wanted: Vec<usize> = (0..p).collect();
    if !options.common_effect && tau2 >= tau2tol {
        wanted.push(p);
    }
    wanted.extend(
        (0..deltas)
            .filter(|&j| {
                fixed.delta[j].is_none() && !(kind == SelectionType::Step && delta[j] < DELTATOL)
            })
            .map(|j| p + 1 + j),
    );
    let n = natural.len();
    let mut covariance = DMatrix::from_element(n, n, f64::NAN);
    // The Hessian-based variance of β when it is replaced by the robust one.
    let mut model_vb: Option<DMatrix<f64>> = None;
    match hessian(
        &mut |par: &[f64]| objective(par, false, &fixed),
        &natural,
        &wanted,
    ) {
        Err(_) => warnings.push(Warning::NoStandardErrors {
            reason: "the Hessian could not be computed",
        }),
        Ok(h) => {
            let sub = DMatrix::from_fn(wanted.len(), wanted.len(), |a, b| h[wanted[a]][wanted[b]]);
            match invert(sub) {
                None => warnings.push(Warning::NoStandardErrors {
                    reason: if has_intervals {
                        "the Hessian could not be inverted (the likelihood may be flat in some parameter; try fewer cut-points)"
                    } else {
                        "the Hessian could not be inverted (the likelihood may be flat in some parameter; try another weight function)"
                    },
                }),
                Some(mut inverse) => {
                    if let Some(c) = clusters {
                        let scores = likelihood.step_scores(&beta_s, tau2, &delta);
                        let robust = sandwich(&inverse, &scores, &wanted, &c.groups);
                        model_vb = Some(inverse.view((0, 0), (p, p)).into_owned());
                        inverse = robust;
                    }
                    for (a, &i) in wanted.iter().enumerate() {
                        for (b, &j) in wanted.iter().enumerate() {
                            covariance[(i, j)] = inverse[(a, b)];
                        }
                    }
                }
            }
        }
    }
    let mut vb = covariance.view((0, 0), (p, p)).into_owned();
    let mut beta = DVector::from_vec(beta_s);
    if let Some(m) = &scale {
        beta = m * beta;
        vb = m * vb * m.transpose();
        model_vb = model_vb.map(|v| m * v * m.transpose());
    }

    let crit = normal_upper((1.0 - options.level / 100.0) / 2.0);
    let coefficients: Vec<Coefficient> = (0..p)
        .map(|j| Coefficient {
            name: names.get(j).cloned().unwrap_or_default(),
            estimate: Estimate::wald(beta[j], vb[(j, j)].sqrt(), crit, None),
        })
        .collect();
    let tested: Vec<usize> = (usize::from(intercept)..p).collect();
    let moderators_test = (!tested.is_empty() && p > 1).then(|| {
        let b = DVector::from_fn(tested.len(), |a, _| beta[tested[a]]);
        let v = DMatrix::from_fn(tested.len(), tested.len(), |a, c| {
            vb[(tested[a], tested[c])]
        });
        let statistic = invert(v).map_or(f64::NAN, |inv| (b.transpose() * inv * &b)[(0, 0)]);
        Omnibus {
            statistic,
            df: tested.len(),
            p: chisq_sf(statistic, tested.len() as f64),
        }
    });

    let tau2_se = covariance[(p, p)].sqrt();
    let tau2_ci = [truncate(tau2 - crit * tau2_se, 0.0), tau2 + crit * tau2_se];
    let delta_se: Vec<f64> = (0..deltas)
        .map(|j| covariance[(p + 1 + j, p + 1 + j)].sqrt())
        .collect();
    let delta_statistic: Vec<f64> = delta
        .iter()
        .zip(&delta_se)
        .map(|(d, se)| (d - spec.null) / se)
        .collect();
    let delta_p = delta_statistic
        .iter()
        .map(|&z| normal_two_sided_p(z))
        .collect();
    let delta_ci = delta
        .iter()
        .zip(&delta_se)
        .map(|(d, se)| [truncate(d - crit * se, spec.lower_bound), d + crit * se])
        .collect();

    // The LRT of τ² = 0 refits with τ² fixed at 0 from the same start (metafor
    // skips it silently when that fit fails).
    let heterogeneity = (!options.common_effect).then(|| {
        let null = Fixed {
            tau2: Some(0.0),
            delta: fixed.delta.clone(),
        };
        let par0 = bfgs(&mut |par: &[f64]| objective(par, true, &null), &start).ok()?;
        let ll0 = -objective(&par0, true, &null).ok()?;
        let statistic = (-2.0 * (ll0 - ll)).max(0.0);
        Some(HeterogeneityLrt {
            statistic,
            p: chisq_sf(statistic, 1.0),
        })
    });

    let ll_base: f64 = yi
        .iter()
        .zip(vi)
        .enumerate()
        .map(|(i, (&y, &v))| {
            let yhat: f64 = x.row(i).iter().zip(&base.beta).map(|(a, b)| a * b).sum();
            log_density(y, yhat, (v + base.tau2).sqrt())
        })
        .sum();
    let lrt = (-2.0 * (ll_base - ll)).max(0.0);
    let lrt_p = chisq_sf(lrt, free_deltas as f64);

    Ok(SelectionModel {
        k,
        estimate: coefficients[0].estimate,
        moderators_test,
        tau2,
        tau2_se,
        tau2_ci,
        delta_fixed: fixed.delta.iter().map(Option::is_some).collect(),
        delta,
        delta_se,
        delta_ci,
        delta_statistic,
        delta_p,
        LRT: lrt,
        LRT_df: free_deltas,
        LRT_p: lrt_p,
        heterogeneity: heterogeneity.flatten(),
        log_likelihood: ll,
        unadjusted: Unadjusted {
            estimate: base.beta[0],
            se: base.se[0],
            ci_lower: base.ci_lower[0],
            ci_upper: base.ci_upper[0],
            tau2: base.tau2,
            log_likelihood: ll_base,
        },
        intervals,
        settings: SelectionSettings {
            kind,
            steps,
            alternative: options.alternative,
            method: if options.common_effect { "EE" } else { "ML" },
            level: options.level,
            pval_min: spec.pval_min,
        },
        robust: clusters.map(|c| SelectionRobust {
            kind: "CR0",
            cluster: c.name.clone(),
            clusters: c.groups.len(),
            model_se: model_vb.as_ref().map_or(f64::NAN, |v| v[(0, 0)].sqrt()),
        }),
        warnings,
        coefficients,
    })
}
