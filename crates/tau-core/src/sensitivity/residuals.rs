//! Standardised (marginal) residuals of a fitted model (metafor
//! `rstandard.rma.uni`, `type = "marginal"`; Viechtbauer & Cheung 2010).
//!
//! With β̂, τ̂² and wᵢ = 1/(vᵢ + τ̂²) from the model on all k studies:
//!
//! * residual eᵢ = yᵢ − xᵢ'β̂ (set to 0 when |eᵢ| < 100 ε, as metafor does);
//! * its SE: metafor takes the diagonal of (I − H) M (I − H)' with
//!   M = diag(vᵢ + τ̂²) and H = X(X'WX)⁻¹X'W. As W = M⁻¹ this is
//!   M − X(X'WX)⁻¹X', whose diagonal is (vᵢ + τ̂²)(1 − hᵢ) with the hat value
//!   hᵢ, so SEᵢ = √((vᵢ + τ̂²)(1 − hᵢ)) needs no k×k matrix;
//! * zᵢ = eᵢ / SEᵢ.
//!
//! Knapp-Hartung does not enter (metafor's `rstandard` ignores it).

use nalgebra::DMatrix;
use serde::Serialize;

use super::influence::row_dot;
use crate::model::ModelFit;

/// One study's standardised residual. Field names are the JSON contract.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StandardizedResidual {
    /// Study label.
    pub study: String,
    /// yᵢ − xᵢ'β̂.
    pub resid: f64,
    /// Its standard error.
    pub se: f64,
    /// resid / se.
    pub z: f64,
}

/// The standardised residual of each study of `model`, fitted to `yi`, `vi`
/// and design `x`, with its hat values `hat` and labels `labels`.
pub(crate) fn standardized_residuals<'a>(
    yi: &[f64],
    vi: &[f64],
    x: &DMatrix<f64>,
    model: &ModelFit,
    hat: &[f64],
    labels: impl Iterator<Item = &'a str>,
) -> Vec<StandardizedResidual> {
    labels
        .enumerate()
        .map(|(i, label)| {
            let mut resid = yi[i] - row_dot(x, i, &model.beta);
            if resid.abs() < 100.0 * f64::EPSILON {
                resid = 0.0;
            }
            let se = ((vi[i] + model.tau2) * (1.0 - hat[i])).sqrt();
            StandardizedResidual {
                study: label.to_owned(),
                resid,
                se,
                z: resid / se,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{FitOptions, Method, fit, intercept_design};

    /// By hand: two studies y = (0, 1) with v = (1, 1) under the common-effect
    /// model have β̂ = 0.5, h = (0.5, 0.5), residuals ∓0.5 with SE √(1 · 0.5).
    #[test]
    fn two_studies_by_hand() {
        let (yi, vi) = ([0.0, 1.0], [1.0, 1.0]);
        let x = intercept_design(2);
        let options = FitOptions {
            method: Method::EE,
            ..FitOptions::default()
        };
        let model = fit(&yi, &vi, &x, &options).expect("fits");
        let r = standardized_residuals(&yi, &vi, &x, &model, &[0.5, 0.5], ["a", "b"].into_iter());
        let se = 0.5_f64.sqrt();
        assert_eq!(r[0].study, "a");
        assert!((r[0].resid + 0.5).abs() < 1e-15 && (r[1].resid - 0.5).abs() < 1e-15);
        assert!((r[0].se - se).abs() < 1e-15 && (r[1].se - se).abs() < 1e-15);
        assert!((r[1].z - 0.5 / se).abs() < 1e-15);
    }
}
