//! Robust inference on the coefficients of a working model: per coefficient
//! the robust SE, t = β̂/SE, its df, p and CI; and the omnibus test of the
//! moderators. Field names are the JSON contract.
//!
//! * Satterthwaite/HTZ (metafor `robust(clubSandwich = TRUE)`): CR2 SEs,
//!   t tests on the Satterthwaite df ([`super::satterthwaite`]), CIs
//!   β̂ ± t_(1−α/2, df) SE (clubSandwich `conf_int`), and the HTZ F test
//!   ([`super::htz`]) for the moderators. An intercept-only model's omnibus
//!   test is its t test: QM = t² on (1, df).
//! * none (metafor `robust(adjust = TRUE)`): CR1 SEs, t tests and CIs on
//!   n − p df, and QM = β̂ᵦ' V⁻¹ β̂ᵦ / m on F(m, n − p), n the number of clusters.

use serde::Serialize;

use super::RobustError;
use super::htz::{htz, wald};
use super::sandwich::{WorkingCluster, cr1, cr2};
use super::satterthwaite::satterthwaite_df;
use crate::numerics::distribution::{f_sf, t_two_sided_p, t_upper};
use crate::warning::Warning;

/// Tipton (2015): tests with fewer Satterthwaite df than this are unreliable.
pub const MIN_RELIABLE_DF: f64 = 4.0;

/// The small-sample correction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Default)]
pub enum SmallSample {
    /// CR2 with Satterthwaite t tests and the HTZ F test (clubSandwich).
    #[default]
    #[serde(rename = "Satterthwaite/HTZ")]
    Satterthwaite,
    /// metafor's own robust(): CR1 (n/(n − p)), t and F tests on n − p df.
    #[serde(rename = "none")]
    None,
}

impl SmallSample {
    /// Parses `satterthwaite` / `htz` / `cr2` or `none` (case-insensitive).
    pub fn parse(name: &str) -> Option<SmallSample> {
        match name.to_ascii_lowercase().as_str() {
            "satterthwaite" | "htz" | "satterthwaite/htz" | "cr2" => {
                Some(SmallSample::Satterthwaite)
            }
            "none" => Some(SmallSample::None),
            _ => None,
        }
    }

    /// The variance estimator it uses, by clubSandwich's and metafor's name.
    pub fn estimator(self) -> &'static str {
        match self {
            SmallSample::Satterthwaite => "CR2",
            SmallSample::None => "CR1",
        }
    }
}

/// One coefficient's robust inference.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RobustCoefficient {
    /// Its name.
    pub name: String,
    /// The working model's estimate.
    pub estimate: f64,
    /// Robust standard error.
    pub se: f64,
    /// t = estimate / se.
    pub statistic: f64,
    /// Degrees of freedom of the t test (`null`: undefined, see the warnings).
    pub df: Option<f64>,
    /// Two-sided p-value.
    pub p: f64,
    /// Lower confidence limit.
    pub ci_lower: f64,
    /// Upper confidence limit.
    pub ci_upper: f64,
}

/// How the robust inference was made.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RobustInfo {
    /// "CR2" or "CR1".
    #[serde(rename = "type")]
    pub estimator: &'static str,
    /// The cluster moderator.
    pub cluster: String,
    /// Number of clusters.
    pub clusters: usize,
    /// "Satterthwaite/HTZ" or "none".
    pub small_sample: SmallSample,
    /// Confidence level in percent (the model's, shown in its settings).
    #[serde(skip)]
    pub level: f64,
}

/// Robust inference on a working model. Field names are the JSON contract.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RobustResult {
    /// The coefficients.
    pub coefficients: Vec<RobustCoefficient>,
    /// The robust variance-covariance matrix, row by row.
    pub vcov: Vec<Vec<f64>>,
    /// The omnibus F statistic (HTZ, or QM/m with none; t² for an intercept-only model).
    #[serde(rename = "QM")]
    pub qm: f64,
    /// Its numerator df.
    #[serde(rename = "QM_df")]
    pub qm_df: usize,
    /// Its denominator df (`null` when undefined).
    #[serde(rename = "QM_df2")]
    pub qm_df2: Option<f64>,
    /// Its p-value.
    #[serde(rename = "QM_p")]
    pub qm_p: f64,
    /// Always "F".
    #[serde(rename = "QM_distribution")]
    pub qm_distribution: &'static str,
    /// Estimator, cluster, number of clusters, small-sample correction.
    pub robust: RobustInfo,
    /// Things to know (unreliable or undefined df).
    pub warnings: Vec<Warning>,
}

/// What [`infer`] needs besides the clusters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct InferenceOptions<'a> {
    /// Coefficient names, in model order.
    pub names: &'a [String],
    /// Indices of the coefficients the omnibus test covers (empty: an
    /// intercept-only model, whose omnibus test is its t test).
    pub tested: &'a [usize],
    /// The cluster moderator's name (for the report).
    pub cluster: &'a str,
    /// The small-sample correction.
    pub small_sample: SmallSample,
    /// Confidence level in percent.
    pub level: f64,
}

/// Robust inference on the estimates `beta` of the working model whose
/// clusters are `clusters`.
pub fn infer(
    clusters: &[WorkingCluster],
    beta: &[f64],
    options: &InferenceOptions<'_>,
) -> Result<RobustResult, RobustError> {
    let alpha = 1.0 - options.level / 100.0;
    let p = beta.len();
    let sandwich = match options.small_sample {
        SmallSample::Satterthwaite => cr2(clusters)?,
        SmallSample::None => cr1(clusters)?,
    };
    let n = sandwich.clusters;
    let df: Vec<f64> = match options.small_sample {
        SmallSample::Satterthwaite => (0..p).map(|i| satterthwaite_df(&sandwich, i)).collect(),
        SmallSample::None => vec![(n - p) as f64; p],
    };
    let mut warnings = Vec::new();
    if !sandwich.singular.is_empty() {
        warnings.push(Warning::SingularCr2Blocks {
            cluster: options.cluster.to_owned(),
            clusters: sandwich.singular.clone(),
        });
    }
    let coefficients: Vec<RobustCoefficient> = (0..p)
        .map(|i| {
            let se = sandwich.vcov[(i, i)].sqrt();
            let statistic = beta[i] / se;
            let crit = t_upper(alpha / 2.0, df[i]);
            let name = options
                .names
                .get(i)
                .cloned()
                .unwrap_or_else(|| i.to_string());
            if df[i].is_nan() {
                warnings.push(Warning::UndefinedRobustDf {
                    coefficient: name.clone(),
                });
            } else if df[i] < MIN_RELIABLE_DF {
                warnings.push(Warning::FewRobustDf {
                    coefficient: name.clone(),
                    df: df[i],
                });
            }
            RobustCoefficient {
                name,
                estimate: beta[i],
                se,
                statistic,
                df: df[i].is_finite().then_some(df[i]),
                p: t_two_sided_p(statistic, df[i]),
                ci_lower: beta[i] - crit * se,
                ci_upper: beta[i] + crit * se,
            }
        })
        .collect();

    let (qm, qm_df, qm_df2, qm_p) = if options.tested.is_empty() {
        let c = &coefficients[0];
        (c.statistic * c.statistic, 1, df[0], c.p)
    } else {
        match options.small_sample {
            SmallSample::Satterthwaite => {
                let test = htz(&sandwich, beta, options.tested)?;
                (test.statistic.max(0.0), test.df1, test.df2, test.p)
            }
            SmallSample::None => {
                let m = options.tested.len();
                let df2 = (n - p) as f64;
                // As metafor: a singular robust variance leaves QM NA.
                let qm = match wald(&sandwich.vcov, beta, options.tested) {
                    Ok(q) => q / m as f64,
                    Err(_) => {
                        warnings.push(Warning::SingularRobustTest);
                        f64::NAN
                    }
                };
                (qm, m, df2, f_sf(qm, m as f64, df2))
            }
        }
    };
    if options.tested.len() > 1
        && options.small_sample == SmallSample::Satterthwaite
        && (qm_df2.is_nan() || qm_df2 < MIN_RELIABLE_DF)
    {
        warnings.push(Warning::FewHtzDf {
            df: qm_df2,
            q: qm_df,
        });
    }
    Ok(RobustResult {
        coefficients,
        vcov: sandwich
            .vcov
            .row_iter()
            .map(|r| r.iter().copied().collect())
            .collect(),
        qm,
        qm_df,
        qm_df2: qm_df2.is_finite().then_some(qm_df2),
        qm_p,
        qm_distribution: "F",
        robust: RobustInfo {
            estimator: options.small_sample.estimator(),
            cluster: options.cluster.to_owned(),
            clusters: n,
            small_sample: options.small_sample,
            level: options.level,
        },
        warnings,
    })
}
