//! Predictions of a meta-regression at new moderator values (metafor
//! `predict(res, newmods = ...)`), and the BLUPs of its studies (metafor
//! `blup(res)`, [`crate::model::blup`]).
//!
//! A specification such as `ablat=30,year=1970,alloc=random` gives every
//! moderator of the model a value: a number for a continuous one, a level
//! for a categorical one. It becomes the row x₀ of the model matrix with
//! the model's own coding (the intercept, a dummy per non-reference level),
//! and then
//!
//! * pred = x₀'β̂, se = √(x₀'V x₀), CI pred ± c·se;
//! * PI pred ± c·√(se² + τ̂²) (metafor's default `pi.type`),
//!
//! with c the critical value of the model's CIs: the normal quantile under z
//! tests, the t(k − p) quantile under Knapp-Hartung (V then the
//! Knapp-Hartung variance). Measures with a natural scale (OR, RR, ZCOR,
//! PLO) also get pred and the limits back-transformed, as metafor's
//! `transf` (the SE has no back-transformed counterpart).

use serde::{Serialize, Serializer};

use super::design::{Term, TermKind};
use super::result::RegressionResult;
use crate::fields::{PREDICT, PREDICT_FILE};
use crate::model::ModelRow;
use crate::model::blup::{Blup, BlupInput, blup};
use crate::pool::Transformed;

/// A parsed `--predict` specification: moderator names and their values as
/// given, in the order given.
#[derive(Debug, Clone, PartialEq)]
pub struct PredictSpec {
    /// The specification as written.
    pub text: String,
    /// (moderator, value) pairs.
    pub pairs: Vec<(String, String)>,
}

/// Why a prediction could not be made.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum PredictError {
    /// Nothing in the specification.
    #[error(
        "{PREDICT} {0:?} names no moderator: give each moderator of the model a value, as NAME=VALUE pairs separated by commas, e.g. {PREDICT} \"ablat=30,year=1970\""
    )]
    Empty(String),
    /// An item without `=`, or without a name or a value.
    #[error(
        "{PREDICT} {spec:?}: '{item}' is not of the form NAME=VALUE; give each moderator of the model a value, e.g. {PREDICT} \"ablat=30,alloc=random\""
    )]
    NotAPair {
        /// The specification.
        spec: String,
        /// The malformed item.
        item: String,
    },
    /// A moderator named twice.
    #[error("{PREDICT} {spec:?}: '{moderator}' is given twice; give each moderator one value")]
    Repeated {
        /// The specification.
        spec: String,
        /// The moderator.
        moderator: String,
    },
    /// A moderator that is not in the model.
    #[error(
        "{PREDICT} {spec:?}: '{moderator}' is not a moderator of the model; its moderators are: {} (names are case-sensitive)",
        .moderators.join(", ")
    )]
    NotInModel {
        /// The specification.
        spec: String,
        /// The moderator named.
        moderator: String,
        /// The model's moderators.
        moderators: Vec<String>,
    },
    /// Moderators of the model without a value.
    #[error(
        "{PREDICT} {spec:?} has no value for {}: every moderator of the model needs one (a number for a continuous moderator, a level for a categorical one)",
        .missing.iter().map(|m| format!("'{m}'")).collect::<Vec<_>>().join(", ")
    )]
    Missing {
        /// The specification.
        spec: String,
        /// The moderators without a value.
        missing: Vec<String>,
    },
    /// A continuous moderator given something other than a finite number.
    #[error(
        "{PREDICT} {spec:?}: '{moderator}' is continuous (numbers), so its value must be a finite number, not '{value}'"
    )]
    NotANumber {
        /// The specification.
        spec: String,
        /// The moderator.
        moderator: String,
        /// The value given.
        value: String,
    },
    /// A level that the categorical moderator does not have in the model.
    #[error(
        "{PREDICT} {spec:?}: '{level}' is not a level of '{moderator}' among the studies in the model; its levels are: {}",
        .levels.join(", ")
    )]
    UnknownLevel {
        /// The specification.
        spec: String,
        /// The moderator.
        moderator: String,
        /// The level given.
        level: String,
        /// The levels in the model.
        levels: Vec<String>,
    },
    /// A `--predict-file` table that cannot be read.
    #[error(
        "line {line}: {problem}; a {PREDICT_FILE} is a CSV table with a header row of moderator names and one row of values per prediction, e.g. \"ablat,alloc\" then \"30,random\""
    )]
    Table {
        /// The line of the table (1-based).
        line: usize,
        /// What is wrong there.
        problem: String,
    },
}

impl crate::Kinded for PredictError {
    fn kind(&self) -> crate::ErrorKind {
        crate::ErrorKind::Input
    }
}

impl PredictSpec {
    /// Reads one specification per row of a CSV table whose header names
    /// the moderators (spaces around names and values ignored). The table is
    /// read as study files are: separated by `,`, `;` or tab, whichever the
    /// header uses most, and with decimal commas (`12,5`) when it is not
    /// comma-separated. Each specification is written `line N: name=value,...`
    /// so that later messages name the row.
    pub fn from_csv(text: &str) -> Result<Vec<PredictSpec>, PredictError> {
        use crate::input::csv::{detect_separator, is_decimal_comma, separator_name};
        let table = |line: usize, problem: String| PredictError::Table { line, problem };
        let separator = detect_separator(text);
        let mut reader = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .flexible(true)
            .delimiter(separator)
            .from_reader(text.as_bytes());
        let header: Vec<String> = reader
            .headers()
            .map_err(|e| table(1, e.to_string()))?
            .iter()
            .map(str::to_owned)
            .collect();
        if header.iter().all(String::is_empty) {
            return Err(table(1, "there is no header row".into()));
        }
        if let Some(column) = header.iter().position(String::is_empty) {
            return Err(table(1, format!("column {} has no name", column + 1)));
        }
        let mut specs = Vec::new();
        for row in reader.records() {
            let row = row
                .map_err(|e| table(e.position().map_or(0, |p| p.line() as usize), e.to_string()))?;
            let line = row.position().map_or(0, |p| p.line() as usize);
            if row.len() != header.len() {
                let sep = separator_name(separator);
                return Err(table(
                    line,
                    format!(
                        "{} values for {} moderators, reading the cells as separated by {sep} (the separator the header uses most); check for a missing or extra {sep}, or quote values that contain one",
                        row.len(),
                        header.len()
                    ),
                ));
            }
            let values: Vec<String> = row
                .iter()
                .map(|value| match separator != b',' && is_decimal_comma(value) {
                    true => value.replacen(',', ".", 1),
                    false => value.to_owned(),
                })
                .collect();
            let text: Vec<String> = header
                .iter()
                .zip(&values)
                .map(|(name, value)| format!("{name}={value}"))
                .collect();
            let items = text
                .iter()
                .zip(header.iter().zip(&values))
                .map(|(item, (name, value))| (item.as_str(), name.as_str(), value.as_str()));
            let spec = PredictSpec::from_items(format!("line {line}: {}", text.join(",")), items)
                .map_err(|e| table(line, e.to_string()))?;
            specs.push(spec);
        }
        if specs.is_empty() {
            return Err(table(
                1,
                "the table has a header but no rows of values".into(),
            ));
        }
        Ok(specs)
    }

    /// Parses `name=value,name=value` (spaces around names and values ignored).
    pub fn parse(text: &str) -> Result<PredictSpec, PredictError> {
        if text.trim().is_empty() {
            return Err(PredictError::Empty(text.to_owned()));
        }
        let mut items = Vec::new();
        for item in text.split(',') {
            let Some((name, value)) = item.split_once('=') else {
                return Err(PredictError::NotAPair {
                    spec: text.to_owned(),
                    item: item.trim().to_owned(),
                });
            };
            items.push((item.trim(), name, value));
        }
        PredictSpec::from_items(text.to_owned(), items)
    }

    /// A specification from (item as written, name, value), spaces around
    /// names and values ignored: each needs a name and a value, and no name
    /// may come twice. `text` is how messages quote the specification.
    fn from_items<'a>(
        text: String,
        given: impl IntoIterator<Item = (&'a str, &'a str, &'a str)>,
    ) -> Result<PredictSpec, PredictError> {
        let mut pairs: Vec<(String, String)> = Vec::new();
        for (item, name, value) in given {
            let (name, value) = (name.trim(), value.trim());
            if name.is_empty() || value.is_empty() {
                return Err(PredictError::NotAPair {
                    spec: text,
                    item: item.to_owned(),
                });
            }
            if pairs.iter().any(|(n, _)| n == name) {
                return Err(PredictError::Repeated {
                    spec: text,
                    moderator: name.to_owned(),
                });
            }
            pairs.push((name.to_owned(), value.to_owned()));
        }
        Ok(PredictSpec { text, pairs })
    }
}

/// A moderator's value in a prediction.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum ModeratorValue {
    /// A continuous moderator's value.
    Number(f64),
    /// A categorical moderator's level.
    Level(String),
}

impl std::fmt::Display for ModeratorValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ModeratorValue::Number(x) => write!(f, "{x}"),
            ModeratorValue::Level(l) => f.write_str(l),
        }
    }
}

/// A prediction at new moderator values. Field names are the JSON contract.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PredictedValue {
    /// Each moderator of the model with its value, in model order (a JSON object).
    #[serde(serialize_with = "as_map")]
    pub moderators: Vec<(String, ModeratorValue)>,
    /// x₀'β̂.
    pub pred: f64,
    /// √(x₀'V x₀).
    pub se: f64,
    /// Lower confidence limit.
    pub ci_lower: f64,
    /// Upper confidence limit.
    pub ci_upper: f64,
    /// Lower prediction limit.
    pub pi_lower: f64,
    /// Upper prediction limit.
    pub pi_upper: f64,
    /// pred and the limits back-transformed, for the measures that have a natural
    /// back-transformation ([`crate::effect_size::measure::Measure::back_transform`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transformed: Option<Transformed>,
}

fn as_map<S: Serializer>(
    pairs: &[(String, ModeratorValue)],
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_map(pairs.iter().map(|(k, v)| (k, v)))
}

impl RegressionResult {
    /// The prediction at the moderator values of `spec` (see the module docs).
    pub fn predict_at(&self, spec: &PredictSpec) -> Result<PredictedValue, PredictError> {
        let moderators = self.resolve(spec)?;
        let entries = row_entries(&self.terms, self.settings.intercept, &moderators);
        let p = self.predict_row(&ModelRow::new(self.coefficients.len(), entries));
        let half = self.crit * (p.se * p.se + self.tau2).sqrt();
        let (pi_lower, pi_upper) = (p.estimate - half, p.estimate + half);
        let transformed = self
            .settings
            .model
            .measure
            .back_transform()
            .map(|(scale, f)| Transformed {
                scale,
                estimate: f(p.estimate),
                ci_lower: f(p.ci_lower),
                ci_upper: f(p.ci_upper),
                pi_lower: f(pi_lower),
                pi_upper: f(pi_upper),
            });
        Ok(PredictedValue {
            moderators,
            pred: p.estimate,
            se: p.se,
            ci_lower: p.ci_lower,
            ci_upper: p.ci_upper,
            pi_lower,
            pi_upper,
            transformed,
        })
    }

    /// Each model moderator's value from `spec`, in model order.
    fn resolve(&self, spec: &PredictSpec) -> Result<Vec<(String, ModeratorValue)>, PredictError> {
        resolve_terms(&self.terms, spec)
    }

    /// The BLUP of each study in the model (metafor `blup(res)`).
    pub fn blups(&self) -> Vec<Blup> {
        self.studies
            .iter()
            .map(|st| {
                let p = self.predict_row(&st.x);
                let input = BlupInput {
                    study: &st.study,
                    yi: st.yi,
                    vi: st.vi,
                    fitted: p.estimate,
                    fitted_variance: p.se * p.se,
                };
                blup(&input, self.tau2, self.crit)
            })
            .collect()
    }
}

/// `value` as the value of `term`'s moderator.
fn value_of(term: &Term, value: &str, spec: &str) -> Result<ModeratorValue, PredictError> {
    match &term.kind {
        TermKind::Continuous => value
            .parse::<f64>()
            .ok()
            .filter(|x| x.is_finite())
            .map(ModeratorValue::Number)
            .ok_or_else(|| PredictError::NotANumber {
                spec: spec.to_owned(),
                moderator: term.moderator.clone(),
                value: value.to_owned(),
            }),
        TermKind::Categorical { levels, .. } => {
            if levels.iter().any(|l| l == value) {
                Ok(ModeratorValue::Level(value.to_owned()))
            } else {
                Err(PredictError::UnknownLevel {
                    spec: spec.to_owned(),
                    moderator: term.moderator.clone(),
                    level: value.to_owned(),
                    levels: levels.clone(),
                })
            }
        }
    }
}

/// Each moderator of `terms` with its value from `spec`, in model order.
pub(crate) fn resolve_terms(
    terms: &[super::design::Term],
    spec: &PredictSpec,
) -> Result<Vec<(String, ModeratorValue)>, PredictError> {
    let names: Vec<String> = terms.iter().map(|t| t.moderator.clone()).collect();
    if let Some((name, _)) = spec.pairs.iter().find(|(n, _)| !names.contains(n)) {
        return Err(PredictError::NotInModel {
            spec: spec.text.clone(),
            moderator: name.clone(),
            moderators: names,
        });
    }
    let missing: Vec<String> = names
        .iter()
        .filter(|m| !spec.pairs.iter().any(|(n, _)| n == *m))
        .cloned()
        .collect();
    if !missing.is_empty() {
        return Err(PredictError::Missing {
            spec: spec.text.clone(),
            missing,
        });
    }
    terms
        .iter()
        .map(|term| {
            let value = spec
                .pairs
                .iter()
                .find(|(n, _)| *n == term.moderator)
                .map_or("", |(_, v)| v.as_str());
            value_of(term, value, &spec.text).map(|v| (term.moderator.clone(), v))
        })
        .collect()
}

/// The nonzero entries of the model row at `moderators` (from
/// [`resolve_terms`]): 1 for the intercept, a continuous moderator's value,
/// 1 in the column of a categorical moderator's level.
pub(crate) fn row_entries(
    terms: &[super::design::Term],
    intercept: bool,
    moderators: &[(String, ModeratorValue)],
) -> Vec<(usize, f64)> {
    let mut entries = Vec::new();
    if intercept {
        entries.push((0, 1.0));
    }
    for (term, (_, value)) in terms.iter().zip(moderators) {
        match (&term.kind, value) {
            (TermKind::Continuous, ModeratorValue::Number(x)) => {
                entries.push((term.first_column, *x));
            }
            (TermKind::Categorical { levels, reference }, ModeratorValue::Level(level)) => {
                let column = levels
                    .iter()
                    .filter(|l| Some(*l) != reference.as_ref())
                    .position(|l| l == level);
                if let Some(j) = column {
                    entries.push((term.first_column + j, 1.0));
                }
            }
            // `resolve_terms` gives each term a value of its kind.
            _ => {}
        }
    }
    entries
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_pairs_in_order() {
        let spec = PredictSpec::parse(" ablat = 30 ,alloc=random").unwrap();
        assert_eq!(
            spec.pairs,
            vec![
                ("ablat".to_owned(), "30".to_owned()),
                ("alloc".to_owned(), "random".to_owned())
            ]
        );
    }

    #[test]
    fn a_table_cell_is_one_value_even_with_a_comma() {
        let specs = PredictSpec::from_csv("ablat,alloc\n30,\"random, late\"\n").unwrap();
        assert_eq!(
            specs[0].pairs,
            vec![
                ("ablat".to_owned(), "30".to_owned()),
                ("alloc".to_owned(), "random, late".to_owned())
            ]
        );
        assert!(matches!(
            PredictSpec::from_csv("ablat,ablat\n30,40\n"),
            Err(PredictError::Table { line: 2, .. })
        ));
    }

    #[test]
    fn refuses_malformed_specifications() {
        assert!(matches!(
            PredictSpec::parse(" "),
            Err(PredictError::Empty(_))
        ));
        for bad in ["ablat", "ablat=", "=30", "ablat=30,", "ablat=30,,year=1"] {
            assert!(
                matches!(PredictSpec::parse(bad), Err(PredictError::NotAPair { .. })),
                "{bad}"
            );
        }
        assert!(matches!(
            PredictSpec::parse("a=1,a=2"),
            Err(PredictError::Repeated { .. })
        ));
    }
}
