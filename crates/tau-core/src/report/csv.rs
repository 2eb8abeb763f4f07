//! CSV views: one row per study.

use std::io::Write;

use crate::data::dataset::Dataset;
use crate::pool::PoolResult;

/// Writes the per-study table of a pooled result (study, yi, vi, sei,
/// ci_lower, ci_upper, weight in %) to `out`, a row at a time; `dataset` is
/// the data set that was pooled. An I/O error comes back as it was (so that a
/// closed pipe can be told from other failures).
pub fn write_pool_studies(
    out: impl Write,
    result: &PoolResult,
    dataset: &Dataset,
) -> std::io::Result<()> {
    write_rows(out, result, dataset).map_err(|e| {
        if !e.is_io_error() {
            return std::io::Error::other(e.to_string());
        }
        match e.into_kind() {
            csv::ErrorKind::Io(io) => io,
            other => std::io::Error::other(format!("{other:?}")),
        }
    })
}

fn write_rows(out: impl Write, result: &PoolResult, dataset: &Dataset) -> Result<(), csv::Error> {
    let mut writer = csv::Writer::from_writer(out);
    writer.write_record(["study", "yi", "vi", "sei", "ci_lower", "ci_upper", "weight"])?;
    let mut numbers: [String; 6] = Default::default();
    for row in result.rows(dataset) {
        let values = [
            row.yi,
            row.vi,
            row.sei,
            row.ci_lower,
            row.ci_upper,
            row.weight,
        ];
        for (cell, value) in numbers.iter_mut().zip(values) {
            cell.clear();
            // Shortest text that reads back as the same number (Rust's `Display`).
            let _ = std::fmt::Write::write_fmt(cell, format_args!("{value}"));
        }
        writer.write_field(row.study)?;
        writer.write_record(&numbers)?;
    }
    writer.flush()?;
    Ok(())
}
