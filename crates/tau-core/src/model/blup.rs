//! Best linear unbiased predictions (BLUPs) of the study effects, the
//! fitted value shrunk towards each study's own estimate (metafor
//! `blup.rma.uni`; Raudenbush & Bryk 1985, Robinson 1991):
//!
//! λᵢ = τ̂²/(τ̂² + vᵢ),  θ̂ᵢ = λᵢ yᵢ + (1 − λᵢ) xᵢ'β̂,
//! Var(θ̂ᵢ) = λᵢ vᵢ + (1 − λᵢ)² xᵢ'V xᵢ,
//!
//! with the prediction interval θ̂ᵢ ± c √Var(θ̂ᵢ), c the critical value of the
//! model's CIs (normal under z tests, t(k − p) under Knapp-Hartung, with V
//! then the Knapp-Hartung variance). Under the common-effect model (τ̂² = 0)
//! each BLUP is the fitted value.

use serde::Serialize;

/// One study's BLUP. Field names are the JSON contract.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Blup {
    /// The study's label.
    pub study: String,
    /// θ̂ᵢ.
    pub pred: f64,
    /// √Var(θ̂ᵢ).
    pub se: f64,
    /// Lower prediction limit.
    pub pi_lower: f64,
    /// Upper prediction limit.
    pub pi_upper: f64,
}

/// What a study brings to its BLUP.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BlupInput<'a> {
    /// Its label.
    pub study: &'a str,
    /// Its outcome yᵢ.
    pub yi: f64,
    /// Its sampling variance vᵢ.
    pub vi: f64,
    /// Its fitted value xᵢ'β̂.
    pub fitted: f64,
    /// The variance of the fitted value, xᵢ'V xᵢ.
    pub fitted_variance: f64,
}

/// The BLUP of one study in a model with residual heterogeneity `tau2` and
/// critical value `crit` (see the module docs).
pub fn blup(study: &BlupInput, tau2: f64, crit: f64) -> Blup {
    let shrink = tau2 / (tau2 + study.vi);
    let pred = shrink * study.yi + (1.0 - shrink) * study.fitted;
    let variance = shrink * study.vi + (1.0 - shrink).powi(2) * study.fitted_variance;
    let se = variance.max(0.0).sqrt();
    Blup {
        study: study.study.to_owned(),
        pred,
        se,
        pi_lower: pred - crit * se,
        pi_upper: pred + crit * se,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_heterogeneity_gives_the_fitted_value() {
        let input = BlupInput {
            study: "A",
            yi: 1.0,
            vi: 0.5,
            fitted: 0.2,
            fitted_variance: 0.04,
        };
        let b = blup(&input, 0.0, 2.0);
        assert_eq!((b.pred, b.se), (0.2, 0.2));
        assert_eq!((b.pi_lower, b.pi_upper), (0.2 - 0.4, 0.2 + 0.4));
    }

    #[test]
    fn equal_variances_shrink_halfway() {
        let input = BlupInput {
            study: "A",
            yi: 1.0,
            vi: 0.5,
            fitted: 0.0,
            fitted_variance: 0.0,
        };
        let b = blup(&input, 0.5, 1.0);
        assert_eq!(b.pred, 0.5);
        assert_eq!(b.se, 0.5);
    }
}
