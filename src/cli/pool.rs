//! `tau pool`: the pooled summary of one file.

use clap::Args;

use super::CliError;
use super::args::{InputArgs, MethodChoice, ModelArgs, OutputArgs};
use super::output::{emit_report, warn_analysis};
use tau_core::Kinded;
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
    if let MethodChoice::Tables(method) = args.model.method {
        return run_tables(args, method);
    }
    let data = args.input.load()?;
    let result = tau_core::pool(&data, &args.model.options()?)
        .map_err(|e| CliError::from(e).with_file(&args.input.display_name()))?;
    warn_analysis(&result.warnings);
    let report = PoolReport {
        result: &result,
        data: &data,
    };
    emit_report(args.output.output.as_deref(), args.output.format, &report)
}

/// `tau pool --method MH|PETO`: the 2×2 tables pooled (metafor `rma.mh`, `rma.peto`).
fn run_tables(args: &PoolArgs, method: tau_core::TablesMethod) -> Result<(), CliError> {
    let name = args.input.display_name();
    if args.model.test != tau_core::Test::Z {
        return Err(CliError::Input(format!(
            "--method {} uses z tests; leave out --test knha",
            method.name()
        )));
    }
    let data = args.input.load()?;
    let result = tau_core::pool_tables(&data, method, args.model.level)
        .map_err(|e| CliError::of_kind(e.kind(), format!("{name}: {e}")))?;
    warn_analysis(&result.warnings);
    emit_report(args.output.output.as_deref(), args.output.format, &result)
}
