//! `tau pool`: the pooled summary of one file.

use clap::Args;

use super::CliError;
use super::args::{InputArgs, ModelArgs, OutputArgs};
use super::multilevel::{MultilevelArgs, refuse_robust};
use super::output::{emit_report, warn_analysis};
use super::robust::{RobustArgs, clustered, emit_robust};
use tau_core::report::PoolReport;

/// Flags of `tau pool`.
#[derive(Debug, Args)]
pub struct PoolArgs {
    #[command(flatten)]
    input: InputArgs,
    #[command(flatten)]
    model: ModelArgs,
    #[command(flatten)]
    multilevel: MultilevelArgs,
    #[command(flatten)]
    robust: RobustArgs,
    #[command(flatten)]
    output: OutputArgs,
}

/// Runs `tau pool`.
pub fn run(args: &PoolArgs) -> Result<(), CliError> {
    if let Some(options) = args.multilevel.options(&args.model, None)? {
        refuse_robust(args.robust.spec().is_some())?;
        return super::multilevel::run(&args.input, &options, &args.output);
    }
    let data = args.input.load()?;
    if let Some(spec) = args.robust.spec() {
        let file = args.input.display_name();
        let data = clustered(&data, &spec, &file)?;
        let (result, robust) = tau_core::robust::uni::pooled(&data, &args.model.options()?, &spec)
            .map_err(|e| CliError::from(e).with_file(&file))?;
        warn_analysis(&result.warnings);
        return emit_robust(
            args.output.output.as_deref(),
            args.output.format,
            &PoolReport {
                result: &result,
                data: &data,
            },
            &robust,
            "moderators",
        );
    }
    let result = tau_core::pool(&data, &args.model.options()?)
        .map_err(|e| CliError::from(e).with_file(&args.input.display_name()))?;
    warn_analysis(&result.warnings);
    let report = PoolReport {
        result: &result,
        data: &data,
    };
    emit_report(
        args.output.output.as_deref(),
        args.output.report_format(),
        &report,
    )
}
