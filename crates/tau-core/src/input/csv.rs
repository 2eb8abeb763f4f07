//! Reading study records from CSV. Columns named like record fields fill those
//! fields; `study` is the label; a `measure` column names the measure; every
//! other column is a moderator. An empty cell, or `NA` as R writes it, is a
//! missing value. A column without a name is ignored as long as all its cells
//! are empty (spreadsheets often add one).
//!
//! The dialect is found from the text unless given: the separator is the one
//! of `,`, `;` and tab that the header line uses most (a comma on a tie), and
//! a file not separated by commas may write decimals with a comma (as Excel
//! does in most of Europe): it does when any cell is a number such as `12,5`.
//! Header names that differ from a field's name only in case, spaces,
//! underscores, hyphens or points (`N1`, `n_1`, `SD 1`, `CI lower`), or that
//! say `mean` for `m` (`Mean 1`), are read as that field and reported in
//! [`CsvInfo::renamed`]. One-letter fields (`n`, `r`, `t`) are matched
//! exactly, so that a moderator `T` is never read as a t statistic.
//!
//! Leading lines that start with `#` are comments; `# measure: SMD` in them
//! names the measure and `# title: ...` the title.

use serde::Serialize;

use super::{
    Interner, Moderator, Moderators, NUMERIC_FIELDS, Name, ReadError, Record, StudyFile,
    locate::SourceMap,
};
use crate::fields::{DECIMAL, MEASURE, SEP};

/// How to read a CSV file; `None` means: find it from the text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CsvOptions {
    /// The cell separator: `,`, `;` or `\t`.
    pub separator: Option<u8>,
    /// The decimal mark: `.` or `,`.
    pub decimal: Option<char>,
    /// Which column holds which field, (field, header), as `--columns`
    /// gives them (see [`super::columns`]).
    pub columns: Vec<(String, String)>,
}

/// What the reader found out about a CSV file, for notes and provenance.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CsvInfo {
    /// The cell separator read (`","`, `";"` or `"\t"`).
    pub separator: String,
    /// The decimal mark read (`"."` or `","`).
    pub decimal: String,
    /// Header names read as a record field of another spelling: (header, field).
    pub renamed: Vec<(String, String)>,
    /// The columns read as moderators, in file order.
    pub moderator_columns: Vec<String>,
    /// Where the file's measure came from: `"comment"`, `"column"`, or none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub measure_from: Option<&'static str>,
    /// The sheet read, for a spreadsheet.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sheet: Option<String>,
    /// The text encoding, when not UTF-8 (`"Windows-1252"`, `"UTF-16LE"`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encoding: Option<&'static str>,
}

impl CsvInfo {
    /// "`;`-separated with decimal commas" and the like.
    pub fn dialect(&self) -> String {
        let separator = match self.separator.as_str() {
            "\t" => "tab",
            other => other,
        };
        let decimal = if self.decimal == "," {
            "decimal commas"
        } else {
            "decimal points"
        };
        format!("'{separator}'-separated, {decimal}")
    }

    /// Whether the file is not the plain comma-and-point dialect.
    pub fn is_unusual(&self) -> bool {
        self.separator != "," || self.decimal != "."
    }
}

/// Parses CSV text into a study file and a map from records back to lines,
/// finding the dialect from the text.
pub fn parse_csv(text: &str) -> Result<(StudyFile, SourceMap<'static>), ReadError> {
    parse_csv_with(text, CsvOptions::default()).map(|(file, map, _)| (file, map))
}

/// Parses CSV text read with `options` into a study file, a map from records
/// back to lines, and what was found out about the file.
pub fn parse_csv_with(
    text: &str,
    options: CsvOptions,
) -> Result<(StudyFile, SourceMap<'static>, CsvInfo), ReadError> {
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
    // Old Mac line ends (CR only): the csv reader splits the rows but lines
    // are counted by LF, so every line number would be 1.
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
    let (comments, body, skipped) = split_comments(text);
    let separator = options.separator.unwrap_or_else(|| detect_separator(body));
    let body = &*super::tidy::blank_separator_rows(body, separator);
    let lines = LineCounter::new(body, skipped, separator);
    let builder = || {
        let mut builder = csv::ReaderBuilder::new();
        builder
            .trim(csv::Trim::All)
            .delimiter(separator)
            .flexible(false);
        builder
    };
    let mut reader = builder().from_reader(body.as_bytes());
    let raw_headers: Vec<String> = reader
        .headers()
        .map_err(|e| csv_error(&e, &lines, None))?
        .iter()
        .map(header_name)
        .collect();
    let (mut headers, mut renamed) = canonical_headers(&raw_headers);
    super::columns::apply(
        &options.columns,
        comments.columns.as_deref(),
        &raw_headers,
        &mut headers,
        &mut renamed,
    )
    .map_err(|message| ReadError::Csv {
        line: lines.first(),
        column: None,
        message,
    })?;
    check_headers(&headers, &raw_headers, lines.first())?;
    let Some(study_column) = headers.iter().position(|h| h == "study") else {
        let remedy = match options.separator {
            Some(given) if raw_headers.len() == 1 && detect_separator(body) != given => {
                let found = separator_name(detect_separator(body));
                format!(
                    "{SEP} {} was given, but the header is separated by {found}: pass {SEP} {found}, or leave out {SEP} to find the separator from the header",
                    separator_name(given)
                )
            }
            _ if raw_headers.len() == 1 => {
                "the header holds a single column: separate the columns with ',', ';' or tab, and name one of them study".to_owned()
            }
            _ => "add one with a label per study".to_owned(),
        };
        return Err(ReadError::Csv {
            line: lines.first(),
            column: None,
            message: format!(
                "no \"study\" column in the header ({}); {remedy}",
                super::list_bounded(&raw_headers)
            ),
        });
    };
    let measure_column = headers.iter().position(|h| h == "measure");
    let rows: Vec<csv::StringRecord> = reader
        .records()
        .collect::<Result<_, _>>()
        .map_err(|e| csv_error(&e, &lines, None))?;
    let decimal = match options.decimal {
        Some(mark) => mark,
        None if separator != b','
            && rows.iter().any(|row| {
                row.iter()
                    .enumerate()
                    .any(|(i, cell)| i != study_column && is_decimal_comma(cell))
            }) =>
        {
            ','
        }
        None => '.',
    };
    let mut studies = Vec::new();
    let mut record_lines = Vec::new();
    let mut out_of_range = Vec::new();
    let mut interner = Interner::default();
    let names: Vec<Name> = raw_headers.iter().map(|h| interner.name(h)).collect();
    let (mut moderators, mut previous) = (Vec::new(), Moderators::new());
    let mut file_measure: Option<(String, usize)> = comments.measure.clone().map(|m| (m, 0));
    for row in &rows {
        let line = lines.line_of(row);
        let mut record = Record::default();
        for (column, (header, cell)) in headers.iter().zip(row.iter()).enumerate() {
            let at = || {
                Some(format!(
                    "{} ({})",
                    column + 1,
                    super::bounded(&raw_headers[column])
                ))
            };
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
            if Some(column) == measure_column {
                if is_missing(cell) {
                    continue;
                }
                match &file_measure {
                    Some((first, first_line)) if !first.eq_ignore_ascii_case(cell) => {
                        let since = if *first_line == 0 {
                            "the comment at the top".to_owned()
                        } else {
                            format!("line {first_line}")
                        };
                        return Err(ReadError::Csv {
                            line,
                            column: at(),
                            message: format!(
                                "the measure is {cell:?} here but {first:?} since {since}; one file holds one measure: split the file, or pass {MEASURE}"
                            ),
                        });
                    }
                    Some(_) => {}
                    None => file_measure = Some((cell.to_owned(), line)),
                }
                continue;
            }
            if header == "reverse" {
                record.reverse = cell_flag(cell).ok_or_else(|| ReadError::Csv {
                    line,
                    column: at(),
                    message: bad_flag(cell),
                })?;
                continue;
            }
            if let Some(slot) = record.numeric_field_mut(header) {
                if !is_missing(cell) {
                    let number = parse_number(cell, decimal).ok_or_else(|| ReadError::Csv {
                        line,
                        column: at(),
                        message: bad_number(cell, decimal, separator, options.decimal.is_some()),
                    })?;
                    if super::locate::out_of_range(cell, number) {
                        out_of_range.push((studies.len(), header.clone(), cell.to_owned()));
                    }
                    *slot = Some(number);
                }
            } else {
                moderators.push((
                    names[column].clone(),
                    moderator_value(cell, decimal, &mut interner),
                ));
            }
        }
        record.moderators = Moderators::take_from(&mut moderators, &mut previous);
        if record.study.is_empty() {
            return Err(ReadError::Csv {
                line,
                column: Some(format!(
                    "{} ({})",
                    study_column + 1,
                    raw_headers[study_column]
                )),
                message: "the study label is empty; every row needs a label".into(),
            });
        }
        studies.push(record);
        record_lines.push(line);
    }
    if studies.is_empty() {
        return Err(ReadError::Empty);
    }
    check_effect_columns(&headers, &studies)?;
    let measure_from = match (&comments.measure, measure_column) {
        (Some(_), _) => Some("comment"),
        (None, Some(_)) if file_measure.is_some() => Some("column"),
        _ => None,
    };
    let moderator_columns = headers
        .iter()
        .zip(&raw_headers)
        .enumerate()
        .filter(|(i, (h, _))| {
            !h.is_empty()
                && *i != study_column
                && Some(*i) != measure_column
                && h.as_str() != "reverse"
                && !NUMERIC_FIELDS.contains(&h.as_str())
        })
        .map(|(_, (_, raw))| raw.clone())
        .collect();
    let info = CsvInfo {
        separator: char::from(separator).to_string(),
        decimal: decimal.to_string(),
        renamed,
        moderator_columns,
        measure_from,
        ..CsvInfo::default()
    };
    Ok((
        StudyFile {
            studies,
            title: comments.title,
            measure: file_measure.map(|(m, _)| m),
            ..StudyFile::default()
        },
        SourceMap::Csv {
            lines: record_lines,
            headers,
            out_of_range,
        },
        info,
    ))
}

/// A header cell as a name: spaces around it, and quotes that the csv
/// reader kept because a space came before them (`"study", " yi "` reads
/// the second cell as `" yi "`, quotes included), are taken off.
fn header_name(cell: &str) -> String {
    let cell = cell.trim();
    cell.strip_prefix('"')
        .and_then(|inner| inner.strip_suffix('"'))
        .unwrap_or(cell)
        .trim()
        .to_owned()
}

/// What the leading `#` lines say.
#[derive(Debug, Default)]
struct Comments {
    measure: Option<String>,
    title: Option<String>,
    /// The `# columns:` line (see [`super::columns`]).
    columns: Option<String>,
}

/// Splits off the leading comment lines: what they say, the rest of the
/// text, and how many lines they took.
fn split_comments(text: &str) -> (Comments, &str, usize) {
    let mut comments = Comments::default();
    let mut rest = text;
    let mut skipped = 0;
    while let Some(content) = super::tidy::comment_content(rest) {
        let (_, after) = rest.split_once('\n').unwrap_or((rest, ""));
        if let Some((key, value)) = content.split_once(':') {
            let value = super::tidy::comment_value(value.trim()).to_owned();
            match key.trim().to_ascii_lowercase().as_str() {
                "measure" if !value.is_empty() => comments.measure = Some(value),
                "title" if !value.is_empty() => comments.title = Some(value),
                "columns" if !value.is_empty() => comments.columns = Some(value),
                _ => {}
            }
        }
        rest = after;
        skipped += 1;
    }
    (comments, rest, skipped)
}

/// The separator the header line uses most of `,`, `;` and tab (outside
/// quotes); a comma on a tie or when it uses none.
pub(crate) fn detect_separator(body: &str) -> u8 {
    let header = body.lines().next().unwrap_or("");
    let (mut counts, mut quoted) = ([0usize; 3], false);
    for byte in header.bytes() {
        match byte {
            b'"' => quoted = !quoted,
            b',' if !quoted => counts[0] += 1,
            b';' if !quoted => counts[1] += 1,
            b'\t' if !quoted => counts[2] += 1,
            _ => {}
        }
    }
    let [comma, semicolon, tab] = counts;
    if semicolon > comma && semicolon >= tab {
        b';'
    } else if tab > comma && tab > semicolon {
        b'\t'
    } else {
        b','
    }
}

/// Line numbers of records, counted from byte offsets: the csv crate's own
/// line count is one too low after `\r\n` line ends.
struct LineCounter<'a> {
    body: &'a [u8],
    /// Lines before `body` (comments).
    skipped: usize,
    /// The separator, for messages.
    separator: u8,
    /// The last offset asked for and the line ends before it: records come
    /// in order, so counting resumes there (counting from the start for
    /// every record made reading 10⁵ rows take minutes).
    counted: std::cell::Cell<(usize, usize)>,
}

impl<'a> LineCounter<'a> {
    fn new(body: &'a str, skipped: usize, separator: u8) -> LineCounter<'a> {
        LineCounter {
            body: body.as_bytes(),
            skipped,
            separator,
            counted: std::cell::Cell::new((0, 0)),
        }
    }

    /// The line of the header.
    fn first(&self) -> usize {
        self.skipped + 1
    }

    /// The 1-based line of the record that starts at byte `offset` of the
    /// body. After `\r\n` the csv crate reports a record as starting at the
    /// `\n`, so line ends (and skipped blank lines) are stepped over first.
    fn at(&self, offset: usize) -> usize {
        let mut offset = offset.min(self.body.len());
        while matches!(self.body.get(offset), Some(b'\r' | b'\n')) {
            offset += 1;
        }
        let (mut from, mut newlines) = self.counted.get();
        if offset < from {
            (from, newlines) = (0, 0);
        }
        newlines += memchr::memchr_iter(b'\n', &self.body[from..offset]).count();
        self.counted.set((offset, newlines));
        self.skipped + newlines + 1
    }

    fn line_of(&self, row: &csv::StringRecord) -> usize {
        row.position().map_or(0, |p| self.at(p.byte() as usize))
    }
}

/// Maps header names to record fields: exact names first, then spellings that
/// differ in case, spaces, underscores, hyphens or points, or say `mean` for
/// `m` (`Mean 1`, `mean_pre`). Returns the canonical names (a header that matches nothing is kept as
/// written) and the headers that were renamed.
fn canonical_headers(raw: &[String]) -> (Vec<String>, Vec<(String, String)>) {
    let exact =
        |h: &str| h == "study" || h == "measure" || h == "reverse" || NUMERIC_FIELDS.contains(&h);
    let mut renamed = Vec::new();
    let headers = raw
        .iter()
        .map(|header| {
            if exact(header) {
                return header.clone();
            }
            // Two spellings of one field are caught by the duplicate-name check.
            match variant_of(header) {
                Some(field) => {
                    renamed.push((header.clone(), field.to_owned()));
                    field.to_owned()
                }
                None => header.clone(),
            }
        })
        .collect();
    (headers, renamed)
}

/// The field a header is a spelling of, if any. Cheap for the long names of
/// wide sheets: one short string per header, none for the fields.
fn variant_of(header: &str) -> Option<&'static str> {
    if header.len() > 24 {
        return None;
    }
    let key: String = header
        .chars()
        .filter(|c| !matches!(c, ' ' | '_' | '-' | '.'))
        .flat_map(char::to_lowercase)
        .collect();
    let key = match key.strip_prefix("mean") {
        Some(group @ ("1" | "2" | "pre" | "post")) => format!("m{group}"),
        _ => key,
    };
    ["study", "measure"]
        .into_iter()
        .chain(NUMERIC_FIELDS)
        .filter(|field| field.len() > 1)
        .find(|field| key.chars().eq(field.chars().filter(|c| *c != '_')))
}

/// Rejects a header that names a column twice, after renaming (a hash map:
/// headers of hundreds of thousands of columns are checked in linear time).
fn check_headers(headers: &[String], raw: &[String], line: usize) -> Result<(), ReadError> {
    let mut seen = std::collections::HashMap::with_capacity(headers.len());
    for (second, name) in headers.iter().enumerate() {
        if name.is_empty() {
            continue;
        }
        if let Some(first) = seen.insert(name.as_str(), second) {
            let message = if raw[first] == raw[second] {
                format!(
                    "the header names {} twice (columns {} and {}); give each column its own name",
                    super::quote_bounded(name),
                    first + 1,
                    second + 1
                )
            } else {
                format!(
                    "columns {} ({}) and {} ({}) both read as the field {name:?}; rename or remove one",
                    first + 1,
                    super::quote_bounded(&raw[first]),
                    second + 1,
                    super::quote_bounded(&raw[second])
                )
            };
            return Err(ReadError::Csv {
                line,
                column: Some(format!("{} ({})", second + 1, super::bounded(&raw[second]))),
                message,
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

/// A separator as messages name it: `','`, `';'` or tab.
pub(crate) fn separator_name(separator: u8) -> &'static str {
    match separator {
        b';' => "';'",
        b'\t' => "tab",
        _ => "','",
    }
}

/// An empty cell, or R's `NA` or `NaN`.
fn is_missing(cell: &str) -> bool {
    cell.is_empty() || cell.eq_ignore_ascii_case("na") || cell.eq_ignore_ascii_case("nan")
}

/// Whether a cell is a number written with a decimal comma, such as `12,5` or `-0,35`.
pub fn is_decimal_comma(cell: &str) -> bool {
    let digits = cell.strip_prefix(['-', '+']).unwrap_or(cell);
    match digits.split_once(',') {
        Some((whole, fraction)) => {
            whole.bytes().all(|b| b.is_ascii_digit())
                && !fraction.is_empty()
                && fraction.bytes().all(|b| b.is_ascii_digit())
        }
        None => false,
    }
}

/// A cell as a number under decimal mark `decimal`; with a decimal comma, a
/// point is refused (it may be a thousands separator).
fn parse_number(cell: &str, decimal: char) -> Option<f64> {
    if decimal == ',' {
        if cell.contains('.') {
            return None;
        }
        cell.replacen(',', ".", 1).parse().ok()
    } else {
        cell.parse().ok()
    }
}

/// Why `cell` is no number, read with the `decimal` mark in a file separated
/// by `separator`; `decimal_given` says whether `--decimal` chose the mark.
fn bad_number(cell: &str, decimal: char, separator: u8, decimal_given: bool) -> String {
    if decimal == ',' && decimal_given {
        format!(
            "expected a number, found {}; this file writes decimals with a comma ({DECIMAL} ,), so write numbers such as 12 or 0,35 (no point, no thousands separators), leave the cell empty if unknown, or leave out {DECIMAL} if the file uses points",
            super::quote_bounded(cell)
        )
    } else if decimal == ',' {
        format!(
            "expected a number, found {}; this file writes decimals with a comma, so write numbers such as 12 or 0,35 (no point, no thousands separators), leave the cell empty if unknown, or pass {DECIMAL} . if the file uses points",
            super::quote_bounded(cell)
        )
    } else if is_decimal_comma(cell) && separator != b',' {
        format!(
            "expected a number, found {}, which has a decimal comma; {DECIMAL} . reads decimal points: leave out {DECIMAL} (or pass {DECIMAL} ,) to read decimal commas in this {}-separated file",
            super::quote_bounded(cell),
            separator_name(separator)
        )
    } else if is_decimal_comma(cell) {
        format!(
            "expected a number, found {}, which has a decimal comma; in a comma-separated file write 0.35, or save the file with ';' separators (Excel in most of Europe does) so that decimal commas are read",
            super::quote_bounded(cell)
        )
    } else {
        format!(
            "expected a number, found {}; write plain numbers such as 12 or 0.35 (a point as decimal mark, no thousands separators), and leave the cell empty if unknown",
            super::quote_bounded(cell)
        )
    }
}

/// A cell becomes a number if it parses as one, a boolean for true/false, a category otherwise.
fn moderator_value(cell: &str, decimal: char, interner: &mut Interner) -> Moderator {
    if is_missing(cell) {
        Moderator::Missing
    } else if let Some(number) = parse_number(cell, decimal)
        && number.is_finite()
    {
        Moderator::Number(number)
    } else if cell.eq_ignore_ascii_case("true") || cell.eq_ignore_ascii_case("false") {
        Moderator::Bool(cell.eq_ignore_ascii_case("true"))
    } else {
        Moderator::Text(interner.intern(cell))
    }
}

fn csv_error(error: &csv::Error, lines: &LineCounter<'_>, column: Option<String>) -> ReadError {
    let line = error
        .position()
        .map_or(lines.first(), |p| lines.at(p.byte() as usize));
    let message = match error.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!(
            "this row has {len} fields but the header has {expected_len}; check for a missing or extra {sep}, or quote cells that contain one",
            sep = match lines.separator {
                b';' => "semicolon",
                b'\t' => "tab",
                _ => "comma",
            }
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

    #[test]
    fn crlf_lines_are_counted_once() {
        let err = parse_csv("study,yi,vi\r\nA,0.1,0.01\r\nB,0.2,abc\r\n").expect_err("bad");
        assert!(err.to_string().starts_with("line 3,"), "{err}");
    }

    #[test]
    fn semicolons_and_decimal_commas_are_found() {
        let (file, _, info) = parse_csv_with(
            "# measure: GEN\nstudy;yi;vi;hours\nA;0,1;0,01;12,5\nB;-1;1;3\n",
            CsvOptions::default(),
        )
        .expect("valid");
        assert_eq!((info.separator.as_str(), info.decimal.as_str()), (";", ","));
        assert_eq!(file.measure.as_deref(), Some("GEN"));
        assert_eq!(file.studies[0].yi, Some(0.1));
        assert_eq!(file.studies[1].yi, Some(-1.0));
        assert_eq!(file.studies[0].moderators["hours"], Moderator::Number(12.5));
        assert_eq!(info.moderator_columns, ["hours"]);
    }

    #[test]
    fn header_variants_map_to_fields() {
        let (file, _, info) = parse_csv_with(
            "Study,N1,Mean 1,SD_1,n_2,mean2,sd 2,Mean T\nA,10,1,1,10,0,1,5\n",
            CsvOptions::default(),
        )
        .expect("valid");
        let record = &file.studies[0];
        assert_eq!(
            (record.n1, record.m1, record.sd1, record.n2, record.m2),
            (Some(10.0), Some(1.0), Some(1.0), Some(10.0), Some(0.0))
        );
        assert_eq!(info.renamed.len(), 7);
        assert_eq!(info.moderator_columns, ["Mean T"]);
        let err = parse_csv("study,T,t\nA,1,2\n");
        assert!(err.is_ok(), "T is a moderator, t the statistic");
        let err = parse_csv("study,sd1,SD1\nA,1,2\n").expect_err("two sd1");
        assert!(err.to_string().contains("\"SD1\""), "{err}");
    }

    #[test]
    fn pre_post_headers_map_to_fields() {
        let (file, _, info) = parse_csv_with(
            "study,Mean pre,Mean_Post,SD pre,sd-post,N,r,M,SD
A,1,2,3,4,20,0.5,7,8
",
            CsvOptions::default(),
        )
        .expect("valid");
        let record = &file.studies[0];
        assert_eq!(
            (record.m_pre, record.m_post, record.sd_pre, record.sd_post),
            (Some(1.0), Some(2.0), Some(3.0), Some(4.0))
        );
        // One-letter fields are matched exactly: `M` stays a moderator.
        assert_eq!((record.m, record.sd), (None, Some(8.0)));
        assert_eq!(info.moderator_columns, ["N", "M"]);
    }

    #[test]
    fn a_measure_column_must_hold_one_measure() {
        let (file, _, _) = parse_csv_with(
            "study,measure,yi,vi\nA,GEN,1,1\nB,,1,1\n",
            CsvOptions::default(),
        )
        .expect("valid");
        assert_eq!(file.measure.as_deref(), Some("GEN"));
        let err = parse_csv("study,measure,yi,vi\nA,GEN,1,1\nB,SMD,1,1\n").expect_err("two");
        assert!(err.to_string().contains("since line 2"), "{err}");
    }

    #[test]
    fn decimal_comma_detection() {
        assert!(is_decimal_comma("12,5") && is_decimal_comma("-0,35"));
        assert!(!is_decimal_comma("12") && !is_decimal_comma("a,b") && !is_decimal_comma("1,"));
    }
}

/// A `reverse` cell as a flag: true/false, yes/no, 1/0 (any case); empty
/// or `NA` is false. `None` for anything else.
fn cell_flag(cell: &str) -> Option<bool> {
    match cell.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" | "1" | "y" => Some(true),
        "false" | "no" | "0" | "n" | "" | "na" => Some(false),
        _ => None,
    }
}

/// The message for a `reverse` cell that is no flag.
fn bad_flag(cell: &str) -> String {
    format!(
        "reverse must be true or false (or yes/no, 1/0), found {}; write true where lower is better, leave the cell empty otherwise",
        super::quote_bounded(cell)
    )
}

#[cfg(test)]
mod reverse_flag_tests {
    use super::{bad_flag, cell_flag};

    #[test]
    fn flags_are_read_and_refused() {
        assert_eq!(cell_flag("TRUE"), Some(true));
        assert_eq!(cell_flag("yes"), Some(true));
        assert_eq!(cell_flag(""), Some(false));
        assert_eq!(cell_flag("0"), Some(false));
        assert_eq!(cell_flag("maybe"), None);
        assert!(bad_flag("maybe").contains("\"maybe\""));
    }
}
