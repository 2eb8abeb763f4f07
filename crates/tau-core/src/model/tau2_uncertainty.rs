//! The standard error of τ̂² and its Wald-type confidence interval (metafor
//! `rma.uni`'s `se.tau2` and `confint(res, type = "Wald")`).
//!
//! With wᵢ = 1/(vᵢ + τ̂²) and P = W − WX(X'WX)⁻¹X'W at the estimate:
//!
//! * ML: SE = √(2/Σwᵢ²), the inverse Fisher information;
//! * REML: SE = √(2/tr(PP));
//! * EB and PM: SE = √(2k²/((k − p)(Σwᵢ)²)).
//!
//! The Wald CI is τ̂² ± z₁₋α/₂·SE, its lower limit floored at 0, with the
//! matching limits of I² = 100 τ²/(s̃² + τ²) and H² = τ²/s̃² + 1.

use nalgebra::DMatrix;

use super::distribution::normal_upper;
use super::fit::ModelFit;
use super::heterogeneity::HeterogeneityCi;
use super::method::Method;
use super::wls::{SingularDesign, cross_weighted, invert_spd, traces};

/// SE(τ̂²) for the ML, REML, EB and PM estimators; `None` for the others
/// (tau does not report metafor's SEs of the moments estimators).
pub fn tau2_se(
    vi: &[f64],
    x: &DMatrix<f64>,
    model: &ModelFit,
) -> Result<Option<f64>, SingularDesign> {
    let w: Vec<f64> = vi.iter().map(|v| 1.0 / (v + model.tau2)).collect();
    let (k, p) = (model.k as f64, model.p as f64);
    Ok(match model.options.method {
        Method::ML => Some((2.0 / w.iter().map(|w| w * w).sum::<f64>()).sqrt()),
        Method::REML => {
            let inverse = invert_spd(cross_weighted(x, |i| w[i]))?;
            let (_, tr_pp) = traces(x, &w, &inverse);
            Some((2.0 / tr_pp).sqrt())
        }
        Method::EB | Method::PM => {
            let sum_w: f64 = w.iter().sum();
            Some((2.0 * k * k / (k - p) / (sum_w * sum_w)).sqrt())
        }
        _ => None,
    })
}

/// The Wald-type CI of τ² at `level` percent, with I² and H² from the
/// typical sampling variance `typical_variance`.
pub fn wald_ci(tau2: f64, se: f64, typical_variance: f64, level: f64) -> HeterogeneityCi {
    let z = normal_upper((1.0 - level / 100.0) / 2.0);
    let bounds = [(tau2 - z * se).max(0.0), tau2 + z * se];
    HeterogeneityCi {
        tau2: bounds,
        i2: bounds.map(|t| 100.0 * t / (typical_variance + t)),
        h2: bounds.map(|t| t / typical_variance + 1.0),
        null_set: false,
        upper_beyond_search: false,
    }
}
