//! User weights of a multilevel model (metafor's `rma.mv(yi, V, W = w)`
//! with a vector w, the records' `weight`).
//!
//! As `rma.mv` does with `W`, the variance components are those of the
//! usual (restricted) likelihood, maximised with the GLS coefficients
//! (metafor's optimiser is called with `A = NULL`); only the final fit uses
//! the weights A = diag(w) (metafor's `.ll.rma.mv` with `dofit = TRUE`):
//!
//! * β̂ = (XᵀAX)⁻¹XᵀAy;
//! * Var(β̂) = (XᵀAX)⁻¹ XᵀAMAX (XᵀAX)⁻¹, M the marginal covariance;
//! * ℓ at β̂: ML −½[k log 2π + log|M| + rᵀM⁻¹r], REML −½[(k − p) log 2π
//!   − log|XᵀX| + log|M| + log|XᵀM⁻¹X| + rᵀM⁻¹r], r = y − Xβ̂
//!   (so logLik, deviance, AIC, BIC and AICc are those of β̂, as metafor's).
//!
//! QE is that of the fixed-effects fit and does not change. M is formed
//! densely: k² numbers.

use nalgebra::{DMatrix, DVector};

use super::likelihood::{EvalError, Problem};
use crate::multilevel::likelihood::LN_2PI;

/// The most effect sizes a weighted fit takes (M is dense: 5000² numbers
/// are 200 MB).
pub(crate) const MAX_WEIGHTED: usize = 5000;

/// The final fit with user weights.
#[derive(Debug, Clone)]
pub(crate) struct WeightedFit {
    /// β̂ = (XᵀAX)⁻¹XᵀAy.
    pub beta: DVector<f64>,
    /// Its sandwich covariance.
    pub vcov: DMatrix<f64>,
    /// ℓ of the method at β̂.
    pub ll: f64,
    /// The ML ℓ at β̂.
    pub ll_ml: f64,
}

/// The data the weighted fit needs beyond the problem.
#[derive(Debug, Clone, Copy)]
pub(crate) struct WeightedData<'a> {
    pub y: &'a [f64],
    pub x: &'a DMatrix<f64>,
    pub vi: &'a [f64],
    pub v_offdiagonal: &'a [(usize, usize, f64)],
    pub weights: &'a [f64],
}

/// The marginal covariance M = V + Σ_c Z_c G_c Z_cᵀ at `eta`, densely (V:
/// the sampling variances `vi` and covariances `v_offdiagonal`).
pub(crate) fn marginal(
    problem: &Problem,
    vi: &[f64],
    v_offdiagonal: &[(usize, usize, f64)],
    eta: &[f64],
) -> DMatrix<f64> {
    let k = vi.len();
    let values = problem.values(eta, false);
    let mut m = DMatrix::from_diagonal(&DVector::from_column_slice(vi));
    for &(i, l, c) in v_offdiagonal {
        m[(i, l)] += c;
        m[(l, i)] += c;
    }
    for (c, val) in problem.components.iter().zip(&values) {
        for i in 0..k {
            for l in 0..=i {
                let add = Problem::covariance(c, val, i, l);
                if add != 0.0 {
                    m[(i, l)] += add;
                    if l != i {
                        m[(l, i)] += add;
                    }
                }
            }
        }
    }
    m
}

/// The final fit with user weights at the variance parameters `eta`.
pub(crate) fn weighted_fit(
    problem: &Problem,
    data: &WeightedData,
    eta: &[f64],
) -> Result<WeightedFit, EvalError> {
    let x = data.x;
    let (k, p) = x.shape();
    let m = marginal(problem, data.vi, data.v_offdiagonal, eta);
    let chol = nalgebra::Cholesky::new(m.clone()).ok_or(EvalError::NotPositiveDefinite(0))?;
    let log_det_m = 2.0 * chol.l().diagonal().iter().map(|d| d.ln()).sum::<f64>();
    let ax = DMatrix::from_fn(k, p, |i, c| data.weights[i] * x[(i, c)]);
    let xtax = x.transpose() * &ax;
    let bread = nalgebra::Cholesky::new(xtax)
        .ok_or(EvalError::Singular)?
        .inverse();
    let y = DVector::from_column_slice(data.y);
    let beta = &bread * (ax.transpose() * &y);
    let vcov = &bread * (ax.transpose() * &m * &ax) * &bread;
    let r = &y - x * &beta;
    let rss = r.dot(&chol.solve(&r));
    let ll_ml = -0.5 * (k as f64 * LN_2PI + log_det_m + rss);
    let ll = if problem.reml {
        let xtmx = x.transpose() * chol.solve(x);
        let log_det_xtmx = 2.0
            * nalgebra::Cholesky::new(xtmx)
                .ok_or(EvalError::Singular)?
                .l()
                .diagonal()
                .iter()
                .map(|d| d.ln())
                .sum::<f64>();
        -0.5 * ((k - p) as f64 * LN_2PI - problem.log_det_xtx + log_det_m + log_det_xtmx + rss)
    } else {
        ll_ml
    };
    Ok(WeightedFit {
        beta,
        vcov,
        ll,
        ll_ml,
    })
}
