//! Turning the bytes of a study file into a data set: a spreadsheet
//! (`.xlsx`, `.ods`, `.xls`, `.xlsb`, or a zip/OLE file on standard input)
//! by its sheet, CSV text in UTF-8, UTF-16 or Windows-1252, or JSON text.

use tau_core::Kinded;
use tau_core::data::dataset::{self, Dataset, LoadOptions};
use tau_core::data::spreadsheet::load_sheet_with;
use tau_core::input::encoding;
use tau_core::input::sheet::is_spreadsheet;

use super::CliError;
use super::output::note;

/// The extensions read as spreadsheets.
const SHEET_EXTENSIONS: [&str; 6] = ["xlsx", "xlsm", "xls", "xlsb", "ods", "fods"];

/// How the file was read: its format name for provenance.
pub fn format_name(data: &Dataset) -> &'static str {
    match &data.csv {
        Some(info) if info.sheet.is_some() => "spreadsheet",
        Some(_) => "csv",
        None => "json",
    }
}

/// Reads `bytes`, the contents of the file `name` with extension
/// `extension`, into a data set. `sheet` picks a spreadsheet's sheet.
pub fn load(
    bytes: &[u8],
    name: &str,
    extension: Option<&str>,
    sheet: Option<&str>,
    outcome: Option<&str>,
    options: &LoadOptions,
) -> Result<Dataset, CliError> {
    let in_file = |e: dataset::LoadError| CliError::of_kind(e.kind(), e.in_file(name));
    let spreadsheet = match extension {
        Some(ext) if SHEET_EXTENSIONS.contains(&ext) => true,
        Some("csv" | "json" | "tsv" | "txt") => false,
        _ => is_spreadsheet(bytes),
    };
    if spreadsheet {
        if options.csv.separator.is_some() || options.csv.decimal.is_some() {
            return Err(CliError::Input(format!(
                "{name}: --sep and --decimal are for CSV files; a spreadsheet's cells need neither: leave them out"
            )));
        }
        let data = load_sheet_with(bytes, sheet, options).map_err(in_file)?;
        if let Some(sheet) = data.csv.as_ref().and_then(|c| c.sheet.as_deref()) {
            note(&format!("{name}: read sheet '{sheet}'"));
        }
        return Ok(data);
    }
    if let Some(sheet) = sheet {
        return Err(CliError::Input(format!(
            "{name}: --sheet {sheet:?} picks a sheet of a spreadsheet (.xlsx, .ods), but this file is text; leave out --sheet"
        )));
    }
    if extension == Some("rm5") {
        return load_revman(bytes, name, outcome, options);
    }
    if let Some(outcome) = outcome {
        return Err(CliError::Input(format!(
            "{name}: --outcome {outcome:?} picks an outcome of a RevMan 5 review (.rm5); leave it out for this file, or use --filter"
        )));
    }
    let is_json_name = extension == Some("json");
    let (text, encoding) = encoding::decode(bytes, !is_json_name).map_err(|(line, byte)| {
        CliError::Input(format!(
            "{name}:{line}: the file is not valid UTF-8 text (byte {byte}); save it as UTF-8 (JSON is always UTF-8)"
        ))
    })?;
    let is_csv = match extension {
        Some("csv" | "tsv" | "txt") => true,
        Some("json") => false,
        _ => !text
            .trim_start_matches('\u{feff}')
            .trim_start()
            .starts_with(['{', '[']),
    };
    if !is_csv && !options.csv.columns.is_empty() {
        return Err(CliError::Input(format!(
            "{name}: --columns names the columns of a CSV file or spreadsheet; a JSON file names its fields itself: rename the keys instead"
        )));
    }
    if !is_csv && encoding == Some("Windows-1252") {
        return Err(CliError::Input(format!(
            "{name}: the file is not valid UTF-8 text; save it as UTF-8 (JSON is always UTF-8)"
        )));
    }
    let mut data = if is_csv {
        dataset::load_csv_with(&text, options)
    } else {
        dataset::load_json_with(&text, options)
    }
    .map_err(in_file)?;
    if let Some(encoding) = encoding {
        note(&format!(
            "{name}: read as {encoding} text (not UTF-8); check that accented letters came out right, or save the file as UTF-8 (in Excel: CSV UTF-8)"
        ));
        if let Some(info) = &mut data.csv {
            info.encoding = Some(encoding);
        }
    }
    Ok(data)
}

/// A RevMan 5 review: the outcome `outcome` picks, or all of them (with a note
/// listing them when there are several).
fn load_revman(
    bytes: &[u8],
    name: &str,
    outcome: Option<&str>,
    options: &LoadOptions,
) -> Result<Dataset, CliError> {
    let (text, _) = encoding::decode(bytes, false).map_err(|(line, byte)| {
        CliError::Input(format!(
            "{name}:{line}: the file is not valid UTF-8 text (byte {byte}); export the review from RevMan 5 again"
        ))
    })?;
    let (data, outcomes) = tau_core::data::revman::load_revman_with(&text, outcome, options)
        .map_err(|e| CliError::of_kind(e.kind(), e.in_file(name)))?;
    let with_data: Vec<String> = outcomes
        .iter()
        .filter(|o| o.records > 0)
        .map(|o| o.describe())
        .collect();
    if outcome.is_none() && with_data.len() > 1 {
        note(&format!(
            "{name}: read {} outcomes together (moderator outcome): {}; pick one with --outcome NUMBER",
            with_data.len(),
            tau_core::input::list_bounded(&with_data)
        ));
    }
    Ok(data)
}
