//! From the records and the random terms as written to the likelihood's
//! components: which level of each term every effect size has.

use std::collections::HashMap;

use nalgebra::DMatrix;

use super::GeneralOptions;
use super::covariance::Struct;
use super::likelihood::Component;
use crate::data::dataset::Dataset;
use crate::data::moderator::moderator_names;
use crate::input::Moderator;
use crate::multilevel::{ModelMatrix, model_matrix};
use crate::multilevel::{MultilevelError, grouping_label};
use crate::warning::Warning;

/// One random term as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Term {
    /// `~ 1 | a/b/c`: a σ² per nesting level (one for a single variable).
    Nested(Vec<String>),
    /// `~ inner | outer` with a structure.
    Structured {
        /// The variable whose levels G is over.
        inner: String,
        /// The variable whose levels share G.
        outer: String,
    },
}

impl Term {
    /// Reads `study`, `study/es`, `1 | study` or `outcome | study`.
    pub fn parse(text: &str) -> Result<Term, MultilevelError> {
        let bad = |problem: &str| MultilevelError::BadTerm {
            term: text.to_owned(),
            problem: problem.to_owned(),
        };
        let variable = |part: &str| -> Result<String, MultilevelError> {
            let part = part.trim();
            if part.is_empty() || part.contains(['/', '|']) {
                return Err(bad(
                    "write a grouping variable (study), a nesting (study/es) or a structured term (outcome | study)",
                ));
            }
            Ok(part.to_owned())
        };
        match text.split_once('|') {
            Some((inner, outer)) => {
                let outer = variable(outer)?;
                match inner.trim() {
                    "1" => Ok(Term::Nested(vec![outer])),
                    _ => Ok(Term::Structured {
                        inner: variable(inner)?,
                        outer,
                    }),
                }
            }
            None => text
                .split('/')
                .map(variable)
                .collect::<Result<Vec<_>, _>>()
                .map(Term::Nested),
        }
    }

    fn variables(&self) -> Vec<&str> {
        match self {
            Term::Nested(path) => path.iter().map(String::as_str).collect(),
            Term::Structured { inner, outer } => {
                let mut out = inner_design(inner).1;
                out.push(outer.as_str());
                out
            }
        }
    }
}

/// The inner side of a GEN term read as R's formula: whether it has an
/// intercept (`0 + x` and `x - 1` remove it) and its variables (`x`,
/// `x + z`). Another structure's inner side is one variable.
fn inner_design(inner: &str) -> (bool, Vec<&str>) {
    let squeezed: String = inner.chars().filter(|c| !c.is_whitespace()).collect();
    let mut intercept = !squeezed.ends_with("-1");
    let text = inner.trim();
    let text = match text.rfind('-') {
        Some(at) if !intercept && text[at + 1..].trim() == "1" => &text[..at],
        _ => text,
    };
    let mut variables = Vec::new();
    for part in text.split('+').map(str::trim) {
        match part {
            "1" => {}
            "0" => intercept = false,
            _ => variables.push(part),
        }
    }
    (intercept, variables)
}

/// A structured term's description for the result.
#[derive(Debug, Clone)]
pub(super) struct StructuredInfo {
    pub levels: Vec<String>,
}

/// The data of a general model, ready for the likelihood.
pub(super) struct Prepared {
    pub data: Dataset,
    pub x: DMatrix<f64>,
    pub coefficient_names: Vec<String>,
    pub tested: Vec<usize>,
    pub dropped: Vec<String>,
    pub y: Vec<f64>,
    pub vi: Vec<f64>,
    pub components: Vec<Component>,
    pub sigma_names: Vec<String>,
    pub sigma_levels: Vec<usize>,
    pub structured: Vec<StructuredInfo>,
    /// The record label of each row.
    pub labels: Vec<String>,
    /// The known sampling covariances (row i < row l).
    pub v_offdiagonal: Vec<(usize, usize, f64)>,
    /// The records' user weights (metafor's `W`), when any has one.
    pub weights: Option<Vec<f64>>,
    /// The value of each grouping variable of the terms, row by row.
    pub grouping: Vec<(String, Vec<Moderator>)>,
    pub warnings: Vec<Warning>,
}

/// Numbers the labels of a column in order of appearance.
fn number(labels: &[String]) -> (Vec<u32>, usize) {
    let mut map: HashMap<&str, u32> = HashMap::new();
    let ids = labels
        .iter()
        .map(|l| {
            let next = map.len() as u32;
            *map.entry(l.as_str()).or_insert(next)
        })
        .collect();
    (ids, map.len())
}

impl Prepared {
    pub fn new(dataset: &Dataset, options: &GeneralOptions) -> Result<Prepared, MultilevelError> {
        let terms: Vec<Term> = options
            .terms
            .iter()
            .map(|t| Term::parse(t))
            .collect::<Result<_, _>>()?;
        let n_structured = terms
            .iter()
            .filter(|t| matches!(t, Term::Structured { .. }))
            .count();
        if n_structured > 2 {
            return Err(MultilevelError::TooManyStructured(n_structured));
        }
        if n_structured != options.structs.len() {
            return Err(MultilevelError::StructCount {
                terms: n_structured,
                structs: options.structs.len(),
            });
        }
        let mut variables: Vec<String> = Vec::new();
        for t in &terms {
            for v in t.variables() {
                if !variables.iter().any(|w| w == v) {
                    variables.push(v.to_owned());
                }
            }
        }
        for name in &variables {
            if !dataset
                .studies
                .iter()
                .any(|s| s.moderators.contains_key(name))
            {
                return Err(MultilevelError::UnknownGrouping {
                    name: name.clone(),
                    available: moderator_names(dataset),
                });
            }
        }
        let mut warnings = Vec::new();
        let complete = |s: &crate::data::dataset::Study| {
            variables.iter().all(|v| {
                s.moderators
                    .get(v)
                    .is_some_and(|m| !matches!(m, Moderator::Missing))
            })
        };
        let missing: Vec<String> = dataset
            .studies
            .iter()
            .filter(|s| !complete(s))
            .map(|s| s.label().to_owned())
            .collect();
        let mut data = dataset.clone();
        if !missing.is_empty() {
            data.studies.retain(complete);
            if data.studies.is_empty() {
                return Err(MultilevelError::NoCompleteStudies(variables));
            }
            warnings.push(Warning::NoGrouping {
                variables: variables.clone(),
                studies: missing,
            });
        }
        let ModelMatrix {
            x,
            names: coefficient_names,
            rows,
            tested,
            dropped,
        } = model_matrix(&data, options.design.as_ref(), &mut warnings)?;
        let studies: Vec<&crate::data::dataset::Study> =
            rows.iter().map(|&i| &data.studies[i]).collect();
        let value = |s: &crate::data::dataset::Study, v: &str| -> Moderator {
            s.moderators.get(v).cloned().unwrap_or(Moderator::Missing)
        };
        let label = |s: &crate::data::dataset::Study, v: &str| -> String {
            grouping_label(&value(s, v)).unwrap_or_default()
        };
        let mut components = Vec::new();
        let mut sigma_names = Vec::new();
        let mut sigma_levels = Vec::new();
        let mut structured = Vec::new();
        let mut structs = options.structs.iter();
        for term in &terms {
            match term {
                Term::Nested(path) => {
                    for depth in 0..path.len() {
                        let keys: Vec<String> = studies
                            .iter()
                            .map(|s| {
                                path[..=depth]
                                    .iter()
                                    .map(|v| label(s, v))
                                    .collect::<Vec<_>>()
                                    .join("\u{1f}")
                            })
                            .collect();
                        let (group, levels) = number(&keys);
                        let known = (path.len() == 1)
                            .then(|| options.corr.iter().find(|c| c.term.trim() == path[0]))
                            .flatten();
                        let corr = match known {
                            Some(known) => Some(known_correlation(known, &keys, &group, levels)?),
                            None => None,
                        };
                        components.push(Component::Sigma {
                            group,
                            corr,
                            fixed: levels == 1,
                        });
                        sigma_names.push(path[..=depth].join("/"));
                        sigma_levels.push(levels);
                    }
                }
                Term::Structured { inner, outer } => {
                    let Some(&kind) = structs.next() else {
                        continue;
                    };
                    let outers: Vec<String> = studies.iter().map(|s| label(s, outer)).collect();
                    let (outer_ids, _) = number(&outers);
                    let (intercept, inner_variables) = inner_design(inner);
                    if kind == Struct::GEN {
                        let (design, levels) =
                            slopes(inner, outer, intercept, &inner_variables, &studies)?;
                        components.push(Component::Structured {
                            outer: outer_ids,
                            inner: vec![0; studies.len()],
                            times: (0..levels.len()).map(|a| a as f64).collect(),
                            kind,
                            design: Some(design),
                        });
                        structured.push(StructuredInfo { levels });
                        continue;
                    }
                    if !intercept || inner_variables.len() != 1 {
                        return Err(MultilevelError::BadTerm {
                            term: format!("{inner} | {outer}"),
                            problem: format!(
                                "the {} structure is over the levels of one variable; random slopes over several variables (or without an intercept) take the structure GEN",
                                kind.name()
                            ),
                        });
                    }
                    let values: Vec<Moderator> = studies.iter().map(|s| value(s, inner)).collect();
                    let (levels, inner_ids, times) = sorted_levels(&values);
                    let times = match kind {
                        Struct::CAR => match times {
                            Some(t) => t,
                            None => {
                                return Err(MultilevelError::BadTerm {
                                    term: format!("{inner} | {outer}"),
                                    problem: format!(
                                        "the CAR structure takes the values of '{inner}' as times, so they must be numbers"
                                    ),
                                });
                            }
                        },
                        _ => (0..levels.len()).map(|a| a as f64).collect(),
                    };
                    components.push(Component::Structured {
                        outer: outer_ids,
                        inner: inner_ids,
                        times,
                        kind,
                        design: None,
                    });
                    structured.push(StructuredInfo { levels });
                }
            }
        }
        for known in &options.corr {
            let used = terms
                .iter()
                .any(|t| matches!(t, Term::Nested(path) if path.len() == 1 && path[0] == known.term.trim()));
            if !used {
                return Err(MultilevelError::KnownMatrix {
                    what: format!("the correlation matrix of '{}'", known.term),
                    problem: format!(
                        "no random term is '{}' alone: a known correlation matrix belongs to a term ~ 1 | g (metafor's R = list(g = M)); add the term to {}",
                        known.term,
                        crate::fields::RANDOM
                    ),
                });
            }
        }
        let mut vi: Vec<f64> = studies.iter().map(|s| s.vi).collect();
        let v_offdiagonal = sampling_covariances(&options.vcov, &studies, dataset, &mut vi)?;
        let weights = (studies.iter().any(|s| s.weight().is_some()))
            .then(|| studies.iter().map(|s| s.weight().unwrap_or(0.0)).collect());
        let grouping = variables
            .iter()
            .map(|v| (v.clone(), studies.iter().map(|s| value(s, v)).collect()))
            .collect();
        Ok(Prepared {
            grouping,
            weights,
            v_offdiagonal,
            labels: studies.iter().map(|s| s.label().to_owned()).collect(),
            y: studies.iter().map(|s| s.yi).collect(),
            vi,
            data,
            x,
            coefficient_names,
            tested,
            dropped,
            components,
            sigma_names,
            sigma_levels,
            structured,
            warnings,
        })
    }
}

/// The inner design of a GEN term (metafor's `model.matrix` of the inner
/// formula): a column of ones unless the intercept is removed, then each
/// variable's values; its column names are "intrcpt" and the variables.
fn slopes(
    inner: &str,
    outer: &str,
    intercept: bool,
    variables: &[&str],
    studies: &[&crate::data::dataset::Study],
) -> Result<(DMatrix<f64>, Vec<String>), MultilevelError> {
    let mut names: Vec<String> = Vec::new();
    if intercept {
        names.push("intrcpt".into());
    }
    names.extend(variables.iter().map(|v| (*v).to_owned()));
    if names.is_empty() {
        return Err(MultilevelError::BadTerm {
            term: format!("{inner} | {outer}"),
            problem: "the GEN structure needs an intercept or a variable on the inner side".into(),
        });
    }
    let mut z = DMatrix::zeros(studies.len(), names.len());
    for (i, study) in studies.iter().enumerate() {
        let mut column = 0;
        if intercept {
            z[(i, 0)] = 1.0;
            column = 1;
        }
        for (j, v) in variables.iter().enumerate() {
            match study.moderators.get(v) {
                Some(Moderator::Number(x)) => z[(i, column + j)] = *x,
                _ => {
                    return Err(MultilevelError::BadTerm {
                        term: format!("{inner} | {outer}"),
                        problem: format!(
                            "the GEN structure takes the values of '{v}' as random slopes, so they must be numbers ('{}' has none); for one random effect per category use the structure UN",
                            study.label()
                        ),
                    });
                }
            }
        }
    }
    Ok((z, names))
}

/// The levels of an inner variable sorted as R's `factor()` in the C
/// locale (numbers numerically, text byte-wise), each row's level, and the
/// levels as numbers when they all are.
fn sorted_levels(values: &[Moderator]) -> (Vec<String>, Vec<u32>, Option<Vec<f64>>) {
    let numbers: Option<Vec<f64>> = values
        .iter()
        .map(|v| match v {
            Moderator::Number(x) => Some(*x),
            _ => None,
        })
        .collect();
    match numbers {
        Some(xs) => {
            let mut distinct = xs.clone();
            distinct.sort_by(f64::total_cmp);
            distinct.dedup();
            let ids = xs
                .iter()
                .map(|x| distinct.partition_point(|d| d < x) as u32)
                .collect();
            let levels = distinct
                .iter()
                .map(|x| grouping_label(&Moderator::Number(*x)).unwrap_or_default())
                .collect();
            (levels, ids, Some(distinct))
        }
        None => {
            let labels: Vec<String> = values
                .iter()
                .map(|v| grouping_label(v).unwrap_or_default())
                .collect();
            let mut distinct = labels.clone();
            distinct.sort();
            distinct.dedup();
            let ids = labels
                .iter()
                .map(|l| distinct.partition_point(|d| d < l) as u32)
                .collect();
            (distinct, ids, None)
        }
    }
}

/// The known correlation matrix of a `~ 1 | g` term over the term's levels
/// (numbered as `group`), scaled to correlations.
fn known_correlation(
    known: &super::KnownCorrelation,
    keys: &[String],
    group: &[u32],
    levels: usize,
) -> Result<DMatrix<f64>, MultilevelError> {
    let what = || format!("the correlation matrix of '{}'", known.term);
    let bad = |problem: String| MultilevelError::KnownMatrix {
        what: what(),
        problem,
    };
    let n = known.levels.len();
    if known.matrix.len() != n || known.matrix.iter().any(|row| row.len() != n) {
        return Err(bad(format!(
            "it names {n} levels, so it must be a {n} x {n} matrix"
        )));
    }
    let index: HashMap<&str, usize> = known
        .levels
        .iter()
        .enumerate()
        .map(|(i, l)| (l.as_str(), i))
        .collect();
    // The level name of each group number.
    let mut names = vec![""; levels];
    for (key, &g) in keys.iter().zip(group) {
        names[g as usize] = key.as_str();
    }
    let mut at = Vec::with_capacity(levels);
    for name in &names {
        match index.get(name) {
            Some(&i) => at.push(i),
            None => {
                return Err(bad(format!(
                    "it has no row for level '{name}' of '{}': give the matrix every level the records have",
                    known.term
                )));
            }
        }
    }
    let m = |a: usize, b: usize| known.matrix[at[a]][at[b]];
    for a in 0..levels {
        if !(m(a, a).is_finite() && m(a, a) > 0.0) {
            return Err(bad(format!(
                "the diagonal entry of level '{}' must be positive (got {})",
                names[a],
                m(a, a)
            )));
        }
        for b in 0..a {
            if !m(a, b).is_finite() || (m(a, b) - m(b, a)).abs() > 1e-8 * m(a, a).max(m(b, b)) {
                return Err(bad(format!(
                    "it must be symmetric: the entries of '{}' and '{}' differ",
                    names[a], names[b]
                )));
            }
        }
    }
    Ok(DMatrix::from_fn(levels, levels, |a, b| {
        m(a, b) / (m(a, a) * m(b, b)).sqrt()
    }))
}

/// The known sampling covariances as row pairs; a variance replaces the
/// row's `vi`. Labels of records left out of the model are skipped.
fn sampling_covariances(
    vcov: &[(String, String, f64)],
    studies: &[&crate::data::dataset::Study],
    data: &Dataset,
    vi: &mut [f64],
) -> Result<Vec<(usize, usize, f64)>, MultilevelError> {
    if vcov.is_empty() {
        return Ok(Vec::new());
    }
    let bad = |what: String, problem: String| MultilevelError::KnownMatrix { what, problem };
    let mut row: HashMap<&str, usize> = HashMap::new();
    for (i, s) in studies.iter().enumerate() {
        if row.insert(s.label(), i).is_some() {
            return Err(bad(
                "the sampling covariance matrix".into(),
                format!(
                    "two records are labelled '{}': it names records by label, so each label must be unique",
                    s.label()
                ),
            ));
        }
    }
    let known: std::collections::HashSet<&str> = dataset_labels(data);
    let mut pairs: HashMap<(usize, usize), f64> = HashMap::new();
    for (a, b, c) in vcov {
        let what = || format!("the sampling covariance of '{a}' and '{b}'");
        for label in [a, b] {
            if !known.contains(label.as_str()) {
                return Err(bad(
                    what(),
                    format!(
                        "no record is labelled '{label}'; the labels are the records' study labels"
                    ),
                ));
            }
        }
        if !c.is_finite() {
            return Err(bad(what(), format!("it must be a finite number (got {c})")));
        }
        let (Some(&i), Some(&l)) = (row.get(a.as_str()), row.get(b.as_str())) else {
            continue;
        };
        if i == l {
            if *c <= 0.0 {
                return Err(bad(
                    what(),
                    format!("a variance must be positive (got {c})"),
                ));
            }
            vi[i] = *c;
        } else if *c != 0.0 {
            pairs.insert((i.min(l), i.max(l)), *c);
        }
    }
    let mut out: Vec<(usize, usize, f64)> =
        pairs.into_iter().map(|((i, l), c)| (i, l, c)).collect();
    out.sort_by_key(|x| (x.0, x.1));
    Ok(out)
}

fn dataset_labels(data: &Dataset) -> std::collections::HashSet<&str> {
    data.studies.iter().map(|s| s.label()).collect()
}
