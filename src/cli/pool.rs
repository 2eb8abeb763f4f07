//! `tau pool`: the pooled summary of one file.

use clap::Args;

use super::CliError;
use super::args::{InputArgs, ModelArgs, OutputArgs};
use super::output::{emit_report, warn_analysis};
use tau_core::report::PoolReport;

/// Flags of `tau pool`.
#[derive(Debug, Args)]
pub struct PoolArgs {
    #[command(flatten)]
    input: InputArgs,
    #[command(flatten)]
    model: ModelArgs,
    #[command(flatten)]
    output: OutputArgs,
}

/// Runs `tau pool`.
pub fn run(args: &PoolArgs) -> Result<(), CliError> {
    let data = args.input.load()?;
    let result = tau_core::pool(&data, &args.model.options())
        .map_err(|e| CliError::from(e).with_file(&args.input.display_name()))?;
    warn_analysis(&result.warnings);
    let report = PoolReport {
        result: &result,
        data: &data,
    };
    emit_report(args.output.output.as_deref(), args.output.format, &report)
}
