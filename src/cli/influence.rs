//! `tau influence`: case-deletion diagnostics for every study.

use clap::Args;

use super::CliError;
use super::args::{InputArgs, ModelArgs, OutputArgs};
use super::output::emit_report;

/// Flags of `tau influence`.
#[derive(Debug, Args)]
pub struct InfluenceArgs {
    #[command(flatten)]
    input: InputArgs,
    #[command(flatten)]
    model: ModelArgs,
    #[command(flatten)]
    output: OutputArgs,
}

/// Runs `tau influence`.
pub fn run(args: &InfluenceArgs) -> Result<(), CliError> {
    args.output.refuse_paper_formats("tau influence")?;
    let data = args.input.load()?;
    let result = tau_core::sensitivity::influence::influence(&data, &args.model.options()?)
        .map_err(|e| CliError::from(e).with_file(&args.input.display_name()))?;
    super::output::warn_analysis(&result.warnings);
    emit_report(
        args.output.output.as_deref(),
        args.output.report_format(),
        &result,
    )
}
