//! The residuals of a Mantel-Haenszel or Peto fit (metafor's `rstandard`
//! and `rstudent` of `rma.mh` and `rma.peto`), computed by
//! `crate::analysis::diagnostics::tables_residuals` from the refits of the
//! analysis request.

use serde::Serialize;

use super::multilevel_influence::Residual;
use crate::estimate::Estimate;
use crate::pool_tables::TablesSettings;
use crate::warning::Warning;

/// One study's residuals of a Mantel-Haenszel or Peto fit. Field names are
/// the JSON contract.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TablesStudyResiduals {
    /// The study's label.
    pub study: String,
    /// yᵢ − β̂ over √vᵢ (metafor's `rstandard.rma.mh`, `rstandard.rma.peto`).
    pub rstandard: Residual,
    /// yᵢ − β̂₍ᵢ₎ over √(vᵢ + Var β̂₍ᵢ₎), the model refitted without the
    /// study (`rstudent.rma.mh`, `rstudent.rma.peto`); empty when the refit
    /// fails.
    pub rstudent: Option<Residual>,
}

/// The residuals of every study of a Mantel-Haenszel or Peto fit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TablesResiduals {
    /// Title of the data set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Studies with an effect size.
    pub k: usize,
    /// The pooled estimate on all studies (log scale).
    pub estimate: Estimate,
    /// One row per study with an effect size.
    pub studies: Vec<TablesStudyResiduals>,
    /// How the model was fitted.
    pub settings: TablesSettings,
    /// Things to know.
    pub warnings: Vec<Warning>,
}
