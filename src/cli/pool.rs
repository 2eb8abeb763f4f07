//! `tau pool`: the pooled summary of one file.

use clap::Args;

use super::CliError;
use super::args::{Format, InputArgs, ModelArgs, OutputArgs};
use super::output::{emit, warn};
use tau_meta::report;

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
    let result = tau_meta::pool(&data, &args.model.options())
        .map_err(|e| CliError::from(e).with_file(&args.input.display_name()))?;
    for warning in result.warnings.iter().skip(data.warnings.len()) {
        warn(warning);
    }
    drop(data);
    let output = args.output.output.as_deref();
    let text = match args.output.format {
        Format::Text => report::text::pool_report(&result),
        Format::Json => return super::output::emit_json(output, &result),
        Format::Csv => {
            report::csv::pool_studies(&result).map_err(|e| CliError::Output(e.to_string()))?
        }
    };
    emit(output, &text)
}
