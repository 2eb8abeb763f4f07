//! The report formats and the one place that picks a format's view.
//!
//! Every result is a [`Report`]: it has a view in each format, and each
//! format's views live in that format's file ([`super::text`],
//! [`super::json`], [`super::csv`]), one `impl` per result. Adding a format
//! is a variant here, its arm in [`write_report`] and its bound on
//! [`Report`], and one file implementing it for every result.

use std::io::{self, Write};

use super::csv::CsvView;
use super::json::JsonView;
use super::text::TextView;

/// A report format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A report for people, laid out like metafor's printout.
    Text,
    /// Machine-readable JSON: the result's fields.
    Json,
    /// The per-study (or per-row) table as CSV.
    Csv,
}

impl Format {
    /// Every format, in the order `--help` lists them.
    pub const ALL: [Format; 3] = [Format::Text, Format::Json, Format::Csv];

    /// The name on the command line (`--format text`).
    pub fn name(self) -> &'static str {
        match self {
            Format::Text => "text",
            Format::Json => "json",
            Format::Csv => "csv",
        }
    }

    /// One line on what the format gives.
    pub fn about(self) -> &'static str {
        match self {
            Format::Text => "A report for people",
            Format::Json => "Machine-readable JSON",
            Format::Csv => "The per-study table as CSV",
        }
    }

    /// The format called `name`, if any.
    pub fn parse(name: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.name() == name)
    }
}

/// A result with a view in every format.
pub trait Report: TextView + JsonView + CsvView {}

impl<T: TextView + JsonView + CsvView + ?Sized> Report for T {}

/// Writes `report` in `format` to `out`. An I/O error comes back as it was
/// (so that a closed pipe can be told from other failures).
pub fn write_report<R: Report + ?Sized>(
    report: &R,
    format: Format,
    out: &mut dyn Write,
) -> io::Result<()> {
    match format {
        Format::Text => out.write_all(report.text().as_bytes()),
        Format::Json => report.write_json(out),
        Format::Csv => report.write_csv(out),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_read_back() {
        for format in Format::ALL {
            assert_eq!(Format::parse(format.name()), Some(format));
        }
        assert_eq!(Format::parse("xml"), None);
    }
}
