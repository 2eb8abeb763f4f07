//! `tau pool`: the pooled summary of one file.

use clap::Args;

use super::CliError;
use super::args::{Format, InputArgs, ModelArgs, OutputArgs};
use super::output::{emit, emit_json, emit_with, warn_analysis};
use tau_core::report;

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
    let output = args.output.output.as_deref();
    match args.output.format {
        Format::Text => emit(output, &report::text::pool_report(&result, &data)),
        Format::Json => emit_json(output, &report::json::PoolJson::new(&result, &data)),
        Format::Csv => emit_with(output, |w| {
            report::csv::write_pool_studies(w, &result, &data)
        }),
    }
}
