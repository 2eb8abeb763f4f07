//! `tau regress`: mixed-effects meta-regression, with an optional permutation test.

use std::io::IsTerminal;

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

use super::CliError;
use super::args::{Format, InputArgs, ModelArgs, OutputArgs};
use super::output::emit;
use tau_core::regression::permutation::{PermutationError, PermutationSpec};
use tau_core::regression::{DesignSpec, RegressionError, RegressionOptions, regress};
use tau_core::report;

/// Flags of `tau regress`.
#[derive(Debug, Args)]
pub struct RegressArgs {
    #[command(flatten)]
    input: InputArgs,
    /// Moderators, comma-separated, in model order. Numbers are continuous,
    /// text is dummy-coded.
    #[arg(long, value_delimiter = ',', required = true, value_name = "A,B,C")]
    mods: Vec<String>,
    /// Reference level of a categorical moderator (default: the first in
    /// sorted order); repeat for several moderators.
    #[arg(long = "reference", value_name = "MODERATOR=LEVEL")]
    references: Vec<String>,
    /// Fit the model without an intercept.
    #[arg(long)]
    no_intercept: bool,
    /// Permutation test of QM and of each coefficient with N iterations
    /// (metafor's permutest), e.g. 1000.
    #[arg(long, value_name = "N")]
    permutations: Option<usize>,
    /// Seed of the permutation test (default: drawn at random and reported).
    #[arg(long, requires = "permutations")]
    seed: Option<u64>,
    #[command(flatten)]
    model: ModelArgs,
    #[command(flatten)]
    output: OutputArgs,
}

impl RegressArgs {
    fn options(&self) -> Result<RegressionOptions, CliError> {
        let references = self
            .references
            .iter()
            .map(|r| match r.split_once('=') {
                Some((m, l)) if !m.trim().is_empty() => {
                    Ok((m.trim().to_owned(), l.trim().to_owned()))
                }
                _ => Err(CliError::Input(format!(
                    "--reference {r:?} is not of the form MODERATOR=LEVEL, e.g. --reference alloc=random"
                ))),
            })
            .collect::<Result<_, _>>()?;
        Ok(RegressionOptions {
            fit: self.model.options(),
            design: DesignSpec {
                moderators: self.mods.iter().map(|m| m.trim().to_owned()).collect(),
                references,
                intercept: !self.no_intercept,
            },
            permutations: self.permutations.map(|iterations| PermutationSpec {
                iterations,
                seed: self.seed.unwrap_or_else(rand::random),
            }),
        })
    }
}

/// Runs `tau regress`.
pub fn run(args: &RegressArgs) -> Result<(), CliError> {
    let options = args.options()?;
    // A usage error, refused before the file is read.
    if let Some(spec) = &options.permutations {
        spec.validate()
            .map_err(|e| CliError::Input(e.to_string()))?;
    }
    let data = args.input.load()?;
    let bar = progress_bar();
    let progress = |total: usize| {
        if let Some(bar) = &bar {
            bar.set_length(total as u64);
            bar.inc(1);
        }
    };
    let result = regress(&data, &options, &progress);
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let result = result.map_err(|e| cli_error(e).with_file(&args.input.display_name()))?;
    for warning in result.warnings.iter().skip(data.warnings.len()) {
        super::output::warn(warning);
    }
    let text = match args.output.format {
        Format::Text => report::regression::text(&result),
        Format::Json => return super::output::emit_json(args.output.output.as_deref(), &result),
        Format::Csv => {
            report::regression::csv(&result).map_err(|e| CliError::Output(e.to_string()))?
        }
    };
    emit(args.output.output.as_deref(), &text)
}

/// A progress bar on standard error, only when that is a terminal.
fn progress_bar() -> Option<ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::new(0);
    if let Ok(style) =
        ProgressStyle::with_template("permutations {bar:40} {pos}/{len} ({eta} left)")
    {
        bar.set_style(style);
    }
    Some(bar)
}

/// Maps a library error to an exit code: bad input 2, failed analysis 1.
pub fn cli_error(e: RegressionError) -> CliError {
    match e {
        RegressionError::Design(d) => CliError::Input(d.to_string()),
        RegressionError::Fit(f) => CliError::from(f),
        RegressionError::Permutation(
            p
            @ (PermutationError::TooFewIterations(_) | PermutationError::TooManyIterations { .. }),
        ) => CliError::Input(p.to_string()),
        RegressionError::Permutation(p) => CliError::Analysis(p.to_string()),
        other => CliError::Analysis(other.to_string()),
    }
}
