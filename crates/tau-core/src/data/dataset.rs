//! From a parsed study file to an analysable data set: the measure is settled,
//! every record's effect size computed, and every bad record reported with
//! its label, index, field and position.

use compact_str::CompactString;
use serde::Serialize;

use crate::data::moderator::{Filter, ModeratorError};
use crate::effect_size::measure::Measure;
use crate::effect_size::scale::Scale;
use crate::effect_size::{self, DataForm, EffectSizeError};
use crate::fields::{EXCLUDE, FILTER, MEASURE, REVERSE};
use crate::input::csv::{CsvInfo, CsvOptions};
use crate::input::locate::SourceMap;
use crate::input::{Moderator, Moderators, Position, ReadError, Record, StudyFile};

/// How many bad records are listed before the rest are only counted.
pub const MAX_LISTED_ISSUES: usize = 20;

/// One study's effect size, with what later stages need of its record.
///
/// A study given as `yi` with `vi` or `sei` keeps only its label and
/// moderators: at a million studies the full record would take five times the
/// memory of the numbers themselves. Raw data (two-group, binary, correlation,
/// proportion, t statistic, estimate with CI) are kept in `raw`, for the data
/// columns of forest plots. A study without raw data or moderators takes
/// 72 bytes, its label included up to 24 bytes ([`CompactString`] keeps a
/// short label inline: a separate allocation would take 32 bytes more).
#[derive(Debug, Clone, PartialEq)]
pub struct Study {
    /// The study label.
    pub label: CompactString,
    /// Outcome on the analysis scale.
    pub yi: f64,
    /// Sampling variance.
    pub vi: f64,
    /// Named study characteristics.
    pub moderators: Moderators,
    /// The record's raw data, for records not given as `yi` (its label and
    /// moderators are moved to the fields above).
    pub raw: Option<Box<Record>>,
    /// The user weight ([`Study::weight`]), 0 for none (a weight must be
    /// positive): an `Option<f64>` would take 8 bytes more per study, 8 MB
    /// at 10⁶ studies.
    weight: f64,
}

impl Study {
    /// The study label.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// The record's `weight`, when it has one.
    pub fn weight(&self) -> Option<f64> {
        (self.weight != 0.0).then_some(self.weight)
    }

    /// A study from a record of data form `form` and its effect size,
    /// taking the record's label, moderators, weight and (for raw data) numbers.
    fn new(record: &mut Record, form: Option<DataForm>, yi: f64, vi: f64) -> Study {
        let weight = record.weight.unwrap_or(0.0);
        let label = CompactString::from(std::mem::take(&mut record.study));
        let mut moderators = std::mem::take(&mut record.moderators);
        positive_zeros(&mut moderators);
        let raw = match form {
            Some(DataForm::Generic) | None => None,
            Some(_) => Some(Box::new(std::mem::take(record))),
        };
        Study {
            label,
            yi,
            vi,
            moderators,
            raw,
            weight,
        }
    }
}

/// Effect sizes ready for analysis.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    /// Title from the file.
    pub title: Option<String>,
    /// Source from the file.
    pub source: Option<String>,
    /// The measure of every yᵢ.
    pub measure: Measure,
    /// The studies, in file order.
    pub studies: Vec<Study>,
    /// Things the user should know (zero-cell corrections, ...).
    pub warnings: Vec<crate::Warning>,
    /// The records of the file that are not among `studies`, and why.
    pub left_out: Vec<LeftOut>,
    /// How a CSV file was read (`None` for JSON and data built in code).
    pub csv: Option<CsvInfo>,
    /// What each `--exclude` label matched, in the order given.
    pub exclusions: Vec<Exclusion>,
    /// The labels that hold control characters (a line break, a tab), by
    /// the label shown (with U+FFFD in their place), as written: the CSV
    /// view quotes and keeps them.
    pub labels_as_written: std::collections::BTreeMap<String, String>,
}

/// The records one `--exclude` label left out.
///
/// A label matches the records with that label; a label written as the
/// reports show a repeated one, `A (2)`, also matches the second record
/// labelled `A` (the first keeps its label; see `make_labels_unique`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Exclusion {
    /// The label as given.
    pub label: String,
    /// The 1-based numbers of the records it left out, in file order.
    pub records: Vec<usize>,
    /// Whether it matched a record by its number among those with the
    /// same label (`A (2)`), not by its own label.
    pub by_number: bool,
}

impl Exclusion {
    /// A note for the user when the label left out more than one record,
    /// or one by its number, else `None`.
    pub fn note(&self) -> Option<String> {
        let records: Vec<String> = self.records.iter().map(usize::to_string).collect();
        let listed = crate::text::list_labels(&records);
        if self.records.len() > 1 {
            Some(format!(
                "{EXCLUDE} {:?} matched {} records ({listed}), and left out all of them; to leave out one, name it as the output shows it, e.g. {EXCLUDE} {:?}",
                self.label,
                self.records.len(),
                format!("{} (2)", self.label)
            ))
        } else if self.by_number {
            let base = numbered_label(&self.label).map_or("", |(base, _)| base);
            Some(format!(
                "{EXCLUDE} {:?} left out record {listed}, labelled {base:?} in the file and shown as {:?} in the output",
                self.label, self.label
            ))
        } else {
            None
        }
    }
}

/// `A (2)` as (`A`, 2): a repeated label as the output shows it.
fn numbered_label(label: &str) -> Option<(&str, usize)> {
    let (base, digits) = label.strip_suffix(')')?.rsplit_once(" (")?;
    if digits.starts_with('0') || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let number: usize = digits.parse().ok()?;
    (number >= 2).then_some((base, number))
}

/// A record of the file left out of the analysis.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LeftOut {
    /// The study label.
    pub study: String,
    /// 1-based record number in the file.
    pub record: usize,
    /// Why: `"filter g=x"`, `"excluded"`, or the missing field.
    pub reason: String,
}

/// How to turn a file into a data set.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LoadOptions {
    /// Overrides the file's measure.
    pub measure: Option<Measure>,
    /// Keep only the records every filter keeps (applied before the
    /// records are checked, so a bad record that is filtered out is no error).
    pub filters: Vec<Filter>,
    /// Leave out the records with these labels.
    pub exclude: Vec<String>,
    /// Stop at a record with missing effect data instead of leaving it out
    /// with a warning (metafor's `na.action = "na.fail"` rather than `"na.omit"`).
    pub strict: bool,
    /// The pre-post correlation assumed for pre-post records without `r`
    /// (`--ri`); without it such a record is an error.
    pub ri: Option<f64>,
    /// How to read CSV text.
    pub csv: CsvOptions,
    /// Turn round the effects of the studies these rules match
    /// (`--reverse MODERATOR=VALUE`; see [`crate::data::reverse`]).
    pub reverse: Vec<Filter>,
}

impl Dataset {
    /// The label `shown` (a study's label) as the file wrote it: it differs
    /// only for labels with control characters (see
    /// [`Dataset::labels_as_written`]).
    pub fn label_as_written<'a>(&'a self, shown: &'a str) -> &'a str {
        self.labels_as_written
            .get(shown)
            .map_or(shown, String::as_str)
    }

    /// Builds a data set from outcomes and sampling variances (labels "1", "2", ...).
    pub fn from_effects(measure: Measure, yi: &[f64], vi: &[f64]) -> Dataset {
        let studies = yi
            .iter()
            .zip(vi)
            .enumerate()
            .map(|(i, (&yi, &vi))| Study {
                label: (i + 1).to_string().into(),
                yi,
                vi,
                moderators: Moderators::new(),
                raw: None,
                weight: 0.0,
            })
            .collect();
        Dataset {
            title: None,
            source: None,
            measure,
            studies,
            warnings: Vec::new(),
            left_out: Vec::new(),
            csv: None,
            exclusions: Vec::new(),
            labels_as_written: Default::default(),
        }
    }

    /// The outcomes.
    pub fn yi(&self) -> Vec<f64> {
        self.studies.iter().map(|s| s.yi).collect()
    }

    /// The sampling variances.
    pub fn vi(&self) -> Vec<f64> {
        self.studies.iter().map(|s| s.vi).collect()
    }

    /// The studies' user weights (metafor's `weights =`), when any study has
    /// one; a study without one then has 0, which the model refuses. They
    /// are used by [`crate::pool::pool_with`] and
    /// [`crate::regression::regress_weighted`]; `pool()` and `regress()`
    /// refuse a data set that has them, and the other analyses of this crate
    /// weight by the inverse variances (the `tau` binary refuses a weighted
    /// file for them).
    pub fn weights(&self) -> Option<Vec<f64>> {
        self.studies
            .iter()
            .any(|s| s.weight().is_some())
            .then(|| self.studies.iter().map(|s| s.weight).collect())
    }

    /// The scale its results are shown on: the measure's
    /// ([`Measure::scale`]), and for PFT the Freeman–Tukey inverse at the
    /// harmonic mean of the studies' sample sizes (linear when a study has
    /// no n), so that every view back-transforms alike.
    pub fn scale(&self) -> Scale {
        let n: Option<Vec<f64>> = (self.studies.iter())
            .map(|s| s.raw.as_ref().and_then(|r| r.n))
            .collect();
        match n {
            Some(n) => self.measure.scale_given_n(n.into_iter()),
            None => self.measure.scale_given_n(std::iter::empty()),
        }
    }

    /// The first study with a user weight, if any.
    pub fn first_weighted(&self) -> Option<&Study> {
        self.studies.iter().find(|s| s.weight().is_some())
    }

    /// The data set with these user weights, one per study in order (for
    /// data sets built in code; files give them in the `weight` field).
    /// Panics when the lengths differ.
    pub fn with_weights(mut self, weights: &[f64]) -> Dataset {
        assert_eq!(weights.len(), self.studies.len(), "one weight per study");
        for (study, &w) in self.studies.iter_mut().zip(weights) {
            study.weight = w;
        }
        self
    }
}

/// A bad record, located.
#[derive(Debug, Clone, PartialEq)]
pub struct StudyIssue {
    /// Zero-based record index.
    pub index: usize,
    /// The study label.
    pub label: String,
    /// The offending field, when one is to blame.
    pub field: Option<&'static str>,
    /// Line and column (JSON) or line and field number (CSV).
    pub position: Option<Position>,
    /// Whether `position` is a CSV line and field number rather than a JSON line and column.
    pub in_csv: bool,
    /// What is wrong and how to fix it.
    pub problem: String,
}

impl std::fmt::Display for StudyIssue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.where_in_csv() {
            Some(place) => write!(f, "{place}: ")?,
            None => {
                if let Some(position) = self.position {
                    write!(f, "{position}: ")?;
                }
            }
        }
        self.fmt_unpositioned(f)
    }
}

impl StudyIssue {
    /// The issue with the file name: `data.json:12:7: study 'A' (record 3): ...`
    /// for JSON (as compilers write positions, so editors can jump there), and
    /// `data.csv: line 4, column 3 (vi): study 'A' (record 3): ...` for CSV.
    pub fn in_file(&self, file: &str) -> String {
        match (self.where_in_csv(), self.position) {
            (Some(place), _) => format!("{file}: {place}: {}", Unpositioned(self)),
            (None, Some(position)) => format!("{file}:{position}: {}", Unpositioned(self)),
            (None, None) => format!("{file}: {}", Unpositioned(self)),
        }
    }

    /// "line 4, column 3 (vi)" for an issue located in a CSV file.
    fn where_in_csv(&self) -> Option<String> {
        let position = self.position.filter(|_| self.in_csv)?;
        Some(match self.field {
            Some(field) if position.column > 0 => {
                format!(
                    "line {}, column {} ({field})",
                    position.line, position.column
                )
            }
            _ => format!("line {}", position.line),
        })
    }

    fn fmt_unpositioned(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let label = if self.label.is_empty() {
            "(no label)".into()
        } else {
            format!("'{}'", self.label)
        };
        write!(f, "study {label} (record {})", self.index + 1)?;
        // Most problems already start with the field's name.
        if let Some(field) = self.field
            && !self.problem.starts_with(&format!("{field} "))
        {
            write!(f, ", field {field}")?;
        }
        write!(f, ": {}", self.problem)
    }
}

struct Unpositioned<'a>(&'a StudyIssue);

impl std::fmt::Display for Unpositioned<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt_unpositioned(f)
    }
}

/// Why a data set could not be built.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// The file could not be parsed.
    #[error(transparent)]
    Read(#[from] ReadError),
    /// The measure name is not one tau knows.
    #[error("unknown measure {name:?}; use one of {}", Measure::list(), name = .0)]
    UnknownMeasure(String),
    /// Raw data but no measure to turn them into.
    #[error(
        "the records hold {} data but no measure is given; the measures that fit these data are {}: pass {MEASURE} {first}, or name the measure in the file (JSON: \"measure\": \"{first}\"; CSV: a first line \"# measure: {first}\" or a measure column)",
        .0.name(), .0.allowed(), first = .0.allowed().split([' ', ',']).next().unwrap_or("SMD")
    )]
    NoMeasure(DataForm),
    /// The measure asked for would only relabel effect sizes that the file
    /// gives as `yi` on another measure (an SMD read as a log odds ratio).
    #[error(
        "the effect sizes are given as yi/vi on the file's measure {file}; {MEASURE} {asked} would only relabel them, not compute them (a measure turns raw data such as means or counts into effect sizes): leave out {MEASURE}, or give the raw data"
    )]
    Relabel {
        /// The measure the file names.
        file: Measure,
        /// The measure asked for.
        asked: Measure,
    },
    /// A `--filter` cannot be applied.
    #[error(transparent)]
    Filter(#[from] ModeratorError),
    /// An `--exclude` label names no study.
    #[error(
        "{EXCLUDE} {0:?}: no study has this label (labels are case-sensitive); the labels are: {1}"
    )]
    UnknownExclusion(String, String),
    /// A spreadsheet's error, located by the sheet's cells (`Sheet1!C7`).
    #[error("{}", crate::data::spreadsheet::describe(.sheet, .error, None))]
    Sheet {
        /// The sheet's name.
        sheet: String,
        /// The error, as the CSV reader located it (line = row, field = column).
        error: Box<LoadError>,
    },
    /// An error with a hint at what the file may mean (unrecognised columns).
    #[error("{error}\n  {hint}")]
    Hinted {
        /// The error.
        error: Box<LoadError>,
        /// The hint.
        hint: String,
    },
    /// A `--reverse` rule or `reverse` field cannot be applied.
    #[error("{0}")]
    Reverse(String),
    /// Every record was left out.
    #[error(
        "no study is left: {0}; check {FILTER} and {EXCLUDE}, or fill in the missing effect data"
    )]
    NothingLeft(String),
    /// One or more records are bad.
    #[error("{}", format_issues(.issues, *.unlisted))]
    Studies {
        /// The first [`MAX_LISTED_ISSUES`] bad records.
        issues: Vec<StudyIssue>,
        /// How many more were found but not listed.
        unlisted: usize,
    },
}

impl crate::Kinded for LoadError {
    fn kind(&self) -> crate::ErrorKind {
        crate::ErrorKind::Input
    }
}

impl LoadError {
    /// The error as the `tau` binary shows it: every position prefixed with
    /// the file name, one bad record per line.
    pub fn in_file(&self, file: &str) -> String {
        match self {
            LoadError::Studies { issues, unlisted } => {
                let mut out = format!("{file}: {}", issues_header(issues.len() + unlisted));
                for issue in issues {
                    out.push_str("\n  ");
                    out.push_str(&issue.in_file(file));
                }
                if *unlisted > 0 {
                    out.push_str(&format!("\n  ... and {unlisted} more"));
                }
                out
            }
            LoadError::Read(ReadError::Json {
                position,
                path,
                message,
            }) => format!("{file}:{position}: {path}{message}"),
            LoadError::Sheet { sheet, error } => {
                crate::data::spreadsheet::describe(sheet, error, Some(file))
            }
            LoadError::Hinted { error, hint } => format!("{}\n  {hint}", error.in_file(file)),
            other => format!("{file}: {other}"),
        }
    }
}

fn issues_header(count: usize) -> String {
    format!("{count} bad record{}:", if count == 1 { "" } else { "s" })
}

fn format_issues(issues: &[StudyIssue], unlisted: usize) -> String {
    let mut out = issues_header(issues.len() + unlisted);
    for issue in issues {
        out.push_str("\n  ");
        out.push_str(&issue.to_string());
    }
    if unlisted > 0 {
        out.push_str(&format!("\n  ... and {unlisted} more"));
    }
    out
}

/// Computes every record's effect size. `measure` overrides the file's.
pub fn build(
    file: StudyFile,
    source: &SourceMap<'_>,
    measure: Option<Measure>,
) -> Result<Dataset, LoadError> {
    let options = LoadOptions {
        measure,
        ..LoadOptions::default()
    };
    build_with(file, source, &options)
}

/// Computes the effect size of every record the options keep.
pub fn build_with(
    file: StudyFile,
    source: &SourceMap<'_>,
    options: &LoadOptions,
) -> Result<Dataset, LoadError> {
    let mut builder = Builder::new(source, options, file.measure.as_deref())?;
    for mut record in file.studies {
        builder.push(&mut record);
    }
    builder.finish(file.title, file.source)
}

/// What a filter met among the records: whether any had the moderator, and its values.
#[derive(Debug, Default)]
struct FilterSeen {
    any: bool,
    values: Vec<String>,
}

/// Turns records into studies one at a time, so that a file's records never
/// need to be held all at once.
struct Builder<'a> {
    source: &'a SourceMap<'a>,
    options: &'a LoadOptions,
    /// The measure, once settled (by the caller, the file, or the first record's form).
    measure: Option<Measure>,
    /// The file's measure and another asked for (`options.measure`).
    relabel: Option<(Measure, Measure)>,
    /// Raw data met before any measure was given.
    no_measure: Option<DataForm>,
    /// Per filter, what it met.
    seen: Vec<FilterSeen>,
    /// The moderator names met, while a filter has not found its moderator.
    names: std::collections::BTreeSet<String>,
    /// Every record's label, in file order, while exclusions are asked for
    /// (for the message when one names no study).
    labels: Vec<String>,
    /// Per exclusion, the records it matched (1-based).
    excluded: Vec<Vec<usize>>,
    /// Per exclusion written as `A (2)`, how many records labelled `A` were met.
    numbered_seen: Vec<usize>,
    /// Per exclusion, whether it matched a record by number.
    by_number: Vec<bool>,
    left_out: Vec<LeftOut>,
    /// Records left out for missing effect data (label and field).
    omitted: Vec<String>,
    next_index: usize,
    studies: Vec<Study>,
    issues: Vec<StudyIssue>,
    unlisted: usize,
    corrected: Vec<String>,
    /// The first study with a `weight` and the first without one (record
    /// index and label): every record must have one, or none.
    first_weighted: Option<(usize, String)>,
    first_unweighted: Option<(usize, String)>,
    /// Pre-post studies given the assumed correlation `options.ri`.
    assumed_r: Vec<String>,
    /// (index in `studies`, label as written) of labels with control characters.
    written_labels: Vec<(usize, String)>,
    /// Per `--reverse` rule, whether it matched a study.
    reverse_matched: Vec<bool>,
    /// The studies turned round, and whether a record's `reverse` field did it.
    reversed: Vec<String>,
    reversed_by_field: bool,
}

impl<'a> Builder<'a> {
    fn new(
        source: &'a SourceMap<'a>,
        options: &'a LoadOptions,
        file_measure: Option<&str>,
    ) -> Result<Builder<'a>, LoadError> {
        let file = file_measure.and_then(Measure::parse);
        let relabel = match (options.measure, file) {
            (Some(asked), Some(file)) if asked != file => Some((file, asked)),
            _ => None,
        };
        let measure = match (options.measure, file_measure) {
            (Some(m), _) => Some(m),
            (None, Some(name)) => Some(
                Measure::parse(name).ok_or_else(|| LoadError::UnknownMeasure(name.to_owned()))?,
            ),
            (None, None) => None,
        };
        Ok(Builder {
            source,
            options,
            measure,
            relabel,
            no_measure: None,
            seen: options
                .filters
                .iter()
                .map(|_| FilterSeen::default())
                .collect(),
            excluded: vec![Vec::new(); options.exclude.len()],
            numbered_seen: vec![0; options.exclude.len()],
            by_number: vec![false; options.exclude.len()],
            names: std::collections::BTreeSet::new(),
            labels: Vec::new(),
            left_out: Vec::new(),
            omitted: Vec::new(),
            next_index: 0,
            studies: Vec::new(),
            issues: Vec::new(),
            unlisted: 0,
            corrected: Vec::new(),
            first_weighted: None,
            first_unweighted: None,
            assumed_r: Vec::new(),
            written_labels: Vec::new(),
            reverse_matched: vec![false; options.reverse.len()],
            reversed: Vec::new(),
            reversed_by_field: false,
        })
    }

    fn push(&mut self, record: &mut Record) {
        let index = self.next_index;
        self.next_index += 1;
        if self.no_measure.is_some() || self.leaves_out(record, index) {
            return;
        }
        // Control characters (ESC, NUL, line breaks) in a label would reach
        // the terminal and break SVG; they are shown as U+FFFD instead, and
        // the label as written is kept for the CSV view.
        let written = record.study.contains(char::is_control).then(|| {
            let visible = crate::input::visible(&record.study);
            std::mem::replace(&mut record.study, visible)
        });
        if record.study.trim().is_empty() && self.issues.len() < MAX_LISTED_ISSUES {
            self.issues.push(StudyIssue {
                index,
                label: std::mem::take(&mut record.study),
                field: Some("study"),
                position: self.source.locate(index, Some("study")),
                in_csv: matches!(self.source, SourceMap::Csv { .. }),
                problem: "the study label is empty; give every study a label, e.g. \"Ames 2001\""
                    .into(),
            });
            return;
        }
        let form = DataForm::of(record);
        let measure = match (self.measure, form) {
            (Some(m), _) => m,
            // Without a measure, the first record with effect data decides:
            // generic data are GEN, raw data need a measure to be named.
            (None, Some(form)) => match form.default_measure() {
                Some(m) => {
                    self.measure = Some(m);
                    m
                }
                None => {
                    self.no_measure = Some(form);
                    return;
                }
            },
            (None, None) => Measure::GEN,
        };
        let assumed_r = form == Some(DataForm::PrePost) && record.r.is_none();
        if assumed_r {
            record.r = self.options.ri;
        }
        match effect_size::compute(record, measure) {
            Ok(mut es) => {
                if !self.weight_is_valid(record, index)
                    || !self.turn_round(record, index, measure, &mut es.yi)
                {
                    return;
                }
                if es.zero_cell_corrected {
                    self.corrected.push(record.study.clone());
                }
                if assumed_r {
                    self.assumed_r.push(record.study.clone());
                }
                if let Some(written) = written {
                    self.written_labels.push((self.studies.len(), written));
                }
                self.studies.push(Study::new(record, form, es.yi, es.vi));
            }
            Err(problem @ (EffectSizeError::Missing { .. } | EffectSizeError::NoData))
                if !self.options.strict =>
            {
                let what = match problem.field() {
                    Some(field) => format!("{field} missing"),
                    None => "no effect data".to_owned(),
                };
                self.omitted
                    .push(format!("'{}' (record {}: {what})", record.study, index + 1));
                self.left_out.push(LeftOut {
                    study: std::mem::take(&mut record.study),
                    record: index + 1,
                    reason: what,
                });
            }
            Err(problem) if self.issues.len() < MAX_LISTED_ISSUES => {
                let field = problem.field();
                let mut problem = problem.to_string();
                // A number such as 1e-400 reads as 0, and 1e999 as inf: say
                // so, quoting what was written, or "got 0" puzzles.
                if let Some(raw) = field.and_then(|f| self.source.out_of_range(index, f)) {
                    let overflows = raw
                        .replacen(',', ".", 1)
                        .parse::<f64>()
                        .is_ok_and(f64::is_infinite);
                    let raw = crate::input::bounded(raw);
                    problem.push_str(&if !overflows {
                        format!(" (the value written, {raw}, is below about 1e-308 and underflows to 0 in double precision)")
                    } else {
                        format!(" (the value written, {raw}, is above about 1.8e308, the largest number in double precision)")
                    });
                }
                self.issues.push(StudyIssue {
                    index,
                    label: std::mem::take(&mut record.study),
                    field,
                    position: self.source.locate(index, field),
                    in_csv: matches!(self.source, SourceMap::Csv { .. }),
                    problem,
                });
            }
            Err(_) => self.unlisted += 1,
        }
    }

    /// Whether the record's `weight`, if any, is positive and finite (a bad
    /// one is noted as an issue); notes the first record with and without one.
    fn weight_is_valid(&mut self, record: &mut Record, index: usize) -> bool {
        let first = match record.weight {
            None => &mut self.first_unweighted,
            Some(w) if w.is_finite() && w > 0.0 => &mut self.first_weighted,
            Some(w) => {
                if self.issues.len() < MAX_LISTED_ISSUES {
                    self.issues.push(StudyIssue {
                        index,
                        label: std::mem::take(&mut record.study),
                        field: Some("weight"),
                        position: self.source.locate(index, Some("weight")),
                        in_csv: matches!(self.source, SourceMap::Csv { .. }),
                        problem: format!(
                            "weight must be a positive, finite number (got {w}); give the study's weight, e.g. its sample size, or leave the weight out of every record"
                        ),
                    });
                } else {
                    self.unlisted += 1;
                }
                return false;
            }
        };
        if first.is_none() {
            *first = Some((index, record.study.clone()));
        }
        true
    }

    /// Turns the effect `yi` of a record round when it or a `--reverse` rule
    /// says so; false (with an issue) when the measure has no direction.
    fn turn_round(
        &mut self,
        record: &mut Record,
        index: usize,
        measure: Measure,
        yi: &mut f64,
    ) -> bool {
        let rules = &self.options.reverse;
        if !crate::data::reverse::applies(
            record,
            &record.moderators,
            rules,
            &mut self.reverse_matched,
        ) {
            return true;
        }
        if let Err(problem) = crate::data::reverse::check_measure(measure) {
            if self.issues.len() < MAX_LISTED_ISSUES {
                self.issues.push(StudyIssue {
                    index,
                    label: std::mem::take(&mut record.study),
                    field: Some("reverse"),
                    position: self.source.locate(index, Some("reverse")),
                    in_csv: matches!(self.source, SourceMap::Csv { .. }),
                    problem,
                });
            } else {
                self.unlisted += 1;
            }
            return false;
        }
        *yi = -*yi;
        self.reversed_by_field |= record.reverse;
        self.reversed.push(record.study.clone());
        true
    }

    /// The issue when some studies have a `weight` and some not, at the first without one.
    fn mixed_weights(&self) -> Option<StudyIssue> {
        let ((index, label), (_, weighted)) = self
            .first_unweighted
            .clone()
            .zip(self.first_weighted.clone())?;
        Some(StudyIssue {
            index,
            label,
            field: Some("weight"),
            position: self.source.locate(index, Some("weight")),
            in_csv: matches!(self.source, SourceMap::Csv { .. }),
            problem: format!(
                "weight is missing, but study '{weighted}' has one: give every study a weight (metafor's weights =), or none for the usual 1/(vi + tau^2)"
            ),
        })
    }

    /// The issue when the source has a `weight` column (or field) but no
    /// record a value in it: metafor drops every study whose weight is NA,
    /// so it fits nothing; ignoring the column would silently weight by
    /// 1/(vi + tau^2) instead.
    fn weight_column_empty(&self) -> Option<StudyIssue> {
        if self.first_weighted.is_some() {
            return None;
        }
        let (index, label) = self.first_unweighted.clone()?;
        let has_column = match self.source {
            SourceMap::Csv { headers, .. } => headers.iter().any(|h| h == "weight"),
            SourceMap::Json(_) => {
                self.source.locate(index, Some("weight")) != self.source.locate(index, None)
            }
            SourceMap::None => false,
        };
        has_column.then(|| StudyIssue {
            index,
            label,
            field: Some("weight"),
            position: self.source.locate(index, Some("weight")),
            in_csv: matches!(self.source, SourceMap::Csv { .. }),
            problem: "weight is missing (NA) in every record: metafor drops every study with a missing weight, so nothing is left to fit; give each study its weight, or remove the weight column for the usual 1/(vi + tau^2)".into(),
        })
    }

    /// Whether a filter or an exclusion leaves the record out (and notes it).
    fn leaves_out(&mut self, record: &mut Record, index: usize) -> bool {
        let mut reason = None;
        for (filter, seen) in self.options.filters.iter().zip(&mut self.seen) {
            let kept = filter.keeps(&record.moderators);
            if let Some(value) = record.moderators.get(&filter.name) {
                seen.any = true;
                if let Some(label) = moderator_label(value)
                    && !seen.values.contains(&label)
                {
                    seen.values.push(label);
                }
            }
            if !seen.any {
                for name in record.moderators.keys() {
                    if !self.names.contains(name) {
                        self.names.insert(name.to_owned());
                    }
                }
            }
            if kept != Some(true) && reason.is_none() {
                reason = Some(format!("filter {filter}"));
            }
        }
        if !self.options.exclude.is_empty() {
            self.labels.push(record.study.clone());
        }
        for (i, label) in self.options.exclude.iter().enumerate() {
            let by_number = match numbered_label(label) {
                Some((base, number)) if base == record.study => {
                    self.numbered_seen[i] += 1;
                    self.numbered_seen[i] == number
                }
                _ => false,
            };
            if *label == record.study || by_number {
                self.excluded[i].push(index + 1);
                self.by_number[i] |= by_number && *label != record.study;
                reason.get_or_insert_with(|| "excluded".to_owned());
            }
        }
        let Some(reason) = reason else {
            return false;
        };
        self.left_out.push(LeftOut {
            study: std::mem::take(&mut record.study),
            record: index + 1,
            reason,
        });
        true
    }

    /// The filter and exclusion errors, checked once every record was seen.
    fn check_selection(&self) -> Result<(), LoadError> {
        for (filter, seen) in self.options.filters.iter().zip(&self.seen) {
            if !seen.any {
                return Err(ModeratorError::Unknown {
                    name: filter.name.clone(),
                    available: self.names.iter().cloned().collect(),
                }
                .into());
            }
        }
        if let Some(rule) = self
            .options
            .reverse
            .iter()
            .zip(&self.reverse_matched)
            .find_map(|(rule, matched)| (!matched).then_some(rule))
        {
            return Err(LoadError::Reverse(format!(
                "{REVERSE} {rule}: no study has {:?} = {:?}; give a moderator and a value that some studies have (as for {FILTER}; values are case-sensitive)",
                rule.name, rule.value
            )));
        }
        if let Some(label) = self
            .options
            .exclude
            .iter()
            .zip(&self.excluded)
            .find_map(|(label, records)| records.is_empty().then_some(label))
        {
            return Err(LoadError::UnknownExclusion(
                label.clone(),
                crate::text::list_labels(&self.labels),
            ));
        }
        if self.studies.is_empty() && self.issues.is_empty() && !self.left_out.is_empty() {
            if let Some((filter, seen)) = self.options.filters.iter().zip(&self.seen).next() {
                let mut present = seen.values.clone();
                present.sort();
                return Err(ModeratorError::NothingMatches {
                    name: filter.name.clone(),
                    filter: filter.to_string(),
                    present,
                }
                .into());
            }
            let reasons: Vec<String> = self
                .left_out
                .iter()
                .map(|l| format!("'{}' ({})", l.study, l.reason))
                .collect();
            return Err(LoadError::NothingLeft(format!(
                "every study was left out: {}",
                crate::text::list_labels(&reasons)
            )));
        }
        Ok(())
    }

    fn finish(self, title: Option<String>, source: Option<String>) -> Result<Dataset, LoadError> {
        if let Some(form) = self.no_measure {
            return Err(LoadError::NoMeasure(form));
        }
        if self.next_index == 0 {
            return Err(LoadError::Read(ReadError::Empty));
        }
        // Effect sizes given as yi on one measure cannot become another.
        if let Some((file, asked)) = self.relabel
            && !self.studies.is_empty()
            && self.studies.iter().all(|s| s.raw.is_none())
        {
            return Err(LoadError::Relabel { file, asked });
        }
        self.check_selection()?;
        let exclusions = self
            .options
            .exclude
            .iter()
            .zip(&self.excluded)
            .zip(&self.by_number)
            .map(|((label, records), &by_number)| Exclusion {
                label: label.clone(),
                records: records.clone(),
                by_number,
            })
            .collect();
        let mixed = self.mixed_weights().or_else(|| self.weight_column_empty());
        let mut issues = self.issues;
        if issues.is_empty() {
            issues.extend(mixed);
        }
        if !issues.is_empty() {
            return Err(LoadError::Studies {
                issues,
                unlisted: self.unlisted,
            });
        }
        let mut warnings = Vec::new();
        if !self.corrected.is_empty() {
            let studies = self.corrected;
            warnings.push(match self.measure {
                Some(Measure::IRR | Measure::IRD | Measure::IRLN) => {
                    crate::Warning::ZeroEvents { studies }
                }
                Some(m) if m.is_proportion() => crate::Warning::ZeroProportions { studies },
                _ => crate::Warning::ZeroCells { studies },
            });
        }
        if let (Some(value), false) = (self.options.ri, self.assumed_r.is_empty()) {
            warnings.push(crate::Warning::AssumedCorrelation {
                value,
                studies: self.assumed_r,
            });
        }
        if !self.reversed.is_empty() {
            warnings.push(crate::Warning::Reversed {
                sources: crate::data::reverse::describe(
                    &self.options.reverse,
                    self.reversed_by_field,
                ),
                studies: self.reversed,
            });
        }
        if !self.omitted.is_empty() {
            warnings.push(crate::Warning::MissingEffectData {
                records: self.omitted,
            });
        }
        let mut studies = self.studies;
        studies.shrink_to_fit();
        if let Some(warning) = make_labels_unique(&mut studies) {
            warnings.push(warning);
        }
        let labels_as_written = self
            .written_labels
            .into_iter()
            .map(|(i, written)| (studies[i].label.to_string(), written))
            .collect();
        Ok(Dataset {
            title: title.map(|t| crate::input::visible(&t)),
            source,
            measure: self.measure.unwrap_or(Measure::GEN),
            studies,
            warnings,
            left_out: self.left_out,
            csv: None,
            exclusions,
            labels_as_written,
        })
    }
}

/// The moderator that holds the label of records that share it.
pub const STUDY: &str = "study";

/// Renames repeated study labels so that every row of the output names one
/// study: the first keeps its label, the later ones become `A (2)`, `A (3)`
/// (skipping labels already taken), and keeps each record's label as the
/// moderator [`STUDY`]. Returns the warning that says so.
fn make_labels_unique(studies: &mut [Study]) -> Option<crate::Warning> {
    use std::collections::{HashMap, HashSet};
    use std::hash::Hasher;
    // The common case, every label unique, keeps only the studies' indices
    // in a table keyed by an FNV hash of the label: at 10⁶ studies a set of
    // borrowed labels held 36 MB beside the file and the records, a set of
    // copies hashed with SipHash a fifth of `tau pool`'s time.
    let hash = |label: &str| {
        let mut fnv = crate::input::moderators::Fnv::default();
        fnv.write(label.as_bytes());
        fnv.finish()
    };
    let repeated: Vec<usize> = {
        let label = |j: u32| &*studies[j as usize].label;
        let mut seen: hashbrown::HashTable<u32> =
            hashbrown::HashTable::with_capacity(studies.len());
        (0..studies.len())
            .filter(|&i| {
                // More than 2³² studies cannot be read into memory anyway.
                let index = u32::try_from(i).unwrap_or(u32::MAX);
                let h = hash(label(index));
                if seen.find(h, |&j| label(j) == label(index)).is_some() {
                    return true;
                }
                seen.insert_unique(h, index, |&j| hash(label(j)));
                false
            })
            .collect()
    };
    if repeated.is_empty() {
        return None;
    }
    // Records that share a label are usually several effect sizes of one
    // study: the label is kept as the moderator `study` (unless the file has
    // one), so that it can name the clusters (`random` study/es, `robust`
    // study) as in metafor, where the label column is a variable like any.
    if !studies.iter().any(|s| s.moderators.contains_key(STUDY)) {
        let mut names: HashMap<CompactString, Moderator> = HashMap::new();
        for study in studies.iter_mut() {
            let value = names
                .entry(study.label.clone())
                .or_insert_with(|| Moderator::Text(std::sync::Arc::from(study.label.as_str())))
                .clone();
            study.moderators.insert(STUDY, value);
        }
    }
    let mut taken: HashSet<CompactString> = studies.iter().map(|s| s.label.clone()).collect();
    let mut next: HashMap<CompactString, usize> = HashMap::new();
    let mut names = Vec::new();
    for &i in &repeated {
        let label = studies[i].label.clone();
        let n = next.entry(label.clone()).or_insert(1);
        let renamed = loop {
            *n += 1;
            let candidate = CompactString::from(format!("{label} ({n})"));
            if taken.insert(candidate.clone()) {
                break candidate;
            }
        };
        if names.len() < 5 && !names.contains(&label) {
            names.push(label);
        }
        studies[i].label = renamed;
    }
    Some(crate::Warning::RepeatedLabels {
        count: repeated.len(),
        more: next.len() > names.len(),
        labels: names.into_iter().map(String::from).collect(),
    })
}

/// Parses JSON text and builds the data set. A leading byte-order mark is ignored.
pub fn load_json(text: &str, measure: Option<Measure>) -> Result<Dataset, LoadError> {
    load_json_with(
        text,
        &LoadOptions {
            measure,
            ..LoadOptions::default()
        },
    )
}

/// [`load_json`] with filters, exclusions and the other [`LoadOptions`].
pub fn load_json_with(text: &str, options: &LoadOptions) -> Result<Dataset, LoadError> {
    let text = without_bom(text);
    let source = SourceMap::Json(text);
    let file_measure = crate::input::json::top_level_measure(text);
    let mut builder = Builder::new(&source, options, file_measure.as_deref())?;
    // Room for every record of a large file at once: growing the study list
    // by doubling may hold the old and the new list together, and leaves up
    // to half of it unused. Every record has a "study" key, so their count
    // is an upper bound (a moderator named "study" counts twice; the pages
    // never written are never touched, and the list is trimmed once read).
    // Below 1 MB the doubling costs little, and counting would take longer
    // than it saves.
    if text.len() > 1 << 20 {
        let records = memchr::memmem::find_iter(text.as_bytes(), b"\"study\"").count();
        builder.studies.reserve_exact(records);
    }
    let header = crate::input::json::stream_json(text, |record| builder.push(record))?;
    builder.finish(header.title, header.source)
}

/// Parses CSV text and builds the data set. A leading byte-order mark (as
/// Excel writes in "CSV UTF-8") is ignored.
pub fn load_csv(text: &str, measure: Option<Measure>) -> Result<Dataset, LoadError> {
    load_csv_with(
        text,
        &LoadOptions {
            measure,
            ..LoadOptions::default()
        },
    )
}

/// [`load_csv`] with a dialect, filters, exclusions and the other [`LoadOptions`].
pub fn load_csv_with(text: &str, options: &LoadOptions) -> Result<Dataset, LoadError> {
    let (file, map, info) =
        crate::input::csv::parse_csv_with(without_bom(text), options.csv.clone())?;
    let mut data = build_with(file, &map, options).map_err(|e| explain_unrecognised(e, &info))?;
    data.csv = Some(info);
    Ok(data)
}

/// When no study has effect data, the error with the columns read as
/// moderators and the fields they may mean (see [`crate::input::suggest`]).
fn explain_unrecognised(error: LoadError, info: &CsvInfo) -> LoadError {
    let no_data = match &error {
        LoadError::NothingLeft(reasons) => reasons.contains("no effect data"),
        LoadError::Studies { issues, .. } => issues
            .iter()
            .all(|issue| issue.problem.starts_with("no effect data")),
        _ => false,
    };
    match (
        crate::input::suggest::unrecognised_columns_hint(&info.moderator_columns),
        error,
    ) {
        (Some(hint), error) if no_data => LoadError::Hinted {
            error: Box::new(error),
            hint,
        },
        // Not every field is missing (e.g. vi): still say which columns
        // were read as moderators, the note a failed run does not print.
        (_, LoadError::NothingLeft(why)) if !info.moderator_columns.is_empty() => {
            LoadError::NothingLeft(format!("{why}; {}", unread_columns(info)))
        }
        (_, error) => error,
    }
}

/// Which columns of a CSV file were not read as record fields.
fn unread_columns(info: &CsvInfo) -> String {
    let columns: Vec<String> = info
        .moderator_columns
        .iter()
        .map(|c| crate::input::quote_bounded(c))
        .collect();
    let many = crate::input::list_bounded(&columns);
    if columns.len() == 1 {
        format!(
            "the column {many} was not recognised as a record field and was read as a moderator; effect data need columns named as the fields, such as yi and vi (see tau schema)"
        )
    } else {
        format!(
            "the columns {many} were not recognised as record fields and were read as moderators; effect data need columns named as the fields, such as yi and vi (see tau schema)"
        )
    }
}

/// A moderator value as a filter compares it.
fn moderator_label(value: &Moderator) -> Option<String> {
    match value {
        // −0 + 0 = +0: a `-0.0` is the level `0`, as in R's factor(c(0, -0)).
        Moderator::Number(x) => Some((x + 0.0).to_string()),
        Moderator::Missing => None,
        other => other.category(),
    }
}

/// Writes each numeric moderator −0 as +0. R's `factor(c(0, -0))` has one
/// level, and `-0.0 == 0.0`, but the two differ in their bits, their total
/// order and their text ("-0"): left as they are, a grouping value written
/// `0` in some records and `-0.0` in others made two clusters in `--random`,
/// two in `--robust` and two subgroups in `--by`. Normalising once, where the
/// studies are built, covers every grouping and moderator downstream.
fn positive_zeros(moderators: &mut Moderators) {
    let negative: Vec<String> = moderators
        .iter()
        .filter(|(_, v)| matches!(v, Moderator::Number(x) if *x == 0.0 && x.is_sign_negative()))
        .map(|(name, _)| name.to_owned())
        .collect();
    for name in negative {
        moderators.insert(name.as_str(), Moderator::Number(0.0));
    }
}

fn without_bom(text: &str) -> &str {
    text.strip_prefix('\u{feff}').unwrap_or(text)
}
