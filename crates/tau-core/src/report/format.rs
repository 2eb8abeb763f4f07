//! The report formats and the one place that picks a format's view.
//!
//! Every result is a [`Report`]: it has a view in each format, and each
//! format's views live in that format's file ([`super::text`],
//! [`super::json`], [`super::csv`], [`super::markdown`], [`super::latex`]),
//! one `impl` per result (the two paper formats share the tables of
//! [`super::paper`]). Adding a format
//! is a variant here, its arm in [`write_report`] and its bound on
//! [`Report`], and one file implementing it for every result.

use std::io::{self, Write};

use super::csv::CsvView;
use super::json::JsonView;
use super::latex::LatexView;
use super::markdown::MarkdownView;
use super::paper::DEFAULT_DIGITS;
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
    /// A table for a paper in Markdown, numbers rounded to `digits` decimals.
    Markdown {
        /// Decimals of the numbers (`--digits`).
        digits: usize,
    },
    /// A table for a paper in LaTeX (booktabs), numbers rounded to `digits` decimals.
    Latex {
        /// Decimals of the numbers (`--digits`).
        digits: usize,
    },
}

impl Format {
    /// Every format, in the order `--help` lists them.
    pub const ALL: [Format; 5] = [
        Format::Text,
        Format::Json,
        Format::Csv,
        Format::Markdown {
            digits: DEFAULT_DIGITS,
        },
        Format::Latex {
            digits: DEFAULT_DIGITS,
        },
    ];

    /// The name on the command line (`--format text`).
    pub fn name(self) -> &'static str {
        match self {
            Format::Text => "text",
            Format::Json => "json",
            Format::Csv => "csv",
            Format::Markdown { .. } => "markdown",
            Format::Latex { .. } => "latex",
        }
    }

    /// One line on what the format gives.
    pub fn about(self) -> &'static str {
        match self {
            Format::Text => "A report for people",
            Format::Json => "Machine-readable JSON",
            Format::Csv => "The per-study table as CSV",
            Format::Markdown { .. } => "A table for a paper in Markdown (rounded: `digits`)",
            Format::Latex { .. } => "A table for a paper in LaTeX (rounded: `digits`)",
        }
    }

    /// The format with its numbers rounded to `digits` decimals (the paper
    /// formats; the others keep their precision).
    pub fn with_digits(self, digits: usize) -> Format {
        match self {
            Format::Markdown { .. } => Format::Markdown { digits },
            Format::Latex { .. } => Format::Latex { digits },
            other => other,
        }
    }

    /// The format called `name`, if any.
    pub fn parse(name: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.name() == name)
    }
}

/// A result with a view in every format.
pub trait Report: TextView + JsonView + CsvView + MarkdownView + LatexView {}

impl<T: TextView + JsonView + CsvView + MarkdownView + LatexView + ?Sized> Report for T {}

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
        Format::Markdown { digits } => report.write_markdown(digits, out),
        Format::Latex { digits } => report.write_latex(digits, out),
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
        assert_eq!(
            Format::parse("latex").map(|f| f.with_digits(3)),
            Some(Format::Latex { digits: 3 })
        );
    }
}
