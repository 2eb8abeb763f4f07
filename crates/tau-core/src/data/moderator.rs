//! Moderators as analysis variables: one moderator's values over the studies
//! of a data set, the levels of a categorical moderator, and filters that
//! keep the studies with a given value.
//!
//! In a study file a number is continuous, a string or boolean is
//! categorical, and `null` or an absent key is missing. A moderator must be of
//! one kind throughout: a number in one record and text in another is an error
//! that names both studies.

use std::cmp::Ordering;

use serde::Serialize;

use crate::data::dataset::Dataset;
use crate::fields::FILTER;
use crate::input::Moderator;

/// Why a moderator cannot be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ModeratorError {
    /// No record has the moderator.
    #[error("no study has a moderator named '{name}'; {}", available_phrase(.available))]
    Unknown {
        /// The name asked for.
        name: String,
        /// The moderators the file has.
        available: Vec<String>,
    },
    /// Numbers in some records, text in others.
    #[error(
        "moderator '{name}' is a number in study '{number_study}' but text in study '{text_study}'; write it as a number everywhere (continuous) or as text everywhere (categorical)"
    )]
    MixedKinds {
        /// The moderator.
        name: String,
        /// A study where it is a number.
        number_study: String,
        /// A study where it is text or a boolean.
        text_study: String,
    },
    /// Every record lacks the moderator.
    #[error("moderator '{0}' is missing (null) in every study")]
    AllMissing(String),
    /// Text values that are all numbers written with a decimal comma.
    #[error(
        "moderator '{name}' holds numbers written with a decimal comma (\"{example}\" in study '{study}'), which a comma-separated file keeps as text: one category per value. Write them with a decimal point (12.5), or save the file with ';' separators (Excel in most of Europe does), which tau reads with decimal commas"
    )]
    DecimalComma {
        /// The moderator.
        name: String,
        /// One of its values.
        example: String,
        /// The study that holds it.
        study: String,
    },
    /// A categorical moderator with (nearly) one level per study.
    #[error(
        "moderator '{name}' is text with {levels} different values among {k} studies, nearly one per study, so as categories it would fit every study on its own. If it is a number, write it as a number in every study (a decimal point, no units); if it is a study identifier, it is no moderator"
    )]
    NearlyUnique {
        /// The moderator.
        name: String,
        /// How many levels it has.
        levels: usize,
        /// How many studies have a value.
        k: usize,
    },
    /// A filter is not of the form `name=value` or `name!=value`.
    #[error("filter {0:?} is not of the form MODERATOR=VALUE or MODERATOR!=VALUE, e.g. outcome=PB")]
    BadFilter(String),
    /// A filter keeps no study.
    #[error(
        "no study is kept by {FILTER} {filter}; the values of '{name}' present are: {}",
        crate::input::nearest::nearest_listed(filter_value(name, filter), present)
    )]
    NothingMatches {
        /// The moderator.
        name: String,
        /// The filter, as written (`g=x`, `g!=x`).
        filter: String,
        /// The values the studies have.
        present: Vec<String>,
    },
}

impl crate::Kinded for ModeratorError {
    fn kind(&self) -> crate::ErrorKind {
        crate::ErrorKind::Input
    }
}

/// The value a filter `name=value` or `name!=value` asks for.
fn filter_value<'a>(name: &str, filter: &'a str) -> &'a str {
    filter
        .strip_prefix(name)
        .unwrap_or(filter)
        .trim_start_matches(['!', '='])
}

fn available_phrase(available: &[String]) -> String {
    if available.is_empty() {
        "the file has no moderators; add them to each record under \"moderators\"".into()
    } else {
        format!(
            "the moderators in the file are: {} (names are case-sensitive)",
            available.join(", ")
        )
    }
}

/// One moderator's values over the studies, in study order (`None` = missing).
/// Categories borrow their text from the data set.
#[derive(Debug, Clone, PartialEq)]
pub enum Column<'a> {
    /// Numbers: used as given in a regression.
    Continuous(Vec<Option<f64>>),
    /// Categories (text, or booleans as "true"/"false"): dummy-coded in a regression.
    Categorical(Vec<Option<&'a str>>),
}

impl Column<'_> {
    /// Whether study `i` has a value.
    pub fn is_present(&self, i: usize) -> bool {
        match self {
            Column::Continuous(v) => v[i].is_some(),
            Column::Categorical(v) => v[i].is_some(),
        }
    }

    /// Study `i`'s value as a level label (a number is written as Rust prints it).
    pub fn label(&self, i: usize) -> Option<String> {
        match self {
            Column::Continuous(v) => v[i].map(|x| x.to_string()),
            Column::Categorical(v) => v[i].map(str::to_owned),
        }
    }

    /// The distinct values among the studies `rows`, in sorted order (numbers
    /// numerically, text by Unicode code point), as labels.
    pub fn levels(&self, rows: &[usize]) -> Vec<String> {
        match self {
            Column::Continuous(v) => {
                let mut values: Vec<f64> = rows.iter().filter_map(|&i| v[i]).collect();
                values.sort_by(f64::total_cmp);
                values.dedup_by(|a, b| a.total_cmp(b) == Ordering::Equal);
                values.iter().map(f64::to_string).collect()
            }
            Column::Categorical(v) => {
                let mut values: Vec<&str> = rows.iter().filter_map(|&i| v[i]).collect();
                values.sort_unstable();
                values.dedup();
                values.into_iter().map(str::to_owned).collect()
            }
        }
    }
}

/// The studies of each level of a moderator: levels sorted as
/// [`Column::levels`], studies in file order; studies without a value are in no level.
pub fn groups(column: &Column) -> Vec<(String, Vec<usize>)> {
    match column {
        Column::Continuous(values) => {
            let mut keyed: Vec<(f64, usize)> = values
                .iter()
                .enumerate()
                .filter_map(|(i, v)| v.map(|x| (x, i)))
                .collect();
            keyed.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            collect_runs(
                keyed,
                |a, b| a.total_cmp(b) == Ordering::Equal,
                f64::to_string,
            )
        }
        Column::Categorical(values) => {
            let mut keyed: Vec<(&str, usize)> = values
                .iter()
                .enumerate()
                .filter_map(|(i, v)| v.map(|x| (x, i)))
                .collect();
            keyed.sort();
            collect_runs(keyed, |a, b| a == b, |s| s.to_string())
        }
    }
}

fn collect_runs<K>(
    keyed: Vec<(K, usize)>,
    same: impl Fn(&K, &K) -> bool,
    label: impl Fn(&K) -> String,
) -> Vec<(String, Vec<usize>)> {
    let mut out: Vec<(String, Vec<usize>)> = Vec::new();
    let mut previous: Option<K> = None;
    for (key, i) in keyed {
        match (&previous, out.last_mut()) {
            (Some(p), Some((_, rows))) if same(p, &key) => rows.push(i),
            _ => out.push((label(&key), vec![i])),
        }
        previous = Some(key);
    }
    out
}

/// The values of moderator `name` over the studies of `dataset`.
pub fn column<'a>(dataset: &'a Dataset, name: &str) -> Result<Column<'a>, ModeratorError> {
    let values: Vec<Option<&Moderator>> = dataset
        .studies
        .iter()
        .map(|s| s.moderators.get(name))
        .collect();
    if values.iter().all(Option::is_none) {
        return Err(ModeratorError::Unknown {
            name: name.to_owned(),
            available: moderator_names(dataset),
        });
    }
    let first_of = |want_number: bool| {
        dataset
            .studies
            .iter()
            .zip(&values)
            .find_map(|(s, v)| match v {
                Some(Moderator::Number(_)) if want_number => Some(s.label().to_owned()),
                Some(Moderator::Text(_) | Moderator::Bool(_)) if !want_number => {
                    Some(s.label().to_owned())
                }
                _ => None,
            })
    };
    let column = match (first_of(true), first_of(false)) {
        (Some(number_study), Some(text_study)) => {
            return Err(ModeratorError::MixedKinds {
                name: name.to_owned(),
                number_study,
                text_study,
            });
        }
        (Some(_), None) => Column::Continuous(
            values
                .iter()
                .map(|v| match v {
                    Some(Moderator::Number(x)) => Some(*x),
                    _ => None,
                })
                .collect(),
        ),
        (None, Some(_)) => Column::Categorical(
            values
                .iter()
                .map(|v| match v {
                    Some(Moderator::Text(s)) => Some(&**s),
                    Some(Moderator::Bool(b)) => Some(if *b { "true" } else { "false" }),
                    _ => None,
                })
                .collect(),
        ),
        (None, None) => return Err(ModeratorError::AllMissing(name.to_owned())),
    };
    Ok(column)
}

/// Checks a categorical moderator for the signs of a misread number: every
/// value a number with a decimal comma ([`ModeratorError::DecimalComma`]), or
/// k ≥ 5 studies with k − 1 or more levels ([`ModeratorError::NearlyUnique`]).
/// `rows` are the studies used. Continuous moderators always pass.
pub fn check_categorical(
    dataset: &Dataset,
    name: &str,
    column: &Column,
    rows: &[usize],
) -> Result<(), ModeratorError> {
    let Column::Categorical(values) = column else {
        return Ok(());
    };
    let present: Vec<(usize, &str)> = rows
        .iter()
        .filter_map(|&i| values[i].map(|v| (i, v)))
        .collect();
    if let Some(&(i, example)) = present.first()
        && present
            .iter()
            .all(|(_, v)| crate::input::csv::is_decimal_comma(v))
    {
        return Err(ModeratorError::DecimalComma {
            name: name.to_owned(),
            example: example.to_owned(),
            study: dataset.studies[i].label().to_owned(),
        });
    }
    let k = present.len();
    let levels = column.levels(rows).len();
    if k >= 5 && levels + 1 >= k {
        return Err(ModeratorError::NearlyUnique {
            name: name.to_owned(),
            levels,
            k,
        });
    }
    Ok(())
}

/// The moderator names used anywhere in the data set, sorted.
pub fn moderator_names(dataset: &Dataset) -> Vec<String> {
    let mut names: Vec<&str> = dataset
        .studies
        .iter()
        .flat_map(|s| s.moderators.keys())
        .collect();
    names.sort_unstable();
    names.dedup();
    names.into_iter().map(str::to_owned).collect()
}

/// `--filter`: keep the studies whose moderator `name` equals (`=`) or
/// differs from (`!=`) `value`. Text is compared exactly, booleans as
/// "true"/"false", numbers numerically. A study without a value is left out
/// either way (as R's `subset()` drops `NA`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Filter {
    /// The moderator.
    pub name: String,
    /// The value compared with.
    pub value: String,
    /// `!=` rather than `=`.
    pub negated: bool,
}

impl Filter {
    /// Parses `name=value` or `name!=value`.
    pub fn parse(spec: &str) -> Result<Filter, ModeratorError> {
        let (name, value, negated) = match spec.split_once("!=") {
            Some((name, value)) => (name, value, true),
            None => match spec.split_once('=') {
                Some((name, value)) => (name, value, false),
                None => return Err(ModeratorError::BadFilter(spec.to_owned())),
            },
        };
        if name.trim().is_empty() {
            return Err(ModeratorError::BadFilter(spec.to_owned()));
        }
        Ok(Filter {
            name: name.trim().to_owned(),
            value: value.trim().to_owned(),
            negated,
        })
    }

    /// Whether a study with these moderators is kept; `None` when it has no value.
    pub fn keeps(&self, moderators: &crate::input::Moderators) -> Option<bool> {
        let equal = match moderators.get(&self.name)? {
            Moderator::Number(x) => self.value.parse::<f64>().is_ok_and(|v| v == *x),
            Moderator::Text(text) => **text == *self.value,
            Moderator::Bool(b) => self.value == b.to_string(),
            Moderator::Missing => return None,
        };
        Some(equal != self.negated)
    }
}

impl std::fmt::Display for Filter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let op = if self.negated { "!=" } else { "=" };
        write!(f, "{}{op}{}", self.name, self.value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::dataset::load_json;

    fn data(text: &str) -> Dataset {
        load_json(text, None).unwrap()
    }

    const FILE: &str = r#"[
      {"study": "A", "yi": 0.1, "vi": 0.01, "moderators": {"g": "x", "n": 2, "b": true}},
      {"study": "B", "yi": 0.2, "vi": 0.01, "moderators": {"g": "y", "n": 1}},
      {"study": "C", "yi": 0.3, "vi": 0.01, "moderators": {"g": "x", "n": 10, "b": false}}
    ]"#;

    #[test]
    fn columns_and_levels() {
        let d = data(FILE);
        let all = [0, 1, 2];
        assert_eq!(column(&d, "g").unwrap().levels(&all), ["x", "y"]);
        assert_eq!(column(&d, "n").unwrap().levels(&all), ["1", "2", "10"]);
        let b = column(&d, "b").unwrap();
        assert!(!b.is_present(1));
        assert_eq!(b.levels(&all), ["false", "true"]);
        let g = groups(&column(&d, "n").unwrap());
        assert_eq!(
            g,
            [
                ("1".into(), vec![1]),
                ("2".into(), vec![0]),
                ("10".into(), vec![2])
            ]
        );
        let g = groups(&column(&d, "g").unwrap());
        assert_eq!(g, [("x".into(), vec![0, 2]), ("y".into(), vec![1])]);
    }

    #[test]
    fn unknown_and_mixed_moderators_are_named() {
        let d = data(FILE);
        let err = column(&d, "G").unwrap_err().to_string();
        assert!(err.contains("'G'") && err.contains("b, g, n"), "{err}");
        let mixed = data(
            r#"[{"study": "A", "yi": 0, "vi": 1, "moderators": {"m": 1}},
                {"study": "B", "yi": 0, "vi": 1, "moderators": {"m": "low"}}]"#,
        );
        let err = column(&mixed, "m").unwrap_err().to_string();
        assert!(
            err.contains("'m'") && err.contains("'A'") && err.contains("'B'"),
            "{err}"
        );
    }

    #[test]
    fn filters_keep_matching_studies() {
        let d = data(FILE);
        let kept = |spec: &str| {
            let filter = Filter::parse(spec).unwrap();
            d.studies
                .iter()
                .filter(|s| filter.keeps(&s.moderators) == Some(true))
                .count()
        };
        assert_eq!(kept("g=x"), 2);
        assert_eq!(kept("g != x"), 1);
        assert_eq!(kept("n = 10"), 1);
        assert_eq!(kept("b=true"), 1);
        assert_eq!(kept("b!=true"), 1);
        assert!(Filter::parse("g").is_err());
        assert!(Filter::parse("=x").is_err());
    }
}
