//! The selection models' weight functions w(p; δ): the relative likelihood
//! that a study with one-sided p-value p is published (metafor `selmodel`,
//! with `prec` unset so every study has precision 1).
//!
//! * step (Vevea & Hedges 1995; the 3PSM has one cut-point): w = δⱼ on the
//!   j-th interval of p, δ₁ = 1;
//! * beta (Citkowicz & Vevea 2017): w = p^(δ₁−1) (1 − p)^(δ₂−1);
//! * halfnorm, negexp, logistic, power (Preston et al. 2004): w = 1 for
//!   p ≤ s (s = the one cut-point, 0 by default) and otherwise
//!   exp(−δp²)/exp(−δs²), exp(−δp)/exp(−δs),
//!   [2e^(−δp)/(1 + e^(−δp))]/[2e^(−δs)/(1 + e^(−δs))] and (1 − p)^δ/(1 − s)^δ.

use serde::{Deserialize, Serialize};

/// The form of the weight function (metafor's `type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SelectionType {
    /// A step function with cut-points `steps` (metafor `"stepfun"`).
    #[default]
    Step,
    /// The beta weight function.
    Beta,
    /// The half-normal weight function.
    Halfnorm,
    /// The negative-exponential weight function.
    Negexp,
    /// The logistic weight function.
    Logistic,
    /// The power weight function.
    Power,
}

impl SelectionType {
    /// Every type, in metafor's order.
    pub const ALL: [SelectionType; 6] = [
        SelectionType::Step,
        SelectionType::Beta,
        SelectionType::Halfnorm,
        SelectionType::Negexp,
        SelectionType::Logistic,
        SelectionType::Power,
    ];

    /// The name tau uses (metafor's, with `step` for `stepfun`).
    pub fn name(self) -> &'static str {
        match self {
            SelectionType::Step => "step",
            SelectionType::Beta => "beta",
            SelectionType::Halfnorm => "halfnorm",
            SelectionType::Negexp => "negexp",
            SelectionType::Logistic => "logistic",
            SelectionType::Power => "power",
        }
    }

    /// Parses a name (case-insensitive; `stepfun` is accepted as in metafor).
    pub fn parse(name: &str) -> Option<SelectionType> {
        if name.eq_ignore_ascii_case("stepfun") {
            return Some(SelectionType::Step);
        }
        SelectionType::ALL
            .into_iter()
            .find(|t| t.name().eq_ignore_ascii_case(name))
    }
}

/// Which p-values count as "significant" (metafor's `alternative`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Alternative {
    /// p = 1 − Φ(yᵢ/√vᵢ): positive effects are favoured.
    #[default]
    Greater,
    /// p = Φ(yᵢ/√vᵢ): negative effects are favoured.
    Less,
}

impl Alternative {
    /// The one-sided p-value of an outcome y with sampling variance v
    /// (metafor `.selmodel.pval`).
    pub fn p_value(self, y: f64, sd: f64) -> f64 {
        let z = y / sd;
        match self {
            Alternative::Greater => upper(z),
            Alternative::Less => lower(z),
        }
    }

    /// metafor's name.
    pub fn name(self) -> &'static str {
        match self {
            Alternative::Greater => "greater",
            Alternative::Less => "less",
        }
    }
}

/// Φ(z).
pub(crate) fn lower(z: f64) -> f64 {
    use statrs::distribution::ContinuousCDF;
    statrs::distribution::Normal::standard().cdf(z)
}

/// 1 − Φ(z), accurate in the tail.
pub(crate) fn upper(z: f64) -> f64 {
    use statrs::distribution::ContinuousCDF;
    statrs::distribution::Normal::standard().sf(z)
}

/// Φ⁻¹(p).
pub(crate) fn quantile(p: f64) -> f64 {
    use statrs::distribution::ContinuousCDF;
    statrs::distribution::Normal::standard().inverse_cdf(p)
}

/// How a type's selection parameters are set up in metafor: how many, their
/// start values, the box they are mapped into, their natural lower bound
/// (for intervals), the value of "no selection", and the smallest p-value used.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct DeltaSpec {
    pub init: Vec<f64>,
    pub min: Vec<f64>,
    pub max: Vec<f64>,
    pub lower_bound: f64,
    pub null: f64,
    pub pval_min: f64,
}

impl DeltaSpec {
    /// metafor's settings for `kind` with `intervals` p-value intervals (step only).
    pub fn of(kind: SelectionType, intervals: usize) -> DeltaSpec {
        let n = match kind {
            SelectionType::Step => intervals,
            SelectionType::Beta => 2,
            _ => 1,
        };
        let (min, null, pval_min) = match kind {
            SelectionType::Step => (0.0, 1.0, 0.0),
            SelectionType::Beta => (1e-5, 1.0, 1e-5),
            SelectionType::Power => (0.0, 0.0, 1e-5),
            _ => (0.0, 0.0, 0.0),
        };
        DeltaSpec {
            init: vec![1.0; n],
            min: vec![min; n],
            max: vec![100.0; n],
            lower_bound: 0.0,
            null,
            pval_min,
        }
    }
}

/// w(p; δ) for a study of precision 1; `steps` are the cut-points with 1 last.
pub fn weight(kind: SelectionType, p: f64, delta: &[f64], steps: &[f64]) -> f64 {
    let d = delta[0];
    let s = steps.first().copied().unwrap_or(0.0);
    match kind {
        SelectionType::Step => steps
            .iter()
            .position(|&cut| p <= cut)
            .map_or(f64::NAN, |j| delta[j]),
        SelectionType::Beta => p.powf(delta[0] - 1.0) * (1.0 - p).powf(delta[1] - 1.0),
        _ if p <= s => 1.0,
        SelectionType::Halfnorm => (-d * p * p).exp() / (-d * s * s).exp(),
        SelectionType::Negexp => (-d * p).exp() / (-d * s).exp(),
        SelectionType::Logistic => {
            let f = |x: f64| 2.0 * (-d * x).exp() / (1.0 + (-d * x).exp());
            f(p) / f(s)
        }
        SelectionType::Power => (1.0 - p).powf(d) / (1.0 - s).powf(d),
    }
}
