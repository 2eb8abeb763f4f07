//! `tau leave-one-out`: the model refitted without each study in turn.

use std::path::PathBuf;

use clap::Args;

use super::CliError;
use super::args::{InputArgs, MethodChoice, ModelArgs, OutputArgs};
use super::output::emit_report;
use super::plot_output::{DEFAULT_DPI, plot_format, write_plot};
use tau_core::Kinded;
use tau_core::sensitivity::RefitRow;

/// Flags of `tau leave-one-out`.
#[derive(Debug, Args)]
pub struct LeaveOneOutArgs {
    #[command(flatten)]
    input: InputArgs,
    #[command(flatten)]
    model: ModelArgs,
    #[command(flatten)]
    output: OutputArgs,
    /// Also draw the estimates as a forest-style plot in this file (.svg, .png or .pdf).
    #[arg(long, value_name = "FILE")]
    plot: Option<PathBuf>,
}

/// Runs `tau leave-one-out`.
pub fn run(args: &LeaveOneOutArgs) -> Result<(), CliError> {
    if let Some(path) = &args.plot {
        plot_format(path)?;
    }
    if let MethodChoice::Tables(method) = args.model.method {
        return run_tables(args, method);
    }
    let data = args.input.load()?;
    let result = tau_core::sensitivity::leave_one_out::leave_one_out(&data, &args.model.options()?)
        .map_err(|e| CliError::from(e).with_file(&args.input.display_name()))?;
    super::output::warn_analysis(&result.warnings);
    if let Some(path) = &args.plot {
        let title = result.title.as_deref().unwrap_or("Leave-one-out analysis");
        plot(path, title, &data, &result.studies, &result.overall)?;
    }
    emit_report(args.output.output.as_deref(), args.output.format, &result)
}

/// Draws the refits as a forest-style plot in `path`.
fn plot(
    path: &std::path::Path,
    title: &str,
    data: &tau_core::Dataset,
    studies: &[RefitRow],
    overall: &RefitRow,
) -> Result<(), CliError> {
    let x_label = format!(
        "Estimate without the study ({}, analysis scale)",
        data.measure
    );
    let svg = tau_plot::sensitivity::refit_forest_svg(
        title,
        &x_label,
        studies,
        Some(overall.estimate.value),
    )?;
    write_plot(path, &svg, DEFAULT_DPI)
}

/// `tau leave-one-out --method MH|PETO` (metafor `leave1out` of `rma.mh`, `rma.peto`).
fn run_tables(args: &LeaveOneOutArgs, method: tau_core::TablesMethod) -> Result<(), CliError> {
    let name = args.input.display_name();
    if args.model.test != tau_core::Test::Z {
        return Err(CliError::Input(format!(
            "--method {} uses z tests; leave out --test knha",
            method.name()
        )));
    }
    let data = args.input.load()?;
    let result =
        tau_core::sensitivity::leave_one_out::leave_one_out_tables(&data, method, args.model.level)
            .map_err(|e| CliError::of_kind(e.kind(), format!("{name}: {e}")))?;
    super::output::warn_analysis(&result.warnings);
    if let Some(path) = &args.plot {
        let title = result.title.as_deref().unwrap_or("Leave-one-out analysis");
        plot(path, title, &data, &result.studies, &result.overall)?;
    }
    emit_report(args.output.output.as_deref(), args.output.format, &result)
}
