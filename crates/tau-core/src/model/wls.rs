//! Weighted least squares for the fixed part of a (mixed-effects) meta-analytic
//! model, and the traces of the residual-maker matrix that the tau² estimators need.
//!
//! With weights W = diag(w) and a k×p design X, metafor works with
//! P = W − W X (X'WX)⁻¹ X'W, a k×k matrix. tau never forms P. Every quantity
//! needed is a sum over studies or a p×p product:
//!
//! * P y = W e, where e = y − X β̂ are the WLS residuals, so
//!   y'Py = Σ wᵢ eᵢ² and y'PPy = Σ (wᵢ eᵢ)²;
//! * tr(P) = Σ wᵢ − tr(A⁻¹ X'W²X), with A = X'WX;
//! * tr(PP) = Σ wᵢ² − 2 tr(A⁻¹ X'W³X) + tr((A⁻¹ X'W²X)²).
//!
//! X is any [`ModelMatrix`]: for a dense one all of it is O(k·p²) time and
//! O(k·p) memory; a sparse one (a factor of many levels) makes the sums over
//! studies O(k·m²) for m moderators and leaves the O(p³) algebra of p×p
//! matrices.

use nalgebra::{DMatrix, DVector};

use super::matrix::ModelMatrix;

/// The design matrix is rank deficient (or nearly so) under the given weights.
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
#[error("the model matrix X'WX is singular: a moderator is constant or collinear with others")]
pub struct SingularDesign;

impl crate::Kinded for SingularDesign {
    fn kind(&self) -> crate::ErrorKind {
        crate::ErrorKind::Analysis
    }
}

/// A weighted least-squares fit of y on X with weights w.
#[derive(Debug, Clone)]
pub struct Wls {
    /// Coefficients β̂ = (X'WX)⁻¹ X'W y.
    pub beta: DVector<f64>,
    /// (X'WX)⁻¹: the variance-covariance matrix of β̂ when w are inverse variances.
    pub xtwx_inv: DMatrix<f64>,
    /// Residuals eᵢ = yᵢ − xᵢ'β̂.
    pub residuals: Vec<f64>,
}

/// X'DX for a diagonal D given by its entries, computed column pair by column
/// pair over contiguous columns (O(k·p²)).
pub fn cross_weighted(x: &DMatrix<f64>, d: impl Fn(usize) -> f64) -> DMatrix<f64> {
    let (k, p) = x.shape();
    let columns = x.as_slice();
    let column = |a: usize| &columns[a * k..(a + 1) * k];
    let mut out = DMatrix::zeros(p, p);
    for a in 0..p {
        for b in a..p {
            let sum = column(a)
                .iter()
                .zip(column(b))
                .enumerate()
                .fold(0.0, |acc, (i, (xa, xb))| acc + xa * d(i) * xb);
            out[(a, b)] = sum;
            out[(b, a)] = sum;
        }
    }
    out
}

/// Inverts a symmetric positive definite p×p matrix by Cholesky factorisation.
pub fn invert_spd(m: DMatrix<f64>) -> Result<DMatrix<f64>, SingularDesign> {
    let scale = m.diagonal().amax();
    let chol = nalgebra::Cholesky::new(m).ok_or(SingularDesign)?;
    // A pivot many orders of magnitude below the largest diagonal entry means
    // collinear columns that rounding made look independent.
    let l = chol.l_dirty();
    let min_pivot = l
        .diagonal()
        .iter()
        .fold(f64::INFINITY, |acc, v| acc.min(v * v));
    if min_pivot.is_nan() || min_pivot <= scale * 1e-12 {
        return Err(SingularDesign);
    }
    Ok(chol.inverse())
}

/// log det of a symmetric positive definite matrix.
pub fn log_det_spd(m: &DMatrix<f64>) -> Result<f64, SingularDesign> {
    let chol = nalgebra::Cholesky::new(m.clone()).ok_or(SingularDesign)?;
    Ok(2.0 * chol.l().diagonal().iter().map(|d| d.ln()).sum::<f64>())
}

impl Wls {
    /// Fits y on X with weights w.
    pub fn fit(x: &dyn ModelMatrix, y: &[f64], w: &[f64]) -> Result<Wls, SingularDesign> {
        let xtwx_inv = invert_spd(x.cross_weighted(&|i| w[i]))?;
        let beta = &xtwx_inv * x.weighted_sum(w, y);
        let residuals = y
            .iter()
            .zip(x.times(&beta))
            .map(|(yi, fitted)| yi - fitted)
            .collect();
        Ok(Wls {
            beta,
            xtwx_inv,
            residuals,
        })
    }

    /// y'Py = Σ wᵢ eᵢ²: the weighted residual sum of squares (Cochran's Q when w = 1/v).
    pub fn rss(&self, w: &[f64]) -> f64 {
        self.residuals.iter().zip(w).map(|(e, wi)| wi * e * e).sum()
    }

    /// y'PPy = Σ (wᵢ eᵢ)².
    pub fn rss_pp(&self, w: &[f64]) -> f64 {
        self.residuals
            .iter()
            .zip(w)
            .map(|(e, wi)| (wi * e) * (wi * e))
            .sum()
    }
}

/// tr(P) and tr(PP) for weights w, without forming P. tr(MM) for
/// M = A⁻¹X'W²X is Σ Mᵢⱼ Mⱼᵢ, which needs no second p×p product.
pub fn traces(x: &dyn ModelMatrix, w: &[f64], xtwx_inv: &DMatrix<f64>) -> (f64, f64) {
    let sum_w: f64 = w.iter().sum();
    let sum_w2: f64 = w.iter().map(|v| v * v).sum();
    let b2 = xtwx_inv * x.cross_weighted(&|i| w[i] * w[i]);
    let b3 = trace_of_product(xtwx_inv, &x.cross_weighted(&|i| w[i] * w[i] * w[i]));
    let tr_p = sum_w - b2.trace();
    let tr_pp = sum_w2 - 2.0 * b3 + trace_of_product(&b2, &b2);
    (tr_p, tr_pp)
}

/// tr(P) alone (cheaper than [`traces`] when tr(PP) is not needed).
pub fn trace_p(x: &dyn ModelMatrix, w: &[f64], xtwx_inv: &DMatrix<f64>) -> f64 {
    let sum_w: f64 = w.iter().sum();
    sum_w - trace_of_product(xtwx_inv, &x.cross_weighted(&|i| w[i] * w[i]))
}

/// tr(AB) = Σᵢⱼ Aᵢⱼ Bⱼᵢ in O(p²), without the product.
pub(crate) fn trace_of_product(a: &DMatrix<f64>, b: &DMatrix<f64>) -> f64 {
    let p = a.nrows();
    (0..p)
        .map(|i| (0..p).map(|j| a[(i, j)] * b[(j, i)]).sum::<f64>())
        .sum()
}

/// Leverages hᵢᵢ = wᵢ xᵢ'(X'WX)⁻¹xᵢ: the diagonal of the hat matrix, without allocating per study.
pub fn hat_values(x: &DMatrix<f64>, w: &[f64], xtwx_inv: &DMatrix<f64>) -> Vec<f64> {
    let p = x.ncols();
    (0..x.nrows())
        .map(|i| {
            let quadratic: f64 = (0..p)
                .map(|b| {
                    let row_times_column: f64 = (0..p).map(|a| x[(i, a)] * xtwx_inv[(a, b)]).sum();
                    row_times_column * x[(i, b)]
                })
                .sum();
            w[i] * quadratic
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Forms P explicitly on a small problem and checks the trace identities.
    #[test]
    fn traces_match_explicit_p() {
        let x = DMatrix::from_row_slice(4, 2, &[1.0, 0.5, 1.0, 1.5, 1.0, -0.3, 1.0, 2.0]);
        let w = [2.0, 0.5, 1.5, 3.0];
        let wm = DMatrix::from_diagonal(&DVector::from_row_slice(&w));
        let a_inv = invert_spd(x.transpose() * &wm * &x).expect("full rank");
        let p = &wm - &wm * &x * &a_inv * x.transpose() * &wm;
        let (tr_p, tr_pp) = traces(&x, &w, &a_inv);
        assert!((tr_p - p.trace()).abs() < 1e-12);
        assert!((tr_pp - (&p * &p).trace()).abs() < 1e-12);
        let y = [0.3, -0.1, 0.8, 0.2];
        let fit = Wls::fit(&x, &y, &w).expect("full rank");
        let yv = DVector::from_row_slice(&y);
        let ypy = (yv.transpose() * &p * &yv)[(0, 0)];
        let yppy = (yv.transpose() * &p * &p * &yv)[(0, 0)];
        assert!((fit.rss(&w) - ypy).abs() < 1e-12);
        assert!((fit.rss_pp(&w) - yppy).abs() < 1e-12);
        let hat = &wm * &x * &a_inv * x.transpose();
        for (i, h) in hat_values(&x, &w, &a_inv).into_iter().enumerate() {
            assert!((h - hat[(i, i)]).abs() < 1e-12);
        }
    }

    #[test]
    fn collinear_columns_are_singular() {
        let x = DMatrix::from_row_slice(3, 2, &[1.0, 2.0, 1.0, 2.0, 1.0, 2.0]);
        assert!(Wls::fit(&x, &[1.0, 2.0, 3.0], &[1.0, 1.0, 1.0]).is_err());
    }
}
