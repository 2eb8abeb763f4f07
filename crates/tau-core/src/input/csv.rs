//! Reading study records from CSV. Columns named like record fields fill those
//! fields; `study` is the label; every other column is a moderator. An empty
//! cell, or `NA` as R writes it, is a missing value. A column without a name
//! is ignored as long as all its cells are empty (spreadsheets often add one).

use std::sync::Arc;

use super::{
    Interner, Moderator, Moderators, NUMERIC_FIELDS, ReadError, Record, StudyFile,
    locate::SourceMap,
};

/// Parses CSV text into a study file and a map from records back to lines.
pub fn parse_csv(text: &str) -> Result<(StudyFile, SourceMap<'static>), ReadError> {
    let line_one = |message: String| ReadError::Csv {
        line: 1,
        column: None,
        message,
    };
    if let Some(message) = super::binary_content(text.as_bytes()) {
        return Err(line_one(message.into()));
    }
    if text.trim_start().starts_with(['{', '[']) {
        return Err(line_one(
            "the file holds JSON, not CSV (it starts with '{' or '['); give it the extension .json"
                .into(),
        ));
    }
    // Old Mac line ends (CR only): the csv reader splits the rows but counts
    // lines by LF, so every line number would be 1.
    let text: std::borrow::Cow<str> = if text.contains('\r') && !text.contains('\n') {
        text.replace('\r', "\n").into()
    } else {
        text.into()
    };
    let text = &*text;
    if text.trim().is_empty() {
        return Err(ReadError::Csv {
            line: 1,
            column: None,
            message:
                "the file is empty; a CSV study file starts with a header row such as study,yi,vi"
                    .into(),
        });
    }
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| csv_error(&e, 1, None))?
        .iter()
        .map(str::to_owned)
        .collect();
    check_headers(&headers)?;
    let Some(study_column) = headers.iter().position(|h| h == "study") else {
        let remedy = match headers.iter().find(|h| h.eq_ignore_ascii_case("study")) {
            Some(h) => format!("rename the column {h:?} to \"study\" (names are case-sensitive)"),
            None if headers.len() == 1 && headers[0].contains([';', '\t']) => {
                "the file seems to separate cells with semicolons or tabs; tau reads comma-separated files (in Excel: save as CSV UTF-8, comma delimited)".into()
            }
            None => "add one with a label per study".into(),
        };
        return Err(ReadError::Csv {
            line: 1,
            column: None,
            message: format!(
                "no \"study\" column in the header ({}); {remedy}",
                super::list_bounded(&headers)
            ),
        });
    };
    let mut studies = Vec::new();
    let mut lines = Vec::new();
    let mut interner = Interner::default();
    let names: Vec<Arc<str>> = headers.iter().map(|h| interner.intern(h)).collect();
    let (mut moderators, mut previous) = (Vec::new(), Moderators::new());
    for row in reader.records() {
        let row = row.map_err(|e| csv_error(&e, 0, None))?;
        let line = row.position().map_or(0, |p| p.line() as usize);
        let mut record = Record::default();
        for (column, (header, cell)) in headers.iter().zip(row.iter()).enumerate() {
            if column == study_column {
                record.study = cell.to_owned();
                continue;
            }
            if header.is_empty() {
                if cell.is_empty() {
                    continue;
                }
                return Err(ReadError::Csv {
                    line,
                    column: Some((column + 1).to_string()),
                    message: format!(
                        "this column has no name in the header but holds {}; name the column in the header",
                        super::quote_bounded(cell)
                    ),
                });
            }
            if let Some(slot) = record.numeric_field_mut(header) {
                if !is_missing(cell) {
                    *slot = Some(cell.parse::<f64>().map_err(|_| ReadError::Csv {
                        line,
                        column: Some(format!("{} ({})", column + 1, super::bounded(header))),
                        message: format!("expected a number, found {}; write plain numbers such as 12 or 0.35 (a point as decimal mark, no thousands separators), and leave the cell empty if unknown", super::quote_bounded(cell)),
                    })?);
                }
            } else {
                moderators.push((
                    Arc::clone(&names[column]),
                    moderator_value(cell, &mut interner),
                ));
            }
        }
        record.moderators = Moderators::take_from(&mut moderators, &mut previous);
        if record.study.is_empty() {
            return Err(ReadError::Csv {
                line,
                column: Some(format!("{} (study)", study_column + 1)),
                message: "the study label is empty; every row needs a label".into(),
            });
        }
        studies.push(record);
        lines.push(line);
    }
    if studies.is_empty() {
        return Err(ReadError::Empty);
    }
    check_effect_columns(&headers, &studies)?;
    Ok((
        StudyFile {
            studies,
            ..StudyFile::default()
        },
        SourceMap::Csv { lines, headers },
    ))
}

/// Rejects a header that names a column twice (a hash map: headers of
/// hundreds of thousands of columns are checked in linear time).
fn check_headers(headers: &[String]) -> Result<(), ReadError> {
    let mut seen = std::collections::HashMap::with_capacity(headers.len());
    for (second, name) in headers.iter().enumerate() {
        if name.is_empty() {
            continue;
        }
        if let Some(first) = seen.insert(name.as_str(), second) {
            let quoted = super::quote_bounded(name);
            return Err(ReadError::Csv {
                line: 1,
                column: Some(format!("{} ({})", second + 1, super::bounded(name))),
                message: format!(
                    "the header names {quoted} twice (columns {} and {}); give each column its own name",
                    first + 1,
                    second + 1
                ),
            });
        }
    }
    Ok(())
}

/// When no column is named like a record field, says why no study has
/// effect data: columns named like fields but for case or spaces (`YI`), or a
/// sheet with the studies as columns (labels such as `yi` in the study column).
fn check_effect_columns(headers: &[String], studies: &[Record]) -> Result<(), ReadError> {
    let like = |name: &str| {
        NUMERIC_FIELDS
            .iter()
            .find(|f| f.eq_ignore_ascii_case(name.trim()))
    };
    let any_field = headers.iter().any(|h| NUMERIC_FIELDS.contains(&h.as_str()));
    // With some fields given, only yi, vi and sei are flagged: `N` beside
    // yi and vi may well be a moderator.
    let look_alikes: Vec<String> = headers
        .iter()
        .filter_map(|h| {
            let field = like(h).filter(|f| **f != h.as_str())?;
            let flagged = !any_field || ["yi", "vi", "sei"].contains(field);
            (flagged && !headers.iter().any(|other| other == field))
                .then(|| format!("{} looks like {field}", super::quote_bounded(h)))
        })
        .collect();
    if any_field && look_alikes.is_empty() {
        return Ok(());
    }
    if !look_alikes.is_empty() {
        return Err(ReadError::Csv {
            line: 1,
            column: None,
            message: format!(
                "{}; rename the column (field names are lower case, without spaces)",
                look_alikes.join(", ")
            ),
        });
    }
    let field_rows = studies.iter().filter(|r| like(&r.study).is_some()).count();
    if field_rows >= 2 {
        return Err(ReadError::Csv {
            line: 1,
            column: None,
            message: format!(
                "the sheet seems transposed: {field_rows} rows are labelled like record fields (e.g. {}) and the studies stand in the columns; put one study per row, with columns such as study, yi, vi",
                super::quote_bounded(
                    &studies
                        .iter()
                        .find(|r| like(&r.study).is_some())
                        .map(|r| r.study.clone())
                        .unwrap_or_default()
                )
            ),
        });
    }
    Ok(())
}

/// An empty cell, or R's `NA` or `NaN`.
fn is_missing(cell: &str) -> bool {
    cell.is_empty() || cell.eq_ignore_ascii_case("na") || cell.eq_ignore_ascii_case("nan")
}

/// A cell becomes a number if it parses as one, a boolean for true/false, a category otherwise.
fn moderator_value(cell: &str, interner: &mut Interner) -> Moderator {
    if is_missing(cell) {
        Moderator::Missing
    } else if let Ok(number) = cell.parse::<f64>()
        && number.is_finite()
    {
        Moderator::Number(number)
    } else if cell.eq_ignore_ascii_case("true") || cell.eq_ignore_ascii_case("false") {
        Moderator::Bool(cell.eq_ignore_ascii_case("true"))
    } else {
        Moderator::Text(interner.intern(cell))
    }
}

fn csv_error(error: &csv::Error, fallback_line: usize, column: Option<String>) -> ReadError {
    let line = error
        .position()
        .map_or(fallback_line, |p| p.line() as usize);
    let message = match error.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!(
            "this row has {len} fields but the header has {expected_len}; check for a missing or extra comma, or quote cells that contain commas"
        ),
        csv::ErrorKind::Utf8 { .. } => "the file is not valid UTF-8; save it as UTF-8 text".into(),
        _ => error.to_string(),
    };
    ReadError::Csv {
        line,
        column,
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::Position;

    #[test]
    fn known_columns_are_fields_and_others_moderators() {
        let (file, map) =
            parse_csv("study,yi,vi,year,adapted\nA,0.1,0.01,2001,true\nB,0.2,,1999,\n")
                .expect("valid");
        assert_eq!(file.studies[0].yi, Some(0.1));
        assert_eq!(file.studies[1].vi, None);
        assert_eq!(
            file.studies[0].moderators["year"],
            Moderator::Number(2001.0)
        );
        assert_eq!(file.studies[0].moderators["adapted"], Moderator::Bool(true));
        assert_eq!(file.studies[1].moderators["adapted"], Moderator::Missing);
        assert_eq!(
            map.locate(1, Some("vi")),
            Some(Position { line: 3, column: 3 })
        );
    }

    #[test]
    fn bad_number_names_line_and_column() {
        let err = parse_csv("study,yi,vi\nA,0.1,abc\n").expect_err("bad number");
        let text = err.to_string();
        assert!(
            text.contains("line 2") && text.contains("column 3 (vi)"),
            "{text}"
        );
    }

    #[test]
    fn ragged_row_is_reported() {
        let err = parse_csv("study,yi,vi\nA,0.1\n").expect_err("ragged");
        assert!(err.to_string().contains("line 2"), "{err}");
    }
}
