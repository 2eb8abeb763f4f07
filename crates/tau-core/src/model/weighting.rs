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
                "weights: equal (`weighted`, ordinary least squares); SEs by the sandwich formula",
            ),
        }
    }
}

/// The user's weights divided by their maximum, so that the largest is 1.
///
/// Weights are relative: β̂ = (X'AX)⁻¹X'Ay and its sandwich variance do not
/// change when A is multiplied by a constant c (the c cancels between the
/// two inverses and the meat), and neither do the percentages reported. In
/// floating point they do: weights near 1e-300 underflow in X'AX (a
/// "singular" design, SE 0) and weights near 1e300 overflow in the meat
/// (aᵢ²(vᵢ + τ²)). metafor answers both, so the weights are scaled first.
pub fn relative_weights(a: &[f64]) -> Vec<f64> {
    let largest = a.iter().copied().fold(0.0, f64::max);
    if largest > 0.0 && largest.is_finite() {
        a.iter().map(|w| w / largest).collect()
    } else {
        a.to_vec()
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{FitOptions, Test, fit, fit_weighted};
    use nalgebra::DVector;

    fn data() -> (Vec<f64>, Vec<f64>, DMatrix<f64>) {
        let yi = vec![0.3, -0.1, 0.8, 0.2, 0.5, 0.1];
        let vi = vec![0.02, 0.05, 0.01, 0.04, 0.03, 0.06];
        let x = DMatrix::from_row_slice(
            6,
            2,
            &[1.0, 0.5, 1.0, 1.5, 1.0, -0.3, 1.0, 2.0, 1.0, 0.7, 1.0, 1.1],
        );
        (yi, vi, x)
    }

    /// The sandwich against the matrices written out: (X'AX)⁻¹X'AMAX(X'AX)⁻¹.
    #[test]
    fn sandwich_matches_the_matrix_formula() {
        let (yi, vi, x) = data();
        let a = [3.0, 1.0, 2.0, 5.0, 1.5, 0.5];
        let tau2 = 0.04;
        let (wls, vcov) = sandwich_fit(&x, &yi, &vi, tau2, &a).expect("full rank");
        let am = DMatrix::from_diagonal(&DVector::from_row_slice(&a));
        let m = DMatrix::from_diagonal(&DVector::from_iterator(6, vi.iter().map(|v| v + tau2)));
        let bread = (x.transpose() * &am * &x)
            .try_inverse()
            .expect("invertible");
        let expected = &bread * x.transpose() * &am * m * &am * &x * &bread;
        let beta = &bread * x.transpose() * &am * DVector::from_row_slice(&yi);
        assert!((vcov - expected).amax() < 1e-14);
        assert!((wls.beta - beta).amax() < 1e-14);
    }

    /// User weights equal to 1/(vᵢ + τ̂²) (here τ̂² = 0: EE) give the
    /// inverse-variance fit: the sandwich collapses to (X'WX)⁻¹.
    #[test]
    fn inverse_variance_user_weights_reproduce_the_default_fit() {
        let (yi, vi, x) = data();
        for test in Test::ALL {
            let options = FitOptions {
                method: crate::model::Method::EE,
                test,
                ..FitOptions::default()
            };
            let a: Vec<f64> = vi.iter().map(|v| 1.0 / v).collect();
            let default = fit(&yi, &vi, &x, &options).expect("fits");
            let user = fit_weighted(&yi, &vi, &x, &options, Weights::User(&a)).expect("fits");
            for j in 0..2 {
                assert!((default.beta[j] - user.beta[j]).abs() < 1e-12);
                assert!((default.se[j] - user.se[j]).abs() < 1e-12 * default.se[j]);
            }
            assert_eq!(default.q, user.q);
        }
    }

    /// Weights are relative: scaled by 1e-300 or 1e300 they give the fit of
    /// the unscaled ones (as metafor's `rma(yi, vi, weights = w * 1e-300)`).
    #[test]
    fn scaled_weights_give_the_same_fit() {
        let (yi, vi, x) = data();
        let a = [3.0, 1.0, 2.0, 5.0, 1.5, 0.5];
        let options = FitOptions::default();
        let base = fit_weighted(&yi, &vi, &x, &options, Weights::User(&a)).expect("fits");
        for scale in [1e-300, 1e300, 1e-200, 7.0] {
            let scaled: Vec<f64> = a.iter().map(|w| w * scale).collect();
            let fit = fit_weighted(&yi, &vi, &x, &options, Weights::User(&scaled))
                .unwrap_or_else(|e| panic!("scale {scale}: {e}"));
            for j in 0..2 {
                assert!((fit.beta[j] - base.beta[j]).abs() < 1e-12 * base.beta[j].abs());
                assert!((fit.se[j] - base.se[j]).abs() < 1e-12 * base.se[j]);
            }
        }
    }

    #[test]
    fn bad_user_weights_are_errors() {
        let (yi, vi, x) = data();
        let mut a = vec![1.0; 6];
        a[4] = 0.0;
        let err = fit_weighted(&yi, &vi, &x, &FitOptions::default(), Weights::User(&a))
            .expect_err("weight 0");
        assert_eq!(
            err,
            crate::model::FitError::BadWeight {
                index: 4,
                value: 0.0
            }
        );
        assert!(
            err.to_string().starts_with("study 5 (in input order)"),
            "{err}"
        );
    }
}
