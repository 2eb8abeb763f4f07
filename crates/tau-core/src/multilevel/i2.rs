//! I² per level of a multilevel model (Cheung 2014; Nakagawa & Santos 2012;
//! metafor's "I^2 for multilevel and multivariate models" note):
//! I²ₗ = 100 σ²ₗ / (Σσ² + ṽ) and I²_total = 100 Σσ² / (Σσ² + ṽ), with the
//! typical sampling variance ṽ = (k − p)/tr(P), P = W − WX(X'WX)⁻¹X'W and
//! W = diag(1/vᵢ).

use nalgebra::DMatrix;

use crate::model::wls::{SingularDesign, cross_weighted, invert_spd, trace_p};

/// The typical sampling variance (k − p)/tr(P) of `x` and `vi`.
pub fn typical_variance(x: &DMatrix<f64>, vi: &[f64]) -> Result<f64, SingularDesign> {
    let w: Vec<f64> = vi.iter().map(|v| 1.0 / v).collect();
    let xtwx_inv = invert_spd(cross_weighted(x, |i| w[i]))?;
    let (k, p) = x.shape();
    Ok((k - p) as f64 / trace_p(x, &w, &xtwx_inv))
}

/// (I² per level, I² in total), percent.
pub fn i2(sigma2: &[f64], typical: f64) -> (Vec<f64>, f64) {
    let total: f64 = sigma2.iter().sum();
    let denominator = total + typical;
    (
        sigma2.iter().map(|s| 100.0 * s / denominator).collect(),
        100.0 * total / denominator,
    )
}
