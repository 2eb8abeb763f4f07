//! How the fixed effects of a single-level model are weighted: by the inverse
//! variances 1/(vᵢ + τ̂²) (the default), by weights the user gives (metafor
//! `rma(..., weights = w)`), or equally (`rma(..., weighted = FALSE)`).
//!
//! With weights A = diag(aᵢ) other than the inverse variances, metafor's
//! `rma.uni` estimates β̂ = (X'AX)⁻¹X'Ay with the sandwich variance
//! Var(β̂) = (X'AX)⁻¹ X'AMAX (X'AX)⁻¹, M = diag(vᵢ + τ̂²) (A = I when
//! unweighted). Nothing else changes: τ² is estimated as without weights,
//! QE, I² and H² keep the weights 1/vᵢ, the Knapp-Hartung factor s² is the
//! one of the inverse-variance fit, and the log-likelihood is evaluated at
//! the weighted β̂ with the inverse-variance residual sum of squares.

use nalgebra::DMatrix;
use serde::Serialize;

use super::matrix::ModelMatrix;
use super::wls::{SingularDesign, Wls};

/// The weights of a fit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Weights<'a> {
    /// 1/(vᵢ + τ̂²): the default.
    InverseVariance,
    /// The user's weights, one per study, positive and finite (metafor `weights =`).
    User(&'a [f64]),
    /// Equal weights: ordinary least squares (metafor `weighted = FALSE`).
    Equal,
}

impl Weights<'_> {
    /// How the fit is weighted, for reports.
    pub fn weighting(&self) -> Weighting {
        match self {
            Weights::InverseVariance => Weighting::InverseVariance,
            Weights::User(_) => Weighting::User,
            Weights::Equal => Weighting::Unweighted,
        }
    }
}

/// How a fit was weighted, as results record it (`settings.weights`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Weighting {
    /// 1/(vᵢ + τ̂²).
    #[default]
    InverseVariance,
    /// The records' `weight` field.
    User,
    /// Equal weights (`--unweighted`).
    Unweighted,
}

impl Weighting {
    /// Whether this is the default, inverse-variance weighting (left out of JSON).
    pub fn is_inverse_variance(&self) -> bool {
        *self == Weighting::InverseVariance
    }

    /// A line for the text report, `None` for the default.
    pub fn describe(&self) -> Option<&'static str> {
        match self {
            Weighting::InverseVariance => None,
            Weighting::User => Some(
                "weights: user-supplied (the weight field), not 1/(vi + tau^2); SEs by the sandwich formula",
            ),
            Weighting::Unweighted => Some(
                "weights: equal (--unweighted, ordinary least squares); SEs by the sandwich formula",
            ),
        }
    }
}

/// β̂ = (X'AX)⁻¹X'Ay, its sandwich variance (X'AX)⁻¹ X'AMAX (X'AX)⁻¹ with
/// M = diag(vᵢ + τ²), and the weights aᵢ (metafor `rma.uni`, `weights =` or
/// `weighted = FALSE`).
pub fn sandwich_fit(
    x: &dyn ModelMatrix,
    yi: &[f64],
    vi: &[f64],
    tau2: f64,
    a: &[f64],
) -> Result<(Wls, DMatrix<f64>), SingularDesign> {
    let wls = Wls::fit(x, yi, a)?;
    let meat = x.cross_weighted(&|i| a[i] * a[i] * (vi[i] + tau2));
    let vcov = &wls.xtwx_inv * meat * &wls.xtwx_inv;
    Ok((wls, vcov))
}
