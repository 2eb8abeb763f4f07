//! The model matrix X of a meta-regression, built from moderators as R's
//! `model.matrix` builds it for metafor's `rma(yi, vi, mods = ~ a + b + c)`.
//!
//! * An intercept column comes first unless it is switched off.
//! * A continuous moderator is one column, used as given.
//! * A categorical moderator is dummy-coded (treatment contrasts): one 0/1
//!   column per level except the reference, which is the first level in
//!   sorted order unless chosen. Without an intercept, the first categorical
//!   moderator gets a column for every level (as `~ f - 1` in R).
//! * Columns follow the moderators in the order given; a categorical
//!   moderator's columns follow its non-reference levels in sorted order.
//!   A dummy is named `moderator=level` (metafor would write `moderatorlevel`).
//!
//! Studies missing a used moderator are left out and listed. metafor drops
//! redundant columns with a warning; tau stops instead and names the
//! moderator, because a silently different model is worse than an error.

use std::collections::HashMap;

use nalgebra::DMatrix;

use crate::data::dataset::Dataset;
use crate::data::moderator::{self, Column, ModeratorError};
use crate::fields::{BY, MODS, NO_INTERCEPT, PERMUTATIONS, RANDOM};

/// metafor's name of the intercept.
pub const INTERCEPT: &str = "intrcpt";

/// What the model matrix should contain.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DesignSpec {
    /// Moderator names, in model order.
    pub moderators: Vec<String>,
    /// Chosen reference levels: (moderator, level).
    pub references: Vec<(String, String)>,
    /// Whether to include an intercept (metafor's default).
    pub intercept: bool,
}

/// How a moderator enters the model.
#[derive(Debug, Clone, PartialEq)]
pub enum TermKind {
    /// One column with the values as given.
    Continuous,
    /// Dummy columns.
    Categorical {
        /// All levels present, sorted.
        levels: Vec<String>,
        /// The level without a column (`None`: every level has one).
        reference: Option<String>,
    },
}

/// One moderator's columns in X.
#[derive(Debug, Clone, PartialEq)]
pub struct Term {
    /// The moderator.
    pub moderator: String,
    /// How it is coded.
    pub kind: TermKind,
    /// Index of its first column in X.
    pub first_column: usize,
    /// Number of its columns.
    pub columns: usize,
}

/// A study left out for missing moderator values.
#[derive(Debug, Clone, PartialEq)]
pub struct DroppedStudy {
    /// Its label.
    pub study: String,
    /// The used moderators it lacks.
    pub missing: Vec<String>,
}

/// The model matrix and how it was made.
#[derive(Debug, Clone, PartialEq)]
pub struct Design {
    /// k×p model matrix over the studies used.
    pub x: DMatrix<f64>,
    /// Column (coefficient) names.
    pub names: Vec<String>,
    /// Whether column 0 is the intercept.
    pub intercept: bool,
    /// The moderators' columns.
    pub terms: Vec<Term>,
    /// Indices (into the data set's studies) of the studies used, in file order.
    pub rows: Vec<usize>,
    /// Studies left out for missing values.
    pub dropped: Vec<DroppedStudy>,
}

impl Design {
    /// Indices of the coefficients the omnibus test covers: all but the intercept.
    pub fn tested(&self) -> Vec<usize> {
        tested(self.intercept, self.names.len())
    }

    /// Everything but X.
    pub fn layout(&self) -> Layout {
        Layout {
            names: self.names.clone(),
            intercept: self.intercept,
            terms: self.terms.clone(),
            rows: self.rows.clone(),
            dropped: self.dropped.clone(),
        }
    }
}

/// The warning that names the studies left out for a missing moderator
/// value, if any were.
pub(crate) fn missing_moderators(dropped: &[DroppedStudy]) -> Option<crate::Warning> {
    (!dropped.is_empty()).then(|| crate::Warning::MissingModerators {
        studies: dropped
            .iter()
            .map(|d| format!("{} (no {})", d.study, d.missing.join(", ")))
            .collect(),
    })
}

/// How the model matrix is made, without its entries: the coefficients,
/// the moderators' columns and the studies used.
#[derive(Debug, Clone, PartialEq)]
pub struct Layout {
    /// Column (coefficient) names.
    pub names: Vec<String>,
    /// Whether column 0 is the intercept.
    pub intercept: bool,
    /// The moderators' columns.
    pub terms: Vec<Term>,
    /// Indices (into the data set's studies) of the studies used, in file order.
    pub rows: Vec<usize>,
    /// Studies left out for missing values.
    pub dropped: Vec<DroppedStudy>,
}

impl Layout {
    /// Indices of the coefficients the omnibus test covers: all but the intercept.
    pub fn tested(&self) -> Vec<usize> {
        tested(self.intercept, self.names.len())
    }

    /// The moderator with the most columns, and that number.
    pub(super) fn largest_term(&self) -> (String, usize) {
        self.terms
            .iter()
            .max_by_key(|t| t.columns)
            .map_or_else(|| (String::new(), 0), |t| (t.moderator.clone(), t.columns))
    }
}

fn tested(intercept: bool, p: usize) -> Vec<usize> {
    (usize::from(intercept)..p).collect()
}

/// Why no model matrix could be built.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum DesignError {
    /// No moderator was named.
    #[error("no moderators given: name at least one, e.g. {MODS} year")]
    NoModerators,
    /// A moderator is named twice.
    #[error("moderator '{0}' is named twice; name each moderator once")]
    Repeated(String),
    /// A moderator cannot be read.
    #[error(transparent)]
    Moderator(#[from] ModeratorError),
    /// A reference level names a moderator that is not in the model.
    #[error(
        "a reference level is set for '{moderator}', which is not among the moderators of the model ({})",
        .used.join(", ")
    )]
    ReferenceNotUsed {
        /// The moderator named.
        moderator: String,
        /// The model's moderators.
        used: Vec<String>,
    },
    /// A reference level for a continuous moderator.
    #[error(
        "'{0}' is continuous (numbers), so it has no reference level; reference levels are for categorical moderators (text)"
    )]
    ReferenceContinuous(String),
    /// A reference level that does not occur.
    #[error("'{level}' is not a level of '{moderator}' among the studies used; its levels are: {}", .levels.join(", "))]
    ReferenceUnknownLevel {
        /// The moderator.
        moderator: String,
        /// The level asked for.
        level: String,
        /// The levels present.
        levels: Vec<String>,
    },
    /// A reference level where every level has a column.
    #[error(
        "without an intercept every level of '{0}' has its own coefficient, so a reference level has no effect; drop the reference level or the {NO_INTERCEPT}"
    )]
    ReferenceWithoutIntercept(String),
    /// No study has all the moderators.
    #[error("no study has a value for every moderator of the model ({})", .0.join(", "))]
    NoCompleteStudies(Vec<String>),
    /// A continuous moderator with one value.
    #[error(
        "moderator '{moderator}' is constant ({value}) across the studies used, so its effect cannot be estimated beside the intercept; leave it out"
    )]
    Constant {
        /// The moderator.
        moderator: String,
        /// Its only value.
        value: f64,
    },
    /// A categorical moderator with one level.
    #[error(
        "moderator '{moderator}' has only one level ('{level}') among the studies used, so there is nothing to compare; leave it out"
    )]
    SingleLevel {
        /// The moderator.
        moderator: String,
        /// Its only level.
        level: String,
    },
    /// The model matrix would be too large to hold.
    #[error(
        "the model matrix would have {rows} studies × {columns} columns = {} cells ({:.1} GB), more than tau builds (at most {MAX_CELLS} cells, {} MB); '{largest}' alone has {largest_columns} columns: merge rare levels into one, or leave '{largest}' out",
        *.rows as u128 * *.columns as u128,
        *.rows as f64 * *.columns as f64 * 8e-9,
        MAX_CELLS * 8 / 1_000_000
    )]
    TooLarge {
        /// Studies used (rows).
        rows: usize,
        /// Coefficients (columns).
        columns: usize,
        /// The moderator with the most columns.
        largest: String,
        /// Its number of columns.
        largest_columns: usize,
    },
    /// A permutation test on a model matrix beyond [`MAX_CELLS`].
    #[error(
        "a permutation test refits the model on a dense model matrix, which would have {rows} studies × {columns} columns = {} cells ({:.1} GB), more than tau builds (at most {MAX_CELLS} cells, {} MB); drop {PERMUTATIONS} (the model alone is fitted from the matrix's non-zero entries), or merge rare levels of '{largest}' ({largest_columns} columns) into one",
        *.rows as u128 * *.columns as u128,
        *.rows as f64 * *.columns as f64 * 8e-9,
        MAX_CELLS * 8 / 1_000_000
    )]
    TooLargeToPermute {
        /// Studies used (rows).
        rows: usize,
        /// Coefficients (columns).
        columns: usize,
        /// The moderator with the most columns.
        largest: String,
        /// Its number of columns.
        largest_columns: usize,
    },
    /// Too many coefficients for the p × p matrices of the fit.
    #[error(
        "the model has {columns} coefficients, so its {columns} × {columns} matrices would have {} cells ({:.1} GB), more than tau handles (at most {MAX_CELLS} cells, {} MB); '{largest}' alone has {largest_columns} columns: treat its levels as random effects (`{RANDOM} {largest}`), analyse them separately (`tau subgroup {BY} {largest}`), merge rare levels, or leave '{largest}' out",
        *.columns as u128 * *.columns as u128,
        *.columns as f64 * *.columns as f64 * 8e-9,
        MAX_CELLS * 8 / 1_000_000
    )]
    TooManyCoefficients {
        /// Coefficients (columns of X).
        columns: usize,
        /// The moderator with the most columns.
        largest: String,
        /// Its number of columns.
        largest_columns: usize,
    },
    /// Columns that are linear combinations of earlier ones.
    #[error(
        "moderator '{moderator}' is collinear with {}: the design matrix is singular; leave out '{moderator}' or a moderator it duplicates",
        .earlier.join(" and ")
    )]
    Collinear {
        /// The moderator whose columns made X rank deficient.
        moderator: String,
        /// What came before it: "the intercept" and earlier moderators.
        earlier: Vec<String>,
    },
    /// A moderator so large that X'WX overflows, which looks singular.
    #[error(
        "moderator '{moderator}' has values as large as {largest:.1e}, beyond what double precision can square (about 1e154); rescale it (e.g. divide by a power of 10) or check it for typing errors"
    )]
    ValuesTooLarge {
        /// The moderator.
        moderator: String,
        /// Its largest absolute value.
        largest: f64,
    },
}

impl crate::Kinded for DesignError {
    fn kind(&self) -> crate::ErrorKind {
        crate::ErrorKind::Input
    }
}

/// The most cells (studies × coefficients) of a dense model matrix: 5·10⁷,
/// 400 MB of doubles, of which a fit holds a few copies; a dense matrix stores
/// a factor's dummy columns with their zeros. A meta-regression beyond it
/// holds X sparsely (`super::sparse_design`), and then the p × p matrices of
/// the fit are held to the same number of cells.
pub const MAX_CELLS: usize = 50_000_000;

/// Builds the model matrix of `spec` over the studies of `dataset`.
pub fn build(dataset: &Dataset, spec: &DesignSpec) -> Result<Design, DesignError> {
    let (layout, columns) = plan(dataset, spec)?;
    check_size(&layout)?;
    let x = fill(&columns, &layout);
    check_rank(&x, &layout.terms, layout.intercept)?;
    let Layout {
        names,
        intercept,
        terms,
        rows,
        dropped,
    } = layout;
    Ok(Design {
        x,
        names,
        intercept,
        terms,
        rows,
        dropped,
    })
}

/// Checks the moderators of `spec` and decides the columns: everything
/// about the model matrix but its entries, which [`row_entries`] gives.
pub(super) fn plan<'a>(
    dataset: &'a Dataset,
    spec: &DesignSpec,
) -> Result<(Layout, Vec<Column<'a>>), DesignError> {
    if spec.moderators.is_empty() {
        return Err(DesignError::NoModerators);
    }
    for (i, name) in spec.moderators.iter().enumerate() {
        if spec.moderators[..i].contains(name) {
            return Err(DesignError::Repeated(name.clone()));
        }
    }
    let columns: Vec<Column> = spec
        .moderators
        .iter()
        .map(|name| moderator::column(dataset, name))
        .collect::<Result<_, _>>()?;
    let (rows, dropped) = complete_cases(dataset, &spec.moderators, &columns);
    if rows.is_empty() {
        return Err(DesignError::NoCompleteStudies(spec.moderators.clone()));
    }
    for (name, column) in spec.moderators.iter().zip(&columns) {
        moderator::check_categorical(dataset, name, column, &rows)?;
    }
    check_references(spec, &columns, &rows)?;

    let mut names = Vec::new();
    if spec.intercept {
        names.push(INTERCEPT.to_owned());
    }
    let mut terms = Vec::new();
    let mut full_coding_used = false;
    for (name, column) in spec.moderators.iter().zip(&columns) {
        let kind = match column {
            Column::Continuous(_) => TermKind::Continuous,
            Column::Categorical(_) => {
                let levels = column.levels(&rows);
                let reference = if !spec.intercept && !full_coding_used {
                    full_coding_used = true;
                    None
                } else {
                    let chosen = spec.references.iter().find(|(m, _)| m == name);
                    Some(chosen.map_or_else(|| levels[0].clone(), |(_, l)| l.clone()))
                };
                TermKind::Categorical { levels, reference }
            }
        };
        let term = make_term(name, kind, names.len(), spec.intercept, column, &rows)?;
        names.extend(column_names(&term));
        terms.push(term);
    }
    let layout = Layout {
        names,
        intercept: spec.intercept,
        terms,
        rows,
        dropped,
    };
    Ok((layout, columns))
}

/// Whether the dense model matrix of `layout` stays within [`MAX_CELLS`].
pub(super) fn fits_dense(layout: &Layout) -> bool {
    layout
        .rows
        .len()
        .checked_mul(layout.names.len())
        .is_some_and(|cells| cells <= MAX_CELLS)
}

/// Refuses a model matrix of more than [`MAX_CELLS`] cells before it is allocated.
fn check_size(layout: &Layout) -> Result<(), DesignError> {
    if fits_dense(layout) {
        return Ok(());
    }
    let (largest, largest_columns) = layout.largest_term();
    Err(DesignError::TooLarge {
        rows: layout.rows.len(),
        columns: layout.names.len(),
        largest,
        largest_columns,
    })
}

fn complete_cases(
    dataset: &Dataset,
    names: &[String],
    columns: &[Column],
) -> (Vec<usize>, Vec<DroppedStudy>) {
    let mut rows = Vec::new();
    let mut dropped = Vec::new();
    for (i, study) in dataset.studies.iter().enumerate() {
        let missing: Vec<String> = names
            .iter()
            .zip(columns)
            .filter(|(_, c)| !c.is_present(i))
            .map(|(n, _)| n.clone())
            .collect();
        if missing.is_empty() {
            rows.push(i);
        } else {
            dropped.push(DroppedStudy {
                study: study.label().to_owned(),
                missing,
            });
        }
    }
    (rows, dropped)
}

fn check_references(
    spec: &DesignSpec,
    columns: &[Column],
    rows: &[usize],
) -> Result<(), DesignError> {
    for (moderator, level) in &spec.references {
        let Some(position) = spec.moderators.iter().position(|m| m == moderator) else {
            return Err(DesignError::ReferenceNotUsed {
                moderator: moderator.clone(),
                used: spec.moderators.clone(),
            });
        };
        let column = &columns[position];
        if matches!(column, Column::Continuous(_)) {
            return Err(DesignError::ReferenceContinuous(moderator.clone()));
        }
        let levels = column.levels(rows);
        if !levels.contains(level) {
            return Err(DesignError::ReferenceUnknownLevel {
                moderator: moderator.clone(),
                level: level.clone(),
                levels,
            });
        }
        let first_categorical = columns
            .iter()
            .position(|c| matches!(c, Column::Categorical(_)));
        if !spec.intercept && first_categorical == Some(position) {
            return Err(DesignError::ReferenceWithoutIntercept(moderator.clone()));
        }
    }
    Ok(())
}

fn make_term(
    name: &str,
    kind: TermKind,
    first_column: usize,
    intercept: bool,
    column: &Column,
    rows: &[usize],
) -> Result<Term, DesignError> {
    let columns = match &kind {
        TermKind::Continuous => {
            if let Column::Continuous(values) = column {
                let mut present = rows.iter().filter_map(|&i| values[i]);
                let first = present.next().unwrap_or(0.0);
                if intercept && present.all(|v| v == first) {
                    return Err(DesignError::Constant {
                        moderator: name.to_owned(),
                        value: first,
                    });
                }
            }
            1
        }
        TermKind::Categorical { levels, reference } => {
            let columns = levels.len() - usize::from(reference.is_some());
            if columns == 0 {
                return Err(DesignError::SingleLevel {
                    moderator: name.to_owned(),
                    level: levels[0].clone(),
                });
            }
            columns
        }
    };
    Ok(Term {
        moderator: name.to_owned(),
        kind,
        first_column,
        columns,
    })
}

/// The levels that have a column, in column order.
fn coded_levels(term: &Term) -> Vec<&String> {
    match &term.kind {
        TermKind::Continuous => Vec::new(),
        TermKind::Categorical { levels, reference } => levels
            .iter()
            .filter(|l| Some(*l) != reference.as_ref())
            .collect(),
    }
}

fn column_names(term: &Term) -> Vec<String> {
    match term.kind {
        TermKind::Continuous => vec![term.moderator.clone()],
        TermKind::Categorical { .. } => coded_levels(term)
            .into_iter()
            .map(|l| format!("{}={l}", term.moderator))
            .collect(),
    }
}

fn fill(columns: &[Column], layout: &Layout) -> DMatrix<f64> {
    let mut x = DMatrix::zeros(layout.rows.len(), layout.names.len());
    for (r, entries) in row_entries(columns, layout).enumerate() {
        for (c, value) in entries {
            x[(r, c)] = value;
        }
    }
    x
}

/// The non-zero entries of each row of X, (column, value) in column order:
/// the intercept, a continuous moderator's value, and a 1 in the column of
/// each categorical moderator's level (none for the reference level).
pub(super) fn row_entries<'a>(
    columns: &'a [Column<'a>],
    layout: &'a Layout,
) -> impl Iterator<Item = Vec<(usize, f64)>> + 'a {
    // Level → column, per categorical term: a lookup per study, not a scan
    // of thousands of levels.
    let coded: Vec<HashMap<&str, usize>> = layout
        .terms
        .iter()
        .map(|term| {
            coded_levels(term)
                .into_iter()
                .enumerate()
                .map(|(j, level)| (level.as_str(), term.first_column + j))
                .collect()
        })
        .collect();
    layout.rows.iter().map(move |&i| {
        let mut entries = Vec::with_capacity(columns.len() + 1);
        if layout.intercept {
            entries.push((0, 1.0));
        }
        for ((term, column), coded) in layout.terms.iter().zip(columns).zip(&coded) {
            match column {
                Column::Continuous(values) => {
                    entries.push((term.first_column, values[i].unwrap_or(f64::NAN)));
                }
                Column::Categorical(values) => {
                    if let Some(&c) = values[i].and_then(|level| coded.get(level)) {
                        entries.push((c, 1.0));
                    }
                }
            }
        }
        entries
    })
}

/// Names the first moderator whose columns make X rank deficient, with the
/// terms before it.
fn check_rank(x: &DMatrix<f64>, terms: &[Term], intercept: bool) -> Result<(), DesignError> {
    let Some(index) = super::rank::first_deficient_block(x, &block_ends(terms)) else {
        return Ok(());
    };
    let term = &terms[index];
    let largest = (0..x.nrows())
        .flat_map(|r| (term.first_column..term.first_column + term.columns).map(move |c| (r, c)))
        .fold(0.0f64, |m, (r, c)| m.max(x[(r, c)].abs()));
    Err(rank_error(terms, index, intercept, largest))
}

/// [`check_rank`] from the Gram matrix X'X and each column's largest |value|.
pub(super) fn check_gram_rank(
    gram: &DMatrix<f64>,
    layout: &Layout,
    largest_in_column: &[f64],
) -> Result<(), DesignError> {
    let terms = &layout.terms;
    let Some(index) = super::rank::first_deficient_block_of_gram(gram, &block_ends(terms)) else {
        return Ok(());
    };
    let term = &terms[index];
    let largest = largest_in_column[term.first_column..term.first_column + term.columns]
        .iter()
        .fold(0.0f64, |m, v| m.max(*v));
    Err(rank_error(terms, index, layout.intercept, largest))
}

fn block_ends(terms: &[Term]) -> Vec<usize> {
    terms.iter().map(|t| t.first_column + t.columns).collect()
}

/// The error for term `index` making X rank deficient; `largest` is its largest |value|.
fn rank_error(terms: &[Term], index: usize, intercept: bool, largest: f64) -> DesignError {
    // Squares beyond f64::MAX make X'WX infinite, not singular: say so.
    let term = &terms[index];
    if largest > 1e150 {
        return DesignError::ValuesTooLarge {
            moderator: term.moderator.clone(),
            largest,
        };
    }
    let mut earlier: Vec<String> = Vec::new();
    if intercept {
        earlier.push("the intercept".into());
    }
    earlier.extend(terms[..index].iter().map(|t| format!("'{}'", t.moderator)));
    if earlier.is_empty() {
        earlier.push("itself (its columns are linearly dependent)".into());
    }
    DesignError::Collinear {
        moderator: term.moderator.clone(),
        earlier,
    }
}

#[cfg(test)]
mod tests;
