//! Study records as users write them, and the readers for JSON and CSV.
//!
//! One record is one effect size. It carries a `study` label, the effect data
//! in one of several forms (see [`Record`]) and optional `moderators`. The
//! readers only parse; checking the numbers and computing effect sizes is
//! [`crate::effect_size`]'s job.

/// The JSON Schema of the study-record format (`tau schema` prints it).
pub const SCHEMA: &str = include_str!("record.schema.json");

pub mod columns;
pub mod csv;
pub(crate) mod deserialize;
pub mod encoding;
pub mod json;
pub mod locate;
pub mod moderators;
pub mod nearest;
pub mod revman;
pub mod sheet;
pub mod suggest;
pub mod tidy;

use std::sync::Arc;

use serde::{Deserialize, Serialize};

pub use moderators::{Interner, Moderators, Name};

/// A study file: an optional title and measure, and the records.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct StudyFile {
    /// A title for reports and plots.
    #[serde(default)]
    pub title: Option<String>,
    /// The measure raw data are turned into (metafor's `measure`), e.g. "SMD".
    #[serde(default)]
    pub measure: Option<String>,
    /// Where the data come from.
    #[serde(default)]
    pub source: Option<String>,
    /// Free-text notes (provenance, derivations, caveats).
    #[serde(default)]
    pub notes: Option<String>,
    /// The records.
    pub studies: Vec<Record>,
}

/// A line and column (both 1-based) in a source text; for CSV, the column is the field number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Position {
    /// 1-based line.
    pub line: usize,
    /// 1-based column (JSON) or field number (CSV; 0 when the field has no column).
    pub column: usize,
}

impl std::fmt::Display for Position {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// One effect size, in any of the accepted forms.
///
/// * generic: `yi` + `vi`, or `yi` + `sei`, or `estimate` + `ci_lower` + `ci_upper` (+ `ci_level`);
/// * two-group continuous: `n1, m1, sd1, n2, m2, sd2`;
/// * two-group binary: `events1, n1, events2, n2`;
/// * correlation: `r, n`;
/// * single proportion: `events, n`;
/// * two-group t statistic: `t, n1, n2`;
/// * pre-post (one group measured twice): `m_pre, m_post, sd_pre, sd_post, n, r`;
/// * single mean: `m, sd, n`;
/// * two-group incidence rates: `events1, time1, events2, time2`;
/// * single incidence rate: `events, time`.
///
/// Deserialised by hand (see `deserialize.rs`): unknown fields are refused,
/// and moderator strings are shared between the records of a file.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Record {
    /// The study label.
    pub study: String,
    /// Observed effect size on the analysis scale.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub yi: Option<f64>,
    /// Its sampling variance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vi: Option<f64>,
    /// Its standard error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sei: Option<f64>,
    /// A point estimate reported with a CI (ratio scale for OR and RR).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub estimate: Option<f64>,
    /// Lower limit of the reported CI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ci_lower: Option<f64>,
    /// Upper limit of the reported CI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ci_upper: Option<f64>,
    /// Level of the reported CI in percent (default 95).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ci_level: Option<f64>,
    /// Sample size of group 1 (treatment).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n1: Option<f64>,
    /// Mean of group 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub m1: Option<f64>,
    /// Standard deviation of group 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sd1: Option<f64>,
    /// Sample size of group 2 (control).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n2: Option<f64>,
    /// Mean of group 2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub m2: Option<f64>,
    /// Standard deviation of group 2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sd2: Option<f64>,
    /// Events in group 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub events1: Option<f64>,
    /// Events in group 2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub events2: Option<f64>,
    /// Correlation coefficient (for pre-post data, between the pre and post scores).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub r: Option<f64>,
    /// Sample size (correlations, single proportions, pre-post data, single means).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n: Option<f64>,
    /// Events (single proportion).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub events: Option<f64>,
    /// Two-sample t statistic.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub t: Option<f64>,
    /// The study's weight in the pooled estimate, in place of 1/(vᵢ + τ̂²)
    /// (metafor's `weights =`): given for every record or for none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<f64>,
    /// Mean before (pre-post data; metafor's `m2i`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub m_pre: Option<f64>,
    /// Mean after (pre-post data; metafor's `m1i`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub m_post: Option<f64>,
    /// Standard deviation before (pre-post data).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sd_pre: Option<f64>,
    /// Standard deviation after (pre-post data).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sd_post: Option<f64>,
    /// Mean of one group (single means; metafor's `mi`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub m: Option<f64>,
    /// Standard deviation of one group (single means; metafor's `sdi`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sd: Option<f64>,
    /// Person-time of group 1 (incidence rates, with events1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time1: Option<f64>,
    /// Person-time of group 2 (incidence rates, with events2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time2: Option<f64>,
    /// Person-time (single-group incidence rate, with events).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<f64>,
    /// Whether lower is better here: the effect is turned round (see
    /// [`crate::data::reverse`]).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub reverse: bool,
    /// Named study characteristics.
    #[serde(skip_serializing_if = "Moderators::is_empty")]
    pub moderators: Moderators,
}

/// The numeric fields of a record, by name, in the order the schema lists them.
pub const NUMERIC_FIELDS: [&str; 29] = [
    "yi", "vi", "sei", "estimate", "ci_lower", "ci_upper", "ci_level", "n1", "m1", "sd1", "n2",
    "m2", "sd2", "events1", "events2", "r", "n", "events", "t", "weight", "m_pre", "m_post",
    "sd_pre", "sd_post", "m", "sd", "time1", "time2", "time",
];

impl Record {
    /// The numeric field called `name`, for readers that fill records by column.
    pub fn numeric_field_mut(&mut self, name: &str) -> Option<&mut Option<f64>> {
        let index = NUMERIC_FIELDS.iter().position(|field| *field == name)?;
        self.numeric_slot_mut(index)
    }

    /// The numeric field `NUMERIC_FIELDS[index]`; `None` past the last.
    pub(crate) fn numeric_slot_mut(&mut self, index: usize) -> Option<&mut Option<f64>> {
        let slots = [
            &mut self.yi,
            &mut self.vi,
            &mut self.sei,
            &mut self.estimate,
            &mut self.ci_lower,
            &mut self.ci_upper,
            &mut self.ci_level,
            &mut self.n1,
            &mut self.m1,
            &mut self.sd1,
            &mut self.n2,
            &mut self.m2,
            &mut self.sd2,
            &mut self.events1,
            &mut self.events2,
            &mut self.r,
            &mut self.n,
            &mut self.events,
            &mut self.t,
            &mut self.weight,
            &mut self.m_pre,
            &mut self.m_post,
            &mut self.sd_pre,
            &mut self.sd_post,
            &mut self.m,
            &mut self.sd,
            &mut self.time1,
            &mut self.time2,
            &mut self.time,
        ];
        slots.into_iter().nth(index)
    }
}

/// A moderator value: strings and booleans are categorical, numbers continuous.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Moderator {
    /// A continuous value.
    Number(f64),
    /// A category.
    Text(Arc<str>),
    /// A two-level category.
    Bool(bool),
    /// Not recorded (JSON `null`, or an empty CSV cell).
    Missing,
}

impl Moderator {
    /// The category label of a categorical value (`None` for numbers and missing values).
    pub fn category(&self) -> Option<String> {
        match self {
            Moderator::Text(s) => Some(s.to_string()),
            Moderator::Bool(b) => Some(b.to_string()),
            Moderator::Number(_) | Moderator::Missing => None,
        }
    }
}

/// Why a study file could not be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ReadError {
    /// The JSON is malformed or does not fit the record format.
    #[error("{position}: {path}{message}")]
    Json {
        /// Where the parser stopped.
        position: Position,
        /// Which record and field hold the offending value, e.g.
        /// `study 'Lee 2012' (record 3), field sd1: `, or empty.
        path: String,
        /// What is wrong, and how to fix it.
        message: String,
    },
    /// The CSV is malformed.
    #[error("line {line}{}: {message}", column.as_ref().map(|c| format!(", column {c}")).unwrap_or_default())]
    Csv {
        /// 1-based line.
        line: usize,
        /// The column, by number and header, when known.
        column: Option<String>,
        /// What is wrong, and how to fix it.
        message: String,
    },
    /// A spreadsheet cannot be read, or a cell of it is wrong.
    #[error("{}{message}", if place.is_empty() { String::new() } else { format!("{place}: ") })]
    Sheet {
        /// The cell, e.g. `Sheet1!C7 (vi)`, or empty for the whole workbook.
        place: String,
        /// What is wrong, and how to fix it.
        message: String,
    },
    /// A RevMan 5 file cannot be read, or a value in it is wrong.
    #[error("{}{message}", if place.is_empty() { String::new() } else { format!("{place}: ") })]
    RevMan {
        /// The outcome and study, e.g. `outcome 1.2, study 'Smith 2001'`, or empty.
        place: String,
        /// What is wrong, and how to fix it.
        message: String,
    },
    /// The file holds no records.
    #[error("the file holds no studies: add at least one record to \"studies\"")]
    Empty,
}

/// `text` in double quotes for a message, at most about 80 characters of it:
/// a cell or name of megabytes is cut, and the cut says how long it was.
pub fn quote_bounded(text: &str) -> String {
    const SHOWN: usize = 80;
    match text.char_indices().nth(SHOWN) {
        None => format!("{text:?}"),
        Some((cut, _)) => format!(
            "{:?}... ({} characters)",
            &text[..cut],
            text.chars().count()
        ),
    }
}

/// `text` for a message as it is, or quoted and cut (see [`quote_bounded`])
/// when it is longer than about 80 characters.
pub fn bounded(text: &str) -> String {
    if text.chars().nth(80).is_some() {
        quote_bounded(text)
    } else {
        text.to_owned()
    }
}

/// Names for a message: at most 20, then how many more.
pub fn list_bounded(names: &[String]) -> String {
    const SHOWN: usize = 20;
    let mut out: Vec<String> = names.iter().take(SHOWN).map(|n| bounded(n)).collect();
    if names.len() > SHOWN {
        out.push(format!("and {} more", names.len() - SHOWN));
    }
    out.join(", ")
}

/// The message for text that is not text: NUL bytes in its first 8 kB.
pub fn binary_content(text: &[u8]) -> Option<&'static str> {
    let head = &text[..text.len().min(8192)];
    head.contains(&0).then_some(
        "this is not a text file: it holds NUL bytes (a binary file, or text saved as UTF-16); save the studies as UTF-8 JSON or CSV",
    )
}

/// `text` with every control character (ESC, NUL, line breaks) replaced by
/// U+FFFD (�), for labels and categories that reach the terminal and SVG.
pub fn visible(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { '\u{fffd}' } else { c })
        .collect()
}

impl crate::Kinded for ReadError {
    fn kind(&self) -> crate::ErrorKind {
        crate::ErrorKind::Input
    }
}
