//! A fitted multilevel model: the variance components at the maximum, and
//! inference on the coefficients, fit statistics and the Q test as metafor's
//! `rma.mv` reports them.
//!
//! * Coefficients: β̂ = (X'WX)⁻¹X'Wy with SE from (X'WX)⁻¹; z tests, or t
//!   with k − p df under `test = "t"` (metafor's `dfs = "residual"`).
//! * QM: Wald test of the coefficients but the intercept, χ²(m), or QM/m ~
//!   F(m, k − p) under t.
//! * QE = e'V⁻¹e with e the residuals of the GLS fit under V alone
//!   (σ² = 0), χ²(k − p).
//! * Fit statistics (metafor's `fit.stats`), with parms = p + number of σ²:
//!   ML: deviance = −2(ℓ − ℓ_sat), ℓ_sat = −½(k log 2π + log|V|),
//!   AIC = −2ℓ + 2 parms, BIC = −2ℓ + parms log k,
//!   AICc = −2ℓ + 2 parms·max(k, parms + 2)/(max(k, parms + 2) − parms − 1);
//!   REML: deviance = −2ℓ, and k − p in place of k in BIC and AICc.

use nalgebra::DMatrix;

use super::likelihood::{EvalError, Evaluation, Problem};
use super::optimise::{Convergence, OptimiseError, maximise};
use super::{MultilevelError, Test};
use crate::model::wls::invert_spd;
use crate::numerics::distribution::{
    chisq_sf, f_sf, normal_two_sided_p, normal_upper, t_two_sided_p, t_upper,
};

/// The maximum-likelihood fit of a multilevel model.
#[derive(Debug, Clone)]
pub struct Fitted {
    /// The variance components, outermost level first.
    pub sigma2: Vec<f64>,
    /// The likelihood and GLS fit at the maximum.
    pub eval: Evaluation,
    /// How the maximum was reached.
    pub convergence: Convergence,
}

/// Fits the variance components from metafor's starting values: each σ² is
/// max(0.001·L, s² − 1/mean(1/vᵢ))/L with s² the variance of the residuals of
/// `fixed_effects`, the fit under V alone (every σ² at 0).
pub fn fit(
    problem: &Problem,
    fixed_effects: &Evaluation,
    max_iter: usize,
    labels: &[String],
) -> Result<Fitted, MultilevelError> {
    let levels = problem.structure.levels();
    let residuals = residuals(problem, fixed_effects);
    let k = residuals.len() as f64;
    let mean = residuals.iter().sum::<f64>() / k;
    let variance = residuals.iter().map(|e| (e - mean).powi(2)).sum::<f64>() / (k - 1.0);
    let harmonic = k / problem.v.iter().map(|v| 1.0 / v).sum::<f64>();
    let total = (0.001 * levels as f64).max(variance - harmonic);
    let start = vec![total / levels as f64; levels];
    maximise_with(problem, &start, &vec![None; levels], max_iter, labels)
}

/// [`maximise`] with the errors in the user's terms. A level with a single
/// unit is held at σ² = 0 besides the components `fixed` (see
/// [`single_unit_levels`]).
pub fn maximise_with(
    problem: &Problem,
    start: &[f64],
    fixed: &[Option<f64>],
    max_iter: usize,
    labels: &[String],
) -> Result<Fitted, MultilevelError> {
    let scale = problem.v.iter().sum::<f64>() / problem.v.len() as f64;
    let single = single_unit_levels(problem);
    let fixed: Vec<Option<f64>> = fixed
        .iter()
        .enumerate()
        .map(|(l, f)| f.or(single.contains(&l).then_some(0.0)))
        .collect();
    match maximise(problem, start, &fixed, scale, max_iter) {
        Ok(optimum) => Ok(Fitted {
            sigma2: optimum.sigma2,
            eval: optimum.eval,
            convergence: optimum.convergence,
        }),
        Err(OptimiseError::Eval(e)) => Err(eval_error(e, labels)),
        Err(OptimiseError::NotConverged(c)) => Err(MultilevelError::NotConverged {
            iterations: c.iterations,
            gradient: c.gradient,
            change: c.final_change,
        }),
    }
}

/// The levels with a single unit (every record in one study under
/// `random = study/es`). Their σ² is confounded with the other components
/// (and, under REML, with the intercept): the likelihood does not identify
/// it, and the optimiser wanders. metafor's `rma.mv` fixes such a σ² at 0
/// ("Single-level factor(s) found in 'random' argument. Corresponding
/// 'sigma2' value(s) fixed to 0."), and so does tau, with a warning.
pub fn single_unit_levels(problem: &Problem) -> Vec<usize> {
    (0..problem.structure.levels())
        .filter(|&l| problem.structure.units[l] == 1)
        .collect()
}

/// The error of a failed evaluation, naming the cluster.
pub fn eval_error(e: EvalError, labels: &[String]) -> MultilevelError {
    match e {
        EvalError::NotPositiveDefinite { block } => MultilevelError::NotPositiveDefinite {
            cluster: labels.get(block).cloned().unwrap_or_default(),
        },
        EvalError::Singular(_) => MultilevelError::Singular,
    }
}

/// y − Xβ̂ in the blocked order.
pub fn residuals(problem: &Problem, eval: &Evaluation) -> Vec<f64> {
    let p = problem.p;
    problem
        .y
        .iter()
        .enumerate()
        .map(|(i, y)| {
            y - (0..p)
                .map(|c| problem.x[i * p + c] * eval.beta[c])
                .sum::<f64>()
        })
        .collect()
}

/// Tests and intervals of the coefficients.
#[derive(Debug, Clone, PartialEq)]
pub struct Inference {
    /// Standard errors.
    pub se: Vec<f64>,
    /// z or t statistics.
    pub statistic: Vec<f64>,
    /// Two-sided p-values.
    pub p: Vec<f64>,
    /// Lower confidence limits.
    pub ci_lower: Vec<f64>,
    /// Upper confidence limits.
    pub ci_upper: Vec<f64>,
    /// The critical value of the intervals.
    pub crit: f64,
    /// Degrees of freedom under t.
    pub df: Option<f64>,
}

/// Wald tests and CIs of every coefficient.
pub fn inference(eval: &Evaluation, test: Test, level: f64, k: usize) -> Inference {
    inference_of(&eval.beta, &eval.vcov, test, level, k)
}

/// [`inference`] of coefficients `beta` with covariance `vcov`.
pub fn inference_of(
    beta: &nalgebra::DVector<f64>,
    vcov: &DMatrix<f64>,
    test: Test,
    level: f64,
    k: usize,
) -> Inference {
    let p = beta.len();
    let se: Vec<f64> = (0..p).map(|j| vcov[(j, j)].sqrt()).collect();
    let statistic: Vec<f64> = (0..p).map(|j| beta[j] / se[j]).collect();
    let alpha = 1.0 - level / 100.0;
    let df = (k - p) as f64;
    let (crit, df, pv): (f64, Option<f64>, Vec<f64>) = match test {
        Test::Z => (
            normal_upper(alpha / 2.0),
            None,
            statistic.iter().map(|z| normal_two_sided_p(*z)).collect(),
        ),
        Test::T => (
            t_upper(alpha / 2.0, df),
            Some(df),
            statistic.iter().map(|t| t_two_sided_p(*t, df)).collect(),
        ),
    };
    Inference {
        ci_lower: (0..p).map(|j| beta[j] - crit * se[j]).collect(),
        ci_upper: (0..p).map(|j| beta[j] + crit * se[j]).collect(),
        se,
        statistic,
        p: pv,
        crit,
        df,
    }
}

/// The omnibus test QM of the coefficients `tested`: (statistic, df1, df2, p).
pub fn omnibus(
    eval: &Evaluation,
    tested: &[usize],
    df: Option<f64>,
) -> Result<(f64, usize, Option<f64>, f64), MultilevelError> {
    omnibus_of(&eval.beta, &eval.vcov, tested, df)
}

/// [`omnibus`] of coefficients `beta` with covariance `vcov`.
pub fn omnibus_of(
    beta: &nalgebra::DVector<f64>,
    vcov: &DMatrix<f64>,
    tested: &[usize],
    df: Option<f64>,
) -> Result<(f64, usize, Option<f64>, f64), MultilevelError> {
    let m = tested.len();
    let sub = DMatrix::from_fn(m, m, |a, b| vcov[(tested[a], tested[b])]);
    let inv = invert_spd(sub).map_err(|_| MultilevelError::Singular)?;
    let b = nalgebra::DVector::from_iterator(m, tested.iter().map(|&j| beta[j]));
    let qm = (b.transpose() * inv * &b)[(0, 0)];
    Ok(match df {
        None => (qm, m, None, chisq_sf(qm, m as f64)),
        Some(df2) => {
            let f = qm / m as f64;
            (f, m, Some(df2), f_sf(f, m as f64, df2))
        }
    })
}

/// metafor's fit statistics for the method fitted.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FitStatistics {
    /// Log-likelihood (restricted under REML).
    pub log_lik: f64,
    /// Deviance.
    pub deviance: f64,
    /// AIC.
    pub aic: f64,
    /// BIC.
    pub bic: f64,
    /// AICc.
    pub aicc: f64,
}

/// Fit statistics of a fit with `parms` parameters; `log_det_v` is log|V|.
pub fn fit_statistics(
    eval: &Evaluation,
    reml: bool,
    k: usize,
    p: usize,
    parms: usize,
    log_det_v: f64,
) -> FitStatistics {
    let parms = parms as f64;
    let (ll, n, deviance) = if reml {
        (eval.ll_reml, (k - p) as f64, -2.0 * eval.ll_reml)
    } else {
        let saturated = -0.5 * (k as f64 * super::likelihood::LN_2PI + log_det_v);
        (eval.ll_ml, k as f64, -2.0 * (eval.ll_ml - saturated))
    };
    let bound = n.max(parms + 2.0);
    FitStatistics {
        log_lik: ll,
        deviance,
        aic: -2.0 * ll + 2.0 * parms,
        bic: -2.0 * ll + parms * n.ln(),
        aicc: -2.0 * ll + 2.0 * parms * bound / (bound - parms - 1.0),
    }
}
