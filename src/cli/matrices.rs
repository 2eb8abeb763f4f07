//! `--vcov FILE.csv` and `--corr TERM=FILE.csv`: known matrices of a
//! multilevel model (metafor's `V` and `R`), read here so that the core
//! gets them as data.

use std::path::Path;

use tau_core::multilevel::general::KnownCorrelation;

use super::CliError;

fn open(path: &Path, flag: &str) -> Result<csv::Reader<std::fs::File>, CliError> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .trim(csv::Trim::All)
        .from_path(path)
        .map_err(|e| {
            CliError::Input(format!(
                "{flag} {}: cannot read the file: {e}",
                path.display()
            ))
        })
}

/// Reads a long CSV `study_i,study_j,cov` of sampling covariances.
pub fn read_vcov(path: &Path) -> Result<Vec<(String, String, f64)>, CliError> {
    let bad = |line: u64, why: String| {
        CliError::Input(format!("--vcov {}, line {line}: {why}", path.display()))
    };
    let mut reader = open(path, "--vcov")?;
    let mut out = Vec::new();
    for (n, record) in reader.records().enumerate() {
        let line = n as u64 + 1;
        let record = record.map_err(|e| bad(line, e.to_string()))?;
        let cells: Vec<&str> = record.iter().collect();
        if n == 0 {
            if cells != ["study_i", "study_j", "cov"] {
                return Err(bad(
                    line,
                    "the header must be study_i,study_j,cov (record labels and their sampling covariance)".into(),
                ));
            }
            continue;
        }
        let [a, b, c] = cells[..] else {
            return Err(bad(
                line,
                format!("3 cells expected, found {}", cells.len()),
            ));
        };
        let value: f64 = c
            .parse()
            .map_err(|_| bad(line, format!("the covariance {c:?} is not a number")))?;
        out.push((a.to_owned(), b.to_owned(), value));
    }
    Ok(out)
}

/// Reads `TERM=FILE.csv`: a square CSV with a header row of level names
/// (first cell empty) and each row's level name in the first column.
pub fn read_corr(text: &str) -> Result<KnownCorrelation, CliError> {
    let Some((term, file)) = text.split_once('=') else {
        return Err(CliError::Input(format!(
            "--corr {text:?}: write TERM=FILE.csv, e.g. --corr species=phylogeny.csv"
        )));
    };
    let path = Path::new(file.trim());
    let bad = |line: u64, why: String| {
        CliError::Input(format!("--corr {}, line {line}: {why}", path.display()))
    };
    let mut reader = open(path, "--corr")?;
    let mut levels: Vec<String> = Vec::new();
    let mut matrix = Vec::new();
    for (n, record) in reader.records().enumerate() {
        let line = n as u64 + 1;
        let record = record.map_err(|e| bad(line, e.to_string()))?;
        if n == 0 {
            levels = record.iter().skip(1).map(str::to_owned).collect();
            continue;
        }
        let name = record.get(0).unwrap_or_default();
        if levels.get(n - 1).map(String::as_str) != Some(name) {
            return Err(bad(
                line,
                format!(
                    "row {n} is labelled {name:?}: the rows must repeat the header's level names in the same order"
                ),
            ));
        }
        let row = record
            .iter()
            .skip(1)
            .map(|c| {
                c.parse::<f64>()
                    .map_err(|_| bad(line, format!("{c:?} is not a number")))
            })
            .collect::<Result<Vec<f64>, _>>()?;
        matrix.push(row);
    }
    Ok(KnownCorrelation {
        term: term.trim().to_owned(),
        levels,
        matrix,
    })
}
