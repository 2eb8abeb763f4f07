//! CSV views: one row per study (per level, coefficient, method).

use std::io::Write;

use crate::bias::BiasResult;
use crate::bias::selection::SelectionModel;
use crate::data::dataset::Dataset;
use crate::pool::PoolResult;
use crate::pool_tables::TablesResult;
use crate::regression::RegressionResult;
use crate::report::PoolReport;
use crate::sensitivity::baujat::Baujat;
use crate::sensitivity::cumulative::Cumulative;
use crate::sensitivity::influence::Influence;
use crate::sensitivity::leave_one_out::{LeaveOneOut, TablesLeaveOneOut};
use crate::simulate::SimulationResult;
use crate::subgroup::SubgroupResult;

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
        // The label as written: a line break is quoted, not replaced.
        writer.write_field(dataset.label_as_written(row.study))?;
        writer.write_record(&numbers)?;
    }
    writer.flush()?;
    Ok(())
}

/// The CSV view of a result: its table, a row per study (or per level,
/// coefficient, method).
pub trait CsvView {
    /// Writes the table; a result without one says so (`ErrorKind::Unsupported`).
    fn write_csv(&self, out: &mut dyn Write) -> std::io::Result<()>;
}

/// Writes a table made in memory by a per-result module.
fn put(out: &mut dyn Write, table: Result<String, csv::Error>) -> std::io::Result<()> {
    let table = table.map_err(|e| std::io::Error::other(e.to_string()))?;
    out.write_all(table.as_bytes())
}

/// The error of a result without a table.
fn no_table(what: &str) -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::Unsupported,
        format!("{what} has no per-study table: use text or JSON"),
    )
}

impl CsvView for crate::sensitivity::moderator_test::ModeratorLeaveOneOut {
    fn write_csv(&self, out: &mut dyn Write) -> std::io::Result<()> {
        put(out, super::moderator_test::csv(self))
    }
}

impl CsvView for crate::regression::compare::Comparison {
    fn write_csv(&self, out: &mut dyn Write) -> std::io::Result<()> {
        put(out, super::compare::csv(self))
    }
}

impl CsvView for PoolReport<'_> {
    fn write_csv(&self, out: &mut dyn Write) -> std::io::Result<()> {
        if let Some(blups) = &self.result.blups {
            return put(out, super::predict::blups_csv(blups));
        }
        write_pool_studies(out, self.result, self.data)
    }
}

impl<M: ?Sized> CsvView for super::RobustReport<'_, M> {
    fn write_csv(&self, out: &mut dyn Write) -> std::io::Result<()> {
        put(out, super::robust::csv(self.robust))
    }
}

impl CsvView for TablesResult {
    fn write_csv(&self, out: &mut dyn Write) -> std::io::Result<()> {
        let table = (|| -> Result<String, csv::Error> {
            let mut writer = csv::Writer::from_writer(Vec::new());
            writer.write_record(["study", "yi", "vi", "sei", "ci_lower", "ci_upper", "weight"])?;
            for row in &self.studies {
                let values = [
                    row.yi,
                    row.vi,
                    row.sei,
                    row.ci_lower,
                    row.ci_upper,
                    row.weight,
                ];
                writer.write_field(&row.study)?;
                writer.write_record(values.map(|v| v.to_string()))?;
            }
            let bytes = writer.into_inner().map_err(|e| e.into_error())?;
            Ok(String::from_utf8_lossy(&bytes).into_owned())
        })();
        put(out, table)
    }
}

impl CsvView for SubgroupResult {
    fn write_csv(&self, out: &mut dyn Write) -> std::io::Result<()> {
        put(out, super::subgroup::csv(self))
    }
}

impl CsvView for crate::glmm::GlmmResult {
    fn write_csv(&self, out: &mut dyn Write) -> std::io::Result<()> {
        put(out, super::glmm::csv(self))
    }
}

impl CsvView for crate::glmm::moderators::GlmmRegression {
    fn write_csv(&self, out: &mut dyn Write) -> std::io::Result<()> {
        put(out, super::glmm::regression_csv(self))
    }
}

impl CsvView for crate::location_scale::LocationScaleResult {
    fn write_csv(&self, out: &mut dyn Write) -> std::io::Result<()> {
        put(out, super::location_scale::csv(self))
    }
}

impl CsvView for RegressionResult {
    fn write_csv(&self, out: &mut dyn Write) -> std::io::Result<()> {
        put(out, super::regression::csv(self))
    }
}

impl CsvView for crate::multilevel::MultilevelResult {
    fn write_csv(&self, out: &mut dyn Write) -> std::io::Result<()> {
        put(out, super::multilevel::csv(self))
    }
}

impl CsvView for crate::multilevel::MultilevelSubgroups {
    fn write_csv(&self, out: &mut dyn Write) -> std::io::Result<()> {
        put(out, super::multilevel::subgroups_csv(self))
    }
}

impl CsvView for BiasResult {
    fn write_csv(&self, _out: &mut dyn Write) -> std::io::Result<()> {
        Err(no_table("a bias analysis"))
    }
}

impl CsvView for SelectionModel {
    fn write_csv(&self, _out: &mut dyn Write) -> std::io::Result<()> {
        Err(no_table("a selection model"))
    }
}

impl CsvView for LeaveOneOut {
    fn write_csv(&self, out: &mut dyn Write) -> std::io::Result<()> {
        put(out, super::sensitivity::refit_csv(&self.studies))
    }
}

impl CsvView for TablesLeaveOneOut {
    fn write_csv(&self, out: &mut dyn Write) -> std::io::Result<()> {
        put(out, super::sensitivity::refit_csv(&self.studies))
    }
}

impl CsvView for crate::sensitivity::refits::Refits {
    fn write_csv(&self, out: &mut dyn Write) -> std::io::Result<()> {
        let rows: Vec<_> = self.overall.iter().chain(&self.studies).cloned().collect();
        put(out, super::sensitivity::refit_csv(&rows))
    }
}

impl CsvView for Cumulative {
    fn write_csv(&self, out: &mut dyn Write) -> std::io::Result<()> {
        put(out, super::sensitivity::refit_csv(&self.studies))
    }
}

impl CsvView for Influence {
    fn write_csv(&self, out: &mut dyn Write) -> std::io::Result<()> {
        put(out, super::sensitivity::influence_csv(self))
    }
}

impl CsvView for Baujat {
    fn write_csv(&self, _out: &mut dyn Write) -> std::io::Result<()> {
        Err(no_table("a Baujat analysis"))
    }
}

impl CsvView for crate::robust::RhoSensitivity {
    fn write_csv(&self, out: &mut dyn Write) -> std::io::Result<()> {
        put(out, super::rho::csv(self))
    }
}

impl CsvView for SimulationResult {
    fn write_csv(&self, out: &mut dyn Write) -> std::io::Result<()> {
        put(out, super::simulate::csv(self))
    }
}
