//! Reading study records from a RevMan 5 review (`.rm5`, Cochrane's XML).
//!
//! Every comparison's dichotomous outcomes (`DICH_OUTCOME`, events and totals
//! per group: `DICH_DATA EVENTS_1 TOTAL_1 EVENTS_2 TOTAL_2`) and continuous
//! outcomes (`CONT_OUTCOME`, `CONT_DATA MEAN_1 SD_1 TOTAL_1 MEAN_2 SD_2
//! TOTAL_2`) give one record per study and outcome, with the moderators
//! `comparison` (`1 Drug vs placebo`), `outcome` (`1.2 Pain at 6 weeks`) and,
//! inside a subgroup, `subgroup` (`1.2.1 Adults`), numbered as RevMan
//! numbers its analyses. Study labels are the names of the review's
//! included studies (`STUDY NAME`), found by `STUDY_ID`. One outcome is
//! picked by its number (`1.2`) or name; its `EFFECT_MEASURE` (RR, OR, RD,
//! PETO_OR as OR, MD, SMD) is the file's measure. Generic inverse-variance
//! outcomes (`IV_OUTCOME`) are not read.

use crate::fields::OUTCOME;
use std::collections::HashMap;
use std::sync::Arc;

use super::{Moderator, ReadError, Record, StudyFile};

/// One outcome of the review, for messages and notes.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// RevMan's number, `1.2`.
    pub number: String,
    /// Its name.
    pub name: String,
    /// `dichotomous` or `continuous`.
    pub kind: &'static str,
    /// How many study records it holds.
    pub records: usize,
}

impl Outcome {
    /// `1.2 Pain (continuous, 4 studies)`.
    pub fn describe(&self) -> String {
        format!(
            "{} {} ({}, {} {})",
            self.number,
            self.name,
            self.kind,
            self.records,
            if self.records == 1 {
                "study"
            } else {
                "studies"
            }
        )
    }
}

fn error(place: impl Into<String>, message: impl Into<String>) -> ReadError {
    ReadError::RevMan {
        place: place.into(),
        message: message.into(),
    }
}

/// Parses a RevMan 5 file; `outcome` picks one outcome by number or name.
/// Returns the study file and the outcomes read.
pub fn parse_revman(
    text: &str,
    outcome: Option<&str>,
) -> Result<(StudyFile, Vec<Outcome>), ReadError> {
    let document = roxmltree::Document::parse(text).map_err(|e| {
        error(
            String::new(),
            format!("this is not a RevMan 5 file: the XML does not parse ({e}); export the review from RevMan 5 as .rm5"),
        )
    })?;
    let root = document.root_element();
    if root.tag_name().name() != "COCHRANE_REVIEW" {
        return Err(error(
            String::new(),
            format!(
                "this is not a RevMan 5 file: its root element is <{}>, not <COCHRANE_REVIEW>",
                root.tag_name().name()
            ),
        ));
    }
    let names: HashMap<&str, &str> = root
        .descendants()
        .filter(|n| n.has_tag_name("STUDY"))
        .filter_map(|n| Some((n.attribute("ID")?, n.attribute("NAME")?)))
        .collect();
    let mut outcomes = Vec::new();
    let mut studies = Vec::new();
    let mut measures = Vec::new();
    for comparison in root.descendants().filter(|n| n.has_tag_name("COMPARISON")) {
        let c_no = comparison.attribute("NO").unwrap_or("?");
        let c_label: Arc<str> = format!("{c_no} {}", child_text(comparison, "NAME")).into();
        for node in comparison.children().filter(|n| n.is_element()) {
            let kind = match node.tag_name().name() {
                "DICH_OUTCOME" => "dichotomous",
                "CONT_OUTCOME" => "continuous",
                _ => continue,
            };
            let number = format!("{c_no}.{}", node.attribute("NO").unwrap_or("?"));
            let name = child_text(node, "NAME");
            let o_label: Arc<str> = format!("{number} {name}").into();
            let picked = outcome.is_none_or(|o| o == number || o.eq_ignore_ascii_case(&name));
            let before = studies.len();
            let mut read = |data: roxmltree::Node, subgroup: Option<Arc<str>>| {
                let record = record_of(data, &names, &number)?;
                let mut moderators = vec![
                    ("comparison", Moderator::Text(c_label.clone())),
                    ("outcome", Moderator::Text(o_label.clone())),
                ];
                if let Some(subgroup) = subgroup {
                    moderators.push(("subgroup", Moderator::Text(subgroup)));
                }
                let mut record = record;
                for (name, value) in moderators {
                    record.moderators.insert(name, value);
                }
                studies.push(record);
                Ok::<(), ReadError>(())
            };
            let mut count = 0;
            for child in node.children().filter(|n| n.is_element()) {
                match child.tag_name().name() {
                    "DICH_DATA" | "CONT_DATA" => {
                        count += 1;
                        if picked {
                            read(child, None)?;
                        }
                    }
                    "DICH_SUBGROUP" | "CONT_SUBGROUP" => {
                        let s_label: Arc<str> = format!(
                            "{number}.{} {}",
                            child.attribute("NO").unwrap_or("?"),
                            child_text(child, "NAME")
                        )
                        .into();
                        for data in child
                            .children()
                            .filter(|n| n.has_tag_name("DICH_DATA") || n.has_tag_name("CONT_DATA"))
                        {
                            count += 1;
                            if picked {
                                read(data, Some(s_label.clone()))?;
                            }
                        }
                    }
                    _ => {}
                }
            }
            if picked && studies.len() > before {
                measures.push(
                    node.attribute("EFFECT_MEASURE")
                        .unwrap_or_default()
                        .to_owned(),
                );
            }
            outcomes.push(Outcome {
                number,
                name,
                kind,
                records: count,
            });
        }
    }
    let listed = || {
        let all: Vec<String> = outcomes.iter().map(Outcome::describe).collect();
        super::list_bounded(&all)
    };
    if let Some(wanted) = outcome
        && measures.is_empty()
    {
        return Err(error(
            String::new(),
            format!(
                "{OUTCOME} {wanted:?}: no outcome with study data has this number or name; the outcomes are: {}",
                listed()
            ),
        ));
    }
    let kinds: Vec<&str> = outcomes
        .iter()
        .filter(|o| o.records > 0 && outcome.is_none())
        .map(|o| o.kind)
        .collect();
    if kinds.contains(&"dichotomous") && kinds.contains(&"continuous") {
        return Err(error(
            String::new(),
            format!(
                "the review has dichotomous and continuous outcomes, which one analysis cannot pool; pick one outcome with {OUTCOME}, e.g. {OUTCOME} {}; the outcomes are: {}",
                outcomes.first().map_or("1.1", |o| o.number.as_str()),
                listed()
            ),
        ));
    }
    measures.dedup();
    let measure = match &measures[..] {
        [one] => match one.as_str() {
            "RR" | "OR" | "RD" | "MD" | "SMD" => Some(one.clone()),
            "PETO_OR" => Some("OR".to_owned()),
            _ => None,
        },
        _ => None,
    };
    Ok((
        StudyFile {
            measure,
            studies,
            ..StudyFile::default()
        },
        outcomes,
    ))
}

/// The text of `node`'s child element `name`, trimmed ("" when absent).
fn child_text(node: roxmltree::Node, name: &str) -> String {
    node.children()
        .find(|n| n.has_tag_name(name))
        .and_then(|n| n.text())
        .unwrap_or_default()
        .trim()
        .to_owned()
}

/// One `DICH_DATA` or `CONT_DATA` element as a record (without moderators).
fn record_of(
    data: roxmltree::Node,
    names: &HashMap<&str, &str>,
    outcome: &str,
) -> Result<Record, ReadError> {
    let id = data.attribute("STUDY_ID").unwrap_or_default();
    let study = match names.get(id) {
        Some(name) => (*name).to_owned(),
        None => id.strip_prefix("STD-").unwrap_or(id).replace('-', " "),
    };
    let place = format!("outcome {outcome}, study '{study}'");
    let number = |attribute: &str| -> Result<Option<f64>, ReadError> {
        match data.attribute(attribute).map(str::trim) {
            None | Some("") => Ok(None),
            Some(text) => text.parse().map(Some).map_err(|_| {
                error(
                    place.clone(),
                    format!(
                        "{attribute} is not a number ({}); correct it in RevMan and export again",
                        super::quote_bounded(text)
                    ),
                )
            }),
        }
    };
    let mut record = Record {
        study,
        n1: number("TOTAL_1")?,
        n2: number("TOTAL_2")?,
        ..Record::default()
    };
    if data.has_tag_name("DICH_DATA") {
        record.events1 = number("EVENTS_1")?;
        record.events2 = number("EVENTS_2")?;
    } else {
        record.m1 = number("MEAN_1")?;
        record.sd1 = number("SD_1")?;
        record.m2 = number("MEAN_2")?;
        record.sd2 = number("SD_2")?;
    }
    Ok(record)
}
