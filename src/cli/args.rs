//! Flags shared by several subcommands, and loading the input they name.

use std::io::Read;
use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};

use super::CliError;
use tau_meta::dataset::{self, Dataset};
use tau_meta::measure::Measure;
use tau_meta::model::{Control, FitOptions, Method, Test};
use tau_meta::moderator;

/// The input file and how to read it.
#[derive(Debug, Clone, Args)]
pub struct InputArgs {
    /// Study file: .json or .csv, or - for JSON on standard input.
    pub file: PathBuf,
    /// Effect-size measure for raw data (overrides the file's "measure"):
    /// SMD, MD, OR, RR, RD, ZCOR, COR, PR, PLO or GEN.
    #[arg(long, value_parser = parse_measure)]
    pub measure: Option<Measure>,
    /// Keep only the studies whose moderator has this value, e.g.
    /// --filter outcome=PB; repeat it to require several.
    #[arg(long = "filter", value_name = "MODERATOR=VALUE")]
    pub filters: Vec<String>,
}

fn parse_measure(name: &str) -> Result<Measure, String> {
    Measure::parse(name).ok_or_else(|| {
        format!("unknown measure {name:?}; use one of SMD, MD, OR, RR, RD, ZCOR, COR, PR, PLO, GEN")
    })
}

impl InputArgs {
    /// The file name as shown in messages.
    pub fn display_name(&self) -> String {
        if self.file == Path::new("-") {
            "<stdin>".into()
        } else {
            self.file.display().to_string()
        }
    }

    /// Reads and checks the studies, and computes their effect sizes.
    pub fn load(&self) -> Result<Dataset, CliError> {
        let name = self.display_name();
        let text = if self.file == Path::new("-") {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|e| CliError::Input(format!("{name}: cannot read standard input: {e}")))?;
            text
        } else {
            std::fs::read_to_string(&self.file)
                .map_err(|e| CliError::Input(format!("{name}: cannot read the file: {e}")))?
        };
        let is_csv = self
            .file
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
        let result = if is_csv {
            dataset::load_csv(&text, self.measure)
        } else {
            dataset::load_json(&text, self.measure)
        };
        let mut data = result.map_err(|e| CliError::Input(format!("{name}: {e}")))?;
        for filter in &self.filters {
            data = moderator::apply_filter(&data, filter)
                .map_err(|e| CliError::Input(format!("{name}: --filter {filter}: {e}")))?;
        }
        for warning in &data.warnings {
            eprintln!("warning: {name}: {warning}");
        }
        Ok(data)
    }
}

/// Model flags.
#[derive(Debug, Clone, Args)]
pub struct ModelArgs {
    /// tau^2 estimator (metafor's names).
    #[arg(long, value_enum, default_value = "REML", ignore_case = true)]
    pub method: Method,
    /// z tests, or Knapp-Hartung t tests.
    #[arg(long, value_enum, default_value = "z", ignore_case = true)]
    pub test: Test,
    /// Confidence level in percent.
    #[arg(long, default_value_t = 95.0, value_parser = parse_level)]
    pub level: f64,
}

fn parse_level(text: &str) -> Result<f64, String> {
    let level: f64 = text
        .parse()
        .map_err(|_| format!("{text:?} is not a number"))?;
    if level > 0.0 && level < 100.0 {
        Ok(level)
    } else {
        Err(format!(
            "the level is a percentage strictly between 0 and 100, e.g. 95 (got {level})"
        ))
    }
}

impl ModelArgs {
    /// The fit options these flags describe.
    pub fn options(&self) -> FitOptions {
        FitOptions {
            method: self.method,
            test: self.test,
            level: self.level,
            control: Control::default(),
        }
    }
}

/// Report formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A report for people.
    Text,
    /// Machine-readable JSON.
    Json,
    /// The per-study table as CSV.
    Csv,
}

/// Where and how to write the report.
#[derive(Debug, Clone, Args)]
pub struct OutputArgs {
    /// Report format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Write the report to this file (atomically) instead of standard output.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
}
