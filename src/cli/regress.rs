//! `tau regress`: mixed-effects meta-regression, with an optional permutation test.

use std::io::IsTerminal;

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

use super::CliError;
use super::args::{InputArgs, ModelArgs, OutputArgs};
use super::multilevel::{MultilevelArgs, refuse, refuse_robust};
use super::output::emit_report;
use super::robust::{RobustArgs, clustered, emit_robust};
use tau_core::regression::permutation::PermutationSpec;
use tau_core::regression::{DesignSpec, RegressionOptions, regress_with_progress};

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
    #[arg(long, value_name = "N", allow_negative_numbers = true,
          value_parser = super::values::whole(2, "1000"))]
    permutations: Option<u64>,
    /// Seed of the permutation test (default: drawn at random and reported).
    #[arg(long, requires = "permutations", allow_negative_numbers = true,
          value_parser = super::values::whole(0, "42"))]
    seed: Option<u64>,
    #[command(flatten)]
    model: ModelArgs,
    #[command(flatten)]
    multilevel: MultilevelArgs,
    #[command(flatten)]
    robust: RobustArgs,
    #[command(flatten)]
    output: OutputArgs,
}

impl RegressArgs {
    fn design(&self) -> Result<DesignSpec, CliError> {
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
        Ok(DesignSpec {
            moderators: self.mods.iter().map(|m| m.trim().to_owned()).collect(),
            references,
            intercept: !self.no_intercept,
        })
    }

    fn options(&self) -> Result<RegressionOptions, CliError> {
        Ok(RegressionOptions {
            fit: self.model.options()?,
            design: self.design()?,
            permutations: self.permutations.map(|iterations| PermutationSpec {
                // Saturates on a 32-bit target; the library refuses a size it cannot hold.
                iterations: usize::try_from(iterations).unwrap_or(usize::MAX),
                seed: self.seed.unwrap_or_else(rand::random),
            }),
        })
    }
}

/// Runs `tau regress`.
pub fn run(args: &RegressArgs) -> Result<(), CliError> {
    if let Some(options) = args.multilevel.options(&args.model, Some(args.design()?))? {
        if args.permutations.is_some() {
            return Err(refuse(
                "--permutations",
                "the permutation test refits a model with one tau^2 (metafor's permutest of rma.uni); it is not defined for a multilevel model here",
            ));
        }
        refuse_robust(args.robust.spec().is_some())?;
        return super::multilevel::run(&args.input, &options, &args.output);
    }
    let options = args.options()?;
    // A usage error, refused before the file is read.
    if let Some(spec) = &options.permutations {
        spec.validate()
            .map_err(|e| CliError::Input(e.to_string()))?;
    }
    let data = args.input.load()?;
    if let Some(spec) = args.robust.spec() {
        let file = args.input.display_name();
        let data = clustered(&data, &spec, &file)?;
        let (result, robust) = tau_core::robust::uni::regression(&data, &options, &spec)
            .map_err(|e| CliError::from(e).with_file(&file))?;
        super::output::warn_analysis(&result.warnings);
        return emit_robust(
            args.output.output.as_deref(),
            args.output.format,
            &result,
            &robust,
            "moderators",
        );
    }
    let bar = progress_bar();
    let progress = |total: usize| {
        if let Some(bar) = &bar {
            bar.set_length(total as u64);
            bar.inc(1);
        }
    };
    let result = regress_with_progress(&data, &options, &progress);
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let result = result.map_err(|e| CliError::from(e).with_file(&args.input.display_name()))?;
    super::output::warn_analysis(&result.warnings);
    emit_report(
        args.output.output.as_deref(),
        args.output.report_format(),
        &result,
    )
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
