//! Pooling 2×2 tables the Cochrane way: the Mantel-Haenszel and Peto
//! common-effect estimates (metafor `rma.mh` and `rma.peto`; RevMan's
//! defaults for binary outcomes), with the heterogeneity Q, I² and H², and
//! for the MH odds ratio the Cochran-Mantel-Haenszel and Tarone tests.
//!
//! Zero cells as metafor's defaults: the pooled estimate uses the tables as
//! they are; Q is computed from each study's effect size with 1/2 added to
//! the cells of tables with a zero cell, and leaves out the tables without
//! events (or without non-events) in both groups (`drop00 = TRUE`), which
//! the result names in a warning.

use serde::Serialize;

use crate::data::dataset::Dataset;
use crate::effect_size::measure::Measure;
use crate::estimate::Estimate;
use crate::fields::{MEASURE, METHOD};
use crate::model::fit_statistics::{FitStatistics, common_effect_ml};
use crate::model::mantel_haenszel::mantel_haenszel;
use crate::model::peto::{peto, study_log_odds_ratio};
use crate::model::two_by_two::{Table, TableError};
use crate::numerics::distribution::{chisq_sf, normal_upper};
use crate::pool::Transformed;
use crate::settings::VERSION;
use crate::warning::Warning;

/// A method that pools 2×2 tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum TablesMethod {
    /// Mantel-Haenszel (OR, RR, RD).
    MH,
    /// Peto's odds ratio.
    PETO,
}

impl TablesMethod {
    /// Both methods.
    pub const ALL: [TablesMethod; 2] = [TablesMethod::MH, TablesMethod::PETO];

    /// The name on the command line and in JSON.
    pub fn name(self) -> &'static str {
        match self {
            TablesMethod::MH => "MH",
            TablesMethod::PETO => "PETO",
        }
    }

    /// Parses `MH` or `PETO` (case-insensitive).
    pub fn parse(name: &str) -> Option<TablesMethod> {
        match name.to_ascii_uppercase().as_str() {
            "MH" => Some(TablesMethod::MH),
            "PETO" => Some(TablesMethod::PETO),
            _ => None,
        }
    }
}

/// How a tables result was computed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TablesSettings {
    /// "MH" or "PETO".
    pub method: TablesMethod,
    /// Inference: always z.
    pub test: &'static str,
    /// Confidence level in percent.
    pub level: f64,
    /// The measure pooled (OR for Peto).
    pub measure: Measure,
    /// tau's version.
    pub version: &'static str,
}

/// One study's line: its effect size and its weight in the pooled estimate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TableRow {
    /// Label.
    pub study: String,
    /// Outcome (with 1/2 added to the cells of a table with a zero cell).
    pub yi: f64,
    /// Sampling variance.
    pub vi: f64,
    /// Standard error √vᵢ.
    pub sei: f64,
    /// Lower limit of the study's normal-theory CI.
    pub ci_lower: f64,
    /// Upper limit.
    pub ci_upper: f64,
    /// Weight in the pooled estimate, percent (metafor `weights()`).
    pub weight: f64,
}

/// The pooled result of 2×2 tables. Field names are the JSON contract.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TablesResult {
    /// Title of the data set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Number of studies (tables).
    pub k: usize,
    /// Pooled estimate (log scale for OR and RR), its SE, z test and CI.
    #[serde(flatten)]
    pub estimate: Estimate,
    /// Cochran's Q over the studies with an effect size (Peto: its own Q).
    #[serde(rename = "QE")]
    pub q: f64,
    /// Its degrees of freedom.
    #[serde(rename = "QE_df")]
    pub q_df: usize,
    /// Its p-value.
    #[serde(rename = "QE_p")]
    pub q_p: f64,
    /// I² in percent.
    #[serde(rename = "I2")]
    pub i2: f64,
    /// H².
    #[serde(rename = "H2")]
    pub h2: f64,
    /// Log-likelihood, deviance, AIC, BIC, AICc (metafor `fitstats`, ML).
    #[serde(flatten)]
    pub fit_statistics: FitStatistics,
    /// Cochran-Mantel-Haenszel test (OR under MH).
    #[serde(rename = "CMH", skip_serializing_if = "Option::is_none")]
    pub cmh: Option<f64>,
    /// Its p-value (1 df).
    #[serde(rename = "CMH_p", skip_serializing_if = "Option::is_none")]
    pub cmh_p: Option<f64>,
    /// Tarone's test of homogeneity of odds ratios (OR under MH).
    #[serde(rename = "Tarone", skip_serializing_if = "Option::is_none")]
    pub tarone: Option<f64>,
    /// Its p-value.
    #[serde(rename = "Tarone_p", skip_serializing_if = "Option::is_none")]
    pub tarone_p: Option<f64>,
    /// Its degrees of freedom.
    #[serde(rename = "Tarone_df", skip_serializing_if = "Option::is_none")]
    pub tarone_df: Option<usize>,
    /// Back-transformed summary (OR, RR).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transformed: Option<Transformed>,
    /// Each study's line.
    pub studies: Vec<TableRow>,
    /// How it was computed.
    pub settings: TablesSettings,
    /// Things to know about the data or the fit.
    pub warnings: Vec<Warning>,
}

/// Pools the 2×2 tables of `dataset` with `method` (metafor `rma.mh` or
/// `rma.peto`) and `level`% confidence intervals.
pub fn pool_tables(
    dataset: &Dataset,
    method: TablesMethod,
    level: f64,
) -> Result<TablesResult, TableError> {
    let measure = dataset.measure;
    let supported = match method {
        TablesMethod::MH => matches!(measure, Measure::OR | Measure::RR | Measure::RD),
        TablesMethod::PETO => measure == Measure::OR,
    };
    if !supported {
        let (supported, first) = match method {
            TablesMethod::MH => ("OR, RR and RD", "OR"),
            TablesMethod::PETO => ("odds ratios (OR)", "OR"),
        };
        return Err(TableError::Measure {
            method: method.name(),
            measure,
            supported,
            first,
        });
    }
    if !(level > 0.0 && level < 100.0) {
        return Err(TableError::BadLevel(level));
    }
    if dataset.studies.is_empty() {
        return Err(TableError::TooFewStudies {
            what: "pooling",
            needed: 1,
            k: 0,
        });
    }
    let tables = tables(dataset, method.name())?;
    // Studies with an effect size for Q: all but the double-zero tables.
    let counted: Vec<bool> = tables.iter().map(|t| !t.is_double_zero()).collect();
    let k_yi = counted.iter().filter(|&&c| c).count();
    let (estimate, weights, q, tests) = match method {
        TablesMethod::MH => {
            let mh = mantel_haenszel(&tables, measure);
            let (beta, _) = mh.estimate.ok_or_else(|| undefined(method, measure))?;
            let q: f64 = dataset
                .studies
                .iter()
                .zip(&counted)
                .filter(|(_, c)| **c)
                .map(|(s, _)| (s.yi - beta).powi(2) / s.vi)
                .sum();
            (mh.estimate, mh.weights, q.max(0.0), (mh.cmh, mh.tarone))
        }
        TablesMethod::PETO => {
            let p = peto(&tables);
            (p.estimate, p.weights, p.q, (None, None))
        }
    };
    let (beta, se) = estimate.ok_or_else(|| undefined(method, measure))?;
    // The outcomes the likelihood is of: each counted study's effect size
    // (Peto's own log odds ratio under PETO).
    let (outcomes, variances): (Vec<f64>, Vec<f64>) = dataset
        .studies
        .iter()
        .zip(&tables)
        .zip(&counted)
        .filter(|(_, c)| **c)
        .map(|((s, t), _)| match method {
            TablesMethod::MH => (s.yi, s.vi),
            TablesMethod::PETO => study_log_odds_ratio(t),
        })
        .unzip();
    let rss: f64 = outcomes
        .iter()
        .zip(&variances)
        .map(|(y, v)| (y - beta).powi(2) / v)
        .sum();
    let fit_statistics = common_effect_ml(&variances, rss);
    let z = normal_upper((1.0 - level / 100.0) / 2.0);
    let estimate = Estimate::wald(beta, se, z, None);
    let heterogeneous = match method {
        TablesMethod::MH => k_yi > 1,
        TablesMethod::PETO => weights.iter().filter(|&&w| w > 0.0).count() > 1,
    };
    let df = k_yi.saturating_sub(1);
    let (q, q_p, i2, h2) = if heterogeneous {
        let df = df as f64;
        (q, chisq_sf(q, df), (100.0 * (q - df) / q).max(0.0), q / df)
    } else {
        (
            if method == TablesMethod::MH { 0.0 } else { q },
            1.0,
            0.0,
            1.0,
        )
    };
    let transformed = measure.back_transform().map(|(scale, f)| Transformed {
        scale,
        estimate: f(estimate.value),
        ci_lower: f(estimate.ci_lower),
        ci_upper: f(estimate.ci_upper),
        pi_lower: f(estimate.ci_lower),
        pi_upper: f(estimate.ci_upper),
    });
    let total: f64 = weights.iter().sum();
    let studies = dataset
        .studies
        .iter()
        .zip(&weights)
        .map(|(s, w)| {
            let sei = s.vi.sqrt();
            TableRow {
                study: s.label().to_owned(),
                yi: s.yi,
                vi: s.vi,
                sei,
                ci_lower: s.yi - z * sei,
                ci_upper: s.yi + z * sei,
                weight: 100.0 * w / total,
            }
        })
        .collect();
    let mut warnings = dataset.warnings.clone();
    let double_zero: Vec<String> = dataset
        .studies
        .iter()
        .zip(&counted)
        .filter(|(_, c)| !**c)
        .map(|(s, _)| s.label().to_owned())
        .collect();
    if !double_zero.is_empty() {
        warnings.push(Warning::DoubleZeroTables {
            studies: double_zero,
            weighted: method == TablesMethod::MH && measure == Measure::RD,
        });
    }
    let (cmh, tarone) = tests;
    Ok(TablesResult {
        title: dataset.title.clone(),
        k: tables.len(),
        estimate,
        q,
        q_df: df,
        q_p,
        i2,
        h2,
        fit_statistics,
        cmh: cmh.map(|c| c.0),
        cmh_p: cmh.map(|c| c.1),
        tarone: tarone.map(|t| t.0),
        tarone_p: tarone.map(|t| t.1),
        tarone_df: tarone.map(|t| t.2),
        transformed,
        studies,
        settings: TablesSettings {
            method,
            test: "z",
            level,
            measure,
            version: VERSION,
        },
        warnings,
    })
}

fn undefined(method: TablesMethod, measure: Measure) -> TableError {
    TableError::Undefined(match method {
        TablesMethod::MH => format!(
            "the Mantel-Haenszel {measure} does not exist for these studies: {}; pool the risk difference ({MEASURE} RD) instead",
            if measure == Measure::OR {
                "no table has events in one group together with non-events in the other (the sums of a*d/N and of b*c/N must both be above 0)"
            } else {
                "one group has no events in any study"
            }
        ),
        TablesMethod::PETO => format!(
            "Peto's odds ratio does not exist for these studies: one of the two outcomes never occurs in any study; use {MEASURE} RD with {METHOD} MH"
        ),
    })
}

/// The 2×2 table of every study of `dataset`, or a located error for the
/// first study given as an effect size only; `method` names the method in
/// the message.
pub(crate) fn tables(dataset: &Dataset, method: &'static str) -> Result<Vec<Table>, TableError> {
    dataset
        .studies
        .iter()
        .enumerate()
        .map(|(index, study)| {
            let counts = study
                .raw
                .as_deref()
                .and_then(|r| Some((r.events1?, r.n1?, r.events2?, r.n2?)));
            match counts {
                Some((e1, n1, e2, n2)) => Ok(Table {
                    a: e1,
                    b: n1 - e1,
                    c: e2,
                    d: n2 - e2,
                }),
                None => Err(TableError::NoCounts {
                    method,
                    index,
                    label: study.label().to_owned(),
                }),
            }
        })
        .collect()
}
