//! Reading study records from a spreadsheet (`.xlsx`, `.ods`; also `.xls`
//! and `.xlsb`), from its bytes, with [calamine](https://docs.rs/calamine).
//!
//! A sheet is read with the CSV reader's rules, not a second set of them:
//! its cells are written out as comma-separated text, one line per sheet row,
//! and that text is read by [`super::csv::parse_csv_with`] (headers, field
//! names, moderators, the `# measure:` line, missing values). So line *n* of
//! the text is row *n* of the sheet and field *k* is column *k* (`A` = 1),
//! and every message about a line and field is shown as the cell it came
//! from: `Sheet1!C7`. To keep rows and lines aligned, a line break inside a
//! cell reads as a space.
//!
//! Cells become text as follows: numbers in Rust's shortest form that reads
//! back as the same double (a sheet gives exactly the numbers of the same
//! data typed in a CSV file), booleans as `true`/`false`, Excel's `#N/A` as a
//! missing value, other error cells (`#DIV/0!`) as written, so that a number
//! column refuses them by cell, and dates as Excel's day number. Rows above
//! the header whose first filled cell starts with `#` are comment lines; their
//! filled cells are joined with spaces, so `# measure:` in A1 and `SMD` in B1
//! name the measure.

use crate::fields::SHEET;
use std::io::Cursor;

use calamine::{Data, Reader};

use super::ReadError;

/// A sheet's cells as CSV text, and the sheet's name.
#[derive(Debug, Clone, PartialEq)]
pub struct SheetText {
    /// The name of the sheet read.
    pub sheet: String,
    /// The cells as comma-separated text, line *n* holding row *n*.
    pub text: String,
    /// The names of all the workbook's sheets, in order.
    pub sheets: Vec<String>,
}

/// Whether `bytes` look like a spreadsheet: a zip archive (`.xlsx`, `.ods`)
/// or an OLE compound file (`.xls`).
pub fn is_spreadsheet(bytes: &[u8]) -> bool {
    bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0])
}

/// Reads sheet `sheet` (the first sheet when `None`) of the workbook in
/// `bytes` as CSV text (see the module documentation).
pub fn sheet_text(bytes: &[u8], sheet: Option<&str>) -> Result<SheetText, ReadError> {
    let unreadable = |why: String| ReadError::Sheet {
        place: String::new(),
        message: format!(
            "this is not a spreadsheet tau can read ({why}); save it as .xlsx or .ods, or export the sheet as CSV UTF-8"
        ),
    };
    let mut workbook = calamine::open_workbook_auto_from_rs(Cursor::new(bytes))
        .map_err(|e| unreadable(e.to_string()))?;
    let names = workbook.sheet_names();
    let name = match sheet {
        Some(wanted) => names
            .iter()
            .find(|n| n.as_str() == wanted)
            .or_else(|| names.iter().find(|n| n.eq_ignore_ascii_case(wanted)))
            .cloned()
            .ok_or_else(|| ReadError::Sheet {
                place: String::new(),
                message: format!(
                    "the workbook has no sheet {}; its sheets are {}: pass one of them to {SHEET}",
                    super::quote_bounded(wanted),
                    super::list_bounded(&names)
                ),
            })?,
        None => names.first().cloned().ok_or_else(|| ReadError::Sheet {
            place: String::new(),
            message: "the workbook has no sheets".into(),
        })?,
    };
    let range = workbook
        .worksheet_range(&name)
        .map_err(|e| unreadable(e.to_string()))?;
    Ok(SheetText {
        text: range_text(&range),
        sheet: name,
        sheets: names,
    })
}

/// The cells of `range` as CSV text, line *n* holding row *n* of the sheet
/// and field *k* its column *k*, whatever cell the range starts at.
fn range_text(range: &calamine::Range<Data>) -> String {
    let Some((first_row, first_column)) = range.start() else {
        return String::new();
    };
    let mut text = String::new();
    // Rows above the range are empty: "#" lines keep the count without
    // ending the comments at the top.
    for _ in 0..first_row {
        text.push_str("#\n");
    }
    let lead = ",".repeat(first_column as usize);
    let mut header_seen = false;
    for row in range.rows() {
        let cells: Vec<String> = row.iter().map(cell_text).collect();
        let filled: Vec<&str> = cells
            .iter()
            .map(String::as_str)
            .filter(|c| !c.trim().is_empty())
            .collect();
        if !header_seen {
            match filled.first() {
                None => {
                    text.push_str("#\n");
                    continue;
                }
                Some(first) if first.trim_start().starts_with('#') => {
                    text.push_str(&filled.join(" "));
                    text.push('\n');
                    continue;
                }
                Some(_) => header_seen = true,
            }
        }
        text.push_str(&lead);
        let quoted: Vec<String> = cells.iter().map(|c| quote(c)).collect();
        text.push_str(&quoted.join(","));
        text.push('\n');
    }
    text
}

/// One cell as the CSV reader should see it.
fn cell_text(cell: &Data) -> String {
    match cell {
        Data::Empty => String::new(),
        Data::Float(x) => format!("{x}"),
        Data::Error(calamine::CellErrorType::NA) => "NA".into(),
        Data::String(s) => s.replace("\r\n", " ").replace(['\r', '\n'], " "),
        other => other.to_string(),
    }
}

/// A field in double quotes when it holds a comma, a quote or a line break.
fn quote(cell: &str) -> String {
    if cell.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", cell.replace('"', "\"\""))
    } else {
        cell.to_owned()
    }
}

/// The spreadsheet name of 1-based column `column`: 1 → `A`, 27 → `AA`.
pub fn column_letters(column: usize) -> String {
    let mut letters = Vec::new();
    let mut n = column;
    while n > 0 {
        let digit = (n - 1) % 26;
        letters.push(char::from(b'A' + digit as u8));
        n = (n - 1) / 26;
    }
    letters.iter().rev().collect()
}

/// The cell at 1-based `line` (row) and `column` of sheet `sheet`:
/// `Sheet1!C7`; the sheet name is quoted as Excel does when it holds other
/// characters than letters, digits and underscores (`'My data'!C7`).
pub fn cell_name(sheet: &str, line: usize, column: usize) -> String {
    let plain = sheet.chars().all(|c| c.is_alphanumeric() || c == '_');
    let sheet = if plain {
        sheet.to_owned()
    } else {
        format!("'{}'", sheet.replace('\'', "''"))
    };
    if column == 0 {
        format!("{sheet}!{line}:{line}")
    } else {
        format!("{sheet}!{}{line}", column_letters(column))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_letters_count_as_excel_does() {
        assert_eq!(column_letters(1), "A");
        assert_eq!(column_letters(26), "Z");
        assert_eq!(column_letters(27), "AA");
        assert_eq!(column_letters(703), "AAA");
        assert_eq!(cell_name("Sheet1", 7, 3), "Sheet1!C7");
        assert_eq!(cell_name("My data", 2, 1), "'My data'!A2");
        assert_eq!(cell_name("Sheet1", 4, 0), "Sheet1!4:4");
    }

    #[test]
    fn cells_become_csv_fields() {
        assert_eq!(cell_text(&Data::Float(0.1)), "0.1");
        assert_eq!(cell_text(&Data::Float(2001.0)), "2001");
        assert_eq!(cell_text(&Data::Int(-3)), "-3");
        assert_eq!(cell_text(&Data::Bool(true)), "true");
        assert_eq!(cell_text(&Data::Error(calamine::CellErrorType::NA)), "NA");
        assert_eq!(cell_text(&Data::String("a\nb".into())), "a b");
        assert_eq!(quote("a,b"), "\"a,b\"");
        assert_eq!(quote("say \"hi\""), "\"say \"\"hi\"\"\"");
    }

    #[test]
    fn not_a_workbook_is_refused() {
        let err = sheet_text(b"PK\x03\x04 not really", None).expect_err("not a workbook");
        assert!(err.to_string().contains("not a spreadsheet"), "{err}");
    }
}
