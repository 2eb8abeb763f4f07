//! Views of results: plain text for people, JSON for programs, CSV for
//! spreadsheets, Markdown and LaTeX tables for papers.
//! Each view reads the same result struct, so a number can never differ between them.
//!
//! [`write_report`] writes any [`Report`] in a [`Format`]; each format's views
//! are in its own file ([`text`], [`json`], [`csv`], [`markdown`], [`latex`]),
//! one `impl` per result (the paper formats share [`paper`]'s tables),
//! and the longer texts and tables in per-result modules ([`subgroup`],
//! [`regression`], [`multilevel`], [`bias`], [`sensitivity`], [`simulate`]).

pub mod bayes;
pub mod bias;
pub mod bias_paper;
pub mod compare;
pub mod csv;
pub mod format;
pub mod glmm;
pub mod json;
pub mod latex;
pub mod location_scale;
pub mod markdown;
pub mod moderator_test;
pub mod multilevel;
pub mod multilevel_influence;
pub use crate::numerics::number;
pub mod paper;
pub mod predict;
pub mod ranef;
pub mod regression;
pub mod rho;
pub mod robust;
pub mod selection;
pub mod sensitivity;
pub mod simulate;
pub mod subgroup;
pub mod table;
pub mod tables_residuals;
pub mod text;

pub use crate::numerics::format::{fmt_num, fmt_p, push_num};
pub use format::{Format, Report, write_report};
pub use table::{Cells, aligned_table, table};

use crate::data::dataset::Dataset;
use crate::pool::PoolResult;

/// A model's report followed by its robust inference ([`robust`]): text is
/// the model's then the robust block, JSON the model's with the robust values
/// in place ([`robust::json`]), CSV the robust coefficient table.
#[derive(Debug, Clone, Copy)]
pub struct RobustReport<'a, M: ?Sized> {
    /// The model's own report.
    pub model: &'a M,
    /// Its robust inference.
    pub robust: &'a crate::robust::RobustResult,
    /// What the omnibus test covers ("moderators", "subgroup differences").
    pub tested: &'a str,
}

/// A pooled result with the data set it pooled: its report lists the studies.
#[derive(Debug, Clone, Copy)]
pub struct PoolReport<'a> {
    /// The pooled result.
    pub result: &'a PoolResult,
    /// The data set that was pooled.
    pub data: &'a Dataset,
}
