//! `tau compare`: the likelihood-ratio test between two nested meta-regressions.

use clap::Args;

use super::CliError;
use super::args::{InputArgs, ModelArgs, OutputArgs};
use super::output::{emit_report, warn_analysis};
use tau_core::regression::compare::compare;

// Flags of `tau compare`.
#[derive(Debug, Args)]
pub struct CompareArgs {
    #[command(flatten)]
    input: InputArgs,
    /// Moderators of the full model, comma-separated.
    #[arg(long, value_delimiter = ',', required = true, value_name = "A,B")]
    full: Vec<String>,
    /// Moderators of the reduced model, all of them in the full one
    /// (default: none, the intercept-only model).
    #[arg(long, value_delimiter = ',', value_name = "A", default_value = "")]
    reduced: Vec<String>,
    #[command(flatten)]
    model: ModelArgs,
    #[command(flatten)]
    output: OutputArgs,
}

/// Runs `tau compare`.
pub fn run(args: &CompareArgs) -> Result<(), CliError> {
    let options = args.model.options()?;
    let reduced: Vec<String> = args
        .reduced
        .iter()
        .filter(|m| !m.trim().is_empty())
        .cloned()
        .collect();
    let (data, input) = args.input.load_for(args.output.report_format())?;
    let result = compare(&data, &args.full, &reduced, &options)
        .map_err(|e| CliError::from(e).with_file(&args.input.display_name()))?;
    warn_analysis(&result.warnings);
    emit_report(
        args.output.output.as_deref(),
        args.output.report_format(),
        &result,
        input.as_ref(),
    )
}
