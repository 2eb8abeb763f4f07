//! The result of a leave-one-out or cumulative analysis of any model (the
//! refits are run by `analysis::refits`, on the analysis request): the rows
//! of [`RefitRow`], with the model described in words and its settings.

use serde::Serialize;

use super::RefitRow;
use crate::effect_size::measure::Measure;
use crate::warning::Warning;

/// Which sensitivity analysis a [`Refits`] holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RefitKind {
    /// The model without each record or cluster (metafor `leave1out`).
    LeaveOneOut,
    /// The model on the first 1, 2, … records or clusters (metafor `cumul`).
    Cumulative,
}

/// A leave-one-out or cumulative table of any model. Field names are the
/// JSON contract; the rows are those of the analyses of one τ²
/// ([`RefitRow`]), with `sigma2` for a multilevel model and `df` for t tests.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Refits {
    /// Title of the data set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Which analysis.
    pub analysis: RefitKind,
    /// Number of records.
    pub k: usize,
    /// The model refitted, in words.
    pub model: String,
    /// The moderator whose clusters are left out or added (`null`: records).
    pub cluster: Option<String>,
    /// The moderator the records were sorted by (cumulative; `null`: file order).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order: Option<String>,
    /// The model on all records (leave-one-out; `study` is "all studies").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub overall: Option<RefitRow>,
    /// One row per record or cluster left out or added.
    pub studies: Vec<RefitRow>,
    /// The levels of the variance components (`sigma2`) of a multilevel model.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sigma2_names: Vec<String>,
    /// The settings of the model on all records, as `tau pool` reports them.
    pub settings: serde_json::Value,
    /// The effect-size measure.
    #[serde(skip)]
    pub measure: Measure,
    /// The confidence level in percent.
    #[serde(skip)]
    pub level: f64,
    /// The model's warnings on all records, and refits that failed.
    pub warnings: Vec<Warning>,
}

impl Refits {
    /// What a row is: "study" or the cluster moderator's name.
    pub fn unit(&self) -> &str {
        self.cluster.as_deref().unwrap_or("study")
    }
}
