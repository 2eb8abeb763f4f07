//! A data set from a spreadsheet's bytes (`.xlsx`, `.ods`), read with the
//! CSV reader's rules (see [`crate::input::sheet`]), and its errors shown by
//! the sheet's cells: `Sheet1!C7 (vi): ...` instead of `line 7, column 3 (vi)`.

use crate::data::dataset::{Dataset, LoadError, LoadOptions, StudyIssue, load_csv_with};
use crate::fields::SHEET;
use crate::input::ReadError;
use crate::input::csv::CsvOptions;
use crate::input::sheet::{cell_name, sheet_text};

/// Reads sheet `sheet` (the first when `None`) of the workbook in `bytes`
/// and builds the data set, as [`load_csv_with`] does for the same cells
/// typed in a CSV file. The separator and decimal mark of `options.csv` do
/// not apply (a sheet has cells, and numbers that are numbers).
pub fn load_sheet_with(
    bytes: &[u8],
    sheet: Option<&str>,
    options: &LoadOptions,
) -> Result<Dataset, LoadError> {
    let sheet = sheet_text(bytes, sheet)?;
    let options = LoadOptions {
        csv: CsvOptions {
            separator: Some(b','),
            decimal: Some('.'),
            columns: options.csv.columns.clone(),
        },
        ..options.clone()
    };
    match load_csv_with(&sheet.text, &options) {
        Ok(mut data) => {
            if let Some(info) = &mut data.csv {
                info.sheet = Some(sheet.sheet);
            }
            Ok(data)
        }
        Err(error) => Err(located(error, &sheet.sheet, &sheet.sheets)),
    }
}

/// The error with its lines and fields read as the sheet's rows and columns.
/// A header without a `study` column gets the sheet's remedy (the CSV
/// reader's speaks of separators): another sheet may hold the studies.
fn located(error: LoadError, sheet: &str, sheets: &[String]) -> LoadError {
    match error {
        LoadError::Hinted { error, hint } => LoadError::Hinted {
            error: Box::new(located(*error, sheet, sheets)),
            hint,
        },
        LoadError::Read(ReadError::Csv {
            line,
            column,
            message,
        }) if message.starts_with("no \"study\" column") => {
            let (what, _) = message.split_once("; ").unwrap_or((&message, ""));
            let quoted: Vec<String> = sheets.iter().map(|s| format!("'{s}'")).collect();
            LoadError::Sheet {
                sheet: sheet.to_owned(),
                error: Box::new(LoadError::Read(ReadError::Csv {
                    line,
                    column,
                    message: format!(
                        "{what}; add a study column with a label per study, or pass {SHEET} NAME if another sheet holds the studies (the workbook's sheets: {})",
                        crate::input::list_bounded(&quoted)
                    ),
                })),
            }
        }
        error @ (LoadError::Read(ReadError::Csv { .. }) | LoadError::Studies { .. }) => {
            LoadError::Sheet {
                sheet: sheet.to_owned(),
                error: Box::new(error),
            }
        }
        other => other,
    }
}

/// The message of `error` (read from sheet `sheet`), with every place a
/// cell, prefixed with the file name when given.
pub(crate) fn describe(sheet: &str, error: &LoadError, file: Option<&str>) -> String {
    let prefix = file.map(|f| format!("{f}: ")).unwrap_or_default();
    match error {
        LoadError::Read(ReadError::Csv {
            line,
            column,
            message,
        }) => {
            let place = match column.as_deref().map(split_column) {
                Some((number, name)) => format!("{}{name}", cell_name(sheet, *line, number)),
                None => cell_name(sheet, *line, 0),
            };
            format!("{prefix}{place}: {message}")
        }
        LoadError::Studies { issues, unlisted } => {
            let count = issues.len() + unlisted;
            let mut out = format!(
                "{prefix}{count} bad record{}:",
                if count == 1 { "" } else { "s" }
            );
            for issue in issues {
                out.push_str("\n  ");
                out.push_str(&prefix);
                out.push_str(&issue_in_sheet(sheet, issue));
            }
            if *unlisted > 0 {
                out.push_str(&format!("\n  ... and {unlisted} more"));
            }
            out
        }
        other => match file {
            Some(file) => other.in_file(file),
            None => other.to_string(),
        },
    }
}

/// `Sheet1!C7 (vi): study 'A' (record 3): ...`.
fn issue_in_sheet(sheet: &str, issue: &StudyIssue) -> String {
    let unplaced = StudyIssue {
        position: None,
        ..issue.clone()
    }
    .to_string();
    match issue.position {
        Some(position) => {
            let name = match issue.field {
                Some(field) if position.column > 0 => format!(" ({field})"),
                _ => String::new(),
            };
            format!(
                "{}{name}: {unplaced}",
                cell_name(sheet, position.line, position.column)
            )
        }
        None => unplaced,
    }
}

/// `"3 (vi)"` → (3, `" (vi)"`); a column without a number → (0, "").
fn split_column(column: &str) -> (usize, String) {
    let (number, rest) = column.split_once(' ').unwrap_or((column, ""));
    match number.parse() {
        Ok(n) if rest.is_empty() => (n, String::new()),
        Ok(n) => (n, format!(" {rest}")),
        Err(_) => (0, String::new()),
    }
}
